// Columns of the request and error logs. The time opens a row's detail; the key narrows the list to that key.
import { Badge } from '../../components/bits.tsx'
import { formatCompact, formatDuration, formatNumber, formatTime } from '../../components/format.ts'
import type { Column } from '../../components/table.tsx'
import type { ErrorLogRow, RequestLogRow } from '../../types.ts'

export interface LogRowActions {
  open(id: number): void
  filterKey(keyId: string): void
}

type Shared = ErrorLogRow | RequestLogRow

function shared(actions: LogRowActions): Column<Shared>[] {
  return [
    {
      id: 'time',
      label: 'Time',
      render: (row) => (
        <button type="button" class="link nowrap" onClick={() => actions.open(row.id)} data-testid="log-open" title="Details">
          {formatTime(row.time)}
        </button>
      ),
    },
    {
      id: 'key',
      label: 'Key',
      render: (row) =>
        row.keyId ? (
          <button type="button" class="link mono nowrap" onClick={() => actions.filterKey(row.keyId)} title="Only this key's rows">
            {row.keyLabel || row.keyId}
          </button>
        ) : (
          <span class="muted">none</span>
        ),
    },
    { id: 'model', label: 'Model', render: (row) => <span class="mono nowrap">{row.model || '–'}</span> },
    { id: 'operation', label: 'Operation', render: (row) => row.operation },
    { id: 'status', label: 'Status', class: 'num', render: (row) => row.status ?? <span class="muted">none</span> },
    {
      id: 'class',
      label: 'Class',
      render: (row) => (
        <Badge tone={row.failureClass === 'ok' ? 'ok' : 'bad'} testid="log-class">
          {row.failureClass}
        </Badge>
      ),
    },
  ]
}

const tokenColumn: Column<Shared> = { id: 'token', label: 'Client', render: (row) => row.tokenName || <span class="muted">{row.tokenId || '–'}</span> }

export function requestColumns(actions: LogRowActions): Column<RequestLogRow>[] {
  return [
    ...(shared(actions) as Column<RequestLogRow>[]),
    { id: 'latency', label: 'Latency', class: 'num', render: (row) => formatDuration(row.latencyMs) },
    {
      id: 'tokens',
      label: 'Tokens',
      class: 'num',
      render: (row) => (
        <span title={`prompt ${formatNumber(row.promptTokens)}, answer ${formatNumber(row.completionTokens)}, thinking ${formatNumber(row.thinkingTokens)}`}>
          {formatCompact(row.totalTokens)}
        </span>
      ),
    },
    tokenColumn as Column<RequestLogRow>,
    { id: 'attempt', label: 'Attempt', class: 'num', render: (row) => row.attempt },
  ]
}

export function errorColumns(actions: LogRowActions): Column<ErrorLogRow>[] {
  return [...(shared(actions) as Column<ErrorLogRow>[]), tokenColumn as Column<ErrorLogRow>]
}
