import { FastResponse } from 'srvx'
import type { GatewayError } from '../../errors.ts'

export interface OpenAIErrorBody {
  message: string
  type: string
  code: string | null
  param: string | null
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
 * Any gateway or upstream failure in OpenAI's `{error:{message,type,code,param}}` shape, with the real HTTP status.
 * The message is Google's own when the error came from Google; a 400 names the refused field in `param` (code
 * `invalid_value`) or carries Google's status (`failed_precondition`, ...); a Gemini context overflow gets OpenAI's
 * `context_length_exceeded` code, which agents use to decide to compact their history.
 */
export function openAIError(error: GatewayError): OpenAIErrorBody {
  const [type, code] = KINDS[error.status] ?? (error.status >= 500 ? ['server_error', 'server_error'] : ['invalid_request_error', null])
  let finalCode = code
  if (error.status === 400) finalCode = error.param ? 'invalid_value' : (googleStatus(error.upstreamBody) ?? error.rpcStatus).toLowerCase()
  if (error.upstreamBody !== undefined) {
    if (error.status === 404 && /model/i.test(error.message)) finalCode = 'model_not_found'
    else if (error.status === 400 && /token count.*exceeds the maximum/i.test(error.message)) finalCode = 'context_length_exceeded'
  }
  return { message: error.message, type, code: finalCode, param: error.param ?? null }
}

/** The `status` of a Google error body (`{error:{status}}`, or that inside an array). */
function googleStatus(body: string | undefined): string | undefined {
  if (!body) return undefined
  try {
    const parsed = JSON.parse(body)
    const status = (Array.isArray(parsed) ? parsed[0] : parsed)?.error?.status
    return typeof status === 'string' && status !== '' ? status : undefined
  } catch {
    return undefined
  }
}

export function errorResponse(error: GatewayError): Response {
  return new FastResponse(JSON.stringify({ error: openAIError(error) }), {
    status: error.status,
    headers: { 'content-type': 'application/json', ...error.headers },
  })
}
