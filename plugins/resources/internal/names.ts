import { modelId } from 'gemgate'

/** What the gateway binds to the key that made it: everything Google keeps in the project of that key. */
export type Kind = 'file' | 'cachedContent' | 'batch' | 'operation' | 'fileSearchStore'

/** How the client hears of each kind in messages ("File files/abc"). */
const LABELS: Readonly<Record<Kind, string>> = {
  file: 'File',
  cachedContent: 'Cached content',
  batch: 'Batch',
  operation: 'Operation',
  fileSearchStore: 'File search store',
}

/** A resource by its name: `files/abc`, `cachedContents/x`, `batches/b`, `models/veo-3.0/operations/o`, `fileSearchStores/s`. */
export interface ResourceName {
  name: string
  kind: Kind
}

export const label = (resource: ResourceName): string => `${LABELS[resource.kind]} ${resource.name}`

/** Ids as Google makes them (lower-case letters, digits, dashes); nothing that could change the URL's path. */
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/

export const isId = (id: string): boolean => ID.test(id)

const TOP: ReadonlyMap<string, Kind> = new Map([
  ['files', 'file'],
  ['cachedContents', 'cachedContent'],
  ['batches', 'batch'],
  ['fileSearchStores', 'fileSearchStore'],
])

/**
 * The resource that owns a REST path below the API root, or undefined for a collection (`files`) or anything else:
 * `files/abc` and `files/abc:download` → files/abc; `batches/b:cancel` → batches/b; `models/m/operations/o` → itself;
 * `fileSearchStores/s/documents/d` (and its operations) → fileSearchStores/s, whose key owns all inside it.
 */
export function ownerOf(path: string): ResourceName | undefined {
  const segments = path.replace(/:[A-Za-z]+$/, '').split('/')
  const [top = '', id = ''] = segments
  const kind = TOP.get(top)
  if (kind && isId(id) && (segments.length === 2 || kind === 'fileSearchStore')) return { name: `${top}/${id}`, kind }
  if (top === 'models' && segments.length === 4 && segments[2] === 'operations' && modelId(id) === id && isId(segments[3]!))
    return { name: segments.join('/'), kind: 'operation' }
  return undefined
}

/**
 * The file a URI names, when it is a Files API URI on one of `origins` (Google's API host, BASE_URL's), or a bare
 * `files/abc`: `https://generativelanguage.googleapis.com/v1beta/files/abc`, also as a generated file's
 * `...:download?alt=media`. Any other URL (YouTube, a public page) is no resource of a key's.
 */
export function fileOfUri(uri: string, origins: ReadonlySet<string>): ResourceName | undefined {
  let path = uri
  if (/^https?:\/\//i.test(uri)) {
    let url: URL
    try {
      url = new URL(uri)
    } catch {
      return undefined
    }
    if (!origins.has(url.origin)) return undefined
    path = url.pathname
  }
  const id = /(?:^|\/)files\/([^/?#:]+)(?::download)?$/.exec(path)?.[1]
  return id !== undefined && isId(id) ? { name: `files/${id}`, kind: 'file' } : undefined
}

/** A `cachedContents/x` or `fileSearchStores/x` name as a client wrote it, when it is one. */
export function namedResource(value: unknown, top: 'cachedContents' | 'fileSearchStores' | 'files'): ResourceName | undefined {
  if (typeof value !== 'string' || !value.startsWith(`${top}/`)) return undefined
  const owner = ownerOf(value)
  return owner && owner.name === value && TOP.get(top) === owner.kind ? owner : undefined
}
