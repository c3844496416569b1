import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GoogleGenAI } from '@google/genai'
import mysql2 from 'mysql2/promise'
import { plugin as websockets } from 'crossws/server'
import { serve } from 'srvx'
import type { GatewayConfig } from '../../core/config/schema.ts'
import { loadGatewayConfig } from '../../core/config/load.ts'
import { createGateway, type Gateway } from '../../core/gateway.ts'
import { createLogger } from '../../core/logger.ts'
import { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from '../fake-upstream/index.ts'
import { recordDatabase, recordLogs, recordResponses, registerGateway } from '../secrets/gateway.ts'
import { flushRecording } from '../secrets/recorder.ts'
import { MYSQL } from '../storage/backends.ts'

export const TOKEN = 'sk-gemgate-test'
export const KEYS = ['AIzaSy-test-key-one-0000000000000001', 'AIzaSy-test-key-two-0000000000000002', 'AIzaSy-test-key-three-00000000000003']

export interface Running {
  url: string
  gateway: Gateway
  upstream: FakeUpstream
  /** The official SDK pointed at the gateway. */
  genai(token?: string): GoogleGenAI
  /** Upstream requests that reached the fake with one of our keys, in order. */
  keysUsed(): (string | undefined)[]
  /** Forget scripted behaviours, recorded requests and every key's health: a clean slate between tests. */
  reset(): void
  close(): Promise<void>
}

/**
 * A real gateway (real SQLite under a temp dir, real HTTP on loopback) in front of a real fake upstream.
 * Config goes through the same loader as `npm start`, with the environment replaced by `env`.
 */
export async function startGateway(
  options: { env?: Record<string, string>; config?: Partial<GatewayConfig>; upstream?: FakeUpstreamOptions; upstreamInstance?: FakeUpstream } = {},
): Promise<Running> {
  const upstream = options.upstreamInstance ?? (await startFakeUpstream(options.upstream))
  const dataDir = mkdtempSync(join(tmpdir(), 'gemgate-e2e-'))
  const { config, layers } = await loadGatewayConfig({
    cwd: dataDir,
    dotenv: false,
    env: {
      API_KEYS: JSON.stringify(KEYS),
      ALLOWED_TOKENS: JSON.stringify([TOKEN]),
      BASE_URL: upstream.url,
      DATA_DIR: dataDir,
      CHECK_INTERVAL_HOURS: '0',
      LOG_LEVEL: 'silent',
      ...options.env,
    },
    overrides: options.config,
  })
  registerGateway(config) // for the leak check (test/secrets)
  const gateway = await createGateway(config, { logger: recordLogs(createLogger(config.logLevel)), layers }).catch(async (error) => {
    if (!options.upstreamInstance) await upstream.close()
    throw error
  })
  const server = serve({ fetch: gateway.fetch, port: 0, hostname: '127.0.0.1', silent: true, gracefulShutdown: false, plugins: [websockets({})] })
  await server.ready()
  recordResponses(server)
  const url = server.url!.replace(/\/$/, '')
  return {
    url,
    gateway,
    upstream,
    genai: (token = TOKEN) => new GoogleGenAI({ apiKey: token, httpOptions: { baseUrl: url } }),
    keysUsed: () => upstream.requests.map((r) => r.key),
    reset() {
      upstream.reset()
      for (const key of gateway.pool.keys) gateway.pool.reset(key)
    },
    async close() {
      // Open WebSockets (Live sessions) keep the server open until the gateway closes its plugins.
      const closed = server.close(true)
      await gateway.close()
      await closed
      if (!options.upstreamInstance) await upstream.close()
      await recordDatabase(config)
      flushRecording()
    },
  }
}

/** POST JSON to the gateway with the test token. */
export function post(running: Running, path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(running.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': TOKEN, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  })
}

export const userText = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] })

/** A local image host for messages that carry image URLs; counts how often the gateway fetched from it. */
export interface ImageServer {
  url(path?: string): string
  hits(): number
  resetHits(): void
  close(): Promise<void>
}

export async function startImageServer(): Promise<ImageServer> {
  let hits = 0
  const server = createServer((req, res) => {
    if (req.url !== '/cat.png') return void res.writeHead(404).end()
    hits++
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG_BYTES.length }).end(PNG_BYTES)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: (path = '/cat.png') => origin + path,
    hits: () => hits,
    resetHits: () => void (hits = 0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** A 1x1 PNG. */
export const PNG_BYTES = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64')

/** The environment for a gateway on `backend`: SQLite (the harness's default) or a fresh MariaDB database, dropped by `drop`. */
export async function databaseEnv(backend: 'sqlite' | 'mysql'): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (backend === 'sqlite') return { env: {}, drop: async () => {} }
  const database = `gemgate_e2e_${randomBytes(4).toString('hex')}`
  const connection = await mysql2.createConnection(MYSQL)
  await connection.query(`CREATE DATABASE ${database}`)
  await connection.end()
  return {
    env: {
      DATABASE_TYPE: 'mysql',
      MYSQL_HOST: MYSQL.host,
      MYSQL_PORT: String(MYSQL.port),
      MYSQL_USER: MYSQL.user,
      MYSQL_PASSWORD: MYSQL.password,
      MYSQL_DATABASE: database,
    },
    async drop() {
      const connection = await mysql2.createConnection(MYSQL)
      await connection.query(`DROP DATABASE ${database}`)
      await connection.end()
    },
  }
}
