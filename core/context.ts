import type { ResolvedConfig } from './config/schema.ts'
import type { FailureClass, Operation } from './keys/judge.ts'
import type { Payload } from './payload.ts'
import type { ServiceRegistry } from './services.ts'

export type { Operation }

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
  /** The model sent upstream; plugins may rewrite it. Starts equal to `model`. */
  upstreamModel: string
  stream: boolean
  /** Gemini request body (generateContent, countTokens, embedContent, ... shape). Empty for GETs. */
  body: Record<string, any>
  /** The client's exact body text; forwarded as-is while `bodyChanged` is false. */
  rawBody?: string
  /** Upstream query parameters that belong to the operation (pageSize, pageToken). */
  query?: Record<string, string>
  /** Name of the dialect that decoded the request and will encode the answer. */
  dialect: string
  /**
   * Decoding work that must wait until the client is authenticated (fetching image URLs from messages, ...).
   * The transform stage runs it first; it may edit `body` (and sets ctx.bodyChanged itself if rawBody is set).
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
  readonly config: ResolvedConfig
  readonly services: ServiceRegistry
  client?: ClientIdentity
  /** The key of the attempt in flight; key-select sets it before each call to the upstream stage. */
  key?: { id: string; label: string; secret: string }
  readonly attempts: AttemptRecord[]
  /** True once the first byte of the answer went to the client: from then on nothing is retried. */
  committed: boolean
  /** Set by any stage that edits `request.body`, so the upstream stage re-serialises it. */
  bodyChanged: boolean
  /** Token usage of the answer, when the upstream reported it. */
  usage?: Usage
  /** Scratch space for plugins, keyed by plugin name. */
  readonly state: Record<string, unknown>
  /** Runs once the answer has fully left (stream ended, failed or was cancelled). */
  onFinish(callback: (error?: unknown) => void): void
}
