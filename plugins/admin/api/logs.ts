// Request and error logs: filtered, paged by id (fast at any depth), each row with its key's label and its client
// token's name; a request row leads to its error row. gemini-balance's error-log parameters and answer still work.
import * as v from 'valibot'
import { badRequest, notFound } from '../internal/http.ts'
import { LogIds, optionalQueryInt, queryText, queryTime } from '../internal/inputs.ts'
import { labelled, loadLabels, type Labels } from '../internal/labels.ts'
import type { AdminCall, AdminRoutes } from '../internal/route.ts'
import type { AdminDeps, ErrorLogEntry, GatewayControl, LogFilter } from '../internal/types.ts'

const Filter = {
  from: queryTime,
  to: queryTime,
  key: queryText,
  model: queryText,
  status: optionalQueryInt(0, 599),
  class: queryText,
  token: queryText,
  text: queryText,
  before: optionalQueryInt(1, Number.MAX_SAFE_INTEGER),
  limit: optionalQueryInt(1, 1000),
}
const RequestsQuery = v.object(Filter)
/** gemini-balance's error-log page asks with these. */
const COMPAT = ['offset', 'key_search', 'error_search', 'error_code_search', 'start_date', 'end_date', 'sort_by', 'sort_order'] as const
const ErrorsQuery = v.object({
  ...Filter,
  offset: optionalQueryInt(0, 10_000),
  key_search: queryText,
  error_search: queryText,
  error_code_search: optionalQueryInt(0, 599),
  start_date: queryTime,
  end_date: queryTime,
  sort_by: queryText,
  sort_order: v.optional(v.picklist(['asc', 'desc'], 'must be asc or desc')),
})
/** Rows per page at most (gemini-balance allowed 1000; larger pages are cut to this). */
const PAGE_MAX = 500

export function registerLogRoutes(routes: AdminRoutes, { control }: AdminDeps): void {
  const { logs } = control
  const rowId = (call: AdminCall) => {
    const id = call.param('id')
    if (!/^\d{1,15}$/.test(id)) throw badRequest('A log row id is a number.', { id: 'must be a number' })
    return Number(id)
  }

  routes.api('GET', '/api/logs/requests', async (call) => {
    const query = call.query(RequestsQuery)
    const [page, labels] = await Promise.all([logs.requests(filterOf(query), pageOf(query)), loadLabels(control)])
    return { ...page, items: page.items.map((row) => labelled(labels, row)) }
  })

  routes.api('GET', '/api/logs/errors', async (call) => {
    const query = call.query(ErrorsQuery)
    const labels = await loadLabels(control)
    const filter = { ...filterOf(query), ...compatFilter(control, labels, query) }
    if (COMPAT.some((name) => query[name] !== undefined)) return compatErrors(control, labels, filter, query)
    const page = await logs.errors(filter, pageOf(query))
    return { ...page, items: page.items.map((row) => labelled(labels, row)) }
  })

  routes.api('GET', '/api/logs/requests/:id', async (call) => {
    const entry = await logs.request(rowId(call))
    if (!entry) throw notFound('No request log row has this id.')
    const [error, labels] = await Promise.all([logs.errorFor(entry), loadLabels(control)])
    return { entry: labelled(labels, entry), ...(error ? { error: labelled(labels, error) } : {}) }
  })

  const errorDetail = async (call: AdminCall) => {
    const detail = await logs.error(rowId(call))
    if (!detail) throw notFound('No error log row has this id.')
    return labelled(await loadLabels(control), detail)
  }
  routes.api('GET', '/api/logs/errors/:id', errorDetail)
  routes.api('GET', '/api/logs/errors/:id/details', async (call) => {
    const detail = await errorDetail(call)
    return { ...compatRow(detail), error_log: detail.errorBody, request_msg: detail.requestBody, ...detail }
  })

  routes.api('DELETE', '/api/logs/requests', async (call) => ({ deleted: await logs.deleteRequests(idsOrAll(await call.body(LogIds))) }))
  routes.api('DELETE', '/api/logs/errors', async (call) => ({ deleted: await logs.deleteErrors(idsOrAll(await call.body(LogIds))) }))
  routes.api('DELETE', '/api/logs/errors/all', async () => void (await logs.deleteErrors('all')))
  routes.api('DELETE', '/api/logs/errors/:id', async (call) => {
    if ((await logs.deleteErrors([rowId(call)])) === 0) throw notFound('No error log row has this id.')
  })
}

type FilterQuery = v.InferOutput<typeof RequestsQuery>

function filterOf(query: FilterQuery): LogFilter {
  return {
    from: query.from,
    to: query.to,
    keyId: query.key,
    model: query.model,
    status: query.status,
    failureClass: query.class,
    tokenId: query.token,
    text: query.text,
  }
}

function pageOf(query: FilterQuery) {
  return { limit: Math.min(query.limit ?? 50, PAGE_MAX), before: query.before }
}

function idsOrAll(input: v.InferOutput<typeof LogIds>): number[] | 'all' {
  return 'ids' in input ? input.ids : 'all'
}

/** gemini-balance's filters over ours. Its key search matched part of a key: here, of a held key's label or id. */
function compatFilter(control: GatewayControl, labels: Labels, query: v.InferOutput<typeof ErrorsQuery>): LogFilter {
  const filter: LogFilter = {}
  if (query.start_date !== undefined) filter.from = query.start_date
  if (query.end_date !== undefined) filter.to = query.end_date
  if (query.error_code_search !== undefined) filter.status = query.error_code_search
  if (query.error_search) filter.text = query.error_search
  const search = query.key_search?.trim().toLowerCase()
  if (search) {
    const matches = control.keys.list().filter((key) => key.id.toLowerCase().includes(search) || labels.key(key.id).toLowerCase().includes(search))
    if (matches.length > 1) throw badRequest(`key_search matches ${matches.length} keys: give more of it.`, { key_search: 'matches more than one key' })
    // No key matches: a filter nothing matches (ids are never empty).
    filter.keyId = matches[0]?.id ?? ''
  }
  return filter
}

/** gemini-balance's answer: `{logs, total}` from an offset, oldest or newest first. */
async function compatErrors(control: GatewayControl, labels: Labels, filter: LogFilter, query: v.InferOutput<typeof ErrorsQuery>) {
  const limit = Math.min(query.limit ?? 10, PAGE_MAX)
  const offset = query.offset ?? 0
  const rows: ErrorLogEntry[] = []
  let total = 0
  let before: number | undefined
  do {
    const page = await control.logs.errors(filter, { limit: PAGE_MAX, before, ascending: query.sort_order === 'asc' })
    if (before === undefined) total = page.total
    rows.push(...page.items)
    before = page.nextBefore
  } while (before !== undefined && rows.length < offset + limit)
  return {
    logs: rows.slice(offset, offset + limit).map((row) => {
      const named = labelled(labels, row)
      return Object.assign(compatRow(named), named)
    }),
    total,
  }
}

/** A row under gemini-balance's field names. */
function compatRow(row: ErrorLogEntry & { keyLabel: string }) {
  return {
    id: row.id,
    gemini_key: row.keyLabel,
    error_type: row.failureClass,
    error_code: row.status,
    model_name: row.model,
    request_time: new Date(row.time).toISOString(),
  }
}
