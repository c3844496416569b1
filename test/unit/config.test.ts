import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseEnvValue, readEnvOverrides } from '../../core/config/env.ts'
import { ConfigError, loadGatewayConfig } from '../../core/config/load.ts'

const emptyDir = () => mkdtempSync(join(tmpdir(), 'gemgate-config-'))
const load = (env: Record<string, string>, cwd = emptyDir()) => loadGatewayConfig({ cwd, env, dotenv: false })

describe('environment values', () => {
  it.each([
    ['list', '["a", "b"]', ['a', 'b']],
    ['list', "['a','b']", ['a', 'b']],
    ['list', 'a, b ,c', ['a', 'b', 'c']],
    ['list', '', []],
    ['list', '[]', []],
    ['bool', 'true', true],
    ['bool', 'FALSE', false],
    ['bool', '1', true],
    ['bool', '0', false],
    ['bool', 'on', true],
    ['int', '42', 42],
    ['number', '0.016', 0.016],
    ['string', '"quoted"', 'quoted'],
    ['json', '{"X-Trace": "1"}', { 'X-Trace': '1' }],
    ['json', "{'a': 1}", { a: 1 }],
  ] as const)('%s %j', (kind, raw, expected) => {
    expect(parseEnvValue(kind, raw)).toEqual(expected)
  })

  it.each([
    ['int', 'abc', 'whole number'],
    ['int', '1.5', 'whole number'],
    ['bool', 'maybe', 'true/false'],
    ['list', '["a", 1]', 'array of strings'],
    ['list', '[broken', 'JSON array'],
    ['json', '{nope', 'expected JSON'],
  ] as const)('rejects %s %j', (kind, raw, message) => {
    expect(() => parseEnvValue(kind, raw)).toThrow(message)
  })

  it('names every bad variable at once and never echoes secrets', () => {
    try {
      readEnvOverrides({ MAX_RETRIES: 'many', API_KEYS: '[AIzaSySECRET', PORT: '80' })
      expect.unreachable()
    } catch (error) {
      const message = (error as Error).message
      expect(message).toContain('MAX_RETRIES="many": expected a whole number')
      expect(message).toContain('API_KEYS: expected a JSON array')
      expect(message).not.toContain('AIzaSySECRET')
    }
  })
})

describe('loading the config', () => {
  it('runs on API_KEYS and ALLOWED_TOKENS alone, with documented defaults', async () => {
    const { config, sources } = await load({ API_KEYS: '["k1","k2"]', ALLOWED_TOKENS: '["sk-a","sk-b"]' })
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8000,
      apiKeys: ['k1', 'k2'],
      authToken: 'sk-a',
      maxRetries: 3,
      maxFailures: 3,
      timeoutSeconds: 300,
      database: { type: 'sqlite', sqliteDatabase: 'gemgate.db' },
      autoDeleteRequestLogsEnabled: true,
      autoDeleteRequestLogsDays: 30,
      checkIntervalHours: 1,
    })
    expect(sources.apiKeys).toBe('env:API_KEYS')
    expect(sources.maxRetries).toBe('default')
  })

  it('accepts a gemini-balance .env unchanged, including variables of features that plugins handle', async () => {
    const { config } = await load({
      DATABASE_TYPE: 'mysql',
      MYSQL_HOST: '127.0.0.1',
      MYSQL_PORT: '3306',
      MYSQL_USER: 'gemini',
      MYSQL_PASSWORD: 'change_me',
      MYSQL_DATABASE: 'default_db',
      API_KEYS: '["AIzaSyxxxxxxxxxxxxxxxxxxx","AIzaSyxxxxxxxxxxxxxxxxxxx"]',
      ALLOWED_TOKENS: '["sk-123456"]',
      AUTH_TOKEN: '',
      TEST_MODEL: 'gemini-2.5-flash-lite',
      SEARCH_MODELS: '["gemini-2.5-flash","gemini-2.5-pro"]',
      THINKING_BUDGET_MAP: '{"gemini-2.5-flash": -1}',
      FILTERED_MODELS: '["gemini-1.0-pro-vision-latest"]',
      SAFETY_SETTINGS: '[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"}]',
      PROXIES: '[]',
      TIME_OUT: '300',
      MAX_FAILURES: '10',
      CHECK_INTERVAL_HOURS: '1',
      TIMEZONE: 'Asia/Shanghai',
      LOG_LEVEL: 'INFO'.toLowerCase(),
      AUTO_DELETE_REQUEST_LOGS_ENABLED: 'false',
      STREAM_OPTIMIZER_ENABLED: 'false',
      CUSTOM_HEADERS: '{}',
    })
    expect(config.database).toMatchObject({ type: 'mysql', mysqlHost: '127.0.0.1', mysqlDatabase: 'default_db' })
    expect(config.authToken).toBe('sk-123456')
    expect(config.maxFailures).toBe(10)
    expect(config.safetySettings).toEqual([{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'OFF' }])
    expect(config.autoDeleteRequestLogsEnabled).toBe(false)
  })

  it('refuses to start without client tokens rather than serve openly', async () => {
    await expect(load({ API_KEYS: 'k1' })).rejects.toThrow(/allowedTokens \/ ALLOWED_TOKENS \(not set\)/)
    await expect(load({ API_KEYS: 'k1', ALLOWED_TOKENS: '[]' })).rejects.toThrow(/ALLOWED_TOKENS \(environment variable.*at least one client token/s)
  })

  it('names the variable, the problem and the expected form for values that parse but are out of range', async () => {
    const error = await load({ ALLOWED_TOKENS: 'sk', PORT: '70000', PROXIES: 'ftp://x', BASE_URL: 'not a url' }).catch((e) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toMatch(/PORT \(environment variable, config field port\): .*65535/)
    expect(error.message).toMatch(/PROXIES \(environment variable, config field proxies\.0\): .*socks5/)
    expect(error.message).toMatch(/BASE_URL \(environment variable, config field baseUrl\)/)
  })

  it('layers gateway.config.ts under the environment; groups merge field by field; arrays replace', async () => {
    const cwd = emptyDir()
    writeFileSync(
      join(cwd, 'gateway.config.ts'),
      `export default { port: 9100, maxRetries: 5, filteredModels: ['x'], streamOptimizer: { enabled: true, chunkSize: 9 }, $production: { port: 1 } }`,
    )
    const { config, sources, configFile } = await load({ ALLOWED_TOKENS: 'sk', MAX_RETRIES: '2', STREAM_CHUNK_SIZE: '3', FILTERED_MODELS: 'y,z' }, cwd)
    expect(configFile).toBe(join(cwd, 'gateway.config.ts'))
    expect(config.port).toBe(9100)
    expect(config.maxRetries).toBe(2)
    expect(config.filteredModels).toEqual(['y', 'z'])
    expect(config.streamOptimizer).toMatchObject({ enabled: true, chunkSize: 3, minDelay: 0.016 })
    expect(sources).toMatchObject({ port: 'file', maxRetries: 'env:MAX_RETRIES', 'streamOptimizer.enabled': 'file', 'streamOptimizer.chunkSize': 'env:STREAM_CHUNK_SIZE' })
  })

  it('rejects unknown fields in gateway.config.ts so typos are caught', async () => {
    const cwd = emptyDir()
    writeFileSync(join(cwd, 'gateway.config.ts'), `export default { maxRetrys: 5 }`)
    await expect(load({ ALLOWED_TOKENS: 'sk' }, cwd)).rejects.toThrow(/maxRetrys/)
  })

  it('loads .env from the working directory, and real variables beat it', async () => {
    const cwd = emptyDir()
    writeFileSync(join(cwd, '.env'), 'ALLOWED_TOKENS=sk-from-file\nMAX_RETRIES=7\n')
    const saved = { ...process.env }
    try {
      delete process.env.ALLOWED_TOKENS
      delete process.env.BASE_URL // vitest sets BASE_URL=/ for Vite; it is not ours
      process.env.MAX_RETRIES = '4'
      const { config, sources } = await loadGatewayConfig({ cwd })
      expect(config.allowedTokens).toEqual(['sk-from-file'])
      expect(config.maxRetries).toBe(4)
      expect(sources.allowedTokens).toBe('env:ALLOWED_TOKENS')
    } finally {
      process.env = saved
    }
  })
})
