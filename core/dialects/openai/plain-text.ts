/**
 * Most events of a Gemini text stream are one candidate's next piece of plain text, written by Google in one fixed
 * shape: `{"candidates": [{"content": {"parts": [{"text": "…"}],"role": "model"},"index": 0}],"usageMetadata": …}`.
 * Such an event is read here without a JSON parse: its text stays the JSON string literal it is on the wire (checked
 * to be a valid one), ready to be copied into the OpenAI chunk. Any other event (a thought, a tool call, a finish
 * reason, citations, several candidates, another spelling of the same JSON) is not recognised and gets parsed in full.
 */
export interface PlainText {
  /** The text as a JSON string literal, quotes included. */
  literal: string
  /** Whether the event carries usageMetadata (after the candidates, where nothing a model wrote can be). */
  usage: boolean
}

const OPENING = '{"candidates": [{"content": {"parts": [{"text": "'
const AFTER_TEXT = '}],"role": "model"}'
const CANDIDATE_ENDS = ['}],', ',"index": 0}],']

export function plainText(event: string): PlainText | undefined {
  if (!event.startsWith(OPENING)) return undefined
  const end = stringEnd(event, OPENING.length - 1)
  if (end === -1 || !event.startsWith(AFTER_TEXT, end + 1)) return undefined
  const rest = end + 1 + AFTER_TEXT.length
  const candidateEnd = CANDIDATE_ENDS.find((ending) => event.startsWith(ending, rest))
  if (!candidateEnd) return undefined
  return { literal: event.slice(OPENING.length - 1, end + 1), usage: event.includes('"usageMetadata"', rest + candidateEnd.length) }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
/** The characters JSON allows after a backslash (u is checked apart: four hex digits follow it). */
const ESCAPED = new Set([...'"\\/bfnrt'].map((c) => c.charCodeAt(0)))
const HEX4 = /^[0-9a-fA-F]{4}$/

/** Where the JSON string literal opened at `open` closes; -1 if it is not a valid one (a raw control character, a bad escape). */
function stringEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) return i
    if (c < 0x20) return -1
    if (c !== BACKSLASH) continue
    const escaped = text.charCodeAt(++i)
    if (escaped === 0x75) {
      if (!HEX4.test(text.slice(i + 1, i + 5))) return -1
      i += 4
    } else if (!ESCAPED.has(escaped)) return -1
  }
  return -1
}
