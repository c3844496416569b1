import type { Outcome, RequestContext } from '../context.ts'
import type { Operation } from '../context.ts'

export type { OperationSpec } from './operations.ts'

/** One call to Google with one key; `wrapUpstream` hooks see and may change it. */
export interface UpstreamAttempt {
  operation: Operation
  model: string
  stream: boolean
  /** Request body text as it will be sent. */
  body: string
  key: { id: string; label: string; secret: string }
}

export type UpstreamCall = (attempt: UpstreamAttempt, ctx: RequestContext) => Promise<Outcome>
