// The shapes the operator's console reads from the database: log rows and their filters, statistics from the
// rollups, console-added keys and client tokens, saved settings. Types only; each store implements its part.

/** A filter over request or error logs; every field optional, all given ones must hold. */
export interface LogFilter {
  /** Epoch ms, inclusive. */
  from?: number
  /** Epoch ms, exclusive. */
  to?: number
  keyId?: string
  /** Exact model name as logged. */
  model?: string
  /** Exact upstream status; 0 matches rows without one (no response). */
  status?: number
  failureClass?: string
  tokenId?: string
  requestId?: string
  /** Case-insensitive substring of the error body (error logs) or of model/operation (request logs); on MySQL accents are ignored too. */
  text?: string
}

export interface LogPage<T> {
  items: T[]
  /** Pass back as `before` for the next (older) page; absent on the last page. */
  nextBefore?: number
  /** Rows matching the filter (counted up to `countLimit`, then `totalCapped` is true). */
  total: number
  totalCapped: boolean
}

export interface LogPageOptions {
  /** Rows per page, 1-500, default 50. */
  limit?: number
  /** Newest first; only rows whose id is below this one (keyset paging, fast at any depth). */
  before?: number
  /** Ascending by id instead (oldest first); `before` then means "after". */
  ascending?: boolean
  /** Counting stops here so a filter over millions of rows stays fast; default 10 000. */
  countLimit?: number
}

export interface RequestLogEntry {
  id: number
  time: number
  requestId: string
  tokenId: string
  dialect: string
  operation: string
  model: string
  keyId: string
  attempt: number
  status: number | null
  failureClass: string
  latencyMs: number
  promptTokens: number | null
  completionTokens: number | null
  thinkingTokens: number | null
  totalTokens: number | null
}

export interface ErrorLogEntry {
  id: number
  time: number
  requestId: string
  tokenId: string
  keyId: string
  model: string
  operation: string
  status: number | null
  failureClass: string
}

export interface ErrorLogDetail extends ErrorLogEntry {
  errorBody: string
  requestBody: string | null
}

export interface LogQueries {
  requests(filter: LogFilter, page?: LogPageOptions): Promise<LogPage<RequestLogEntry>>
  errors(filter: LogFilter, page?: LogPageOptions): Promise<LogPage<ErrorLogEntry>>
  request(id: number): Promise<RequestLogEntry | undefined>
  error(id: number): Promise<ErrorLogDetail | undefined>
  /** The error row of a request row: same request id and key, time within ±10 s; undefined when none. */
  errorFor(request: RequestLogEntry): Promise<ErrorLogEntry | undefined>
  /** Deletes the rows with these ids, or every row when `ids` is 'all' (in bounded batches); returns how many. Statistics stay. */
  deleteRequests(ids: readonly number[] | 'all'): Promise<number>
  deleteErrors(ids: readonly number[] | 'all'): Promise<number>
}

/** Counts of one slice of traffic. `failures` is every attempt whose class is not 'ok'. */
export interface UsageCounts {
  requests: number
  failures: number
  /** Failed attempts by the judge's class ('rate-limited', 'invalid-key', ...). */
  byClass: Record<string, number>
  promptTokens: number
  completionTokens: number
  totalTokens: number
  latencyMsSum: number
}

export interface UsageRow extends UsageCounts {
  /** The key id, model name or token id the row is about (`by`). */
  id: string
}

export interface SeriesPoint extends UsageCounts {
  /** Epoch ms of the bucket start. */
  t: number
}

export type UsageDimension = 'key' | 'model' | 'token'

export interface LatencyPercentiles {
  p50: number | null
  p90: number | null
  p99: number | null
  /** Attempts the percentiles are computed over. */
  count: number
}

/** Statistics from the hourly rollups (and the request log for the current minute), which outlive log retention. */
export interface StatsQueries {
  /** Totals over [from, to). Ranges shorter than an hour, or not on hour boundaries, read the request log for the edges. */
  totals(from: number, to: number, filter?: { keyId?: string; model?: string; tokenId?: string }): Promise<UsageCounts>
  /** Totals grouped by key, model or client token over [from, to), largest `requests` first, at most `limit` (20) rows. */
  usage(by: UsageDimension, from: number, to: number, options?: { limit?: number; keyId?: string; model?: string }): Promise<UsageRow[]>
  /**
   * One point per bucket over [from, to). Buckets sit on multiples of `bucketMs` since the epoch (day buckets are UTC
   * days) and the first and last count whole. `bucketMs`: whole minutes dividing an hour (from the request log) or whole
   * hours; at most 10 000 points.
   */
  series(from: number, to: number, bucketMs: number, filter?: { keyId?: string; model?: string }): Promise<SeriesPoint[]>
  /**
   * Upstream latency percentiles over [from, to), from the rollups' latency buckets: a percentile is its bucket's upper
   * bound, capped at the slowest attempt seen (above 60 s: the slowest attempt). Requests refused before Google count not.
   */
  latency(from: number, to: number, filter?: { keyId?: string; model?: string }): Promise<LatencyPercentiles>
}

/** A key the operator added in the console (keys from API_KEYS and gateway.config.ts are not stored). */
export interface StoredKey {
  secret: string
  /** 'gemini' for the gateway's own pool; a plugin's pool name otherwise. */
  pool: string
  addedAt: number
}

export interface KeyStore {
  list(): Promise<StoredKey[]>
  /** Adds keys not stored yet (same pool and secret); returns the ones it added. */
  add(pool: string, secrets: readonly string[]): Promise<StoredKey[]>
  /** Removes these secrets from `pool`; returns how many were stored. */
  remove(pool: string, secrets: readonly string[]): Promise<number>
}

/**
 * What a client token may do (core/clients/limits.ts enforces it). Every field is optional: absent, there is no such
 * limit. Counts are whole numbers of at least 1; minutes, days and months are UTC.
 */
export interface ClientLimits {
  /** Models it may ask for: exact ids, or a prefix ending in `*` (`gemini-2.5-*`). Absent or empty: every model. */
  models?: string[]
  /** Requests per minute. */
  rpm?: number
  /** Requests per day. */
  rpd?: number
  /** Tokens (the answers' total token counts) per day. */
  tokensPerDay?: number
  /** Tokens per calendar month. */
  tokensPerMonth?: number
  /** Epoch ms from which the token is refused. */
  expiresAt?: number
}

/** A client token created in the console: only its SHA-256 is stored, the token itself is shown once. */
export interface StoredToken {
  /** The deployment's id of the token (HMAC), as logs show it. */
  id: string
  name: string
  /** Hex SHA-256 of the token: what the authenticator looks up. */
  sha256: string
  /** Masked, for lists. */
  label: string
  enabled: boolean
  createdAt: number
  /** Absent when it has none (a list leaves it out then). */
  limits?: ClientLimits
}

export interface TokenStore {
  list(): Promise<StoredToken[]>
  /** Throws when the id or the sha256 is stored already; sha256 is kept in lower case. */
  add(token: StoredToken): Promise<void>
  remove(ids: readonly string[]): Promise<number>
  setEnabled(id: string, enabled: boolean): Promise<boolean>
  /** Replaces the token's limits (`{}` lifts them all); false when no token has this id. Throws on a value out of bounds. */
  setLimits(id: string, limits: ClientLimits): Promise<boolean>
}

/**
 * Settings saved in the console: config paths ('maxRetries', 'plugins.search.models') to JSON values. Names starting with
 * '_' are the gateway's own rows (refused here); a stored value that is not JSON loads as its text.
 */
export interface SettingsStore {
  load(): Promise<Record<string, unknown>>
  /** Upserts each value. */
  save(values: Record<string, unknown>): Promise<void>
  remove(names: readonly string[]): Promise<void>
  /**
   * A number that changes whenever the console changed settings, keys or tokens (`touch`): an instance that sees it move
   * reloads, even when the message from the instance that made the change never reached it.
   */
  version(): Promise<number>
  touch(): Promise<void>
}
