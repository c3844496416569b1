import type { ConsolaInstance } from 'consola'
import type { ResolvedConfig } from '../config/schema.ts'
import type { LogWriter } from '../../storage/log-writer.ts'
import type { UpstreamCall } from '../plugin.ts'
import { createContext } from '../run.ts'
import type { ServiceRegistry } from '../services.ts'
import { factsFromError } from '../stages/internal/failures.ts'
import { judgeAttempt, type Verdict } from './judge.ts'
import type { PoolKey } from './pool.ts'

export interface KeyCheckerDeps {
  call: UpstreamCall
  config: ResolvedConfig
  services: ServiceRegistry
  logs: LogWriter
  logger: ConsolaInstance
}

const CHECK_TIMEOUT_MS = 30_000

/**
 * One minimal generateContent to TEST_MODEL with a given key, judged like any other attempt, and logged as a
 * request of the `key-check` dialect so the admin UI can show re-check history.
 */
export function createKeyChecker({ call, config, services, logs, logger }: KeyCheckerDeps): (key: PoolKey) => Promise<Verdict> {
  const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { maxOutputTokens: 8 } })
  return async (key) => {
    const model = config.testModel
    const request = { operation: 'generateContent' as const, model, upstreamModel: model, stream: false, body: {}, rawBody: body, dialect: 'key-check', credentials: [] }
    const { ctx } = createContext(request, { config, services, logger }, AbortSignal.timeout(CHECK_TIMEOUT_MS))
    const started = performance.now()
    const facts = { operation: request.operation, model, now: Date.now() }
    let verdict: Verdict
    let status: number | null = null
    try {
      const outcome = await call({ operation: 'generateContent', model, stream: false, body, key }, ctx)
      status = outcome.kind === 'json' ? outcome.status : 200
      verdict = judgeAttempt({ ...facts, status, body: outcome.kind === 'json' ? outcome.body.tryData() : undefined })
    } catch (error) {
      // The check's own timeout is a transport failure, not a client that left.
      const failed = factsFromError(error, facts, false) ?? { ...facts, transportError: (error as Error)?.name ?? 'error' }
      status = failed.status ?? null
      verdict = judgeAttempt(failed)
    }
    logs.request({
      time: facts.now, requestId: ctx.id, tokenId: '', dialect: 'key-check', operation: 'generateContent', model, keyId: key.id,
      attempt: 1, status, failureClass: verdict.class, latencyMs: Math.round(performance.now() - started),
    })
    return verdict
  }
}
