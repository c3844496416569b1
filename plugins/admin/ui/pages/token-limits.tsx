// A client token's limits on the tokens page: the summary in its row, its usage against its budgets, and the editor.
import { useState } from 'preact/hooks'
import type { ClientLimits, TokenRow } from '../types.ts'
import { errorMessage, put } from '../api.ts'
import { formatCompact, formatDateTime, formatNumber, formatPercent } from '../components/format.ts'
import { Modal } from '../components/modal.tsx'

/** Models and request rates in one line ("every model" when it names none). */
export function limitsSummary(limits: ClientLimits): string {
  const parts = [limits.models?.length ? limits.models.join(', ') : 'every model']
  if (limits.rpm) parts.push(`${formatNumber(limits.rpm)}/min`)
  if (limits.rpd) parts.push(`${formatNumber(limits.rpd)}/day`)
  return parts.join(' · ')
}

/** One line of use ("today: 35 / 100"), with a meter below it when there is a budget. */
export function Budget({ label, used, budget, testid }: { label: string; used: number; budget: number | undefined; testid: string }) {
  const figures = budget ? `${formatCompact(used)} / ${formatCompact(budget)}` : formatCompact(used)
  return (
    <div data-testid={testid} title={budget ? `${formatNumber(used)} of ${formatNumber(budget)} tokens (${formatPercent(used, budget)})` : undefined}>
      <div>
        <span class="muted">{label}</span> {figures}
      </div>
      {budget ? <meter min={0} max={budget} value={Math.min(used, budget)} high={budget * 0.9} /> : null}
    </div>
  )
}

const COUNTS = [
  ['rpm', 'Requests per minute'],
  ['rpd', 'Requests per day (UTC)'],
  ['tokensPerDay', 'Tokens per day (UTC)'],
  ['tokensPerMonth', 'Tokens per month (UTC)'],
] as const

type Counts = Record<(typeof COUNTS)[number][0], string>

/** An epoch time as a datetime-local input shows it (the browser's zone). */
const localInput = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16)

/** Edits a console-created token's limits; an empty field is no limit. */
export function LimitsEditor({ token, onClose, onSaved }: { token: TokenRow; onClose(): void; onSaved(): void }) {
  const { limits } = token
  const [models, setModels] = useState((limits.models ?? []).join('\n'))
  const [counts, setCounts] = useState<Counts>(
    Object.fromEntries(COUNTS.map(([field]) => [field, limits[field] === undefined ? '' : String(limits[field])])) as Counts,
  )
  const [expires, setExpires] = useState(limits.expiresAt === undefined ? '' : localInput(limits.expiresAt))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)
  const [fields, setFields] = useState<Record<string, string>>({})

  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    setFields({})
    const next: Record<string, unknown> = {
      models: models.split(/[\s,]+/).filter(Boolean),
      expiresAt: expires ? new Date(expires).getTime() : null,
    }
    for (const [field] of COUNTS) next[field] = counts[field].trim() === '' ? null : Number(counts[field])
    try {
      await put(`/api/tokens/${encodeURIComponent(token.id)}/limits`, { limits: next })
      onSaved()
    } catch (caught) {
      setError(errorMessage(caught))
      setFields((caught as { fields?: Record<string, string> }).fields ?? {})
    } finally {
      setBusy(false)
    }
  }

  return (
    <Modal title={`Limits of ${token.name}`} onClose={onClose} testid="token-limits">
      <form onSubmit={submit} class="stack">
        <p class="muted">Empty fields are no limit. Days and months are UTC; token budgets count the answers’ total tokens.</p>
        <label class="field">
          <span>Models (one per line; a trailing * matches a prefix; none: every model)</span>
          <textarea
            rows={3}
            value={models}
            onInput={(event) => setModels(event.currentTarget.value)}
            placeholder="gemini-2.5-flash&#10;gemini-2.5-pro*"
            spellcheck={false}
            class="mono"
            data-testid="token-limits-models"
          />
          {fields['limits.models'] && <small class="form-error">{fields['limits.models']}</small>}
        </label>
        {COUNTS.map(([field, label]) => (
          <label class="field" key={field}>
            <span>{label}</span>
            <input
              type="number"
              min={1}
              step={1}
              inputMode="numeric"
              value={counts[field]}
              onInput={(event) => setCounts({ ...counts, [field]: event.currentTarget.value })}
              data-testid={`token-limits-${field}`}
            />
            {fields[`limits.${field}`] && <small class="form-error">{fields[`limits.${field}`]}</small>}
          </label>
        ))}
        <label class="field">
          <span>Expires (your time zone; empty: never)</span>
          <input type="datetime-local" value={expires} onInput={(event) => setExpires(event.currentTarget.value)} data-testid="token-limits-expires" />
          {limits.expiresAt !== undefined && <small class="muted">now: {formatDateTime(limits.expiresAt)}</small>}
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="form-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={busy} data-testid="token-limits-save">
            {busy ? 'Saving…' : 'Save limits'}
          </button>
        </div>
      </form>
    </Modal>
  )
}
