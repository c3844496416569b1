// Row shaping for the log writer: column lists, value sanitising (so no row can ever be rejected by the
// database and block the queue), multi-row INSERT text, and a small FIFO that can take rows back at its front.
import type { Primitive } from 'db0'
import type { ErrorLogRow, RequestLogRow } from './log-writer.ts'

export const REQUEST_COLUMNS = [
  'time',
  'request_id',
  'token_id',
  'dialect',
  'operation',
  'model',
  'key_id',
  'attempt',
  'status',
  'failure_class',
  'latency_ms',
  'prompt_tokens',
  'completion_tokens',
  'thinking_tokens',
  'total_tokens',
] as const

export const ERROR_COLUMNS = [
  'time',
  'request_id',
  'token_id',
  'key_id',
  'model',
  'operation',
  'status',
  'failure_class',
  'error_body',
  'request_body',
] as const

/** Limits in UTF-16 units; they never exceed the column sizes in migrations.ts (which count characters). */
export const ERROR_BODY_MAX = 64 * 1024
export const REQUEST_BODY_MAX = 1024 * 1024
const ID = 128
const MODEL = 191

const INT32_MAX = 2_147_483_647

/** An error row ready to insert: its values, its time (to find the oldest row) and its text size (for budgets). */
export interface QueuedError {
  time: number
  values: Primitive[]
  chars: number
}

export function requestValues(row: RequestLogRow): Primitive[] {
  return [
    epochMs(row.time),
    text(row.requestId, ID),
    text(row.tokenId, ID),
    text(row.dialect, 32),
    text(row.operation, 64),
    text(row.model, MODEL),
    text(row.keyId, ID),
    int(row.attempt, 0, INT32_MAX) ?? 0,
    int(row.status, -INT32_MAX, INT32_MAX),
    text(row.failureClass, 64),
    int(row.latencyMs, 0, INT32_MAX) ?? 0,
    int(row.promptTokens, 0, INT32_MAX),
    int(row.completionTokens, 0, INT32_MAX),
    int(row.thinkingTokens, 0, INT32_MAX),
    int(row.totalTokens, 0, INT32_MAX),
  ]
}

export function queuedError(row: ErrorLogRow): QueuedError {
  const errorBody = text(row.errorBody, ERROR_BODY_MAX)
  const requestBody = row.requestBody == null ? null : text(row.requestBody, REQUEST_BODY_MAX)
  const time = epochMs(row.time)
  return {
    time,
    chars: errorBody.length + (requestBody?.length ?? 0),
    values: [
      time,
      text(row.requestId, ID),
      text(row.tokenId, ID),
      text(row.keyId, ID),
      text(row.model, MODEL),
      text(row.operation, 64),
      int(row.status, -INT32_MAX, INT32_MAX),
      text(row.failureClass, 64),
      errorBody,
      requestBody,
    ],
  }
}

export function insertSql(table: string, columns: readonly string[], rows: number): string {
  const group = `(${columns.map(() => '?').join(', ')})`
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => group).join(', ')}`
}

/** Cuts a string to at most `max` UTF-16 units without leaving half a surrogate pair behind. */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value
  const code = value.charCodeAt(max - 1)
  return value.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max)
}

function text(value: unknown, max: number): string {
  let s: string
  if (typeof value === 'string') s = value
  else if (value == null) s = ''
  else {
    try {
      s = String(value)
    } catch {
      s = ''
    }
  }
  return truncate(s, max)
}

function int(value: unknown, min: number, max: number): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : Number.NaN
  if (!Number.isFinite(n)) return null
  return Math.min(max, Math.max(min, Math.round(n)))
}

function epochMs(value: unknown): number {
  const n = typeof value === 'number' ? value : Number.NaN
  return Number.isFinite(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER ? Math.round(n) : Date.now()
}

/**
 * True when the database refused the values rather than the connection or the table: such a batch would fail
 * again forever, so the writer retries its rows one by one and drops only the rows that are refused.
 */
export function isDataError(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError) return true // better-sqlite3 binding errors
  const e = error as { code?: unknown; errno?: unknown; sqlState?: unknown } | null
  if (!e) return false
  if (typeof e.sqlState === 'string' && /^2[23]/.test(e.sqlState)) return true
  if (typeof e.errno === 'number' && [1048, 1153, 1264, 1265, 1292, 1366, 1406].includes(e.errno)) return true
  return typeof e.code === 'string' && /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(e.code)
}

/** FIFO with O(1) push/shift, bulk take from the front, and put-back at the front (for a failed batch). */
export class RowQueue<T> {
  private items: Array<T | undefined> = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  peek(index = 0): T | undefined {
    return this.items[this.head + index]
  }

  shift(): T | undefined {
    return this.take(1)[0]
  }

  take(count: number): T[] {
    const end = Math.min(this.items.length, this.head + count)
    const out = this.items.slice(this.head, end) as T[]
    this.items.fill(undefined, this.head, end)
    this.head = end
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return out
  }

  putBack(rows: T[]): void {
    if (rows.length <= this.head) {
      this.head -= rows.length
      for (let i = 0; i < rows.length; i++) this.items[this.head + i] = rows[i]
    } else {
      this.items = (rows as Array<T | undefined>).concat(this.items.slice(this.head))
      this.head = 0
    }
  }
}
