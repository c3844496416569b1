import { badRequest } from '../../errors.ts'
import { isObject, type Json } from '../../internal/json.ts'
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../shared/body.ts'
import { geminiFilePart } from '../shared/files.ts'
import { parseDataUrl } from '../shared/media.ts'
import { mimeFromFileName } from '../shared/mime.ts'
import type { PendingMedia } from '../shared/request.ts'
import { toolResultObject } from '../shared/tools.ts'
import { decodeSignature } from './signature.ts'

type Part = Json
type Role = 'user' | 'model'

export interface GeminiContent {
  role: Role
  parts: Part[]
}

export interface DecodedInput {
  contents: GeminiContent[]
  /** Text of system and developer messages, in order. */
  system: string[]
  media: PendingMedia[]
}

/**
 * `input` (a string or a list of items) → Gemini `contents`. Consecutive items of the same side share one turn, so an
 * assistant message followed by its function calls is one model turn, and parallel function_call_outputs are one user
 * turn of functionResponse parts. Reasoning items carry thought signatures back onto their parts (see signature.ts);
 * their summary text is not sent (it was the model's own summary, not input).
 */
export function decodeInput(input: unknown): DecodedInput {
  const decoded: DecodedInput = { contents: [], system: [], media: [] }
  if (typeof input === 'string') {
    decoded.contents.push({ role: 'user', parts: [{ text: input }] })
    return decoded
  }
  if (!Array.isArray(input)) throw badRequest('`input` must be a string or an array of input items.', 'input')

  const names = new Map<string, string>()
  for (const item of input) {
    if (isObject(item) && item.type === 'function_call' && typeof item.call_id === 'string' && typeof item.name === 'string') names.set(item.call_id, item.name)
  }

  const turns = new TurnWriter(decoded.contents)
  input.forEach((item: unknown, index) => {
    const param = `input[${index}]`
    if (!isObject(item)) throw badRequest(`${param} must be an object.`, param)
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined)
    switch (type) {
      case 'message':
        return message(item, param, turns, decoded)
      case 'function_call':
        return turns.push('model', functionCall(item, param))
      case 'function_call_output':
        return turns.push('user', functionResponse(item, param, names, decoded.media))
      case 'reasoning': {
        const carried = decodeSignature(item.encrypted_content)
        if (carried) turns.signature(carried.target, carried.signature)
        return
      }
      case 'item_reference':
        throw badRequest(`${param}: item_reference needs stored responses, and this gateway is stateless. Send the items themselves.`, `${param}.type`)
      default:
        throw badRequest(
          `${param}: input items of type "${String(type)}" are not supported; use message, function_call, function_call_output or reasoning items.`,
          `${param}.type`,
        )
    }
  })
  turns.end()
  return decoded
}

/** Appends parts to contents, merging consecutive same-role parts into one turn and placing thought signatures. */
class TurnWriter {
  #pending: string | undefined

  constructor(private readonly contents: GeminiContent[]) {}

  push(role: Role, part: Part): void {
    if (role === 'model' && this.#pending && ('functionCall' in part || 'text' in part)) {
      part.thoughtSignature = this.#pending
      this.#pending = undefined
    }
    if (role === 'user') this.#flush()
    const last = this.contents.at(-1)
    if (last?.role === role) last.parts.push(part)
    else this.contents.push({ role, parts: [part] })
  }

  signature(target: 'next' | 'prev' | 'own', signature: string): void {
    this.#flush()
    if (target === 'next') {
      this.#pending = signature
      return
    }
    const last = this.contents.at(-1)
    const lastPart = last?.role === 'model' ? last.parts.at(-1) : undefined
    if (target === 'prev' && lastPart && 'text' in lastPart && !lastPart.thoughtSignature) lastPart.thoughtSignature = signature
    else this.push('model', { text: '', thoughtSignature: signature })
  }

  end(): void {
    this.#flush()
  }

  /** A `next` signature with nothing after it in its turn keeps its place as an empty signed part. */
  #flush(): void {
    const signature = this.#pending
    if (signature === undefined) return
    this.#pending = undefined
    this.push('model', { text: '', thoughtSignature: signature })
  }
}

function message(item: Json, param: string, turns: TurnWriter, decoded: DecodedInput): void {
  const role = item.role
  if (role === 'system' || role === 'developer') {
    decoded.system.push(systemText(item.content, param))
    return
  }
  if (role !== 'user' && role !== 'assistant') {
    throw badRequest(`${param}.role must be one of user, assistant, system or developer.`, `${param}.role`)
  }
  const side: Role = role === 'user' ? 'user' : 'model'
  if (typeof item.content === 'string') {
    if (side === 'user' || item.content !== '') turns.push(side, { text: item.content })
    return
  }
  if (!Array.isArray(item.content)) throw badRequest(`${param}.content must be a string or an array of content parts.`, `${param}.content`)
  item.content.forEach((content: unknown, i: number) => {
    const part = contentPart(content, `${param}.content[${i}]`, decoded.media)
    if (part && !(side === 'model' && part.text === '')) turns.push(side, part)
  })
}

function systemText(content: unknown, param: string): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) throw badRequest(`${param}.content must be a string or an array of text parts.`, `${param}.content`)
  return content
    .map((part: unknown, i: number) => {
      if (isObject(part) && typeof part.text === 'string' && (part.type === 'input_text' || part.type === 'text' || part.type === 'output_text'))
        return part.text
      throw badRequest(`${param}.content[${i}]: system and developer messages take text parts only.`, `${param}.content[${i}]`)
    })
    .join('\n')
}

/** One message content part → one Gemini part (undefined for parts that carry nothing). */
function contentPart(content: unknown, param: string, media: PendingMedia[]): Part | undefined {
  if (!isObject(content)) throw badRequest(`${param} must be an object.`, param)
  switch (content.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      if (typeof content.text !== 'string') throw badRequest(`${param}.text must be a string.`, `${param}.text`)
      return { text: content.text }
    case 'refusal':
      return typeof content.refusal === 'string' ? { text: content.refusal } : undefined
    case 'input_image':
      return image(content, param, media)
    case 'input_file':
      return file(content, param, media)
    case 'input_audio': {
      const audio = content.input_audio
      if (!isObject(audio) || typeof audio.data !== 'string') throw badRequest(`${param}.input_audio.data must be base64 audio.`, `${param}.input_audio`)
      return { inlineData: { mimeType: audio.format === 'mp3' ? 'audio/mpeg' : `audio/${String(audio.format ?? 'wav')}`, data: audio.data } }
    }
    default:
      throw badRequest(
        `${param}: content parts of type "${String(content.type)}" are not supported; use input_text, input_image, input_file or input_audio.`,
        `${param}.type`,
      )
  }
}

/** A `file_id` names a file of Google's Files API (uploaded through the gateway): Google reads it itself. */
function storedFile(content: Json, param: string): Part {
  if (typeof content.file_id !== 'string' || content.file_id === '')
    throw badRequest(`${param}.file_id must be a file name such as files/abc.`, `${param}.file_id`)
  const mimeType = typeof content.filename === 'string' ? mimeFromFileName(content.filename) : undefined
  return geminiFilePart(content.file_id, mimeType) as Part
}

function image(content: Json, param: string, media: PendingMedia[]): Part {
  const url = typeof content.image_url === 'string' ? content.image_url : isObject(content.image_url) ? content.image_url.url : undefined
  if (typeof url !== 'string' || url === '') {
    if (content.file_id !== undefined) return storedFile(content, param)
    throw badRequest(`${param}.image_url is required (a data: URL or an http(s) URL).`, `${param}.image_url`)
  }
  return mediaPart(url, `${param}.image_url`, media)
}

function file(content: Json, param: string, media: PendingMedia[]): Part {
  if (typeof content.file_data === 'string' && content.file_data !== '') {
    const data = content.file_data
    if (data.startsWith('data:')) return mediaPart(data, `${param}.file_data`, media)
    const mimeType = typeof content.filename === 'string' ? mimeFromFileName(content.filename) : undefined
    if (!mimeType) throw badRequest(`${param}.file_data: send a data: URL (data:<mime>;base64,...) or a filename with a known extension.`, `${param}.file_data`)
    return { inlineData: { mimeType, data } }
  }
  if (typeof content.file_url === 'string' && content.file_url !== '') return mediaPart(content.file_url, `${param}.file_url`, media)
  if (content.file_id !== undefined) return storedFile(content, param)
  throw badRequest(`${param} needs file_data (a data: URL), file_url or file_id.`, param)
}

function mediaPart(url: string, param: string, media: PendingMedia[]): Part {
  if (url.startsWith('data:')) {
    const inline = parseDataUrl(url)
    if (!inline) throw badRequest(`${param}: only base64 data: URLs are supported (data:<mime>;base64,...).`, param)
    return { inlineData: inline }
  }
  if (!/^https?:\/\//i.test(url)) throw badRequest(`${param} must be a data: URL or an http(s) URL.`, param)
  // Filled in by `prepare`, after the client is authenticated: an unauthenticated caller makes the gateway fetch nothing.
  const part: Part = {}
  media.push({ part, url, param })
  return part
}

function functionCall(item: Json, param: string): Part {
  if (typeof item.name !== 'string' || item.name === '') throw badRequest(`${param}.name is required.`, `${param}.name`)
  const call: Json = { name: item.name, args: parseArguments(item.arguments, `${param}.arguments`) }
  if (isGeminiCallId(item.call_id)) call.id = item.call_id
  return { functionCall: call }
}

function parseArguments(text: unknown, param: string): Json {
  if (text === undefined || text === null || text === '') return {}
  if (isObject(text)) return text
  if (typeof text !== 'string') throw badRequest(`${param} must be a JSON string.`, param)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw badRequest(`${param} is not valid JSON.`, param)
  }
  if (!isObject(value)) throw badRequest(`${param} must encode a JSON object.`, param)
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw badRequest(`${param} nests deeper than ${MAX_JSON_DEPTH} levels.`, param)
  return value
}

function functionResponse(item: Json, param: string, names: Map<string, string>, media: PendingMedia[]): Part {
  const callId = item.call_id
  if (typeof callId !== 'string' || callId === '') throw badRequest(`${param}.call_id is required.`, `${param}.call_id`)
  const name = names.get(callId)
  if (!name) {
    throw badRequest(
      `${param}: no function_call with call_id "${callId}" in input. This gateway is stateless: send the function_call item along with its output.`,
      `${param}.call_id`,
    )
  }
  const response: Json = { name, response: {} }
  if (isGeminiCallId(callId)) response.id = callId
  const output = item.output
  if (typeof output === 'string') {
    response.response = toolResultObject(output)
  } else if (Array.isArray(output)) {
    const texts: string[] = []
    const parts: Part[] = []
    output.forEach((content: unknown, i: number) => {
      const part = contentPart(content, `${param}.output[${i}]`, media)
      if (!part) return
      if (typeof part.text === 'string') texts.push(part.text)
      else parts.push(part)
    })
    response.response = toolResultObject(texts.join('\n'))
    if (parts.length > 0) response.parts = parts
  } else {
    throw badRequest(`${param}.output must be a string or an array of content parts.`, `${param}.output`)
  }
  return { functionResponse: response }
}

/**
 * Call ids the gateway made up for Gemini calls that had none start with `call_` (as do OpenAI's); those are not
 * sent back to Gemini as ids. Any other id (Gemini 3's own) goes back on functionCall and functionResponse.
 */
export const isGeminiCallId = (id: unknown): id is string => typeof id === 'string' && id !== '' && !id.startsWith('call_')
