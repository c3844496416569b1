// The cost of a dialect: the gateway's OpenAI chat path against its native path, same upstream, same process.
// Conversion (decode the OpenAI request, encode the answer or every stream chunk) must add < 0.1 ms at p50.
import { measureLatency, measureThroughput, type LatencyResult, type ThroughputResult } from './measure.ts'

export interface DialectSettings {
  latencyWarmup: number
  latencyCount: number
  connections: number
  warmupSeconds: number
  duration: number
}

interface PathPair {
  name: string
  native: { path: string; body: string }
  openai: { path: string; body: string }
}

const TEXT = 'Hello there, how are you?'
const NATIVE_BODY = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: TEXT }] }] })
const chatBody = (stream: boolean) => JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: TEXT }], ...(stream && { stream: true }) })

const PAIRS: PathPair[] = [
  {
    name: 'chat (non-stream)',
    native: { path: '/v1beta/models/gemini-2.5-flash:generateContent', body: NATIVE_BODY },
    openai: { path: '/v1/chat/completions', body: chatBody(false) },
  },
  {
    name: 'chat (64-chunk stream)',
    native: { path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', body: NATIVE_BODY },
    openai: { path: '/v1/chat/completions', body: chatBody(true) },
  },
]

export interface DialectResult {
  name: string
  latency: { native: LatencyResult; openai: LatencyResult }
  throughput: { native: ThroughputResult; openai: ThroughputResult }
}

export async function measureDialects(origin: string, token: string, pid: number, s: DialectSettings, log: (m: string) => void): Promise<DialectResult[]> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
  const results: DialectResult[] = []
  for (const pair of PAIRS) {
    const native = { origin, headers, ...pair.native }
    const openai = { origin, headers, ...pair.openai }
    log(`${pair.name}: native vs OpenAI latency, ${s.latencyCount} sequential requests each, interleaved`)
    const [nativeLatency, openaiLatency] = (await measureLatency([native, openai], s.latencyWarmup, s.latencyCount)) as [LatencyResult, LatencyResult]
    log(`${pair.name}: native throughput`)
    const nativeThroughput = await measureThroughput(native, s.connections, s.warmupSeconds, s.duration, pid)
    log(`${pair.name}: OpenAI throughput`)
    const openaiThroughput = await measureThroughput(openai, s.connections, s.warmupSeconds, s.duration, pid)
    results.push({
      name: pair.name,
      latency: { native: nativeLatency, openai: openaiLatency },
      throughput: { native: nativeThroughput, openai: openaiThroughput },
    })
  }
  return results
}

export function renderDialectTable(results: DialectResult[]): string {
  const rows: string[][] = []
  for (const r of results) {
    const failed = r.latency.native.failures + r.latency.openai.failures > 0
    const p50 = r.latency.openai.p50 - r.latency.native.p50
    rows.push([`${r.name}: p50 @c=1 (ms)`, ms(r.latency.native.p50), ms(r.latency.openai.p50), ms(p50), '< 0.1 ms', verdict(p50 < 0.1, failed)])
    rows.push([`${r.name}: p99 @c=1 (ms)`, ms(r.latency.native.p99), ms(r.latency.openai.p99), ms(r.latency.openai.p99 - r.latency.native.p99), 'info', ''])
    const tpFailed = r.throughput.native.problems + r.throughput.openai.problems > 0
    const [n, o] = [r.throughput.native.rps, r.throughput.openai.rps]
    rows.push([`${r.name}: throughput @64 conns (req/s)`, num(n), num(o), `${(o / n).toFixed(2)}x`, 'info', tpFailed ? 'MISS (errors)' : ''])
    const [nc, oc] = [r.throughput.native.cpuMsPerRequest ?? NaN, r.throughput.openai.cpuMsPerRequest ?? NaN]
    rows.push([`${r.name}: CPU per request (ms)`, ms(nc, 3), ms(oc, 3), ms(oc - nc, 3), 'info', ''])
  }
  const header = ['metric', 'native', 'OpenAI', 'OpenAI − native', 'target', 'PASS/MISS']
  const line = (r: string[]) => `| ${r.join(' | ')} |`
  return ['', line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n')
}

const ms = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a')
const num = (value: number): string => (Number.isFinite(value) ? Math.round(value).toString() : 'n/a')
const verdict = (ok: boolean, errors: boolean): string => (errors ? 'MISS (errors)' : ok ? 'PASS' : 'MISS')
