/**
 * `npm run dev`: the gateway on listhen, rebuilt whenever a source file, gateway.config.ts or .env changes.
 * Modules are re-evaluated through jiti so edits take effect without restarting the process.
 */
import { watch } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { toNodeHandler } from 'srvx/node'
import { createJiti } from 'jiti'
import { listen } from 'listhen'
import type { Gateway } from './core/gateway.ts'

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown

const jiti = createJiti(import.meta.url, { moduleCache: false })
let gateway: Gateway | undefined
let handler: NodeHandler = (_req, res) => res.writeHead(503).end('gemgate is starting')

async function build(): Promise<{ port: number; host: string }> {
  // Core imported once per build: what the config and its plugins import as `gemgate` is this very copy.
  const { loadGatewayConfig, createGateway } = await jiti.import<typeof import('./core/index.ts')>('./core/index.ts')
  const { config, layers } = await loadGatewayConfig()
  const next = await createGateway(config, { layers })
  const previous = gateway
  gateway = next
  handler = toNodeHandler(next.fetch) as NodeHandler
  await previous?.close()
  return { port: config.port, host: config.host }
}

const { port, host } = await build()
await listen((req, res) => handler(req, res), { port, hostname: host, showURL: true, qr: false, public: false })

let timer: NodeJS.Timeout | undefined
const reload = (file: string | null) => {
  if (!file || !/\.(tsx?|css|env)$|^\.env/.test(file)) return
  clearTimeout(timer)
  timer = setTimeout(() => {
    build()
      .then(() => console.log(`gemgate reloaded (${file} changed)`))
      .catch((error) => console.error('gemgate reload failed; still serving the previous build:', error))
  }, 150)
}
for (const dir of ['core', 'plugins', 'storage']) watch(dir, { recursive: true }, (_event, file) => reload(file))
watch('.', (_event, file) => (file === 'gateway.config.ts' || file === '.env' ? reload(file) : undefined))
