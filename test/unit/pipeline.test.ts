import { describe, expect, it } from 'vitest'
import type { Outcome, RequestContext } from '../../core/context.ts'
import { Payload } from '../../core/payload.ts'
import { checkPipelineOrder, composePipeline, DEFAULT_PIPELINE, defineStage, type StageName } from '../../core/pipeline.ts'
import { createIdHasher } from '../../core/identity.ts'
import { bearerToken } from '../../core/identity.ts'
import { authStage, createAuthenticator } from '../../core/stages/auth.ts'
import { modelFilterStage } from '../../core/stages/model-filter.ts'
import { pieceDelay, splitText } from '../../core/stages/stream-optimizer.ts'
import { transformStage } from '../../core/stages/transform.ts'

/** A context with just what the stages under test read. */
function contextFor(request: Partial<RequestContext['request']> = {}): RequestContext {
  return {
    id: 'r1',
    startedAt: 0,
    request: { operation: 'generateContent', model: 'm', upstreamModel: 'm', stream: false, body: {}, dialect: 'gemini', credentials: [], ...request },
    signal: new AbortController().signal,
    services: {} as RequestContext['services'],
    attempts: [],
    bodyChanged: false,
    state: {},
    onFinish: () => {},
  }
}

const answer = (text: string): Outcome => ({ kind: 'json', status: 200, body: Payload.fromData({ text }) })

describe('pipeline runner', () => {
  it('runs stages outermost first, and lets a stage call next() again (one call per attempt)', async () => {
    const trail: string[] = []
    const outer = defineStage('auth', async (_ctx, next) => {
      trail.push('outer in')
      const outcome = await next()
      trail.push('outer out')
      return outcome
    })
    let calls = 0
    const retrying = defineStage('key-select', async (_ctx, next) => {
      await next().catch(() => trail.push('retry'))
      return next()
    })
    const inner = defineStage('upstream', async () => {
      calls++
      if (calls === 1) throw new Error('first attempt fails')
      return answer('ok')
    })
    const outcome = await composePipeline([outer, retrying, inner])(contextFor())
    expect(outcome.kind === 'json' && outcome.body.data).toEqual({ text: 'ok' })
    expect(trail).toEqual(['outer in', 'retry', 'outer out'])
  })

  it('rejects orders that cannot work', () => {
    expect(() => checkPipelineOrder(DEFAULT_PIPELINE)).not.toThrow()
    expect(() => checkPipelineOrder(['auth', 'key-select', 'upstream'])).not.toThrow()
    expect(() => checkPipelineOrder(['auth', 'upstream', 'key-select'] as StageName[])).toThrow(/last/)
    expect(() => checkPipelineOrder(['auth', 'upstream'])).toThrow(/key-select/)
    expect(() => checkPipelineOrder(['auth', 'auth', 'key-select', 'upstream'])).toThrow(/twice/)
  })

  it.each<[string, string[], RegExp]>([
    ['auth left out', ['log', 'transform', 'key-select', 'upstream'], /"auth" is required/],
    ['auth after transform', ['transform', 'auth', 'key-select', 'upstream'], /"auth" must come before "transform"/],
    ['auth after key-select', ['key-select', 'auth', 'upstream'], /"auth" must come before "key-select"|last/],
    ['a typo', ['auth', 'tranform', 'key-select', 'upstream'], /unknown stage "tranform"/],
    ['an empty name', ['auth', '', 'key-select', 'upstream'], /unknown stage ""/],
  ])('refuses a pipeline with %s, naming the problem', (_name, order, message) => {
    expect(() => checkPipelineOrder(order)).toThrow(message)
  })
})

describe('stages', () => {
  const ok = () => Promise.resolve(answer('through'))

  it('auth: accepts any presented credential that matches, refuses others with 401', async () => {
    const auth = authStage(createAuthenticator(['sk-good'], createIdHasher('test-deployment-secret-of-32-chars')))
    const ctx = contextFor({ credentials: [undefined, 'sk-bad', 'sk-good'] })
    await expect(auth.run(ctx, ok)).resolves.toMatchObject({ kind: 'json' })
    expect(ctx.client?.label).toBe('sk...')
    await expect(auth.run(contextFor({ credentials: ['sk-bad'] }), ok)).rejects.toMatchObject({ status: 401, message: expect.stringContaining('not valid') })
    await expect(auth.run(contextFor({ credentials: [] }), ok)).rejects.toMatchObject({ status: 401, message: expect.stringContaining('Missing') })
    expect(bearerToken('bearer  abc ')).toBe('abc')
    expect(bearerToken('Basic abc')).toBeUndefined()
  })

  it('model-filter: refuses filtered models, lets lists through', async () => {
    const filter = modelFilterStage(['chat-bison-001'])
    await expect(filter.run(contextFor({ model: 'chat-bison-001' }), ok)).rejects.toMatchObject({ status: 404 })
    await expect(filter.run(contextFor({ model: '', operation: 'listModels' }), ok)).resolves.toBeDefined()
  })

  it('transform: fills in safety settings only when the client sent none, unless forced', async () => {
    const settings = [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'OFF' }]
    const client = [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }]
    const fill = transformStage([], { safetySettings: settings })
    const without = contextFor({ body: { contents: [] } })
    await fill.run(without, ok)
    expect(without.request.body.safetySettings).toEqual(settings)
    expect(without.bodyChanged).toBe(true)
    const withOwn = contextFor({ body: { safetySettings: client } })
    await fill.run(withOwn, ok)
    expect(withOwn.request.body.safetySettings).toEqual(client)
    expect(withOwn.bodyChanged).toBe(false)
    const forced = contextFor({ body: { safety_settings: client } })
    await transformStage([], { safetySettings: settings, forceSafetySettings: true }).run(forced, ok)
    expect(forced.request.body).toEqual({ safetySettings: settings })
    const count = contextFor({ operation: 'countTokens', body: {} })
    await fill.run(count, ok)
    expect(count.request.body).toEqual({})
    // Speech models take none, forced or not.
    const speech = contextFor({ model: 'gemini-2.5-flash-preview-tts', upstreamModel: 'gemini-2.5-flash-preview-tts', body: { contents: [] } })
    await transformStage([], { safetySettings: settings, forceSafetySettings: true }).run(speech, ok)
    expect(speech.request.body).toEqual({ contents: [] })
    expect(speech.bodyChanged).toBe(false)
  })

  it.each([
    ['reads nothing of the request', () => {}, false],
    ['reads other fields only', (request: RequestContext['request']) => void request.model, false],
    ['reads the body', (request: RequestContext['request']) => void request.body.contents, true],
    ['replaces the body', (request: RequestContext['request']) => void (request.body = { contents: [] }), true],
    ['reads the body through ctx.request', (_request: RequestContext['request'], ctx: RequestContext) => void ctx.request.body.contents, true],
  ])('transform: a request hook that %s leaves bodyChanged %s', async (what, hook, changed) => {
    const ctx = contextFor({ body: { contents: [{ parts: [{ text: 'hi' }] }] } })
    const request = ctx.request
    await transformStage([{ transformRequest: hook }]).run(ctx, ok)
    expect(ctx.bodyChanged).toBe(changed)
    // After the hooks the context holds the request itself again, with whatever body a hook left on it.
    expect(ctx.request).toBe(request)
    if (what === 'replaces the body') expect(request.body).toEqual({ contents: [] })
  })

  it('stream optimizer: delay shrinks on a log scale; long texts go in chunks, short ones per character', () => {
    const o = { enabled: true, minDelay: 0.016, maxDelay: 0.024, shortTextThreshold: 10, longTextThreshold: 50, chunkSize: 5 }
    expect(pieceDelay(5, o)).toBe(0.024)
    expect(pieceDelay(80, o)).toBe(0.016)
    expect(pieceDelay(Math.sqrt(500), o)).toBeCloseTo(0.02, 6) // geometric middle of 10 and 50
    expect(splitText('héllo', o)).toEqual(['h', 'é', 'l', 'l', 'o'])
    expect(splitText('x'.repeat(52), o).map((p) => p.length)).toEqual([...Array(10).fill(5), 2])
    expect(splitText('😀😀', o)).toEqual(['😀', '😀'])
  })
})
