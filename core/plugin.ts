import type { ConsolaInstance } from 'consola'
import type { H3, H3Event } from 'h3'
import type { Storage } from 'unstorage'
import type * as v from 'valibot'
import type { EnvKind } from './config/env.ts'
import type { AttemptRecord, ClientIdentity, GatewayRequest, Operation, Outcome, RequestContext } from './context.ts'
import type { Dialect } from './dialects/types.ts'
import type { GatewayError } from './errors.ts'
import type { RouteCall } from './dialects/shared/route.ts'
import type { AttemptFacts, Verdict } from './keys/judge.ts'
import type { KeyPool, Unavailable } from './keys/pool.ts'
import type { Stage, StageName } from './pipeline.ts'
import type { GenerateContentResponse } from './gemini/types.ts'
import type { Database } from 'db0'
import type { Migration } from '../storage/index.ts'
import type { ServiceRegistry } from './services.ts'
import type { GatewayControl } from './control.ts'
import type { JobDefinition } from './scheduler.ts'
import type { OperationSpec, UpstreamCall } from './upstream/types.ts'
import type { UpstreamRequest, UpstreamResponse } from './upstream/client.ts'

export type { UpstreamAttempt, UpstreamCall } from './upstream/types.ts'
export type { UpstreamResponse } from './upstream/client.ts'

/** A Gemini model object as `models.list` returns it (`name` is `models/<id>`); unknown fields pass through. */
export interface GeminiModel {
  name: string
  displayName?: string
  description?: string
  [field: string]: unknown
}

/** A Gemini GenerateContentResponse (or stream chunk) as plain JSON. */
export type GeminiResponse = GenerateContentResponse

/** Settings a plugin may read. Secrets (keys, tokens, passwords) are deliberately not among them. */
export interface PluginSettings {
  /** BASE_URL, e.g. https://generativelanguage.googleapis.com/v1beta */
  baseUrl: string
  testModel: string
  maxRetries: number
  timeoutSeconds: number
  /** DATA_DIR, for plugins that keep files. */
  dataDir: string
  /** HOST and PORT the gateway listens on (the console's address at the first run). */
  host: string
  port: number
}

/** The gateway's database for a plugin's own tables (SQLite or MySQL, the same one the logs use). */
export interface PluginDatabase {
  readonly db: Database
  readonly dialect: 'sqlite' | 'mysql'
  /**
   * Applies the plugin's migrations (recorded under `<plugin>:<id>`, so ids need only be unique within the plugin) once
   * the database answers, and resolves then. A database that is down at start delays this, never the gateway's start:
   * await it before the first query, not in setup.
   */
  migrate(migrations: readonly Migration[]): Promise<void>
}

/** A request a plugin runs from its own route; the gateway fills in the client's credentials and the dialect. */
export type PluginRequest = Omit<GatewayRequest, 'credentials' | 'dialect' | 'upstreamModel' | 'variants'> & { upstreamModel?: string; dialect?: string }

/** A request a plugin sends to Google with one key outside the pipeline (the bytes of an upload, a download). */
export interface PluginSendRequest {
  method: UpstreamRequest['method']
  /** An absolute URL on the origin of the key's API root (BASE_URL's, or its pool's own); any other is refused. */
  url: string
  headers?: Record<string, string>
  /** An iterable body streams through as the connection takes it, never held whole. */
  body?: UpstreamRequest['body']
  signal?: AbortSignal
  /** What the call is about ("File files/abc"): a refusal for a disabled key names it, as for `pinnedKey`. */
  resource?: string
}

/** What a plugin can use: capabilities, not the resolved config with every key and token in it. */
export interface PluginContext {
  readonly name: string
  /** Tagged with the plugin's name. */
  readonly logger: ConsolaInstance
  /** Services plugins provide to each other by name (an image uploader, ...). */
  readonly services: ServiceRegistry
  /** Key-value state of this plugin: memory, or Redis when the gateway shares state; keys are the plugin's own. */
  readonly state: Storage
  readonly database: PluginDatabase
  readonly settings: PluginSettings
  /**
   * Runs a request through the pipeline from a plugin route (model filter, transforms, key choice, retries, logs)
   * and returns what came back. Failures are thrown as GatewayErrors, which the route answers in its dialect.
   */
  run(call: RouteCall, request: PluginRequest): Promise<Outcome>
  /** Runs a request like `run` and answers it in `dialect`'s wire shape, stream or not, errors included. */
  answer(call: RouteCall, request: PluginRequest, dialect: Dialect): Promise<Response>
  /**
   * A key pool of the plugin's own (a paid key, another API's keys) with the same judge, cooldowns and health as
   * the gateway's, re-checked on the gateway's schedule; a hook puts it to use with `ctx.pool = thatPool` before
   * key-select runs. Keys of another API root (Vertex Express) name it as `baseUrl`: their requests, confirmations and
   * re-checks all go there, never to BASE_URL.
   */
  createKeyPool(secrets: readonly string[], options?: { baseUrl?: string }): KeyPool
  /**
   * The gateway's own keys (API_KEYS) for a plugin that talks to Google itself rather than through `run` (the Live
   * API's WebSocket): keys to pick, the judge for each attempt, and what a connection with a key carries.
   */
  readonly keys: PluginKeys
  /** Logs one upstream attempt of the plugin's own as the pipeline logs its attempts (request log; error log on failure). */
  log(entry: PluginLogEntry): void
  /**
   * Sends one request with the key whose id is `keyId` (of any pool), through that key's proxy and with CUSTOM_HEADERS:
   * for what is no JSON operation of the pipeline (upload bytes to a resumable upload URL, a file download). The key
   * goes as x-goog-api-key, to its own API root's origin only; a disabled key is refused with a GatewayError naming
   * `resource`. Nothing is judged or logged: the caller reads the answer (an error body has the key masked in it).
   */
  send(keyId: string, request: PluginSendRequest): Promise<UpstreamResponse>
  /**
   * The operator's capabilities over the running gateway: keys of every pool, settings (saved and applied without a
   * restart), client tokens, the admin token, logs, statistics, jobs, key events, proxies. What the console is built
   * on; nothing in it returns a secret unless the call is named for it (`keys.reveal`, a token just created).
   */
  readonly control: GatewayControl
}

/** A key of the gateway's pool as a plugin sees it: which one, never the secret. */
export interface PluginKey {
  readonly id: string
  /** Masked, for messages and logs. */
  readonly label: string
}

/** What a plugin states about one attempt it made itself; the gateway adds the time and what the pool knows. */
export type PluginAttemptFacts = Omit<AttemptFacts, 'now' | 'modelServed' | 'fixedRequest'>

export interface PluginKeys {
  /** A key that may serve `model` now, other than those whose ids are in `exclude`; undefined when none may. */
  pick(model: string, exclude?: ReadonlySet<string>): PluginKey | undefined
  /**
   * Judges one attempt of `key` as the pipeline judges its own (a refusal only a fixed request can pin on the key or
   * the request is settled with one), applies the verdict to the key's health, and returns it: `retry` says whether
   * another key is worth trying.
   */
  judge(key: PluginKey, facts: PluginAttemptFacts): Promise<Verdict>
  /** Why no key may serve `model` now, as the client should hear it. */
  unavailable(model: string): Unavailable
  /**
   * How a connection to Google with `key` goes out: its headers (CUSTOM_HEADERS and the key) and its proxy (PROXIES);
   * `mask` puts the key's label where Google's words name the key ("Consumer 'api_key:…' has been suspended").
   */
  outbound(key: PluginKey): { headers: Record<string, string>; proxy?: string; mask(text: string): string }
}

/** One attempt of a plugin's own for the request log; `attempt` as the pipeline records its attempts. */
export interface PluginLogEntry {
  requestId: string
  client: ClientIdentity
  /** Tags the row as the pipeline's dialects do (`live`, ...). */
  dialect: string
  operation: Operation
  model: string
  attempt: AttemptRecord
}

/** A model served under a suffix of a base model (`gemini-2.5-flash-search`): listed, accepted, and stripped. */
export interface ModelVariant {
  /** Starts with `-`; unique across plugins. */
  suffix: string
  /** Whether `base` has this variant (SEARCH_MODELS, ...). Only those are listed and accepted. */
  appliesTo(base: string): boolean
  /** The variant's entry in the model lists, from its base's (default: the base's with the suffix in the name). */
  describe?(base: GeminiModel): Partial<GeminiModel>
}

/** A stage a plugin adds next to a core stage; `run` sees every request (check `ctx.request` and pass on). */
export interface PluginStage {
  before?: StageName
  after?: StageName
  run: Stage['run']
}

/** Adds routes with the gateway's own handling: the client token is checked before the body is read. */
export interface PluginRouter {
  /**
   * A route answered in `dialect`'s error shape; refusals thrown as GatewayErrors reach the client that way.
   * A path under /v1 is served under /hf/v1 too, as in gemini-balance.
   */
  add(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, dialect: Dialect, handler: (call: RouteCall) => Promise<Response>): void
  /** The h3 app, for routes that are not API calls (pages, assets). Nothing is checked for these. */
  readonly app: H3
  /**
   * The client behind a request's credentials (?key=, x-goog-api-key, Bearer), checked as `add` checks them, for a
   * route `add` cannot take (a WebSocket upgrade on `app`). Throws the gateway's 401 GatewayError when none is valid.
   */
  authenticate(event: H3Event): ClientIdentity
  /**
   * Holds one request of an authenticated client for `model` (a Live session's setup) to what `add` routes and the
   * pipeline hold theirs to: FILTERED_MODELS (404) and the client token's models (403) and request limits (429 with
   * Retry-After, counted as one request). Returns the refusal, or undefined when the request may go.
   */
  admit(event: H3Event, model: string): Promise<GatewayError | undefined>
}

/** Synchronous or not: a hook that returns a value (not a promise) keeps the answer on the synchronous path. */
type MaybePromise<T> = T | Promise<T>

/** What a plugin does, as hooks at named points. Every hook is optional; they run in the order plugins are listed. */
export interface PluginHooks {
  /** Model variants this plugin serves under a suffix; the gateway lists them, accepts them and strips the suffix. */
  variants?: ModelVariant[]
  /** Extra entries for the model lists, given the upstream's list (an alias, ...). */
  models?(upstream: GeminiModel[]): GeminiModel[]
  /**
   * Rewrite the canonical request before a key is chosen. `request.variants` holds the suffixes the client's model
   * name carried. Reading or writing `request.body` marks it changed, so the edited body is what Google gets.
   */
  transformRequest?(request: GatewayRequest, ctx: RequestContext): MaybePromise<void>
  /**
   * Whether this plugin's answer hooks (transformResponse, transformChunk) apply to this request, asked once after the
   * request hooks ran. Absent: every generate request. When no plugin wants an answer, it travels as the bytes Google
   * sent, unparsed; so a plugin whose answer work is for some requests only says which.
   */
  rewritesAnswer?(request: GatewayRequest, ctx: RequestContext): boolean
  /** Rewrite a whole (non-stream) generateContent answer: return a replacement, or edit in place. */
  transformResponse?(response: GeminiResponse, ctx: RequestContext): MaybePromise<GeminiResponse | void>
  /** Rewrite one stream chunk: return a replacement, several chunks, `null` to drop it, or nothing to keep it. */
  transformChunk?(chunk: GeminiResponse, ctx: RequestContext): MaybePromise<GeminiResponse | GeminiResponse[] | null | void>
  /**
   * The stream chunks transformChunk is for: those whose JSON, as Google sent it, holds one of these texts (a field
   * name in its quotes, such as `'"inlineData"'`). The others pass without being parsed, as the bytes Google sent.
   * Absent: every chunk. A hook that looks for rare fields says so, and the usual answer costs it nothing.
   */
  chunksWith?: readonly string[]
  /** Wrap the call to Google; the first plugin listed is the outermost wrapper. */
  wrapUpstream?(call: UpstreamCall): UpstreamCall
  /** Stages of the plugin's own, placed next to core stages. */
  stages?: PluginStage[]
  /** Upstream operations beyond the core's (Imagen `predict`, ...), by name. */
  operations?: Record<string, OperationSpec>
  routes?(router: PluginRouter): void
  /**
   * Sends a request to another route before one is chosen (a client on a sloppy path): the URL to route instead, or
   * nothing to keep it. Runs for every request, ahead of routing, so it must be cheap; the route it leads to checks
   * the client's credentials as for any request. A plugin listed later sees the URL the earlier ones returned.
   */
  rewriteUrl?(url: URL, method: string): URL | undefined
  /** Jobs run on a schedule (or on demand from the console) beside the gateway's own, in TIMEZONE. */
  jobs?: JobDefinition[]
  /** Release timers and connections at shutdown, and when settings saved in the console rebuild the plugins. */
  dispose?(): MaybePromise<void>
}

/** A gemini-balance variable that sets one option; it wins over gateway.config.ts, as core settings do. */
export interface EnvOption {
  env: string
  kind: EnvKind
  /** Never echoed in error messages. */
  secret?: boolean
}

type ObjectSchema = v.GenericSchema<Record<string, unknown>, Record<string, unknown>>

export interface PluginDefinition<S extends ObjectSchema = ObjectSchema> {
  /** Unique; tags the logs, prefixes the state. */
  name: string
  /** One line for the README's plugin table. */
  summary: string
  /** The options, with their defaults: a valibot object schema (use `v.strictObject`, so a typo stops the start). */
  options?: S
  /** gemini-balance variables that set options. */
  env?: { [K in keyof v.InferOutput<S>]?: EnvOption }
  /** What each option does, for the README's plugin table. */
  docs?: { [K in keyof v.InferOutput<S>]?: string }
  /** The console refuses to turn this plugin off (the console itself). */
  alwaysOn?: boolean
  /** Builds the plugin's hooks from its validated options: at start, and again when settings saved in the console change. */
  setup(options: v.InferOutput<S>, ctx: PluginContext): MaybePromise<PluginHooks>
}

/** A plugin as listed in gateway.config.ts: its definition and the options given there. */
export interface Plugin {
  readonly definition: PluginDefinition<any>
  readonly options: Record<string, unknown>
}

/** `search()` or `search({ models: [...] })` in gateway.config.ts. */
export type PluginFactory<S extends ObjectSchema> = ((options?: Partial<v.InferInput<S>>) => Plugin) & { readonly definition: PluginDefinition<S> }

/**
 * Declares a plugin: one folder, one default export. gateway.config.ts lists it as `name(options)`; the options are
 * merged with the gemini-balance variables of `env` and validated against `options` when the gateway starts.
 */
export function definePlugin<S extends ObjectSchema = ObjectSchema>(definition: PluginDefinition<S>): PluginFactory<S> {
  const factory = (options: Partial<v.InferInput<S>> = {}): Plugin => ({ definition, options: options as Record<string, unknown> })
  return Object.assign(factory, { definition })
}
