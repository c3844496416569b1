// @ts-check
/**
 * `npm run build`: compile the sources to dist/ (tsconfig.build.json, TypeScript's own emitter).
 * `npm start` runs `node scripts/build.js --if-stale` first: it builds only when a file the last build read has changed
 * since (or gateway.config.ts appeared), so `npm install && npm start` works on a fresh clone, after a pull and after
 * an edit, and costs a few milliseconds of stat calls otherwise.
 *
 * Two starts at once: one builds while the other waits on the lock, then finds the build fresh. A build is written to a
 * folder of its own and swapped in whole, so no start loads a half-written dist/.
 *
 * The console's browser app (plugins/admin/ui, excluded from the TypeScript build) is bundled with esbuild into
 * dist/plugins/admin/ui/ by the freshly compiled plugin's own `writeAdminAssets`: the same bundle `npm run dev` and the
 * tests make in memory. The files the bundle read are inputs of the build like the compiled ones.
 *
 * Plain JavaScript: it runs before anything is compiled, and Node 20 cannot run TypeScript.
 */
import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join, relative, sep } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = join(ROOT, 'dist')
const LOCK = join(ROOT, '.dist.lock')
/** Written into dist/: every file the build read (sources, gateway.config.ts and what it imports) with its mtime. */
const MANIFEST = 'build.json'
/** Read by the build without being its sources: a change to them changes the output too. */
const BUILD_FILES = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.js', 'plugins/admin/ui/tsconfig.json']
/** A lock older than this was left by a build that died without removing it. */
const LOCK_STALE_MS = 5 * 60_000

/** Why dist/ must be (re)built, or undefined when it is what the sources compile to. */
function staleReason() {
  let inputs
  try {
    inputs = JSON.parse(readFileSync(join(DIST, MANIFEST), 'utf8')).inputs
  } catch {
    return 'no build yet'
  }
  for (const [file, mtime] of Object.entries(inputs)) {
    if (mtimeOf(file) !== mtime) return `${file} changed`
  }
  if (!('gateway.config.ts' in inputs) && existsSync(join(ROOT, 'gateway.config.ts'))) return 'gateway.config.ts appeared'
  return undefined
}

async function build() {
  const tsc = typescriptCompiler()
  const out = join(ROOT, `.dist.${process.pid}`)
  rmSync(out, { recursive: true, force: true })
  const startedAt = Date.now()
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out, '--listFiles'], { cwd: ROOT, encoding: 'utf8' })
  // --listFiles prints every file of the program, one absolute path a line, beside any diagnostics.
  const lines = `${run.stdout}`.split('\n').filter(Boolean)
  if (run.status !== 0) {
    rmSync(out, { recursive: true, force: true })
    const diagnostics = lines.filter((line) => !isAbsolute(line)).join('\n')
    throw new Error(`the TypeScript build failed:\n${diagnostics}${run.stderr ?? ''}`)
  }
  const compiled = lines.filter((line) => line.startsWith(ROOT) && !line.includes(`${sep}node_modules${sep}`))
  const bundled = await bundleAdminUi(out).catch((/** @type {unknown} */ error) => {
    rmSync(out, { recursive: true, force: true })
    throw new Error(`bundling the console's browser app failed:\n${error instanceof Error ? error.message : error}`)
  })
  const read = [...compiled, ...bundled].map((line) => relative(ROOT, line))
  /** @type {Record<string, number | undefined>} */
  const inputs = {}
  for (const file of [...read, ...BUILD_FILES]) {
    const mtime = mtimeOf(file)
    // Edited (or removed) while the compiler ran: what was compiled may be the older text, so the next start builds again.
    inputs[file] = mtime === undefined || mtime >= startedAt ? -1 : mtime
  }
  await writeFile(join(out, MANIFEST), JSON.stringify({ inputs }, null, 1))
  swapIn(out)
}

/** Bundles plugins/admin/ui into the build in `out`; returns the absolute paths of the files the bundle read. */
async function bundleAdminUi(/** @type {string} */ out) {
  const { writeAdminAssets } = await import(pathToFileURL(join(out, 'plugins', 'admin', 'assets.js')).href)
  return /** @type {string[]} */ (await writeAdminAssets(join(ROOT, 'plugins', 'admin', 'ui'), join(out, 'plugins', 'admin', 'ui')))
}

/** Folders of builds that died half way (this one holds the lock, so no other build is running). */
function removeAbandonedBuilds() {
  for (const name of readdirSync(ROOT)) {
    if (/^\.dist\.(old\.)?\d+$/.test(name)) rmSync(join(ROOT, name), { recursive: true, force: true })
  }
}

/** Replace dist/ by the new build: two renames, never a dist/ with some files of each. */
function swapIn(/** @type {string} */ out) {
  const old = join(ROOT, `.dist.old.${process.pid}`)
  if (existsSync(DIST)) renameSync(DIST, old)
  renameSync(out, DIST)
  rmSync(old, { recursive: true, force: true })
}

/** The compiler's launcher; `typescript` is a devDependency, so a production-only install has none. */
function typescriptCompiler() {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
  } catch {
    throw new Error('TypeScript is not installed (it is a devDependency): run `npm install` without --omit=dev, then start again.')
  }
}

/** @returns {number | undefined} */
function mtimeOf(/** @type {string} */ file) {
  try {
    return statSync(join(ROOT, file)).mtimeMs
  } catch {
    return undefined
  }
}

/** Hold the build lock while `work` runs; a start that finds it taken waits for the build in progress. */
async function withLock(/** @type {() => Promise<void>} */ work) {
  let waiting = false
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      break
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EEXIST') throw error
    }
    if (lockAbandoned()) {
      rmSync(LOCK, { force: true })
      continue
    }
    if (!waiting) console.log('gemgate: waiting for the build another start is running')
    waiting = true
    await sleep(100)
  }
  try {
    await work()
  } finally {
    rmSync(LOCK, { force: true })
  }
}

/** The lock's holder is gone (its pid is not running), or it has held it far longer than a build takes. */
function lockAbandoned() {
  try {
    const pid = Number(readFileSync(LOCK, 'utf8'))
    if (Date.now() - statSync(LOCK).mtimeMs > LOCK_STALE_MS) return true
    if (!pid) return false // created a moment ago, its pid not written yet
    process.kill(pid, 0)
    return false
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'ESRCH'
  }
}

async function main() {
  const ifStale = process.argv.includes('--if-stale')
  if (ifStale && !staleReason()) return
  await withLock(async () => {
    // Another start may have built while this one waited for the lock.
    const reason = staleReason()
    if (ifStale && !reason) return
    const started = Date.now()
    console.log(`gemgate: building dist/ (${reason ?? 'npm run build'})`)
    removeAbandonedBuilds()
    await build()
    console.log(`gemgate: built dist/ in ${((Date.now() - started) / 1000).toFixed(1)}s`)
  })
}

main().catch((error) => {
  console.error(`gemgate: ${error instanceof Error ? error.message : error}`)
  process.exit(1)
})
