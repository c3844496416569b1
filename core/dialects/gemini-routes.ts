import { getRouterParam, type H3 } from 'h3'
import type { GatewayRequest, Operation, Outcome } from '../context.ts'
import { notFound } from '../errors.ts'
import { isObject, type Json } from '../internal/json.ts'
import { Payload } from '../payload.ts'
import type { GeminiModel } from '../plugin.ts'
import { parseBody } from './shared/body.ts'
import { shortModelName } from './shared/models.ts'
import { defineGatewayRoute, type RouteCall } from './shared/route.ts'
import { geminiDialect } from './gemini.ts'
import type { DialectRouteDeps } from './types.ts'

const ACTIONS: ReadonlyMap<string, Operation> = new Map(
  (['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents'] as const).map((action) => [action, action]),
)

/** The native Gemini API, under /v1beta and /gemini/v1beta (gemini-balance served both). */
export function registerGeminiRoutes(app: H3, deps: DialectRouteDeps): void {
  const route = (handler: (call: RouteCall) => Promise<Response>) => defineGatewayRoute(geminiDialect, deps.guards, handler)
  for (const prefix of ['/v1beta', '/gemini/v1beta']) {
    app.get(
      `${prefix}/models`,
      route((call) => listModels(call, deps)),
    )
    app.get(
      `${prefix}/models/:model`,
      route((call) => getModel(call, deps)),
    )
    app.post(
      `${prefix}/models/:modelAction`,
      route((call) => generate(call, deps)),
    )
  }
}

function baseRequest(call: RouteCall, operation: Operation, model: string): GatewayRequest {
  return { operation, model, upstreamModel: model, stream: false, body: {}, dialect: 'gemini', credentials: call.credentials }
}

async function generate(call: RouteCall, deps: DialectRouteDeps): Promise<Response> {
  const [rawModel = '', action = ''] = (getRouterParam(call.event, 'modelAction') ?? '').split(':')
  const operation = ACTIONS.get(action) ?? (deps.operations.servesModelMethod(action) ? action : undefined)
  if (!operation)
    throw notFound(
      `Method "${action.slice(0, 64)}" is not supported for models; use generateContent, streamGenerateContent, countTokens, embedContent or batchEmbedContents.`,
    )
  const request = baseRequest(call, operation, call.model(decodeURIComponent(rawModel)))
  request.stream = operation === 'streamGenerateContent'
  const text = await call.text()
  request.body = parseBody(text)
  // The client's exact bytes go upstream unless the gateway had to fill something in.
  if (!(operation === 'batchEmbedContents' && fillBatchModels(request.body, request.model))) request.rawBody = text
  return deps.run(call.event, request, geminiDialect)
}

/**
 * batchEmbedContents requests name their model in every inner request; gemini-balance filled in the URL's model
 * where one was left out, and its clients rely on it. A model the client did send is never overridden.
 * Returns whether anything was filled in.
 */
function fillBatchModels(body: Json, model: string): boolean {
  if (!Array.isArray(body.requests)) return false
  let filled = false
  for (const inner of body.requests) {
    if (!isObject(inner) || (typeof inner.model === 'string' && inner.model !== '')) continue
    inner.model = `models/${model}`
    filled = true
  }
  return filled
}

async function listModels(call: RouteCall, deps: DialectRouteDeps): Promise<Response> {
  const request = baseRequest(call, 'listModels', '')
  const query: Record<string, string> = {}
  for (const name of ['pageSize', 'pageToken']) {
    const value = call.event.url.searchParams.get(name)
    if (value) query[name] = value
  }
  request.query = query
  return deps.run(call.event, request, geminiDialect, (outcome) => editList(outcome, call, deps))
}

/** Models the client may not see leave each page; each page gains the plugin models derived from its own entries. */
function editList(outcome: Outcome, call: RouteCall, deps: DialectRouteDeps): Outcome {
  if (outcome.kind !== 'json' || outcome.status !== 200) return outcome
  const list = outcome.body.tryData() as { models?: GeminiModel[] } | undefined
  if (!list || !Array.isArray(list.models)) return outcome
  const visible = list.models.filter((m) => call.listed(shortModelName(m.name)))
  const extra = (deps.pluginModels?.(visible) ?? []).filter((m) => call.listed(shortModelName(m.name)))
  if (visible.length === list.models.length && extra.length === 0) return outcome
  return { ...outcome, body: Payload.fromData({ ...list, models: [...visible, ...extra] }) }
}

async function getModel(call: RouteCall, deps: DialectRouteDeps): Promise<Response> {
  const model = call.model(decodeURIComponent(getRouterParam(call.event, 'model') ?? ''))
  let answeredName: string | undefined
  const response = await deps.run(call.event, baseRequest(call, 'getModel', model), geminiDialect, (outcome) => {
    if (outcome.kind === 'json' && outcome.status === 200) answeredName = (outcome.body.tryData() as GeminiModel | undefined)?.name
    return outcome
  })
  if (!deps.pluginModels || (response.status !== 404 && (response.status !== 200 || answeredName === `models/${model}`))) return response
  // Not an upstream model, or a plugin sent the call to another one: maybe one a plugin derives (an alias, a `-search` variant).
  const derived = await findPluginModel(call, deps.pluginModels, deps, model)
  return derived ? Response.json(derived) : response
}

async function findPluginModel(
  call: RouteCall,
  pluginModels: NonNullable<DialectRouteDeps['pluginModels']>,
  deps: DialectRouteDeps,
  model: string,
): Promise<GeminiModel | undefined> {
  const request = baseRequest(call, 'listModels', '')
  request.query = { pageSize: '1000' }
  let found: GeminiModel | undefined
  await deps.run(call.event, request, geminiDialect, (outcome) => {
    const list = outcome.kind === 'json' ? (outcome.body.tryData() as { models?: GeminiModel[] } | undefined) : undefined
    found = pluginModels(list?.models ?? []).find((m) => shortModelName(m.name) === model)
    return outcome
  })
  return found
}
