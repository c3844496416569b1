import * as v from 'valibot'
import { badRequest, definePlugin, GatewayError, nativeOperation, openaiDialect, Payload, type GeminiModel, type Outcome, type RouteCall } from 'gemgate'
import { imagesAnswer, lastUserText, noImageMessage, predictBody, readPredictions } from './internal/imagen.ts'
import { readDrawing, readImagesRequest, type Drawing } from './internal/request.ts'
import { dataUrl, imageUrl, type InlineImage, type Uploader } from 'gemgate'

const NAME = 'image-generation'
const SUFFIX = '-chat'
const PREDICT = 'imagen.predict'
const GENERATES = new Set(['generateContent', 'streamGenerateContent'])

/**
 * Imagen, two ways (gemini-balance's CREATE_IMAGE_MODEL and PAID_KEY):
 *
 * - `POST /v1/images/generations` (and /hf/v1): OpenAI's Images API, drawn by Imagen `:predict` through the pipeline
 *   (auth, key choice, retries, logs). Sizes map to Imagen's aspect ratios (1024x1792 included: gemini-balance only
 *   took its `1027x1792` typo), bad input is a 400 in OpenAI's shape, never a 500.
 * - `<CREATE_IMAGE_MODEL>-chat`: a chat model in every dialect, streamed or not, whose answer is the images drawn for
 *   the last user message, as a Gemini answer with inlineData parts (which image-chat shows as markdown to clients
 *   that read text).
 *
 * Both use PAID_KEY when it is set (Imagen is paid-tier only), as a pool of its own with the gateway's health
 * tracking; otherwise the gateway's keys. The prompt may say `{n:K}` and `{ratio:W:H}`.
 */
export default definePlugin({
  name: NAME,
  summary:
    'OpenAI image generation (`/v1/images/generations`) on Imagen, and `<CREATE_IMAGE_MODEL>-chat`, a chat model that answers with the images drawn for the last message.',
  options: v.strictObject({
    model: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a plain model id')), 'imagen-3.0-generate-002'),
    paidKey: v.optional(v.pipe(v.string(), v.trim()), ''),
    uploadTimeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(0.1)), 30),
  }),
  env: {
    model: { env: 'CREATE_IMAGE_MODEL', kind: 'string' },
    paidKey: { env: 'PAID_KEY', kind: 'string', secret: true },
  },
  docs: {
    model: 'the Imagen model that draws; also offered in chat as `<model>-chat` (an `imagen-` model a client names in /v1/images/generations is used instead)',
    paidKey: "an API key with Imagen access (paid tier) for these requests only; empty: the gateway's keys",
    uploadTimeoutSeconds: 'how long `response_format: "url"` waits for one image upload before answering a data URL',
  },

  setup({ model, paidKey, uploadTimeoutSeconds }, ctx) {
    const paid = paidKey ? ctx.createKeyPool([paidKey]) : undefined
    const chatEntry: GeminiModel = {
      name: `models/${model}${SUFFIX}`,
      displayName: `${model} (chat)`,
      ...chatDescription(),
    }

    // The uploader is looked up per request: an uploader plugin may be listed (and set up) after this one.
    function urlFor(image: InlineImage, signal: AbortSignal): Promise<string> | string {
      const uploader = ctx.services.get<Uploader>('uploader')
      return uploader ? imageUrl(image, uploader, { signal, timeoutMs: uploadTimeoutSeconds * 1000, logger: ctx.logger }) : dataUrl(image)
    }

    async function generations(call: RouteCall): Promise<Response> {
      const asked = readImagesRequest(await call.json())
      const imagen = call.model(asked.imagenModel ?? model, 'model')
      const outcome = await ctx.run(call, { operation: PREDICT, model: imagen, stream: false, body: predictBody(asked) })
      const { images, filtered } = readPredictions(jsonOf(outcome))
      if (images.length === 0) throw new GatewayError(400, noImageMessage(filtered), { param: 'prompt' })
      // Uploads run in parallel; one that fails gives that image a data URL, never a failed request.
      const data = await Promise.all(
        images.map(async (image) => {
          const revised_prompt = image.prompt ?? asked.prompt
          if (asked.format === 'b64_json') return { b64_json: image.data, revised_prompt }
          return { url: await urlFor(image, call.event.req.signal), revised_prompt }
        }),
      )
      return Response.json({ created: Math.floor(Date.now() / 1000), data })
    }

    return {
      operations: { [PREDICT]: nativeOperation('predict') },
      variants: [{ suffix: SUFFIX, appliesTo: (base) => base === model, describe: chatDescription }],
      // gemini-balance offered the chat model in the OpenAI list even when Google does not list the Imagen model
      // (Imagen is not always listed to every key); when Google lists it, the variant entry is there already.
      models: (upstream) => (upstream.some((listed) => listed.name === `models/${model}`) ? [] : [chatEntry]),

      transformRequest(request, rctx) {
        const chat = request.variants?.has(SUFFIX) === true && GENERATES.has(request.operation)
        if (!chat && request.operation !== PREDICT) return
        // Only the drawing goes to the paid key; looking the model up (models.get) is any key's work.
        if (paid) rctx.pool = paid
        if (!chat) return
        const prompt = lastUserText(request.body)
        if (prompt.trim() === '') throw badRequest(`${request.model} draws the text of the last user message, and it has none.`)
        rctx.state[NAME] = readDrawing(prompt, { count: 1, aspectRatio: '1:1' })
      },

      // A chat on the image model is answered by Imagen, with the attempt's key: a Gemini answer (or a one-chunk
      // stream) holding the images, finished, so every dialect renders it and key-select judges it as any answer.
      wrapUpstream: (next) => async (attempt, rctx) => {
        const drawing = rctx.state[NAME] as Drawing | undefined
        if (!drawing || !GENERATES.has(attempt.operation)) return next(attempt, rctx)
        const outcome = await next({ ...attempt, operation: PREDICT, model, stream: false, body: JSON.stringify(predictBody(drawing)) }, rctx)
        const answer = Payload.fromData(imagesAnswer(model, readPredictions(jsonOf(outcome))))
        return attempt.stream ? { kind: 'stream', chunks: once(answer) } : { kind: 'json', status: 200, body: answer }
      },

      routes(router) {
        router.add('POST', '/v1/images/generations', openaiDialect, generations)
      },
    }
  },
})

function chatDescription(): Partial<GeminiModel> {
  return {
    description: 'Imagen in chat: answers with the images drawn for the last user message ({n:1-4} and {ratio:W:H} in it choose count and shape).',
    supportedGenerationMethods: ['generateContent'],
  }
}

function jsonOf(outcome: Outcome): unknown {
  if (outcome.kind !== 'json') throw new GatewayError(502, 'Imagen answered a stream to a unary call.')
  return outcome.body.tryData()
}

async function* once(payload: Payload): AsyncGenerator<Payload> {
  yield payload
}
