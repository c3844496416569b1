import { getRouterParam, type H3Event } from 'h3'
import { badRequest, GatewayError, geminiDialect, isObject, notFound, parseBody, type PluginRouter, type RouteCall, type UpstreamResponse } from 'gemgate'
import { ownerKey, withinTime } from './binding.ts'
import { idParam, send, type RouteDeps } from './routes.ts'
import { ownerOf } from './names.ts'
import { UPLOAD_ID, UPLOAD_START } from './operations.ts'

export interface UploadDeps extends RouteDeps {
  /** FILES_MAX_UPLOAD_MB, in bytes: what one file may have, whatever MAX_REQUEST_BODY_MB says. */
  maxUploadBytes: number
  uploadSessionMs: number
  /** BASE_URL, without a trailing slash. */
  baseUrl: string
}

/** The client headers of Google's resumable protocol that the start passes on. */
const START_HEADERS = [
  'x-goog-upload-protocol',
  'x-goog-upload-command',
  'x-goog-upload-header-content-length',
  'x-goog-upload-header-content-type',
  'x-goog-upload-file-name',
]
/** Google's answer headers the client gets back from an upload request. */
const ANSWER_HEADERS = ['content-type', 'x-goog-upload-status', 'x-goog-upload-size-received', 'x-goog-upload-chunk-granularity']

/**
 * Google's resumable upload through the gateway (wire samples §7), on /upload/v1beta and /gemini/upload/v1beta: files,
 * and uploads into a file search store. The start runs through the pipeline (key choice, retries, logs; a store's
 * upload goes to the store's key) and answers an upload URL on the gateway that carries only a random session id;
 * each later request's bytes stream to Google's upload URL with the session's key, as they arrive. Downloads of
 * generated files stream back from the file's key.
 */
export function registerUploadRoutes(router: PluginRouter, deps: UploadDeps): void {
  for (const root of ['/upload/v1beta', '/gemini/upload/v1beta']) {
    for (const method of ['POST', 'PUT'] as const) {
      router.add(method, `${root}/files`, geminiDialect, (call) => upload(call, deps, () => 'files'))
      router.add(method, `${root}/fileSearchStores/:store`, geminiDialect, (call) =>
        upload(call, deps, () => `fileSearchStores/${idParam(call, 'store', 'uploadToFileSearchStore')}:uploadToFileSearchStore`),
      )
    }
  }
  for (const root of ['/v1beta', '/gemini/v1beta']) {
    router.add('GET', `${root}/files/:file`, geminiDialect, (call) => {
      const raw = decodeURIComponent(getRouterParam(call.event, 'file') ?? '')
      return raw.endsWith(':download')
        ? download(call, deps, idParam(call, 'file', 'download'))
        : send(call, deps, 'GET', `files/${idParam(call, 'file')}`, false)
    })
  }
  for (const root of ['/download/v1beta', '/gemini/download/v1beta']) {
    router.add('GET', `${root}/files/:file`, geminiDialect, (call) => download(call, deps, idParam(call, 'file', 'download')))
  }
}

/** A request with `upload_id` carries bytes (or a query) of a started upload; one without it starts one. */
function upload(call: RouteCall, deps: UploadDeps, target: () => string): Promise<Response> {
  const id = call.event.url.searchParams.get('upload_id')
  if (id !== null) return uploadBytes(call, deps, id)
  if (call.event.req.method !== 'POST') throw notFound('An upload starts with a POST; PUT carries the bytes of a started one (?upload_id=).')
  return startUpload(call, deps, target())
}

async function startUpload(call: RouteCall, deps: UploadDeps, target: string): Promise<Response> {
  const headers = call.event.req.headers
  if (headers.get('x-goog-upload-protocol') !== 'resumable' || headers.get('x-goog-upload-command') !== 'start') {
    throw badRequest(
      "Uploads use Google's resumable protocol: start with X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start, then send the bytes to the X-Goog-Upload-URL answered.",
    )
  }
  const declared = Number(headers.get('x-goog-upload-header-content-length') ?? 0)
  if (declared > deps.maxUploadBytes) throw tooLarge(deps.maxUploadBytes)
  const forwarded: Record<string, string> = {}
  for (const name of START_HEADERS) {
    const value = headers.get(name)
    if (value !== null) forwarded[name] = value
  }
  const text = await call.text()
  const outcome = await deps.ctx.run(call, {
    operation: UPLOAD_START,
    model: '',
    stream: false,
    body: parseBody(text),
    rawBody: text,
    resource: target,
    headers: forwarded,
  })
  const session = outcome.kind === 'json' ? outcome.headers?.[UPLOAD_ID] : undefined
  if (outcome.kind !== 'json' || !session) throw new GatewayError(500, 'The upload was started without a session.')
  const answer = new Headers({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
  answer.set('x-goog-upload-url', `${gatewayOrigin(call.event)}${call.event.url.pathname}?upload_id=${session}`)
  answer.set('x-goog-upload-status', outcome.headers?.['x-goog-upload-status'] ?? 'active')
  const granularity = outcome.headers?.['x-goog-upload-chunk-granularity']
  if (granularity) answer.set('x-goog-upload-chunk-granularity', granularity)
  return new Response(outcome.body.text, { status: outcome.status, headers: answer })
}

/**
 * Bytes of a started upload, streamed to Google's upload URL with the session's key as the client sends them (the
 * socket's pace sets the pace: never a whole chunk in memory), cut at FILES_MAX_UPLOAD_MB. The session is the client
 * token's that started it; the last request's file is recorded for the key and that token.
 */
async function uploadBytes(call: RouteCall, deps: UploadDeps, id: string): Promise<Response> {
  const headers = call.event.req.headers
  const session = /^[A-Za-z0-9_-]{16,64}$/.test(id) ? await withinTime(deps.store.findUpload(id, Date.now()), deps.owners.timeoutMs) : undefined
  // Another token's session is not found either: the id is no secret shared with anyone else.
  if (!session || session.tokenId !== call.client.tokenId) throw refusal(404, 'No such upload: it expired, was finished, or was started with another token.')
  const command = headers.get('x-goog-upload-command') ?? ''
  const offset = Number(headers.get('x-goog-upload-offset') ?? 0)
  if (!Number.isSafeInteger(offset) || offset < 0) throw refusal(400, 'X-Goog-Upload-Offset must be a byte offset.')
  const length = headers.get('content-length')
  if (offset + Number(length ?? 0) > deps.maxUploadBytes || (session.declaredBytes ?? 0) > deps.maxUploadBytes) throw tooLarge(deps.maxUploadBytes)

  const upstreamHeaders: Record<string, string> = { 'x-goog-upload-command': command, 'x-goog-upload-offset': String(offset) }
  if (length !== null) upstreamHeaders['content-length'] = length
  const type = headers.get('content-type')
  if (type !== null) upstreamHeaders['content-type'] = type
  const bytes = call.event.req.body
  const limit = deps.maxUploadBytes - offset
  let response: UpstreamResponse
  try {
    response = await deps.ctx.send(session.keyId, {
      method: 'POST',
      url: session.upstreamUrl,
      headers: upstreamHeaders,
      body: bytes && command.includes('upload') ? capped(bytes, limit) : undefined,
      signal: call.event.req.signal,
      resource: 'This upload',
    })
  } catch (error) {
    if (error instanceof GatewayError) throw error
    if (error instanceof TooLarge || (error as { cause?: unknown })?.cause instanceof TooLarge) throw tooLarge(deps.maxUploadBytes)
    throw new GatewayError(502, 'The upload could not reach Google; send this part again (X-Goog-Upload-Command: query tells how much arrived).', {
      cause: error,
    })
  }
  const text = await response.text()
  const status = response.header('x-goog-upload-status')
  if (response.status >= 200 && response.status <= 299) await settle(deps, session, status, text)
  const answer = new Headers({ 'cache-control': 'no-store' })
  for (const name of ANSWER_HEADERS) {
    const value = response.header(name)
    if (value !== undefined) answer.set(name, value)
  }
  return new Response(text, { status: response.status, headers: answer })
}

/** After Google's answer: the finished file is recorded, a finished or cancelled session closed, a live one kept. */
async function settle(deps: UploadDeps, session: { id: string; keyId: string; tokenId: string }, status: string | undefined, text: string): Promise<void> {
  const work = async () => {
    if (status === 'final') {
      const file = fileOf(text)
      if (file) {
        const now = Date.now()
        const expires = typeof file.expirationTime === 'string' && Date.parse(file.expirationTime) > 0 ? Date.parse(file.expirationTime) : now + 48 * 3_600_000
        await deps.store.bind({
          name: file.name,
          kind: 'file',
          keyId: session.keyId,
          tokenId: session.tokenId,
          createdAt: now,
          expiresAt: expires,
          body: JSON.stringify(file),
        })
      }
      await deps.store.closeUpload(session.id)
    } else if (status === 'cancelled') await deps.store.closeUpload(session.id)
    else await deps.store.touchUpload(session.id, Date.now() + deps.uploadSessionMs)
  }
  try {
    await work()
  } catch (error) {
    deps.ctx.logger.error('could not record an upload for its key:', error)
  }
}

function fileOf(text: string): { name: string; expirationTime?: unknown } | undefined {
  try {
    const body: unknown = JSON.parse(text)
    const file = isObject(body) ? body.file : undefined
    return isObject(file) && typeof file.name === 'string' && ownerOf(file.name)?.kind === 'file' ? (file as { name: string }) : undefined
  } catch {
    return undefined
  }
}

/** A generated file's bytes (a video, a batch's results), streamed from the key whose project holds it. */
async function download(call: RouteCall, deps: UploadDeps, fileId: string): Promise<Response> {
  const file = { name: `files/${fileId}`, kind: 'file' as const }
  const pinned = await ownerKey([file], call.client.tokenId, deps.owners)
  // Without isolation an unknown file passes ownerKey: no key is known to hold it.
  if (!pinned)
    throw notFound(
      `File ${file.name} is not known to this gateway: only the files it recorded (uploaded, or written by a batch or a video through it) download through it.`,
    )
  const response = await deps.ctx.send(pinned.id, {
    method: 'GET',
    url: `${deps.baseUrl}/files/${fileId}:download?alt=media`,
    signal: call.event.req.signal,
    resource: pinned.resource,
  })
  const headers = new Headers()
  for (const name of ['content-type', 'content-length', 'content-disposition']) {
    const value = response.header(name)
    if (value !== undefined) headers.set(name, value)
  }
  return new Response(streamOf(response), { status: response.status, headers })
}

function streamOf(response: UpstreamResponse): ReadableStream<Uint8Array> {
  const pieces = response.chunks()[Symbol.asyncIterator]()
  return new ReadableStream({
    async pull(controller) {
      const next = await pieces.next()
      if (next.done) controller.close()
      else controller.enqueue(next.value)
    },
    cancel() {
      response.discard()
    },
  })
}

class TooLarge extends Error {}

/** The client's bytes as they come, refused past `limit` (a chunked body declares no length to check up front). */
async function* capped(body: ReadableStream<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let seen = 0
  for await (const piece of body as unknown as AsyncIterable<Uint8Array>) {
    seen += piece.byteLength
    if (seen > limit) throw new TooLarge()
    yield piece
  }
}

// A refused upload's bytes are never read: the connection closes after the answer instead of draining them.
const refusal = (status: number, message: string) => new GatewayError(status, message, { headers: { connection: 'close' } })

const tooLarge = (maxBytes: number) => refusal(413, `The file is larger than ${Math.round(maxBytes / 1048576)} MB (FILES_MAX_UPLOAD_MB).`)

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/**
 * The gateway's origin as this client reached it. Behind a reverse proxy, X-Forwarded-Proto and X-Forwarded-Host say
 * it, and are taken when well-formed: the URL goes to this client only and is never cached, so a forged header can
 * only misdirect the forger's own upload. (The SDKs put their own base URL's host in it anyway.)
 */
function gatewayOrigin(event: H3Event): string {
  const first = (name: string) => event.req.headers.get(name)?.split(',')[0]?.trim()
  const proto = first('x-forwarded-proto')
  const host = first('x-forwarded-host')
  return `${proto === 'http' || proto === 'https' ? proto : event.url.protocol.slice(0, -1)}://${host && HOST.test(host) ? host : event.url.host}`
}
