import type { ConsolaInstance } from 'consola'
import { newRequestId } from './identity.ts'
import type { FailureClass } from './keys/judge.ts'
import type { KeyPool } from './keys/pool.ts'
import type { Payload } from './payload.ts'
import type { ServiceRegistry } from './services.ts'

/** What a request asks of Google: a native method, an OpenAI-layer call (`openai.chat`), or a plugin's own. */
export type Operation =
  | 'generateContent'
  | 'streamGenerateContent'
  | 'countTokens'
  | 'embedContent'
  | 'batchEmbedContents'
  | 'listModels'
  | 'getModel'
  | (string & {})

/** Who is calling: never the token itself, only a stable hash id and a masked label. */
export interface ClientIdentity {
  tokenId: string
  label: string
}

/**
 * The one canonical request every dialect decodes into: a Gemini request body plus what the URL said.
 * Stages and plugins only ever see this form; the dialect that decoded it encodes the answer back.
 */
export interface GatewayRequest {
  operation: Operation
  /** The model the client asked for, possibly with a plugin suffix (`gemini-2.5-flash-search`). */
  model: string
  /** The model sent upstream: `model` without its variant suffixes; plugins may rewrite it. */
  upstreamModel: string
  /** The variant suffixes `model` carried (`-search`, `-non-thinking`), set by the model-filter stage. */
  variants?: ReadonlySet<string>
  stream: boolean
  /** Gemini request body (generateContent, countTokens, embedContent, ... shape). Empty for GETs. */
  body: Record<string, any>
  /** The client's exact body text; forwarded as-is until a stage or plugin touches `body`. */
  rawBody?: string
  /** Upstream query parameters that belong to the operation (pageSize, pageToken). */
  query?: Record<string, string>
  /**
   * The REST path below the API root that a plugin's operation acts on (`files/abc`, `batches/xyz:cancel`), for its
   * OperationSpec's `path`; checked again before it reaches the URL.
   */
  resource?: string
  /** Upstream request headers that belong to the operation (the X-Goog-Upload-* of a resumable upload's start). */
  headers?: Record<string, string>
  /** Name of the dialect that decoded the request and will encode the answer. */
  dialect: string
  /**
   * Decoding work that must wait until the client is authenticated (fetching image URLs from messages, ...).
   * The transform stage runs it first; it may edit `body`.
   */
  prepare?: (ctx: RequestContext) => Promise<void>
  /** What the dialect needs later to encode the answer (the client's model name, include_usage, tool names...). */
  dialectOptions?: Record<string, unknown>
  /** Every credential the client presented (query key, x-goog-api-key, Bearer); checked by auth, never logged. */
  credentials: readonly (string | undefined)[]
}

export interface Usage {
  promptTokens?: number
  completionTokens?: number
  thinkingTokens?: number
  totalTokens?: number
}

/** One upstream attempt, as the log stage records it. */
export interface AttemptRecord {
  attempt: number
  keyId: string
  keyLabel: string
  startedAt: number
  latencyMs: number
  status: number | null
  failureClass: FailureClass
  reason: string
  errorBody?: string
  usage?: Usage
}

export type JsonOutcome = { kind: 'json'; status: number; body: Payload; headers?: Record<string, string> }
/** Chunks are Gemini GenerateContentResponse objects; the iterator throws a GatewayError if the stream breaks. */
export type StreamOutcome = { kind: 'stream'; chunks: AsyncIterable<Payload> }
export type Outcome = JsonOutcome | StreamOutcome

export interface RequestContext {
  readonly id: string
  readonly startedAt: number
  readonly request: GatewayRequest
  /** Aborted when the client goes away; pass it to anything slow. */
  readonly signal: AbortSignal
  readonly services: ServiceRegistry
  client?: ClientIdentity
  /** The pool key-select draws from: the gateway's, unless a plugin put one of its own here (a paid key). */
  pool?: KeyPool
  /** The API root the upstream call goes to: BASE_URL, unless a plugin sends this request elsewhere (Vertex Express). */
  baseUrl?: string
  /**
   * The one key this request may use, set by a plugin when it names a resource that belongs to that key's project (a
   * file, a cached content, a batch): no other key can reach it, so there is no retry on another key, and when this
   * key is disabled or cooling the client hears which resource is bound to it.
   */
  pinnedKey?: { id: string; resource: string }
  /** The key of the attempt in flight; key-select sets it before each call to the upstream stage. */
  key?: { id: string; label: string; secret: string }
  readonly attempts: AttemptRecord[]
  /** The gateway sets it when `request.body` was touched, so the upstream stage re-serialises it. */
  bodyChanged: boolean
  /** Scratch space for plugins, keyed by plugin name. */
  readonly state: Record<string, unknown>
  /** Runs once the answer has fully left (stream ended, failed or was cancelled). */
  onFinish(callback: (error?: unknown) => void): void
}

/** A fresh request context plus the function that runs its finish callbacks (once). */
export function createContext(
  request: GatewayRequest,
  deps: { services: ServiceRegistry; logger: ConsolaInstance },
  signal: AbortSignal,
): { ctx: RequestContext; finish: (error?: unknown) => void } {
  const finishers: ((error?: unknown) => void)[] = []
  const ctx: RequestContext = {
    id: newRequestId(),
    startedAt: performance.now(),
    request,
    signal,
    services: deps.services,
    attempts: [],
    bodyChanged: false,
    state: {},
    onFinish: (callback) => void finishers.push(callback),
  }
  const finish = (error?: unknown) => {
    for (const callback of finishers.splice(0)) {
      try {
        callback(error)
      } catch (failure) {
        deps.logger.error('a finish callback failed', failure)
      }
    }
  }
  return { ctx, finish }
}
