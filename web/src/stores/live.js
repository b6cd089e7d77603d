// One EventSource for the whole console: `request` events feed the log
// buffer, `account` events update the accounts table.  The admin key never
// goes into the stream's URL: each connection first trades it (in a header)
// for a single-use ticket, so a reconnect asks for a new ticket.
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

let generation = 0

export function startLive(key, { EventSourceImpl = globalThis.EventSource, getTicket = (k) => api.logsTicket(k) } = {}) {
  stopLive()
  if (!EventSourceImpl) return Promise.resolve()
  wantKey = key
  const gen = ++generation
  connection.stream = 'connecting'
  const retry = () => {
    connection.stream = 'retrying'
    connection.streamRetries++
    const delay = Math.min(15000, 1000 * 2 ** Math.min(4, connection.streamRetries - 1))
    clearTimeout(retryTimer)
    retryTimer = setTimeout(() => { if (wantKey === key && gen === generation) startLive(key, { EventSourceImpl, getTicket }) }, delay)
  }
  return Promise.resolve()
    .then(() => getTicket(key))
    .then((ticket) => {
      if (gen !== generation) return
      open(EventSourceImpl, api.streamUrl(ticket), retry)
    }, () => { if (gen === generation) retry() })
}

function open(EventSourceImpl, url, retry) {
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
    // The browser's own reconnect would present the used ticket again (401):
    // close and reconnect ourselves, with a new ticket and a backoff.
    src.close()
    es = null
    retry()
  })
}

export function stopLive() {
  generation++
  clearTimeout(retryTimer)
  retryTimer = null
  wantKey = null
  if (es) { es.close(); es = null }
  connection.stream = 'idle'
}
