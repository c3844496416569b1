import { createHash, createHmac } from 'node:crypto'

/**
 * OSS signature V4 (OSS4-HMAC-SHA256) for the Authorization header. V4 and not gemini-balance's V1: OSS stopped
 * offering V1 to new accounts on 2025-03-01 and to new buckets on 2025-09-01, while V4 works on every bucket.
 */

const ALGORITHM = 'OSS4-HMAC-SHA256'
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

export interface OssCredentials {
  accessKeyId: string
  accessKeySecret: string
  /** The region id as V4 scopes it: `cn-shanghai`, not `oss-cn-shanghai`. */
  region: string
}

export interface OssRequest {
  method: string
  bucket: string
  /** The object name, unescaped. */
  key: string
  /**
   * The query string as sent, without `?`. A PutObject has none; the signer takes one anyway so that it signs any OSS
   * request as Alibaba's SDKs do (their published vectors carry one).
   */
  query?: string
  /** The headers as sent, names in any case; `x-oss-date` (`20261130T085140Z`) is the signing time. */
  headers: Readonly<Record<string, string>>
}

/** The `Authorization` header value for `request`. */
export function authorizationV4(request: OssRequest, credentials: OssCredentials): string {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value.trim()]))
  const datetime = headers['x-oss-date']
  if (!datetime) throw new Error('an OSS V4 signature needs the x-oss-date header')
  const scope = `${datetime.slice(0, 8)}/${credentials.region}/oss/aliyun_v4_request`
  const stringToSign = [ALGORITHM, datetime, scope, sha256Hex(canonicalRequest(request, headers))].join('\n')
  const signingKey = [datetime.slice(0, 8), credentials.region, 'oss', 'aliyun_v4_request'].reduce<Buffer | string>(
    (key, part) => hmac(key, part),
    `aliyun_v4${credentials.accessKeySecret}`,
  )
  return `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope},Signature=${hmac(signingKey, stringToSign).toString('hex')}`
}

/**
 * An object name as OSS escapes it in a path: every byte but `A-Z a-z 0-9 - . _ ~` and `/` as `%XX`. Used for the
 * request URL too, so what is sent and what is signed cannot differ.
 */
export function escapeKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%2F', '/')
}

function canonicalRequest(request: OssRequest, headers: Record<string, string>): string {
  // Signed by default: x-oss-* (x-oss-date among them), content-type and content-md5; no additional headers.
  const signed = Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-') || name === 'content-type' || name === 'content-md5')
    .sort()
  return [
    request.method,
    escapeKey(`/${request.bucket}/${request.key}`),
    canonicalQuery(request.query ?? ''),
    signed.map((name) => `${name}:${headers[name]}\n`).join(''),
    '', // the additional headers: none
    headers['x-oss-content-sha256'] ?? UNSIGNED_PAYLOAD,
  ].join('\n')
}

/** Parameters sorted by their escaped name, `name=value`, or `name` alone when the value is empty. */
function canonicalQuery(query: string): string {
  return query
    .replaceAll('+', '%20')
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=')
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]
    })
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0))
    .map(([name, value]) => (value ? `${name}=${value}` : name))
    .join('&')
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest()
const sha256Hex = (data: string): string => createHash('sha256').update(data).digest('hex')
