import { FastResponse } from 'srvx'
import type { GatewayError } from '../../errors.ts'

/**
 * Errors in Anthropic's wire shape: `{"type":"error","error":{"type":"<kind>","message":"..."}}` with the HTTP
 * status kept (and its headers, so a 429 keeps its `retry-after`). Google's own message is the message when the
 * error came from Google; the official SDKs pick their error class from the status and expose `error.type`.
 */
const TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
}

export function anthropicErrorType(status: number): string {
  return TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error')
}

export interface AnthropicErrorBody {
  type: 'error'
  error: { type: string; message: string }
}

export function anthropicErrorBody(error: GatewayError): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicErrorType(error.status), message: error.message } }
}

/**
 * The `error` event that ends a stream which failed after its first byte. The status can no longer change, so the
 * type says what happened: overloaded (the SDKs and Claude Code treat it as retryable) or a plain API error.
 */
export function streamErrorBody(error: GatewayError): AnthropicErrorBody {
  const type = error.status === 503 || error.status === 529 ? 'overloaded_error' : 'api_error'
  return { type: 'error', error: { type, message: error.message } }
}

export function anthropicErrorResponse(error: GatewayError): Response {
  return new FastResponse(JSON.stringify(anthropicErrorBody(error)), {
    status: error.status,
    headers: { 'content-type': 'application/json', ...error.headers },
  })
}
