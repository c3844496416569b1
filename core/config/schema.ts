import * as v from 'valibot'
import type { Plugin } from '../plugin.ts'
import type { StageName } from '../pipeline.ts'
import { checkSchedule } from '../internal/schedule-timer.ts'
import { STRATEGY_NAMES } from '../keys/strategies.ts'

/**
 * The gateway's settings after defaults, the config file and the environment have been merged.
 * Every field is documented in the README's config table; the environment names live in env.ts.
 */
const nonEmptyString = v.pipe(v.string(), v.trim(), v.minLength(1))
const httpUrl = v.pipe(v.string(), v.url('must be a URL'), v.regex(/^https?:\/\//, 'must start with http:// or https://'))
const proxyUrl = v.pipe(v.string(), v.url('must be a URL'), v.regex(/^(https?|socks5h?):\/\//, 'must be an http://, https:// or socks5:// URL'))

/**
 * Every number has a ceiling as well as a floor: a huge value would otherwise overflow a timer (Node fires a
 * setInterval beyond 2^31-1 ms every millisecond) or a size computation, and is a typo anyway.
 */
const between = (min: number, max: number) =>
  v.pipe(v.number(), v.minValue(min, `must be between ${min} and ${max}`), v.maxValue(max, `must be between ${min} and ${max}`))
const wholeBetween = (min: number, max: number) => v.pipe(v.number(), v.integer('must be a whole number'), between(min, max))
const port = wholeBetween(0, 65535)
const DAY_SECONDS = 86_400

/** gemini-balance's documentation writes enum values in upper case (LOG_LEVEL=INFO); any case is accepted. */
const anyCase = <const T extends string>(options: readonly T[]) =>
  v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist(options, `must be one of ${options.join(', ')} (any case)`))

const SafetySetting = v.looseObject({ category: nonEmptyString, threshold: nonEmptyString })

// Key selection (issue #11): per-key caps, each a whole number of requests or input tokens, 0 lifting a cap a less
// specific setting sets (see core/keys/caps.ts).
const capLimits = {
  rpm: v.optional(wholeBetween(0, 1e9)),
  rpd: v.optional(wholeBetween(0, 1e9)),
  tpm: v.optional(wholeBetween(0, 1e12)),
  tpd: v.optional(wholeBetween(0, 1e12)),
}
const capsByModel = v.optional(v.record(nonEmptyString, v.strictObject(capLimits)))
const KeyCaps = v.strictObject({
  ...capLimits,
  models: capsByModel,
  keys: v.optional(v.record(nonEmptyString, v.strictObject({ ...capLimits, models: capsByModel }))),
  pool: v.optional(v.strictObject({ ...capLimits, models: capsByModel })),
})

// Client tokens with limits (issue #11, core/clients/limits.ts): each count a whole number, 0 or absent for no limit.
const clientCount = v.optional(wholeBetween(0, 1e15))
const expiry = v.union(
  [
    v.pipe(v.number(), v.integer(), v.minValue(0)),
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(/^\d{4}-\d{2}-\d{2}/),
      v.transform((text: string) => Date.parse(text)),
      v.check((ms: number) => Number.isFinite(ms)),
    ),
  ],
  'must be an ISO 8601 date or time (2026-01-01 is midnight UTC) or epoch milliseconds',
)
// Messages of our own where valibot's would quote the value: it may be a token.
const ClientTokenFields = v.strictObject({
  token: v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'must not be empty')),
  name: v.optional(v.pipe(nonEmptyString, v.maxLength(100, 'must be at most 100 characters'))),
  /** Exact model ids, or prefixes ending in '*'; absent or empty: every model. */
  models: v.optional(
    v.pipe(v.array(v.pipe(nonEmptyString, v.maxLength(191, 'must be at most 191 characters'))), v.maxLength(100, 'must list at most 100 models')),
  ),
  rpm: clientCount,
  rpd: clientCount,
  tokensPerDay: clientCount,
  tokensPerMonth: clientCount,
  expiresAt: v.optional(expiry),
  enabled: v.optional(v.boolean(), true),
})
const ClientToken = v.pipe(
  v.custom<v.InferInput<typeof ClientTokenFields>>(
    (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
    'must be an object with a token and its limits',
  ),
  ClientTokenFields,
)

export const DEFAULT_FILTERED_MODELS = ['gemini-1.0-pro-vision-latest', 'gemini-pro-vision', 'chat-bison-001', 'text-bison-001', 'embedding-gecko-001']

export const ConfigSchema = v.strictObject({
  host: v.optional(nonEmptyString, '0.0.0.0'),
  port: v.optional(port, 8000),
  dataDir: v.optional(nonEmptyString, './data'),

  apiKeys: v.optional(v.array(nonEmptyString), []),
  /** Client tokens; when empty, AUTH_TOKEN alone is the one client token, as in gemini-balance. */
  allowedTokens: v.optional(v.array(nonEmptyString), []),
  /** The admin token; defaults to the first allowed token, as in gemini-balance. */
  authToken: v.optional(nonEmptyString),

  baseUrl: v.optional(httpUrl, 'https://generativelanguage.googleapis.com/v1beta'),
  timeoutSeconds: v.optional(between(1, DAY_SECONDS), 300),
  maxFailures: v.optional(wholeBetween(1, 1000), 3),
  maxRetries: v.optional(wholeBetween(1, 100), 3),
  /** 0 turns the re-check off; at most 30 days. */
  checkIntervalHours: v.optional(between(0, 24 * 30), 1),
  keyCheckConcurrency: v.optional(wholeBetween(1, 256), 4),
  testModel: v.optional(nonEmptyString, 'gemini-2.5-flash-lite'),
  proxies: v.optional(v.array(proxyUrl), []),
  proxiesUseConsistencyHash: v.optional(v.boolean(), true),
  customHeaders: v.optional(v.record(v.string(), v.string()), {}),
  filteredModels: v.optional(v.array(nonEmptyString), DEFAULT_FILTERED_MODELS),
  safetySettings: v.optional(v.array(SafetySetting)),
  /** Replace the client's safetySettings with `safetySettings` instead of only filling them in when absent. */
  forceSafetySettings: v.optional(v.boolean(), false),
  maxRequestBodyMb: v.optional(between(1, 2048), 25),
  /** Media URLs in OpenAI/Anthropic messages are fetched by the gateway: how long, how big, and whether private addresses are allowed. */
  mediaFetchTimeoutSeconds: v.optional(between(1, DAY_SECONDS), 15),
  mediaFetchMaxMb: v.optional(between(1, 1024), 20),
  mediaFetchAllowPrivate: v.optional(v.boolean(), false),

  database: v.optional(
    v.strictObject({
      type: v.optional(anyCase(['sqlite', 'mysql']), 'sqlite'),
      sqliteDatabase: v.optional(nonEmptyString, 'gemgate.db'),
      mysqlHost: v.optional(nonEmptyString, 'localhost'),
      mysqlPort: v.optional(port, 3306),
      mysqlUser: v.optional(v.string(), ''),
      mysqlPassword: v.optional(v.string(), ''),
      mysqlDatabase: v.optional(v.string(), ''),
      mysqlSocket: v.optional(v.string()),
    }),
    {},
  ),
  redisUrl: v.optional(v.pipe(v.string(), v.regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'))),
  // Several instances (issue #11): what keeps one deployment's keys and channels apart from another's on a shared Redis.
  redisPrefix: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores')), 'gemgate'),

  logLevel: v.optional(anyCase(['debug', 'info', 'warning', 'warn', 'error', 'critical', 'silent']), 'info'),
  errorLogRecordRequestBody: v.optional(v.boolean(), false),
  autoDeleteErrorLogsEnabled: v.optional(v.boolean(), true),
  autoDeleteErrorLogsDays: v.optional(wholeBetween(1, 3650), 7),
  autoDeleteRequestLogsEnabled: v.optional(v.boolean(), true),
  autoDeleteRequestLogsDays: v.optional(wholeBetween(1, 3650), 30),

  streamOptimizer: v.optional(
    v.strictObject({
      enabled: v.optional(v.boolean(), false),
      /** Seconds between pieces. */
      minDelay: v.optional(between(0, 10), 0.016),
      maxDelay: v.optional(between(0, 10), 0.024),
      shortTextThreshold: v.optional(wholeBetween(1, 1_000_000), 10),
      longTextThreshold: v.optional(wholeBetween(1, 1_000_000), 50),
      chunkSize: v.optional(wholeBetween(1, 1_000_000), 5),
    }),
    {},
  ),

  /** Feature plugins, in the order their hooks run. */
  plugins: v.optional(
    v.array(
      v.custom<Plugin>(
        (p) => typeof p === 'object' && p !== null && typeof (p as Plugin).definition?.name === 'string',
        'must be a plugin made with definePlugin, listed as name() or name({ ...options })',
      ),
    ),
    [],
  ),
  /** Pipeline stages, outermost first; see core/pipeline.ts for the default order. */
  pipeline: v.optional(v.array(v.custom<StageName>((s) => typeof s === 'string', 'must be a stage name'))),

  /** The time zone jobs are scheduled in (TIMEZONE); the machine's own by default. */
  timezone: v.optional(v.pipe(nonEmptyString, v.check(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC'))),
  /** A cron pattern per job name ('key-recheck', 'log-retention', ...) instead of the one its settings give. */
  jobSchedules: v.optional(
    v.record(
      v.string(),
      v.pipe(
        nonEmptyString,
        v.check(
          (pattern) => !scheduleProblem(pattern),
          (issue) => scheduleProblem(String(issue.input))!,
        ),
      ),
    ),
    {},
  ),

  // Observability (issue #11).
  /** The Bearer token GET /metrics asks for; without one there is no /metrics (404) and requests are not counted. */
  metricsToken: v.optional(nonEmptyString),
  /** json: one JSON object per log line; pretty: readable (colour on a terminal); auto: json when NODE_ENV=production. */
  logFormat: v.optional(anyCase(['auto', 'json', 'pretty']), 'auto'),

  // Key selection (issue #11).
  /** How the next key is chosen: rotation (round robin), adaptive, least-in-flight, or weighted (by keyWeights). */
  keyStrategy: v.optional(anyCase(STRATEGY_NAMES), 'rotation'),
  /** For the weighted strategy: key id or pool name → weight; 0 = only when no key with a weight can serve. */
  keyWeights: v.optional(v.record(nonEmptyString, between(0, 1000)), {}),
  /** Requests and input tokens per minute and per day, per key (per model) or for the whole pool. */
  keyCaps: v.optional(KeyCaps, {}),
  /** When every key is cooling down, a request may wait this long for the first to come back (0: 429 at once). */
  keyWaitSeconds: v.optional(between(0, 600), 0),
  /** Hedged requests: off, fixed (a second key after hedgeAfterMs without a first byte), or p95 (after the model's recent p95). */
  hedgeMode: v.optional(anyCase(['off', 'fixed', 'p95']), 'off'),
  hedgeAfterMs: v.optional(wholeBetween(1, 600_000), 2_000),

  // Client tokens with limits (issue #11).
  /** Client tokens with a name and limits (models, requests per minute and day, tokens per day and month, expiry); ALLOWED_TOKENS have none. */
  clientTokens: v.optional(
    v.pipe(
      v.array(ClientToken, 'must be a list of client tokens'),
      v.check((tokens) => new Set(tokens.map((entry) => entry.token)).size === tokens.length, 'lists a token twice'),
    ),
    [],
  ),
})

export type GatewayConfig = v.InferInput<typeof ConfigSchema>
/**
 * After loading: authToken is AUTH_TOKEN or ALLOWED_TOKENS' first; allowedTokens holds AUTH_TOKEN when it was the only
 * one given. Both are empty at a first run with nothing set: the console makes the admin token then.
 */
export type ResolvedConfig = v.InferOutput<typeof ConfigSchema>

/** What is wrong with a job schedule (a cron pattern of 5 or 6 fields, or `@every <n>s|m|h`); undefined when nothing. */
function scheduleProblem(pattern: string): string | undefined {
  try {
    checkSchedule(pattern, 'UTC')
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

function isTimeZone(zone: string): boolean {
  try {
    return Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone !== undefined
  } catch {
    return false
  }
}

/** Typed identity for gateway.config.ts; c12 loads the file, this only gives editors the types. */
export function defineConfig(config: Partial<GatewayConfig>): Partial<GatewayConfig> {
  return config
}
