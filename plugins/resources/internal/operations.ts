import { nativeOperation, type OperationSpec } from 'gemgate'

/** The upstream operations of the REST routes: one per method, on the path in `request.resource`. */
export const OPERATIONS_BY_METHOD = {
  GET: 'resources.get',
  POST: 'resources.post',
  PATCH: 'resources.patch',
  DELETE: 'resources.delete',
} as const

export type RestMethod = keyof typeof OPERATIONS_BY_METHOD

/** The start of a resumable upload, at the API root's `/upload` twin (`…/upload/v1beta/files`). */
export const UPLOAD_START = 'resources.upload'

/** Where the recorder hands the upload route the session it opened, in place of Google's upload URL (never sent on). */
export const UPLOAD_ID = 'x-gemgate-upload-id'

const rest = (method: RestMethod): OperationSpec => ({
  ...nativeOperation(''),
  method,
  path: (_model, _stream, request) => `/${request.resource}`,
  modelInPath: false,
})

/**
 * `https://host/prefix/v1beta` → `https://host/prefix/upload/v1beta`: uploads go to the version's `/upload` twin,
 * as Google serves them and as the SDKs build the URL from any base.
 */
export function uploadRoot(baseUrl: string): string {
  const url = new URL(baseUrl.replace(/\/+$/, ''))
  const cut = url.pathname.lastIndexOf('/')
  return `${url.origin}${url.pathname.slice(0, cut)}/upload${url.pathname.slice(cut)}`
}

/** Every upstream operation the plugin adds: its REST calls, the upload start, and the native long-running methods. */
export function resourceOperations(baseUrl: string): Record<string, OperationSpec> {
  const uploads = uploadRoot(baseUrl)
  return {
    [OPERATIONS_BY_METHOD.GET]: rest('GET'),
    [OPERATIONS_BY_METHOD.POST]: rest('POST'),
    [OPERATIONS_BY_METHOD.PATCH]: rest('PATCH'),
    [OPERATIONS_BY_METHOD.DELETE]: rest('DELETE'),
    [UPLOAD_START]: {
      ...rest('POST'),
      path: (_model, _stream, request) => `${uploads}/${request.resource}`,
      responseHeaders: ['x-goog-upload-url', 'x-goog-upload-status', 'x-goog-upload-chunk-granularity'],
    },
    batchGenerateContent: nativeOperation('batchGenerateContent'),
    asyncBatchEmbedContent: nativeOperation('asyncBatchEmbedContent'),
    predictLongRunning: nativeOperation('predictLongRunning'),
  }
}
