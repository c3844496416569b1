import { getRouterParam } from 'h3'
import * as v from 'valibot'
import { definePlugin, GatewayError, geminiDialect, notFound, parseBody, type Operation, type PluginContext, type RouteCall } from 'gemgate'

const PREFIX = '/vertex-express/v1beta'
const MODELS = `${PREFIX}/models`
/** The tag of the requests these routes run: hooks and the logs tell them apart by it; answers are Gemini's shape. */
const DIALECT = 'vertex-express'

/** What Vertex AI in express mode lets an API key do with a model: its REST reference lists these three. */
const ACTIONS: ReadonlyMap<string, Operation> = new Map(
  (['generateContent', 'streamGenerateContent', 'countTokens'] as const).map((action) => [action, action]),
)

/**
 * Vertex AI in express mode (gemini-balance's VERTEX_API_KEYS), served as the Gemini API under /vertex-express/v1beta:
 * generateContent, streamGenerateContent (SSE with alt=sse, else the JSON array) and countTokens go to
 * VERTEX_EXPRESS_BASE_URL with the Vertex keys, through the whole pipeline (other plugins' variants, transforms,
 * retries, logs tagged `vertex-express`).
 *
 * The Vertex keys are a pool of their own with the gateway's judge, cooldowns and health; a failed attempt is
 * retried on another Vertex key only (gemini-balance retried Vertex calls with AI Studio keys, and counted their
 * failures against nothing). The pool and base URL are set in a stage right before key-select, so no plugin's request
 * hook (a PAID_KEY pool) can put another API's key on these calls, whatever order the plugins are listed in.
 *
 * The model list and model get are the Gemini API's (the native routes: AI Studio keys and BASE_URL, FILTERED_MODELS,
 * plugin variants), as in gemini-balance: an express-mode key may not list or read publisher models (Vertex wants
 * OAuth there), and Vertex's list is not in the shape Gemini clients read. The model ids are the same on both.
 * Without VERTEX_API_KEYS every route answers 503 and nothing goes upstream.
 */
export default definePlugin({
  name: 'vertex-express',
  summary: 'Vertex AI in express mode under `/vertex-express/v1beta`, with a key pool of its own (VERTEX_API_KEYS) that never mixes with the Gemini API keys.',
  options: v.strictObject({
    keys: v.optional(v.array(v.pipe(v.string(), v.trim(), v.minLength(1))), []),
    baseUrl: v.optional(
      v.pipe(v.string(), v.url('must be a URL'), v.regex(/^https?:\/\//, 'must start with http:// or https://')),
      'https://aiplatform.googleapis.com/v1beta1/publishers/google',
    ),
  }),
  env: {
    keys: { env: 'VERTEX_API_KEYS', kind: 'list', secret: true },
    baseUrl: { env: 'VERTEX_EXPRESS_BASE_URL', kind: 'string' },
  },
  docs: {
    keys: 'Vertex AI express-mode API keys; their own pool, used for these routes only (empty: the routes answer 503)',
    baseUrl: "Vertex AI's API root for publisher models (generate, stream and count go there; the model list stays the Gemini API's)",
  },

  setup({ keys, baseUrl }, ctx) {
    if (keys.length === 0) {
      return {
        routes(router) {
          for (const path of [MODELS, `${MODELS}/:model`]) router.add('GET', path, geminiDialect, notSetUp)
          router.add('POST', `${MODELS}/:modelAction`, geminiDialect, notSetUp)
        },
      }
    }
    // Its own API root goes with the pool: attempts, confirmations and scheduled re-checks of these keys all go there.
    const pool = ctx.createKeyPool(keys, { baseUrl })
    return {
      stages: [
        {
          // Last before key-select, so these calls draw from the Vertex pool whatever a request hook chose.
          before: 'key-select',
          run(rctx, next) {
            if (rctx.request.dialect === DIALECT) rctx.pool = pool
            return next()
          },
        },
      ],
      // GET models and models/{id} are the native routes' (see above), logged as theirs: on Gemini API keys.
      rewriteUrl(url, method) {
        if (method !== 'GET' || !url.pathname.startsWith(MODELS)) return undefined
        const rest = url.pathname.slice(MODELS.length)
        if (rest !== '' && !rest.startsWith('/')) return undefined
        // The query too: it may carry the client's token (`?key=`), and pageSize/pageToken.
        return new URL(`/v1beta/models${rest}${url.search}`, url.href)
      },
      routes(router) {
        router.add('POST', `${MODELS}/:modelAction`, geminiDialect, (call) => generate(call, ctx))
      },
    }
  },
})

/** As the native route builds it: the client's exact bytes go to Google unless a plugin edits the body. */
async function generate(call: RouteCall, ctx: PluginContext): Promise<Response> {
  const [rawModel = '', action = ''] = (getRouterParam(call.event, 'modelAction') ?? '').split(':')
  const operation = ACTIONS.get(action)
  if (!operation)
    throw notFound(`Method "${action.slice(0, 64)}" is not supported by Vertex AI express mode; use generateContent, streamGenerateContent or countTokens.`)
  const model = call.model(decodeURIComponent(rawModel))
  const text = await call.text()
  const request = { operation, model, stream: operation === 'streamGenerateContent', body: parseBody(text), rawBody: text, dialect: DIALECT }
  return ctx.answer(call, request, geminiDialect)
}

async function notSetUp(): Promise<Response> {
  throw new GatewayError(503, 'Vertex AI express mode is not set up on this gateway: VERTEX_API_KEYS is empty.')
}
