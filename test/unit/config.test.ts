import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ENV_BINDINGS, parseEnvValue, readEnvOverrides } from '../../core/config/env.ts'
import { ConfigError, loadGatewayConfig } from '../../core/config/load.ts'
import type { GatewayConfig } from '../../core/config/schema.ts'
import { checkTokenStrength, PLACEHOLDER_TOKENS } from '../../core/config/tokens.ts'

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
      LOG_LEVEL: 'INFO', // upper case, as gemini-balance's README writes it
      AUTO_DELETE_REQUEST_LOGS_ENABLED: 'false',
      STREAM_OPTIMIZER_ENABLED: 'false',
      CUSTOM_HEADERS: '{}',
    })
    expect(config.database).toMatchObject({ type: 'mysql', mysqlHost: '127.0.0.1', mysqlDatabase: 'default_db' })
    expect(config.authToken).toBe('sk-123456')
    expect(config.maxFailures).toBe(10)
    expect(config.safetySettings).toEqual([{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'OFF' }])
    expect(config.autoDeleteRequestLogsEnabled).toBe(false)
    expect(config.logLevel).toBe('info')
  })

  it('loads with no client token at all (the first run: the console makes the admin token, nothing is served until a client token exists)', async () => {
    for (const env of [{ API_KEYS: 'k1' }, { ALLOWED_TOKENS: '[]' }] as Record<string, string>[]) {
      const { config } = await load(env)
      expect(config.allowedTokens).toEqual([])
      expect(config.authToken).toBeUndefined()
    }
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
    expect(sources).toMatchObject({
      port: 'file',
      maxRetries: 'env:MAX_RETRIES',
      'streamOptimizer.enabled': 'file',
      'streamOptimizer.chunkSize': 'env:STREAM_CHUNK_SIZE',
    })
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

const TOKEN = 'sk-a-long-enough-client-token'
const failure = (env: Record<string, string>, overrides?: Partial<GatewayConfig>) =>
  loadGatewayConfig({ cwd: emptyDir(), env: { ALLOWED_TOKENS: TOKEN, ...env }, dotenv: false, overrides }).then(
    () => expect.unreachable('the config loaded'),
    (error: Error) => {
      expect(error).toBeInstanceOf(ConfigError)
      return error.message
    },
  )

describe('number bounds', () => {
  it.each([
    ['PORT', '65536', '0 and 65535'],
    ['MYSQL_PORT', '65536', '0 and 65535'],
    ['TIME_OUT', '86401', '1 and 86400'],
    ['MAX_FAILURES', '1001', '1 and 1000'],
    ['MAX_RETRIES', '101', '1 and 100'],
    ['MAX_RETRIES', '0', '1 and 100'],
    ['CHECK_INTERVAL_HOURS', '1000', '0 and 720'],
    ['CHECK_INTERVAL_HOURS', '-1', '0 and 720'],
    ['KEY_CHECK_CONCURRENCY', '257', '1 and 256'],
    ['MAX_REQUEST_BODY_MB', '2049', '1 and 2048'],
    ['MEDIA_FETCH_TIMEOUT', '1e9', '1 and 86400'],
    ['MEDIA_FETCH_MAX_MB', '1025', '1 and 1024'],
    ['AUTO_DELETE_ERROR_LOGS_DAYS', '3651', '1 and 3650'],
    ['AUTO_DELETE_REQUEST_LOGS_DAYS', '3651', '1 and 3650'],
    ['STREAM_MIN_DELAY', '11', '0 and 10'],
    ['STREAM_MAX_DELAY', '10.5', '0 and 10'],
    ['STREAM_SHORT_TEXT_THRESHOLD', '1000001', '1 and 1000000'],
    ['STREAM_LONG_TEXT_THRESHOLD', '1000001', '1 and 1000000'],
    ['STREAM_CHUNK_SIZE', '1000001', '1 and 1000000'],
  ])('%s=%s stops the start, naming the variable and the range', async (name, value, range) => {
    const message = await failure({ [name]: value })
    expect(message).toMatch(new RegExp(`${name} \\(environment variable, config field [\\w.]+\\): must be between ${range}`))
  })

  it('every number variable has a ceiling', async () => {
    const numeric = ENV_BINDINGS.filter((binding) => binding.kind === 'int' || binding.kind === 'number')
    expect(numeric.length).toBeGreaterThan(15)
    const message = await failure(Object.fromEntries(numeric.map((binding) => [binding.env, '1000000000000'])))
    for (const binding of numeric) expect(message).toMatch(new RegExp(`${binding.env} \\(environment variable[^\\n]*must be between`))
  })

  it('the largest allowed values load', async () => {
    const { config } = await load({
      ALLOWED_TOKENS: TOKEN,
      TIME_OUT: '86400',
      MAX_RETRIES: '100',
      CHECK_INTERVAL_HOURS: '720',
      KEY_CHECK_CONCURRENCY: '256',
      MAX_REQUEST_BODY_MB: '2048',
      MEDIA_FETCH_MAX_MB: '1024',
      AUTO_DELETE_REQUEST_LOGS_DAYS: '3650',
      STREAM_MAX_DELAY: '10',
    })
    expect(config).toMatchObject({ timeoutSeconds: 86400, maxRetries: 100, checkIntervalHours: 720, maxRequestBodyMb: 2048 })
  })
})

describe('secrets in error messages', () => {
  // Each value is invalid for its field and would be echoed by valibot's own message.
  it.each<[string, Record<string, string>, Partial<GatewayConfig> | undefined, string]>([
    ['apiKeys', {}, { apiKeys: 'AIzaSy-SECRET-KEY-not-a-list' as never }, 'SECRET-KEY'],
    ['allowedTokens', { ALLOWED_TOKENS: '' }, { allowedTokens: 'sk-SECRET-TOKEN-not-a-list' as never }, 'SECRET-TOKEN'],
    ['authToken', {}, { authToken: 31415926535897 as never }, '31415926535897'],
    ['proxies', { PROXIES: 'http://user:SECRETPASS@' }, undefined, 'SECRETPASS'],
    ['proxies', {}, { proxies: ['http://user:SECRETPASS@[::1'] }, 'SECRETPASS'],
    ['customHeaders', { CUSTOM_HEADERS: '"Bearer SECRET-HEADER"' }, undefined, 'SECRET-HEADER'],
    ['customHeaders', { CUSTOM_HEADERS: '{"Authorization": 27182818284590}' }, undefined, '27182818284590'],
    ['database.mysqlPassword', {}, { database: { mysqlPassword: 16180339887498 as never } }, '16180339887498'],
    ['database', {}, { database: 'mysql://root:SECRETPW@db' as never }, 'SECRETPW'],
    ['redisUrl', { REDIS_URL: 'http://:SECRETPW@redis' }, undefined, 'SECRETPW'],
    ['redisUrl', {}, { redisUrl: 14142135623730 as never }, '14142135623730'],
  ])('a bad %s is named without its value', async (field, env, overrides, secret) => {
    const message = await failure(env, overrides)
    expect(message).toContain(field)
    expect(message).not.toContain(secret)
  })

  it('non-secret values are still shown', async () => {
    expect(await failure({}, { testModel: 31415926535897 as never })).toContain('31415926535897')
  })
})

describe('gemini-balance compatibility', () => {
  it.each([
    ['LOG_LEVEL', 'INFO', 'logLevel', 'info'],
    ['LOG_LEVEL', 'Warning', 'logLevel', 'warning'],
    ['DATABASE_TYPE', 'MYSQL', 'database', { type: 'mysql' }],
    ['DATABASE_TYPE', ' SQLite ', 'database', { type: 'sqlite' }],
  ])('%s=%s is read in any case', async (name, value, field, expected) => {
    const { config } = await load({ ALLOWED_TOKENS: TOKEN, [name]: value })
    expect(config).toMatchObject({ [field]: expected })
  })

  it('AUTH_TOKEN alone is the one client token', async () => {
    const { config, sources } = await load({ AUTH_TOKEN: 'sk-admin-and-only-token' })
    expect(config.allowedTokens).toEqual(['sk-admin-and-only-token'])
    expect(config.authToken).toBe('sk-admin-and-only-token')
    expect(sources.allowedTokens).toBe('env:AUTH_TOKEN')
    expect((await load({ AUTH_TOKEN: 'sk-admin-and-only-token', ALLOWED_TOKENS: '[]' })).config.allowedTokens).toEqual(['sk-admin-and-only-token'])
  })
})

describe('token strength', () => {
  const check = (allowedTokens: string[], authToken = allowedTokens[0]!, clientTokens: { token: string; name: string }[] = []) =>
    checkTokenStrength({ allowedTokens, authToken, clientTokens: clientTokens as never })

  it.each([
    { tokens: ['sk-a-long-enough-client-token'], auth: undefined, warnings: [], errors: [] },
    { tokens: ['sk-123456'], auth: undefined, warnings: [/client token sk\.\.\. is 9 characters/], errors: [] },
    { tokens: ['sk-a-long-enough-client-token'], auth: 'admin', warnings: [/AUTH_TOKEN a\.\.\. is 5 characters/], errors: [] },
    { tokens: ['fifteen-chars-x', 'sixteen-chars-xy'], auth: undefined, warnings: [/fi\.\.\.-x is 15 characters/], errors: [] },
    { tokens: ['sk-choose-a-long-random-token'], auth: undefined, warnings: [], errors: [/client token "sk-choose-a-long-random-token" is the placeholder/] },
    { tokens: ['sk-a-long-enough-client-token'], auth: 'CHANGE-ME-long-random-client-token', warnings: [], errors: [/AUTH_TOKEN .* placeholder/] },
  ])('$tokens / $auth', ({ tokens, auth, warnings, errors }) => {
    const result = check(tokens, auth)
    expect(result.warnings).toHaveLength(warnings.length)
    warnings.forEach((pattern, i) => expect(result.warnings[i]).toMatch(pattern))
    expect(result.errors).toHaveLength(errors.length)
    errors.forEach((pattern, i) => expect(result.errors[i]).toMatch(pattern))
  })

  it('checks the tokens of clientTokens too, by their names', () => {
    const result = check(['sk-a-long-enough-client-token'], undefined, [
      { token: 'short-one', name: 'ci' },
      { token: 'sk-choose-a-long-random-token', name: 'copied' },
    ])
    expect(result.warnings).toEqual([expect.stringMatching(/client token "ci" sh\.\.\. is 9 characters/)])
    expect(result.errors).toEqual([expect.stringMatching(/client token "copied" .* placeholder/)])
  })

  it('a warning never shows more than a third of the token', () => {
    const [warning] = check(['abcdefghijklmno']).warnings
    expect(warning).toContain('ab...no')
    expect(warning).not.toContain('abc')
  })

  it('refuses every token placeholder of .env.example, at start', async () => {
    const example = readFileSync(join(import.meta.dirname, '../../.env.example'), 'utf8')
    const tokens = [...example.matchAll(/^#?\s*(?:ALLOWED_TOKENS|AUTH_TOKEN)=(\S+)/gm)].flatMap((match) => parseEnvValue('list', match[1]!) as string[])
    expect(tokens.length).toBeGreaterThan(0)
    for (const token of tokens) {
      expect(PLACEHOLDER_TOKENS).toContain(token)
      expect(await failure({ ALLOWED_TOKENS: token })).toContain('placeholder from .env.example')
    }
  })
})
