// Generated images: image output of Gemini image models (§1.6) and Imagen `:predict` (§4). Every image is a real
// 1x1 PNG of its own colour, so a test can tell which image went where.

import { crc32, deflateSync } from 'node:zlib'
import type { FakeError } from './errors.ts'
import { invalidArgument, invalidJson, modelNotFound, routeNotFound } from './errors.ts'
import type { Exchange } from './exchange.ts'
import { checkContents } from './gemini.ts'
import { sendError, sendJson, sendStream } from './respond.ts'
import { EchoAnswer, isObject, type Json } from './responses.ts'
import { checkNativeFields } from './validate.ts'

export interface ImagesCall {
  ex: Exchange
  method: string
  body: string
  parsed: { ok: true; value: unknown } | { ok: false; error: Error }
  model: string
  action: string
  strict: boolean
  chunkIntervalMs: number
}

/** Imagen's aspect ratios (§4). */
const ASPECT_RATIOS = new Set(['1:1', '3:4', '4:3', '9:16', '16:9'])
const COLOURS: readonly (readonly [number, number, number])[] = [
  [255, 0, 0],
  [0, 160, 0],
  [0, 0, 255],
  [255, 200, 0],
]

/** The `index`-th image the fake generates (in an answer, or of a prediction). */
export function generatedPng(index: number): Buffer {
  const [r, g, b] = COLOURS[index % COLOURS.length]!
  const header = Buffer.alloc(13)
  header.writeUInt32BE(1, 0) // width
  header.writeUInt32BE(1, 4) // height
  header[8] = 8 // bit depth
  header[9] = 2 // truecolour RGB
  const scanline = Buffer.from([0, r, g, b]) // filter byte 0, one pixel
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(scanline)), pngChunk('IEND', Buffer.alloc(0))])
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

const imagePart = (index: number): Json => ({ inlineData: { mimeType: 'image/png', data: generatedPng(index).toString('base64') } })

/** Gemini models that answer with images (their base names; a `-image` variant's name is the gateway's, not Google's). */
const IMAGE_MODELS = new Set([
  'gemini-2.0-flash-exp',
  'gemini-2.0-flash-preview-image-generation',
  'gemini-2.5-flash-image-preview',
  'gemini-2.5-flash-image',
  'gemini-3-pro-image-preview',
])

/** Whether this fake answers the call: Imagen `:predict`, or generation on an image model. */
export function answersImages(model: string | undefined, action: string | undefined): boolean {
  if (model === undefined) return false
  return action === 'predict' || ((action === 'generateContent' || action === 'streamGenerateContent') && IMAGE_MODELS.has(model))
}

/** Per-key errors and scripts apply before this runs; the answer-shaping behaviours (empty, blocked, truncated) do not. */
export function handleImages(call: ImagesCall): void | Promise<void> {
  if (call.method !== 'POST') return sendError(call.ex, routeNotFound())
  if (!call.parsed.ok) return sendError(call.ex, invalidJson(call.body, call.parsed.error))
  const request = call.parsed.value
  if (!isObject(request)) return sendError(call.ex, invalidArgument('Invalid JSON payload received. Unknown name "": Root element must be a message.'))
  return call.action === 'predict' ? predict(call, request) : generate(call, request)
}

/**
 * An image model answers with text and one image when the request allows image output (no responseModalities, as
 * gemini-2.5-flash-image defaults to both, or a list with IMAGE); a text-only list gets the echo alone. The stream is
 * shaped as recorded (§1.6): text, then the image alone in its chunk, then a last chunk with only the finish reason.
 */
function generate(call: ImagesCall, request: Json): void | Promise<void> {
  const malformed = (call.strict ? checkNativeFields(call.action, request) : undefined) ?? checkContents(request)
  if (malformed !== undefined) return sendError(call.ex, malformed)
  const answer = new EchoAnswer(call.model, request)
  const full = answer.full()
  if (!wantsImages(request)) return call.action === 'generateContent' ? sendJson(call.ex, full) : sendStream(call.ex, 1, () => full, 0)
  if (call.action === 'generateContent') {
    const content = (full.candidates as { content: { parts: Json[] } }[])[0]!.content
    content.parts.push(imagePart(0))
    return sendJson(call.ex, full)
  }
  const usage = full.usageMetadata as Json
  const tail = { usageMetadata: usage, modelVersion: call.model, responseId: answer.responseId }
  const chunks: Json[] = [
    answer.chunk(answer.text, Number(usage.candidatesTokenCount ?? 0), false),
    { candidates: [{ content: { parts: [imagePart(0)], role: 'model' }, index: 0 }], ...tail },
    { candidates: [{ content: { role: 'model' }, finishReason: 'STOP', index: 0 }], ...tail },
  ]
  return sendStream(call.ex, chunks.length, (i) => chunks[i], call.chunkIntervalMs)
}

function wantsImages(request: Json): boolean {
  const config = request.generationConfig ?? request.generation_config
  const modalities = isObject(config) ? (config.responseModalities ?? config.response_modalities) : undefined
  return !Array.isArray(modalities) || modalities.some((m) => String(m).toUpperCase() === 'IMAGE')
}

/** Imagen `:predict` (§4): `sampleCount` images for `instances[0].prompt`, each `{bytesBase64Encoded, mimeType}`. */
function predict(call: ImagesCall, request: Json): void {
  if (!call.model.startsWith('imagen-')) return sendError(call.ex, modelNotFound(call.model, 'predict'))
  const refused = checkPredict(request)
  if (refused !== undefined) return sendError(call.ex, refused)
  const parameters = isObject(request.parameters) ? request.parameters : {}
  const count = (parameters.sampleCount as number | undefined) ?? 4
  const predictions = Array.from({ length: count }, (_, i) => ({ bytesBase64Encoded: generatedPng(i).toString('base64'), mimeType: 'image/png' }))
  sendJson(call.ex, { predictions })
}

function checkPredict(request: Json): FakeError | undefined {
  const instances = request.instances
  const first: unknown = Array.isArray(instances) ? instances[0] : undefined
  if (!isObject(first) || typeof first.prompt !== 'string' || first.prompt.trim() === '') {
    return invalidArgument('Image generation failed with the following error: The prompt is empty.')
  }
  if (request.parameters === undefined) return undefined
  if (!isObject(request.parameters)) return invalidArgument("Invalid value at 'parameters': expected an object.")
  const { sampleCount, aspectRatio } = request.parameters
  if (sampleCount !== undefined && !(Number.isInteger(sampleCount) && (sampleCount as number) >= 1 && (sampleCount as number) <= 4)) {
    return invalidArgument(`sampleCount must be between 1 and 4, got ${String(sampleCount)}.`)
  }
  if (aspectRatio !== undefined && !ASPECT_RATIOS.has(String(aspectRatio))) {
    return invalidArgument(`Unsupported aspect ratio: ${String(aspectRatio)}. Supported: ${[...ASPECT_RATIOS].join(', ')}.`)
  }
  return undefined
}
