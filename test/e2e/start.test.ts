import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { startFakeUpstream } from '../fake-upstream/index.ts'

/** `npm start` with bad configuration: a clear message naming the variable, and a non-zero exit. */
describe('start-up', () => {
  const start = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'serve.ts'], {
      env: { PATH: process.env.PATH, DATA_DIR: mkdtempSync(join(tmpdir(), 'gemgate-start-')), ...env },
      encoding: 'utf8',
      timeout: 15_000,
    })

  it('refuses to start without ALLOWED_TOKENS', () => {
    const run = start({ API_KEYS: 'k1' })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('ALLOWED_TOKENS')
    expect(run.stderr).toContain('refuses to serve openly')
  })

  it('names each bad variable, its problem and the expected form', () => {
    const run = start({ API_KEYS: 'k1', ALLOWED_TOKENS: 'sk', MAX_RETRIES: 'lots', PROXIES: 'ftp://nope:1' })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('MAX_RETRIES="lots": expected a whole number')
    const second = start({ API_KEYS: 'k1', ALLOWED_TOKENS: 'sk', PROXIES: 'ftp://nope:1' })
    expect(second.status).toBe(1)
    expect(second.stderr).toMatch(/PROXIES \(environment variable, config field proxies\.0\): must be an http:\/\/, https:\/\/ or socks5:\/\/ URL/)
  })
})

describe('shutdown', () => {
  it('SIGTERM lets a stream in flight finish, writes its log row, and exits 0', async () => {
    const upstream = await startFakeUpstream({ streamChunks: 10, chunkIntervalMs: 100 })
    const dataDir = mkdtempSync(join(tmpdir(), 'gemgate-stop-'))
    const port = 20000 + Math.floor(Math.random() * 20000)
    const child = spawn(process.execPath, ['--import', 'tsx', 'serve.ts'], {
      env: { PATH: process.env.PATH, API_KEYS: 'k1', ALLOWED_TOKENS: 'sk', BASE_URL: upstream.url, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir },
      stdio: 'ignore',
    })
    try {
      const url = `http://127.0.0.1:${port}`
      for (let i = 0; i < 100 && !(await fetch(`${url}/health`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100))
      const res = await fetch(`${url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=sk`, {
        method: 'POST',
        body: JSON.stringify({ contents: [{ parts: [{ text: 'a b c d e f g h i j' }] }] }),
      })
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const text = await res.text()
      expect(text.split('\r\n\r\n').filter(Boolean)).toHaveLength(10)
      expect(await exited).toBe(0)
      const db = new Database(join(dataDir, 'gemgate.db'), { readonly: true })
      expect(db.prepare('SELECT failure_class FROM request_logs').all()).toEqual([{ failure_class: 'ok' }])
      db.close()
    } finally {
      child.kill('SIGKILL')
      await upstream.close()
    }
  })
})
