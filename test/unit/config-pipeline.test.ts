import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadGatewayConfig } from '../../core/config/load.ts'

const load = (pipeline: string[]) =>
  loadGatewayConfig({
    cwd: mkdtempSync(join(tmpdir(), 'gemgate-config-')),
    dotenv: false,
    env: { ALLOWED_TOKENS: '["sk-a-long-enough-client-token"]' },
    overrides: { pipeline: pipeline as never },
  })

/** A custom pipeline in gateway.config.ts is checked when the config loads, so `npm start` names the problem. */
describe('pipeline setting', () => {
  it.each<[string, string[], RegExp]>([
    ['an unknown stage (a typo)', ['auth', 'tranform', 'key-select', 'upstream'], /pipeline: unknown stage "tranform"/],
    ['auth left out', ['transform', 'key-select', 'upstream'], /pipeline: "auth" is required/],
    ['auth after transform', ['transform', 'auth', 'key-select', 'upstream'], /pipeline: "auth" must come before "transform"/],
  ])('%s is a configuration error', async (_name, pipeline, message) => {
    const error = await load(pipeline).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(String((error as Error).message)).toMatch(message)
  })

  it('a valid custom order loads', async () => {
    const { config } = await load(['auth', 'log', 'transform', 'key-select', 'upstream'])
    expect(config.pipeline).toEqual(['auth', 'log', 'transform', 'key-select', 'upstream'])
  })
})
