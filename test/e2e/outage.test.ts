import { randomBytes } from 'node:crypto'
import net, { type AddressInfo } from 'node:net'
import { setTimeout as settle } from 'node:timers/promises'
import mysql2 from 'mysql2/promise'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MYSQL } from '../storage/backends.ts'
import { KEYS, post, startGateway, userText, type Running } from './harness.ts'

const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent'

const listen = (server: net.Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))
const shut = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()))

/** A loopback port where nothing listens. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  const port = await listen(server)
  await shut(server)
  return port
}

/** What the gateway's logger printed (it writes to stdout/stderr itself), still passed through. */
function captureOutput() {
  let text = ''
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream)
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: never[]) => {
      text += String(chunk)
      return write(chunk as string, ...rest)
    }) as typeof stream.write)
  }
  return { count: (pattern: RegExp) => text.split('\n').filter((line) => pattern.test(line)).length, text: () => text }
}

async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !(await condition()); await settle(25)) if (Date.now() > end) throw new Error('condition not met in time')
}

/**
 * MySQL or Redis down at start: the gateway serves anyway, keeps logs and key state in memory, reconnects, and says
 * so once, not once per retry.
 */
describe('the database or Redis down at start', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('MySQL unreachable: requests are served, rows queue, the outage is logged once', async () => {
    const out = captureOutput()
    const gw = await startGateway({
      env: {
        DATABASE_TYPE: 'mysql',
        MYSQL_HOST: '127.0.0.1',
        MYSQL_PORT: String(await closedPort()),
        MYSQL_USER: 'root',
        MYSQL_DATABASE: 'test',
        LOG_LEVEL: 'info',
      },
    })
    try {
      expect(gw.gateway.database.isReady()).toBe(false)
      for (let i = 0; i < 3; i++) expect((await post(gw, GENERATE, userText('served anyway'))).status).toBe(200)
      await settle(1300) // one reconnect attempt (after 1 s) and a log writer retry
      expect(gw.gateway.logs.stats()).toMatchObject({ queued: 3, written: 0 })
      expect(out.count(/database mysql:\/\/127\.0\.0\.1:\d+\/test unavailable/)).toBe(1)
      expect(out.count(/no deployment secret/)).toBe(1)
    } finally {
      await gw.close()
    }
  })

  it('Redis unreachable: requests are served, key state stays in memory, the outage is logged once', async () => {
    const out = captureOutput()
    const gw = await startGateway({ env: { REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, LOG_LEVEL: 'info' } })
    try {
      gw.upstream.setBehaviour(KEYS[0]!, 'rate-minute', { retryDelaySeconds: 30 })
      gw.upstream.setBehaviour(KEYS[1]!, 'rate-minute', { retryDelaySeconds: 30 })
      for (let i = 0; i < 4; i++) expect((await post(gw, GENERATE, userText('served anyway'))).status).toBe(200)
      const pool = gw.gateway.pool
      expect(pool.health(pool.get(gw.gateway.idOf(KEYS[0]!))!).cooldowns['gemini-2.5-flash']).toBeDefined()
      await settle(1000) // ioredis retries every 50-2000 ms, each one an 'error' event
      gw.reset() // more key state changes, more failed writes
      gw.upstream.setBehaviour(KEYS[2]!, 'rate-minute', { retryDelaySeconds: 30 })
      for (let i = 0; i < 2; i++) expect((await post(gw, GENERATE, userText('served anyway'))).status).toBe(200)
      await settle(500)
      expect(out.count(/Redis unreachable \(.*\): counters, leases, messages and key state are this instance's own until it is back/)).toBe(1)
      // Said once, by the shared state: the key state store stays quiet about the same outage.
      expect(out.count(/key state storage failing/)).toBe(0)
      expect(out.text()).not.toMatch(/Unhandled error event/)
    } finally {
      await gw.close()
    }
  })

  it('rows logged while MariaDB was down land once it is back, under the ids the gateway computes', async () => {
    const database = `gemgate_outage_${randomBytes(4).toString('hex')}`
    const admin = await mysql2.createConnection(MYSQL)
    await admin.query(`CREATE DATABASE ${database}`)
    const relay = new SwitchableRelay()
    const port = await relay.listen()
    const out = captureOutput()
    let gw: Running | undefined
    try {
      gw = await startGateway({
        env: {
          DATABASE_TYPE: 'mysql',
          MYSQL_HOST: '127.0.0.1',
          MYSQL_PORT: String(port),
          MYSQL_USER: MYSQL.user,
          MYSQL_PASSWORD: MYSQL.password,
          MYSQL_DATABASE: database,
          LOG_LEVEL: 'info',
        },
      })
      for (let i = 0; i < 3; i++) expect((await post(gw, GENERATE, userText('while the database is down'))).status).toBe(200)
      await until(() => relay.refused >= 2, 3000) // the first attempt, then a retry (of the handle or of the log writer)
      expect(out.count(/database mysql:.* unavailable/)).toBe(1)

      relay.enabled = true
      await gw.gateway.database.ready
      const rows = async () =>
        (await admin.query(`SELECT key_id, failure_class FROM ${database}.request_logs`))[0] as Array<{ key_id: string; failure_class: string }>
      await until(async () => (await rows()).length === 3, 5000)
      const ids = KEYS.map(gw.gateway.idOf)
      for (const row of await rows()) expect(ids).toContain(row.key_id)
      expect(out.count(/reachable again/)).toBe(1)
      expect(out.count(/deployment secret now stored in the database/)).toBe(1)
      expect(out.count(/database mysql:.* unavailable/)).toBe(1)
    } finally {
      relay.enabled = true
      await gw?.close()
      await relay.close()
      await admin.query(`DROP DATABASE IF EXISTS ${database}`)
      await admin.end()
    }
  })
})

/** A TCP relay to MariaDB that hangs up on every connection until enabled. */
class SwitchableRelay {
  enabled = false
  refused = 0
  private readonly sockets = new Set<net.Socket>()
  private readonly server = net.createServer((client) => {
    this.sockets.add(client)
    client.on('close', () => this.sockets.delete(client))
    client.on('error', () => {})
    if (!this.enabled) {
      this.refused++
      return void client.destroy()
    }
    const upstream = net.connect(MYSQL.port, MYSQL.host)
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    client.pipe(upstream).pipe(client)
  })

  listen(): Promise<number> {
    return listen(this.server)
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await shut(this.server)
  }
}
