// The Files API (wire samples §7): the resumable upload (start, then the bytes in one or more requests to the upload
// URL, the last one finalizing), files.get / list / delete, and downloads of generated files. Upload bytes are read
// as they arrive, never held: a test of a 2 GB upload costs the fake a hash and a counter.

import { createHash, randomBytes, type Hash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { badRequest, googleError } from './errors.ts'
import type { Exchange } from './exchange.ts'
import { JSON_TYPE } from './exchange.ts'
import { unaryBody } from './json.ts'
import { sendError, sendJson } from './respond.ts'
import { isObject, type Json } from './responses.ts'
import { newId, ownedOr403, page, timestamp, type ResourceCall, type ResourceRoute, type ResourceStore } from './resource-store.ts'

/** A resumable upload Google has started: the upload URL's id is all a later request needs (no key). */
export interface UploadSession {
  key: string
  /** `fileSearchStores/x` for an upload into a store; undefined for the Files API. */
  store?: string
  fileId?: string
  displayName?: string
  mimeType: string
  /** X-Goog-Upload-Header-Content-Length of the start, when given. */
  declared?: number
  received: number
  hash: Hash
}

const FILE_LIFETIME_MS = 48 * 3_600_000
const GRANULARITY = '8388608'

export const FILE_ROUTES: readonly ResourceRoute[] = [
  ['POST', /^upload\/files$/, (call) => startUpload(call, undefined)],
  ['POST', /^upload\/(fileSearchStores\/[a-z0-9-]+):uploadToFileSearchStore$/, (call, match) => startUpload(call, match[1])],
  ['GET', /^files$/, (call) => page(call, call.store.list(call.key, 'files/'), 'files')],
  ['GET', /^files\/([a-z0-9-]+)$/, (call, match) => get(call, match[1]!)],
  ['DELETE', /^files\/([a-z0-9-]+)$/, (call, match) => remove(call, match[1]!)],
  ['GET', /^(?:download\/)?files\/([a-z0-9-]+):download$/, (call, match) => download(call, match[1]!)],
]

function startUpload(call: ResourceCall, store: string | undefined): void {
  if (store && !ownedOr403(call, store, 'FileSearchStore')) return
  if (call.header('x-goog-upload-protocol') !== 'resumable' || call.header('x-goog-upload-command') !== 'start') {
    return sendError(call.ex, badRequest('Resumable uploads start with X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.'))
  }
  const file = isObject(call.body.file) ? call.body.file : {}
  const declared = Number(call.header('x-goog-upload-header-content-length'))
  const named = typeof file.name === 'string' ? /^files\/([a-z0-9-]{1,40})$/.exec(file.name)?.[1] : undefined
  const session: UploadSession = {
    key: call.key,
    store,
    fileId: named,
    displayName: stringOf(file.displayName ?? file.display_name ?? call.body.displayName),
    mimeType: call.header('x-goog-upload-header-content-type') ?? stringOf(file.mimeType) ?? 'application/octet-stream',
    declared: Number.isFinite(declared) && declared >= 0 ? declared : undefined,
    received: 0,
    hash: createHash('sha256'),
  }
  const id = `ABgVH${randomBytes(24).toString('base64url')}`
  call.store.sessions.set(id, session)
  const target = store ? `${store}:uploadToFileSearchStore` : 'files'
  const headers = {
    'X-Goog-Upload-URL': `${call.store.origin}/upload/v1beta/${target}?upload_id=${id}&upload_protocol=resumable`,
    'X-Goog-Upload-Status': 'active',
    'X-Goog-Upload-Chunk-Granularity': GRANULARITY,
  }
  call.ex.send(200, call.ex.headers('text/plain; charset=utf-8', headers), '')
}

/** A request to an upload URL: its bytes are hashed and counted as they arrive; the last one makes the file. */
export async function receiveUploadBytes(ex: Exchange, req: IncomingMessage, store: ResourceStore, uploadId: string): Promise<void> {
  const header = (name: string) => [req.headers[name]].flat()[0]
  const session = store.sessions.get(uploadId)
  const commands = new Set((header('x-goog-upload-command') ?? '').split(',').map((word) => word.trim()))
  const refuse = (status: number, message: string) => {
    req.resume()
    sendError(ex, googleError(status, status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT', message))
  }
  if (!session) return refuse(404, 'The upload session was not found or has expired.')
  const status = (value: string, extra: Record<string, string> = {}) => ({
    'X-Goog-Upload-Status': value,
    'X-Goog-Upload-Size-Received': String(session.received),
    ...extra,
  })
  if (commands.has('query')) return void ex.send(200, ex.headers('text/plain; charset=utf-8', status('active')), '')
  if (commands.has('cancel')) {
    store.sessions.delete(uploadId)
    return void ex.send(200, ex.headers('text/plain; charset=utf-8', status('cancelled')), '')
  }
  if (!commands.has('upload')) return refuse(400, 'X-Goog-Upload-Command must be upload, "upload, finalize", query or cancel.')
  if (Number(header('x-goog-upload-offset') ?? 0) !== session.received) return refuse(400, `Invalid request. The offset must be ${session.received}.`)

  const trace = { uploadId, pieces: 0, bytes: 0, firstPieceAt: undefined as number | undefined, lastPieceAt: undefined as number | undefined }
  store.uploads.push(trace)
  try {
    for await (const piece of req as AsyncIterable<Buffer>) {
      const now = performance.now()
      trace.firstPieceAt ??= now
      trace.lastPieceAt = now
      trace.pieces++
      trace.bytes += piece.length
      session.received += piece.length
      session.hash.update(piece)
    }
  } catch {
    return // the client went away mid-upload; the session stays for a resume
  }
  if (!commands.has('finalize')) return void ex.send(200, ex.headers('text/plain; charset=utf-8', status('active')), '')
  if (session.declared !== undefined && session.received !== session.declared) {
    return sendError(ex, badRequest(`The upload has ${session.received} bytes; its start declared ${session.declared}.`))
  }
  store.sessions.delete(uploadId)
  const body = session.store ? storeDocument(store, session) : { file: uploadedFile(store, session) }
  ex.send(200, ex.headers(JSON_TYPE, { 'X-Goog-Upload-Status': 'final' }), unaryBody(body))
}

function uploadedFile(store: ResourceStore, session: UploadSession): Json {
  const id = session.fileId ?? newId()
  const now = Date.now()
  const file: Json = { name: `files/${id}` }
  if (session.displayName) file.displayName = session.displayName
  Object.assign(file, {
    mimeType: session.mimeType,
    sizeBytes: String(session.received),
    createTime: timestamp(now),
    updateTime: timestamp(now),
    expirationTime: timestamp(now + FILE_LIFETIME_MS),
    // Base64 of the hex digest, as Google writes it (§7.2).
    sha256Hash: Buffer.from(session.hash.digest('hex')).toString('base64'),
    uri: `${store.origin}/v1beta/files/${id}`,
    state: 'ACTIVE',
    source: 'UPLOADED',
  })
  store.add(file.name as string, session.key, file)
  return file
}

/** An upload into a file search store ends in a (done) operation that names the new document. */
function storeDocument(store: ResourceStore, session: UploadSession): Json {
  const document = `${session.store}/documents/${newId()}`
  store.add(document, session.key, {
    name: document,
    displayName: session.displayName ?? '',
    mimeType: session.mimeType,
    sizeBytes: String(session.received),
    state: 'STATE_ACTIVE',
    createTime: timestamp(),
  })
  const operation = {
    name: `${session.store}/upload/operations/${newId()}`,
    done: true,
    response: { '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.UploadToFileSearchStoreResponse', documentName: document },
  }
  store.add(operation.name, session.key, operation)
  return operation
}

/** A file the service made (a video, a batch's results), owned by `key`, with its bytes for downloads. */
export function generatedFile(store: ResourceStore, key: string, mimeType: string, content: Buffer, id = newId()): Json {
  const now = Date.now()
  const file = {
    name: `files/${id}`,
    mimeType,
    sizeBytes: String(content.length),
    createTime: timestamp(now),
    updateTime: timestamp(now),
    expirationTime: timestamp(now + FILE_LIFETIME_MS),
    uri: `${store.origin}/v1beta/files/${id}`,
    downloadUri: `${store.origin}/v1beta/files/${id}:download?alt=media`,
    state: 'ACTIVE',
    source: 'GENERATED',
  }
  store.add(file.name, key, file, content)
  return file
}

function get(call: ResourceCall, id: string): void {
  const file = ownedOr403(call, `files/${id}`, 'File')
  if (file) sendJson(call.ex, file.body)
}

function remove(call: ResourceCall, id: string): void {
  if (!ownedOr403(call, `files/${id}`, 'File')) return
  call.store.remove(`files/${id}`)
  sendJson(call.ex, {})
}

function download(call: ResourceCall, id: string): void {
  const file = ownedOr403(call, `files/${id}`, 'File')
  if (!file) return
  if (!file.content) return sendError(call.ex, googleError(400, 'FAILED_PRECONDITION', `Only generated files can be downloaded; files/${id} was uploaded.`))
  const headers = call.ex.headers(String(file.body.mimeType), { 'Content-Length': String(file.content.length) })
  call.ex.res.writeHead(200, headers)
  call.ex.res.end(file.content)
}

const stringOf = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined)
