import * as v from 'valibot'
import { definePlugin, isHttpUrl, offerUploader, UPLOAD_PROVIDER_ENV, UPLOADER_OPTIONS, uploaderDocs } from 'gemgate'
import { PICGO_UPLOAD_URL, sendToPicgo } from './internal/api.ts'

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
  summary:
    'Uploads answer images to picgo.net, a Chevereto or a PicGo server when `UPLOAD_PROVIDER` is `picgo` and a key is set; a failed upload leaves the image as a data URL.',
  options: v.pipe(
    v.strictObject({
      ...UPLOADER_OPTIONS,
      apiKey: v.optional(v.pipe(v.string(), v.trim()), ''),
      url: v.optional(v.pipe(v.string(), v.trim()), PICGO_UPLOAD_URL),
    }),
    v.forward(
      v.partialCheck([['provider'], ['url']], (o) => o.provider !== PROVIDER || isHttpUrl(o.url), 'must be an http(s) URL'),
      ['url'],
    ),
  ),
  env: {
    provider: UPLOAD_PROVIDER_ENV,
    apiKey: { env: 'PICGO_API_KEY', kind: 'string', secret: true },
    url: { env: 'PICGO_API_URL', kind: 'string' },
  },
  docs: {
    ...uploaderDocs(PROVIDER),
    apiKey: 'the API key; without it nothing is uploaded. Sent as `X-API-Key` to picgo.net, as `?key=` to any other URL',
    url: 'the upload endpoint: Chevereto API v1 (`{status_code, image: {url}}`) or a PicGo server (`{success, result: [url]}`)',
  },

  setup(options, ctx) {
    offerUploader(ctx, options, {
      provider: PROVIDER,
      missing: options.apiKey ? undefined : 'PICGO_API_KEY is not set',
      sender: () => sendToPicgo(options.url, options.apiKey),
      where: () => `PicGo (${new URL(options.url).origin}${new URL(options.url).pathname})`,
    })
    return {}
  },
})
