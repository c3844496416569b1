/**
 * The few facts about the Live API's wire protocol (BidiGenerateContent over a WebSocket) the relay needs. Every
 * message is one JSON object; the client's first is `{ setup: { model, ... } }`, the server's answer to it
 * `{ setupComplete: {} }`. Google sends its JSON in binary frames, clients mostly in text frames; both pass as they are.
 */

/** A message as a WebSocket library hands it over: text, or the bytes of a binary frame. */
export type Frame = string | Uint8Array

/** `/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`: the method's segment and its version. */
const METHOD = /^google\.ai\.generativelanguage\.(v1alpha|v1beta|v1)\.GenerativeService\.BidiGenerateContent$/

/** The API version of a Live method segment, or undefined when it is not BidiGenerateContent. */
export function liveVersion(method: string): string | undefined {
  return METHOD.exec(method)?.[1]
}

/**
 * Google's Live endpoint for `version` on the host of BASE_URL (`https://generativelanguage.googleapis.com/v1beta` →
 * `wss://generativelanguage.googleapis.com/ws/…`). A BASE_URL with a path before its version (a relay at
 * `https://relay.example/google/v1beta`) keeps that path in front of `/ws`.
 */
export function liveEndpoint(baseUrl: string, version: string): string {
  const url = new URL(baseUrl)
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:'
  const prefix = url.pathname.replace(/\/+$/, '').replace(/\/v1(alpha|beta)?$/, '')
  url.pathname = `${prefix}/ws/google.ai.generativelanguage.${version}.GenerativeService.BidiGenerateContent`
  url.search = ''
  url.hash = ''
  return url.href
}

export function frameText(frame: Frame): string {
  return typeof frame === 'string' ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8')
}

/** The model a setup message asks for (`models/x` or `x`), or undefined when the message is no setup. */
export function setupModel(frame: Frame): string | undefined {
  let message: unknown
  try {
    message = JSON.parse(frameText(frame))
  } catch {
    return undefined
  }
  const model = (message as { setup?: { model?: unknown } } | null)?.setup?.model
  if (typeof model !== 'string') return undefined
  const id = model.startsWith('models/') ? model.slice('models/'.length) : model
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) ? id : undefined
}

/** Whether a server message is the answer to the setup. */
export function isSetupComplete(frame: Frame): boolean {
  return hasField(frame, 'setupComplete')
}

/**
 * Whether a message carries `field` at its top level. A cheap look at the bytes first (most messages are audio that
 * carries none of these names), then a parse of the few that might.
 */
export function hasField(frame: Frame, field: string): boolean {
  if (!includesText(frame, field)) return false
  return fieldOf(frame, field) !== undefined
}

/** The value of a top-level field of a message, or undefined (not JSON, not an object, no such field). */
export function fieldOf(frame: Frame, field: string): unknown {
  if (!includesText(frame, field)) return undefined
  try {
    const message = JSON.parse(frameText(frame)) as Record<string, unknown> | null
    return message !== null && typeof message === 'object' && Object.hasOwn(message, field) ? message[field] : undefined
  } catch {
    return undefined
  }
}

function includesText(frame: Frame, text: string): boolean {
  return typeof frame === 'string' ? frame.includes(text) : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).includes(text)
}

/** Close codes an endpoint may put in a close frame (RFC 6455 §7.4; 1005, 1006 and 1015 only describe a close). */
export function sendableCode(code: number | undefined): code is number {
  return code !== undefined && ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999))
}

/** A close reason cut to the 123 bytes a close frame holds. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text
  let cut = text.slice(0, 120)
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1)
  return `${cut}…`
}
