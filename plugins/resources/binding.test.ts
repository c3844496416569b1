import { setTimeout as sleep } from 'node:timers/promises'
import type { File as GeminiFile } from '@google/genai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, post, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import resources from './index.ts'

const OTHER_TOKEN = 'sk-gemgate-test-other-client'
const MODEL = 'gemini-2.5-flash'
const GENERATE = `/v1beta/models/${MODEL}:generateContent`
const pdf = (text: string) => new Blob([`%PDF-1.4 ${text}`], { type: 'application/pdf' })
const filePart = (file: GeminiFile) => ({ fileData: { fileUri: file.uri!, mimeType: 'application/pdf' } })
const withFiles = (...files: GeminiFile[]) => ({ contents: [{ role: 'user', parts: [...files.map(filePart), { text: 'read' }] }] })

async function uploaded(gw: Running, text: string, token = TOKEN): Promise<GeminiFile> {
  const file = await gw.genai(token).files.upload({ file: pdf(text), config: { displayName: text } })
  gw.upstream.requests.length = 0
  return file
}

const messageOf = async (response: Response) => ((await response.json()) as { error: { message: string } }).error.message

describe('bindings: isolation per client token, keys that cannot serve, expiry', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({
      // The cleanup runs every ~1.1 s here.
      env: { ALLOWED_TOKENS: JSON.stringify([TOKEN, OTHER_TOKEN]), FILES_CLEANUP_INTERVAL_HOURS: '0.0003' },
      config: { plugins: [resources()] },
    })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())
  const keyOf = (name: string) => gw.gateway.pool.keys.find((key) => key.secret === gw.upstream.resources.owner(name))!

  it('another client token neither sees nor uses a file: the gateway refuses it with 403 and asks no key', async () => {
    const file = await uploaded(gw, 'private')
    const other = gw.genai(OTHER_TOKEN)
    const listed: string[] = []
    for await (const each of await other.files.list()) listed.push(each.name!)
    expect(listed).not.toContain(file.name)
    await expect(other.files.get({ name: file.name! })).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining(`File ${file.name} is not one of this client's resources`),
    })
    await expect(other.files.delete({ name: file.name! })).rejects.toMatchObject({ status: 403 })
    const used = await post(gw, GENERATE, withFiles(file), { 'x-goog-api-key': OTHER_TOKEN })
    expect(used.status).toBe(403)
    await expect(other.caches.create({ model: MODEL, config: { contents: [{ role: 'user', parts: [filePart(file)] }] } })).rejects.toMatchObject({
      status: 403,
    })
    // A name the gateway never recorded is nobody's here either.
    await expect(other.files.get({ name: 'files/neverseen' })).rejects.toMatchObject({ status: 403 })
    expect(gw.upstream.requests).toHaveLength(0)
    // The owner still has it.
    expect((await gw.genai().files.get({ name: file.name! })).name).toBe(file.name)
  })

  it('the owning key disabled or cooling: the client hears which resource is bound to it, and no other key is tried', async () => {
    const file = await uploaded(gw, 'bound')
    const owner = keyOf(file.name!)
    gw.gateway.pool.apply(owner, {
      class: 'rate-limited',
      retry: true,
      effect: { kind: 'cooldown', model: MODEL, until: Date.now() + 30_000, reason: 'rate-limited' },
      reason: 'rpm',
    })
    const cooling = await post(gw, GENERATE, withFiles(file))
    expect(cooling.status).toBe(429)
    expect(Number(cooling.headers.get('retry-after'))).toBeGreaterThan(25)
    expect(await messageOf(cooling)).toContain(`File ${file.name} belongs to the project of one API key, and that key is rate-limited`)
    // Cooling for a model is not cooling for the file itself.
    expect((await gw.genai().files.get({ name: file.name! })).name).toBe(file.name)
    expect(gw.keysUsed()).toEqual([owner.secret])

    gw.gateway.pool.apply(owner, { class: 'invalid-key', retry: true, effect: { kind: 'disable', reason: 'invalid' }, reason: 'invalid' })
    gw.upstream.requests.length = 0
    const disabled = await post(gw, GENERATE, withFiles(file))
    expect(disabled.status).toBe(503)
    expect(await messageOf(disabled)).toContain(`File ${file.name} belongs to the project of one API key, and that key is disabled (invalid)`)
    await expect(gw.genai().files.get({ name: file.name! })).rejects.toMatchObject({ status: 503 })
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('an upload whose key is disabled midway is refused with the reason, not sent with another key', async () => {
    const start = await fetch(`${gw.url}/upload/v1beta/files`, {
      method: 'POST',
      headers: {
        'x-goog-api-key': TOKEN,
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': '4',
        'content-type': 'application/json',
      },
      body: '{"file":{"display_name":"x"}}',
    })
    const owner = gw.gateway.pool.keys.find((key) => key.secret === gw.upstream.requests[0]!.key)!
    gw.gateway.pool.apply(owner, { class: 'invalid-key', retry: true, effect: { kind: 'disable', reason: 'suspended' }, reason: 'suspended' })
    const bytes = await fetch(start.headers.get('x-goog-upload-url')!, {
      method: 'POST',
      headers: { 'x-goog-api-key': TOKEN, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
      body: 'abcd',
    })
    expect(bytes.status).toBe(503)
    expect(await messageOf(bytes)).toContain('This upload belongs to the project of one API key, and that key is disabled (suspended)')
    expect(gw.upstream.requests).toHaveLength(1)
  })

  it("Google's 403 on a bound call is confirmed on the key with a fixed request: the request is refused, the key not blamed", async () => {
    const file = await uploaded(gw, 'gone behind our back')
    const owner = keyOf(file.name!)
    await fetch(`${gw.upstream.origin}/v1beta/${file.name}`, { method: 'DELETE', headers: { 'x-goog-api-key': owner.secret } })
    gw.upstream.requests.length = 0
    await expect(gw.genai().files.get({ name: file.name! })).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('You do not have permission to access the File'),
    })
    // The call, then the fixed request on the same key; nothing else.
    expect(gw.keysUsed()).toEqual([owner.secret, owner.secret])
    expect(gw.upstream.requests[1]!.action).toBe('generateContent')
    expect(gw.gateway.pool.health(owner).strikes).toBe(0)
    expect(gw.gateway.pool.health(owner).disabled).toBeUndefined()
  })

  it('resources of two keys in one request: a clear 400, and no key is asked', async () => {
    const files: GeminiFile[] = []
    for (let i = 0; i < KEYS.length; i++) files.push(await uploaded(gw, `spread ${i}`))
    const [a, b] = [files[0]!, files.find((file) => keyOf(file.name!) !== keyOf(files[0]!.name!))!]
    const mixed = await post(gw, GENERATE, withFiles(a, b))
    expect(mixed.status).toBe(400)
    expect(await messageOf(mixed)).toContain(`File ${a.name} and File ${b.name} belong to the projects of two different API keys`)
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('records expire with their resources: gone from lists at once, deleted by the cleanup timer', async () => {
    const cache = await gw.genai().caches.create({ model: MODEL, config: { contents: 'short lived', ttl: '1s' } })
    const rows = async () =>
      ((await gw.gateway.database.db.prepare('SELECT COUNT(*) AS n FROM resource_bindings WHERE name = ?').get(cache.name!)) as { n: number }).n
    expect(await rows()).toBe(1)
    await sleep(1100)
    const listed: string[] = []
    for await (const each of await gw.genai().caches.list()) listed.push(each.name!)
    expect(listed).not.toContain(cache.name)
    await expect(gw.genai().caches.get({ name: cache.name! })).rejects.toMatchObject({ status: 403 })
    for (let waited = 0; (await rows()) > 0 && waited < 5000; waited += 100) await sleep(100)
    expect(await rows()).toBe(0)
  })

  it('the same under /gemini/v1beta and /gemini/upload/v1beta', async () => {
    const sdk = new (await import('@google/genai')).GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: `${gw.url}/gemini` } })
    const file = await sdk.files.upload({ file: pdf('prefixed'), config: { displayName: 'prefixed' } })
    expect(gw.upstream.requests.map((r) => r.path)).toEqual(['/upload/v1beta/files', '/upload/v1beta/files'])
    const owner = gw.upstream.resources.owner(file.name!)
    expect((await sdk.files.get({ name: file.name! })).displayName).toBe('prefixed')
    const answer = await sdk.models.generateContent({ model: MODEL, contents: [{ role: 'user', parts: [filePart(file), { text: 'prefixed' }] }] })
    expect(answer.text).toBe('Echo: prefixed')
    expect(gw.keysUsed()).toEqual([owner, owner, owner, owner])
  })
})

describe('without isolation (FILES_USER_ISOLATION_ENABLED=false)', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({
      env: { ALLOWED_TOKENS: JSON.stringify([TOKEN, OTHER_TOKEN]), FILES_USER_ISOLATION_ENABLED: 'false' },
      config: { plugins: [resources()] },
    })
  })
  afterAll(() => gw.close())

  it('every token lists and uses every file, on the key that owns it; names never recorded go to any key', async () => {
    const file = await uploaded(gw, 'shared')
    const owner = gw.upstream.resources.owner(file.name!)
    const other = gw.genai(OTHER_TOKEN)
    const listed: string[] = []
    for await (const each of await other.files.list()) listed.push(each.name!)
    expect(listed).toContain(file.name)
    expect((await other.files.get({ name: file.name! })).name).toBe(file.name)
    expect((await post(gw, GENERATE, withFiles(file), { 'x-goog-api-key': OTHER_TOKEN })).status).toBe(200)
    expect(gw.keysUsed()).toEqual([owner, owner])
    // Unknown to the gateway: Google answers (here, its 403 for a file of no project of these keys).
    gw.upstream.requests.length = 0
    expect((await post(gw, GENERATE, userText('plain'))).status).toBe(200)
    await expect(other.files.get({ name: 'files/neverseen' })).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('You do not have permission'),
    })
  })
})
