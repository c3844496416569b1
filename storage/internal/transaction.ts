// Several statements that must land together or not at all (request rows and their rollups). db0 has no
// transaction API, and its MySQL handle is a pool where consecutive statements may take different connections, so
// this goes below db0: one pool connection for MySQL; the SQLite handle itself, run synchronously so that no other
// query of the process can slip in between BEGIN and COMMIT.
import type { Primitive } from 'db0'
import type { Pool, PoolConnection } from 'mysql2/promise'
import type { GatewayDatabase } from '../db.ts'

export interface Statement {
  sql: string
  params: Primitive[]
}

/** better-sqlite3 and bun:sqlite share this much. */
interface SqliteHandle {
  prepare(sql: string): PreparedStatement
  transaction(run: () => void): () => void
}
interface PreparedStatement {
  run(...params: Primitive[]): unknown
}

// The log writer sends the same few statements again and again (a full batch's INSERT, an upsert per group count):
// compiling a 200-row INSERT anew cost more than a tenth of writing it. Few are kept, the most recently used: such a
// statement holds ~250 KB, and a batch of any other size (traffic below the batch size) is a statement of its own.
const MAX_CACHED_STATEMENTS = 6
const cached = new WeakMap<SqliteHandle, Map<string, PreparedStatement>>()

function prepared(sqlite: SqliteHandle, sql: string): PreparedStatement {
  let cache = cached.get(sqlite)
  if (!cache) cached.set(sqlite, (cache = new Map()))
  let statement = cache.get(sql)
  if (statement) cache.delete(sql)
  else {
    statement = sqlite.prepare(sql)
    if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value!)
  }
  cache.set(sql, statement)
  return statement
}

/** Runs the statements in one transaction; rejects (with nothing written) when any of them fails. */
export async function runInTransaction(database: GatewayDatabase, statements: readonly Statement[]): Promise<void> {
  if (database.db.disposed) throw new Error('the database is closed')
  if (database.dialect === 'sqlite') {
    const sqlite = (await database.db.getInstance()) as SqliteHandle
    sqlite.transaction(() => {
      for (const { sql, params } of statements) prepared(sqlite, sql).run(...params)
    })()
    return
  }
  const pool = (await database.db.getInstance()) as Pool
  const connection = await pool.getConnection()
  let healthy = true
  try {
    await connection.beginTransaction()
    for (const { sql, params } of statements) await connection.query(sql, params)
    await connection.commit()
  } catch (error) {
    healthy = await rollback(connection)
    throw error
  } finally {
    // A connection whose rollback failed may still hold the transaction open: never hand it to the next query.
    if (healthy) connection.release()
    else connection.destroy()
  }
}

async function rollback(connection: PoolConnection): Promise<boolean> {
  try {
    await connection.rollback()
    return true
  } catch {
    return false
  }
}
