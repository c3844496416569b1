/**
 * The Gemini shapes the gateway and its plugins read, after Google's REST reference (generateContent). Only the
 * fields code here reads are named; everything else passes through untouched, so each shape stays open.
 */

/** One part of a message: text, a thought, inline bytes, a file, a function call or result, executed code. */
export interface Part {
  text?: string
  thought?: boolean
  thoughtSignature?: string
  inlineData?: { mimeType: string; data: string }
  fileData?: { mimeType?: string; fileUri: string }
  functionCall?: { name: string; args?: Record<string, unknown>; id?: string }
  functionResponse?: { name: string; response?: Record<string, unknown>; id?: string }
  executableCode?: { language?: string; code: string }
  codeExecutionResult?: { outcome?: string; output?: string }
  [field: string]: unknown
}

export interface Content {
  role?: string
  parts?: Part[]
  [field: string]: unknown
}

export interface GroundingMetadata {
  groundingChunks?: { web?: { uri?: string; title?: string } }[]
  [field: string]: unknown
}

export interface Candidate {
  content?: Content
  finishReason?: string
  index?: number
  groundingMetadata?: GroundingMetadata
  [field: string]: unknown
}

export interface UsageMetadata {
  promptTokenCount?: number
  candidatesTokenCount?: number
  thoughtsTokenCount?: number
  totalTokenCount?: number
  [field: string]: unknown
}

/** A generateContent answer, or one event of a stream. */
export interface GenerateContentResponse {
  candidates?: Candidate[]
  promptFeedback?: { blockReason?: string; [field: string]: unknown }
  usageMetadata?: UsageMetadata
  modelVersion?: string
  responseId?: string
  [field: string]: unknown
}
