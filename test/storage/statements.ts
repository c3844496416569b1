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
  // db0's SQLite statements prepare on the same handle, so recording the handle sees everything once.
  if (database.dialect === 'sqlite') {
    const handle = instance as SqliteHandle
    const prepare = handle.prepare.bind(handle)
    spies.push(
      vi.spyOn(handle, 'prepare').mockImplementation((statement: string) => {
        check(statement)
        return prepare(statement)
      }),
    )
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
