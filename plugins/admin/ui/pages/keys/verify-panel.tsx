// A verification over many keys: a progress bar while the batches run, then what came back grouped by the judge's
// class, so "12 invalid-key" is one line to read and open rather than 12 rows to find.
import { Progress } from '../../components/bits.tsx'
import { Modal } from '../../components/modal.tsx'
import type { VerifyResult } from '../../types.ts'
import { groupByClass } from './bulk.ts'

export interface VerifyRun {
  total: number
  results: VerifyResult[]
  running: boolean
  /** id → masked label. */
  labels: ReadonlyMap<string, string>
}

export function VerifyPanel({ run, onCancel, onClose }: { run: VerifyRun; onCancel(): void; onClose(): void }) {
  const groups = groupByClass(run.results)
  return (
    <Modal title={run.running ? 'Verifying keys' : 'Verification finished'} onClose={run.running ? onCancel : onClose} testid="verify-panel" wide>
      <Progress done={run.results.length} total={run.total} label="Verified" testid="verify-progress" />
      {run.results.length > 0 && (
        <div class="verify-summary" data-testid="verify-summary">
          <p>
            <strong data-testid="verify-ok">{run.results.filter((r) => r.ok).length}</strong> accepted by Google,{' '}
            <strong data-testid="verify-failed">{run.results.filter((r) => !r.ok).length}</strong> not
            {run.results.length < run.total && !run.running ? ` (stopped after ${run.results.length} of ${run.total})` : ''}.
          </p>
          {groups.map(([name, results]) => (
            <details key={name} class="verify-group" data-testid="verify-group" data-class={name} open={name !== 'ok' && groups.length <= 4}>
              <summary>
                <span class={`class-name class-${results[0]!.ok ? 'ok' : 'bad'}`}>{name}</span> <strong>{results.length}</strong>
              </summary>
              <ul class="plain-list">
                {results.slice(0, 100).map((result) => (
                  <li key={result.id}>
                    <span class="mono">{run.labels.get(result.id) ?? result.id}</span>{' '}
                    {result.status !== null && <span class="muted">HTTP {result.status}</span>} {result.message}
                  </li>
                ))}
                {results.length > 100 && <li class="muted">and {results.length - 100} more</li>}
              </ul>
            </details>
          ))}
        </div>
      )}
      <div class="form-actions">
        {run.running ? (
          <button type="button" class="button" onClick={onCancel} data-testid="verify-cancel">
            Stop after this batch
          </button>
        ) : (
          <button type="button" class="button primary" onClick={onClose} data-testid="verify-close">
            Close
          </button>
        )}
      </div>
    </Modal>
  )
}
