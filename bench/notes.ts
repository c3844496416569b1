// The notes under the tables: how each number was taken, what was left out and why, and what went wrong.
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { Results } from './report.ts'
import { LABELS, portkeyVersion, type System } from './systems.ts'

export function notes(r: Results, streamEvents: number, chunkIntervalMs: string, logRows: { node: string; bun: string }, printed: string[]): string[] {
  const s = r.settings
  const lines = [
    `- Fake upstream: 20 ms before the answer's headers, streams of ${streamEvents} SSE events ${chunkIntervalMs} ms apart. Every system runs in its own process; the load generator, the fake upstream and the system measured share this machine's ${os.cpus().length} CPUs, so absolute numbers move from run to run and the ratios are what to compare.`,
    `- Latency: ${s.latencyCount} sequential requests per cell after ${s.latencyWarmup} warm-up, one keep-alive connection each, the cells interleaved request by request. Throughput: autocannon, ${s.connections} connections, ${s.duration} s after ${s.warmupSeconds} s warm-up, ${s.repeats} run(s) per cell interleaved across cells; the median run is shown (nearest rank: of two runs, the slower). CPU = utime+stime of the process during the measured runs / requests completed.`,
    '- "added" = the system minus direct. Direct and the bare proxy make the native call only: they are the reference for both shapes. On the OpenAI rows gemgate and Portkey turn an OpenAI chat request into a Gemini call to the same fake upstream and the answer back.',
    `- Portkey ${portkeyVersion()} (\`@portkey-ai/gateway\`, Node): \`x-portkey-provider: google\`, \`x-portkey-custom-host: <fake upstream>\`, the key as bearer token, on /v1/chat/completions. It asks Google for streams without alt=sse (the JSON array) and holds its first stream chunk for 25 ms (a setTimeout in its stream loop), which its first-chunk numbers include.`,
    `- † DESIGN.md sets first-chunk p99 ≤ 1.5x the bare proxy's for ${s.burst} concurrent streams (second table); the first table applies it at concurrency 1 too.`,
    `- Bursts: all streams opened at once, each on its own connection, on a fresh process per cell (warmed up with ${s.latencyWarmup * 4} sequential streams), so its peak RSS (VmHWM) is the burst's.`,
    `- Request logs written: gemgate Node ${logRows.node}; gemgate Bun ${logRows.bun}.`,
  ]
  for (const kind of ['unary', 'stream'] as const) {
    for (const [id, cell] of r.kinds[kind]) {
      if (cell.skipped) lines.push(`- NOT MEASURED ${kind} ${id}: ${cell.skipped}${id === 'portkey/openai' && kind === 'stream' ? PORTKEY_STREAM : ''}`)
      if (cell.latency?.failures) lines.push(`- PROBLEM ${kind} ${id}, latency: ${cell.latency.failures} failed, e.g. ${samples(cell.latency.failureSamples)}`)
      if (cell.throughput?.problems) lines.push(`- PROBLEM ${kind} ${id}, throughput: ${samples([cell.throughput.detail])}`)
    }
  }
  for (const [id, burst] of r.bursts) {
    if ('skipped' in burst) lines.push(`- NOT MEASURED burst ${id}: ${burst.skipped}${id === 'portkey/openai' ? PORTKEY_STREAM : ''}`)
    else if (burst.failed > 0) lines.push(`- PROBLEM burst ${id}: ${burst.failed} stream(s) failed, e.g. ${samples(burst.failureSamples)}`)
  }
  for (const result of r.soak?.results ?? []) {
    if (result.failed > 0) lines.push(`- PROBLEM soak ${result.label}: ${result.failed} failed, e.g. ${samples(result.failureSamples)}`)
  }
  lines.push(...printed.filter(Boolean))
  return lines
}

/** Error texts on one line each (an upstream's JSON error is pretty-printed), so a note stays one list item. */
const samples = (texts: string[]): string => texts.map((t) => t.replace(/\s+/g, ' ').trim()).join(' || ')

// Why Portkey's stream probe fails against the fake upstream (checked by hand against a server framing the array
// as Google does, where Portkey streams fine).
const PORTKEY_STREAM =
  ". Portkey's Google stream parser splits the upstream JSON array at \\r\\n (Google separates elements with \\n,\\r\\n); the fake upstream separates them with \\n,\\n, so Portkey buffers the whole answer, fails to parse it and ends the stream empty"

export function printedSince(system: System, ready: number): string {
  const child = system.child
  const count = child.lines - ready
  if (count <= 0) return ''
  const tail = child
    .tail()
    .split('\n')
    .slice(-8)
    .map((line) => `    ${line.slice(0, 300)}`)
  return `- ${LABELS[system.name]} printed ${count} line(s) during the run; the last ones:\n\n${tail.join('\n')}\n`
}

export function countLogRows(dir: string): string {
  const file = path.join(dir, 'gemgate.db')
  if (!existsSync(file)) return `no ${path.basename(file)}`
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true })
    try {
      const { n } = db.prepare('SELECT COUNT(*) AS n FROM request_logs').get() as { n: number }
      return `${n} rows in request_logs`
    } finally {
      db.close()
    }
  } catch (error) {
    return `could not read ${file}: ${String(error)}`
  }
}
