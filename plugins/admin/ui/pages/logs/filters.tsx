// The log filters: time range, key, model, status, failure class, client token and text. Turned into the API's
// query at load time, so "last hour" always means the hour before the request.
import { get } from '../../api.ts'
import { useLoad } from '../../components/use-load.ts'
import { FAILURE_CLASSES, type TokenView } from '../../types.ts'

export interface LogFilters {
  range: 'any' | '15m' | '1h' | '24h' | '7d' | 'custom'
  /** datetime-local values, for 'custom'. */
  from: string
  to: string
  key: string
  model: string
  status: string
  class: string
  token: string
  text: string
}

export const NO_FILTERS: LogFilters = { range: 'any', from: '', to: '', key: '', model: '', status: '', class: '', token: '', text: '' }

const SPANS: Record<string, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 }

export function filterQuery(filters: LogFilters, now = Date.now()): Record<string, string | number | undefined> {
  const span = SPANS[filters.range]
  const from = span ? now - span : filters.range === 'custom' && filters.from ? new Date(filters.from).getTime() : undefined
  const to = filters.range === 'custom' && filters.to ? new Date(filters.to).getTime() : undefined
  return {
    from,
    to,
    key: filters.key.trim(),
    model: filters.model.trim(),
    status: filters.status.trim(),
    class: filters.class,
    token: filters.token,
    text: filters.text.trim(),
  }
}

export function FilterBar({ filters, onChange }: { filters: LogFilters; onChange(next: LogFilters): void }) {
  const tokens = useLoad(() => get<TokenView[]>('/api/tokens'), [])
  const set = (name: keyof LogFilters) => (event: { currentTarget: { value: string } }) => onChange({ ...filters, [name]: event.currentTarget.value })
  const active = Object.entries(filters).some(([name, value]) => value !== NO_FILTERS[name as keyof LogFilters])
  return (
    <fieldset class="filters" data-testid="logs-filters">
      <legend class="visually-hidden">Filters</legend>
      <label class="field">
        <span>Time</span>
        <select value={filters.range} onChange={set('range')} data-testid="logs-filter-range">
          <option value="any">Any time</option>
          <option value="15m">Last 15 minutes</option>
          <option value="1h">Last hour</option>
          <option value="24h">Last 24 hours</option>
          <option value="7d">Last 7 days</option>
          <option value="custom">Between…</option>
        </select>
      </label>
      {filters.range === 'custom' && (
        <>
          <label class="field">
            <span>From</span>
            <input type="datetime-local" value={filters.from} onInput={set('from')} data-testid="logs-filter-from" />
          </label>
          <label class="field">
            <span>To</span>
            <input type="datetime-local" value={filters.to} onInput={set('to')} data-testid="logs-filter-to" />
          </label>
        </>
      )}
      <label class="field">
        <span>Key id</span>
        <input type="text" value={filters.key} onInput={set('key')} spellcheck={false} placeholder="click a key in a row" data-testid="logs-filter-key" />
      </label>
      <label class="field">
        <span>Model</span>
        <input type="text" value={filters.model} onInput={set('model')} spellcheck={false} placeholder="gemini-2.5-flash" data-testid="logs-filter-model" />
      </label>
      <label class="field narrow">
        <span>Status</span>
        <input type="number" inputMode="numeric" value={filters.status} onInput={set('status')} placeholder="429" data-testid="logs-filter-status" />
      </label>
      <label class="field">
        <span>Class</span>
        <select value={filters.class} onChange={set('class')} data-testid="logs-filter-class">
          <option value="">Any</option>
          {FAILURE_CLASSES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Client token</span>
        <select value={filters.token} onChange={set('token')} data-testid="logs-filter-token">
          <option value="">Any</option>
          {(tokens.data ?? []).map((token) => (
            <option key={token.id} value={token.id}>
              {token.name}
            </option>
          ))}
        </select>
      </label>
      <label class="field grow">
        <span>Text</span>
        <input type="search" value={filters.text} onInput={set('text')} placeholder="in the error body, model or operation" data-testid="logs-filter-text" />
      </label>
      {active && (
        <button type="button" class="button small link" onClick={() => onChange(NO_FILTERS)} data-testid="logs-filter-clear">
          Clear filters
        </button>
      )}
    </fieldset>
  )
}
