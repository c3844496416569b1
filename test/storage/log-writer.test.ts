import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLogWriter, type ErrorLogRow, type GatewayDatabase, type LogWriter, type LogWriterOptions, type RequestLogRow } from '../../storage/index.ts'
import { backends, clearLogs, count, type Backend } from './backends.ts'
import { recordStatements } from './statements.ts'

const T0 = 1_764_000_000_000

function requestRow(i: number, extra: Partial<RequestLogRow> = {}): RequestLogRow {
  return {
    time: T0 + i,
    requestId: `r${i}`,
    tokenId: 'tok1',
    dialect: 'openai',
    operation: 'generateContent',
    model: 'gemini-2.5-flash',
    keyId: `k${i % 7}`,
    attempt: 1,
    status: 200,
    failureClass: 'ok',
    latencyMs: 120,
    promptTokens: 10,
    completionTokens: 20,
    thinkingTokens: 5,
    totalTokens: 35,
    ...extra,
  }
}

function errorRow(i: number, extra: Partial<ErrorLogRow> = {}): ErrorLogRow {
  return {
    time: T0 + i,
    requestId: `r${i}`,
    tokenId: 'tok1',
    keyId: 'k1',
    model: 'gemini-2.5-pro',
    operation: 'streamGenerateContent',
    status: 429,
    failureClass: 'rate-limited',
    errorBody: '{"error":{"code":429}}',
    ...extra,
  }
}

function recordingLogger() {
  const warns: string[] = []
  const errors: string[] = []
  return { warns, errors, warn: (...a: unknown[]) => warns.push(a.map(String).join(' ')), error: (...a: unknown[]) => errors.push(a.map(String).join(' ')) }
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(backends())('log writer on $name', (backend: Backend) => {
  let database: GatewayDatabase
  const writers: LogWriter[] = []
  const release: Array<() => Promise<void>> = []

  function make(options: LogWriterOptions = {}) {
    const logger = recordingLogger()
    const writer = createLogWriter(database, { flushIntervalMs: 60_000, ...options, logger })
    writers.push(writer)
    return { writer, logger }
  }

  beforeAll(async () => {
    await backend.setup()
    database = await backend.open()
  })
  beforeEach(() => clearLogs(database))
  afterEach(async () => {
    for (const undo of release.splice(0)) await undo() // a failed test must not leave a lock behind
    for (const writer of writers.splice(0)) await writer.close()
  })
  afterAll(async () => {
    await database?.close()
    await backend.teardown()
  })

  it('writes rows in multi-row INSERTs, one statement per batch per table (+ one upsert per rollup table), and counts them', async () => {
    const { writer } = make({ batchSize: 200 })
    const recorder = await recordStatements(database)
    for (let i = 0; i < 450; i++) writer.request(requestRow(i))
    for (let i = 0; i < 3; i++) writer.error(errorRow(i, i === 1 ? { status: null, requestBody: '{"contents":[]}' } : {}))
    expect(writer.stats()).toEqual({ queued: 453, written: 0, dropped: 0, failedBatches: 0 })
    await writer.flush()
    recorder.restore()
    const requests = ['request_logs', 'stats_hourly', 'stats_daily']
    expect(recorder.inserts()).toEqual([...requests, 'error_logs', ...requests, ...requests])
    expect(writer.stats()).toEqual({ queued: 0, written: 453, dropped: 0, failedBatches: 0 })
    expect(await count(database, 'request_logs')).toBe(450)
    expect(await count(database, 'error_logs')).toBe(3)
    expect(await database.db.prepare("SELECT * FROM request_logs WHERE request_id = 'r449'").get()).toMatchObject({
      time: T0 + 449,
      request_id: 'r449',
      token_id: 'tok1',
      dialect: 'openai',
      operation: 'generateContent',
      model: 'gemini-2.5-flash',
      key_id: 'k1',
      attempt: 1,
      status: 200,
      failure_class: 'ok',
      latency_ms: 120,
      prompt_tokens: 10,
      completion_tokens: 20,
      thinking_tokens: 5,
      total_tokens: 35,
    })
    expect(await database.db.prepare("SELECT status, error_body, request_body FROM error_logs WHERE request_id = 'r1'").get()).toEqual({
      status: null,
      error_body: '{"error":{"code":429}}',
      request_body: '{"contents":[]}',
    })
  })

  it('flushes on its own timer; close() writes the rest, and rows after close() are only counted as dropped', async () => {
    const { writer } = make({ flushIntervalMs: 25 })
    for (let i = 0; i < 10; i++) writer.request(requestRow(i))
    await vi.waitFor(async () => expect(await count(database, 'request_logs')).toBe(10), { timeout: 3000, interval: 20 })
    for (let i = 10; i < 15; i++) writer.request(requestRow(i))
    writer.error(errorRow(99))
    await writer.close()
    expect(await count(database, 'request_logs')).toBe(15)
    expect(await count(database, 'error_logs')).toBe(1)
    writer.request(requestRow(16))
    expect(writer.stats()).toEqual({ queued: 0, written: 16, dropped: 1, failedBatches: 0 })
  })

  it('a slow (write-locked) database does not slow request(); the rows land after the lock is released', async () => {
    const { writer } = make({ flushIntervalMs: 20, maxBackoffMs: 100 })
    for (let i = 0; i < 100; i++) writer.request(requestRow(i))
    const unlock = await backend.holdWriteLock('request_logs')
    release.push(unlock)
    const flushing = writer.flush() // MariaDB: this INSERT now waits for the lock; SQLite: it fails after busy_timeout
    let slowest = 0
    const started = performance.now()
    for (let i = 100; i < 10_100; i++) {
      const t = performance.now()
      writer.request(requestRow(i))
      slowest = Math.max(slowest, performance.now() - t)
    }
    const elapsed = performance.now() - started
    expect(elapsed).toBeLessThan(250) // 10 000 calls; typically ~10 ms
    expect(slowest).toBeLessThan(50)
    expect(writer.stats().queued).toBe(10_100)
    if (backend.name === 'mysql') {
      const pending = await Promise.race([flushing.then(() => 'done'), settle(300).then(() => 'pending')])
      expect(pending).toBe('pending')
    }
    if (backend.name === 'sqlite') expect(await count(database, 'request_logs')).toBe(0) // WAL: readers are not blocked
    await release.pop()!()
    await flushing
    await vi.waitFor(() => expect(writer.stats().queued).toBe(0), { timeout: 5000, interval: 20 })
    expect(await count(database, 'request_logs')).toBe(10_100)
    expect(writer.stats()).toMatchObject({ written: 10_100, dropped: 0 })
  })

  it('a dead database loses nothing: batches go back to the queue and drain when it recovers', async () => {
    const { writer, logger } = make({ flushIntervalMs: 20, maxBackoffMs: 150 })
    for (let i = 0; i < 50; i++) writer.request(requestRow(i))
    await writer.flush()
    const restore = await backend.outage()
    release.push(restore)
    for (let i = 50; i < 550; i++) writer.request(requestRow(i))
    for (let i = 0; i < 20; i++) writer.error(errorRow(i))
    await writer.flush() // never rejects
    await settle(400) // the timer retries with backoff meanwhile
    const during = writer.stats()
    expect(during).toMatchObject({ queued: 520, written: 50, dropped: 0 })
    expect(during.failedBatches).toBeGreaterThanOrEqual(2)
    expect(logger.warns.filter((w) => w.includes('failed'))).toHaveLength(1) // one warning per outage, not per attempt
    await release.pop()!()
    await vi.waitFor(() => expect(writer.stats().queued).toBe(0), { timeout: 5000, interval: 20 })
    expect(await count(database, 'request_logs')).toBe(550) // exactly: nothing lost, nothing doubled
    expect(await count(database, 'error_logs')).toBe(20)
    expect(logger.warns.some((w) => w.includes('writable again'))).toBe(true)
  })

  // MariaDB only: db0's stock connector would die here for good; the pool replaces the killed connections.
  if (backend.name === 'mysql')
    it('survives the server killing its connections (the pool reconnects)', async () => {
      const { writer } = make({ flushIntervalMs: 20, maxBackoffMs: 100 })
      for (let i = 0; i < 100; i++) writer.request(requestRow(i))
      await writer.flush()
      expect(await backend.killConnections()).toBeGreaterThan(0)
      for (let i = 100; i < 200; i++) writer.request(requestRow(i))
      await vi.waitFor(() => expect(writer.stats().queued).toBe(0), { timeout: 5000, interval: 20 })
      expect(await count(database, 'request_logs')).toBe(200)
      expect(writer.stats().dropped).toBe(0)
    })

  it('past maxQueued the oldest rows are dropped and counted, with one warning per burst', async () => {
    const { writer, logger } = make({ maxQueued: 100 })
    for (let i = 0; i < 250; i++) writer.request(requestRow(i))
    expect(writer.stats()).toEqual({ queued: 100, written: 0, dropped: 150, failedBatches: 0 })
    expect(logger.warns).toHaveLength(1)
    await writer.flush()
    const kept = (await database.db.prepare('SELECT MIN(time) AS lo, MAX(time) AS hi FROM request_logs').get()) as { lo: number; hi: number }
    expect([Number(kept.lo), Number(kept.hi)]).toEqual([T0 + 150, T0 + 249]) // the newest 100
    expect(logger.warns).toHaveLength(2) // + the end-of-burst summary
    expect(logger.warns[1]).toContain('150')
    for (let i = 0; i < 130; i++) writer.error(errorRow(1000 + i))
    expect(writer.stats()).toMatchObject({ queued: 100, dropped: 180 })
    expect(logger.warns).toHaveLength(3)
    await writer.flush()
    expect(writer.stats()).toEqual({ queued: 0, written: 200, dropped: 180, failedBatches: 0 })
  })

  it('also bounds memory while the database is down', async () => {
    const { writer } = make({ maxQueued: 100, flushIntervalMs: 20, maxBackoffMs: 100 })
    const restore = await backend.outage()
    release.push(restore)
    for (let i = 0; i < 150; i++) writer.request(requestRow(i))
    await writer.flush()
    expect(writer.stats()).toMatchObject({ queued: 100, dropped: 50, written: 0 })
    await release.pop()!()
    await vi.waitFor(() => expect(writer.stats()).toMatchObject({ queued: 0, written: 100 }), { timeout: 5000, interval: 20 })
  })

  it('makes values safe: long text is cut to the column, bad numbers become null/0, big bodies go in small batches', async () => {
    const { writer } = make()
    writer.request(
      requestRow(1, { model: 'm'.repeat(500), latencyMs: Number.NaN, status: 429.4, totalTokens: Number.POSITIVE_INFINITY, requestId: `${'a'.repeat(127)}😀` }),
    )
    const body = 'é'.repeat(100_000)
    for (let i = 0; i < 4; i++) writer.error(errorRow(i, { errorBody: body, requestBody: '{"x":"' + 'b'.repeat(2 * 1024 * 1024) }))
    await writer.flush()
    expect(writer.stats()).toEqual({ queued: 0, written: 5, dropped: 0, failedBatches: 0 })
    const r = (await database.db.prepare('SELECT model, latency_ms, status, total_tokens, request_id FROM request_logs').get()) as Record<string, unknown>
    expect(r).toMatchObject({ latency_ms: 0, status: 429, total_tokens: null, request_id: 'a'.repeat(127) })
    expect(r.model).toBe('m'.repeat(191))
    const e = (await database.db.prepare('SELECT error_body, request_body FROM error_logs').all()) as Array<{ error_body: string; request_body: string }>
    expect(e).toHaveLength(4)
    for (const row of e) {
      expect(row.error_body).toBe('é'.repeat(64 * 1024))
      expect(row.request_body.length).toBe(1024 * 1024)
    }
  })

  it('a row the database refuses is dropped alone; the rest of its batch is written', async () => {
    const { writer, logger } = make()
    const refuse =
      backend.name === 'mysql'
        ? ['ALTER TABLE request_logs ADD CONSTRAINT chk_refuse CHECK (latency_ms <> 424242)', 'ALTER TABLE request_logs DROP CONSTRAINT chk_refuse']
        : ["CREATE TRIGGER refuse BEFORE INSERT ON request_logs WHEN NEW.latency_ms = 424242 BEGIN SELECT RAISE(ABORT, 'refused'); END", 'DROP TRIGGER refuse']
    await database.db.exec(refuse[0]!)
    release.push(async () => void (await database.db.exec(refuse[1]!)))
    for (let i = 0; i < 10; i++) writer.request(requestRow(i, i === 4 ? { latencyMs: 424242 } : {}))
    await writer.flush()
    expect(writer.stats()).toEqual({ queued: 0, written: 9, dropped: 1, failedBatches: 0 })
    expect(await count(database, 'request_logs')).toBe(9)
    expect(logger.errors).toHaveLength(1)
  })
})
