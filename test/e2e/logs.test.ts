import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MYSQL } from '../storage/backends.ts'
import { KEYS, TOKEN, databaseEnv, post, startGateway, userText, type Running } from './harness.ts'

const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent'
const STREAM = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'

/** What reaches the database, on both supported databases: one row per attempt, no secret in clear. */
describe.each(['sqlite', 'mysql'] as const)('request and error logs on %s', (backend) => {
  let gw: Running
  let drop = async () => {}

  beforeAll(async () => {
    const database = await databaseEnv(backend)
    drop = database.drop
    gw = await startGateway({ env: { ERROR_LOG_RECORD_REQUEST_BODY: 'true', MAX_RETRIES: '3', ...database.env } })
  })
  afterAll(async () => {
    await gw.close()
    await drop()
  })

  const rows = async (table: 'request_logs' | 'error_logs') => {
    await gw.gateway.logs.flush()
    const { rows } = await gw.gateway.database.db.sql`SELECT * FROM {${table}} ORDER BY id`
    return rows as Record<string, any>[]
  }

  it('one request row per attempt with status, failure class, latency and tokens; an error row per failed attempt', async () => {
    gw.upstream.reset()
    gw.upstream.setBehaviour(KEYS[0]!, 'overloaded', { times: 1 }) // a fresh pool starts with the first key
    const secret = 'do not keep this prompt'
    const res = await post(gw, GENERATE, userText(secret))
    expect(res.status).toBe(200)
    const requests = await rows('request_logs')
    expect(requests).toHaveLength(2)
    const [failed, ok] = requests as [Record<string, any>, Record<string, any>]
    expect(failed).toMatchObject({
      attempt: 1,
      status: 503,
      failure_class: 'upstream-error',
      dialect: 'gemini',
      operation: 'generateContent',
      model: 'gemini-2.5-flash',
    })
    expect(ok).toMatchObject({ attempt: 2, status: 200, failure_class: 'ok', prompt_tokens: 5, total_tokens: expect.any(Number) })
    expect(ok.request_id).toBe(failed.request_id)
    expect(Number(ok.latency_ms)).toBeGreaterThanOrEqual(0)
    expect(KEYS.map(gw.gateway.idOf)).toContain(ok.key_id)
    const errors = await rows('error_logs')
    expect(errors).toHaveLength(1)
    expect(errors[0]!.error_body).toContain('The model is overloaded')
    expect(errors[0]!.request_body).toContain(secret) // ERROR_LOG_RECORD_REQUEST_BODY=true
  })

  it('stream usage is taken from the last event', async () => {
    await post(gw, STREAM, userText('count these four')).then((r) => r.text())
    const last = (await rows('request_logs')).at(-1)!
    expect(last).toMatchObject({ operation: 'streamGenerateContent', failure_class: 'ok', prompt_tokens: 3 })
    expect(Number(last.completion_tokens)).toBeGreaterThan(0)
  })

  it('never stores a raw key or client token', async () => {
    const dump = JSON.stringify([...(await rows('request_logs')), ...(await rows('error_logs'))])
    for (const secret of [...KEYS, TOKEN]) expect(dump).not.toContain(secret)
    expect(dump).toContain(gw.gateway.idOf(KEYS[0]!))
  })
})

describe('a dead database', () => {
  it('does not slow or fail requests', async () => {
    const gw = await startGateway({
      env: { DATABASE_TYPE: 'mysql', MYSQL_HOST: MYSQL.host, MYSQL_PORT: String(MYSQL.port), MYSQL_USER: 'root', MYSQL_DATABASE: 'test' },
    })
    try {
      // Take MariaDB's tables away under the running gateway: every log batch now fails.
      await gw.gateway.database.db.exec('RENAME TABLE request_logs TO request_logs_away')
      const started = performance.now()
      for (let i = 0; i < 20; i++) expect((await post(gw, GENERATE, userText('still fine'))).status).toBe(200)
      expect(performance.now() - started).toBeLessThan(2000)
      await gw.gateway.logs.flush()
      expect(gw.gateway.logs.stats().queued).toBe(20)
      await gw.gateway.database.db.exec('RENAME TABLE request_logs_away TO request_logs')
      await gw.gateway.logs.flush()
      expect(gw.gateway.logs.stats().queued).toBe(0)
    } finally {
      await gw.gateway.database.db.exec('DROP TABLE IF EXISTS request_logs_away').catch(() => {})
      await gw.close()
    }
  })
})

describe('the pipeline order from the config', () => {
  it('a pipeline without the log stage writes no rows; a broken order stops the start', async () => {
    const gw = await startGateway({ config: { pipeline: ['auth', 'model-filter', 'transform', 'key-select', 'upstream'] } })
    try {
      expect((await post(gw, GENERATE, userText('unlogged'))).status).toBe(200)
      await gw.gateway.logs.flush()
      const { rows } = await gw.gateway.database.db.sql`SELECT COUNT(*) AS n FROM request_logs`
      expect(rows).toEqual([{ n: 0 }])
    } finally {
      await gw.close()
    }
    await expect(startGateway({ config: { pipeline: ['auth', 'upstream'] } })).rejects.toThrow(/key-select/)
  })
})
