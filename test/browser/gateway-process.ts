// A gateway started as `npm start` starts it, but from sources, with nothing configured: the first run an operator
// sees. Its output is kept (the admin token it prints once is read from it); stopping it always ends the process.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { maskSecret } from '../../core/identity.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The first-run box: `Admin token:  gg-admin-…`. */
const ADMIN_TOKEN_LINE = /Admin token:\s+(\S+)/
const START_TIMEOUT_MS = 20_000

export interface GatewayProcess {
  url: string
  dataDir: string
  /** The token the first run printed. */
  adminToken: string
  /** Everything the process wrote so far (stdout and stderr, interleaved as received). */
  output(): string
  /** SIGTERM, then SIGKILL if it has not exited after a few seconds; safe to call twice. */
  stop(): Promise<void>
}

/** Starts `serve.ts` with only DATA_DIR (a new temp dir), HOST, PORT and BASE_URL set. */
export async function startGatewayProcess(baseUrl: string): Promise<GatewayProcess> {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'gemgate-browser-'))
  const child = spawn(process.execPath, ['--conditions=gemgate-source', '--import', 'tsx', 'serve.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), BASE_URL: baseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const url = `http://127.0.0.1:${port}`
  const stop = () => stopProcess(child)
  // A test run that dies without its afterAll still takes the gateway with it.
  const onExit = () => child.kill('SIGKILL')
  process.once('exit', onExit)
  child.once('exit', () => process.off('exit', onExit))
  try {
    await waitForHealth(url, child)
    const adminToken = ADMIN_TOKEN_LINE.exec(output)?.[1]
    if (!adminToken) throw new Error('the gateway did not print an admin token at its first run')
    return { url, dataDir, adminToken, output: () => output, stop }
  } catch (error) {
    await stop()
    // The output may hold the admin token: masked, so the failure message leaks nothing.
    const token = ADMIN_TOKEN_LINE.exec(output)?.[1]
    throw new Error(`${(error as Error).message}\n${token ? output.replaceAll(token, maskSecret(token)) : output}`, { cause: error })
  }
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with code ${child.exitCode}`)
    const ok = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    )
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the gateway did not answer /health within ${START_TIMEOUT_MS / 1000} s`)
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

/** A port nothing listens on now (the kernel's pick, released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
