import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadGatewayConfig } from '../../core/config/load.ts'
import { GatewayError } from '../../core/errors.ts'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { recordChild } from '../secrets/child.ts'
import { userText } from './harness.ts'

const REPO = process.cwd()
const TOKEN = 'sk-built-start-token-0123456789abcdef'

/** A plugin of the user's own in TypeScript, beside gateway.config.ts, written against `gemgate` as the README shows. */
const TEAPOT_PLUGIN = `
import { definePlugin, GatewayError } from 'gemgate'

export default definePlugin({
  name: 'teapot',
  summary: 'refuses the model teapot with the error class of core',
  setup() {
    return {
      transformRequest(request) {
        if (request.model === 'teapot') throw new GatewayError(418, 'I am a teapot, not a model.')
      },
    }
  },
})
`

/** Bundled plugins both ways (from 'gemgate/plugins', and by path as the config of a copy of this repository may). */
const CONFIG = (alias: string, byPath = true) => `
import { defineConfig } from 'gemgate'
import { modelAlias, vertexExpress } from 'gemgate/plugins'
${byPath ? "import search from './plugins/search/index.ts'" : ''}
import teapot from './my-plugins/teapot.ts'

export default defineConfig({
  plugins: [${byPath ? "search({ models: ['gemini-2.5-flash'] }), " : ''}vertexExpress(), modelAlias({ aliases: { ${alias}: 'gemini-2.5-flash' } }), teapot()],
})
`

function writeConfig(dir: string, config: string): void {
  mkdirSync(join(dir, 'my-plugins'), { recursive: true })
  writeFileSync(join(dir, 'my-plugins/teapot.ts'), TEAPOT_PLUGIN)
  writeFileSync(join(dir, 'gateway.config.ts'), config)
}

/**
 * A copy of the package (sources, package.json, tsconfigs, the build script; node_modules linked) with a config and a
 * plugin of its own, so the build the test makes is not the repository's dist/.
 */
function makeProject(): string {
  const project = mkdtempSync(join(tmpdir(), 'gemgate-built-'))
  for (const path of ['core', 'plugins', 'storage', 'serve.ts', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.js']) {
    cpSync(join(REPO, path), join(project, path), { recursive: true })
  }
  symlinkSync(join(REPO, 'node_modules'), join(project, 'node_modules'), 'dir')
  writeConfig(project, CONFIG('fast'))
  return project
}

interface Started {
  url: string
  output: () => string
  stop: () => void
}

/** `command` in its own process group (npm, sh and node die together), PORT=0: the URL is read from its listening line. */
async function start(command: string, args: string[], cwd: string, upstream: FakeUpstream): Promise<Started> {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    npm_config_update_notifier: 'false',
    API_KEYS: 'AIzaSy-built-start-key-000000000001',
    ALLOWED_TOKENS: TOKEN,
    BASE_URL: upstream.url,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'gemgate-built-data-')),
    CHECK_INTERVAL_HOURS: '0',
  }
  const child: ChildProcess = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
    recordChild(env, { stdout: output }) // for the leak check (test/secrets)
  }
  for (let i = 0; i < 1200; i++) {
    const listening = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)
    if (listening) return { url: listening[1]!, output: () => output, stop }
    if (child.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  stop()
  throw new Error(`${command} ${args.join(' ')} did not start:\n${output}`)
}

const ask = (url: string, model: string) =>
  fetch(`${url}/v1beta/models/${model}:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': TOKEN }, body: JSON.stringify(userText('hi')) })

const askOpenai = (url: string, model: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  })

/**
 * `npm start` on a fresh copy: dist/ is built (once, though two starts race for it) and run, with gateway.config.ts
 * compiled beside it. Its plugins, bundled or the user's own, are written against `gemgate` and get the running core:
 * a GatewayError they throw reaches the client as its status and message, which only happens when `instanceof`
 * holds, i.e. there is one copy of core.
 */
describe('npm start, built', () => {
  let upstream: FakeUpstream
  let project: string
  let first: Started
  let second: Started

  beforeAll(async () => {
    upstream = await startFakeUpstream()
    project = makeProject()
    ;[first, second] = await Promise.all([start('npm', ['start'], project, upstream), start('npm', ['start'], project, upstream)])
  }, 120_000)

  afterAll(async () => {
    first?.stop()
    second?.stop()
    await upstream?.close()
    if (project) rmSync(project, { recursive: true, force: true })
  })

  it('builds once when two starts race for a stale dist/, and both serve', async () => {
    expect(`${first.output()}${second.output()}`.match(/building dist\//g)).toHaveLength(1)
    expect((await ask(second.url, 'gemini-2.5-flash')).status).toBe(200)
  })

  it('runs the config compiled with dist/, not the TypeScript source', () => {
    expect(first.output()).toContain(`config ${join(project, 'dist/gateway.config.js')}`)
  })

  it("a user's TypeScript plugin throws core's GatewayError: the client gets its status and message in its dialect", async () => {
    const native = await ask(first.url, 'teapot')
    expect(native.status).toBe(418)
    expect((await native.json()).error).toMatchObject({ code: 418, message: 'I am a teapot, not a model.' })
    const openai = await askOpenai(first.url, 'teapot')
    expect(openai.status).toBe(418)
    expect((await openai.json()).error.message).toBe('I am a teapot, not a model.')
  })

  it("bundled plugins from 'gemgate/plugins' and by path run on the same core", async () => {
    const vertex = await fetch(`${first.url}/vertex-express/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': TOKEN },
      body: JSON.stringify(userText('hi')),
    })
    expect(vertex.status).toBe(503)
    expect((await vertex.json()).error.message).toContain('VERTEX_API_KEYS is empty')
    upstream.reset()
    expect((await ask(first.url, 'fast')).status).toBe(200)
    expect((await ask(first.url, 'gemini-2.5-flash-search')).status).toBe(200)
    const generated = upstream.requests.filter((request) => request.path.endsWith(':generateContent'))
    expect(generated.map((request) => request.model)).toEqual(['gemini-2.5-flash', 'gemini-2.5-flash'])
  })

  it('a config changed since the build is compiled in memory, still on the running core', async () => {
    writeFileSync(join(project, 'gateway.config.ts'), CONFIG('quick'))
    const direct = await start(process.execPath, ['dist/serve.js'], project, upstream)
    try {
      expect(direct.output()).toContain('gateway.config.ts changed since dist/ was built')
      expect((await ask(direct.url, 'quick')).status).toBe(200)
      expect((await ask(direct.url, 'teapot')).status).toBe(418)
    } finally {
      direct.stop()
    }
  }, 60_000)
})

/** The same config loaded from source, as under tsx, vitest and `npm run dev`: `gemgate` is the core already running. */
describe("'gemgate' in a config loaded from source", () => {
  it("is this process's core", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gemgate-source-config-'))
    writeConfig(dir, CONFIG('fast', false))
    const { config } = await loadGatewayConfig({ cwd: dir, dotenv: false, env: { ALLOWED_TOKENS: TOKEN } }).finally(() =>
      rmSync(dir, { recursive: true, force: true }),
    )
    const teapot = config.plugins.find((plugin) => plugin.definition.name === 'teapot')!
    const hooks = await teapot.definition.setup!({} as never, {} as never)
    let thrown: unknown
    try {
      await hooks.transformRequest!({ model: 'teapot' } as never, {} as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(GatewayError)
  })
})
