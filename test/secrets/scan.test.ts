import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, inject, it } from 'vitest'
import { post, startGateway, userText } from '../e2e/harness.ts'
import { checkForLeaks } from './global-setup.ts'
import { flushRecording } from './recorder.ts'
import { checkableSecrets, scanDirectory } from './scan.ts'

const SECRET = 'AIzaSy-leak-check-secret-000000000042'

describe('the leak check can fail', () => {
  const scratch = () => mkdtempSync(join(tmpdir(), 'gemgate-scan-test-'))

  it('reports a secret in a recorded file, with the file, the line and the record it is in', () => {
    const dir = scratch()
    writeFileSync(
      join(dir, 'responses-1.log'),
      `== GET /ok → 200\n{"fine":true}\n== POST /v1/chat/completions → 400\n{"error":{"message":"bad key ${SECRET}"}}\n`,
    )
    const findings = scanDirectory(dir, [SECRET])
    expect(findings).toEqual([{ secret: SECRET, where: `${join(dir, 'responses-1.log')}:4 (under "== POST /v1/chat/completions → 400")` }])
  })

  it('finds a secret in a SQLite row and in a nested data dir, and ignores masked forms and short values', () => {
    const dir = scratch()
    mkdirSync(join(dir, 'nested'))
    const db = new Database(join(dir, 'nested', 'gemgate.db'))
    db.exec('CREATE TABLE request_logs (id INTEGER PRIMARY KEY, key_label TEXT, body BLOB)')
    db.prepare('INSERT INTO request_logs (key_label, body) VALUES (?, ?)').run('AIza...0042', Buffer.from('nothing here'))
    db.prepare('INSERT INTO request_logs (key_label, body) VALUES (?, ?)').run('AIza...0042', Buffer.from(`{"key":"${SECRET}"}`))
    db.close()
    const findings = scanDirectory(dir, checkableSecrets([SECRET, 'sk']))
    expect(findings.map((f) => f.where)).toContain(`${join(dir, 'nested', 'gemgate.db')} table request_logs row 2`)
    expect(findings.every((f) => f.secret === SECRET)).toBe(true)
    expect(checkableSecrets(['sk', 'k1', SECRET, SECRET])).toEqual([SECRET])
  })

  it('the teardown check reads the registered secrets and data dirs, and scans only recordings, not the registry', async () => {
    const dir = scratch()
    const dataDir = scratch()
    writeFileSync(join(dir, 'secrets-1.jsonl'), `${JSON.stringify(SECRET)}\n`)
    writeFileSync(join(dir, 'datadirs-1.jsonl'), `${JSON.stringify(dataDir)}\n`)
    writeFileSync(join(dir, 'logs-1.log'), 'info [gemgate] key AIza...0042 disabled\n')
    expect((await checkForLeaks(dir)).findings).toEqual([])
    writeFileSync(join(dataDir, 'gateway.log'), `warn key ${SECRET} failed\n`)
    expect((await checkForLeaks(dir)).findings).toEqual([{ secret: SECRET, where: `${join(dataDir, 'gateway.log')}:1` }])
  })

  it('what a client of the harness gateway saw reaches the recording', async () => {
    const dir = inject('leakCheckDir')
    expect(dir).not.toBe('')
    const marker = `marker-${Date.now()}`
    const gw = await startGateway()
    try {
      const res = await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText(marker))
      expect(await res.text()).toContain(marker)
    } finally {
      await gw.close()
    }
    flushRecording()
    const recorded = readdirSync(dir)
      .filter((name) => name.startsWith(`responses-${process.pid}`))
      .map((name) => readFileSync(join(dir, name), 'utf8'))
      .join('')
    expect(recorded).toMatch(/== POST \/v1beta\/models\/gemini-2\.5-flash:generateContent → 200\n.*"application\/json/)
    expect(recorded).toContain(marker)
  })
})
