import type { AttemptRecord, Outcome, RequestContext } from '../context.ts'
import { GatewayError } from '../errors.ts'
import type { ConfirmRefusal } from '../keys/confirm.ts'
import { factsFromError } from '../keys/facts.ts'
import { judgeAttempt, type Verdict } from '../keys/judge.ts'
import { pinnedRefusal } from '../keys/pinned.ts'
import type { KeyPool, PoolKey } from '../keys/pool.ts'
import { Payload } from '../payload.ts'
import { defineStage, type Stage } from '../pipeline.ts'
import { EventStream, batchesOf, type EventBatch } from '../stream.ts'
import { UpstreamHttpError } from '../upstream/gemini.ts'
import type { OperationSpec, OperationTable } from '../upstream/operations.ts'
import { streamFailure, toClientError } from './internal/failures.ts'

export interface KeySelectOptions {
  /** The gateway's pool; a request whose `ctx.pool` a plugin set draws from that one instead. */
  pool: KeyPool
  /** MAX_RETRIES: attempts per request, each on a different key. */
  maxRetries: number
  /** Settles refusals the judge could not pin on the key or the request (a fixed request on the same key). */
  confirm: ConfirmRefusal
  operations: OperationTable
}

/**
 * Picks a key for each attempt, runs the rest of the pipeline with it, lets the judge classify what came back,
 * applies the verdict to the key's health, and tries another key while that is worth it and nothing has reached
 * the client. A stream counts as delivered from its first event on: later failures end it with an error, never a
 * retry that would splice two answers together.
 */
export function keySelectStage({ pool: gatewayPool, maxRetries, confirm, operations }: KeySelectOptions): Stage {
  return defineStage('key-select', async (ctx, next) => {
    const pool = ctx.pool ?? gatewayPool
    // A pool of keys that belong to another API root (Vertex Express) sends its requests there.
    if (pool.baseUrl) ctx.baseUrl ??= pool.baseUrl
    const spec = operations(ctx.request.operation)
    const model = ctx.request.upstreamModel
    const tried = new Set<string>()
    let failure: { error: unknown; verdict: Verdict } | undefined
    // The last empty answer, kept open in case no key does better: it is still Google's answer.
    let emptyAnswer: EmptyAnswer | undefined

    const pinned = ctx.pinnedKey
    const refusal = pinned && pinnedRefusal(pool, pinned, model)
    if (refusal) throw refusal
    for (let attempt = 1; attempt <= (pinned ? 1 : maxRetries); attempt++) {
      const key = pinned ? pool.get(pinned.id) : pool.pick(model, tried)
      if (!key) break
      tried.add(key.id)
      ctx.key = key
      const record = startRecord(ctx, key, attempt)
      const started = performance.now()
      let outcome: Outcome
      // A stream's first batch that holds an event, that event, and the batches after it.
      let first: EventBatch | undefined
      let firstEvent: Payload | undefined
      let rest: AsyncIterator<EventBatch> | undefined
      try {
        outcome = await next()
        if (outcome.kind === 'stream') {
          rest = batchesOf(outcome.chunks)[Symbol.asyncIterator]()
          // Wait for the first event, so a failure or an empty stream can still be retried on another key. Keep-alives
          // before it say nothing about the answer (and cannot be sent before the stream is chosen): passed over.
          while (!first) {
            const head = await rest.next()
            if (head.done) break
            firstEvent = head.value.firstEvent()
            if (firstEvent) first = head.value
          }
        }
      } catch (error) {
        if (error instanceof GatewayError) {
          // A plugin's own refusal from inside the upstream call: the client's answer, not a key's fault.
          record.status = error.status
          record.failureClass = error.status < 500 ? 'client-error' : 'upstream-error'
          record.reason = error.message
          throw error
        }
        const facts = factsFromError(error, { operation: ctx.request.operation, model, now: Date.now() }, ctx.signal.aborted)
        if (!facts) {
          // Our own failure (a plugin's exception, a bug): logged as such, never as an answer.
          record.failureClass = 'gateway-error'
          record.reason = String((error as Error)?.message ?? error)
          record.latencyMs = performance.now() - started
          throw error
        }
        let verdict = judgeAttempt({ ...facts, modelServed: pool.modelServed(model) })
        if (verdict.effect.kind === 'confirm') verdict = await confirm(key, verdict, model, pool)
        finishRecord(record, started, facts.status ?? null, verdict, errorBodyOf(error))
        pool.apply(key, verdict, model)
        failure = { error, verdict }
        emptyAnswer = release(emptyAnswer)
        if (!verdict.retry || ctx.signal.aborted) break
        continue
      }

      const body = outcome.kind === 'json' ? outcome.body.tryData() : firstEvent?.tryData()
      const status = outcome.kind === 'json' ? outcome.status : 200
      const partial = firstEvent !== undefined && !spec.ends(firstEvent.text)
      let verdict = judgeAttempt({ operation: ctx.request.operation, model, now: Date.now(), status, body, partial, modelServed: pool.modelServed(model) })
      if (verdict.effect.kind === 'confirm') verdict = await confirm(key, verdict, model, pool)
      pool.apply(key, verdict, model)
      release(emptyAnswer)
      emptyAnswer = undefined
      if (verdict.class === 'empty-answer') {
        finishRecord(record, started, status, verdict, firstEvent?.text ?? (outcome.kind === 'json' ? outcome.body.text : undefined))
        failure = { error: new GatewayError(502, `Gemini returned an empty answer on ${attempt} key(s).`), verdict }
        if (outcome.kind === 'json') emptyAnswer = { outcome }
        else if (first) emptyAnswer = { first, rest: rest! }
        else void rest?.return?.()
        continue
      }
      finishRecord(record, started, status, verdict)
      if (outcome.kind === 'json') {
        record.usage = spec.usage(body)
        return outcome
      }
      return { kind: 'stream', chunks: new EventStream(committedStream(first!, rest!, { record, started, ctx, pool, key, spec })) }
    }

    // Out of attempts or keys: an empty answer is still Google's answer; otherwise the last real failure.
    if (emptyAnswer)
      return 'outcome' in emptyAnswer ? emptyAnswer.outcome : { kind: 'stream', chunks: new EventStream(resume(emptyAnswer.first, emptyAnswer.rest)) }
    if (failure) throw toClientError(failure.error, failure.verdict, pool.unavailable(model))
    const unavailable = pool.unavailable(model)
    throw new GatewayError(unavailable.status, unavailable.message, {
      headers: unavailable.retryAfterSeconds ? { 'retry-after': String(unavailable.retryAfterSeconds) } : {},
    })
  })
}

type EmptyAnswer = { outcome: Outcome } | { first: EventBatch; rest: AsyncIterator<EventBatch> }

/** Closes a peeked stream we will not deliver, so its upstream connection goes back to the pool. */
function release(empty: EmptyAnswer | undefined): undefined {
  if (empty && 'rest' in empty) void empty.rest.return?.()
  return undefined
}

function startRecord(ctx: RequestContext, key: PoolKey, attempt: number): AttemptRecord {
  const record: AttemptRecord = {
    attempt,
    keyId: key.id,
    keyLabel: key.label,
    startedAt: Date.now(),
    latencyMs: 0,
    status: null,
    failureClass: 'ok',
    reason: '',
  }
  ctx.attempts.push(record)
  return record
}

function finishRecord(record: AttemptRecord, started: number, status: number | null, verdict: Verdict, errorBody?: string): void {
  record.latencyMs = performance.now() - started
  record.status = status
  record.failureClass = verdict.class
  record.reason = verdict.reason
  if (errorBody !== undefined) record.errorBody = errorBody
}

function errorBodyOf(error: unknown): string {
  return error instanceof UpstreamHttpError ? error.body : String((error as Error)?.message ?? error)
}

/** A peeked stream put back together (used only for an empty answer kept as the fallback). */
async function* resume(first: EventBatch, rest: AsyncIterator<EventBatch>): AsyncGenerator<EventBatch> {
  try {
    yield first
    for (let step = await rest.next(); !step.done; step = await rest.next()) yield step.value
  } finally {
    await rest.return?.()
  }
}

/**
 * The committed stream, passed on a batch at a time: records usage from the last event that carries it and turns a
 * broken or truncated stream into an error. The checks read each event's text; nothing is parsed until the end, and
 * then only the usage event.
 */
async function* committedStream(
  first: EventBatch,
  rest: AsyncIterator<EventBatch>,
  attempt: { record: AttemptRecord; started: number; ctx: RequestContext; pool: KeyPool; key: PoolKey; spec: OperationSpec },
): AsyncGenerator<EventBatch> {
  const { record, started, ctx, pool, key } = attempt
  const { ends, usage, carriesUsage } = attempt.spec
  let withUsage: string | undefined
  let ended = false
  let count = 0
  let complete = false
  const watch = (texts: readonly string[]) => {
    count += texts.length
    if (!ended) ended = texts.some((text) => ends(text))
    for (let i = texts.length - 1; i >= 0; i--) {
      if (carriesUsage(texts[i]!)) {
        withUsage = texts[i]
        break
      }
    }
  }
  try {
    watch(first.textsOnce())
    yield first
    for (let step = await rest.next(); !step.done; step = await rest.next()) {
      const batch = step.value
      if (!batch.keepAlive) watch(batch.textsOnce())
      yield batch
    }
    complete = true
  } catch (error) {
    const failure = streamFailure(error, ctx, count)
    record.failureClass = failure.verdict.class
    record.reason = failure.verdict.reason
    record.errorBody = failure.error.message
    pool.apply(key, failure.verdict, ctx.request.upstreamModel)
    throw failure.error
  } finally {
    void rest.return?.()
    record.latencyMs = performance.now() - started
    if (withUsage !== undefined) record.usage = usage(Payload.fromText(withUsage).tryData())
    if (!complete && record.failureClass === 'ok') {
      record.failureClass = 'client-cancelled'
      record.reason = `client left after ${count} chunk(s)`
    }
  }
  if (!ended) {
    record.failureClass = 'empty-answer'
    record.reason = `stream ended after ${count} chunk(s) without a finish reason`
    throw new GatewayError(502, 'Gemini ended the stream without a finish reason; the answer is truncated.')
  }
}
