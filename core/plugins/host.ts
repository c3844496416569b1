import type { ConsolaInstance } from 'consola'
import { prefixStorage, type Storage } from 'unstorage'
import type { ModelVariant, Plugin, PluginContext, PluginHooks, PluginSettings } from '../plugin.ts'
import type { ServiceRegistry } from '../services.ts'
import { migrate, type GatewayDatabase, type LogWriter } from '../../storage/index.ts'
import { logAttempt } from '../stages/log.ts'
import { resolvePluginOptions } from './options.ts'

export interface PluginHostDeps {
  logger: ConsolaInstance
  services: ServiceRegistry
  state: Storage
  database: GatewayDatabase
  settings: PluginSettings
  run: PluginContext['run']
  answer: PluginContext['answer']
  /** `owner`: the plugin making it, which the console names the pool after. */
  createKeyPool: (secrets: readonly string[], options: { baseUrl?: string } | undefined, owner: string) => ReturnType<PluginContext['createKeyPool']>
  send: PluginContext['send']
  keys: PluginContext['keys']
  logs: LogWriter
  control: PluginContext['control']
}

/** The plugins of one gateway, set up: their hooks in list order, and what the gateway needs from them together. */
export interface StartedPlugins {
  readonly hooks: readonly (PluginHooks & { name: string })[]
  readonly variants: readonly ModelVariant[]
  /** Disposes every plugin, last set up first. */
  dispose(): Promise<void>
}

/**
 * Resolves every plugin's options (all problems at once, before any setup runs), then sets the plugins up in list
 * order. When one setup throws, the ones already set up are disposed before the error goes on.
 */
export async function startPlugins(plugins: readonly Plugin[], deps: PluginHostDeps): Promise<StartedPlugins> {
  const names = new Set<string>()
  for (const { definition } of plugins) {
    if (names.has(definition.name)) throw new Error(`plugin "${definition.name}" is listed twice in gateway.config.ts`)
    names.add(definition.name)
  }
  // loadGatewayConfig applied the environment already; here the options are checked (and defaulted) once more, for
  // a gateway built from config made in code.
  const options = plugins.map((plugin) => resolvePluginOptions(plugin, {}))

  const started: (PluginHooks & { name: string })[] = []
  const dispose = async () => {
    for (const plugin of [...started].reverse()) {
      try {
        await plugin.dispose?.()
      } catch (error) {
        deps.logger.error(`plugin "${plugin.name}" failed to dispose`, error)
      }
    }
  }
  try {
    for (const [index, { definition }] of plugins.entries()) {
      const hooks = await definition.setup(options[index]!, contextFor(definition.name, deps))
      started.push({ ...hooks, name: definition.name })
    }
  } catch (error) {
    await dispose()
    throw error
  }
  return { hooks: started, variants: collectVariants(started), dispose }
}

function contextFor(name: string, deps: PluginHostDeps): PluginContext {
  return {
    name,
    logger: deps.logger.withTag(name),
    services: deps.services,
    state: prefixStorage(deps.state, `plugins:${name}`),
    database: {
      db: deps.database.db,
      dialect: deps.database.dialect,
      migrate: async (migrations) => {
        await deps.database.ready
        await migrate(
          deps.database,
          migrations.map((migration) => ({ ...migration, id: `${name}:${migration.id}` })),
        )
      },
    },
    settings: deps.settings,
    run: deps.run,
    answer: deps.answer,
    createKeyPool: (secrets, options) => deps.createKeyPool(secrets, options, name),
    send: deps.send,
    keys: deps.keys,
    control: deps.control,
    log: ({ requestId, client, dialect, operation, model, attempt }) =>
      logAttempt(deps.logs, { requestId, tokenId: client.tokenId, dialect, operation, model }, attempt),
  }
}

function collectVariants(hooks: readonly (PluginHooks & { name: string })[]): ModelVariant[] {
  const owner = new Map<string, string>()
  const variants: ModelVariant[] = []
  for (const plugin of hooks) {
    for (const variant of plugin.variants ?? []) {
      if (!/^-[a-z0-9][a-z0-9-]*$/.test(variant.suffix)) throw new Error(`plugin "${plugin.name}": variant suffix "${variant.suffix}" must look like "-name"`)
      const taken = owner.get(variant.suffix)
      if (taken) throw new Error(`plugins "${taken}" and "${plugin.name}" both serve the model suffix "${variant.suffix}"`)
      owner.set(variant.suffix, plugin.name)
      variants.push(variant)
    }
  }
  return variants
}
