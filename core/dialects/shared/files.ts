import type { Json } from '../../internal/json.ts'

/** Where Google's Files API keeps a file: the start of every `fileData.fileUri` it hands out. */
export const GEMINI_FILES = 'https://generativelanguage.googleapis.com/v1beta/files/'

/**
 * A Files API file as a Gemini `fileData` part, from what a client of another dialect names it by (`files/abc`, `abc`,
 * or its URI): Google reads it itself, and the resources plugin sends the request to the key that owns it.
 */
export function geminiFilePart(id: string, mimeType?: string): Json {
  const fileData: Json = { fileUri: /^https?:\/\//i.test(id) ? id : GEMINI_FILES + id.replace(/^files\//, '') }
  if (mimeType) fileData.mimeType = mimeType
  return { fileData }
}
