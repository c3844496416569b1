import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadGatewayConfig } from '../../core/config/load.ts'
import type { Plugin } from '../../core/index.ts'
import { BUNDLED_PLUGINS } from '../../plugins/index.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

/** gemini-balance's feature variables, as its README documents them, with non-default values. */
const GEMINI_BALANCE_ENV = {
  API_KEYS: '["AIzaSy-default-config-key-000000000001"]',
  ALLOWED_TOKENS: '["sk-default-config-token-0001"]',
  SEARCH_MODELS: '["gemini-2.5-pro"]',
  SHOW_SEARCH_LINK: 'false',
  THINKING_MODELS: '["gemini-2.5-flash"]',
  THINKING_BUDGET_MAP: '{"gemini-2.5-flash": 2048}',
  SHOW_THINKING_PROCESS: 'false',
  TOOLS_CODE_EXECUTION_ENABLED: 'true',
  URL_CONTEXT_ENABLED: 'true',
  URL_CONTEXT_MODELS: '["gemini-2.5-pro"]',
  IMAGE_MODELS: '["gemini-2.0-flash-exp"]',
  CREATE_IMAGE_MODEL: 'imagen-4.0-generate-001',
  PAID_KEY: 'AIzaSy-default-config-paid-00000000002',
  TTS_MODEL: 'gemini-2.5-pro-preview-tts',
  TTS_VOICE_NAME: 'Kore',
  TTS_SPEED: 'fast',
  FAKE_STREAM_ENABLED: 'true',
  ADMIN_SESSION_EXPIRE: '600',
  FAKE_STREAM_EMPTY_DATA_INTERVAL_SECONDS: '3',
  URL_NORMALIZATION_ENABLED: 'true',
  UPLOAD_PROVIDER: 'cloudflare_imgbed',
  SMMS_SECRET_TOKEN: 'default-config-smms-token-0000000004',
  PICGO_API_KEY: 'chv_default-config-picgo-key-000000005',
  PICGO_API_URL: 'https://img.example.com/api/1/upload',
  CLOUDFLARE_IMGBED_URL: 'https://imgbed.example.pages.dev/upload',
  CLOUDFLARE_IMGBED_AUTH_CODE: 'default-config-imgbed-code-000000006',
  CLOUDFLARE_IMGBED_UPLOAD_FOLDER: 'gemini',
  OSS_ENDPOINT: 'oss-cn-shanghai.aliyuncs.com',
  OSS_ENDPOINT_INNER: 'oss-cn-shanghai-internal.aliyuncs.com',
  OSS_ACCESS_KEY: 'LTAI5tDefaultConfigKeyId07',
  OSS_ACCESS_KEY_SECRET: 'default-config-oss-secret-0000000008',
  OSS_BUCKET_NAME: 'your-bucket-name',
  OSS_REGION: 'cn-shanghai',
  VERTEX_API_KEYS: '["AQ.default-config-vertex-key-00000000000000000000000003"]',
  VERTEX_EXPRESS_BASE_URL: 'https://aiplatform.googleapis.com/v1/publishers/google',
  FILES_USER_ISOLATION_ENABLED: 'false',
  FILES_CLEANUP_ENABLED: 'false',
  FILES_CLEANUP_INTERVAL_HOURS: '6',
}

/** The repo's gateway.config.ts: every bundled plugin listed, switched on by gemini-balance's variables. */
describe('the default gateway.config.ts', () => {
  it("lists every bundled plugin that takes no setup of the user's own", async () => {
    const { config } = await loadGatewayConfig({ cwd: REPO, dotenv: false, env: { ALLOWED_TOKENS: '["sk-default-config-token-0001"]' } })
    const listed = (config.plugins as Plugin[]).map((plugin) => plugin.definition.name)
    const bundled = BUNDLED_PLUGINS.map((plugin) => plugin.definition.name).filter((name) => name !== 'model-alias')
    expect(listed).toEqual(bundled)
  })

  it('with a gemini-balance .env, the same features are on as in gemini-balance', async () => {
    const { config } = await loadGatewayConfig({ cwd: REPO, dotenv: false, env: GEMINI_BALANCE_ENV })
    const options = Object.fromEntries((config.plugins as Plugin[]).map((plugin) => [plugin.definition.name, plugin.options]))
    expect(options).toEqual({
      'url-normalization': { enabled: true },
      search: { models: ['gemini-2.5-pro'], showLink: false },
      thinking: { models: ['gemini-2.5-flash'], budgets: { 'gemini-2.5-flash': 2048 }, showThoughts: false },
      tools: { codeExecution: true, urlContext: true, urlContextModels: ['gemini-2.5-pro'] },
      'image-chat': { models: ['gemini-2.0-flash-exp'], uploadTimeoutSeconds: 30 },
      'image-generation': { model: 'imagen-4.0-generate-001', paidKey: GEMINI_BALANCE_ENV.PAID_KEY, uploadTimeoutSeconds: 30 },
      speech: { model: 'gemini-2.5-pro-preview-tts', voice: 'Kore', speed: 'fast' },
      smms: { provider: 'cloudflare_imgbed', token: GEMINI_BALANCE_ENV.SMMS_SECRET_TOKEN, url: 'https://sm.ms/api/v2/upload', timeoutSeconds: 30, maxMb: 20 },
      picgo: { provider: 'cloudflare_imgbed', apiKey: GEMINI_BALANCE_ENV.PICGO_API_KEY, url: GEMINI_BALANCE_ENV.PICGO_API_URL, timeoutSeconds: 30, maxMb: 20 },
      'cloudflare-imgbed': {
        provider: 'cloudflare_imgbed',
        url: GEMINI_BALANCE_ENV.CLOUDFLARE_IMGBED_URL,
        authCode: GEMINI_BALANCE_ENV.CLOUDFLARE_IMGBED_AUTH_CODE,
        uploadFolder: 'gemini',
        timeoutSeconds: 30,
        maxMb: 20,
      },
      'aliyun-oss': {
        provider: 'cloudflare_imgbed',
        endpoint: GEMINI_BALANCE_ENV.OSS_ENDPOINT,
        innerEndpoint: GEMINI_BALANCE_ENV.OSS_ENDPOINT_INNER,
        accessKeyId: GEMINI_BALANCE_ENV.OSS_ACCESS_KEY,
        accessKeySecret: GEMINI_BALANCE_ENV.OSS_ACCESS_KEY_SECRET,
        bucket: 'your-bucket-name',
        region: 'cn-shanghai',
        timeoutSeconds: 30,
        maxMb: 20,
      },
      'fake-stream': { enabled: true, emptyDataIntervalSeconds: 3 },
      'vertex-express': { keys: JSON.parse(GEMINI_BALANCE_ENV.VERTEX_API_KEYS), baseUrl: GEMINI_BALANCE_ENV.VERTEX_EXPRESS_BASE_URL },
      live: { idleTimeoutSeconds: 300, maxSessionSeconds: 3600 },
      resources: { userIsolation: false, cleanupEnabled: false, cleanupIntervalHours: 6, maxUploadMb: 2048, uploadSessionHours: 1 },
      admin: { sessionExpireSeconds: 600, trustForwardedFor: false },
    })
  })
})
