import { defineWebSocketHandler, getRouterParam, type H3Event } from 'h3'
import * as v from 'valibot'
import { definePlugin, GatewayError, geminiDialect, notFound } from 'gemgate'
import { liveEndpoint, liveVersion } from './internal/protocol.ts'
import { LiveSession } from './internal/session.ts'

/** Where the SDK's `live.connect` asks: its base URL plus `/ws/...` (a base URL ending in `/` gives `//ws/...`). */
const PATHS = ['/ws/:method', '//ws/:method', '/gemini/ws/:method', '/gemini//ws/:method']

const seconds = (fallback: number) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(7 * 24 * 3600)), fallback)

/**
 * The Live API (realtime voice and video over a WebSocket) through the key pool. The SDK's `live.connect` opens
 * `/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent` here with the client's token as
 * `?key=`; the gateway checks the token, holds the client's setup while it opens Google's endpoint with a healthy key
 * (a key refused at setup is judged like any other and the next one tried, before the client's setup completes), then
 * relays frames both ways as they come. Either side's close closes the other with its code and reason. Each session
 * is one request-log row: its key, model, duration and the tokens of Google's usage messages.
 */
export default definePlugin({
  name: 'live',
  summary: "The Live API (realtime voice and video over a WebSocket, the SDK's `live.connect`) through the key pool, with idle and total time limits.",
  options: v.strictObject({
    idleTimeoutSeconds: seconds(300),
    maxSessionSeconds: seconds(3600),
  }),
  env: {
    idleTimeoutSeconds: { env: 'LIVE_IDLE_TIMEOUT_SECONDS', kind: 'int' },
    maxSessionSeconds: { env: 'LIVE_MAX_SESSION_SECONDS', kind: 'int' },
  },
  docs: {
    idleTimeoutSeconds: 'a Live session with no message either way for this long is closed (1008); 0: never',
    maxSessionSeconds: 'a Live session is closed (1008) this long after it opened; 0: no limit (Google ends its own after a while)',
  },

  setup(options, ctx) {
    const sessions = new Set<LiveSession>()
    const settings = {
      keys: ctx.keys,
      log: ctx.log,
      logger: ctx.logger,
      timeoutMs: ctx.settings.timeoutSeconds * 1000,
      maxAttempts: ctx.settings.maxRetries,
      idleMs: options.idleTimeoutSeconds * 1000,
      maxMs: options.maxSessionSeconds * 1000,
    }
    return {
      routes(router) {
        const upgrade = defineWebSocketHandler(
          (event) => {
            try {
              const client = router.authenticate(event)
              const version = liveVersion(getRouterParam(event, 'method') ?? '')
              if (!version) throw notFound('Only BidiGenerateContent is served over WebSocket here.')
              return new LiveSession(settings, client, liveEndpoint(ctx.settings.baseUrl, version), sessions, (model) => router.admit(event, model)).hooks()
            } catch (error) {
              if (!(error instanceof GatewayError)) throw error
              // The refusal answers the upgrade request itself, in Gemini's error shape.
              const refusal = geminiDialect.error(error, event)
              return { upgrade: () => refusal }
            }
          },
          (event: H3Event) => geminiDialect.error(new GatewayError(426, 'This is the Live API: open it as a WebSocket.'), event),
        )
        for (const path of PATHS) router.app.get(path, upgrade)
      },
      dispose() {
        for (const session of sessions) session.end({ code: 1001, reason: 'The gateway is shutting down.' })
      },
    }
  },
})
