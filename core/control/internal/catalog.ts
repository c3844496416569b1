// Every setting the console can show: core fields from the config schema (docs in config/docs.ts) and each listed
// plugin's `enabled` switch and options (from its definition), with their types read off the valibot schemas.
import * as v from 'valibot'
import { SETTING_DOCS } from '../../config/docs.ts'
import { ENV_BINDINGS, type EnvKind } from '../../config/env.ts'
import type { ConfigLayers } from '../../config/load.ts'
import { ConfigSchema } from '../../config/schema.ts'
import type { Plugin } from '../../plugin.ts'
import type { SettingType } from '../settings.ts'

export interface CatalogEntry {
  path: string
  group: string
  doc: string
  type: SettingType
  options?: string[]
  secret: boolean
  /** The gemini-balance variable that sets it. */
  env?: string
  /** How that variable's text parses (also used for text typed into the console). */
  kind: EnvKind
  live: boolean
  /** For plugin settings: whose, and which option ('enabled' for the switch). */
  plugin?: { definition: Plugin['definition']; option: string; fileOptions: Record<string, unknown> }
  schema: v.GenericSchema
}

const GROUPED = new Set(['database', 'streamOptimizer'])

/** The plugins the config lists (overrides replace the file's list, as arrays do in the merge). */
export function listedPlugins(layers: ConfigLayers): Plugin[] {
  return ((layers.overrides.plugins ?? layers.file.plugins ?? []) as Plugin[]).filter((plugin) => plugin?.definition)
}

export function buildCatalog(layers: ConfigLayers): CatalogEntry[] {
  const entries: CatalogEntry[] = []
  for (const [field, schema] of Object.entries(ConfigSchema.entries)) {
    if (GROUPED.has(field)) {
      const group = unwrap(schema as v.GenericSchema) as v.ObjectSchema<v.ObjectEntries, undefined>
      for (const [sub, subSchema] of Object.entries(group.entries)) entries.push(coreEntry(`${field}.${sub}`, subSchema as v.GenericSchema))
    } else if (!SETTING_DOCS[field]?.hidden) entries.push(coreEntry(field, schema as v.GenericSchema))
  }
  for (const plugin of listedPlugins(layers)) {
    const { definition } = plugin
    const group = `Plugin: ${definition.name}`
    const fileOptions = plugin.options
    if (!definition.alwaysOn) {
      entries.push({
        path: `plugins.${definition.name}.enabled`,
        group,
        doc: definition.summary,
        type: 'boolean',
        secret: false,
        kind: 'bool',
        live: true,
        plugin: { definition, option: 'enabled', fileOptions },
        schema: v.boolean(),
      })
    }
    const shape = definition.options && 'entries' in definition.options ? (definition.options.entries as Record<string, v.GenericSchema>) : {}
    for (const [option, schema] of Object.entries(shape)) {
      const binding = definition.env?.[option]
      const { type, options } = typeOf(schema)
      entries.push({
        path: `plugins.${definition.name}.${option}`,
        group,
        doc: definition.docs?.[option] ?? '',
        type,
        ...(options ? { options } : {}),
        secret: binding?.secret ?? false,
        ...(binding ? { env: binding.env } : {}),
        kind: binding?.kind ?? kindOf(type),
        live: true,
        plugin: { definition, option, fileOptions },
        schema,
      })
    }
  }
  return entries
}

function coreEntry(path: string, schema: v.GenericSchema): CatalogEntry {
  const doc = SETTING_DOCS[path] ?? { group: 'Other', doc: '' }
  const binding = ENV_BINDINGS.find((candidate) => candidate.path === path)
  const { type, options } = typeOf(schema)
  return {
    path,
    group: doc.group,
    doc: doc.doc,
    type,
    ...(options ? { options } : {}),
    secret: binding?.secret ?? false,
    ...(binding ? { env: binding.env } : {}),
    kind: binding?.kind ?? kindOf(type),
    live: doc.live ?? true,
    schema,
  }
}

/** The schema under `optional`/`nullable` wrappers. */
function unwrap(schema: v.GenericSchema): v.GenericSchema {
  let inner = schema as v.GenericSchema & { wrapped?: v.GenericSchema }
  while (inner.wrapped) inner = inner.wrapped as typeof inner
  return inner
}

function typeOf(schema: v.GenericSchema): { type: SettingType; options?: string[] } {
  const inner = unwrap(schema) as v.GenericSchema & { pipe?: Array<{ type: string; options?: unknown[] }>; item?: v.GenericSchema; options?: unknown[] }
  const picklist = inner.type === 'picklist' ? inner : inner.pipe?.find((step) => step.type === 'picklist')
  if (picklist?.options) return { type: 'enum', options: picklist.options.map(String) }
  switch (inner.type) {
    case 'string':
      return { type: 'string' }
    case 'number':
      return { type: 'number' }
    case 'boolean':
      return { type: 'boolean' }
    case 'array':
      return { type: inner.item && unwrap(inner.item).type === 'string' ? 'list' : 'json' }
    default:
      return { type: 'json' }
  }
}

function kindOf(type: SettingType): EnvKind {
  if (type === 'number') return 'number'
  if (type === 'boolean') return 'bool'
  if (type === 'list') return 'list'
  if (type === 'json') return 'json'
  return 'string'
}
