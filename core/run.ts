import type { ConsolaInstance } from 'consola'
import type { H3Event } from 'h3'
import { createContext, type GatewayRequest, type Outcome, type RequestContext } from './context.ts'
import type { Dialect } from './dialects/types.ts'
import { toGatewayError } from './errors.ts'
import { aboutRequest } from './logger.ts'
import { observeRequest } from './metrics/observe.ts'
import type { Pipeline } from './pipeline.ts'
import { watched } from './stream.ts'
import type { ServiceRegistry } from './services.ts'

export interface RunnerDeps {
  pipeline: Pipeline
  services: ServiceRegistry
  logger: ConsolaInstance
}

/** Runs one decoded request through the pipeline and encodes the outcome in the request's dialect. */
export type RunRequest = (
  event: H3Event,
  request: GatewayRequest,
  dialect: Dialect,
  after?: (outcome: Outcome, ctx: RequestContext) => Outcome,
) => Promise<Response>

/**
 * Runs one request through the pipeline and hands back what came out, for a route that encodes the answer itself
 * (a plugin's). Failures are thrown as GatewayErrors; the request's finish callbacks (its log rows) run when a JSON
 * answer is back, or when the stream has been read to its end, broken off or cancelled.
 */
export type RunOutcome = (event: H3Event, request: GatewayRequest) => Promise<Outcome>

export interface Runner {
  respond: RunRequest
  outcome: RunOutcome
}

export function createRunner({ pipeline, services, logger }: RunnerDeps): Runner {
  const run = async (event: H3Event, request: GatewayRequest, after?: (outcome: Outcome, ctx: RequestContext) => Outcome) => {
    const { ctx, finish } = createContext(request, { services, logger }, event.req.signal)
    // Server-Timing and the request metrics read the attempts, and learn when a stream has ended.
    observeRequest(event, ctx)
    let outcome: Outcome
    try {
      outcome = await pipeline(ctx)
      if (after) outcome = after(outcome, ctx)
    } catch (error) {
      const failure = toGatewayError(error)
      if (failure.status === 500) logger.error(aboutRequest(ctx.id, 'request failed', error))
      finish(error)
      failure.logged = true
      throw failure
    }
    if (outcome.kind === 'json') finish()
    else outcome = { kind: 'stream', chunks: watched(outcome.chunks, (items) => finishing(items, finish)) }
    return { ctx, outcome }
  }
  return {
    async respond(event, request, dialect, after) {
      let ran
      try {
        ran = await run(event, request, after)
      } catch (error) {
        return dialect.error(toGatewayError(error), event)
      }
      return dialect.respond(ran.outcome, ran.ctx, event)
    },
    outcome: async (event, request) => (await run(event, request)).outcome,
  }
}

/** Calls `finish` exactly once when the stream ends, breaks, or the client cancels it. */
async function* finishing<T>(chunks: AsyncIterable<T>, finish: (error?: unknown) => void): AsyncGenerator<T> {
  let failure: unknown
  try {
    yield* chunks
  } catch (error) {
    failure = error
    throw error
  } finally {
    finish(failure)
  }
}
