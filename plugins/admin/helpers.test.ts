import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { fieldErrors, validate } from './internal/http.ts'
import { findKeys } from './internal/key-text.ts'
import { consoleUrl } from './internal/first-run.ts'
import { realChanges } from './internal/setting-changes.ts'
import type { SettingView } from './internal/types.ts'
import { fakeKey } from './test-client.ts'

describe('keys found in pasted text', () => {
  it('finds Gemini keys anywhere, in order, repeats included, and nothing longer or shorter', () => {
    const [a, b] = [fakeKey('one'), fakeKey('two')]
    expect(findKeys(`API_KEYS=["${a}","${b}"] then ${a}.`, 'gemini')).toEqual([a, b, a])
    expect(findKeys(`${a}x ${a.slice(0, -1)} x${a}`, 'gemini')).toEqual([])
  })

  it('finds Vertex Express keys for that pool only', () => {
    const vertex = `AQ.${'Ab1_-'.repeat(11)}`
    expect(findKeys(`key: ${vertex} and ${fakeKey('g')}`, 'vertex-express')).toEqual([vertex])
    expect(findKeys(vertex, 'gemini')).toEqual([])
  })
})

describe('input errors', () => {
  it('name the field and never repeat the input (it may be a key)', () => {
    const secret = fakeKey('secret')
    const result = v.safeParse(v.object({ count: v.number(), mode: v.picklist(['a', 'b']), name: v.pipe(v.string(), v.regex(/^x/)) }), {
      count: secret,
      mode: secret,
      name: secret,
    })
    const fields = fieldErrors(result.issues!)
    expect(Object.keys(fields)).toEqual(['count', 'mode', 'name'])
    expect(JSON.stringify(fields)).not.toContain(secret)
    expect(() => validate(v.object({ n: v.number() }), { n: secret }, 'body')).toThrow(
      expect.objectContaining({ status: 400, message: expect.not.stringContaining(secret) }),
    )
  })
})

describe('setting changes sent back by a form', () => {
  const view = (path: string, value: unknown, secret: boolean): SettingView => ({
    path,
    value,
    secret,
    group: 'Upstream',
    doc: '',
    type: 'list',
    source: 'console',
    pinned: false,
    live: true,
  })
  const views = [view('maxRetries', 3, false), view('proxies', ['••••@127.0.0.1:9'], true)]

  it('drops what did not change, keeps null (back to the default), refuses a masked secret', () => {
    expect(realChanges(views, { maxRetries: 3, proxies: ['••••@127.0.0.1:9'] })).toEqual({})
    expect(realChanges(views, { maxRetries: null, proxies: ['http://127.0.0.1:8'] })).toEqual({ maxRetries: null, proxies: ['http://127.0.0.1:8'] })
    expect(() => realChanges(views, { proxies: ['••••@127.0.0.1:9', 'http://127.0.0.1:8'] }, (path) => `ENV_${path}`)).toThrow(
      expect.objectContaining({ status: 400, fields: { ENV_proxies: expect.stringContaining('masked') } }),
    )
  })
})

describe('the console URL printed at the first run', () => {
  it('is browsable for wildcard and IPv6 addresses', () => {
    expect(consoleUrl('0.0.0.0', 8000)).toBe('http://localhost:8000/')
    expect(consoleUrl('::', 8000)).toBe('http://localhost:8000/')
    expect(consoleUrl('::1', 9)).toBe('http://[::1]:9/')
    expect(consoleUrl('gw.internal', 80)).toBe('http://gw.internal:80/')
  })
})
