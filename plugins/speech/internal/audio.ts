import { GatewayError, type GeminiResponse } from 'gemgate'

/** Signed 16-bit little-endian PCM, as Gemini's TTS models speak it. */
export interface Pcm {
  bytes: Uint8Array<ArrayBuffer>
  sampleRate: number
  channels: number
}

/** Gemini states the rate in the mime type; this is the rate of every TTS model so far, for a type that omits it. */
const DEFAULT_RATE = 24_000

/**
 * The speech in a generateContent answer: every audio part of the first candidate, in order. Gemini labels its PCM
 * `audio/L16;codec=pcm;rate=24000` (2.5) or `audio/l16; rate=24000; channels=1` (3.1); the samples are
 * little-endian in both, although RFC 2586's L16 is big-endian.
 * No audio is refused: a blocked input is the client's (400), anything else an upstream failure (502).
 */
export function speechOf(answer: GeminiResponse): Pcm {
  const parts: unknown[] = answer.candidates?.[0]?.content?.parts ?? []
  const chunks: Uint8Array[] = []
  let format: { sampleRate: number; channels: number } | undefined
  for (const part of parts) {
    const inline = (part as { inlineData?: { mimeType?: unknown; data?: unknown } } | null)?.inlineData
    if (typeof inline?.mimeType !== 'string' || !/^audio\//i.test(inline.mimeType) || typeof inline.data !== 'string') continue
    const parsed = pcmFormat(inline.mimeType)
    if (!parsed) throw new GatewayError(502, `Gemini answered audio as ${inline.mimeType.slice(0, 80)}, which this gateway cannot convert.`)
    if (format && (format.sampleRate !== parsed.sampleRate || format.channels !== parsed.channels)) {
      throw new GatewayError(502, 'Gemini answered audio parts in different formats.')
    }
    format = parsed
    chunks.push(Buffer.from(inline.data, 'base64'))
  }
  if (format) return { bytes: wholeFrames(Buffer.concat(chunks), format.channels), ...format }

  const blocked = answer.promptFeedback?.blockReason
  if (typeof blocked === 'string') throw new GatewayError(400, `Gemini refused to speak this input (blockReason ${blocked}).`, { param: 'input' })
  const finish = answer.candidates?.[0]?.finishReason
  throw new GatewayError(502, `Gemini answered without audio${typeof finish === 'string' ? ` (finishReason ${finish})` : ''}.`)
}

/** Rate and channels of a raw 16-bit PCM mime type (L16 or pcm), or undefined for anything else (mp3, wav, ...). */
function pcmFormat(mimeType: string): { sampleRate: number; channels: number } | undefined {
  const [type, ...params] = mimeType.split(';').map((piece) => piece.trim().toLowerCase())
  if (type !== 'audio/l16' && type !== 'audio/pcm') return undefined
  const param = (name: string) => params.find((p) => p.startsWith(`${name}=`))?.slice(name.length + 1)
  const sampleRate = Number(param('rate') ?? DEFAULT_RATE)
  const channels = Number(param('channels') ?? 1)
  const sane = Number.isInteger(sampleRate) && sampleRate >= 8000 && sampleRate <= 192_000 && (channels === 1 || channels === 2)
  return sane ? { sampleRate, channels } : undefined
}

/** A cut-off last sample would shift every later byte by one in a player: only whole frames are kept. */
function wholeFrames(bytes: Uint8Array<ArrayBuffer>, channels: number): Uint8Array<ArrayBuffer> {
  const frame = 2 * channels
  return bytes.subarray(0, bytes.length - (bytes.length % frame))
}

/** The PCM in a WAV (RIFF) file: a 44-byte header, format 1 (integer PCM), 16 bits per sample. */
export function toWav({ bytes, sampleRate, channels }: Pcm): Uint8Array<ArrayBuffer> {
  const wav = Buffer.alloc(44 + bytes.length)
  wav.write('RIFF', 0, 'ascii')
  wav.writeUInt32LE(36 + bytes.length, 4)
  wav.write('WAVE', 8, 'ascii')
  wav.write('fmt ', 12, 'ascii')
  wav.writeUInt32LE(16, 16)
  wav.writeUInt16LE(1, 20)
  wav.writeUInt16LE(channels, 22)
  wav.writeUInt32LE(sampleRate, 24)
  wav.writeUInt32LE(sampleRate * channels * 2, 28)
  wav.writeUInt16LE(channels * 2, 32)
  wav.writeUInt16LE(16, 34)
  wav.write('data', 36, 'ascii')
  wav.writeUInt32LE(bytes.length, 40)
  wav.set(bytes, 44)
  return wav
}
