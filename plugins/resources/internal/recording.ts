import { randomBytes } from 'node:crypto'
import type { ConsolaInstance } from 'consola'
import { GatewayError, isObject, type GatewayRequest, type Json, type JsonOutcome, type UpstreamCall } from 'gemgate'
import { fileOfUri, ownerOf, type Kind, type ResourceName } from './names.ts'
import { OPERATIONS_BY_METHOD, UPLOAD_ID, UPLOAD_START } from './operations.ts'
import type { ResourceStore } from './store.ts'

export interface RecorderOptions {
  store: ResourceStore
  logger: ConsolaInstance
  /** The origin of BASE_URL: upload bytes go there, as the SDKs send them (whatever host Google's URL names). */
  apiOrigin: string
  /** Origins of Files API URIs (Google's, BASE_URL's). */
  fileOrigins: ReadonlySet<string>
  uploadSessionMs: number
}

/** What a successful call means for the records. */
type Effect = { kind: 'create'; resource: Kind } | { kind: 'refresh' } | { kind: 'forget' } | { kind: 'upload' }

const FILE_LIFETIME_MS = 48 * 3_600_000
const CACHE_LIFETIME_MS = 3_600_000
/** Google names no end for batches and operations; their records go after this. */
const JOB_RECORD_MS = 30 * 86_400_000

const CREATES: ReadonlyMap<string, Kind> = new Map([
  ['batchGenerateContent', 'batch'],
  ['asyncBatchEmbedContent', 'batch'],
  ['predictLongRunning', 'operation'],
])
const COLLECTIONS: ReadonlyMap<string, Kind> = new Map([
  ['cachedContents', 'cachedContent'],
  ['fileSearchStores', 'fileSearchStore'],
])
const RECORDED = new Set([...CREATES.keys(), ...Object.values(OPERATIONS_BY_METHOD), UPLOAD_START])

function effectOf(request: GatewayRequest): Effect | undefined {
  const created = CREATES.get(request.operation)
  if (created) return { kind: 'create', resource: created }
  const path = request.resource ?? ''
  const collection = COLLECTIONS.get(path)
  // The resource itself, not a document inside a store nor an action on it (`batches/b:cancel`).
  const itself = ownerOf(path)?.name === path
  switch (request.operation) {
    case UPLOAD_START:
      return { kind: 'upload' }
    case OPERATIONS_BY_METHOD.POST:
      return collection ? { kind: 'create', resource: collection } : undefined
    case OPERATIONS_BY_METHOD.GET:
    case OPERATIONS_BY_METHOD.PATCH:
      return itself ? { kind: 'refresh' } : undefined
    case OPERATIONS_BY_METHOD.DELETE:
      return itself ? { kind: 'forget' } : undefined
  }
  return undefined
}

/**
 * The `wrapUpstream` that keeps the records: a resource a call created is bound to the key of that attempt (only a
 * success is, so a retry on another key binds the key that made it) and to the client token; a get or patch keeps its
 * latest answer and expiry (what the lists show), and the files a finished batch or video wrote are bound alongside;
 * a delete forgets it. The start of an upload opens a session whose id replaces Google's upload URL.
 */
export function recordingUpstream(options: RecorderOptions): (call: UpstreamCall) => UpstreamCall {
  return (call) => async (attempt, rctx) => {
    if (!RECORDED.has(attempt.operation)) return call(attempt, rctx)
    const effect = effectOf(rctx.request)
    const outcome = await call(attempt, rctx)
    if (!effect || outcome.kind !== 'json' || outcome.status < 200 || outcome.status > 299) return outcome
    const owner = { keyId: attempt.key.id, tokenId: rctx.client?.tokenId ?? '' }
    if (effect.kind === 'upload') return openUpload(outcome, rctx.request, owner, options)
    try {
      await record(effect, rctx.request, outcome.body.text, owner, options)
    } catch (error) {
      // The resource exists at Google whatever the database says; the answer goes out, the failure to the log.
      options.logger.error(`could not record ${rctx.request.resource ?? attempt.operation} for its key:`, error)
    }
    return outcome
  }
}

async function record(
  effect: Exclude<Effect, { kind: 'upload' }>,
  request: GatewayRequest,
  text: string,
  owner: { keyId: string; tokenId: string },
  options: RecorderOptions,
): Promise<void> {
  const { store } = options
  const now = Date.now()
  if (effect.kind === 'forget') return store.forget(request.resource!)
  const body = parseObject(text)
  if (!body) return
  if (effect.kind === 'refresh') {
    const resource = ownerOf(request.resource!)!
    await store.refresh(resource.name, text, expiryOf(resource.kind, body, now))
    // A finished batch's results file and a finished video are files of the same project.
    for (const file of filesWritten(body, options.fileOrigins)) {
      if (!(await store.find(file.name, now))) await store.bind({ ...owner, ...file, createdAt: now, expiresAt: now + FILE_LIFETIME_MS, body: null })
    }
    return
  }
  const created = typeof body.name === 'string' ? ownerOf(body.name) : undefined
  if (!created || created.name !== body.name || created.kind !== effect.resource) {
    options.logger.warn(`Google's answer to ${request.resource ?? request.operation} names no ${effect.resource}; nothing recorded`)
    return
  }
  await store.bind({ ...owner, ...created, createdAt: now, expiresAt: expiryOf(created.kind, body, now), body: text })
}

function expiryOf(kind: Kind, body: Json, now: number): number | null {
  const at = (field: unknown, fallback: number) => (typeof field === 'string' && Date.parse(field) > 0 ? Date.parse(field) : now + fallback)
  switch (kind) {
    case 'file':
      return at(body.expirationTime, FILE_LIFETIME_MS)
    case 'cachedContent':
      return at(body.expireTime, CACHE_LIFETIME_MS)
    case 'fileSearchStore':
      return null
    default:
      return now + JOB_RECORD_MS
  }
}

function filesWritten(body: Json, origins: ReadonlySet<string>): ResourceName[] {
  const files: (ResourceName | undefined)[] = []
  const metadata = isObject(body.metadata) ? body.metadata : {}
  for (const output of [metadata.output, body.response]) {
    if (isObject(output) && typeof output.responsesFile === 'string') files.push(fileOfUri(output.responsesFile, origins))
  }
  const video = isObject(body.response) ? body.response.generateVideoResponse : undefined
  for (const sample of isObject(video) && Array.isArray(video.generatedSamples) ? video.generatedSamples : []) {
    const uri = isObject(sample) && isObject(sample.video) ? sample.video.uri : undefined
    if (typeof uri === 'string') files.push(fileOfUri(uri, origins))
  }
  return files.filter((file): file is ResourceName => file !== undefined)
}

/**
 * Keeps Google's upload URL here, bound to the key that started the upload and to the client, and hands the route a
 * session id instead. The URL loses any `key=`, and goes to BASE_URL's origin (a relay in front of Google), as the
 * SDKs send it.
 */
async function openUpload(
  outcome: JsonOutcome,
  request: GatewayRequest,
  owner: { keyId: string; tokenId: string },
  options: RecorderOptions,
): Promise<JsonOutcome> {
  const given = outcome.headers?.['x-goog-upload-url']
  let google: URL
  try {
    google = new URL(given ?? '')
  } catch {
    throw new GatewayError(502, 'Google started no upload: its answer had no X-Goog-Upload-URL.')
  }
  google.searchParams.delete('key')
  const declared = request.headers?.['x-goog-upload-header-content-length'] ?? ''
  const id = randomBytes(24).toString('base64url')
  try {
    await options.store.openUpload({
      id,
      ...owner,
      upstreamUrl: new URL(google.pathname + google.search, options.apiOrigin).href,
      declaredBytes: /^\d{1,15}$/.test(declared) ? Number(declared) : null,
      expiresAt: Date.now() + options.uploadSessionMs,
    })
  } catch (error) {
    throw new GatewayError(503, 'The upload could not be started: the gateway could not record it (database).', { cause: error })
  }
  const headers: Record<string, string> = { ...outcome.headers, [UPLOAD_ID]: id }
  delete headers['x-goog-upload-url']
  return { ...outcome, headers }
}

function parseObject(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return isObject(value) ? value : undefined
  } catch {
    return undefined
  }
}
