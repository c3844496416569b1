import type { H3Event } from 'h3'
import { GatewayError, badRequest } from '../../errors.ts'
import { isObject, type Json } from '../../internal/json.ts'

/** The request body as text, refused with 413 past `maxBytes` (declared or actual). Read once: h3 bodies are one-shot. */
export async function readBodyText(event: H3Event, maxBytes: number): Promise<string> {
  const declared = Number(event.req.headers.get('content-length') ?? 0)
  if (declared > maxBytes) throw tooLarge(maxBytes)
  const text = await event.req.text()
  if (text.length > maxBytes) throw tooLarge(maxBytes)
  return text
}

const tooLarge = (maxBytes: number) => new GatewayError(413, `Request body is larger than ${Math.round(maxBytes / 1048576)} MB (MAX_REQUEST_BODY_MB).`)

export function parseBody(text: string): Json {
  if (text.trim() === '') return {}
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw badRequest(`Invalid JSON payload received. ${(error as Error).message}`)
  }
  if (!isObject(body)) throw badRequest('Invalid JSON payload received. The body must be a JSON object.')
  return body
}
