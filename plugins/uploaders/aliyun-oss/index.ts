import * as v from 'valibot'
import { definePlugin, defineUploader } from '../../../core/index.ts'
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
  summary: 'Uploads answer images to an Aliyun OSS bucket (signed with OSS V4) when `UPLOAD_PROVIDER` is `aliyun_oss`; a failed upload leaves the image as a data URL.',
  options: v.strictObject({
    provider: v.optional(v.pipe(v.string(), v.trim(), v.toLowerCase()), 'smms'),
    endpoint: text,
    innerEndpoint: text,
    accessKeyId: text,
    accessKeySecret: text,
    bucket: text,
    region: text,
    timeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(300)), 30),
    maxMb: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(100)), 20),
  }),
  env: {
    provider: { env: 'UPLOAD_PROVIDER', kind: 'string' },
    endpoint: { env: 'OSS_ENDPOINT', kind: 'string' },
    innerEndpoint: { env: 'OSS_ENDPOINT_INNER', kind: 'string' },
    accessKeyId: { env: 'OSS_ACCESS_KEY', kind: 'string' },
    accessKeySecret: { env: 'OSS_ACCESS_KEY_SECRET', kind: 'string', secret: true },
    bucket: { env: 'OSS_BUCKET_NAME', kind: 'string' },
    region: { env: 'OSS_REGION', kind: 'string' },
  },
  docs: {
    provider: 'the image host in use: this plugin uploads only when it is `aliyun_oss`',
    endpoint: 'the public endpoint (`oss-cn-shanghai.aliyuncs.com`: objects at `https://<bucket>.<endpoint>/<name>`); with a scheme and a host not under aliyuncs.com, objects are addressed as `<endpoint>/<bucket>/<name>`',
    innerEndpoint: 'the internal endpoint (`oss-cn-shanghai-internal.aliyuncs.com`) for a gateway running inside Aliyun: uploads go there, the URLs in answers stay on `endpoint`',
    accessKeyId: 'the AccessKey ID of a RAM user allowed to put objects in the bucket',
    accessKeySecret: 'its AccessKey secret',
    bucket: 'the bucket; its objects are uploaded public-read, so Block Public Access must be off for it',
    region: 'the region id for the V4 signature (`cn-shanghai`); empty: read from an Aliyun endpoint\'s name',
    timeoutSeconds: 'time limit of one upload attempt; a network failure or a timeout is retried once',
    maxMb: 'larger images are not uploaded (they stay data URLs)',
  },

  setup(options, ctx) {
    if (options.provider !== PROVIDER) {
      ctx.logger.debug(`not uploading: UPLOAD_PROVIDER is ${options.provider || '(empty)'}, not ${PROVIDER}`)
      return {}
    }
    const bucket = resolveBucket(options)
    if (typeof bucket === 'string') {
      ctx.logger.debug(`not uploading: UPLOAD_PROVIDER is ${PROVIDER} but ${bucket}, so images stay data URLs`)
      return {}
    }
    const settings = { timeoutMs: options.timeoutSeconds * 1000, maxBytes: options.maxMb * 1024 * 1024 }
    ctx.services.provide('uploader', defineUploader((file, signal) => putObject(bucket, file, signal), settings), ctx.name)
    const via = bucket.upload === bucket.public ? '' : `, uploaded through ${new URL(objectUrl(bucket.upload, bucket.name, '')).origin}`
    ctx.logger.info(`images in answers are uploaded to Aliyun OSS: ${objectUrl(bucket.public, bucket.name, '')}${via}`)
    return {}
  },
})
