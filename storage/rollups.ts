// Statistics rollups, filled from the log queue: a batch of request rows is summed in memory per hour x key x model
// x client token x failure class (stats_hourly) and per UTC day x model x token x class (stats_daily), and the sums are
// upserted in the same transaction that inserts the rows. A failed batch goes back to the queue whole, so a retry
// never counts a row twice and never loses one. Log retention never touches the rollups. The latency histogram
// (and maximum) counts only attempts that reached a key: a request refused before (key_id '') took no upstream time.
import type { Primitive } from 'db0'
import type { GatewayDatabase } from './db.ts'
import { runInTransaction, type Statement } from './internal/transaction.ts'
import { REQUEST_COLUMNS, insertSql } from './log-rows.ts'
import { ROLLUP_COUNTERS, ROLLUP_LATENCY_BOUNDS } from './internal/rollup-schema.ts'

export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000

/** Upper bounds (ms) of the latency buckets; the last bucket holds every latency above the last bound. */
export const LATENCY_BOUNDS_MS = ROLLUP_LATENCY_BOUNDS

export interface RollupTable {
  name: 'stats_hourly' | 'stats_daily'
  /** The column holding the period start (epoch ms). */
  period: 'hour' | 'day'
  periodMs: number
  /** The dimensions, in primary-key order after the period. */
  dimensions: ReadonlyArray<'key_id' | 'model' | 'token_id' | 'failure_class'>
}

export const STATS_HOURLY: RollupTable = {
  name: 'stats_hourly',
  period: 'hour',
  periodMs: HOUR_MS,
  dimensions: ['key_id', 'model', 'token_id', 'failure_class'],
}
export const STATS_DAILY: RollupTable = { name: 'stats_daily', period: 'day', periodMs: DAY_MS, dimensions: ['model', 'token_id', 'failure_class'] }

const SQLITE_MAX_VALUES = 30_000

const at = (column: (typeof REQUEST_COLUMNS)[number]) => REQUEST_COLUMNS.indexOf(column)
const TIME = at('time')
const LATENCY = at('latency_ms')
const SOURCE: Record<RollupTable['dimensions'][number], number> = {
  key_id: at('key_id'),
  model: at('model'),
  token_id: at('token_id'),
  failure_class: at('failure_class'),
}
const TOKENS = [at('prompt_tokens'), at('completion_tokens'), at('total_tokens')]

interface Delta {
  key: Primitive[]
  counters: number[]
  max: number
}

/** Inserts request rows (values in REQUEST_COLUMNS order, as log-rows.ts makes them) and their rollups, all or nothing. */
export async function writeRequestRows(database: GatewayDatabase, rows: readonly Primitive[][]): Promise<void> {
  if (rows.length === 0) return
  const params: Primitive[] = []
  for (const row of rows) for (const value of row) params.push(value) // Array#flat is several times slower here
  const insert: Statement = { sql: insertSql('request_logs', REQUEST_COLUMNS, rows.length), params }
  await runInTransaction(database, [insert, ...rollupStatements(database.dialect, rows)])
}

/** The upserts that add these request rows to both rollup tables: one statement per table for a usual batch. */
function rollupStatements(dialect: GatewayDatabase['dialect'], rows: readonly Primitive[][]): Statement[] {
  return [STATS_HOURLY, STATS_DAILY].flatMap((table) => upserts(dialect, table, aggregate(table, rows)))
}

/** Groups by key column, a level per column: a row finds its group with no key text built for it. */
type GroupLevel = Map<Primitive, GroupLevel | Delta>

/** Sums the rows per period and dimensions; sorted, so concurrent writers lock rows in the same order. */
function aggregate(table: RollupTable, rows: readonly Primitive[][]): Delta[] {
  const groups: GroupLevel = new Map()
  const deltas: Delta[] = []
  const depth = table.dimensions.length
  for (const row of rows) {
    const time = Number(row[TIME])
    const period = time - (time % table.periodMs)
    let level = groups
    for (let i = 0; i < depth; i++) {
      const value = i === 0 ? period : (row[SOURCE[table.dimensions[i - 1]!]] ?? '')
      let next = level.get(value) as GroupLevel | undefined
      if (!next) level.set(value, (next = new Map()))
      level = next
    }
    const last = row[SOURCE[table.dimensions[depth - 1]!]] ?? ''
    let delta = level.get(last) as Delta | undefined
    if (!delta) {
      const key: Primitive[] = [period, ...table.dimensions.map((dimension) => row[SOURCE[dimension]] ?? '')]
      level.set(last, (delta = { key, counters: Array.from(ROLLUP_COUNTERS, () => 0), max: 0 }))
      deltas.push(delta)
    }
    // counters follow ROLLUP_COUNTERS: requests, the three token sums, the latency sum, then the latency buckets.
    const latency = Number(row[LATENCY]) || 0
    delta.counters[0]! += 1
    for (let i = 0; i < TOKENS.length; i++) delta.counters[1 + i]! += Number(row[TOKENS[i]!] ?? 0) || 0
    delta.counters[4]! += latency
    if (row[SOURCE.key_id] === '') continue // refused before a key was tried: no upstream latency to describe
    delta.counters[5 + latencyBucket(latency)]! += 1
    delta.max = Math.max(delta.max, latency)
  }
  return deltas.sort((a, b) => compareKeys(a.key, b.key))
}

function compareKeys(a: readonly Primitive[], b: readonly Primitive[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string | number
    const y = b[i] as string | number
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

/** Index of the bucket a latency falls in: the first bound it does not exceed, or the last bucket. */
function latencyBucket(latencyMs: number): number {
  const index = LATENCY_BOUNDS_MS.findIndex((bound) => latencyMs <= bound)
  return index === -1 ? LATENCY_BOUNDS_MS.length : index
}

function upserts(dialect: GatewayDatabase['dialect'], table: RollupTable, deltas: Delta[]): Statement[] {
  const columns = [table.period, ...table.dimensions, ...ROLLUP_COUNTERS, 'latency_ms_max']
  const perStatement = dialect === 'sqlite' ? Math.floor(SQLITE_MAX_VALUES / columns.length) : 1000
  const statements: Statement[] = []
  for (let i = 0; i < deltas.length; i += perStatement) {
    const chunk = deltas.slice(i, i + perStatement)
    const params = chunk.flatMap((delta) => [...delta.key, ...delta.counters, delta.max])
    statements.push({ sql: `${insertSql(table.name, columns, chunk.length)} ${onConflict(dialect, table)}`, params })
  }
  return statements
}

function onConflict(dialect: GatewayDatabase['dialect'], table: RollupTable): string {
  if (dialect === 'sqlite') {
    const sums = ROLLUP_COUNTERS.map((column) => `${column} = ${column} + excluded.${column}`)
    return `ON CONFLICT (${[table.period, ...table.dimensions].join(', ')}) DO UPDATE SET ${sums.join(', ')}, latency_ms_max = MAX(latency_ms_max, excluded.latency_ms_max)`
  }
  const sums = ROLLUP_COUNTERS.map((column) => `${column} = ${column} + VALUES(${column})`)
  return `ON DUPLICATE KEY UPDATE ${sums.join(', ')}, latency_ms_max = GREATEST(latency_ms_max, VALUES(latency_ms_max))`
}
