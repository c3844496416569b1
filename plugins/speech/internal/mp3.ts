import { Mp3Encoder } from '@breezystack/lamejs'
import type { Pcm } from './audio.ts'

/** Plenty for one voice; OpenAI's own speech mp3s are of this order. */
const KBPS = 64
/** Samples per channel encoded between two turns of the event loop: 16 MP3 frames, about 0.8 s of speech at 24 kHz. */
const SLICE = 1152 * 16

/**
 * The PCM as an MP3 stream. LAME in JavaScript takes 30-60 ms of CPU per second of speech here, so a long clip is encoded
 * a slice at a time with the event loop let through in between: other requests are never held up for long, and the
 * first bytes leave before the whole clip is encoded.
 */
export function mp3Stream({ bytes, sampleRate, channels }: Pcm): ReadableStream<Uint8Array> {
  // An Int16Array view needs an even offset into its buffer.
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice()
  const samples = new Int16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2)
  const frames = samples.length / channels
  const encoder = new Mp3Encoder(channels, sampleRate, KBPS)
  let at = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setImmediate(resolve))
      const end = Math.min(at + SLICE, frames)
      const encoded = at < end ? encodeSlice(encoder, samples, channels, at, end) : encoder.flush()
      // LAME hands out Int8Arrays (its types say Uint8Array); a response body takes only Uint8Array chunks.
      if (encoded.length > 0) controller.enqueue(new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength))
      if (at >= frames) controller.close()
      at = end
    },
  })
}

function encodeSlice(encoder: Mp3Encoder, samples: Int16Array, channels: number, from: number, to: number): Uint8Array {
  if (channels === 1) return encoder.encodeBuffer(samples.subarray(from, to))
  // Gemini interleaves stereo samples (L R L R); LAME takes the channels apart.
  const left = new Int16Array(to - from)
  const right = new Int16Array(to - from)
  for (let i = from; i < to; i++) {
    left[i - from] = samples[2 * i]!
    right[i - from] = samples[2 * i + 1]!
  }
  return encoder.encodeBuffer(left, right)
}
