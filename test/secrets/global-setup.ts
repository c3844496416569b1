// The leak check (vitest globalSetup). Setup makes the run's recording directory; the teardown, after every test
// file, searches what the tests' gateways said (responses, logs, console output), their data dirs (files and SQLite
// databases) and the MariaDB databases for every key and token they were configured with, and fails the run on any
// secret found in full.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { maskSecret } from '../../core/identity.ts'
import { checkableSecrets, scanDirectory, scanMysql, type Finding } from './scan.ts'

// The tests' MariaDB server, as test/storage/backends.ts reaches it.
const MYSQL = { host: process.env.TEST_MYSQL_HOST ?? '127.0.0.1', port: Number(process.env.TEST_MYSQL_PORT ?? 3306), user: 'root', password: '' }
/** The shared `test` database, and test databases a file left behind (the harness records the ones it drops). */
const SCANNED_DATABASES = (name: string) => name === 'test' || name.startsWith('gemgate_')

export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gemgate-leak-check-'))
  process.env.GEMGATE_LEAK_DIR = dir // the main process (console recording) and any worker that inherits it
  project.provide('leakCheckDir', dir)
  return async () => {
    const { findings, summary } = await checkForLeaks(dir)
    if (findings.length === 0) {
      process.stdout.write(`leak check: ${summary}; no secret found in full\n`)
      rmSync(dir, { recursive: true, force: true })
      return
    }
    const lines = findings.map((f) => `  ${maskSecret(f.secret)} in ${f.where}`)
    process.exitCode = 1
    throw new Error(`leak check: ${findings.length} secret(s) found in full (${summary}); recordings kept in ${dir}\n${lines.join('\n')}`)
  }
}

export async function checkForLeaks(dir: string): Promise<{ findings: Finding[]; summary: string }> {
  const secrets = checkableSecrets(readJsonLines(dir, 'secrets-'))
  const dataDirs = [...new Set(readJsonLines(dir, 'datadirs-'))]
  if (secrets.length === 0) return { findings: [], summary: 'no secrets registered' }
  const findings = scanDirectory(dir, secrets, (name) => name.endsWith('.log'))
  for (const dataDir of dataDirs) findings.push(...scanDirectory(dataDir, secrets))
  let databases = 'MariaDB scanned'
  try {
    findings.push(...(await scanMysql(MYSQL, SCANNED_DATABASES, secrets)))
  } catch (error) {
    databases = `MariaDB not scanned (${(error as Error).message})`
  }
  return { findings, summary: `${secrets.length} secrets, ${dataDirs.length} data dirs, ${databases}` }
}

function readJsonLines(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith(prefix))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as string)
}
