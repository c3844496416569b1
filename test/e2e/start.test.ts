import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { startFakeUpstream } from '../fake-upstream/index.ts'
import { recordChild } from '../secrets/child.ts'
import { startGatewayProcess } from './gateway-process.ts'

/** `npm start` with bad configuration: a clear message naming the variable, and a non-zero exit. */
describe('start-up', () => {
  const start = (env: Record<string, string>) => {
    const childEnv = { PATH: process.env.PATH, DATA_DIR: mkdtempSync(join(tmpdir(), 'gemgate-start-')), ...env }
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'serve.ts'], { env: childEnv, encoding: 'utf8', timeout: 15_000 })
    recordChild(childEnv, run) // for the leak check (test/secrets)
    return run
  }

  it('names each bad variable, its problem and the expected form', () => {
    const run = start({ API_KEYS: 'k1', ALLOWED_TOKENS: 'sk', MAX_RETRIES: 'lots', PROXIES: 'ftp://nope:1' })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('MAX_RETRIES="lots": expected a whole number')
    const second = start({ API_KEYS: 'k1', ALLOWED_TOKENS: 'sk', PROXIES: 'ftp://nope:1' })
    expect(second.status).toBe(1)
    expect(second.stderr).toMatch(/PROXIES \(environment variable, config field proxies\.0\): must be an http:\/\/, https:\/\/ or socks5:\/\/ URL/)
  })

  it('refuses a number out of its range, naming the range', () => {
    const run = start({ API_KEYS: 'k1', ALLOWED_TOKENS: 'sk', CHECK_INTERVAL_HOURS: '1000' })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('CHECK_INTERVAL_HOURS (environment variable, config field checkIntervalHours): must be between 0 and 720')
  })

  it('refuses the token placeholder of .env.example', () => {
    const run = start({ API_KEYS: 'k1', ALLOWED_TOKENS: '["CHANGE-ME-long-random-client-token"]' })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('is the placeholder from .env.example')
  })
})

describe('a gemini-balance .env', () => {
  it('LOG_LEVEL=INFO and AUTH_TOKEN alone: serves with that token, and warns once that it is short', async () => {
    const upstream = await startFakeUpstream()
    const gateway = await startGatewayProcess({ API_KEYS: 'k1', AUTH_TOKEN: 'sk-short', LOG_LEVEL: 'INFO', BASE_URL: upstream.url })
    try {
      const ask = (token: string) =>
        fetch(`${gateway.url}/v1beta/models/gemini-2.5-flash:generateContent?key=${token}`, {
          method: 'POST',
          body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
        })
      expect((await ask('sk-short')).status).toBe(200)
      expect((await ask('sk-other')).status).toBe(401)
      expect(gateway.output().match(/client token sk\.\.\. is 8 characters long/g)).toHaveLength(1)
      expect(gateway.output()).not.toContain('sk-short')
    } finally {
      await gateway.stop()
      await upstream.close()
    }
  })
})

describe('shutdown', () => {
  it('SIGTERM lets a stream in flight finish, writes its log row, and exits 0', async () => {
    const upstream = await startFakeUpstream({ streamChunks: 10, chunkIntervalMs: 100 })
    const gateway = await startGatewayProcess({ API_KEYS: 'k1', ALLOWED_TOKENS: 'sk', BASE_URL: upstream.url })
    try {
      const res = await fetch(`${gateway.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=sk`, {
        method: 'POST',
        body: JSON.stringify({ contents: [{ parts: [{ text: 'a b c d e f g h i j' }] }] }),
      })
      // SIGTERM now (SIGKILL only if it is still there after 10 s), while the stream is on its way.
      const exited = gateway.stop()
      const text = await res.text()
      expect(text.split('\r\n\r\n').filter(Boolean)).toHaveLength(10)
      expect(await exited).toBe(0)
      const db = new Database(join(gateway.env.DATA_DIR!, 'gemgate.db'), { readonly: true })
      expect(db.prepare('SELECT failure_class FROM request_logs').all()).toEqual([{ failure_class: 'ok' }])
      db.close()
    } finally {
      await gateway.stop()
      await upstream.close()
    }
  })
})
