import * as v from 'valibot'
import { definePlugin, type GatewayRequest, type GeminiResponse, type RequestContext } from 'gemgate'
import { askForImages } from './internal/modalities.ts'
import { imagesToMarkdown } from './internal/markdown.ts'
import { imageUrl, type InlineImage, type Uploader } from 'gemgate'

const SUFFIX = '-image'
const GENERATES = new Set(['generateContent', 'streamGenerateContent'])

/**
 * Image output in chat.
 *
 * `<model>-image` (gemini-balance's IMAGE_MODELS) asks Google for text and images. Unlike gemini-balance it keeps the
 * client's system instruction (the model that refused one, gemini-2.0-flash-exp's image generation, is gone; the
 * current image models take it, and a model that does not says so in a 400 instead of losing the instruction
 * silently), and it keeps a client's modalities that already ask for images (`['IMAGE']` alone is a valid choice).
 *
 * Images in any answer reach clients that read text (OpenAI, Anthropic, Responses) as markdown images: uploaded by
 * the 'uploader' service when a plugin provides one, else (and whenever an upload fails) as data URLs. Native Gemini
 * clients, and plugin routes that read Gemini answers themselves, get the inlineData parts untouched.
 */
export default definePlugin({
  name: 'image-chat',
  summary:
    '`<model>-image` variants answer with text and images; images reach OpenAI, Anthropic and Responses clients as markdown (uploaded when an uploader is set up, else data URLs).',
  options: v.strictObject({
    models: v.optional(v.array(v.string()), ['gemini-2.0-flash-exp', 'gemini-2.5-flash-image-preview']),
    uploadTimeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(0.1)), 30),
  }),
  env: { models: { env: 'IMAGE_MODELS', kind: 'list' } },
  docs: {
    models: 'models offered as `<model>-image` (listed after their base; Google is asked for text and image output)',
    uploadTimeoutSeconds: 'how long an answer waits for one image upload before it carries the image as a data URL',
  },

  setup({ models, uploadTimeoutSeconds }, ctx) {
    const offered = new Set(models)
    const timeoutMs = uploadTimeoutSeconds * 1000

    // Looked up per answer: an uploader plugin may be listed (and set up) after this one.
    function uploaderFor(rctx: RequestContext): ((image: InlineImage) => Promise<string>) | undefined {
      const uploader = rctx.services.get<Uploader>('uploader')
      return uploader && ((image) => imageUrl(image, uploader, { signal: rctx.signal, timeoutMs, logger: ctx.logger }))
    }
    const rewrite = (answer: GeminiResponse, rctx: RequestContext) => imagesToMarkdown(answer, uploaderFor(rctx))

    return {
      variants: [{ suffix: SUFFIX, appliesTo: (base) => offered.has(base) }],
      transformRequest(request) {
        if (request.variants?.has(SUFFIX) && GENERATES.has(request.operation)) askForImages(request.body)
      },
      // Native answers keep Google's bytes: the answer hooks run for clients that read text only.
      rewritesAnswer: readsText,
      transformResponse: rewrite,
      // A chunk without images passes at once, unparsed; one with images waits only for its own uploads.
      transformChunk: rewrite,
      chunksWith: ['"inlineData"'],
    }
  },
})

/**
 * Clients that read the answer as text: the converted dialects. Native Gemini clients, and routes that answer in
 * Gemini's wire shape (a plugin's, such as Vertex Express), read inlineData themselves.
 */
const TEXT_DIALECTS = new Set(['openai', 'anthropic', 'responses'])
const readsText = (request: GatewayRequest): boolean => TEXT_DIALECTS.has(request.dialect)
