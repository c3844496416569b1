import type { GatewayRequest, RequestContext, StreamOutcome } from '../context.ts'
import { Payload } from '../payload.ts'
import { defineStage, type Stage } from '../pipeline.ts'
import type { GeminiResponse, PluginHooks } from '../plugin.ts'
import { asBuffer } from '../sse.ts'
import { EventBatch, EventStream, batchesOf } from '../stream.ts'

export interface TransformOptions {
  /** SAFETY_SETTINGS: filled in when the client sent none, or always when `force` is set. */
  safetySettings?: readonly unknown[]
  forceSafetySettings?: boolean
}

type Hooks = Pick<PluginHooks, 'transformRequest' | 'rewritesAnswer' | 'transformResponse' | 'transformChunk' | 'chunksWith'>

const GENERATES = new Set(['generateContent', 'streamGenerateContent'])

/**
 * Request rewrites on the way in (config-level safety settings, then each plugin's transformRequest) and answer
 * rewrites on the way out (transformResponse / transformChunk). With no rewrite configured the stage is a
 * pass-through and bodies and chunks travel as the text they arrived as; hooks that return no promise keep the
 * answer on the synchronous path.
 */
export function transformStage(plugins: readonly Hooks[], options: TransformOptions = {}): Stage {
  const requestHooks = plugins.filter((p) => p.transformRequest)
  const responseHooks = plugins.filter((p) => p.transformResponse)
  const chunkHooks = plugins.filter((p) => p.transformChunk)
  const { safetySettings, forceSafetySettings = false } = options

  const rewritesAnswers = responseHooks.length > 0 || chunkHooks.length > 0
  return defineStage('transform', async (ctx, next) => {
    const request = ctx.request
    const generates = GENERATES.has(request.operation)
    if (request.prepare) await request.prepare(ctx)
    // Speech models take no safety settings (gemini-balance left them off for every `tts` model, too).
    if (safetySettings && generates && !request.upstreamModel.includes('tts')) applySafetySettings(ctx, safetySettings, forceSafetySettings)
    if (requestHooks.length > 0) await runRequestHooks(requestHooks, request, ctx)
    if (!rewritesAnswers) return next()

    if (!generates) return next()
    const responses = wanted(responseHooks, request, ctx)
    const chunks = wanted(chunkHooks, request, ctx)
    const outcome = await next()
    if (outcome.kind === 'json' && responses.length > 0 && outcome.status === 200) {
      let body = outcome.body.data as GeminiResponse
      for (const plugin of responses) {
        const result = plugin.transformResponse!(body, ctx)
        body = (isPromise(result) ? await result : result) ?? body
      }
      return { ...outcome, body: Payload.fromData(body) }
    }
    if (outcome.kind === 'stream' && chunks.length > 0) return rewriteChunks(outcome, chunks, ctx)
    return outcome
  })
}

/** The hooks whose plugins want this request's answer (all of them when every plugin says nothing). */
function wanted(hooks: readonly Hooks[], request: GatewayRequest, ctx: RequestContext): readonly Hooks[] {
  return hooks.some((plugin) => plugin.rewritesAnswer) ? hooks.filter((plugin) => plugin.rewritesAnswer?.(request, ctx) ?? true) : hooks
}

/**
 * Runs the plugins' request hooks on a watched view of the request: a hook that reads or replaces the body through it
 * (or through `ctx.request`, the same view meanwhile) marks it changed, so the edited body is what Google gets. No
 * hook can edit it and forget to say so; a request no hook looked inside keeps the client's exact bytes. A view, not
 * a `body` accessor defined on the request itself: that turned every request into a dictionary-mode object (~2 KB).
 */
async function runRequestHooks(hooks: readonly Hooks[], request: GatewayRequest, ctx: RequestContext): Promise<void> {
  const watched = new Proxy(request, {
    get(target, key) {
      if (key === 'body') ctx.bodyChanged = true
      return Reflect.get(target, key)
    },
    set(target, key, value) {
      if (key === 'body') ctx.bodyChanged = true
      return Reflect.set(target, key, value)
    },
  })
  const context = ctx as { request: GatewayRequest }
  context.request = watched
  try {
    for (const plugin of hooks) {
      const result = plugin.transformRequest!(watched, ctx)
      if (isPromise(result)) await result
    }
  } finally {
    context.request = request
  }
}

function applySafetySettings(ctx: RequestContext, settings: readonly unknown[], force: boolean): void {
  const body = ctx.request.body
  const clientSent = body.safetySettings !== undefined || body.safety_settings !== undefined
  if (clientSent && !force) return
  delete body.safety_settings
  body.safetySettings = settings
  ctx.bodyChanged = true
}

/**
 * The chunk hooks over a stream, a network read at a time: a read with no event any hook is for (chunksWith) travels on
 * as the bytes Google sent, unparsed; in one that has such an event, each event meets the hooks that are for it.
 */
function rewriteChunks(outcome: StreamOutcome, hooks: readonly Hooks[], ctx: RequestContext): StreamOutcome {
  const filtered = hooks.some((plugin) => plugin.chunksWith)
  const everyChunk = hooks.some((plugin) => !plugin.chunksWith)
  const needles = [...new Set(hooks.flatMap((plugin) => plugin.chunksWith ?? []))]
  const needleBytes = needles.map((needle) => Buffer.from(needle))
  const isFor = (plugin: Hooks, text: string | undefined) => !plugin.chunksWith || plugin.chunksWith.some((needle) => text!.includes(needle))
  async function* rewritten(): AsyncGenerator<EventBatch> {
    for await (const batch of batchesOf(outcome.chunks)) {
      if (batch.keepAlive || (!everyChunk && !batchMentions(batch, needles, needleBytes))) {
        yield batch
        continue
      }
      for (const event of batch.payloads) {
        // The hooks' filters read the event as Google sent it, whatever a hook before them made of it.
        const text = filtered ? event.text : undefined
        let pending: GeminiResponse[] | undefined
        for (const plugin of hooks) {
          if (!isFor(plugin, text)) continue
          pending ??= [event.data]
          const next: GeminiResponse[] = []
          for (const item of pending) {
            const returned = plugin.transformChunk!(item, ctx)
            const result = isPromise(returned) ? await returned : returned
            if (result === null) continue
            if (result === undefined) next.push(item)
            else if (Array.isArray(result)) next.push(...result)
            else next.push(result)
          }
          pending = next
        }
        if (!pending) yield EventBatch.of(event)
        else for (const item of pending) yield EventBatch.of(Payload.fromData(item))
      }
    }
  }
  return { kind: 'stream', chunks: new EventStream(rewritten()) }
}

/** Whether any event of the batch may hold one of the texts: searched in its bytes when it has them, nothing decoded. */
function batchMentions(batch: EventBatch, needles: readonly string[], needleBytes: readonly Buffer[]): boolean {
  if (!batch.sse) return batch.payloads.some((payload) => needles.some((needle) => payload.text.includes(needle)))
  const bytes = asBuffer(batch.sse)
  return needleBytes.some((needle) => bytes.includes(needle))
}

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as { then?: unknown } | undefined)?.then === 'function'
