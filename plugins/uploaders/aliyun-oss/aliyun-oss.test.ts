import { createHash } from 'node:crypto'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineUploader } from 'gemgate'
import { TOKEN, startGateway, type Running } from '../../../test/e2e/harness.ts'
import { generatedPng } from '../../../test/fake-upstream/images.ts'
import { registerSecrets } from '../../../test/secrets/recorder.ts'
import { imageChat } from '../../index.ts'
import { captureOutput } from '../test-hosts.ts'
import { startFakeOss, type FakeOss } from './fake-oss.ts'
import aliyunOss from './index.ts'
import { objectUrl, resolveBucket, type OssBucket, type OssSettings } from './internal/bucket.ts'
import { putObject } from './internal/put.ts'
import { authorizationV4, escapeKey, type OssCredentials, type OssRequest } from './internal/signer.ts'

const BUCKET = 'gemgate-images'
const REGION = 'cn-shanghai'
const KEY_ID = 'LTAI5tGemgateTestKeyId01'
const SECRET = 'gemgate-oss-secret-7d41c09be25a4f68'
const READ_ONLY_ID = 'LTAI5tGemgateReadOnly002'
registerSecrets([SECRET]) // the leak check: the secret never shows in a log line or an answer
const PNG = generatedPng(0)
const DAY_NAME = /^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{8}\.png$/
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64')

describe('OSS V4 signature (known-good vectors)', () => {
  // 1-2: the vectors of Alibaba's own SDK test suites, identical in alibabacloud-oss-go-sdk-v2
  // (oss/signer/signer_test.go, TestV4AuthHeader and TestV4AuthHeaderToken) and alibabacloud-oss-python-sdk-v2
  // (tests/unit/signer/test_v4.py, test_auth_header and test_auth_header_with_token): a query to sort, headers that
  // are not signed (abc, ZAbc, XYZ), a name with `+`, an STS token header.
  // 3-4: requests of this plugin's exact shape (Content-MD5, public-read ACL, unsigned payload) signed by ali-oss 6.23.0,
  // Alibaba's official Node.js SDK (`authorizationV4: true`), run once in a scratch directory against a loopback server
  // that printed what it received; the second name needs escaping (space, non-ASCII, `+`).
  const sdkQuery = '%2Bparam1=value3&%2Bparam2=&param1=value1&param2=&%7Cparam1=value4&%7Cparam2='
  const sdkHeaders = {
    'x-oss-head1': 'value',
    abc: 'value',
    ZAbc: 'value',
    XYZ: 'value',
    'content-type': 'text/plain',
    'x-oss-content-sha256': 'UNSIGNED-PAYLOAD',
  }
  const sdkKey: OssCredentials = { accessKeyId: 'ak', accessKeySecret: 'sk', region: 'cn-hangzhou' }
  const aliOssKey: OssCredentials = { accessKeyId: 'LTAI5tExampleAccessKey', accessKeySecret: 'ExampleSecret/With+Chars=', region: 'cn-shanghai' }
  const aliOssHeaders = {
    'x-oss-date': '20261130T085140Z',
    'x-oss-content-sha256': 'UNSIGNED-PAYLOAD',
    'user-agent': 'aliyun-sdk-nodejs/6.23.0 Node.js 20.20.2 on Linux 64-bit',
    'x-oss-object-acl': 'public-read',
    'content-type': 'image/png',
  }

  it.each<[string, OssRequest, OssCredentials, string]>([
    [
      'Go/Python SDK v2: TestV4AuthHeader',
      { method: 'PUT', bucket: 'bucket', key: '1234+-/123/1.txt', query: sdkQuery, headers: { ...sdkHeaders, 'x-oss-date': '20231216T162057Z' } },
      sdkKey,
      'OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe',
    ],
    [
      'Go/Python SDK v2: TestV4AuthHeaderToken',
      {
        method: 'PUT',
        bucket: 'bucket',
        key: '1234+-/123/1.txt',
        query: sdkQuery,
        headers: { ...sdkHeaders, 'x-oss-date': '20231217T034736Z', 'x-oss-security-token': 'token' },
      },
      sdkKey,
      'OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/aliyun_v4_request,Signature=b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea',
    ],
    [
      'ali-oss 6.23.0: a day-named PNG',
      {
        method: 'PUT',
        bucket: 'examplebucket',
        key: '2026/11/30/1a2b3c4d.png',
        headers: { ...aliOssHeaders, 'content-md5': 'cvR5hKHO0zsC6TCF5DCJFg==', 'content-length': '22' },
      },
      aliOssKey,
      'OSS4-HMAC-SHA256 Credential=LTAI5tExampleAccessKey/20261130/cn-shanghai/oss/aliyun_v4_request,Signature=03b77ede824e913ec01729fbdbecdc9ec121f64d22b2208707028df7a22dc33e',
    ],
    [
      'ali-oss 6.23.0: a name to escape',
      {
        method: 'PUT',
        bucket: 'examplebucket',
        key: 'dir with space/ü+€.png',
        headers: { ...aliOssHeaders, 'content-md5': 'ndTkYSaMgDT1yFZOFVxnpg==', 'content-length': '1' },
      },
      aliOssKey,
      'OSS4-HMAC-SHA256 Credential=LTAI5tExampleAccessKey/20261130/cn-shanghai/oss/aliyun_v4_request,Signature=dc670c02ea5690c732db07b16400ff8fcc411a36585fad81c443f8d407a925b1',
    ],
  ])('%s', (_source, request, credentials, expected) => {
    expect(authorizationV4(request, credentials)).toBe(expected)
  })

  it('names are escaped in the URL as in the signature: as ali-oss sent them, plus the characters encodeURIComponent keeps', () => {
    expect(escapeKey('dir with space/ü+€.png')).toBe('dir%20with%20space/%C3%BC%2B%E2%82%AC.png')
    expect(escapeKey("a!b'c(d)e*f~g_h.i-j%2F")).toBe('a%21b%27c%28d%29e%2Af~g_h.i-j%252F')
  })

  it('refuses to sign without x-oss-date', () => {
    expect(() => authorizationV4({ method: 'PUT', bucket: 'b', key: 'k', headers: {} }, sdkKey)).toThrow('x-oss-date')
  })
})

describe('OSS settings', () => {
  // gemini-balance README's example values.
  const example: OssSettings = {
    endpoint: 'oss-cn-shanghai.aliyuncs.com',
    innerEndpoint: '',
    accessKeyId: KEY_ID,
    accessKeySecret: SECRET,
    bucket: 'your-bucket-name',
    region: 'cn-shanghai',
  }
  const bucketOf = (settings: Partial<OssSettings>) => resolveBucket({ ...example, ...settings }) as OssBucket
  const url = (settings: Partial<OssSettings>, endpoint: 'upload' | 'public' = 'public') => {
    const bucket = bucketOf(settings)
    return objectUrl(bucket[endpoint], bucket.name, '2026/11/30/1a2b3c4d.png')
  }

  it('a bare endpoint: https://<bucket>.<endpoint>/<name>, uploads and URLs alike', () => {
    expect(url({})).toBe('https://your-bucket-name.oss-cn-shanghai.aliyuncs.com/2026/11/30/1a2b3c4d.png')
    expect(url({}, 'upload')).toBe(url({}))
  })

  it('OSS_ENDPOINT_INNER: uploads go there, the URL in the answer stays on OSS_ENDPOINT', () => {
    const inner = { innerEndpoint: 'oss-cn-shanghai-internal.aliyuncs.com' }
    expect(url(inner, 'upload')).toBe('https://your-bucket-name.oss-cn-shanghai-internal.aliyuncs.com/2026/11/30/1a2b3c4d.png')
    expect(url(inner)).toBe('https://your-bucket-name.oss-cn-shanghai.aliyuncs.com/2026/11/30/1a2b3c4d.png')
  })

  it("an endpoint with a scheme: by path, as gemini-balance addressed it; Aliyun's own hosts stay <bucket>.<host>", () => {
    expect(url({ endpoint: 'http://127.0.0.1:9000/' })).toBe('http://127.0.0.1:9000/your-bucket-name/2026/11/30/1a2b3c4d.png')
    expect(url({ endpoint: 'https://oss.example.com/prefix' })).toBe('https://oss.example.com/prefix/your-bucket-name/2026/11/30/1a2b3c4d.png')
    expect(url({ endpoint: 'http://oss-cn-shanghai.aliyuncs.com' })).toBe('http://your-bucket-name.oss-cn-shanghai.aliyuncs.com/2026/11/30/1a2b3c4d.png')
  })

  it('the region: OSS_REGION (an oss- prefix tolerated), else the one an Aliyun endpoint names', () => {
    expect(bucketOf({}).region).toBe('cn-shanghai')
    expect(bucketOf({ region: 'oss-cn-hangzhou' }).region).toBe('cn-hangzhou')
    expect(bucketOf({ region: '', endpoint: 'oss-ap-southeast-1.aliyuncs.com' }).region).toBe('ap-southeast-1')
    expect(bucketOf({ region: '', endpoint: 'http://127.0.0.1:9000', innerEndpoint: 'oss-eu-central-1-internal.aliyuncs.com' }).region).toBe('eu-central-1')
    expect(resolveBucket({ ...example, region: '', endpoint: 'oss-accelerate.aliyuncs.com' })).toBe(
      'OSS_REGION not set, and OSS_ENDPOINT does not name a region',
    )
  })

  it('settings left empty: the variables missing, never a value', () => {
    expect(resolveBucket({ ...example, bucket: '', accessKeySecret: ' ' })).toBe('OSS_ACCESS_KEY_SECRET, OSS_BUCKET_NAME not set')
  })

  it.each<[Partial<OssSettings>, string]>([
    [{ endpoint: 'oss cn shanghai' }, 'OSS_ENDPOINT "oss cn shanghai" is not a host name'],
    [{ innerEndpoint: 'ftp://oss' }, 'OSS_ENDPOINT_INNER "ftp://oss" is not a host name'],
    [{ endpoint: 'https://oss.example.com/?x=1' }, 'OSS_ENDPOINT "https://oss.example.com/?x=1" is not an http(s) URL'],
    [{ bucket: 'My_Bucket' }, 'OSS_BUCKET_NAME "My_Bucket" is not an OSS bucket name'],
    [{ region: 'cn shanghai' }, 'OSS_REGION "cn shanghai" is not a region id'],
  ])('a value that cannot work stops the start, naming its variable: %j', (settings, message) => {
    expect(() => resolveBucket({ ...example, ...settings })).toThrow(message)
  })
})

describe('PutObject against a fake OSS that checks it', () => {
  let oss: FakeOss
  const bucketAt = (origin: string, overrides: Partial<OssBucket> = {}): OssBucket => ({
    name: BUCKET,
    region: REGION,
    accessKeyId: KEY_ID,
    accessKeySecret: SECRET,
    upload: { base: origin, byPath: true },
    public: { base: origin, byPath: true },
    ...overrides,
  })
  const upload = (overrides: Partial<OssBucket> = {}, timeoutMs = 2000) =>
    defineUploader((file, signal) => putObject(bucketAt(oss.origin, overrides), file, signal), { timeoutMs, maxBytes: 1 << 20 }).upload(PNG, 'image/png')
  beforeAll(async () => {
    oss = await startFakeOss({ bucket: BUCKET, region: REGION, keys: { [KEY_ID]: { secret: SECRET }, [READ_ONLY_ID]: { secret: SECRET, canWrite: false } } })
  })
  afterAll(() => oss.close())
  beforeEach(() => oss.clear())

  it('puts the image signed, public-read, with its MD5 and type, under a day name; the URL it answers serves the image', async () => {
    const url = await upload()
    const [put] = oss.puts
    expect(put!.headers['x-oss-object-acl']).toBe('public-read')
    expect(put!.headers['content-md5']).toBe(md5(PNG))
    expect(put!.headers['content-type']).toBe('image/png')
    expect(put!.headers.authorization).toMatch(
      new RegExp(`^OSS4-HMAC-SHA256 Credential=${KEY_ID}/\\d{8}/${REGION}/oss/aliyun_v4_request,Signature=[0-9a-f]{64}$`),
    )
    expect(put!.bytes).toEqual(PNG)
    const name = url.slice(`${oss.origin}/${BUCKET}/`.length)
    expect(url.startsWith(`${oss.origin}/${BUCKET}/`)).toBe(true)
    expect(name).toMatch(DAY_NAME)
    const served = await fetch(url)
    expect(served.headers.get('content-type')).toBe('image/png')
    expect(Buffer.from(await served.arrayBuffer())).toEqual(PNG)
  })

  it("the fake is no pushover: a header changed after signing, bytes that are not the MD5's, are refused", async () => {
    const key = '2026/11/30/0badf00d.png'
    const headers: Record<string, string> = {
      'content-type': 'image/png',
      'content-md5': md5(PNG),
      'x-oss-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-oss-date': new Date().toISOString().replace(/[-:]|\.\d+/g, ''),
    }
    headers.authorization = authorizationV4({ method: 'PUT', bucket: BUCKET, key, headers }, { accessKeyId: KEY_ID, accessKeySecret: SECRET, region: REGION })
    const put = (changed: Record<string, string>, bytes: Buffer = PNG) =>
      fetch(`${oss.origin}/${BUCKET}/${key}`, { method: 'PUT', headers: { ...headers, ...changed }, body: new Uint8Array(bytes) })
    expect((await put({})).status).toBe(200)
    const tampered = await put({ 'x-oss-object-acl': 'public-read' })
    expect([tampered.status, await tampered.text()]).toEqual([403, expect.stringContaining('<Code>SignatureDoesNotMatch</Code>')])
    const wrongBytes = await put({}, Buffer.from('not the png'))
    expect([wrongBytes.status, await wrongBytes.text()]).toEqual([400, expect.stringContaining('<Code>InvalidDigest</Code>')])
  })

  it.each<[string, Partial<OssBucket>, string]>([
    [
      'a wrong secret',
      { accessKeySecret: 'not-the-secret' },
      'OSS refused the upload: 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method. (request ',
    ],
    ['the bucket in another region', { region: 'cn-hangzhou' }, 'OSS refused the upload: 403 SignatureDoesNotMatch: '],
    [
      'a key without the right to write',
      { accessKeyId: READ_ONLY_ID },
      'OSS refused the upload: 403 AccessDenied: You have no right to access this object because of bucket acl. (request ',
    ],
    [
      'an unknown key',
      { accessKeyId: 'LTAI5tUnknown' },
      'OSS refused the upload: 403 InvalidAccessKeyId: The OSS Access Key Id you provided does not exist in our records.',
    ],
    ['a bucket that does not exist', { name: 'no-such-bucket' }, 'OSS refused the upload: 404 NoSuchBucket: The specified bucket does not exist. (request '],
  ])("%s: an error with OSS's code and message, not retried", async (_name, overrides, message) => {
    await expect(upload(overrides)).rejects.toThrow(message)
    expect(oss.puts).toHaveLength(1)
    expect(oss.objects.size).toBe(0)
  })

  it("an answer that is not OSS's XML: its status and start", async () => {
    oss.script.push({ status: 502, body: '<html><body>502 Bad Gateway</body></html>' })
    await expect(upload()).rejects.toThrow('OSS refused the upload: HTTP 502: <html><body>502 Bad Gateway</body></html>')
  })

  it('a dropped connection is retried once; an endpoint that never answers fails after two attempts of timeoutMs', async () => {
    oss.script.push('reset')
    expect(await upload()).toMatch(new RegExp(`^${oss.origin}/${BUCKET}/\\d{4}/`))
    expect(oss.puts).toHaveLength(2)

    oss.clear()
    oss.script.push('hold', 'hold')
    const started = Date.now()
    await expect(upload({}, 200)).rejects.toMatchObject({ name: 'TimeoutError' })
    expect(Date.now() - started).toBeLessThan(1500)
    expect(oss.puts).toHaveLength(2)
  })

  it('an image over the size limit is not sent', async () => {
    const uploader = defineUploader((file, signal) => putObject(bucketAt(oss.origin), file, signal), { timeoutMs: 2000, maxBytes: PNG.length - 1 })
    await expect(uploader.upload(PNG, 'image/png')).rejects.toThrow('over the upload limit')
    expect(oss.puts).toHaveLength(0)
  })
})

describe('aliyun-oss through the gateway', () => {
  let oss: FakeOss
  let publicOss: FakeOss
  const env = (extra: Record<string, string> = {}) => ({
    UPLOAD_PROVIDER: 'aliyun_oss',
    OSS_ENDPOINT: oss.origin,
    OSS_ACCESS_KEY: KEY_ID,
    OSS_ACCESS_KEY_SECRET: SECRET,
    OSS_BUCKET_NAME: BUCKET,
    OSS_REGION: REGION,
    LOG_LEVEL: 'debug',
    ...extra,
  })
  const openai = (gw: Running) => new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  const chat = (gw: Running) => openai(gw).chat.completions.create({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'draw' }] })
  const dataMarkdown = `![image](data:image/png;base64,${PNG.toString('base64')})`
  const ossMarkdown = (origin: string) => new RegExp(`^Echo: draw\\n\\n!\\[image\\]\\((${origin}/${BUCKET}/\\d{4}/\\d{2}/\\d{2}/[0-9a-f]{8}\\.png)\\)\\n\\n$`)

  beforeAll(async () => {
    oss = await startFakeOss({ bucket: BUCKET, region: REGION, keys: { [KEY_ID]: { secret: SECRET } } })
    publicOss = await startFakeOss({ bucket: BUCKET, region: REGION, keys: {} })
    publicOss.objects = oss.objects // two endpoints of one bucket
  })
  afterAll(async () => {
    await oss.close()
    await publicOss.close()
  })

  beforeEach(() => {
    oss.clear()
    oss.keys.set(KEY_ID, { secret: SECRET, canWrite: true })
  })
  afterEach(() => {
    vi.restoreAllMocks() // the output capture
  })

  /** A gateway with image-chat and this plugin, and the log lines it printed while starting. */
  async function start(extra: Record<string, string> = {}): Promise<{ gw: Running; startLines: string[] }> {
    const out = captureOutput()
    const gw = await startGateway({ env: env(extra), config: { plugins: [imageChat(), aliyunOss()] } })
    const startLines = out.lines()
    vi.restoreAllMocks()
    return { gw, startLines }
  }

  describe('UPLOAD_PROVIDER=aliyun_oss with the OSS variables set', () => {
    let gw: Running
    let startLines: string[]
    beforeAll(async () => {
      ;({ gw, startLines } = await start())
    })
    afterAll(() => gw.close())

    it('provides the uploader and says where images go', () => {
      expect(gw.gateway.services.get('uploader')).toBeDefined()
      expect(startLines).toContainEqual(expect.stringContaining(`[gemgate:aliyun-oss] images in answers are uploaded to Aliyun OSS: ${oss.origin}/${BUCKET}/`))
      expect(startLines.join('\n')).not.toContain(SECRET)
    })

    it('an OpenAI chat answer with an image carries the OSS URL, which serves the image', async () => {
      const completion = await chat(gw)
      const url = ossMarkdown(oss.origin).exec(completion.choices[0]!.message.content!)?.[1]
      expect(url).toBeDefined()
      expect(oss.puts).toHaveLength(1)
      expect(oss.puts[0]!.headers['content-md5']).toBe(md5(PNG))
      expect(Buffer.from(await (await fetch(url!)).arrayBuffer())).toEqual(PNG)
    })

    it('streamed too', async () => {
      let content = ''
      const stream = await openai(gw).chat.completions.create({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'draw' }], stream: true })
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? ''
      expect(content).toMatch(ossMarkdown(oss.origin))
    })

    it("a refused upload (the secret rotated in OSS) leaves a data URL, the answer still 200, and OSS's reason is logged", async () => {
      oss.keys.set(KEY_ID, { secret: 'rotated-in-the-console', canWrite: true })
      const out = captureOutput()
      const completion = await chat(gw)
      expect(completion.choices[0]!.message.content).toBe(`Echo: draw\n\n${dataMarkdown}\n\n`)
      expect(completion.choices[0]!.finish_reason).toBe('stop')
      expect(out.lines()).toContainEqual(
        expect.stringContaining(
          '[gemgate:image-chat] image upload failed, answering with a data URL instead: OSS refused the upload: 403 SignatureDoesNotMatch: The request signature we calculated does not match',
        ),
      )
      expect(out.lines().join('\n')).not.toContain(SECRET)
    })
  })

  it('OSS_ENDPOINT_INNER: the upload goes to the inner endpoint, the answer links the public one', async () => {
    const { gw, startLines } = await start({ OSS_ENDPOINT: publicOss.origin, OSS_ENDPOINT_INNER: oss.origin })
    try {
      expect(startLines).toContainEqual(
        expect.stringContaining(`images in answers are uploaded to Aliyun OSS: ${publicOss.origin}/${BUCKET}/, uploaded through ${oss.origin}`),
      )
      const url = ossMarkdown(publicOss.origin).exec((await chat(gw)).choices[0]!.message.content!)?.[1]
      expect(url).toBeDefined()
      expect([oss.puts.length, publicOss.puts.length]).toEqual([1, 0])
      expect(Buffer.from(await (await fetch(url!)).arrayBuffer())).toEqual(PNG)
    } finally {
      await gw.close()
    }
  })

  it.each<[string, Record<string, string>, string]>([
    ["UPLOAD_PROVIDER left at gemini-balance's default", { UPLOAD_PROVIDER: '' }, 'not uploading: UPLOAD_PROVIDER is smms, not aliyun_oss'],
    ['another provider', { UPLOAD_PROVIDER: 'picgo' }, 'not uploading: UPLOAD_PROVIDER is picgo, not aliyun_oss'],
    ['the bucket missing', { OSS_BUCKET_NAME: '' }, 'not uploading: UPLOAD_PROVIDER is aliyun_oss but OSS_BUCKET_NAME not set, so images stay data URLs'],
  ])('%s: no uploader, the reason at debug level, images as data URLs', async (_name, extra, reason) => {
    const { gw, startLines } = await start(extra)
    try {
      expect(gw.gateway.services.get('uploader')).toBeUndefined()
      expect(startLines).toContainEqual(expect.stringMatching(new RegExp(`\\[debug\\].*\\[gemgate:aliyun-oss\\] ${reason}`)))
      expect((await chat(gw)).choices[0]!.message.content).toBe(`Echo: draw\n\n${dataMarkdown}\n\n`)
      expect(oss.puts).toHaveLength(0)
    } finally {
      await gw.close()
    }
  })
})
