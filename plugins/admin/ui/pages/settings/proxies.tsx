// The upstream proxies (credentials masked): check one or all, with latency.
import { useState } from 'preact/hooks'
import { errorMessage, get, post } from '../../api.ts'
import { Badge, LoadState } from '../../components/bits.tsx'
import { formatDuration, formatTime } from '../../components/format.ts'
import { toast } from '../../components/toast.tsx'
import { useLoad } from '../../components/use-load.ts'
import type { ProxyCheckResult } from '../../types.ts'

export function Proxies() {
  const list = useLoad(() => get<{ proxies: string[] }>('/api/proxies'), [])
  const [results, setResults] = useState<Map<number, ProxyCheckResult>>(new Map())
  const [checking, setChecking] = useState<ReadonlySet<number>>(new Set())
  const proxies = list.data?.proxies ?? []

  const check = async (indexes?: number[]) => {
    const targets = indexes ?? proxies.map((_, i) => i)
    setChecking(new Set(targets))
    try {
      const answer = await post<ProxyCheckResult[]>('/api/proxies/check', indexes ? { indexes } : {})
      setResults((current) => {
        const next = new Map(current)
        for (const result of answer) next.set(result.index, result)
        return next
      })
    } catch (error) {
      toast(errorMessage(error), 'error')
    } finally {
      setChecking(new Set())
    }
  }

  return (
    <section class="card" data-testid="proxies">
      <h2 class="card-title">Proxies</h2>
      <LoadState loading={list.loading && !list.data} error={list.error} retry={list.reload} />
      {list.data && proxies.length === 0 && <p class="muted">No proxy is set: the gateway calls Google directly (PROXIES in the settings).</p>}
      {proxies.length > 0 && (
        <>
          <div class="form-actions start">
            <button type="button" class="button primary" disabled={checking.size > 0} onClick={() => void check()} data-testid="proxies-check-all">
              {checking.size > 0 ? 'Checking…' : 'Check all'}
            </button>
          </div>
          <ul class="plain-list rows">
            {proxies.map((proxy, index) => {
              const result = results.get(index)
              return (
                <li key={index} data-testid="proxy-row" data-ok={result ? String(result.ok) : undefined}>
                  <span class="mono">{proxy}</span>
                  {result &&
                    (result.ok ? (
                      <Badge tone="ok" testid="proxy-result">
                        ok · {formatDuration(result.latencyMs)}
                      </Badge>
                    ) : (
                      <Badge tone="bad" testid="proxy-result" title={result.error}>
                        failed{result.status ? ` · HTTP ${result.status}` : ''}
                      </Badge>
                    ))}
                  <button
                    type="button"
                    class="button small push-right"
                    disabled={checking.has(index)}
                    onClick={() => void check([index])}
                    data-testid="proxy-check"
                  >
                    {checking.has(index) ? 'Checking…' : 'Check'}
                  </button>
                  {result && (
                    <small>
                      {result.error ? `${result.error} · ` : ''}checked {formatTime(result.checkedAt)}
                    </small>
                  )}
                </li>
              )
            })}
          </ul>
        </>
      )}
    </section>
  )
}
