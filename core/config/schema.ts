import * as v from 'valibot'
import type { Plugin } from '../plugin.ts'
import type { StageName } from '../pipeline.ts'

/**
 * The gateway's settings after defaults, the config file and the environment have been merged.
 * Every field is documented in the README's config table; the environment names live in env.ts.
 */
const port = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535))
const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1))
const nonNegative = v.pipe(v.number(), v.minValue(0))
const nonEmptyString = v.pipe(v.string(), v.trim(), v.minLength(1))
const httpUrl = v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//, 'must start with http:// or https://'))
const proxyUrl = v.pipe(v.string(), v.url(), v.regex(/^(https?|socks5h?):\/\//, 'must be an http://, https:// or socks5:// URL'))

const SafetySetting = v.looseObject({ category: nonEmptyString, threshold: nonEmptyString })

export const DEFAULT_FILTERED_MODELS = [
  'gemini-1.0-pro-vision-latest',
  'gemini-pro-vision',
  'chat-bison-001',
  'text-bison-001',
  'embedding-gecko-001',
]

export const ConfigSchema = v.strictObject({
  host: v.optional(nonEmptyString, '0.0.0.0'),
  port: v.optional(port, 8000),
  dataDir: v.optional(nonEmptyString, './data'),

  apiKeys: v.optional(v.array(nonEmptyString), []),
  allowedTokens: v.pipe(v.optional(v.array(nonEmptyString), []), v.minLength(1, 'at least one client token is required; the gateway refuses to serve openly')),
  /** The admin token; defaults to the first allowed token, as in gemini-balance. */
  authToken: v.optional(nonEmptyString),

  baseUrl: v.optional(httpUrl, 'https://generativelanguage.googleapis.com/v1beta'),
  timeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1)), 300),
  maxFailures: v.optional(positiveInt, 3),
  maxRetries: v.optional(positiveInt, 3),
  checkIntervalHours: v.optional(nonNegative, 1),
  keyCheckConcurrency: v.optional(positiveInt, 4),
  testModel: v.optional(nonEmptyString, 'gemini-2.5-flash-lite'),
  proxies: v.optional(v.array(proxyUrl), []),
  proxiesUseConsistencyHash: v.optional(v.boolean(), true),
  customHeaders: v.optional(v.record(v.string(), v.string()), {}),
  filteredModels: v.optional(v.array(nonEmptyString), DEFAULT_FILTERED_MODELS),
  safetySettings: v.optional(v.array(SafetySetting)),
  /** Replace the client's safetySettings with `safetySettings` instead of only filling them in when absent. */
  forceSafetySettings: v.optional(v.boolean(), false),
  maxRequestBodyMb: v.optional(v.pipe(v.number(), v.minValue(1)), 25),
  /** Media URLs in OpenAI/Anthropic messages are fetched by the gateway: how long, how big, and whether private addresses are allowed. */
  mediaFetchTimeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1)), 15),
  mediaFetchMaxMb: v.optional(v.pipe(v.number(), v.minValue(1)), 20),
  mediaFetchAllowPrivate: v.optional(v.boolean(), false),

  database: v.optional(
    v.strictObject({
      type: v.optional(v.picklist(['sqlite', 'mysql']), 'sqlite'),
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

  logLevel: v.optional(v.picklist(['debug', 'info', 'warning', 'warn', 'error', 'critical', 'silent']), 'info'),
  errorLogRecordRequestBody: v.optional(v.boolean(), false),
  autoDeleteErrorLogsEnabled: v.optional(v.boolean(), true),
  autoDeleteErrorLogsDays: v.optional(positiveInt, 7),
  autoDeleteRequestLogsEnabled: v.optional(v.boolean(), true),
  autoDeleteRequestLogsDays: v.optional(positiveInt, 30),

  streamOptimizer: v.optional(
    v.strictObject({
      enabled: v.optional(v.boolean(), false),
      minDelay: v.optional(nonNegative, 0.016),
      maxDelay: v.optional(nonNegative, 0.024),
      shortTextThreshold: v.optional(positiveInt, 10),
      longTextThreshold: v.optional(positiveInt, 50),
      chunkSize: v.optional(positiveInt, 5),
    }),
    {},
  ),

  /** Feature plugins, in the order their hooks run. */
  plugins: v.optional(v.array(v.custom<Plugin>((p) => typeof p === 'object' && p !== null && typeof (p as Plugin).name === 'string', 'must be a plugin made with definePlugin')), []),
  /** Pipeline stages, outermost first; see core/pipeline.ts for the default order. */
  pipeline: v.optional(v.array(v.custom<StageName>((s) => typeof s === 'string', 'must be a stage name'))),
})

export type GatewayConfig = v.InferInput<typeof ConfigSchema>
export type ResolvedConfig = v.InferOutput<typeof ConfigSchema> & { authToken: string }

/** Typed identity for gateway.config.ts; c12 loads the file, this only gives editors the types. */
export function defineConfig(config: Partial<GatewayConfig>): Partial<GatewayConfig> {
  return config
}
