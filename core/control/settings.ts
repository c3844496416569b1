// Every setting as the console shows it, and saving: validated by the same schema as the config loader, stored in
// the database's `settings` table, applied without a restart. Precedence, lowest first: defaults < gateway.config.ts <
// saved in the console < environment. A value the environment sets is pinned: shown, never overridden here.
import { parse as parseDotenv } from 'dotenv'
import * as v from 'valibot'
import type { SettingsStore } from '../../storage/queries.ts'
import { EnvParseError, parseEnvValue } from '../config/env.ts'
import { ConfigError, resolveConfig, type ConfigLayers, type ConfigSource, type SavedSettings } from '../config/load.ts'
import type { ResolvedConfig } from '../config/schema.ts'
import { isObject } from '../internal/json.ts'
import type { Plugin } from '../plugin.ts'
import type { ImportPreview, SettingsSaveResult, SettingView } from '../views.ts'
import { buildCatalog, type CatalogEntry } from './internal/catalog.ts'

export type { ImportPreview, SettingsSaveResult, SettingType, SettingView } from '../views.ts'

export interface SettingsControl {
  describe(): SettingView[]
  /** Checks values (path → value as typed in the console) without saving: path → error. */
  validate(changes: Record<string, unknown>): Record<string, string>
  /** Validates, saves and applies; a path given `null` goes back to its value from the file or the default. */
  save(changes: Record<string, unknown>): Promise<SettingsSaveResult>
  /** What applying a gemini-balance `.env` text would change. */
  previewImport(envText: string): ImportPreview
  /** Saves what previewImport shows (pinned values are skipped). */
  importEnv(envText: string): Promise<SettingsSaveResult>
}

export interface SettingsControlDeps {
  layers: ConfigLayers
  /** What the console saved, as applied now. */
  saved: () => SavedSettings
  sources: () => Record<string, ConfigSource>
  config: () => ResolvedConfig
  store: SettingsStore
  /** Builds from `next` and swaps it in, after `persist` ran; nothing changes when either fails. */
  apply: (next: SavedSettings, persist: () => Promise<void>) => Promise<void>
}

/** Shown for a secret that has a value: enough to tell two apart, never enough to use. */
const MASK = '••••'

export function createSettingsControl(deps: SettingsControlDeps): SettingsControl {
  const catalog = buildCatalog(deps.layers)
  const byPath = new Map(catalog.map((entry) => [entry.path, entry]))
  const byEnv = new Map(catalog.filter((entry) => entry.env).map((entry) => [entry.env!, entry]))

  const sourceOf = (entry: CatalogEntry): SettingView['source'] => {
    if (entry.plugin) {
      const raw = entry.env === undefined ? undefined : deps.layers.rawEnv[entry.env]
      if (raw !== undefined && (raw.trim() !== '' || entry.kind === 'list')) return 'env'
      if (deps.saved()[entry.path] !== undefined) return 'console'
      return entry.plugin.option in entry.plugin.fileOptions ? 'file' : 'default'
    }
    const source = deps.sources()[entry.path] ?? 'default'
    return source.startsWith('env:') || source === 'override' ? 'env' : (source as SettingView['source'])
  }
  const valueOf = (entry: CatalogEntry): unknown => {
    if (!entry.plugin) return getPath(deps.config(), entry.path)
    const { definition, option, fileOptions } = entry.plugin
    const running = (deps.config().plugins as Plugin[]).find((plugin) => plugin.definition === definition)
    if (option === 'enabled') return running !== undefined
    if (running) return running.options[option]
    return deps.saved()[entry.path] ?? fileOptions[option] ?? v.getDefault(entry.schema as v.OptionalSchema<v.GenericSchema, unknown>)
  }
  const view = (entry: CatalogEntry): SettingView => {
    const source = sourceOf(entry)
    const value = valueOf(entry)
    return {
      path: entry.path,
      group: entry.group,
      doc: entry.doc,
      type: entry.type,
      ...(entry.options ? { options: entry.options } : {}),
      value: entry.secret ? masked(value) : value,
      secret: entry.secret,
      source,
      ...(entry.env ? { env: entry.env } : {}),
      pinned: source === 'env',
      live: entry.live,
    }
  }

  /** The saved settings `changes` would make, or why not (path → message). */
  const check = (changes: Record<string, unknown>): { next: Record<string, unknown>; errors: Record<string, string> } => {
    const next: Record<string, unknown> = { ...deps.saved() }
    const errors: Record<string, string> = {}
    for (const [path, raw] of Object.entries(changes)) {
      const entry = byPath.get(path)
      if (!entry) errors[path] = 'no such setting'
      else if (sourceOf(entry) === 'env') errors[path] = `set by ${entry.env ?? 'the environment'}: change it there`
      else if (!entry.live) errors[path] = 'read at start: set it in the environment or gateway.config.ts'
      else if (entry.plugin?.option === 'enabled' && entry.plugin.definition.alwaysOn) errors[path] = 'this plugin cannot be turned off'
      else if (raw === null) delete next[path]
      else {
        try {
          next[path] = typeof raw === 'string' && entry.type !== 'string' && entry.type !== 'enum' ? parseEnvValue(entry.kind, raw) : raw
        } catch (error) {
          if (!(error instanceof EnvParseError)) throw error
          errors[path] = error.message
        }
      }
    }
    // The values that passed are checked together, so every problem is named at once.
    try {
      resolveConfig(deps.layers, next)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      const paths = Object.keys(changes)
      for (const problem of error.problems) {
        const at =
          paths.find((path) => path === problem.path || path.startsWith(`${problem.path}.`) || problem.path.startsWith(`${path}.`)) ??
          (problem.path || 'settings')
        errors[at] ??= problem.message.trim()
      }
    }
    return { next, errors }
  }

  const save = async (changes: Record<string, unknown>): Promise<SettingsSaveResult> => {
    const { next, errors } = check(changes)
    if (Object.keys(errors).length > 0) return { applied: [], errors, restartNeeded: [] }
    const paths = Object.keys(changes)
    const removed = paths.filter((path) => changes[path] === null)
    const written = Object.fromEntries(paths.filter((path) => changes[path] !== null).map((path) => [path, next[path]]))
    await deps.apply(next, async () => {
      if (Object.keys(written).length > 0) await deps.store.save(written)
      if (removed.length > 0) await deps.store.remove(removed)
    })
    return { applied: paths, errors: {}, restartNeeded: [] }
  }

  const previewImport = (envText: string): ImportPreview => {
    const preview: ImportPreview = { changes: [], unknown: [], errors: {}, skipped: {} }
    for (const [name, raw] of Object.entries(parseDotenv(envText))) {
      const entry = byEnv.get(name)
      if (!entry) {
        if (NOT_IMPORTED[name]) preview.skipped[name] = NOT_IMPORTED[name]
        else preview.unknown.push(name)
        continue
      }
      if (!entry.live) {
        preview.skipped[name] = 'read at start: set it in the environment or gateway.config.ts'
        continue
      }
      let to
      try {
        to = parseEnvValue(entry.kind, raw)
      } catch (error) {
        if (!(error instanceof EnvParseError)) throw error
        preview.errors[name] = error.message
        continue
      }
      const from = valueOf(entry)
      if (JSON.stringify(from) === JSON.stringify(to)) continue
      preview.changes.push({
        path: entry.path,
        env: name,
        from: entry.secret ? masked(from) : from,
        to: entry.secret ? masked(to) : to,
        secret: entry.secret,
        pinned: sourceOf(entry) === 'env',
      })
    }
    return preview
  }

  return {
    describe: () => catalog.map(view),
    validate: (changes) => check(changes).errors,
    save,
    previewImport,
    async importEnv(envText) {
      const values = parseDotenv(envText)
      const changes = Object.fromEntries(
        previewImport(envText)
          .changes.filter((change) => !change.pinned)
          .map((change) => [change.path, values[change.env]]),
      )
      return save(changes)
    },
  }
}

/** gemini-balance variables an import leaves alone, with why. */
const NOT_IMPORTED: Record<string, string> = {
  API_KEYS: 'keys are added on the Keys page (paste the list there)',
  ALLOWED_TOKENS: 'client tokens are kept where they are set, or created on the Tokens page',
  AUTH_TOKEN: 'the admin token is set in the environment, or rotated in the console',
}

function masked(value: unknown): unknown {
  if (typeof value === 'string') return value === '' ? '' : `${MASK}${value.length >= 12 ? value.slice(-4) : ''}`
  if (Array.isArray(value)) return value.map(masked)
  if (isObject(value)) return Object.fromEntries(Object.keys(value).map((key) => [key, MASK]))
  return value === undefined ? undefined : MASK
}

function getPath(target: unknown, path: string): unknown {
  let node = target
  for (const part of path.split('.')) node = isObject(node) && Object.hasOwn(node, part) ? node[part] : undefined
  return node
}
