// The console's bundle: made from the sources, the same bytes every time and in a build, and nothing in it that would
// make a browser fetch from elsewhere (the console works offline).
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'
import { loadAdminAssets, writeAdminAssets } from './assets.ts'

const UI = fileURLToPath(new URL('./ui/', import.meta.url))
const out = mkdtempSync(join(tmpdir(), 'gemgate-admin-assets-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

describe('loadAdminAssets', () => {
  test('bundles the app: a script and a style sheet, typed, with the hash of their bytes', async () => {
    const assets = await loadAdminAssets()
    expect(Object.keys(assets).sort()).toEqual(['app.css', 'app.js'])
    expect(assets['app.js'].type).toBe('text/javascript; charset=utf-8')
    expect(assets['app.css'].type).toBe('text/css; charset=utf-8')
    for (const asset of Object.values(assets)) {
      expect(asset.body.length).toBeGreaterThan(1000)
      expect(asset.hash).toBe(createHash('sha256').update(asset.body).digest('hex').slice(0, 16))
    }
    // The app, Preact and Chart.js are in it; the page mounts it on #app.
    expect(assets['app.js'].body).toContain('/api/session')
    expect(assets['app.js'].body).toContain('x-csrf-token')
    expect(assets['app.css'].body).toContain('prefers-color-scheme:dark')
  })

  test('is made once per process', async () => {
    expect(await loadAdminAssets()).toBe(await loadAdminAssets())
  })

  test('is minified, without source maps, and names nothing outside the gateway', async () => {
    const { 'app.js': js, 'app.css': css } = await loadAdminAssets()
    expect(js.body).not.toContain('sourceMappingURL')
    expect(css.body).not.toContain('sourceMappingURL')
    expect(js.body.split('\n').length).toBeLessThan(50)
    expect(css.body).not.toMatch(/@import|url\((?!["']?data:)/)
    expect(js.body).not.toMatch(/\bimport\s*\(|fonts\.googleapis|cdn\.jsdelivr|unpkg\.com/)
  })

  test('a build writes the same bytes, and names every source file it read', async () => {
    const inputs = await writeAdminAssets(UI, out)
    const assets = await loadAdminAssets()
    expect(readFileSync(join(out, 'app.js'), 'utf8')).toBe(assets['app.js'].body)
    expect(readFileSync(join(out, 'app.css'), 'utf8')).toBe(assets['app.css'].body)
    const read = inputs.map((file) => relative(UI, file))
    expect(read).toEqual(expect.arrayContaining(['main.tsx', 'app.tsx', 'styles/base.css', 'pages/keys/index.tsx']))
    expect(inputs.some((file) => file.includes('node_modules'))).toBe(false)
  })
})
