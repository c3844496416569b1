import { getRouterParam, type H3, type H3Event } from 'h3'
import { FastResponse } from 'srvx'
import type { GatewayRequest, Operation, Outcome } from '../../context.ts'
import { GatewayError } from '../../errors.ts'
import { isObject } from '../../internal/json.ts'
import { Payload } from '../../payload.ts'
import type { GeminiModel } from '../../plugin.ts'
import { parseBody, readBodyText } from '../shared/body.ts'
import { asGatewayError, credentialsOf, mediaPreparer } from '../shared/request.ts'
import type { DialectRouteDeps } from '../types.ts'
import { openaiDialect } from './dialect.ts'
import { EMBED_BATCH, batchEmbedBody, decodeEmbeddingsRequest, embeddingValues, toEmbeddingsResponse } from './embeddings.ts'
import { toModelList, toOpenAIModel } from './models.ts'
import { decodeChatRequest } from './request.ts'
import { modelId, shortModelName } from '../shared/models.ts'

/** Embedding batches in flight at once for one long OpenAI input list. */
const EMBED_CONCURRENCY = 4

/**
 * The converted OpenAI API under /v1 and /hf/v1 (identical, as in gemini-balance): chat completions, embeddings and
 * models, decoded into the canonical Gemini request and run through the same pipeline as native calls.
 */
export function registerOpenAIRoutes(app: H3, deps: DialectRouteDeps): void {
  const filtered = new Set(deps.config.filteredModels)
  for (const prefix of ['/v1', '/hf/v1']) {
    app.post(`${prefix}/chat/completions`, (event) => chat(event, deps))
    app.post(`${prefix}/embeddings`, (event) => embeddings(event, deps))
    app.get(`${prefix}/models`, (event) => listModels(event, deps, filtered))
    app.get(`${prefix}/models/**:model`, (event) => getModel(event, deps, filtered))
  }
}

function baseRequest(event: H3Event, operation: Operation, model: string): GatewayRequest {
  return { operation, model, upstreamModel: model, stream: false, body: {}, dialect: 'openai', credentials: credentialsOf(event) }
}

async function chat(event: H3Event, deps: DialectRouteDeps): Promise<Response> {
  try {
    const decoded = decodeChatRequest(parseBody(await readBodyText(event, deps.maxBodyBytes)))
    const request = baseRequest(event, decoded.stream ? 'streamGenerateContent' : 'generateContent', decoded.model)
    request.stream = decoded.stream
    request.body = decoded.body
    request.dialectOptions = { ...decoded.options }
    request.prepare = mediaPreparer(decoded.media, deps)
    return await deps.run(event, request, openaiDialect)
  } catch (error) {
    return openaiDialect.error(asGatewayError(error), event)
  }
}

async function embeddings(event: H3Event, deps: DialectRouteDeps): Promise<Response> {
  try {
    const decoded = decodeEmbeddingsRequest(parseBody(await readBodyText(event, deps.maxBodyBytes)))
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
        const request = baseRequest(event, 'batchEmbedContents', decoded.model)
        request.body = batchEmbedBody(decoded.model, slice, decoded.dimensions, decoded.taskType)
        request.dialectOptions = { ...decoded.options }
        let values: number[][] | undefined
        const response = await deps.run(event, request, openaiDialect, (outcome) => {
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
  } catch (error) {
    return openaiDialect.error(asGatewayError(error), event)
  }
}

async function listModels(event: H3Event, deps: DialectRouteDeps, filtered: ReadonlySet<string>): Promise<Response> {
  const request = baseRequest(event, 'listModels', '')
  request.query = { pageSize: '1000' }
  return deps.run(event, request, openaiDialect, (outcome) => {
    if (outcome.kind !== 'json' || outcome.status !== 200) return outcome
    return { kind: 'json', status: 200, body: Payload.fromData(toModelList(outcome.body.tryData(), filtered, deps.pluginModels)) }
  })
}

async function getModel(event: H3Event, deps: DialectRouteDeps, filtered: ReadonlySet<string>): Promise<Response> {
  const raw = decodeURIComponent(getRouterParam(event, 'model') ?? '')
  const id = modelId(raw)
  if (!id || filtered.has(id)) {
    return openaiDialect.error(new GatewayError(404, `The model '${raw.slice(0, 64)}' does not exist or is not available through this gateway.`, { param: 'model' }), event)
  }
  const response = await deps.run(event, baseRequest(event, 'getModel', id), openaiDialect, (outcome) => {
    if (outcome.kind !== 'json' || outcome.status !== 200) return outcome
    const model = outcome.body.tryData()
    if (!isObject(model) || typeof model.name !== 'string') return outcome
    // The id the client asked for, even when a plugin (an alias) sent the call to another model.
    return { kind: 'json', status: 200, body: Payload.fromData({ ...toOpenAIModel(model as GeminiModel), id }) }
  })
  if (response.status !== 404 || !deps.pluginModels) return response
  // Not an upstream model: maybe one a plugin derives (a `-search` variant, ...).
  const derived = await findPluginModel(event, deps, id)
  return derived ? jsonResponse(toOpenAIModel(derived)) : response
}

async function findPluginModel(event: H3Event, deps: DialectRouteDeps, id: string): Promise<GeminiModel | undefined> {
  const request = baseRequest(event, 'listModels', '')
  request.query = { pageSize: '1000' }
  let found: GeminiModel | undefined
  const response = await deps.run(event, request, openaiDialect, (outcome: Outcome) => {
    const list = outcome.kind === 'json' ? outcome.body.tryData() : undefined
    const models = isObject(list) && Array.isArray(list.models) ? (list.models as GeminiModel[]) : []
    found = deps.pluginModels?.(models).find((m) => shortModelName(m.name) === id)
    return outcome
  })
  void response.body?.cancel()
  return found
}

const jsonResponse = (value: unknown) => new FastResponse(JSON.stringify(value), { status: 200, headers: { 'content-type': 'application/json' } })
