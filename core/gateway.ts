import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ConsolaInstance } from 'consola'
import { H3 } from 'h3'
import type { Storage } from 'unstorage'
import { createLogWriter, createStateStorage, openDatabase, scheduleRetention, type DatabaseOptions, type GatewayDatabase, type LogWriter } from '../storage/index.ts'
import type { ResolvedConfig } from './config/schema.ts'
import { corsMiddleware } from './cors.ts'
import { dialectForPath } from './dialects/for-path.ts'
import { registerGeminiRoutes } from './dialects/gemini-routes.ts'
import { registerAnthropicRoutes } from './dialects/anthropic/index.ts'
import { registerOpenAIRoutes } from './dialects/openai/index.ts'
import { registerOpenAIPassthroughRoutes } from './dialects/openai-passthrough.ts'
import { registerResponsesRoutes } from './dialects/responses/index.ts'
import { createMediaFetcher } from './dialects/shared/media.ts'
import type { DialectRouteDeps } from './dialects/types.ts'
import { GatewayError } from './errors.ts'
import { createKeyChecker } from './keys/check.ts'
import { KeyPool } from './keys/pool.ts'
import { scheduleRecheck, type Recheck } from './keys/recheck.ts'
import { createKeyHealthStore } from './keys/store.ts'
import { createLogger } from './logger.ts'
import { checkPipelineOrder, composePipeline, DEFAULT_PIPELINE, type Stage, type StageName } from './pipeline.ts'
import type { GeminiModel, Plugin, PluginContext, UpstreamCall } from './plugin.ts'
import { createRunner, type RunRequest } from './run.ts'
import { ServiceRegistry } from './services.ts'
import { authStage, createAuthenticator } from './stages/auth.ts'
import { keySelectStage } from './stages/key-select.ts'
import { logStage } from './stages/log.ts'
import { modelFilterStage } from './stages/model-filter.ts'
import { streamOptimizerStage } from './stages/stream-optimizer.ts'
import { transformStage } from './stages/transform.ts'
import { upstreamStage } from './stages/upstream.ts'
import { createUpstreamClient } from './upstream/client.ts'
import { createGeminiCall } from './upstream/gemini.ts'
import { createProxyChooser } from './upstream/proxies.ts'

export interface GatewayOptions {
  logger?: ConsolaInstance
  /** Environment handed to plugins (defaults to process.env). */
  env?: Record<string, string | undefined>
}

export interface Gateway {
  app: H3
  config: ResolvedConfig
  pool: KeyPool
  services: ServiceRegistry
  database: GatewayDatabase
  logs: LogWriter
  state: Storage
  recheck: Recheck
  /** Runs a decoded request through the pipeline; dialect routes of plugins use it too. */
  run: RunRequest
  close(): Promise<void>
}

/** Builds the whole gateway from resolved config: storage, key pool, pipeline, routes, background jobs. */
export async function createGateway(config: ResolvedConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel)
  const order = (config.pipeline ?? DEFAULT_PIPELINE) as StageName[]
  checkPipelineOrder(order) // before anything is opened, so a bad order leaves nothing behind
  const database = await openDatabase(databaseOptions(config))
  const logs = createLogWriter(database, { logger: logger.withTag('logs') })
  const retention = scheduleRetention(database, {
    errorLogs: { enabled: config.autoDeleteErrorLogsEnabled, days: config.autoDeleteErrorLogsDays },
    requestLogs: { enabled: config.autoDeleteRequestLogsEnabled, days: config.autoDeleteRequestLogsDays },
  }, { logger: logger.withTag('retention') })

  const state = createStateStorage({ redisUrl: config.redisUrl })
  const healthStore = createKeyHealthStore(state, (error) => logger.warn('key state storage failed:', error))
  const pool = new KeyPool(config.apiKeys, { maxFailures: config.maxFailures, onChange: healthStore.save })
  await healthStore.load(pool)
  if (pool.keys.length === 0) logger.warn('API_KEYS is empty: every model request will answer 503 until keys are added.')

  const services = new ServiceRegistry()
  const pluginContext: PluginContext = { config, services, logger, env: options.env ?? process.env }
  const plugins = config.plugins as Plugin[]
  for (const plugin of plugins) await plugin.setup?.(pluginContext)

  const client = await createUpstreamClient({ timeoutMs: config.timeoutSeconds * 1000 })
  const geminiCall = createGeminiCall({
    client,
    baseUrl: config.baseUrl,
    customHeaders: config.customHeaders,
    chooseProxy: createProxyChooser(config.proxies, config.proxiesUseConsistencyHash),
  })
  const call = plugins.reduce<UpstreamCall>((inner, plugin) => plugin.wrapUpstream?.(inner) ?? inner, geminiCall)

  const stages: Record<StageName, Stage> = {
    auth: authStage(createAuthenticator(config.allowedTokens.includes(config.authToken) ? config.allowedTokens : [...config.allowedTokens, config.authToken])),
    'model-filter': modelFilterStage(config.filteredModels),
    transform: transformStage(plugins, { safetySettings: config.safetySettings, forceSafetySettings: config.forceSafetySettings }),
    log: logStage(logs, { recordRequestBody: config.errorLogRecordRequestBody }),
    'stream-optimizer': streamOptimizerStage(config.streamOptimizer),
    'key-select': keySelectStage({ pool, maxRetries: config.maxRetries }),
    upstream: upstreamStage(call),
  }
  const run = createRunner({ pipeline: composePipeline(order.map((name) => stages[name])), config, services, logger })

  const recheck = scheduleRecheck({
    pool,
    intervalHours: config.checkIntervalHours,
    concurrency: config.keyCheckConcurrency,
    check: createKeyChecker({ call: geminiCall, config, services, logs, logger }),
    onError: (error) => logger.warn('key re-check failed:', error),
  })

  const app = new H3({
    onError(error, event) {
      if (error.status >= 500 || !error.status) logger.error('unhandled error', error)
      return dialectForPath(event.url.pathname).error(new GatewayError(error.status >= 400 ? error.status : 500, error.status === 500 ? 'Internal gateway error' : error.message), event)
    },
  })
  app.use(corsMiddleware())
  app.get('/health', () => ({ status: 'healthy' }))
  const routeDeps: DialectRouteDeps = {
    run,
    config,
    pluginModels: plugins.some((plugin) => plugin.models)
      ? (upstream) => plugins.flatMap((plugin) => plugin.models?.(upstream, pluginContext) ?? ([] as GeminiModel[]))
      : undefined,
    maxBodyBytes: config.maxRequestBodyMb * 1024 * 1024,
    fetchMedia: createMediaFetcher({
      timeoutMs: config.mediaFetchTimeoutSeconds * 1000,
      maxBytes: config.mediaFetchMaxMb * 1024 * 1024,
      allowPrivate: config.mediaFetchAllowPrivate,
    }),
  }
  registerGeminiRoutes(app, routeDeps)
  registerOpenAIRoutes(app, routeDeps)
  registerOpenAIPassthroughRoutes(app, routeDeps)
  registerAnthropicRoutes(app, routeDeps)
  registerResponsesRoutes(app, routeDeps)
  for (const plugin of plugins) plugin.routes?.(app, pluginContext)
  app.all('/**', (event) => dialectForPath(event.url.pathname).error(new GatewayError(404, `No route for ${event.req.method} ${event.url.pathname}.`), event))

  return {
    app,
    config,
    pool,
    services,
    database,
    logs,
    state,
    recheck,
    run,
    async close() {
      recheck.stop()
      retention.stop()
      for (const plugin of [...plugins].reverse()) await plugin.dispose?.()
      await client.close()
      await healthStore.flush()
      // A stuck database must not hold shutdown hostage; what is still queued then is lost, and said so.
      const flushed = await Promise.race([logs.close().then(() => true), sleep(SHUTDOWN_FLUSH_MS, undefined, { ref: false }).then(() => false)])
      if (!flushed) logger.warn(`logs not flushed within ${SHUTDOWN_FLUSH_MS / 1000}s at shutdown: ${logs.stats().queued} row(s) dropped`)
      await state.dispose()
      await database.close()
    },
  }
}

const SHUTDOWN_FLUSH_MS = 10_000

function databaseOptions(config: ResolvedConfig): DatabaseOptions {
  const db = config.database
  if (db.type === 'mysql') {
    return { type: 'mysql', host: db.mysqlHost, port: db.mysqlPort, user: db.mysqlUser, password: db.mysqlPassword, database: db.mysqlDatabase, socket: db.mysqlSocket || undefined }
  }
  return { type: 'sqlite', path: db.sqliteDatabase === ':memory:' ? ':memory:' : join(config.dataDir, db.sqliteDatabase) }
}
