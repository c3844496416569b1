// What each core setting does and where the console groups it. `live: false` settings are read before anything
// else opens (where to listen, where the data is): they change in the environment or gateway.config.ts, with a restart.

export interface SettingDoc {
  group: string
  doc: string
  live?: false
  /** Managed on a page of its own (keys, client tokens) or in code (plugins, pipeline): not listed with the settings. */
  hidden?: true
}

const server = (doc: string): SettingDoc => ({ group: 'Server', doc, live: false })
const storage = (doc: string): SettingDoc => ({ group: 'Storage', doc, live: false })

export const SETTING_DOCS: Record<string, SettingDoc> = {
  host: server('Address to listen on.'),
  port: server('Port to listen on.'),
  dataDir: server('Folder of the SQLite database, the deployment secret and the admin token hash.'),
  apiKeys: { group: 'Keys', doc: 'Gemini API keys (the Keys page adds more).', hidden: true },
  allowedTokens: { group: 'Access', doc: 'Client tokens (the Tokens page creates more).', hidden: true },
  authToken: { group: 'Access', doc: 'The admin token, also a client token.', hidden: true },
  baseUrl: { group: 'Upstream', doc: 'The Gemini API root requests go to.' },
  timeoutSeconds: { group: 'Upstream', doc: 'Seconds to wait for response headers, and for each next piece of a stream.' },
  maxFailures: { group: 'Keys', doc: 'Ambiguous failures in a row before a key is disabled; a success resets the count.' },
  maxRetries: { group: 'Keys', doc: 'Attempts per request, each on a different key.' },
  checkIntervalHours: { group: 'Schedule', doc: 'Hours between re-checks of disabled keys (0 = off).' },
  keyCheckConcurrency: { group: 'Keys', doc: 'Keys tested at once by re-checks and verify.' },
  testModel: { group: 'Keys', doc: 'Model of the fixed request that tests a key.' },
  proxies: { group: 'Upstream', doc: 'Outbound proxies (http://, https://, socks5://, credentials allowed); each key keeps its proxy.' },
  proxiesUseConsistencyHash: { group: 'Upstream', doc: 'Each key keeps one proxy (off: a random proxy per request).' },
  customHeaders: { group: 'Upstream', doc: 'Extra headers on every upstream call (JSON object).' },
  filteredModels: { group: 'Models', doc: 'Models hidden from lists and refused with 404, without spending a key.' },
  safetySettings: { group: 'Models', doc: 'Safety settings filled in when the client sent none (JSON array).' },
  forceSafetySettings: { group: 'Models', doc: "Replace the client's safety settings too." },
  maxRequestBodyMb: { group: 'Limits', doc: 'Larger request bodies get 413.' },
  mediaFetchTimeoutSeconds: { group: 'Limits', doc: 'Seconds to fetch an image or file URL from a message.' },
  mediaFetchMaxMb: { group: 'Limits', doc: 'Largest media URL fetched from a message.' },
  mediaFetchAllowPrivate: { group: 'Limits', doc: 'Allow media URLs on private and loopback addresses.' },
  'database.type': storage('sqlite or mysql.'),
  'database.sqliteDatabase': storage('SQLite file name under DATA_DIR.'),
  'database.mysqlHost': storage('MySQL host.'),
  'database.mysqlPort': storage('MySQL port.'),
  'database.mysqlUser': storage('MySQL user.'),
  'database.mysqlPassword': storage('MySQL password.'),
  'database.mysqlDatabase': storage('MySQL database.'),
  'database.mysqlSocket': storage('MySQL Unix socket, instead of host and port.'),
  redisUrl: storage('Redis shared by instances (key health, sessions).'),
  redisPrefix: storage('Prefix of every Redis key and channel of this deployment: deployments sharing one Redis need different ones.'),
  logLevel: { group: 'Logging', doc: 'debug, info, warning, error, critical or silent.' },
  errorLogRecordRequestBody: { group: 'Logging', doc: 'Keep the request body with each error-log row.' },
  autoDeleteErrorLogsEnabled: { group: 'Logging', doc: 'Delete old error logs.' },
  autoDeleteErrorLogsDays: { group: 'Logging', doc: 'Days error logs are kept.' },
  autoDeleteRequestLogsEnabled: { group: 'Logging', doc: 'Delete old request logs (statistics stay).' },
  autoDeleteRequestLogsDays: { group: 'Logging', doc: 'Days request logs are kept.' },
  'streamOptimizer.enabled': { group: 'Streams', doc: 'Re-emit streamed text in small steady pieces.' },
  'streamOptimizer.minDelay': { group: 'Streams', doc: 'Seconds between pieces of long texts.' },
  'streamOptimizer.maxDelay': { group: 'Streams', doc: 'Seconds between pieces of short texts.' },
  'streamOptimizer.shortTextThreshold': { group: 'Streams', doc: 'Texts shorter than this are short.' },
  'streamOptimizer.longTextThreshold': { group: 'Streams', doc: 'Texts longer than this are long.' },
  'streamOptimizer.chunkSize': { group: 'Streams', doc: 'Characters per piece of a long text.' },
  plugins: { group: 'Plugins', doc: 'Feature plugins (gateway.config.ts).', hidden: true },
  pipeline: { group: 'Server', doc: 'Pipeline stages (gateway.config.ts).', hidden: true },
  timezone: { group: 'Schedule', doc: 'IANA time zone jobs are scheduled in (the machine\u2019s by default).', live: false },
  jobSchedules: { group: 'Schedule', doc: 'A cron pattern per job name instead of the one its settings give (JSON object).' },
  // Observability (issue #11).
  metricsToken: { group: 'Logging', doc: 'Bearer token for GET /metrics (Prometheus); unset: no /metrics, requests not counted.' },
  logFormat: { group: 'Logging', doc: 'auto (JSON lines when NODE_ENV=production), json or pretty.', live: false },
  // Key selection (issue #11).
  keyStrategy: { group: 'Keys', doc: 'How the next key is chosen: rotation, adaptive (recent success and speed), least-in-flight, or weighted (keyWeights).' },
  keyWeights: { group: 'Keys', doc: 'For weighted: key id or pool name → weight (JSON object); 0 = only when no key with a weight can serve.' },
  keyCaps: { group: 'Keys', doc: 'Requests and input tokens per minute and per day, per key, per model or for the whole pool (JSON object; README).' },
  keyWaitSeconds: { group: 'Keys', doc: 'When every key is cooling down, how long a request may wait for the first to come back (0 = 429 at once).' },
  hedgeMode: { group: 'Keys', doc: 'Hedged requests: off, fixed (a second key after hedgeAfterMs without a first byte) or p95 (the model’s recent p95).' },
  hedgeAfterMs: { group: 'Keys', doc: 'Milliseconds without a first byte before a hedged request tries a second key (p95: until the model has 20 samples).' },
  // Client tokens with limits (issue #11).
  clientTokens: {
    group: 'Access',
    doc: 'Client tokens with a name and limits: models, requests per minute and day, tokens per day and month, expiry (gateway.config.ts; the Tokens page shows them).',
    hidden: true,
  },
}
