import { randomUUID } from 'node:crypto'
import type { ConsolaInstance } from 'consola'
import type { H3Event } from 'h3'
import type { ResolvedConfig } from './config/schema.ts'
import type { GatewayRequest, Outcome, RequestContext } from './context.ts'
import type { Dialect } from './dialects/types.ts'
import { toGatewayError } from './errors.ts'
import type { Payload } from './payload.ts'
import type { Pipeline } from './pipeline.ts'
import type { ServiceRegistry } from './services.ts'

export interface RunnerDeps {
  pipeline: Pipeline
  config: ResolvedConfig
  services: ServiceRegistry
  logger: ConsolaInstance
}

/** Runs one decoded request through the pipeline and encodes the outcome in the request's dialect. */
export type RunRequest = (event: H3Event, request: GatewayRequest, dialect: Dialect, after?: (outcome: Outcome, ctx: RequestContext) => Outcome) => Promise<Response>

export function createRunner({ pipeline, config, services, logger }: RunnerDeps): RunRequest {
  return async (event, request, dialect, after) => {
    const { ctx, finish } = createContext(request, { config, services, logger }, event.req.signal)
    let outcome: Outcome
    try {
      outcome = await pipeline(ctx)
      if (after) outcome = after(outcome, ctx)
    } catch (error) {
      const failure = toGatewayError(error)
      if (failure.status === 500) logger.error(`request ${ctx.id} failed`, error)
      finish(error)
      return dialect.error(failure, event)
    }
    if (outcome.kind === 'json') {
      finish()
      return dialect.respond(outcome, ctx, event)
    }
    return dialect.respond({ kind: 'stream', chunks: finishing(outcome.chunks, finish) }, ctx, event)
  }
}

/** A fresh request context plus the function that runs its finish callbacks (once). */
export function createContext(
  request: GatewayRequest,
  deps: Omit<RunnerDeps, 'pipeline'>,
  signal: AbortSignal,
): { ctx: RequestContext; finish: (error?: unknown) => void } {
  const finishers: ((error?: unknown) => void)[] = []
  const ctx: RequestContext = {
    id: randomUUID(),
    startedAt: performance.now(),
    request,
    signal,
    config: deps.config,
    services: deps.services,
    attempts: [],
    committed: false,
    bodyChanged: false,
    state: {},
    onFinish: (callback) => void finishers.push(callback),
  }
  const finish = (error?: unknown) => {
    for (const callback of finishers.splice(0)) {
      try {
        callback(error)
      } catch (failure) {
        deps.logger.error('a finish callback failed', failure)
      }
    }
  }
  return { ctx, finish }
}

/** Calls `finish` exactly once when the stream ends, breaks, or the client cancels it. */
async function* finishing(chunks: AsyncIterable<Payload>, finish: (error?: unknown) => void): AsyncGenerator<Payload> {
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
