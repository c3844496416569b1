/**
 * File name extension → MIME type, for when only a name says what a file is: a client's `filename`, the path of a
 * media URL whose server sent no type. A Map, because the extension is the client's: `x.constructor` or
 * `x.__proto__` must find nothing, as an object literal's inherited names would.
 */
const TYPES: ReadonlyMap<string, string> = new Map([
  ['pdf', 'application/pdf'],
  ['json', 'application/json'],
  ['txt', 'text/plain'],
  ['md', 'text/markdown'],
  ['csv', 'text/csv'],
  ['html', 'text/html'],
  ['png', 'image/png'],
  ['jpg', 'image/jpeg'],
  ['jpeg', 'image/jpeg'],
  ['gif', 'image/gif'],
  ['webp', 'image/webp'],
  ['heic', 'image/heic'],
  ['mp3', 'audio/mpeg'],
  ['wav', 'audio/wav'],
  ['ogg', 'audio/ogg'],
  ['flac', 'audio/flac'],
  ['mp4', 'video/mp4'],
  ['webm', 'video/webm'],
  ['mov', 'video/quicktime'],
])

/** `report.PDF` → application/pdf; undefined without an extension or for one not in the table. */
export function mimeFromFileName(name: string): string | undefined {
  const dot = name.lastIndexOf('.')
  return dot < 0 ? undefined : TYPES.get(name.slice(dot + 1).toLowerCase())
}
