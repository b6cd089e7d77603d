// The live log reconnects by itself after a daemon restart on the same
// address (tests/lib/stack.mjs stopGw()/startGw()).
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchBrowser, screenshot } from './browser.mjs'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const WEB_DIST = path.join(REPO, 'web', 'dist')

let stack, b, page

describe('live log reconnect (e2e)', { timeout: 120000 }, () => {
  before(async () => {
    if (!existsSync(path.join(WEB_DIST, 'index.html'))) execFileSync('npm', ['run', 'build'], { cwd: path.join(REPO, 'web'), stdio: 'inherit' })
    const { startStack } = await import('../lib/stack.mjs')
    stack = await startStack({ env: { WEB_DIR: WEB_DIST } })
    b = await launchBrowser()
    page = await b.newPage({ width: 1280, height: 720 })
    page.setDefaultTimeout(15000)
  })
  after(async () => {
    await b?.close()
    await stack?.stop()
  })

  it('shows "disconnected — retrying" during a restart and catches up afterwards', async () => {
    const port = new URL(stack.url).port
    await page.goto(`${stack.url}/admin/#/logs`)
    await page.fill('#admin-key', stack.adminKey)
    await page.click('button[type=submit]')
    await page.waitForFunction(() => document.querySelector('.stream-state')?.dataset.state === 'open')

    await stack.stopGw()
    await page.waitForFunction(() => document.querySelector('.stream-state')?.dataset.state === 'retrying', null, { timeout: 20000 })
    assert.match(await page.textContent('.stream-state'), /disconnected — retrying/)
    await screenshot(page, '30-log-retrying', { fullPage: false })

    // same address, same keys, same data dir
    await stack.startGw({ PORT: port })
    assert.equal(new URL(stack.url).port, port)
    await page.waitForFunction(() => document.querySelector('.stream-state')?.dataset.state === 'open', null, { timeout: 30000 })
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hello again' }] }),
    })
    await res.text()
    await page.waitForFunction(() => [...document.querySelectorAll('.log-row')].some((r) => r.textContent.includes('gemini-2.5-flash')))
    assert.equal(await page.locator('[data-testid=logout]').count(), 1, 'still logged in')
    await page.locator('[data-nav=accounts]').click()
    await page.locator('tr.account-row').first().waitFor()
    assert.equal(await page.locator('[data-testid=down-banner]').count(), 0, 'no stale "unreachable" banner')
    await screenshot(page, '31-after-restart')
  })
})
