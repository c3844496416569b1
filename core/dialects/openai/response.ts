import { randomBytes } from 'node:crypto'
import { isObject, type Json } from '../../internal/json.ts'
import { codeExecutionMarkdown } from '../shared/code-execution.ts'
import { tokenCounts } from '../shared/usage.ts'
import { encodeToolCallId } from './ids.ts'
import type { ChatOptions } from './request.ts'

/** What one candidate's parts (or one chunk's parts) say, in OpenAI terms. */
export interface PartsView {
  /** Answer text (thought parts excluded), with code execution and media rendered as markdown. */
  content: string
  /** Thought summaries (`thought: true` parts). */
  reasoning: string
  toolCalls: Json[]
  /** A thought signature Gemini put on a text part (Gemini 3), handed out as extra_content. */
  signature?: string
}

export function readParts(parts: unknown): PartsView {
  const view: PartsView = { content: '', reasoning: '', toolCalls: [] }
  if (!Array.isArray(parts)) return view
  for (const part of parts) {
    if (!isObject(part)) continue
    if (isObject(part.functionCall)) {
      view.toolCalls.push(toolCall(part.functionCall, part.thoughtSignature))
      continue
    }
    if (typeof part.text === 'string') {
      if (part.thought === true) view.reasoning += part.text
      else {
        view.content += part.text
        if (typeof part.thoughtSignature === 'string' && part.thoughtSignature !== '') view.signature = part.thoughtSignature
      }
      continue
    }
    if (part.thought === true) continue
    view.content += renderPart(part)
  }
  return view
}

function toolCall(call: Json, signature: unknown): Json {
  const tool: Json = {
    id: encodeToolCallId(call.id, signature),
    type: 'function',
    function: { name: String(call.name ?? ''), arguments: JSON.stringify(call.args ?? {}) },
  }
  if (typeof signature === 'string' && signature !== '') tool.extra_content = { google: { thought_signature: signature } }
  return tool
}

/** Non-text parts as markdown, so a plain chat client shows them: images inline, code and its output fenced. */
function renderPart(part: Json): string {
  if (isObject(part.inlineData)) {
    const { mimeType = 'application/octet-stream', data = '' } = part.inlineData
    const url = `data:${mimeType};base64,${data}`
    return String(mimeType).startsWith('image/') ? `\n![image](${url})\n` : `\n[${mimeType}](${url})\n`
  }
  if (isObject(part.fileData)) {
    const { mimeType = '', fileUri = '' } = part.fileData
    return String(mimeType).startsWith('image/') ? `\n![image](${fileUri})\n` : `\n[${mimeType || 'file'}](${fileUri})\n`
  }
  return codeExecutionMarkdown(part) ?? ''
}

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION'])

/**
 * Gemini finishReason → OpenAI finish_reason. A candidate that called functions ends with tool_calls (Gemini says
 * STOP); MAX_TOKENS is length; safety, recitation and block lists are content_filter; everything else is stop.
 */
export function finishReason(reason: unknown, calledTools: boolean): string {
  if (reason === 'MAX_TOKENS') return 'length'
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter'
  return calledTools ? 'tool_calls' : 'stop'
}

/**
 * usageMetadata → OpenAI usage. Convention: completion_tokens = candidates + thoughts (OpenAI counts reasoning
 * tokens inside completion tokens) and prompt_tokens = prompt + tool-use prompt (search results fed back), so
 * prompt + completion = Gemini's totalTokenCount.
 */
export function chatUsage(meta: unknown): Json | undefined {
  const usage = tokenCounts(meta)
  if (!usage) return undefined
  const toolUse = Number((meta as Json).toolUsePromptTokenCount ?? 0)
  const prompt = usage.prompt + toolUse
  const completion = usage.completion + usage.thoughts
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: Math.max(usage.total, prompt + completion),
    prompt_tokens_details: { cached_tokens: usage.cached },
    completion_tokens_details: { reasoning_tokens: usage.thoughts },
  }
}

export const EMPTY_USAGE = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }

/** Gemini logprobsResult → OpenAI choice.logprobs (null when Gemini sent none). */
export function chatLogprobs(result: unknown): Json | null {
  if (!isObject(result) || !Array.isArray(result.chosenCandidates)) return null
  const top: unknown[] = Array.isArray(result.topCandidates) ? result.topCandidates : []
  const entry = (candidate: Json) => {
    const token = String(candidate?.token ?? '')
    return { token, logprob: Number(candidate?.logProbability ?? 0), bytes: Array.from(Buffer.from(token, 'utf8')) }
  }
  return {
    content: result.chosenCandidates.map((chosen: Json, i: number) => {
      const alternatives = isObject(top[i]) && Array.isArray((top[i] as Json).candidates) ? ((top[i] as Json).candidates as Json[]) : []
      return { ...entry(chosen), top_logprobs: alternatives.map(entry) }
    }),
    refusal: null,
  }
}

export function completionId(responseId: unknown): string {
  return `chatcmpl-${typeof responseId === 'string' && responseId !== '' ? responseId : randomBytes(12).toString('hex')}`
}

export const nowSeconds = () => Math.floor(Date.now() / 1000)

/** A whole Gemini generateContent answer → chat.completion. */
export function encodeAnswer(answer: Json, options: ChatOptions): Json {
  const candidates: unknown[] = Array.isArray(answer.candidates) ? answer.candidates : []
  let choices: Json[]
  if (candidates.length > 0) {
    choices = candidates.map((candidate, i) => choiceOf(isObject(candidate) ? candidate : {}, i))
  } else if (isObject(answer.promptFeedback) && answer.promptFeedback.blockReason) {
    // The prompt itself was blocked: every requested choice ends filtered, with nothing said.
    choices = Array.from({ length: options.n }, (_, index) => ({
      index,
      message: { role: 'assistant', content: '', refusal: null },
      logprobs: null,
      finish_reason: 'content_filter',
    }))
  } else {
    choices = []
  }
  const completion: Json = { id: completionId(answer.responseId), object: 'chat.completion', created: nowSeconds(), model: options.model, choices }
  completion.usage = chatUsage(answer.usageMetadata) ?? EMPTY_USAGE
  return completion
}

function choiceOf(candidate: Json, position: number): Json {
  const view = readParts(candidate.content?.parts)
  const calls = view.toolCalls.length > 0
  const message: Json = { role: 'assistant', content: view.content !== '' ? view.content : calls ? null : '', refusal: null }
  if (view.reasoning) message.reasoning_content = view.reasoning
  if (calls) message.tool_calls = view.toolCalls
  if (view.signature) message.extra_content = { google: { thought_signature: view.signature } }
  return {
    index: typeof candidate.index === 'number' ? candidate.index : position,
    message,
    logprobs: chatLogprobs(candidate.logprobsResult),
    finish_reason: finishReason(candidate.finishReason, calls),
  }
}
