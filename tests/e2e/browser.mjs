// Launch Debian's chromium headless with a fixed argument list and drive it
// through playwright-core over CDP (no Playwright browser download).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
export const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
export const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'artifacts')

export async function launchBrowser() {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'gemgate-e2e-chromium-'))
  const args = [...LAUNCH_ARGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-port=0', 'about:blank']
  // own process group so that close() also ends chromium's helper processes
  const proc = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
  let stderr = ''
  const wsUrl = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('chromium did not start in 30 s:\n' + stderr)), 30000)
    proc.stderr.setEncoding('utf8')
    proc.stderr.on('data', (d) => {
      stderr += d
      const m = stderr.match(/DevTools listening on (ws:\/\/\S+)/)
      if (m) { clearTimeout(t); resolve(m[1]) }
    })
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error(`chromium exited (${code}):\n${stderr}`)) })
  })
  const browser = await chromium.connectOverCDP(wsUrl)
  return {
    browser,
    async newPage({ width = 1366, height = 860 } = {}) {
      const context = await browser.newContext({ viewport: { width, height } })
      return context.newPage()
    },
    async close() {
      await browser.close().catch(() => {})
      const exited = proc.exitCode != null ? Promise.resolve() : new Promise((r) => proc.once('exit', r))
      try { process.kill(-proc.pid, 'SIGKILL') } catch { /* already gone */ }
      await exited
      try { rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }) } catch { /* best effort */ }
    },
  }
}

export async function screenshot(page, name, opts = {}) {
  mkdirSync(ARTIFACTS, { recursive: true })
  const file = path.join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true, ...opts })
  return file
}
