import { randomBytes } from 'node:crypto'
import type { ConsolaInstance } from 'consola'
import * as v from 'valibot'
import type { PluginContext } from './plugin.ts'
import { transportCode } from './keys/facts.ts'

/** The 'uploader' service an uploader plugin provides (looked up as `services.get<Uploader>('uploader')`): the image's public URL. */
export interface Uploader {
  upload(bytes: Uint8Array, mimeType: string, signal?: AbortSignal): Promise<string>
}

export interface InlineImage {
  mimeType: string
  /** Base64, as Gemini sends it. */
  data: string
}

export const dataUrl = (image: InlineImage): string => `data:${image.mimeType};base64,${image.data}`

/**
 * The image's URL from the uploader, or its data URL when the upload fails, takes too long or returns no http(s)
 * URL: an upload never fails an answer (gemini-balance failed the whole chat). The reason is logged.
 */
export async function imageUrl(
  image: InlineImage,
  uploader: Uploader,
  options: { signal: AbortSignal; timeoutMs: number; logger: ConsolaInstance },
): Promise<string> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)])
  try {
    // Raced against the signal too: an uploader that ignores it still cannot hold the answer past the timeout.
    return publicUrl(await untilAborted(uploader.upload(Buffer.from(image.data, 'base64'), image.mimeType, signal), signal))
  } catch (error) {
    // A client that left needs no image; only a real failure is worth an operator's attention.
    if (!options.signal.aborted) options.logger.warn(`image upload failed, answering with a data URL instead: ${reasonOf(error)}`)
    return dataUrl(image)
  }
}

/** The uploader's answer as a URL safe inside markdown `(...)`, or an error saying what it returned instead. */
function publicUrl(answer: unknown): string {
  let url: URL | undefined
  try {
    url = typeof answer === 'string' ? new URL(answer) : undefined
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new Error(`the uploader returned ${typeof answer === 'string' ? JSON.stringify(answer.slice(0, 80)) : typeof answer}, not an http(s) URL`)
  }
  return url.href.replace(/\(/g, '%28').replace(/\)/g, '%29')
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let stop: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    stop = () => reject(signal.reason ?? new Error('aborted'))
    if (signal.aborted) stop()
    else signal.addEventListener('abort', stop, { once: true })
  })
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', stop!))
}

function reasonOf(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'no answer within the upload timeout'
  const message = String(error instanceof Error ? error.message : error).slice(0, 300)
  // fetch says only "fetch failed"; the socket's own code (ECONNRESET, UND_ERR_SOCKET) says what happened.
  const code = transportCode(error)
  return code && !message.includes(code) ? `${message} (${code})` : message
}

/** One file as an uploader plugin sends it. */
export interface UploadFile {
  bytes: Uint8Array
  mimeType: string
  /** `YYYY/MM/DD/<8 hex>.<ext>`, as gemini-balance named uploads (hosts that keep folders file them by day). */
  name: string
}

export interface UploaderSettings {
  /** One attempt's time limit. */
  timeoutMs: number
  /** Larger files are refused before anything is sent. */
  maxBytes: number
}

/**
 * The 'uploader' service around one provider's `send`: a size cap, a time limit per attempt, and one retry when the
 * network failed (a reset, a refused connection, a timeout) — never when the provider answered, since a refusal
 * (bad token, quota) would only be repeated. Errors carry the provider's reason for the log.
 */
export function defineUploader(send: (file: UploadFile, signal: AbortSignal) => Promise<string>, settings: UploaderSettings): Uploader {
  return {
    async upload(bytes, mimeType, signal) {
      if (bytes.byteLength > settings.maxBytes) throw new Error(`the image is ${bytes.byteLength} bytes, over the upload limit of ${settings.maxBytes}`)
      const file = { bytes, mimeType, name: uploadName(mimeType) }
      for (let attempt = 1; ; attempt++) {
        const limit = AbortSignal.timeout(settings.timeoutMs)
        try {
          return await send(file, signal ? AbortSignal.any([signal, limit]) : limit)
        } catch (error) {
          if (attempt > 1 || signal?.aborted || !isNetworkFailure(error)) throw error
        }
      }
    },
  }
}

/** `2026/11/30/1a2b3c4d.png` */
export function uploadName(mimeType: string, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/')
  const extension = /^image\/(png|jpeg|gif|webp)$/.exec(mimeType)?.[1]?.replace('jpeg', 'jpg') ?? 'bin'
  return `${day}/${randomBytes(4).toString('hex')}.${extension}`
}

/** A failure before any answer: fetch's TypeError over a socket error, or an attempt's own timeout. */
function isNetworkFailure(error: unknown): boolean {
  if (error instanceof DOMException && error.name === 'TimeoutError') return true
  return error instanceof TypeError && transportCode(error) !== undefined
}

/** Whether a service answered an http(s) URL (anything else is no public link to an image). */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false
  try {
    const { protocol } = new URL(value)
    return protocol === 'https:' || protocol === 'http:'
  } catch {
    return false
  }
}

/** A service's answer as it may appear in an error message: one line, at most 200 characters. */
export const excerpt = (text: string): string => text.replace(/\s+/g, ' ').trim().slice(0, 200)

// ---------------------------------------------------------------------------------------------------------------
// What every uploader plugin declares and does the same way (the smms, picgo, cloudflare-imgbed and aliyun-oss ones).

/** The options every uploader plugin has beside its own: which host is in use, and one upload's limits. */
export const UPLOADER_OPTIONS = {
  provider: v.optional(v.pipe(v.string(), v.trim(), v.toLowerCase()), 'smms'),
  timeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(300)), 30),
  maxMb: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(100)), 20),
}

/** gemini-balance's one variable that chooses the host. */
export const UPLOAD_PROVIDER_ENV = { env: 'UPLOAD_PROVIDER', kind: 'string' } as const

/** The docs of UPLOADER_OPTIONS, for the provider named `provider` (as UPLOAD_PROVIDER spells it). */
export function uploaderDocs(provider: string): { provider: string; timeoutSeconds: string; maxMb: string } {
  return {
    provider: `the image host in use: this plugin uploads only when it is \`${provider}\``,
    timeoutSeconds: 'time limit of one upload attempt; a network failure or a timeout is retried once',
    maxMb: 'larger images are not uploaded (they stay data URLs)',
  }
}

/**
 * Provides the 'uploader' service when UPLOAD_PROVIDER names this host and nothing it needs is missing, and logs once
 * where images go; otherwise says at debug level why images stay data URLs.
 */
export function offerUploader(
  ctx: Pick<PluginContext, 'logger' | 'services' | 'name'>,
  options: { provider: string; timeoutSeconds: number; maxMb: number },
  // Built only when this host is in use and nothing is missing: an unused uploader's settings may be empty or invalid.
  offer: { provider: string; missing?: string; sender: () => (file: UploadFile, signal: AbortSignal) => Promise<string>; where: () => string },
): void {
  if (options.provider !== offer.provider) {
    ctx.logger.debug(`not uploading: UPLOAD_PROVIDER is ${options.provider || '(empty)'}, not ${offer.provider}`)
    return
  }
  if (offer.missing) {
    ctx.logger.debug(`not uploading: UPLOAD_PROVIDER is ${offer.provider} but ${offer.missing}, so images stay data URLs`)
    return
  }
  const uploader = defineUploader(offer.sender(), { timeoutMs: options.timeoutSeconds * 1000, maxBytes: options.maxMb * 1024 * 1024 })
  ctx.services.provide('uploader', uploader, ctx.name)
  ctx.logger.info(`images in answers are uploaded to ${offer.where()}`)
}
