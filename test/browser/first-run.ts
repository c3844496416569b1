// A gateway started as `npm start` starts it, but from sources, with nothing configured: the first run an operator
// sees. The admin token it prints once is read from its output.
import { maskSecret } from '../../core/identity.ts'
import { startGatewayProcess, type GatewayProcess } from '../e2e/gateway-process.ts'

/** The first-run box: `Admin token:  gg-admin-…`. */
const ADMIN_TOKEN_LINE = /Admin token:\s+(\S+)/

export interface FirstRun extends GatewayProcess {
  dataDir: string
  /** The token the first run printed. */
  adminToken: string
}

/** What the process printed, its admin token masked: a failure message leaks nothing. */
function masked(output: string): string {
  const token = ADMIN_TOKEN_LINE.exec(output)?.[1]
  return token ? output.replaceAll(token, maskSecret(token)) : output
}

/** Starts `serve.ts` with only DATA_DIR (a new temp dir), HOST, PORT and BASE_URL set. */
export async function startFirstRun(baseUrl: string): Promise<FirstRun> {
  const gateway = await startGatewayProcess({ BASE_URL: baseUrl }, { redact: masked })
  const adminToken = ADMIN_TOKEN_LINE.exec(gateway.output())?.[1]
  if (adminToken) return { ...gateway, dataDir: gateway.env.DATA_DIR!, adminToken }
  await gateway.stop()
  throw new Error(`the gateway did not print an admin token at its first run\n${masked(gateway.output())}`)
}
