// Where a Node process's CPU goes, from the V8 profile `node --cpu-prof` writes at exit: self time by area (a file of
// ours, a package, a part of Node, GC) and the busiest functions. Shown for each scenario whose target gemgate on
// Node misses, so the table says what bounds it.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { SECTIONS, table, verdict, type Results, type Row } from './report.ts'
import { profileScenario, type Log } from './scenarios.ts'
import type { Kind, Shape, System } from './systems.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
interface CpuProfile {
  nodes: ProfileNode[]
  /** µs, on the clock of process.hrtime. */
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  /** Sampled time that was not idle, ms. */
  busyMs: number
  areas: [string, number][]
  functions: [string, number][]
}

/** Self time of the samples taken inside `window` (µs on the profile's clock). */
export function summarizeProfile(file: string, window: { from: number; to: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const areas = new Map<string, number>()
  const functions = new Map<string, number>()
  let busyUs = 0
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame
    const us = profile.timeDeltas[i] ?? 0
    at += us
    if (!frame || frame.functionName === '(idle)' || us <= 0 || at < window.from || at > window.to) return
    busyUs += us
    const area = areaOf(frame.url, frame.functionName)
    areas.set(area, (areas.get(area) ?? 0) + us)
    const where = frame.url ? ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : ''
    const name = `${frame.functionName || '(anonymous)'}${where}`
    functions.set(name, (functions.get(name) ?? 0) + us)
  })
  const ranked = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, us]): [string, number] => [k, us / 1000])
  return { busyMs: busyUs / 1000, areas: ranked(areas), functions: ranked(functions) }
}

/** A file of the project, a package by name, a part of Node (node:http, node:streams...), or V8's own work. */
function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName === '(garbage collector)' ? 'GC' : functionName === '(program)' ? 'V8 / native (program)' : 'V8 builtins'
  if (url.startsWith('node:'))
    return `node:${url
      .replace(/^node:(internal\/)?(deps\/)?/, '')
      .split('/')[0]
      ?.replace(/\.js$/, '')}`
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const [scope, name] = url.slice(modules + '/node_modules/'.length).split('/')
    return scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? url)
  }
  return shortUrl(url)
}

const shortUrl = (url: string): string => {
  const file = url.replace(/^file:\/\//, '')
  const modules = file.lastIndexOf('/node_modules/')
  return modules >= 0 ? file.slice(modules + '/node_modules/'.length) : path.relative(process.cwd(), file)
}

export function renderProfile(title: string, s: ProfileSummary, run: { requests: number; processCpuMsPerRequest: number }, top = 10): string {
  const share = (ms: number) => `${((ms / s.busyMs) * 100).toFixed(1)}%`
  return [
    `**${title}**, after start-up and warm-up: ${run.requests} requests at ${run.processCpuMsPerRequest.toFixed(3)} ms of CPU each ` +
      '(the whole process, under the profiler). Where the JavaScript thread was found, by self time; the profiler samples wall time, so on a ' +
      'busy machine the shares say more than the milliseconds:',
    '',
    table(
      ['area', 'sampled ms', 'share'],
      s.areas.slice(0, top).map(([k, ms]) => [k, ms.toFixed(0), share(ms)]),
    ),
    '',
    table(
      ['function', 'sampled ms', 'share'],
      s.functions.slice(0, top).map(([k, ms]) => [`\`${k}\``, ms.toFixed(0), share(ms)]),
    ),
  ].join('\n')
}

/**
 * A CPU profile of gemgate on Node for every scenario where it misses one of its targets (`all`: every scenario),
 * each on a fresh gateway made by `start`, beside what gemgate on Bun reached on the same scenario.
 */
export async function profileMisses(
  r: Results,
  main: Row[],
  bursts: Row[],
  all: boolean,
  start: (nodeArgs: string[]) => Promise<System>,
  baseDir: string,
  log: Log,
): Promise<string[]> {
  const missed = (rows: Row[], title: string) => all || rows.some((row) => row.metric.startsWith(`${title}: `) && verdict(row, 'node').startsWith('MISS'))
  const burstTitle = (shape: Shape) => (shape === 'native' ? 'native stream' : 'OpenAI chat stream')
  const wanted: { scenario: Kind | 'burst'; shape: Shape; title: string }[] = [
    ...SECTIONS.filter((s) => missed(main, s.title)).map((s) => ({ scenario: s.kind, shape: s.shape, title: s.title })),
    ...(['native', 'openai'] as const)
      .filter((shape) => missed(bursts, burstTitle(shape)))
      .map((shape) => ({ scenario: 'burst' as const, shape, title: burstTitle(shape) })),
  ]
  const out: string[] = []
  for (const w of wanted) {
    const what = w.scenario === 'burst' ? `${r.settings.burst} concurrent streams, ${w.title}` : `${w.title} at ${r.settings.connections} connections`
    log(`profile: ${what} on a fresh gemgate Node with --cpu-prof`)
    try {
      const run = await profileScenario(w.scenario, w.shape, start, r.settings, baseDir)
      out.push(renderProfile(what, summarizeProfile(run.file, run.window), run), '', bunBeside(r, w.scenario, w.shape), '')
    } catch (error) {
      out.push(`**${what}**: no profile (${error instanceof Error ? error.message : String(error)})`, '')
    }
  }
  return out
}

/** What gemgate on Bun reached on the same scenario, beside Node. */
function bunBeside(r: Results, scenario: Kind | 'burst', shape: Shape): string {
  if (scenario === 'burst') {
    const b = (name: string) => {
      const cell = r.bursts.get(`${name}/${shape}`)
      return cell && !('skipped' in cell) ? `first chunk p99 ${cell.firstP99.toFixed(1)} ms, peak RSS ${Math.round(cell.peakRssMb ?? NaN)} MB` : 'not measured'
    }
    return `The same burst in the table: gemgate Node ${b('node')}; gemgate Bun ${b('bun')}.`
  }
  const t = (name: string) => {
    const cell = r.kinds[scenario].get(`${name}/${shape}`)?.throughput
    return cell ? `${Math.round(cell.rps)} req/s at ${(cell.cpuMsPerRequest ?? NaN).toFixed(3)} ms CPU per request` : 'not measured'
  }
  return `The same scenario in the table: gemgate Node ${t('node')}; gemgate Bun ${t('bun')}.`
}
