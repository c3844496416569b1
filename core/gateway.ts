import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ConsolaInstance } from 'consola'
import { H3 } from 'h3'
import type { Storage } from 'unstorage'
import {
  createLogWriter,
  createStateStorage,
  obtainDeploymentSecret,
  openDatabaseWhenReachable,
  scheduleRetention,
  type DatabaseOptions,
  type GatewayDatabase,
  type LogWriter,
} from '../storage/index.ts'
import { checkTokenStrength } from './config/tokens.ts'
import type { ResolvedConfig } from './config/schema.ts'
import { corsMiddleware } from './cors.ts'
import { createIdHasher, type IdOf } from './identity.ts'
import { dialectForPath } from './dialects/for-path.ts'
import { registerGeminiRoutes } from './dialects/gemini-routes.ts'
import { registerAnthropicRoutes } from './dialects/anthropic/index.ts'
import { registerOpenAIRoutes } from './dialects/openai/index.ts'
import { registerOpenAIPassthroughRoutes } from './dialects/openai-passthrough.ts'
import { registerResponsesRoutes } from './dialects/responses/index.ts'
import { createMediaFetcher } from './dialects/shared/media.ts'
import type { RouteCall } from './dialects/shared/route.ts'
import type { DialectRouteDeps } from './dialects/types.ts'
import type { GatewayRequest } from './context.ts'
import { GatewayError } from './errors.ts'
import { createKeyProbe } from './keys/check.ts'
import { createRefusalConfirmer, type ConfirmRefusal } from './keys/confirm.ts'
import { KeyPool } from './keys/pool.ts'
import { scheduleRecheck, type Recheck } from './keys/recheck.ts'
import { createKeyHealthStore } from './keys/store.ts'
import { createLogger } from './logger.ts'
import { checkPipelineOrder, composePipeline, DEFAULT_PIPELINE, placeStages, type Stage, type StageName } from './pipeline.ts'
import type { ModelVariant, Plugin, PluginContext, PluginRequest } from './plugin.ts'
import { startPlugins, type StartedPlugins } from './plugins/host.ts'
import { createKeySender } from './plugins/send.ts'
import { createPluginKeys } from './plugins/keys.ts'
import { createPluginRouter } from './plugins/router.ts'
import { variantModels } from './plugins/variants.ts'
import { createRunner, type Runner, type RunRequest } from './run.ts'
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
import { createOperationTable } from './upstream/operations.ts'
import type { UpstreamCall } from './upstream/types.ts'
import { createProxyChooser } from './upstream/proxies.ts'

export interface GatewayOptions {
  logger?: ConsolaInstance
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
  /** The id of a key or client token in this deployment (logs, key state): an HMAC under the deployment secret. */
  idOf: IdOf
  /** Runs a decoded request through the pipeline; dialect routes of plugins use it too. */
  run: RunRequest
  close(): Promise<void>
}

/** Builds the whole gateway from resolved config: storage, key pool, pipeline, routes, background jobs. */
export async function createGateway(config: ResolvedConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel)
  const order: readonly string[] = config.pipeline ?? DEFAULT_PIPELINE
  checkPipelineOrder(order) // before anything is opened, so a bad order leaves nothing behind
  for (const warning of checkTokenStrength(config).warnings) logger.warn(warning)
  // A database that is down at start does not stop the gateway: rows queue until it is back (then land at once).
  const database = await openDatabaseWhenReachable(databaseOptions(config), { logger: logger.withTag('database') })
  const idOf = createIdHasher((await obtainDeploymentSecret(database, { dataDir: config.dataDir, logger: logger.withTag('identity') })).secret)
  const logs = createLogWriter(database, { logger: logger.withTag('logs') })
  if (!database.isReady()) void database.ready.then(() => logs.flush())
  const retention = scheduleRetention(
    database,
    {
      errorLogs: { enabled: config.autoDeleteErrorLogsEnabled, days: config.autoDeleteErrorLogsDays },
      requestLogs: { enabled: config.autoDeleteRequestLogsEnabled, days: config.autoDeleteRequestLogsDays },
    },
    { logger: logger.withTag('retention') },
  )

  const state = createStateStorage({ redisUrl: config.redisUrl, logger: logger.withTag('state'), onReconnect: () => void healthStore.flush() })
  const healthStore = createKeyHealthStore(state, {
    onError: (error) => logger.warn('key state storage failing, kept in memory meanwhile:', error instanceof Error ? error.message : error),
    onRecover: () => logger.info('key state storage works again'),
  })
  const pool = new KeyPool(config.apiKeys, { maxFailures: config.maxFailures, onChange: healthStore.save, idOf })
  await healthStore.load(pool)
  if (pool.keys.length === 0) logger.warn('API_KEYS is empty: every model request will answer 503 until keys are added.')

  const services = new ServiceRegistry()
  const authenticate = createAuthenticator(
    config.allowedTokens.includes(config.authToken) ? config.allowedTokens : [...config.allowedTokens, config.authToken],
    idOf,
  )
  const guards = { authenticate, filteredModels: new Set(config.filteredModels), maxBodyBytes: config.maxRequestBodyMb * 1024 * 1024 }
  // Plugin routes run requests through the pipeline, which is built from the plugins: bound once it exists.
  let runner: Runner | undefined
  let send: PluginContext['send'] | undefined
  // The same: the fixed request that settles doubtful refusals goes through the plugins' operations.
  let confirm: ConfirmRefusal | undefined
  const chooseProxy = createProxyChooser(config.proxies, config.proxiesUseConsistencyHash)
  // Pools plugins made (a paid key, Vertex keys): re-checked with the gateway's own.
  const pluginPools: KeyPool[] = []
  const plugins = await startPlugins(config.plugins as Plugin[], {
    logger,
    services,
    state,
    database,
    settings: {
      baseUrl: config.baseUrl,
      testModel: config.testModel,
      maxRetries: config.maxRetries,
      timeoutSeconds: config.timeoutSeconds,
      dataDir: config.dataDir,
    },
    run: (call, request) => runner!.outcome(call.event.req.signal, pluginRequest(call, request)),
    answer: (call, request, dialect) => runner!.respond(call.event, pluginRequest(call, request), dialect),
    createKeyPool: (secrets, options) => {
      const own = new KeyPool(secrets, { maxFailures: config.maxFailures, onChange: healthStore.save, idOf, baseUrl: options?.baseUrl })
      void healthStore.load(own)
      pluginPools.push(own)
      return own
    },
    // Bound once the upstream client exists, like `run`.
    send: (keyId, request) => send!(keyId, request),
    keys: createPluginKeys({ pool, confirm: (...args) => confirm!(...args), customHeaders: config.customHeaders, chooseProxy }),
    logs,
  }).catch(async (error) => {
    await Promise.allSettled([state.dispose(), logs.close(), database.close()])
    retention.stop()
    throw error
  })
  const hooks = plugins.hooks

  const client = await createUpstreamClient({ timeoutMs: config.timeoutSeconds * 1000 })
  const operations = createOperationTable(hooks.flatMap((plugin) => (plugin.operations ? [plugin.operations] : [])))
  const geminiCall = createGeminiCall({
    client,
    baseUrl: config.baseUrl,
    customHeaders: config.customHeaders,
    chooseProxy,
    operations,
  })
  send = createKeySender({ client, pools: () => [pool, ...pluginPools], baseUrl: config.baseUrl, customHeaders: config.customHeaders, chooseProxy })
  // The first plugin listed is the outermost wrapper.
  const call = hooks.reduceRight<UpstreamCall>((inner, plugin) => plugin.wrapUpstream?.(inner) ?? inner, geminiCall)

  const probe = createKeyProbe({ call: geminiCall, services, logs, logger })
  confirm = createRefusalConfirmer({ probe, testModel: config.testModel })
  const stages: Record<StageName, Stage> = {
    auth: authStage(authenticate),
    'model-filter': modelFilterStage(config.filteredModels, plugins.variants),
    transform: transformStage(hooks, { safetySettings: config.safetySettings, forceSafetySettings: config.forceSafetySettings }),
    log: logStage(logs, { recordRequestBody: config.errorLogRecordRequestBody }),
    'stream-optimizer': streamOptimizerStage(config.streamOptimizer),
    'key-select': keySelectStage({ pool, maxRetries: config.maxRetries, confirm, operations }),
    upstream: upstreamStage(call),
  }
  const placed = hooks.flatMap((plugin) => (plugin.stages ?? []).map((stage) => ({ ...stage, name: plugin.name })))
  runner = createRunner({
    pipeline: composePipeline(
      placeStages(
        order.map((name) => stages[name]),
        placed,
      ),
    ),
    services,
    logger,
  })
  const run = runner.respond

  const recheck = scheduleRecheck({
    pools: () => [pool, ...pluginPools],
    intervalHours: config.checkIntervalHours,
    concurrency: config.keyCheckConcurrency,
    check: (key, owner) => probe(key, { operation: 'generateContent', model: config.testModel, baseUrl: owner.baseUrl }),
    onError: (error) => logger.warn('key re-check failed:', error),
  })

  // Cooldowns that ran out leave memory and shared storage even for models nobody asks for any more.
  const sweeper = setInterval(() => pool.sweep(), POOL_SWEEP_MS)
  sweeper.unref()

  const rewriters = hooks.filter((plugin) => plugin.rewriteUrl)
  const app = new H3({
    // h3 picks the route right after onRequest (app.use middleware runs once it has, too late to change it).
    onRequest:
      rewriters.length === 0
        ? undefined
        : (event) => {
            for (const plugin of rewriters) event.url = plugin.rewriteUrl!(event.url, event.req.method) ?? event.url
          },
    onError(error, event) {
      if (error.status >= 500 || !error.status) logger.error('unhandled error', error)
      return dialectForPath(event.url.pathname).error(
        new GatewayError(error.status >= 400 ? error.status : 500, error.status === 500 ? 'Internal gateway error' : error.message),
        event,
      )
    },
  })
  app.use(corsMiddleware())
  app.get('/health', () => ({ status: 'healthy' }))
  const routeDeps: DialectRouteDeps = {
    run,
    config,
    pluginModels: pluginModels(hooks, plugins.variants),
    guards,
    operations,
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
  const router = createPluginRouter(app, guards)
  for (const plugin of hooks) plugin.routes?.(router)
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
    idOf,
    run,
    async close() {
      recheck.stop()
      clearInterval(sweeper)
      retention.stop()
      await plugins.dispose()
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

/** The models plugins add to a page of the upstream list: variants of its models, then each plugin's own. */
function pluginModels(hooks: StartedPlugins['hooks'], variants: readonly ModelVariant[]): DialectRouteDeps['pluginModels'] {
  const adders = hooks.filter((plugin) => plugin.models)
  if (adders.length === 0 && variants.length === 0) return undefined
  return (upstream) => [...variantModels(upstream, variants), ...adders.flatMap((plugin) => plugin.models!(upstream))]
}

/** A plugin's request as the pipeline takes it: the caller's credentials (auth runs again inside), the model as given. */
function pluginRequest(call: RouteCall, request: PluginRequest): GatewayRequest {
  return { ...request, upstreamModel: request.upstreamModel ?? request.model, dialect: request.dialect ?? 'plugin', credentials: call.credentials }
}

const SHUTDOWN_FLUSH_MS = 10_000
const POOL_SWEEP_MS = 60_000

function databaseOptions(config: ResolvedConfig): DatabaseOptions {
  const db = config.database
  if (db.type === 'mysql') {
    return {
      type: 'mysql',
      host: db.mysqlHost,
      port: db.mysqlPort,
      user: db.mysqlUser,
      password: db.mysqlPassword,
      database: db.mysqlDatabase,
      socket: db.mysqlSocket || undefined,
    }
  }
  return { type: 'sqlite', path: db.sqliteDatabase === ':memory:' ? ':memory:' : join(config.dataDir, db.sqliteDatabase) }
}
