// Traffic per key or per model over the chart's range, largest first, with a bar for the share of tokens.
import { formatCompact, formatNumber, formatPercent } from '../../components/format.ts'
import type { LabeledUsageRow } from '../../types.ts'

export function UsageTable({ rows, noun, testid }: { rows: LabeledUsageRow[]; noun: string; testid: string }) {
  if (rows.length === 0) return <p class="muted">No traffic in this range.</p>
  const most = Math.max(1, ...rows.map((row) => row.totalTokens))
  return (
    <div class="table-wrap">
      <table class="table compact" data-testid={testid}>
        <thead>
          <tr>
            <th>{noun}</th>
            <th class="num">Requests</th>
            <th class="num">Failed</th>
            <th class="num">Tokens</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td class="mono" data-label={noun}>
                {row.label || row.id}
              </td>
              <td class="num" data-label="Requests">
                {formatNumber(row.requests)}
              </td>
              <td class="num" data-label="Failed">
                {formatPercent(row.failures, row.requests)}
              </td>
              <td class="num bar-cell" data-label="Tokens" title={formatNumber(row.totalTokens)}>
                <span class="bar" style={{ width: `${(row.totalTokens / most) * 100}%` }} aria-hidden="true" />
                <span>{formatCompact(row.totalTokens)}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
