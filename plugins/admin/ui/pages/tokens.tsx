// Client tokens: the configured ones (ALLOWED_TOKENS, clientTokens in gateway.config.ts) and the ones made here, each
// shown once at creation; their limits and their usage today and this month; enable, disable, edit limits, delete.
import { useState } from 'preact/hooks'
import type { TokenRow } from '../types.ts'
import { get, post } from '../api.ts'
import { Badge, LoadState, PageHeader } from '../components/bits.tsx'
import { copyText } from '../components/clipboard.ts'
import { formatNumber, formatTime } from '../components/format.ts'
import { confirmAction, Modal } from '../components/modal.tsx'
import { DataTable, type Column } from '../components/table.tsx'
import { toast } from '../components/toast.tsx'
import { useAction, useLoad } from '../components/use-load.ts'
import type { TokenCreated } from '../types.ts'
import { Budget, LimitsEditor, limitsSummary } from './token-limits.tsx'

export function TokensPage() {
  const tokens = useLoad(() => get<TokenRow[]>('/api/tokens'), [])
  const [name, setName] = useState('')
  const [created, setCreated] = useState<TokenCreated | undefined>(undefined)
  const [editing, setEditing] = useState<TokenRow | undefined>(undefined)
  const { busy, run } = useAction(() => void tokens.reload())
  const create = (event: Event) => {
    event.preventDefault()
    void run(async () => {
      setCreated(await post<TokenCreated>('/api/tokens', { name: name.trim() }))
      setName('')
    })
  }
  const setEnabled = (token: TokenRow, enabled: boolean) =>
    void run(async () => {
      await post(`/api/tokens/${encodeURIComponent(token.id)}/${enabled ? 'enable' : 'disable'}`)
      toast(`${token.name} ${enabled ? 'enabled' : 'disabled'}`, 'ok')
    })
  const remove = async (token: TokenRow) => {
    const ok = await confirmAction({
      title: `Delete ${token.name}?`,
      message: 'Clients using this token are refused from now on.',
      confirmLabel: 'Delete',
      danger: true,
    })
    if (!ok) return
    void run(async () => {
      const answer = await post<{ removed: string[]; refused: string[] }>('/api/tokens/delete', { ids: [token.id] })
      toast(
        answer.removed.length ? `${token.name} deleted` : `${token.name} is configured outside the console: remove it there`,
        answer.removed.length ? 'ok' : 'error',
      )
    })
  }

  const columns: Column<TokenRow>[] = [
    { id: 'name', label: 'Name', render: (token) => <strong data-testid="token-name">{token.name}</strong> },
    { id: 'label', label: 'Token', render: (token) => <span class="mono">{token.label}</span> },
    {
      id: 'source',
      label: 'Source',
      render: (token) => <Badge tone={token.source === 'console' ? 'ok' : 'muted'}>{token.source === 'console' ? 'console' : 'configuration'}</Badge>,
    },
    { id: 'limits', label: 'Models and rates', render: (token) => <span data-testid="token-limits-summary">{limitsSummary(token.limits)}</span> },
    {
      id: 'usage',
      label: 'Tokens used (UTC)',
      render: (token) => (
        <div title={`${formatNumber(token.usage.requestsToday)} requests today`}>
          <Budget label="today" used={token.usage.tokensToday} budget={token.limits.tokensPerDay} testid="token-usage-day" />
          <Budget label="this month" used={token.usage.tokensThisMonth} budget={token.limits.tokensPerMonth} testid="token-usage-month" />
        </div>
      ),
    },
    {
      id: 'expires',
      label: 'Expires',
      render: (token) =>
        token.limits.expiresAt === undefined ? (
          <span class="muted">never</span>
        ) : (
          <span class={token.limits.expiresAt <= Date.now() ? 'stat-bad' : undefined}>{formatTime(token.limits.expiresAt)}</span>
        ),
    },
    { id: 'created', label: 'Created', render: (token) => formatTime(token.createdAt) },
    {
      id: 'enabled',
      label: 'State',
      render: (token) => (
        <Badge tone={token.enabled ? 'ok' : 'bad'} testid="token-state">
          {token.enabled ? 'enabled' : 'disabled'}
        </Badge>
      ),
    },
    {
      id: 'actions',
      label: 'Actions',
      class: 'actions',
      render: (token) =>
        token.source === 'console' ? (
          <div class="row-actions">
            <button type="button" class="button small" disabled={busy} onClick={() => setEditing(token)} data-testid="token-edit-limits">
              Limits
            </button>
            <button
              type="button"
              class="button small"
              disabled={busy}
              onClick={() => setEnabled(token, !token.enabled)}
              data-testid={token.enabled ? 'token-disable' : 'token-enable'}
            >
              {token.enabled ? 'Disable' : 'Enable'}
            </button>
            <button type="button" class="button small danger" disabled={busy} onClick={() => void remove(token)} data-testid="token-delete">
              Delete
            </button>
          </div>
        ) : (
          <span class="muted">change it in the configuration</span>
        ),
    },
  ]

  return (
    <div class="page" data-testid="tokens-page">
      <PageHeader title="Client tokens" />
      <form class="toolbar" onSubmit={create}>
        <label class="field inline grow">
          <span>New token's name</span>
          <input
            type="text"
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
            placeholder="laptop, ci, alice"
            required
            maxLength={100}
            data-testid="tokens-create-name"
          />
        </label>
        <button type="submit" class="button primary" disabled={busy || !name.trim()} data-testid="tokens-create">
          Create token
        </button>
      </form>
      <LoadState loading={tokens.loading && !tokens.data} error={tokens.error} retry={tokens.reload} />
      {tokens.data && (
        <DataTable
          testid="tokens-table"
          rowTestid="token-row"
          columns={columns}
          rows={tokens.data}
          rowKey={(token) => token.id}
          rowLabel={(token) => token.name}
          rowData={(token) => ({ enabled: String(token.enabled), source: token.source })}
          empty="No client token yet: the API refuses every request until one exists."
        />
      )}
      {editing && (
        <LimitsEditor
          token={editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            toast(`Limits of ${editing.name} saved`, 'ok')
            setEditing(undefined)
            void tokens.reload()
          }}
        />
      )}
      {created && (
        <Modal title={`Token "${created.view.name}" created`} onClose={() => setCreated(undefined)} testid="new-token">
          <p>Copy it now: only its hash is kept, it is not shown again.</p>
          <p class="secret-box">
            <code data-testid="new-token-value">{created.token}</code>
          </p>
          <div class="form-actions">
            <button
              type="button"
              class="button primary"
              onClick={() => void copyText(created.token).then((ok) => toast(ok ? 'Copied' : 'The browser refused to copy', ok ? 'ok' : 'error'))}
              data-testid="new-token-copy"
            >
              Copy
            </button>
            <button type="button" class="button" onClick={() => setCreated(undefined)} data-testid="new-token-done">
              Done
            </button>
          </div>
        </Modal>
      )}
    </div>
  )
}
