import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../bench/processes.ts'
import { KEYS, TOKEN } from './harness.ts'

export interface BunGateway {
  url: string
  stop(): void
}

/**
 * `bun serve.ts` (the repo's Bun) in front of `upstreamUrl`, with the harness's keys and token, answering once its
 * /health does. `cwd` holds the gateway.config.ts to use (default: the repo's).
 */
export async function startBunGateway(upstreamUrl: string, options: { cwd?: string } = {}): Promise<BunGateway> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let output = ''
  const child = spawn(join(process.cwd(), 'node_modules/.bin/bun'), ['--no-env-file', join(process.cwd(), 'serve.ts')], {
    cwd: options.cwd ?? process.cwd(),
    env: {
      PATH: process.env.PATH,
      API_KEYS: JSON.stringify(KEYS),
      ALLOWED_TOKENS: TOKEN,
      BASE_URL: upstreamUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'gemgate-bun-')),
      CHECK_INTERVAL_HOURS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (data) => (output += data))
  child.stderr!.on('data', (data) => (output += data))
  const stop = () => void child.kill('SIGTERM')
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${url}/health`).then(
      (res) => res.ok,
      () => false,
    )
    if (up) return { url, stop }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  stop()
  throw new Error(`bun did not start:\n${output}`)
}
