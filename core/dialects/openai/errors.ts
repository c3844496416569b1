import { FastResponse } from 'srvx'
import type { GatewayError } from '../../errors.ts'

/**
 * Errors in OpenAI's shape, `{error: {message, type, param, code}}`, with the gateway's real HTTP status (never a
 * masked 500). Upstream Gemini errors arrive with Google's message already extracted; their status is kept, so a
 * Gemini 400 stays a 400, a 404 for the model a 404, and 429 carries Retry-After.
 */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

function typeFor(status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'invalid_request_error'
  if (status === 429) return 'rate_limit_error'
  if (status >= 500) return 'api_error'
  return 'invalid_request_error'
}

function codeFor(error: GatewayError): string | null {
  switch (error.status) {
    case 401:
      return 'invalid_api_key'
    case 404:
      return /model/i.test(error.message) ? 'model_not_found' : 'not_found'
    case 413:
      return 'request_too_large'
    case 429:
      return 'rate_limit_exceeded'
    default:
      return error.param ? 'invalid_value' : error.rpcStatus ? error.rpcStatus.toLowerCase() : null
  }
}

export function openaiErrorObject(error: GatewayError): OpenAIErrorBody {
  return { error: { message: error.message, type: typeFor(error.status), param: error.param ?? null, code: codeFor(error) } }
}

export function openaiErrorResponse(error: GatewayError): Response {
  return new FastResponse(JSON.stringify(openaiErrorObject(error)), {
    status: error.status,
    headers: { 'content-type': 'application/json', ...error.headers },
  })
}
