// What the gateway shows an operator (the console's API answers): data shapes only, importing nothing but storage's
// row shapes, so the browser app (plugins/admin/ui, no Node types) type-checks against the very same declarations.
import type { ClientLimits } from '../storage/queries.ts'

export type { ClientLimits }

// Keys (core/control/keys.ts)

export type KeyState = 'healthy' | 'cooling' | 'disabled'

export interface KeyView {
  /** The deployment's id of the key (HMAC): what every API call names it by. */
  id: string
  /** Masked secret (`AIza...x9Qk`). */
  label: string
  /** 'gemini' for the gateway's own pool (API_KEYS and keys added here); a plugin's name for its pool ('vertex-express', 'image-generation'). */
  pool: string
  /** 'config' (API_KEYS, gateway.config.ts or a plugin's option: removed there, not here) or 'console' (added here). */
  source: 'config' | 'console'
  /** healthy: serves every model; cooling: at least one model is cooling down; disabled: serves nothing until re-enabled. */
  state: KeyState
  /** byOperator: taken out by an operator (only an operator's enable or reset brings it back). */
  disabled?: { reason: string; at: number; byOperator: boolean }
  cooldowns: Array<{ model: string; until: number; reason: string }>
  /** Ambiguous failures since the last success; MAX_FAILURES of them disable the key. */
  strikes: number
  lastFailure?: { at: number; reason: string }
  /** A verify or a scheduled re-check is running for it now. */
  checking: boolean
}

export interface VerifyResult {
  id: string
  /** Google accepted the key (a rate limit or an exhausted quota proves that too). */
  ok: boolean
  /** The judge's class of the probe ('ok', 'invalid-key', 'rate-limited', ...). */
  class: string
  status: number | null
  /** Why, in words (Google's message, with any key in it masked). */
  message: string
  /** The key's state after the verdict was applied. */
  state: KeyState
}

export interface KeyActionResult {
  /** Ids the action applied to. */
  done: string[]
  /** Ids no pool holds. */
  notFound: string[]
  /** Ids it could not apply to, with why (a key from API_KEYS cannot be deleted here). */
  refused: Array<{ id: string; reason: string }>
}

// Settings (core/control/settings.ts)

export type SettingType = 'string' | 'number' | 'boolean' | 'list' | 'json' | 'enum'

export interface SettingView {
  /** Config path: 'maxRetries', 'streamOptimizer.enabled', 'plugins.search.enabled', 'plugins.search.models'. */
  path: string
  /** 'Upstream', 'Keys', 'Models', 'Logging', 'Schedule', 'Storage', 'Server', or 'Plugin: <name>'. */
  group: string
  /** What it does (README wording). */
  doc: string
  type: SettingType
  /** For 'enum'. */
  options?: string[]
  /** The effective value; a secret is masked ('••••9f2a'; each item of a secret list). */
  value: unknown
  secret: boolean
  source: 'default' | 'file' | 'console' | 'env'
  /** The gemini-balance variable that sets it, when there is one. */
  env?: string
  /** Set by the environment: read-only in the console. */
  pinned: boolean
  /** Applies without a restart (false for host, port, dataDir, database, redisUrl). */
  live: boolean
}

export interface SettingsSaveResult {
  /** Paths saved and applied. */
  applied: string[]
  /** Path → why it was refused (nothing is saved when any value is refused). */
  errors: Record<string, string>
  /** Saved but effective only after a restart. */
  restartNeeded: string[]
}

export interface ImportPreview {
  changes: Array<{ path: string; env: string; from: unknown; to: unknown; secret: boolean; pinned: boolean }>
  /** Variables of the file that gemgate does not know. */
  unknown: string[]
  /** Variables whose value does not parse, with why. */
  errors: Record<string, string>
  /** Variables gemgate knows but an import does not take, with why (keys and tokens have pages of their own). */
  skipped: Record<string, string>
}

// Key events (core/keys/events.ts)

/** Something that happened to a key's health: what the console's feed and the gateway's log show. */
export interface KeyEvent {
  /** Increases by one per event, from 1 at each start of the gateway. */
  id: number
  /** Epoch ms. */
  at: number
  keyId: string
  /** Masked secret. */
  label: string
  /** The pool the key belongs to: 'gemini' for the gateway's own, a plugin's name for its pool. */
  pool: string
  /** disabled: out of rotation; cooled: out for one model until `until`; restored: a cooldown ran out; enabled: back in rotation; reset: an operator cleared it. */
  kind: 'disabled' | 'cooled' | 'restored' | 'enabled' | 'reset'
  /** For cooled and restored. */
  model?: string
  /** For cooled: epoch ms. */
  until?: number
  reason: string
}

// Jobs (core/scheduler.ts)

export interface JobView {
  name: string
  description: string
  schedule: string | null
  timezone: string
  paused: boolean
  running: boolean
  /** `elsewhere`: another instance ran it; what it reported is shown once it arrives. */
  lastRun?: { at: number; durationMs: number; ok: boolean; summary?: string; error?: string; elsewhere?: true }
  /** Epoch ms; null when paused or on demand only. */
  nextRun: number | null
}

// Proxies (core/upstream/proxy-check.ts)

export interface ProxyCheckResult {
  /** Position in PROXIES. */
  index: number
  /** The proxy URL with its credentials masked. */
  proxy: string
  /** The target answered through the proxy (any HTTP status: the API root answers 404, and that still proves the way). */
  ok: boolean
  /** From sending to the answer's headers, through a new connection; null when no answer came. */
  latencyMs: number | null
  status?: number
  /** Why no answer came (credentials masked). */
  error?: string
  checkedAt: number
}

// Client tokens (core/control/tokens.ts)

export interface TokenView {
  id: string
  /** An operator's name for it ('ALLOWED_TOKENS #2' for the plain configured ones). */
  name: string
  /** Masked. */
  label: string
  /** 'config': ALLOWED_TOKENS, AUTH_TOKEN or clientTokens in gateway.config.ts (changed there); 'console': made in the console. */
  source: 'config' | 'console'
  enabled: boolean
  createdAt?: number
  /** What it may do; a field left out is no limit (`{}`: none at all). */
  limits: ClientLimits
}

/** A token's use in the current UTC day and month, from the statistics (which lag the counters by a log batch). */
export interface TokenUsage {
  requestsToday: number
  tokensToday: number
  tokensThisMonth: number
}

/** A row of the console's token list: the token and its usage. */
export interface TokenRow extends TokenView {
  usage: TokenUsage
}
