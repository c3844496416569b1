import { modelId } from 'gemgate'

/** Where a request on a sloppy path goes instead: the path of one of the gateway's routes, and its query ('' or '?…'). */
export interface Rewrite {
  path: string
  search: string
}

/**
 * The gateway's own paths as its routes spell them. They are never rewritten, and they are tested first: this is
 * all a well-configured client's request costs. A native call needs its `:action` (`POST …/models/x` alone is the
 * sloppy kind); reads name a model (or a long-running operation of one) or none.
 */
const NATIVE_CALL =
  /^\/(?:gemini\/|vertex-express\/)?v1beta\/models\/[A-Za-z0-9._-]+:(?:generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)$/
const NATIVE_READ = /^\/(?:gemini\/|vertex-express\/)?v1beta\/models(?:\/[A-Za-z0-9._-]+(?:\/operations\/[A-Za-z0-9_-]+)?)?$/
const OPENAI_READ = /^\/(?:hf\/|openai\/)?v1\/models(?:\/.+)?$/
const OPENAI = /^\/(?:hf\/)?v1\/(?:chat\/completions|embeddings|images\/generations|audio\/speech|models|responses(?:\/.*)?|messages(?:\/count_tokens)?)$/
const PASSTHROUGH = /^\/openai\/v1\/(?:chat\/completions|embeddings|images\/generations|models)$/

/** Never rewritten, whatever they contain: the health check, and the admin side (pages, its API, login, files). */
const PROTECTED = /^\/(?:health|admin|api|auth|login|logout|static|keys|config|logs|upload)(?:\/|$)/i

/**
 * Escapes (h3 has already decoded the harmless ones, so what is left is `%2F`, `%5C`, `%25`, ...), backslashes and
 * dot segments: a path that needs any of them is no sloppy client's, and is left to the router as it came.
 */
const UNSAFE = /%|\\|(?:^|\/)\.\.?(?:\/|$)/

const NATIVE_ACTIONS = new Map(
  ['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents'].map((action) => [action.toLowerCase(), action]),
)

/** The last `/models/<name>` of a path (`…/models/models/x:generateContent` names x). */
const PATH_MODEL = /^.*\/models\/([^/:]+)/i
/** `:action` closing the path. */
const PATH_ACTION = /:([^/:]*)\/?$/
/** `…/models` or `…/models/<one segment>` closing the path. */
const MODELS_TAIL = /\/models(?:\/([^/]+))?\/?$/i

/**
 * gemini-balance's smart routing, as a pure function: the route a request on a path no route serves meant, or
 * undefined to leave it alone (canonical, protected, unsafe, or nothing to map it to: the router's 404 answers it).
 * The rules, first match wins:
 * 1. `generatecontent` or `v1beta/models` in the path (any case): native. GET lists the models (or gets the one the
 *    path names); POST takes the model from `?model=` or else from `/models/<name>`, keeps an explicit `:action`
 *    (any case; an unknown one is left alone), else streams when the path says `stream` or `?stream=true` (then
 *    with `alt=sse`). `/vertex-express/` keeps its prefix.
 * 2. `/openai/` in the path: Google's OpenAI layer under /openai/v1 (chat, embeddings, images, models).
 * 3. `/v1/` in the path: the OpenAI dialect under /v1 (chat, embeddings, images, speech, models).
 * 4. `/chat/completions` anywhere, or a bare OpenAI resource (`/models`, `/embeddings`, ...): under /v1.
 * Every target is one of the gateway's route templates; the only part taken from the request is a model that
 * passed `modelId`, so no rewrite can lead outside the routes.
 */
export function normalizeRequestPath(method: string, path: string, search: string): Rewrite | undefined {
  if (method !== 'GET' && method !== 'POST') return undefined
  const canonical = method === 'POST' ? NATIVE_CALL.test(path) : NATIVE_READ.test(path) || OPENAI_READ.test(path)
  if (canonical || OPENAI.test(path) || PASSTHROUGH.test(path)) return undefined
  if (PROTECTED.test(path) || UNSAFE.test(path)) return undefined
  const lower = path.toLowerCase()
  const target =
    lower.includes('generatecontent') || lower.includes('v1beta/models')
      ? native(method, path, lower, search)
      : lower.includes('/openai/')
        ? openai('/openai/v1', method, path, after(lower, '/openai/'))
        : lower.includes('/v1/')
          ? openai('/v1', method, path, after(lower, '/v1/'))
          : method === 'POST' && lower.includes('/chat/completions')
            ? '/v1/chat/completions'
            : bareResource(method, path, lower)
  return typeof target === 'string' ? { path: target, search } : target
}

function native(method: string, path: string, lower: string, search: string): Rewrite | undefined {
  const prefix = lower.includes('/vertex-express/') ? '/vertex-express/v1beta' : '/v1beta'
  const action = PATH_ACTION.exec(path)?.[1]
  if (method === 'GET') {
    const named = action === undefined ? PATH_MODEL.exec(path)?.[1] : undefined
    if (named === undefined) return { path: `${prefix}/models`, search }
    const id = modelId(named)
    return id ? { path: `${prefix}/models/${id}`, search } : undefined
  }
  const query = new URLSearchParams(search)
  const asked = query.get('model')
  const id = modelId(asked ?? PATH_MODEL.exec(path)?.[1] ?? '')
  if (!id) return undefined
  let operation: string | undefined
  if (action !== undefined) {
    operation = NATIVE_ACTIONS.get(action.toLowerCase())
    // A method the client named but the gateway does not serve is the client's to hear about, not a generation.
    if (!operation) return undefined
  } else {
    const stream = lower.includes('stream') || query.get('stream')?.toLowerCase() === 'true'
    operation = stream ? 'streamGenerateContent' : 'generateContent'
    // A client that never named the method reads the stream as events, as every SDK asks for it.
    if (stream && !query.has('alt')) query.set('alt', 'sse')
  }
  query.delete('model')
  query.delete('stream')
  const rest = query.toString()
  return { path: `${prefix}/models/${id}:${operation}`, search: rest ? `?${rest}` : '' }
}

/** The OpenAI-shaped route under `prefix` that `rest` (the lower-cased path after the family's marker) names. */
function openai(prefix: '/v1' | '/openai/v1', method: string, path: string, rest: string): string | undefined {
  if (method === 'GET') return rest.includes('model') ? modelsPath(prefix, path) : undefined
  if (rest.includes('chat') || rest.includes('completion')) return `${prefix}/chat/completions`
  if (rest.includes('embedding')) return `${prefix}/embeddings`
  if (rest.includes('image')) return `${prefix}/images/generations`
  // Google's OpenAI layer has no speech route; only the gateway's own /v1 serves it.
  if (rest.includes('audio') && prefix === '/v1') return `${prefix}/audio/speech`
  return undefined
}

/** The model list, or the one model a path ending in `/models/<id>` names (undefined when that is no model id). */
function modelsPath(prefix: string, path: string): string | undefined {
  const named = MODELS_TAIL.exec(path)?.[1]
  if (named === undefined) return `${prefix}/models`
  const id = modelId(named)
  return id && `${prefix}/models/${id}`
}

const BARE_POST = new Map([
  ['/embeddings', '/v1/embeddings'],
  ['/images/generations', '/v1/images/generations'],
  ['/audio/speech', '/v1/audio/speech'],
])

/** An OpenAI client whose base URL lacks `/v1` (`baseURL: 'http://host'`) calls `/models`, `/embeddings`, .... */
function bareResource(method: string, path: string, lower: string): string | undefined {
  const trimmed = lower.endsWith('/') ? lower.slice(0, -1) : lower
  if (method === 'POST') return BARE_POST.get(trimmed)
  return trimmed === '/models' || trimmed.startsWith('/models/') ? modelsPath('/v1', path) : undefined
}

function after(lower: string, marker: string): string {
  return lower.slice(lower.lastIndexOf(marker) + marker.length)
}
