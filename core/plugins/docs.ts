import * as v from 'valibot'
import type { PluginDefinition } from '../plugin.ts'

/**
 * The README's plugin table, made from the plugins' own declarations (name, summary, options with their defaults,
 * docs and gemini-balance variables), so the table cannot drift from the code: a test compares the two.
 */
export function renderPluginTable(definitions: readonly PluginDefinition<any>[]): string {
  const rows = ['| plugin | what it does | option | default | gemini-balance variable | meaning |', '|---|---|---|---|---|---|']
  for (const definition of definitions) {
    const entries = optionEntries(definition)
    if (entries.length === 0) rows.push(`| \`${definition.name}\` | ${cell(definition.summary)} | | | | |`)
    entries.forEach(([option, schema], index) => {
      const plugin = index === 0 ? `\`${definition.name}\`` : ''
      const summary = index === 0 ? cell(definition.summary) : ''
      const env = definition.env?.[option]
      const fallback = v.getDefault(schema as v.GenericSchema)
      const shown = fallback === undefined ? '' : `\`${JSON.stringify(fallback)}\``
      rows.push(
        `| ${plugin} | ${summary} | \`${option}\` | ${env?.secret ? '' : shown} | ${env ? `\`${env.env}\`` : ''} | ${cell(definition.docs?.[option] ?? '')} |`,
      )
    })
  }
  return rows.join('\n')
}

function optionEntries(definition: PluginDefinition<any>): [string, unknown][] {
  const schema = definition.options as { entries?: Record<string, unknown> } | undefined
  return Object.entries(schema?.entries ?? {})
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
