import * as v from 'valibot'
import { definePlugin, defineUploader } from '../../../core/index.ts'
import { isHttpUrl, sendToSmms, SMMS_UPLOAD_URL } from './internal/api.ts'

const PROVIDER = 'smms'

/**
 * Images in answers uploaded to sm.ms, as gemini-balance's `UPLOAD_PROVIDER=smms` did, so text clients get a link
 * instead of a data URL. It provides the 'uploader' service only when UPLOAD_PROVIDER is `smms` (gemini-balance's
 * default) and SMMS_SECRET_TOKEN is set. Unlike gemini-balance, an upload has a time limit, a network failure is
 * retried once, and a failed upload leaves the image as a data URL instead of failing the chat.
 */
export default definePlugin({
  name: 'smms',
  summary: 'Uploads answer images to sm.ms when `UPLOAD_PROVIDER` is `smms` and a token is set; a failed upload leaves the image as a data URL.',
  options: v.pipe(
    v.strictObject({
      provider: v.optional(v.pipe(v.string(), v.trim(), v.toLowerCase()), PROVIDER),
      token: v.optional(v.pipe(v.string(), v.trim()), ''),
      url: v.optional(v.pipe(v.string(), v.trim()), SMMS_UPLOAD_URL),
      timeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(300)), 30),
      maxMb: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(100)), 20),
    }),
    v.forward(v.partialCheck([['provider'], ['url']], (o) => o.provider !== PROVIDER || isHttpUrl(o.url), 'must be an http(s) URL'), ['url']),
  ),
  env: {
    provider: { env: 'UPLOAD_PROVIDER', kind: 'string' },
    token: { env: 'SMMS_SECRET_TOKEN', kind: 'string', secret: true },
  },
  docs: {
    provider: 'the image host in use: this plugin uploads only when it is `smms` (`picgo`, `cloudflare_imgbed` choose the others)',
    token: 'the sm.ms API secret token (User > Dashboard > API Token); without it nothing is uploaded',
    url: 'the upload endpoint (`https://smms.app/api/v2/upload` where sm.ms is blocked; S.EE: `https://s.ee/api/v1/file/upload`)',
    timeoutSeconds: 'time limit of one upload attempt; a network failure or a timeout is retried once',
    maxMb: 'larger images are not uploaded (they stay data URLs)',
  },

  setup(options, ctx) {
    if (options.provider !== PROVIDER) {
      ctx.logger.debug(`not uploading: UPLOAD_PROVIDER is ${options.provider || '(empty)'}, not ${PROVIDER}`)
    } else if (!options.token) {
      ctx.logger.debug('not uploading: UPLOAD_PROVIDER is smms but SMMS_SECRET_TOKEN is not set, so images stay data URLs')
    } else {
      const settings = { timeoutMs: options.timeoutSeconds * 1000, maxBytes: options.maxMb * 1024 * 1024 }
      ctx.services.provide('uploader', defineUploader(sendToSmms(options.url, options.token), settings), ctx.name)
      const { origin, pathname } = new URL(options.url)
      ctx.logger.info(`images in answers are uploaded to sm.ms (${origin}${pathname})`)
    }
    return {}
  },
})
