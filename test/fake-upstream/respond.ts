// Writing answers in the request's framing: JSON bodies, streams, errors and scripted answers.

import type { FakeError } from './errors.ts'
import type { Exchange } from './exchange.ts'
import { JSON_TYPE, SSE_TYPE } from './exchange.ts'
import { jsonArrayEnd, jsonArrayPiece, prettyJson, sseEvent, unaryBody } from './json.ts'
import type { ScriptedAnswer } from './types.ts'

const isOpenAI = (ex: Exchange): boolean => ex.framing === 'openai' || ex.framing === 'openai-sse'

/** A successful non-streamed JSON answer: Google's pretty form, or compact JSON on the OpenAI layer. */
export function sendJson(ex: Exchange, value: unknown, status = 200, extra?: Record<string, string>): void {
  const body = typeof value === 'string' ? value : isOpenAI(ex) ? JSON.stringify(value) : unaryBody(value)
  ex.send(status, ex.headers(JSON_TYPE, extra), body)
}

/**
 * An error (or any non-stream body) in the request's framing (§2.5, §6.2):
 * unary → pretty JSON; SSE → the same pretty JSON with Content-Type text/event-stream (no `data:`);
 * JSON-array stream → `[` + pretty JSON + `\n]`; OpenAI layer → the envelope inside a JSON array.
 */
export function sendErrorBody(ex: Exchange, status: number, body: unknown, extra?: Record<string, string>): void {
  if (typeof body === 'string') {
    ex.send(status, ex.headers(ex.framing === 'sse' ? SSE_TYPE : JSON_TYPE, extra), body)
    return
  }
  switch (ex.framing) {
    case 'sse': {
      const headers = ex.headers(SSE_TYPE, extra)
      delete headers['Content-Disposition']
      ex.send(status, headers, unaryBody(body))
      return
    }
    case 'json-array':
      ex.send(status, ex.headers(JSON_TYPE, extra), '[' + prettyJson(body) + '\n]')
      return
    case 'openai':
    case 'openai-sse':
      ex.send(status, ex.headers(JSON_TYPE, extra), prettyJson([body]) + '\n')
      return
    default:
      ex.send(status, ex.headers(JSON_TYPE, extra), unaryBody(body))
  }
}

export const sendError = (ex: Exchange, error: FakeError): void => sendErrorBody(ex, error.status, error.body)

/** Stream `count` items produced by `item(i)` in the request's stream framing, `intervalMs` apart. */
export function sendStream(
  ex: Exchange,
  count: number,
  item: (i: number) => unknown,
  intervalMs: number,
  options: { status?: number; headers?: Record<string, string>; openaiDone?: boolean } = {},
): Promise<void> {
  const status = options.status ?? 200
  switch (ex.framing) {
    case 'json-array':
      return ex.stream(status, ex.headers(JSON_TYPE, options.headers), count, (i) => jsonArrayPiece(item(i), i), jsonArrayEnd(count), intervalMs)
    case 'openai-sse':
    case 'openai': {
      const frame = (i: number) => {
        const value = item(i)
        return `data: ${typeof value === 'string' ? value : JSON.stringify(value)}\n\n`
      }
      const tail = options.openaiDone === false ? '' : 'data: [DONE]\n\n'
      return ex.stream(status, ex.headers(SSE_TYPE, options.headers), count, frame, tail, intervalMs)
    }
    default:
      return ex.stream(status, ex.headers(SSE_TYPE, options.headers), count, (i) => sseEvent(item(i)), '', intervalMs)
  }
}

/** A scripted answer, verbatim, in the request's framing. */
export async function sendScripted(ex: Exchange, answer: ScriptedAnswer, intervalMs: number): Promise<void> {
  const status = answer.status ?? 200
  const extra = answer.headers
  if (!ex.streaming) {
    if (answer.json === undefined) ex.send(status, ex.headers(JSON_TYPE, extra), '')
    else sendJson(ex, answer.json, status, extra)
    return
  }
  const items = answer.chunks ?? (answer.json === undefined || status >= 400 ? undefined : [answer.json])
  if (items === undefined) {
    sendErrorBody(ex, status, answer.json ?? '', extra)
    return
  }
  await sendStream(ex, items.length, (i) => items[i], intervalMs, { status, ...(extra && { headers: extra }) })
}
