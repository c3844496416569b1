// The dashboard: traffic over the last minute, hour, day and 30 days, a chart, usage by key, model and token,
// latency, the keys that need a look, cooldowns and key events. Statistics come from the rollups (fast at any volume);
// gemini-balance's two row-level views read the request log, with a cap.
import * as v from 'valibot'
import { queryInt } from '../internal/inputs.ts'
import { needingAttention, withUsage } from '../internal/key-list.ts'
import { loadLabels, type Labels } from '../internal/labels.ts'
import type { AdminRoutes } from '../internal/route.ts'
import type { AdminDeps, GatewayControl, LogFilter, RequestLogEntry } from '../internal/types.ts'
import { DAY, HOUR, MINUTE, RANGES, windows } from '../internal/windows.ts'

const Range = v.optional(v.picklist(Object.keys(RANGES) as (keyof typeof RANGES)[], 'must be 1h, 24h, 7d or 30d'), '24h')
const SeriesQuery = v.object({ range: Range })
const UsageQuery = v.object({
  by: v.optional(v.picklist(['key', 'model', 'token'], 'must be key, model or token'), 'key'),
  range: Range,
  limit: queryInt(1, 500, 20),
})
const EventsQuery = v.object({ after: queryInt(0, Number.MAX_SAFE_INTEGER, 0), limit: queryInt(1, 500, 100) })
/** gemini-balance's periods. */
const PERIODS = { '1m': MINUTE, '1h': HOUR, '8h': 8 * HOUR, '24h': DAY } as const
const DetailsQuery = v.object({ period: v.optional(v.picklist(Object.keys(PERIODS) as (keyof typeof PERIODS)[], 'must be 1m, 1h, 8h or 24h'), '1h') })
const AttentionQuery = v.object({ limit: queryInt(1, 1000, 20), status_code: queryInt(100, 599, 429) })
/** Rows gemini-balance's row-level views read at most (it read them all, which does not scale). */
const MAX_ROWS = 5_000

export function registerStatsRoutes(routes: AdminRoutes, { control }: AdminDeps): void {
  const { stats } = control

  routes.api('GET', '/api/stats/overview', async () => {
    const now = Date.now()
    const span = windows(now)
    const all = control.keys.list()
    const [minute, hour, day, month, latency, rows] = await Promise.all([
      stats.totals(span.minute.from, now),
      stats.totals(span.hour.from, now),
      stats.totals(span.day.from, now),
      stats.totals(span.month.from, now),
      stats.latency(now - DAY, now),
      withUsage(control, all, now),
    ])
    const keys = { total: all.length, healthy: 0, cooling: 0, disabled: 0 }
    for (const key of all) keys[key.state]++
    const cooldowns = all
      .flatMap(({ id, label, cooldowns }) => cooldowns.map(({ model, until, reason }) => ({ id, label, model, until, reason })))
      .sort((a, b) => a.until - b.until)
    return {
      windows: { minute, hour, day, month },
      keys,
      latency,
      attention: needingAttention(rows, 10),
      cooldowns,
      events: control.events.list({ limit: 20 }),
    }
  })

  routes.api('GET', '/api/stats/series', async (call) => {
    const { ms, bucketMs } = RANGES[call.query(SeriesQuery).range]
    // Whole buckets, the last one holding now.
    const to = Math.ceil(Date.now() / bucketMs) * bucketMs
    return { bucketMs, points: await stats.series(to - ms, to, bucketMs) }
  })

  routes.api('GET', '/api/stats/usage', async (call) => {
    const { by, range, limit } = call.query(UsageQuery)
    const now = Date.now()
    const [rows, labels] = await Promise.all([stats.usage(by, now - RANGES[range].ms, now, { limit }), loadLabels(control)])
    return rows.map((row) => Object.assign(row, { label: usageLabel(by, row.id, labels) }))
  })

  routes.api('GET', '/api/events', (call) => control.events.list(call.query(EventsQuery)))

  // gemini-balance: each call of the period, newest first.
  routes.api('GET', '/api/stats/details', async (call) => {
    const now = Date.now()
    const [rows, labels] = await Promise.all([recentRequests(control, { from: now - PERIODS[call.query(DetailsQuery).period] }), loadLabels(control)])
    return rows.map((row) => ({
      timestamp: new Date(row.time).toISOString(),
      key: labels.key(row.keyId),
      model: row.model,
      status: row.status !== null && row.status >= 200 && row.status < 300 ? 'success' : 'failure',
      status_code: row.status,
      latency_ms: row.latencyMs,
    }))
  })

  // gemini-balance: the held keys with the most answers of one status in the last day.
  routes.api('GET', '/api/stats/attention-keys', async (call) => {
    const { limit, status_code } = call.query(AttentionQuery)
    const rows = await recentRequests(control, { from: Date.now() - DAY, status: status_code })
    const counts = new Map<string, number>()
    for (const row of rows) counts.set(row.keyId, (counts.get(row.keyId) ?? 0) + 1)
    return control.keys
      .list()
      .flatMap((key) => (counts.has(key.id) ? [{ key: key.label, id: key.id, count: counts.get(key.id)!, status_code }] : []))
      .sort((a, b) => b.count - a.count)
      .slice(0, limit)
  })
}

/** Request log rows matching `filter`, newest first, at most MAX_ROWS. */
async function recentRequests(control: GatewayControl, filter: LogFilter): Promise<RequestLogEntry[]> {
  const rows: RequestLogEntry[] = []
  let before: number | undefined
  do {
    const page = await control.logs.requests(filter, { limit: 500, before, countLimit: 1 })
    rows.push(...page.items)
    before = page.nextBefore
  } while (before !== undefined && rows.length < MAX_ROWS)
  return rows.slice(0, MAX_ROWS)
}

/** A usage row's name; the row of requests refused before a key, model or client was known says so. */
function usageLabel(by: 'key' | 'model' | 'token', id: string, labels: Labels): string {
  if (id === '') return by === 'key' ? '(no key: refused before Google)' : by === 'model' ? '(no model: refused)' : '(no client token)'
  return by === 'key' ? labels.key(id) : by === 'token' ? labels.token(id) : id
}
