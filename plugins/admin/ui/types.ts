// The JSON the admin API answers with. The shapes come from core/views.ts and storage/queries.ts, files of types only
// (the modules that use them are server code the browser's type check must not pull in); what is declared here is
// what only the console's routes put together.
import type { ErrorLogEntry, LatencyPercentiles, RequestLogEntry, SeriesPoint, UsageCounts, UsageRow } from '../../../storage/queries.ts'
import type { KeyEvent, KeyState, KeyView, TokenView } from '../../../core/views.ts'

export type {
  ClientLimits,
  ImportPreview,
  JobView,
  KeyActionResult,
  KeyEvent,
  KeyState,
  KeyView,
  ProxyCheckResult,
  SettingsSaveResult,
  SettingView,
  TokenRow,
  TokenUsage,
  TokenView,
  VerifyResult,
} from '../../../core/views.ts'

export type { ErrorLogDetail, ErrorLogEntry, LogPage, RequestLogEntry, SeriesPoint, UsageCounts, UsageRow } from '../../../storage/queries.ts'

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
