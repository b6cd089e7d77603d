// The live log reconnects by itself after a daemon restart.  Needs the stack
// to honour opts.env PORT / ADMIN_KEY / API_KEY (same address and key after
// the restart); skipped otherwise.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchBrowser, screenshot } from './browser.mjs'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const WEB_DIST = path.join(REPO, 'web', 'dist')

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) })
    s.on('error', reject)
  })
}

let startStack, stack, b, page, env

describe('live log reconnect (e2e)', { timeout: 120000 }, () => {
  before(async () => {
    if (!existsSync(path.join(WEB_DIST, 'index.html'))) execFileSync('npm', ['run', 'build'], { cwd: path.join(REPO, 'web'), stdio: 'inherit' })
    ;({ startStack } = await import('../lib/stack.mjs'))
    const port = await freePort()
    env = { WEB_DIR: WEB_DIST, PORT: String(port), ADMIN_KEY: 'adm-reconnect-' + port, API_KEY: 'sk-reconnect-' + port }
    stack = await startStack({ env })
    b = await launchBrowser()
    page = await b.newPage({ width: 1280, height: 720 })
    page.setDefaultTimeout(15000)
  })
  after(async () => {
    await b?.close()
    await stack?.stop()
  })

  it('shows "disconnected — retrying" during a restart and catches up afterwards', async (t) => {
    if (!stack.url.endsWith(':' + env.PORT) || stack.adminKey !== env.ADMIN_KEY) {
      t.skip('stack does not honour opts.env PORT/ADMIN_KEY')
      return
    }
    await page.goto(`${stack.url}/admin/#/logs`)
    await page.fill('#admin-key', stack.adminKey)
    await page.click('button[type=submit]')
    await page.waitForFunction(() => document.querySelector('.stream-state')?.dataset.state === 'open')

    await stack.stop()
    await page.waitForFunction(() => document.querySelector('.stream-state')?.dataset.state === 'retrying', null, { timeout: 20000 })
    await screenshot(page, '30-log-retrying', { fullPage: false })

    stack = await startStack({ env })
    await page.waitForFunction(() => document.querySelector('.stream-state')?.dataset.state === 'open', null, { timeout: 30000 })
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hello again' }] }),
    })
    await res.text()
    await page.waitForFunction(() => [...document.querySelectorAll('.log-row')].some((r) => r.textContent.includes('gemini-2.5-flash')))
    assert.equal(await page.locator('[data-testid=logout]').count(), 1, 'still logged in')
    await screenshot(page, '31-log-after-restart')
  })
})
