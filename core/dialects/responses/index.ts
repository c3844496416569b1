// The OpenAI Responses API dialect: POST /v1/responses decoded into the canonical Gemini request, answers encoded back.
export { registerResponsesRoutes } from './routes.ts'
export { responsesDialect } from './dialect.ts'
export { decodeResponsesRequest, type ResponsesOptions } from './decode.ts'
export { encodeAnswer } from './response.ts'
export { encodeStream } from './stream.ts'
