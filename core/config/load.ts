import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from 'c12'
import type { JitiOptions } from 'jiti'
import * as v from 'valibot'
import { isObject } from '../internal/json.ts'
import { checkPipelineOrder } from '../pipeline.ts'
import type { Plugin } from '../plugin.ts'
import { PluginOptionsError, resolvePluginOptions } from '../plugins/options.ts'
import { ConfigSchema, type GatewayConfig, type ResolvedConfig } from './schema.ts'
import { ENV_BINDINGS, EnvParseError, readEnvOverrides, setPath, type EnvOverrides } from './env.ts'
import { checkTokenStrength } from './tokens.ts'

/** Where an effective value came from; the console shows it beside each setting. */
export type ConfigSource = 'default' | 'file' | 'console' | `env:${string}` | 'override'

/** Settings saved in the console: config paths ('maxRetries', 'plugins.search.models') to values. */
export type SavedSettings = Readonly<Record<string, unknown>>

/** What the effective config is made of, kept so that settings saved later can be merged in without a restart. */
export interface ConfigLayers {
  /** gateway.config.ts as written (plugins with the options given there). */
  readonly file: Record<string, unknown>
  readonly env: EnvOverrides
  /** The environment itself: plugins read their own variables from it. */
  readonly rawEnv: Record<string, string | undefined>
  readonly overrides: Record<string, unknown>
}

export interface LoadedConfig {
  config: ResolvedConfig
  sources: Record<string, ConfigSource>
  configFile?: string
  layers: ConfigLayers
}

export interface LoadOptions {
  cwd?: string
  /** Defaults to process.env, after `.env` in cwd has been loaded into it. */
  env?: Record<string, string | undefined>
  /** Load `.env` from cwd into process.env first (real variables win over the file). Default true. */
  dotenv?: boolean
  /** Programmatic values that beat everything (tests, embedding). */
  overrides?: Partial<GatewayConfig>
  /** The config file to load instead of cwd's gateway.config.* (serve.ts: the one compiled with dist/). */
  configFile?: string
}

export class ConfigError extends Error {
  /** Each problem by config path, for the console ('plugins.search.models', 'maxRetries'). */
  readonly problems: ReadonlyArray<{ path: string; message: string }>
  constructor(problems: string | ReadonlyArray<{ path: string; message: string }>) {
    const list = typeof problems === 'string' ? [{ path: '', message: problems }] : problems
    super(`Invalid configuration:\n${list.map((problem) => problem.message).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = list
  }
}

const GROUPS = new Set(['database', 'streamOptimizer'])

/**
 * Precedence, lowest first: schema defaults < gateway.config.ts < settings saved in the console < environment
 * (gemini-balance names, .env included) < overrides. The environment wins over the console on purpose: a value set
 * there is pinned, and the console says so (gemini-balance let its database silently beat `.env`).
 * Nested groups merge field by field; arrays are replaced, never concatenated.
 */
export async function loadGatewayConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd()
  const { config: fileConfig, configFile } = await loadConfig<Record<string, unknown>>({
    name: 'gateway',
    cwd,
    configFile: options.configFile,
    dotenv: options.dotenv ?? true,
    rcFile: false,
    globalRc: false,
    packageJson: false,
    jitiOptions: await runningPackage(),
  })
  const rawEnv = options.env ?? process.env
  let env
  try {
    env = readEnvOverrides(rawEnv)
  } catch (error) {
    if (error instanceof EnvParseError) throw new ConfigError(error.message)
    throw error
  }
  const layers: ConfigLayers = { file: stripEnvironmentBlocks(fileConfig ?? {}), env, rawEnv, overrides: (options.overrides ?? {}) as Record<string, unknown> }
  const { config, sources } = resolveConfig(layers)
  const existing = configFile && fileConfig && Object.keys(fileConfig).length > 0 ? configFile : undefined
  return { config, sources, configFile: existing, layers }
}

/** The effective config from its layers and the console's saved settings; throws a ConfigError naming every problem. */
export function resolveConfig(layers: ConfigLayers, saved: SavedSettings = {}): { config: ResolvedConfig; sources: Record<string, ConfigSource> } {
  const { core: savedCore, plugins: savedPlugins } = splitSaved(saved)
  const sources: Record<string, ConfigSource> = {}
  const merged: Record<string, unknown> = {}
  mergeLayer(merged, layers.file, sources, () => 'file')
  mergeLayer(merged, savedCore, sources, () => 'console')
  mergeLayer(merged, layers.env.values, sources, (path) => `env:${layers.env.sources.get(path)}`)
  mergeLayer(merged, layers.overrides, sources, () => 'override')

  const result = v.safeParse(ConfigSchema, merged)
  if (!result.success) throw new ConfigError(describeIssues(result.issues, sources))

  const parsed = result.output
  // AUTH_TOKEN alone is the one client token, and ALLOWED_TOKENS' first the admin token, as in gemini-balance. With
  // neither, the console makes the admin token and client tokens are created there (until then nothing is served).
  const authToken = parsed.authToken ?? parsed.allowedTokens[0]
  const config: ResolvedConfig = { ...parsed, authToken, allowedTokens: parsed.allowedTokens.length > 0 ? parsed.allowedTokens : authToken ? [authToken] : [] }
  if (!sources.authToken && sources.allowedTokens) sources.authToken = sources.allowedTokens
  if (parsed.allowedTokens.length === 0 && sources.authToken) sources.allowedTokens = sources.authToken
  if (config.pipeline) {
    try {
      checkPipelineOrder(config.pipeline)
    } catch (error) {
      const where = sources.pipeline === 'file' ? 'pipeline (gateway.config.ts)' : 'pipeline'
      throw new ConfigError([{ path: 'pipeline', message: `  ${where}: ${(error as Error).message.replace(/^pipeline: /, '')}` }])
    }
  }
  config.plugins = resolvePlugins(config.plugins as Plugin[], savedPlugins, layers.rawEnv)
  const { errors } = checkTokenStrength(config)
  if (errors.length > 0) throw new ConfigError(errors.map((error) => ({ path: 'allowedTokens', message: `  ${error}` })))
  for (const key of Object.keys(config)) sources[key] ??= 'default'
  return { config, sources }
}

/** Saved settings split into core fields (nested for groups) and, per plugin, `enabled` and its options. */
function splitSaved(saved: SavedSettings): { core: Record<string, unknown>; plugins: Map<string, Record<string, unknown>> } {
  const core: Record<string, unknown> = {}
  const plugins = new Map<string, Record<string, unknown>>()
  for (const [path, value] of Object.entries(saved)) {
    if (value === undefined || value === null) continue
    const [head, name, option] = path.split('.')
    if (head === 'plugins' && name && option) {
      const options = plugins.get(name) ?? {}
      options[option] = value
      plugins.set(name, options)
    } else setPath(core, path, value)
  }
  return { core, plugins }
}

/**
 * What a TypeScript config and the plugins it loads import as `gemgate` and `gemgate/plugins`: this running core and
 * the plugins built beside it (dist/ when started built; the sources under tsx, vitest, `npm run dev` and Bun). jiti
 * alone would resolve the package's exports to dist/ or compile a second copy of core, whose classes (`instanceof
 * GatewayError`) and state are not the running ones.
 */
async function runningPackage(): Promise<JitiOptions> {
  const here = fileURLToPath(import.meta.url)
  return {
    virtualModules: { gemgate: await import('../index.ts') },
    alias: { 'gemgate/plugins': join(here, '../../../plugins', here.endsWith('.ts') ? 'index.ts' : 'index.js') },
  }
}

/**
 * Each plugin turned on, with its options as it will run with them (the console's saved options over the file's,
 * the environment over both), or one ConfigError naming every problem. `plugins.<name>.enabled: false` saved in the
 * console leaves a plugin out, unless it is always on (the console itself).
 */
function resolvePlugins(plugins: readonly Plugin[], saved: ReadonlyMap<string, Record<string, unknown>>, env: Record<string, string | undefined>): Plugin[] {
  const problems: Array<{ path: string; message: string }> = []
  const resolved: Plugin[] = []
  for (const plugin of plugins) {
    const { definition } = plugin
    const { enabled, ...savedOptions } = saved.get(definition.name) ?? {}
    if (enabled === false && !definition.alwaysOn) continue
    try {
      resolved.push({ definition, options: resolvePluginOptions({ definition, options: { ...plugin.options, ...savedOptions } }, env) })
    } catch (error) {
      if (!(error instanceof PluginOptionsError)) throw error
      problems.push(...error.problems.map((message, index) => ({ path: `plugins.${definition.name}.${error.options[index] ?? ''}`, message })))
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return resolved
}

function mergeLayer(
  target: Record<string, unknown>,
  layer: Record<string, unknown>,
  sources: Record<string, ConfigSource>,
  sourceOf: (path: string) => ConfigSource,
): void {
  for (const [key, value] of Object.entries(layer)) {
    if (value === undefined) continue
    if (GROUPS.has(key) && isObject(value)) {
      const group = (target[key] = { ...(target[key] as object | undefined) }) as Record<string, unknown>
      for (const [field, fieldValue] of Object.entries(value)) {
        if (fieldValue === undefined) continue
        group[field] = fieldValue
        sources[`${key}.${field}`] = sourceOf(`${key}.${field}`)
      }
      continue
    }
    target[key] = value
    sources[key] = sourceOf(key)
  }
}

/** c12 applies `$production`/`$development` blocks but leaves them in the object; the strict schema would reject them. */
function stripEnvironmentBlocks(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([key]) => !key.startsWith('$')))
}

function describeIssues(issues: v.BaseIssue<unknown>[], sources: Record<string, ConfigSource>): Array<{ path: string; message: string }> {
  return issues.map((issue) => {
    const path = v.getDotPath(issue) ?? '(root)'
    const field = path
      .split('.')
      .slice(0, GROUPS.has(path.split('.')[0]!) ? 2 : 1)
      .join('.')
    const source = sources[field]
    const envName = ENV_BINDINGS.find((binding) => binding.path === field)?.env
    const where = source?.startsWith('env:')
      ? `${source.slice(4)} (environment variable, config field ${path})`
      : source
        ? `${path} (from ${source === 'file' ? 'gateway.config.ts' : source === 'console' ? 'the console' : source})`
        : `${path}${envName ? ` / ${envName}` : ''} (not set)`
    return { path: field, message: `  ${where}: ${holdsSecret(field) ? secretSafeMessage(issue) : issue.message}` }
  })
}

const SECRET_FIELDS = ENV_BINDINGS.filter((binding) => binding.secret).map((binding) => binding.path)

/** A secret field, or a group holding one (an issue about the whole group could show the secret inside it). */
const holdsSecret = (field: string) => SECRET_FIELDS.some((secret) => secret === field || secret.startsWith(`${field}.`))

/**
 * valibot's own messages quote the value they refused ('Invalid URL: Received "http://user:pass@..."'). For a
 * secret, a message that shows the value is rebuilt from what was expected, which is never secret.
 */
function secretSafeMessage(issue: v.BaseIssue<unknown>): string {
  const input = issue.input
  const shown = [issue.received, typeof input === 'string' || typeof input === 'number' ? String(input) : undefined]
  if (!shown.some((value) => value && issue.message.includes(value))) return issue.message
  const what = issue.kind === 'schema' ? `expected ${issue.expected}` : `failed the ${issue.type} check`
  return `invalid value, ${what} (the value is not shown: it is a secret)`
}
