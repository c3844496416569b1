// Child processes for the benchmark: each in its own process group, so CPU is measured per process and
// everything (including grandchildren) is killed at exit, even on error or Ctrl-C.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'

export interface Child {
  name: string
  pid: number
  proc: ChildProcess
  /** Set when the process has exited ("code 1", "signal SIGKILL"). */
  exit?: string
  /** Last lines of stdout + stderr. */
  tail(): string
  /** Lines printed since start (after readiness they are usually warnings or errors). */
  lines: number
}

const running = new Set<Child>()
const TAIL_LINES = 40

/** Runs `command` (this Node by default; Bun for the gateway on Bun) with `args`. */
export function start(name: string, args: string[], env: Record<string, string>, cwd = process.cwd(), command = process.execPath): Child {
  const proc = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: kill(-pid) reaches the whole tree
  })
  if (proc.pid === undefined) throw new Error(`${name}: spawn failed`)
  const recent: string[] = []
  const child: Child = { name, pid: proc.pid, proc, lines: 0, tail: () => recent.join('\n') }
  const onData = (data: Buffer): void => {
    for (const line of data.toString().split('\n')) {
      if (line.trim() === '') continue
      child.lines++
      recent.push(line)
      if (recent.length > TAIL_LINES) recent.shift()
    }
  }
  proc.stdout?.on('data', onData)
  proc.stderr?.on('data', onData)
  proc.on('exit', (code, signal) => {
    child.exit = signal ? `signal ${signal}` : `code ${code}`
    running.delete(child)
  })
  running.add(child)
  return child
}

/** Resolves with the first match of `pattern` in the child's output. */
export function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const done = (error?: Error, match?: RegExpMatchArray): void => {
      clearTimeout(timer)
      child.proc.stdout?.off('data', onData)
      child.proc.off('exit', onExit)
      if (error) reject(error)
      else resolve(match as RegExpMatchArray)
    }
    const onData = (data: Buffer): void => {
      seen += data.toString()
      const match = seen.match(pattern)
      if (match) done(undefined, match)
    }
    const onExit = (): void => done(new Error(`${child.name} exited (${child.exit}) before ready:\n${child.tail()}`))
    const timer = setTimeout(() => done(new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.tail()}`)), timeoutMs)
    child.proc.stdout?.on('data', onData)
    child.proc.on('exit', onExit)
  })
}

/** Polls `url` with GET until it answers 2xx. */
export async function waitForHttp(child: Child, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    if (child.exit) throw new Error(`${child.name} exited (${child.exit}) before ready:\n${child.tail()}`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.ok) return
      last = `HTTP ${res.status}`
    } catch (error) {
      last = String(error)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${child.name}: ${url} not answering after ${timeoutMs} ms (${last}):\n${child.tail()}`)
}

/** Throws if any of the children has exited. */
export function assertAlive(children: Child[]): void {
  for (const child of children) {
    if (child.exit) throw new Error(`${child.name} exited unexpectedly (${child.exit}):\n${child.tail()}`)
  }
}

/** SIGTERM to the group, SIGKILL after `graceMs`. */
export async function stop(child: Child, graceMs = 2000): Promise<void> {
  if (child.exit) return
  const exited = new Promise<void>((resolve) => child.proc.once('exit', () => resolve()))
  signalGroup(child, 'SIGTERM')
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => stop(child)))
}

/** Synchronous last resort (process 'exit' handler). */
export function killAllNow(): void {
  for (const child of running) signalGroup(child, 'SIGKILL')
}

function signalGroup(child: Child, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid, signal)
  } catch {
    // group already gone
  }
}

/** A free TCP port on 127.0.0.1 (for children that cannot listen on port 0 and report it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}
