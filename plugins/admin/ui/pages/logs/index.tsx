// Logs: request and error logs, filtered, newest first with keyset paging (as fast on page 500 as on page 1), a
// detail drawer, and deleting selected rows or every row.
import { useEffect, useState } from 'preact/hooks'
import { del, errorMessage, get } from '../../api.ts'
import { LoadState, PageHeader, Tabs } from '../../components/bits.tsx'
import { confirmAction } from '../../components/modal.tsx'
import { KeysetPager } from '../../components/pager.tsx'
import { DataTable, type Column } from '../../components/table.tsx'
import { toast } from '../../components/toast.tsx'
import { useDebounced, useLoad } from '../../components/use-load.ts'
import { replaceQuery, type Route } from '../../router.ts'
import type { ErrorLogRow, LogPage, RequestLogRow } from '../../types.ts'
import { errorColumns, requestColumns, type LogRowActions } from './columns.tsx'
import { LogDetail, type Opened } from './detail.tsx'
import { FilterBar, filterQuery, NO_FILTERS, type LogFilters } from './filters.tsx'

type Kind = 'requests' | 'errors'
type Row = RequestLogRow | ErrorLogRow

const LIMIT = 50

export function LogsPage({ route }: { route: Route }) {
  const [kind, setKind] = useState<Kind>(route.query.get('tab') === 'errors' ? 'errors' : 'requests')
  const [filters, setFilters] = useState<LogFilters>({ ...NO_FILTERS, key: route.query.get('key') ?? '' })
  /** `before` of each page shown after the newest: keyset paging has no page numbers, only a way back. */
  const [befores, setBefores] = useState<number[]>([])
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const openId = Number(route.query.get('open'))
  const [opened, setOpened] = useState<Opened | undefined>(openId ? { kind, id: openId } : undefined)
  const [busy, setBusy] = useState(false)

  const settled = useDebounced(filters, 300)
  useEffect(() => {
    setBefores([])
    setSelected(new Set())
  }, [settled, kind])
  useEffect(() => replaceQuery({ tab: kind === 'requests' ? undefined : kind, key: settled.key || undefined, open: undefined }), [kind, settled.key])

  const before = befores[befores.length - 1]
  const page = useLoad(
    async () => ({ kind, page: await get<LogPage<Row>>(`/api/logs/${kind}`, { ...filterQuery(settled), before, limit: LIMIT }) }),
    [kind, settled, before],
  )
  // Right after a tab switch the rows of the other log are still loaded: never shown (or opened) as this log's.
  const data = page.data?.kind === kind ? page.data.page : undefined
  const rows = data?.items ?? []

  const actions: LogRowActions = {
    open: (id) => setOpened({ kind, id }),
    filterKey: (keyId) => setFilters((current) => ({ ...current, key: keyId })),
  }
  const columns = (kind === 'requests' ? requestColumns(actions) : errorColumns(actions)) as Column<Row>[]

  const remove = async (what: 'selected' | 'all') => {
    const count = what === 'all' ? 'every' : String(selected.size)
    const ok = await confirmAction({
      title: `Delete ${count} ${kind === 'requests' ? 'request' : 'error'} log ${what === 'all' || selected.size !== 1 ? 'rows' : 'row'}?`,
      message:
        what === 'all'
          ? `Every row of the ${kind === 'requests' ? 'request' : 'error'} log is deleted, whatever the filters. Statistics are kept.`
          : 'Statistics are kept.',
      confirmLabel: 'Delete',
      danger: true,
    })
    if (!ok) return
    setBusy(true)
    try {
      const body = what === 'all' ? { all: true } : { ids: [...selected].map(Number) }
      const { deleted } = await del<{ deleted: number }>(`/api/logs/${kind}`, body)
      toast(`${deleted} ${deleted === 1 ? 'row' : 'rows'} deleted`, 'ok')
      setSelected(new Set())
      setBefores([])
      await page.reload()
    } catch (error) {
      toast(errorMessage(error), 'error')
    } finally {
      setBusy(false)
    }
  }

  const total = data ? `${data.total}${data.totalCapped ? '+' : ''}` : ''
  return (
    <div class="page" data-testid="logs-page">
      <PageHeader title="Logs">
        <button type="button" class="button small" onClick={() => void page.reload()} data-testid="logs-refresh">
          Refresh
        </button>
      </PageHeader>
      <Tabs<Kind>
        label="Log"
        testid="logs-tab"
        active={kind}
        onChange={setKind}
        items={[
          { id: 'requests', label: 'Requests' },
          { id: 'errors', label: 'Errors' },
        ]}
      />
      <FilterBar filters={filters} onChange={setFilters} />
      <div class="toolbar bulk">
        <button
          type="button"
          class="button danger"
          disabled={busy || selected.size === 0}
          onClick={() => void remove('selected')}
          data-testid="logs-delete-selected"
        >
          Delete selected ({selected.size})
        </button>
        <button type="button" class="button danger" disabled={busy} onClick={() => void remove('all')} data-testid="logs-delete-all">
          Delete all
        </button>
      </div>
      <LoadState loading={page.loading && !data} error={page.error} retry={page.reload} />
      <DataTable
        testid="logs-table"
        rowTestid="log-row"
        columns={columns}
        rows={rows}
        rowKey={(row) => String(row.id)}
        rowLabel={(row) => `${kind === 'requests' ? 'Request' : 'Error'} #${row.id}`}
        rowData={(row) => ({ class: row.failureClass, status: String(row.status ?? '') })}
        selection={{ selected, onChange: setSelected }}
        empty={kind === 'requests' ? 'No request matches.' : 'No error matches.'}
        busy={page.loading}
      />
      {data && (
        <KeysetPager
          depth={befores.length}
          hasOlder={data.nextBefore !== undefined}
          onNewest={() => setBefores([])}
          onNewer={() => setBefores((stack) => stack.slice(0, -1))}
          onOlder={() => data.nextBefore !== undefined && setBefores((stack) => [...stack, data.nextBefore!])}
          summary={`${rows.length} shown of ${total} matching`}
        />
      )}
      {opened && <LogDetail opened={opened} onOpen={setOpened} onClose={() => setOpened(undefined)} />}
    </div>
  )
}
