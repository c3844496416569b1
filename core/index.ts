/** gemgate's public API: what gateway.config.ts and plugins import, as `gemgate` (package exports) or by path. */
export { defineConfig, type GatewayConfig, type ResolvedConfig } from './config/schema.ts'
export {
  definePlugin,
  type EnvOption,
  type GeminiModel,
  type GeminiResponse,
  type ModelVariant,
  type Plugin,
  type PluginContext,
  type PluginDatabase,
  type PluginDefinition,
  type PluginAttemptFacts,
  type PluginFactory,
  type PluginHooks,
  type PluginKey,
  type PluginKeys,
  type PluginLogEntry,
  type PluginRequest,
  type PluginRouter,
  type PluginSendRequest,
  type UpstreamResponse,
  type PluginSettings,
  type PluginStage,
} from './plugin.ts'
export type { GatewayRequest, RequestContext, Operation, Outcome, JsonOutcome, StreamOutcome, Usage, ClientIdentity, AttemptRecord } from './context.ts'
export type { RouteCall } from './dialects/shared/route.ts'
export { parseBody } from './dialects/shared/body.ts'
export { modelId } from './dialects/shared/models.ts'
export type { Dialect } from './dialects/types.ts'
export { geminiDialect } from './dialects/gemini.ts'
export { openaiDialect } from './dialects/openai/dialect.ts'
export { anthropicDialect } from './dialects/anthropic/dialect.ts'
export { responsesDialect } from './dialects/responses/dialect.ts'
export { GatewayError, badRequest, notFound } from './errors.ts'
export { Payload } from './payload.ts'
export type { StageName } from './pipeline.ts'
export { nativeOperation, type OperationSpec } from './upstream/operations.ts'
export type { UpstreamAttempt, UpstreamCall } from './upstream/types.ts'
export type { KeyPool } from './keys/pool.ts'
export { bearerToken, maskSecret, newRequestId } from './identity.ts'
export type * from './control.ts'
export type { JobDefinition } from './scheduler.ts'
export type { FailureClass, Verdict } from './keys/judge.ts'
export type { ServiceRegistry } from './services.ts'
export type { Candidate, Content, GenerateContentResponse, GroundingMetadata, Part, UsageMetadata } from './gemini/types.ts'
export { addBuiltinTool, asksForImages, generationConfigOf, hasImageParts, isObject, partsOf, refusesBuiltinTools, type Json } from './gemini/body.ts'
export {
  dataUrl,
  defineUploader,
  excerpt,
  imageUrl,
  isHttpUrl,
  offerUploader,
  uploadName,
  uploaderDocs,
  UPLOAD_PROVIDER_ENV,
  UPLOADER_OPTIONS,
  type InlineImage,
  type UploadFile,
  type Uploader,
  type UploaderSettings,
} from './uploads.ts'
export { createGateway, type Gateway } from './gateway.ts'
export { loadGatewayConfig } from './config/load.ts'
export type { Migration } from '../storage/index.ts'
