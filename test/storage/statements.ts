// Records the SQL a database handle runs, through db0 and below it (storage/internal/transaction.ts takes the
// SQLite handle or a MySQL pool connection for its transactions), and can make the next matching statement fail.
import { vi } from 'vitest'
import type { GatewayDatabase } from '../../storage/index.ts'

export interface Recorder {
  /** Every statement run since recording started, in order. */
  sql: string[]
  /** The table of each INSERT, in order. */
  inserts(): string[]
  restore(): void
}

type SqliteHandle = { prepare(sql: string): unknown }
type PreparedStatement = { database: SqliteHandle; source: string }
const RUN_METHODS = ['run', 'get', 'all', 'iterate'] as const
type RunMethod = (typeof RUN_METHODS)[number]
type MysqlPool = { getConnection(): Promise<{ query(sql: string, params?: unknown): Promise<unknown> }> }

export async function recordStatements(database: GatewayDatabase, options: { failOn?: RegExp } = {}): Promise<Recorder> {
  const sql: string[] = []
  let failOn = options.failOn
  const check = (statement: string) => {
    sql.push(statement)
    if (failOn?.test(statement)) {
      failOn = undefined // once
      throw new Error(`injected failure of: ${statement.slice(0, 60)}`)
    }
  }
  const spies: Array<{ mockRestore(): void }> = []
  const instance = (await database.db.getInstance()) as SqliteHandle | MysqlPool
  // Every statement of the handle runs through better-sqlite3's Statement methods, db0's and the log writer's
  // (which keeps its statements prepared): recording the runs sees each execution, however it was prepared.
  if (database.dialect === 'sqlite') {
    const handle = instance as SqliteHandle
    const statement = Object.getPrototypeOf(handle.prepare('SELECT 1')) as Record<RunMethod, (...params: unknown[]) => unknown>
    for (const method of RUN_METHODS) {
      const original = statement[method]
      spies.push(
        vi.spyOn(statement, method).mockImplementation(function (this: PreparedStatement, ...params: unknown[]) {
          if (this.database === handle) check(this.source)
          return original.apply(this, params)
        }),
      )
    }
  } else {
    const originalPrepare = database.db.prepare.bind(database.db)
    spies.push(
      vi.spyOn(database.db, 'prepare').mockImplementation((statement: string) => {
        check(statement)
        return originalPrepare(statement)
      }),
    )
    const pool = instance as MysqlPool
    const getConnection = pool.getConnection.bind(pool)
    spies.push(
      vi.spyOn(pool, 'getConnection').mockImplementation(async () => {
        const connection = await getConnection()
        const query = connection.query.bind(connection)
        // Own property on this checkout only; the pool hands the same object out again, so put it back on release.
        connection.query = async (statement: string, params?: unknown) => {
          check(statement)
          return query(statement, params)
        }
        const release = (connection as unknown as { release(): void }).release.bind(connection)
        ;(connection as unknown as { release(): void }).release = () => {
          delete (connection as { query?: unknown }).query
          delete (connection as { release?: unknown }).release
          release()
        }
        return connection
      }),
    )
  }
  return {
    sql,
    inserts: () => sql.map((statement) => statement.match(/^INSERT INTO (\w+)/)?.[1]).filter((table): table is string => table !== undefined),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  }
}
