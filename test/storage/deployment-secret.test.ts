import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as settle } from 'node:timers/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  DEPLOYMENT_SECRET_FILE,
  DEPLOYMENT_SECRET_SETTING,
  obtainDeploymentSecret,
  openDatabaseWhenReachable,
  type GatewayDatabase,
} from '../../storage/index.ts'
import { backends, count, type Backend } from './backends.ts'

function recordingLogger() {
  const warns: string[] = []
  const infos: string[] = []
  return { warns, infos, warn: (...a: unknown[]) => warns.push(a.map(String).join(' ')), info: (...a: unknown[]) => infos.push(a.map(String).join(' ')) }
}

const dataDir = () => mkdtempSync(join(tmpdir(), 'gemgate-secret-'))
const cacheOf = (dir: string) => readFileSync(join(dir, DEPLOYMENT_SECRET_FILE), 'utf8').trim()
const storedSecret = async (database: GatewayDatabase) =>
  ((await database.db.prepare('SELECT value FROM settings WHERE name = ?').get(DEPLOYMENT_SECRET_SETTING)) as { value: string } | undefined)?.value

async function until(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !(await condition()); await settle(20)) if (Date.now() > end) throw new Error('condition not met in time')
}

/** Every instance of a deployment must compute the same key and token ids, so they share one secret. */
describe.each(backends())('the deployment secret on $name', (backend: Backend) => {
  let database: GatewayDatabase
  beforeAll(async () => {
    await backend.setup()
    database = await backend.open()
  })
  beforeEach(() => database.db.prepare('DELETE FROM settings WHERE name = ?').run(DEPLOYMENT_SECRET_SETTING))
  afterAll(async () => {
    await database?.close()
    await backend.teardown()
  })

  it('instances starting together agree on one secret, later starts read it back, and DATA_DIR keeps an owner-only copy', async () => {
    const other = await backend.open()
    try {
      const [dirA, dirB] = [dataDir(), dataDir()]
      const [a, b] = await Promise.all([obtainDeploymentSecret(database, { dataDir: dirA }), obtainDeploymentSecret(other, { dataDir: dirB })])
      expect(a).toEqual({ secret: expect.stringMatching(/^[0-9a-f]{64}$/), source: 'database' })
      expect(b).toEqual(a)
      expect(await count(database, 'settings', `WHERE name = '${DEPLOYMENT_SECRET_SETTING}'`)).toBe(1)
      expect(cacheOf(dirA)).toBe(a.secret)
      expect(cacheOf(dirB)).toBe(a.secret)
      expect(statSync(join(dirA, DEPLOYMENT_SECRET_FILE)).mode & 0o777).toBe(0o600)
      expect(await obtainDeploymentSecret(database, { dataDir: dataDir() })).toEqual(a)
    } finally {
      await other.close()
    }
  })

  it('a database that lost its secret gets the copy from DATA_DIR back, so ids do not change', async () => {
    const dir = dataDir()
    const first = await obtainDeploymentSecret(database, { dataDir: dir })
    await database.db.prepare('DELETE FROM settings WHERE name = ?').run(DEPLOYMENT_SECRET_SETTING)
    expect(await obtainDeploymentSecret(database, { dataDir: dir })).toEqual(first)
    expect(await storedSecret(database)).toBe(first.secret)
  })

  if (backend.name !== 'mysql') return

  describe('with the server down at start', () => {
    const opened: GatewayDatabase[] = []
    const openWhileDown = async () => {
      const restore = await backend.outage()
      const handle = await openDatabaseWhenReachable(backend.options(), { firstDelayMs: 20, maxDelayMs: 50, logger: recordingLogger() })
      opened.push(handle)
      expect(handle.isReady()).toBe(false)
      return { handle, restore }
    }
    afterAll(async () => {
      for (const handle of opened) await handle.close()
    })

    it('the copy in DATA_DIR gives the same ids, silently', async () => {
      const dir = dataDir()
      const shared = await obtainDeploymentSecret(database, { dataDir: dir })
      const { handle, restore } = await openWhileDown()
      const logger = recordingLogger()
      try {
        expect(await obtainDeploymentSecret(handle, { dataDir: dir, logger })).toEqual({ secret: shared.secret, source: 'cache' })
      } finally {
        await restore()
      }
      await handle.ready
      await settle(50)
      expect(logger.warns).toEqual([])
    })

    it('with no copy either: an ephemeral secret and one warning; an empty database takes it once back', async () => {
      const dir = dataDir()
      const { handle, restore } = await openWhileDown()
      const logger = recordingLogger()
      const found = await obtainDeploymentSecret(handle, { dataDir: dir, logger })
      expect(found.source).toBe('ephemeral')
      expect(logger.warns).toEqual([expect.stringMatching(/no deployment secret .*differ from other instances' until the database is back/)])
      expect(existsSync(join(dir, DEPLOYMENT_SECRET_FILE))).toBe(false)
      await restore()
      await until(async () => (await storedSecret(database)) === found.secret)
      await until(() => existsSync(join(dir, DEPLOYMENT_SECRET_FILE)))
      expect(cacheOf(dir)).toBe(found.secret)
      expect(logger.infos).toEqual([expect.stringMatching(/now stored in the database/)])
      expect(logger.warns).toHaveLength(1)
    })

    it('... and when the database holds another one, says once that this instance differs until it restarts', async () => {
      const shared = await obtainDeploymentSecret(database, { dataDir: dataDir() })
      const dir = dataDir()
      const { handle, restore } = await openWhileDown()
      const logger = recordingLogger()
      const found = await obtainDeploymentSecret(handle, { dataDir: dir, logger })
      expect(found.source).toBe('ephemeral')
      await restore()
      await until(() => logger.warns.length === 2)
      expect(logger.warns[1]).toMatch(/holds another deployment secret.*until it restarts/)
      expect(await storedSecret(database)).toBe(shared.secret)
      expect(existsSync(join(dir, DEPLOYMENT_SECRET_FILE))).toBe(false)
    })
  })
})
