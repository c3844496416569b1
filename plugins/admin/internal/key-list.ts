// The keys page's list: every key with its last day of traffic, searched, filtered, sorted and cut into pages. Done
// in memory over `control.keys.list()`, which stays cheap at thousands of keys; the usage comes in one grouped query.
import type { GatewayControl, KeyRow, KeyState, KeyView, UsageRow } from './types.ts'
import { DAY } from './windows.ts'

export const KEY_SORTS = ['label', 'state', 'strikes', 'requests', 'failures', 'tokens'] as const
export type KeySort = (typeof KEY_SORTS)[number]

export interface KeyListQuery {
  page: number
  limit: number
  /** Part of the label or the id, any case. */
  search?: string
  state: 'all' | KeyState
  pool?: string
  sort: KeySort
  order: 'asc' | 'desc'
  /** gemini-balance's `fail_count_threshold`: only keys with at least this many strikes. */
  minStrikes?: number
}

export interface KeyPage {
  items: KeyRow[]
  total: number
  page: number
  pages: number
  /** For the state tabs: the keys of each state among those the search and pool select. */
  counts: Record<'all' | KeyState, number>
  pools: string[]
}

/** The keys with their traffic of the last 24 hours. */
export async function withUsage(control: GatewayControl, keys: readonly KeyView[], now = Date.now()): Promise<KeyRow[]> {
  if (keys.length === 0) return []
  // One more than the keys: requests refused before a key was chosen are a row of their own (id '').
  const rows = await control.stats.usage('key', now - DAY, now, { limit: keys.length + 1 })
  const byId = new Map(rows.map((row) => [row.id, row]))
  return keys.map((key) => ({ ...key, usage: usageOf(byId.get(key.id)) }))
}

export function usageOf(row: UsageRow | undefined): KeyRow['usage'] {
  return { requests: row?.requests ?? 0, failures: row?.failures ?? 0, totalTokens: row?.totalTokens ?? 0 }
}

export function listKeys(rows: readonly KeyRow[], query: KeyListQuery): KeyPage {
  const search = query.search?.trim().toLowerCase()
  const selected = rows.filter(
    (row) =>
      (!query.pool || row.pool === query.pool) &&
      (!search || row.label.toLowerCase().includes(search) || row.id.toLowerCase().includes(search)) &&
      (query.minStrikes === undefined || row.strikes >= query.minStrikes),
  )
  const counts = { all: selected.length, healthy: 0, cooling: 0, disabled: 0 }
  for (const row of selected) counts[row.state]++
  const shown = query.state === 'all' ? selected : selected.filter((row) => row.state === query.state)
  const sign = query.order === 'desc' ? -1 : 1
  const by = SORT_VALUES[query.sort]
  const sorted = shown.toSorted((a, b) => sign * compare(by(a), by(b)) || compare(a.label, b.label))
  const pages = Math.max(1, Math.ceil(sorted.length / query.limit))
  const page = Math.min(query.page, pages)
  return {
    items: sorted.slice((page - 1) * query.limit, page * query.limit),
    total: sorted.length,
    page,
    pages,
    counts,
    pools: [...new Set(rows.map((row) => row.pool))],
  }
}

const STATE_ORDER: Record<KeyState, number> = { healthy: 0, cooling: 1, disabled: 2 }

const SORT_VALUES: Record<KeySort, (row: KeyRow) => string | number> = {
  label: (row) => row.label,
  state: (row) => STATE_ORDER[row.state],
  strikes: (row) => row.strikes,
  requests: (row) => row.usage.requests,
  failures: (row) => row.usage.failures,
  tokens: (row) => row.usage.totalTokens,
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The keys that need a look, worst first, at most `limit`: disabled ones, then cooling ones, then those with the most
 * failures in the last day.
 */
export function needingAttention(rows: readonly KeyRow[], limit: number): KeyRow[] {
  return rows
    .filter((row) => row.state !== 'healthy' || row.usage.failures > 0)
    .toSorted((a, b) => STATE_ORDER[b.state] - STATE_ORDER[a.state] || b.usage.failures - a.usage.failures)
    .slice(0, limit)
}
