import * as v from 'valibot'
import { definePlugin, type GatewayRequest, type GeminiResponse, type PluginHooks, type RequestContext } from 'gemgate'
import { addGoogleSearch } from './internal/google-search.ts'
import { appendSources, collectSources, type Sources } from './internal/sources.ts'

const NAME = 'search'
const SUFFIX = '-search'

/** Only answers are grounded: countTokens, embeddings and Google's own OpenAI layer keep their bodies. */
const GENERATES = new Set(['generateContent', 'streamGenerateContent'])

const searches = (request: GatewayRequest): boolean => request.variants?.has(SUFFIX) === true && GENERATES.has(request.operation)

/**
 * `<model>-search`: the model answers with Google Search grounding (gemini-balance's SEARCH_MODELS), for every client
 * dialect. With SHOW_SEARCH_LINK the web sources Google cited follow the answer once, as a markdown list at its end;
 * gemini-balance appended them to every stream chunk that carried grounding, so a client saw them several times.
 */
export default definePlugin({
  name: NAME,
  summary: '`<model>-search` variants answer with Google Search grounding and list their sources once, at the end.',
  options: v.strictObject({
    models: v.optional(v.array(v.string()), ['gemini-2.5-flash', 'gemini-2.5-pro']),
    showLink: v.optional(v.boolean(), true),
  }),
  env: {
    models: { env: 'SEARCH_MODELS', kind: 'list' },
    showLink: { env: 'SHOW_SEARCH_LINK', kind: 'bool' },
  },
  docs: {
    models: 'models offered as `<model>-search` (listed after their base, answered with the googleSearch tool)',
    showLink: 'end a `-search` answer with the list of web sources Google cited',
  },

  setup({ models, showLink }) {
    const offered = new Set(models)
    const hooks: PluginHooks = {
      variants: [{ suffix: SUFFIX, appliesTo: (base) => offered.has(base) }],
      transformRequest(request) {
        if (searches(request)) addGoogleSearch(request.body)
      },
    }
    // Without links the answers pass untouched: no answer hook at all.
    if (!showLink) return hooks
    return {
      ...hooks,
      rewritesAnswer: searches,
      transformResponse(response) {
        for (const candidate of candidatesOf(response)) {
          const sources: Sources = new Map()
          collectSources(candidate, sources)
          appendSources(candidate, sources)
        }
      },
      // Grounding may come on several chunks, repeating earlier sources: they are gathered per candidate as the stream
      // goes and listed once, on the candidate's last chunk (the one with its finishReason).
      chunksWith: ['"groundingMetadata"', '"finishReason"'],
      transformChunk(chunk, ctx) {
        const seen = streamSources(ctx)
        candidatesOf(chunk).forEach((candidate, position) => {
          const index = typeof candidate.index === 'number' ? candidate.index : position
          let sources = seen.get(index)
          if (!sources) seen.set(index, (sources = new Map()))
          collectSources(candidate, sources)
          if (candidate.finishReason === undefined) return
          appendSources(candidate, sources)
          seen.delete(index)
        })
      },
    }
  },
})

const candidatesOf = (response: GeminiResponse): GeminiResponse[] =>
  Array.isArray(response.candidates) ? response.candidates.filter((c: unknown) => typeof c === 'object' && c !== null) : []

/** The sources of this request's stream so far, per candidate index. */
function streamSources(ctx: RequestContext): Map<number, Sources> {
  return (ctx.state[NAME] ??= new Map()) as Map<number, Sources>
}
