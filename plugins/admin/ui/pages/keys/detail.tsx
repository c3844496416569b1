// One key in depth: its state, traffic per period, per model over 24 hours, and its latest errors (linked to the
// error log filtered to it).
import { get } from '../../api.ts'
import { LoadState } from '../../components/bits.tsx'
import { formatCompact, formatDuration, formatNumber, formatPercent, formatTime } from '../../components/format.ts'
import { Modal } from '../../components/modal.tsx'
import { useLoad } from '../../components/use-load.ts'
import { onLinkClick } from '../../router.ts'
import type { KeyDetail as Detail, KeyRow, UsageCounts } from '../../types.ts'
import { KeyStateCell } from './columns.tsx'

export function KeyDetail({ row, onClose }: { row: KeyRow; onClose(): void }) {
  const detail = useLoad(() => get<Detail>(`/api/keys/${encodeURIComponent(row.id)}`), [row.id])
  const key = detail.data
  return (
    <Modal title={<span class="mono">{row.label}</span>} onClose={onClose} drawer testid="key-detail">
      <LoadState loading={detail.loading && !key} error={detail.error} retry={detail.reload} />
      {key && (
        <div class="stack">
          <dl class="facts">
            <dt>Pool</dt>
            <dd>{key.pool}</dd>
            <dt>Source</dt>
            <dd>{key.source === 'config' ? 'API_KEYS / gateway.config.ts' : 'added in the console'}</dd>
            <dt>State</dt>
            <dd>
              <KeyStateCell row={key} />
            </dd>
            <dt>Strikes</dt>
            <dd>{key.strikes}</dd>
            <dt>Last failure</dt>
            <dd>{key.lastFailure ? `${formatTime(key.lastFailure.at)}: ${key.lastFailure.reason}` : '–'}</dd>
          </dl>

          <h3>Traffic</h3>
          <div class="table-wrap">
            <table class="table compact" data-testid="key-periods">
              <thead>
                <tr>
                  <th>Period</th>
                  <th class="num">Requests</th>
                  <th class="num">Failures</th>
                  <th class="num">Tokens</th>
                  <th class="num">Avg latency</th>
                </tr>
              </thead>
              <tbody>
                <PeriodRow name="Last hour" counts={key.periods.hour} />
                <PeriodRow name="Last day" counts={key.periods.day} />
                <PeriodRow name="Last month" counts={key.periods.month} />
              </tbody>
            </table>
          </div>

          <h3>Models, last 24 hours</h3>
          {key.models.length === 0 ? (
            <p class="muted">No requests in the last 24 hours.</p>
          ) : (
            <div class="table-wrap">
              <table class="table compact" data-testid="key-models">
                <thead>
                  <tr>
                    <th>Model</th>
                    <th class="num">Requests</th>
                    <th class="num">Failures</th>
                    <th>Failure classes</th>
                    <th class="num">Tokens</th>
                  </tr>
                </thead>
                <tbody>
                  {key.models.map((model) => (
                    <tr key={model.id}>
                      <td class="mono">{model.id}</td>
                      <td class="num">{formatNumber(model.requests)}</td>
                      <td class="num">{formatNumber(model.failures)}</td>
                      <td>
                        {Object.entries(model.byClass)
                          .map(([name, count]) => `${name} ${count}`)
                          .join(', ') || '–'}
                      </td>
                      <td class="num">{formatCompact(model.totalTokens)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}

          <h3>Recent errors</h3>
          {key.recentErrors.length === 0 ? (
            <p class="muted">None logged.</p>
          ) : (
            <ul class="plain-list" data-testid="key-errors">
              {key.recentErrors.map((error) => (
                <li key={error.id}>
                  <a href={`/logs?tab=errors&key=${encodeURIComponent(key.id)}&open=${error.id}`} onClick={onLinkClick}>
                    {formatTime(error.time)}
                  </a>{' '}
                  <span class="mono">{error.model}</span> {error.status ?? 'no response'} <span class="class-name">{error.failureClass}</span>
                </li>
              ))}
            </ul>
          )}
          <p>
            <a href={`/logs?tab=requests&key=${encodeURIComponent(key.id)}`} onClick={onLinkClick} data-testid="key-logs-link">
              Every request of this key
            </a>
          </p>
        </div>
      )}
    </Modal>
  )
}

function PeriodRow({ name, counts }: { name: string; counts: UsageCounts }) {
  return (
    <tr>
      <td>{name}</td>
      <td class="num">{formatNumber(counts.requests)}</td>
      <td class="num">
        {formatNumber(counts.failures)} <span class="muted">{formatPercent(counts.failures, counts.requests)}</span>
      </td>
      <td class="num">{formatCompact(counts.totalTokens)}</td>
      <td class="num">{counts.requests ? formatDuration(counts.latencyMsSum / counts.requests) : '–'}</td>
    </tr>
  )
}
