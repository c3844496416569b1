import { isObject, type Json } from '../../internal/json.ts'
import { GEMINI_FILES, geminiFilePart } from '../shared/files.ts'
import { parseDataUrl } from '../shared/media.ts'
import { mimeFromFileName } from '../shared/mime.ts'
import type { PendingMedia } from '../shared/request.ts'
import { describe, invalid, missing } from './validate.ts'

/** Who speaks decides which part types are allowed: system and assistant messages are text only. */
export type Speaker = 'system' | 'user' | 'assistant' | 'tool'

const MARKDOWN_DATA_IMAGE = /!\[[^\]]*\]\((data:[^)\s]+)\)/g

/** Content (a string or an array of parts) → Gemini parts. Which part types are allowed depends on who speaks. */
export function contentParts(content: unknown, param: string, speaker: Speaker, media: PendingMedia[]): Json[] {
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
  const mimeType = typeof file.filename === 'string' ? mimeFromFileName(file.filename) : undefined
  if (typeof file.file_data === 'string' && file.file_data !== '') {
    const data = file.file_data
    if (data.startsWith('data:') || /^https?:\/\//i.test(data)) return fromUrl(data, `${p}.file.file_data`, media)
    return inline(data, mimeType ?? 'application/pdf')
  }
  if (typeof file.file_url === 'string' && file.file_url !== '') return fromUrl(file.file_url, `${p}.file.file_url`, media)
  if (typeof file.file_id === 'string' && file.file_id !== '') return geminiFilePart(file.file_id, mimeType)
  throw missing(`${p}.file.file_data`)
}

function inline(data: string, mimeType: string): Json {
  const parsed = data.startsWith('data:') ? parseDataUrl(data) : undefined
  return { inlineData: parsed ?? { mimeType, data } }
}

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
