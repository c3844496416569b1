import { isObject, type GatewayRequest, type Json } from 'gemgate'
import { fileOfUri, namedResource, ownerOf, type ResourceName } from './names.ts'

/**
 * Where a request names resources of a key's project, by operation. Only these places are read: a deep walk would take
 * a function's arguments or a tool's output (`{"uri": ".../files/x"}`) for a file the request uses.
 */
type Scanner = (body: Json, found: Found) => void

interface Found {
  origins: ReadonlySet<string>
  add(resource: ResourceName | undefined): void
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value])
const field = (object: Json, camel: string, snake: string): unknown => object[camel] ?? object[snake]

/** A generateContent body: file parts in the contents and the system instruction, the cached content, file search stores. */
const generateBody: Scanner = (body, found) => {
  for (const content of [...asList(body.contents), field(body, 'systemInstruction', 'system_instruction')]) {
    for (const part of isObject(content) ? asList(content.parts) : []) {
      const data = isObject(part) ? field(part, 'fileData', 'file_data') : undefined
      const uri = isObject(data) ? field(data, 'fileUri', 'file_uri') : undefined
      if (typeof uri === 'string') found.add(fileOfUri(uri, found.origins))
    }
  }
  found.add(namedResource(field(body, 'cachedContent', 'cached_content'), 'cachedContents'))
  for (const tool of asList(body.tools)) {
    const search = isObject(tool) ? field(tool, 'fileSearch', 'file_search') : undefined
    const stores = isObject(search) ? field(search, 'fileSearchStoreNames', 'file_search_store_names') : undefined
    for (const store of asList(stores)) found.add(namedResource(store, 'fileSearchStores'))
  }
  // countTokens may carry a whole generateContent request.
  const inner = field(body, 'generateContentRequest', 'generate_content_request')
  if (isObject(inner)) generateBody(inner, found)
}

/** A batch: its input file, or the generate requests inlined in it. */
const batchBody: Scanner = (body, found) => {
  const batch = isObject(body.batch) ? body.batch : undefined
  const input = batch ? field(batch, 'inputConfig', 'input_config') : undefined
  if (!isObject(input)) return
  found.add(namedResource(field(input, 'fileName', 'file_name'), 'files'))
  const wrapper = isObject(input.requests) ? input.requests.requests : undefined
  for (const item of asList(wrapper)) if (isObject(item) && isObject(item.request)) generateBody(item.request, found)
}

/** Veo: a video to extend is a generated file of the project that made it. */
const predictBody: Scanner = (body, found) => {
  for (const instance of asList(body.instances)) {
    const video = isObject(instance) ? instance.video : undefined
    const uri = isObject(video) ? video.uri : undefined
    if (typeof uri === 'string') found.add(fileOfUri(uri, found.origins))
  }
}

/** fileSearchStores/x:importFile names the file to import. */
const importBody: Scanner = (body, found) => found.add(namedResource(field(body, 'fileName', 'file_name'), 'files'))

const BY_OPERATION: ReadonlyMap<string, Scanner> = new Map([
  ['generateContent', generateBody],
  ['streamGenerateContent', generateBody],
  ['countTokens', generateBody],
  ['batchGenerateContent', batchBody],
  ['asyncBatchEmbedContent', batchBody],
  ['predictLongRunning', predictBody],
])

/** Words every body that names a resource contains; a raw body without them is passed over unparsed. */
const MARKERS = ['files/', 'achedContent', 'ached_content', 'fileSearchStores/']

/** The scanner for a request of this plugin's REST routes (`request.resource` set), by the path it goes to. */
function scannerForPath(resource: string): Scanner | undefined {
  if (resource === 'cachedContents') return generateBody
  if (resource.endsWith(':importFile')) return importBody
  return undefined
}

const NONE: readonly ResourceName[] = []

/**
 * Every resource a request names: the one its path acts on (`files/abc`, a document of `fileSearchStores/s`), and the
 * ones its body uses. A body is read only when the operation can name resources, and, when the client's exact text is
 * there, only when that text mentions one: a request that uses none stays byte for byte, and costs two lookups.
 */
export function referencesOf(request: GatewayRequest, origins: ReadonlySet<string>): readonly ResourceName[] {
  const path = request.resource
  const scan = path !== undefined ? scannerForPath(path) : BY_OPERATION.get(request.operation)
  const raw = request.rawBody
  const reads = scan !== undefined && (raw === undefined || MARKERS.some((marker) => raw.includes(marker)))
  if (path === undefined && !reads) return NONE
  const names = new Map<string, ResourceName>()
  const found: Found = { origins, add: (resource) => void (resource && names.set(resource.name, resource)) }
  if (path !== undefined) found.add(ownerOf(path))
  if (reads) scan!(request.body, found)
  return [...names.values()]
}
