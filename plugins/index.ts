/** Every plugin that ships with gemgate, in the order gateway.config.ts lists them; the README's table is made from these. */
import fakeStream from './fake-stream/index.ts'
import imageChat from './image-chat/index.ts'
import imageGeneration from './image-generation/index.ts'
import modelAlias from './model-alias/index.ts'
import search from './search/index.ts'
import speech from './speech/index.ts'
import thinking from './thinking/index.ts'
import tools from './tools/index.ts'
import urlNormalization from './url-normalization/index.ts'

export { fakeStream, imageChat, imageGeneration, modelAlias, search, speech, thinking, tools, urlNormalization }

export const BUNDLED_PLUGINS = [urlNormalization, search, thinking, tools, imageChat, imageGeneration, speech, fakeStream, modelAlias] as const
