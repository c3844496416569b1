// The model catalogue the fake serves (shapes as §3.4 / §3.5), with list pagination.

import type { FakeError } from './errors.ts'
import { badRequest, modelNotFound, modelRetired } from './errors.ts'

export interface ModelInfo {
  name: string
  version: string
  displayName: string
  description: string
  inputTokenLimit: number
  outputTokenLimit: number
  supportedGenerationMethods: string[]
  temperature?: number
  topP?: number
  topK?: number
  maxTemperature?: number
  thinking?: boolean
}

const CHAT_METHODS = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent']
const EMBED_METHODS = ['embedContent', 'countTextTokens', 'countTokens', 'asyncBatchEmbedContent']
const THINKING_SAMPLING = { temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2, thinking: true }

export const MODELS: readonly ModelInfo[] = [
  {
    name: 'models/gemini-2.5-flash',
    version: '001',
    displayName: 'Gemini 2.5 Flash',
    description: 'Stable version of Gemini 2.5 Flash, our mid-size multimodal model that supports up to 1 million tokens, released in June of 2025.',
    inputTokenLimit: 1048576,
    outputTokenLimit: 65536,
    supportedGenerationMethods: CHAT_METHODS,
    ...THINKING_SAMPLING,
  },
  {
    name: 'models/gemini-2.5-pro',
    version: '2.5',
    displayName: 'Gemini 2.5 Pro',
    description: 'Stable release (June 17th, 2025) of Gemini 2.5 Pro',
    inputTokenLimit: 1048576,
    outputTokenLimit: 65536,
    supportedGenerationMethods: CHAT_METHODS,
    ...THINKING_SAMPLING,
  },
  {
    name: 'models/gemini-2.5-flash-lite',
    version: '001',
    displayName: 'Gemini 2.5 Flash-Lite',
    description: 'Stable version of Gemini 2.5 Flash-Lite, released in July of 2025',
    inputTokenLimit: 1048576,
    outputTokenLimit: 65536,
    supportedGenerationMethods: CHAT_METHODS,
    ...THINKING_SAMPLING,
  },
  {
    name: 'models/gemini-2.0-flash',
    version: '2.0',
    displayName: 'Gemini 2.0 Flash',
    description: 'Gemini 2.0 Flash',
    inputTokenLimit: 1048576,
    outputTokenLimit: 8192,
    supportedGenerationMethods: CHAT_METHODS,
    temperature: 1,
    topP: 0.95,
    topK: 40,
    maxTemperature: 2,
  },
  {
    name: 'models/gemini-3-flash-preview',
    version: '3-flash-preview-12-2025',
    displayName: 'Gemini 3 Flash Preview',
    description: 'Gemini 3 Flash Preview',
    inputTokenLimit: 1048576,
    outputTokenLimit: 65536,
    supportedGenerationMethods: CHAT_METHODS,
    ...THINKING_SAMPLING,
  },
  {
    name: 'models/gemini-2.5-flash-preview-tts',
    version: 'gemini-2.5-flash-exp-tts-2025-05-19',
    displayName: 'Gemini 2.5 Flash Preview TTS',
    description: 'Gemini 2.5 Flash Preview TTS',
    inputTokenLimit: 8192,
    outputTokenLimit: 16384,
    supportedGenerationMethods: ['countTokens', 'generateContent'],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
  },
  {
    name: 'models/gemini-2.5-flash-image',
    version: '2.0',
    displayName: 'Nano Banana',
    description: 'Gemini 2.5 Flash Image',
    inputTokenLimit: 32768,
    outputTokenLimit: 32768,
    supportedGenerationMethods: ['generateContent', 'countTokens', 'batchGenerateContent'],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
  },
  {
    name: 'models/gemma-3-27b-it',
    version: '001',
    displayName: 'Gemma 3 27B',
    description: 'Gemma 3 27B instruction-tuned',
    inputTokenLimit: 131072,
    outputTokenLimit: 8192,
    supportedGenerationMethods: ['generateContent', 'countTokens'],
    temperature: 1,
    topP: 0.95,
    topK: 64,
  },
  {
    name: 'models/gemini-embedding-001',
    version: '001',
    displayName: 'Gemini Embedding 001',
    description: 'Obtain a distributed representation of a text.',
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    supportedGenerationMethods: EMBED_METHODS,
  },
  {
    name: 'models/text-embedding-004',
    version: '004',
    displayName: 'Text Embedding 004',
    description: 'Obtain a distributed representation of a text.',
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    supportedGenerationMethods: ['embedContent'],
  },
  {
    name: 'models/imagen-4.0-generate-001',
    version: '001',
    displayName: 'Imagen 4',
    description: 'Vertex served Imagen 4.0 model',
    inputTokenLimit: 480,
    outputTokenLimit: 8192,
    supportedGenerationMethods: ['predict'],
  },
  {
    name: 'models/chat-bison-001',
    version: '001',
    displayName: 'PaLM 2 Chat (Legacy)',
    description: 'A legacy text-only model optimized for chat conversations',
    inputTokenLimit: 4096,
    outputTokenLimit: 1024,
    supportedGenerationMethods: ['generateMessage', 'countMessageTokens'],
    temperature: 0.25,
    topP: 0.95,
    topK: 40,
  },
  {
    name: 'models/embedding-gecko-001',
    version: '001',
    displayName: 'Embedding Gecko',
    description: 'Obtain a distributed representation of a text.',
    inputTokenLimit: 1024,
    outputTokenLimit: 1,
    supportedGenerationMethods: ['embedText', 'countTextTokens'],
  },
]

/** Retired models: not listed; every call answers 404 "no longer available", naming the replacement. */
export const RETIRED_MODELS: Readonly<Record<string, string>> = { 'gemini-1.5-flash': 'gemini-2.5-flash' }

const byId = new Map(MODELS.map((m) => [m.name.slice('models/'.length), m]))

/** `id` without the "models/" prefix. */
export function findModel(id: string): ModelInfo | undefined {
  return byId.get(id)
}

/** Which supportedGenerationMethods entry gates an action. */
const METHOD_FOR_ACTION: Record<string, string> = {
  generateContent: 'generateContent',
  streamGenerateContent: 'generateContent',
  countTokens: 'countTokens',
  embedContent: 'embedContent',
  batchEmbedContents: 'embedContent',
}

/** The 404 for calling `action` on `id`, or undefined when the model supports it. */
export function checkModelAction(id: string, action: string): FakeError | undefined {
  const retiredFor = Object.hasOwn(RETIRED_MODELS, id) ? RETIRED_MODELS[id] : undefined // "constructor" is no model
  if (retiredFor !== undefined) return modelRetired(id, retiredFor)
  const method = METHOD_FOR_ACTION[action] ?? action
  const model = byId.get(id)
  if (model === undefined || !model.supportedGenerationMethods.includes(method)) {
    return modelNotFound(id, action === 'streamGenerateContent' ? 'generateContent' : action)
  }
  return undefined
}

// Page tokens look like Google's: base64 of a protobuf string field holding the next model's name.
const encodeToken = (name: string): string => Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(name)]), Buffer.from(name)]).toString('base64')

function decodeToken(token: string): number {
  const bytes = Buffer.from(token, 'base64')
  if (bytes.length < 2 || bytes[0] !== 0x0a) return -1
  const name = bytes.subarray(2, 2 + (bytes[1] ?? 0)).toString()
  return MODELS.findIndex((m) => m.name === name)
}

export function listModels(query: Record<string, string>): { body: unknown } | { error: FakeError } {
  const requested = Number.parseInt(query.pageSize ?? '', 10)
  const pageSize = !(requested > 0) ? 50 : Math.min(requested, 1000)
  let start = 0
  if (query.pageToken) {
    start = decodeToken(query.pageToken)
    if (start < 0) return { error: badRequest('Invalid page token.') }
  }
  const page = MODELS.slice(start, start + pageSize)
  const next = MODELS[start + pageSize]
  return { body: next === undefined ? { models: page } : { models: page, nextPageToken: encodeToken(next.name) } }
}
