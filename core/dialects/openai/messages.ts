import { isObject, type Json } from '../../internal/json.ts'
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../shared/body.ts'
import type { PendingMedia } from '../shared/request.ts'
import { toolResultObject } from '../shared/tools.ts'
import { contentParts } from './content.ts'
import { decodeToolCallId } from './ids.ts'
import { describe, invalid, missing } from './validate.ts'

export interface DecodedMessages {
  contents: Json[]
  systemInstruction?: Json
  media: PendingMedia[]
}

/** Documented stand-in for a thought signature the client lost; Gemini 3 then accepts the function call turn. */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator'

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
        push('user', [{ functionResponse: { name: message.name, response: toolResultObject(textOf(message.content, `${param}.content`)) } }])
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
    callParts.push({
      functionCall: { name: message.function_call.name, args: parseArguments(message.function_call.arguments, `${param}.function_call.arguments`) },
    })
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
  const text = parts
    .filter((part) => typeof part.text === 'string')
    .map((part) => part.text as string)
    .join('\n')
  const functionResponse: Json = { name, response: toolResultObject(text) }
  const upstreamId = known?.upstreamId ?? decoded.upstreamId
  if (upstreamId) functionResponse.id = upstreamId
  // Images a tool returned travel next to its result, in the same user turn.
  return [{ functionResponse }, ...parts.filter((part) => typeof part.text !== 'string')]
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
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw invalid(param, `the arguments nest deeper than ${MAX_JSON_DEPTH} levels.`)
  return value
}

function signatureOf(holder: Json): string | undefined {
  const signature = holder.extra_content?.google?.thought_signature
  return typeof signature === 'string' && signature !== '' ? signature : undefined
}

function textOf(content: unknown, param: string): string {
  return contentParts(content, param, 'system', [])
    .map((part) => part.text as string)
    .join('\n')
}
