/** `models/gemini-2.5-flash` → `gemini-2.5-flash`: lists carry the prefix, URLs and clients mostly do not. */
export const shortModelName = (name: string): string => name.replace(/^models\//, '')

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/**
 * A model id as a client may send it (`gemini-2.5-flash` or `models/gemini-2.5-flash`), or undefined when it is not
 * one. The id goes into the upstream URL path, so nothing else (slashes, dots first, escapes) is let through.
 */
export function modelId(raw: string): string | undefined {
  const id = shortModelName(raw)
  return MODEL_ID.test(id) ? id : undefined
}
