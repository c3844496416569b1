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
import { ENV_BINDINGS, EnvParseError, readEnvOverrides } from './env.ts'
import { checkTokenStrength } from './tokens.ts'

/** Where an effective value came from; the admin UI shows it beside each setting. */
export type ConfigSource = 'default' | 'file' | `env:${string}` | 'override'

export interface LoadedConfig {
  config: ResolvedConfig
  sources: Record<string, ConfigSource>
  configFile?: string
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
  constructor(message: string) {
    super(`Invalid configuration:\n${message}`)
    this.name = 'ConfigError'
  }
}

const GROUPS = new Set(['database', 'streamOptimizer'])

/**
 * Precedence, lowest first: schema defaults < gateway.config.ts < environment (gemini-balance names, .env
 * included) < overrides. Nested groups merge field by field; arrays are replaced, never concatenated.
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
  const fromFile = stripEnvironmentBlocks(fileConfig ?? {})

  let env
  try {
    env = readEnvOverrides(options.env ?? process.env)
  } catch (error) {
    if (error instanceof EnvParseError) throw new ConfigError(error.message)
    throw error
  }

  const sources: Record<string, ConfigSource> = {}
  const merged: Record<string, unknown> = {}
  mergeLayer(merged, fromFile, sources, () => 'file')
  mergeLayer(merged, env.values, sources, (path) => `env:${env.sources.get(path)}`)
  mergeLayer(merged, (options.overrides ?? {}) as Record<string, unknown>, sources, () => 'override')

  const result = v.safeParse(ConfigSchema, merged)
  if (!result.success) throw new ConfigError(describeIssues(result.issues, sources))

  const parsed = result.output
  const authToken = parsed.authToken ?? parsed.allowedTokens[0]!
  // AUTH_TOKEN alone is the one client token, as in gemini-balance.
  const config = { ...parsed, authToken, allowedTokens: parsed.allowedTokens.length > 0 ? parsed.allowedTokens : [authToken] }
  if (!sources.authToken) sources.authToken = sources.allowedTokens ?? 'default'
  if (parsed.allowedTokens.length === 0) sources.allowedTokens = sources.authToken
  if (config.pipeline) {
    try {
      checkPipelineOrder(config.pipeline)
    } catch (error) {
      throw new ConfigError(
        `  ${sources.pipeline === 'file' ? 'pipeline (gateway.config.ts)' : 'pipeline'}: ${(error as Error).message.replace(/^pipeline: /, '')}`,
      )
    }
  }
  config.plugins = resolvePlugins(config.plugins as Plugin[], options.env ?? process.env)
  const { errors } = checkTokenStrength(config)
  if (errors.length > 0) throw new ConfigError(errors.map((error) => `  ${error}`).join('\n'))
  for (const key of Object.keys(config)) sources[key] ??= 'default'
  const existing = configFile && fileConfig && Object.keys(fileConfig).length > 0 ? configFile : undefined
  return { config, sources, configFile: existing }
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

/** Each plugin with its options as it will run with them (environment applied), or one ConfigError naming every problem. */
function resolvePlugins(plugins: readonly Plugin[], env: Record<string, string | undefined>): Plugin[] {
  const problems: string[] = []
  const resolved = plugins.map((plugin) => {
    try {
      return { definition: plugin.definition, options: resolvePluginOptions(plugin, env) }
    } catch (error) {
      if (!(error instanceof PluginOptionsError)) throw error
      problems.push(...error.problems)
      return plugin
    }
  })
  if (problems.length > 0) throw new ConfigError(problems.join('\n'))
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

function describeIssues(issues: v.BaseIssue<unknown>[], sources: Record<string, ConfigSource>): string {
  return issues
    .map((issue) => {
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
          ? `${path} (from ${source === 'file' ? 'gateway.config.ts' : source})`
          : `${path}${envName ? ` / ${envName}` : ''} (not set)`
      return `  ${where}: ${holdsSecret(field) ? secretSafeMessage(issue) : issue.message}`
    })
    .join('\n')
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
