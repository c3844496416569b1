// Debian's chromium driven by playwright-core (no browser download): launch, screenshots under test/artifacts/, and
// what the page complained about (script errors, console errors such as a CSP refusal).
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const chromiumMissing = !existsSync(CHROMIUM)
/** Ignored by git (.gitignore); CI may keep it as the run's artifacts. */
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true })
}

/** A PNG of the whole page (`fullPage: false`: what the window shows) at test/artifacts/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, `${name}.png`)
  // The settings page is some 15,000 pixels tall: encoding it takes seconds on a busy machine.
  await page.screenshot({ path, fullPage, animations: 'disabled', timeout: 30_000 })
  return path
}

/** Collects the page's script errors and console errors from now on; `take()` returns and clears them. */
export function watchPageErrors(page: Page): { take(): string[] } {
  let errors: string[] = []
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error: ${message.text()} (${message.location().url})`)
  })
  return {
    take() {
      const taken = errors
      errors = []
      return taken
    },
  }
}
