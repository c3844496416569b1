import type { ConsolaInstance } from 'consola'
import type { H3 } from 'h3'
import type { ResolvedConfig } from './config/schema.ts'
import type { GatewayRequest, Operation, Outcome, RequestContext } from './context.ts'
import type { ServiceRegistry } from './services.ts'

/** A Gemini model object as `models.list` returns it (`name` is `models/<id>`); unknown fields pass through. */
export interface GeminiModel {
  name: string
  displayName?: string
  description?: string
  [field: string]: unknown
}

/** What a plugin gets at setup and when it adds routes or models. */
export interface PluginContext {
  config: ResolvedConfig
  services: ServiceRegistry
  logger: ConsolaInstance
  /** The process environment, for plugins that honour gemini-balance variables of their own (SEARCH_MODELS, ...). */
  env: Record<string, string | undefined>
}

/** One call to Google with one key; `wrapUpstream` hooks see and may change it. */
export interface UpstreamAttempt {
  operation: Operation
  model: string
  stream: boolean
  /** Request body text as it will be sent. */
  body: string
  key: { id: string; label: string; secret: string }
}

export type UpstreamCall = (attempt: UpstreamAttempt, ctx: RequestContext) => Promise<Outcome>

/** A Gemini GenerateContentResponse (or stream chunk) as plain JSON. */
export type GeminiResponse = Record<string, any>

/**
 * A feature of the gateway: one folder, one default export. Every hook is optional; they run in the order the
 * plugins are listed in gateway.config.ts. Hooks that sit on the per-chunk path are synchronous on purpose.
 */
export interface Plugin {
  name: string
  /** Runs once at start, before any request; provide services here. */
  setup?(ctx: PluginContext): void | Promise<void>
  /** Extra entries for the model lists, given the upstream's list (e.g. `-search` variants of listed models). */
  models?(upstream: GeminiModel[], ctx: PluginContext): GeminiModel[]
  /** Rewrite the canonical request before a key is chosen. Set `ctx.bodyChanged = true` after editing the body. */
  transformRequest?(request: GatewayRequest, ctx: RequestContext): void | Promise<void>
  /** Rewrite a whole (non-stream) generateContent answer; return a replacement or edit in place. */
  transformResponse?(response: GeminiResponse, ctx: RequestContext): GeminiResponse | void
  /** Rewrite one stream chunk: return a replacement, several chunks, `null` to drop it, or nothing to keep it. */
  transformChunk?(chunk: GeminiResponse, ctx: RequestContext): GeminiResponse | GeminiResponse[] | null | void
  /** Wrap the call to Google (fake streaming, caching, racing two keys, ...). */
  wrapUpstream?(call: UpstreamCall): UpstreamCall
  /** Add HTTP routes of the plugin's own. */
  routes?(app: H3, ctx: PluginContext): void
  /** Release timers and connections at shutdown. */
  dispose?(): void | Promise<void>
}

/**
 * Declares a plugin. Pass the plugin itself, or a factory taking options, which is what gateway.config.ts
 * then calls: `plugins: [search({ models: ['gemini-2.5-flash'] })]`.
 */
// The factory overload comes first: a function has a `name` too, so it would also pass as a Plugin.
export function definePlugin<O>(factory: (options: O) => Plugin): (options: O) => Plugin
export function definePlugin(plugin: Plugin): Plugin
export function definePlugin<O>(input: Plugin | ((options: O) => Plugin)): Plugin | ((options: O) => Plugin) {
  return input
}
