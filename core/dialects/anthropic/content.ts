import { badRequest, type GatewayError } from '../../errors.ts'
import { isObject, type Json } from '../../internal/json.ts'
import { geminiFilePart } from '../shared/files.ts'
import { parseDataUrl } from '../shared/media.ts'
import type { PendingMedia } from '../shared/request.ts'
import { parseToolUseId } from './tool-ids.ts'

/**
 * Anthropic messages → Gemini contents. Roles user/assistant become user/model; each content block becomes one or
 * more parts. Paths in error messages use Anthropic's own notation (`messages.2.content.0.source.type`).
 */

export const invalid = (path: string, problem: string): GatewayError => badRequest(`${path}: ${problem}`, path)

export function requireString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalid(path, value === undefined ? 'Field required' : 'Input should be a valid string')
  return value
}

interface Walk {
  /** tool_use id → function name, for the tool_result blocks that answer it. */
  toolNames: Map<string, string>
  media: PendingMedia[]
}

export interface DecodedConversation {
  contents: Json[]
  /** Text of `system` and of any role:"system" messages, in order. */
  systemParts: Json[]
  media: PendingMedia[]
}

export function decodeConversation(body: Json): DecodedConversation {
  const systemParts = systemText(body.system, 'system')
  const messages = body.messages
  if (!Array.isArray(messages)) throw invalid('messages', messages === undefined ? 'Field required' : 'Input should be a valid list')
  if (messages.length === 0) throw invalid('messages', 'List should have at least 1 item')
  const walk: Walk = { toolNames: new Map(), media: [] }
  const contents: Json[] = []
  messages.forEach((message, i) => {
    const path = `messages.${i}`
    if (!isObject(message)) throw invalid(path, 'Input should be an object')
    const role = message.role
    if (role === 'system') {
      systemParts.push(...systemText(message.content, `${path}.content`))
      return
    }
    if (role !== 'user' && role !== 'assistant') throw invalid(`${path}.role`, "Input should be 'user' or 'assistant'")
    const parts = decodeContent(message.content, role, `${path}.content`, walk)
    if (parts.length > 0) contents.push({ role: role === 'user' ? 'user' : 'model', parts })
  })
  return { contents, systemParts, media: walk.media }
}

/** `system`: a string or a list of text blocks (cache_control and citations are Anthropic-only and dropped). */
function systemText(system: unknown, path: string): Json[] {
  if (system === undefined || system === null) return []
  if (typeof system === 'string') return system ? [{ text: system }] : []
  if (!Array.isArray(system)) throw invalid(path, 'Input should be a string or a list of text blocks')
  return system.map((block, i) => {
    if (!isObject(block) || block.type !== 'text') throw invalid(`${path}.${i}.type`, "Input should be 'text'")
    return { text: requireString(block.text, `${path}.${i}.text`) }
  })
}

function decodeContent(content: unknown, role: 'user' | 'assistant', path: string, walk: Walk): Json[] {
  if (typeof content === 'string') return content ? [{ text: content }] : []
  if (!Array.isArray(content)) throw invalid(path, content === undefined ? 'Field required' : 'Input should be a string or a list of content blocks')
  const parts: Json[] = []
  content.forEach((block, j) => decodeBlock(block, role, `${path}.${j}`, walk, parts))
  return parts
}

function decodeBlock(block: unknown, role: 'user' | 'assistant', path: string, walk: Walk, parts: Json[]): void {
  if (!isObject(block)) throw invalid(path, 'Input should be an object')
  switch (block.type) {
    case 'text':
      parts.push({ text: requireString(block.text, `${path}.text`) })
      return
    case 'image':
      parts.push(imagePart(block.source, `${path}.source`, walk))
      return
    case 'document':
      parts.push(...documentParts(block.source, `${path}.source`, walk))
      return
    case 'search_result':
      parts.push({ text: searchResultText(block, path) })
      return
    case 'thinking':
      thinkingPart(block, path, parts)
      return
    case 'redacted_thinking':
      // Claude's encrypted reasoning means nothing to Gemini.
      return
    case 'tool_use': {
      if (role !== 'assistant') throw invalid(`${path}.type`, 'tool_use blocks belong in assistant messages')
      const id = requireString(block.id, `${path}.id`)
      const name = requireString(block.name, `${path}.name`)
      const input = block.input ?? {}
      if (!isObject(input)) throw invalid(`${path}.input`, 'Input should be an object')
      walk.toolNames.set(id, name)
      const { callId, thoughtSignature } = parseToolUseId(id)
      const part: Json = { functionCall: callId ? { id: callId, name, args: input } : { name, args: input } }
      if (thoughtSignature) part.thoughtSignature = thoughtSignature
      parts.push(part)
      return
    }
    case 'tool_result':
      if (role !== 'user') throw invalid(`${path}.type`, 'tool_result blocks belong in user messages')
      toolResultParts(block, path, walk, parts)
      return
    default:
      throw invalid(`${path}.type`, `content block type ${JSON.stringify(block.type)} is not supported by this gateway`)
  }
}

/**
 * A thinking block is a thought part keeping its signature. A block with no text but a signature is how the
 * gateway hands out the signature Gemini put on a plain text part (see response encoding): it goes back onto the
 * part just before it, which is where Gemini had it.
 */
function thinkingPart(block: Json, path: string, parts: Json[]): void {
  const thinking = requireString(block.thinking, `${path}.thinking`)
  const signature = typeof block.signature === 'string' && block.signature ? block.signature : undefined
  if (thinking) {
    parts.push(signature ? { text: thinking, thought: true, thoughtSignature: signature } : { text: thinking, thought: true })
    return
  }
  if (!signature) return
  const previous = parts.at(-1)
  if (previous && previous.thought !== true && previous.thoughtSignature === undefined) previous.thoughtSignature = signature
  else parts.push({ text: '', thoughtSignature: signature })
}

function imagePart(source: unknown, path: string, walk: Walk): Json {
  if (!isObject(source)) throw invalid(path, 'Field required')
  switch (source.type) {
    case 'base64':
      return { inlineData: { mimeType: requireString(source.media_type, `${path}.media_type`), data: requireString(source.data, `${path}.data`) } }
    case 'url':
      return urlPart(requireString(source.url, `${path}.url`), `${path}.url`, walk)
    case 'file':
      return geminiFilePart(requireString(source.file_id, `${path}.file_id`))
    default:
      throw invalid(`${path}.type`, "Input should be 'base64' or 'url'")
  }
}

function documentParts(source: unknown, path: string, walk: Walk): Json[] {
  if (!isObject(source)) throw invalid(path, 'Field required')
  switch (source.type) {
    case 'base64':
      return [
        {
          inlineData: {
            mimeType: typeof source.media_type === 'string' ? source.media_type : 'application/pdf',
            data: requireString(source.data, `${path}.data`),
          },
        },
      ]
    case 'text':
      return [{ text: requireString(source.data, `${path}.data`) }]
    case 'url':
      return [urlPart(requireString(source.url, `${path}.url`), `${path}.url`, walk, 'application/pdf')]
    case 'content': {
      if (typeof source.content === 'string') return [{ text: source.content }]
      if (!Array.isArray(source.content)) throw invalid(`${path}.content`, 'Input should be a string or a list of content blocks')
      return source.content.map((block: unknown, i: number) => {
        const at = `${path}.content.${i}`
        if (isObject(block) && block.type === 'text') return { text: requireString(block.text, `${at}.text`) }
        if (isObject(block) && block.type === 'image') return imagePart(block.source, `${at}.source`, walk)
        throw invalid(`${at}.type`, "Input should be 'text' or 'image'")
      })
    }
    case 'file':
      return [geminiFilePart(requireString(source.file_id, `${path}.file_id`))]
    default:
      throw invalid(`${path}.type`, "Input should be 'base64', 'text', 'content' or 'url'")
  }
}

/** data: URLs are inline already; http(s) URLs are fetched after auth (prepare), never before. */
function urlPart(url: string, path: string, walk: Walk, fallbackMimeType?: string): Json {
  const inline = parseDataUrl(url)
  if (inline) return { inlineData: { mimeType: inline.mimeType, data: inline.data } }
  const part: Json = {}
  walk.media.push({ part, url, param: path, fallbackMimeType })
  return part
}

function searchResultText(block: Json, path: string): string {
  const lines: string[] = []
  if (typeof block.title === 'string' && block.title) lines.push(block.title)
  if (typeof block.source === 'string' && block.source) lines.push(block.source)
  const content = Array.isArray(block.content) ? block.content : []
  content.forEach((item: unknown, i: number) => {
    if (!isObject(item) || item.type !== 'text') throw invalid(`${path}.content.${i}.type`, "Input should be 'text'")
    lines.push(requireString(item.text, `${path}.content.${i}.text`))
  })
  return lines.join('\n')
}

/**
 * tool_result → functionResponse named after the tool_use it answers. Text becomes `{output}` (`{error}` when
 * is_error); images and documents in the result follow as sibling parts of the same turn, which every Gemini model
 * accepts (functionResponse.parts is Gemini 3 only).
 */
function toolResultParts(block: Json, path: string, walk: Walk, parts: Json[]): void {
  const toolUseId = requireString(block.tool_use_id, `${path}.tool_use_id`)
  const name = walk.toolNames.get(toolUseId)
  if (name === undefined) throw invalid(`${path}.tool_use_id`, `no earlier tool_use block has the id ${JSON.stringify(toolUseId)}`)
  const texts: string[] = []
  const media: Json[] = []
  const content = block.content
  if (typeof content === 'string') texts.push(content)
  else if (Array.isArray(content)) {
    content.forEach((item: unknown, i: number) => {
      const at = `${path}.content.${i}`
      if (!isObject(item)) throw invalid(at, 'Input should be an object')
      if (item.type === 'text') texts.push(requireString(item.text, `${at}.text`))
      else if (item.type === 'image') media.push(imagePart(item.source, `${at}.source`, walk))
      else if (item.type === 'document') media.push(...documentParts(item.source, `${at}.source`, walk))
      else if (item.type === 'search_result') texts.push(searchResultText(item, at))
      else if (item.type === 'tool_reference') texts.push(`Tool available: ${requireString(item.tool_name, `${at}.tool_name`)}`)
      else throw invalid(`${at}.type`, "Input should be 'text', 'image', 'document', 'search_result' or 'tool_reference'")
    })
  } else if (content !== undefined && content !== null) throw invalid(`${path}.content`, 'Input should be a string or a list of content blocks')
  const text = texts.join('\n')
  const { callId } = parseToolUseId(toolUseId)
  const response = block.is_error === true ? { error: text } : { output: text }
  parts.push({ functionResponse: callId ? { id: callId, name, response } : { name, response } })
  parts.push(...media)
}
