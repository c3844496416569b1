// How a statistics question becomes SQL: a time range is cut into slices each answered by the cheapest exact source
// (whole UTC days from stats_daily, whole hours from stats_hourly, the sub-hour edges from request_logs), and each
// slice is one aggregate SELECT with the same output columns whatever its source.
import type { Primitive } from 'db0'
import type { GatewayDatabase } from '../db.ts'
import { DAY_MS, HOUR_MS, LATENCY_BOUNDS_MS, STATS_DAILY, STATS_HOURLY, type RollupTable } from '../rollups.ts'
import { ROLLUP_LATENCY_COLUMNS } from './rollup-schema.ts'

export type Source = RollupTable | 'request_logs'

export interface Slice {
  source: Source
  /** Epoch ms, inclusive; on the source's period boundaries for a rollup. */
  from: number
  /** Epoch ms, exclusive. */
  to: number
}

export interface StatsFilter {
  keyId?: string
  model?: string
  tokenId?: string
}

/** What a slice's rows are grouped by besides the failure class: a dimension column, or time buckets. */
export type Grouping = { column: 'key_id' | 'model' | 'token_id' } | { bucketStart: number; bucketMs: number } | undefined

/** One output row: `g` (the grouping's value), the class, and the sums; lm and b0..bN only with the histogram. */
export interface AggregateRow {
  g?: unknown
  failure_class: string
  r: unknown
  pt: unknown
  ct: unknown
  tt: unknown
  ls: unknown
  lm?: unknown
  [bucket: `b${number}`]: unknown
}

const floorTo = (t: number, step: number) => Math.floor(t / step) * step
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step

/**
 * Cuts [from, to) into slices: request_logs for the parts before the first and after the last whole hour, hourly
 * rollups for whole hours, daily rollups for whole UTC days when `daily` (the question needs no key).
 */
export function sliceRange(from: number, to: number, daily: boolean): Slice[] {
  if (!(from < to)) return []
  const firstHour = ceilTo(from, HOUR_MS)
  const lastHour = floorTo(to, HOUR_MS)
  if (firstHour >= lastHour) return [{ source: 'request_logs', from, to }]
  const slices: Slice[] = []
  if (from < firstHour) slices.push({ source: 'request_logs', from, to: firstHour })
  const firstDay = ceilTo(firstHour, DAY_MS)
  const lastDay = floorTo(lastHour, DAY_MS)
  if (daily && firstDay < lastDay) {
    if (firstHour < firstDay) slices.push({ source: STATS_HOURLY, from: firstHour, to: firstDay })
    slices.push({ source: STATS_DAILY, from: firstDay, to: lastDay })
    if (lastDay < lastHour) slices.push({ source: STATS_HOURLY, from: lastDay, to: lastHour })
  } else slices.push({ source: STATS_HOURLY, from: firstHour, to: lastHour })
  if (lastHour < to) slices.push({ source: 'request_logs', from: lastHour, to })
  return slices
}

/** The aggregate SELECT of one slice, grouped by failure class (and the grouping). */
export function sliceSql(
  dialect: GatewayDatabase['dialect'],
  slice: Slice,
  filter: StatsFilter,
  grouping: Grouping,
  histogram: boolean,
): { sql: string; params: Primitive[] } {
  const logs = slice.source === 'request_logs'
  const table = logs ? 'request_logs' : (slice.source as RollupTable).name
  const time = logs ? 'time' : (slice.source as RollupTable).period
  const params: Primitive[] = []
  const select: string[] = []
  const groupBy: string[] = []
  if (grouping && 'column' in grouping) {
    select.push(`${grouping.column} AS g`)
    groupBy.push(grouping.column)
  } else if (grouping) {
    select.push(dialect === 'mysql' ? `(${time} - ?) DIV ? AS g` : `CAST((${time} - ?) / ? AS INTEGER) AS g`)
    params.push(grouping.bucketStart, grouping.bucketMs)
    groupBy.push('g')
  }
  select.push('failure_class', ...measures(logs, histogram))
  groupBy.push('failure_class')

  const where = [`${time} >= ?`, `${time} < ?`]
  params.push(slice.from, slice.to)
  for (const [column, value] of [
    ['key_id', filter.keyId],
    ['model', filter.model],
    ['token_id', filter.tokenId],
  ] as const) {
    if (value === undefined) continue
    where.push(`${column} = ?`)
    params.push(value)
  }
  return { sql: `SELECT ${select.join(', ')} FROM ${table} WHERE ${where.join(' AND ')} GROUP BY ${groupBy.join(', ')}`, params }
}

function measures(logs: boolean, histogram: boolean): string[] {
  const sums = logs
    ? ['COUNT(*) AS r', 'SUM(prompt_tokens) AS pt', 'SUM(completion_tokens) AS ct', 'SUM(total_tokens) AS tt', 'SUM(latency_ms) AS ls']
    : ['SUM(requests) AS r', 'SUM(prompt_tokens) AS pt', 'SUM(completion_tokens) AS ct', 'SUM(total_tokens) AS tt', 'SUM(latency_ms_sum) AS ls']
  if (!histogram) return sums
  if (!logs) return [...sums, 'MAX(latency_ms_max) AS lm', ...ROLLUP_LATENCY_COLUMNS.map((column, i) => `SUM(${column}) AS b${i}`)]
  // The same histogram as rollups.ts builds: attempts that reached a key only.
  const buckets = [...LATENCY_BOUNDS_MS, Infinity].map((bound, i) => {
    const above = i === 0 ? '' : ` AND latency_ms > ${LATENCY_BOUNDS_MS[i - 1]}`
    const below = bound === Infinity ? '' : ` AND latency_ms <= ${bound}`
    return `SUM(CASE WHEN key_id <> ''${above}${below} THEN 1 ELSE 0 END) AS b${i}`
  })
  return [...sums, "MAX(CASE WHEN key_id <> '' THEN latency_ms END) AS lm", ...buckets]
}
