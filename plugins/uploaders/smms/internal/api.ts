import { excerpt, isHttpUrl, isObject, type UploadFile } from 'gemgate'

/** sm.ms's API v2 upload endpoint, as gemini-balance called it (smms.app and S.EE's `/api/v1/file/upload` speak the same). */
export const SMMS_UPLOAD_URL = 'https://sm.ms/api/v2/upload'

/**
 * One upload to sm.ms's API v2: the image as the multipart field `smfile`, the secret token as the whole
 * `Authorization` header. sm.ms documents the bare token and also accepts `Basic <token>` (gemini-balance's form);
 * the bare token is the documented one, and the only one S.EE's compatible API shows.
 */
export function sendToSmms(endpoint: string, token: string) {
  return async (file: UploadFile, signal: AbortSignal): Promise<string> => {
    const form = new FormData()
    // The bytes are never shared memory (they come from decoding base64), which is all Blob's type asks.
    form.append('smfile', new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.mimeType }), file.name)
    const res = await fetch(endpoint, { method: 'POST', headers: { authorization: token }, body: form, signal })
    return urlFromAnswer(res.status, await res.text())
  }
}

/**
 * The image's URL from sm.ms's answer: `data.url` on success, or, when sm.ms refuses the image as one it already
 * holds (`image_repeated`), the URL it holds it under (`images`). Anything else is an error carrying sm.ms's reason.
 */
export function urlFromAnswer(status: number, text: string): string {
  let answer: unknown
  try {
    answer = JSON.parse(text)
  } catch {
    throw new Error(`sm.ms answered HTTP ${status} without JSON: ${excerpt(text)}`)
  }
  if (!isObject(answer)) throw new Error(`sm.ms answered HTTP ${status} with ${excerpt(text)}`)
  const url = answer.success === true ? (isObject(answer.data) ? answer.data.url : undefined) : answer.code === 'image_repeated' ? answer.images : undefined
  if (url !== undefined) {
    if (isHttpUrl(url)) return url
    throw new Error(`sm.ms answered without an http(s) URL: ${excerpt(JSON.stringify(url))}`)
  }
  // Older answers put the reason under `error` instead of `message`.
  const reason = typeof answer.message === 'string' ? answer.message : typeof answer.error === 'string' ? answer.error : `HTTP ${status}`
  throw new Error(`sm.ms refused the upload: ${excerpt(reason)}${typeof answer.code === 'string' ? ` (code ${answer.code})` : ''}`)
}
