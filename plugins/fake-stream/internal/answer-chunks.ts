import { GatewayError, Payload, type Candidate, type GeminiResponse, type Part } from 'gemgate'

/** What an OpenAI-style delta makes of a part: reasoning, a tool call, or content (text, code, images). */
type PartKind = 'thought' | 'call' | 'content'

function kindOf(part: unknown): PartKind {
  const p = (typeof part === 'object' && part !== null ? part : {}) as Record<string, unknown>
  if (p.thought === true) return 'thought'
  return p.functionCall !== undefined ? 'call' : 'content'
}

/**
 * A whole generateContent answer as the stream events a real stream would have sent: every part kept, in order, one
 * event per run of parts of one kind (thoughts, then the text, then tool calls...). One event with all of them
 * would lose nothing either, but a converted stream would then carry reasoning, content and tool calls in the same
 * OpenAI delta, which clients that read one field per delta (`if reasoning ... else if content`) half drop.
 *
 * Like Google's own events, each one carries the answer's top-level fields (usage, model version, response id: the
 * converted dialects take their id and input usage from the first event); a candidate's closing fields
 * (finishReason, safety ratings, grounding, citations) ride on its last event only. An answer that needs no split
 * (the usual single text part) is one event. Events are written compactly: Google's unary body is pretty-printed,
 * and a line break inside an SSE `data:` line would cut the event in two.
 */
export function answerChunks(answer: Payload): Payload[] {
  const data = answer.tryData() as GeminiResponse | undefined
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new GatewayError(502, 'Gemini sent an answer that is not a JSON object.')
  const { candidates, ...top } = data
  if (!Array.isArray(candidates)) return [Payload.fromData(data)]
  const perCandidate = candidates.map(candidateEvents)
  const count = Math.max(1, ...perCandidate.map((events) => events.length))
  if (count === 1) return [Payload.fromData(data)]
  const chunks: Payload[] = []
  for (let i = 0; i < count; i++) {
    chunks.push(Payload.fromData({ candidates: perCandidate.flatMap((events) => (i < events.length ? [events[i]] : [])), ...top }))
  }
  return chunks
}

/** One candidate's share of each event; `index` is always set, since a candidate is absent from some events. */
function candidateEvents(candidate: Candidate, position: number): Candidate[] {
  const parts = candidate?.content?.parts
  if (!Array.isArray(parts) || parts.length < 2) return [candidate]
  const runs: Part[][] = []
  let previous: PartKind | undefined
  for (const part of parts) {
    const kind = kindOf(part)
    if (kind === previous) runs.at(-1)!.push(part)
    else runs.push([part])
    previous = kind
  }
  if (runs.length === 1) return [candidate]
  const index = typeof candidate.index === 'number' ? candidate.index : position
  return runs.map((run, i) => {
    const content = { ...candidate.content, parts: run }
    return i === runs.length - 1 ? { ...candidate, content, index } : { content, index }
  })
}
