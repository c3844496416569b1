// Batch mode (models.batchGenerateContent, batches get/list/cancel/delete) and long-running predictions (Veo's
// models.predictLongRunning, polled on models/{model}/operations/{id}). Both finish after a poll or two; a batch of a
// file writes its results to a generated file, a video is a generated file too, both owned by the key that asked.

import { badRequest } from './errors.ts'
import { generatedFile } from './files.ts'
import { sendError, sendJson } from './respond.ts'
import { newId, ownedOr403, page, timestamp, type Resource, type ResourceCall, type ResourceRoute } from './resource-store.ts'
import { EchoAnswer, isObject, type Json } from './responses.ts'
import { checkFileReferences } from './validate.ts'

const TYPES = 'type.googleapis.com/google.ai.generativelanguage.v1main.'
/** Gets before a batch or an operation is done. */
const POLLS_TO_FINISH = 2

export const BATCH_ROUTES: readonly ResourceRoute[] = [
  ['POST', /^models\/([^/:]+):batchGenerateContent$/, (call, match) => createBatch(call, match[1]!)],
  ['GET', /^batches$/, (call) => page(call, call.store.list(call.key, 'batches/'), 'operations')],
  ['GET', /^batches\/([a-z0-9-]+)$/, (call, match) => getBatch(call, match[1]!)],
  ['POST', /^batches\/([a-z0-9-]+):cancel$/, (call, match) => cancelBatch(call, match[1]!)],
  ['DELETE', /^batches\/([a-z0-9-]+)$/, (call, match) => deleteBatch(call, match[1]!)],
  ['POST', /^models\/([^/:]+):predictLongRunning$/, (call, match) => predict(call, match[1]!)],
  ['GET', /^models\/([^/:]+)\/operations\/([a-z0-9-]+)$/, (call, match) => pollPrediction(call, `models/${match[1]}/operations/${match[2]}`)],
]

function createBatch(call: ResourceCall, model: string): void {
  const batch = isObject(call.body.batch) ? call.body.batch : undefined
  const input = batch && isObject(batch.inputConfig) ? batch.inputConfig : undefined
  if (!batch || !input) return sendError(call.ex, badRequest('batch.inputConfig is required.', 'batch.input_config'))
  const requests = inlineRequests(input)
  if (typeof input.fileName === 'string') {
    if (!ownedOr403(call, input.fileName, 'File')) return
  } else if (requests.length === 0) return sendError(call.ex, badRequest('batch.inputConfig needs requests or a fileName.', 'batch.input_config'))
  for (const request of requests) {
    const unreadable = checkFileReferences(request, (id) => call.store.readable(call.key, id))
    if (unreadable) return sendError(call.ex, unreadable)
  }
  const name = `batches/${newId()}`
  const now = timestamp()
  const count = String(requests.length || 1)
  const metadata = {
    '@type': `${TYPES}GenerateContentBatch`,
    model: `models/${model}`,
    displayName: typeof batch.displayName === 'string' ? batch.displayName : '',
    createTime: now,
    updateTime: now,
    batchStats: { requestCount: count, pendingRequestCount: count },
    state: 'BATCH_STATE_PENDING',
    name,
  }
  const created = call.store.add(name, call.key, { name, metadata })
  created.input = input
  sendJson(call.ex, created.body)
}

function inlineRequests(input: Json): Json[] {
  const wrapper = isObject(input.requests) ? input.requests.requests : undefined
  return (Array.isArray(wrapper) ? wrapper : []).flatMap((item) => (isObject(item) && isObject(item.request) ? [item.request] : []))
}

function getBatch(call: ResourceCall, id: string): void {
  const batch = ownedOr403(call, `batches/${id}`, 'Batch')
  if (!batch) return
  const metadata = batch.body.metadata as Json
  if (!batch.body.done && ++batch.polls >= POLLS_TO_FINISH) finishBatch(call, batch, metadata)
  else if (!batch.body.done) metadata.state = 'BATCH_STATE_RUNNING'
  sendJson(call.ex, batch.body)
}

/** Inline requests get inline answers; a batch of a file gets its answers in a generated JSONL file. */
function finishBatch(call: ResourceCall, batch: Resource, metadata: Json): void {
  const model = String(metadata.model).replace(/^models\//, '')
  const requests = inlineRequests(batch.input ?? {})
  let output: Json
  if (requests.length > 0) {
    output = { inlinedResponses: { inlinedResponses: requests.map((request) => ({ response: new EchoAnswer(model, request).full() })) } }
  } else {
    const line = JSON.stringify({ key: 'request-1', response: new EchoAnswer(model, { contents: [] }).full() })
    const file = generatedFile(call.store, call.key, 'application/jsonl', Buffer.from(`${line}\n`), `batch-${newId(8)}`)
    output = { responsesFile: file.name }
  }
  const count = String(requests.length || 1)
  Object.assign(metadata, {
    state: 'BATCH_STATE_SUCCEEDED',
    output,
    endTime: timestamp(),
    updateTime: timestamp(),
    batchStats: { requestCount: count, successfulRequestCount: count },
  })
  batch.body.done = true
  batch.body.response = { '@type': `${TYPES}GenerateContentBatchOutput`, ...output }
}

function cancelBatch(call: ResourceCall, id: string): void {
  const batch = ownedOr403(call, `batches/${id}`, 'Batch')
  if (!batch) return
  if (!batch.body.done) {
    Object.assign(batch.body.metadata as Json, { state: 'BATCH_STATE_CANCELLED', endTime: timestamp() })
    batch.body.done = true
  }
  sendJson(call.ex, {})
}

function deleteBatch(call: ResourceCall, id: string): void {
  if (!ownedOr403(call, `batches/${id}`, 'Batch')) return
  call.store.remove(`batches/${id}`)
  sendJson(call.ex, {})
}

function predict(call: ResourceCall, model: string): void {
  if (!Array.isArray(call.body.instances) || call.body.instances.length === 0) return sendError(call.ex, badRequest('instances is required.', 'instances'))
  const name = `models/${model}/operations/${newId()}`
  sendJson(call.ex, call.store.add(name, call.key, { name }).body)
}

/** Done on the second poll, with a generated video (a file of the key's project) to download. */
function pollPrediction(call: ResourceCall, name: string): void {
  const operation = ownedOr403(call, name, 'Operation')
  if (!operation) return
  if (!operation.body.done && ++operation.polls >= POLLS_TO_FINISH) {
    const video = generatedFile(call.store, call.key, 'video/mp4', Buffer.from('fake mp4 bytes'))
    operation.body.done = true
    operation.body.response = {
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse',
      generateVideoResponse: { generatedSamples: [{ video: { uri: video.downloadUri } }] },
    }
  }
  sendJson(call.ex, operation.body)
}
