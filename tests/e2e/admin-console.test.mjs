// End-to-end: the /admin console in headless Debian chromium against the real
// gemgated + fake upstream (tests/lib/stack.mjs).
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
const T = 15000 // per-wait timeout

let stack, b, page
const consoleErrors = []

async function chat(content = 'hello') {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content }] }),
  })
  const body = await res.text()
  return { status: res.status, body, requestId: res.headers.get('x-request-id') }
}

// Stop the daemon (keep the fake upstream and temp dir for stack.stop()).
async function goAway(s) {
  assert.equal(await s.stopGw(), 0, 'gemgated exits 0')
}

const row = (name) => page.locator(`[data-testid=accounts-table] tr.account-row[data-name="${name}"]`)
const badge = (name) => row(name).locator('.status-badge')

async function gotoView(name) {
  await page.click(`[data-nav=${name}]`)
  await page.waitForFunction((n) => location.hash === '#/' + n, name, { timeout: T })
}

describe('admin console (e2e)', { timeout: 180000 }, () => {
  before(async () => {
    if (!existsSync(path.join(WEB_DIST, 'index.html'))) {
      execFileSync('npm', ['run', 'build'], { cwd: path.join(REPO, 'web'), stdio: 'inherit' })
    }
    const { startStack } = await import('../lib/stack.mjs')
    stack = await startStack({ env: { WEB_DIR: WEB_DIST } })
    // the account the form creates exists upstream, so its test must succeed
    await stack.fake('POST', '/__fake/accounts', { csesidx: '4242424242', secure_c_ses: 'CSE.e2eformsecretvalue', config_id: 'e2e-config-1' })
    b = await launchBrowser()
    page = await b.newPage({ width: 1366, height: 860 })
    page.setDefaultTimeout(T)
    page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message))
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()) })
  })

  after(async () => {
    await b?.close()
    await stack?.stop()
  })

  it('serves the console at /admin/ with hashed assets', async () => {
    const res = await fetch(`${stack.url}/admin/`)
    assert.equal(res.status, 200)
    const html = await res.text()
    const m = html.match(/\/admin\/assets\/index-[\w-]+\.js/)
    assert.ok(m, 'index.html references a hashed /admin/assets/*.js')
    const asset = await fetch(stack.url + m[0])
    assert.equal(asset.status, 200)
    assert.match(asset.headers.get('content-type') || '', /javascript/)
  })

  it('rejects a wrong key with a message, then logs in with the right key', async () => {
    await page.goto(`${stack.url}/admin/`)
    await page.fill('#admin-key', 'definitely-not-the-key')
    await page.click('button[type=submit]')
    const err = page.locator('.login-error')
    await err.waitFor()
    assert.equal(await err.getAttribute('data-code'), 'unauthorized')
    assert.match(await err.textContent(), /wrong admin key/i)
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'wrong key not stored')
    await screenshot(page, '01-login-wrong-key')

    await page.fill('#admin-key', stack.adminKey)
    await page.click('button[type=submit]')
    await page.locator('[data-testid=rpm-chart]').waitFor()
    await page.locator('[data-testid=logout]').waitFor()
    assert.equal(await page.evaluate(() => sessionStorage.getItem('gemgate.adminKey')), stack.adminKey)
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'key not in localStorage')
  })

  it('adds an account through the form, showing the API validation message first', async () => {
    await gotoView('accounts')
    await page.locator('[data-testid=accounts-table]').waitFor()
    await page.click('[data-testid=add-account]')
    await page.fill('#f-name', 'e2e-form')
    await page.fill('#f-csesidx', '12ab')
    await page.fill('#f-config_id', 'e2e-config-1')
    await page.fill('#f-secure_c_ses', 'CSE.e2eformsecretvalue')
    await page.click('button[form=account-form]')
    const fe = page.locator('.field-error[data-field=csesidx]')
    await fe.waitFor()
    assert.ok((await fe.textContent()).trim().length > 0, 'csesidx message shown')
    assert.equal(await page.getAttribute('#f-csesidx', 'aria-invalid'), 'true')
    await screenshot(page, '02-account-form-validation', { fullPage: false })

    await page.fill('#f-csesidx', '4242424242')
    await page.click('button[form=account-form]')
    await page.locator('#account-form').waitFor({ state: 'detached' })
    await row('e2e-form').waitFor()
    assert.equal(await badge('e2e-form').getAttribute('data-status'), 'active')
    // secrets are never shown unmasked
    assert.ok(!(await page.content()).includes('CSE.e2eformsecretvalue'), 'secret not displayed')

    // edit form: masked value only as placeholder
    await row('e2e-form').locator('[data-action=edit]').click()
    assert.equal(await page.inputValue('#f-secure_c_ses'), '')
    const ph = await page.getAttribute('#f-secure_c_ses', 'placeholder')
    assert.ok(ph && !ph.includes('e2eformsecretvalue'), `placeholder is masked: ${ph}`)
    await page.keyboard.press('Escape')
    await page.locator('#account-form').waitFor({ state: 'detached' })
  })

  it('imports three lines, one bad, and shows its reason in the report', async () => {
    await gotoView('import')
    const text = [
      'e2e-imp-a|CSE.importsecretA||1000001|e2e-imp-cfg-a',
      'e2e-imp-b|CSE.importsecretB||10x02|e2e-imp-cfg-b',
      'e2e-imp-c|CSE.importsecretC||1000003|e2e-imp-cfg-c',
    ].join('\n')
    await page.fill('[data-testid=import-text]', text)
    await page.click('[data-testid=import-submit]')
    await page.locator('.import-report').waitFor()
    assert.equal(await page.locator('.report-row').count(), 3)
    assert.equal((await page.textContent('.total-created')).trim(), '2')
    assert.equal((await page.textContent('.total-rejected')).trim(), '1')
    const rej = page.locator('.report-row[data-result=rejected]')
    assert.equal(await rej.count(), 1)
    assert.equal(await rej.getAttribute('data-line'), '2')
    assert.match(await rej.textContent(), /csesidx/i)
    await screenshot(page, '03-import-report')

    await gotoView('accounts')
    await row('e2e-imp-a').waitFor()
    await row('e2e-imp-c').waitFor()
    assert.equal(await row('e2e-imp-b').count(), 0)
  })

  it('disables and re-enables an account', async () => {
    await row('e2e-imp-a').locator('[data-action=disable]').click()
    await page.waitForFunction(() => document.querySelector('tr.account-row[data-name="e2e-imp-a"] .status-badge')?.dataset.status === 'disabled')
    assert.match(await row('e2e-imp-a').locator('.status-reason').textContent(), /disabled/i)
    await page.locator('[data-filter=disabled]').click()
    await row('e2e-imp-a').waitFor()
    assert.equal(await row('e2e-form').count(), 0, 'filter hides active accounts')
    await screenshot(page, '04-accounts-disabled-filter')
    await page.locator('[data-filter=all]').click()

    await row('e2e-imp-a').locator('[data-action=enable]').click()
    await page.waitForFunction(() => document.querySelector('tr.account-row[data-name="e2e-imp-a"] .status-badge')?.dataset.status === 'active')
    // survives the periodic refresh (state is the server's, not just local)
    await page.waitForTimeout(5500)
    assert.equal(await badge('e2e-imp-a').getAttribute('data-status'), 'active')
  })

  it('searches and sorts the table', async () => {
    await page.fill('input[aria-label="Search accounts"]', 'e2e-imp')
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=accounts-table] tr.account-row').length === 2)
    await page.click('[data-sort=name]') // currently asc by name -> desc
    const names = await page.$$eval('[data-testid=accounts-table] tr.account-row', (rs) => rs.map((r) => r.dataset.name))
    assert.deepEqual(names, ['e2e-imp-c', 'e2e-imp-a'])
    await page.click('[data-sort=name]')
    await page.fill('input[aria-label="Search accounts"]', '')
  })

  it('tests an account and shows the result', async () => {
    await row('e2e-form').locator('[data-action=test]').click()
    const r = row('e2e-form').locator('.test-result')
    await r.waitFor({ timeout: 30000 })
    const txt = (await r.textContent()).trim()
    assert.match(txt, /^✓ OK in \d+/, `the fake knows this account: ${txt}`)
  })

  it('deletes an account after confirmation (cancel keeps it)', async () => {
    await row('e2e-imp-c').locator('[data-action=delete]').click()
    await page.locator('[role=dialog]').waitFor()
    assert.match(await page.textContent('[role=dialog]'), /e2e-imp-c/)
    await page.click('[role=dialog] >> text=Cancel')
    await page.locator('[role=dialog]').waitFor({ state: 'detached' })
    assert.equal(await row('e2e-imp-c').count(), 1)

    await row('e2e-imp-c').locator('[data-action=delete]').click()
    await screenshot(page, '05-delete-confirm', { fullPage: false })
    await page.click('[data-testid=confirm]')
    await row('e2e-imp-c').waitFor({ state: 'detached' })
    const res = await fetch(`${stack.url}/api/admin/accounts`, { headers: { Authorization: `Bearer ${stack.adminKey}` } })
    const { accounts } = await res.json()
    assert.ok(!accounts.some((a) => a.name === 'e2e-imp-c'), 'deleted on the server')
    await screenshot(page, '06-accounts')
  })

  it('shows a chat request in the live log', async () => {
    await gotoView('logs')
    await page.waitForFunction(() => document.querySelector('.stream-state')?.dataset.state === 'open')
    const before = await page.locator('.log-row').count()
    const r = await chat('hello')
    assert.equal(r.status, 200, r.body)
    assert.match(JSON.parse(r.body).choices[0].message.content, /echo: hello$/)
    await page.waitForFunction((n) => document.querySelectorAll('.log-row').length > n, before)
    const first = page.locator('.log-row').first()
    const text = await first.textContent()
    assert.match(text, /gemini-2\.5-flash/)
    if (r.requestId) assert.equal(await first.getAttribute('data-request-id'), r.requestId)
    assert.match(text, new RegExp(String(r.status)))

    // pause holds new rows back; resume shows them
    await page.click('[data-testid=pause]')
    const n = await page.locator('.log-row').count()
    await chat('second')
    await page.waitForFunction(() => /Resume \(1 new\)/.test(document.querySelector('[data-testid=pause]').textContent))
    assert.equal(await page.locator('.log-row').count(), n)
    await page.click('[data-testid=pause]')
    await page.waitForFunction((k) => document.querySelectorAll('.log-row').length === k + 1, n)
    await screenshot(page, '07-live-log')
  })

  it('shows the dialect of an Anthropic /v1/messages request in the live log and filters by it', async () => {
    await gotoView('logs')
    await page.waitForFunction(() => document.querySelector('.stream-state')?.dataset.state === 'open')
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': stack.apiKey, 'anthropic-version': '2023-06-01', 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hello claude' }] }),
    })
    const text = await res.text()
    assert.equal(res.status, 200, text)
    const msg = JSON.parse(text)
    assert.equal(msg.type, 'message')
    const rid = res.headers.get('x-request-id')
    assert.ok(rid, 'the reply names its request id')
    const r = page.locator(`.log-row[data-request-id="${rid}"]`)
    await r.waitFor()
    assert.equal(await r.locator('.log-dialect').getAttribute('data-dialect'), 'anthropic')
    assert.equal((await r.locator('.dialect-badge').textContent()).trim(), 'anthropic')
    // the chat requests of the previous test are OpenAI ones
    const openaiRows = await page.$$eval('.log-row .log-dialect', (cs) => cs.filter((c) => c.dataset.dialect === 'openai').length)
    assert.ok(openaiRows >= 2, `OpenAI rows shown too (${openaiRows})`)
    await page.selectOption('[data-testid=dialect-filter]', 'anthropic')
    await page.waitForFunction(() => [...document.querySelectorAll('.log-row .log-dialect')].every((c) => c.dataset.dialect === 'anthropic'))
    assert.equal(await page.locator('.log-row').count(), 1)
    await screenshot(page, '07b-live-log-dialect-filter', { fullPage: false })
    await page.selectOption('[data-testid=dialect-filter]', '')
    await page.waitForFunction((n) => document.querySelectorAll('.log-row').length >= n, openaiRows + 1)
  })

  it('shows the refresh count and last sign-in of an account after a cookie rotation', async () => {
    await gotoView('accounts')
    await row('e2e-form').waitFor()
    assert.equal((await row('e2e-form').locator('.refresh-count').textContent()).trim(), '0')
    // getoxsrf answers 302 to refreshcookies, which rotates the cookies; dropping
    // the issued keys makes the next test sign in again
    await stack.fake('POST', '/__fake/scenario', { csesidx: '4242424242', endpoint: 'getoxsrf', mode: 'redirect', rotate: true, count: 1 })
    await stack.fake('POST', '/__fake/accounts/4242424242/revoke_keys')
    await row('e2e-form').locator('[data-action=test]').click()
    await page.waitForFunction(() => document.querySelector('tr.account-row[data-name="e2e-form"] .refresh-count')?.textContent.trim() === '1', null, { timeout: 30000 })
    const signin = (await row('e2e-form').locator('.last-signin').textContent()).trim()
    assert.match(signin, /^(just now|\d+s ago)$/, `last sign-in is recent: ${signin}`)
    assert.equal(await badge('e2e-form').getAttribute('data-status'), 'active')
    const res = await fetch(`${stack.url}/api/admin/accounts`, { headers: { Authorization: `Bearer ${stack.adminKey}` } })
    const acc = (await res.json()).accounts.find((a) => a.name === 'e2e-form')
    assert.equal(acc.refresh_count, 1, 'the daemon counted the refresh')
    await screenshot(page, '07c-accounts-refresh-count', { fullPage: false })
  })

  it('shows a per-kind cooldown badge next to the status after an image quota 429', async () => {
    await gotoView('accounts')
    await stack.fake('POST', '/__fake/scenario', { endpoint: 'stream', mode: 'quota', count: 1 })
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'draw [[fake:image]]' }] }),
    })
    assert.equal(res.status, 200, await res.text())
    const r0 = await fetch(`${stack.url}/api/admin/accounts`, { headers: { Authorization: `Bearer ${stack.adminKey}` } })
    const cooling = (await r0.json()).accounts.filter((a) => a.cooldowns?.image?.until)
    assert.equal(cooling.length, 1, 'one account is out of image quota')
    const name = cooling[0].name
    const b = row(name).locator('.cooldown-badge[data-kind=image]')
    await b.waitFor()
    assert.match((await b.textContent()).trim(), /^image cooling until \d\d:\d\d$/)
    assert.equal(await badge(name).getAttribute('data-status'), 'active', 'an image quota leaves the account active for text')
    assert.equal(await row(name).locator('.cooldown-badge[data-kind=text]').count(), 0)
    await screenshot(page, '07d-accounts-image-cooldown', { fullPage: false })
    // Reset clears the per-kind cooldowns too
    await row(name).locator('[data-action=reset]').click()
    await b.waitFor({ state: 'detached' })
  })

  it('overview shows a model the upstream retired, with its reason and retry time, and requests per dialect', async () => {
    await stack.fake('POST', '/__fake/config', { retired_models: ['gemini-3-pro-preview'] })
    try {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'gemini-3-pro-preview', messages: [{ role: 'user', content: 'retired?' }] }),
      })
      assert.equal(res.status, 404, await res.text())
    } finally {
      await stack.fake('POST', '/__fake/config', { retired_models: [] })
    }
    await gotoView('overview')
    const m = page.locator('.model-row[data-model="gemini-3-pro-preview"]')
    await page.waitForFunction(() => document.querySelector('.model-row[data-model="gemini-3-pro-preview"]')?.dataset.available === 'false')
    assert.match(await m.locator('.model-reason').textContent(), /not found or not supported/i)
    assert.match(await m.locator('.model-retry').textContent(), /^retry \d\d:\d\d:\d\d \(\d+m \d\ds\)$/)
    assert.equal(await page.getAttribute('.model-row[data-model="gemini-2.5-flash"]', 'data-available'), 'true')
    const count = async (d) => Number((await page.textContent(`.dialect-row[data-dialect=${d}] .dialect-count`)).trim())
    assert.equal(await count('anthropic'), 1)
    assert.ok(await count('openai') >= 3, 'the OpenAI chat requests are counted')
  })

  it('overview shows the traffic', async () => {
    await gotoView('overview')
    await page.locator('[data-testid=rpm-chart]').waitFor()
    await page.waitForFunction(() => /gemini-2\.5-flash/.test(document.body.textContent))
    await page.waitForTimeout(300)
    await screenshot(page, '08-overview')
    await page.click('[data-window="24h"]')
    await page.waitForFunction(() => /Requests \(24h\)/i.test(document.body.textContent))
  })

  it('looks right at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await gotoView('accounts')
    await page.locator('[data-testid=accounts-cards] li').first().waitFor()
    await screenshot(page, '09-accounts-phone')
    await gotoView('overview')
    await page.waitForTimeout(300)
    await screenshot(page, '10-overview-phone')
    await page.setViewportSize({ width: 1366, height: 860 })
  })

  it('logs out', async () => {
    await page.click('[data-testid=logout]')
    await page.locator('#admin-key').waitFor()
    assert.equal(await page.evaluate(() => sessionStorage.getItem('gemgate.adminKey')), null)
    // log back in for the last scenario
    await page.fill('#admin-key', stack.adminKey)
    await page.click('button[type=submit]')
    await page.locator('[data-testid=logout]').waitFor()
  })

  it('shows "disconnected — retrying" when the daemon goes away', async () => {
    await gotoView('logs')
    await page.waitForFunction(() => document.querySelector('.stream-state')?.dataset.state === 'open')
    await goAway(stack)
    await page.waitForFunction(() => document.querySelector('.stream-state')?.dataset.state === 'retrying', null, { timeout: 20000 })
    assert.match(await page.textContent('.stream-state'), /disconnected — retrying/)
    await gotoView('accounts')
    await page.locator('[data-testid=down-banner]').waitFor({ timeout: 15000 })
    await screenshot(page, '11-daemon-down', { fullPage: false })
    const unexpected = consoleErrors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|EventSource/i.test(e))
    assert.deepEqual(unexpected, [], 'no unexpected page errors')
  })
})
