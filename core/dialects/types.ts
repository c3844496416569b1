import type { H3Event } from 'h3'
import type { ResolvedConfig } from '../config/schema.ts'
import type { Outcome, RequestContext } from '../context.ts'
import type { GatewayError } from '../errors.ts'
import type { GeminiModel } from '../plugin.ts'
import type { RunRequest } from '../run.ts'
import type { FetchedMedia } from './shared/media.ts'
import type { RouteGuards } from './shared/route.ts'
import type { OperationTable } from '../upstream/operations.ts'

/**
 * An API shape the gateway speaks. Decoding is done by the dialect's routes (they build the canonical request);
 * a dialect object encodes what the pipeline produced: answers, streams, and errors in its own wire shape.
 */
export interface Dialect {
  name: string
  respond(outcome: Outcome, ctx: RequestContext, event: H3Event): Response
  error(error: GatewayError, event: H3Event): Response
}

/** What every dialect's route registration gets from the gateway. */
export interface DialectRouteDeps {
  run: RunRequest
  config: ResolvedConfig
  /** Extra models the plugins derive from one page of the upstream list; absent when no plugin adds models. */
  pluginModels?: (upstream: GeminiModel[]) => GeminiModel[]
  /** Auth, model filter and body limits every route applies before its own work (see shared/route.ts). */
  guards: RouteGuards
  /** Upstream operations, the plugins' included: native model methods a plugin declared are served too. */
  operations: OperationTable
  /** Fetches an http(s) media URL from a message (SSRF-guarded, size and time capped). */
  fetchMedia: (url: string, signal?: AbortSignal) => Promise<FetchedMedia>
}
