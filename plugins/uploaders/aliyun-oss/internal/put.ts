import { createHash } from 'node:crypto'
import type { UploadFile } from 'gemgate'
import { objectUrl, type OssBucket } from './bucket.ts'
import { authorizationV4 } from './signer.ts'

/**
 * PutObject: the image, readable by anyone (the URL goes into a chat answer), checked by OSS against its MD5.
 * Answers the object's public URL; a refusal throws with OSS's reason (its error code and message).
 */
export async function putObject(bucket: OssBucket, file: UploadFile, signal: AbortSignal): Promise<string> {
  const headers: Record<string, string> = {
    'content-type': file.mimeType,
    'content-md5': createHash('md5').update(file.bytes).digest('base64'),
    'x-oss-object-acl': 'public-read',
    'x-oss-content-sha256': 'UNSIGNED-PAYLOAD',
    'x-oss-date': new Date().toISOString().replace(/[-:]|\.\d+/g, ''),
  }
  headers.authorization = authorizationV4({ method: 'PUT', bucket: bucket.name, key: file.name, headers }, bucket)
  const response = await fetch(objectUrl(bucket.upload, bucket.name, file.name), {
    method: 'PUT',
    headers,
    // Never shared memory (the bytes come from decoding base64), which is all BodyInit's type asks.
    body: file.bytes as Uint8Array<ArrayBuffer>,
    signal,
    // A signed upload goes where it was addressed or nowhere.
    redirect: 'manual',
  })
  const body = await response.text()
  if (response.status !== 200) throw new Error(`OSS refused the upload: ${refusal(response.status, body)}`)
  return objectUrl(bucket.public, bucket.name, file.name)
}

/** `403 AccessDenied: <message> (request <id>)` from OSS's XML error, or the status and the start of whatever else came. */
function refusal(status: number, body: string): string {
  const field = (name: string) => {
    const text = new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1]
    return text === undefined ? undefined : unescapeXml(text).trim()
  }
  const code = field('Code')
  if (!code) return `HTTP ${status}${body.trim() ? `: ${body.trim().slice(0, 120)}` : ''}`
  const id = field('RequestId')
  return `${status} ${code}: ${field('Message') ?? ''}${id ? ` (request ${id})` : ''}`
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
const unescapeXml = (text: string) => text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ENTITIES[name]!)
