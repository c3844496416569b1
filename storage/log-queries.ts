// The console's log pages (LogQueries in queries.ts): filtered request and error logs, newest first, paged by id (a
// keyset: as fast on page 1000 as on page 1), counts that stop at a cap, one row's detail, a request's error row,
// and deleting. Every value is a bound parameter; the text filter matches `%`, `_`, `\` and `!` literally.
import type { Primitive } from 'db0'
import type { GatewayDatabase } from './db.ts'
import { chunks, createRunner, num, placeholders, type StoreOptions } from './internal/sql.ts'
import type { ErrorLogDetail, ErrorLogEntry, LogFilter, LogPage, LogPageOptions, LogQueries, RequestLogEntry } from './queries.ts'
import { deleteOlderThan, type LogTable } from './retention.ts'

const REQUEST_SELECT =
  'id, time, request_id, token_id, dialect, operation, model, key_id, attempt, status, failure_class, latency_ms, prompt_tokens, completion_tokens, thinking_tokens, total_tokens'
const ERROR_SELECT = 'id, time, request_id, token_id, key_id, model, operation, status, failure_class'
/** An error row belongs to a request row of the same request and key whose time is at most this far away. */
const ERROR_MATCH_WINDOW_MS = 10_000
const DELETE_BATCH = 1000

export function createLogQueries(database: GatewayDatabase, options: StoreOptions = {}): LogQueries {
  const runner = createRunner(database, 'logs', options)

  async function page<T>(table: LogTable, columns: string, filter: LogFilter, options: LogPageOptions, toEntry: (row: Row) => T): Promise<LogPage<T>> {
    const limit = options.limit ?? 50
    const countLimit = options.countLimit ?? 10_000
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new Error('storage: logs: limit must be an integer from 1 to 500')
    if (!Number.isInteger(countLimit) || countLimit < 1) throw new Error('storage: logs: countLimit must be a positive integer')
    const { where, params } = conditions(table, filter)
    const pageWhere = [...where]
    const pageParams = [...params]
    if (options.before !== undefined) {
      if (!Number.isSafeInteger(options.before)) throw new Error('storage: logs: before must be a row id')
      pageWhere.push(options.ascending ? 'id > ?' : 'id < ?')
      pageParams.push(options.before)
    }
    const [rows, counted] = await Promise.all([
      runner.all<Row>(`list ${table}`, `SELECT ${columns} FROM ${table}${clause(pageWhere)} ORDER BY id ${options.ascending ? 'ASC' : 'DESC'} LIMIT ?`, [
        ...pageParams,
        limit + 1,
      ]),
      runner.get<{ n: unknown }>(`count ${table}`, `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${table}${clause(where)} LIMIT ?) AS matching`, [
        ...params,
        countLimit + 1,
      ]),
    ])
    const items = rows.slice(0, limit).map(toEntry)
    const total = num(counted?.n)
    const result: LogPage<T> = { items, total: Math.min(total, countLimit), totalCapped: total > countLimit }
    if (rows.length > limit) result.nextBefore = num(rows[limit - 1]!.id)
    return result
  }

  async function remove(table: LogTable, ids: readonly number[] | 'all'): Promise<number> {
    // Every row is older than the end of time: retention's bounded batches, which the log writer interleaves with.
    if (ids === 'all') return runner.task(`delete all ${table}`, () => deleteOlderThan(database, table, Number.MAX_SAFE_INTEGER))
    if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && id > 0)) throw new Error('storage: logs: ids must be positive integers')
    let deleted = 0
    for (const batch of chunks([...new Set(ids)], DELETE_BATCH)) {
      deleted += await runner.run(`delete ${table}`, `DELETE FROM ${table} WHERE id IN (${placeholders(batch.length)})`, batch)
    }
    return deleted
  }

  return {
    requests: (filter, options = {}) => page('request_logs', REQUEST_SELECT, filter, options, requestEntry),
    errors: (filter, options = {}) => page('error_logs', ERROR_SELECT, filter, options, errorEntry),

    async request(id) {
      if (!Number.isSafeInteger(id)) return undefined
      const row = await runner.get<Row>('read request_logs', `SELECT ${REQUEST_SELECT} FROM request_logs WHERE id = ?`, [id])
      return row && requestEntry(row)
    },

    async error(id) {
      if (!Number.isSafeInteger(id)) return undefined
      const row = await runner.get<Row>('read error_logs', `SELECT ${ERROR_SELECT}, error_body, request_body FROM error_logs WHERE id = ?`, [id])
      return row && errorDetail(row)
    },

    async errorFor(request) {
      const row = await runner.get<Row>(
        'find the error row of a request',
        `SELECT ${ERROR_SELECT} FROM error_logs WHERE request_id = ? AND key_id = ? AND time >= ? AND time <= ? ORDER BY ABS(time - ?), id LIMIT 1`,
        [request.requestId, request.keyId, request.time - ERROR_MATCH_WINDOW_MS, request.time + ERROR_MATCH_WINDOW_MS, request.time],
      )
      return row && errorEntry(row)
    },

    deleteRequests: (ids) => remove('request_logs', ids),
    deleteErrors: (ids) => remove('error_logs', ids),
  }
}

type Row = Record<string, unknown>

function conditions(table: LogTable, filter: LogFilter): { where: string[]; params: Primitive[] } {
  const where: string[] = []
  const params: Primitive[] = []
  const add = (sql: string, ...values: Primitive[]) => {
    where.push(sql)
    params.push(...values)
  }
  if (filter.from !== undefined) add('time >= ?', finite(filter.from, 'from'))
  if (filter.to !== undefined) add('time < ?', finite(filter.to, 'to'))
  if (filter.keyId !== undefined) add('key_id = ?', filter.keyId)
  if (filter.model !== undefined) add('model = ?', filter.model)
  if (filter.status === 0) add('status IS NULL')
  else if (filter.status !== undefined) add('status = ?', finite(filter.status, 'status'))
  if (filter.failureClass !== undefined) add('failure_class = ?', filter.failureClass)
  if (filter.tokenId !== undefined) add('token_id = ?', filter.tokenId)
  if (filter.requestId !== undefined) add('request_id = ?', filter.requestId)
  if (filter.text !== undefined && filter.text !== '') {
    const pattern = `%${filter.text.replace(/[!%_]/g, '!$&')}%`
    // LIKE ignores case on both: SQLite's for ASCII letters, MySQL's through the columns' _ci collation. A '!'
    // escape rather than '\\', which MySQL string literals would swallow.
    if (table === 'error_logs') add("error_body LIKE ? ESCAPE '!'", pattern)
    else add("(model LIKE ? ESCAPE '!' OR operation LIKE ? ESCAPE '!')", pattern, pattern)
  }
  return { where, params }
}

function finite(value: number, name: string): number {
  if (!Number.isFinite(value)) throw new Error(`storage: logs: ${name} must be a number`)
  return value
}

const clause = (where: readonly string[]) => (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '')

const nullableNumber = (value: unknown) => (value == null ? null : num(value))

function requestEntry(row: Row): RequestLogEntry {
  return {
    id: num(row.id),
    time: num(row.time),
    requestId: String(row.request_id),
    tokenId: String(row.token_id),
    dialect: String(row.dialect),
    operation: String(row.operation),
    model: String(row.model),
    keyId: String(row.key_id),
    attempt: num(row.attempt),
    status: nullableNumber(row.status),
    failureClass: String(row.failure_class),
    latencyMs: num(row.latency_ms),
    promptTokens: nullableNumber(row.prompt_tokens),
    completionTokens: nullableNumber(row.completion_tokens),
    thinkingTokens: nullableNumber(row.thinking_tokens),
    totalTokens: nullableNumber(row.total_tokens),
  }
}

function errorEntry(row: Row): ErrorLogEntry {
  return {
    id: num(row.id),
    time: num(row.time),
    requestId: String(row.request_id),
    tokenId: String(row.token_id),
    keyId: String(row.key_id),
    model: String(row.model),
    operation: String(row.operation),
    status: nullableNumber(row.status),
    failureClass: String(row.failure_class),
  }
}

function errorDetail(row: Row): ErrorLogDetail {
  return { ...errorEntry(row), errorBody: String(row.error_body), requestBody: row.request_body == null ? null : String(row.request_body) }
}
