import { getRouterParam, type H3 } from 'h3'
import { FastResponse } from 'srvx'
import type { GatewayRequest, Operation, Outcome } from '../../context.ts'
import { isObject } from '../../internal/json.ts'
import { Payload } from '../../payload.ts'
import type { GeminiModel } from '../../plugin.ts'
import { mediaPreparer } from '../shared/request.ts'
import { defineGatewayRoute, type RouteCall } from '../shared/route.ts'
import type { DialectRouteDeps } from '../types.ts'
import { openaiDialect } from './dialect.ts'
import { EMBED_BATCH, batchEmbedBody, decodeEmbeddingsRequest, embeddingValues, toEmbeddingsResponse } from './embeddings.ts'
import { toModelList, toOpenAIModel } from './models.ts'
import { decodeChatRequest } from './request.ts'
import { shortModelName } from '../shared/models.ts'

/** Embedding batches in flight at once for one long OpenAI input list. */
const EMBED_CONCURRENCY = 4

/**
 * The converted OpenAI API under /v1 and /hf/v1 (identical, as in gemini-balance): chat completions, embeddings and
 * models, decoded into the canonical Gemini request and run through the same pipeline as native calls.
 */
export function registerOpenAIRoutes(app: H3, deps: DialectRouteDeps): void {
  const route = (handler: (call: RouteCall) => Promise<Response>) => defineGatewayRoute(openaiDialect, deps.guards, handler)
  for (const prefix of ['/v1', '/hf/v1']) {
    app.post(
      `${prefix}/chat/completions`,
      route((call) => chat(call, deps)),
    )
    app.post(
      `${prefix}/embeddings`,
      route((call) => embeddings(call, deps)),
    )
    app.get(
      `${prefix}/models`,
      route((call) => listModels(call, deps)),
    )
    app.get(
      `${prefix}/models/**:model`,
      route((call) => getModel(call, deps)),
    )
  }
}

function baseRequest(call: RouteCall, operation: Operation, model: string): GatewayRequest {
  return { operation, model, upstreamModel: model, stream: false, body: {}, dialect: 'openai', credentials: call.credentials }
}

async function chat(call: RouteCall, deps: DialectRouteDeps): Promise<Response> {
  const decoded = decodeChatRequest(await call.json())
  const request = baseRequest(call, decoded.stream ? 'streamGenerateContent' : 'generateContent', call.model(decoded.model, 'model'))
  request.stream = decoded.stream
  request.body = decoded.body
  request.dialectOptions = { ...decoded.options }
  request.prepare = mediaPreparer(decoded.media, deps)
  return deps.run(call.event, request, openaiDialect)
}

async function embeddings(call: RouteCall, deps: DialectRouteDeps): Promise<Response> {
  const decoded = decodeEmbeddingsRequest(await call.json())
  const model = call.model(decoded.model, 'model')
  const slices: string[][] = []
  for (let at = 0; at < decoded.inputs.length; at += EMBED_BATCH) slices.push(decoded.inputs.slice(at, at + EMBED_BATCH))
  const vectors: number[][][] = []
  let failure: Response | undefined
  let next = 0
  // Gemini caps a batch at 100 texts; OpenAI clients send up to 2048. Each slice is its own pipeline run (own
  // key, retries and log row); the first failure is the answer and stops further slices from starting.
  const worker = async () => {
    while (failure === undefined && next < slices.length) {
      const index = next++
      const slice = slices[index]!
      const request = baseRequest(call, 'batchEmbedContents', model)
      request.body = batchEmbedBody(model, slice, decoded.dimensions, decoded.taskType)
      request.dialectOptions = { ...decoded.options }
      let values: number[][] | undefined
      const response = await deps.run(call.event, request, openaiDialect, (outcome) => {
        if (outcome.kind === 'json' && outcome.status === 200) values = embeddingValues(outcome.body.tryData(), slice.length)
        return outcome
      })
      if (!values) {
        failure ??= response
        return
      }
      void response.body?.cancel()
      vectors[index] = values
    }
  }
  await Promise.all(Array.from({ length: Math.min(EMBED_CONCURRENCY, slices.length) }, worker))
  if (failure) return failure
  return jsonResponse(toEmbeddingsResponse(vectors.flat(), decoded.inputs, decoded.options))
}

async function listModels(call: RouteCall, deps: DialectRouteDeps): Promise<Response> {
  const request = baseRequest(call, 'listModels', '')
  request.query = { pageSize: '1000' }
  return deps.run(call.event, request, openaiDialect, (outcome) => {
    if (outcome.kind !== 'json' || outcome.status !== 200) return outcome
    return { kind: 'json', status: 200, body: Payload.fromData(toModelList(outcome.body.tryData(), call.listed, deps.pluginModels)) }
  })
}

async function getModel(call: RouteCall, deps: DialectRouteDeps): Promise<Response> {
  const id = call.model(decodeURIComponent(getRouterParam(call.event, 'model') ?? ''), 'model')
  const response = await deps.run(call.event, baseRequest(call, 'getModel', id), openaiDialect, (outcome) => {
    if (outcome.kind !== 'json' || outcome.status !== 200) return outcome
    const model = outcome.body.tryData()
    if (!isObject(model) || typeof model.name !== 'string') return outcome
    // The id the client asked for, even when a plugin (an alias) sent the call to another model.
    return { kind: 'json', status: 200, body: Payload.fromData({ ...toOpenAIModel(model as GeminiModel), id }) }
  })
  if (response.status !== 404 || !deps.pluginModels) return response
  // Not an upstream model: maybe one a plugin derives (a `-search` variant, ...).
  const derived = await findPluginModel(call, deps, id)
  return derived ? jsonResponse(toOpenAIModel(derived)) : response
}

async function findPluginModel(call: RouteCall, deps: DialectRouteDeps, id: string): Promise<GeminiModel | undefined> {
  const request = baseRequest(call, 'listModels', '')
  request.query = { pageSize: '1000' }
  let found: GeminiModel | undefined
  const response = await deps.run(call.event, request, openaiDialect, (outcome: Outcome) => {
    const list = outcome.kind === 'json' ? outcome.body.tryData() : undefined
    const models = isObject(list) && Array.isArray(list.models) ? (list.models as GeminiModel[]) : []
    found = deps.pluginModels?.(models).find((m) => shortModelName(m.name) === id)
    return outcome
  })
  void response.body?.cancel()
  return found
}

const jsonResponse = (value: unknown) => new FastResponse(JSON.stringify(value), { status: 200, headers: { 'content-type': 'application/json' } })
