import * as v from 'valibot'
import { definePlugin } from 'gemgate'
import { fakeStream } from './internal/fake-stream.ts'

/**
 * Fake streaming (gemini-balance's FAKE_STREAM_*): a client that asks for a stream gets keep-alives every few seconds
 * while the gateway makes the non-stream call to Google, then the whole answer as stream events. It keeps a
 * connection with a short idle timeout (a proxy, a CDN, a client) open while a long answer is made, and gives
 * streaming clients models or features that answer better unary.
 *
 * Improvements on gemini-balance, which did it for OpenAI chat only: every dialect that converts Gemini's stream
 * (native streamGenerateContent, SSE and JSON array; OpenAI chat; Anthropic Messages; OpenAI Responses), each
 * with its own heartbeat (an SSE comment, a JSON-array newline, Anthropic's `ping`) instead of an OpenAI chunk with
 * empty `choices`; every part of the answer kept (gemini-balance kept `parts[0]`, so a thinking answer lost its
 * text), with the real finish reason and usage; retries on other keys while the keep-alives flow; the client
 * leaving cancels the call to Google. The OpenAI pass-through (/openai/v1) streams for real: its body is Google's
 * OpenAI layer's, not a Gemini request, and that layer streams on its own.
 */
export default definePlugin({
  name: 'fake-stream',
  summary: 'Streaming clients get keep-alives while the gateway makes a non-stream call, then the whole answer as a stream.',
  options: v.strictObject({
    enabled: v.optional(v.boolean(), false),
    emptyDataIntervalSeconds: v.optional(v.pipe(v.number(), v.minValue(0.1), v.maxValue(60)), 5),
  }),
  env: {
    enabled: { env: 'FAKE_STREAM_ENABLED', kind: 'bool' },
    emptyDataIntervalSeconds: { env: 'FAKE_STREAM_EMPTY_DATA_INTERVAL_SECONDS', kind: 'number' },
  },
  docs: {
    enabled: 'answer stream requests (native, OpenAI chat, Anthropic, Responses; not the /openai/v1 pass-through) from a non-stream call to Google',
    emptyDataIntervalSeconds: 'seconds between keep-alives while the answer is being made (0.1-60)',
  },

  setup({ enabled, emptyDataIntervalSeconds }) {
    // Listed but off: no stage at all, so a request pays nothing for it.
    if (!enabled) return {}
    const intervalMs = emptyDataIntervalSeconds * 1000
    return {
      stages: [
        {
          // Inside the stream-optimizer, transform and log stages (they see an ordinary stream) and outside
          // key-select, so a failed attempt is retried on another key while the keep-alives go on.
          before: 'key-select',
          run(ctx, next) {
            const request = ctx.request
            if (request.operation !== 'streamGenerateContent' || !request.stream) return next()
            // Google gets the unary call (its URL follows the operation, its parsing follows `stream`). The dialects
            // encode a stream because the outcome is one, whatever the request says now.
            request.operation = 'generateContent'
            request.stream = false
            return fakeStream(ctx, next(), intervalMs)
          },
        },
      ],
    }
  },
})
