import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createLogQueries,
  createLogWriter,
  type ErrorLogRow,
  type GatewayDatabase,
  type LogFilter,
  type LogQueries,
  type RequestLogRow,
} from '../../storage/index.ts'
import { backends, clearLogs, count, type Backend } from './backends.ts'
import { T0, random } from './rollup-data.ts'

const BODIES = [
  '{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}',
  'upstream said 100% busy',
  'path C:\\gemini\\keys was not found',
  'rate_limit exceeded',
  'ratelimit without the underscore',
  'UPPER case Error',
  'it failed! twice',
  "'; DROP TABLE error_logs; --",
]

interface Seeded {
  requests: Array<RequestLogRow & { id: number }>
  errors: Array<ErrorLogRow & { id: number }>
}

async function seed(database: GatewayDatabase): Promise<Seeded> {
  const next = random(21)
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!
  const writer = createLogWriter(database, { flushIntervalMs: 60_000, batchSize: 100 })
  const requests: RequestLogRow[] = []
  const errors: ErrorLogRow[] = []
  for (let i = 0; i < 600; i++) {
    const failureClass = pick(['ok', 'ok', 'ok', 'rate-limited', 'upstream-error', 'transport-error'])
    const status = failureClass === 'ok' ? 200 : failureClass === 'rate-limited' ? 429 : failureClass === 'transport-error' ? null : 503
    const row: RequestLogRow = {
      time: T0 + i * 1000,
      requestId: `req-${Math.floor(i / 2)}`, // two attempts per request
      tokenId: pick(['t0', 't1']),
      dialect: pick(['gemini', 'openai']),
      operation: pick(['generateContent', 'streamGenerateContent', 'embedContent']),
      model: pick(['gemini-2.5-flash', 'gemini-2.5-pro', 'text_embedding%004']),
      keyId: `k${i % 5}`,
      attempt: 1 + (i % 2),
      status,
      failureClass,
      latencyMs: Math.floor(next() * 3000),
      promptTokens: failureClass === 'ok' ? 10 : undefined,
    }
    requests.push(row)
    writer.request(row)
    if (failureClass === 'ok') continue
    const error: ErrorLogRow = { ...row, errorBody: pick(BODIES), requestBody: next() < 0.5 ? '{"contents":[]}' : undefined }
    errors.push(error)
    writer.error(error)
  }
  await writer.close()
  // Ids as the database gave them, matched by (request id, time, key): unique in these rows.
  const ids = async (table: string) => {
    const rows = (await database.db.prepare(`SELECT id, request_id, time, key_id FROM ${table}`).all()) as Array<Record<string, unknown>>
    return new Map(rows.map((row) => [`${row.request_id}|${row.time}|${row.key_id}`, Number(row.id)]))
  }
  const requestIds = await ids('request_logs')
  const errorIds = await ids('error_logs')
  const key = (row: { requestId: string; time: number; keyId: string }) => `${row.requestId}|${row.time}|${row.keyId}`
  return {
    requests: requests.map((row) => Object.assign(row, { id: requestIds.get(key(row))! })),
    errors: errors.map((row) => Object.assign(row, { id: errorIds.get(key(row))! })),
  }
}

function matches(row: RequestLogRow | ErrorLogRow, filter: LogFilter, text: (row: never) => string): boolean {
  return (
    (filter.from === undefined || row.time >= filter.from) &&
    (filter.to === undefined || row.time < filter.to) &&
    (filter.keyId === undefined || row.keyId === filter.keyId) &&
    (filter.model === undefined || row.model === filter.model) &&
    (filter.status === undefined || (filter.status === 0 ? row.status === null : row.status === filter.status)) &&
    (filter.failureClass === undefined || row.failureClass === filter.failureClass) &&
    (filter.tokenId === undefined || row.tokenId === filter.tokenId) &&
    (filter.requestId === undefined || row.requestId === filter.requestId) &&
    (filter.text === undefined ||
      text(row as never)
        .toLowerCase()
        .includes(filter.text.toLowerCase()))
  )
}

const FILTERS: LogFilter[] = [
  {},
  { from: T0 + 100_000, to: T0 + 200_000 },
  { keyId: 'k3' },
  { model: 'gemini-2.5-pro' },
  { status: 429 },
  { status: 0 },
  { failureClass: 'upstream-error' },
  { tokenId: 't1', keyId: 'k2' },
  { requestId: 'req-17' },
  { text: 'STREAM' },
  { text: '%' },
  { text: '_' },
  { text: 'g%0' },
  { text: 'nothing like this' },
]

const ERROR_FILTERS: LogFilter[] = [
  { text: '100%' },
  { text: '%' },
  { text: 'rate_limit' },
  { text: '_' },
  { text: 'C:\\gemini\\' },
  { text: '\\' },
  { text: 'upper CASE' },
  { text: 'failed!' },
  { text: "'; DROP TABLE" },
  { status: 0, from: T0 + 50_000 },
]

describe.each(backends())('log queries on $name', (backend: Backend) => {
  let database: GatewayDatabase
  let logs: LogQueries
  let seeded: Seeded

  beforeAll(async () => {
    await backend.setup()
    database = await backend.open()
    await clearLogs(database)
    seeded = await seed(database)
    logs = createLogQueries(database)
  })
  afterAll(async () => {
    await database?.close()
    await backend.teardown()
  })

  const requestText = (row: RequestLogRow) => `${row.model}\n${row.operation}`
  const errorText = (row: ErrorLogRow) => row.errorBody

  it('request logs: every filter, newest first, with exact counts', async () => {
    for (const filter of FILTERS) {
      const expected = seeded.requests.filter((row) => matches(row, filter, requestText)).sort((a, b) => b.id - a.id)
      const page = await logs.requests(filter, { limit: 20 })
      expect(
        page.items.map((item) => item.id),
        JSON.stringify(filter),
      ).toEqual(expected.slice(0, 20).map((row) => row.id))
      expect(page.total, JSON.stringify(filter)).toBe(expected.length)
      expect(page.totalCapped).toBe(false)
    }
  })

  it('error logs: the text filter is a substring of the body, case-insensitive, with %, _, \\ and ! taken literally', async () => {
    for (const filter of [...FILTERS, ...ERROR_FILTERS]) {
      const expected = seeded.errors.filter((row) => matches(row, filter, errorText)).sort((a, b) => b.id - a.id)
      const page = await logs.errors(filter, { limit: 500 })
      expect(
        page.items.map((item) => item.id),
        JSON.stringify(filter),
      ).toEqual(expected.map((row) => row.id))
      expect(page.total).toBe(expected.length)
    }
    expect((await logs.errors({ text: '%' })).total).toBe(seeded.errors.filter((row) => row.errorBody.includes('%')).length)
    expect((await logs.errors({ text: '%' })).total).toBeGreaterThan(0)
    expect(await count(database, 'error_logs')).toBe(seeded.errors.length) // the quote in the filter was only a value
  })

  it('keyset paging walks every row once, newest first or oldest first, and stops with no nextBefore', async () => {
    for (const ascending of [false, true]) {
      const seen: number[] = []
      let before: number | undefined
      for (let pages = 0; pages < 100; pages++) {
        const page = await logs.requests({ keyId: 'k1' }, { limit: 7, before, ascending })
        seen.push(...page.items.map((item) => item.id))
        if (page.nextBefore === undefined) break
        before = page.nextBefore
      }
      const ids = seeded.requests.filter((row) => row.keyId === 'k1').map((row) => row.id)
      expect(seen).toEqual(ids.sort((a, b) => (ascending ? a - b : b - a)))
    }
  })

  it('counts stop at countLimit and say so; limits are checked', async () => {
    expect(await logs.requests({}, { limit: 5, countLimit: 100 })).toMatchObject({ total: 100, totalCapped: true })
    expect(await logs.requests({}, { limit: 5, countLimit: 600 })).toMatchObject({ total: 600, totalCapped: false })
    await expect(logs.requests({}, { limit: 0 })).rejects.toThrow(/limit/)
    await expect(logs.requests({}, { limit: 501 })).rejects.toThrow(/limit/)
    await expect(logs.requests({ from: Number.NaN })).rejects.toThrow(/from/)
  })

  it('one row: a request with every column, an error with its bodies', async () => {
    const row = seeded.requests.find((r) => r.status === null)!
    expect(await logs.request(row.id)).toEqual({
      id: row.id,
      time: row.time,
      requestId: row.requestId,
      tokenId: row.tokenId,
      dialect: row.dialect,
      operation: row.operation,
      model: row.model,
      keyId: row.keyId,
      attempt: row.attempt,
      status: null,
      failureClass: 'transport-error',
      latencyMs: row.latencyMs,
      promptTokens: null,
      completionTokens: null,
      thinkingTokens: null,
      totalTokens: null,
    })
    const error = seeded.errors.find((e) => e.requestBody !== undefined)!
    expect(await logs.error(error.id)).toEqual({
      id: error.id,
      time: error.time,
      requestId: error.requestId,
      tokenId: error.tokenId,
      keyId: error.keyId,
      model: error.model,
      operation: error.operation,
      status: error.status,
      failureClass: error.failureClass,
      errorBody: error.errorBody,
      requestBody: '{"contents":[]}',
    })
    expect(await logs.request(99_999_999)).toBeUndefined()
    expect(await logs.error(99_999_999)).toBeUndefined()
  })

  it('errorFor finds the error row of the same request and key, nearest in time, and nothing for a success', async () => {
    for (const error of seeded.errors.slice(0, 20)) {
      const request = (await logs.request(seeded.requests.find((r) => r.requestId === error.requestId && r.keyId === error.keyId)!.id))!
      expect((await logs.errorFor(request))?.id).toBe(error.id)
      // The other attempt of the same request went to another key: its error row is not this one's.
      expect((await logs.errorFor({ ...request, keyId: 'k-other' }))?.id).toBeUndefined()
      expect(await logs.errorFor({ ...request, time: request.time + 60_000 })).toBeUndefined()
    }
    const ok = seeded.requests.find((r) => r.failureClass === 'ok')!
    expect(await logs.errorFor((await logs.request(ok.id))!)).toBeUndefined()
  })

  it('deletes by ids (counting only rows that existed) and all, in batches; the statistics stay', async () => {
    const stats = async () => Number(((await database.db.prepare('SELECT SUM(requests) AS n FROM stats_hourly').get()) as { n: unknown }).n)
    const before = await stats()
    const ids = seeded.errors.slice(0, 5).map((row) => row.id)
    expect(await logs.deleteErrors([...ids, ids[0]!, 99_999_999])).toBe(5)
    expect(await logs.error(ids[0]!)).toBeUndefined()
    expect(await count(database, 'error_logs')).toBe(seeded.errors.length - 5)
    await expect(logs.deleteErrors([1.5])).rejects.toThrow(/ids/)
    expect(await logs.deleteRequests(seeded.requests.slice(0, 10).map((row) => row.id))).toBe(10)
    expect(await logs.deleteRequests('all')).toBe(590)
    expect(await logs.deleteErrors('all')).toBe(seeded.errors.length - 5)
    expect(await count(database, 'request_logs')).toBe(0)
    expect(await stats()).toBe(before)
  })
})
