// cachedContents (the REST reference's create, list, get, patch, delete): a cache belongs to the project that made
// it; contents naming files of another project are refused as in generateContent.

import { badRequest } from './errors.ts'
import { sendError, sendJson } from './respond.ts'
import { ownedOr403, page, timestamp, newId, type ResourceCall, type ResourceRoute } from './resource-store.ts'
import { promptWords } from './responses.ts'
import { checkFileReferences } from './validate.ts'

const DEFAULT_TTL_MS = 3_600_000

export const CACHE_ROUTES: readonly ResourceRoute[] = [
  ['POST', /^cachedContents$/, create],
  ['GET', /^cachedContents$/, (call) => page(call, call.store.list(call.key, 'cachedContents/'), 'cachedContents', 1000)],
  ['GET', /^cachedContents\/([a-z0-9-]+)$/, (call, match) => get(call, match[1]!)],
  ['PATCH', /^cachedContents\/([a-z0-9-]+)$/, (call, match) => update(call, match[1]!)],
  ['DELETE', /^cachedContents\/([a-z0-9-]+)$/, (call, match) => remove(call, match[1]!)],
]

function create(call: ResourceCall): void {
  const { body } = call
  if (typeof body.model !== 'string' || !body.model.startsWith('models/'))
    return sendError(call.ex, badRequest('cachedContent.model is required, as models/{model}.', 'model'))
  const unreadable = checkFileReferences(body, (id) => call.store.readable(call.key, id))
  if (unreadable) return sendError(call.ex, unreadable)
  const now = Date.now()
  const name = `cachedContents/${newId()}`
  const cache: Record<string, unknown> = { name, model: body.model }
  if (typeof body.displayName === 'string') cache.displayName = body.displayName
  Object.assign(cache, {
    createTime: timestamp(now),
    updateTime: timestamp(now),
    expireTime: expiry(body, now),
    usageMetadata: { totalTokenCount: promptWords(body) },
  })
  call.store.add(name, call.key, cache)
  sendJson(call.ex, cache)
}

function get(call: ResourceCall, id: string): void {
  const cache = ownedOr403(call, `cachedContents/${id}`, 'CachedContent')
  if (cache) sendJson(call.ex, cache.body)
}

/** Only the expiry may change (updateMask ttl or expireTime), as Google allows. */
function update(call: ResourceCall, id: string): void {
  const cache = ownedOr403(call, `cachedContents/${id}`, 'CachedContent')
  if (!cache) return
  const now = Date.now()
  Object.assign(cache.body, { expireTime: expiry(call.body, now), updateTime: timestamp(now) })
  sendJson(call.ex, cache.body)
}

function remove(call: ResourceCall, id: string): void {
  if (!ownedOr403(call, `cachedContents/${id}`, 'CachedContent')) return
  call.store.remove(`cachedContents/${id}`)
  sendJson(call.ex, {})
}

/** `ttl` ("300s") or `expireTime`, else an hour, as Google defaults. */
function expiry(body: Record<string, unknown>, now: number): string {
  if (typeof body.expireTime === 'string') return body.expireTime
  const seconds = typeof body.ttl === 'string' ? Number(/^(\d+(?:\.\d+)?)s$/.exec(body.ttl)?.[1]) : NaN
  return timestamp(now + (Number.isFinite(seconds) ? seconds * 1000 : DEFAULT_TTL_MS))
}
