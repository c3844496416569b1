// The console's statistics (StatsQueries in queries.ts), read from the rollups so that they stay fast over millions
// of log rows and outlive log retention. A range is answered exactly: whole days and hours from the rollups, the
// minutes at its edges from request_logs (internal/stats-sql.ts), so "the last minute" and "the last hour" are exact.
import type { GatewayDatabase } from './db.ts'
import { createRunner, num, type StoreOptions } from './internal/sql.ts'
import { sliceRange, sliceSql, type AggregateRow, type Grouping, type Slice, type StatsFilter } from './internal/stats-sql.ts'
import type { LatencyPercentiles, SeriesPoint, StatsQueries, UsageCounts, UsageDimension, UsageRow } from './queries.ts'
import { DAY_MS, HOUR_MS, LATENCY_BOUNDS_MS, STATS_DAILY, STATS_HOURLY } from './rollups.ts'

const MINUTE_MS = 60_000
/** A series longer than this is a caller's mistake, not a chart. */
const MAX_POINTS = 10_000
const DIMENSION_COLUMN = { key: 'key_id', model: 'model', token: 'token_id' } as const

export function createStatsQueries(database: GatewayDatabase, options: StoreOptions = {}): StatsQueries {
  const runner = createRunner(database, 'stats', options)

  /** Runs the slices (in parallel: MySQL spreads them over its pool) and returns every row. */
  async function read(what: string, slices: Slice[], filter: StatsFilter, grouping: Grouping, histogram = false): Promise<AggregateRow[]> {
    const results = await Promise.all(
      slices.map((slice) => {
        const { sql, params } = sliceSql(runner.dialect, slice, filter, grouping, histogram)
        return runner.all<AggregateRow>(what, sql, params)
      }),
    )
    return results.flat()
  }

  return {
    async totals(from, to, filter = {}) {
      checkRange(from, to)
      const rows = await read('totals', sliceRange(from, to, filter.keyId === undefined), filter, undefined)
      const counts = emptyCounts()
      for (const row of rows) add(counts, row)
      return counts
    },

    async usage(by, from, to, options = {}) {
      checkRange(from, to)
      const column = DIMENSION_COLUMN[by as UsageDimension]
      if (!column) throw new Error(`storage: stats: usage by ${String(by)}: expected key, model or token`)
      const limit = options.limit ?? 20
      if (!Number.isInteger(limit) || limit < 1) throw new Error('storage: stats: usage limit must be a positive integer')
      const filter = { keyId: options.keyId, model: options.model }
      const daily = by !== 'key' && options.keyId === undefined
      const rows = await read('usage', sliceRange(from, to, daily), filter, { column })
      const byId = new Map<string, UsageRow>()
      for (const row of rows) {
        const id = String(row.g ?? '')
        let usage = byId.get(id)
        if (!usage) byId.set(id, (usage = { id, ...emptyCounts() }))
        add(usage, row)
      }
      return [...byId.values()].sort((a, b) => b.requests - a.requests || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, limit)
    },

    async series(from, to, bucketMs, filter = {}) {
      checkRange(from, to)
      const hourly = Number.isInteger(bucketMs) && bucketMs > 0 && bucketMs % HOUR_MS === 0
      if (!hourly && !(Number.isInteger(bucketMs) && bucketMs > 0 && bucketMs < HOUR_MS && HOUR_MS % bucketMs === 0 && bucketMs % MINUTE_MS === 0)) {
        throw new Error(`storage: stats: series bucket of ${bucketMs} ms: expected whole minutes dividing an hour, or whole hours`)
      }
      // Buckets sit on multiples of bucketMs since the epoch (UTC days for a day), each counted whole.
      const start = Math.floor(from / bucketMs) * bucketMs
      const end = Math.ceil(to / bucketMs) * bucketMs
      const count = (end - start) / bucketMs
      if (count > MAX_POINTS) throw new Error(`storage: stats: a series of ${count} points is too long (at most ${MAX_POINTS})`)
      const source = !hourly ? 'request_logs' : bucketMs % DAY_MS === 0 && filter.keyId === undefined ? STATS_DAILY : STATS_HOURLY
      const rows = await read('series', [{ source, from: start, to: end }], filter, { bucketStart: start, bucketMs })
      const points: SeriesPoint[] = Array.from({ length: count }, (_, i) => ({ t: start + i * bucketMs, ...emptyCounts() }))
      for (const row of rows) {
        const point = points[num(row.g)]
        if (point) add(point, row)
      }
      return points
    },

    async latency(from, to, filter = {}) {
      checkRange(from, to)
      const rows = await read('latency', sliceRange(from, to, filter.keyId === undefined), filter, undefined, true)
      const buckets = Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, () => 0)
      let max = 0
      for (const row of rows) {
        for (let i = 0; i < buckets.length; i++) buckets[i]! += num(row[`b${i}`])
        max = Math.max(max, num(row.lm))
      }
      return percentiles(buckets, max)
    },
  }
}

function checkRange(from: number, to: number): void {
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new Error('storage: stats: from and to must be epoch ms')
}

function emptyCounts(): UsageCounts {
  return { requests: 0, failures: 0, byClass: {}, promptTokens: 0, completionTokens: 0, totalTokens: 0, latencyMsSum: 0 }
}

function add(counts: UsageCounts, row: AggregateRow): void {
  const requests = num(row.r)
  counts.requests += requests
  if (row.failure_class !== 'ok') {
    counts.failures += requests
    counts.byClass[row.failure_class] = (counts.byClass[row.failure_class] ?? 0) + requests
  }
  counts.promptTokens += num(row.pt)
  counts.completionTokens += num(row.ct)
  counts.totalTokens += num(row.tt)
  counts.latencyMsSum += num(row.ls)
}

/**
 * Each percentile is the upper bound of the bucket it falls in (never above the slowest attempt seen); in the
 * bucket above the last bound, the slowest attempt seen.
 */
export function percentiles(buckets: readonly number[], max: number): LatencyPercentiles {
  const count = buckets.reduce((sum, n) => sum + n, 0)
  const at = (p: number): number | null => {
    if (count === 0) return null
    const rank = Math.ceil(p * count)
    let seen = 0
    for (let i = 0; i < buckets.length; i++) {
      seen += buckets[i]!
      if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? Math.min(LATENCY_BOUNDS_MS[i]!, max) : max
    }
    return max
  }
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), count }
}
