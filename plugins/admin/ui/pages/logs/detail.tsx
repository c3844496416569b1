// A log row in full. A request that failed links to its error row; an error shows Google's answer (indented when it
// is JSON) and the request body that got it.
import type { ComponentChildren } from 'preact'
import { get } from '../../api.ts'
import { Badge, LoadState } from '../../components/bits.tsx'
import { formatDateTime, formatDuration, formatNumber, prettyJson } from '../../components/format.ts'
import { Modal } from '../../components/modal.tsx'
import { useLoad } from '../../components/use-load.ts'
import type { ErrorLogDetail, ErrorLogEntry, LogRow, RequestLogEntry } from '../../types.ts'

export type Opened = { kind: 'requests' | 'errors'; id: number }

export function LogDetail({ opened, onOpen, onClose }: { opened: Opened; onOpen(next: Opened): void; onClose(): void }) {
  return (
    <Modal title={`${opened.kind === 'requests' ? 'Request' : 'Error'} #${opened.id}`} onClose={onClose} drawer testid="log-detail">
      {opened.kind === 'requests' ? <RequestDetail id={opened.id} onOpen={onOpen} /> : <ErrorDetail id={opened.id} />}
    </Modal>
  )
}

function RequestDetail({ id, onOpen }: { id: number; onOpen(next: Opened): void }) {
  const loaded = useLoad(() => get<{ entry: LogRow<RequestLogEntry>; error?: LogRow<ErrorLogEntry> }>(`/api/logs/requests/${id}`), [id])
  const data = loaded.data
  return (
    <>
      <LoadState loading={loaded.loading && !data} error={loaded.error} retry={loaded.reload} />
      {data && (
        <div class="stack">
          <Facts entry={data.entry}>
            <dt>Dialect</dt>
            <dd>{data.entry.dialect}</dd>
            <dt>Attempt</dt>
            <dd>{data.entry.attempt}</dd>
            <dt>Latency</dt>
            <dd>{formatDuration(data.entry.latencyMs)}</dd>
            <dt>Tokens</dt>
            <dd>
              prompt {formatNumber(data.entry.promptTokens)}, answer {formatNumber(data.entry.completionTokens)}, thinking{' '}
              {formatNumber(data.entry.thinkingTokens)}, total {formatNumber(data.entry.totalTokens)}
            </dd>
          </Facts>
          {data.error ? (
            <button type="button" class="button" onClick={() => onOpen({ kind: 'errors', id: data.error!.id })} data-testid="log-open-error">
              Open its error log (#{data.error.id})
            </button>
          ) : (
            data.entry.failureClass !== 'ok' && <p class="muted">No error row was logged for it.</p>
          )}
        </div>
      )}
    </>
  )
}

function ErrorDetail({ id }: { id: number }) {
  const loaded = useLoad(() => get<LogRow<ErrorLogDetail>>(`/api/logs/errors/${id}`), [id])
  const data = loaded.data
  return (
    <>
      <LoadState loading={loaded.loading && !data} error={loaded.error} retry={loaded.reload} />
      {data && (
        <div class="stack">
          <Facts entry={data} />
          <h3>Google's answer</h3>
          <pre class="code" data-testid="log-error-body">
            {prettyJson(data.errorBody) || '(empty)'}
          </pre>
          <h3>Request body</h3>
          <pre class="code" data-testid="log-request-body">
            {data.requestBody === null ? '(not kept)' : prettyJson(data.requestBody)}
          </pre>
        </div>
      )}
    </>
  )
}

/** What every log row has, then what its kind adds (`children`: more dt/dd pairs). */
function Facts({ entry, children }: { entry: LogRow<ErrorLogEntry | RequestLogEntry>; children?: ComponentChildren }) {
  return (
    <dl class="facts">
      <dt>Time</dt>
      <dd>{formatDateTime(entry.time)}</dd>
      <dt>Request id</dt>
      <dd class="mono">{entry.requestId}</dd>
      <dt>Key</dt>
      <dd class="mono" title={entry.keyId}>
        {entry.keyLabel || entry.keyId || '–'}
      </dd>
      <dt>Client token</dt>
      <dd>{entry.tokenName || entry.tokenId || '–'}</dd>
      <dt>Model</dt>
      <dd class="mono">{entry.model || '–'}</dd>
      <dt>Operation</dt>
      <dd>{entry.operation}</dd>
      <dt>Status</dt>
      <dd>{entry.status ?? 'no response'}</dd>
      <dt>Class</dt>
      <dd>
        <Badge tone={entry.failureClass === 'ok' ? 'ok' : 'bad'}>{entry.failureClass}</Badge>
      </dd>
      {children}
    </dl>
  )
}
