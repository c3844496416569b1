/** gemgate's public API: what gateway.config.ts and custom plugins import. */
export { defineConfig, type GatewayConfig, type ResolvedConfig } from './config/schema.ts'
export { definePlugin, type Plugin, type PluginContext, type GeminiModel, type GeminiResponse, type UpstreamAttempt, type UpstreamCall } from './plugin.ts'
export type { GatewayRequest, RequestContext, Outcome, Usage, ClientIdentity } from './context.ts'
export { GatewayError } from './errors.ts'
export { Payload } from './payload.ts'
export type { StageName } from './pipeline.ts'
export { createGateway, type Gateway } from './gateway.ts'
export { loadGatewayConfig } from './config/load.ts'
