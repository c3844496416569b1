import * as v from 'valibot'
import { definePlugin, defineUploader } from '../../../core/index.ts'
import { isHttpUrl, sendToImgBed } from './internal/api.ts'

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
  summary: 'Uploads answer images to a CloudFlare-ImgBed when `UPLOAD_PROVIDER` is `cloudflare_imgbed` and its URL and auth code are set; a failed upload leaves the image as a data URL.',
  options: v.pipe(
    v.strictObject({
      provider: v.optional(v.pipe(v.string(), v.trim(), v.toLowerCase()), 'smms'),
      url: v.optional(v.pipe(v.string(), v.trim()), ''),
      authCode: v.optional(v.pipe(v.string(), v.trim()), ''),
      uploadFolder: v.optional(v.pipe(v.string(), v.trim()), ''),
      timeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(300)), 30),
      maxMb: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(100)), 20),
    }),
    v.forward(v.partialCheck([['provider'], ['url']], (o) => o.provider !== PROVIDER || o.url === '' || isHttpUrl(o.url), 'must be an http(s) URL'), ['url']),
  ),
  env: {
    provider: { env: 'UPLOAD_PROVIDER', kind: 'string' },
    url: { env: 'CLOUDFLARE_IMGBED_URL', kind: 'string' },
    authCode: { env: 'CLOUDFLARE_IMGBED_AUTH_CODE', kind: 'string', secret: true },
    uploadFolder: { env: 'CLOUDFLARE_IMGBED_UPLOAD_FOLDER', kind: 'string' },
  },
  docs: {
    provider: 'the image host in use: this plugin uploads only when it is `cloudflare_imgbed`',
    url: 'the ImgBed upload endpoint, e.g. `https://img.example.com/upload`; the links it answers are put after the part before `/upload`',
    authCode: 'the ImgBed upload auth code; without it (or without `url`) nothing is uploaded',
    uploadFolder: 'the ImgBed folder the images go to (empty: the root)',
    timeoutSeconds: 'time limit of one upload attempt; a network failure or a timeout is retried once',
    maxMb: 'larger images are not uploaded (they stay data URLs)',
  },

  setup(options, ctx) {
    if (options.provider !== PROVIDER) {
      ctx.logger.debug(`not uploading: UPLOAD_PROVIDER is ${options.provider || '(empty)'}, not ${PROVIDER}`)
    } else if (!options.url || !options.authCode) {
      const missing = [!options.url && 'CLOUDFLARE_IMGBED_URL', !options.authCode && 'CLOUDFLARE_IMGBED_AUTH_CODE'].filter(Boolean).join(' and ')
      ctx.logger.debug(`not uploading: UPLOAD_PROVIDER is cloudflare_imgbed but ${missing} ${missing.includes(' and ') ? 'are' : 'is'} not set, so images stay data URLs`)
    } else {
      const settings = { timeoutMs: options.timeoutSeconds * 1000, maxBytes: options.maxMb * 1024 * 1024 }
      ctx.services.provide('uploader', defineUploader(sendToImgBed(options), settings), ctx.name)
      const { origin, pathname } = new URL(options.url)
      ctx.logger.info(`images in answers are uploaded to CloudFlare-ImgBed (${origin}${pathname}${options.uploadFolder ? `, folder ${options.uploadFolder}` : ''})`)
    }
    return {}
  },
})
