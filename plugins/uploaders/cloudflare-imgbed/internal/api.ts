import { excerpt, isHttpUrl, isObject, type UploadFile } from 'gemgate'

export interface ImgBedTarget {
  /** CLOUDFLARE_IMGBED_URL, e.g. `https://img.example.com/upload`. */
  url: string
  authCode: string
  /** Empty: ImgBed's root folder. */
  uploadFolder: string
}

/**
 * One upload to a CloudFlare-ImgBed (MarSeventh): the image as the multipart field `file`, the auth code, folder and
 * `uploadNameType=origin` (keep our day-named file name) as query parameters, URL-encoded (gemini-balance pasted
 * them in raw, so a code or folder with `&`, `#` or a space broke the request).
 */
export function sendToImgBed(target: ImgBedTarget) {
  const endpoint = new URL(target.url)
  if (target.uploadFolder) endpoint.searchParams.set('uploadFolder', target.uploadFolder)
  endpoint.searchParams.set('authCode', target.authCode)
  endpoint.searchParams.set('uploadNameType', 'origin')
  const base = siteBase(endpoint)
  return async (file: UploadFile, signal: AbortSignal): Promise<string> => {
    const form = new FormData()
    // The bytes are never shared memory (they come from decoding base64), which is all Blob's type asks.
    form.append('file', new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.mimeType }), file.name)
    const res = await fetch(endpoint, { method: 'POST', body: form, signal })
    return urlFromAnswer(res.status, await res.text(), base)
  }
}

/**
 * The image's URL from ImgBed's answer `[{src}]`; `src` is a path (`/file/<id>`) unless the upload asked for full
 * links, and is put after `base`. ImgBed refuses in plain text (`Unauthorized` with 401, `Error: ...` with 4xx/5xx),
 * or, when every storage channel failed, with a JSON object of each channel's error and 500.
 */
export function urlFromAnswer(status: number, text: string, base: string): string {
  let answer: unknown
  try {
    answer = JSON.parse(text)
  } catch {
    throw new Error(`CloudFlare-ImgBed refused the upload (HTTP ${status}): ${excerpt(text) || 'no reason given'}`)
  }
  const src = Array.isArray(answer) && isObject(answer[0]) ? answer[0].src : undefined
  if (status >= 200 && status < 300 && typeof src === 'string') {
    const url = resolve(src, base)
    if (isHttpUrl(url)) return url
    throw new Error(`CloudFlare-ImgBed answered without an http(s) URL: ${excerpt(JSON.stringify(src))}`)
  }
  const reasons = isObject(answer) ? Object.values(answer).filter((reason) => typeof reason === 'string') : []
  throw new Error(`CloudFlare-ImgBed refused the upload (HTTP ${status}): ${excerpt(reasons.length > 0 ? reasons.join('; ') : text)}`)
}

/**
 * `src` as ImgBed meant it, as a well-formed URL (ImgBed puts folder names in as they are, spaces too): a full link
 * as it is, a path after `base` (which may end in a path of its own).
 */
function resolve(src: string, base: string): string | undefined {
  try {
    return /^([a-z][a-z0-9+.-]*:|\/\/)/i.test(src) ? new URL(src, base).href : new URL(`${base}${src.startsWith('/') ? '' : '/'}${src}`).href
  } catch {
    return undefined
  }
}

/**
 * Where ImgBed's paths hang from: CLOUDFLARE_IMGBED_URL up to its `/upload` (an ImgBed served under a path keeps
 * it), else its origin.
 */
export function siteBase(url: URL): string {
  const at = url.pathname.lastIndexOf('/upload')
  return url.origin + (at > 0 ? url.pathname.slice(0, at) : '')
}
