// Keys found in whatever an operator pastes: a .env line, a JSON list, a spreadsheet column, a chat message.

/** A Gemini API key; the boundaries keep a longer run of key characters from being cut into a "key". */
const GEMINI_KEY = /(?<![0-9A-Za-z_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g
/** A Vertex AI Express key. */
const VERTEX_KEY = /(?<![0-9A-Za-z_.-])AQ\.[0-9A-Za-z_-]{50,}/g

/** Every key of `pool`'s kind in `text`, in order, repeats included. */
export function findKeys(text: string, pool: string): string[] {
  return text.match(pool === 'vertex-express' ? VERTEX_KEY : GEMINI_KEY) ?? []
}
