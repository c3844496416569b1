import { defineConfig } from './core/index.ts'

/**
 * gemgate's config. Everything here can also come from the environment (gemini-balance's names, e.g. API_KEYS,
 * ALLOWED_TOKENS, MAX_RETRIES; see README.md), and the environment wins, so an existing .env keeps working.
 * Plugins are listed in the order their hooks run.
 */
export default defineConfig({
  plugins: [],
})
