import { FastResponse } from 'srvx'
import type { GatewayError } from '../../errors.ts'
import { isNonEmptyString, isObject, parseJsonOrText } from '../../internal/json.ts'

/**
 * Errors in OpenAI's shape, `{error: {message, type, param, code}}`, for every OpenAI-style dialect (chat
 * completions, Responses, Google's OpenAI layer), with the gateway's real HTTP status (never a masked 500).
 * Upstream Gemini errors arrive with Google's message already extracted; their status is kept, so a Gemini 400
 * stays a 400, a 404 for the model a 404, and 429 carries Retry-After. Types and codes follow OpenAI's own answers
 * (a bad key is `invalid_request_error` / `invalid_api_key`); the SDKs pick their error class from the status.
 */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

const KINDS: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  403: ['permission_error', 'permission_denied'],
  404: ['invalid_request_error', 'not_found'],
  408: ['timeout_error', 'timeout'],
  413: ['invalid_request_error', 'request_too_large'],
  429: ['rate_limit_error', 'rate_limit_exceeded'],
  499: ['invalid_request_error', 'client_closed_request'],
  500: ['server_error', 'server_error'],
  502: ['server_error', 'upstream_error'],
  503: ['server_error', 'service_unavailable'],
  504: ['server_error', 'timeout'],
}

/**
 * A 400 names the refused field in `param` (code `invalid_value`) or carries Google's status (`failed_precondition`,
 * ...); a Gemini context overflow gets OpenAI's `context_length_exceeded`, which agents use to decide to compact
 * their history; an unknown model is `model_not_found`.
 */
export function openaiErrorObject(error: GatewayError): OpenAIErrorBody {
  const [type, code] = KINDS[error.status] ?? (error.status >= 500 ? ['server_error', 'server_error'] : ['invalid_request_error', null])
  return { error: { message: error.message, type, param: error.param ?? null, code: specificCode(error) ?? code } }
}

function specificCode(error: GatewayError): string | undefined {
  if (error.status === 404 && /model/i.test(error.message)) return 'model_not_found'
  if (error.status !== 400) return undefined
  if (/token count.*exceeds the maximum/i.test(error.message)) return 'context_length_exceeded'
  return error.param ? 'invalid_value' : (googleStatus(error.upstreamBody) ?? error.rpcStatus).toLowerCase()
}

/** The `status` of a Google error body (`{error:{status}}`, or that inside an array). */
function googleStatus(body: string | undefined): string | undefined {
  if (!body) return undefined
  const parsed = parseJsonOrText(body)
  const envelope = Array.isArray(parsed) ? parsed[0] : parsed
  const status = isObject(envelope) && isObject(envelope.error) ? envelope.error.status : undefined
  return isNonEmptyString(status) ? status : undefined
}

export function openaiErrorResponse(error: GatewayError): Response {
  return new FastResponse(JSON.stringify(openaiErrorObject(error)), {
    status: error.status,
    headers: { 'content-type': 'application/json', ...error.headers },
  })
}
