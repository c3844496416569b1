import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { unaryBody } from '../fake-upstream/index.ts'
import { KEYS, post, startGateway, userText, type Running } from './harness.ts'

/**
 * "A client can disable every key": Google's 400 for an unknown field echoes the field's name, so a client that
 * names a field after the words Google uses for a dead key ("API key not valid", "has been suspended", ...) gets
 * those words into an error about its own request. Nothing a client writes may cost a key anything: the client
 * gets Google's 400, the attempt is not repeated on other keys, and every key stays healthy.
 */

/** Google's wording for dead keys and their ErrorInfo reasons, as they could be echoed back, in several phrasings. */
const PHRASES = [
  'API key not valid. Please pass a valid API key.',
  'api key not valid',
  'API_KEY_INVALID',
  'API key expired. Please renew the API key.',
  'API KEY EXPIRED',
  "Permission denied: Consumer 'api_key:x' has been suspended.",
  'Consumer has been suspended',
  'CONSUMER_SUSPENDED',
  'Your API key was reported as leaked. Please use another API key.',
  'key reported as leaked',
  'Generative Language API has not been used in project 1 before or it is disabled.',
  'SERVICE_DISABLED',
  'Your prepayment credits are depleted.',
  'Quota exceeded for metric: generate_content_free_tier_requests, limit: 0. Please retry in 86400s.',
]
const REPEATS = 10
const MODEL = 'gemini-2.5-flash'

/** Google's answer to a top-level field it does not know (wire samples §5.5). */
function unknownFieldError(name: string) {
  const message = `Invalid JSON payload received. Unknown name ${JSON.stringify(name)}: Cannot find field.`
  return {
    error: {
      code: 400,
      message,
      status: 'INVALID_ARGUMENT',
      details: [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ description: message }] }],
    },
  }
}

describe('a client cannot disable, cool down or strike keys with words Google echoes', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { MAX_RETRIES: '3', MAX_FAILURES: '3' } })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  const expectEveryKeyHealthy = (after: string) => {
    const pool = gw.gateway.pool
    expect(
      pool.disabledKeys().map((key) => key.label),
      after,
    ).toEqual([])
    for (const key of pool.keys) {
      const health = pool.health(key)
      expect({ key: key.label, strikes: health.strikes, cooldowns: Object.keys(health.cooldowns) }, after).toEqual({
        key: key.label,
        strikes: 0,
        cooldowns: [],
      })
    }
  }

  /** A normal request on every key of the pool still succeeds. */
  const expectPoolServes = async () => {
    gw.upstream.reset()
    for (let i = 0; i < KEYS.length; i++) expect((await post(gw, `/v1beta/models/${MODEL}:generateContent`, userText('still there?'))).status).toBe(200)
    expect(new Set(gw.keysUsed())).toEqual(new Set(KEYS))
  }

  it('the fake upstream answers like Google: an unknown field gets a 400 that echoes its name word for word', async () => {
    const phrase = PHRASES[0]!
    const res = await fetch(`${gw.upstream.url}/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEYS[0]! },
      body: JSON.stringify({ ...userText('hi'), [phrase]: 1 }),
    })
    expect(res.status).toBe(400)
    expect(await res.text()).toBe(unaryBody(unknownFieldError(phrase)))
    const openai = await fetch(`${gw.upstream.url}/openai/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[0]}` },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], [phrase]: 1 }),
    })
    expect(openai.status).toBe(400)
    expect(await openai.json()).toEqual([unknownFieldError(phrase)])
    // Known fields pass in both spellings, as they do at Google.
    const snake = await fetch(`${gw.upstream.url}/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEYS[0]! },
      body: JSON.stringify({ ...userText('hi'), system_instruction: { parts: [{ text: 'be brief' }] }, generationConfig: { temperature: 0 } }),
    })
    expect(snake.status).toBe(200)
  })

  /** Routes whose body reaches Google as the client wrote it: the field name comes back in Google's 400. */
  const forwarded: { name: string; path: string; body: (phrase: string) => unknown; expected: (phrase: string) => unknown }[] = [
    {
      name: 'native generateContent',
      path: `/v1beta/models/${MODEL}:generateContent`,
      body: (p) => ({ ...userText('hi'), [p]: 1 }),
      expected: unknownFieldError,
    },
    {
      name: 'native streamGenerateContent (SSE)',
      path: `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`,
      body: (p) => ({ ...userText('hi'), [p]: 1 }),
      expected: unknownFieldError,
    },
    {
      name: '/gemini/v1beta generateContent',
      path: `/gemini/v1beta/models/${MODEL}:generateContent`,
      body: (p) => ({ ...userText('hi'), [p]: 1 }),
      expected: unknownFieldError,
    },
    { name: 'native countTokens', path: `/v1beta/models/${MODEL}:countTokens`, body: (p) => ({ ...userText('hi'), [p]: 1 }), expected: unknownFieldError },
    {
      name: 'OpenAI pass-through chat/completions',
      path: '/openai/v1/chat/completions',
      body: (p) => ({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], [p]: 1 }),
      expected: (p) => [unknownFieldError(p)],
    },
    {
      name: 'OpenAI pass-through chat/completions (stream)',
      path: '/openai/v1/chat/completions',
      body: (p) => ({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }], [p]: 1 }),
      expected: (p) => [unknownFieldError(p)],
    },
  ]

  for (const route of forwarded) {
    it(`${route.name}: a field named after each key-disabling message gets Google's 400, one upstream call, no key touched`, async () => {
      for (const phrase of PHRASES) {
        for (let i = 0; i < REPEATS; i++) {
          const before = gw.upstream.requests.length
          const res = await post(gw, route.path, route.body(phrase))
          const text = await res.text()
          expect(res.status, `${phrase} #${i}: ${text}`).toBe(400)
          expect(JSON.parse(text)).toEqual(route.expected(phrase))
          if (!route.path.startsWith('/openai/')) expect(text).toBe(unaryBody(route.expected(phrase))) // byte for byte
          expect(gw.upstream.requests.length - before, `${phrase} #${i}: upstream calls`).toBe(1)
          expectEveryKeyHealthy(`after "${phrase}" #${i}`)
        }
      }
      await expectPoolServes()
    })
  }

  /**
   * Routes that convert the request drop unknown fields; the client's words can still reach Google as names inside a
   * tool's parameter schema or a response schema. Google does not echo those (they are JSON Schema, not proto
   * fields), so the fake answers normally; the invariants are the same.
   */
  const schema = (phrase: string) => ({ type: 'object', properties: { [phrase]: { type: 'string' } }, required: [phrase] })
  const converted: { name: string; path: string; body: (phrase: string) => unknown; answered: (json: any) => void }[] = [
    {
      name: 'OpenAI chat/completions (tool parameter names)',
      path: '/v1/chat/completions',
      body: (p) => ({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: schema(p) } }],
      }),
      answered: (json) => expect(json.choices[0].message.role).toBe('assistant'),
    },
    {
      name: 'OpenAI chat/completions (response_format schema)',
      path: '/hf/v1/chat/completions',
      body: (p) => ({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: schema(p) } },
      }),
      answered: (json) => expect(json.choices[0].message.role).toBe('assistant'),
    },
    {
      name: 'Anthropic messages (tool input_schema names)',
      path: '/v1/messages',
      body: (p) => ({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'lookup', input_schema: schema(p) }] }),
      answered: (json) => expect(json.type).toBe('message'),
    },
    {
      name: 'Responses (function parameter names)',
      path: '/v1/responses',
      body: (p) => ({ model: MODEL, input: 'hi', tools: [{ type: 'function', name: 'lookup', parameters: schema(p) }] }),
      answered: (json) => expect(json.object).toBe('response'),
    },
  ]

  for (const route of converted) {
    it(`${route.name}: key-disabling words in schema names cost no key anything`, async () => {
      for (const phrase of PHRASES) {
        for (let i = 0; i < REPEATS; i++) {
          const before = gw.upstream.requests.length
          const res = await post(gw, route.path, route.body(phrase))
          const json = await res.json()
          expect(res.status, `${phrase} #${i}: ${JSON.stringify(json)}`).toBe(200)
          route.answered(json)
          expect(gw.upstream.requests.length - before).toBe(1)
          expect(gw.upstream.requests.at(-1)!.body).toContain(JSON.stringify(phrase)) // the words did reach Google
          expectEveryKeyHealthy(`after "${phrase}" #${i}`)
        }
      }
      await expectPoolServes()
    })
  }

  it("a 403 for a file the key's project cannot read leaves the key alone when the same key serves another request", async () => {
    const fileRequest = {
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'describe it' },
            { fileData: { mimeType: 'application/pdf', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/xyz' } },
          ],
        },
      ],
    }
    const refusal = { error: { code: 403, message: 'You do not have permission to access the File xyz or it may not exist.', status: 'PERMISSION_DENIED' } }
    for (let i = 0; i < REPEATS; i++) {
      const res = await post(gw, `/v1beta/models/${MODEL}:generateContent`, fileRequest)
      const text = await res.text()
      expect(res.status, text).toBe(403)
      expect(JSON.parse(text)).toEqual(refusal)
      const refusedWith = gw.upstream.requests.filter((r) => r.body.includes('files/xyz')).at(-1)!.key
      // The same key, asked something else, answers: it was the file, not the key.
      let served = false
      for (let n = 0; n < KEYS.length && !served; n++) {
        const before = gw.upstream.requests.length
        const ok = await post(gw, `/v1beta/models/${MODEL}:generateContent`, userText('hello'))
        expect(ok.status).toBe(200)
        served = gw.upstream.requests.slice(before).some((r) => r.key === refusedWith && r.body.includes('hello'))
      }
      expect(served).toBe(true)
      expectEveryKeyHealthy(`after file refusal #${i}`)
    }
    // Never retried on the other keys: each client request reached Google once.
    expect(gw.upstream.requests.filter((r) => r.body.includes('files/xyz'))).toHaveLength(REPEATS)
    await expectPoolServes()
  })
})
