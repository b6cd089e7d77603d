// Login screen error paths against the real daemon: wrong key, lock-out
// (429 locked_out + Retry-After) and daemon unreachable.
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

async function tryKey(key) {
  await page.fill('#admin-key', key)
  await page.click('button[type=submit]')
  await page.waitForFunction(() => !document.querySelector('button[type=submit]')?.disabled)
  await page.locator('.login-error').waitFor()
  return { code: await page.getAttribute('.login-error', 'data-code'), text: (await page.textContent('.login-error')).trim() }
}

describe('login errors (e2e)', { timeout: 120000 }, () => {
  before(async () => {
    if (!existsSync(path.join(WEB_DIST, 'index.html'))) execFileSync('npm', ['run', 'build'], { cwd: path.join(REPO, 'web'), stdio: 'inherit' })
    const { startStack } = await import('../lib/stack.mjs')
    stack = await startStack({ env: { WEB_DIR: WEB_DIST } })
    b = await launchBrowser()
    page = await b.newPage({ width: 1024, height: 700 })
    page.setDefaultTimeout(15000)
    await page.goto(`${stack.url}/admin/`)
  })
  after(async () => {
    await b?.close()
    await stack?.stop()
  })

  it('locks out after repeated wrong keys and shows the Retry-After', async () => {
    const first = await tryKey('wrong-1')
    assert.equal(first.code, 'unauthorized')
    let last = first
    for (let i = 2; i <= 7 && last.code !== 'locked_out'; i++) last = await tryKey('wrong-' + i)
    assert.equal(last.code, 'locked_out', `expected a lock-out, got ${last.code}: ${last.text}`)
    assert.match(last.text, /locked out/i)
    assert.match(last.text, /try again in \d+ (s|min)/)
    assert.match(last.text, /Retry-After: \d+s/)
    // even the right key is refused while locked out
    const right = await tryKey(stack.adminKey)
    assert.equal(right.code, 'locked_out')
    await screenshot(page, '20-login-locked-out')
  })

  it('says so when the daemon is unreachable', async () => {
    if (stack.stopGw) await stack.stopGw()
    else { await stack.stop(); stack.stop = async () => {} }
    const r = await tryKey('any-key')
    assert.equal(r.code, 'unreachable')
    assert.match(r.text, /cannot reach/i)
    await screenshot(page, '21-login-unreachable')
  })
})
