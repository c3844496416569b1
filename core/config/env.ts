/**
 * gemini-balance's environment variables, mapped onto our config fields, so an existing gemini-balance `.env`
 * works unchanged. Values arrive as strings; each kind parses the forms gemini-balance (pydantic-settings)
 * accepted: lists as JSON arrays or comma separated, booleans as true/false/1/0/yes/no/on/off, maps as JSON.
 * Variables of features that live in plugins are read by those plugins, not here.
 */
export type EnvKind = 'string' | 'int' | 'number' | 'bool' | 'list' | 'json'

export interface EnvBinding {
  env: string
  /** Dotted path into the config object. */
  path: string
  kind: EnvKind
  /** Never echoed in error messages. */
  secret?: boolean
}

const b = (env: string, path: string, kind: EnvKind, secret = false): EnvBinding => ({ env, path, kind, secret })

export const ENV_BINDINGS: readonly EnvBinding[] = [
  b('HOST', 'host', 'string'),
  b('PORT', 'port', 'int'),
  b('DATA_DIR', 'dataDir', 'string'),
  b('API_KEYS', 'apiKeys', 'list', true),
  b('ALLOWED_TOKENS', 'allowedTokens', 'list', true),
  b('AUTH_TOKEN', 'authToken', 'string', true),
  b('BASE_URL', 'baseUrl', 'string'),
  b('TIME_OUT', 'timeoutSeconds', 'number'),
  b('MAX_FAILURES', 'maxFailures', 'int'),
  b('MAX_RETRIES', 'maxRetries', 'int'),
  b('CHECK_INTERVAL_HOURS', 'checkIntervalHours', 'number'),
  b('KEY_CHECK_CONCURRENCY', 'keyCheckConcurrency', 'int'),
  b('TEST_MODEL', 'testModel', 'string'),
  b('PROXIES', 'proxies', 'list', true),
  b('PROXIES_USE_CONSISTENCY_HASH_BY_API_KEY', 'proxiesUseConsistencyHash', 'bool'),
  b('CUSTOM_HEADERS', 'customHeaders', 'json', true),
  b('FILTERED_MODELS', 'filteredModels', 'list'),
  b('SAFETY_SETTINGS', 'safetySettings', 'json'),
  b('FORCE_SAFETY_SETTINGS', 'forceSafetySettings', 'bool'),
  b('MAX_REQUEST_BODY_MB', 'maxRequestBodyMb', 'number'),
  b('MEDIA_FETCH_TIMEOUT', 'mediaFetchTimeoutSeconds', 'number'),
  b('MEDIA_FETCH_MAX_MB', 'mediaFetchMaxMb', 'number'),
  b('MEDIA_FETCH_ALLOW_PRIVATE', 'mediaFetchAllowPrivate', 'bool'),
  b('DATABASE_TYPE', 'database.type', 'string'),
  b('SQLITE_DATABASE', 'database.sqliteDatabase', 'string'),
  b('MYSQL_HOST', 'database.mysqlHost', 'string'),
  b('MYSQL_PORT', 'database.mysqlPort', 'int'),
  b('MYSQL_USER', 'database.mysqlUser', 'string'),
  b('MYSQL_PASSWORD', 'database.mysqlPassword', 'string', true),
  b('MYSQL_DATABASE', 'database.mysqlDatabase', 'string'),
  b('MYSQL_SOCKET', 'database.mysqlSocket', 'string'),
  b('REDIS_URL', 'redisUrl', 'string', true),
  b('REDIS_PREFIX', 'redisPrefix', 'string'),
  b('LOG_LEVEL', 'logLevel', 'string'),
  b('ERROR_LOG_RECORD_REQUEST_BODY', 'errorLogRecordRequestBody', 'bool'),
  b('AUTO_DELETE_ERROR_LOGS_ENABLED', 'autoDeleteErrorLogsEnabled', 'bool'),
  b('AUTO_DELETE_ERROR_LOGS_DAYS', 'autoDeleteErrorLogsDays', 'int'),
  b('AUTO_DELETE_REQUEST_LOGS_ENABLED', 'autoDeleteRequestLogsEnabled', 'bool'),
  b('AUTO_DELETE_REQUEST_LOGS_DAYS', 'autoDeleteRequestLogsDays', 'int'),
  b('STREAM_OPTIMIZER_ENABLED', 'streamOptimizer.enabled', 'bool'),
  b('STREAM_MIN_DELAY', 'streamOptimizer.minDelay', 'number'),
  b('STREAM_MAX_DELAY', 'streamOptimizer.maxDelay', 'number'),
  b('STREAM_SHORT_TEXT_THRESHOLD', 'streamOptimizer.shortTextThreshold', 'int'),
  b('STREAM_LONG_TEXT_THRESHOLD', 'streamOptimizer.longTextThreshold', 'int'),
  b('STREAM_CHUNK_SIZE', 'streamOptimizer.chunkSize', 'int'),
  b('TIMEZONE', 'timezone', 'string'),
  // Observability (issue #11).
  b('METRICS_TOKEN', 'metricsToken', 'string', true),
  b('LOG_FORMAT', 'logFormat', 'string'),
  // Key selection (issue #11).
  b('KEY_STRATEGY', 'keyStrategy', 'string'),
  b('KEY_WEIGHTS', 'keyWeights', 'json'),
  b('KEY_CAPS', 'keyCaps', 'json'),
  b('KEY_WAIT_SECONDS', 'keyWaitSeconds', 'number'),
  b('HEDGE_MODE', 'hedgeMode', 'string'),
  b('HEDGE_AFTER_MS', 'hedgeAfterMs', 'int'),
]

export class EnvParseError extends Error {}

const TRUE = new Set(['true', '1', 'yes', 'on'])
const FALSE = new Set(['false', '0', 'no', 'off'])

function stripQuotes(raw: string): string {
  const s = raw.trim()
  return s.length >= 2 && (s[0] === '"' || s[0] === "'") && s.at(-1) === s[0] ? s.slice(1, -1) : s
}

export function parseEnvValue(kind: EnvKind, raw: string): unknown {
  const s = raw.trim()
  switch (kind) {
    case 'string':
      return stripQuotes(s)
    case 'int':
    case 'number': {
      const n = Number(stripQuotes(s))
      if (s === '' || !Number.isFinite(n)) throw new EnvParseError(`expected a ${kind === 'int' ? 'whole number' : 'number'}`)
      if (kind === 'int' && !Number.isInteger(n)) throw new EnvParseError('expected a whole number')
      return n
    }
    case 'bool': {
      const lower = stripQuotes(s).toLowerCase()
      if (TRUE.has(lower)) return true
      if (FALSE.has(lower)) return false
      throw new EnvParseError('expected true/false (or 1/0, yes/no, on/off)')
    }
    case 'list':
      return parseList(s)
    case 'json':
      try {
        return JSON.parse(s)
      } catch {
        // pydantic-settings users sometimes write Python-style single quotes; accept them when unambiguous.
        try {
          return JSON.parse(s.replace(/'/g, '"'))
        } catch {
          throw new EnvParseError('expected JSON, e.g. {"X-Header": "value"} or [{"category": "...", "threshold": "..."}]')
        }
      }
  }
}

function parseList(s: string): string[] {
  if (s === '') return []
  if (s.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(s)
    } catch {
      try {
        parsed = JSON.parse(s.replace(/'/g, '"'))
      } catch {
        throw new EnvParseError('expected a JSON array like ["a","b"] or a comma-separated list like a,b')
      }
    }
    if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== 'string')) {
      throw new EnvParseError('expected a JSON array of strings')
    }
    return parsed.map((x: string) => x.trim()).filter(Boolean)
  }
  return s
    .split(',')
    .map((x) => stripQuotes(x))
    .filter(Boolean)
}

export interface EnvOverrides {
  values: Record<string, unknown>
  /** config path -> the environment variable it came from */
  sources: Map<string, string>
}

/** Reads every bound variable present in `env`; throws one error naming every bad variable. */
export function readEnvOverrides(env: Record<string, string | undefined>): EnvOverrides {
  const values: Record<string, unknown> = {}
  const sources = new Map<string, string>()
  const problems: string[] = []
  for (const binding of ENV_BINDINGS) {
    const raw = env[binding.env]
    if (raw === undefined) continue
    // An empty optional variable means "not set", as in gemini-balance's .env.example (AUTH_TOKEN=).
    if (raw.trim() === '' && binding.kind !== 'list') continue
    try {
      setPath(values, binding.path, parseEnvValue(binding.kind, raw))
      sources.set(binding.path, binding.env)
    } catch (error) {
      const shown = binding.secret ? '' : `=${JSON.stringify(preview(raw))}`
      problems.push(`${binding.env}${shown}: ${(error as Error).message}`)
    }
  }
  if (problems.length > 0) throw new EnvParseError(problems.join('\n'))
  return { values, sources }
}

const preview = (raw: string) => (raw.length > 60 ? `${raw.slice(0, 57)}...` : raw)

export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let node = target
  for (const part of parts.slice(0, -1)) {
    const next = node[part]
    node = (typeof next === 'object' && next !== null ? next : (node[part] = {})) as Record<string, unknown>
  }
  node[parts.at(-1)!] = value
}
