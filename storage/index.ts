// storage/: the bottom layer. It imports nothing from core/ or plugins/.
export {
  openDatabase,
  openDatabaseWhenReachable,
  DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
  type DatabaseOptions,
  type GatewayDatabase,
  type ReconnectOptions,
} from './db.ts'
export {
  obtainDeploymentSecret,
  DEPLOYMENT_SECRET_FILE,
  DEPLOYMENT_SECRET_SETTING,
  type DeploymentSecret,
  type DeploymentSecretOptions,
} from './deployment-secret.ts'
export { migrate, MIGRATIONS, type Migration } from './migrations.ts'
export { createLogWriter, type ErrorLogRow, type LogWriter, type LogWriterLogger, type LogWriterOptions, type RequestLogRow } from './log-writer.ts'
export {
  deleteOlderThan,
  scheduleRetention,
  type DeleteOptions,
  type LogTable,
  type RetentionOptions,
  type RetentionPolicy,
  type RetentionSchedule,
} from './retention.ts'
export { createStateStorage, type StateStorageOptions } from './state.ts'
export { writeRequestRows, LATENCY_BOUNDS_MS, HOUR_MS, DAY_MS } from './rollups.ts'
export { createStatsQueries, percentiles } from './stats.ts'
export { createLogQueries } from './log-queries.ts'
export { createKeyStore } from './key-store.ts'
export { createTokenStore } from './token-store.ts'
export { createSettingsStore } from './settings-store.ts'
export type { StoreOptions } from './internal/sql.ts'
export type * from './queries.ts'
