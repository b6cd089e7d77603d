// End-to-end: the console's Keys page in headless Debian chromium against the
// real gemgated + fake upstream: create a client key (its secret shown once,
// gone after a reload), use it for a chat request, see its usage, set rpm 1
// and see the next request refused with 429, disable it (401), delete it.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchBrowser, screenshot } from './browser.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '../..')
const WEB_DIST = path.join(REPO, 'web', 'dist')
const T = 15000

let stack, b, page, secret
const consoleErrors = []

async function chat(key, content = 'hello') {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content }] }),
  })
  const text = await res.text()
  let json = null
  try { json = JSON.parse(text) } catch { /* not JSON */ }
  return { status: res.status, json, text, retryAfter: res.headers.get('retry-after') }
}

const row = (name) => page.locator(`[data-testid=keys-table] tr.key-row[data-name="${name}"]`)

describe('keys page (e2e)', { timeout: 180000 }, () => {
  before(async () => {
    if (!existsSync(path.join(WEB_DIST, 'index.html'))) {
      execFileSync('npm', ['run', 'build'], { cwd: path.join(REPO, 'web'), stdio: 'inherit' })
    }
    const { startStack } = await import('../lib/stack.mjs')
    stack = await startStack({ env: { WEB_DIR: WEB_DIST } })
    b = await launchBrowser()
    page = await b.newPage({ width: 1366, height: 900 })
    page.setDefaultTimeout(T)
    page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message))
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()) })
  })

  after(async () => {
    await b?.close()
    await stack?.stop()
  })

  it('logs in and opens the Keys page from the navigation', async () => {
    await page.goto(`${stack.url}/admin/`)
    await page.fill('#admin-key', stack.adminKey)
    await page.click('button[type=submit]')
    await page.locator('[data-testid=logout]').waitFor()
    await page.click('[data-nav=keys]')
    await page.waitForFunction(() => location.hash === '#/keys')
    await page.locator('[data-testid=keys-table]').waitFor()
    assert.match(await page.locator('[data-testid=keys-table]').textContent(), /No client keys yet/)
  })

  it('shows the API per-field error, then creates the key and shows its secret once', async () => {
    await page.click('[data-testid=new-key]')
    await page.fill('#k-name', 'e2e-key')
    await page.fill('#k-note', 'browser test')
    await page.fill('#k-tpm', '-5')
    await page.fill('#k-group', 'bad tag!')
    await page.click('[data-testid=key-submit]')
    await page.locator('.field-error[data-field=tpm]').waitFor()
    assert.match(await page.locator('.field-error[data-field=tpm]').textContent(), /whole number/)
    assert.ok((await page.locator('.field-error[data-field=group]').textContent()).trim().length > 0, 'group message shown')
    assert.equal((await stack.admin('GET', '/keys')).json.keys.length, 0, 'nothing created by the refused form')
    await screenshot(page, 'keys-01-form-validation', { fullPage: false })

    await page.fill('#k-tpm', '')
    await page.fill('#k-group', '')
    await page.fill('#k-tokens_day', '5000000')
    await page.click('[data-testid=key-submit]')
    const dlg = page.locator('[data-testid=key-secret-dialog]')
    await dlg.waitFor()
    secret = await page.inputValue('[data-testid=key-secret]')
    assert.match(secret, /^gk-[0-9a-f]{40}$/)
    assert.match(await dlg.textContent(), /You will not see it again/)
    await screenshot(page, 'keys-02-secret-once', { fullPage: false })
    await page.click('[data-testid=secret-done]')
    await dlg.waitFor({ state: 'detached' })
    await row('e2e-key').waitFor()
    assert.equal((await row('e2e-key').locator('[data-testid=key-prefix]').textContent()).trim(), secret.slice(0, 10) + '…')
    assert.ok(!(await page.content()).includes(secret), 'secret gone from the page once the dialog is closed')

    // the API never returns it again; a reload cannot show it either
    const list = await stack.admin('GET', '/keys')
    assert.ok(!list.text.includes(secret.slice(10)), 'secret not in the list reply')
    await page.reload()
    await row('e2e-key').waitFor()
    assert.ok(!(await page.content()).includes(secret.slice(10)), 'secret not shown after a reload')
    assert.equal(await page.locator('[data-testid=key-secret-dialog]').count(), 0)
    assert.match(await row('e2e-key').locator('.key-limits').textContent(), /day 5,000,000|day 5\.0M/)
  })

  it('the key works for a chat request and its usage appears', async () => {
    const r = await chat(secret)
    assert.equal(r.status, 200, r.text)
    assert.ok(r.json.choices[0].message.content.length > 0)
    // list: "Req today" (refreshes every 5 s)
    await page.waitForFunction(() => document.querySelector('tr.key-row[data-name="e2e-key"] .key-req-today')?.textContent.trim().startsWith('1'), null, { timeout: T })
    // usage panel with per-day charts and the per-model table
    await row('e2e-key').click()
    const usage = page.locator('[data-testid=key-usage]')
    await usage.waitFor()
    await page.waitForFunction(() => document.querySelector('[data-testid=usage-requests]')?.textContent.trim() === '1', null, { timeout: T })
    const mrow = usage.locator('tr.usage-model-row[data-model="gemini-2.5-flash"]')
    await mrow.waitFor()
    const cells = await mrow.locator('td').allTextContents()
    assert.equal(cells[1].trim(), '1', 'one request for the model')
    assert.equal(cells[2].trim(), '0', 'no error')
    assert.ok(Number(cells[3].replace(/\D/g, '')) > 0, 'tokens in counted')
    assert.ok(Number(cells[4].replace(/\D/g, '')) > 0, 'tokens out counted')
    const api = await stack.admin('GET', `/keys/${(await stack.admin('GET', '/keys')).json.keys[0].id}/usage?days=1`)
    assert.equal(api.json.days[0].tokens_in, Number(cells[3].replace(/\D/g, '')), 'console shows the API figure')
    assert.ok(await usage.locator('svg[aria-label="Requests per day"] g.day-bar rect').count() >= 1, 'a bar for today')
    await usage.scrollIntoViewIfNeeded()
    await screenshot(page, 'keys-03-list-and-usage')
    // phone width: the table scrolls inside its card, the page does not
    await page.setViewportSize({ width: 390, height: 844 })
    await page.waitForFunction(() => document.documentElement.scrollWidth <= 391)
    await screenshot(page, 'keys-03b-phone')
    await page.setViewportSize({ width: 1366, height: 900 })
  })

  it('editing rpm to 1 refuses the next request with 429', async () => {
    await row('e2e-key').locator('[data-action=edit]').click()
    assert.equal(await page.inputValue('#k-tokens_day'), '5000000', 'form prefilled')
    await page.fill('#k-rpm', '1')
    await page.click('[data-testid=key-submit]')
    await page.locator('#key-form').waitFor({ state: 'detached' })
    // the chips' texts run together in textContent: 'rpm 1day 5.0M'
    await page.waitForFunction(() => /rpm 1(?!\d)/.test(document.querySelector('tr.key-row[data-name="e2e-key"] .key-limits')?.textContent || ''))
    const k = (await stack.admin('GET', '/keys')).json.keys[0]
    assert.equal(k.limits.rpm, 1)
    assert.equal(k.limits.tokens_day, 5000000, 'other limits kept')
    // the rolling minute already holds the request made before the edit, so
    // the very next request is over rpm 1
    const r = await chat(secret, 'second')
    assert.equal(r.status, 429, r.text)
    assert.equal(r.json.error.code, 'rate_limit_exceeded')
    assert.ok(Number(r.retryAfter) >= 1, `Retry-After ${r.retryAfter}`)
  })

  it('disable refuses the key at once (401); delete asks first and removes it', async () => {
    await row('e2e-key').locator('[data-action=disable]').click()
    await page.waitForFunction(() => document.querySelector('tr.key-row[data-name="e2e-key"] .key-state')?.textContent.trim() === 'disabled')
    const r = await chat(secret)
    assert.equal(r.status, 401, r.text)
    assert.equal(r.json.error.code, 'api_key_disabled')
    await screenshot(page, 'keys-04-disabled', { fullPage: false })

    await row('e2e-key').locator('[data-action=delete]').click()
    await page.locator('[data-testid=confirm]').waitFor()
    assert.equal((await stack.admin('GET', '/keys')).json.keys.length, 1, 'nothing deleted before confirming')
    await page.click('[data-testid=confirm]')
    await row('e2e-key').waitFor({ state: 'detached' })
    assert.equal((await stack.admin('GET', '/keys')).json.keys.length, 0)
    assert.equal((await chat(secret)).status, 401)
  })

  it('the account form has a tags field that reaches the API', async () => {
    await page.click('[data-nav=accounts]')
    const envRow = page.locator('[data-testid=accounts-table] tr.account-row').first()
    await envRow.waitFor()
    const made = await stack.admin('POST', '/accounts', { name: 'tagged', csesidx: '5151', config_id: 'cfg-5151', secure_c_ses: 'CSE.x' })
    assert.equal(made.status, 201, made.text)
    const r = page.locator('[data-testid=accounts-table] tr.account-row[data-name="tagged"]')
    await r.waitFor()
    await r.locator('[data-action=edit]').click()
    await page.fill('#f-tags', 'team-a,gpu')
    await page.click('button[form=account-form]')
    await page.locator('#account-form').waitFor({ state: 'detached' })
    assert.equal((await stack.admin('GET', `/accounts/${made.json.id}`)).json.tags, 'team-a,gpu')
  })

  it('no console errors', () => {
    assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), [])
  })
})
