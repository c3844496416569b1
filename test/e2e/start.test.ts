import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

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
