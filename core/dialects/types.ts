import type { H3Event } from 'h3'
import type { Outcome, RequestContext } from '../context.ts'
import type { GatewayError } from '../errors.ts'

/**
 * An API shape the gateway speaks. Decoding is done by the dialect's routes (they build the canonical request);
 * a dialect object encodes what the pipeline produced: answers, streams, and errors in its own wire shape.
 */
export interface Dialect {
  name: string
  respond(outcome: Outcome, ctx: RequestContext, event: H3Event): Response
  error(error: GatewayError, event: H3Event): Response
}
