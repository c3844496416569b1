import * as v from 'valibot'
import { definePlugin, defineUploader } from '../../../core/index.ts'
import { isHttpUrl, PICGO_UPLOAD_URL, sendToPicgo } from './internal/api.ts'

const PROVIDER = 'picgo'

/**
 * Images in answers uploaded to picgo.net (Chevereto), another Chevereto, or a self-hosted PicGo server, as
 * gemini-balance's `UPLOAD_PROVIDER=picgo` did. It provides the 'uploader' service only when UPLOAD_PROVIDER is
 * `picgo` and PICGO_API_KEY is set. Unlike gemini-balance, an upload has a time limit, a network failure is retried
 * once, the key is URL-encoded in the query, and a failed upload leaves the image as a data URL instead of failing
 * the chat.
 */
export default definePlugin({
  name: 'picgo',
  summary: 'Uploads answer images to picgo.net, a Chevereto or a PicGo server when `UPLOAD_PROVIDER` is `picgo` and a key is set; a failed upload leaves the image as a data URL.',
  options: v.pipe(
    v.strictObject({
      provider: v.optional(v.pipe(v.string(), v.trim(), v.toLowerCase()), 'smms'),
      apiKey: v.optional(v.pipe(v.string(), v.trim()), ''),
      url: v.optional(v.pipe(v.string(), v.trim()), PICGO_UPLOAD_URL),
      timeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(300)), 30),
      maxMb: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(100)), 20),
    }),
    v.forward(v.partialCheck([['provider'], ['url']], (o) => o.provider !== PROVIDER || isHttpUrl(o.url), 'must be an http(s) URL'), ['url']),
  ),
  env: {
    provider: { env: 'UPLOAD_PROVIDER', kind: 'string' },
    apiKey: { env: 'PICGO_API_KEY', kind: 'string', secret: true },
    url: { env: 'PICGO_API_URL', kind: 'string' },
  },
  docs: {
    provider: 'the image host in use: this plugin uploads only when it is `picgo`',
    apiKey: 'the API key; without it nothing is uploaded. Sent as `X-API-Key` to picgo.net, as `?key=` to any other URL',
    url: 'the upload endpoint: Chevereto API v1 (`{status_code, image: {url}}`) or a PicGo server (`{success, result: [url]}`)',
    timeoutSeconds: 'time limit of one upload attempt; a network failure or a timeout is retried once',
    maxMb: 'larger images are not uploaded (they stay data URLs)',
  },

  setup(options, ctx) {
    if (options.provider !== PROVIDER) {
      ctx.logger.debug(`not uploading: UPLOAD_PROVIDER is ${options.provider || '(empty)'}, not ${PROVIDER}`)
    } else if (!options.apiKey) {
      ctx.logger.debug('not uploading: UPLOAD_PROVIDER is picgo but PICGO_API_KEY is not set, so images stay data URLs')
    } else {
      const settings = { timeoutMs: options.timeoutSeconds * 1000, maxBytes: options.maxMb * 1024 * 1024 }
      ctx.services.provide('uploader', defineUploader(sendToPicgo(options.url, options.apiKey), settings), ctx.name)
      const { origin, pathname } = new URL(options.url)
      ctx.logger.info(`images in answers are uploaded to PicGo (${origin}${pathname})`)
    }
    return {}
  },
})
