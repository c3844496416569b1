import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { definePlugin, GatewayError, geminiDialect, nativeOperation, type OperationSpec, type PluginContext } from '../../core/index.ts'
import { KEYS, TOKEN, startGateway, type Running } from './harness.ts'

const rest = (method: OperationSpec['method']): OperationSpec => ({
  ...nativeOperation(''),
  method,
  path: (_model, _stream, request) => `/${request.resource}`,
  modelInPath: false,
})

/** REST operations on a resource path (PATCH, DELETE, headers in and out) and raw sends with one key, as plugins use them. */
describe('plugin API: operations on resources, and requests sent with one key', () => {
  let plugin: PluginContext
  const probe = definePlugin({
    name: 'probe',
    summary: 'test: REST calls on resource paths and raw sends with a key',
    setup(_options, ctx) {
      plugin = ctx
      return {
        operations: {
          'probe.patch': rest('PATCH'),
          'probe.delete': rest('DELETE'),
          'probe.start': {
            ...rest('POST'),
            path: () => `${new URL(ctx.settings.baseUrl).origin}/upload/v1beta/files`,
            responseHeaders: ['x-goog-upload-url', 'x-goog-upload-status'],
          },
        },
        routes(router) {
          router.add('PATCH', '/probe/:name', geminiDialect, (call) =>
            ctx.answer(
              call,
              {
                operation: 'probe.patch',
                model: '',
                stream: false,
                body: { ttl: '5s' },
                resource: `cachedContents/${call.event.context.params!.name}`,
                query: { updateMask: 'ttl' },
              },
              geminiDialect,
            ),
          )
          router.add('DELETE', '/probe/:name', geminiDialect, (call) =>
            ctx.answer(
              call,
              { operation: 'probe.delete', model: '', stream: false, body: {}, resource: decodeURIComponent(call.event.context.params!.name!) },
              geminiDialect,
            ),
          )
          router.add('PUT', '/probe/start', geminiDialect, async (call) => {
            const headers = { 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start' }
            const outcome = await ctx.run(call, { operation: 'probe.start', model: '', stream: false, body: { file: {} }, resource: 'files', headers })
            if (outcome.kind !== 'json') throw new GatewayError(500, 'unexpected stream')
            return Response.json(outcome.headers)
          })
        },
      }
    },
  })

  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { CUSTOM_HEADERS: '{"X-Team": "blue"}' }, config: { plugins: [probe()] } })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())
  const call = (method: string, path: string) => fetch(gw.url + path, { method, headers: { 'x-goog-api-key': TOKEN } })

  it('PATCH and DELETE go to the resource path with the query and (for PATCH) the body; routes take PUT and PATCH', async () => {
    await call('PATCH', '/probe/abc')
    expect(gw.upstream.requests[0]).toMatchObject({ method: 'PATCH', path: '/v1beta/cachedContents/abc', query: { updateMask: 'ttl' }, body: '{"ttl":"5s"}' })
    gw.reset()
    await call('DELETE', '/probe/batches%2Fxyz')
    expect(gw.upstream.requests[0]).toMatchObject({ method: 'DELETE', path: '/v1beta/batches/xyz', body: '' })
  })

  it("a resource path that could leave its endpoint is never sent (the plugin's bug: a 500)", async () => {
    for (const bad of ['files%2F..%2Fmodels%2Fx:generateContent', 'files%2Fa%3Fkey%3Dx', 'files%2F%2Fa']) {
      expect((await call('DELETE', `/probe/${bad}`)).status).toBe(500)
    }
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it("an operation sends the request's headers and hands back the response headers it names, nothing else", async () => {
    const headers = await (await call('PUT', '/probe/start')).json()
    expect(Object.keys(headers).sort()).toEqual(['x-goog-upload-status', 'x-goog-upload-url'])
    expect(headers['x-goog-upload-url']).toMatch(/\/upload\/v1beta\/files\?upload_id=/)
    expect(gw.upstream.requests[0]!.headers).toMatchObject({ 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'x-team': 'blue' })
  })

  it('send: one key, its API root only, CUSTOM_HEADERS, a streamed body, the key masked in error bodies', async () => {
    const [, second] = gw.gateway.pool.keys
    async function* pieces() {
      yield new TextEncoder().encode('{"file":')
      yield new TextEncoder().encode('{}}')
    }
    const started = await plugin.send(second!.id, {
      method: 'POST',
      url: `${gw.upstream.origin}/upload/v1beta/files`,
      headers: { 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'content-type': 'application/json' },
      body: pieces(),
    })
    expect(started.status).toBe(200)
    expect(started.header('x-goog-upload-url')).toBeDefined()
    expect(gw.upstream.requests[0]).toMatchObject({ key: KEYS[1], body: '{"file":{}}' })
    expect(gw.upstream.requests[0]!.headers['x-team']).toBe('blue')

    await expect(plugin.send(second!.id, { method: 'GET', url: 'https://example.com/steal' })).rejects.toThrow(/to http:\/\/127\.0\.0\.1:\d+ only/)
    gw.upstream.setBehaviour(KEYS[1]!, 'suspended', { times: 1 })
    const refused = await plugin.send(second!.id, { method: 'GET', url: `${gw.upstream.url}/models` })
    expect(refused.status).toBe(403)
    const text = await refused.text()
    expect(text).toContain(second!.label)
    expect(text).not.toContain(KEYS[1])
    expect(gw.upstream.requests).toHaveLength(2)
  })

  it('send: a disabled key is refused with the resource named, and nothing is sent', async () => {
    const [first] = gw.gateway.pool.keys
    gw.gateway.pool.apply(first!, { class: 'invalid-key', retry: true, effect: { kind: 'disable', reason: 'invalid' }, reason: 'invalid' })
    const refusal = plugin.send(first!.id, { method: 'GET', url: `${gw.upstream.url}/models`, resource: 'File files/abc' })
    await expect(refusal).rejects.toMatchObject({
      status: 503,
      message: 'File files/abc belongs to the project of one API key, and that key is disabled (invalid); no other key can reach it.',
    })
    await expect(plugin.send('no-such-key', { method: 'GET', url: `${gw.upstream.url}/models` })).rejects.toMatchObject({ status: 503 })
    expect(gw.upstream.requests).toHaveLength(0)
  })
})
