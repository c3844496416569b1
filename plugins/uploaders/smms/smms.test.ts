import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineUploader } from 'gemgate'
import { KEYS, TOKEN, startGateway, type Running } from '../../../test/e2e/harness.ts'
import { generatedPng } from '../../../test/fake-upstream/images.ts'
import { registerSecrets } from '../../../test/secrets/recorder.ts'
import { imageChat } from '../../index.ts'
import { captureOutput, fileIn, startFakeHost, type FakeHost, type Received, type Reply } from '../test-hosts.ts'
import smms from './index.ts'
import { sendToSmms } from './internal/api.ts'

const SECRET = 'smms-secret-token-1f2e3d4c5b6a7980'
registerSecrets([SECRET]) // the leak check: the token never shows in a log line or an answer
const PNG = generatedPng(0)
const DAY_NAME = /^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{8}\.png$/
const requestId = () => `${Math.random().toString(16).slice(2, 10).toUpperCase()}-96B3-4363-B5DF-524E95A5201A`

/** Where the fake keeps an upload: sm.ms's CDN, under the name the file was sent with. */
const cdnUrl = (request: Received) => `https://i.loli.net/${fileIn(request, 'smfile')!.name}`

/** sm.ms API v2 as documented: the token as the whole Authorization header, the image as `smfile`. */
function smmsApi(request: Received): Reply {
  if (request.method !== 'POST' || request.url.pathname !== '/api/v2/upload') return { status: 404, text: 'Not Found' }
  if (request.headers.authorization !== SECRET) return { json: { success: false, code: 'unauthorized', message: 'Unauthorized.', RequestId: requestId() } }
  const file = fileIn(request, 'smfile')
  if (!file || file.size === 0) return { json: { success: false, code: 'exception', message: 'No files were uploaded.', RequestId: requestId() } }
  const storename = file.name.split('/').pop()!
  return {
    json: {
      success: true,
      code: 'success',
      message: 'Upload success.',
      data: {
        file_id: 0,
        width: 1,
        height: 1,
        filename: file.name,
        storename,
        size: file.size,
        path: `/${file.name}`,
        hash: 'Q6vLIbCGZojrMhO2e7BmgFuXRV',
        url: cdnUrl(request),
        delete: 'https://sm.ms/delete/Q6vLIbCGZojrMhO2e7BmgFuXRV',
        page: `https://sm.ms/image/${storename}`,
      },
      RequestId: requestId(),
    },
  }
}

const flood = { json: { success: false, code: 'flood', message: 'Upload file frequency limit.', RequestId: requestId() } }

describe('sm.ms API v2 (against a fake of it)', () => {
  let host: FakeHost
  const upload = (token = SECRET) =>
    defineUploader(sendToSmms(`${host.origin}/api/v2/upload`, token), { timeoutMs: 2000, maxBytes: 1 << 20 }).upload(PNG, 'image/png')
  beforeAll(async () => {
    host = await startFakeHost(smmsApi)
  })
  afterAll(() => host.close())
  beforeEach(() => host.clear())

  it('sends the image as smfile (day-named, typed) with the bare token, and answers data.url', async () => {
    const url = await upload()
    const [request] = host.received
    expect(request!.headers.authorization).toBe(SECRET)
    const file = fileIn(request!, 'smfile')!
    expect(file.name).toMatch(DAY_NAME)
    expect(file.name.startsWith(new Date().toISOString().slice(0, 10).replaceAll('-', '/'))).toBe(true)
    expect(file.type).toBe('image/png')
    expect(Buffer.from(await file.arrayBuffer())).toEqual(PNG)
    expect(url).toBe(cdnUrl(request!))
  })

  it('an image sm.ms already holds (image_repeated) answers the URL it holds it under', async () => {
    host.script.push({
      json: {
        success: false,
        code: 'image_repeated',
        message: 'Image upload repeated limit, this image exists at: https://i.loli.net/2019/12/16/D5VpWCKFElUsPcR.png',
        images: 'https://i.loli.net/2019/12/16/D5VpWCKFElUsPcR.png',
        RequestId: requestId(),
      },
    })
    expect(await upload()).toBe('https://i.loli.net/2019/12/16/D5VpWCKFElUsPcR.png')
  })

  it("a wrong token: an error with sm.ms's reason", async () => {
    await expect(upload('not-the-token')).rejects.toThrow('sm.ms refused the upload: Unauthorized. (code unauthorized)')
  })

  it.each<[string, Reply, string]>([
    ['the upload limit', flood, 'sm.ms refused the upload: Upload file frequency limit. (code flood)'],
    [
      'an older refusal (reason under error)',
      { json: { success: false, code: 'image_repeated', error: 'Image upload repeated limit.' } },
      'sm.ms refused the upload: Image upload repeated limit. (code image_repeated)',
    ],
    [
      'a proxy error page',
      { status: 502, text: '<html><body>502 Bad Gateway</body></html>' },
      'sm.ms answered HTTP 502 without JSON: <html><body>502 Bad Gateway</body></html>',
    ],
    [
      'success without an http(s) URL',
      { json: { success: true, code: 'success', data: { url: 'javascript:alert(1)' } } },
      'sm.ms answered without an http(s) URL: "javascript:alert(1)"',
    ],
  ])("%s: an error with sm.ms's reason, not retried", async (_name, reply, message) => {
    host.script.push(reply)
    await expect(upload()).rejects.toThrow(message)
    expect(host.received).toHaveLength(1)
  })
})

describe('smms through the gateway (UPLOAD_PROVIDER left at its default, smms)', () => {
  let host: FakeHost
  let gw: Running
  let openai: OpenAI
  let out: ReturnType<typeof captureOutput>
  const ask = async (text = 'banana') =>
    (await openai.chat.completions.create({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: text }] })).choices[0]!.message.content
  const dataMarkdown = (png: Buffer) => `![image](data:image/png;base64,${png.toString('base64')})`
  const warnings = () => out.lines().filter((line) => line.includes('image upload failed'))

  beforeAll(async () => {
    host = await startFakeHost(smmsApi)
    gw = await startGateway({
      env: { SMMS_SECRET_TOKEN: SECRET, LOG_LEVEL: 'debug' },
      config: { plugins: [imageChat({ uploadTimeoutSeconds: 10 }), smms({ url: `${host.origin}/api/v2/upload`, timeoutSeconds: 1, maxMb: 1 })] },
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

  it('an OpenAI answer with an image carries the URL sm.ms gave it', async () => {
    expect(await ask()).toBe(`Echo: banana\n\n![image](${cdnUrl(host.received[0]!)})\n\n`)
    expect(host.received).toHaveLength(1)
    expect(host.received[0]!.headers.authorization).toBe(SECRET)
    expect(Buffer.from(await fileIn(host.received[0]!, 'smfile')!.arrayBuffer())).toEqual(PNG)
    expect(warnings()).toEqual([])
  })

  it("a refused upload: the answer is still 200, with the image as a data URL, and sm.ms's reason is logged", async () => {
    host.script.push(flood)
    expect(await ask()).toBe(`Echo: banana\n\n${dataMarkdown(PNG)}\n\n`)
    expect(host.received).toHaveLength(1) // a refusal is not retried
    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]).toContain('sm.ms refused the upload: Upload file frequency limit. (code flood)')
  })

  it("a network failure is retried once: the second attempt's URL is in the answer", async () => {
    host.script.push('reset')
    expect(await ask()).toBe(`Echo: banana\n\n![image](${cdnUrl(host.received[1]!)})\n\n`)
    expect(host.received).toHaveLength(2)
    expect(warnings()).toEqual([])
  })

  it('two network failures: a data URL, after exactly two attempts', async () => {
    host.script.push('reset', 'reset')
    expect(await ask()).toBe(`Echo: banana\n\n${dataMarkdown(PNG)}\n\n`)
    expect(host.received).toHaveLength(2)
    expect(warnings()).toHaveLength(1)
  })

  it('an image over maxMb is not sent; it stays a data URL', async () => {
    const big = Buffer.alloc(1.5 * 1024 * 1024, 7)
    const answer = {
      candidates: [
        {
          content: { role: 'model', parts: [{ text: 'Big:' }, { inlineData: { mimeType: 'image/png', data: big.toString('base64') } }] },
          finishReason: 'STOP',
          index: 0,
        },
      ],
    }
    for (const key of KEYS) gw.upstream.script(key, { json: answer })
    expect(await ask()).toBe(`Big:\n\n${dataMarkdown(big)}\n\n`)
    expect(host.received).toHaveLength(0)
    expect(warnings()[0]).toContain(`the image is ${big.length} bytes, over the upload limit of ${1024 * 1024}`)
  })

  it('an upload has its time limit (timeoutSeconds per attempt, one retry), then the answer goes on with a data URL', async () => {
    host.script.push('hold', 'hold')
    const started = Date.now()
    expect(await ask()).toBe(`Echo: banana\n\n${dataMarkdown(PNG)}\n\n`)
    const took = Date.now() - started
    expect(host.received).toHaveLength(2)
    expect(took).toBeGreaterThanOrEqual(2000)
    expect(took).toBeLessThan(8000) // well before image-chat's own 10 s
    expect(warnings()[0]).toContain('no answer within the upload timeout')
  })
})

describe('smms at start', () => {
  afterEach(() => vi.restoreAllMocks())

  it('logs one info line naming the active uploader and its endpoint, never the token', async () => {
    const host = await startFakeHost(smmsApi)
    const out = captureOutput()
    const gw = await startGateway({
      env: { UPLOAD_PROVIDER: 'SMMS', SMMS_SECRET_TOKEN: SECRET, LOG_LEVEL: 'debug' },
      config: { plugins: [smms({ url: `${host.origin}/api/v2/upload?from=gemgate` })] },
    })
    try {
      const mine = out.lines().filter((line) => line.includes('gemgate:smms'))
      expect(mine).toEqual([`[info] [gemgate:smms] images in answers are uploaded to sm.ms (${host.origin}/api/v2/upload)`])
      expect(gw.gateway.services.get('uploader')).toBeDefined()
    } finally {
      await gw.close()
      await host.close()
    }
  })

  it('without SMMS_SECRET_TOKEN it provides nothing, says why at debug level, and images stay data URLs', async () => {
    const out = captureOutput()
    const gw = await startGateway({ env: { LOG_LEVEL: 'debug' }, config: { plugins: [imageChat(), smms()] } })
    try {
      expect(out.lines().filter((line) => line.includes('gemgate:smms'))).toEqual([
        '[debug] [gemgate:smms] not uploading: UPLOAD_PROVIDER is smms but SMMS_SECRET_TOKEN is not set, so images stay data URLs',
      ])
      expect(gw.gateway.services.get('uploader')).toBeUndefined()
      const openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
      const completion = await openai.chat.completions.create({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'x' }] })
      expect(completion.choices[0]!.message.content).toContain('](data:image/png;base64,')
    } finally {
      await gw.close()
    }
  })
})
