import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadGatewayConfig } from '../../../core/config/load.ts'
import { defineUploader } from 'gemgate'
import { TOKEN, startGateway, type Running } from '../../../test/e2e/harness.ts'
import { generatedPng } from '../../../test/fake-upstream/images.ts'
import { registerSecrets } from '../../../test/secrets/recorder.ts'
import { imageChat, smms } from '../../index.ts'
import { captureOutput, fileIn, startFakeHost, type FakeHost, type Received, type Reply } from '../test-hosts.ts'
import picgo from './index.ts'
import { PICGO_UPLOAD_URL, picgoTarget, sendToPicgo } from './internal/api.ts'

// Characters a query string must escape: gemini-balance pasted the key in raw, so `&`, `#`, `+` and spaces broke it.
const API_KEY = 'chv_k3y&with #odd+chars=/?'
const SMMS_SECRET = 'smms-secret-token-not-in-use-00000'
registerSecrets([API_KEY, SMMS_SECRET]) // the leak check: neither shows in a log line or an answer
const PNG = generatedPng(1)
const DAY_NAME = /^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{8}\.png$/

const imageUrlOf = (request: Received) => `https://i.picgo.net/${fileIn(request, 'source')!.name}`

/** A Chevereto API v1 host (picgo.net's software) as reached on any URL but picgo.net's: the key as `?key=`. */
function cheveretoApi(request: Received): Reply {
  if (request.method !== 'POST' || request.url.pathname !== '/api/1/upload') return { status: 404, text: 'Not Found' }
  if (request.url.searchParams.get('key') !== API_KEY) {
    return { status: 403, json: { status_code: 403, error: { message: 'Invalid API V1 key', code: 100, context: 'Exception' }, status_txt: 'Forbidden' } }
  }
  const file = fileIn(request, 'source')
  if (!file)
    return { status: 400, json: { status_code: 400, error: { message: 'Empty upload source', code: 130, context: 'Exception' }, status_txt: 'Bad Request' } }
  const name = file.name.split('/').pop()!
  return {
    json: {
      status_code: 200,
      success: { message: 'image uploaded', code: 200 },
      image: {
        name: name.replace(/\.png$/, ''),
        extension: 'png',
        size: file.size,
        width: 1,
        height: 1,
        original_filename: name,
        mime: file.type,
        filename: name,
        url: imageUrlOf(request),
        url_viewer: 'https://www.picgo.net/image/Lbm7d',
        display_url: imageUrlOf(request),
        delete_url: 'https://www.picgo.net/image/Lbm7d/delete/5b0b2c0c2a0f4b31',
      },
      status_txt: 'OK',
    },
  }
}

/** A self-hosted PicGo server (its HTTP upload API): the key as `?key=`, answers `{success, result}`. */
function picgoServerApi(request: Received): Reply {
  if (request.method !== 'POST' || request.url.pathname !== '/upload') return { status: 404, text: 'Not Found' }
  if (request.url.searchParams.get('key') !== API_KEY) return { json: { success: false, message: 'Unauthorized' } }
  return { json: { success: true, result: [imageUrlOf(request)] } }
}

describe('the PicGo API (against fakes of a Chevereto and a PicGo server)', () => {
  let chevereto: FakeHost
  let picgoServer: FakeHost
  const upload = (endpoint: string, key = API_KEY) =>
    defineUploader(sendToPicgo(endpoint, key), { timeoutMs: 2000, maxBytes: 1 << 20 }).upload(PNG, 'image/png')
  beforeAll(async () => {
    chevereto = await startFakeHost(cheveretoApi)
    picgoServer = await startFakeHost(picgoServerApi)
  })
  afterAll(async () => {
    await chevereto.close()
    await picgoServer.close()
  })
  beforeEach(() => {
    chevereto.clear()
    picgoServer.clear()
  })

  it('picgo.net gets the key as X-API-Key; any other URL as a URL-encoded key parameter, its own query kept', () => {
    const picgoNet = picgoTarget(PICGO_UPLOAD_URL, API_KEY)
    expect(picgoNet.url.href).toBe(PICGO_UPLOAD_URL)
    expect(picgoNet.headers).toEqual({ 'x-api-key': API_KEY })
    const own = picgoTarget('https://img.example.com/api/1/upload?format=json', API_KEY)
    expect(own.headers).toEqual({})
    expect(own.url.search).toBe('?format=json&key=chv_k3y%26with+%23odd%2Bchars%3D%2F%3F')
    expect(own.url.searchParams.get('key')).toBe(API_KEY)
  })

  it("Chevereto: the image as source (day-named, typed), the answer's image.url", async () => {
    const url = await upload(`${chevereto.origin}/api/1/upload`)
    const [request] = chevereto.received
    const file = fileIn(request!, 'source')!
    expect(file.name).toMatch(DAY_NAME)
    expect(file.type).toBe('image/png')
    expect(Buffer.from(await file.arrayBuffer())).toEqual(PNG)
    expect(request!.headers['x-api-key']).toBeUndefined()
    expect(url).toBe(imageUrlOf(request!))
  })

  it("a PicGo server: the answer's result[0]", async () => {
    const url = await upload(`${picgoServer.origin}/upload`)
    expect(url).toBe(imageUrlOf(picgoServer.received[0]!))
  })

  it.each<[string, 'chevereto' | 'picgoServer', Reply | undefined, string]>([
    ['Chevereto, a wrong key', 'chevereto', undefined, 'PicGo refused the upload: Invalid API V1 key (code 100)'],
    [
      'Chevereto, a duplicate',
      'chevereto',
      { status: 400, json: { status_code: 400, error: { message: 'Duplicated upload', code: 101 }, status_txt: 'Bad Request' } },
      'PicGo refused the upload: Duplicated upload (code 101)',
    ],
    [
      'an older Chevereto (status_txt only)',
      'chevereto',
      { json: { status_code: 403, status_txt: 'Invalid API key' } },
      'PicGo refused the upload: Invalid API key (code 403)',
    ],
    ['a PicGo server, a wrong key', 'picgoServer', undefined, 'the PicGo server refused the upload: Unauthorized'],
    ['a PicGo server, no URL', 'picgoServer', { json: { success: true, result: [] } }, 'PicGo answered without an http(s) URL: nothing'],
    [
      'Chevereto, a non-http URL',
      'chevereto',
      { json: { status_code: 200, image: { url: 'data:image/png;base64,AAAA' } } },
      'PicGo answered without an http(s) URL: "data:image/png;base64,AAAA"',
    ],
    ['an error page', 'chevereto', { status: 503, text: 'Service Unavailable' }, 'PicGo answered HTTP 503 without JSON: Service Unavailable'],
  ])('%s: an error with the reason, not retried', async (_name, which, reply, message) => {
    const host = which === 'chevereto' ? chevereto : picgoServer
    const endpoint = which === 'chevereto' ? `${chevereto.origin}/api/1/upload` : `${picgoServer.origin}/upload`
    if (reply) host.script.push(reply)
    await expect(upload(endpoint, reply ? API_KEY : 'wrong-key')).rejects.toThrow(message)
    expect(host.received).toHaveLength(1)
  })
})

describe('picgo through the gateway (UPLOAD_PROVIDER=picgo, PICGO_API_URL a Chevereto of ones own)', () => {
  let chevereto: FakeHost
  let gw: Running
  let openai: OpenAI
  let out: ReturnType<typeof captureOutput>
  const ask = async () =>
    (await openai.chat.completions.create({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'kiwi' }] })).choices[0]!.message.content

  beforeAll(async () => {
    chevereto = await startFakeHost(cheveretoApi)
    gw = await startGateway({
      env: { UPLOAD_PROVIDER: 'picgo', PICGO_API_KEY: API_KEY, PICGO_API_URL: `${chevereto.origin}/api/1/upload`, LOG_LEVEL: 'debug' },
      config: { plugins: [imageChat(), picgo()] },
    })
    openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  })
  afterAll(async () => {
    await gw.close()
    await chevereto.close()
  })
  beforeEach(() => {
    gw.reset()
    chevereto.clear()
    out = captureOutput()
  })
  afterEach(() => vi.restoreAllMocks())

  it('an OpenAI answer with an image carries the URL Chevereto gave it', async () => {
    expect(await ask()).toBe(`Echo: kiwi\n\n![image](${imageUrlOf(chevereto.received[0]!)})\n\n`)
    expect(Buffer.from(await fileIn(chevereto.received[0]!, 'source')!.arrayBuffer())).toEqual(generatedPng(0))
  })

  it("a refused upload: still 200, the image as a data URL, Chevereto's reason logged", async () => {
    chevereto.script.push({ status: 400, json: { status_code: 400, error: { message: 'Duplicated upload', code: 101 }, status_txt: 'Bad Request' } })
    expect(await ask()).toBe(`Echo: kiwi\n\n![image](data:image/png;base64,${generatedPng(0).toString('base64')})\n\n`)
    const warnings = out.lines().filter((line) => line.includes('image upload failed'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('PicGo refused the upload: Duplicated upload (code 101)')
  })
})

describe('two uploader plugins listed', () => {
  afterEach(() => vi.restoreAllMocks())

  it('UPLOAD_PROVIDER=picgo: only picgo provides the uploader; smms says why it does not, at debug level', async () => {
    const smmsHost = await startFakeHost(() => ({ status: 500, json: { success: false, code: 'unexpected', message: 'smms was not chosen' } }))
    const chevereto = await startFakeHost(cheveretoApi)
    const out = captureOutput()
    const gw = await startGateway({
      env: {
        UPLOAD_PROVIDER: 'picgo',
        SMMS_SECRET_TOKEN: SMMS_SECRET,
        PICGO_API_KEY: API_KEY,
        PICGO_API_URL: `${chevereto.origin}/api/1/upload`,
        LOG_LEVEL: 'debug',
      },
      config: { plugins: [imageChat(), smms({ url: `${smmsHost.origin}/api/v2/upload` }), picgo()] },
    })
    try {
      const uploaders = out.lines().filter((line) => /\[gemgate:(smms|picgo)\]/.test(line))
      expect(uploaders).toEqual([
        '[debug] [gemgate:smms] not uploading: UPLOAD_PROVIDER is picgo, not smms',
        `[info] [gemgate:picgo] images in answers are uploaded to PicGo (${chevereto.origin}/api/1/upload)`,
      ])
      const openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
      const completion = await openai.chat.completions.create({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'x' }] })
      expect(completion.choices[0]!.message.content).toBe(`Echo: x\n\n![image](${imageUrlOf(chevereto.received[0]!)})\n\n`)
      expect(chevereto.received).toHaveLength(1)
      expect(smmsHost.received).toHaveLength(0)
    } finally {
      await gw.close()
      await smmsHost.close()
      await chevereto.close()
    }
  })
})

describe('picgo options', () => {
  const load = (env: Record<string, string>) =>
    loadGatewayConfig({
      cwd: mkdtempSync(join(tmpdir(), 'gemgate-picgo-')),
      dotenv: false,
      env: { ALLOWED_TOKENS: '["sk-picgo-options-token-0001"]', ...env },
      overrides: { plugins: [picgo()] },
    })

  it("defaults: gemini-balance's (UPLOAD_PROVIDER smms, picgo.net), 30 s, 20 MB", async () => {
    const { config } = await load({})
    expect((config.plugins[0] as { options: unknown }).options).toEqual({ provider: 'smms', apiKey: '', url: PICGO_UPLOAD_URL, timeoutSeconds: 30, maxMb: 20 })
  })

  it('a PICGO_API_URL that is no http(s) URL stops the start when picgo is the provider, naming the variable', async () => {
    await expect(load({ UPLOAD_PROVIDER: 'picgo', PICGO_API_URL: 'ftp://img.example.com/upload' })).rejects.toThrow(
      'plugin "picgo": PICGO_API_URL (option url): must be an http(s) URL',
    )
    await expect(load({ UPLOAD_PROVIDER: 'smms', PICGO_API_URL: 'ftp://img.example.com/upload' })).resolves.toBeDefined()
  })
})
