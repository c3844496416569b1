// Public API of the fake Gemini upstream. Other test suites and the benchmark code against these types.

import type { FakeLive } from './live.ts'
import type { FakeResources } from './resource-store.ts'

export interface FakeUpstreamOptions {
  /** Delay before response headers, every request (default 0). */
  latencyMs?: number
  /** Chunks per streamGenerateContent answer (default 3). */
  streamChunks?: number
  /** Delay between stream chunks (default 0). */
  chunkIntervalMs?: number
  host?: string
  port?: number
  /** Keep every request in `requests` (default true). The benchmark turns it off so memory stays flat. */
  recordRequests?: boolean
  /**
   * Refuse bodies as Google does (default true): 400 for an unknown or wrongly typed top-level field (the name
   * echoed), 403 for a Files API URI of a file the key does not own (resources.ts). False accepts any body.
   */
  strictRequests?: boolean
  /**
   * Answer as Vertex AI in express mode instead (see vertex.ts): models under /v1beta1/publishers/google (`url` ends
   * there), the model list and get refused to API keys, errors in Vertex's words. Default false.
   */
  vertex?: boolean
}

export type Behaviour =
  | 'ok'
  | 'invalid-key' // 400 INVALID_ARGUMENT, ErrorInfo API_KEY_INVALID
  | 'suspended' // 403 PERMISSION_DENIED, ErrorInfo CONSUMER_SUSPENDED
  | 'leaked' // 403 PERMISSION_DENIED "Your API key was reported as leaked..." (no details)
  | 'service-disabled' // 403 PERMISSION_DENIED, Help + ErrorInfo SERVICE_DISABLED
  | 'rate-minute' // 429, 2025 format: QuotaFailure GenerateRequestsPerMinutePerProjectPerModel-FreeTier, Help, RetryInfo
  | 'rate-day' // 429, 2026 format: Help, QuotaFailure ...PerDay..., RetryInfo; message ends "Please retry in 38.90923309s."
  | 'rate-bare' // 429 "Resource has been exhausted (e.g. check quota)." without details
  | 'rate-tokens' // 429, 2025 format: QuotaFailure GenerateContentInputTokensPerModelPerMinute-FreeTier
  | 'internal' // 500 INTERNAL
  | 'overloaded' // 503 UNAVAILABLE "The model is overloaded. Please try again later."
  | 'deadline' // 504 DEADLINE_EXCEEDED
  | 'location' // 400 FAILED_PRECONDITION "User location is not supported for the API use."
  | 'slow' // waits slowMs (default 5000) before headers, then answers normally
  | 'reset-before-headers' // destroys the socket before any byte
  | 'reset-mid-stream' // destroys the socket after the first stream chunk (non-stream: after half the body)
  | 'empty' // 200, candidate content without parts (finishReason STOP); stream: 200 with zero events
  | 'blocked' // 200, promptFeedback.blockReason SAFETY, no candidates
  | 'truncated-stream' // stream ends cleanly after some chunks but without any finishReason

/**
 * Answered verbatim. `json` is pretty-printed as Google does (a string is sent as-is);
 * `chunks` are streamed as SSE events (or as the JSON array without alt=sse; a string chunk is
 * sent as-is, so malformed data can be scripted). For a streaming request without `chunks`,
 * `json` is the body (status >= 400: an error body with Content-Type text/event-stream; else one event).
 * For a unary request `json` is the body (`chunks` are ignored).
 */
export interface ScriptedAnswer {
  status?: number
  json?: unknown
  chunks?: unknown[]
  headers?: Record<string, string>
}

export interface RecordedRequest {
  method: string
  /** Path without the query string, e.g. "/v1beta/models/gemini-2.5-flash:generateContent". */
  path: string
  query: Record<string, string>
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>
  body: string
  key: string | undefined
  /** Model from the path ("gemini-2.5-flash"), or from the body's `model` on /v1beta/openai/ paths. */
  model?: string
  /** Method after ":" in the path ("generateContent", "streamGenerateContent", ...), or the path
   *  after /v1beta/openai/ ("chat/completions"). Undefined for GET /models and GET /models/{model}. */
  action?: string
}

export interface BehaviourOptions {
  /** Only the next N requests of that key; then back to the key's permanent setting (or the default). */
  times?: number
  /** 429 behaviours: the RetryInfo delay (and, for rate-day, the "Please retry in ..." message). */
  retryDelaySeconds?: number
  /** 'slow': delay before headers (default 5000). */
  slowMs?: number
}

export interface FakeUpstream {
  /** Base URL to use as BASE_URL, e.g. "http://127.0.0.1:PORT/v1beta". */
  url: string
  /** "http://127.0.0.1:PORT" */
  origin: string
  /** Every request received, in order (bodies as text). The same array for the server's lifetime. */
  requests: RecordedRequest[]
  /**
   * Per API key. Without `times` it is the key's permanent setting. With `times` it applies to the
   * next N requests of that key only; timed settings (behaviours and scripts) queue up first-in
   * first-out and always run before the permanent setting.
   */
  setBehaviour(key: string, behaviour: Behaviour, options?: BehaviourOptions): void
  /** Per key: answer exactly this (same `times` rules as setBehaviour). */
  script(key: string, answer: ScriptedAnswer, options?: { times?: number }): void
  /** Behaviour for keys without a permanent setting (initially 'ok'). */
  setDefaultBehaviour(b: Behaviour): void
  /** Files, caches, batches, operations and file search stores, each owned by the key that made it (resources.ts). */
  resources: FakeResources
  /** The Live API's WebSocket endpoint on the same port (see live.ts); keys behave there as set here. */
  live: FakeLive
  /** Clears behaviours, scripts, the default behaviour and recorded requests. */
  reset(): void
  /** Closes the server and all sockets (open streams are cut). */
  close(): Promise<void>
}
