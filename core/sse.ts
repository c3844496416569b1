import { createParser, type EventSourceMessage } from 'eventsource-parser'

/**
 * The `data` of each server-sent event in a byte stream, as soon as the event is complete. Google frames events
 * with CRLF CRLF; the parser takes any line ending. A final event without its blank line still counts.
 */
export async function* readSseData(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  const ready: string[] = []
  const parser = createParser({ onEvent: (event: EventSourceMessage) => ready.push(event.data) })
  for await (const piece of bytes) {
    parser.feed(decoder.decode(piece, { stream: true }))
    if (ready.length === 0) continue
    for (const data of ready) yield data
    ready.length = 0
  }
  parser.feed(decoder.decode())
  parser.reset({ consume: true })
  for (const data of ready) yield data
}

const encoder = new TextEncoder()

/** A ReadableStream of encoded text pieces pulled from an async iterator, with cancel passed back up. */
export function streamFromIterator(pieces: AsyncIterator<string>, onCancel?: () => void): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
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
      onCancel?.()
      await pieces.return?.()
    },
  }, { highWaterMark: 0 })
}
