import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { withPluginTable } from '../../scripts/docs.ts'

describe('README', () => {
  it("has the plugin table the plugins declare (run `npm run docs` after changing a plugin's options)", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    expect(readme).toBe(withPluginTable(readme))
  })
})
