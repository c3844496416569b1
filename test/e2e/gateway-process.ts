// A gateway instance as its own process, started as `npm start` starts it but from sources, with exactly the
// environment given (nothing inherited but PATH): a single gateway's start-up and shutdown, the console's first run, one
// container of the docker-compose topology.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../bench/processes.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const START_TIMEOUT_MS = 30_000

export interface GatewayProcess {
  url: string
  /** What it was started with (DATA_DIR, HOST and PORT included). */
  env: Record<string, string>
  /** Everything it wrote so far, stdout and stderr interleaved as received. */
  output(): string
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code (null when killed). Safe to call twice. */
  stop(): Promise<number | null>
}

/**
 * Starts serve.ts with `env` plus its own DATA_DIR, HOST and PORT; resolves once /health answers. A start that fails
 * says why with the output, passed through `redact` first (what the process printed may hold a secret).
 */
export async function startGatewayProcess(env: Record<string, string>, options: { redact?: (output: string) => string } = {}): Promise<GatewayProcess> {
  const port = await freePort()
  const full = { ...env, DATA_DIR: mkdtempSync(join(tmpdir(), 'gemgate-instance-')), HOST: '127.0.0.1', PORT: String(port) }
  const child = spawn(process.execPath, ['--conditions=gemgate-source', '--import', 'tsx', 'serve.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...full },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  // A test run that dies without its afterAll still takes the gateway with it.
  const onExit = () => child.kill('SIGKILL')
  process.once('exit', onExit)
  child.once('exit', () => process.off('exit', onExit))
  const url = `http://127.0.0.1:${port}`
  const stop = () => stopProcess(child)
  try {
    await waitForHealth(url, child)
  } catch (error) {
    await stop()
    throw new Error(`${(error as Error).message}\n${options.redact ? options.redact(output) : output}`, { cause: error })
  }
  return { url, env: full, output: () => output, stop }
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with code ${child.exitCode}`)
    if (
      await fetch(`${url}/health`).then(
        (response) => response.ok,
        () => false,
      )
    )
      return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`the gateway did not answer /health within ${START_TIMEOUT_MS / 1000} s`)
}

async function stopProcess(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  const code = await exited
  clearTimeout(timer)
  return code
}
