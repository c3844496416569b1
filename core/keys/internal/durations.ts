import { isObject, toNumber } from '../../internal/json.ts'

/**
 * RetryInfo.retryDelay → ms. Proto3 JSON renders google.protobuf.Duration as a string of seconds with an `s`
 * suffix ("26s", "0.5s", "1.000340012s"); some relays hand over the object form `{seconds, nanos}`.
 */
export function parseRetryDelay(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value)
    return m ? Number(m[1]) * 1000 : undefined
  }
  if (isObject(value)) {
    const seconds = toNumber(value.seconds)
    const nanos = toNumber(value.nanos)
    if (seconds === undefined && nanos === undefined) return undefined
    const ms = (seconds ?? 0) * 1000 + (nanos ?? 0) / 1e6
    return ms >= 0 ? ms : undefined
  }
  return undefined
}

/** Retry-After header → ms from `now`: delta-seconds, or an HTTP date (a past date gives 0). */
export function parseRetryAfterHeader(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined
  const v = value.trim()
  if (v === '') return undefined
  if (/^\d+(?:\.\d+)?$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * 26000 → "26s", 38909 → "39s", 95000 → "1m35s", 25_920_000 → "7h12m". Rounds up at the shown precision
 * (seconds under an hour, minutes above): a log line never promises the key back too early.
 */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.ceil(ms / 1000)
  if (totalSeconds < 60) return `${totalSeconds}s`
  if (totalSeconds < 3600) {
    const seconds = totalSeconds % 60
    return `${Math.floor(totalSeconds / 60)}m${seconds ? `${seconds}s` : ''}`
  }
  const totalMinutes = Math.ceil(totalSeconds / 60)
  const minutes = totalMinutes % 60
  return `${Math.floor(totalMinutes / 60)}h${minutes ? `${minutes}m` : ''}`
}
