/** Every plugin that ships with gemgate, in the order gateway.config.ts lists them; the README's table is made from these. */
import admin from './admin/index.ts'
import fakeStream from './fake-stream/index.ts'
import imageChat from './image-chat/index.ts'
import imageGeneration from './image-generation/index.ts'
import live from './live/index.ts'
import modelAlias from './model-alias/index.ts'
import resources from './resources/index.ts'
import search from './search/index.ts'
import speech from './speech/index.ts'
import thinking from './thinking/index.ts'
import tools from './tools/index.ts'
import aliyunOss from './uploaders/aliyun-oss/index.ts'
import cloudflareImgbed from './uploaders/cloudflare-imgbed/index.ts'
import picgo from './uploaders/picgo/index.ts'
import smms from './uploaders/smms/index.ts'
import urlNormalization from './url-normalization/index.ts'
import vertexExpress from './vertex-express/index.ts'

export {
  admin,
  aliyunOss,
  cloudflareImgbed,
  fakeStream,
  imageChat,
  imageGeneration,
  live,
  modelAlias,
  picgo,
  resources,
  search,
  smms,
  speech,
  thinking,
  tools,
  urlNormalization,
  vertexExpress,
}

export const BUNDLED_PLUGINS = [
  urlNormalization,
  search,
  thinking,
  tools,
  imageChat,
  imageGeneration,
  speech,
  smms,
  picgo,
  cloudflareImgbed,
  aliyunOss,
  fakeStream,
  vertexExpress,
  live,
  resources,
  modelAlias,
  admin,
] as const
