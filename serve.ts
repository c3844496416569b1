/** `npm start`: load the config, build the gateway, serve it until SIGTERM/SIGINT. */
import { setTimeout as sleep } from 'node:timers/promises'
import { serve } from 'h3'
import { ConfigError, loadGatewayConfig } from './core/config/load.ts'
import { createGateway } from './core/gateway.ts'
import { createLogger } from './core/logger.ts'

async function main(): Promise<void> {
  let loaded
  try {
    loaded = await loadGatewayConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`gemgate: ${error.message}\nSee README.md, section "Configuration".`)
    process.exit(1)
  }
  const { config } = loaded
  const logger = createLogger(config.logLevel)
  const gateway = await createGateway(config, { logger })
  const server = serve(gateway.app, {
    port: config.port,
    hostname: config.host,
    silent: true,
    gracefulShutdown: false,
    maxRequestBodySize: config.maxRequestBodyMb * 1024 * 1024,
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
    if (!drained) await server.close(true)
    await gateway.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

const GRACE_MS = 15_000

main().catch((error) => {
  console.error('gemgate failed to start:', error)
  process.exit(1)
})
