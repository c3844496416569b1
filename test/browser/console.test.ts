// The operator's console in a real browser (Debian's chromium, headless) against a gateway process at its first run:
// nothing configured, the admin token read from what the process printed. One gateway and one browser page go through
// the flows in order, as an operator would; each page is screenshotted under test/artifacts/.
import { randomBytes } from 'node:crypto'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { maskSecret } from '../../core/identity.ts'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { registerDataDir, registerSecrets } from '../secrets/recorder.ts'
import { CHROMIUM, chromiumMissing, launchChromium, screenshot, watchPageErrors } from './browser.ts'
import { startFirstRun, type FirstRun } from './first-run.ts'

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'
/** A Gemini key's shape: AIzaSy and 33 characters. */
const geminiKey = () => `AIzaSy${[...randomBytes(33)].map((byte) => KEY_ALPHABET[byte % KEY_ALPHABET.length]).join('')}`
const [GOOD, SPARE, BAD] = [geminiKey(), geminiKey(), geminiKey()]
const PASTED = `GEMINI_API_KEYS=${GOOD},${SPARE}\nand the one from Slack: "${BAD}" (expired?)\nagain, in case: ${GOOD}\nnot a key: AIzaSy-too-short`
/** Not filtered out at first; the settings step filters it. */
const FILTERED_MODEL = 'gemini-2.0-flash'
const PHONE = { width: 375, height: 812 }
const DESKTOP = { width: 1280, height: 800 }

/** expect.poll with room for a loaded machine (its default gives up after one second). */
const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 10_000, interval: 100 })

const SKIPPED = `SKIPPED: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`
const title = chromiumMissing ? `the console in a real browser (${SKIPPED})` : 'the console in a real browser'
if (chromiumMissing) console.warn(`browser tests of the console ${SKIPPED}`)

describe.skipIf(chromiumMissing)(title, { timeout: 30_000 }, () => {
  let upstream: FakeUpstream
  let gateway: FirstRun
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let pageErrors: ReturnType<typeof watchPageErrors>
  /** The client token the tokens page showed once. */
  let clientToken = ''

  const generate = (model: string, token: string | undefined) =>
    fetch(`${gateway.url}/v1beta/models/${model}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { 'x-goog-api-key': token } : {}) },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hello there' }] }] }),
    })
  const row = (key: string) => page.getByTestId('key-row').filter({ hasText: maskSecret(key) })
  /** No pasted key and no client token in the page's HTML (the client token only while its dialog is open). */
  const expectNoSecretInPage = async () => {
    const html = await page.content()
    for (const secret of [GOOD, SPARE, BAD, clientToken].filter(Boolean)) expect(html, `${maskSecret(secret)} in the page's HTML`).not.toContain(secret)
  }
  /** Waits for a toast saying `text`, then dismisses every toast (they sit over the page's top-right actions). */
  const toastSays = async (text: string) => {
    await eventually(() => page.getByTestId('toast').allTextContents()).toContainEqual(expect.stringContaining(text))
    for (const button of await page.getByTestId('toast').getByRole('button', { name: 'Dismiss' }).all()) await button.click()
    await eventually(() => page.getByTestId('toast').count()).toBe(0)
  }
  const refreshedCount = async (rows: Locator) => {
    await page.getByTestId('logs-refresh').click()
    await page.locator('.table-wrap[aria-busy="false"]').waitFor()
    return rows.count()
  }
  const goTo = async (name: 'keys' | 'dashboard' | 'logs' | 'tokens' | 'jobs' | 'settings') => {
    await page.getByTestId(`nav-${name}`).click()
    await eventually(() => new URL(page.url()).pathname).toBe(`/${name}`)
    await page.getByTestId(`${name}-page`).waitFor()
  }

  beforeAll(async () => {
    const launching = launchChromium()
    launching.catch(() => {}) // awaited below; meanwhile a failed launch is no unhandled rejection
    upstream = await startFakeUpstream()
    gateway = await startFirstRun(upstream.url).catch(async (error) => {
      await (await launching).close()
      throw error
    })
    browser = await launching
    // Only hashes of the admin and client tokens may be stored (the data dir is searched after the run). The keys
    // pasted in the console are stored by design, so they are not registered.
    registerDataDir(gateway.dataDir)
    registerSecrets([gateway.adminToken])
    // The login page bundles the app (esbuild, from sources) on its first request: done here, outside the tests' clocks.
    expect((await fetch(`${gateway.url}/`)).status).toBe(200)
    context = await browser.newContext({ viewport: DESKTOP, baseURL: gateway.url })
    page = await context.newPage()
    page.setDefaultTimeout(10_000)
    pageErrors = watchPageErrors(page)
  }, 40_000)

  afterEach(() => {
    expect(pageErrors.take(), 'errors in the page').toEqual([])
  })

  afterAll(async () => {
    await browser?.close()
    await gateway?.stop()
    await upstream?.close()
  })

  it('first run: the API refuses every request; a wrong admin token is refused, the printed one logs in', async () => {
    expect(gateway.output().split(gateway.adminToken).length - 1, 'the admin token is printed once').toBe(1)
    // Booleans, not the output itself: a failure message must not print the admin token.
    expect(gateway.output().includes(`Console:      ${gateway.url}/`), 'the console URL is printed').toBe(true)
    expect((await generate('gemini-2.5-flash', 'anything')).status).toBe(401)
    expect((await generate('gemini-2.5-flash', undefined)).status).toBe(401)
    expect((await fetch(`${gateway.url}/api/session`)).status).toBe(401)
    expect(upstream.requests).toHaveLength(0)

    await page.goto('/')
    await eventually(() => page.locator('.login-hint').allTextContents()).toContainEqual(expect.stringContaining('No client token exists yet'))
    await screenshot(page, 'login')

    await page.getByLabel('Admin token').fill('gg-admin-not-the-right-one-0000000000000')
    await page.getByRole('button', { name: 'Log in' }).click()
    await eventually(() => page.url()).toContain('/?error=invalid')
    expect(await page.getByRole('alert').textContent()).toBe('Wrong admin token.')

    await page.getByLabel('Admin token').fill(gateway.adminToken)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByTestId('keys-page').waitFor()
    expect(new URL(page.url()).pathname).toBe('/keys')
    await eventually(() => page.getByTestId('keys-table').textContent()).toContain('No keys yet')
    const cookie = (await context.cookies()).find((c) => c.name === 'gemgate_session')
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' })
  })

  it('keys: pasted text gives three keys (a duplicate dropped), shown masked; verify disables the bad one, keeps the good one', async () => {
    await page.getByTestId('keys-add').click()
    await page.getByTestId('add-keys-text').fill(PASTED)
    await page.getByTestId('add-keys-submit').click()
    await page.getByTestId('add-keys-result').waitFor()
    expect(await page.getByTestId('add-keys-found').textContent()).toBe('4')
    expect(await page.getByTestId('add-keys-added').textContent()).toBe('3')
    expect(await page.getByTestId('add-keys-duplicates').textContent()).toBe('1')
    expect(await page.getByTestId('add-keys-text').inputValue(), 'the pasted text leaves the page').toBe('')
    await page.getByTestId('add-keys').getByTestId('modal-close').click()

    await eventually(() => page.getByTestId('key-row').count()).toBe(3)
    for (const key of [GOOD, SPARE, BAD]) {
      expect(await row(key).getByTestId('key-label').textContent()).toBe(maskSecret(key))
      expect(await row(key).getByTestId('key-state').getAttribute('data-state')).toBe('healthy')
    }
    await expectNoSecretInPage()

    upstream.setBehaviour(BAD, 'invalid-key')
    await row(BAD).getByTestId('key-verify').click()
    await eventually(() => row(BAD).getByTestId('key-state').getAttribute('data-state')).toBe('disabled')
    expect(await row(BAD).getByTestId('key-state').textContent()).toMatch(/disabled/)
    await toastSays(`${maskSecret(BAD)}: invalid-key`)

    const asked = upstream.requests.length
    await row(GOOD).getByTestId('key-verify').click()
    await toastSays(`${maskSecret(GOOD)}: accepted`)
    expect(upstream.requests.slice(asked).map((request) => request.key)).toEqual([GOOD])
    expect(await row(GOOD).getByTestId('key-state').getAttribute('data-state')).toBe('healthy')
    expect(await page.getByTestId('keys-state-disabled').textContent()).toMatch(/disabled\s*1/)
    await expectNoSecretInPage()

    await screenshot(page, 'keys')
    await page.setViewportSize(PHONE)
    await screenshot(page, 'keys-phone')
    // On a phone the table's rows become cards: nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width)
    await page.setViewportSize(DESKTOP)
  })

  it('tokens: a client token made in the console is shown once and lets API requests through', async () => {
    await goTo('tokens')
    await page.getByTestId('tokens-create-name').fill('browser test')
    await page.getByTestId('tokens-create').click()
    clientToken = (await page.getByTestId('new-token-value').textContent()) ?? ''
    expect(clientToken.length).toBeGreaterThanOrEqual(24)
    registerSecrets([clientToken])
    await page.getByTestId('new-token-done').click()
    await eventually(() => page.getByTestId('token-row').count()).toBe(1)
    expect(await page.getByTestId('token-name').textContent()).toBe('browser test')
    await expectNoSecretInPage()
    await screenshot(page, 'tokens')

    const answer = await generate('gemini-2.5-flash', clientToken)
    expect(answer.status).toBe(200)
    expect([GOOD, SPARE], 'a healthy key served it').toContain(upstream.requests.at(-1)?.key)
    expect((await generate('gemini-2.5-flash', 'not-a-token')).status).toBe(401)
    // A few more, so the dashboard has something to draw.
    for (let i = 0; i < 6; i++) expect((await generate('gemini-2.5-flash-lite', clientToken)).status).toBe(200)
  })

  it('settings: a model added to FILTERED_MODELS is refused by the next API request', async () => {
    expect((await generate(FILTERED_MODEL, clientToken)).status).toBe(200)
    await goTo('settings')
    await page.getByTestId('settings-filter').fill('FILTERED_MODELS')
    const setting = page.getByTestId('setting-filteredModels')
    const input = setting.getByTestId('setting-input')
    const before = await input.inputValue()
    expect(before).toContain('chat-bison-001')
    await input.fill(`${before}\n${FILTERED_MODEL}`)
    await eventually(() => page.getByTestId('settings-changes').textContent()).toMatch(/^1 unsaved change/)
    await page.getByTestId('settings-save').click()
    await toastSays('Saved 1 setting')
    await eventually(() => setting.getAttribute('data-source')).toBe('console')
    expect(await input.inputValue()).toContain(FILTERED_MODEL)

    const refused = await generate(FILTERED_MODEL, clientToken)
    expect(refused.status).toBe(404)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(FILTERED_MODEL)
    expect((await generate('gemini-2.5-flash', clientToken)).status).toBe(200)

    await page.getByTestId('settings-filter').fill('')
    await screenshot(page, 'settings')
  })

  it("logs: the verify and the refused request are logged; a failed attempt's error row shows Google's error body", async () => {
    // One attempt that Google refuses (an overloaded model), whichever healthy key the gateway picks first.
    for (const key of [GOOD, SPARE]) upstream.setBehaviour(key, 'overloaded', { times: 1 })
    await generate('gemini-2.5-pro', clientToken)
    await goTo('logs')
    const rows = (selector: string) => page.locator(`[data-testid="log-row"]${selector}`)
    // Rows reach the database in batches (up to a second later): the page's Refresh shows the ones written since.
    await eventually(() => refreshedCount(rows('[data-status="503"]'))).toBeGreaterThan(0)
    expect(
      await rows('[data-class="invalid-key"]')
        .filter({ hasText: maskSecret(BAD) })
        .count(),
      "the bad key's verify",
    ).toBe(1)
    expect(await rows('[data-status="404"]').count(), 'the request for the filtered model').toBe(1)
    await screenshot(page, 'logs')

    // A request row links to its error row, which holds Google's answer.
    await rows('[data-status="503"]').first().getByTestId('log-open').click()
    const detail = page.getByTestId('log-detail')
    await detail.getByTestId('log-open-error').click()
    const body = detail.getByTestId('log-error-body')
    await eventually(() => body.textContent()).toContain('"status": "UNAVAILABLE"')
    expect(await body.textContent()).toContain('The model is overloaded')
    await expectNoSecretInPage()
    await screenshot(page, 'log-detail', { fullPage: false })
    await detail.getByTestId('modal-close').click()
    await detail.waitFor({ state: 'detached' })

    // The error log has the refusal too, with the gateway's reason.
    await page.getByTestId('logs-tab-errors').click()
    await rows('[data-status="404"]').getByTestId('log-open').click()
    await eventually(() => detail.getByTestId('log-error-body').textContent()).toContain(FILTERED_MODEL)
    await detail.getByTestId('modal-close').click()
    await detail.waitFor({ state: 'detached' })
  })

  it('dashboard and jobs render: the chart is drawn, the jobs are listed', async () => {
    await goTo('dashboard')
    const canvas = page.getByTestId('dash-chart').locator('canvas')
    await canvas.waitFor()
    // Drawn: some pixels of the canvas are not transparent.
    await eventually(() => canvas.evaluate(paintedPixels)).toBeGreaterThan(100)
    await eventually(() => page.getByTestId('dash-card-hour').getByTestId('dash-card-requests').textContent()).not.toBe('0')
    await eventually(() => page.getByTestId('dash-keys-disabled').textContent()).toBe('1 disabled')
    const disabled = page.locator('[data-testid="key-event"][data-kind="disabled"]')
    expect(await disabled.textContent(), 'the verify that disabled the bad key is a key event').toContain(maskSecret(BAD))
    await expectNoSecretInPage()
    await screenshot(page, 'dashboard')

    await goTo('jobs')
    const jobs = page.getByTestId('jobs-table')
    await jobs.waitFor()
    const text = await jobs.textContent()
    for (const name of ['key-recheck', 'log-retention', 'session-sweep']) expect(text).toContain(name)
    const sweep = page.locator('[data-testid="job-row"][data-id="session-sweep"]')
    await sweep.getByTestId('job-run').click()
    await eventually(() => sweep.getByTestId('job-last-run').getAttribute('data-ok')).toBe('true')
    await screenshot(page, 'jobs')
  })

  it('log out: the console goes back to the login page and the session no longer opens the API', async () => {
    const session = (await context.cookies()).find((c) => c.name === 'gemgate_session')!
    await page.getByTestId('logout').click()
    await eventually(() => new URL(page.url()).pathname).toBe('/')
    await page.getByLabel('Admin token').waitFor()

    await page.goto('/keys')
    expect(new URL(page.url()).pathname).toBe('/')
    await page.getByLabel('Admin token').waitFor()
    expect((await page.request.get('/api/keys')).status()).toBe(401)
    // The old cookie itself is over server-side, not only dropped by the browser.
    expect((await fetch(`${gateway.url}/api/keys`, { headers: { cookie: `gemgate_session=${session.value}` } })).status).toBe(401)
    expect(clientToken).not.toBe('')
    expect(gateway.output().includes(clientToken), 'the client token is never printed').toBe(false)
  })
})

/** Runs in the page: how many of the canvas's pixels something was drawn on. */
function paintedPixels(canvas: HTMLCanvasElement): number {
  const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
  let painted = 0
  for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++
  return painted
}
