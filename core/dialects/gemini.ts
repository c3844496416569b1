import { toGatewayError, upstreamJsonBody, type GatewayError } from '../errors.ts'
import type { Payload } from '../payload.ts'
import { arrivalsOf, isBatch } from '../stream.ts'
import { FastResponse } from 'srvx'
import { SSE_HEADERS, responseBody } from '../sse.ts'
import type { Dialect } from './types.ts'

const JSON_TYPE = 'application/json; charset=UTF-8'

/**
 * Google's own wire format, so a native client cannot tell the gateway is there: unary bodies as Google sent them,
 * streams as `data: <json>\r\n\r\n` events (alt=sse) or as the incrementally flushed JSON array Google sends
 * without alt=sse, and errors as `{error:{code,message,status}}` (Google's own body when it came from Google).
 */
export const geminiDialect: Dialect = {
  name: 'gemini',
  respond(outcome, _ctx, event) {
    if (outcome.kind === 'json') {
      return new FastResponse(outcome.body.text, { status: outcome.status, headers: { 'content-type': JSON_TYPE, ...outcome.headers } })
    }
    const sse = event.url.searchParams.get('alt') === 'sse'
    const pieces = sse ? sseEvents(outcome.chunks) : jsonArray(outcome.chunks)
    return new FastResponse(responseBody(pieces), {
      status: 200,
      headers: sse
        ? { ...SSE_HEADERS, 'content-type': 'text/event-stream', 'content-disposition': 'attachment' }
        : { 'content-type': JSON_TYPE, 'x-accel-buffering': 'no' },
    })
  },
  error(error) {
    return new FastResponse(geminiErrorBody(error), { status: error.status, headers: { 'content-type': JSON_TYPE, ...error.headers } })
  },
}

/** Google's error body verbatim when the error came from Google, else the same shape built from ours. */
export function geminiErrorBody(error: GatewayError): string {
  const google = upstreamJsonBody(error)
  if (google) return google
  return JSON.stringify({ error: { code: error.status, message: error.message, status: error.rpcStatus } }, null, 2) + '\n'
}

function errorObject(error: unknown) {
  const e = toGatewayError(error)
  return { error: { code: e.status, message: e.message, status: e.rpcStatus } }
}

/**
 * The upstream's SSE bytes as they came (Google's framing is already `data: <json>\r\n\r\n`), a network read per write;
 * events made by a stage are framed the same way.
 */
async function* sseEvents(chunks: AsyncIterable<Payload>): AsyncGenerator<string | Uint8Array> {
  try {
    for await (const arrival of arrivalsOf(chunks)) {
      // A keep-alive is an SSE comment: the official SDKs (@google/genai) read only the events that start with `data:`.
      if (arrival.keepAlive) yield ': keep-alive\r\n\r\n'
      else if (!isBatch(arrival)) yield `data: ${arrival.text}\r\n\r\n`
      else yield arrival.sse ?? arrival.texts.map((text) => `data: ${text}\r\n\r\n`).join('')
    }
  } catch (error) {
    // After the first byte a failure cannot change the status; it ends the stream as an error event that the
    // official SDKs raise as an API error, never as a clean end.
    yield `data: ${JSON.stringify(errorObject(error))}\r\n\r\n`
  }
}

/**
 * The JSON array Google streams without alt=sse: `[` before the first element, `\n,\n` between elements, `\n]` at the
 * end. A keep-alive is a newline, whitespace that leaves the text a valid JSON array; the first one opens the array, so
 * a client that checks the first byte sees `[` as it would from Google.
 */
async function* jsonArray(chunks: AsyncIterable<Payload>): AsyncGenerator<string> {
  // What goes before the next element: `[` while nothing is sent, '' once a keep-alive opened the array.
  let separator = '['
  try {
    for await (const arrival of arrivalsOf(chunks)) {
      if (arrival.keepAlive) {
        yield separator === '[' ? '[\n' : '\n'
        if (separator === '[') separator = ''
        continue
      }
      let out = ''
      for (const text of isBatch(arrival) ? arrival.texts : [arrival.text]) {
        out += separator + text
        separator = '\n,\n'
      }
      if (out) yield out
    }
  } catch (error) {
    yield `${separator}${JSON.stringify(errorObject(error), null, 2)}`
    separator = '\n,\n'
  }
  yield separator === '[' ? '[]' : '\n]'
}
