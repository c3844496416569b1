import { escapeKey, type OssCredentials } from './signer.ts'

/** Where objects go and where they are read, resolved once at start from the OSS_* settings. */
export interface OssBucket extends OssCredentials {
  name: string
  /** OSS_ENDPOINT_INNER when set (an upload from inside Aliyun's network stays there), else OSS_ENDPOINT. */
  upload: Endpoint
  /** OSS_ENDPOINT: the public URLs are on it. */
  public: Endpoint
}

export interface Endpoint {
  /** `https://host[:port]`, or the whole endpoint as written when objects are addressed by path. */
  base: string
  /** `<base>/<bucket>/<name>` instead of `<scheme>//<bucket>.<host>/<name>`. */
  byPath: boolean
}

export interface OssSettings {
  endpoint: string
  innerEndpoint: string
  accessKeyId: string
  accessKeySecret: string
  bucket: string
  region: string
}

const VARIABLES: Record<'endpoint' | 'accessKeyId' | 'accessKeySecret' | 'bucket', string> = {
  endpoint: 'OSS_ENDPOINT',
  accessKeyId: 'OSS_ACCESS_KEY',
  accessKeySecret: 'OSS_ACCESS_KEY_SECRET',
  bucket: 'OSS_BUCKET_NAME',
}

/**
 * The bucket the settings describe, or why there is none (settings left empty). A value that is set but cannot work
 * (an endpoint that is no host, a bucket name OSS would refuse) throws, so the start fails naming the variable.
 */
export function resolveBucket(settings: OssSettings): OssBucket | string {
  const missing = (Object.keys(VARIABLES) as (keyof typeof VARIABLES)[]).filter((field) => !settings[field].trim())
  if (missing.length > 0) return `${missing.map((field) => VARIABLES[field]).join(', ')} not set`
  const name = settings.bucket.trim()
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name)) {
    throw new Error(`OSS_BUCKET_NAME "${name}" is not an OSS bucket name (3-63 lowercase letters, digits and hyphens)`)
  }
  const publicEndpoint = parseEndpoint(settings.endpoint, 'OSS_ENDPOINT')
  const inner = settings.innerEndpoint.trim() ? parseEndpoint(settings.innerEndpoint, 'OSS_ENDPOINT_INNER') : undefined
  const region = settings.region.trim().toLowerCase().replace(/^oss-/, '') || regionOfHost(settings.endpoint) || regionOfHost(settings.innerEndpoint)
  if (!region) return 'OSS_REGION not set, and OSS_ENDPOINT does not name a region'
  if (!/^[a-z0-9-]+$/.test(region)) throw new Error(`OSS_REGION "${settings.region.trim()}" is not a region id (like cn-shanghai)`)
  return {
    name,
    region,
    accessKeyId: settings.accessKeyId.trim(),
    accessKeySecret: settings.accessKeySecret.trim(),
    upload: inner ?? publicEndpoint,
    public: publicEndpoint,
  }
}

/** An object's URL on an endpoint, its name escaped per path segment. */
export function objectUrl(endpoint: Endpoint, bucket: string, key: string): string {
  if (endpoint.byPath) return `${endpoint.base}/${bucket}/${escapeKey(key)}`
  const { protocol, host } = new URL(endpoint.base)
  return `${protocol}//${bucket}.${host}/${escapeKey(key)}`
}

/**
 * gemini-balance's endpoint forms: a bare host (`oss-cn-shanghai.aliyuncs.com`) is reached over https as
 * `<bucket>.<host>`; an endpoint with a scheme addresses objects by path (`<endpoint>/<bucket>/<name>`), for a gateway
 * or a test double in front of OSS. Aliyun's own hosts keep `<bucket>.<host>` even with a scheme, since OSS refuses
 * path-style requests to them (gemini-balance sent those and failed).
 */
function parseEndpoint(raw: string, variable: string): Endpoint {
  const text = raw.trim().replace(/\/+$/, '')
  if (/^https?:\/\//i.test(text)) {
    const url = URL.canParse(text) ? new URL(text) : undefined
    if (!url || url.search || url.hash || url.username) throw new Error(`${variable} "${text}" is not an http(s) URL of an endpoint`)
    return url.hostname.endsWith('.aliyuncs.com') ? { base: url.origin, byPath: false } : { base: text, byPath: true }
  }
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(text)) throw new Error(`${variable} "${text}" is not a host name (like oss-cn-shanghai.aliyuncs.com)`)
  return { base: `https://${text}`, byPath: false }
}

/** `cn-shanghai` from `oss-cn-shanghai[-internal].aliyuncs.com` (the global acceleration hosts name none). */
function regionOfHost(endpoint: string): string | undefined {
  const host = endpoint
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .split(/[/:]/)[0]
  const region = /^oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$/.exec(host ?? '')?.[1]
  return region?.startsWith('accelerate') ? undefined : region
}
