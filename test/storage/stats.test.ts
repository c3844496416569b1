import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createLogWriter,
  createStatsQueries,
  deleteOlderThan,
  percentiles,
  type GatewayDatabase,
  type RequestLogRow,
  type StatsQueries,
  type UsageCounts,
} from '../../storage/index.ts'
import { backends, clearLogs, type Backend } from './backends.ts'
import { BOUNDS, DAY, HOUR, T0, bucketOf, generateRows, random } from './rollup-data.ts'

// Rows over ~3.5 days from 5 h before T0 (T0 is on an hour, mid-day UTC): ranges cross hours, days and both edges.
const ROWS = generateRows(4000, T0 - 5 * HOUR, 3.5 * DAY, 11)
const START = T0 - 5 * HOUR
const END = START + 3.5 * DAY

/** What the statistics must say, summed here from the rows themselves. */
function brute(rows: readonly RequestLogRow[]): UsageCounts {
  const counts: UsageCounts = { requests: 0, failures: 0, byClass: {}, promptTokens: 0, completionTokens: 0, totalTokens: 0, latencyMsSum: 0 }
  for (const row of rows) {
    counts.requests += 1
    if (row.failureClass !== 'ok') {
      counts.failures += 1
      counts.byClass[row.failureClass] = (counts.byClass[row.failureClass] ?? 0) + 1
    }
    counts.promptTokens += row.promptTokens ?? 0
    counts.completionTokens += row.completionTokens ?? 0
    counts.totalTokens += row.totalTokens ?? 0
    counts.latencyMsSum += row.latencyMs
  }
  return counts
}

const within = (from: number, to: number, filter: { keyId?: string; model?: string; tokenId?: string } = {}) =>
  ROWS.filter(
    (row) =>
      row.time >= from &&
      row.time < to &&
      (filter.keyId === undefined || row.keyId === filter.keyId) &&
      (filter.model === undefined || row.model === filter.model) &&
      (filter.tokenId === undefined || row.tokenId === filter.tokenId),
  )

/** Ranges of every kind: sub-minute, sub-hour, across one hour edge, whole hours, across days, whole days, all. */
function ranges(): Array<[number, number]> {
  const next = random(5)
  const list: Array<[number, number]> = [
    [START, END],
    [T0, T0 + HOUR],
    [T0 + 17 * 60_000 + 123, T0 + 18 * 60_000 + 123],
    [T0 + 50 * 60_000, T0 + 70 * 60_000],
    [T0 + 8 * HOUR, T0 + 8 * HOUR + 2 * DAY], // 8 h after T0 is midnight UTC: whole days
    [T0 + 8 * HOUR - 1, T0 + 8 * HOUR + 2 * DAY + 1],
    [T0 + 1234, T0 + DAY + 5678],
    [T0, T0],
    [T0 + HOUR, T0],
  ]
  for (let i = 0; i < 14; i++) {
    const a = START - HOUR + Math.floor(next() * (END - START + 2 * HOUR))
    const b = a + Math.floor(next() * (i < 7 ? 3 * HOUR : 3 * DAY))
    list.push([a, b])
  }
  return list
}

describe.each(backends())('statistics on $name', (backend: Backend) => {
  let database: GatewayDatabase
  let stats: StatsQueries

  beforeAll(async () => {
    await backend.setup()
    database = await backend.open()
    await clearLogs(database)
    const writer = createLogWriter(database, { flushIntervalMs: 60_000 })
    for (const row of ROWS) writer.request(row)
    await writer.close()
    stats = createStatsQueries(database)
  })
  afterAll(async () => {
    await database?.close()
    await backend.teardown()
  })

  it('totals are exact over any range: whole days and hours from the rollups, the edges from the request log', async () => {
    for (const [from, to] of ranges()) expect(await stats.totals(from, to), `[${from}, ${to})`).toEqual(brute(within(from, to)))
  })

  it('totals filter by key (hourly rollups only), model and client token', async () => {
    for (const [from, to] of ranges().slice(0, 10)) {
      for (const filter of [{ keyId: 'k3' }, { keyId: '' }, { model: 'gemini-2.5-pro' }, { tokenId: 't1', model: 'gemma-3' }, { keyId: 'k1', tokenId: 't2' }]) {
        expect(await stats.totals(from, to, filter), `${JSON.stringify(filter)} [${from}, ${to})`).toEqual(brute(within(from, to, filter)))
      }
    }
  })

  it('usage groups by key, model or token, largest first, at most `limit` rows', async () => {
    const [from, to] = [T0 + 1234, T0 + 2 * DAY + 5678]
    for (const [by, field] of [
      ['key', 'keyId'],
      ['model', 'model'],
      ['token', 'tokenId'],
    ] as const) {
      const groups = new Map<string, RequestLogRow[]>()
      for (const row of within(from, to)) groups.set(row[field], [...(groups.get(row[field]) ?? []), row])
      const expected = [...groups.entries()]
        .map(([id, rows]) => Object.assign({ id }, brute(rows)))
        .sort((a, b) => b.requests - a.requests || (a.id < b.id ? -1 : 1))
      expect(await stats.usage(by, from, to, { limit: 100 })).toEqual(expected)
      expect(await stats.usage(by, from, to, { limit: 2 })).toEqual(expected.slice(0, 2))
    }
    const forKey = within(from, to, { keyId: 'k2', model: 'gemma-3' })
    const rows = await stats.usage('token', from, to, { keyId: 'k2', model: 'gemma-3' })
    expect(rows.reduce((sum, row) => sum + row.requests, 0)).toBe(forKey.length)
    await expect(stats.usage('colour' as never, from, to)).rejects.toThrow(/usage by colour/)
  })

  it('series: one point per bucket, on multiples of the bucket, from the request log (minutes) or the rollups (hours, days)', async () => {
    const cases: Array<[number, number, number, Record<string, string>]> = [
      [T0 + 7 * 60_000 + 30_000, T0 + 67 * 60_000, 60_000, {}],
      [T0 + 3 * HOUR + 59_000, T0 + 4 * HOUR, 300_000, { keyId: 'k1' }],
      [T0 + 1234, T0 + DAY + 1234, HOUR, {}],
      [T0 + 1234, T0 + DAY + 1234, HOUR, { keyId: 'k4', model: 'gemini-2.5-flash' }],
      [START, END, DAY, {}],
      [START, END, DAY, { keyId: 'k0' }],
      [START, END, 6 * HOUR, { model: 'gemma-3' }],
    ]
    for (const [from, to, bucketMs, filter] of cases) {
      const first = Math.floor(from / bucketMs) * bucketMs
      const count = Math.ceil(to / bucketMs) - Math.floor(from / bucketMs)
      const expected = Array.from({ length: count }, (_, i) => ({
        t: first + i * bucketMs,
        ...brute(within(first + i * bucketMs, first + (i + 1) * bucketMs, filter)),
      }))
      expect(await stats.series(from, to, bucketMs, filter), `${bucketMs} ${JSON.stringify(filter)}`).toEqual(expected)
    }
    await expect(stats.series(T0, T0 + HOUR, 45_000)).rejects.toThrow(/series bucket/)
    await expect(stats.series(T0, T0 + 30 * DAY, 60_000)).rejects.toThrow(/too long/)
  })

  it('latency percentiles come from the histogram buckets (upper bound, never above the slowest attempt)', async () => {
    for (const [from, to] of [ranges()[0]!, ranges()[6]!, ranges()[3]!]) {
      for (const filter of [{}, { keyId: 'k5' }]) {
        const upstream = within(from, to, filter).filter((row) => row.keyId !== '') // refused requests took no upstream time
        const buckets = Array.from({ length: BOUNDS.length + 1 }, () => 0)
        for (const row of upstream) buckets[bucketOf(row.latencyMs)]! += 1
        const max = Math.max(0, ...upstream.map((row) => row.latencyMs))
        const result = await stats.latency(from, to, filter)
        expect(result).toEqual(percentiles(buckets, max))
        expect(result.count).toBe(upstream.length)
        // Each percentile bounds the true one from above, by at most one bucket.
        const sorted = upstream.map((row) => row.latencyMs).sort((a, b) => a - b)
        const p90 = sorted[Math.ceil(0.9 * sorted.length) - 1]!
        expect(result.p90).toBeGreaterThanOrEqual(p90)
        expect(result.p90).toBe(Math.min(BOUNDS[bucketOf(p90)] ?? max, max))
      }
    }
    expect(await stats.latency(T0 - 10 * DAY, T0 - 9 * DAY)).toEqual({ p50: null, p90: null, p99: null, count: 0 })
  })

  it('percentiles(): ranks into buckets; the open last bucket answers the slowest attempt', () => {
    const buckets = Array.from({ length: BOUNDS.length + 1 }, () => 0)
    buckets[0] = 50 // ≤ 100 ms
    buckets[3] = 40 // ≤ 1 s
    buckets[9] = 10 // > 60 s
    expect(percentiles(buckets, 95_000)).toEqual({ p50: 100, p90: 1000, p99: 95_000, count: 100 })
    expect(percentiles([3, 0, 0, 0, 0, 0, 0, 0, 0, 0], 42)).toEqual({ p50: 42, p90: 42, p99: 42, count: 3 })
  })

  it('whole hours keep their statistics after log retention; only the edges read from the request log shrink', async () => {
    const from = T0 + 1234
    const to = T0 + DAY + 1234
    const aligned = await stats.totals(T0 + HOUR, T0 + DAY)
    await deleteOlderThan(database, 'request_logs', Number.MAX_SAFE_INTEGER)
    expect(await stats.totals(T0 + HOUR, T0 + DAY)).toEqual(aligned)
    expect(await stats.totals(from, to)).toEqual(brute(within(T0 + HOUR, T0 + DAY)))
  })
})
