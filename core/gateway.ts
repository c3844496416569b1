import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ConsolaInstance } from 'consola'
import type { H3 } from 'h3'
import type { Storage } from 'unstorage'
import {
  createKeyStore,
  createLogQueries,
  createLogWriter,
  createSettingsStore,
  createStatsQueries,
  createTokenStore,
  obtainDeploymentSecret,
  openDatabaseWhenReachable,
  type DatabaseOptions,
  type GatewayDatabase,
  type LogWriter,
  type StoredKey,
  type StoredToken,
} from '../storage/index.ts'
import { ConfigError, resolveConfig, type ConfigLayers, type ConfigSource, type SavedSettings } from './config/load.ts'
import type { ResolvedConfig } from './config/schema.ts'
import { checkTokenStrength } from './config/tokens.ts'
import type { GatewayControl } from './control.ts'
import { createAdminToken } from './control/admin-token.ts'
import { createKeyControl } from './control/keys.ts'
import { createSettingsControl } from './control/settings.ts'
import { createTokenControl } from './control/tokens.ts'
import { buildGeneration, type Generation } from './generation.ts'
import { createIdHasher, type IdOf } from './identity.ts'
import { createKeyEventLog } from './keys/events.ts'
import type { KeyPool } from './keys/pool.ts'
import type { Recheck } from './keys/recheck.ts'
import { createKeyHealthStore } from './keys/store.ts'
import { createLogger, setLogLevel } from './logger.ts'
import { createMetrics, databaseHealth } from './metrics.ts'
import type { RunRequest } from './run.ts'
import { createScheduler } from './scheduler.ts'
import { createSharedState, watchSettings, type SharedState } from './shared/index.ts'
import type { ServiceRegistry } from './services.ts'
import { createProxyCheck } from './upstream/proxy-check.ts'

export interface GatewayOptions {
  logger?: ConsolaInstance
  /**
   * What the config was loaded from (loadGatewayConfig's `layers`): settings saved in the console are merged into
   * them. Without it, the config given is taken as if it were gateway.config.ts.
   */
  layers?: ConfigLayers
}

export interface Gateway {
  /** Serves requests with whatever generation is current: what a server is given (`serve({ fetch: gateway.fetch })`). */
  fetch(request: Request): Response | Promise<Response>
  /** The current generation's app (a reload replaces it; serve `fetch`, not this). */
  readonly app: H3
  readonly config: ResolvedConfig
  /** The gateway's own key pool (API_KEYS and keys added in the console). */
  readonly pool: KeyPool
  readonly services: ServiceRegistry
  readonly recheck: Recheck
  /** Runs a decoded request through the current pipeline; dialect routes of plugins use it too. */
  readonly run: RunRequest
  database: GatewayDatabase
  logs: LogWriter
  state: Storage
  /** Counters, messages and leases shared with the other instances (local without REDIS_URL). */
  shared: SharedState
  /** The id of a key or client token in this deployment (logs, key state): an HMAC under the deployment secret. */
  idOf: IdOf
  /** The operator's capabilities (what the console uses); plugins get the same as `ctx.control`. */
  control: GatewayControl
  /** Builds a generation from the config and the saved settings as they are now, and swaps it in. */
  reload(): Promise<void>
  close(): Promise<void>
}

/**
 * Builds the whole gateway: what lives as long as the process (database, log queue, shared state, scheduler, the
 * operator's controls), and the first generation from the config and the settings saved in the console.
 */
export async function createGateway(initial: ResolvedConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(initial.logLevel, initial.logFormat)
  const layers: ConfigLayers = options.layers ?? { file: { ...initial }, env: { values: {}, sources: new Map() }, rawEnv: {}, overrides: {} }
  for (const warning of checkTokenStrength(initial).warnings) logger.warn(warning)
  // A database that is down at start does not stop the gateway: rows queue until it is back (then land at once),
  // and the console's keys, tokens and settings apply then.
  const database = await openDatabaseWhenReachable(databaseOptions(initial), { logger: logger.withTag('database') })
  const idOf = createIdHasher((await obtainDeploymentSecret(database, { dataDir: initial.dataDir, logger: logger.withTag('identity') })).secret)
  const logs = createLogWriter(database, { logger: logger.withTag('logs') })
  // What instances on one Redis share (REDIS_URL): key health, counters, messages, leases, console sessions.
  const shared = await createSharedState({ redisUrl: initial.redisUrl, prefix: initial.redisPrefix, logger: logger.withTag('shared') })
  const state = shared.storage
  let storeWarned = false
  const healthStore = createKeyHealthStore({
    storage: state,
    bus: shared.bus,
    // A Redis outage is said once, by the shared state; a failure of the store alone is said here.
    onError: (error) => {
      if (shared.status() === 'degraded') return
      storeWarned = true
      logger.warn('key state storage failing, kept in memory meanwhile:', error instanceof Error ? error.message : error)
    },
    onRecover: () => {
      if (storeWarned) logger.info('key state storage works again')
      storeWarned = false
    },
  })
  // What this instance changed during an outage reaches the others; what they changed reaches this one.
  shared.onRecover(() => void healthStore.flush().then(healthStore.refresh))
  const settingsStore = createSettingsStore(database)
  const keyStore = createKeyStore(database)
  const tokenStore = createTokenStore(database)
  const events = createKeyEventLog({ logger: logger.withTag('keys') })
  const scheduler = createScheduler({ timezone: initial.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, logger: logger.withTag('jobs'), shared })

  let current: Generation
  const metrics = createMetrics({
    enabled: () => current.config.metricsToken !== undefined,
    keys: () => control.keys.list(),
    logs: () => logs.stats(),
    database: databaseHealth(database),
    redis: initial.redisUrl ? () => shared.status() === 'shared' : undefined,
  })
  /** Set when closing begins: /ready answers 503 so that load balancers stop sending. */
  let stopping = false
  let saved: SavedSettings = {}
  let sources: Record<string, ConfigSource> = {}
  let stored: { keys: readonly StoredKey[]; tokens: readonly StoredToken[] } = { keys: [], tokens: [] }
  const retiring = new Set<Generation>()

  const build = (config: ResolvedConfig) =>
    buildGeneration(config, {
      logger,
      database,
      logs,
      state,
      idOf,
      healthStore,
      storedKeys: stored.keys,
      storedTokens: stored.tokens,
      control,
      metrics,
      onKeyEvent: (pool, event) => events.record({ ...event, pool }),
      readiness: () => ({ ready: !stopping, database: database.isReady() ? 'up' : 'down', redis: shared.status() }),
      shared,
    })

  /** Swaps in a built generation; the one it replaces finishes what it is serving, then is disposed. */
  const swapIn = (next: Generation, nextSources: Record<string, ConfigSource>) => {
    const previous = current
    current = next
    sources = nextSources
    setLogLevel(logger, next.config.logLevel)
    scheduler.setJobs(next.jobs)
    retiring.add(previous)
    setTimeout(() => void retire(previous), Math.min(next.config.timeoutSeconds, MAX_RETIRE_SECONDS) * 1000).unref()
  }
  const retire = async (generation: Generation) => {
    if (!retiring.delete(generation)) return
    await generation.dispose().catch((error) => logger.warn('disposing the previous generation failed:', error))
  }

  // Reloads run one at a time, each from what is stored when it starts.
  let reloading: Promise<unknown> = Promise.resolve()
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = reloading.then(work, work)
    reloading = next.catch(() => undefined)
    return next
  }
  /**
   * Builds from `nextSaved` (or what is stored) and swaps in; `persist` runs once the build worked, and nothing is
   * swapped (or saved) when either fails.
   */
  const apply = (
    nextSaved?: SavedSettings,
    persist?: () => Promise<void>,
    resolve = (settings: SavedSettings) => ({ settings, ...resolveConfig(layers, settings) }),
  ) =>
    serially(async () => {
      stored = { keys: await keyStore.list(), tokens: await tokenStore.list() }
      const { settings, ...resolved } = resolve(nextSaved ?? (await settingsStore.load()))
      const next = await build(resolved.config)
      try {
        await persist?.()
      } catch (error) {
        await next.dispose()
        throw error
      }
      saved = settings
      swapIn(next, resolved.sources)
    })

  /** After the console changed something: this instance reloads, and the version other instances watch moves. */
  const changed = async (work: Promise<void>) => {
    await work
    await settingsStore.touch().catch((error) => logger.warn('could not record the settings change for other instances:', error))
    await settingsWatch.announce()
  }
  const stats = createStatsQueries(database)
  const control: GatewayControl = {
    keys: createKeyControl({ generation: () => current, store: keyStore, reload: () => changed(apply()), idOf }),
    settings: createSettingsControl({
      layers,
      saved: () => saved,
      sources: () => sources,
      config: () => current.config,
      store: settingsStore,
      apply: (next, persist) => changed(apply(next, persist)),
    }),
    tokens: createTokenControl({ store: tokenStore, config: () => current.config, idOf, reload: () => changed(apply()), stats }),
    adminToken: createAdminToken({ config: initial, layers, dataDir: initial.dataDir }),
    logs: createLogQueries(database),
    stats,
    jobs: scheduler,
    events,
    proxies: createProxyCheck({ proxies: () => current.config.proxies, target: () => new URL(current.config.baseUrl).origin }),
    get plugins() {
      return current.plugins
    },
  }

  /** The settings saved in the console that still hold: one that no longer does (a plugin's option gone) is left out, and said so. */
  const savedThatHold = (saved: SavedSettings): { settings: SavedSettings; config: ResolvedConfig; sources: Record<string, ConfigSource> } => {
    let settings = saved
    try {
      return { settings, ...resolveConfig(layers, settings) }
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      logger.warn(`settings saved in the console that no longer hold are ignored:\n${error.message}`)
      const bad = new Set(error.problems.map((problem) => problem.path))
      settings = Object.fromEntries(Object.entries(settings).filter(([path]) => !bad.has(path) && !bad.has(path.split('.')[0]!)))
      return { settings, ...resolveConfig(layers, settings) }
    }
  }
  // What the console saved (settings, keys, tokens) applies from the start when the database answers, else once it is back.
  let first: { config: ResolvedConfig; sources: Record<string, ConfigSource> } | undefined
  /** Read before what it versions: a change another instance makes meanwhile is applied once the watch starts. */
  let version: number | undefined
  try {
    if (database.isReady()) {
      version = await settingsStore.version()
      stored = { keys: await keyStore.list(), tokens: await tokenStore.list() }
      const held = savedThatHold(await settingsStore.load())
      saved = held.settings
      first = held
    }
    // The sources of the config as given are only worked out when nothing saved was read (the database is down).
    first ??= { config: initial, sources: resolveConfig(layers).sources }
    current = await build(first.config)
  } catch (error) {
    await scheduler.stop()
    healthStore.stop()
    await Promise.allSettled([shared.close(), logs.close(), database.close()])
    throw error
  }
  sources = first.sources
  scheduler.setJobs(current.jobs)
  if (!database.isReady()) {
    void database.ready
      .then(() => logs.flush())
      .then(() => apply(undefined, undefined, savedThatHold))
      .catch((error) => logger.error('settings saved in the console could not be applied:', error))
  }
  if (current.pools[0]!.pool.keys.length === 0) logger.warn('No Gemini API key yet: model requests answer 503 until keys are added (API_KEYS, or the console).')
  // A change saved in another instance's console applies here too (started once the first generation serves).
  const settingsWatch = watchSettings(shared, {
    version: () => settingsStore.version(),
    initial: version,
    onChange: () => apply(),
    logger: logger.withTag('settings'),
  })

  return {
    fetch: (request) => metrics.serve(request, current.app),
    get app() {
      return current.app
    },
    get config() {
      return current.config
    },
    get pool() {
      return current.pools[0]!.pool
    },
    get services() {
      return current.services
    },
    get recheck() {
      return current.recheck
    },
    run: (event, request, dialect, after) => current.run(event, request, dialect, after),
    database,
    logs,
    state,
    shared,
    idOf,
    control,
    reload: () => apply(),
    async close() {
      stopping = true
      settingsWatch.stop()
      healthStore.stop()
      await scheduler.stop()
      await Promise.allSettled([...retiring].map(retire))
      await current.dispose()
      await healthStore.flush()
      // A stuck database must not hold shutdown hostage; what is still queued then is lost, and said so.
      const flushed = await Promise.race([logs.close().then(() => true), sleep(SHUTDOWN_FLUSH_MS, undefined, { ref: false }).then(() => false)])
      if (!flushed) logger.warn(`logs not flushed within ${SHUTDOWN_FLUSH_MS / 1000}s at shutdown: ${logs.stats().queued} row(s) dropped`)
      await shared.close()
      await database.close()
    },
  }
}

const SHUTDOWN_FLUSH_MS = 10_000
/** A replaced generation is disposed once what it serves has had TIME_OUT to finish, at most this long. */
const MAX_RETIRE_SECONDS = 600

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
