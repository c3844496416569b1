// The rollup tables' measures as migrations 004 and 005 created them: shipped schema, never to change (a new
// bucket would be a new migration). storage/rollups.ts fills these columns; storage/internal/stats-sql.ts reads them.

/** Upper bounds (ms) of the rollups' latency buckets, and one more bucket above the last: columns of migrations 004/005, fixed. */
export const ROLLUP_LATENCY_BOUNDS: readonly number[] = [100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000]
export const ROLLUP_LATENCY_COLUMNS: readonly string[] = [...ROLLUP_LATENCY_BOUNDS.map((bound) => `latency_le_${bound}`), 'latency_gt_60000']

/** Measures added up on every upsert; `latency_ms_max` (the slowest attempt) is the one more measure, kept as a maximum. */
export const ROLLUP_COUNTERS: readonly string[] = [
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'latency_ms_sum',
  ...ROLLUP_LATENCY_COLUMNS,
]

/** The measure columns of both rollup tables. */
export function rollupMeasures(type: string): string {
  return [...ROLLUP_COUNTERS, 'latency_ms_max'].map((column) => `${column} ${type} NOT NULL DEFAULT 0`).join(', ')
}

/**
 * Rolls up the request logs already there, once: when the rollup table is empty (a rerun after a crash is harmless).
 * The latency histogram and maximum count only attempts that reached a key (rows refused before have key_id '').
 */
export function rollupBackfill(table: string, timeColumn: string, periodMs: number, keys: readonly string[]): string {
  const buckets = ROLLUP_LATENCY_BOUNDS.map((bound, i) => {
    const above = i === 0 ? '' : `latency_ms > ${ROLLUP_LATENCY_BOUNDS[i - 1]} AND `
    return `SUM(CASE WHEN key_id <> '' AND ${above}latency_ms <= ${bound} THEN 1 ELSE 0 END)`
  })
  const period = `time - time % ${periodMs}`
  const measures = [
    'COUNT(*)',
    'COALESCE(SUM(prompt_tokens), 0)',
    'COALESCE(SUM(completion_tokens), 0)',
    'COALESCE(SUM(total_tokens), 0)',
    'SUM(latency_ms)',
    "COALESCE(MAX(CASE WHEN key_id <> '' THEN latency_ms END), 0)",
    ...buckets,
    "SUM(CASE WHEN key_id <> '' AND latency_ms > 60000 THEN 1 ELSE 0 END)",
  ]
  return `INSERT INTO ${table} (${[timeColumn, ...keys].join(', ')}, requests, prompt_tokens, completion_tokens, total_tokens, latency_ms_sum, latency_ms_max, ${ROLLUP_LATENCY_COLUMNS.join(', ')})
    SELECT ${[period, ...keys, ...measures].join(', ')} FROM request_logs
    WHERE NOT EXISTS (SELECT 1 FROM ${table}) GROUP BY ${[period, ...keys].join(', ')}`
}
