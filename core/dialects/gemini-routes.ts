import { getRouterParam, type H3, type H3Event } from 'h3'
import type { GatewayRequest, Operation, Outcome } from '../context.ts'
import { badRequest, notFound } from '../errors.ts'
import { parseBody, readBodyText } from './shared/body.ts'
import { modelId, shortModelName } from './shared/models.ts'
import { asGatewayError, credentialsOf } from './shared/request.ts'
import { Payload } from '../payload.ts'
import type { GeminiModel } from '../plugin.ts'
import { geminiDialect } from './gemini.ts'
import type { DialectRouteDeps } from './types.ts'

type GeminiRoutesOptions = Pick<DialectRouteDeps, 'run' | 'pluginModels' | 'maxBodyBytes'>

const ACTIONS: Record<string, Operation> = {
  generateContent: 'generateContent',
  streamGenerateContent: 'streamGenerateContent',
  countTokens: 'countTokens',
  embedContent: 'embedContent',
  batchEmbedContents: 'batchEmbedContents',
}


/** The native Gemini API, under /v1beta and /gemini/v1beta (gemini-balance served both). */
export function registerGeminiRoutes(app: H3, options: DialectRouteDeps): void {
  const filtered = new Set(options.config.filteredModels)
  for (const prefix of ['/v1beta', '/gemini/v1beta']) {
    app.get(`${prefix}/models`, (event) => listModels(event, options, filtered))
    app.get(`${prefix}/models/:model`, (event) => getModel(event, options, filtered))
    app.post(`${prefix}/models/:modelAction`, (event) => generate(event, options))
  }
}

function baseRequest(event: H3Event, operation: Operation, model: string): GatewayRequest {
  return { operation, model, upstreamModel: model, stream: false, body: {}, dialect: 'gemini', credentials: credentialsOf(event) }
}

function modelParam(raw: string | undefined): string {
  const given = decodeURIComponent(raw ?? '')
  const model = modelId(given)
  if (!model) throw badRequest(`Invalid model name "${given.slice(0, 64)}".`)
  return model
}

async function generate(event: H3Event, options: GeminiRoutesOptions): Promise<Response> {
  try {
    const [rawModel, action = ''] = (getRouterParam(event, 'modelAction') ?? '').split(':')
    const operation = ACTIONS[action]
    if (!operation) throw notFound(`Method "${action}" is not supported for models; use generateContent, streamGenerateContent, countTokens, embedContent or batchEmbedContents.`)
    const request = baseRequest(event, operation, modelParam(rawModel))
    request.stream = operation === 'streamGenerateContent'
    request.rawBody = await readBodyText(event, options.maxBodyBytes)
    request.body = parseBody(request.rawBody)
    return await options.run(event, request, geminiDialect)
  } catch (error) {
    return geminiDialect.error(asGatewayError(error), event)
  }
}

async function listModels(event: H3Event, options: GeminiRoutesOptions, filtered: ReadonlySet<string>): Promise<Response> {
  const request = baseRequest(event, 'listModels', '')
  const query: Record<string, string> = {}
  for (const name of ['pageSize', 'pageToken']) {
    const value = event.url.searchParams.get(name)
    if (value) query[name] = value
  }
  request.query = query
  return options.run(event, request, geminiDialect, (outcome) => editList(outcome, options, filtered))
}

/** Filtered models leave each page; each page gains the plugin models derived from its own entries. */
function editList(outcome: Outcome, options: GeminiRoutesOptions, filtered: ReadonlySet<string>): Outcome {
  if (outcome.kind !== 'json' || outcome.status !== 200) return outcome
  const list = outcome.body.tryData() as { models?: GeminiModel[] } | undefined
  if (!list || !Array.isArray(list.models)) return outcome
  const visible = list.models.filter((m) => !filtered.has(shortModelName(m.name)))
  const extra = options.pluginModels?.(visible) ?? []
  if (visible.length === list.models.length && extra.length === 0) return outcome
  return { ...outcome, body: Payload.fromData({ ...list, models: [...visible, ...extra] }) }
}

async function getModel(event: H3Event, options: GeminiRoutesOptions, filtered: ReadonlySet<string>): Promise<Response> {
  let model: string
  try {
    model = modelParam(getRouterParam(event, 'model'))
    if (filtered.has(model)) throw notFound(`Model ${model} is not available through this gateway.`)
  } catch (error) {
    return geminiDialect.error(asGatewayError(error), event)
  }
  let answeredName: string | undefined
  const response = await options.run(event, baseRequest(event, 'getModel', model), geminiDialect, (outcome) => {
    if (outcome.kind === 'json' && outcome.status === 200) answeredName = (outcome.body.tryData() as GeminiModel | undefined)?.name
    return outcome
  })
  if (!options.pluginModels || (response.status !== 404 && (response.status !== 200 || answeredName === `models/${model}`))) return response
  // Not an upstream model, or a plugin sent the call to another one: maybe one a plugin derives (an alias, a `-search` variant).
  const derived = await findPluginModel(event, { ...options, pluginModels: options.pluginModels }, model)
  return derived ? Response.json(derived) : response
}

async function findPluginModel(event: H3Event, options: GeminiRoutesOptions & Required<Pick<GeminiRoutesOptions, 'pluginModels'>>, model: string): Promise<GeminiModel | undefined> {
  const request = baseRequest(event, 'listModels', '')
  request.query = { pageSize: '1000' }
  let found: GeminiModel | undefined
  await options.run(event, request, geminiDialect, (outcome) => {
    const list = outcome.kind === 'json' ? (outcome.body.tryData() as { models?: GeminiModel[] } | undefined) : undefined
    found = options.pluginModels(list?.models ?? []).find((m) => shortModelName(m.name) === model)
    return outcome
  })
  return found
}

