import * as v from 'valibot'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { definePlugin, GatewayError, geminiDialect, nativeOperation, openaiDialect, Payload, type GatewayRequest, type KeyPool } from '../../core/index.ts'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { KEYS, TOKEN, post, startGateway, userText, type Running } from './harness.ts'

const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent'
const STREAM = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
const PAID_KEY = 'AIzaSy-paid-key-of-the-plugin-000000009'

/** The plugin API through real HTTP: options, setup and dispose, services, hook order, routes, stages, variants. */
describe('plugin API', () => {
  const trail: string[] = []
  let paidPool: KeyPool | undefined

  // Three plugins that leave traces of every hook, so the order is visible.
  const tracer = (name: string) =>
    definePlugin({
      name,
      summary: `test: traces hooks as ${name}`,
      options: v.strictObject({ word: v.optional(v.string(), name) }),
      env: { word: { env: `TRACE_${name.toUpperCase()}_WORD`, kind: 'string' } },
      setup({ word }, ctx) {
        trail.push(`setup ${name}`)
        ctx.services.provide(`${name}.word`, word, name)
        return {
          transformRequest(request: GatewayRequest) {
            if (request.model === 'gemini-2.5-flash') trail.push(`request ${name}`)
          },
          // Async on purpose: the pipeline must wait for it.
          async transformResponse(response) {
            await new Promise((resolve) => setTimeout(resolve, 5))
            response.candidates![0]!.content!.parts![0]!.text += ` ${word}`
          },
          wrapUpstream: (call) => (attempt, ctx2) => {
            trail.push(`wrap ${name}`)
            return call(attempt, ctx2)
          },
          dispose() {
            trail.push(`dispose ${name}`)
          },
        }
      },
    })
  const first = tracer('first')
  const second = tracer('second')

  const features = definePlugin({
    name: 'features',
    summary: 'test: variants, a route, a stage, an operation, a pool of its own',
    setup(_options, ctx) {
      const words = [ctx.services.get<string>('first.word'), ctx.services.get<string>('second.word')]
      paidPool = ctx.createKeyPool([PAID_KEY])
      return {
        variants: [
          { suffix: '-loud', appliesTo: (base) => base === 'gemini-2.5-flash' },
          { suffix: '-quiet', appliesTo: (base) => base.startsWith('gemini-2.5') },
        ],
        transformRequest(request, rctx) {
          if (request.variants?.has('-loud')) request.body.generationConfig = { temperature: 2 }
          if (request.model === 'paid') {
            request.upstreamModel = 'gemini-2.5-flash'
            rctx.pool = paidPool
          }
        },
        stages: [{ before: 'key-select', run: (sctx, next) => (trail.push(`stage sees ${sctx.request.upstreamModel}`), next()) }],
        operations: { 'test.count': nativeOperation('countTokens'), batchGenerateContent: nativeOperation('batchGenerateContent') },
        routes(router) {
          router.add('POST', '/v1/words', openaiDialect, async (call) => {
            const body = await call.json()
            if (typeof body.text !== 'string') throw new GatewayError(400, 'text is required', { param: 'text' })
            const outcome = await ctx.run(call, {
              operation: 'test.count',
              model: call.model('gemini-2.5-flash'),
              stream: false,
              body: { contents: [{ parts: [{ text: body.text }] }] },
            })
            if (outcome.kind !== 'json') throw new GatewayError(500, 'unexpected stream')
            return Response.json({ words, tokens: (outcome.body.data as { totalTokens: number }).totalTokens })
          })
        },
      }
    },
  })

  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({
      env: { TRACE_SECOND_WORD: 'from-env' },
      config: { plugins: [first({ word: 'from-config' }), second({ word: 'overridden-by-env' }), features()] },
    })
  })
  afterAll(() => gw.close())
  beforeEach(() => {
    gw.reset()
    trail.length = 0
  })

  it('set up in list order, options from config and environment, services between plugins', async () => {
    const res = await post(gw, '/v1/words', { text: 'one two' })
    expect(res.status).toBe(200)
    expect((await res.json()).words).toEqual(['from-config', 'from-env'])
  })

  it('request hooks in list order; the first plugin listed wraps the upstream outermost; answers wait for async hooks', async () => {
    const res = await post(gw, GENERATE, userText('hi'))
    expect((await res.json()).candidates[0].content.parts[0].text).toBe('Echo: hi from-config from-env')
    expect(trail).toEqual(['request first', 'request second', 'stage sees gemini-2.5-flash', 'wrap first', 'wrap second'])
  })

  it('a request no hook looked inside goes upstream byte for byte; a body a hook touched goes as edited', async () => {
    const raw = '{ "contents" : [ { "parts" : [ { "text" : "spaced" } ] } ] }'
    await post(gw, GENERATE, raw)
    expect(gw.upstream.requests.at(-1)!.body).toBe(raw)
    await post(gw, '/v1beta/models/gemini-2.5-flash-loud:generateContent', raw)
    const sent = gw.upstream.requests.at(-1)!
    expect(sent.model).toBe('gemini-2.5-flash')
    expect(JSON.parse(sent.body).generationConfig).toEqual({ temperature: 2 })
  })

  it('variants are listed after their base, accepted in any order, and never invented upstream', async () => {
    const names: string[] = []
    for await (const model of await gw.genai().models.list()) names.push(model.name!)
    expect(names).toContain('models/gemini-2.5-flash-loud')
    expect(names).toContain('models/gemini-2.5-pro-quiet')
    expect(names).not.toContain('models/gemini-2.5-pro-loud')
    for (const model of ['gemini-2.5-flash-loud-quiet', 'gemini-2.5-flash-quiet-loud']) {
      expect((await post(gw, `/v1beta/models/${model}:generateContent`, userText('x'))).status).toBe(200)
      expect(gw.upstream.requests.at(-1)!.model).toBe('gemini-2.5-flash')
    }
    const mixed = await post(gw, '/v1beta/models/gemini-2.5-pro-quiet-loud:generateContent', userText('x'))
    expect(mixed.status).toBe(400)
    expect((await mixed.json()).error.message).toContain('"-loud" is not offered for gemini-2.5-pro')
    // None of the suffixes applies: taken as the client wrote it (Google has real models with such endings).
    await post(gw, '/v1beta/models/gemini-2.0-flash-loud:generateContent', userText('x'))
    expect(gw.upstream.requests.at(-1)!.model).toBe('gemini-2.0-flash-loud')
  })

  it('a plugin route checks the token before reading the body, answers in its dialect, and is served under /hf/v1 too', async () => {
    const anonymous = await fetch(`${gw.url}/v1/words`, { method: 'POST', body: '{"text":"x"}' })
    expect(anonymous.status).toBe(401)
    expect((await anonymous.json()).error.type).toBeDefined() // OpenAI's error shape
    const bad = await post(gw, '/hf/v1/words', { nope: 1 })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: { message: 'text is required', param: 'text' } })
    const ok = await post(gw, '/hf/v1/words', { text: 'a b c' })
    expect(ok.status).toBe(200)
    expect(gw.upstream.requests.at(-1)!.action).toBe('countTokens')
  })

  it('a native model method a plugin declares is served by the native route; an undeclared one is a 404', async () => {
    await post(gw, '/v1beta/models/gemini-2.5-flash:batchGenerateContent', { batch: { displayName: 'b' } })
    expect(gw.upstream.requests[0]!.path).toBe('/v1beta/models/gemini-2.5-flash:batchGenerateContent')
    const sent = gw.upstream.requests.length
    const unknown = await post(gw, '/v1beta/models/gemini-2.5-flash:predictLongRunning', {})
    expect(unknown.status).toBe(404)
    expect(gw.upstream.requests).toHaveLength(sent)
  })

  it("a pool of the plugin's own serves the requests it takes, with the same health tracking", async () => {
    gw.upstream.setBehaviour(PAID_KEY, 'invalid-key', { times: 1 })
    const refused = await post(gw, '/v1beta/models/paid:generateContent', userText('x'))
    expect(refused.status).toBe(503)
    expect(paidPool!.health(paidPool!.keys[0]!).disabled).toBeDefined()
    expect(gw.keysUsed()).toEqual([PAID_KEY])
    expect(gw.gateway.pool.disabledKeys()).toHaveLength(0)
  })
})

describe('plugin options are checked at start like core settings', () => {
  const strict = definePlugin({
    name: 'strict',
    summary: 'test: strict options',
    options: v.strictObject({ count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1), secret: v.optional(v.string(), '') }),
    env: { count: { env: 'STRICT_COUNT', kind: 'int' }, secret: { env: 'STRICT_SECRET', kind: 'string', secret: true } },
    setup: () => ({}),
  })

  it.each<[string, Record<string, unknown>, Record<string, string>, RegExp]>([
    ['a typo in an option', { cuont: 2 }, {}, /plugin "strict": option cuont/],
    ['a value out of range', { count: 0 }, {}, /plugin "strict": option count/],
    ['a bad environment value', {}, { STRICT_COUNT: 'many' }, /plugin "strict": STRICT_COUNT="many": expected a whole number/],
    ['an environment value out of range, named by its variable', {}, { STRICT_COUNT: '0' }, /STRICT_COUNT \(option count\)/],
  ])('%s stops the start with a message naming it', async (_name, options, env, message) => {
    await expect(startGateway({ env, config: { plugins: [strict(options as never)] } })).rejects.toThrow(message)
  })

  it("a secret option's value never appears in the message", async () => {
    const error = await startGateway({ config: { plugins: [strict({ secret: 42 as never })] } }).catch((e: Error) => e)
    expect(String(error)).toMatch(/option secret/)
    expect(String(error)).not.toContain('42')
  })

  it('the same plugin listed twice stops the start', async () => {
    await expect(startGateway({ config: { plugins: [strict(), strict()] } })).rejects.toThrow(/listed twice/)
  })

  it('a plugin whose setup throws stops the start, and the plugins set up before it are disposed', async () => {
    const disposed: string[] = []
    const fine = definePlugin({ name: 'fine', summary: 'test', setup: () => ({ dispose: () => void disposed.push('fine') }) })
    const broken = definePlugin({
      name: 'broken',
      summary: 'test',
      setup: () => {
        throw new Error('cannot start')
      },
    })
    await expect(startGateway({ config: { plugins: [fine(), broken()] } })).rejects.toThrow('cannot start')
    expect(disposed).toEqual(['fine'])
  })

  it('a stage placed next to a stage the pipeline does not have stops the start', async () => {
    const misplaced = definePlugin({
      name: 'misplaced',
      summary: 'test',
      setup: () => ({ stages: [{ before: 'stream-optimizer', run: (_ctx, next) => next() }] }),
    })
    await expect(startGateway({ config: { pipeline: ['auth', 'key-select', 'upstream'], plugins: [misplaced()] } })).rejects.toThrow(/does not have/)
  })
})

describe('a keep-alive before the first event', () => {
  const beating = definePlugin({
    name: 'beating',
    summary: 'test: heartbeats before the answer',
    setup: () => ({
      // The keep-alive goes out before Google has answered at all, as fake streaming does.
      wrapUpstream: (call) => async (attempt, ctx) => {
        if (!attempt.stream) return call(attempt, ctx)
        return {
          kind: 'stream',
          chunks: (async function* () {
            yield Payload.keepAlive
            const outcome = await call(attempt, ctx)
            if (outcome.kind === 'stream') yield* outcome.chunks
          })(),
        }
      },
    }),
  })
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [beating()] } })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it('is not taken for the answer: a 429 after it still moves to another key', async () => {
    gw.upstream.setBehaviour(KEYS[0]!, 'rate-minute', { times: 1 })
    gw.upstream.setBehaviour(KEYS[1]!, 'rate-minute', { times: 1 })
    const res = await fetch(`${gw.url}${STREAM}`, { method: 'POST', headers: { 'x-goog-api-key': TOKEN }, body: JSON.stringify(userText('x')) })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('"finishReason": "STOP"')
    expect(text).not.toContain('RESOURCE_EXHAUSTED')
    expect(gw.keysUsed()).toEqual([KEYS[0], KEYS[1], KEYS[2]])
  })
})

describe('answer hooks only for the requests a plugin wants', () => {
  const seen: string[] = []
  const picky = definePlugin({
    name: 'picky',
    summary: 'test: rewrites answers of one model only',
    setup: () => ({
      rewritesAnswer: (request) => request.model === 'gemini-2.5-pro',
      transformChunk(chunk) {
        seen.push('chunk')
        const part = chunk.candidates?.[0]?.content?.parts?.[0]
        if (part?.text) part.text = part.text.toUpperCase()
      },
      transformResponse(response) {
        seen.push('response')
        response.candidates![0]!.content!.parts![0]!.text = 'PICKED'
      },
    }),
  })
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [picky()] } })
  })
  afterAll(() => gw.close())

  it("a request the plugin does not want gets Google's bytes, its hooks never run", async () => {
    const stream = await post(gw, STREAM, userText('quiet'))
    // The fake's own spacing and case: not parsed, not re-serialised.
    expect(await stream.text()).toMatch(/"parts": \[\{"text": "Ech/)
    const unary = await post(gw, GENERATE, userText('quiet'))
    expect((await unary.json()).candidates[0].content.parts[0].text).toBe('Echo: quiet')
    expect(seen).toEqual([])
  })

  it('a request it wants goes through its hooks', async () => {
    const stream = await post(gw, '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse', userText('loud'))
    expect(await stream.text()).toMatch(/"parts":\[\{"text":"ECH/)
    const unary = await post(gw, '/v1beta/models/gemini-2.5-pro:generateContent', userText('loud'))
    expect((await unary.json()).candidates[0].content.parts[0].text).toBe('PICKED')
    expect(seen).toContain('chunk')
    expect(seen).toContain('response')
  })
})

describe('chunk hooks only for the chunks a plugin names (chunksWith)', () => {
  const seen: unknown[] = []
  const finisher = definePlugin({
    name: 'finisher',
    summary: 'test: marks the last chunk of a stream',
    setup: () => ({
      chunksWith: ['"finishReason"'],
      transformChunk(chunk) {
        seen.push(chunk.candidates?.[0]?.finishReason)
        chunk.candidates![0]!.content = { role: 'model', parts: [{ text: '[end]' }] }
      },
    }),
  })
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [finisher()] } })
  })
  afterAll(() => gw.close())

  it("the hook meets the one chunk that names it; the others are Google's bytes, unparsed", async () => {
    const stream = await post(gw, STREAM, userText('several words to stream in pieces'))
    const events = (await stream.text()).split(/\r?\n\r?\n/).filter((event) => event.startsWith('data: '))
    expect(events.length).toBeGreaterThan(2)
    expect(seen).toEqual(['STOP'])
    // The fake's own spacing on every chunk before the last: as sent, not re-serialised.
    for (const event of events.slice(0, -1)) expect(event).toMatch(/^data: \{"candidates": \[/)
    expect(JSON.parse(events.at(-1)!.slice(6)).candidates[0]).toMatchObject({ finishReason: 'STOP', content: { parts: [{ text: '[end]' }] } })
  })

  it('the same through the OpenAI dialect: one hook call, every text delta there', async () => {
    seen.length = 0
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', stream: true, messages: [{ role: 'user', content: 'several words to stream' }] }),
    })
    const deltas = (await res.text())
      .split('\n\n')
      .filter((event) => event.startsWith('data: {'))
      .map((event) => JSON.parse(event.slice(6)).choices[0]?.delta?.content ?? '')
    expect(seen).toEqual(['STOP'])
    expect(deltas.join('')).toMatch(/^Echo: .*\[end\]$/)
  })
})

describe('a plugin that sends its requests to another API root with keys of its own', () => {
  const ELSEWHERE_KEY = 'AIzaSy-elsewhere-key-of-the-plugin-00007'
  let elsewhere: FakeUpstream
  const relay = definePlugin({
    name: 'relay',
    summary: 'test: /relay/v1beta answered through another API root and pool',
    setup(_options, ctx) {
      const pool = ctx.createKeyPool([ELSEWHERE_KEY])
      return {
        transformRequest(request, rctx) {
          if (request.dialect !== 'relay') return
          rctx.pool = pool
          rctx.baseUrl = elsewhere.url
        },
        routes(router) {
          router.add('POST', '/relay/v1beta/models/:action', geminiDialect, async (call) =>
            ctx.answer(
              call,
              { operation: 'generateContent', model: call.model('gemini-2.5-flash'), stream: false, body: await call.json(), dialect: 'relay' },
              geminiDialect,
            ),
          )
        },
      }
    },
  })
  let gw: Running
  beforeAll(async () => {
    elsewhere = await startFakeUpstream()
    gw = await startGateway({ config: { plugins: [relay()] } })
  })
  afterAll(async () => {
    await gw.close()
    await elsewhere.close()
  })

  it('goes to that root with that pool, and answers in the dialect the route chose', async () => {
    const res = await post(gw, '/relay/v1beta/models/x', userText('over there'))
    expect(res.status).toBe(200)
    expect((await res.json()).candidates[0].content.parts[0].text).toBe('Echo: over there')
    expect(elsewhere.requests.map((r) => r.key)).toEqual([ELSEWHERE_KEY])
    expect(gw.upstream.requests).toHaveLength(0)
    // The gateway's own routes keep BASE_URL and the gateway's keys.
    await post(gw, GENERATE, userText('here'))
    expect(gw.upstream.requests).toHaveLength(1)
    expect(KEYS).toContain(gw.upstream.requests[0]!.key)
  })

  it('answers errors in that dialect too', async () => {
    elsewhere.setBehaviour(ELSEWHERE_KEY, 'location', { times: 1 })
    const res = await post(gw, '/relay/v1beta/models/x', userText('refused'))
    expect(res.status).toBe(400)
    expect((await res.json()).error.status).toBe('FAILED_PRECONDITION')
  })
})

describe('a plugin with tables of its own, pinning requests to the key that owns a resource', () => {
  const owned = definePlugin({
    name: 'owned',
    summary: 'test: records which key made a "thing" and sends every later use of it to that key',
    setup(_options, ctx) {
      const ready = ctx.database.migrate([
        {
          id: '001_things',
          up: {
            sqlite: ['CREATE TABLE IF NOT EXISTS owned_things (name TEXT PRIMARY KEY, key_id TEXT NOT NULL)'],
            mysql: ['CREATE TABLE IF NOT EXISTS owned_things (name VARCHAR(191) PRIMARY KEY, key_id VARCHAR(64) NOT NULL)'],
          },
        },
      ])
      return {
        async transformRequest(request, rctx) {
          const thing = request.model === 'gemini-2.5-flash' ? (request.body.cachedContent as string | undefined) : undefined
          if (!thing) return
          await ready
          const rows = (await ctx.database.db.prepare('SELECT key_id FROM owned_things WHERE name = ?').all(thing)) as { key_id: string }[]
          if (rows[0]) rctx.pinnedKey = { id: rows[0].key_id, resource: `The thing ${thing}` }
        },
        routes(router) {
          router.add('POST', '/things/:name', geminiDialect, async (call) => {
            await ready
            const key = gw.gateway.pool.keys[1]!
            await ctx.database.db.prepare('INSERT INTO owned_things (name, key_id) VALUES (?, ?)').run(`things/${call.event.context.params!.name}`, key.id)
            return Response.json({ owner: key.label })
          })
        },
      }
    },
  })
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [owned()] } })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it('migrates its table, and every use of a thing goes to the one key that owns it, never retried elsewhere', async () => {
    expect((await post(gw, '/things/a', {})).status).toBe(200)
    for (let i = 0; i < 3; i++) expect((await post(gw, GENERATE, { ...userText('x'), cachedContent: 'things/a' })).status).toBe(200)
    expect(gw.keysUsed()).toEqual([KEYS[1], KEYS[1], KEYS[1]])
    gw.upstream.setBehaviour(KEYS[1]!, 'overloaded', { times: 1 })
    expect((await post(gw, GENERATE, { ...userText('x'), cachedContent: 'things/a' })).status).toBe(503)
    expect(gw.keysUsed().slice(3)).toEqual([KEYS[1]])
  })

  it('when the owning key is disabled or cooling, the client hears which resource is bound to it, and no key is asked', async () => {
    await post(gw, '/things/b', {})
    const owner = gw.gateway.pool.keys[1]!
    gw.gateway.pool.apply(owner, {
      class: 'rate-limited',
      retry: true,
      effect: { kind: 'cooldown', model: 'gemini-2.5-flash', until: Date.now() + 30_000, reason: 'rate-limited' },
      reason: 'rpm',
    })
    const cooling = await post(gw, GENERATE, { ...userText('x'), cachedContent: 'things/b' })
    expect(cooling.status).toBe(429)
    expect(Number(cooling.headers.get('retry-after'))).toBeGreaterThan(25)
    expect((await cooling.json()).error.message).toMatch(/The thing things\/b belongs to the project of one API key, and that key is rate-limited/)
    gw.gateway.pool.apply(owner, { class: 'invalid-key', retry: true, effect: { kind: 'disable', reason: 'invalid' }, reason: 'invalid' })
    const disabled = await post(gw, GENERATE, { ...userText('x'), cachedContent: 'things/b' })
    expect(disabled.status).toBe(503)
    expect((await disabled.json()).error.message).toContain('that key is disabled (invalid)')
    expect(gw.upstream.requests).toHaveLength(0)
  })
})
