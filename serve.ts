/** `npm start`: load the config, build the gateway, serve it until SIGTERM/SIGINT. */
import { readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { plugin as websockets } from 'crossws/server'
import { serve } from 'srvx'
import { ConfigError, loadGatewayConfig } from './core/config/load.ts'
import { createGateway } from './core/gateway.ts'
import { createLogger } from './core/logger.ts'

async function main(): Promise<void> {
  const built = builtConfig()
  let loaded
  try {
    loaded = await loadGatewayConfig({ configFile: built.file })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`gemgate: ${error.message}\nSee README.md, section "Configuration".`)
    process.exit(1)
  }
  const { config } = loaded
  const logger = createLogger(config.logLevel, config.logFormat)
  if (built.changed) logger.warn('gateway.config.ts changed since dist/ was built: compiled in memory this time (`npm start` rebuilds first)')
  const gateway = await createGateway(config, { logger, layers: loaded.layers })
  const server = serve({
    fetch: gateway.fetch,
    port: config.port,
    hostname: config.host,
    silent: true,
    gracefulShutdown: false,
    // No server-wide body cap: every route caps its own (MAX_REQUEST_BODY_MB for API calls, FILES_MAX_UPLOAD_MB for
    // the resumable upload's bytes), before it reads a byte.
    // WebSocket routes of the app (defineWebSocketHandler) are upgraded here, on Node and on Bun alike.
    plugins: [websockets({})],
    // Connections a busy event loop has not accepted yet wait in the kernel: Node's default of 511 resets the rest
    // when thousands of clients connect at once (the 2,048-stream burst); the kernel caps this at somaxconn.
    node: { backlog: 4096 },
  })
  await server.ready()
  logger.ready(`gemgate listening on ${server.url} with ${gateway.pool.keys.length} key(s)${loaded.configFile ? `, config ${loaded.configFile}` : ''}`)

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    // Stop accepting, let answers in flight finish for a while, then cut what is left and flush the logs.
    logger.info(`${signal}: closing (waiting up to ${GRACE_MS / 1000}s for answers in flight)`)
    // Keep-alive connections that go idle once their answer is done are closed as they go idle, not after the
    // keep-alive timeout.
    const httpServer = server.node?.server
    const idleSweep = setInterval(() => httpServer && 'closeIdleConnections' in httpServer && httpServer.closeIdleConnections(), 100)
    const drained = await Promise.race([server.close().then(() => true), sleep(GRACE_MS, undefined, { ref: false }).then(() => false)])
    clearInterval(idleSweep)
    // Cut what is left; open WebSockets (Live sessions) end when the gateway closes its plugins, so not awaited first.
    const closed = drained ? undefined : server.close(true)
    await gateway.close()
    await closed
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

const GRACE_MS = 15_000

/**
 * Started built (dist/serve.js, what `npm start` runs), the config is the one compiled with it: dist/gateway.config.js
 * imports the built core and plugins natively, and no TypeScript compiler is loaded. gateway.config.ts itself (jiti
 * compiles it) when this build is not of it: started from another directory, or the file changed since the build.
 */
function builtConfig(): { file?: string; changed?: boolean } {
  const dist = dirname(fileURLToPath(import.meta.url))
  if (!import.meta.url.endsWith('.js') || resolve(dist, '..') !== process.cwd()) return {}
  let mtime
  try {
    mtime = statSync('gateway.config.ts').mtimeMs
  } catch {
    return {}
  }
  const { inputs } = JSON.parse(readFileSync(join(dist, 'build.json'), 'utf8')) as { inputs: Record<string, number> }
  return inputs['gateway.config.ts'] === mtime ? { file: join(dist, 'gateway.config.js') } : { changed: true }
}

main().catch((error) => {
  console.error('gemgate failed to start:', error)
  process.exit(1)
})
