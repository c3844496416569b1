// Google error envelopes, copied from the wire samples (§5). The HTTP status always equals error.code.

import type { Behaviour } from './types.ts'

export interface GoogleErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] }
}

export interface FakeError {
  status: number
  body: GoogleErrorBody
}

const SERVICE = 'generativelanguage.googleapis.com'
const RATE_LIMITS_URL = 'https://ai.google.dev/gemini-api/docs/rate-limits'
const QUOTA_MESSAGE_2025 =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.'
const REQUESTS_METRIC = 'generativelanguage.googleapis.com/generate_content_free_tier_requests'
const INPUT_TOKENS_METRIC = 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count'

export function googleError(code: number, status: string, message: string, details?: unknown[]): FakeError {
  const error: GoogleErrorBody['error'] = { code, message, status }
  if (details !== undefined && details.length > 0) error.details = details
  return { status: code, body: { error } }
}

const type = (name: string): string => `type.googleapis.com/google.rpc.${name}`
const quotaHelp = { '@type': type('Help'), links: [{ description: 'Learn more about Gemini API quotas', url: RATE_LIMITS_URL }] }
const retryInfo = (seconds: number) => ({ '@type': type('RetryInfo'), retryDelay: `${Math.floor(seconds)}s` })
const quotaFailure = (metric: string, quotaId: string, model: string, quotaValue: string) => ({
  '@type': type('QuotaFailure'),
  violations: [{ quotaMetric: metric, quotaId, quotaDimensions: { location: 'global', model }, quotaValue }],
})

/** §5.2 — no key at all. */
export const missingKey = (): FakeError =>
  googleError(
    403,
    'PERMISSION_DENIED',
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  )

/** §5.1 */
export function apiKeyInvalid(): FakeError {
  const message = 'API key not valid. Please pass a valid API key.'
  return googleError(400, 'INVALID_ARGUMENT', message, [
    { '@type': type('ErrorInfo'), reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: SERVICE } },
    { '@type': type('LocalizedMessage'), locale: 'en-US', message },
  ])
}

/** §5.3 (2024 form). */
export const consumerSuspended = (key: string): FakeError =>
  googleError(403, 'PERMISSION_DENIED', `Permission denied: Consumer 'api_key:${key}' has been suspended.`, [
    {
      '@type': type('ErrorInfo'),
      reason: 'CONSUMER_SUSPENDED',
      domain: 'googleapis.com',
      metadata: { service: SERVICE, consumer: 'projects/578829824020' },
    },
  ])

/** §5.3 — no details. */
export const keyLeaked = (): FakeError => googleError(403, 'PERMISSION_DENIED', 'Your API key was reported as leaked. Please use another API key.')

/** §5.3 */
export function serviceDisabled(): FakeError {
  const url = 'https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=12345678'
  return googleError(
    403,
    'PERMISSION_DENIED',
    `Generative Language API has not been used in project 12345678 before or it is disabled. Enable it by visiting ${url} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`,
    [
      { '@type': type('Help'), links: [{ description: 'Google developers console API activation', url }] },
      {
        '@type': type('ErrorInfo'),
        reason: 'SERVICE_DISABLED',
        domain: 'googleapis.com',
        metadata: { service: SERVICE, consumer: 'projects/12345678' },
      },
    ],
  )
}

/** §5.7, 2025 format (QuotaFailure, Help, RetryInfo). */
export const ratePerMinute = (model: string, retryDelaySeconds = 26): FakeError =>
  googleError(429, 'RESOURCE_EXHAUSTED', QUOTA_MESSAGE_2025, [
    quotaFailure(REQUESTS_METRIC, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', model, '10'),
    quotaHelp,
    retryInfo(retryDelaySeconds),
  ])

/** §5.7, 2025 format, input-token quota. */
export const rateInputTokens = (model: string, retryDelaySeconds = 26): FakeError =>
  googleError(429, 'RESOURCE_EXHAUSTED', QUOTA_MESSAGE_2025, [
    quotaFailure(INPUT_TOKENS_METRIC, 'GenerateContentInputTokensPerModelPerMinute-FreeTier', model, '250000'),
    quotaHelp,
    retryInfo(retryDelaySeconds),
  ])

/** §5.7, 2026 format (Help first, bullet list in the message, "Please retry in Ns."). */
export const ratePerDay = (model: string, retryDelaySeconds = 38.90923309): FakeError =>
  googleError(
    429,
    'RESOURCE_EXHAUSTED',
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. ' +
      `\n* Quota exceeded for metric: ${REQUESTS_METRIC}, limit: 20, model: ${model}\nPlease retry in ${retryDelaySeconds}s.`,
    [quotaHelp, quotaFailure(REQUESTS_METRIC, 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', model, '20'), retryInfo(retryDelaySeconds)],
  )

/** §5.7 bare variant. */
export const rateBare = (): FakeError => googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).')

/** §5.8 */
export const internal = (): FakeError =>
  googleError(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting')

/** §5.9 */
export const overloaded = (): FakeError => googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.')

/** §5.10 (reconstructed in the samples). */
export const deadlineExceeded = (): FakeError => googleError(504, 'DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.')

/** §5.6 */
export const locationUnsupported = (): FakeError => googleError(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.')

/** §5.4 — unknown model, or a method the model does not support (stream requests name "generateContent"). */
export function modelNotFound(model: string, method: string): FakeError {
  const message = `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`
  return googleError(404, 'NOT_FOUND', message, [
    {
      '@type': type('DebugInfo'),
      detail: `[ORIGINAL ERROR] generic::not_found: ${message} [google.rpc.error_details_ext] { message: ${JSON.stringify(message)} }`,
    },
  ])
}

/** §5.4 — retired model. */
export const modelRetired = (model: string, replacement: string): FakeError =>
  googleError(404, 'NOT_FOUND', `This model models/${model} is no longer available to new users. Please update your code to use models/${replacement}.`)

/** models.get of an unknown model (reconstructed). */
export const modelGetNotFound = (model: string): FakeError => googleError(404, 'NOT_FOUND', `Model is not found: models/${model} for api version v1beta`)

/** Unknown path / method (reconstructed). */
export const routeNotFound = (): FakeError => googleError(404, 'NOT_FOUND', 'Requested entity was not found.')

/** §5.5 style: 400 with BadRequest field violations. `field` is omitted for top-level problems. */
export function badRequest(message: string, field?: string): FakeError {
  const violation = field === undefined ? { description: message } : { field, description: message }
  return googleError(400, 'INVALID_ARGUMENT', message, [{ '@type': type('BadRequest'), fieldViolations: [violation] }])
}

/** Plain 400 INVALID_ARGUMENT without details, e.g. "* GenerateContentRequest.contents: contents is not specified\n". */
export const invalidArgument = (message: string): FakeError => googleError(400, 'INVALID_ARGUMENT', message)

/** A body the proto-JSON parser rejects: "Invalid JSON payload received. <reason>\n<line>\n<caret>". */
export function invalidJson(body: string, error: Error): FakeError {
  const position = Number(/position (\d+)/.exec(error.message)?.[1] ?? 0)
  const lineStart = body.lastIndexOf('\n', position - 1) + 1
  const lineEnd = body.indexOf('\n', position)
  const line = body.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).slice(0, 200)
  const column = Math.min(Math.max(position - lineStart, 0), line.length)
  const reason = position >= body.length ? 'Unexpected end of string.' : 'Unexpected token.'
  return badRequest(`Invalid JSON payload received. ${reason}\n${line}\n${' '.repeat(column)}^`)
}

/** The error a behaviour answers with, or undefined for behaviours that are not errors. */
export function behaviourError(
  behaviour: Behaviour,
  context: { key: string; model: string | undefined; retryDelaySeconds?: number | undefined },
): FakeError | undefined {
  const model = context.model ?? 'gemini-2.5-flash'
  switch (behaviour) {
    case 'invalid-key':
      return apiKeyInvalid()
    case 'suspended':
      return consumerSuspended(context.key)
    case 'leaked':
      return keyLeaked()
    case 'service-disabled':
      return serviceDisabled()
    case 'rate-minute':
      return ratePerMinute(model, context.retryDelaySeconds)
    case 'rate-day':
      return ratePerDay(model, context.retryDelaySeconds)
    case 'rate-bare':
      return rateBare()
    case 'rate-tokens':
      return rateInputTokens(model, context.retryDelaySeconds)
    case 'internal':
      return internal()
    case 'overloaded':
      return overloaded()
    case 'deadline':
      return deadlineExceeded()
    case 'location':
      return locationUnsupported()
    default:
      return undefined
  }
}
