import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'

const KEY = 'AQ.fake-vertex-test-key'
const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi there' }] }] })

/** The fake in Vertex AI express mode: what the vertex-express plugin's tests rely on it to answer as Vertex does. */
describe('the fake upstream as Vertex AI express mode', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream({ vertex: true })
  })
  afterAll(() => fake.close())
  beforeEach(() => fake.reset())

  const call = (path: string, init: RequestInit = {}, query = '') =>
    fetch(`${fake.url}/${path}${query}`, { ...init, headers: { 'content-type': 'application/json', ...init.headers } })

  it('serves publisher models under /v1beta1/publishers/google (and /v1), the key as x-goog-api-key or ?key=', async () => {
    expect(fake.url).toBe(`${fake.origin}/v1beta1/publishers/google`)
    const unary = await call('models/gemini-2.5-flash:generateContent', { method: 'POST', body, headers: { 'x-goog-api-key': KEY } })
    expect((await unary.json()).candidates[0].content.parts[0].text).toBe('Echo: hi there')
    const v1 = await fetch(`${fake.origin}/v1/publishers/google/models/gemini-2.5-flash:countTokens?key=${KEY}`, { method: 'POST', body })
    expect((await v1.json()).totalTokens).toBe(2)
    expect(fake.requests.map((r) => [r.path, r.key])).toEqual([
      ['/v1beta1/publishers/google/models/gemini-2.5-flash:generateContent', KEY],
      ['/v1/publishers/google/models/gemini-2.5-flash:countTokens', KEY],
    ])
  })

  it("the Gemini API's paths are not Vertex's", async () => {
    const res = await fetch(`${fake.origin}/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', body, headers: { 'x-goog-api-key': KEY } })
    expect(res.status).toBe(404)
  })

  it('refuses the model list and get to an API key, as Vertex does (OAuth only)', async () => {
    for (const path of ['models', 'models/gemini-2.5-flash']) {
      const res = await call(path, { headers: { 'x-goog-api-key': KEY } })
      expect(res.status).toBe(401)
      const { error } = await res.json()
      expect(error.status).toBe('UNAUTHENTICATED')
      expect(error.details[0]).toMatchObject({ reason: 'CREDENTIALS_MISSING', metadata: { service: 'aiplatform.googleapis.com' } })
    }
  })

  it('a rate limit is a bare 429 without quota details or retry delay; an invalid key names aiplatform', async () => {
    fake.setBehaviour(KEY, 'rate-minute', { times: 1, retryDelaySeconds: 5 })
    fake.setBehaviour(KEY, 'invalid-key', { times: 1 })
    const limited = await call('models/gemini-2.5-flash:generateContent', { method: 'POST', body, headers: { 'x-goog-api-key': KEY } })
    expect(limited.status).toBe(429)
    expect(await limited.json()).toEqual({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message:
          'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.',
      },
    })
    const invalid = await call('models/gemini-2.5-flash:generateContent', { method: 'POST', body, headers: { 'x-goog-api-key': KEY } })
    expect(invalid.status).toBe(400)
    expect((await invalid.json()).error.details[0]).toMatchObject({ reason: 'API_KEY_INVALID', metadata: { service: 'aiplatform.googleapis.com' } })
  })
})
