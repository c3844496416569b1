// Vertex AI in express mode (aiplatform.googleapis.com), where it differs from the Gemini API for a gateway:
// - the publisher models live under /v1beta1/publishers/google (and /v1/publishers/google), with the same
//   generateContent / streamGenerateContent (alt=sse or JSON array) / countTokens bodies as the Gemini API;
// - an express-mode API key may only call those three: listing or reading publisher models wants OAuth, and is
//   refused with 401 CREDENTIALS_MISSING ("API keys are not supported by this API");
// - a 429 is a bare "Resource exhausted" without QuotaFailure or RetryInfo, and ErrorInfo names aiplatform.
// The key is taken from x-goog-api-key or ?key= as on every Google API (the system parameter `key`).

import { behaviourError, googleError, type FakeError } from './errors.ts'
import type { Behaviour } from './types.ts'

/** Where VERTEX_EXPRESS_BASE_URL points by default (gemini-balance's). */
export const VERTEX_BASE_PATH = '/v1beta1/publishers/google'

const ROOTS = [`${VERTEX_BASE_PATH}/`, '/v1/publishers/google/']
const SERVICE = 'aiplatform.googleapis.com'
const errorInfo = (reason: string, metadata: Record<string, string>) => ({
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason,
  domain: 'googleapis.com',
  metadata: { service: SERVICE, ...metadata },
})

/** The path below the API root in the form the native handlers take ("models/x:generateContent"), if it is Vertex's. */
export function vertexRest(path: string): string | undefined {
  const root = ROOTS.find((prefix) => path.startsWith(prefix))
  return root === undefined ? undefined : path.slice(root.length)
}

/** What an express-mode key may not call: anything but a model's generate or count (so the model list and get). */
export function vertexRefusal(action: string | undefined): FakeError | undefined {
  if (action !== undefined) return undefined
  return googleError(
    401,
    'UNAUTHENTICATED',
    'API keys are not supported by this API. Expected OAuth2 access token or other authentication credentials that assert a principal. See https://cloud.google.com/docs/authentication',
    [errorInfo('CREDENTIALS_MISSING', { method: 'google.cloud.aiplatform.v1beta1.ModelGardenService.ListPublisherModels' })],
  )
}

/** A behaviour's error as Vertex words it; the ones it words as the Gemini API does come from errors.ts. */
export function vertexBehaviourError(
  behaviour: Behaviour,
  context: { key: string; model: string | undefined; retryDelaySeconds?: number | undefined },
): FakeError | undefined {
  if (behaviour.startsWith('rate-')) {
    return googleError(
      429,
      'RESOURCE_EXHAUSTED',
      'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.',
    )
  }
  if (behaviour === 'invalid-key') {
    return googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [errorInfo('API_KEY_INVALID', {})])
  }
  return behaviourError(behaviour, context)
}
