/** `npm run docs`: rewrites the README's plugin table from the bundled plugins' declarations. */
import { readFileSync, writeFileSync } from 'node:fs'
import { renderPluginTable } from '../core/plugins/docs.ts'
import { BUNDLED_PLUGINS } from '../plugins/index.ts'

export const START = '<!-- plugin-table:start (npm run docs) -->'
export const END = '<!-- plugin-table:end -->'

export function withPluginTable(readme: string): string {
  const from = readme.indexOf(START)
  const to = readme.indexOf(END)
  if (from < 0 || to < from) throw new Error(`README.md has no ${START} ... ${END} section`)
  return `${readme.slice(0, from + START.length)}\n${renderPluginTable(BUNDLED_PLUGINS.map((plugin) => plugin.definition))}\n${readme.slice(to)}`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = new URL('../README.md', import.meta.url)
  writeFileSync(path, withPluginTable(readFileSync(path, 'utf8')))
}
