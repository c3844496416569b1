// JSON serialisation exactly as generativelanguage.googleapis.com writes it (wire samples §0, §2.1, §2.4).

const HTML_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026' }
const HTML_CHARS = /[<>&]/g
const HAS_HTML_CHARS = /[<>&]/ // not global: .test() on a /g regex is stateful

/**
 * Unary body: pretty-printed with 2-space indent, `<` `>` `&` escaped as `\u003c` `\u003e` `\u0026`,
 * NO trailing newline (callers add it where Google does). These characters never occur outside
 * strings in JSON, so a global replace is safe.
 */
export function prettyJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2)
  return HAS_HTML_CHARS.test(text) ? text.replace(HTML_CHARS, (c) => HTML_ESCAPES[c] ?? c) : text
}

/** A unary response body: pretty JSON plus a trailing newline. */
export function unaryBody(value: unknown): string {
  return prettyJson(value) + '\n'
}

/**
 * One-line JSON with `": "` after keys and `","` between members, i.e. Python
 * `json.dumps(obj, separators=(',', ': '), ensure_ascii=False)` — the form of SSE `data:` lines.
 */
export function compactJson(value: unknown): string {
  return write(value) ?? 'null'
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object': {
      if (value === null) return 'null'
      const withJson = value as { toJSON?: () => unknown }
      if (typeof withJson.toJSON === 'function') return write(withJson.toJSON())
      if (Array.isArray(value)) {
        let out = '['
        for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + (write(value[i]) ?? 'null')
        return out + ']'
      }
      let out = '{'
      let first = true
      for (const key of Object.keys(value)) {
        const item = write((value as Record<string, unknown>)[key])
        if (item === undefined) continue
        out += (first ? '' : ',') + JSON.stringify(key) + ': ' + item
        first = false
      }
      return out + '}'
    }
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt')
    default:
      return undefined // undefined, function, symbol: skipped like JSON.stringify
  }
}

/** One SSE event exactly as Google frames it: `data: <one-line JSON>\r\n\r\n`. A string is sent verbatim. */
export function sseEvent(value: unknown): string {
  return 'data: ' + (typeof value === 'string' ? value : compactJson(value)) + '\r\n\r\n'
}

/**
 * Pieces of the non-SSE stream (no `alt=sse`): one JSON array flushed incrementally,
 * `[` + pretty object + `\n,\n` + pretty object ... + `\n]` (§2.4). A string element is sent verbatim.
 */
export function jsonArrayPiece(value: unknown, index: number): string {
  const text = typeof value === 'string' ? value : prettyJson(value)
  return (index === 0 ? '[' : '\n,\n') + text
}

export function jsonArrayEnd(count: number): string {
  return count === 0 ? '[]' : '\n]'
}

/** Parse JSON, returning the error instead of throwing. Empty text parses as `{}` (Google treats an empty body as an empty message). */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: Error } {
  if (text.trim() === '') return { ok: true, value: {} }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (error) {
    return { ok: false, error: error as Error }
  }
}
