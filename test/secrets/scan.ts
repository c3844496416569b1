// Searching recorded material, files and databases for secrets in full.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import mysql2 from 'mysql2/promise'

export interface Finding {
  secret: string
  /** File and line (with the recording's "== ..." header above it), or database, table and row. */
  where: string
}

/**
 * Shorter "secrets" ('k1', 'sk') cannot be told apart from ordinary text; tests that want their secrets checked use
 * real-length ones, as the harness does.
 */
export const MIN_SECRET_LENGTH = 8

export function checkableSecrets(secrets: Iterable<string>): string[] {
  return [...new Set(secrets)].filter((secret) => secret.length >= MIN_SECRET_LENGTH)
}

/** Every occurrence of every secret in `bytes` (byte-exact; secrets are matched as UTF-8), with its file line. */
export function findInBytes(bytes: Buffer, secrets: readonly string[], where: string): Finding[] {
  return occurrences(bytes, secrets).map(({ secret, at }) => ({ secret, where: `${where}${locate(bytes, at)}` }))
}

function occurrences(bytes: Buffer, secrets: readonly string[]): { secret: string; at: number }[] {
  const found: { secret: string; at: number }[] = []
  for (const secret of secrets) {
    const needle = Buffer.from(secret)
    for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + needle.length)) found.push({ secret, at })
  }
  return found
}

/** ":<line>", plus the nearest record header above it ("== POST /v1/... → 400") when there is one. */
function locate(bytes: Buffer, at: number): string {
  let line = 1
  for (let i = bytes.indexOf(10); i !== -1 && i < at; i = bytes.indexOf(10, i + 1)) line++
  const header = bytes.lastIndexOf('\n== ', at)
  if (header === -1) return `:${line}`
  const end = bytes.indexOf(10, header + 1)
  return `:${line} (under "${bytes.subarray(header + 1, end === -1 ? undefined : Math.min(end, header + 200)).toString()}")`
}

/** Every file below `dir` (raw bytes), and every SQLite database among them (row by row, so no page split hides one). */
export function scanDirectory(dir: string, secrets: readonly string[], accept: (name: string) => boolean = () => true): Finding[] {
  const findings: Finding[] = []
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return findings // a data dir a test already removed
  }
  for (const name of entries) {
    const path = join(dir, name)
    const stat = statSync(path, { throwIfNoEntry: false })
    if (stat?.isDirectory()) findings.push(...scanDirectory(path, secrets, accept))
    else if (stat?.isFile() && accept(name)) {
      const bytes = readFileSync(path)
      findings.push(...findInBytes(bytes, secrets, path))
      if (bytes.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') findings.push(...scanSqlite(path, secrets))
    }
  }
  return findings
}

export function scanSqlite(path: string, secrets: readonly string[]): Finding[] {
  const findings: Finding[] = []
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]
    for (const table of tables) {
      const rows = db.prepare(`SELECT * FROM "${table.replace(/"/g, '""')}"`).all() as Record<string, unknown>[]
      findings.push(...findInRows(rows, secrets, `${path} table ${table}`))
    }
  } finally {
    db.close()
  }
  return findings
}

export interface MysqlServer {
  host: string
  port: number
  user: string
  password: string
}

/** Every table of every database in `databases` that exists on the server. */
export async function scanMysql(server: MysqlServer, databases: (name: string) => boolean, secrets: readonly string[]): Promise<Finding[]> {
  const findings: Finding[] = []
  const connection = await mysql2.createConnection({ ...server, connectTimeout: 3000 })
  try {
    const [tables] = await connection.query<mysql2.RowDataPacket[]>(
      "SELECT table_schema AS db, table_name AS name FROM information_schema.tables WHERE table_type = 'BASE TABLE'",
    )
    for (const { db, name } of tables as { db: string; name: string }[]) {
      if (!databases(db)) continue
      const [rows] = await connection.query<mysql2.RowDataPacket[]>(`SELECT * FROM \`${db.replace(/`/g, '``')}\`.\`${name.replace(/`/g, '``')}\``)
      findings.push(...findInRows(rows, secrets, `mysql ${db}.${name}`))
    }
  } finally {
    await connection.end()
  }
  return findings
}

/** One row's cells as stored (text as is, blobs as bytes), tab-separated. */
export function rowBytes(row: Record<string, unknown>): Buffer {
  return Buffer.concat(Object.values(row).flatMap((cell) => [Buffer.isBuffer(cell) ? cell : Buffer.from(String(cell)), TAB]))
}

const TAB = Buffer.from('\t')

export function findInRows(rows: readonly Record<string, unknown>[], secrets: readonly string[], where: string): Finding[] {
  return rows.flatMap((row, index) => occurrences(rowBytes(row), secrets).map(({ secret }) => ({ secret, where: `${where} row ${index + 1}` })))
}
