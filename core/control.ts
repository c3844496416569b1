// The operator's capabilities over a running gateway: what the console (plugins/admin) is built on. Every plugin's
// context carries them (`ctx.control`); none of them hands out a secret unless the call says so (`reveal`).
import type { KeyQueries } from './control/keys.ts'
import type { SettingsControl } from './control/settings.ts'
import type { TokenControl } from './control/tokens.ts'
import type { AdminTokenControl } from './control/admin-token.ts'
import type { JobControl } from './scheduler.ts'
import type { KeyEvents } from './keys/events.ts'
import type { ProxyCheck } from './upstream/proxy-check.ts'
import type { LogQueries, StatsQueries } from '../storage/queries.ts'

export type { KeyView, KeyState, KeyQueries, KeyActionResult, VerifyResult } from './control/keys.ts'
export type { SettingView, SettingsControl, SettingsSaveResult, ImportPreview } from './control/settings.ts'
export type { TokenControl, TokenRow, TokenUsage, TokenView } from './control/tokens.ts'
export type { ClientLimits } from './views.ts'
export type { AdminTokenControl } from './control/admin-token.ts'
export type { JobView, JobControl } from './scheduler.ts'
export type { KeyEvent, KeyEvents } from './keys/events.ts'
export type { ProxyCheck, ProxyCheckResult } from './upstream/proxy-check.ts'
export type {
  ErrorLogDetail,
  ErrorLogEntry,
  LatencyPercentiles,
  LogFilter,
  LogPage,
  LogPageOptions,
  LogQueries,
  RequestLogEntry,
  SeriesPoint,
  StatsQueries,
  UsageCounts,
  UsageDimension,
  UsageRow,
} from '../storage/queries.ts'

export interface GatewayControl {
  readonly keys: KeyQueries
  readonly settings: SettingsControl
  readonly tokens: TokenControl
  readonly adminToken: AdminTokenControl
  readonly logs: LogQueries
  readonly stats: StatsQueries
  readonly jobs: JobControl
  readonly events: KeyEvents
  readonly proxies: ProxyCheck
  /** The plugins running now, in order. */
  readonly plugins: readonly string[]
}
