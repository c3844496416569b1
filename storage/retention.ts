// Log retention: deletes old rows in bounded batches (so a huge table is never locked for long, and the log
// writer's inserts interleave), on an unref'd schedule.
import { consola } from 'consola'
import type { GatewayDatabase } from './db.ts'

export type LogTable = 'request_logs' | 'error_logs'

export interface DeleteOptions {
  /** Rows per DELETE, default 5000. */
  batchSize?: number
  /** Pause between batches, default 5 ms. */
  pauseMs?: number
  /** Called after each batch with the rows it deleted (progress, tests). */
  onBatch?: (deleted: number) => void
}

const TABLES: ReadonlySet<string> = new Set<LogTable>(['request_logs', 'error_logs'])
const DAY_MS = 86_400_000

/** Deletes the rows of `table` whose time is before `cutoffMs`; returns how many. */
export async function deleteOlderThan(database: GatewayDatabase, table: LogTable, cutoffMs: number, options: DeleteOptions = {}): Promise<number> {
  if (!TABLES.has(table)) throw new Error(`storage: retention does not apply to table ${String(table)}`)
  if (!Number.isFinite(cutoffMs)) throw new Error('storage: retention cutoff must be a finite epoch ms')
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 5000))
  const pauseMs = Math.max(0, options.pauseMs ?? 5)
  // MySQL deletes with ORDER BY/LIMIT along the time index; SQLite (without the LIMIT extension) goes through ids.
  const sql =
    database.dialect === 'mysql'
      ? `DELETE FROM ${table} WHERE time < ? ORDER BY time, id LIMIT ${batchSize}`
      : `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE time < ? ORDER BY time LIMIT ${batchSize})`
  const cutoff = Math.floor(cutoffMs)
  let total = 0
  for (;;) {
    const result = (await database.db.prepare(sql).run(cutoff)) as { changes?: number; affectedRows?: number }
    const deleted = Number(result.changes ?? result.affectedRows ?? 0)
    total += deleted
    options.onBatch?.(deleted)
    if (deleted < batchSize) return total
    await new Promise<void>((resolve) => setTimeout(resolve, pauseMs))
  }
}

export interface RetentionPolicy {
  errorLogs: { enabled: boolean; days: number }
  requestLogs: { enabled: boolean; days: number }
}

export interface RetentionOptions {
  /** Time between runs, default 6 h. */
  intervalMs?: number
  /** Delay of the first run after start, default 30 s. */
  initialDelayMs?: number
  now?: () => number
  logger?: { info?(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void }
  /** Passed to deleteOlderThan. */
  batchSize?: number
}

export interface RetentionSchedule {
  /** Runs now (or joins the run in progress) and returns the rows deleted per table. Rejects on a database error. */
  runNow(): Promise<{ requestLogs: number; errorLogs: number }>
  stop(): void
}

export function scheduleRetention(database: GatewayDatabase, policy: RetentionPolicy, options: RetentionOptions = {}): RetentionSchedule {
  const logger = options.logger ?? consola.withTag('storage')
  const now = options.now ?? Date.now
  const intervalMs = Math.max(1000, options.intervalMs ?? 6 * 3_600_000)
  let running: Promise<{ requestLogs: number; errorLogs: number }> | undefined
  let stopped = false

  async function purge(rule: { enabled: boolean; days: number }, table: LogTable): Promise<number> {
    if (!rule.enabled || !(rule.days > 0) || stopped) return 0
    return deleteOlderThan(database, table, now() - rule.days * DAY_MS, { batchSize: options.batchSize })
  }

  function runNow() {
    running ??= (async () => {
      try {
        const requestLogs = await purge(policy.requestLogs, 'request_logs')
        const errorLogs = await purge(policy.errorLogs, 'error_logs')
        if (requestLogs + errorLogs > 0) logger.info?.(`retention: deleted ${requestLogs} request log(s) and ${errorLogs} error log(s)`)
        return { requestLogs, errorLogs }
      } finally {
        running = undefined
      }
    })()
    return running
  }

  function scheduled(): void {
    if (stopped || database.db.disposed) return
    runNow().catch((cause) => logger.error('retention: deleting old logs failed; will try again at the next run:', cause))
  }

  const first = setTimeout(scheduled, Math.max(0, options.initialDelayMs ?? 30_000))
  const every = setInterval(scheduled, intervalMs)
  first.unref?.()
  every.unref?.()

  return {
    runNow,
    stop() {
      stopped = true
      clearTimeout(first)
      clearInterval(every)
    },
  }
}
