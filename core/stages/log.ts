import type { AttemptRecord, RequestContext } from '../context.ts'
import { GatewayError } from '../errors.ts'
import { defineStage, type Stage } from '../pipeline.ts'
import type { LogWriter } from '../../storage/log-writer.ts'

export interface LogStageOptions {
  /** ERROR_LOG_RECORD_REQUEST_BODY: keep the request body beside each error (it may hold user data). */
  recordRequestBody: boolean
}

/**
 * Queues one request-log row per upstream attempt and one error-log row per failed attempt once the answer has
 * fully left. The writer batches them to the database off the request path, so logging never delays an answer.
 */
export function logStage(writer: LogWriter, options: LogStageOptions): Stage {
  return defineStage('log', (ctx, next) => {
    ctx.onFinish((error) => {
      for (const attempt of ctx.attempts) writeAttempt(writer, ctx, attempt, options)
      // Refused or failed before any key was tried (a media URL, a plugin's exception): still one row, as a failure.
      if (ctx.attempts.length === 0 && error !== undefined) writeAttempt(writer, ctx, attemptBeforeUpstream(error, performance.now() - ctx.startedAt), options)
    })
    return next()
  })
}

function writeAttempt(writer: LogWriter, ctx: RequestContext, attempt: AttemptRecord, options: LogStageOptions): void {
  const { request } = ctx
  const fields = { requestId: ctx.id, tokenId: ctx.client?.tokenId ?? '', dialect: request.dialect, operation: request.operation, model: request.upstreamModel }
  const requestBody = options.recordRequestBody ? () => (ctx.bodyChanged || !request.rawBody ? JSON.stringify(request.body) : request.rawBody) : undefined
  logAttempt(writer, fields, attempt, requestBody)
}

/** One attempt's rows: a request-log row, and an error-log row when it failed. Plugins that call Google themselves log through it too. */
export function logAttempt(
  writer: LogWriter,
  fields: { requestId: string; tokenId: string; dialect: string; operation: string; model: string },
  attempt: AttemptRecord,
  /** Read only for a failed attempt. */
  requestBody?: () => string,
): void {
  // Each row written out whole: `{ ...common, more }` made V8 build a dictionary-mode object, ~4 KB a row (measured).
  writer.request({
    time: attempt.startedAt,
    requestId: fields.requestId,
    tokenId: fields.tokenId,
    dialect: fields.dialect,
    operation: fields.operation,
    model: fields.model,
    keyId: attempt.keyId,
    attempt: attempt.attempt,
    status: attempt.status,
    failureClass: attempt.failureClass,
    latencyMs: Math.round(attempt.latencyMs),
    promptTokens: attempt.usage?.promptTokens,
    completionTokens: attempt.usage?.completionTokens,
    thinkingTokens: attempt.usage?.thinkingTokens,
    totalTokens: attempt.usage?.totalTokens,
  })
  if (attempt.failureClass === 'ok' || attempt.failureClass === 'client-cancelled') return
  writer.error({
    time: attempt.startedAt,
    requestId: fields.requestId,
    tokenId: fields.tokenId,
    operation: fields.operation,
    model: fields.model,
    keyId: attempt.keyId,
    status: attempt.status,
    failureClass: attempt.failureClass,
    errorBody: attempt.errorBody ?? attempt.reason,
    requestBody: requestBody?.(),
  })
}

/** A request refused or failed before any key was tried, as its log row: no key, the gateway's own status. */
export function attemptBeforeUpstream(error: unknown, latencyMs: number): AttemptRecord {
  const status = error instanceof GatewayError ? error.status : 500
  return {
    attempt: 0,
    keyId: '',
    keyLabel: '',
    startedAt: Date.now(),
    latencyMs,
    status,
    failureClass: status === 499 ? 'client-cancelled' : status < 500 ? 'client-error' : 'gateway-error',
    reason: error instanceof Error ? error.message : String(error),
  }
}
