import type { RequestContext, StreamOutcome } from '../context.ts'
import { Payload } from '../payload.ts'
import { defineStage, type Stage } from '../pipeline.ts'
import type { GeminiResponse, Plugin } from '../plugin.ts'

export interface TransformOptions {
  /** SAFETY_SETTINGS: filled in when the client sent none, or always when `force` is set. */
  safetySettings?: readonly unknown[]
  forceSafetySettings?: boolean
}

const GENERATES = new Set(['generateContent', 'streamGenerateContent'])

/**
 * Request rewrites on the way in (config-level safety settings, then each plugin's transformRequest) and answer
 * rewrites on the way out (transformResponse / transformChunk). With no rewrite configured the stage is a
 * pass-through and bodies and chunks travel as the text they arrived as.
 */
export function transformStage(plugins: readonly Plugin[], options: TransformOptions = {}): Stage {
  const requestHooks = plugins.filter((p) => p.transformRequest)
  const responseHooks = plugins.filter((p) => p.transformResponse)
  const chunkHooks = plugins.filter((p) => p.transformChunk)
  const { safetySettings, forceSafetySettings = false } = options

  const rewritesAnswers = responseHooks.length > 0 || chunkHooks.length > 0
  return defineStage('transform', async (ctx, next) => {
    const request = ctx.request
    const generates = GENERATES.has(request.operation)
    if (request.prepare) await request.prepare(ctx)
    if (safetySettings && generates) applySafetySettings(ctx, safetySettings, forceSafetySettings)
    for (const plugin of requestHooks) await plugin.transformRequest!(request, ctx)
    if (!rewritesAnswers) return next()

    const outcome = await next()
    if (!generates) return outcome
    if (outcome.kind === 'json' && responseHooks.length > 0 && outcome.status === 200) {
      let body = outcome.body.data as GeminiResponse
      for (const plugin of responseHooks) body = plugin.transformResponse!(body, ctx) ?? body
      return { ...outcome, body: Payload.fromData(body) }
    }
    if (outcome.kind === 'stream' && chunkHooks.length > 0) return rewriteChunks(outcome, chunkHooks, ctx)
    return outcome
  })
}

function applySafetySettings(ctx: RequestContext, settings: readonly unknown[], force: boolean): void {
  const body = ctx.request.body
  const clientSent = body.safetySettings !== undefined || body.safety_settings !== undefined
  if (clientSent && !force) return
  delete body.safety_settings
  body.safetySettings = settings
  ctx.bodyChanged = true
}

function rewriteChunks(outcome: StreamOutcome, hooks: readonly Plugin[], ctx: RequestContext): StreamOutcome {
  async function* rewritten(): AsyncGenerator<Payload> {
    for await (const chunk of outcome.chunks) {
      let pending: GeminiResponse[] = [chunk.data]
      for (const plugin of hooks) {
        const next: GeminiResponse[] = []
        for (const item of pending) {
          const result = plugin.transformChunk!(item, ctx)
          if (result === null) continue
          if (result === undefined) next.push(item)
          else if (Array.isArray(result)) next.push(...result)
          else next.push(result)
        }
        pending = next
      }
      for (const item of pending) yield Payload.fromData(item)
    }
  }
  return { kind: 'stream', chunks: rewritten() }
}
