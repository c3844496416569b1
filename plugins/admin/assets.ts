// The console's browser app (ui/, Preact and Chart.js) as the admin plugin serves it: one script and one style sheet,
// every byte bundled (no CDN, no outside fonts), so the console works offline and behind a firewall.
//
// From sources (vitest, tsx, `npm run dev`) the app is bundled in memory with esbuild on the first call. A built start
// reads the files scripts/build.js wrote beside the compiled plugin, through this module's `writeAdminAssets`, so both
// are the same bundle and a production start never loads esbuild.
import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { isAbsolute, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export type AdminAssetName = 'app.js' | 'app.css'

export interface AdminAsset {
  body: string
  /** Content-Type to serve it with. */
  type: string
  /** Of the body: the `?v=` that busts caches when the app changes. */
  hash: string
}

export type AdminAssets = Record<AdminAssetName, AdminAsset>

const TYPES: Record<AdminAssetName, string> = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' }
const NAMES = Object.keys(TYPES) as AdminAssetName[]
/** The app's sources beside this module (sources), or the bundle the build wrote there (dist/plugins/admin/ui/). */
const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url))
/** Browsers of the last few years; esbuild lowers newer syntax (JS and CSS) to what they run. */
const BROWSERS = ['chrome109', 'edge109', 'firefox115', 'safari15.6']

let assets: Promise<AdminAssets> | undefined

/** The bundled app, made (sources) or read (built) once per process. */
export function loadAdminAssets(): Promise<AdminAssets> {
  assets ??= (import.meta.url.endsWith('.ts') ? bundleAdminUi(UI_DIR).then(({ files }) => files) : readBuiltAssets()).then(withHashes)
  // A failed bundle (a syntax error while editing) is not kept: the next call tries again.
  assets.catch(() => (assets = undefined))
  return assets
}

/** scripts/build.js: bundles the app in `sourceDir` into `targetDir`; returns the absolute paths of the files it read. */
export async function writeAdminAssets(sourceDir: string, targetDir: string): Promise<string[]> {
  const { files, inputs } = await bundleAdminUi(sourceDir)
  await mkdir(targetDir, { recursive: true })
  await Promise.all(NAMES.map((name) => writeFile(join(targetDir, name), files[name])))
  return inputs
}

/** Minified, no source maps: the same bytes from sources as from a build, so tests run what ships. */
async function bundleAdminUi(sourceDir: string): Promise<{ files: Record<AdminAssetName, string>; inputs: string[] }> {
  const esbuild = await import('esbuild')
  const workingDir = resolve(sourceDir)
  const result = await esbuild.build({
    absWorkingDir: workingDir,
    entryPoints: [
      { in: join(workingDir, 'main.tsx'), out: 'app' },
      { in: join(workingDir, 'styles', 'app.css'), out: 'app' },
    ],
    outdir: 'out',
    write: false,
    bundle: true,
    format: 'iife',
    target: BROWSERS,
    minify: true,
    sourcemap: false,
    charset: 'utf8',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(workingDir, 'tsconfig.json'),
    // Fonts or images a style sheet names are inlined, never fetched from elsewhere.
    loader: { '.svg': 'dataurl', '.woff2': 'dataurl' },
    metafile: true,
    logLevel: 'silent',
  })
  const files: Partial<Record<AdminAssetName, string>> = {}
  for (const file of result.outputFiles) {
    const name = NAMES.find((n) => file.path.endsWith(`${sep}${n}`))
    if (name) files[name] = file.text
  }
  for (const name of NAMES) if (files[name] === undefined) throw new Error(`the console's bundle has no ${name}`)
  const inputs = Object.keys(result.metafile.inputs)
    .map((path) => (isAbsolute(path) ? path : resolve(workingDir, path)))
    .filter((path) => !path.includes(`${sep}node_modules${sep}`))
  return { files: files as Record<AdminAssetName, string>, inputs }
}

async function readBuiltAssets(): Promise<Record<AdminAssetName, string>> {
  const bodies = await Promise.all(
    NAMES.map((name) =>
      readFile(join(UI_DIR, name), 'utf8').catch((error: unknown) => {
        throw new Error(`the console's ${name} is missing from ${UI_DIR} (run \`npm run build\`)`, { cause: error })
      }),
    ),
  )
  return Object.fromEntries(NAMES.map((name, i) => [name, bodies[i]!])) as Record<AdminAssetName, string>
}

function withHashes(files: Record<AdminAssetName, string>): AdminAssets {
  const entries = NAMES.map((name) => [
    name,
    { body: files[name], type: TYPES[name], hash: createHash('sha256').update(files[name]).digest('hex').slice(0, 16) },
  ])
  return Object.fromEntries(entries) as AdminAssets
}
