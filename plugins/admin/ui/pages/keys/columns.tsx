// The keys table's columns: the masked key (revealed on request), its state in words, strikes, last failure, the
// last 24 hours' traffic, and the per-key actions.
import { Badge } from '../../components/bits.tsx'
import { formatCompact, formatDateTime, formatNumber, formatRelative, formatTime } from '../../components/format.ts'
import { CheckIcon, CopyIcon, EyeIcon, EyeOffIcon, InfoIcon, PowerIcon, ResetIcon, TrashIcon } from '../../components/icons.tsx'
import type { Column } from '../../components/table.tsx'
import type { KeyRow } from '../../types.ts'
import type { KeyAction } from './bulk.ts'

export interface RowActions {
  revealed: ReadonlyMap<string, string>
  toggleReveal(row: KeyRow): void
  copy(secret: string): void
  open(row: KeyRow): void
  verify(row: KeyRow): void
  act(action: KeyAction, row: KeyRow): void
  /** Show each key's pool (the list spans several). */
  showPool: boolean
}

export function keyColumns(actions: RowActions): Column<KeyRow>[] {
  return [
    { id: 'key', label: 'Key', sort: 'label', class: 'key', render: (row) => <KeyCell row={row} actions={actions} /> },
    { id: 'state', label: 'State', sort: 'state', class: 'state', render: (row) => <KeyStateCell row={row} /> },
    { id: 'strikes', label: 'Strikes', sort: 'strikes', class: 'num', render: (row) => <span data-testid="key-strikes">{row.strikes}</span> },
    { id: 'failure', label: 'Last failure', render: (row) => <LastFailure row={row} /> },
    { id: 'requests', label: 'Requests', sort: 'requests', class: 'num', render: (row) => formatNumber(row.usage.requests) },
    { id: 'failures', label: 'Failures', sort: 'failures', class: 'num', render: (row) => formatNumber(row.usage.failures) },
    {
      id: 'tokens',
      label: 'Tokens',
      sort: 'tokens',
      class: 'num',
      render: (row) => <span title={formatNumber(row.usage.totalTokens)}>{formatCompact(row.usage.totalTokens)}</span>,
    },
    { id: 'actions', label: 'Actions', class: 'actions', render: (row) => <KeyActions row={row} actions={actions} /> },
  ]
}

function KeyCell({ row, actions }: { row: KeyRow; actions: RowActions }) {
  const secret = actions.revealed.get(row.id)
  return (
    <div class="key-cell">
      <button type="button" class="link mono" data-testid="key-label" onClick={() => actions.open(row)} title="Details">
        {row.label}
      </button>
      <button
        type="button"
        class="icon-button"
        aria-label={secret ? `Hide ${row.label}` : `Reveal ${row.label}`}
        aria-pressed={secret !== undefined}
        data-testid="key-reveal"
        onClick={() => actions.toggleReveal(row)}
      >
        {secret ? <EyeOffIcon /> : <EyeIcon />}
      </button>
      {row.source === 'config' && (
        <Badge tone="muted" title="From API_KEYS or gateway.config.ts: removed there, not here">
          config
        </Badge>
      )}
      {actions.showPool && <Badge tone="info">{row.pool}</Badge>}
      {secret && (
        <div class="secret">
          <code data-testid="key-secret">{secret}</code>
          <button type="button" class="icon-button" aria-label="Copy the key" data-testid="key-copy" onClick={() => actions.copy(secret)}>
            <CopyIcon />
          </button>
        </div>
      )}
    </div>
  )
}

/** healthy; cooling until T for model M and why; disabled and why; checking. */
export function KeyStateCell({ row }: { row: KeyRow }) {
  return (
    <div class="key-state" data-testid="key-state" data-state={row.state}>
      {row.state === 'healthy' && <Badge tone="ok">healthy</Badge>}
      {row.state === 'disabled' && (
        <>
          <Badge tone="bad">disabled</Badge>
          {row.disabled && (
            <small>
              {row.disabled.reason} · {formatRelative(row.disabled.at)}
            </small>
          )}
        </>
      )}
      {row.state === 'cooling' &&
        row.cooldowns.map((cooldown) => (
          <div key={cooldown.model} class="cooldown" data-testid="key-cooldown">
            <span>
              <Badge tone="warn">cooling</Badge> <span class="mono">{cooldown.model}</span>
            </span>
            <small>
              until <time title={formatDateTime(cooldown.until)}>{formatTime(cooldown.until)}</time> ({formatRelative(cooldown.until)}): {cooldown.reason}
            </small>
          </div>
        ))}
      {row.checking && (
        <Badge tone="info" testid="key-checking">
          checking…
        </Badge>
      )}
    </div>
  )
}

function LastFailure({ row }: { row: KeyRow }) {
  if (!row.lastFailure) return <span class="muted">–</span>
  return (
    <div class="last-failure" title={row.lastFailure.reason}>
      <time>{formatRelative(row.lastFailure.at)}</time>
      <small>{row.lastFailure.reason}</small>
    </div>
  )
}

function KeyActions({ row, actions }: { row: KeyRow; actions: RowActions }) {
  const disabled = row.state === 'disabled'
  return (
    <div class="row-actions">
      <button
        type="button"
        class="icon-button"
        aria-label={`Verify ${row.label}`}
        title="Verify"
        data-testid="key-verify"
        disabled={row.checking}
        onClick={() => actions.verify(row)}
      >
        <CheckIcon />
      </button>
      <button
        type="button"
        class="icon-button"
        aria-label={`Reset ${row.label}`}
        title="Reset strikes and cooldowns"
        data-testid="key-reset"
        onClick={() => actions.act('reset', row)}
      >
        <ResetIcon />
      </button>
      <button
        type="button"
        class="icon-button"
        aria-label={`${disabled ? 'Enable' : 'Disable'} ${row.label}`}
        title={disabled ? 'Enable' : 'Disable'}
        data-testid={disabled ? 'key-enable' : 'key-disable'}
        onClick={() => actions.act(disabled ? 'enable' : 'disable', row)}
      >
        <PowerIcon />
      </button>
      <button
        type="button"
        class="icon-button danger"
        aria-label={`Delete ${row.label}`}
        title={row.source === 'config' ? 'From the configuration: remove it there' : 'Delete'}
        data-testid="key-delete"
        disabled={row.source === 'config'}
        onClick={() => actions.act('delete', row)}
      >
        <TrashIcon />
      </button>
      <button
        type="button"
        class="icon-button"
        aria-label={`Details of ${row.label}`}
        title="Details"
        data-testid="key-details"
        onClick={() => actions.open(row)}
      >
        <InfoIcon />
      </button>
    </div>
  )
}
