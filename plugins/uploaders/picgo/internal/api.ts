import { excerpt, isHttpUrl, isObject, type UploadFile } from 'gemgate'

/** picgo.net's upload endpoint (Chevereto's API v1), gemini-balance's default PICGO_API_URL. */
export const PICGO_UPLOAD_URL = 'https://www.picgo.net/api/1/upload'

/** One upload to a Chevereto API v1 host (picgo.net) or a self-hosted PicGo server: the image as the multipart field `source`. */
export function sendToPicgo(endpoint: string, apiKey: string) {
  const { url, headers } = picgoTarget(endpoint, apiKey)
  return async (file: UploadFile, signal: AbortSignal): Promise<string> => {
    const form = new FormData()
    // The bytes are never shared memory (they come from decoding base64), which is all Blob's type asks.
    form.append('source', new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.mimeType }), file.name)
    const res = await fetch(url, { method: 'POST', headers, body: form, signal })
    return urlFromAnswer(res.status, await res.text())
  }
}

/**
 * Where the key goes: picgo.net gets it as the `X-API-Key` header; any other URL as the `key` query parameter, as
 * gemini-balance sent it (a PicGo server reads only that), URL-encoded here (gemini-balance pasted it in raw).
 */
export function picgoTarget(endpoint: string, apiKey: string): { url: URL; headers: Record<string, string> } {
  const url = new URL(endpoint)
  if (url.href === new URL(PICGO_UPLOAD_URL).href) return { url, headers: { 'x-api-key': apiKey } }
  url.searchParams.set('key', apiKey)
  return { url, headers: {} }
}

/**
 * The image's URL from either answer format: a PicGo server's `{success: true, result: [url]}`, or Chevereto's
 * `{status_code: 200, image: {url}}` (whose own `success` is an object, so it cannot pass for the first). Refusals:
 * a PicGo server's `{success: false, message}`, Chevereto's `{status_code, error: {message, code}}` (older versions
 * only `status_txt`).
 */
export function urlFromAnswer(status: number, text: string): string {
  let answer: unknown
  try {
    answer = JSON.parse(text)
  } catch {
    throw new Error(`PicGo answered HTTP ${status} without JSON: ${excerpt(text)}`)
  }
  if (!isObject(answer)) throw new Error(`PicGo answered HTTP ${status} with ${excerpt(text)}`)
  if (answer.success === true && Array.isArray(answer.result)) return checked(answer.result[0])
  if (answer.status_code === 200 && isObject(answer.image)) return checked(answer.image.url)
  if (answer.success === false) throw new Error(`the PicGo server refused the upload: ${excerpt(String(answer.message ?? `HTTP ${status}`))}`)
  const error = isObject(answer.error) ? answer.error : {}
  const reason = typeof error.message === 'string' ? error.message : typeof answer.status_txt === 'string' ? answer.status_txt : `HTTP ${status}`
  const code = error.code ?? answer.status_code
  throw new Error(`PicGo refused the upload: ${excerpt(reason)}${code !== undefined ? ` (code ${excerpt(String(code))})` : ''}`)
}

function checked(url: unknown): string {
  if (isHttpUrl(url)) return url
  throw new Error(`PicGo answered without an http(s) URL: ${excerpt(JSON.stringify(url) ?? 'nothing')}`)
}
