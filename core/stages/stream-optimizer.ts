import type { RequestContext, StreamOutcome } from '../context.ts'
import { Payload } from '../payload.ts'
import { defineStage, type Stage } from '../pipeline.ts'
import type { GeminiResponse } from '../plugin.ts'

export interface StreamOptimizerOptions {
  enabled: boolean
  /** Seconds between pieces for long texts. */
  minDelay: number
  /** Seconds between pieces for short texts. */
  maxDelay: number
  shortTextThreshold: number
  longTextThreshold: number
  chunkSize: number
}

/**
 * Smooths bursty streams into a steady typing rhythm (STREAM_OPTIMIZER_*): a chunk's text is re-emitted in small
 * pieces with a delay that shrinks, on a log scale, as the chunk grows. Off by default.
 */
export function streamOptimizerStage(options: StreamOptimizerOptions): Stage {
  if (!options.enabled) return defineStage('stream-optimizer', (_ctx, next) => next())
  return defineStage('stream-optimizer', async (ctx, next) => {
    const outcome = await next()
    return outcome.kind === 'stream' ? smooth(outcome, options, ctx) : outcome
  })
}

/** Seconds to wait after each piece of a text of `length` characters. */
export function pieceDelay(length: number, o: StreamOptimizerOptions): number {
  if (length <= o.shortTextThreshold) return o.maxDelay
  if (length >= o.longTextThreshold) return o.minDelay
  const ratio = Math.log(length / o.shortTextThreshold) / Math.log(o.longTextThreshold / o.shortTextThreshold)
  return o.maxDelay - ratio * (o.maxDelay - o.minDelay)
}

/** Long texts go out `chunkSize` characters at a time, short ones a character at a time (code points, not UTF-16 units). */
export function splitText(text: string, o: StreamOptimizerOptions): string[] {
  const chars = Array.from(text)
  const size = chars.length >= o.longTextThreshold ? o.chunkSize : 1
  const pieces: string[] = []
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(''))
  return pieces
}

/** The one text part worth splitting, if the chunk is a single candidate whose parts are exactly one text. */
function soleText(chunk: GeminiResponse): string | undefined {
  const parts = chunk.candidates?.length === 1 ? chunk.candidates[0]?.content?.parts : undefined
  return Array.isArray(parts) && parts.length === 1 && typeof parts[0]?.text === 'string' ? parts[0].text : undefined
}

function smooth(outcome: StreamOutcome, o: StreamOptimizerOptions, ctx: RequestContext): StreamOutcome {
  async function* pieces(): AsyncGenerator<Payload> {
    for await (const chunk of outcome.chunks) {
      // A keep-alive (fake streaming) has no data; it goes on as it is.
      if (chunk.keepAlive) {
        yield chunk
        continue
      }
      const data = chunk.data as GeminiResponse
      const text = soleText(data)
      if (!text) {
        yield chunk
        continue
      }
      const parts = splitText(text, o)
      const delayMs = pieceDelay(Array.from(text).length, o) * 1000
      for (let i = 0; i < parts.length; i++) {
        yield Payload.fromData(pieceOf(data, parts[i]!, i === parts.length - 1))
        if (ctx.signal.aborted) return
        await new Promise((resolve) => setTimeout(resolve, delayMs))
      }
    }
  }
  return { kind: 'stream', chunks: pieces() }
}

/**
 * A copy of the chunk carrying one piece; usage and finishReason stay on the last piece only, so totals add up once.
 * The chunk is one `soleText` accepted: one candidate with one text part.
 */
function pieceOf(chunk: GeminiResponse, text: string, last: boolean): GeminiResponse {
  const { usageMetadata, ...rest } = chunk
  const candidate = chunk.candidates![0]!
  const { finishReason, ...candidateRest } = candidate
  const part = { ...candidate.content!.parts![0], text }
  const piece = { ...candidateRest, content: { ...candidate.content, parts: [part] }, ...(last && finishReason !== undefined ? { finishReason } : {}) }
  return { ...rest, candidates: [piece], ...(last && usageMetadata !== undefined ? { usageMetadata } : {}) }
}
