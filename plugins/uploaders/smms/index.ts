import * as v from 'valibot'
import { definePlugin, isHttpUrl, offerUploader, UPLOAD_PROVIDER_ENV, UPLOADER_OPTIONS, uploaderDocs } from 'gemgate'
import { sendToSmms, SMMS_UPLOAD_URL } from './internal/api.ts'

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
      ...UPLOADER_OPTIONS,
      token: v.optional(v.pipe(v.string(), v.trim()), ''),
      url: v.optional(v.pipe(v.string(), v.trim()), SMMS_UPLOAD_URL),
    }),
    v.forward(
      v.partialCheck([['provider'], ['url']], (o) => o.provider !== PROVIDER || isHttpUrl(o.url), 'must be an http(s) URL'),
      ['url'],
    ),
  ),
  env: {
    provider: UPLOAD_PROVIDER_ENV,
    token: { env: 'SMMS_SECRET_TOKEN', kind: 'string', secret: true },
  },
  docs: {
    ...uploaderDocs(PROVIDER),
    token: 'the sm.ms API secret token (User > Dashboard > API Token); without it nothing is uploaded',
    url: 'the upload endpoint (`https://smms.app/api/v2/upload` where sm.ms is blocked; S.EE: `https://s.ee/api/v1/file/upload`)',
  },

  setup(options, ctx) {
    offerUploader(ctx, options, {
      provider: PROVIDER,
      missing: options.token ? undefined : 'SMMS_SECRET_TOKEN is not set',
      sender: () => sendToSmms(options.url, options.token),
      where: () => `sm.ms (${new URL(options.url).origin}${new URL(options.url).pathname})`,
    })
    return {}
  },
})
