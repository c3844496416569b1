// Actions over many keys: the ids of every key a filter matches (read page by page), verification in batches of 10 so
// a progress bar moves, and the other actions in chunks the server takes in one request.
import { get, post } from '../../api.ts'
import type { KeyActionResult, KeyPage, KeyStateFilter, VerifyResult } from '../../types.ts'

export interface KeyQuery {
  search: string
  state: KeyStateFilter
  pool: string
}

export type KeyAction = 'reset' | 'enable' | 'disable' | 'delete'

const VERIFY_BATCH = 10
/** Ids per request for the other actions and reveal. */
const CHUNK = 500

/** Every key matching the filter: id → label (labels name them in summaries). */
export async function collectKeys({ search, state, pool }: KeyQuery): Promise<Map<string, string>> {
  const keys = new Map<string, string>()
  for (let page = 1; ; page++) {
    const answer = await get<KeyPage>('/api/keys', { page, limit: CHUNK, search, state, pool, sort: 'label', order: 'asc' })
    for (const row of answer.items) keys.set(row.id, row.label)
    if (page >= answer.pages || answer.items.length === 0) return keys
  }
}

/** Verifies in batches of 10, reporting after each; stops between batches when `signal` aborts. */
export async function verifyKeys(ids: readonly string[], onProgress: (results: VerifyResult[]) => void, signal: AbortSignal): Promise<VerifyResult[]> {
  const results: VerifyResult[] = []
  for (let i = 0; i < ids.length && !signal.aborted; i += VERIFY_BATCH) {
    const answer = await post<{ results: VerifyResult[] }>('/api/keys/verify', { ids: ids.slice(i, i + VERIFY_BATCH) })
    results.push(...answer.results)
    onProgress([...results])
  }
  return results
}

export async function applyKeyAction(action: KeyAction, ids: readonly string[]): Promise<KeyActionResult> {
  const total: KeyActionResult = { done: [], notFound: [], refused: [] }
  for (let i = 0; i < ids.length; i += CHUNK) {
    const answer = await post<KeyActionResult>(`/api/keys/${action}`, { ids: ids.slice(i, i + CHUNK) })
    total.done.push(...answer.done)
    total.notFound.push(...answer.notFound)
    total.refused.push(...answer.refused)
  }
  return total
}

export async function revealKeys(ids: readonly string[]): Promise<Record<string, string>> {
  const secrets: Record<string, string> = {}
  for (let i = 0; i < ids.length; i += CHUNK) {
    const answer = await post<{ keys: Record<string, string> }>('/api/keys/reveal', { ids: ids.slice(i, i + CHUNK) })
    Object.assign(secrets, answer.keys)
  }
  return secrets
}

/** Results by the judge's class, the largest group first ('ok' last: what needs a look comes first). */
export function groupByClass(results: readonly VerifyResult[]): Array<[string, VerifyResult[]]> {
  const groups = new Map<string, VerifyResult[]>()
  for (const result of results) {
    const group = groups.get(result.class)
    if (group) group.push(result)
    else groups.set(result.class, [result])
  }
  return [...groups].sort(([a, x], [b, y]) => Number(a === 'ok') - Number(b === 'ok') || y.length - x.length)
}

const PAST: Record<KeyAction, string> = { reset: 'reset', enable: 'enabled', disable: 'disabled', delete: 'deleted' }

/** "3 keys reset, 1 refused: a key from API_KEYS cannot be deleted here". */
export function describeResult(action: KeyAction, result: KeyActionResult): string {
  const parts = [`${result.done.length} ${result.done.length === 1 ? 'key' : 'keys'} ${PAST[action]}`]
  if (result.notFound.length) parts.push(`${result.notFound.length} no longer exist`)
  if (result.refused.length) {
    const reasons = [...new Set(result.refused.map((r) => r.reason))].join('; ')
    parts.push(`${result.refused.length} refused: ${reasons}`)
  }
  return parts.join(', ')
}
