// Opens the gateway's relational database (SQLite by default, MySQL/MariaDB as a switch) through db0,
// and brings its schema up to date. Nothing here runs on the request path.
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
  /** Closes the database (the whole mysql2 pool). Safe to call twice. */
  close(): Promise<void>
}

export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 250

/** Connects, applies pending migrations and returns the handle. Fails (and releases everything) when it can't. */
export async function openDatabase(options: DatabaseOptions): Promise<GatewayDatabase> {
  const database = options.type === 'sqlite' ? await openSqlite(options) : await openMysql(options)
  try {
    if (database.dialect === 'sqlite') await configureSqlite(database.db, options)
    else await database.db.exec('SELECT 1')
    await migrate(database)
  } catch (error) {
    await database.close().catch(() => {})
    throw error
  }
  return database
}

function wrap(db: Database, dialect: 'sqlite' | 'mysql'): GatewayDatabase {
  let closing: Promise<void> | undefined
  return {
    db,
    dialect,
    close: () => (closing ??= db.dispose()),
  }
}

function isBun(): boolean {
  return typeof (process.versions as Record<string, string | undefined>).bun === 'string'
}

async function openSqlite(options: Extract<DatabaseOptions, { type: 'sqlite' }>): Promise<GatewayDatabase> {
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
  return wrap(createDatabase(connector), 'sqlite')
}

async function configureSqlite(db: Database, options: DatabaseOptions): Promise<void> {
  const busy = options.type === 'sqlite' ? (options.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS) : 0
  // WAL: readers (admin UI) never block the writer; NORMAL sync is durable across process crashes in WAL mode.
  await db.exec('PRAGMA journal_mode = WAL')
  await db.exec('PRAGMA synchronous = NORMAL')
  await db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busy))}`)
}

async function openMysql(options: Extract<DatabaseOptions, { type: 'mysql' }>): Promise<GatewayDatabase> {
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
  return wrap(createDatabase(connector), 'mysql')
}
