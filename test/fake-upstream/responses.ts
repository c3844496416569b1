// Deterministic answers: echo text, word-count "tokens", embeddings. Shapes as §1.1, §1.8, §2.1, §3.1-3.3.

import { randomBytes } from 'node:crypto'
import type { FakeError } from './errors.ts'
import { invalidArgument } from './errors.ts'

export type Json = Record<string, unknown>

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a)

/** Number of whitespace-separated words. */
export function countWords(text: string): number {
  let words = 0
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    if (isSpace(text.charCodeAt(i))) inWord = false
    else if (!inWord) {
      inWord = true
      words++
    }
  }
  return words
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value])

/** Text of the text parts of one Content (a bare string counts as text too). */
function contentTexts(content: unknown): string[] {
  if (typeof content === 'string') return [content]
  if (!isObject(content)) return []
  const texts: string[] = []
  for (const part of asArray(content.parts)) {
    if (typeof part === 'string') texts.push(part)
    else if (isObject(part) && typeof part.text === 'string') texts.push(part.text)
  }
  return texts
}

const wordsOfContents = (contents: unknown): number =>
  asArray(contents).reduce<number>((sum, c) => sum + contentTexts(c).reduce((s, t) => s + countWords(t), 0), 0)

function wordsOfStrings(value: unknown): number {
  if (typeof value === 'string') return countWords(value)
  if (Array.isArray(value)) return value.reduce<number>((sum, v) => sum + wordsOfStrings(v), 0)
  if (isObject(value)) return Object.values(value).reduce<number>((sum, v) => sum + wordsOfStrings(v), 0)
  return 0
}

const systemInstructionOf = (request: Json): unknown => request.systemInstruction ?? request.system_instruction

/** promptTokenCount: words in the text parts of contents + systemInstruction. */
export const promptWords = (request: Json): number => wordsOfContents(request.contents) + wordsOfContents(systemInstructionOf(request))

/** The text of the last user text part ("" when there is none). */
export function lastUserText(request: Json): string {
  const contents = asArray(request.contents)
  for (let i = contents.length - 1; i >= 0; i--) {
    const content = contents[i]
    const role = isObject(content) ? content.role : undefined
    if (role !== undefined && role !== 'user') continue
    const texts = contentTexts(content)
    if (texts.length > 0) return texts[texts.length - 1]!
  }
  return ''
}

export const newResponseId = (): string => randomBytes(17).toString('base64url').slice(0, 23)

function usage(promptTokens: number, candidateTokens: number): Json {
  // Zero-valued ints are omitted, as proto3 JSON does.
  const u: Json = {}
  if (promptTokens) u.promptTokenCount = promptTokens
  if (candidateTokens) u.candidatesTokenCount = candidateTokens
  if (promptTokens + candidateTokens) u.totalTokenCount = promptTokens + candidateTokens
  if (promptTokens) u.promptTokensDetails = [{ modality: 'TEXT', tokenCount: promptTokens }]
  return u
}

/** Everything needed to answer one generateContent / streamGenerateContent request. */
export class EchoAnswer {
  readonly text: string
  readonly promptTokens: number
  readonly responseId = newResponseId()

  constructor(
    readonly model: string,
    request: Json,
  ) {
    this.text = 'Echo: ' + lastUserText(request)
    this.promptTokens = promptWords(request)
  }

  private wrap(candidate: Json | undefined, candidateTokens: number): Json {
    const body: Json = {}
    if (candidate !== undefined) body.candidates = [candidate]
    body.usageMetadata = usage(this.promptTokens, candidateTokens)
    body.modelVersion = this.model
    body.responseId = this.responseId
    return body
  }

  /** The unary answer. */
  full(): Json {
    const candidate = { content: { parts: [{ text: this.text }], role: 'model' }, finishReason: 'STOP', index: 0 }
    return this.wrap(candidate, countWords(this.text))
  }

  /** 'empty': a candidate whose content has no parts. */
  empty(): Json {
    return this.wrap({ content: { role: 'model' }, finishReason: 'STOP', index: 0 }, 0)
  }

  /** 'blocked': promptFeedback.blockReason SAFETY and no candidates (§1.8). */
  blocked(): Json {
    const rating = (category: string, probability: string) => ({ category: `HARM_CATEGORY_${category}`, probability })
    const safetyRatings = [
      rating('SEXUALLY_EXPLICIT', 'NEGLIGIBLE'),
      rating('HATE_SPEECH', 'HIGH'),
      rating('HARASSMENT', 'NEGLIGIBLE'),
      rating('DANGEROUS_CONTENT', 'NEGLIGIBLE'),
    ]
    return { promptFeedback: { blockReason: 'SAFETY', safetyRatings }, ...this.wrap(undefined, 0) }
  }

  /** Stream chunks: the echo text split (at arbitrary points) over `n` chunks; usage cumulative, finishReason on the last. */
  chunks(n: number): StreamChunks {
    return new StreamChunks(this, Math.max(1, Math.floor(n)))
  }

  chunk(piece: string, cumulativeTokens: number, last: boolean): Json {
    const candidate: Json = { content: { parts: [{ text: piece }], role: 'model' } }
    if (last) candidate.finishReason = 'STOP'
    candidate.index = 0
    return this.wrap(candidate, cumulativeTokens)
  }
}

export class StreamChunks {
  private readonly pieces: string[] = []
  private readonly cumulativeWords: number[] = []

  constructor(
    private readonly answer: EchoAnswer,
    readonly count: number,
  ) {
    // One pass: split the text at code-point boundaries into `count` pieces and count the words of each prefix.
    const codePoints = Array.from(answer.text)
    let words = 0
    let inWord = false
    let start = 0
    for (let i = 0; i < count; i++) {
      const end = Math.floor(((i + 1) * codePoints.length) / count)
      for (let j = start; j < end; j++) {
        if (isSpace(codePoints[j]!.charCodeAt(0))) inWord = false
        else if (!inWord) {
          inWord = true
          words++
        }
      }
      this.pieces.push(codePoints.slice(start, end).join(''))
      this.cumulativeWords.push(words)
      start = end
    }
  }

  /** Chunk `i` of `count`; `finish` false leaves finishReason off even on the last chunk (truncated streams). */
  get(i: number, finish = true): Json {
    return this.answer.chunk(this.pieces[i]!, this.cumulativeWords[i]!, finish && i === this.count - 1)
  }

  /** The same chunk already serialised as `compactJson(get(i, finish))` — a fast path for SSE. */
  line(i: number, finish = true): string {
    const a = this.answer
    const prompt = a.promptTokens
    const candidates = this.cumulativeWords[i]!
    let usage = '{'
    if (prompt) usage += `"promptTokenCount": ${prompt},`
    if (candidates) usage += `"candidatesTokenCount": ${candidates},`
    if (prompt + candidates) usage += `"totalTokenCount": ${prompt + candidates},`
    if (prompt) usage += `"promptTokensDetails": [{"modality": "TEXT","tokenCount": ${prompt}}],`
    usage = usage.length > 1 ? usage.slice(0, -1) + '}' : '{}'
    const finishReason = finish && i === this.count - 1 ? ',"finishReason": "STOP"' : ''
    return (
      `{"candidates": [{"content": {"parts": [{"text": ${JSON.stringify(this.pieces[i])}}],"role": "model"}${finishReason},"index": 0}],` +
      `"usageMetadata": ${usage},"modelVersion": ${JSON.stringify(a.model)},"responseId": ${JSON.stringify(a.responseId)}}`
    )
  }
}

/** countTokens: words over everything the request carried (§3.1). */
export function countTokensResponse(request: Json): Json {
  const inner = request.generateContentRequest ?? request.generate_content_request
  const total = isObject(inner)
    ? wordsOfContents(inner.contents) + wordsOfContents(systemInstructionOf(inner)) + wordsOfStrings(inner.tools)
    : wordsOfContents(request.contents)
  const body: Json = { totalTokens: total }
  if (total) body.promptTokensDetails = [{ modality: 'TEXT', tokenCount: total }]
  return body
}

const DEFAULT_DIMENSIONS = 8
const MAX_DIMENSIONS = 3072

/** Deterministic pseudo-embedding of `text`: FNV-1a seed + mulberry32, values in (-0.1, 0.1). */
export function embedValues(text: string, dimensions = DEFAULT_DIMENSIONS): number[] {
  let seed = 0x811c9dc5
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193)
  const values: number[] = []
  for (let i = 0; i < dimensions; i++) {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296
    values.push(Number(((unit - 0.5) / 5).toPrecision(8)))
  }
  return values
}

function embeddingOf(request: Json): Json {
  const requested = Number(request.outputDimensionality ?? request.output_dimensionality)
  const dimensions = requested > 0 ? Math.min(Math.floor(requested), MAX_DIMENSIONS) : DEFAULT_DIMENSIONS
  return { values: embedValues(contentTexts(request.content).join('\n'), dimensions) }
}

export const embedContentResponse = (request: Json): Json => ({ embedding: embeddingOf(request) })

/** batchEmbedContents: each inner `model` must be "models/{url model}" (messages reconstructed). */
export function batchEmbedResponse(model: string, request: Json): { body: Json } | { error: FakeError } {
  const requests = request.requests
  if (!Array.isArray(requests) || requests.length === 0) {
    return { error: invalidArgument('* BatchEmbedContentsRequest.requests: requests is not specified\n') }
  }
  const expected = `models/${model}`
  const embeddings: Json[] = []
  for (let i = 0; i < requests.length; i++) {
    const inner: unknown = requests[i]
    const innerModel = isObject(inner) ? inner.model : undefined
    if (innerModel !== expected) {
      return {
        error: invalidArgument(
          `* BatchEmbedContentsRequest.requests[${i}].model: The model in the request (${String(innerModel ?? '')}) must match the model in the batch request (${expected}).\n`,
        ),
      }
    }
    embeddings.push(embeddingOf(inner as Json))
  }
  return { body: { embeddings } }
}
