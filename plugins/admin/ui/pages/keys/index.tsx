// Keys: every key of every pool with its health, paged by the server (fast at 5,000 keys), and the operator's
// actions on one key, the selected ones or every key the filter matches.
import { useEffect, useRef, useState } from 'preact/hooks'
import { errorMessage, get, post } from '../../api.ts'
import { LoadState, PageHeader, Tabs } from '../../components/bits.tsx'
import { copyText } from '../../components/clipboard.ts'
import { CopyBox } from '../../components/copy-box.tsx'
import { confirmAction } from '../../components/modal.tsx'
import { Pager } from '../../components/pager.tsx'
import { DataTable, type SortOrder } from '../../components/table.tsx'
import { toast } from '../../components/toast.tsx'
import { useAction, useDebounced, useInterval, useLoad } from '../../components/use-load.ts'
import { replaceQuery, type Route } from '../../router.ts'
import type { KeyPage, KeyRow, KeyStateFilter, VerifyResult } from '../../types.ts'
import { useSession } from '../../session.ts'
import { AddKeys, addablePools } from './add-keys.tsx'
import { applyKeyAction, collectKeys, describeResult, revealKeys, verifyKeys, type KeyAction } from './bulk.ts'
import { keyColumns } from './columns.tsx'
import { KeyDetail } from './detail.tsx'
import { VerifyPanel, type VerifyRun } from './verify-panel.tsx'

const STATES: KeyStateFilter[] = ['all', 'healthy', 'cooling', 'disabled']

export function KeysPage({ route }: { route: Route }) {
  const session = useSession()
  const [search, setSearch] = useState(route.query.get('search') ?? '')
  const [state, setState] = useState<KeyStateFilter>(STATES.find((s) => s === route.query.get('state')) ?? 'all')
  const [pool, setPool] = useState(route.query.get('pool') ?? '')
  const [sort, setSort] = useState<{ by: string; order: SortOrder }>({ by: 'label', order: 'asc' })
  const [page, setPage] = useState(1)
  const [limit, setLimit] = useState(50)
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [scope, setScope] = useState<'selected' | 'all'>('selected')
  const [revealed, setRevealed] = useState<Map<string, string>>(new Map())
  const [adding, setAdding] = useState(false)
  const [detail, setDetail] = useState<KeyRow | undefined>(undefined)
  const [verifyRun, setVerifyRun] = useState<VerifyRun | undefined>(undefined)
  const { busy, run } = useAction()
  const [copyFallback, setCopyFallback] = useState<string | undefined>(undefined)
  const stopVerify = useRef<AbortController | undefined>(undefined)
  /** Labels of every key seen, so a selection spanning pages can be named. */
  const labels = useRef(new Map<string, string>())

  const query = useDebounced(search.trim(), 250)
  useEffect(() => setPage(1), [query, state, pool, limit, sort])
  useEffect(() => replaceQuery({ search: query || undefined, state: state === 'all' ? undefined : state, pool: pool || undefined }), [query, state, pool])

  const keys = useLoad(
    () => get<KeyPage>('/api/keys', { page, limit, search: query, state, pool, sort: sort.by, order: sort.order }),
    [page, limit, query, state, pool, sort.by, sort.order],
  )
  const data = keys.data
  const rows = data?.items ?? []
  for (const row of rows) labels.current.set(row.id, row.label)
  // A check in progress (a verify, the scheduled re-check) shows its outcome without a manual refresh, a cooldown its end.
  const checking = rows.some((row) => row.checking)
  useInterval(() => void keys.reload(), checking ? 3000 : 10_000, checking || rows.some((row) => row.state === 'cooling'))

  const targets = async (): Promise<Map<string, string>> =>
    scope === 'all' ? collectKeys({ search: query, state, pool }) : new Map([...selected].map((id) => [id, labels.current.get(id) ?? id]))
  const count = scope === 'all' ? (data?.total ?? 0) : selected.size

  const act = async (action: KeyAction, ids: Map<string, string>) => {
    if (ids.size === 0) return
    const what = ids.size === 1 ? [...ids.values()][0]! : `${ids.size} keys`
    if (action === 'delete' || action === 'disable' || ids.size > 1) {
      const ok = await confirmAction({
        title: `${action[0]!.toUpperCase()}${action.slice(1)} ${what}?`,
        message: CONFIRM[action],
        confirmLabel: `${action[0]!.toUpperCase()}${action.slice(1)}`,
        danger: action === 'delete' || action === 'disable',
      })
      if (!ok) return
    }
    await run(async () => {
      const result = await applyKeyAction(action, [...ids.keys()])
      toast(describeResult(action, result), result.refused.length ? 'error' : 'ok')
      if (action === 'delete') setSelected((current) => new Set([...current].filter((id) => !result.done.includes(id))))
    })
    void keys.reload()
  }

  const verify = async (ids: Map<string, string>) => {
    if (ids.size === 0) return
    if (ids.size > 10 && !(await confirmAction({ title: `Verify ${ids.size} keys?`, message: CONFIRM.verify, confirmLabel: 'Verify' }))) return
    const controller = new AbortController()
    stopVerify.current = controller
    const base = { total: ids.size, labels: ids }
    setVerifyRun({ ...base, results: [], running: true })
    let results: VerifyResult[] = []
    try {
      results = await verifyKeys([...ids.keys()], (done) => setVerifyRun({ ...base, results: done, running: true }), controller.signal)
    } catch (error) {
      toast(errorMessage(error), 'error')
    }
    setVerifyRun((run) => (run ? { ...run, running: false, results: results.length ? results : run.results } : run))
    void keys.reload()
  }

  const verifyOne = async (row: KeyRow) => {
    try {
      const [result] = (await post<{ results: VerifyResult[] }>('/api/keys/verify', { ids: [row.id] })).results
      if (result) toast(`${row.label}: ${result.ok ? 'accepted' : result.class}${result.message ? ` (${result.message})` : ''}`, result.ok ? 'ok' : 'error')
    } catch (error) {
      toast(errorMessage(error), 'error')
    }
    void keys.reload()
  }

  const copy = async (ids: Map<string, string>) => {
    try {
      const secrets = await revealKeys([...ids.keys()])
      const text = [...ids.keys()].flatMap((id) => secrets[id] ?? []).join('\n')
      if (await copyText(text)) toast(`Copied ${text ? text.split('\n').length : 0} keys`, 'ok')
      else setCopyFallback(text)
    } catch (error) {
      toast(errorMessage(error), 'error')
    }
  }

  const toggleReveal = async (row: KeyRow) => {
    if (revealed.has(row.id)) {
      setRevealed((current) => withoutKey(current, row.id))
      return
    }
    try {
      const secret = (await revealKeys([row.id]))[row.id]
      if (secret) setRevealed((current) => new Map(current).set(row.id, secret))
    } catch (error) {
      toast(errorMessage(error), 'error')
    }
  }

  const columns = keyColumns({
    revealed,
    toggleReveal: (row) => void toggleReveal(row),
    copy: (secret) => void copyText(secret).then((ok) => toast(ok ? 'Copied' : 'The browser refused to copy', ok ? 'ok' : 'error')),
    open: setDetail,
    verify: (row) => void verifyOne(row),
    act: (action, row) => void act(action, new Map([[row.id, row.label]])),
    showPool: (data?.pools.length ?? 0) > 1 && !pool,
  })

  const runBulk = (work: (ids: Map<string, string>) => Promise<void>) => run(async () => work(await targets()))

  return (
    <div class="page" data-testid="keys-page">
      <PageHeader title="Keys">
        <button type="button" class="button primary" onClick={() => setAdding(true)} data-testid="keys-add">
          Add keys
        </button>
      </PageHeader>

      {data && data.pools.length > 1 && (
        <Tabs
          label="Pools"
          testid="keys-pool"
          active={pool || 'all'}
          onChange={(id) => setPool(id === 'all' ? '' : id)}
          items={[{ id: 'all', label: 'All pools' }, ...data.pools.map((name) => ({ id: name, label: name }))]}
        />
      )}

      <div class="toolbar">
        <label class="field inline grow">
          <span class="visually-hidden">Search keys</span>
          <input
            type="search"
            placeholder="Search by key or id"
            value={search}
            onInput={(event) => setSearch(event.currentTarget.value)}
            data-testid="keys-search"
          />
        </label>
        <div class="segmented" role="group" aria-label="Filter by state" data-testid="keys-state-filter">
          {STATES.map((name) => (
            <button key={name} type="button" aria-pressed={state === name} onClick={() => setState(name)} data-testid={`keys-state-${name}`}>
              {name} <span class="count">{data?.counts[name] ?? ''}</span>
            </button>
          ))}
        </div>
      </div>

      <div class="toolbar bulk" data-testid="keys-bulk">
        <label class="field inline">
          <span>Apply to</span>
          <select value={scope} onChange={(event) => setScope(event.currentTarget.value as 'selected' | 'all')} data-testid="keys-scope">
            <option value="selected">selected keys ({selected.size})</option>
            <option value="all">all {data?.total ?? ''} keys matching the filter</option>
          </select>
        </label>
        <button type="button" class="button" disabled={busy || !count} onClick={() => void runBulk(verify)} data-testid="keys-bulk-verify">
          Verify
        </button>
        {(['reset', 'enable', 'disable', 'delete'] as const).map((action) => (
          <button
            key={action}
            type="button"
            class={`button${action === 'delete' ? ' danger' : ''}`}
            disabled={busy || !count}
            onClick={() => void runBulk((ids) => act(action, ids))}
            data-testid={`keys-bulk-${action}`}
          >
            {action[0]!.toUpperCase() + action.slice(1)}
          </button>
        ))}
        <button type="button" class="button" disabled={busy || !count} onClick={() => void runBulk(copy)} data-testid="keys-bulk-copy">
          Copy
        </button>
        {selected.size > 0 && (
          <button type="button" class="button link" onClick={() => setSelected(new Set())} data-testid="keys-clear-selection">
            Clear selection
          </button>
        )}
      </div>

      <LoadState loading={keys.loading && !data} error={keys.error} retry={keys.reload} />
      <DataTable
        testid="keys-table"
        rowTestid="key-row"
        columns={columns}
        rows={rows}
        rowKey={(row) => row.id}
        rowLabel={(row) => row.label}
        rowData={(row) => ({ state: row.state, checking: String(row.checking), pool: row.pool })}
        selection={{ selected, onChange: setSelected }}
        sort={{
          ...sort,
          onSort: (by) => setSort((s) => ({ by, order: s.by === by ? (s.order === 'asc' ? 'desc' : 'asc') : by === 'label' ? 'asc' : 'desc' })),
        }}
        empty={!data ? 'Loading…' : data.counts.all === 0 && !query ? 'No keys yet: add some by pasting them.' : 'No key matches.'}
        busy={keys.loading}
      />
      <p class="muted table-note">Requests, failures and tokens: the last 24 hours.</p>
      {data && <Pager page={data.page} pages={data.pages} total={data.total} limit={limit} onPage={setPage} onLimit={setLimit} noun="keys" />}

      {adding && <AddKeys pools={addablePools(data?.pools ?? [], session.plugins)} onClose={() => setAdding(false)} onAdded={() => void keys.reload()} />}
      {detail && <KeyDetail row={detail} onClose={() => setDetail(undefined)} />}
      {copyFallback !== undefined && <CopyBox title="Keys to copy" text={copyFallback} onClose={() => setCopyFallback(undefined)} />}
      {verifyRun && <VerifyPanel run={verifyRun} onCancel={() => stopVerify.current?.abort()} onClose={() => setVerifyRun(undefined)} />}
    </div>
  )
}

const CONFIRM: Record<KeyAction | 'verify', string> = {
  delete: 'Deleted keys are gone from the database. Keys from API_KEYS or gateway.config.ts are not deleted here: remove them there.',
  disable: 'Disabled keys serve nothing until enabled again; the scheduled re-check does not bring back a key an operator disabled.',
  reset: 'Clears strikes, cooldowns and any disable.',
  enable: 'Puts the keys back in rotation.',
  verify: 'Sends one small request with each key, 10 at a time. Progress is shown; you can stop between batches.',
}

function withoutKey<K, V>(map: ReadonlyMap<K, V>, key: K): Map<K, V> {
  const next = new Map(map)
  next.delete(key)
  return next
}
