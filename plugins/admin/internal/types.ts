// The console's view of the gateway, named once: every type comes from the plugin API (`ctx.control`), so the console
// is built on exactly what any plugin gets.
import type { ConsolaInstance } from 'consola'
import type { GatewayControl, KeyView } from 'gemgate'
import type { Guard } from './guard.ts'
import type { SessionStore } from './sessions.ts'

export type {
  AdminTokenControl,
  ErrorLogEntry,
  GatewayControl,
  JobView,
  KeyState,
  KeyView,
  LogFilter,
  RequestLogEntry,
  SettingView,
  TokenView,
  UsageCounts,
  UsageRow,
} from 'gemgate'

/** A key as the console lists it: its view and its traffic of the last 24 hours. */
export type KeyRow = KeyView & { usage: { requests: number; failures: number; totalTokens: number } }

/** What every route module of the console is given. */
export interface AdminDeps {
  control: GatewayControl
  logger: ConsolaInstance
  sessions: SessionStore
  guard: Guard
  /** Seconds a session lasts. */
  sessionExpireSeconds: number
}
