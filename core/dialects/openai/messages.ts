import { parseDataUrl } from '../shared/media.ts'
import { decodeToolCallId } from './ids.ts'
import { describe, invalid, isObject, missing, type Json } from './validate.ts'

/** A part waiting for its http(s) media, fetched in `prepare` once the client is authenticated. */
export interface PendingMedia {
  part: Json
  url: string
  /** The request field the URL came from, for error messages. */
  param: string
}

export interface DecodedMessages {
  contents: Json[]
  systemInstruction?: Json
  media: PendingMedia[]
}

/** Documented stand-in for a thought signature the client lost; Gemini 3 then accepts the function call turn. */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator'

type Speaker = 'system' | 'user' | 'assistant' | 'tool'

interface KnownCall {
  name: string
  upstreamId?: string
}

/**
 * OpenAI `messages` → Gemini `contents` + `systemInstruction`. system/developer text goes to the system
 * instruction; user → user, assistant → model (text first, then one functionCall part per tool call, with its
 * thought signature restored); tool results → functionResponse parts named after the call they answer. Turns of
 * the same role in a row become one turn, so parallel tool results land in one user turn.
 */
export function decodeMessages(messages: unknown, options: { dummySignatures: boolean }): DecodedMessages {
  if (messages === undefined || messages === null) throw missing('messages')
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages', 'expected a non-empty array of messages.')
  const contents: Json[] = []
  const system: Json[] = []
  const media: PendingMedia[] = []
  const calls = new Map<string, KnownCall>()
  const push = (role: 'user' | 'model', parts: Json[]) => {
    if (parts.length === 0) return
    const last = contents.at(-1)
    if (last?.role === role) last.parts.push(...parts)
    else contents.push({ role, parts })
  }

  messages.forEach((message, i) => {
    const param = `messages[${i}]`
    if (!isObject(message)) throw invalid(param, `expected a message object, got ${describe(message)}.`)
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...contentParts(message.content, `${param}.content`, 'system', media))
        break
      case 'user':
        push('user', contentParts(message.content, `${param}.content`, 'user', media))
        break
      case 'assistant':
        push('model', assistantParts(message, param, calls, media, options.dummySignatures))
        break
      case 'tool':
        push('user', toolResultParts(message, param, calls, media))
        break
      case 'function': {
        if (typeof message.name !== 'string' || message.name === '') throw missing(`${param}.name`)
        push('user', [{ functionResponse: { name: message.name, response: responseObject(textOf(message.content, `${param}.content`)) } }])
        break
      }
      default:
        throw invalid(`${param}.role`, `expected one of system, developer, user, assistant, tool; got ${describe(message.role)}.`)
    }
  })

  if (contents.length === 0) {
    // A conversation of system messages only is valid OpenAI; Gemini needs contents, so the instruction is the prompt.
    if (system.length === 0) throw invalid('messages', 'no message has any content.')
    return { contents: [{ role: 'user', parts: system }], media }
  }
  const decoded: DecodedMessages = { contents, media }
  if (system.length > 0) decoded.systemInstruction = { parts: system }
  return decoded
}

function assistantParts(message: Json, param: string, calls: Map<string, KnownCall>, media: PendingMedia[], dummySignatures: boolean): Json[] {
  const parts = contentParts(message.content, `${param}.content`, 'assistant', media)
  const textSignature = signatureOf(message)
  if (textSignature) {
    const lastText = parts.findLast((part) => typeof part.text === 'string')
    if (lastText) lastText.thoughtSignature = textSignature
  }
  const callParts: Json[] = []
  const toolCalls = message.tool_calls
  if (toolCalls !== undefined && toolCalls !== null) {
    if (!Array.isArray(toolCalls)) throw invalid(`${param}.tool_calls`, `expected an array, got ${describe(toolCalls)}.`)
    toolCalls.forEach((call, j) => {
      const p = `${param}.tool_calls[${j}]`
      if (!isObject(call)) throw invalid(p, `expected a tool call object, got ${describe(call)}.`)
      if (!isObject(call.function)) throw missing(`${p}.function`)
      const name = call.function.name
      if (typeof name !== 'string' || name === '') throw missing(`${p}.function.name`)
      const functionCall: Json = { name, args: parseArguments(call.function.arguments, `${p}.function.arguments`) }
      const part: Json = { functionCall }
      if (typeof call.id === 'string' && call.id !== '') {
        const decoded = decodeToolCallId(call.id)
        if (decoded.upstreamId) functionCall.id = decoded.upstreamId
        const signature = signatureOf(call) ?? decoded.signature
        if (signature) part.thoughtSignature = signature
        const known: KnownCall = decoded.upstreamId ? { name, upstreamId: decoded.upstreamId } : { name }
        calls.set(call.id, known)
        calls.set(decoded.base, known)
      } else {
        const signature = signatureOf(call)
        if (signature) part.thoughtSignature = signature
      }
      callParts.push(part)
    })
  }
  if (isObject(message.function_call) && typeof message.function_call.name === 'string') {
    callParts.push({ functionCall: { name: message.function_call.name, args: parseArguments(message.function_call.arguments, `${param}.function_call.arguments`) } })
  }
  if (dummySignatures && callParts.length > 0 && !callParts.some((part) => part.thoughtSignature)) callParts[0]!.thoughtSignature = SKIP_SIGNATURE
  parts.push(...callParts)
  return parts
}

function toolResultParts(message: Json, param: string, calls: Map<string, KnownCall>, media: PendingMedia[]): Json[] {
  const id = message.tool_call_id
  if (typeof id !== 'string' || id === '') throw missing(`${param}.tool_call_id`)
  const decoded = decodeToolCallId(id)
  const known = calls.get(id) ?? calls.get(decoded.base)
  const name = known?.name ?? (typeof message.name === 'string' && message.name !== '' ? message.name : undefined)
  if (!name) throw invalid(`${param}.tool_call_id`, `no assistant tool call with id "${decoded.base}" comes before this tool message.`)
  const parts = contentParts(message.content, `${param}.content`, 'tool', media)
  const text = parts.filter((part) => typeof part.text === 'string').map((part) => part.text as string).join('\n')
  const functionResponse: Json = { name, response: responseObject(text) }
  const upstreamId = known?.upstreamId ?? decoded.upstreamId
  if (upstreamId) functionResponse.id = upstreamId
  // Images a tool returned travel next to its result, in the same user turn.
  return [{ functionResponse }, ...parts.filter((part) => typeof part.text !== 'string')]
}

/** A tool's JSON object result as is; anything else wrapped as `{output}`, Gemini's convention (it wants an object). */
function responseObject(text: string): Json {
  const trimmed = text.trimStart()
  if (trimmed.startsWith('{')) {
    try {
      const value = JSON.parse(text)
      if (isObject(value)) return value
    } catch {
      // not JSON: plain text output
    }
  }
  return { output: text }
}

function parseArguments(raw: unknown, param: string): Json {
  if (raw === undefined || raw === null || raw === '') return {}
  if (isObject(raw)) return raw
  if (typeof raw !== 'string') throw invalid(param, `expected a JSON string, got ${describe(raw)}.`)
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    throw invalid(param, 'the arguments are not valid JSON.')
  }
  if (!isObject(value)) throw invalid(param, 'the arguments must be a JSON object.')
  return value
}

function signatureOf(holder: Json): string | undefined {
  const signature = holder.extra_content?.google?.thought_signature
  return typeof signature === 'string' && signature !== '' ? signature : undefined
}

function textOf(content: unknown, param: string): string {
  return contentParts(content, param, 'system', []).map((part) => part.text as string).join('\n')
}

const MARKDOWN_DATA_IMAGE = /!\[[^\]]*\]\((data:[^)\s]+)\)/g

/** Content (a string or an array of parts) → Gemini parts. Which part types are allowed depends on who speaks. */
function contentParts(content: unknown, param: string, speaker: Speaker, media: PendingMedia[]): Json[] {
  if (content === undefined || content === null) return []
  if (typeof content === 'string') return textParts(content, speaker)
  if (!Array.isArray(content)) throw invalid(param, `expected a string or an array of content parts, got ${describe(content)}.`)
  const parts: Json[] = []
  content.forEach((item, j) => {
    const p = `${param}[${j}]`
    if (typeof item === 'string') return void parts.push(...textParts(item, speaker))
    if (!isObject(item)) throw invalid(p, `expected a content part object, got ${describe(item)}.`)
    const type = item.type
    if (type === 'text' || type === 'input_text' || type === 'output_text') {
      if (typeof item.text !== 'string') throw invalid(`${p}.text`, `expected a string, got ${describe(item.text)}.`)
      return void parts.push(...textParts(item.text, speaker))
    }
    if (type === 'refusal' && speaker === 'assistant') {
      if (typeof item.refusal === 'string' && item.refusal !== '') parts.push({ text: item.refusal })
      return
    }
    if (speaker === 'system' || speaker === 'assistant') {
      throw invalid(`${p}.type`, `${speaker} messages take text parts only, got ${describe(type)}.`)
    }
    parts.push(mediaPart(item, p, media))
  })
  return parts
}

function textParts(text: string, speaker: Speaker): Json[] {
  if (text === '') return []
  // Images we returned as markdown data URLs go back to Gemini as images (multi-turn image editing), not as text.
  if (speaker !== 'assistant' || !text.includes('](data:')) return [{ text }]
  const parts: Json[] = []
  let at = 0
  for (const match of text.matchAll(MARKDOWN_DATA_IMAGE)) {
    const inline = parseDataUrl(match[1]!)
    if (!inline) continue
    const before = text.slice(at, match.index).trim()
    if (before) parts.push({ text: before })
    parts.push({ inlineData: { mimeType: inline.mimeType, data: inline.data } })
    at = match.index + match[0].length
  }
  const rest = text.slice(at).trim()
  if (rest) parts.push({ text: at === 0 ? text : rest })
  return parts
}

function mediaPart(item: Json, p: string, media: PendingMedia[]): Json {
  switch (item.type) {
    case 'image_url':
    case 'input_image': {
      const source = item.image_url ?? item.url
      const url = isObject(source) ? source.url : source
      if (typeof url !== 'string' || url === '') throw missing(`${p}.image_url.url`)
      return fromUrl(url, `${p}.image_url.url`, media)
    }
    case 'input_audio': {
      const audio = item.input_audio
      if (!isObject(audio) || typeof audio.data !== 'string' || audio.data === '') throw missing(`${p}.input_audio.data`)
      if (typeof audio.format !== 'string' || audio.format === '') throw missing(`${p}.input_audio.format`)
      return inline(audio.data, `audio/${audio.format.toLowerCase()}`)
    }
    case 'input_video': {
      const video = item.input_video
      if (!isObject(video) || typeof video.data !== 'string' || video.data === '') throw missing(`${p}.input_video.data`)
      return inline(video.data, `video/${typeof video.format === 'string' ? video.format.toLowerCase() : 'mp4'}`)
    }
    case 'video_url': {
      const url = isObject(item.video_url) ? item.video_url.url : item.video_url
      if (typeof url !== 'string' || url === '') throw missing(`${p}.video_url.url`)
      return fromUrl(url, `${p}.video_url.url`, media)
    }
    case 'file':
    case 'input_file':
      return filePart(isObject(item.file) ? item.file : item, p, media)
    default:
      throw invalid(`${p}.type`, `unsupported content part type ${describe(item.type)}; expected text, image_url, input_audio, file.`)
  }
}

function filePart(file: Json, p: string, media: PendingMedia[]): Json {
  const filename = typeof file.filename === 'string' ? file.filename : undefined
  if (typeof file.file_data === 'string' && file.file_data !== '') {
    const data = file.file_data
    if (data.startsWith('data:') || /^https?:\/\//i.test(data)) return fromUrl(data, `${p}.file.file_data`, media)
    return inline(data, mimeFromName(filename) ?? 'application/pdf')
  }
  if (typeof file.file_url === 'string' && file.file_url !== '') return fromUrl(file.file_url, `${p}.file.file_url`, media)
  if (typeof file.file_id === 'string' && file.file_id !== '') {
    const fileData: Json = { fileUri: filesUri(file.file_id) }
    const mimeType = mimeFromName(filename)
    if (mimeType) fileData.mimeType = mimeType
    return { fileData }
  }
  throw missing(`${p}.file.file_data`)
}

function inline(data: string, mimeType: string): Json {
  const parsed = data.startsWith('data:') ? parseDataUrl(data) : undefined
  return { inlineData: parsed ?? { mimeType, data } }
}

const GEMINI_FILES = 'https://generativelanguage.googleapis.com/v1beta/files/'
const YOUTUBE = /^https?:\/\/(www\.|m\.)?(youtube\.com|youtu\.be)\//i

function fromUrl(url: string, param: string, media: PendingMedia[]): Json {
  if (url.startsWith('data:')) {
    const parsed = parseDataUrl(url)
    if (!parsed) throw invalid(param, 'expected a base64 data URL (data:<mime>;base64,<data>).')
    return { inlineData: { mimeType: parsed.mimeType, data: parsed.data } }
  }
  if (!/^https?:\/\//i.test(url)) throw invalid(param, 'expected a data: URL or an http(s) URL.')
  // Gemini reads its own uploaded files and YouTube videos itself; anything else is fetched by the gateway.
  if (url.startsWith(GEMINI_FILES) || YOUTUBE.test(url)) return { fileData: { fileUri: url } }
  const part: Json = { inlineData: { mimeType: '', data: '' } }
  media.push({ part, url, param })
  return part
}

function filesUri(id: string): string {
  if (/^https?:\/\//i.test(id)) return id
  return GEMINI_FILES + id.replace(/^files\//, '')
}

const MIME_BY_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf', txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', html: 'text/html', json: 'application/json',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif',
  mp3: 'audio/mp3', wav: 'audio/wav', flac: 'audio/flac', ogg: 'audio/ogg', mp4: 'video/mp4', webm: 'video/webm', mov: 'video/quicktime',
}

function mimeFromName(name: string | undefined): string | undefined {
  const extension = name?.split('.').pop()?.toLowerCase()
  return extension ? MIME_BY_EXTENSION[extension] : undefined
}
