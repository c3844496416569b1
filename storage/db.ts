// Opens the gateway's relational database (SQLite by default, MySQL/MariaDB as a switch) through db0,
// and brings its schema up to date, now or, when the server is down at start, as soon as it is back. Nothing here
// runs on the request path.
import { consola } from 'consola'
import { createDatabase, type Connector, type Database } from 'db0'
import { migrate } from './migrations.ts'

export type DatabaseOptions =
  | {
      type: 'sqlite'
      /** A file path (its directory is created when missing) or ':memory:'. */
      path: string
      /**
       * How long a write waits for another process's lock before failing with SQLITE_BUSY. better-sqlite3 is
       * synchronous, so this wait blocks the event loop; keep it short. A failed log batch is simply retried.
       * Default 250 ms.
       */
      busyTimeoutMs?: number
    }
  | {
      type: 'mysql'
      host: string
      port: number
      user: string
      password: string
      database: string
      /** A unix socket path; when set it is used instead of host/port. */
      socket?: string
      /** Pool size, default 10. */
      connectionLimit?: number
    }

export interface GatewayDatabase {
  db: Database
  dialect: 'sqlite' | 'mysql'
  /** Resolves once the database answers and its schema is up to date (at once from openDatabase). Never rejects. */
  ready: Promise<void>
  isReady(): boolean
  /** Closes the database (the whole mysql2 pool) and stops reconnecting. Safe to call twice. */
  close(): Promise<void>
}

export interface ReconnectOptions {
  /** Wait before the first retry, default 1000 ms; it doubles on each failure up to maxDelayMs (default 30 s). */
  firstDelayMs?: number
  maxDelayMs?: number
  logger?: { warn(...args: unknown[]): void; info(...args: unknown[]): void }
}

export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 250

/** Connects, applies pending migrations and returns the handle. Fails (and releases everything) when it can't. */
export async function openDatabase(options: DatabaseOptions): Promise<GatewayDatabase> {
  const database = handle(options.type === 'sqlite' ? await openSqlite(options) : await openMysql(options))
  try {
    await prepare(database, options)
  } catch (error) {
    await database.close().catch(() => {})
    throw error
  }
  database.markReady()
  return database
}

/**
 * Like openDatabase, but a MySQL server that is down (or refuses us) does not stop the start: the handle comes
 * back after one attempt, queries fail meanwhile (the log writer keeps its rows queued and retries), and connecting
 * and migrating are retried in the background with backoff until they work; then `ready` resolves. The outage and
 * the recovery are logged once each. A SQLite file is local, so failing to open it is a setup error and fails here.
 */
export async function openDatabaseWhenReachable(options: DatabaseOptions, reconnect: ReconnectOptions = {}): Promise<GatewayDatabase> {
  if (options.type === 'sqlite') return openDatabase(options)
  let timer: NodeJS.Timeout | undefined
  const database = handle(await openMysql(options), () => clearTimeout(timer))
  const logger = reconnect.logger ?? consola.withTag('storage')
  const firstDelayMs = reconnect.firstDelayMs ?? 1000
  const maxDelayMs = reconnect.maxDelayMs ?? 30_000

  const attempt = async (failures: number): Promise<void> => {
    try {
      await prepare(database, options)
    } catch (error) {
      if (database.db.disposed) return
      if (failures === 0) {
        logger.warn(
          `database ${describe(options)} unavailable (${(error as Error).message}); serving anyway: logs stay queued in memory, and connecting is retried in the background`,
        )
      }
      timer = setTimeout(() => void attempt(failures + 1), Math.min(maxDelayMs, firstDelayMs * 2 ** Math.min(failures, 20)))
      timer.unref()
      return
    }
    database.markReady()
    if (failures > 0) logger.info(`database ${describe(options)} reachable again after ${failures + 1} attempt(s); schema up to date`)
  }
  await attempt(0)
  return database
}

const describe = (options: Extract<DatabaseOptions, { type: 'mysql' }>) =>
  options.socket ? `mysql:${options.socket}` : `mysql://${options.host}:${options.port}/${options.database}`

async function prepare(database: GatewayDatabase, options: DatabaseOptions): Promise<void> {
  if (database.dialect === 'sqlite') await configureSqlite(database.db, options)
  else await database.db.exec('SELECT 1')
  await migrate(database)
}

interface Connection {
  db: Database
  dialect: 'sqlite' | 'mysql'
}

function handle({ db, dialect }: Connection, onClose?: () => void): GatewayDatabase & { markReady(): void } {
  let closing: Promise<void> | undefined
  let ready = false
  let resolveReady!: () => void
  return {
    db,
    dialect,
    ready: new Promise<void>((resolve) => (resolveReady = resolve)),
    isReady: () => ready,
    markReady() {
      ready = true
      resolveReady()
    },
    close() {
      onClose?.()
      // Ending a pool whose server is gone rejects with the connect error; there is nothing left to release then.
      return (closing ??= db.dispose().catch(() => {}))
    },
  }
}

function isBun(): boolean {
  return typeof (process.versions as Record<string, string | undefined>).bun === 'string'
}

async function openSqlite(options: Extract<DatabaseOptions, { type: 'sqlite' }>): Promise<Connection> {
  const target = options.path === ':memory:' ? { name: ':memory:' } : { path: options.path }
  let connector: Connector
  if (isBun()) {
    // better-sqlite3 cannot load on Bun; bun:sqlite speaks the same SQL.
    const { default: bunSqlite } = await import('db0/connectors/bun-sqlite')
    connector = bunSqlite(target)
  } else {
    const { default: betterSqlite } = await import('db0/connectors/better-sqlite3')
    connector = betterSqlite(target)
  }
  return { db: createDatabase(connector), dialect: 'sqlite' }
}

async function configureSqlite(db: Database, options: DatabaseOptions): Promise<void> {
  const busy = options.type === 'sqlite' ? (options.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS) : 0
  // WAL: readers (admin UI) never block the writer; NORMAL sync is durable across process crashes in WAL mode.
  await db.exec('PRAGMA journal_mode = WAL')
  await db.exec('PRAGMA synchronous = NORMAL')
  await db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busy))}`)
}

async function openMysql(options: Extract<DatabaseOptions, { type: 'mysql' }>): Promise<Connection> {
  const mysql2 = await import('mysql2/promise')
  const { default: mysqlConnector } = await import('db0/connectors/mysql2')
  // db0's stock connector holds one connection forever and dies with it; hand it a pool instead. The connector
  // only calls query() and end(), which a pool has too; the pool replaces connections the server drops.
  const pool = mysql2.createPool({
    ...(options.socket ? { socketPath: options.socket } : { host: options.host, port: options.port }),
    user: options.user,
    password: options.password,
    database: options.database,
    connectionLimit: options.connectionLimit ?? 10,
    waitForConnections: true,
    queueLimit: 0,
    enableKeepAlive: true,
    keepAliveInitialDelay: 30_000,
    connectTimeout: 10_000,
    charset: 'utf8mb4_unicode_ci',
    // Numbers back as numbers (BIGINT epoch ms stay exact below 2^53); SUM()/AVG() come back as DECIMAL strings.
    supportBigNumbers: false,
    dateStrings: true,
  })
  const connector = mysqlConnector({ lib: { createConnection: async () => pool } as unknown as typeof mysql2 })
  return { db: createDatabase(connector), dialect: 'mysql' }
}
