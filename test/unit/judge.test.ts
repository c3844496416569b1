/**
 * The health judge, tested by tables. Error and success bodies are the real ones from
 * /work/shared/reference/gemini-wire-samples.md (§1, §2, §5, §6.2); the few that are assembled or edited say so.
 * Time is data: every expected `until` is a literal computed from a fixed `now`.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  DEFAULT_JUDGE_POLICY,
  formatDuration,
  isEmptyAnswer,
  judgeAttempt,
  settleConfirmation,
  parseRetryAfterHeader,
  parseRetryDelay,
} from '../../core/keys/judge.ts'
import type { AttemptFacts, FailureClass, JudgePolicy, KeyEffect, Verdict } from '../../core/keys/judge.ts'
import { nextPacificMidnight } from '../../core/keys/quota-clock.ts'

// Fri 20 Feb 2026 12:38:32 UTC = 04:38:32 PST (the date of the [ADK] captures).
const NOW = Date.UTC(2026, 1, 20, 12, 38, 32)
// Next 00:00 America/Los_Angeles: Sat 21 Feb 2026 00:00 PST = 08:00 UTC.
const NEXT_MIDNIGHT = Date.UTC(2026, 1, 21, 8, 0, 0)
const TO_MIDNIGHT = NEXT_MIDNIGHT - NOW // 19h21m28s
const HOUR = 3_600_000

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

// ------------------------------------------------------------------------------------------------------------
// Error bodies (§5)

/** §5.1 [FB] unary-failure-api-key.json */
const API_KEY_INVALID = {
  error: {
    code: 400,
    message: 'API key not valid. Please pass a valid API key.',
    status: 'INVALID_ARGUMENT',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
      { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
    ],
  },
}

/** §5.2 missing key */
const MISSING_KEY_403 = {
  error: {
    code: 403,
    message:
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    status: 'PERMISSION_DENIED',
  },
}

/** §5.3 consumer suspended (google/generative-ai-docs#356) */
const SUSPENDED = {
  error: {
    code: 403,
    message: "Permission denied: Consumer 'api_key:AIzaSy...' has been suspended.",
    status: 'PERMISSION_DENIED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'CONSUMER_SUSPENDED',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com', consumer: 'projects/578829824020' },
      },
    ],
  },
}

/** §5.3 leaked key (no details) */
const LEAKED = {
  error: { code: 403, message: 'Your API key was reported as leaked. Please use another API key.', status: 'PERMISSION_DENIED' },
}

/** §5.3 [FB] unary-failure-generativelanguage-api-not-enabled.json */
const SERVICE_DISABLED = {
  error: {
    code: 403,
    message:
      'Generative Language API has not been used in project 12345678 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=12345678 then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.',
    status: 'PERMISSION_DENIED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [
          {
            description: 'Google developers console API activation',
            url: 'https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=12345678',
          },
        ],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'SERVICE_DISABLED',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com', consumer: 'projects/12345678' },
      },
    ],
  },
}

/** §5.3 key restricted to other APIs (continuedev/continue#12781): fields as listed there, assembled into the envelope. */
const API_KEY_SERVICE_BLOCKED = {
  error: {
    code: 403,
    message:
      'Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent are blocked.',
    status: 'PERMISSION_DENIED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_SERVICE_BLOCKED',
        domain: 'googleapis.com',
        metadata: {
          consumer: 'projects/12345678',
          service: 'generativelanguage.googleapis.com',
          apiName: 'generativelanguage.googleapis.com',
          methodName: 'google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent',
        },
      },
      {
        '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
        locale: 'en-US',
        message:
          'Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent are blocked.',
      },
    ],
  },
}

/** §5.4 [JSG] unknown model (404 on a stream) */
const UNKNOWN_MODEL_404 = {
  error: {
    code: 404,
    message:
      'models/custom-gemini-2.0-flash is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.',
    status: 'NOT_FOUND',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.DebugInfo',
        detail:
          '[ORIGINAL ERROR] generic::not_found: models/custom-gemini-2.0-flash is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods. [google.rpc.error_details_ext] { message: "models/custom-gemini-2.0-flash is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods." }',
      },
    ],
  },
}

/** §2.5: the same 404 as the raw text body of an `alt=sse` answer (Content-Type text/event-stream, not a data: event). */
const UNKNOWN_MODEL_404_SSE_TEXT =
  '{"error": {"code": 404, "message": "models/custom-gemini-2.0-flash is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.", "status": "NOT_FOUND", "details": [{"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": "[ORIGINAL ERROR] generic::not_found: ..."}]}}'

/** §5.4 retired model ([FS-68925702287] message, in the standard envelope) */
const RETIRED_MODEL_404 = {
  error: {
    code: 404,
    message: 'This model models/gemini-2.5-flash is no longer available to new users. Please update your code to use models/gemini-3.6-flash.',
    status: 'NOT_FOUND',
  },
}

/** §5.5 (mnfst/llm-gateway#1858) */
const UNKNOWN_NAME_400 = {
  error: {
    code: 400,
    message:
      'Invalid JSON payload received. Unknown name "ref" at \'tools[0].function_declarations[0].parameters.properties[0].value.items\': Cannot find field.',
    status: 'INVALID_ARGUMENT',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [
          {
            field: 'tools[0].function_declarations[0].parameters.properties[0].value.items',
            description:
              'Invalid JSON payload received. Unknown name "ref" at \'tools[0].function_declarations[0].parameters.properties[0].value.items\': Cannot find field.',
          },
        ],
      },
    ],
  },
}

/** §6.2 array-wrapped (OpenAI-compat layer, Alishahryar1/free-claude-code#542) */
const UNKNOWN_NAME_400_ARRAY = [
  {
    error: {
      code: 400,
      message: 'Invalid JSON payload received. Unknown name "google": Cannot find field.',
      status: 'INVALID_ARGUMENT',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [{ description: 'Invalid JSON payload received. Unknown name "google": Cannot find field.' }],
        },
      ],
    },
  },
]

/** §5.6 */
const LOCATION_400 = { error: { code: 400, message: 'User location is not supported for the API use.', status: 'FAILED_PRECONDITION' } }

/** §5.7 2025 format, complete (RooCodeInc/Roo-Code#3883) */
const QUOTA_429_2025 = {
  error: {
    code: 429,
    message:
      'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
    status: 'RESOURCE_EXHAUSTED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count',
            quotaId: 'GenerateContentInputTokensPerModelPerMinute-FreeTier',
            quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' },
            quotaValue: '250000',
          },
        ],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '26s' },
    ],
  },
}

const MESSAGE_2026 =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 20, model: gemini-3.5-flash\nPlease retry in 38.90923309s.'

/** §5.7 2026 format (per-day quota), as assembled in the wire samples */
function quota2026(quotaId: string, opts: { quotaValue?: string; retryInfo?: boolean } = {}) {
  return {
    error: {
      code: 429,
      message: MESSAGE_2026,
      status: 'RESOURCE_EXHAUSTED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.Help',
          links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
        },
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [
            {
              quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
              quotaId,
              quotaDimensions: { location: 'global', model: 'gemini-3.5-flash' },
              quotaValue: opts.quotaValue ?? '20',
            },
          ],
        },
        ...(opts.retryInfo === false ? [] : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '38s' }]),
      ],
    },
  }
}
const QUOTA_429_2026_DAY = quota2026('GenerateRequestsPerDayPerProjectPerModel-FreeTier')
/** edited: the per-minute quota id seen in python-genai#2044, in the 2026 envelope */
const QUOTA_429_2026_MINUTE = quota2026('GenerateRequestsPerMinutePerProjectPerModel-FreeTier')
const QUOTA_429_2026_MINUTE_NO_RETRYINFO = quota2026('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', { retryInfo: false })
/** edited: "limit: 0" = the model has no free tier for this key */
const QUOTA_429_2026_LIMIT_0 = quota2026('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', { quotaValue: '0' })

/** §5.7: all three violations of python-genai#2044 in one error (assembled) */
const QUOTA_429_THREE_VIOLATIONS = {
  error: {
    code: 429,
    message: 'You exceeded your current quota, please check your plan and billing details.',
    status: 'RESOURCE_EXHAUSTED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
            quotaDimensions: { location: 'global', model: 'gemini-2.0-flash' },
            quotaValue: '15',
          },
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
            quotaDimensions: { location: 'global', model: 'gemini-2.0-flash' },
            quotaValue: '200',
          },
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count',
            quotaId: 'GenerateContentInputTokensPerModelPerMinute-FreeTier',
            quotaDimensions: { location: 'global', model: 'gemini-2.0-flash' },
            quotaValue: '1000000',
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12s' },
    ],
  },
}

/** §5.7 bare 429 (google/generative-ai-docs#236) */
const BARE_429 = { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } }

/** §5.7 legacy 2024 form, complete (tech-shrimp/gemini-playground#10, 2025-01) */
const LEGACY_429 = {
  error: {
    code: 429,
    message:
      "Quota exceeded for quota metric 'Generate Content API requests per minute' and limit 'GenerateContent request limit per minute for a region' of service 'generativelanguage.googleapis.com' for consumer 'project_number:391029737820'.",
    status: 'RESOURCE_EXHAUSTED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'RATE_LIMIT_EXCEEDED',
        domain: 'googleapis.com',
        metadata: {
          service: 'generativelanguage.googleapis.com',
          quota_location: 'us-west4',
          quota_limit_value: '0',
          quota_limit: 'GenerateContentRequestsPerMinutePerProjectPerRegion',
          quota_metric: 'generativelanguage.googleapis.com/generate_content_requests',
          consumer: 'projects/391029737820',
        },
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ description: 'Request a higher quota limit.', url: 'https://cloud.google.com/docs/quotas/help/request_increase' }],
      },
    ],
  },
}
/** edited: the same legacy error with a non-zero limit */
const LEGACY_429_LIMIT_60 = structuredClone(LEGACY_429)
;(LEGACY_429_LIMIT_60.error.details[0] as { metadata: Record<string, string> }).metadata.quota_limit_value = '60'

/** §5.7 prepay credits depleted: exact body not captured; forum wording in the standard envelope */
const PREPAY_DEPLETED_429 = {
  error: {
    code: 429,
    message: 'Your prepayment credits are depleted. Please go to AI Studio to manage your project and billing.',
    status: 'RESOURCE_EXHAUSTED',
  },
}
/** §5 docs table: 402 RESOURCE_EXHAUSTED (body not captured) */
const PREPAY_402 = { error: { code: 402, message: 'Your prepayment credits are depleted.', status: 'RESOURCE_EXHAUSTED' } }

/** §5.8 */
const INTERNAL_500 = {
  error: {
    code: 500,
    message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
    status: 'INTERNAL',
  },
}
/** §5.9 */
const OVERLOADED_503 = { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } }
const HIGH_DEMAND_503 = {
  error: {
    code: 503,
    message: 'This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.',
    status: 'UNAVAILABLE',
  },
}
const DEADLINE_503 = { error: { code: 503, message: 'Deadline expired before operation could complete.', status: 'UNAVAILABLE' } }
/** §5.10 (reconstructed in the samples) */
const DEADLINE_504 = { error: { code: 504, message: 'Deadline expired before operation could complete.', status: 'DEADLINE_EXCEEDED' } }

/** Google's standard 401 wording (reconstructed: Gemini answers bad keys with 400/403, a 401 is unusual) */
const UNAUTHENTICATED_401 = {
  error: {
    code: 401,
    message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
    status: 'UNAUTHENTICATED',
  },
}
/** §7.3 file of another project (wording from the samples; exact body not captured) */
const FOREIGN_FILE_403 = {
  error: { code: 403, message: 'You do not have permission to access the File abc123 or it may not exist.', status: 'PERMISSION_DENIED' },
}

const PROXY_HTML_403 = '<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center><hr><center>nginx</center></body></html>'

// ------------------------------------------------------------------------------------------------------------
// Success bodies (§1, §2)

/** §1.1 [ADK] TestModel_Generate_ok */
const TEXT_ANSWER = {
  candidates: [{ content: { parts: [{ text: 'Paris' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata: {
    promptTokenCount: 11,
    candidatesTokenCount: 1,
    totalTokenCount: 46,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 11 }],
    thoughtsTokenCount: 34,
  },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'xlWYafXAOKSf1e8PpcODiAg',
}

/** §1.2 [FB] unary-success-thinking-reply-thought-summary.json */
const THINKING_ANSWER = {
  candidates: [
    {
      content: {
        parts: [{ text: "**Thinking About Google's Headquarters**\n\nWell, this one's straightforward. ...\n", thought: true }, { text: 'Mountain View' }],
        role: 'model',
      },
      finishReason: 'STOP',
      index: 0,
    },
  ],
  usageMetadata: {
    promptTokenCount: 14,
    candidatesTokenCount: 2,
    totalTokenCount: 40,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 14 }],
    thoughtsTokenCount: 24,
  },
  modelVersion: 'gemini-2.5-flash',
  responseId: '2pmHaJqQEoqC-8YP6eStyAY',
}

/** §1.1 edge case [JSG]: thinking consumed the whole budget — MAX_TOKENS and no parts at all */
const THINKING_ATE_BUDGET = {
  candidates: [{ content: { role: 'model' }, finishReason: 'MAX_TOKENS', index: 0 }],
  modelVersion: 'gemini-2.5-flash',
  responseId: 'iS77aMa9K_up1e8P5J69qQQ',
  turnToken: 'v1:ChdpUzc3YU1hOUtfdXAxZThQNUo2OXFRURIXaVM3N2FNYTlLX3VwMWU4UDVKNjlxUVE',
  usageMetadata: { promptTokenCount: 7, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 7 }], thoughtsTokenCount: 19, totalTokenCount: 26 },
}

/** §1.8 generative-ai-js unary-failure-prompt-blocked-safety.json (also the single SSE event of the stream form) */
const PROMPT_BLOCKED = {
  promptFeedback: {
    blockReason: 'SAFETY',
    safetyRatings: [
      { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
      { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'HIGH' },
      { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
      { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
    ],
  },
}
/** §1.8 current-model shape */
const PROMPT_BLOCKED_PROHIBITED = {
  promptFeedback: {
    blockReason: 'PROHIBITED_CONTENT',
    safetyRatings: [{ category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'HIGH', blocked: true }],
  },
  usageMetadata: { promptTokenCount: 638, totalTokenCount: 638, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 638 }] },
  modelVersion: 'gemini-2.5-flash',
  responseId: '...',
}
/** §1.8 candidate-level block ([FB] unary-failure-with-message-no-content.json shape) */
const FINISH_OTHER_NO_CONTENT = { candidates: [{ finishReason: 'OTHER', finishMessage: 'Unable to submit request because it has an empty text parameter.' }] }
const FINISH_SAFETY_NO_CONTENT = { candidates: [{ finishReason: 'SAFETY', index: 0 }] }
/** §1.9: streaming RECITATION sends a last chunk with no content */
const FINISH_RECITATION_NO_CONTENT = { candidates: [{ content: { role: 'model' }, finishReason: 'RECITATION', index: 0 }] }

/** §1.5 [FB] unary-success-code-execution.json (parts only) */
const CODE_EXECUTION = {
  candidates: [
    {
      content: {
        parts: [
          {
            executableCode: { language: 'PYTHON', code: "prime_numbers = [2, 3, 5, 7, 11]\nsum_of_primes = sum(prime_numbers)\nprint(f'{sum_of_primes=}')\n" },
          },
          { codeExecutionResult: { outcome: 'OUTCOME_OK', output: 'sum_of_primes=28\n' } },
          { text: 'The first 5 prime numbers are 2, 3, 5, 7, and 11.\nThe sum of these numbers is:\n2 + 3 + 5 + 7 + 11 = 28' },
        ],
        role: 'model',
      },
      finishReason: 'STOP',
      index: 0,
    },
  ],
}

/** §1.6 stream: the image chunk (a single inlineData part) */
const IMAGE_CHUNK = {
  candidates: [
    { content: { parts: [{ inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUgAAAf4AAAQACAIAAACPray8...' } }], role: 'model' }, index: 0 },
  ],
}
/** §1.6 stream: the image model's final chunk (no parts) — as a FIRST event it is empty */
const IMAGE_FINAL_CHUNK = { candidates: [{ content: { role: 'model' }, finishReason: 'STOP', index: 0 }] }

/** §2.2 first thought chunk: a thought part is content */
const THOUGHT_FIRST_EVENT = {
  candidates: [
    {
      content: { parts: [{ text: "**Calculating Prime Sum**\n\nI've begun working on this problem ...\n\n\n", thought: true }], role: 'model' },
      index: 0,
    },
  ],
  usageMetadata: { promptTokenCount: 51, totalTokenCount: 165, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 51 }], thoughtsTokenCount: 114 },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'cjGwadCGE7yvnsEP3tfsiQk',
}

/** §2.3 first event of the Gemini 3 parallel function-call stream */
const FUNCTION_CALL_FIRST_EVENT = {
  candidates: [
    {
      content: {
        parts: [{ functionCall: { name: 'sum', args: { b: 3, a: 2 }, id: '3ae8iwca' }, thoughtSignature: 'EukBCuYBAb4+9vt/vxxSqnu1...' }],
        role: 'model',
      },
      index: 0,
    },
  ],
  usageMetadata: {
    promptTokenCount: 161,
    candidatesTokenCount: 16,
    totalTokenCount: 222,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 161 }],
    thoughtsTokenCount: 45,
  },
  modelVersion: 'gemini-3-flash-preview',
  responseId: 'aiS5abqwJJf7nsEPuIy3wQQ',
}

/** §2.3 the last event of that stream: `{"text": ""}` + STOP — as a stream's FIRST event it is an empty answer */
const EMPTY_TEXT_STOP_EVENT = {
  candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata: {
    promptTokenCount: 161,
    candidatesTokenCount: 48,
    totalTokenCount: 254,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 161 }],
    thoughtsTokenCount: 45,
  },
  modelVersion: 'gemini-3-flash-preview',
  responseId: 'aiS5abqwJJf7nsEPuIy3wQQ',
}
/** §2.3 Gemini 3 text answers end with `{"text": "", "thoughtSignature": ...}` + STOP; alone, a signature is no answer */
const EMPTY_TEXT_SIGNATURE_STOP_EVENT = {
  candidates: [{ content: { parts: [{ text: '', thoughtSignature: 'EsICCr8CAb4+9vvi0hPd...' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
  modelVersion: 'gemini-3.1-pro-preview',
  responseId: '...',
}
/** Gemini 3 unary/aggregated answer: the content, then the final `{"text": ""}` part with the signature → a real answer */
const GEMINI3_CONTENT_THEN_SIGNATURE = {
  candidates: [
    {
      content: { parts: [{ text: 'Paris' }, { text: '', thoughtSignature: 'EsICCr8CAb4+9vvi0hPd...' }], role: 'model' },
      finishReason: 'STOP',
      index: 0,
    },
  ],
  modelVersion: 'gemini-3.1-pro-preview',
  responseId: '...',
}

/** §2.1 2.0 first stream chunk (no finishReason yet) */
const STREAM_FIRST_CHUNK_20 = {
  candidates: [{ content: { parts: [{ text: 'The' }], role: 'model' } }],
  usageMetadata: { promptTokenCount: 7, totalTokenCount: 7, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 7 }] },
  modelVersion: 'gemini-2.0-flash',
}

/** §3.1 countTokens (shape) */
const COUNT_TOKENS = { totalTokens: 10, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 10 }] }

deepFreeze([
  API_KEY_INVALID,
  MISSING_KEY_403,
  SUSPENDED,
  LEAKED,
  SERVICE_DISABLED,
  API_KEY_SERVICE_BLOCKED,
  UNKNOWN_MODEL_404,
  RETIRED_MODEL_404,
  UNKNOWN_NAME_400,
  UNKNOWN_NAME_400_ARRAY,
  LOCATION_400,
  QUOTA_429_2025,
  QUOTA_429_2026_DAY,
  QUOTA_429_2026_MINUTE,
  QUOTA_429_2026_MINUTE_NO_RETRYINFO,
  QUOTA_429_2026_LIMIT_0,
  QUOTA_429_THREE_VIOLATIONS,
  BARE_429,
  LEGACY_429,
  LEGACY_429_LIMIT_60,
  PREPAY_DEPLETED_429,
  PREPAY_402,
  INTERNAL_500,
  OVERLOADED_503,
  HIGH_DEMAND_503,
  DEADLINE_503,
  DEADLINE_504,
  UNAUTHENTICATED_401,
  FOREIGN_FILE_403,
  TEXT_ANSWER,
  THINKING_ANSWER,
  THINKING_ATE_BUDGET,
  PROMPT_BLOCKED,
  PROMPT_BLOCKED_PROHIBITED,
  FINISH_OTHER_NO_CONTENT,
  FINISH_SAFETY_NO_CONTENT,
  FINISH_RECITATION_NO_CONTENT,
  CODE_EXECUTION,
  IMAGE_CHUNK,
  IMAGE_FINAL_CHUNK,
  THOUGHT_FIRST_EVENT,
  FUNCTION_CALL_FIRST_EVENT,
  EMPTY_TEXT_STOP_EVENT,
  EMPTY_TEXT_SIGNATURE_STOP_EVENT,
  GEMINI3_CONTENT_THEN_SIGNATURE,
  STREAM_FIRST_CHUNK_20,
  COUNT_TOKENS,
])

// ------------------------------------------------------------------------------------------------------------
// The table

interface Case {
  name: string
  facts: Partial<AttemptFacts>
  policy?: Partial<JudgePolicy>
  class: FailureClass
  retry: boolean
  effect: KeyEffect
  retryAfterMs?: number
  reason?: RegExp | string
}

const NONE: KeyEffect = { kind: 'none' }
const SUCCESS: KeyEffect = { kind: 'success' }
const cool = (model: string, until: number, reason: 'rate-limited' | 'quota-exhausted' | 'model-unavailable'): KeyEffect => ({
  kind: 'cooldown',
  model,
  until,
  reason,
})
const disabled = (reason: string): KeyEffect => ({ kind: 'disable', reason })
const CONFIRM_KEY: KeyEffect = { kind: 'confirm', probe: 'key' }
const CONFIRM_MODEL: KeyEffect = { kind: 'confirm', probe: 'model' }

const gen = (status: number | undefined, body: unknown, more: Partial<AttemptFacts> = {}): Partial<AttemptFacts> => ({ status, body, ...more })
const stream = (status: number | undefined, body: unknown, more: Partial<AttemptFacts> = {}): Partial<AttemptFacts> => ({
  operation: 'streamGenerateContent',
  status,
  body,
  ...more,
})

const cases: Case[] = [
  // --- client cancelled: always wins, never touches the key
  { name: 'cancelled (with a 429 body)', facts: gen(429, QUOTA_429_2025, { cancelled: true }), class: 'client-cancelled', retry: false, effect: NONE },
  {
    name: 'cancelled (with an invalid-key body)',
    facts: gen(400, API_KEY_INVALID, { cancelled: true }),
    class: 'client-cancelled',
    retry: false,
    effect: NONE,
  },
  {
    name: 'cancelled (no response)',
    facts: gen(undefined, undefined, { transportError: 'AbortError', cancelled: true }),
    class: 'client-cancelled',
    retry: false,
    effect: NONE,
  },

  // --- transport errors: retry, never the key's fault
  ...['ECONNRESET', 'ECONNREFUSED', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'TimeoutError', 'ENOTFOUND'].map((code): Case => ({
    name: `transport ${code}`,
    facts: gen(undefined, undefined, { transportError: code }),
    class: 'transport-error',
    retry: true,
    effect: NONE,
    reason: code,
  })),
  { name: 'no status and no error code', facts: gen(undefined, undefined), class: 'transport-error', retry: true, effect: NONE, reason: 'no response' },
  {
    name: '200 whose body broke off',
    facts: stream(200, STREAM_FIRST_CHUNK_20, { transportError: 'UND_ERR_SOCKET' }),
    class: 'transport-error',
    retry: true,
    effect: NONE,
  },

  // --- 2xx generateContent / streamGenerateContent
  { name: '200 text answer (§1.1)', facts: gen(200, TEXT_ANSWER), class: 'ok', retry: false, effect: SUCCESS, reason: 'ok' },
  { name: '200 thinking answer (§1.2)', facts: gen(200, THINKING_ANSWER), class: 'ok', retry: false, effect: SUCCESS },
  {
    name: '200 thinking ate the budget: MAX_TOKENS, no parts',
    facts: gen(200, THINKING_ATE_BUDGET),
    class: 'ok',
    retry: false,
    effect: SUCCESS,
    reason: 'ok (finishReason MAX_TOKENS)',
  },
  {
    name: '200 prompt blocked SAFETY (unary)',
    facts: gen(200, PROMPT_BLOCKED),
    class: 'ok',
    retry: false,
    effect: SUCCESS,
    reason: 'ok (prompt blocked: SAFETY)',
  },
  { name: '200 prompt blocked SAFETY (stream event)', facts: stream(200, PROMPT_BLOCKED), class: 'ok', retry: false, effect: SUCCESS },
  { name: '200 prompt blocked PROHIBITED_CONTENT', facts: gen(200, PROMPT_BLOCKED_PROHIBITED), class: 'ok', retry: false, effect: SUCCESS },
  { name: '200 finishReason OTHER, no content', facts: gen(200, FINISH_OTHER_NO_CONTENT), class: 'ok', retry: false, effect: SUCCESS },
  { name: '200 finishReason SAFETY, no content', facts: gen(200, FINISH_SAFETY_NO_CONTENT), class: 'ok', retry: false, effect: SUCCESS },
  { name: '200 finishReason RECITATION, no parts', facts: stream(200, FINISH_RECITATION_NO_CONTENT), class: 'ok', retry: false, effect: SUCCESS },
  { name: '200 code execution parts', facts: gen(200, CODE_EXECUTION), class: 'ok', retry: false, effect: SUCCESS },
  { name: '200 stream: image chunk (inlineData only)', facts: stream(200, IMAGE_CHUNK), class: 'ok', retry: false, effect: SUCCESS },
  { name: '200 stream: thought-only first event', facts: stream(200, THOUGHT_FIRST_EVENT), class: 'ok', retry: false, effect: SUCCESS },
  { name: '200 stream: functionCall first event (Gemini 3)', facts: stream(200, FUNCTION_CALL_FIRST_EVENT), class: 'ok', retry: false, effect: SUCCESS },
  { name: '200 stream: 2.0 first chunk, no finishReason yet', facts: stream(200, STREAM_FIRST_CHUNK_20), class: 'ok', retry: false, effect: SUCCESS },
  {
    name: '200 Gemini 3: content, then {"text":""} + thoughtSignature',
    facts: gen(200, GEMINI3_CONTENT_THEN_SIGNATURE),
    class: 'ok',
    retry: false,
    effect: SUCCESS,
  },
  { name: '200 non-SSE stream array with content', facts: stream(200, [STREAM_FIRST_CHUNK_20]), class: 'ok', retry: false, effect: SUCCESS },
  {
    name: '200 stream: first event {"text":""} + STOP and nothing else',
    facts: stream(200, EMPTY_TEXT_STOP_EVENT),
    class: 'empty-answer',
    retry: true,
    effect: NONE,
  },
  {
    name: '200 stream: first event {"text":"", thoughtSignature} + STOP',
    facts: stream(200, EMPTY_TEXT_SIGNATURE_STOP_EVENT),
    class: 'empty-answer',
    retry: true,
    effect: NONE,
  },
  { name: '200 stream: image-model final chunk as first event', facts: stream(200, IMAGE_FINAL_CHUNK), class: 'empty-answer', retry: true, effect: NONE },
  { name: '200 stream without any event', facts: stream(200, undefined), class: 'empty-answer', retry: true, effect: NONE, reason: /no body/ },
  { name: '200 unary {}', facts: gen(200, {}), class: 'empty-answer', retry: true, effect: NONE },
  { name: '200 unary candidates: [] ', facts: gen(200, { candidates: [] }), class: 'empty-answer', retry: true, effect: NONE },
  {
    name: '200 unary content without parts, no finishReason',
    facts: gen(200, { candidates: [{ content: { role: 'model' } }] }),
    class: 'empty-answer',
    retry: true,
    effect: NONE,
  },
  { name: '200 unary empty string body', facts: gen(200, ''), class: 'empty-answer', retry: true, effect: NONE },
  {
    name: '200 non-JSON body (proxy page)',
    facts: gen(200, '<html>captive portal</html>'),
    class: 'upstream-error',
    retry: true,
    effect: NONE,
    reason: /not JSON/,
  },
  {
    name: '200 stream whose first event is a 429 error envelope',
    facts: stream(200, QUOTA_429_2025),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 26_000, 'rate-limited'),
    retryAfterMs: 26_000,
    reason: /under HTTP 200/,
  },

  // --- 2xx other operations
  { name: 'countTokens 200', facts: { operation: 'countTokens', status: 200, body: COUNT_TOKENS }, class: 'ok', retry: false, effect: SUCCESS },
  {
    name: 'embedContent 200',
    facts: { operation: 'embedContent', status: 200, body: { embedding: { values: [0.1, -0.2] } } },
    class: 'ok',
    retry: false,
    effect: SUCCESS,
  },
  {
    name: 'listModels 200 (no model)',
    facts: { operation: 'listModels', model: '', status: 200, body: { models: [] } },
    class: 'ok',
    retry: false,
    effect: SUCCESS,
  },
  {
    name: 'files.delete 200 with {} is not an "empty answer"',
    facts: { operation: 'files.delete', model: '', status: 200, body: {} },
    class: 'ok',
    retry: false,
    effect: SUCCESS,
  },

  // --- 429: rate limits and quotas
  {
    name: '429 2025 format: per-minute input tokens, RetryInfo 26s',
    facts: gen(429, QUOTA_429_2025),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 26_000, 'rate-limited'),
    retryAfterMs: 26_000,
    reason: 'per-minute input-token quota (GenerateContentInputTokensPerModelPerMinute-FreeTier), retry in 26s',
  },
  {
    name: '429 cooldown model comes from quotaDimensions.model',
    facts: gen(429, QUOTA_429_2025, { model: 'gemini-flash-latest' }),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 26_000, 'rate-limited'),
    retryAfterMs: 26_000,
  },
  {
    name: '429 2026 format: per-day → until midnight Pacific',
    facts: gen(429, QUOTA_429_2026_DAY, { model: 'gemini-3.5-flash' }),
    class: 'quota-exhausted',
    retry: true,
    effect: cool('gemini-3.5-flash', NEXT_MIDNIGHT, 'quota-exhausted'),
    retryAfterMs: TO_MIDNIGHT,
    reason: 'per-day request quota (GenerateRequestsPerDayPerProjectPerModel-FreeTier), resets at midnight Pacific, in 19h22m',
  },
  {
    name: '429 per-day during PDT (one minute before midnight)',
    facts: gen(429, QUOTA_429_2026_DAY, { now: Date.UTC(2026, 6, 4, 6, 59, 0) }),
    class: 'quota-exhausted',
    retry: true,
    effect: cool('gemini-3.5-flash', Date.UTC(2026, 6, 4, 7, 0, 0), 'quota-exhausted'),
    retryAfterMs: 60_000,
  },
  {
    name: '429 per-day ignores Retry-After and RetryInfo (not the reset time)',
    facts: gen(429, QUOTA_429_2026_DAY, { retryAfterHeader: '30' }),
    class: 'quota-exhausted',
    retry: true,
    effect: cool('gemini-3.5-flash', NEXT_MIDNIGHT, 'quota-exhausted'),
    retryAfterMs: TO_MIDNIGHT,
  },
  {
    name: '429 2026 per-minute: RetryInfo 38s comes before the message',
    facts: gen(429, QUOTA_429_2026_MINUTE),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-3.5-flash', NOW + 38_000, 'rate-limited'),
    retryAfterMs: 38_000,
    reason: 'per-minute request quota (GenerateRequestsPerMinutePerProjectPerModel-FreeTier), retry in 38s',
  },
  {
    name: '429 2026 per-minute without RetryInfo: the message\'s "Please retry in 38.9s" is not read; default delay',
    facts: gen(429, QUOTA_429_2026_MINUTE_NO_RETRYINFO),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-3.5-flash', NOW + 60_000, 'rate-limited'),
    retryAfterMs: 60_000,
    reason: /retry in 1m$/,
  },
  {
    name: '429 Retry-After header (seconds) comes first',
    facts: gen(429, QUOTA_429_2026_MINUTE, { retryAfterHeader: '7' }),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-3.5-flash', NOW + 7_000, 'rate-limited'),
    retryAfterMs: 7_000,
  },
  {
    name: '429 Retry-After header (HTTP date)',
    facts: gen(429, BARE_429, { retryAfterHeader: 'Fri, 20 Feb 2026 12:39:02 GMT' }),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 30_000, 'rate-limited'),
    retryAfterMs: 30_000,
  },
  {
    name: '429 unparsable Retry-After falls through to RetryInfo',
    facts: gen(429, QUOTA_429_2025, { retryAfterHeader: 'soon' }),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 26_000, 'rate-limited'),
    retryAfterMs: 26_000,
  },
  {
    name: '429 bare (no details) → default cooldown',
    facts: gen(429, BARE_429),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 60_000, 'rate-limited'),
    retryAfterMs: 60_000,
    reason: 'rate limited (no quota details), retry in 1m',
  },
  {
    name: '429 bare, policy default 30s',
    facts: gen(429, BARE_429),
    policy: { defaultRateLimitCooldownMs: 30_000 },
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 30_000, 'rate-limited'),
    retryAfterMs: 30_000,
  },
  {
    name: '429 without a Gemini body (proxy) is still a short cooldown',
    facts: gen(429, 'Too Many Requests'),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 60_000, 'rate-limited'),
    retryAfterMs: 60_000,
    reason: /without a Gemini error body/,
  },
  {
    name: '429 legacy RATE_LIMIT_EXCEEDED (limit 60) → per-minute',
    facts: gen(429, LEGACY_429_LIMIT_60),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 60_000, 'rate-limited'),
    retryAfterMs: 60_000,
    reason: 'per-minute request quota (GenerateContentRequestsPerMinutePerProjectPerRegion), retry in 1m',
  },
  {
    name: '429 legacy RATE_LIMIT_EXCEEDED as captured (quota_limit_value "0") → no quota: model-unavailable 1h',
    facts: gen(429, LEGACY_429),
    class: 'model-unavailable',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + HOUR, 'model-unavailable'),
    retryAfterMs: HOUR,
  },
  {
    name: '429 "limit: 0" (no free tier for the model) → model-unavailable 1h, not a 38s loop',
    facts: gen(429, QUOTA_429_2026_LIMIT_0),
    class: 'model-unavailable',
    retry: true,
    effect: cool('gemini-3.5-flash', NOW + HOUR, 'model-unavailable'),
    retryAfterMs: HOUR,
    reason: /limit 0/,
  },
  {
    name: '429 three violations (minute, day, tokens): the longest wins',
    facts: gen(429, QUOTA_429_THREE_VIOLATIONS, { model: 'gemini-2.0-flash' }),
    class: 'quota-exhausted',
    retry: true,
    effect: cool('gemini-2.0-flash', NEXT_MIDNIGHT, 'quota-exhausted'),
    retryAfterMs: TO_MIDNIGHT,
  },
  {
    name: '429 array-wrapped (non-SSE stream / OpenAI-compat)',
    facts: stream(429, [QUOTA_429_2025]),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 26_000, 'rate-limited'),
    retryAfterMs: 26_000,
  },
  {
    name: '429 as pretty JSON text (SSE error body)',
    facts: stream(429, JSON.stringify(QUOTA_429_2025, null, 2)),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 26_000, 'rate-limited'),
    retryAfterMs: 26_000,
  },
  {
    name: '429 delay clamped up to 1s (RetryInfo "0s")',
    facts: gen(429, { error: { ...BARE_429.error, details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0s' }] } }),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 1_000, 'rate-limited'),
    retryAfterMs: 1_000,
  },
  {
    name: '429 delay clamped up to 1s (RetryInfo "0.5s")',
    facts: gen(429, { error: { ...BARE_429.error, details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0.5s' }] } }),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 1_000, 'rate-limited'),
    retryAfterMs: 1_000,
  },
  {
    name: '429 delay clamped down to maxCooldownMs (Retry-After 2 days)',
    facts: gen(429, BARE_429, { retryAfterHeader: '172800' }),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + HOUR, 'rate-limited'),
    retryAfterMs: HOUR,
  },
  {
    name: '429 Retry-After date in the past → 1s',
    facts: gen(429, BARE_429, { retryAfterHeader: 'Thu, 19 Feb 2026 00:00:00 GMT' }),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 1_000, 'rate-limited'),
    retryAfterMs: 1_000,
  },
  {
    name: '429 policy maxCooldownMs 10 min',
    facts: gen(429, BARE_429, { retryAfterHeader: '7200' }),
    policy: { maxCooldownMs: 600_000 },
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 600_000, 'rate-limited'),
    retryAfterMs: 600_000,
  },

  // --- billing: disable, it will not clear at midnight
  {
    name: '429 "credits are depleted" in words only: a rate limit',
    facts: gen(429, PREPAY_DEPLETED_429),
    class: 'rate-limited',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 60_000, 'rate-limited'),
    retryAfterMs: 60_000,
  },
  { name: '402 prepayment credits depleted', facts: gen(402, PREPAY_402), class: 'invalid-key', retry: true, effect: disabled('billing') },
  {
    name: '402 envelope, other wording',
    facts: gen(402, { error: { code: 402, message: 'Payment required.', status: 'RESOURCE_EXHAUSTED' } }),
    class: 'invalid-key',
    retry: true,
    effect: disabled('billing'),
  },
  { name: '402 without a Gemini body (relay page)', facts: gen(402, 'Payment Required'), class: 'upstream-error', retry: true, effect: NONE },

  // --- invalid / suspended / leaked / disabled keys: disable and try another key
  { name: '400 API_KEY_INVALID', facts: gen(400, API_KEY_INVALID), class: 'invalid-key', retry: true, effect: disabled('invalid') },
  {
    name: '400 API_KEY_INVALID array-wrapped (OpenAI-compat)',
    facts: gen(400, [API_KEY_INVALID]),
    class: 'invalid-key',
    retry: true,
    effect: disabled('invalid'),
  },
  {
    name: '400 API_KEY_INVALID as JSON text',
    facts: stream(400, JSON.stringify(API_KEY_INVALID, null, 2)),
    class: 'invalid-key',
    retry: true,
    effect: disabled('invalid'),
  },
  // Words alone never disable: a message can echo what the client sent.
  {
    name: '400 "API key not valid" message only: the request\'s',
    facts: gen(400, { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' } }),
    class: 'client-error',
    retry: false,
    effect: NONE,
  },
  {
    name: '400 "API key expired" message only: the request\'s',
    facts: gen(400, { error: { code: 400, message: 'API key expired. Please renew the API key.', status: 'INVALID_ARGUMENT' } }),
    class: 'client-error',
    retry: false,
    effect: NONE,
  },
  {
    name: '400 ErrorInfo reason without a domain or @type is not an ErrorInfo',
    facts: gen(400, { error: { code: 400, message: 'x', status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID' }] } }),
    class: 'client-error',
    retry: false,
    effect: NONE,
  },
  {
    name: '400 ErrorInfo without @type but with its domain (relay dropped @type)',
    facts: gen(400, { error: { code: 400, message: 'x', status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID', domain: 'googleapis.com' }] } }),
    class: 'invalid-key',
    retry: true,
    effect: disabled('invalid'),
  },
  {
    name: '400 a reason named after Object.prototype',
    facts: gen(400, { error: { code: 400, message: 'x', status: 'INVALID_ARGUMENT', details: [{ reason: 'constructor', domain: 'googleapis.com' }] } }),
    class: 'client-error',
    retry: false,
    effect: NONE,
  },
  { name: '403 CONSUMER_SUSPENDED', facts: gen(403, SUSPENDED), class: 'invalid-key', retry: true, effect: disabled('suspended') },
  {
    name: '403 "has been suspended" message only: confirm on the key',
    facts: gen(403, { error: { ...SUSPENDED.error, details: undefined } }),
    class: 'ambiguous',
    retry: false,
    effect: CONFIRM_KEY,
  },
  { name: '403 reported as leaked (no details): confirm on the key', facts: gen(403, LEAKED), class: 'ambiguous', retry: false, effect: CONFIRM_KEY },
  {
    name: '403 reported as leaked on the fixed request: strike',
    facts: gen(403, LEAKED, { fixedRequest: true }),
    class: 'ambiguous',
    retry: true,
    effect: { kind: 'strike', reason: 'HTTP 403 PERMISSION_DENIED' },
  },
  { name: '403 SERVICE_DISABLED', facts: gen(403, SERVICE_DISABLED), class: 'invalid-key', retry: true, effect: disabled('service-disabled') },
  { name: '403 API_KEY_SERVICE_BLOCKED', facts: stream(403, API_KEY_SERVICE_BLOCKED), class: 'invalid-key', retry: true, effect: disabled('service-blocked') },

  // --- ambiguous: confirmed on the key with a fixed request; on the fixed request itself, a strike toward MAX_FAILURES
  { name: '403 missing key / unregistered caller', facts: gen(403, MISSING_KEY_403), class: 'ambiguous', retry: false, effect: CONFIRM_KEY },
  {
    name: '403 bare PERMISSION_DENIED',
    facts: gen(403, { error: { code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' } }),
    class: 'ambiguous',
    retry: false,
    effect: CONFIRM_KEY,
  },
  { name: '401 UNAUTHENTICATED', facts: gen(401, UNAUTHENTICATED_401), class: 'ambiguous', retry: false, effect: CONFIRM_KEY },
  {
    name: '403 bare PERMISSION_DENIED on the fixed request',
    facts: gen(403, { error: { code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' } }, { fixedRequest: true }),
    class: 'ambiguous',
    retry: true,
    effect: { kind: 'strike', reason: 'HTTP 403 PERMISSION_DENIED' },
  },
  {
    name: '401 UNAUTHENTICATED on the fixed request',
    facts: gen(401, UNAUTHENTICATED_401, { fixedRequest: true }),
    class: 'ambiguous',
    retry: true,
    effect: { kind: 'strike', reason: 'HTTP 401 UNAUTHENTICATED' },
  },
  {
    name: '403 HTML from a proxy/WAF: not the key',
    facts: gen(403, PROXY_HTML_403),
    class: 'upstream-error',
    retry: true,
    effect: NONE,
    reason: /proxy or firewall/,
  },
  { name: '401 with no body: not the key', facts: gen(401, undefined), class: 'upstream-error', retry: true, effect: NONE },
  {
    name: "403 file of another project: confirm on the key (the message names the client's file)",
    facts: { operation: 'files.get', model: '', status: 403, body: FOREIGN_FILE_403 },
    class: 'ambiguous',
    retry: false,
    effect: CONFIRM_KEY,
  },

  // --- 404
  {
    name: '404 unknown model (typo): no retry',
    facts: gen(404, UNKNOWN_MODEL_404, { model: 'custom-gemini-2.0-flash' }),
    class: 'client-error',
    retry: false,
    effect: NONE,
    reason: /^unknown model/,
  },
  {
    name: '404 unknown model on a stream, raw text body',
    facts: stream(404, UNKNOWN_MODEL_404_SSE_TEXT, { model: 'custom-gemini-2.0-flash' }),
    class: 'client-error',
    retry: false,
    effect: NONE,
  },
  {
    name: '404 on a model no key served: unknown model, even if the message says "retired"',
    facts: gen(404, RETIRED_MODEL_404),
    class: 'client-error',
    retry: false,
    effect: NONE,
  },
  {
    name: '404 on a model another key served: confirm on the model',
    facts: gen(404, RETIRED_MODEL_404, { modelServed: true }),
    class: 'ambiguous',
    retry: false,
    effect: CONFIRM_MODEL,
  },
  {
    name: '404 typo-looking message on a served model: still confirmed, not read',
    facts: gen(404, UNKNOWN_MODEL_404, { modelServed: true }),
    class: 'ambiguous',
    retry: false,
    effect: CONFIRM_MODEL,
  },
  {
    name: '404 on the fixed request to the model → model-unavailable',
    facts: gen(404, RETIRED_MODEL_404, { fixedRequest: true }),
    class: 'model-unavailable',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + HOUR, 'model-unavailable'),
    retryAfterMs: HOUR,
  },
  {
    name: '404 model-unavailable, policy 15 min',
    facts: gen(404, RETIRED_MODEL_404, { fixedRequest: true }),
    policy: { modelUnavailableCooldownMs: 900_000 },
    class: 'model-unavailable',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + 900_000, 'model-unavailable'),
    retryAfterMs: 900_000,
  },
  {
    name: '404 "Requested entity was not found." on the fixed request → model-unavailable',
    facts: gen(404, { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } }, { fixedRequest: true }),
    class: 'model-unavailable',
    retry: true,
    effect: cool('gemini-2.5-flash', NOW + HOUR, 'model-unavailable'),
    retryAfterMs: HOUR,
  },
  { name: '404 without a Gemini body (wrong base URL)', facts: gen(404, '<html>Not Found</html>'), class: 'upstream-error', retry: true, effect: NONE },
  {
    name: '404 on a file (no model): client error',
    facts: { operation: 'files.get', model: '', status: 404, body: { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } } },
    class: 'client-error',
    retry: false,
    effect: NONE,
  },

  // --- client errors: no retry, no effect
  {
    name: '400 Unknown name',
    facts: gen(400, UNKNOWN_NAME_400),
    class: 'client-error',
    retry: false,
    effect: NONE,
    reason: /^HTTP 400 INVALID_ARGUMENT: Invalid JSON payload/,
  },
  { name: '400 Unknown name, array-wrapped (§6.2)', facts: gen(400, UNKNOWN_NAME_400_ARRAY), class: 'client-error', retry: false, effect: NONE },
  { name: '400 FAILED_PRECONDITION location', facts: gen(400, LOCATION_400), class: 'client-error', retry: false, effect: NONE },
  {
    name: '400 generic, no details',
    facts: gen(400, { error: { code: 400, message: 'Request contains an invalid argument.', status: 'INVALID_ARGUMENT' } }),
    class: 'client-error',
    retry: false,
    effect: NONE,
  },
  { name: '413 payload too large', facts: gen(413, 'Request Entity Too Large'), class: 'client-error', retry: false, effect: NONE },
  { name: '409', facts: gen(409, { error: { code: 409, message: 'Conflict', status: 'ABORTED' } }), class: 'client-error', retry: false, effect: NONE },

  // --- upstream errors: retry, never the key's fault
  { name: '408 from upstream', facts: gen(408, undefined), class: 'upstream-error', retry: true, effect: NONE },
  {
    name: '499 CANCELLED from upstream',
    facts: gen(499, { error: { code: 499, message: 'The operation was cancelled.', status: 'CANCELLED' } }),
    class: 'upstream-error',
    retry: true,
    effect: NONE,
  },
  { name: '500 INTERNAL', facts: gen(500, INTERNAL_500), class: 'upstream-error', retry: true, effect: NONE },
  {
    name: '503 overloaded',
    facts: gen(503, OVERLOADED_503),
    class: 'upstream-error',
    retry: true,
    effect: NONE,
    reason: 'HTTP 503 UNAVAILABLE: The model is overloaded. Please try again later.',
  },
  { name: '503 high demand', facts: gen(503, HIGH_DEMAND_503), class: 'upstream-error', retry: true, effect: NONE },
  { name: '503 deadline expired', facts: gen(503, DEADLINE_503), class: 'upstream-error', retry: true, effect: NONE },
  { name: '504 DEADLINE_EXCEEDED', facts: gen(504, DEADLINE_504), class: 'upstream-error', retry: true, effect: NONE },
  { name: '502 from a proxy, HTML', facts: gen(502, '<html>Bad Gateway</html>'), class: 'upstream-error', retry: true, effect: NONE },
  {
    name: '503 with Retry-After does not cool the key',
    facts: gen(503, OVERLOADED_503, { retryAfterHeader: '30' }),
    class: 'upstream-error',
    retry: true,
    effect: NONE,
  },
  { name: '599 unknown 5xx', facts: gen(599, undefined), class: 'upstream-error', retry: true, effect: NONE },
  { name: '302 redirect (proxy in the way)', facts: gen(302, undefined), class: 'upstream-error', retry: true, effect: NONE },
]

// The attack: Google's 400 for an unknown field repeats the field's name, so a client can make any words appear in a
// 400 message, and the message of a 403 can name the client's file. None of these may touch the key.
const TRIGGER_PHRASES = [
  'API key not valid. Please pass a valid API key.',
  'API key expired. Please renew the API key.',
  "Permission denied: Consumer 'api_key:AIzaSy' has been suspended.",
  'Your API key was reported as leaked. Please use another API key.',
  'Your prepayment credits are depleted.',
  'Please retry in 86400s.',
  'is not found for API version v1beta',
]
const unknownName = (field: string) => `Invalid JSON payload received. Unknown name ${JSON.stringify(field)}: Cannot find field.`
cases.push(
  ...TRIGGER_PHRASES.map((phrase): Case => ({
    name: `attack: 400 echoing the field name ${JSON.stringify(phrase)}`,
    facts: gen(400, {
      error: {
        code: 400,
        message: unknownName(phrase),
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ description: unknownName(phrase) }] }],
      },
    }),
    class: 'client-error',
    retry: false,
    effect: NONE,
  })),
  ...TRIGGER_PHRASES.map((phrase): Case => ({
    name: `attack: array-wrapped 400 (OpenAI layer) echoing ${JSON.stringify(phrase)}`,
    facts: gen(400, [{ error: { code: 400, message: unknownName(phrase), status: 'INVALID_ARGUMENT' } }]),
    class: 'client-error',
    retry: false,
    effect: NONE,
  })),
  ...TRIGGER_PHRASES.map((phrase): Case => ({
    name: `attack: 403 naming a client file ${JSON.stringify(phrase)}: confirmed before anything happens`,
    facts: gen(403, {
      error: { code: 403, message: `You do not have permission to access the File ${phrase} or it may not exist.`, status: 'PERMISSION_DENIED' },
    }),
    class: 'ambiguous',
    retry: false,
    effect: CONFIRM_KEY,
  })),
)

function factsOf(c: Case): AttemptFacts {
  return { operation: 'generateContent', model: 'gemini-2.5-flash', now: NOW, ...c.facts }
}

describe('judgeAttempt', () => {
  // No clock reads: the judge must take time only from facts.now.
  beforeAll(() => {
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('judge read the clock (Date.now)')
    })
    vi.spyOn(performance, 'now').mockImplementation(() => {
      throw new Error('judge read the clock (performance.now)')
    })
  })
  afterAll(() => {
    vi.restoreAllMocks()
  })

  it.each(cases)('$name', (c) => {
    const v = judgeAttempt(factsOf(c), c.policy)
    expect({ class: v.class, retry: v.retry, effect: v.effect, retryAfterMs: v.retryAfterMs }).toEqual({
      class: c.class,
      retry: c.retry,
      effect: c.effect,
      retryAfterMs: c.retryAfterMs,
    })
    expect(typeof v.reason).toBe('string')
    expect(v.reason.length).toBeGreaterThan(0)
    if (typeof c.reason === 'string') expect(v.reason).toContain(c.reason)
    else if (c.reason) expect(v.reason).toMatch(c.reason)
  })

  it('only key-attributable classes touch key health', () => {
    const neutral: FailureClass[] = ['client-cancelled', 'client-error', 'transport-error', 'upstream-error', 'empty-answer']
    for (const c of cases) {
      const v = judgeAttempt(factsOf(c), c.policy)
      if (neutral.includes(v.class)) expect(v.effect, c.name).toEqual(NONE)
      if (v.class === 'ok') expect(v.effect, c.name).toEqual(SUCCESS)
      if (v.effect.kind === 'cooldown') {
        expect(v.retryAfterMs, c.name).toBe(v.effect.until - NOW_OF(c))
        expect(v.effect.reason, c.name).toBe(v.class)
      }
    }
  })

  it('a cooldown is never shorter than 1s, and per-minute ones never longer than maxCooldownMs', () => {
    for (const c of cases) {
      const v = judgeAttempt(factsOf(c), c.policy)
      if (v.class === 'rate-limited') {
        expect(v.retryAfterMs!, c.name).toBeGreaterThanOrEqual(1_000)
        expect(v.retryAfterMs!, c.name).toBeLessThanOrEqual(c.policy?.maxCooldownMs ?? DEFAULT_JUDGE_POLICY.maxCooldownMs)
      }
    }
  })

  it('is deterministic and does not mutate its input', () => {
    for (const c of cases) {
      const facts = deepFreeze(factsOf(c))
      expect(judgeAttempt(facts, c.policy)).toEqual(judgeAttempt(facts, c.policy))
    }
  })

  it('undefined policy entries fall back to the defaults', () => {
    const v = judgeAttempt(factsOf({ name: '', facts: gen(429, BARE_429), class: 'ok', retry: false, effect: NONE }), {
      defaultRateLimitCooldownMs: undefined,
    })
    expect(v.retryAfterMs).toBe(60_000)
  })
})

function NOW_OF(c: Case): number {
  return c.facts.now ?? NOW
}

// ------------------------------------------------------------------------------------------------------------

describe('isEmptyAnswer', () => {
  it.each([
    ['undefined (stream without events)', undefined, true],
    ['null', null, true],
    ['a string', 'hello', true],
    ['{}', {}, true],
    ['[] (empty JSON-array stream)', [], true],
    ['{"text":""} + STOP', EMPTY_TEXT_STOP_EVENT, true],
    ['{"text":"", thoughtSignature} + STOP', EMPTY_TEXT_SIGNATURE_STOP_EVENT, true],
    ['thought: true with empty text', { candidates: [{ content: { parts: [{ text: '', thought: true }] } }] }, true],
    ['FINISH_REASON_UNSPECIFIED counts as absent', { candidates: [{ finishReason: 'FINISH_REASON_UNSPECIFIED' }] }, true],
    ['text', TEXT_ANSWER, false],
    ['thought part only', THOUGHT_FIRST_EVENT, false],
    ['functionCall', FUNCTION_CALL_FIRST_EVENT, false],
    ['inlineData', IMAGE_CHUNK, false],
    ['executableCode / codeExecutionResult', CODE_EXECUTION, false],
    ['an unknown future part kind counts as content', { candidates: [{ content: { parts: [{ toolCall: { id: 'x' } }] } }] }, false],
    ['MAX_TOKENS, no parts', THINKING_ATE_BUDGET, false],
    ['blocked prompt', PROMPT_BLOCKED, false],
    ['SAFETY', FINISH_SAFETY_NO_CONTENT, false],
    ['RECITATION', FINISH_RECITATION_NO_CONTENT, false],
    ['second candidate has content', { candidates: [{ content: { parts: [{ text: '' }] } }, { content: { parts: [{ text: 'x' }] } }] }, false],
    ['JSON-array stream with content', [STREAM_FIRST_CHUNK_20], false],
  ])('%s → %s', (_name, body, expected) => {
    expect(isEmptyAnswer(body)).toBe(expected)
  })
})

describe('delay parsing', () => {
  it.each([
    ['26s', 26_000],
    ['38s', 38_000],
    ['0.5s', 500],
    ['65205s', 65_205_000],
    ['1.000340012s', 1000.340012],
    ['0s', 0],
    [{ seconds: '26', nanos: 500_000_000 }, 26_500],
    [{ seconds: 3 }, 3_000],
    ['26', undefined],
    ['-1s', undefined],
    ['soon', undefined],
    [undefined, undefined],
    [{}, undefined],
  ])('parseRetryDelay(%j) → %s', (input, expected) => {
    const got = parseRetryDelay(input)
    if (expected === undefined) expect(got).toBeUndefined()
    else expect(got).toBeCloseTo(expected, 6)
  })

  it.each([
    ['30', 30_000],
    ['0', 0],
    [' 120 ', 120_000],
    ['Fri, 20 Feb 2026 12:39:02 GMT', 30_000],
    ['Fri, 20 Feb 2026 12:00:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('parseRetryAfterHeader(%j) → %s', (header, expected) => {
    expect(parseRetryAfterHeader(header, NOW)).toBe(expected)
  })

  it.each([
    [0, '0s'],
    [500, '1s'],
    [26_000, '26s'],
    [38_909.2, '39s'],
    [60_000, '1m'],
    [95_000, '1m35s'],
    [3_600_000, '1h'],
    [TO_MIDNIGHT, '19h22m'],
  ])('formatDuration(%s) → %s', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected)
  })
})

// ------------------------------------------------------------------------------------------------------------

describe('settleConfirmation', () => {
  const provisional = (probe: 'key' | 'model'): Verdict => ({
    class: 'ambiguous',
    retry: false,
    effect: { kind: 'confirm', probe },
    reason: 'HTTP 403 PERMISSION_DENIED: x',
  })
  const probe = (facts: Partial<AttemptFacts>) =>
    judgeAttempt({ operation: 'generateContent', model: 'gemini-2.5-flash', now: NOW, fixedRequest: true, ...facts })
  it.each<[string, 'key' | 'model', Verdict, FailureClass, boolean, KeyEffect]>([
    ['key answers the fixed request: the request was refused', 'key', probe({ status: 200, body: TEXT_ANSWER }), 'client-error', false, NONE],
    ['key rate-limited on the fixed request: still accepted', 'key', probe({ status: 429, body: QUOTA_429_2025 }), 'client-error', false, NONE],
    [
      'key probe: TEST_MODEL unavailable to the key still means the key is accepted',
      'key',
      probe({ status: 404, body: RETIRED_MODEL_404 }),
      'client-error',
      false,
      NONE,
    ],
    ['key refused with ErrorInfo: disable, retry', 'key', probe({ status: 400, body: API_KEY_INVALID }), 'invalid-key', true, disabled('invalid')],
    [
      'key refused without details (leaked): strike, retry',
      'key',
      probe({ status: 403, body: LEAKED }),
      'ambiguous',
      true,
      { kind: 'strike', reason: 'HTTP 403 PERMISSION_DENIED' },
    ],
    ['probe could not reach Google: nothing proven', 'key', probe({ transportError: 'ECONNRESET' }), 'client-error', false, NONE],
    ['probe hit an outage: nothing proven', 'key', probe({ status: 503, body: OVERLOADED_503 }), 'client-error', false, NONE],
    [
      'model probe answered: the request named something missing',
      'model',
      probe({ status: 200, body: COUNT_TOKENS, operation: 'countTokens' }),
      'client-error',
      false,
      NONE,
    ],
    [
      'model probe 404 too: model unavailable to this key, cool down, retry',
      'model',
      probe({ status: 404, body: RETIRED_MODEL_404 }),
      'model-unavailable',
      true,
      cool('gemini-2.5-flash', NOW + HOUR, 'model-unavailable'),
    ],
  ])('%s', (_name, scope, probeVerdict, cls, retry, effect) => {
    const v = settleConfirmation(provisional(scope), probeVerdict)
    expect({ class: v.class, retry: v.retry, effect: v.effect }).toEqual({ class: cls, retry, effect })
    expect(v.reason).toContain('HTTP 403 PERMISSION_DENIED: x')
  })
})

// ------------------------------------------------------------------------------------------------------------

describe('nextPacificMidnight', () => {
  const utc = (iso: string) => Date.parse(iso)
  it.each([
    // PST (UTC-8): midnight = 08:00 UTC
    ['PST afternoon', '2026-02-20T12:38:32Z', '2026-02-21T08:00:00Z'],
    ['PST 1 ms before midnight', '2026-01-15T07:59:59.999Z', '2026-01-15T08:00:00Z'],
    ['PST exactly midnight → the next one', '2026-01-15T08:00:00Z', '2026-01-16T08:00:00Z'],
    ['PST year boundary', '2025-12-31T10:00:00Z', '2026-01-01T08:00:00Z'],
    ['PST leap day', '2024-02-28T20:00:00Z', '2024-02-29T08:00:00Z'],
    ['PST UTC already tomorrow, Pacific still today', '2026-01-16T03:00:00Z', '2026-01-16T08:00:00Z'],
    // PDT (UTC-7): midnight = 07:00 UTC
    ['PDT', '2026-07-04T12:00:00Z', '2026-07-05T07:00:00Z'],
    ['PDT 1 ms before midnight', '2026-07-04T06:59:59.999Z', '2026-07-04T07:00:00Z'],
    ['PDT exactly midnight → the next one', '2026-07-04T07:00:00Z', '2026-07-05T07:00:00Z'],
    ['PDT month boundary', '2026-06-30T20:00:00Z', '2026-07-01T07:00:00Z'],
    // Spring forward: Sun 8 Mar 2026, 02:00 PST → 03:00 PDT (a 23 h day)
    ['day before spring-forward (PST → midnight PST)', '2026-03-07T20:00:00Z', '2026-03-08T08:00:00Z'],
    ['spring-forward day, 00:00 PST', '2026-03-08T08:00:00Z', '2026-03-09T07:00:00Z'],
    ['spring-forward day, 01:59 PST', '2026-03-08T09:59:00Z', '2026-03-09T07:00:00Z'],
    ['spring-forward day, 03:00 PDT', '2026-03-08T10:00:00Z', '2026-03-09T07:00:00Z'],
    ['spring-forward day, 23:59 PDT', '2026-03-09T06:59:00Z', '2026-03-09T07:00:00Z'],
    // Fall back: Sun 1 Nov 2026, 02:00 PDT → 01:00 PST (a 25 h day)
    ['day before fall-back (PDT → midnight PDT)', '2026-10-31T20:00:00Z', '2026-11-01T07:00:00Z'],
    ['fall-back day, 00:00 PDT', '2026-11-01T07:00:00Z', '2026-11-02T08:00:00Z'],
    ['fall-back day, first 01:30 (PDT)', '2026-11-01T08:30:00Z', '2026-11-02T08:00:00Z'],
    ['fall-back day, second 01:30 (PST)', '2026-11-01T09:30:00Z', '2026-11-02T08:00:00Z'],
    ['fall-back day, 23:59 PST', '2026-11-02T07:59:00Z', '2026-11-02T08:00:00Z'],
    // 2025 transitions too (9 Mar, 2 Nov)
    ['2025 spring-forward day', '2025-03-09T09:00:00Z', '2025-03-10T07:00:00Z'],
    ['2025 fall-back day', '2025-11-02T07:00:00Z', '2025-11-03T08:00:00Z'],
  ])('%s: %s → %s', (_name, now, expected) => {
    expect(new Date(nextPacificMidnight(utc(now))).toISOString()).toBe(new Date(utc(expected)).toISOString())
  })

  it('every ~3 hours of 2024-2026 maps to a Pacific midnight, strictly later, at most 25 h away', () => {
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    const start = Date.UTC(2024, 0, 1)
    const end = Date.UTC(2027, 0, 1)
    for (let t = start; t < end; t += 3 * 3_600_000 + 17_000) {
      const m = nextPacificMidnight(t)
      expect(m).toBeGreaterThan(t)
      expect(m - t).toBeLessThanOrEqual(25 * 3_600_000)
      expect(fmt.format(m)).toBe('00:00:00')
      // And it is the NEXT one: one second earlier is not yet past the previous midnight boundary.
      expect(nextPacificMidnight(m - 1)).toBe(m)
    }
  })
})
