// One generation of the gateway: everything built from the effective config (key pools, client tokens, plugins,
// pipeline, routes, jobs). Settings saved in the console build the next generation and swap it in; what lives as
// long as the process (database, log queue, shared state, scheduler) is the gateway's (core/gateway.ts).
import type { ConsolaInstance } from 'consola'
import type { H3 } from 'h3'
import type { Storage } from 'unstorage'
import type { GatewayDatabase, LogWriter, StoredKey, StoredToken } from '../storage/index.ts'
import { createGatewayApp, pluginModels, type Readiness } from './app.ts'
import type { ResolvedConfig } from './config/schema.ts'
import type { GatewayControl } from './control.ts'
import type { GatewayRequest } from './context.ts'
import { createMediaFetcher } from './dialects/shared/media.ts'
import type { RouteCall, RouteGuards } from './dialects/shared/route.ts'
import { newRequestId, type IdOf } from './identity.ts'
import { createKeyProbe, type KeyProbe } from './keys/check.ts'
import { createRefusalConfirmer, type ConfirmRefusal } from './keys/confirm.ts'
import type { KeyEvent } from './keys/events.ts'
import { createKeyCaps, hasCaps } from './keys/caps.ts'
import { KeyPool } from './keys/pool.ts'
import { createRecheck, type Recheck } from './keys/recheck.ts'
import type { KeyHealthStore } from './keys/store.ts'
import type { Metrics } from './metrics.ts'
import type { SharedState } from './shared/index.ts'
import { checkPipelineOrder, composePipeline, DEFAULT_PIPELINE, placeStages, type Stage, type StageName } from './pipeline.ts'
import type { Plugin, PluginContext, PluginRequest } from './plugin.ts'
import { gatewayJobs } from './jobs.ts'
import { startPlugins } from './plugins/host.ts'
import { createKeySender } from './plugins/send.ts'
import { createPluginKeys } from './plugins/keys.ts'
import { createRunner, type Runner, type RunRequest } from './run.ts'
import type { JobDefinition } from './scheduler.ts'
import { ServiceRegistry } from './services.ts'
import { authStage, createAuthenticator } from './stages/auth.ts'
import { createHedging } from './stages/hedge.ts'
import { keySelectStage } from './stages/key-select.ts'
import { attemptBeforeUpstream, logAttempt, logStage } from './stages/log.ts'
import { modelFilterStage } from './stages/model-filter.ts'
import { streamOptimizerStage } from './stages/stream-optimizer.ts'
import { transformStage } from './stages/transform.ts'
import { upstreamStage } from './stages/upstream.ts'
import { createUpstreamClient } from './upstream/client.ts'
import { createGeminiCall } from './upstream/gemini.ts'
import { createOperationTable } from './upstream/operations.ts'
import type { UpstreamCall } from './upstream/types.ts'
import { createProxyChooser } from './upstream/proxies.ts'

/** What a generation is built from besides its config: the process's storage and services. */
export interface GenerationDeps {
  logger: ConsolaInstance
  database: GatewayDatabase
  logs: LogWriter
  state: Storage
  idOf: IdOf
  healthStore: KeyHealthStore
  /** Keys the operator added in the console, by pool ('gemini' for the gateway's own). */
  storedKeys: readonly StoredKey[]
  /** Client tokens created in the console. */
  storedTokens: readonly StoredToken[]
  control: GatewayControl
  /** GET /metrics is served while METRICS_TOKEN is set. */
  metrics: Metrics
  onKeyEvent: (pool: string, event: Omit<KeyEvent, 'id' | 'at' | 'pool'>) => void
  /** What GET /ready answers: 503 once the gateway is closing, so load balancers stop sending to it. */
  readiness: () => Readiness
  /** Counters, messages and leases shared with other instances: what key caps (and client limits) count with. */
  shared: SharedState
}

/** A key pool with its name in the console ('gemini', or the plugin's that made it) and the ids the config gave it. */
export interface NamedPool {
  name: string
  pool: KeyPool
  /** Ids of keys from API_KEYS, gateway.config.ts or a plugin's options (the rest were added in the console). */
  configured: ReadonlySet<string>
}

export interface Generation {
  readonly config: ResolvedConfig
  readonly app: H3
  /** The gateway's own pool, then every pool a plugin made. */
  readonly pools: readonly NamedPool[]
  readonly services: ServiceRegistry
  readonly run: RunRequest
  readonly probe: KeyProbe
  readonly recheck: Recheck
  readonly jobs: readonly JobDefinition[]
  /** Names of the plugins running, in order. */
  readonly plugins: readonly string[]
  dispose(): Promise<void>
}

export const GATEWAY_POOL = 'gemini'

export async function buildGeneration(config: ResolvedConfig, deps: GenerationDeps): Promise<Generation> {
  const { logger, database, logs, state, idOf, healthStore } = deps
  const order: readonly string[] = config.pipeline ?? DEFAULT_PIPELINE
  checkPipelineOrder(order)
  // Health written by the generation before this one must be in the store before these pools read it back.
  await healthStore.flush()
  const storedSecrets = (pool: string) => deps.storedKeys.filter((key) => key.pool === pool).map((key) => key.secret)
  // Caps are the gateway's own pool's (a plugin's paid or Vertex keys have other quotas); none set, nothing built.
  const caps = hasCaps(config.keyCaps) ? createKeyCaps(config.keyCaps, { counters: deps.shared.counters, pool: GATEWAY_POOL }) : undefined
  const makePool = (name: string, configured: readonly string[], baseUrl?: string): NamedPool => {
    const pool = new KeyPool([...configured, ...storedSecrets(name)], {
      maxFailures: config.maxFailures,
      onChange: healthStore.save,
      onEvent: (event) => deps.onKeyEvent(name, event),
      idOf,
      baseUrl,
      strategy: { name: config.keyStrategy, weights: config.keyWeights, pool: name },
      caps: name === GATEWAY_POOL ? caps : undefined,
    })
    return { name, pool, configured: new Set(configured.map(idOf)) }
  }
  const own = makePool(GATEWAY_POOL, config.apiKeys)
  const pool = own.pool
  await healthStore.load(pool)
  const pools: NamedPool[] = [own]

  const services = new ServiceRegistry()
  const authenticate = createAuthenticator(config.allowedTokens, idOf, deps.storedTokens, { clientTokens: config.clientTokens, counters: deps.shared.counters })
  const guards: RouteGuards = {
    authenticate,
    filteredModels: new Set(config.filteredModels),
    maxBodyBytes: config.maxRequestBodyMb * 1024 * 1024,
    logRefusal: (_event, { dialect, error, client, model }) =>
      logAttempt(
        logs,
        { requestId: newRequestId(), tokenId: client?.tokenId ?? '', dialect, operation: 'refused', model: model ?? '' },
        attemptBeforeUpstream(error, 0),
      ),
  }
  // Plugin routes run requests through the pipeline, which is built from the plugins: bound once it exists.
  let runner: Runner | undefined
  let send: PluginContext['send'] | undefined
  // The same: the fixed request that settles doubtful refusals goes through the plugins' operations.
  let confirm: ConfirmRefusal | undefined
  const chooseProxy = createProxyChooser(config.proxies, config.proxiesUseConsistencyHash)
  const loading: Promise<number>[] = []
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
      host: config.host,
      port: config.port,
    },
    run: (call, request) => runner!.outcome(call.event, pluginRequest(call, request)),
    answer: (call, request, dialect) => runner!.respond(call.event, pluginRequest(call, request), dialect),
    // Pools plugins make (a paid key, Vertex keys) hold the keys added to them in the console too, and are re-checked
    // with the gateway's own.
    createKeyPool: (secrets, options, owner) => {
      const made = makePool(owner, secrets, options?.baseUrl)
      loading.push(healthStore.load(made.pool))
      pools.push(made)
      return made.pool
    },
    // Bound once the upstream client exists, like `run`.
    send: (keyId, request) => send!(keyId, request),
    keys: createPluginKeys({ pool, confirm: (...args) => confirm!(...args), customHeaders: config.customHeaders, chooseProxy }),
    logs,
    control: deps.control,
  })
  await Promise.all(loading)
  const hooks = plugins.hooks

  const client = await createUpstreamClient({ timeoutMs: config.timeoutSeconds * 1000 })
  const operations = createOperationTable(hooks.flatMap((plugin) => (plugin.operations ? [plugin.operations] : [])))
  const geminiCall = createGeminiCall({ client, baseUrl: config.baseUrl, customHeaders: config.customHeaders, chooseProxy, operations })
  const allPools = () => pools.map((named) => named.pool)
  send = createKeySender({ client, pools: allPools, baseUrl: config.baseUrl, customHeaders: config.customHeaders, chooseProxy })
  // The first plugin listed is the outermost wrapper.
  const call = hooks.reduceRight<UpstreamCall>((inner, plugin) => plugin.wrapUpstream?.(inner) ?? inner, geminiCall)

  const probe = createKeyProbe({ call: geminiCall, services, logs, logger })
  confirm = createRefusalConfirmer({ probe, testModel: config.testModel })
  const stages: Record<StageName, Stage> = {
    auth: authStage(authenticate, logs),
    'model-filter': modelFilterStage(config.filteredModels, plugins.variants),
    transform: transformStage(hooks, { safetySettings: config.safetySettings, forceSafetySettings: config.forceSafetySettings }),
    log: logStage(logs, { recordRequestBody: config.errorLogRecordRequestBody }),
    'stream-optimizer': streamOptimizerStage(config.streamOptimizer),
    'key-select': keySelectStage({
      pool,
      maxRetries: config.maxRetries,
      confirm,
      operations,
      waitMs: config.keyWaitSeconds * 1000,
      hedging: config.hedgeMode === 'off' ? undefined : createHedging({ mode: config.hedgeMode, afterMs: config.hedgeAfterMs }),
    }),
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

  const recheck = createRecheck({
    pools: allPools,
    concurrency: config.keyCheckConcurrency,
    check: (key, owner) => probe(key, { operation: 'generateContent', model: config.testModel, baseUrl: owner.baseUrl }),
    onError: (error) => logger.warn('key re-check failed:', error),
  })

  const app = createGatewayApp({
    hooks,
    logger,
    metrics: config.metricsToken ? await deps.metrics.handler(config.metricsToken) : undefined,
    readiness: deps.readiness,
    routeDeps: {
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
    },
  })

  return {
    config,
    app,
    pools,
    services,
    run,
    probe,
    recheck,
    jobs: [...gatewayJobs(config, { recheck, pools: allPools, database }), ...hooks.flatMap((plugin) => plugin.jobs ?? [])].map((job) => ({
      ...job,
      schedule: Object.hasOwn(config.jobSchedules, job.name) ? config.jobSchedules[job.name] : job.schedule,
    })),
    plugins: hooks.map((plugin) => plugin.name),
    async dispose() {
      await plugins.dispose()
      await client.close()
    },
  }
}

/** A plugin's request as the pipeline takes it: the caller's credentials (auth runs again inside), the model as given. */
function pluginRequest(call: RouteCall, request: PluginRequest): GatewayRequest {
  return { ...request, upstreamModel: request.upstreamModel ?? request.model, dialect: request.dialect ?? 'plugin', credentials: call.credentials }
}
