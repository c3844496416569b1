import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, post, startGateway, type Running } from './harness.ts'

/** /openai/v1: Google's OpenAI-compatible layer behind the key pool, driven by the official openai SDK. */
describe('OpenAI pass-through', () => {
  let gw: Running
  let client: OpenAI
  beforeAll(async () => {
    gw = await startGateway()
    client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openai/v1`, maxRetries: 0 })
  })
  afterAll(() => gw.close())
  beforeEach(() => {
    gw.reset()
  })

  it('forwards chat/completions exactly as sent, with a pool key as Bearer', async () => {
    const body = {
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'pass me through' }],
      stream_options: { include_usage: true },
      max_completion_tokens: 50,
      extra_body: { google: { thinking_config: { include_thoughts: true } } },
    }
    const res = await post(gw, '/openai/v1/chat/completions', body, { authorization: `Bearer ${TOKEN}` })
    expect(res.status).toBe(200)
    expect((await res.json()).choices[0].message.content).toBe('Echo: pass me through')
    const seen = gw.upstream.requests.at(-1)!
    expect(seen.path).toBe('/v1beta/openai/chat/completions')
    expect(seen.body).toBe(JSON.stringify(body))
    expect(KEYS.map((k) => `Bearer ${k}`)).toContain(seen.headers.authorization)
  })

  it("streams chunk by chunk through the SDK, ending with Google's [DONE]", async () => {
    const stream = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'stream it' }], stream: true })
    let text = ''
    let finish: string | null = null
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(text).toBe('Echo: stream it')
    expect(finish).toBe('stop')
    await gw.gateway.logs.flush()
    const { rows } = await gw.gateway.database.db
      .sql`SELECT operation, failure_class, prompt_tokens, completion_tokens FROM request_logs ORDER BY id DESC LIMIT 1`
    expect(rows![0]).toMatchObject({ operation: 'openai.chat', failure_class: 'ok', prompt_tokens: 2, completion_tokens: 3 })
  })

  it('embeddings, models and images/generations go through', async () => {
    const embedded = await client.embeddings.create({ model: 'gemini-embedding-001', input: ['a', 'b'] })
    expect(embedded.data).toHaveLength(2)
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toContain('models/gemini-2.5-flash')
    const one = await client.models.retrieve('gemini-2.5-pro')
    expect(one.id).toBe('models/gemini-2.5-pro')
    const images = await client.images.generate({ model: 'imagen-4.0-generate-001', prompt: 'a cat', n: 2, response_format: 'b64_json' })
    expect(images.data).toHaveLength(2)
  })

  it("rotates keys and retries on another key; Google's array-wrapped error passes through when all fail", async () => {
    gw.upstream.setBehaviour(KEYS[0]!, 'rate-minute')
    const ok = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] })
    expect(ok.choices[0]!.message.content).toBe('Echo: x')
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'invalid-key')
    const res = await post(gw, '/openai/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] })
    expect(res.status).toBe(503) // every key turned out invalid and was disabled
    gw.reset()
    gw.upstream.setDefaultBehaviour('location')
    const located = await post(gw, '/openai/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] })
    expect(located.status).toBe(400)
    const body = await located.json()
    expect(Array.isArray(body)).toBe(true)
    expect(body[0].error.status).toBe('FAILED_PRECONDITION')
  })

  it("our own errors use OpenAI's shape: bad token, missing model", async () => {
    const bad = await post(gw, '/openai/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [] }, { 'x-goog-api-key': 'nope' })
    expect(bad.status).toBe(401)
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key' } })
    const noModel = await post(gw, '/openai/v1/chat/completions', { messages: [] })
    expect(noModel.status).toBe(400)
    expect(await noModel.json()).toMatchObject({ error: { param: 'model' } })
  })

  it('a stream that breaks mid-way ends with an error event, never a clean [DONE]', async () => {
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'reset-mid-stream')
    const res = await post(gw, '/openai/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'break' }], stream: true })
    const text = await res.text()
    expect(text).not.toContain('[DONE]')
    expect(text.trim().split('\n\n').at(-1)).toContain('"error"')
  })
})

describe('OpenAI pass-through input checks', () => {
  it('a model id that is not one never reaches the upstream URL', async () => {
    const gw = await startGateway()
    try {
      const res = await fetch(`${gw.url}/openai/v1/models/..%2F..%2Fsecret`, { headers: { authorization: `Bearer ${TOKEN}` } })
      expect(res.status).toBe(400)
      expect(gw.upstream.requests).toHaveLength(0)
    } finally {
      await gw.close()
    }
  })
})
