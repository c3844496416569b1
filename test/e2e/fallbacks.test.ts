import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN, startGateway, type Running } from './harness.ts'

/** Answers no route gave (unknown paths, errors thrown outside a route's own handling) come in the path's dialect. */
describe('fallback answers in the dialect of the path', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway()
  })
  afterAll(() => gw.close())

  const get = (path: string) => fetch(gw.url + path, { headers: { authorization: `Bearer ${TOKEN}` } })

  it('an unknown path is a 404 in Gemini, OpenAI or Anthropic shape', async () => {
    for (const path of ['/v1beta/nothing-here', '/gemini/v1beta/nothing-here', '/nothing-here']) {
      const res = await get(path)
      expect(res.status).toBe(404)
      expect(await res.json()).toEqual({ error: { code: 404, message: `No route for GET ${path}.`, status: 'NOT_FOUND' } })
    }
    for (const path of ['/v1/nothing-here', '/hf/v1/nothing-here', '/openai/v1/nothing-here', '/v1']) {
      const res = await get(path)
      expect(res.status).toBe(404)
      expect(await res.json()).toEqual({ error: { message: `No route for GET ${path}.`, type: 'invalid_request_error', param: null, code: 'not_found' } })
    }
    for (const path of ['/v1/messages', '/v1/messages/nothing-here']) {
      const res = await get(path)
      expect(res.status).toBe(404)
      expect(await res.json()).toEqual({ type: 'error', error: { type: 'not_found_error', message: `No route for GET ${path}.` } })
    }
  })

  it('an error raised outside every route (h3 refusing a malformed URL) comes in the dialect of the path', async () => {
    const openai = await get('/v1/models/gemini%ZZ')
    expect(openai.status).toBe(400)
    expect(await openai.json()).toEqual({ error: { message: 'Bad Request', type: 'invalid_request_error', param: null, code: 'invalid_argument' } })
    const anthropic = await get('/v1/messages/%ZZ')
    expect(anthropic.status).toBe(400)
    expect(await anthropic.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'Bad Request' } })
    const gemini = await get('/v1beta/models/gemini%ZZ')
    expect(gemini.status).toBe(400)
    expect(await gemini.json()).toEqual({ error: { code: 400, message: 'Bad Request', status: 'INVALID_ARGUMENT' } })
  })
})
