import * as v from 'valibot'
import { definePlugin, offerUploader, UPLOAD_PROVIDER_ENV, UPLOADER_OPTIONS, uploaderDocs } from 'gemgate'
import { objectUrl, resolveBucket } from './internal/bucket.ts'
import { putObject } from './internal/put.ts'

const PROVIDER = 'aliyun_oss'
const text = v.optional(v.pipe(v.string(), v.trim()), '')

/**
 * Images in answers uploaded to an Aliyun OSS bucket (public-read objects named `YYYY/MM/DD/<8 hex>.<ext>`), as
 * gemini-balance's `UPLOAD_PROVIDER=aliyun_oss` did. It provides the 'uploader' service only when UPLOAD_PROVIDER is
 * `aliyun_oss` and the endpoint, key pair and bucket are set. Unlike gemini-balance: requests are signed with OSS V4
 * (V1 is closed to new buckets), an upload has a time limit and a network failure is retried once, a refused upload
 * leaves the image as a data URL (logged with OSS's error code and message) instead of failing the chat, and
 * OSS_ENDPOINT_INNER is used: uploads go to it when set, while the URLs in answers stay on OSS_ENDPOINT.
 */
export default definePlugin({
  name: 'aliyun-oss',
  summary:
    'Uploads answer images to an Aliyun OSS bucket (signed with OSS V4) when `UPLOAD_PROVIDER` is `aliyun_oss`; a failed upload leaves the image as a data URL.',
  options: v.strictObject({
    ...UPLOADER_OPTIONS,
    endpoint: text,
    innerEndpoint: text,
    accessKeyId: text,
    accessKeySecret: text,
    bucket: text,
    region: text,
  }),
  env: {
    provider: UPLOAD_PROVIDER_ENV,
    endpoint: { env: 'OSS_ENDPOINT', kind: 'string' },
    innerEndpoint: { env: 'OSS_ENDPOINT_INNER', kind: 'string' },
    accessKeyId: { env: 'OSS_ACCESS_KEY', kind: 'string' },
    accessKeySecret: { env: 'OSS_ACCESS_KEY_SECRET', kind: 'string', secret: true },
    bucket: { env: 'OSS_BUCKET_NAME', kind: 'string' },
    region: { env: 'OSS_REGION', kind: 'string' },
  },
  docs: {
    ...uploaderDocs(PROVIDER),
    endpoint:
      'the public endpoint (`oss-cn-shanghai.aliyuncs.com`: objects at `https://<bucket>.<endpoint>/<name>`); with a scheme and a host not under aliyuncs.com, objects are addressed as `<endpoint>/<bucket>/<name>`',
    innerEndpoint:
      'the internal endpoint (`oss-cn-shanghai-internal.aliyuncs.com`) for a gateway running inside Aliyun: uploads go there, the URLs in answers stay on `endpoint`',
    accessKeyId: 'the AccessKey ID of a RAM user allowed to put objects in the bucket',
    accessKeySecret: 'its AccessKey secret',
    bucket: 'the bucket; its objects are uploaded public-read, so Block Public Access must be off for it',
    region: "the region id for the V4 signature (`cn-shanghai`); empty: read from an Aliyun endpoint's name",
  },

  setup(options, ctx) {
    // Checked only when OSS is the host in use: a bad endpoint of an unused uploader stops nothing.
    const bucket = options.provider === PROVIDER ? resolveBucket(options) : undefined
    const ready = typeof bucket === 'object' ? bucket : undefined
    offerUploader(ctx, options, {
      provider: PROVIDER,
      missing: typeof bucket === 'string' ? bucket : undefined,
      sender: () => (file, signal) => putObject(ready!, file, signal),
      where: () => {
        const via = ready!.upload === ready!.public ? '' : `, uploaded through ${new URL(objectUrl(ready!.upload, ready!.name, '')).origin}`
        return `Aliyun OSS: ${objectUrl(ready!.public, ready!.name, '')}${via}`
      },
    })
    return {}
  },
})
