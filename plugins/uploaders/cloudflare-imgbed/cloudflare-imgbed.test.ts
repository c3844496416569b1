import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineUploader, type Uploader } from 'gemgate'
import { TOKEN, startGateway, type Running } from '../../../test/e2e/harness.ts'
import { generatedPng } from '../../../test/fake-upstream/images.ts'
import { registerSecrets } from '../../../test/secrets/recorder.ts'
import { imageChat, picgo, smms } from '../../index.ts'
import { captureOutput, fileIn, startFakeHost, type FakeHost, type Received, type Reply } from '../test-hosts.ts'
import cloudflareImgbed from './index.ts'
import { sendToImgBed, siteBase, type ImgBedTarget } from './internal/api.ts'

// Characters a query string must escape: gemini-balance pasted the code and folder in raw.
const AUTH_CODE = 'imgbed code&#+=?'
registerSecrets([AUTH_CODE]) // the leak check: the code never shows in a log line or an answer
const FOLDER = 'gemini images/chat'
const PNG = generatedPng(2)
const DAY_NAME = /^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{8}\.png$/

/**
 * CloudFlare-ImgBed's upload API as its source has it: the auth code, folder and naming as query parameters, the
 * file as `file`; `[{src: "/file/<folder>/<name>"}]`, or a plain-text refusal.
 */
function imgBedApi(request: Received): Reply {
  if (request.method !== 'POST' || !request.url.pathname.endsWith('/upload')) return { status: 404, text: 'Not Found' }
  if (request.url.searchParams.get('authCode') !== AUTH_CODE) return { status: 401, text: 'Unauthorized' }
  const file = fileIn(request, 'file')
  if (!file) return { status: 400, text: 'Error: fileType or fileName is wrong, check the integrity of this file!' }
  const folder = (request.url.searchParams.get('uploadFolder') ?? '').replace(/^\/+/, '').replace(/\/$/, '')
  // uploadNameType=origin keeps the file's own name (its last path segment); otherwise ImgBed puts a number first.
  const base = file.name
    .split('/')
    .pop()!
    .replace(/[\\/:*?"'<>| ()[\]{}#%^`~;@&=+$,]/g, '_')
  const name = request.url.searchParams.get('uploadNameType') === 'origin' ? base : `1735689600000_${base}`
  return { json: [{ src: `/file/${folder ? `${folder}/` : ''}${name}` }] }
}

/** What ImgBed answers when every storage channel failed: each channel's error, HTTP 500. */
const allChannelsFailed: Reply = {
  status: 500,
  json: { TelegramNew: 'Error: TelegramNewError: No Telegram channel provided', CloudflareR2: 'Error: CloudflareR2Error: Please configure R2 database' },
}

describe("CloudFlare-ImgBed's upload API (against a fake of it)", () => {
  let host: FakeHost
  const upload = (target: Partial<ImgBedTarget> = {}) =>
    defineUploader(sendToImgBed({ url: `${host.origin}/upload`, authCode: AUTH_CODE, uploadFolder: FOLDER, ...target }), {
      timeoutMs: 2000,
      maxBytes: 1 << 20,
    }).upload(PNG, 'image/png')
  beforeAll(async () => {
    host = await startFakeHost(imgBedApi)
  })
  afterAll(() => host.close())
  beforeEach(() => host.clear())

  it('sends the file with the code, folder and origin naming URL-encoded; a path answer hangs from the host', async () => {
    const url = await upload()
    const [request] = host.received
    expect(request!.url.search).toBe('?uploadFolder=gemini+images%2Fchat&authCode=imgbed+code%26%23%2B%3D%3F&uploadNameType=origin')
    const file = fileIn(request!, 'file')!
    expect(file.name).toMatch(DAY_NAME)
    expect(file.type).toBe('image/png')
    expect(Buffer.from(await file.arrayBuffer())).toEqual(PNG)
    expect(url).toBe(`${host.origin}/file/gemini%20images/chat/${file.name.split('/').pop()}`)
  })

  it('no folder: no uploadFolder parameter; an ImgBed under a path keeps its path in the links; its own query stays', async () => {
    const url = await upload({ url: `${host.origin}/imgbed/upload?uploadChannel=telegram`, uploadFolder: '' })
    const [request] = host.received
    expect([...request!.url.searchParams.keys()]).toEqual(['uploadChannel', 'authCode', 'uploadNameType'])
    expect(url).toBe(`${host.origin}/imgbed/file/${fileIn(request!, 'file')!.name.split('/').pop()}`)
  })

  it('a full link (returnFormat=full) is taken as it is', async () => {
    host.script.push({ json: [{ src: 'https://img.example.com/file/abc.png' }] })
    expect(await upload()).toBe('https://img.example.com/file/abc.png')
  })

  it.each<[string, Reply | undefined, string]>([
    ['a wrong auth code', undefined, 'CloudFlare-ImgBed refused the upload (HTTP 401): Unauthorized'],
    ['a blocked IP', { status: 403, text: 'Error: Your IP is blocked' }, 'CloudFlare-ImgBed refused the upload (HTTP 403): Error: Your IP is blocked'],
    [
      'every channel failing',
      allChannelsFailed,
      'CloudFlare-ImgBed refused the upload (HTTP 500): Error: TelegramNewError: No Telegram channel provided; Error: CloudflareR2Error: Please configure R2 database',
    ],
    ['a non-http link', { json: [{ src: 'javascript:alert(1)' }] }, 'CloudFlare-ImgBed answered without an http(s) URL: "javascript:alert(1)"'],
  ])("%s: an error with ImgBed's reason, not retried", async (_name, reply, message) => {
    if (reply) host.script.push(reply)
    await expect(upload(reply ? {} : { authCode: 'wrong' })).rejects.toThrow(message)
    expect(host.received).toHaveLength(1)
  })

  it('the links hang from the part of CLOUDFLARE_IMGBED_URL before /upload, else its origin', () => {
    expect(siteBase(new URL('https://img.example.com/upload'))).toBe('https://img.example.com')
    expect(siteBase(new URL('https://example.com/imgbed/upload?x=1'))).toBe('https://example.com/imgbed')
    expect(siteBase(new URL('https://img.example.com/api/put'))).toBe('https://img.example.com')
  })
})

describe("cloudflare-imgbed through the gateway (gemini-balance's variables)", () => {
  let host: FakeHost
  let gw: Running
  let openai: OpenAI
  let out: ReturnType<typeof captureOutput>
  const ask = async () =>
    (await openai.chat.completions.create({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'plum' }] })).choices[0]!.message.content

  beforeAll(async () => {
    host = await startFakeHost(imgBedApi)
    gw = await startGateway({
      env: {
        UPLOAD_PROVIDER: 'cloudflare_imgbed',
        CLOUDFLARE_IMGBED_URL: `${host.origin}/upload`,
        CLOUDFLARE_IMGBED_AUTH_CODE: AUTH_CODE,
        CLOUDFLARE_IMGBED_UPLOAD_FOLDER: 'gemini',
        LOG_LEVEL: 'debug',
      },
      config: { plugins: [imageChat(), cloudflareImgbed()] },
    })
    openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  })
  afterAll(async () => {
    await gw.close()
    await host.close()
  })
  beforeEach(() => {
    gw.reset()
    host.clear()
    out = captureOutput()
  })
  afterEach(() => vi.restoreAllMocks())

  it('an OpenAI answer with an image carries the ImgBed link', async () => {
    const content = await ask()
    const name = fileIn(host.received[0]!, 'file')!.name.split('/').pop()
    expect(content).toBe(`Echo: plum\n\n![image](${host.origin}/file/gemini/${name})\n\n`)
    expect(host.received[0]!.url.searchParams.get('uploadFolder')).toBe('gemini')
  })

  it("every channel failing: still 200, the image as a data URL, ImgBed's reasons logged", async () => {
    host.script.push(allChannelsFailed)
    expect(await ask()).toBe(`Echo: plum\n\n![image](data:image/png;base64,${generatedPng(0).toString('base64')})\n\n`)
    const warnings = out.lines().filter((line) => line.includes('image upload failed'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('CloudFlare-ImgBed refused the upload (HTTP 500): Error: TelegramNewError: No Telegram channel provided')
  })
})

describe('cloudflare-imgbed at start', () => {
  afterEach(() => vi.restoreAllMocks())

  it('all three uploaders listed, UPLOAD_PROVIDER=cloudflare_imgbed: only it provides the uploader, the others say why', async () => {
    const others = await startFakeHost(() => ({ status: 500, text: 'not chosen' }))
    const out = captureOutput()
    const gw = await startGateway({
      env: {
        UPLOAD_PROVIDER: 'cloudflare_imgbed',
        CLOUDFLARE_IMGBED_URL: `${others.origin}/upload?authCode=${encodeURIComponent(AUTH_CODE)}`,
        CLOUDFLARE_IMGBED_AUTH_CODE: AUTH_CODE,
        SMMS_SECRET_TOKEN: 'smms-secret-token-not-in-use-11111',
        PICGO_API_KEY: 'picgo-key-not-in-use-2222222222',
        LOG_LEVEL: 'debug',
      },
      config: { plugins: [smms({ url: `${others.origin}/api/v2/upload` }), picgo({ url: `${others.origin}/api/1/upload` }), cloudflareImgbed()] },
    })
    try {
      expect(out.lines().filter((line) => /\[gemgate:(smms|picgo|cloudflare-imgbed)\]/.test(line))).toEqual([
        '[debug] [gemgate:smms] not uploading: UPLOAD_PROVIDER is cloudflare_imgbed, not smms',
        '[debug] [gemgate:picgo] not uploading: UPLOAD_PROVIDER is cloudflare_imgbed, not picgo',
        // The URL's own query (here a code put in it) is never logged.
        `[info] [gemgate:cloudflare-imgbed] images in answers are uploaded to CloudFlare-ImgBed (${others.origin}/upload)`,
      ])
      await gw.gateway.services
        .get<Uploader>('uploader')!
        .upload(PNG, 'image/png')
        .catch(() => undefined)
      expect(others.received.map((request) => request.url.pathname)).toEqual(['/upload'])
    } finally {
      await gw.close()
      await others.close()
    }
  })

  it('UPLOAD_PROVIDER=cloudflare_imgbed without its auth code: nothing provided, and the debug line says what is missing', async () => {
    const out = captureOutput()
    const gw = await startGateway({
      env: { UPLOAD_PROVIDER: 'cloudflare_imgbed', CLOUDFLARE_IMGBED_URL: 'https://img.example.com/upload', LOG_LEVEL: 'debug' },
      config: { plugins: [cloudflareImgbed()] },
    })
    try {
      expect(out.lines().filter((line) => line.includes('[gemgate:cloudflare-imgbed]'))).toEqual([
        '[debug] [gemgate:cloudflare-imgbed] not uploading: UPLOAD_PROVIDER is cloudflare_imgbed but CLOUDFLARE_IMGBED_AUTH_CODE is not set, so images stay data URLs',
      ])
      expect(gw.gateway.services.get('uploader')).toBeUndefined()
    } finally {
      await gw.close()
    }
  })
})
