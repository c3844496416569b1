/** The Anthropic Messages dialect: routes, codec and error shape. */
export { registerAnthropicRoutes } from './routes.ts'
export { anthropicDialect } from './dialect.ts'
export { decodeMessagesRequest, decodeCountTokensRequest } from './request.ts'
export { encodeAnswer, stopReason, anthropicUsage, type AnswerOptions } from './response.ts'
export { encodeStream } from './stream.ts'
export { anthropicErrorBody, anthropicErrorType } from './errors.ts'
export { toolUseId, parseToolUseId } from './tool-ids.ts'
