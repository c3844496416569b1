// Google's built-in tools (§1.4, §1.5): a request whose tools carry googleSearch gets a grounded answer, one whose
// tools carry codeExecution and whose user text asks to run code gets the code and its result before the text.
// Both spellings of each tool are accepted, as Google's parser accepts them, and `tools` may be a single object.

import type { EchoAnswer, Json } from './responses.ts'
import { isObject, lastUserText } from './responses.ts'

/** The user text that makes the fake run code (when codeExecution is offered). */
const ASKS_TO_RUN = /\b(run|execute)\b/i

/** The two web sources of every grounded answer. */
export const SEARCH_SOURCES = [
  { uri: 'https://vertexaisearch.cloud.google.com/grounding-api-redirect/fake-source-one', title: 'example.com' },
  { uri: 'https://www.google.com/search?q=fake+source+two', title: 'Search results for fake source two' },
] as const

/** The code and its output in every code execution answer (§1.5). */
export const CODE_RUN = {
  code: "prime_numbers = [2, 3, 5, 7, 11]\nsum_of_primes = sum(prime_numbers)\nprint(f'{sum_of_primes=}')\n",
  output: 'sum_of_primes=28\n',
} as const

export interface ToolAnswer {
  /** The unary answer. */
  full(): Json
  /** The stream: the code parts in chunks of their own, then the text in `n` chunks. */
  chunks(n: number): Json[]
}

/** The answer to a request that uses a built-in tool the fake knows, or undefined for a plain echo. */
export function toolAnswer(answer: EchoAnswer, request: Json): ToolAnswer | undefined {
  const tools = Array.isArray(request.tools) ? request.tools : [request.tools]
  const offers = (camel: string, snake: string) => tools.some((tool) => isObject(tool) && (isObject(tool[camel]) || isObject(tool[snake])))
  const search = offers('googleSearch', 'google_search')
  const code = offers('codeExecution', 'code_execution') && ASKS_TO_RUN.test(lastUserText(request))
  if (!search && !code) return undefined
  return {
    full() {
      const body = answer.full()
      const candidate = firstCandidate(body)
      if (code) (candidate.content as { parts: Json[] }).parts.unshift(...codeParts())
      if (search) candidate.groundingMetadata = grounding(SEARCH_SOURCES.length)
      return body
    },
    chunks(n) {
      const text = answer.chunks(n)
      const chunks = code ? codeParts().map((part) => withParts(answer.chunk('', 0, false), [part])) : []
      for (let i = 0; i < text.count; i++) chunks.push(text.get(i))
      if (search) {
        // Google may send grounding on more than one chunk, repeating the sources it already sent.
        const last = chunks.length - 1
        if (text.count > 1) firstCandidate(chunks[last - 1]!).groundingMetadata = grounding(1)
        firstCandidate(chunks[last]!).groundingMetadata = grounding(SEARCH_SOURCES.length)
      }
      return chunks
    },
  }
}

function codeParts(): Json[] {
  return [{ executableCode: { language: 'PYTHON', code: CODE_RUN.code } }, { codeExecutionResult: { outcome: 'OUTCOME_OK', output: CODE_RUN.output } }]
}

/** groundingMetadata (§1.4 key order) citing the first `count` sources. */
function grounding(count: number): Json {
  const sources = SEARCH_SOURCES.slice(0, count)
  return {
    searchEntryPoint: { renderedContent: '<div class="container">fake search chips</div>\n' },
    groundingChunks: sources.map((web) => ({ web: { ...web } })),
    groundingSupports: sources.map((_, i) => ({ segment: { endIndex: 4, text: 'Echo' }, groundingChunkIndices: [i], confidenceScores: [0.9] })),
    retrievalMetadata: {},
    webSearchQueries: ['fake search query'],
  }
}

const firstCandidate = (body: Json): Json => (body.candidates as Json[])[0]!

function withParts(chunk: Json, parts: Json[]): Json {
  ;(firstCandidate(chunk).content as Json).parts = parts
  return chunk
}
