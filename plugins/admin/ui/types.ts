// The JSON the admin API answers with (/work/notes/admin-spec.md, "Admin HTTP API"). The shapes of rows and
// statistics come from storage/queries.ts, a file of types only; the others are restated here because the modules
// that define them (core/control/*, core/keys/events.ts, core/scheduler.ts) are server code the browser's type check
// must not pull in. Keep them in step with those modules.
import type { ErrorLogEntry, LatencyPercentiles, RequestLogEntry, SeriesPoint, UsageCounts, UsageRow } from '../../../storage/queries.ts'

export type { ErrorLogDetail, ErrorLogEntry, LogPage, RequestLogEntry, SeriesPoint, UsageCounts, UsageRow } from '../../../storage/queries.ts'

// core/control/keys.ts

export type KeyState = 'healthy' | 'cooling' | 'disabled'

export interface KeyView {
  id: string
  /** Masked secret. */
  label: string
  pool: string
  source: 'config' | 'console'
  state: KeyState
  disabled?: { reason: string; at: number }
  cooldowns: Array<{ model: string; until: number; reason: string }>
  strikes: number
  lastFailure?: { at: number; reason: string }
  checking: boolean
}

export interface VerifyResult {
  id: string
  ok: boolean
  class: string
  status: number | null
  message: string
  state: KeyState
}

export interface KeyActionResult {
  done: string[]
  notFound: string[]
  refused: Array<{ id: string; reason: string }>
}

// core/control/settings.ts

export interface SettingView {
  path: string
  group: string
  doc: string
  type: 'string' | 'number' | 'boolean' | 'list' | 'json' | 'enum'
  options?: string[]
  /** A secret's is masked. */
  value: unknown
  secret: boolean
  source: 'default' | 'file' | 'console' | 'env'
  env?: string
  pinned: boolean
  live: boolean
}

export interface SettingsSaveResult {
  applied: string[]
  errors: Record<string, string>
  restartNeeded: string[]
}

export interface ImportPreview {
  changes: Array<{ path: string; env: string; from: unknown; to: unknown; secret: boolean; pinned: boolean }>
  unknown: string[]
  errors: Record<string, string>
}

// core/control/tokens.ts

export interface TokenView {
  id: string
  name: string
  /** Masked. */
  label: string
  source: 'config' | 'console'
  enabled: boolean
  createdAt?: number
}

// core/keys/events.ts

export interface KeyEvent {
  id: number
  at: number
  keyId: string
  label: string
  pool: string
  kind: 'disabled' | 'cooled' | 'restored' | 'enabled' | 'reset'
  model?: string
  until?: number
  reason: string
}

export interface Session {
  csrfToken: string
  expiresAt: number
  adminTokenSource: 'env' | 'file' | 'generated'
  /** Names of the enabled plugins. */
  plugins: string[]
}

export interface KeyRow extends KeyView {
  /** Last 24 hours. */
  usage: { requests: number; failures: number; totalTokens: number }
}

export type KeyStateFilter = 'all' | KeyState

export interface KeyPage {
  items: KeyRow[]
  total: number
  page: number
  pages: number
  counts: Record<KeyStateFilter, number>
  pools: string[]
}

export interface KeyDetail extends KeyRow {
  models: UsageRow[]
  periods: { hour: UsageCounts; day: UsageCounts; month: UsageCounts }
  recentErrors: ErrorLogEntry[]
}

export type Range = '1h' | '24h' | '7d' | '30d'

export interface Overview {
  windows: { minute: UsageCounts; hour: UsageCounts; day: UsageCounts; month: UsageCounts }
  keys: { total: number; healthy: number; cooling: number; disabled: number }
  latency: LatencyPercentiles
  attention: KeyRow[]
  cooldowns: Array<{ id: string; label: string; model: string; until: number; reason: string }>
  events: KeyEvent[]
}

export interface Series {
  bucketMs: number
  points: SeriesPoint[]
}

export type LabeledUsageRow = UsageRow & { label: string }

export type LogRow<T> = T & { keyLabel: string; tokenName: string }
export type RequestLogRow = LogRow<RequestLogEntry>
export type ErrorLogRow = LogRow<ErrorLogEntry>

export interface TokenCreated {
  token: string
  view: TokenView
}

// core/scheduler.ts and core/upstream/proxy-check.ts

export interface JobView {
  name: string
  description: string
  schedule: string | null
  timezone: string
  paused: boolean
  running: boolean
  lastRun?: { at: number; durationMs: number; ok: boolean; summary?: string; error?: string }
  nextRun: number | null
}

export interface ProxyCheckResult {
  index: number
  /** Credentials masked. */
  proxy: string
  ok: boolean
  latencyMs: number | null
  status?: number
  error?: string
  checkedAt: number
}

/** The judge's classes (core/keys/judge.ts), for the log filter. */
export const FAILURE_CLASSES = [
  'ok',
  'rate-limited',
  'quota-exhausted',
  'invalid-key',
  'model-unavailable',
  'upstream-error',
  'transport-error',
  'client-error',
  'client-cancelled',
  'empty-answer',
  'ambiguous',
  'gateway-error',
] as const
