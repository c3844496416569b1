import * as v from 'valibot'
import { definePlugin, isHttpUrl, offerUploader, UPLOAD_PROVIDER_ENV, UPLOADER_OPTIONS, uploaderDocs } from 'gemgate'
import { sendToImgBed } from './internal/api.ts'

const PROVIDER = 'cloudflare_imgbed'

/**
 * Images in answers uploaded to a CloudFlare-ImgBed (MarSeventh's image host on Cloudflare Pages), as
 * gemini-balance's `UPLOAD_PROVIDER=cloudflare_imgbed` did. It provides the 'uploader' service only when
 * UPLOAD_PROVIDER is `cloudflare_imgbed` and both CLOUDFLARE_IMGBED_URL and CLOUDFLARE_IMGBED_AUTH_CODE are set.
 * Unlike gemini-balance, an upload has a time limit, a network failure is retried once, the query values are
 * URL-encoded, and a failed upload leaves the image as a data URL instead of failing the chat.
 */
export default definePlugin({
  name: 'cloudflare-imgbed',
  summary:
    'Uploads answer images to a CloudFlare-ImgBed when `UPLOAD_PROVIDER` is `cloudflare_imgbed` and its URL and auth code are set; a failed upload leaves the image as a data URL.',
  options: v.pipe(
    v.strictObject({
      ...UPLOADER_OPTIONS,
      url: v.optional(v.pipe(v.string(), v.trim()), ''),
      authCode: v.optional(v.pipe(v.string(), v.trim()), ''),
      uploadFolder: v.optional(v.pipe(v.string(), v.trim()), ''),
    }),
    v.forward(
      v.partialCheck([['provider'], ['url']], (o) => o.provider !== PROVIDER || o.url === '' || isHttpUrl(o.url), 'must be an http(s) URL'),
      ['url'],
    ),
  ),
  env: {
    provider: UPLOAD_PROVIDER_ENV,
    url: { env: 'CLOUDFLARE_IMGBED_URL', kind: 'string' },
    authCode: { env: 'CLOUDFLARE_IMGBED_AUTH_CODE', kind: 'string', secret: true },
    uploadFolder: { env: 'CLOUDFLARE_IMGBED_UPLOAD_FOLDER', kind: 'string' },
  },
  docs: {
    ...uploaderDocs(PROVIDER),
    url: 'the ImgBed upload endpoint, e.g. `https://img.example.com/upload`; the links it answers are put after the part before `/upload`',
    authCode: 'the ImgBed upload auth code; without it (or without `url`) nothing is uploaded',
    uploadFolder: 'the ImgBed folder the images go to (empty: the root)',
  },

  setup(options, ctx) {
    const missing = [!options.url && 'CLOUDFLARE_IMGBED_URL', !options.authCode && 'CLOUDFLARE_IMGBED_AUTH_CODE'].filter(Boolean).join(' and ')
    offerUploader(ctx, options, {
      provider: PROVIDER,
      missing: missing ? `${missing} ${missing.includes(' and ') ? 'are' : 'is'} not set` : undefined,
      sender: () => sendToImgBed(options),
      where: () =>
        `CloudFlare-ImgBed (${new URL(options.url).origin}${new URL(options.url).pathname}${options.uploadFolder ? `, folder ${options.uploadFolder}` : ''})`,
    })
    return {}
  },
})
