import type { Readable } from 'node:stream'
import type { H3Event } from 'h3'
import { limitRequestBody } from 'srvx/body-limit'
import { GatewayError, badRequest } from '../../errors.ts'
import { isObject, type Json } from '../../internal/json.ts'

/** Nesting a client's JSON may have: far past any real request, far below what recursive code (JSON.stringify) survives. */
export const MAX_JSON_DEPTH = 128

/**
 * The request body as text, refused with 413 past `maxBytes` and with 400 when it is not UTF-8 (JSON must be, and a
 * body silently "repaired" to U+FFFD would reach Google as different text than the client sent). Read once: h3
 * bodies are one-shot.
 */
export async function readBodyText(event: H3Event, maxBytes: number): Promise<string> {
  const declared = event.req.headers.get('content-length')
  let bytes: ArrayBuffer | Uint8Array
  try {
    if (declared !== null) {
      if (Number(declared) > maxBytes) throw tooLarge(maxBytes)
      // The HTTP parser reads no more than the declared length. On Node, from Node's request itself: the web Request
      // srvx builds for arrayBuffer() costs more than the read (about 0.1 ms of CPU per request).
      const node = event.runtime?.node?.req
      bytes = node ? await readNodeBody(node) : await event.req.arrayBuffer()
    } else {
      // Chunked: no length up front, so the stream is counted as it arrives and cut at the cap.
      bytes = await limitRequestBody(event.req, maxBytes, { createError: () => tooLarge(maxBytes) }).arrayBuffer()
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error
    throw new GatewayError(400, 'The request body could not be read to its end.', { cause: error })
  }
  try {
    return UTF8.decode(bytes)
  } catch {
    throw badRequest('Invalid JSON payload received. The request body is not valid UTF-8.')
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

function readNodeBody(req: Readable & { readonly complete: boolean }): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = []
    req.on('data', (piece: Buffer) => pieces.push(piece))
    req.once('end', () => resolve(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)))
    req.once('error', reject)
    req.once('close', () => req.complete || reject(new Error('the client went away before the body ended')))
  })
}

// The rest of the body is never read, so the connection cannot carry another request: it closes after the answer
// (otherwise a client still uploading would stall on it).
const tooLarge = (maxBytes: number) =>
  new GatewayError(413, `Request body is larger than ${Math.round(maxBytes / 1048576)} MB (MAX_REQUEST_BODY_MB).`, { headers: { connection: 'close' } })

export function parseBody(text: string): Json {
  if (text.trim() === '') return {}
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw badRequest(`Invalid JSON payload received. ${(error as Error).message}`)
  }
  if (!isObject(body)) throw badRequest('Invalid JSON payload received. The body must be a JSON object.')
  // V8 parses any depth (its parser keeps no call stack), but what walks the value later recursively does not.
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) throw badRequest(`Invalid JSON payload received. The JSON nests deeper than ${MAX_JSON_DEPTH} levels.`)
  return body
}

/**
 * Whether a parsed JSON value nests arrays and objects more than `limit` levels deep (the value itself is level 1).
 * It descends no further than the limit, so it is safe on any depth, and it visits only arrays and objects: about
 * 1 µs for a 20 KB chat request.
 */
export function nestsDeeperThan(value: object, limit: number): boolean {
  if (limit <= 0) return true
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      if (typeof item === 'object' && item !== null && nestsDeeperThan(item, limit - 1)) return true
    }
    return false
  }
  for (const key in value) {
    const item: unknown = (value as Record<string, unknown>)[key]
    if (typeof item === 'object' && item !== null && nestsDeeperThan(item, limit - 1)) return true
  }
  return false
}
