import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import admin from './index.ts'
import { expectNoSecret, login, type ConsoleClient } from './test-client.ts'

const generate = (gw: Running, token: string) => post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText('hi'), { 'x-goog-api-key': token })

describe('console client tokens, jobs and proxies API', () => {
  let gw: Running
  let client: ConsoleClient
  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [admin()] } })
    client = await login(gw)
  })
  afterAll(() => gw.close())

  it('creates a client token shown once, which works at once; disables, enables and deletes it', async () => {
    const configured = await client.json('GET', '/api/tokens')
    expect(configured).toEqual([expect.objectContaining({ source: 'config', enabled: true, label: expect.stringContaining('...') })])
    expectNoSecret(JSON.stringify(configured))

    const created = await client.call('POST', '/api/tokens', { name: '  chat app  ' })
    expect(created.status).toBe(201)
    const { token, view } = await created.json()
    expect(token).toMatch(/^sk-/)
    expect(view).toMatchObject({ name: 'chat app', source: 'console', enabled: true })
    expect(JSON.stringify(await client.json('GET', '/api/tokens'))).not.toContain(token)
    expect((await generate(gw, token)).status).toBe(200)

    expect(await client.json('POST', `/api/tokens/${view.id}/disable`)).toMatchObject({ id: view.id, enabled: false })
    expect((await generate(gw, token)).status).toBe(401)
    expect(await client.json('POST', `/api/tokens/${view.id}/enable`)).toMatchObject({ enabled: true })
    expect((await generate(gw, token)).status).toBe(200)
    expect((await client.call('POST', '/api/tokens/no-such-token/enable')).status).toBe(404)

    const removed = await client.json('POST', '/api/tokens/delete', { ids: [view.id, configured[0].id] })
    expect(removed).toEqual({ removed: [view.id], refused: [configured[0].id] })
    expect((await generate(gw, token)).status).toBe(401)
    for (const bad of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(101) }, { name: 7 }])
      expect((await client.call('POST', '/api/tokens', bad)).status).toBe(400)
    expect((await client.call('POST', '/api/tokens/delete', { ids: [] })).status).toBe(400)
  })

  it('lists jobs with their schedule and runs; runs one now, pauses and resumes it; 404 for an unknown one', async () => {
    const jobs = await client.json('GET', '/api/jobs')
    expect(jobs.map((job: { name: string }) => job.name)).toEqual(expect.arrayContaining(['key-recheck', 'log-retention', 'session-sweep']))
    const run = await client.json('POST', '/api/jobs/session-sweep/run')
    expect(run).toMatchObject({ name: 'session-sweep', running: false, lastRun: { ok: true, summary: '0 session(s) removed' } })
    const paused = await client.json('POST', '/api/jobs/session-sweep/pause')
    expect(paused).toMatchObject({ paused: true, nextRun: null })
    expect(await client.json('POST', '/api/jobs/session-sweep/resume')).toMatchObject({ paused: false, nextRun: expect.any(Number) })
    expect((await client.call('POST', '/api/jobs/no-such-job/run')).status).toBe(404)
  })

  it('gemini-balance’s scheduler stop and start pause and resume every job', async () => {
    const stopped = await client.json('POST', '/api/scheduler/stop')
    expect(stopped.success).toBe(true)
    expect(stopped.jobs.every((job: { paused: boolean }) => job.paused)).toBe(true)
    const started = await client.json('POST', '/api/scheduler/start')
    expect(started.jobs.every((job: { paused: boolean }) => !job.paused)).toBe(true)
  })

  it('lists proxies (none here) and refuses to check one that does not exist', async () => {
    expect(await client.json('GET', '/api/proxies')).toEqual({ proxies: [] })
    expect(await client.json('POST', '/api/proxies/check', {})).toEqual([])
    const outside = await client.call('POST', '/api/proxies/check', { indexes: [0] })
    expect(outside.status).toBe(400)
    expect((await outside.json()).error.fields).toEqual({ indexes: 'names a proxy that does not exist' })
    expect((await client.call('POST', '/api/proxies/check', { indexes: [-1] })).status).toBe(400)
  })
})
