import * as v from 'valibot'
import { EnvParseError, parseEnvValue } from '../config/env.ts'
import type { Plugin, PluginDefinition } from '../plugin.ts'

/** One problem with one plugin's options, worded for the operator (never with a secret's value). */
export class PluginOptionsError extends Error {
  /** `options[i]` is the option `problems[i]` is about ('' when it is about the whole). */
  constructor(
    readonly problems: string[],
    readonly options: string[],
  ) {
    super(problems.join('\n'))
    this.name = 'PluginOptionsError'
  }
}

const NO_OPTIONS = v.strictObject({})

/**
 * A plugin's options as it will run with them. Precedence, lowest first, as for core settings: the schema's
 * defaults < gateway.config.ts < the plugin's gemini-balance variables (an empty variable counts as not set).
 */
export function resolvePluginOptions(plugin: Plugin, env: Record<string, string | undefined>): Record<string, unknown> {
  const { definition } = plugin
  const merged: Record<string, unknown> = { ...plugin.options }
  const fromEnv = new Map<string, string>()
  const problems: string[] = []
  const about: string[] = []
  for (const [option, binding] of Object.entries(definition.env ?? {})) {
    if (!binding) continue
    const raw = env[binding.env]
    if (raw === undefined || (raw.trim() === '' && binding.kind !== 'list')) continue
    try {
      merged[option] = parseEnvValue(binding.kind, raw)
      fromEnv.set(option, binding.env)
    } catch (error) {
      if (!(error instanceof EnvParseError)) throw error
      problems.push(`${binding.env}${binding.secret ? '' : `=${JSON.stringify(raw.slice(0, 60))}`}: ${error.message}`)
      about.push(option)
    }
  }
  if (problems.length === 0) {
    const result = v.safeParse(definition.options ?? NO_OPTIONS, merged)
    if (result.success) return result.output
    for (const issue of result.issues) {
      problems.push(describeIssue(definition, issue, fromEnv))
      about.push((v.getDotPath(issue) ?? '').split('.')[0]!)
    }
  }
  throw new PluginOptionsError(
    problems.map((problem) => `  plugin "${definition.name}": ${problem}`),
    about,
  )
}

function describeIssue(definition: PluginDefinition, issue: v.BaseIssue<unknown>, fromEnv: ReadonlyMap<string, string>): string {
  const path = v.getDotPath(issue) ?? '(options)'
  const option = path.split('.')[0]!
  const variable = fromEnv.get(option)
  const where = variable ? `${variable} (option ${path})` : `option ${path}`
  // valibot's messages quote the value received; a secret option's value must not reach the log.
  const message = definition.env?.[option]?.secret ? `invalid value${issue.expected ? ` (expected ${issue.expected})` : ''}` : issue.message
  return `${where}: ${message}`
}
