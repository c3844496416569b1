import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { deleteOlderThan, scheduleRetention, type GatewayDatabase } from '../../storage/index.ts'
import { insertSql, REQUEST_COLUMNS, ERROR_COLUMNS } from '../../storage/log-rows.ts'
import { backends, clearLogs, count, type Backend } from './backends.ts'

const DAY = 86_400_000
const NOW = 1_764_000_000_000

/** Inserts rows with the given times straight into a log table (1000 rows per statement). */
async function seed(database: GatewayDatabase, table: 'request_logs' | 'error_logs', times: number[]): Promise<void> {
  const columns = table === 'request_logs' ? REQUEST_COLUMNS : ERROR_COLUMNS
  for (let at = 0; at < times.length; at += 1000) {
    const chunk = times.slice(at, at + 1000)
    const values = chunk.flatMap((time, i) =>
      table === 'request_logs'
        ? [time, `r${at + i}`, 't', 'gemini', 'generateContent', 'm', 'k', 1, 200, 'ok', 10, null, null, null, null]
        : [time, `r${at + i}`, 't', 'k', 'm', 'generateContent', 500, 'upstream-5xx', 'boom', null],
    )
    await database.db.prepare(insertSql(table, columns, chunk.length)).run(...values)
  }
}

describe.each(backends())('retention on $name', (backend: Backend) => {
  let database: GatewayDatabase

  beforeAll(async () => {
    await backend.setup()
    database = await backend.open()
  })
  beforeEach(() => clearLogs(database))
  afterAll(async () => {
    await database?.close()
    await backend.teardown()
  })

  it('deletes only rows older than the cutoff, in bounded batches', async () => {
    const old = Array.from({ length: 7000 }, (_, i) => NOW - 40 * DAY + i)
    const fresh = Array.from({ length: 3000 }, (_, i) => NOW - 10 * DAY + i)
    await seed(database, 'request_logs', [...fresh.slice(0, 1500), ...old, ...fresh.slice(1500)]) // interleaved ids
    const batches: number[] = []
    const started = performance.now()
    const deleted = await deleteOlderThan(database, 'request_logs', NOW - 30 * DAY, { batchSize: 2000, onBatch: (n) => batches.push(n) })
    const ms = performance.now() - started
    expect(deleted).toBe(7000)
    expect(batches).toEqual([2000, 2000, 2000, 1000])
    expect(await count(database, 'request_logs')).toBe(3000)
    expect(await count(database, 'request_logs', `WHERE time < ${NOW - 30 * DAY}`)).toBe(0)
    expect(ms).toBeLessThan(5000)
    // Nothing left to delete: one empty batch.
    expect(await deleteOlderThan(database, 'request_logs', NOW - 30 * DAY)).toBe(0)
  })

  it('the cutoff is exclusive and the default batch is 5000 rows', async () => {
    await seed(database, 'error_logs', [...Array.from({ length: 5001 }, () => NOW - 1), NOW, NOW + 1])
    const batches: number[] = []
    expect(await deleteOlderThan(database, 'error_logs', NOW, { onBatch: (n) => batches.push(n) })).toBe(5001)
    expect(batches).toEqual([5000, 1])
    expect(await count(database, 'error_logs')).toBe(2)
  })

  it('refuses a table that is not a log table', async () => {
    await expect(deleteOlderThan(database, 'settings' as never, NOW)).rejects.toThrow(/retention/)
  })

  it('scheduleRetention applies the policy per table, at start and on demand', async () => {
    await seed(database, 'request_logs', [NOW - 31 * DAY, NOW - 29 * DAY, NOW])
    await seed(database, 'error_logs', [NOW - 8 * DAY, NOW - 6 * DAY, NOW - 100 * DAY])
    const policy = { requestLogs: { enabled: true, days: 30 }, errorLogs: { enabled: false, days: 7 } }
    const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const schedule = scheduleRetention(database, policy, { now: () => NOW, initialDelayMs: 10, logger })
    try {
      // The first run happens shortly after start, on its own.
      await vi.waitFor(async () => expect(await count(database, 'request_logs')).toBe(2), { timeout: 3000, interval: 20 })
      expect(await count(database, 'error_logs')).toBe(3) // disabled
      policy.errorLogs.enabled = true // the policy object is read at every run
      const [a, b] = await Promise.all([schedule.runNow(), schedule.runNow()]) // joins the run in progress
      expect(a).toEqual({ requestLogs: 0, errorLogs: 2 })
      expect(b).toBe(a)
      expect(await count(database, 'error_logs')).toBe(1)
      expect(logger.error).not.toHaveBeenCalled()
    } finally {
      schedule.stop()
    }
  })
})
