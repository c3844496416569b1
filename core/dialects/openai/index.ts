// The converted OpenAI API (/v1, /hf/v1): OpenAI requests decoded into the canonical Gemini request, Gemini answers
// and streams encoded back. Pure codecs are exported for tests and for other dialects that share their conventions.
export { registerOpenAIRoutes } from './routes.ts'
export { openaiDialect, type OpenAIDialectOptions } from './dialect.ts'
export { decodeChatRequest, type ChatOptions, type DecodedChat } from './request.ts'
export { encodeAnswer, chatUsage, finishReason, readParts } from './response.ts'
export { ChatStreamEncoder, encodeStream } from './stream.ts'
export { decodeEmbeddingsRequest, toEmbeddingsResponse, float32Base64 } from './embeddings.ts'
export { toModelList, toOpenAIModel } from './models.ts'
export { openaiErrorObject, openaiErrorResponse } from './errors.ts'
export { decodeToolCallId, encodeToolCallId } from './ids.ts'
