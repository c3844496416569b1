// File search stores (create, get, list, delete, importFile, documents, and the operations of imports and uploads):
// a store belongs to the project that made it, and only a file of the same project can be imported into it.

import { googleError } from './errors.ts'
import { sendError, sendJson } from './respond.ts'
import { newId, ownedOr403, page, timestamp, type ResourceCall, type ResourceRoute } from './resource-store.ts'

const STORE = String.raw`fileSearchStores\/[a-z0-9-]+`

export const STORE_ROUTES: readonly ResourceRoute[] = [
  ['POST', /^fileSearchStores$/, create],
  ['GET', /^fileSearchStores$/, (call) => page(call, call.store.list(call.key, 'fileSearchStores/'), 'fileSearchStores', 20)],
  ['GET', new RegExp(`^(${STORE})$`), (call, match) => get(call, match[1]!, 'FileSearchStore')],
  ['DELETE', new RegExp(`^(${STORE})$`), (call, match) => remove(call, match[1]!)],
  ['POST', new RegExp(`^(${STORE}):importFile$`), (call, match) => importFile(call, match[1]!)],
  ['GET', new RegExp(`^(${STORE}/(?:upload/)?operations/[a-z0-9-]+)$`), (call, match) => get(call, match[1]!, 'Operation')],
  ['GET', new RegExp(`^(${STORE})/documents$`), (call, match) => documents(call, match[1]!)],
  ['GET', new RegExp(`^(${STORE}/documents/[a-z0-9-]+)$`), (call, match) => get(call, match[1]!, 'Document')],
  ['DELETE', new RegExp(`^(${STORE}/documents/[a-z0-9-]+)$`), (call, match) => removeDocument(call, match[1]!)],
]

function create(call: ResourceCall): void {
  const displayName = typeof call.body.displayName === 'string' ? call.body.displayName : ''
  const slug = displayName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 30)
  const name = `fileSearchStores/${slug ? `${slug}-` : ''}${newId(12)}`
  const now = timestamp()
  sendJson(call.ex, call.store.add(name, call.key, { name, displayName, createTime: now, updateTime: now }).body)
}

function get(call: ResourceCall, name: string, kind: string): void {
  const found = ownedOr403(call, name, kind)
  if (found) sendJson(call.ex, found.body)
}

/** A store with documents goes only with `force=true`, as Google wants. */
function remove(call: ResourceCall, name: string): void {
  if (!ownedOr403(call, name, 'FileSearchStore')) return
  if (call.store.list(call.key, `${name}/documents/`).length > 0 && call.query.force !== 'true') {
    return sendError(call.ex, googleError(400, 'FAILED_PRECONDITION', `The file search store ${name} is not empty; delete it with force=true.`))
  }
  call.store.remove(name)
  sendJson(call.ex, {})
}

function importFile(call: ResourceCall, store: string): void {
  if (!ownedOr403(call, store, 'FileSearchStore')) return
  const fileName = typeof call.body.fileName === 'string' ? call.body.fileName : ''
  if (!ownedOr403(call, fileName, 'File')) return
  const document = `${store}/documents/${newId()}`
  call.store.add(document, call.key, { name: document, displayName: fileName, state: 'STATE_ACTIVE', createTime: timestamp() })
  const name = `${store}/operations/${newId()}`
  const operation = {
    name,
    done: true,
    response: { '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.ImportFileResponse', parent: store, documentName: document },
  }
  sendJson(call.ex, call.store.add(name, call.key, operation).body)
}

function documents(call: ResourceCall, store: string): void {
  if (ownedOr403(call, store, 'FileSearchStore')) page(call, call.store.list(call.key, `${store}/documents/`), 'documents', 20)
}

function removeDocument(call: ResourceCall, name: string): void {
  if (!ownedOr403(call, name, 'Document')) return
  call.store.remove(name)
  sendJson(call.ex, {})
}
