import { defineConfig } from 'gemgate'
import {
  admin,
  aliyunOss,
  cloudflareImgbed,
  fakeStream,
  imageChat,
  imageGeneration,
  live,
  picgo,
  resources,
  search,
  smms,
  speech,
  thinking,
  tools,
  urlNormalization,
  vertexExpress,
} from 'gemgate/plugins'

/**
 * gemgate's config. Everything here can also come from the environment (gemini-balance's names, e.g. API_KEYS,
 * ALLOWED_TOKENS, MAX_RETRIES; see README.md), and the environment wins, so an existing .env keeps working.
 *
 * Plugins run their hooks in the order listed. Each is switched off by deleting (or commenting out) its line; the
 * options shown are the defaults, and the gemini-balance variable beside each option overrides it.
 */
export default defineConfig({
  plugins: [
    // Requests on sloppy paths reach the route they meant. enabled: URL_NORMALIZATION_ENABLED
    urlNormalization({ enabled: false }),
    // `<model>-search` answers with Google Search and lists its sources once. models: SEARCH_MODELS, showLink: SHOW_SEARCH_LINK
    search({ models: ['gemini-2.5-flash', 'gemini-2.5-pro'], showLink: true }),
    // `<model>-non-thinking`, budgets per model, thoughts shown or not. models: THINKING_MODELS,
    // budgets: THINKING_BUDGET_MAP, showThoughts: SHOW_THINKING_PROCESS
    thinking({ models: [], budgets: {}, showThoughts: true }),
    // Code execution and URL context tools. codeExecution: TOOLS_CODE_EXECUTION_ENABLED, urlContext: URL_CONTEXT_ENABLED,
    // urlContextModels: URL_CONTEXT_MODELS
    tools({ codeExecution: false, urlContext: false }),
    // `<model>-image` answers with images; images reach text clients as markdown. models: IMAGE_MODELS
    imageChat({ models: ['gemini-2.0-flash-exp', 'gemini-2.5-flash-image-preview'] }),
    // POST /v1/images/generations and `<model>-chat` on Imagen. model: CREATE_IMAGE_MODEL, paidKey: PAID_KEY
    imageGeneration({ model: 'imagen-3.0-generate-002' }),
    // POST /v1/audio/speech on a Gemini TTS model. model: TTS_MODEL, voice: TTS_VOICE_NAME, speed: TTS_SPEED
    speech({ model: 'gemini-2.5-flash-preview-tts', voice: 'Zephyr', speed: 'normal' }),
    // Answer images go to sm.ms instead of data URLs when UPLOAD_PROVIDER is smms (the default) and a token is set.
    // provider: UPLOAD_PROVIDER, token: SMMS_SECRET_TOKEN
    smms({ timeoutSeconds: 30, maxMb: 20 }),
    // ... to picgo.net, a Chevereto or a PicGo server when UPLOAD_PROVIDER is picgo. apiKey: PICGO_API_KEY, url: PICGO_API_URL
    picgo({ url: 'https://www.picgo.net/api/1/upload', timeoutSeconds: 30, maxMb: 20 }),
    // ... to a CloudFlare-ImgBed when UPLOAD_PROVIDER is cloudflare_imgbed. url: CLOUDFLARE_IMGBED_URL,
    // authCode: CLOUDFLARE_IMGBED_AUTH_CODE, uploadFolder: CLOUDFLARE_IMGBED_UPLOAD_FOLDER
    cloudflareImgbed({ timeoutSeconds: 30, maxMb: 20 }),
    // ... to an Aliyun OSS bucket when UPLOAD_PROVIDER is aliyun_oss (uploads via OSS_ENDPOINT_INNER when set). endpoint:
    // OSS_ENDPOINT, innerEndpoint: OSS_ENDPOINT_INNER, accessKeyId: OSS_ACCESS_KEY, accessKeySecret: OSS_ACCESS_KEY_SECRET,
    // bucket: OSS_BUCKET_NAME, region: OSS_REGION
    aliyunOss({ timeoutSeconds: 30, maxMb: 20 }),
    // Streams answered from a non-stream call, with keep-alives meanwhile. enabled: FAKE_STREAM_ENABLED,
    // emptyDataIntervalSeconds: FAKE_STREAM_EMPTY_DATA_INTERVAL_SECONDS
    fakeStream({ enabled: false, emptyDataIntervalSeconds: 5 }),
    // Vertex AI express mode under /vertex-express/v1beta, with keys of its own (none: its routes answer 503).
    // keys: VERTEX_API_KEYS, baseUrl: VERTEX_EXPRESS_BASE_URL
    vertexExpress({ baseUrl: 'https://aiplatform.googleapis.com/v1beta1/publishers/google' }),
    // The Live API (the SDK's live.connect, a WebSocket) through the key pool. idleTimeoutSeconds: LIVE_IDLE_TIMEOUT_SECONDS,
    // maxSessionSeconds: LIVE_MAX_SESSION_SECONDS
    live({ idleTimeoutSeconds: 300, maxSessionSeconds: 3600 }),
    // Files (resumable upload), cached contents, batches, operations and file search stores, each bound to the key that
    // made it. userIsolation: FILES_USER_ISOLATION_ENABLED, cleanupEnabled: FILES_CLEANUP_ENABLED, cleanupIntervalHours:
    // FILES_CLEANUP_INTERVAL_HOURS, maxUploadMb: FILES_MAX_UPLOAD_MB, uploadSessionHours: FILES_UPLOAD_SESSION_HOURS
    resources({ userIsolation: true, cleanupEnabled: true, cleanupIntervalHours: 1, maxUploadMb: 2048, uploadSessionHours: 1 }),
    // Short model names of your own (the README's example plugin):
    // modelAlias({ aliases: { fast: 'gemini-2.5-flash-lite' } }),
    // The operator's console at / (keys, dashboard, settings, logs, tokens, jobs). sessionExpireSeconds: ADMIN_SESSION_EXPIRE,
    // trustForwardedFor: ADMIN_TRUST_FORWARDED_FOR
    admin({ sessionExpireSeconds: 3600, trustForwardedFor: false }),
  ],
})
