import type { Writable } from 'node:stream'

// Server-sent events on the wire: where complete events end in a byte stream, what data they carry, and the response
// body that writes a stream's pieces to the client.

const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const COLON = 0x3a
const LF_CRLF = Buffer.from('\n\r\n')
const LF_LF = Buffer.from('\n\n')
const CR_CR = Buffer.from('\r\r')

/** The same bytes as a Buffer, for its searches and decoding; no copy. */
export const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))

/**
 * Where the complete events in `bytes` end: just past the last blank line, 0 if there is none yet. Google frames events
 * with CRLF CRLF; any of the standard's line endings (CRLF, LF, CR) is taken. An event is complete at its blank line,
 * and a blank line is a newline byte, never inside a multi-byte character: what comes before it decodes on its own.
 */
export function completeEventsEnd(bytes: Uint8Array): number {
  const buffer = asBuffer(bytes)
  const crlf = buffer.lastIndexOf(LF_CRLF)
  let end = crlf === -1 ? 0 : crlf + 3
  // The other endings can only end later if they start after the CRLF one: search that tail only.
  const from = Math.max(0, end - 1)
  const tail = from === 0 ? buffer : buffer.subarray(from)
  const lf = tail.lastIndexOf(LF_LF)
  if (lf !== -1) end = Math.max(end, from + lf + 2)
  const cr = tail.lastIndexOf(CR_CR)
  if (cr !== -1 && from + cr + 2 > end) end = buffer[from + cr + 2] === LF ? from + cr + 3 : from + cr + 2
  return end
}

/** An event the stream ended without its blank line, with that blank line added in the event's own line ending. */
export function terminated(bytes: Uint8Array): Uint8Array {
  const last = bytes[bytes.length - 1]
  const ending = last === LF ? (bytes[bytes.length - 2] === CR ? '\r\n' : '\n') : last === CR ? '\r' : '\r\n\r\n'
  return Buffer.concat([bytes, Buffer.from(ending)])
}

/**
 * The `data` of each event in complete SSE events, as the SSE standard reads fields: several `data` lines join with a
 * newline, one space after the colon is dropped; comments, other fields and events without data count for nothing.
 * Read on the bytes: each value is decoded on its own, so none keeps the whole read alive. `limit`: stop after that many.
 */
export function sseData(bytes: Uint8Array, limit = Infinity): string[] {
  const buffer = asBuffer(bytes)
  const events: string[] = []
  let data: string | undefined
  eachLine(buffer, (pos, end) => {
    if (end === pos) {
      if (data !== undefined) events.push(data)
      data = undefined
    } else if (isDataField(buffer, pos, end)) {
      const start = end === pos + 4 ? end : buffer[pos + 5] === SPACE ? pos + 6 : pos + 5
      const value = buffer.toString('utf8', start, end)
      data = data === undefined ? value : `${data}\n${value}`
    }
    return events.length < limit
  })
  if (data !== undefined && events.length < limit) events.push(data)
  return events
}

/**
 * Where the events of complete SSE events lie, as [start, end) pairs one after the other (an event's lines with their
 * line endings, without the blank line that ends it), decoding nothing: a reader that looks for a mark searches an event's bytes and
 * decodes (sseData) only the events that have it.
 */
export function sseEvents(bytes: Uint8Array): number[] {
  const ranges: number[] = []
  let from = -1
  eachLine(asBuffer(bytes), (pos, end) => {
    if (end > pos) {
      if (from === -1) from = pos
    } else if (from !== -1) {
      ranges.push(from, pos)
      from = -1
    }
    return true
  })
  if (from !== -1) ranges.push(from, bytes.length)
  return ranges
}

/** Calls `line` with each line's [pos, end) in `buffer` (CRLF, LF or CR endings; a leading BOM skipped) until it returns false. */
function eachLine(buffer: Buffer, line: (pos: number, end: number) => boolean): void {
  let cr = buffer.indexOf(CR)
  // A byte order mark may open the stream.
  let pos = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0
  while (pos < buffer.length) {
    if (cr !== -1 && cr < pos) cr = buffer.indexOf(CR, pos)
    const lf = buffer.indexOf(LF, pos)
    let end = buffer.length
    let next = end
    if (cr !== -1 && (lf === -1 || cr < lf)) {
      end = cr
      next = buffer[cr + 1] === LF ? cr + 2 : cr + 1
    } else if (lf !== -1) {
      end = lf
      next = lf + 1
    }
    if (!line(pos, end)) return
    pos = next
  }
}

/** Whether the line from `pos` to `end` is a `data` field: `data` alone or `data:…`. */
function isDataField(line: Buffer, pos: number, end: number): boolean {
  return line[pos] === 0x64 && line[pos + 1] === 0x61 && line[pos + 2] === 0x74 && line[pos + 3] === 0x61 && (end === pos + 4 || line[pos + 4] === COLON)
}

/** A streamed answer's headers: never cached, and never held back by a buffering reverse proxy (nginx) in front. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
}

type Piece = string | Uint8Array

/**
 * A response body made of pieces pulled from an async iterator, one at a time, as the client takes them. On Node an
 * object srvx pipes into the response: the pieces are written straight to it, and a client that reads slowly stops
 * the pulling (and so the upstream read) instead of filling memory; a Readable in between would add its own buffer,
 * state and several promises per piece. On Bun a ReadableStream, its native body type. A client that leaves ends
 * the iterator, which closes upstream.
 */
export function responseBody(pieces: AsyncIterable<Piece>): BodyInit {
  const iterator = pieces[Symbol.asyncIterator]()
  if (process.versions.bun) return webStream(iterator)
  // srvx's response takes any object with `pipe` on Node (its types only say BodyInit); `abort` is its cancel hook.
  return { pipe: (destination: Writable) => void pump(iterator, destination), abort: () => void iterator.return?.() } as unknown as BodyInit
}

/**
 * Writes the pieces to `out` until they end, the client leaves or they fail (the connection is then cut: the dialects
 * turn failures into error events, so this is a bug's last resort). Pieces that are ready in the same turn of the
 * event loop (the events of one network read, when an encoder makes one piece per event) leave as one write, joined
 * once that turn's promise jobs have run: one chunk on the wire, not one per event. Once `out` holds more than its
 * high-water mark, no piece is pulled until it drains.
 */
async function pump(pieces: AsyncIterator<Piece>, out: Writable): Promise<void> {
  let pending: Piece[] = []
  let scheduled = false
  const take = (): Piece | undefined => {
    const piece = pending.length === 0 ? undefined : pending.length === 1 ? pending[0] : joined(pending)
    pending = []
    return piece
  }
  const flush = () => {
    scheduled = false
    const piece = take()
    if (piece !== undefined && !out.destroyed) out.write(piece)
  }
  // A broken connection shows as `destroyed` and 'close'; an 'error' nobody listens to would end the process.
  out.on('error', () => {})
  try {
    for (;;) {
      if (out.writableNeedDrain && (out.destroyed || !(await drained(out)))) break
      const { value, done } = await pieces.next()
      if (out.destroyed) break
      if (done) {
        flush()
        out.end()
        return
      }
      pending.push(value)
      if (!scheduled) {
        scheduled = true
        process.nextTick(flush)
      }
    }
  } catch {
    // What came before the failure goes out first; then the cut tells the client the answer is incomplete.
    const piece = take()
    if (piece !== undefined && !out.destroyed) out.write(piece, () => out.destroy())
    else out.destroy()
  }
  // The client left (or the output broke): stop the source, which frees the upstream call.
  await pieces.return?.()
}

function joined(pieces: Piece[]): Piece {
  if (pieces.every((piece) => typeof piece === 'string')) return pieces.join('')
  return Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)))
}

/** Resolves true once `out` can take more, false if it closes first. */
function drained(out: Writable): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      out.off('drain', onDrain)
      out.off('close', onClose)
      resolve(ok)
    }
    const onDrain = done(true)
    const onClose = done(false)
    out.on('drain', onDrain)
    out.on('close', onClose)
  })
}

const encoder = new TextEncoder()

function webStream(pieces: AsyncIterator<Piece>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await pieces.next()
          if (done) controller.close()
          else controller.enqueue(typeof value === 'string' ? encoder.encode(value) : value)
        } catch (error) {
          controller.error(error)
        }
      },
      async cancel() {
        await pieces.return?.(undefined)
      },
    },
    { highWaterMark: 0 },
  )
}
