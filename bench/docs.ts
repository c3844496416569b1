// docs/bench-latest.md and docs/bench-latest.svg: the latest full run, naming the commit it measured, so the chart
// is committed with that commit.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chartPanels, renderChart } from './chart.ts'
import type { Row } from './report.ts'
import type { SoakResult } from './soak.ts'
import { portkeyVersion } from './systems.ts'

export interface RunInfo {
  startedAt: Date
  loadBefore: number
  loadAfter: number
  soak: boolean
  streams: number
}

/** Writes both files; returns their paths. */
export function writeDocs(info: RunInfo, body: string, main: Row[], bursts: Row[], soak?: SoakResult[]): string[] {
  const measured = describeCommit()
  const machine =
    `Node ${process.version}, Bun ${bunVersion()}, Portkey ${portkeyVersion()}; ${os.cpus().length} CPUs shared with whatever else ran ` +
    `(load average ${info.loadBefore.toFixed(2)} at start, ${info.loadAfter.toFixed(2)} at end)`
  const doc = [
    '# Benchmark: latest run',
    '',
    `Written by \`npm run bench${info.soak ? ' -- --soak' : ''}\` on ${info.startedAt.toISOString()}, measuring ${measured}. ${machine}.`,
    'The targets are DESIGN.md\'s "Performance budget"; how the numbers are taken: README, section "Benchmark", and the notes below.',
    '',
    '![chart of this run](bench-latest.svg)',
    '',
    body,
    '',
  ].join('\n')
  const dir = path.join(process.cwd(), 'docs')
  mkdirSync(dir, { recursive: true })
  const files = [path.join(dir, 'bench-latest.md'), path.join(dir, 'bench-latest.svg')] as const
  writeFileSync(files[0], doc)
  const subtitle = [`${info.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${measured}`, machine]
  writeFileSync(files[1], renderChart('gemgate benchmark: latest run', subtitle, chartPanels(main, bursts, info.streams), soak))
  return [...files]
}

/** The commit checked out, and whether the code differs from it (docs/ aside). Reads git without taking its lock. */
function describeCommit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', ['--no-optional-locks', ...args], { encoding: 'utf8' }).trim()
    const commit = git('log', '-1', '--format=%h (%s)')
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)docs') !== ''
    return `commit ${commit.length > 80 ? `${commit.slice(0, 78)}…)` : commit}${dirty ? ' plus uncommitted changes' : ''}`
  } catch {
    return 'an unknown commit (no git)'
  }
}

function bunVersion(): string {
  try {
    return execFileSync(path.join(process.cwd(), 'node_modules/.bin/bun'), ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}
