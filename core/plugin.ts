import type { ConsolaInstance } from 'consola'
import type { H3 } from 'h3'
import type { Storage } from 'unstorage'
import type * as v from 'valibot'
import type { EnvKind } from './config/env.ts'
import type { GatewayRequest, Outcome, RequestContext } from './context.ts'
import type { Dialect } from './dialects/types.ts'
import type { RouteCall } from './dialects/shared/route.ts'
import type { KeyPool } from './keys/pool.ts'
import type { Stage, StageName } from './pipeline.ts'
import type { GenerateContentResponse } from './gemini/types.ts'
import type { Database } from 'db0'
import type { Migration } from '../storage/index.ts'
import type { ServiceRegistry } from './services.ts'
import type { OperationSpec, UpstreamCall } from './upstream/types.ts'

export type { UpstreamAttempt, UpstreamCall } from './upstream/types.ts'

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
  add(method: 'GET' | 'POST' | 'DELETE', path: string, dialect: Dialect, handler: (call: RouteCall) => Promise<Response>): void
  /** The h3 app, for routes that are not API calls (pages, assets). Nothing is checked for these. */
  readonly app: H3
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
  /** Release timers and connections at shutdown. */
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
  /** Builds the plugin's hooks from its validated options, once at start. */
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
