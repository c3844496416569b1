// The fake's resources, kept per API key as Google keeps them per project, and what every resource route shares.

import { randomBytes } from 'node:crypto'
import { googleError, type FakeError } from './errors.ts'
import type { Exchange } from './exchange.ts'
import type { UploadSession } from './files.ts'
import { sendError, sendJson } from './respond.ts'
import { isObject, type Json } from './responses.ts'

/** One resource: who owns it, what a get answers, and what the fake keeps beside it. */
export interface Resource {
  key: string
  body: Json
  /** Gets so far (batches and operations finish after a poll or two). */
  polls: number
  /** Bytes a download answers (generated files: videos, batch results). */
  content?: Buffer
  /** What a batch was asked to do, for its results. */
  input?: Json
}

/** How one upload request's bytes arrived: a streamed body arrives in many pieces, spread over time. */
export interface UploadTrace {
  uploadId: string
  pieces: number
  bytes: number
  /** performance.now() of the first and the last piece. */
  firstPieceAt?: number
  lastPieceAt?: number
}

/** What a test may ask the fake about resources. */
export interface FakeResources {
  /** The API key that owns a resource (`files/abc`), or undefined. */
  owner(name: string): string | undefined
  /** Every upload request's bytes, in arrival order. */
  readonly uploads: readonly UploadTrace[]
}

export interface ResourceCall {
  ex: Exchange
  store: ResourceStore
  method: string
  /** The path after the version: `files/abc`, `upload/files` (for /upload/v1beta/files), `download/files/x:download`. */
  path: string
  query: Record<string, string>
  key: string
  /** The request body, parsed (`{}` for none). */
  body: Json
  /** Request header by lower-case name. */
  header(name: string): string | undefined
}

export type ResourceHandler = (call: ResourceCall, match: RegExpExecArray) => void | Promise<void>
export type ResourceRoute = readonly [method: string, path: RegExp, handler: ResourceHandler]

export class ResourceStore implements FakeResources {
  /** Where the fake listens; file URIs and upload URLs point there. */
  origin = ''
  readonly uploads: UploadTrace[] = []
  readonly sessions = new Map<string, UploadSession>()
  readonly #resources = new Map<string, Resource>()

  owner(name: string): string | undefined {
    return this.#resources.get(name)?.key
  }

  add(name: string, key: string, body: Json, content?: Buffer): Resource {
    const resource: Resource = { key, body, polls: 0, content }
    this.#resources.set(name, resource)
    return resource
  }

  /** The resource if `key` owns it; otherwise Google's 403 for resources of another project (or none at all). */
  owned(name: string, key: string, kind: string): Resource | FakeError {
    const resource = this.#resources.get(name)
    if (resource?.key === key) return resource
    return googleError(
      403,
      'PERMISSION_DENIED',
      `You do not have permission to access the ${kind} ${name.slice(name.lastIndexOf('/') + 1)} or it may not exist.`,
    )
  }

  remove(name: string): void {
    for (const other of this.#resources.keys()) if (other === name || other.startsWith(`${name}/`)) this.#resources.delete(other)
  }

  /** The resources of `key` directly under `prefix` (`files/`, `fileSearchStores/s/documents/`), oldest first. */
  list(key: string, prefix: string): Resource[] {
    const found: Resource[] = []
    for (const [name, resource] of this.#resources) {
      if (resource.key === key && name.startsWith(prefix) && !name.slice(prefix.length).includes('/')) found.push(resource)
    }
    return found
  }

  /**
   * A generate request naming resources of another project: Google refuses a cached content and a file search store
   * it cannot read with 403 (files are checked with the request's fields, see validate.ts).
   */
  refuseForeign(key: string, request: Json): FakeError | undefined {
    const cached = request.cachedContent ?? request.cached_content
    if (typeof cached === 'string' && cached.startsWith('cachedContents/')) {
      const owned = this.owned(cached, key, 'CachedContent')
      if (!('key' in owned)) return owned
    }
    for (const tool of Array.isArray(request.tools) ? request.tools : []) {
      const search = isObject(tool) ? (tool.fileSearch ?? tool.file_search) : undefined
      const names = isObject(search) ? (search.fileSearchStoreNames ?? search.file_search_store_names) : undefined
      for (const name of Array.isArray(names) ? names : []) {
        const owned = this.owned(String(name), key, 'FileSearchStore')
        if (!('key' in owned)) return owned
      }
    }
    return undefined
  }

  readable(key: string, fileId: string): boolean {
    return this.owner(`files/${fileId}`) === key
  }
}

/** A new id as Google makes them: lower-case letters and digits. */
export const newId = (length = 12): string => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('')
}

export const timestamp = (at = Date.now()): string => new Date(at).toISOString()

/** A page of a list answer, Google's way: `pageSize` items and a `nextPageToken` while more are left. */
export function page(call: ResourceCall, items: Resource[], field: string, maxPageSize = 100): void {
  const size = Math.min(Math.max(Number(call.query.pageSize) || 10, 1), maxPageSize)
  const start = Math.max(Number(call.query.pageToken) || 0, 0)
  const body: Json = {}
  const slice = items.slice(start, start + size)
  if (slice.length > 0) body[field] = slice.map((item) => item.body)
  if (start + size < items.length) body.nextPageToken = String(start + size)
  sendJson(call.ex, body)
}

/** The resource when `call.key` owns it; otherwise sends Google's 403 and returns undefined. */
export function ownedOr403(call: ResourceCall, name: string, kind: string): Resource | undefined {
  const owned = call.store.owned(name, call.key, kind)
  if (!('key' in owned)) {
    sendError(call.ex, owned)
    return undefined
  }
  return owned
}
