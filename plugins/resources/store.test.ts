import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, type Backend } from '../../test/storage/backends.ts'
import { migrate, type GatewayDatabase } from '../../storage/index.ts'
import { createResourceStore, MIGRATIONS, type Binding, type ResourceStore } from './internal/store.ts'

const NOW = 1_764_000_000_000
const binding = (name: string, overrides: Partial<Binding> = {}): Binding => ({
  name,
  kind: 'file',
  keyId: 'key-a',
  tokenId: 'token-a',
  createdAt: NOW,
  expiresAt: NOW + 1000,
  body: JSON.stringify({ name }),
  ...overrides,
})

/** The records on both databases the gateway runs on: the same statements must do the same on SQLite and MySQL. */
describe.each(backends())('resource records on $name', (backend: Backend) => {
  let database: GatewayDatabase
  let store: ResourceStore

  beforeAll(async () => {
    await backend.setup()
    database = await backend.openFresh()
    const ready = migrate(
      database,
      MIGRATIONS.map((migration) => ({ ...migration, id: `resources:${migration.id}` })),
    ).then(() => {})
    store = createResourceStore({ db: database.db, dialect: database.dialect, migrate: async () => {} }, ready)
  })
  afterAll(async () => {
    await database?.close()
    await backend.teardown()
  })

  it('binds, finds while alive, lists per token or for all, in creation order and pages', async () => {
    await store.bind(binding('files/b', { createdAt: NOW + 1 }))
    await store.bind(binding('files/a'))
    await store.bind(binding('files/c', { tokenId: 'token-b', createdAt: NOW + 2 }))
    await store.bind(binding('cachedContents/x', { kind: 'cachedContent', expiresAt: null }))
    expect(await store.find('files/a', NOW)).toEqual(binding('files/a'))
    expect(await store.find('files/a', NOW + 1000)).toBeUndefined()
    expect(await store.find('cachedContents/x', NOW + 10 ** 9)).toMatchObject({ expiresAt: null })
    const names = (rows: Binding[]) => rows.map((row) => row.name)
    expect(names(await store.list('file', 'token-a', 0, 10, NOW))).toEqual(['files/a', 'files/b'])
    expect(names(await store.list('file', undefined, 1, 10, NOW))).toEqual(['files/b', 'files/c'])
    expect(names(await store.list('file', undefined, 0, 2, NOW))).toEqual(['files/a', 'files/b'])
    // A name bound again (Google never reuses one, but a record may be re-made) replaces its record.
    await store.bind(binding('files/a', { keyId: 'key-b' }))
    expect((await store.find('files/a', NOW))?.keyId).toBe('key-b')
    await store.refresh('files/a', '{"name":"files/a","state":"ACTIVE"}', NOW + 5000)
    expect(await store.find('files/a', NOW + 2000)).toMatchObject({ body: '{"name":"files/a","state":"ACTIVE"}', expiresAt: NOW + 5000 })
    await store.forget('files/a')
    expect(await store.find('files/a', NOW)).toBeUndefined()
  })

  it('keeps a huge answer without its bulky parts', async () => {
    const answers = Array.from({ length: 2000 }, (_, i) => ({ response: { text: `answer ${i} `.repeat(10) } }))
    const body = JSON.stringify({
      name: 'batches/big',
      metadata: { state: 'BATCH_STATE_SUCCEEDED', output: { inlinedResponses: answers } },
      response: { inlinedResponses: answers },
    })
    await store.bind(binding('batches/big', { kind: 'batch', body }))
    expect(JSON.parse((await store.find('batches/big', NOW))!.body!)).toEqual({ name: 'batches/big', metadata: { state: 'BATCH_STATE_SUCCEEDED' } })
  })

  it('keeps upload sessions until they expire; the cleanup deletes what expired, and only that', async () => {
    await store.openUpload({
      id: 'session-1',
      keyId: 'key-a',
      tokenId: 'token-a',
      upstreamUrl: 'https://g/upload?upload_id=1',
      declaredBytes: 3 * 2 ** 40,
      expiresAt: NOW + 100,
    })
    expect(await store.findUpload('session-1', NOW)).toMatchObject({ keyId: 'key-a', declaredBytes: 3 * 2 ** 40 })
    await store.touchUpload('session-1', NOW + 5000)
    expect(await store.findUpload('session-1', NOW + 1000)).toBeDefined()
    await store.bind(binding('files/old', { expiresAt: NOW - 1 }))
    await store.bind(binding('files/new', { expiresAt: NOW + 10_000 }))
    expect(await store.cleanup(NOW)).toBe(1)
    expect(await store.find('files/new', NOW)).toBeDefined()
    expect(await store.cleanup(NOW + 6000)).toBeGreaterThan(0)
    expect(await store.findUpload('session-1', NOW)).toBeUndefined()
    await store.openUpload({ id: 'session-2', keyId: 'k', tokenId: 't', upstreamUrl: 'u', declaredBytes: null, expiresAt: NOW + 100 })
    await store.closeUpload('session-2')
    expect(await store.findUpload('session-2', NOW)).toBeUndefined()
  })
})
