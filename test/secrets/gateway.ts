// Recording for a gateway the harness starts: its secrets and data dir, its log lines, every response it sends,
// and (MariaDB) its tables before the test drops the database.

import { Server, type IncomingMessage, type ServerResponse } from 'node:http'
import { formatWithOptions } from 'node:util'
import { LogLevels, type ConsolaInstance, type ConsolaReporter } from 'consola'
import mysql2 from 'mysql2/promise'
import type { ResolvedConfig } from '../../core/config/schema.ts'
import { record, recording, registerDataDir, registerSecrets } from './recorder.ts'
import { rowBytes } from './scan.ts'

/** Everything secret the gateway was configured with, and where it keeps its files. */
export function registerGateway(config: ResolvedConfig): void {
  const db = config.database
  registerSecrets([
    ...config.apiKeys,
    ...config.allowedTokens,
    ...config.clientTokens.map((entry) => entry.token),
    config.authToken,
    config.metricsToken,
    db.type === 'mysql' ? db.mysqlPassword : undefined,
  ])
  registerDataDir(config.dataDir)
}

/**
 * Records every log line at every level, while the logger's own reporters still print only what its level lets
 * through: a key in a debug line is a leak even when the tests run silent.
 */
export function recordLogs(logger: ConsolaInstance): ConsolaInstance {
  if (!recording()) return logger
  const level = logger.level
  const printers = [...logger.options.reporters]
  const recorder: ConsolaReporter = {
    log(entry, ctx) {
      record('logs', `${entry.type} [${entry.tag}] ${formatWithOptions({ depth: 10, colors: false }, ...entry.args)}`)
      if (entry.level <= level) for (const printer of printers) printer.log(entry, ctx)
    },
  }
  logger.setReporters([recorder])
  logger.level = LogLevels.verbose
  return logger
}

/**
 * Tees every response the server writes (status, headers, body bytes) into the recording. It sits on the node
 * response itself, so what is recorded is exactly what left the gateway, and nothing about sending changes:
 * same objects, same framing, streams still flow chunk by chunk.
 */
export function recordResponses(served: { node?: { server?: unknown } }): void {
  const server = served.node?.server
  if (!(server instanceof Server) || !recording()) return
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const pieces: Buffer[] = []
    const keep = (chunk: unknown, encoding: unknown) => {
      if (typeof chunk === 'string') pieces.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'))
      else if (chunk instanceof Uint8Array) pieces.push(Buffer.from(chunk))
    }
    const { write, end, writeHead } = res
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      pieces.push(Buffer.from(`${JSON.stringify(args)}\n`))
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
    } as ServerResponse['writeHead']
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      keep(chunk, rest[0])
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
    } as ServerResponse['write']
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      if (typeof chunk !== 'function') keep(chunk, rest[0])
      return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest)
    } as ServerResponse['end']
    // The path only: a query may hold the client's own token (?key=), which the gateway did not send.
    const path = (req.url ?? '').split('?', 1)[0]
    res.once('close', () => record('responses', Buffer.concat([Buffer.from(`== ${req.method} ${path} → ${res.statusCode}\n`), ...pieces])))
  })
}

const NEWLINE = Buffer.from('\n')

/**
 * A MariaDB gateway's tables as they are at its close (tests drop their databases afterwards). A server that refuses
 * the connection (an outage test's closed port) holds nothing to read.
 */
export async function recordDatabase(config: ResolvedConfig): Promise<void> {
  const db = config.database
  if (db.type !== 'mysql' || !recording()) return
  const connection = await mysql2
    .createConnection({
      host: db.mysqlHost,
      port: db.mysqlPort,
      user: db.mysqlUser,
      password: db.mysqlPassword,
      database: db.mysqlDatabase,
      ...(db.mysqlSocket ? { socketPath: db.mysqlSocket } : {}),
    })
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') return undefined
      throw error
    })
  if (!connection) return
  try {
    const [tables] = await connection.query<mysql2.RowDataPacket[]>('SHOW TABLES')
    for (const row of tables) {
      const table = String(Object.values(row)[0])
      const [rows] = await connection.query<mysql2.RowDataPacket[]>(`SELECT * FROM \`${table.replace(/`/g, '``')}\``)
      record('databases', Buffer.concat([Buffer.from(`== mysql ${db.mysqlDatabase}.${table}\n`), ...rows.flatMap((row) => [rowBytes(row), NEWLINE])]))
    }
  } finally {
    await connection.end()
  }
}
