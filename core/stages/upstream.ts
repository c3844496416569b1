import { GatewayError } from '../errors.ts'
import { defineStage, type Stage } from '../pipeline.ts'
import type { UpstreamCall } from '../plugin.ts'

/**
 * The innermost stage: sends the canonical request with the attempt's key through `call` (the Gemini REST call,
 * wrapped by the plugins' wrapUpstream hooks). The body leaves as the client's own text unless a stage changed it.
 */
export function upstreamStage(call: UpstreamCall): Stage {
  return defineStage('upstream', (ctx) => {
    const { request, key } = ctx
    if (!key) return Promise.reject(new GatewayError(500, 'pipeline misconfigured: no key was selected before "upstream"'))
    const body = ctx.bodyChanged || request.rawBody === undefined ? JSON.stringify(request.body) : request.rawBody
    return call({ operation: request.operation, model: request.upstreamModel, stream: request.stream, body, key }, ctx)
  })
}
