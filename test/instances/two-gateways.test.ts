// The docker-compose topology as processes: two gateway instances (serve.ts, each its own process and DATA_DIR) on one
// MariaDB database and one Redis (through a relay the test can cut), in front of the fake upstream, with requests
// spread over both. They must act as one gateway.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadGatewayConfig } from '../../core/config/load.ts'
import { maskSecret } from '../../core/identity.ts'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { recordChild } from '../secrets/child.ts'
import { recordDatabase } from '../secrets/gateway.ts'
import { startGatewayProcess, type GatewayProcess } from '../e2e/gateway-process.ts'
import { databaseEnv } from '../e2e/harness.ts'
import { clearPrefix, freshPrefix, redisRelay, until } from './redis.ts'

const KEYS = ['AIzaSy-instances-key-one-0000000000a1', 'AIzaSy-instances-key-two-0000000000b2', 'AIzaSy-instances-key-three-00000000c3']
const TOKEN = 'sk-gemgate-instances-client'
const ADMIN = 'gg-admin-instances-test-0123456789abcdef'
const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent'

const prefix = freshPrefix()
const relay = redisRelay()
let upstream: FakeUpstream
let a: GatewayProcess
let b: GatewayProcess
let database: Awaited<ReturnType<typeof databaseEnv>> | undefined

const ask = (gateway: GatewayProcess) =>
  fetch(gateway.url + GENERATE, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': TOKEN },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hello' }] }] }),
  })
const admin = async (gateway: GatewayProcess, method: string, path: string, body?: unknown) => {
  const response = await fetch(gateway.url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${await response.text()}`)
  return response.json() as Promise<any>
}
/** The key's state ('healthy', 'cooling', 'disabled') as the gateway's console shows it. */
const stateOf = async (gateway: GatewayProcess, secret: string): Promise<string> => {
  const { items } = await admin(gateway, 'GET', '/api/keys?limit=500')
  return (items as Array<{ label: string; state: string }>).find((row) => row.label === maskSecret(secret))!.state
}
/** Asks `gateway` until the fake upstream has seen `secret`; every answer must be a success (retried on another key). */
const askUntilUsed = async (gateway: GatewayProcess, secret: string) => {
  const mark = upstream.requests.length
  for (let i = 0; i < 6 && !upstream.requests.slice(mark).some((request) => request.key === secret); i++) expect((await ask(gateway)).status).toBe(200)
  expect(upstream.requests.slice(mark).map((request) => request.key)).toContain(secret)
}
/** The keys `gateway` used for `count` requests, all answered 200. */
const keysUsedBy = async (gateway: GatewayProcess, count: number) => {
  const mark = upstream.requests.length
  for (let i = 0; i < count; i++) expect((await ask(gateway)).status).toBe(200)
  return upstream.requests.slice(mark).map((request) => request.key)
}
const linesOf = (gateway: GatewayProcess, pattern: RegExp) =>
  gateway
    .output()
    .split('\n')
    .filter((line) => pattern.test(line))

beforeAll(async () => {
  upstream = await startFakeUpstream()
  await relay.up()
  database = await databaseEnv('mysql')
  const env = {
    API_KEYS: JSON.stringify(KEYS),
    ALLOWED_TOKENS: JSON.stringify([TOKEN]),
    AUTH_TOKEN: ADMIN,
    BASE_URL: upstream.url,
    ...database.env,
    REDIS_URL: relay.url,
    REDIS_PREFIX: prefix,
    MAX_RETRIES: '3',
    CHECK_INTERVAL_HOURS: '0',
    TIMEZONE: 'UTC',
    LOG_LEVEL: 'info',
  }
  // Started together, as an orchestrator starts them: both migrate the same database at once.
  ;[a, b] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)])
}, 60_000)

afterAll(async () => {
  const codes = await Promise.all([a, b].map((gateway) => gateway?.stop()))
  for (const gateway of [a, b]) if (gateway) recordChild(gateway.env, { stdout: gateway.output() })
  if (a) {
    const { config } = await loadGatewayConfig({ cwd: mkdtempSync(join(tmpdir(), 'gemgate-instances-')), dotenv: false, env: a.env })
    await recordDatabase(config)
  }
  await database?.drop()
  await relay.down()
  await upstream?.close()
  await clearPrefix(prefix)
  expect(codes).toEqual([0, 0])
}, 30_000)

describe('two gateway processes on one Redis and one MariaDB', () => {
  it('are both ready, with Redis shared', async () => {
    for (const gateway of [a, b]) {
      const response = await fetch(`${gateway.url}/ready`)
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ status: 'ready', database: 'up', redis: 'shared' })
    }
  })

  it('a console session made on A works on B (sessions live in Redis: no sticky sessions needed)', async () => {
    const login = await fetch(`${a.url}/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth_token: ADMIN }) })
    expect(login.status).toBe(200)
    const cookie = login.headers
      .getSetCookie()
      .find((line) => line.startsWith('gemgate_session='))!
      .split(';', 1)[0]!
    expect((await fetch(`${b.url}/api/keys`, { headers: { cookie } })).status).toBe(200)
    expect((await fetch(`${b.url}/api/keys`)).status).toBe(401)
  })

  it('a key disabled through A is skipped by B at once', async () => {
    upstream.setBehaviour(KEYS[0]!, 'invalid-key')
    await askUntilUsed(a, KEYS[0]!)
    const disabled = performance.now()
    await until(async () => (await stateOf(b, KEYS[0]!)) === 'disabled', 1000, 'B sees the key disabled')
    // The message takes milliseconds (key-health.test.ts); this bound also covers the console's own query.
    expect(performance.now() - disabled).toBeLessThan(1000)
    expect(await keysUsedBy(b, 6)).not.toContain(KEYS[0])
  })

  it('a key cooled down by A is skipped by B', async () => {
    upstream.setBehaviour(KEYS[1]!, 'rate-minute', { times: 1, retryDelaySeconds: 300 })
    await askUntilUsed(a, KEYS[1]!)
    await until(async () => (await stateOf(b, KEYS[1]!)) === 'cooling', 1000, 'B sees the key cooling down')
    expect(new Set(await keysUsedBy(b, 4))).toEqual(new Set([KEYS[2]]))
  })

  it('a setting saved in A’s console applies in B within a second', async () => {
    await admin(a, 'PUT', '/api/settings', { changes: { jobSchedules: { 'key-recheck': '@every 1s' } } })
    const saved = performance.now()
    const schedule = async (gateway: GatewayProcess) =>
      (await admin(gateway, 'GET', '/api/jobs')).find((job: { name: string }) => job.name === 'key-recheck').schedule
    await until(async () => (await schedule(b)) === '@every 1s', 1000, 'B runs the new schedule')
    expect(performance.now() - saved).toBeLessThan(1000)
  })

  it('the re-check runs once per scheduled time across both; the other instance shows that it ran elsewhere', async () => {
    const mark = upstream.requests.length
    await sleep(2200)
    // Each run re-checks the one disabled key with one request: two or three runs in that time, not twice as many.
    const probes = upstream.requests.slice(mark).filter((request) => request.key === KEYS[0]).length
    expect(probes).toBeGreaterThanOrEqual(2)
    expect(probes).toBeLessThanOrEqual(3)
    const lastRuns = async () =>
      Promise.all([a, b].map(async (gateway) => (await admin(gateway, 'GET', '/api/jobs')).find((job: { name: string }) => job.name === 'key-recheck').lastRun))
    await until(
      async () => {
        const [ofA, ofB] = await lastRuns()
        return ofA?.at === ofB?.at && Boolean(ofA?.elsewhere) !== Boolean(ofB?.elsewhere)
      },
      2000,
      'one ran the last re-check and the other shows it',
    )
    // The key answers again: the re-check that finds it enables it, on both.
    upstream.setBehaviour(KEYS[0]!, 'ok')
    await until(async () => (await stateOf(a, KEYS[0]!)) === 'healthy' && (await stateOf(b, KEYS[0]!)) === 'healthy', 3000, 'the key back on both')
  })

  it('Redis lost for a while: both serve on local state without a failed request, say so once, and share again when it is back', async () => {
    await relay.down()
    for (const gateway of [a, b, a, b, a, b]) {
      const started = performance.now()
      expect((await ask(gateway)).status).toBe(200)
      expect(performance.now() - started).toBeLessThan(1000)
    }
    // What A learns meanwhile reaches B once Redis is back.
    upstream.setBehaviour(KEYS[2]!, 'invalid-key')
    await askUntilUsed(a, KEYS[2]!)
    await until(async () => (await (await fetch(`${b.url}/ready`)).json()).redis === 'degraded', 2000, 'B degraded')
    await sleep(1000) // reconnect attempts fail meanwhile
    expect(await stateOf(b, KEYS[2]!)).not.toBe('disabled')

    await relay.up()
    for (const gateway of [a, b]) await until(async () => (await (await fetch(`${gateway.url}/ready`)).json()).redis === 'shared', 3000, 'Redis shared again')
    await until(async () => (await stateOf(b, KEYS[2]!)) === 'disabled', 2000, 'B learns what A saw during the outage')
    for (const gateway of [a, b]) {
      expect(linesOf(gateway, /Redis/)).toEqual([
        expect.stringMatching(/Redis unreachable \(.+\): counters, leases, messages and key state are this instance's own until it is back/),
        expect.stringMatching(/Redis reachable again: state is shared with the other instances again/),
      ])
    }
  })
})
