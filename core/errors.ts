import { isObject, parseJsonOrText } from './internal/json.ts'

/**
 * One error type for everything the gateway itself refuses or fails at. Each dialect renders it in its own
 * wire shape (Gemini `{error:{code,message,status}}`, OpenAI `{error:{message,type,code,param}}`, ...), so the
 * fields here are dialect-neutral: an HTTP status, a Google RPC status name, a message, optional headers.
 */
export class GatewayError extends Error {
  readonly status: number
  /** Google RPC status name (INVALID_ARGUMENT, UNAUTHENTICATED, RESOURCE_EXHAUSTED, ...). */
  readonly rpcStatus: string
  readonly headers: Record<string, string>
  /** An upstream error body to hand through unchanged (Gemini JSON text), when the error came from Google. */
  readonly upstreamBody?: string
  /** The request field at fault, for dialects that report it (OpenAI `param`). */
  readonly param?: string
  /** The pipeline's log stage has logged the request this error ends (so a route does not log it again). */
  logged?: boolean

  constructor(
    status: number,
    message: string,
    options: { rpcStatus?: string; headers?: Record<string, string>; upstreamBody?: string; param?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause })
    this.name = 'GatewayError'
    this.status = status
    this.rpcStatus = options.rpcStatus ?? rpcStatusFor(status)
    this.headers = options.headers ?? {}
    this.upstreamBody = options.upstreamBody
    this.param = options.param
  }
}

const RPC_BY_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
}

export function rpcStatusFor(status: number): string {
  return RPC_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION')
}

/**
 * A Google error answer as a GatewayError: Google's status and headers, its `error.message` (from `{error}` or that
 * inside an array) as the message, and the body kept for dialects that hand it through unchanged.
 */
export function errorFromUpstream(status: number, body: string, headers?: Record<string, string>): GatewayError {
  const parsed = parseJsonOrText(body)
  const envelope = Array.isArray(parsed) ? parsed[0] : parsed
  const message =
    isObject(envelope) && isObject(envelope.error) && typeof envelope.error.message === 'string' ? envelope.error.message : `Gemini answered ${status}.`
  return new GatewayError(status, message, { upstreamBody: body, headers })
}

/** Google's own error body, when the error came from Google with a JSON body, for dialects that hand it through. */
export function upstreamJsonBody(error: GatewayError): string | undefined {
  return error.upstreamBody !== undefined && /^\s*[[{]/.test(error.upstreamBody) ? error.upstreamBody : undefined
}

export const badRequest = (message: string, param?: string) => new GatewayError(400, message, { param })
export const notFound = (message: string) => new GatewayError(404, message)

/** Anything thrown that is not a GatewayError becomes an opaque 500; the detail goes to the log, not the client. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error
  return new GatewayError(500, 'Internal gateway error', { cause: error })
}
