import { Readable } from 'node:stream'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { Payload } from './payload.ts'

/**
 * The `data` of each server-sent event in a byte stream, as a Payload, as soon as the event is complete. Google
 * frames events with CRLF CRLF; the parser takes any line ending. A final event without its blank line counts.
 */
export async function* readSsePayloads(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<Payload> {
  const decoder = new TextDecoder()
  const ready: Payload[] = []
  const parser = createParser({ onEvent: (event: EventSourceMessage) => ready.push(Payload.fromText(event.data)) })
  for await (const piece of bytes) {
    parser.feed(decoder.decode(piece, { stream: true }))
    if (ready.length === 0) continue
    for (const data of ready) yield data
    ready.length = 0
  }
  // A blank line completes an event the upstream left unterminated (and is a no-op after a complete one).
  parser.feed(decoder.decode() + '\n\n')
  for (const data of ready) yield data
}

/** A streamed answer's headers: never cached, and never held back by a buffering reverse proxy (nginx) in front. */
export const SSE_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }

/**
 * A response body made of text pieces pulled from an async iterator. On Node a Readable, which srvx pipes
 * straight into the socket with backpressure (a web ReadableStream costs several promises per chunk there);
 * on Bun a ReadableStream, its native body type. Cancelling either returns the iterator, which closes upstream.
 */
export function responseBody(pieces: AsyncGenerator<string>): BodyInit {
  const joined = coalesce(pieces)
  if (process.versions.bun) return webStream(joined)
  // srvx's FastResponse takes a Node stream on Node; its type only says BodyInit.
  return Readable.from(joined, { objectMode: false }) as unknown as BodyInit
}

const TURN = Symbol('next event-loop turn')
const nextTurn = () => new Promise<typeof TURN>((resolve) => setImmediate(resolve, TURN))

/**
 * Joins the pieces that are ready at the same moment into one write: when Google sends several events in one
 * network read they leave in one write too, instead of one write and one trip through every layer each. Nothing
 * waits for data that is not there yet: the batch goes out as soon as the next piece would need the network
 * (checked by racing it against the next turn of the event loop).
 */
async function* coalesce(pieces: AsyncGenerator<string>): AsyncGenerator<string> {
  try {
    let pending = pieces.next()
    for (;;) {
      const first = await pending
      if (first.done) return
      let batch = first.value
      let ended = false
      const turn = nextTurn()
      try {
        for (;;) {
          pending = pieces.next()
          const raced = await Promise.race([pending, turn])
          if (raced === TURN) break
          if (raced.done) {
            ended = true
            break
          }
          batch += raced.value
        }
      } catch (error) {
        yield batch // what was ready goes out before the failure surfaces
        throw error
      }
      yield batch
      if (ended) return
    }
  } finally {
    // A client that left: the upstream call is already aborted through the request signal, so this returns quickly.
    await pieces.return(undefined)
  }
}

const encoder = new TextEncoder()

function webStream(pieces: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await pieces.next()
          if (done) controller.close()
          else controller.enqueue(encoder.encode(value))
        } catch (error) {
          controller.error(error)
        }
      },
      async cancel() {
        await pieces.return(undefined)
      },
    },
    { highWaterMark: 0 },
  )
}
