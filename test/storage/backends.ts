// Real databases for the storage tests: a temp-file SQLite and a fresh MariaDB database per test file, reached
// through a TCP relay that a test can cut (a dead server: connections drop, new ones are refused) and restore.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import mysql2 from 'mysql2/promise'
import { Relay } from './relay.ts'
import { openDatabase, type DatabaseOptions, type GatewayDatabase, type StoredToken } from '../../storage/index.ts'

export const MYSQL = { host: process.env.TEST_MYSQL_HOST ?? '127.0.0.1', port: Number(process.env.TEST_MYSQL_PORT ?? 3306), user: 'root', password: '' }
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export interface Backend {
  name: 'sqlite' | 'mysql'
  /** Called once per file (beforeAll): creates the temp dir / the fresh MariaDB database. */
  setup(): Promise<void>
  /** Called once per file (afterAll). */
  teardown(): Promise<void>
  open(): Promise<GatewayDatabase>
  /** What open() opens. */
  options(): DatabaseOptions
  /** Opens a fresh, empty database (a new SQLite file / wipes the MariaDB one) — for migration tests. */
  openFresh(): Promise<GatewayDatabase>
  /** Another connection takes the write lock on `table` and holds it until the returned function is called. */
  holdWriteLock(table: string): Promise<() => Promise<void>>
  /** The database becomes unusable for us until the returned function is called. */
  outage(): Promise<() => Promise<void>>
  /** Kills every server connection of ours (MariaDB) — the pool has to reconnect. */
  killConnections(): Promise<number>
}

function sqliteBackend(): Backend {
  let dir = ''
  let path = ''
  let fresh = 0
  return {
    name: 'sqlite',
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'gemgate-storage-'))
      path = join(dir, 'nested', 'gateway.sqlite3') // also checks that the directory gets created
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true })
    },
    open: () => openDatabase({ type: 'sqlite', path, busyTimeoutMs: 50 }),
    options: () => ({ type: 'sqlite', path, busyTimeoutMs: 50 }),
    openFresh: () => openDatabase({ type: 'sqlite', path: join(dir, `fresh-${++fresh}.sqlite3`), busyTimeoutMs: 50 }),
    async holdWriteLock() {
      const other = new Sqlite(path, { timeout: 1000 })
      other.exec('BEGIN IMMEDIATE') // a write transaction: our inserts get SQLITE_BUSY after busy_timeout
      return async () => {
        other.exec('COMMIT')
        other.close()
      }
    },
    async outage() {
      return this.holdWriteLock('request_logs')
    },
    async killConnections() {
      return 0
    },
  }
}

function mysqlBackend(): Backend {
  const database = `gemgate_t_${randomBytes(5).toString('hex')}`
  const relay = new Relay({ host: MYSQL.host, port: MYSQL.port })
  let admin: mysql2.Connection
  const options = (): DatabaseOptions => ({ type: 'mysql', ...MYSQL, port: relay.port, database, connectionLimit: 4 })
  return {
    name: 'mysql',
    async setup() {
      admin = await mysql2.createConnection({ ...MYSQL })
      await admin.query(`CREATE DATABASE ${database}`)
      await relay.up()
    },
    async teardown() {
      await relay.down()
      await admin.query(`DROP DATABASE IF EXISTS ${database}`)
      await admin.end()
    },
    open: () => openDatabase(options()),
    options,
    async openFresh() {
      await admin.query(`DROP DATABASE IF EXISTS ${database}`)
      await admin.query(`CREATE DATABASE ${database}`)
      return openDatabase(options())
    },
    async holdWriteLock(table) {
      const other = await mysql2.createConnection({ ...MYSQL, database })
      await other.query(`LOCK TABLES ${table} WRITE`)
      return async () => {
        await other.query('UNLOCK TABLES')
        await other.end()
      }
    },
    async outage() {
      await relay.down()
      return () => relay.up()
    },
    async killConnections() {
      const [rows] = await admin.query('SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()', [database])
      const ids = (rows as Array<{ id: number }>).map((r) => r.id)
      for (const id of ids) await admin.query(`KILL ${Number(id)}`).catch(() => {})
      return ids.length
    },
  }
}

export const backends = (): Backend[] => [sqliteBackend(), mysqlBackend()]

export async function count(database: GatewayDatabase, table: string, where = ''): Promise<number> {
  const row = (await database.db.prepare(`SELECT COUNT(*) AS n FROM ${table} ${where}`).get()) as { n: number | string }
  return Number(row.n)
}

export async function clearLogs(database: GatewayDatabase): Promise<void> {
  await database.db.exec('DELETE FROM request_logs')
  await database.db.exec('DELETE FROM error_logs')
}

/** A console client token as the token store keeps it (its digest, never the token), numbered `n`, its id `${prefix}-${n}`. */
export function storedToken(prefix: string, n: number, extra: Partial<StoredToken> = {}): StoredToken {
  return {
    id: `${prefix}-${n}`,
    name: `${prefix} ${n}`,
    sha256: n.toString(16).padStart(64, 'a'),
    label: `sk-…${n}`,
    enabled: true,
    createdAt: 1_764_000_000_000 + n,
    ...extra,
  }
}
