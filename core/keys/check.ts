import type { ConsolaInstance } from 'consola'
import { createContext, type Operation } from '../context.ts'
import type { LogWriter } from '../../storage/index.ts'
import type { UpstreamCall } from '../upstream/types.ts'
import type { ServiceRegistry } from '../services.ts'
import { logAttempt } from '../stages/log.ts'
import { UpstreamHttpError } from '../upstream/gemini.ts'
import { factsFromError } from './facts.ts'
import { judgeAttempt, type Verdict } from './judge.ts'
import type { PoolKey } from './pool.ts'

export interface KeyProbeDeps {
  call: UpstreamCall
  services: ServiceRegistry
  logs: LogWriter
  logger: ConsolaInstance
}

/** What a probe asks: a tiny generation on TEST_MODEL (the re-check), or a token count on one model (its access). */
export interface ProbeTarget {
  operation: Extract<Operation, 'generateContent' | 'countTokens'>
  model: string
  /** The API root of the key's pool, when not BASE_URL: a key is only ever tried where it belongs. */
  baseUrl?: string
}

/** Sends the gateway's own fixed request with one key and returns the judge's verdict on it. */
export type KeyProbe = (key: PoolKey, target: ProbeTarget) => Promise<Verdict>

const PROBE_TIMEOUT_MS = 30_000

// Fixed bytes: nothing a client wrote is in them, so whatever Google answers is about the key (and the model).
const PROBE_BODIES: Record<ProbeTarget['operation'], string> = {
  generateContent: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { maxOutputTokens: 8 } }),
  countTokens: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
}

/**
 * The key probe behind re-checks of disabled keys and confirmations of ambiguous refusals. Each probe is judged
 * with `fixedRequest` and logged as a request of the `key-check` dialect, so the admin UI can show the history.
 */
export function createKeyProbe({ call, services, logs, logger }: KeyProbeDeps): KeyProbe {
  return async (key, { operation, model, baseUrl }) => {
    const body = PROBE_BODIES[operation]
    const request = { operation, model, upstreamModel: model, stream: false, body: {}, rawBody: body, dialect: 'key-check', credentials: [] }
    const { ctx } = createContext(request, { services, logger }, AbortSignal.timeout(PROBE_TIMEOUT_MS))
    ctx.baseUrl = baseUrl
    const started = performance.now()
    const facts = { operation, model, now: Date.now(), fixedRequest: true }
    let verdict: Verdict
    let status: number | null = null
    let errorBody: string | undefined
    try {
      const outcome = await call({ operation, model, stream: false, body, key }, ctx)
      status = outcome.kind === 'json' ? outcome.status : 200
      verdict = judgeAttempt({ ...facts, status, body: outcome.kind === 'json' ? outcome.body.tryData() : undefined })
      if (outcome.kind === 'json' && status >= 400) errorBody = outcome.body.text
    } catch (error) {
      // The probe's own timeout is a transport failure, not a client that left.
      const failed = factsFromError(error, facts, false) ?? { ...facts, transportError: (error as Error)?.name ?? 'error' }
      status = failed.status ?? null
      verdict = judgeAttempt({ ...failed, fixedRequest: true })
      errorBody = error instanceof UpstreamHttpError ? error.body : String((error as Error)?.message ?? error)
    }
    // Its error row keeps Google's answer (API_KEY_INVALID, ...), for the console's log detail of a verify.
    logAttempt(
      logs,
      { requestId: ctx.id, tokenId: '', dialect: 'key-check', operation, model },
      {
        attempt: 1,
        keyId: key.id,
        keyLabel: key.label,
        startedAt: facts.now,
        latencyMs: performance.now() - started,
        status,
        failureClass: verdict.class,
        reason: verdict.reason,
        ...(errorBody === undefined ? {} : { errorBody }),
      },
    )
    return verdict
  }
}
