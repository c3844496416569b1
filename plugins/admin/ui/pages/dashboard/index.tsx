// Dashboard: traffic over the last minute, hour, day and month, a chart of successes and failures by class, usage per
// key and per model, latency, and what needs the operator's attention (keys, cooldowns, the latest key events).
import { useState } from 'preact/hooks'
import { get } from '../../api.ts'
import { Badge, Card, LoadState, PageHeader, Tabs, type Tone } from '../../components/bits.tsx'
import { formatCompact, formatDuration, formatNumber, formatPercent, formatRelative, formatTime } from '../../components/format.ts'
import { useInterval, useLoad } from '../../components/use-load.ts'
import { onLinkClick } from '../../router.ts'
import type { KeyEvent, LabeledUsageRow, Overview, Range, Series, UsageCounts } from '../../types.ts'
import { KeyStateCell } from '../keys/columns.tsx'
import { SeriesChart } from './series-chart.tsx'
import { UsageTable } from './usage-table.tsx'

const RANGES: Range[] = ['1h', '24h', '7d', '30d']
const WINDOWS = [
  ['minute', 'Last minute'],
  ['hour', 'Last hour'],
  ['day', 'Last day'],
  ['month', 'Last month'],
] as const

export function DashboardPage() {
  const [range, setRange] = useState<Range>('24h')
  const overview = useLoad(() => get<Overview>('/api/stats/overview'), [])
  const series = useLoad(() => get<Series>('/api/stats/series', { range }), [range])
  const byKey = useLoad(() => get<LabeledUsageRow[]>('/api/stats/usage', { by: 'key', range, limit: 20 }), [range])
  const byModel = useLoad(() => get<LabeledUsageRow[]>('/api/stats/usage', { by: 'model', range, limit: 20 }), [range])
  useInterval(() => void overview.reload(), 15_000)
  useInterval(() => void Promise.all([series.reload(), byKey.reload(), byModel.reload()]), 60_000)
  const data = overview.data

  return (
    <div class="page" data-testid="dashboard-page">
      <PageHeader title="Dashboard">
        <button type="button" class="button small" onClick={() => void Promise.all([overview.reload(), series.reload(), byKey.reload(), byModel.reload()])}>
          Refresh
        </button>
      </PageHeader>
      <LoadState loading={overview.loading && !data} error={overview.error} retry={overview.reload} />
      {data && (
        <div class="cards">
          {WINDOWS.map(([name, title]) => (
            <WindowCard key={name} name={name} title={title} counts={data.windows[name]} />
          ))}
        </div>
      )}

      <Card title="Requests over time" wide testid="dash-series">
        <Tabs<Range> label="Range" testid="dash-range" active={range} onChange={setRange} items={RANGES.map((id) => ({ id, label: id }))} />
        <LoadState loading={series.loading && !series.data} error={series.error} retry={series.reload} />
        {series.data && <SeriesChart series={series.data} />}
      </Card>

      <div class="grid-2">
        <Card title={`Tokens per key, ${range}`} testid="dash-usage-key">
          <LoadState loading={byKey.loading && !byKey.data} error={byKey.error} retry={byKey.reload} />
          {byKey.data && <UsageTable rows={byKey.data} noun="Key" testid="dash-usage-key-table" />}
        </Card>
        <Card title={`Tokens per model, ${range}`} testid="dash-usage-model">
          <LoadState loading={byModel.loading && !byModel.data} error={byModel.error} retry={byModel.reload} />
          {byModel.data && <UsageTable rows={byModel.data} noun="Model" testid="dash-usage-model-table" />}
        </Card>
      </div>

      {data && (
        <div class="grid-2">
          <Card title="Keys" testid="dash-keys">
            <ul class="key-counts">
              <li>
                <a href="/keys" onClick={onLinkClick}>
                  <strong>{formatNumber(data.keys.total)}</strong> in all
                </a>
              </li>
              {(['healthy', 'cooling', 'disabled'] as const).map((state) => (
                <li key={state}>
                  <a href={`/keys?state=${state}`} onClick={onLinkClick} data-testid={`dash-keys-${state}`}>
                    <strong>{formatNumber(data.keys[state])}</strong> {state}
                  </a>
                </li>
              ))}
            </ul>
          </Card>
          <Card title="Latency, last 24 hours" testid="dash-latency">
            {data.latency.count === 0 ? (
              <p class="muted">No requests yet.</p>
            ) : (
              <dl class="figures">
                {(['p50', 'p90', 'p99'] as const).map((name) => (
                  <div key={name}>
                    <dt>{name}</dt>
                    <dd data-testid={`dash-latency-${name}`}>{formatDuration(data.latency[name])}</dd>
                  </div>
                ))}
                <div>
                  <dt>attempts</dt>
                  <dd>{formatCompact(data.latency.count)}</dd>
                </div>
              </dl>
            )}
          </Card>
        </div>
      )}

      {data && (
        <div class="grid-2">
          <Card title="Keys that need attention" testid="dash-attention">
            {data.attention.length === 0 ? (
              <p class="muted">Every key is healthy.</p>
            ) : (
              <ul class="plain-list rows">
                {data.attention.map((row) => (
                  <li key={row.id}>
                    <a class="mono" href={`/keys?search=${encodeURIComponent(row.label)}`} onClick={onLinkClick}>
                      {row.label}
                    </a>
                    <KeyStateCell row={row} />
                    <span class="muted">
                      {formatNumber(row.usage.failures)} of {formatNumber(row.usage.requests)} failed in 24 h
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card title="Current cooldowns" testid="dash-cooldowns">
            {data.cooldowns.length === 0 ? (
              <p class="muted">No key is cooling down.</p>
            ) : (
              <ul class="plain-list rows">
                {data.cooldowns.map((cooldown) => (
                  <li key={`${cooldown.id}:${cooldown.model}`}>
                    <span class="mono">{cooldown.label}</span> <span class="mono">{cooldown.model}</span> until{' '}
                    <time title={formatTime(cooldown.until)}>{formatRelative(cooldown.until)}</time>
                    <small>{cooldown.reason}</small>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </div>
      )}

      {data && (
        <Card title="Latest key events" wide testid="dash-events">
          {data.events.length === 0 ? <p class="muted">Nothing has happened to a key since the gateway started.</p> : <EventList events={data.events} />}
        </Card>
      )}
    </div>
  )
}

function WindowCard({ name, title, counts }: { name: string; title: string; counts: UsageCounts }) {
  return (
    <section class="card stat" data-testid={`dash-card-${name}`}>
      <h2 class="card-title">{title}</h2>
      <p class="stat-main">
        <strong data-testid="dash-card-requests" title={formatNumber(counts.requests)}>
          {formatCompact(counts.requests)}
        </strong>{' '}
        calls
      </p>
      <p class={counts.failures ? 'stat-bad' : 'muted'}>
        <span data-testid="dash-card-failures">{formatNumber(counts.failures)}</span> failed ({formatPercent(counts.failures, counts.requests)})
      </p>
      <p class="muted">{formatCompact(counts.totalTokens)} tokens</p>
    </section>
  )
}

const EVENT_TONES: Record<KeyEvent['kind'], Tone> = { disabled: 'bad', cooled: 'warn', restored: 'ok', enabled: 'ok', reset: 'info' }

export function EventList({ events }: { events: KeyEvent[] }) {
  return (
    <ul class="plain-list rows events" data-testid="key-events">
      {[...events]
        .sort((a, b) => b.id - a.id)
        .map((event) => (
          <li key={event.id} data-testid="key-event" data-kind={event.kind}>
            <time title={formatTime(event.at)}>{formatRelative(event.at)}</time>
            <span class="mono">{event.label}</span>
            <Badge tone={EVENT_TONES[event.kind]}>{event.kind}</Badge>
            {event.model && <span class="mono">{event.model}</span>}
            <small>{event.reason}</small>
          </li>
        ))}
    </ul>
  )
}
