/** Reading Google error bodies in every shape they arrive in (envelope, array-wrapped, JSON text, plain text). */
import { parseRetryDelay } from './durations.ts'
import { isNonEmptyString, isObject, toNumber } from '../../internal/json.ts'

export interface QuotaViolation {
  quotaId: string
  /** quotaDimensions.model when present. */
  model?: string
  /** quotaValue / quota_limit_value as a number, when given. */
  limit?: number
}

export interface UpstreamError {
  /** The body held a Google error envelope `{"error": {...}}` (possibly array-wrapped or as JSON text). */
  envelope: boolean
  code?: number
  rpcStatus?: string
  /** error.message, or the raw text of a non-JSON body; '' when none. */
  message: string
  /** ErrorInfo reasons. */
  reasons: string[]
  /** QuotaFailure violations plus the legacy ErrorInfo quota_limit. */
  violations: QuotaViolation[]
  /** RetryInfo.retryDelay in ms. */
  retryDelayMs?: number
}

export function readError(body: unknown): UpstreamError {
  if (typeof body === 'string') {
    const parsed = parseJsonText(body)
    if (parsed === undefined) return { envelope: false, message: body.trim(), reasons: [], violations: [] }
    body = parsed
  }
  const error = findErrorObject(body)
  if (!error) return { envelope: false, message: '', reasons: [], violations: [] }

  const out: UpstreamError = {
    envelope: true,
    code: typeof error.code === 'number' ? error.code : undefined,
    rpcStatus: isNonEmptyString(error.status) ? error.status : undefined,
    message: typeof error.message === 'string' ? error.message : '',
    reasons: [],
    violations: [],
  }
  const details = Array.isArray(error.details) ? error.details : []
  for (const d of details) {
    if (!isObject(d)) continue
    // Detail types are told apart by their fields, not only '@type': relays sometimes drop or rename '@type'.
    // Only ErrorInfo carries a reason; it has a domain (relays sometimes drop '@type', never the domain).
    if (isNonEmptyString(d.reason) && (isNonEmptyString(d.domain) || String(d['@type']).endsWith('google.rpc.ErrorInfo'))) {
      out.reasons.push(d.reason)
      const meta = isObject(d.metadata) ? d.metadata : {}
      // Legacy (2024) quota errors: ErrorInfo RATE_LIMIT_EXCEEDED with metadata.quota_limit(+_value).
      const legacyId = meta.quota_limit ?? meta.quota_metric
      if (isNonEmptyString(legacyId)) out.violations.push({ quotaId: legacyId, limit: toNumber(meta.quota_limit_value) })
    }
    if (Array.isArray(d.violations)) {
      for (const v of d.violations) {
        if (!isObject(v)) continue
        const quotaId = isNonEmptyString(v.quotaId) ? v.quotaId : isNonEmptyString(v.quotaMetric) ? v.quotaMetric : ''
        const dims = isObject(v.quotaDimensions) ? v.quotaDimensions : {}
        out.violations.push({
          quotaId,
          model: isNonEmptyString(dims.model) ? dims.model : undefined,
          limit: toNumber(v.quotaValue),
        })
      }
    }
    if (d.retryDelay !== undefined && out.retryDelayMs === undefined) out.retryDelayMs = parseRetryDelay(d.retryDelay)
  }
  return out
}

function findErrorObject(body: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(body)) {
    for (const item of body) {
      const found = findErrorObject(item)
      if (found) return found
    }
    return undefined
  }
  if (isObject(body) && isObject(body.error)) return body.error
  return undefined
}

/** JSON text → value, tolerating a `data: ` prefix; undefined when it is not JSON. */
export function parseJsonText(text: string): unknown {
  const trimmed = text.trim().replace(/^data:\s*/, '')
  const c = trimmed[0]
  if (c !== '{' && c !== '[') return undefined
  try {
    return JSON.parse(trimmed) as unknown
  } catch {
    return undefined
  }
}
