// One EventSource for the whole console: `request` events feed the log
// buffer, `account` events update the accounts table.
import { api } from '../api.js'
import { connection } from './connection.js'
import { logs } from './logs.js'
import { accounts } from './accounts.js'

let es = null
let retryTimer = null
let wantKey = null

function parse(ev) {
  try { return JSON.parse(ev.data) } catch { return null }
}

export function startLive(key, { EventSourceImpl = globalThis.EventSource, url = api.streamUrl(key) } = {}) {
  stopLive()
  if (!EventSourceImpl) return
  wantKey = key
  connection.stream = 'connecting'
  const src = new EventSourceImpl(url)
  es = src
  src.addEventListener('open', () => {
    if (es !== src) return
    connection.stream = 'open'
    connection.streamRetries = 0
  })
  src.addEventListener('request', (ev) => { const d = parse(ev); if (d) logs.add(d) })
  src.addEventListener('account', (ev) => { const d = parse(ev); if (d) accounts.upsert(d) })
  src.addEventListener('error', () => {
    if (es !== src) return
    connection.stream = 'retrying'
    connection.streamRetries++
    // EventSource retries by itself unless the server answered with a
    // non-SSE reply (e.g. 502 from a proxy, 401): then it is CLOSED and we
    // reconnect ourselves with a backoff.
    if (src.readyState === 2 /* CLOSED */) {
      const delay = Math.min(15000, 1000 * 2 ** Math.min(4, connection.streamRetries - 1))
      clearTimeout(retryTimer)
      retryTimer = setTimeout(() => { if (wantKey === key) startLive(key, { EventSourceImpl }) }, delay)
    }
  })
}

export function stopLive() {
  clearTimeout(retryTimer)
  retryTimer = null
  wantKey = null
  if (es) { es.close(); es = null }
  connection.stream = 'idle'
}
