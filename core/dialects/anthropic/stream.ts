import { toGatewayError } from '../../errors.ts'
import type { Json } from '../../internal/json.ts'
import type { Payload } from '../../payload.ts'
import { BlockBuilder, type BlockEvent } from './blocks.ts'
import { streamErrorBody } from './errors.ts'
import { anthropicUsage, firstCandidate, messageId, stopReason, type AnswerOptions } from './response.ts'

/**
 * Gemini stream chunks → Anthropic's typed SSE events, as they arrive (everything one chunk produces leaves as one
 * write):
 *
 *   message_start (empty content, input usage)
 *   content_block_start / content_block_delta (text_delta, thinking_delta, signature_delta, input_json_delta) /
 *   content_block_stop, per block with its index
 *   message_delta (stop_reason, final usage) · message_stop
 *
 * A keep-alive is Anthropic's own `ping` event and changes nothing else. One that comes before the first chunk goes
 * out before message_start: message_start carries the message id and input usage, which only that chunk has, and the
 * official SDKs drop every ping before they look at the order of events (Anthropic's API sends its pings after
 * message_start, but documents them as possible anywhere in the stream).
 *
 * A failure after the first byte (the chunk iterator throws) ends the stream with an `error` event and no
 * message_stop: the official SDKs raise it, nothing passes it off as a finished answer.
 */
export async function* encodeStream(chunks: AsyncIterable<Payload>, options: AnswerOptions): AsyncGenerator<string> {
  const builder = new BlockBuilder({ thinking: options.thinking })
  let started = false
  let usage: unknown
  let finishReason: unknown
  let blockReason: unknown
  const events: BlockEvent[] = []
  try {
    for await (const chunk of chunks) {
      if (chunk.keepAlive) {
        yield PING
        continue
      }
      const data = chunk.data as Json
      let out = ''
      if (!started) {
        out += messageStart(data, options)
        started = true
      }
      if (data.usageMetadata) usage = data.usageMetadata
      blockReason ??= data.promptFeedback?.blockReason
      const candidate = firstCandidate(data)
      finishReason = candidate?.finishReason ?? finishReason
      const parts = candidate?.content?.parts
      if (Array.isArray(parts)) for (const part of parts) builder.part(part, events)
      out += drain(events)
      if (out) yield out
    }
  } catch (error) {
    yield sse('error', streamErrorBody(toGatewayError(error)))
    return
  }
  let out = started ? '' : messageStart({}, options)
  builder.close(events)
  out += drain(events)
  const stop = stopReason(finishReason, blockReason, builder.toolUses > 0)
  out += sse('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stop.stop_reason, stop_sequence: null, stop_details: stop.stop_details },
    usage: anthropicUsage(usage),
  })
  out += sse('message_stop', { type: 'message_stop' })
  yield out
}

function messageStart(first: Json, options: AnswerOptions): string {
  const usage = anthropicUsage(first.usageMetadata)
  return sse('message_start', {
    type: 'message_start',
    message: {
      id: messageId(first.responseId),
      type: 'message',
      role: 'assistant',
      model: options.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      stop_details: null,
      usage: {
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        output_tokens: 0,
      },
    },
  })
}

function drain(events: BlockEvent[]): string {
  let out = ''
  for (const event of events) out += sse(event.type, event)
  events.length = 0
  return out
}

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

const PING = sse('ping', { type: 'ping' })
