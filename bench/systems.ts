// The systems under test, each in its own process: the fake upstream called directly (the floor), a bare node:http
// proxy (what a Node hop costs), gemgate on Node and on Bun, and Portkey's open-source gateway with its Google
// provider pointed at the fake upstream. Each answers one or both API shapes: Gemini's native one and OpenAI's chat.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { RequestSpec } from './measure.ts'
import { freePort, start, waitForHttp, waitForOutput, type Child } from './processes.ts'

export type SystemName = 'direct' | 'bare' | 'node' | 'bun' | 'portkey'
export type Shape = 'native' | 'openai'
export type Kind = 'unary' | 'stream'

export const LABELS: Record<SystemName, string> = {
  direct: 'direct',
  bare: 'bare proxy',
  node: 'gemgate Node',
  bun: 'gemgate Bun',
  portkey: 'Portkey',
}

export interface System {
  name: SystemName
  origin: string
  child: Child
  /** Request headers per shape it answers. */
  headers: Partial<Record<Shape, Record<string, string>>>
}

/** One shape of one system: what a scenario measures. */
export interface Cell {
  system: System
  shape: Shape
}

export const cellId = (cell: Cell): string => `${cell.system.name}/${cell.shape}`

const UPSTREAM_KEY = 'bench-key-1'
const TOKEN = 'sk-bench'
const MODEL = 'gemini-2.5-flash'
const TEXT = 'Hello there, how are you?'
const JSON_TYPE = { 'content-type': 'application/json' }

export function requestFor(cell: Cell, kind: Kind): RequestSpec {
  const headers = cell.system.headers[cell.shape]
  if (headers === undefined) throw new Error(`${LABELS[cell.system.name]} does not answer the ${cell.shape} shape`)
  const stream = kind === 'stream'
  if (cell.shape === 'native') {
    const action = stream ? 'streamGenerateContent?alt=sse' : 'generateContent'
    const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: TEXT }] }] })
    return { origin: cell.system.origin, path: `/v1beta/models/${MODEL}:${action}`, headers, body }
  }
  const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: TEXT }], ...(stream && { stream: true }) })
  return { origin: cell.system.origin, path: '/v1/chat/completions', headers, body }
}

/**
 * One request before anything is measured: a system that answers wrongly is left out with the reason rather than
 * timed. Streams must carry at least two SSE events of the shape asked for.
 */
export async function probe(cell: Cell, kind: Kind): Promise<string | undefined> {
  const spec = requestFor(cell, kind)
  let text: string
  try {
    const res = await fetch(spec.origin + spec.path, { method: 'POST', headers: spec.headers, body: spec.body, signal: AbortSignal.timeout(10_000) })
    text = await res.text()
    if (res.status !== 200) return `answered HTTP ${res.status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`
  } catch (error) {
    return `request failed: ${String(error)}`
  }
  const field = cell.shape === 'native' ? '"candidates"' : '"choices"'
  if (!text.includes(field)) return `answered 200 without ${field}: ${text.slice(0, 200).replace(/\s+/g, ' ') || '(empty body)'}`
  if (kind === 'stream' && (text.match(/^data: \{/gm) ?? []).length < 2) return 'answered 200 with fewer than two stream events'
  return undefined
}

/** SSE events in one native stream of the fake upstream (what "64-chunk" stands for). */
export async function countStreamEvents(direct: System): Promise<number> {
  const spec = requestFor({ system: direct, shape: 'native' }, 'stream')
  const res = await fetch(spec.origin + spec.path, { method: 'POST', headers: spec.headers, body: spec.body })
  return ((await res.text()).match(/^data: /gm) ?? []).length
}

// ---- starting them ---------------------------------------------------------------------------

export async function startFake(chunkIntervalMs: string): Promise<System> {
  const child = start('fake-upstream', ['--import', 'tsx', 'test/fake-upstream/main.ts'], {
    FAKE_PORT: '0',
    FAKE_HOST: '127.0.0.1',
    FAKE_LATENCY_MS: '20',
    FAKE_CHUNKS: '64',
    FAKE_CHUNK_INTERVAL_MS: chunkIntervalMs,
    FAKE_RECORD: '0',
  })
  const origin = (await waitForOutput(child, /fake-upstream listening on (http:\/\/[\d.:]+)/))[1] as string
  return { name: 'direct', origin, child, headers: { native: { ...JSON_TYPE, 'x-goog-api-key': UPSTREAM_KEY } } }
}

export async function startBare(upstream: string, name = 'bare-proxy'): Promise<System> {
  const child = start(name, ['--import', 'tsx', 'bench/bare-proxy.ts'], { UPSTREAM: upstream, UPSTREAM_KEY, PORT: '0' })
  const origin = (await waitForOutput(child, /bare-proxy listening on (http:\/\/[\d.:]+)/))[1] as string
  return { name: 'bare', origin, child, headers: { native: { ...JSON_TYPE, 'x-goog-api-key': TOKEN } } }
}

/** The environment every gemgate of the bench runs with: three keys on the fake upstream, request logs on. */
export function gemgateEnv(upstream: string): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    API_KEYS: `["${UPSTREAM_KEY}","bench-key-2","bench-key-3"]`,
    ALLOWED_TOKENS: `["${TOKEN}"]`,
    BASE_URL: `${upstream}/v1beta`,
    LOG_LEVEL: 'warn',
    CHECK_INTERVAL_HOURS: '0',
  }
}

export const gemgateHeaders = {
  native: { ...JSON_TYPE, 'x-goog-api-key': TOKEN },
  openai: { ...JSON_TYPE, authorization: `Bearer ${TOKEN}` },
}

/** `npm start`'s first step: compile the sources and gateway.config.ts to dist/ unless the build there is fresh. */
export function buildForNode(): void {
  execFileSync(process.execPath, ['scripts/build.js', '--if-stale'], { stdio: ['ignore', 2, 2] })
}

/**
 * gemgate with a fresh data folder, as its start scripts run it: on Node `npm start`'s `node dist/serve.js` (built
 * by buildForNode; `nodeArgs` go before it, e.g. --cpu-prof), on Bun `npm run start:bun`'s `bun serve.ts`.
 */
export async function startGemgate(runtime: 'node' | 'bun', upstream: string, dataDir: string, name: string, nodeArgs: string[] = []): Promise<System> {
  const origin = `http://127.0.0.1:${await freePort()}`
  const env = { ...gemgateEnv(upstream), PORT: new URL(origin).port, DATA_DIR: dataDir }
  const child =
    runtime === 'node'
      ? start(name, [...nodeArgs, 'dist/serve.js'], env)
      : start(name, ['serve.ts'], env, process.cwd(), path.join(process.cwd(), 'node_modules/.bin/bun'))
  await waitForHttp(child, `${origin}/health`)
  return { name: runtime, origin, child, headers: gemgateHeaders }
}

const PORTKEY_SERVER = path.join(process.cwd(), 'node_modules/@portkey-ai/gateway/build/start-server.js')

export const portkeyVersion = (): string =>
  (JSON.parse(readFileSync(path.join(process.cwd(), 'node_modules/@portkey-ai/gateway/package.json'), 'utf8')) as { version: string }).version

/**
 * Portkey's gateway as `npx @portkey-ai/gateway` runs it (Node, Hono), without its log UI. It takes the provider per
 * request: `x-portkey-provider: google` with the key as the bearer token, and `x-portkey-custom-host` in place of
 * https://generativelanguage.googleapis.com (loopback hosts are in its default TRUSTED_CUSTOM_HOSTS). It speaks
 * OpenAI's API to clients only: its pass-through route for native calls (/v1/proxy/...) fails on Node with
 * "TypeError: immutable" when it adds its headers to the upstream's response. It has no host option: it listens on
 * every interface for the length of the run.
 */
export async function startPortkey(upstream: string, name = 'portkey'): Promise<System> {
  const port = await freePort()
  const child = start(name, [PORTKEY_SERVER, `--port=${port}`, '--headless'], {})
  const origin = `http://127.0.0.1:${port}`
  await waitForHttp(child, `${origin}/`)
  const openai = { ...JSON_TYPE, 'x-portkey-provider': 'google', 'x-portkey-custom-host': upstream, authorization: `Bearer ${UPSTREAM_KEY}` }
  return { name: 'portkey', origin, child, headers: { openai } }
}
