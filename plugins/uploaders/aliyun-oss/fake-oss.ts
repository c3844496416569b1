// Test double of Aliyun OSS for the aliyun-oss tests: a loopback server holding one bucket, addressed by path
// (`/<bucket>/<name>`). It checks PutObject as OSS does and refuses in OSS's own XML: the V4 signature recomputed
// from the request as received (its own implementation of Alibaba's V4 description, not the plugin's signer), the
// signing time, the Content-MD5 against the bytes, the bucket's existence and the key's right to write. Objects it
// stores are served back when public-read, so a test can follow the URL it was given.

import { createHash, createHmac, randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StoredObject {
  bytes: Buffer
  contentType: string
  acl: string
}

export interface ReceivedPut {
  path: string
  headers: IncomingHttpHeaders
  bytes: Buffer
}

/** An answer that takes precedence over OSS's rules: `reset` drops the connection, `hold` never answers. */
export type Scripted = 'reset' | 'hold' | { status: number; body: string }

export interface FakeOss {
  origin: string
  bucket: string
  region: string
  /** Access keys OSS knows: their secret, and whether their RAM user may put objects. */
  keys: Map<string, { secret: string; canWrite: boolean }>
  objects: Map<string, StoredObject>
  /** Every PUT, in order. */
  puts: ReceivedPut[]
  script: Scripted[]
  clear(): void
  close(): Promise<void>
}

interface Refusal {
  status: number
  code: string
  message: string
  ec: string
  details?: Record<string, string>
}

export async function startFakeOss(options: {
  bucket: string
  region: string
  keys: Record<string, { secret: string; canWrite?: boolean }>
}): Promise<FakeOss> {
  const server = createServer((req, res) => {
    const pieces: Buffer[] = []
    req.on('data', (piece: Buffer) => pieces.push(piece))
    req.on('end', () => {
      const bytes = Buffer.concat(pieces)
      const [path = '/', query = ''] = (req.url ?? '/').split(/\?(.*)/s)
      if (req.method === 'PUT') oss.puts.push({ path, headers: req.headers, bytes })
      const scripted = oss.script.shift()
      if (scripted === 'reset') return void req.socket.destroy()
      if (scripted === 'hold') return
      if (scripted) return void res.writeHead(scripted.status).end(scripted.body)

      const requestId = randomBytes(12).toString('hex').toUpperCase()
      const [bucket, key] = splitPath(path)
      const answer = (refusal: Refusal) =>
        res
          .writeHead(refusal.status, { 'content-type': 'application/xml', 'x-oss-request-id': requestId, 'x-oss-ec': refusal.ec })
          .end(errorXml(refusal, requestId, req.headers.host ?? ''))
      if (bucket !== oss.bucket)
        return answer({
          status: 404,
          code: 'NoSuchBucket',
          message: 'The specified bucket does not exist.',
          ec: '0015-00000101',
          details: { BucketName: bucket },
        })
      if (req.method === 'GET') {
        const object = oss.objects.get(key)
        if (!object) return answer({ status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.', ec: '0026-00000001', details: { Key: key } })
        if (object.acl !== 'public-read')
          return answer({ status: 403, code: 'AccessDenied', message: 'You have no right to access this object because of bucket acl.', ec: '0003-00000001' })
        return void res.writeHead(200, { 'content-type': object.contentType, 'content-length': object.bytes.length }).end(object.bytes)
      }
      if (req.method !== 'PUT')
        return answer({ status: 405, code: 'MethodNotAllowed', message: 'The specified method is not allowed against this resource.', ec: '0002-00000003' })

      const refusal = checkPut(oss, req.headers, bucket, key, query, bytes)
      if (refusal) return answer(refusal)
      oss.objects.set(key, {
        bytes,
        contentType: String(req.headers['content-type'] ?? 'application/octet-stream'),
        acl: String(req.headers['x-oss-object-acl'] ?? 'default'),
      })
      res
        .writeHead(200, { etag: `"${md5(bytes).toString('hex').toUpperCase()}"`, 'x-oss-request-id': requestId, 'content-md5': md5(bytes).toString('base64') })
        .end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const oss: FakeOss = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bucket: options.bucket,
    region: options.region,
    keys: new Map(Object.entries(options.keys).map(([id, key]) => [id, { secret: key.secret, canWrite: key.canWrite ?? true }])),
    objects: new Map(),
    puts: [],
    script: [],
    clear() {
      oss.objects.clear()
      oss.puts.length = 0
      oss.script.length = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections() // held answers too
        server.close(() => resolve())
      }),
  }
  return oss
}

/** OSS's checks of a PutObject, in the order OSS answers them. */
function checkPut(oss: FakeOss, headers: IncomingHttpHeaders, bucket: string, key: string, query: string, bytes: Buffer): Refusal | undefined {
  const authorization =
    /^OSS4-HMAC-SHA256 Credential=([^/,]+)\/(\d{8})\/([^/,]+)\/oss\/aliyun_v4_request,(?:AdditionalHeaders=([^,]*),)?Signature=([0-9a-f]{64})$/.exec(
      String(headers.authorization ?? ''),
    )
  if (!authorization) return { status: 400, code: 'InvalidArgument', message: 'Authorization header is invalid.', ec: '0002-00000202' }
  const [, accessKeyId, signDate, , additional = '', provided] = authorization as unknown as string[]
  const account = oss.keys.get(accessKeyId!)
  if (!account)
    return {
      status: 403,
      code: 'InvalidAccessKeyId',
      message: 'The OSS Access Key Id you provided does not exist in our records.',
      ec: '0002-00000902',
      details: { OSSAccessKeyId: accessKeyId! },
    }

  const datetime = String(headers['x-oss-date'] ?? '')
  const signedAt = Date.parse(datetime.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'))
  if (!(Math.abs(Date.now() - signedAt) < 15 * 60_000) || datetime.slice(0, 8) !== signDate) {
    return {
      status: 403,
      code: 'RequestTimeTooSkewed',
      message: 'The difference between the request time and the current time is too large.',
      ec: '0002-00000504',
    }
  }

  // The signature OSS expects: its own region, the object as it was addressed, the headers as they arrived.
  const names = Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-') || name === 'content-type' || name === 'content-md5' || additional.split(';').includes(name))
    .sort()
  const canonicalRequest = [
    'PUT',
    uriEncode(`/${bucket}/${key}`),
    sortedQuery(query),
    names.map((name) => `${name}:${String(headers[name]).trim()}\n`).join(''),
    additional,
    String(headers['x-oss-content-sha256'] ?? 'UNSIGNED-PAYLOAD'),
  ].join('\n')
  const scope = `${signDate}/${oss.region}/oss/aliyun_v4_request`
  const stringToSign = `OSS4-HMAC-SHA256\n${datetime}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`
  let signingKey: Buffer = createHmac('sha256', `aliyun_v4${account.secret}`).update(signDate!).digest()
  for (const part of [oss.region, 'oss', 'aliyun_v4_request']) signingKey = createHmac('sha256', signingKey).update(part).digest()
  if (createHmac('sha256', signingKey).update(stringToSign).digest('hex') !== provided) {
    return {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      ec: '0002-00000201',
      details: { OSSAccessKeyId: accessKeyId!, SignatureProvided: provided!, StringToSign: stringToSign, CanonicalRequest: canonicalRequest },
    }
  }

  const contentMd5 = headers['content-md5']
  if (contentMd5 !== undefined && contentMd5 !== md5(bytes).toString('base64')) {
    return { status: 400, code: 'InvalidDigest', message: 'The Content-MD5 you specified was invalid.', ec: '0016-00000502' }
  }
  if (!account.canWrite)
    return { status: 403, code: 'AccessDenied', message: 'You have no right to access this object because of bucket acl.', ec: '0003-00000001' }
  return undefined
}

function splitPath(path: string): [string, string] {
  const [, bucket = '', ...key] = path.split('/').map((segment) => decodeURIComponent(segment))
  return [bucket, key.join('/')]
}

/** Every UTF-8 byte but the unreserved ones and `/` as `%XX`. */
function uriEncode(text: string): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte)
    out += /[A-Za-z0-9\-._~/]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

function sortedQuery(query: string): string {
  const pairs = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => pair.replaceAll('+', '%20').split(/=(.*)/s) as [string, string?])
  return pairs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value ? `${name}=${value}` : name))
    .join('&')
}

function errorXml(refusal: Refusal, requestId: string, host: string): string {
  const fields = {
    Code: refusal.code,
    Message: refusal.message,
    RequestId: requestId,
    HostId: host,
    ...refusal.details,
    EC: refusal.ec,
    RecommendDoc: `https://api.aliyun.com/troubleshoot?q=${refusal.ec}`,
  }
  const body = Object.entries(fields).map(([name, value]) => `  <${name}>${escapeXml(value)}</${name}>`)
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n${body.join('\n')}\n</Error>\n`
}

const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' } as Record<string, string>)[c]};`)
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest()
