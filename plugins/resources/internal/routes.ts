import { getRouterParam } from 'h3'
import { badRequest, geminiDialect, notFound, parseBody, type PluginContext, type PluginRouter, type RouteCall } from 'gemgate'
import { withinTime, type OwnerOptions } from './binding.ts'
import { isId, type Kind } from './names.ts'
import { OPERATIONS_BY_METHOD, type RestMethod } from './operations.ts'
import type { ResourceStore } from './store.ts'

export interface RouteDeps {
  ctx: PluginContext
  store: ResourceStore
  owners: OwnerOptions
}

/** The native API's two homes, as gemini-balance served them. */
export const PREFIXES = ['/v1beta', '/gemini/v1beta'] as const

/** Query parameters of Google's that these calls take; anything else (the client's `key`!) stays here. */
const FORWARDED_QUERY = ['pageSize', 'pageToken', 'force', 'updateMask'] as const

const JSON_TYPE = 'application/json; charset=UTF-8'

/** A list answered from the records, by kind: Google's field for it and its largest page. */
const LISTS: ReadonlyMap<Kind, { field: string; maxPageSize: number }> = new Map([
  ['file', { field: 'files', maxPageSize: 100 }],
  ['cachedContent', { field: 'cachedContents', maxPageSize: 1000 }],
  ['batch', { field: 'operations', maxPageSize: 1000 }],
  ['fileSearchStore', { field: 'fileSearchStores', maxPageSize: 20 }],
])

/**
 * The REST routes of cachedContents, batches, long-running operations, file search stores and files (uploads and
 * downloads are in transfers.ts). Each call that names a resource runs through the pipeline, where the request hook
 * sends it to the key that owns the resource; a create goes to any key and the recorder binds what it made. Lists are
 * answered from the records: per client token with isolation, across every key.
 */
export function registerResourceRoutes(router: PluginRouter, deps: RouteDeps): void {
  const forward =
    (method: RestMethod, path: (call: RouteCall) => string, withBody = false) =>
    (call: RouteCall) =>
      send(call, deps, method, path(call), withBody)
  const list = (kind: Kind) => (call: RouteCall) => listRecords(call, deps, kind)
  const param = (name: string, action?: string) => (call: RouteCall) => idParam(call, name, action)
  for (const p of PREFIXES) {
    router.add('GET', `${p}/files`, geminiDialect, list('file'))
    router.add(
      'DELETE',
      `${p}/files/:file`,
      geminiDialect,
      forward('DELETE', (call) => `files/${param('file')(call)}`),
    )

    router.add(
      'POST',
      `${p}/cachedContents`,
      geminiDialect,
      forward('POST', () => 'cachedContents', true),
    )
    router.add('GET', `${p}/cachedContents`, geminiDialect, list('cachedContent'))
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      router.add(
        method,
        `${p}/cachedContents/:cache`,
        geminiDialect,
        forward(method, (call) => `cachedContents/${param('cache')(call)}`, method === 'PATCH'),
      )
    }

    router.add('GET', `${p}/batches`, geminiDialect, list('batch'))
    router.add(
      'GET',
      `${p}/batches/:batch`,
      geminiDialect,
      forward('GET', (call) => `batches/${param('batch')(call)}`),
    )
    router.add(
      'DELETE',
      `${p}/batches/:batch`,
      geminiDialect,
      forward('DELETE', (call) => `batches/${param('batch')(call)}`),
    )
    router.add(
      'POST',
      `${p}/batches/:batch`,
      geminiDialect,
      forward('POST', (call) => `batches/${param('batch', 'cancel')(call)}:cancel`, true),
    )

    router.add(
      'GET',
      `${p}/models/:model/operations/:operation`,
      geminiDialect,
      forward('GET', (call) => `models/${call.model(decodeURIComponent(getRouterParam(call.event, 'model') ?? ''))}/operations/${param('operation')(call)}`),
    )

    const store = (call: RouteCall) => `fileSearchStores/${param('store')(call)}`
    router.add(
      'POST',
      `${p}/fileSearchStores`,
      geminiDialect,
      forward('POST', () => 'fileSearchStores', true),
    )
    router.add('GET', `${p}/fileSearchStores`, geminiDialect, list('fileSearchStore'))
    router.add('GET', `${p}/fileSearchStores/:store`, geminiDialect, forward('GET', store))
    router.add('DELETE', `${p}/fileSearchStores/:store`, geminiDialect, forward('DELETE', store))
    router.add(
      'POST',
      `${p}/fileSearchStores/:store`,
      geminiDialect,
      forward('POST', (call) => `fileSearchStores/${param('store', 'importFile')(call)}:importFile`, true),
    )
    router.add(
      'GET',
      `${p}/fileSearchStores/:store/documents`,
      geminiDialect,
      forward('GET', (call) => `${store(call)}/documents`),
    )
    for (const method of ['GET', 'DELETE'] as const) {
      router.add(
        method,
        `${p}/fileSearchStores/:store/documents/:document`,
        geminiDialect,
        forward(method, (call) => `${store(call)}/documents/${param('document')(call)}`),
      )
    }
    router.add(
      'GET',
      `${p}/fileSearchStores/:store/operations/:operation`,
      geminiDialect,
      forward('GET', (call) => `${store(call)}/operations/${param('operation')(call)}`),
    )
    router.add(
      'GET',
      `${p}/fileSearchStores/:store/upload/operations/:operation`,
      geminiDialect,
      forward('GET', (call) => `${store(call)}/upload/operations/${param('operation')(call)}`),
    )
  }
}

/** One call to Google on `resource` through the pipeline, answered in Gemini's shape (Google's body and status). */
export async function send(call: RouteCall, deps: RouteDeps, method: RestMethod, resource: string, withBody: boolean): Promise<Response> {
  // An action with an empty body still sends `{}`, as the SDKs do.
  const text = withBody ? (await call.text()) || '{}' : ''
  const request = {
    operation: OPERATIONS_BY_METHOD[method],
    model: '',
    stream: false,
    body: withBody ? parseBody(text) : {},
    rawBody: text,
    resource,
    query: queryOf(call),
  }
  return deps.ctx.answer(call, request, geminiDialect)
}

/**
 * A path parameter that must be one id (`abc`), or, with `action`, an id and that action (`abc:cancel`): anything
 * else is refused before it could reach Google's URL.
 */
export function idParam(call: RouteCall, name: string, action?: string): string {
  const raw = decodeURIComponent(getRouterParam(call.event, name) ?? '')
  const [id = '', ...rest] = raw.split(':')
  if (action !== undefined && rest.join(':') !== action)
    throw notFound(`Method "${rest.join(':').slice(0, 64) || '(none)'}" is not served here; use :${action}.`)
  if ((action === undefined && rest.length > 0) || !isId(id)) throw badRequest(`"${raw.slice(0, 64)}" is not a valid ${name} id.`)
  return id
}

function queryOf(call: RouteCall): Record<string, string> {
  const query: Record<string, string> = {}
  for (const name of FORWARDED_QUERY) {
    const value = call.event.url.searchParams.get(name)
    if (value !== null) query[name] = value
  }
  return query
}

/** A page of the records, in the shape of Google's list (`{files: [...], nextPageToken}`); the token is an offset. */
async function listRecords(call: RouteCall, deps: RouteDeps, kind: Kind): Promise<Response> {
  const { field, maxPageSize } = LISTS.get(kind)!
  const search = call.event.url.searchParams
  const size = Math.min(Math.max(Math.floor(Number(search.get('pageSize'))) || 10, 1), maxPageSize)
  const token = search.get('pageToken') ?? ''
  if (token !== '' && !/^\d{1,9}$/.test(token)) throw badRequest(`Invalid page token "${token.slice(0, 32)}".`)
  const offset = Number(token || 0)
  const tokenId = deps.owners.isolation ? call.client.tokenId : undefined
  const rows = await withinTime(deps.store.list(kind, tokenId, offset, size + 1, Date.now()), deps.owners.timeoutMs)
  const body: Record<string, unknown> = {}
  if (rows.length > 0) body[field] = rows.slice(0, size).map((row) => (row.body === null ? { name: row.name } : JSON.parse(row.body)))
  if (rows.length > size) body.nextPageToken = String(offset + size)
  return new Response(`${JSON.stringify(body, null, 2)}\n`, { headers: { 'content-type': JSON_TYPE } })
}
