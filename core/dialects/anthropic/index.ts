/** The Anthropic Messages dialect: routes, codec and error shape. */
export { registerAnthropicRoutes } from './routes.ts'
export { anthropicDialect } from './dialect.ts'
export { decodeMessagesRequest, decodeCountTokensRequest } from './request.ts'
export { toMessage, stopReason, anthropicUsage, type AnswerOptions } from './response.ts'
export { anthropicEvents } from './stream.ts'
export { anthropicErrorBody, anthropicErrorType } from './errors.ts'
export { toolUseId, parseToolUseId } from './tool-ids.ts'
