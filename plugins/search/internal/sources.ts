/** A candidate of a Gemini answer or stream chunk, as plain JSON. */
type Json = Record<string, any>

/** The web sources of one candidate seen so far: uri → title, in the order Google cited them, each uri once. */
export type Sources = Map<string, string>

/** Adds the web sources of the candidate's groundingMetadata to `sources`; a uri seen before keeps its place (a Map). */
export function collectSources(candidate: Json, sources: Sources): void {
  const chunks: unknown = candidate.groundingMetadata?.groundingChunks
  if (!Array.isArray(chunks)) return
  for (const chunk of chunks) {
    const web = chunk?.web
    const uri: unknown = web?.uri
    // Links a chat client renders: only web addresses, whatever else a grounding chunk may one day carry.
    if (typeof uri !== 'string' || !/^https?:\/\//i.test(uri)) continue
    sources.set(uri, typeof web.title === 'string' ? web.title : '')
  }
}

/** Ends the candidate's content with one text part listing the sources, when there are any. */
export function appendSources(candidate: Json, sources: Sources): void {
  if (sources.size === 0) return
  const content: Json = (candidate.content ??= { role: 'model' })
  if (!Array.isArray(content.parts)) content.parts = []
  content.parts.push({ text: sourcesMarkdown(sources) })
}

/** A markdown list under a rule, as gemini-balance wrote it (in English here): `- [title](uri)` per source. */
export function sourcesMarkdown(sources: Sources): string {
  let text = '\n\n---\n\n**Sources:**\n'
  for (const [uri, title] of sources) text += `\n- [${linkText(title || uri)}](${linkTarget(uri)})`
  return text
}

/** Brackets and backslashes in a title would end the link text early. */
const linkText = (title: string): string => title.replace(/[\\[\]]/g, '\\$&').replace(/\s+/g, ' ')

/** Spaces and parentheses in a uri would end the link target early; percent-encoded they mean the same. */
const linkTarget = (uri: string): string => uri.replace(/[\s()]/g, (c) => (c === '(' ? '%28' : c === ')' ? '%29' : encodeURIComponent(c)))
