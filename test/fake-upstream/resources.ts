// Resources Google keeps per project (wire samples §7, the REST reference of files, cachedContents, batches, operations
// and fileSearchStores): the fake keeps them per API key, as Google keeps them per project. Another key naming one gets
// Google's 403 "You do not have permission to access the File x or it may not exist." — so a gateway that rotates keys
// without binding each resource to the key that made it fails here exactly as it fails against Google.

import type { IncomingMessage } from 'node:http'
import { BATCH_ROUTES } from './batches.ts'
import { CACHE_ROUTES } from './caches.ts'
import { invalidJson } from './errors.ts'
import type { Exchange } from './exchange.ts'
import { FILE_ROUTES, receiveUploadBytes } from './files.ts'
import { sendError } from './respond.ts'
import type { ResourceCall, ResourceRoute, ResourceStore } from './resource-store.ts'
import { isObject, type Json } from './responses.ts'
import { STORE_ROUTES } from './stores.ts'
import type { RecordedRequest } from './types.ts'

const ROUTES: readonly ResourceRoute[] = [...FILE_ROUTES, ...CACHE_ROUTES, ...BATCH_ROUTES, ...STORE_ROUTES]

/** Path after the version for the resource routes, or undefined for anything else. */
export function resourcePath(path: string): string | undefined {
  for (const [prefix, as] of [
    ['/v1beta/', ''],
    ['/upload/v1beta/', 'upload/'],
    ['/download/v1beta/', 'download/'],
  ] as const) {
    if (path.startsWith(prefix)) return as + path.slice(prefix.length)
  }
  return undefined
}

export { ResourceStore } from './resource-store.ts'

/**
 * The bytes of a resumable upload (a request to an upload URL), read as a stream and never whole, before the server
 * reads bodies for everything else; false for any other request. Recorded with an empty body.
 */
export async function takeUploadBytes(ex: Exchange, req: IncomingMessage, store: ResourceStore, requests: RecordedRequest[] | undefined): Promise<boolean> {
  if (!req.url?.startsWith('/upload/')) return false
  const url = new URL(req.url, 'http://fake')
  const uploadId = url.searchParams.get('upload_id')
  if (uploadId === null) return false
  const header = headerOf(req)
  const headers: Record<string, string> = {}
  for (const name of Object.keys(req.headers)) headers[name] = header(name)!
  const key = header('x-goog-api-key') ?? url.searchParams.get('key') ?? undefined
  requests?.push({ method: req.method ?? 'POST', path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body: '', key })
  await receiveUploadBytes(ex, req, store, uploadId)
  return true
}

/** Where resource routes start; a generate call (most of what the fake serves) is told apart without a regex. */
const TOPS = ['files', 'upload/', 'download/', 'cachedContents', 'batches', 'fileSearchStores']
const mayBeResource = (path: string): boolean =>
  TOPS.some((top) => path.startsWith(top)) ||
  (path.startsWith('models/') && (path.endsWith(':batchGenerateContent') || path.endsWith(':predictLongRunning') || path.includes('/operations/')))

/** Answers a resource route; false when the path is none of them (the caller goes on). */
export async function handleResource(call: Omit<ResourceCall, 'body'> & { rawBody: string }): Promise<boolean> {
  if (!mayBeResource(call.path)) return false
  for (const [method, pattern, handler] of ROUTES) {
    const match = pattern.exec(call.path)
    if (!match || method !== call.method) continue
    let body: Json = {}
    if (call.rawBody.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(call.rawBody)
        body = isObject(parsed) ? parsed : {}
      } catch (error) {
        sendError(call.ex, invalidJson(call.rawBody, error as Error))
        return true
      }
    }
    await handler({ ...call, body }, match)
    return true
  }
  return false
}

export const headerOf =
  (req: IncomingMessage) =>
  (name: string): string | undefined => {
    const value = req.headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  }
