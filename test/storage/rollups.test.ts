import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createLogWriter,
  deleteOlderThan,
  migrate,
  openDatabaseWhenReachable,
  type GatewayDatabase,
  type LogWriter,
  type RequestLogRow,
} from '../../storage/index.ts'
import { backends, clearLogs, count, type Backend } from './backends.ts'
import { BOUNDS, DAY, HOUR, T0, dayOf, expectedGroups, generateRows, hourOf, type Expected } from './rollup-data.ts'
import { recordStatements, type Recorder } from './statements.ts'

const BUCKET_COLUMNS = [...BOUNDS.map((bound) => `latency_le_${bound}`), 'latency_gt_60000']

const hourlyKey = (row: RequestLogRow) => [hourOf(row.time), row.keyId, row.model, row.tokenId, row.failureClass].join('|')
const dailyKey = (row: RequestLogRow) => [dayOf(row.time), row.model, row.tokenId, row.failureClass].join('|')

/** The rollup table as the same shape as expectedGroups(). */
async function readRollup(database: GatewayDatabase, table: 'stats_hourly' | 'stats_daily'): Promise<Map<string, Expected>> {
  const keys = table === 'stats_hourly' ? ['hour', 'key_id', 'model', 'token_id', 'failure_class'] : ['day', 'model', 'token_id', 'failure_class']
  const rows = (await database.db.prepare(`SELECT * FROM ${table}`).all()) as Array<Record<string, unknown>>
  return new Map(
    rows.map((row) => [
      keys.map((key) => String(row[key])).join('|'),
      {
        requests: Number(row.requests),
        promptTokens: Number(row.prompt_tokens),
        completionTokens: Number(row.completion_tokens),
        totalTokens: Number(row.total_tokens),
        latencyMsSum: Number(row.latency_ms_sum),
        latencyMsMax: Number(row.latency_ms_max),
        buckets: BUCKET_COLUMNS.map((column) => Number(row[column])),
      },
    ]),
  )
}

async function clearRollups(database: GatewayDatabase): Promise<void> {
  await database.db.exec('DELETE FROM stats_hourly')
  await database.db.exec('DELETE FROM stats_daily')
}

describe.each(backends())('rollups on $name', (backend: Backend) => {
  let database: GatewayDatabase
  const writers: LogWriter[] = []
  const recorders: Recorder[] = []
  const writer = (batchSize = 200) => {
    const made = createLogWriter(database, { batchSize, flushIntervalMs: 60_000, maxBackoffMs: 50, logger: { warn() {}, error() {} } })
    writers.push(made)
    return made
  }

  beforeAll(async () => {
    await backend.setup()
    database = await backend.open()
  })
  beforeEach(async () => {
    await clearLogs(database)
    await clearRollups(database)
  })
  afterEach(async () => {
    for (const recorder of recorders.splice(0)) recorder.restore()
    for (const made of writers.splice(0)) await made.close()
  })
  afterAll(async () => {
    await database?.close()
    await backend.teardown()
  })

  it('every flushed request row is summed into stats_hourly and stats_daily, exactly, across batches and periods', async () => {
    const rows = generateRows(3000, T0 - 5 * HOUR, 3 * DAY)
    const log = writer(250)
    for (const row of rows.slice(0, 1000)) log.request(row)
    await log.flush()
    for (const row of rows.slice(1000)) log.request(row) // later batches add to rows the first ones created
    await log.flush()
    expect(log.stats()).toMatchObject({ written: 3000, queued: 0, dropped: 0 })
    expect(await readRollup(database, 'stats_hourly')).toEqual(expectedGroups(rows, hourlyKey))
    expect(await readRollup(database, 'stats_daily')).toEqual(expectedGroups(rows, dailyKey))
  })

  it('aggregates in memory: a batch of 200 rows is one INSERT and one upsert per rollup table', async () => {
    const rows = generateRows(200, T0 + 10 * DAY, 40 * 60_000, 7) // within one hour: ~150 hourly groups, 1 day
    const recorder = await recordStatements(database)
    recorders.push(recorder)
    const log = writer(200)
    for (const row of rows) log.request(row)
    await log.flush()
    expect(recorder.inserts()).toEqual(['request_logs', 'stats_hourly', 'stats_daily'])
    expect(await readRollup(database, 'stats_hourly')).toEqual(expectedGroups(rows, hourlyKey))
  })

  it('a batch whose rollup upsert fails is rolled back whole and counted once on the retry', async () => {
    const rows = generateRows(600, T0, 2 * HOUR, 3)
    const log = writer(200)
    for (const row of rows) log.request(row)
    // The first batch's request rows insert fine, then its daily upsert fails: nothing of that batch may stay.
    const recorder = await recordStatements(database, { failOn: /^INSERT INTO stats_daily/ })
    recorders.push(recorder)
    await log.flush()
    expect(log.stats()).toMatchObject({ written: 0, queued: 600, failedBatches: 1 })
    expect(recorder.inserts()).toEqual(['request_logs', 'stats_hourly', 'stats_daily'])
    expect(await count(database, 'request_logs')).toBe(0)
    expect(await count(database, 'stats_hourly')).toBe(0)
    await log.flush()
    expect(log.stats()).toMatchObject({ written: 600, queued: 0, dropped: 0 })
    expect(await count(database, 'request_logs')).toBe(600)
    expect(await readRollup(database, 'stats_hourly')).toEqual(expectedGroups(rows, hourlyKey))
    expect(await readRollup(database, 'stats_daily')).toEqual(expectedGroups(rows, dailyKey))
  })

  it('a rollup table that is gone fails the batch, and the rows wait until it is back', async () => {
    const rows = generateRows(300, T0, HOUR, 4)
    const log = writer(100)
    await database.db.exec(backend.name === 'mysql' ? 'RENAME TABLE stats_hourly TO stats_hourly_away' : 'ALTER TABLE stats_hourly RENAME TO stats_hourly_away')
    try {
      for (const row of rows) log.request(row)
      await log.flush()
      expect(log.stats()).toMatchObject({ written: 0, queued: 300 })
      expect(await count(database, 'request_logs')).toBe(0)
    } finally {
      await database.db.exec(
        backend.name === 'mysql' ? 'RENAME TABLE stats_hourly_away TO stats_hourly' : 'ALTER TABLE stats_hourly_away RENAME TO stats_hourly',
      )
    }
    await log.flush()
    expect(log.stats()).toMatchObject({ written: 300, queued: 0 })
    expect(await readRollup(database, 'stats_hourly')).toEqual(expectedGroups(rows, hourlyKey))
  })

  it('log retention deletes request rows, never their statistics', async () => {
    const rows = generateRows(500, T0, 2 * DAY, 5)
    const log = writer()
    for (const row of rows) log.request(row)
    await log.flush()
    const before = await readRollup(database, 'stats_hourly')
    expect(await deleteOlderThan(database, 'request_logs', T0 + 3 * DAY)).toBe(500)
    expect(await count(database, 'request_logs')).toBe(0)
    expect(await readRollup(database, 'stats_hourly')).toEqual(before)
    expect(await readRollup(database, 'stats_daily')).toEqual(expectedGroups(rows, dailyKey))
  })

  // MySQL down at start: rows queue, and nothing is written before the migrations (and their backfill) are done.
  if (backend.name === 'mysql')
    it('the writer waits for the schema before writing (and rolling up) anything', async () => {
      const up = await backend.outage()
      let restored: Promise<void> | undefined
      const restore = () => (restored ??= up())
      let late: GatewayDatabase | undefined
      try {
        late = await openDatabaseWhenReachable(backend.options(), { firstDelayMs: 50, maxDelayMs: 100, logger: { warn() {}, info() {} } })
        const log = createLogWriter(late, { flushIntervalMs: 20, logger: { warn() {}, error() {} } })
        writers.push(log)
        const rows = generateRows(300, T0, HOUR, 8)
        for (const row of rows) log.request(row)
        await log.flush()
        expect(log.stats()).toEqual({ queued: 300, written: 0, dropped: 0, failedBatches: 0 })
        await restore()
        await late.ready
        await vi.waitFor(() => expect(log.stats().written).toBe(300), { timeout: 5000, interval: 20 })
        expect(await readRollup(database, 'stats_hourly')).toEqual(expectedGroups(rows, hourlyKey))
      } finally {
        await restore()
        for (const made of writers.splice(0)) await made.close()
        await late?.close()
      }
    })

  it('the migration rolls up the request logs already there, once', async () => {
    const rows = generateRows(800, T0, 2 * DAY, 6)
    const log = writer()
    for (const row of rows) log.request(row)
    await log.flush()
    // As before the upgrade: request logs, no rollup tables.
    await database.db.exec('DROP TABLE stats_hourly')
    await database.db.exec('DROP TABLE stats_daily')
    await database.db.exec("DELETE FROM _migrations WHERE id IN ('004_stats_hourly', '005_stats_daily')")
    expect(await migrate(database)).toEqual(['004_stats_hourly', '005_stats_daily'])
    expect(await readRollup(database, 'stats_hourly')).toEqual(expectedGroups(rows, hourlyKey))
    expect(await readRollup(database, 'stats_daily')).toEqual(expectedGroups(rows, dailyKey))
    // A rerun (a start that stopped before recording the migration) adds nothing.
    await database.db.exec("DELETE FROM _migrations WHERE id IN ('004_stats_hourly', '005_stats_daily')")
    expect(await migrate(database)).toEqual(['004_stats_hourly', '005_stats_daily'])
    expect(await readRollup(database, 'stats_hourly')).toEqual(expectedGroups(rows, hourlyKey))
    expect(await readRollup(database, 'stats_daily')).toEqual(expectedGroups(rows, dailyKey))
  })
})
