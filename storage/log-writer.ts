// Request and error logs leave the request path through an in-memory queue and reach the database in
// multi-row INSERTs, one drain at a time, on an unref'd timer. A slow database makes the queue grow; a failing one
// gets its batch back at the front of the queue and a retry with backoff. Memory is bounded: past maxQueued rows
// (or maxQueuedBytes of error text) the oldest rows are dropped and counted, with one warning per burst. Request
// rows also feed the statistics rollups (rollups.ts), in the same transaction.
import { consola } from 'consola'
import type { Primitive } from 'db0'
import type { GatewayDatabase } from './db.ts'
import { ERROR_COLUMNS, REQUEST_COLUMNS, RowQueue, insertSql, isDataError, queuedError, requestValues, type QueuedError } from './log-rows.ts'
import { writeRequestRows } from './rollups.ts'

export interface RequestLogRow {
  /** Epoch ms of the attempt start. */
  time: number
  requestId: string
  tokenId: string
  dialect: string
  operation: string
  model: string
  /** A hash id of the key, never the key. */
  keyId: string
  /** 1-based attempt number inside the request. */
  attempt: number
  /** Upstream HTTP status; null when there was no response (transport error, cancel). */
  status: number | null
  /** 'ok' | 'rate-limited' | ... (the judge's class). */
  failureClass: string
  latencyMs: number
  promptTokens?: number
  completionTokens?: number
  thinkingTokens?: number
  totalTokens?: number
}

export interface ErrorLogRow {
  time: number
  requestId: string
  tokenId: string
  keyId: string
  model: string
  operation: string
  status: number | null
  failureClass: string
  /** Upstream error body or error message (cut to 64 KiB). */
  errorBody: string
  /** Only when the operator enabled ERROR_LOG_RECORD_REQUEST_BODY (cut to 1 MiB). */
  requestBody?: string
}

export interface LogWriterLogger {
  warn(...args: unknown[]): void
  error(...args: unknown[]): void
}

export interface LogWriterOptions {
  /** Rows per INSERT, default 200. */
  batchSize?: number
  /** Drain interval, default 1000 ms; also the first retry delay after a failure. */
  flushIntervalMs?: number
  /** Rows held in memory (queued + being written) before the oldest are dropped, default 50 000. */
  maxQueued?: number
  /** Error-log text (UTF-16 units) held in memory before the oldest error rows are dropped, default 64 Mi. */
  maxQueuedBytes?: number
  /** Longest wait between retries while the database fails, default 30 000 ms. */
  maxBackoffMs?: number
  logger?: LogWriterLogger
}

export interface LogWriter {
  /** Synchronous, never throws, never awaits: pushes to the in-memory queue. */
  request(row: RequestLogRow): void
  error(row: ErrorLogRow): void
  /** Writes everything queued now (one attempt; on failure the rows stay queued). Never rejects. */
  flush(): Promise<void>
  /** Stops the timer and flushes. Rows logged after close() are counted as dropped. */
  close(): Promise<void>
  /** queued counts rows not yet written, including a batch being written. */
  stats(): { queued: number; written: number; dropped: number; failedBatches: number }
}

// SQLite allows 32 766 bound values per statement; MySQL's limit is the packet size (16 MiB by default), so
// error batches are also capped by their text size (escaping and UTF-8 can triple it).
const SQLITE_MAX_VALUES = 30_000
const ERROR_BATCH_MAX_CHARS = 2_000_000

type Table = 'request_logs' | 'error_logs'

export function createLogWriter(database: GatewayDatabase, options: LogWriterOptions = {}): LogWriter {
  const logger = options.logger ?? consola.withTag('storage')
  const intervalMs = positive(options.flushIntervalMs, 1000)
  const maxQueued = positive(options.maxQueued, 50_000)
  const maxQueuedBytes = positive(options.maxQueuedBytes, 64 * 1024 * 1024)
  const maxBackoffMs = positive(options.maxBackoffMs, 30_000)
  const batchSize = positive(options.batchSize, 200)
  const cap = (columns: number) => (database.dialect === 'sqlite' ? Math.floor(SQLITE_MAX_VALUES / columns) : 10_000)
  const requestBatch = Math.min(batchSize, cap(REQUEST_COLUMNS.length))
  const errorBatch = Math.min(batchSize, cap(ERROR_COLUMNS.length))

  const requests = new RowQueue<RequestLogRow>()
  const errors = new RowQueue<QueuedError>()
  let inFlight = 0
  let errorChars = 0 // error text held: queued + in flight
  let written = 0
  let dropped = 0
  let failedBatches = 0
  let failures = 0 // consecutive failed attempts
  let retryAt = 0
  let burstDropped = 0 // > 0 while the queue is overflowing
  let drains = 0 // drains scheduled or running
  let tail: Promise<void> = Promise.resolve()
  let closed = false

  const total = () => requests.length + errors.length + inFlight

  function drop(count: number): void {
    if (burstDropped === 0) {
      logger.warn(`log queue is full (${maxQueued} rows or ${maxQueuedBytes} chars of error text); dropping the oldest rows until the database catches up`)
    }
    burstDropped += count
    dropped += count
  }

  /** Drops the oldest queued rows until the limits hold again. Rows being written are not touched. */
  function enforceLimits(): void {
    while (errorChars > maxQueuedBytes && errors.length > 0) {
      errorChars -= errors.shift()!.chars
      drop(1)
    }
    while (total() > maxQueued && requests.length + errors.length > 0) {
      const r = requests.peek()
      const e = errors.peek()
      if (e && (!r || e.time < r.time)) errorChars -= errors.shift()!.chars
      else requests.shift()
      drop(1)
    }
  }

  function request(row: RequestLogRow): void {
    try {
      if (closed) return void (dropped += 1)
      requests.push(row)
      if (requests.length + errors.length + inFlight > maxQueued) enforceLimits()
    } catch {
      // never let logging break a request
    }
  }

  function error(row: ErrorLogRow): void {
    try {
      if (closed) return void (dropped += 1)
      const queued = queuedError(row)
      errors.push(queued)
      errorChars += queued.chars
      if (total() > maxQueued || errorChars > maxQueuedBytes) enforceLimits()
    } catch {
      // never let logging break a request
    }
  }

  /** Request rows land together with their statistics (rollups.ts): both or neither, so a retry never counts twice. */
  async function insert(table: Table, rows: Primitive[][]): Promise<void> {
    if (table === 'request_logs') await writeRequestRows(database, rows)
    else await database.db.prepare(insertSql(table, ERROR_COLUMNS, rows.length)).run(...rows.flat())
  }

  /** Error rows hold memory until they are written or dropped. */
  function release(table: Table, rows: unknown[]): void {
    if (table === 'error_logs') for (const row of rows) errorChars -= (row as QueuedError).chars
  }

  function succeeded(count: number): void {
    written += count
    if (failures > 0) logger.warn(`log writer: database writable again after ${failures} failed attempt(s)`)
    failures = 0
    retryAt = 0
  }

  /** A burst of drops ends once a write has brought the queue well below its limit. */
  function endBurst(): void {
    if (burstDropped > 0 && total() < maxQueued / 2) {
      logger.warn(`log writer: dropped ${burstDropped} row(s) while the queue was full`)
      burstDropped = 0
    }
  }

  function failed(cause: unknown): void {
    failedBatches += 1
    failures += 1
    retryAt = Date.now() + Math.min(maxBackoffMs, intervalMs * 2 ** Math.min(failures - 1, 20))
    if (failures === 1) logger.warn('log writer: writing logs failed; rows stay queued and are retried with backoff:', message(cause))
  }

  /** Writes one batch from the queue; false when the database failed (the rows are back at the front). */
  async function writeBatch<T>(table: Table, queue: RowQueue<T>, count: number, values: (row: T) => Primitive[]): Promise<boolean> {
    const batch = queue.take(count)
    inFlight += batch.length
    let result = true
    try {
      const rows: Primitive[][] = []
      for (const row of batch) rows.push(values(row))
      await insert(table, rows)
      release(table, batch)
      succeeded(batch.length)
    } catch (cause) {
      if (isDataError(cause)) result = await writeOneByOne(table, queue, batch, values, cause)
      else {
        queue.putBack(batch)
        failed(cause)
        result = false
      }
    } finally {
      inFlight -= batch.length
    }
    if (result) endBurst()
    else enforceLimits()
    return result
  }

  // A refused batch: write its rows one by one, drop the ones the database refuses, stop at a connection failure.
  async function writeOneByOne<T>(table: Table, queue: RowQueue<T>, batch: T[], values: (row: T) => Primitive[], first: unknown): Promise<boolean> {
    let refused = 0
    let ok = true
    for (let i = 0; i < batch.length; i++) {
      try {
        await insert(table, [values(batch[i]!)])
        release(table, [batch[i]])
        succeeded(1)
      } catch (cause) {
        if (!isDataError(cause)) {
          queue.putBack(batch.slice(i))
          failed(cause)
          ok = false
          break
        }
        release(table, [batch[i]])
        dropped += 1
        refused += 1
      }
    }
    if (refused > 0) logger.error(`log writer: the database refused ${refused} ${table} row(s); they were dropped:`, message(first))
    return ok
  }

  function errorBatchSize(): number {
    let chars = 0
    let count = 0
    while (count < Math.min(errorBatch, errors.length)) {
      const next = errors.peek(count)!.chars
      if (count > 0 && chars + next > ERROR_BATCH_MAX_CHARS) break
      chars += next
      count += 1
    }
    return count
  }

  /**
   * Writes the rows queued when it starts, batch by batch, yielding to the event loop between batches. Not before
   * the schema is up to date: a migration that rolls up the logs already there must not race rows rolled up here.
   */
  async function drain(): Promise<void> {
    if (!database.isReady()) return
    let budget = requests.length + errors.length
    while (budget > 0 && !database.db.disposed) {
      const before = written + dropped
      if (requests.length > 0 && !(await writeBatch('request_logs', requests, requestBatch, requestValues))) return
      if (errors.length > 0 && !(await writeBatch('error_logs', errors, errorBatchSize(), (row) => row.values))) return
      budget -= Math.max(1, written + dropped - before)
      if (budget > 0) await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }

  /** Runs a drain after the ones already scheduled; drains never overlap and never reject. */
  function schedule(): Promise<void> {
    drains += 1
    const run = tail
      .then(drain)
      .catch((cause) => logger.error('log writer: unexpected failure while draining:', cause))
      .finally(() => {
        drains -= 1
      })
    tail = run
    return run
  }

  const timer = setInterval(() => {
    if (drains === 0 && requests.length + errors.length > 0 && Date.now() >= retryAt) void schedule()
  }, intervalMs)
  timer.unref?.()

  return {
    request,
    error,
    flush: schedule,
    async close() {
      if (!closed) {
        closed = true
        clearInterval(timer)
      }
      await schedule()
      const left = requests.length + errors.length
      if (left > 0) logger.warn(`log writer: closed with ${left} row(s) not written`)
    },
    stats: () => ({ queued: total(), written, dropped, failedBatches }),
  }
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback
}

function message(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}
