// What every console store does around a query: wait (a bounded time) for a database that is not reachable yet,
// run it, and turn a failure into one Error that says which store and what it was doing.
import type { Primitive } from 'db0'
import type { GatewayDatabase } from '../db.ts'
import { runInTransaction, type Statement } from './transaction.ts'

export interface StoreOptions {
  /** How long a call waits for a database that is not reachable yet (MySQL down at start) before it fails; default 10 000 ms. */
  readyTimeoutMs?: number
}

export interface Runner {
  dialect: GatewayDatabase['dialect']
  all<T>(what: string, sql: string, params?: readonly Primitive[]): Promise<T[]>
  get<T>(what: string, sql: string, params?: readonly Primitive[]): Promise<T | undefined>
  /** Returns the rows changed (inserted, updated or deleted). */
  run(what: string, sql: string, params?: readonly Primitive[]): Promise<number>
  transaction(what: string, statements: readonly Statement[]): Promise<void>
  /** Any other work on the database, with the same wait and the same errors. */
  task<T>(what: string, work: () => Promise<T>): Promise<T>
}

export function createRunner(database: GatewayDatabase, store: string, options: StoreOptions = {}): Runner {
  const readyTimeoutMs = Math.max(0, options.readyTimeoutMs ?? 10_000)

  async function attempt<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      if (database.db.disposed) throw new Error('the database is closed')
      if (!database.isReady()) await whenReady(database, readyTimeoutMs)
      return await run()
    } catch (error) {
      throw new Error(`storage: ${store}: ${what} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    }
  }

  return {
    dialect: database.dialect,
    all: (what, sql, params = []) => attempt(what, async () => (await database.db.prepare(sql).all(...params)) as never),
    get: (what, sql, params = []) => attempt(what, async () => (await database.db.prepare(sql).get(...params)) as never),
    run: (what, sql, params = []) =>
      attempt(what, async () => {
        const result = (await database.db.prepare(sql).run(...params)) as { changes?: number; affectedRows?: number }
        return Number(result.changes ?? result.affectedRows ?? 0)
      }),
    transaction: (what, statements) => attempt(what, () => runInTransaction(database, statements)),
    task: attempt,
  }
}

function whenReady(database: GatewayDatabase, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database is not reachable (waited ${timeoutMs} ms)`)), timeoutMs)
    timer.unref()
  })
  return Promise.race([database.ready, timeout]).finally(() => clearTimeout(timer))
}

/** `?, ?, ?` for an IN list or a VALUES group. */
export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ')
}

/** Splits a list into runs of at most `size` (bounded statements for IN lists and multi-row inserts). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** MySQL answers SUM() as a DECIMAL string and NULL over no rows. */
export function num(value: unknown): number {
  const n = Number(value ?? 0)
  return Number.isFinite(n) ? n : 0
}
