// gemgate admin API client — the only module that talks HTTP to the daemon.
// Contract: docs/ADMIN_API.md.

export const API_BASE = '/api/admin'

export class ApiError extends Error {
  constructor({ status = 0, code = 'unknown', message = '', fields = null, retryAfter = null } = {}) {
    super(message || code)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
    this.retryAfter = retryAfter
  }
  get isUnreachable() { return this.code === 'unreachable' }
  get isUnauthorized() { return this.status === 401 }
  get isLockedOut() { return this.status === 429 && this.code === 'locked_out' }
}

/** "900" -> "15 min", "42" -> "42 s" */
export function formatRetryAfter(seconds) {
  const s = Number(seconds)
  if (!Number.isFinite(s) || s <= 0) return null
  if (s < 60) return `${Math.ceil(s)} s`
  const m = Math.ceil(s / 60)
  return `${m} min`
}

/** Parse a Retry-After header value: delta-seconds or an HTTP date. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value == null || value === '') return null
  const n = Number(value)
  if (Number.isFinite(n)) return Math.max(0, Math.round(n))
  const t = Date.parse(value)
  if (Number.isFinite(t)) return Math.max(0, Math.round((t - now) / 1000))
  return null
}

const STATUS_TEXT = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Request too large',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
}

/**
 * Map an HTTP error reply (status, parsed body or raw text, Retry-After header)
 * to an ApiError carrying a human-readable message.
 */
export function errorFromResponse(status, body, retryAfterHeader = null) {
  const env = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : null
  const code = (env && env.code) || (status === 401 ? 'unauthorized' : status >= 500 ? 'internal' : 'http_' + status)
  const fields = env && env.fields && typeof env.fields === 'object' ? env.fields : null
  const retryAfter = parseRetryAfter(retryAfterHeader)
  let message
  if (status === 401) {
    message = 'Wrong admin key (401 unauthorized).'
  } else if (status === 429 && code === 'locked_out') {
    const wait = formatRetryAfter(retryAfter)
    message = 'Too many wrong keys from this address — locked out' + (wait ? `; try again in ${wait} (Retry-After: ${retryAfter}s).` : '.')
  } else if (env && env.message) {
    message = env.message
  } else if (typeof body === 'string' && body.trim() && body.length < 300) {
    message = `HTTP ${status}: ${body.trim()}`
  } else {
    message = `HTTP ${status} ${STATUS_TEXT[status] || 'error'}`
  }
  if (status >= 500 && env && env.message) message = `Server error (${status} ${code}): ${env.message}`
  return new ApiError({ status, code, message, fields, retryAfter })
}

export function unreachableError(cause) {
  const e = new ApiError({
    status: 0,
    code: 'unreachable',
    message: 'Cannot reach the gemgate daemon — is it running?',
  })
  e.cause = cause
  return e
}

/**
 * createClient({ getKey, fetch, onUnauthorized, onReachable, onUnreachable })
 */
export function createClient(opts = {}) {
  const doFetch = opts.fetch || ((...a) => globalThis.fetch(...a))
  const getKey = opts.getKey || (() => null)
  const base = opts.base ?? API_BASE

  async function request(method, path, { body, raw, key, query } = {}) {
    const headers = { Accept: 'application/json' }
    const k = key ?? getKey()
    if (k) headers.Authorization = `Bearer ${k}`
    let payload
    if (raw != null) {
      headers['Content-Type'] = 'text/plain; charset=utf-8'
      payload = raw
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    let url = base + path
    if (query) {
      const qs = new URLSearchParams()
      for (const [n, v] of Object.entries(query)) if (v != null && v !== '') qs.set(n, v)
      const s = qs.toString()
      if (s) url += '?' + s
    }
    let res
    try {
      res = await doFetch(url, { method, headers, body: payload, cache: 'no-store' })
    } catch (err) {
      const e = unreachableError(err)
      opts.onUnreachable?.(e)
      throw e
    }
    opts.onReachable?.()
    const text = await res.text().catch(() => '')
    let data = null
    if (text) {
      try { data = JSON.parse(text) } catch { data = text }
    }
    if (!res.ok) {
      const ra = res.headers && typeof res.headers.get === 'function' ? res.headers.get('Retry-After') : null
      const e = errorFromResponse(res.status, data, ra)
      if (e.isUnauthorized && !key) opts.onUnauthorized?.(e)
      throw e
    }
    if (typeof data === 'string') {
      throw new ApiError({ status: res.status, code: 'bad_reply', message: `Unexpected non-JSON reply from ${path}` })
    }
    return data
  }

  const enc = encodeURIComponent
  return {
    request,
    overview: (key) => request('GET', '/overview', { key }),
    stats: (window = '1h') => request('GET', '/stats', { query: { window } }),
    listAccounts: (query) => request('GET', '/accounts', { query }).then((d) => d.accounts || []),
    getAccount: (id) => request('GET', `/accounts/${enc(id)}`),
    createAccount: (fields) => request('POST', '/accounts', { body: fields }),
    updateAccount: (id, fields) => request('PUT', `/accounts/${enc(id)}`, { body: fields }),
    deleteAccount: (id) => request('DELETE', `/accounts/${enc(id)}`),
    enableAccount: (id) => request('POST', `/accounts/${enc(id)}/enable`),
    disableAccount: (id, reason) => request('POST', `/accounts/${enc(id)}/disable`, reason ? { body: { reason } } : {}),
    resetAccount: (id) => request('POST', `/accounts/${enc(id)}/reset`),
    testAccount: (id) => request('POST', `/accounts/${enc(id)}/test`),
    importAccounts: (text) => request('POST', '/accounts/import', { raw: text }),
    logs: (query) => request('GET', '/logs', { query }).then((d) => d.logs || []),
    // The live log is an EventSource, which cannot send headers: the key goes
    // in a header to get a single-use ticket valid 60 s, and only the ticket
    // appears in the stream's URL (keys in URLs end up in proxy logs).
    logsTicket: (key) => request('POST', '/logs/ticket', { key }).then((d) => d.ticket),
    streamUrl: (ticket) => `${base}/logs/stream?ticket=${enc(ticket)}`,
    // client keys: createKey's reply {key, secret} is the only time the secret exists here
    listKeys: () => request('GET', '/keys').then((d) => d.keys || []),
    createKey: (fields) => request('POST', '/keys', { body: fields }),
    updateKey: (id, fields) => request('PATCH', `/keys/${enc(id)}`, { body: fields }),
    deleteKey: (id) => request('DELETE', `/keys/${enc(id)}`),
    keyUsage: (id, days) => request('GET', `/keys/${enc(id)}/usage`, { query: { days } }),
  }
}

export const KEY_STORAGE = 'gemgate.adminKey'

export function readStoredKey() {
  try { return globalThis.sessionStorage?.getItem(KEY_STORAGE) || null } catch { return null }
}

// Hooks installed by the app (auth store / connection banner).
export const hooks = { onUnauthorized: null, onUnreachable: null, onReachable: null }

export const api = createClient({
  getKey: readStoredKey,
  onUnauthorized: (e) => hooks.onUnauthorized?.(e),
  onUnreachable: (e) => hooks.onUnreachable?.(e),
  onReachable: () => hooks.onReachable?.(),
})
