import * as v from 'valibot'
import { definePlugin, type GatewayRequest, type RequestContext } from 'gemgate'
import { ownerKey, type OwnerOptions } from './internal/binding.ts'
import type { ResourceName } from './internal/names.ts'
import { resourceOperations } from './internal/operations.ts'
import { recordingUpstream } from './internal/recording.ts'
import { referencesOf } from './internal/references.ts'
import { registerResourceRoutes } from './internal/routes.ts'
import { createResourceStore, MIGRATIONS } from './internal/store.ts'
import { registerUploadRoutes } from './internal/transfers.ts'

const HOUR_MS = 3_600_000
/** How long a database call may take before the client hears the bindings are unavailable. */
const DATABASE_TIMEOUT_MS = 10_000
/** Where Google's Files API URIs point, besides BASE_URL. */
const GOOGLE_API = 'https://generativelanguage.googleapis.com'

/**
 * The Gemini API's resources through the key pool. A file, a cached content, a batch, a long-running operation (Veo)
 * and a file search store belong to the Google project of the key that made them: no other key can read, use or
 * delete them (Google answers 403). So every one the gateway sees created is recorded (name, owning key id, client
 * token, expiry) in the database, and every later call that names it goes to that key only: a get, patch, cancel or
 * delete of the resource, and a generateContent, countTokens, batch or video that uses it (a file in any part, natively
 * or from OpenAI and Anthropic file parts; a cachedContent; a file search store in a tool; a batch's input file).
 * When that key is disabled or cooling, the client hears which resource is bound to it, and the key is not blamed.
 *
 * Files upload with Google's resumable protocol, the bytes streamed through with the key that started the upload.
 * Lists are answered from the records: with FILES_USER_ISOLATION_ENABLED a client token sees and uses only what it
 * made, across every key. Records go when their resources expire (FILES_CLEANUP_INTERVAL_HOURS).
 */
export default definePlugin({
  name: 'resources',
  summary:
    'Files (resumable upload, streamed), cached contents, batches, long-running operations and file search stores under `/v1beta` and `/gemini/v1beta`, each bound to the key that made it: every later call that names one goes to that key; lists per client token.',
  options: v.strictObject({
    userIsolation: v.optional(v.boolean(), true),
    cleanupEnabled: v.optional(v.boolean(), true),
    cleanupIntervalHours: v.optional(v.pipe(v.number(), v.minValue(0.0001), v.maxValue(500)), 1),
    maxUploadMb: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(1_048_576)), 2048),
    uploadSessionHours: v.optional(v.pipe(v.number(), v.minValue(0.0001), v.maxValue(168)), 1),
  }),
  env: {
    userIsolation: { env: 'FILES_USER_ISOLATION_ENABLED', kind: 'bool' },
    cleanupEnabled: { env: 'FILES_CLEANUP_ENABLED', kind: 'bool' },
    cleanupIntervalHours: { env: 'FILES_CLEANUP_INTERVAL_HOURS', kind: 'number' },
    maxUploadMb: { env: 'FILES_MAX_UPLOAD_MB', kind: 'number' },
    uploadSessionHours: { env: 'FILES_UPLOAD_SESSION_HOURS', kind: 'number' },
  },
  docs: {
    userIsolation: "a client token lists and uses only the resources it made (another token's answer 403, and no key is asked); off: every token sees all",
    cleanupEnabled: 'delete the records of expired resources (and upload sessions) on a timer',
    cleanupIntervalHours: 'how often the expired records are deleted',
    maxUploadMb: 'the largest file an upload may carry, apart from MAX_REQUEST_BODY_MB (Google takes 2 GB)',
    uploadSessionHours: 'how long a started upload waits for its next bytes',
  },

  setup(options, ctx) {
    const ready = ctx.database.migrate(MIGRATIONS)
    // Until the database answers, the calls that need the records wait (bounded); nothing else does.
    ready.catch((error) => ctx.logger.error('the resource records could not be set up:', error))
    const store = createResourceStore(ctx.database, ready)
    const baseUrl = ctx.settings.baseUrl.replace(/\/+$/, '')
    const fileOrigins: ReadonlySet<string> = new Set([GOOGLE_API, new URL(baseUrl).origin])
    const owners: OwnerOptions = { store, isolation: options.userIsolation, timeoutMs: DATABASE_TIMEOUT_MS }
    const uploadSessionMs = options.uploadSessionHours * HOUR_MS

    async function pin(resources: readonly ResourceName[], rctx: RequestContext): Promise<void> {
      const pinned = await ownerKey(resources, rctx.client?.tokenId ?? '', owners)
      if (pinned) rctx.pinnedKey = pinned
    }

    let cleaner: NodeJS.Timeout | undefined
    if (options.cleanupEnabled) {
      cleaner = setInterval(() => {
        store
          .cleanup(Date.now())
          .then((deleted) => deleted > 0 && ctx.logger.info(`deleted the records of ${deleted} expired resource(s)`))
          .catch((error) => ctx.logger.warn('deleting expired resource records failed:', error))
      }, options.cleanupIntervalHours * HOUR_MS)
      cleaner.unref()
    }

    return {
      operations: resourceOperations(baseUrl),
      // Synchronous for requests that name no resource (nearly all): no promise on their path.
      transformRequest(request: GatewayRequest, rctx: RequestContext) {
        const resources = referencesOf(request, fileOrigins)
        return resources.length === 0 ? undefined : pin(resources, rctx)
      },
      wrapUpstream: recordingUpstream({ store, logger: ctx.logger, apiOrigin: new URL(baseUrl).origin, fileOrigins, uploadSessionMs }),
      routes(router) {
        registerResourceRoutes(router, { ctx, store, owners })
        registerUploadRoutes(router, { ctx, store, owners, maxUploadBytes: options.maxUploadMb * 1024 * 1024, uploadSessionMs, baseUrl })
      },
      dispose() {
        clearInterval(cleaner)
      },
    }
  },
})
