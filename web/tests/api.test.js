import { describe, it, expect, vi } from 'vitest'
import { createClient, errorFromResponse, parseRetryAfter, formatRetryAfter, ApiError } from '../src/api.js'

function reply(status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return {
    ok: status >= 200 && status < 300,
    status,
    text: async () => text,
    headers: { get: (n) => headers[n] ?? headers[n.toLowerCase()] ?? null },
  }
}

describe('errorFromResponse', () => {
  it('uses the envelope message and keeps code and fields', () => {
    const e = errorFromResponse(400, { error: { code: 'validation_failed', message: 'csesidx: must be decimal digits', fields: { csesidx: 'must be decimal digits' } } })
    expect(e).toBeInstanceOf(ApiError)
    expect(e.status).toBe(400)
    expect(e.code).toBe('validation_failed')
    expect(e.message).toBe('csesidx: must be decimal digits')
    expect(e.fields).toEqual({ csesidx: 'must be decimal digits' })
  })
  it('maps 401 to a wrong-key message', () => {
    const e = errorFromResponse(401, { error: { code: 'unauthorized', message: 'bad key' } })
    expect(e.isUnauthorized).toBe(true)
    expect(e.message).toMatch(/wrong admin key/i)
  })
  it('maps 429 locked_out with Retry-After to a lock-out message with the wait', () => {
    const e = errorFromResponse(429, { error: { code: 'locked_out', message: 'locked' } }, '900')
    expect(e.isLockedOut).toBe(true)
    expect(e.retryAfter).toBe(900)
    expect(e.message).toMatch(/locked out/)
    expect(e.message).toContain('15 min')
  })
  it('handles 5xx with and without an envelope', () => {
    expect(errorFromResponse(503, { error: { code: 'store_unavailable', message: 'database down' } }).message)
      .toBe('Server error (503 store_unavailable): database down')
    const e = errorFromResponse(502, '<html>bad gateway</html>')
    expect(e.code).toBe('internal')
    expect(e.message).toBe('HTTP 502: <html>bad gateway</html>')
    expect(errorFromResponse(500, null).message).toBe('HTTP 500 Internal server error')
  })
  it('keeps 409 conflict / read_only messages', () => {
    const e = errorFromResponse(409, { error: { code: 'read_only', message: 'the environment account cannot be edited' } })
    expect(e.code).toBe('read_only')
    expect(e.message).toBe('the environment account cannot be edited')
  })
})

describe('Retry-After parsing', () => {
  it('parses seconds and HTTP dates', () => {
    expect(parseRetryAfter('120')).toBe(120)
    expect(parseRetryAfter(null)).toBe(null)
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60)
    expect(formatRetryAfter(42)).toBe('42 s')
    expect(formatRetryAfter(61)).toBe('2 min')
    expect(formatRetryAfter(0)).toBe(null)
  })
})

describe('createClient', () => {
  it('sends the bearer key, JSON bodies and query strings', async () => {
    const fetch = vi.fn(async () => reply(201, { id: 1, name: 'x' }))
    const c = createClient({ fetch, getKey: () => 'k1' })
    await c.createAccount({ csesidx: '1' })
    const [url, init] = fetch.mock.calls[0]
    expect(url).toBe('/api/admin/accounts')
    expect(init.method).toBe('POST')
    expect(init.headers.Authorization).toBe('Bearer k1')
    expect(init.headers['Content-Type']).toBe('application/json')
    expect(JSON.parse(init.body)).toEqual({ csesidx: '1' })

    fetch.mockResolvedValueOnce(reply(200, { logs: [{ request_id: 'a' }] }))
    const logs = await c.logs({ limit: 5, model: '', status: '5xx' })
    expect(fetch.mock.calls[1][0]).toBe('/api/admin/logs?limit=5&status=5xx')
    expect(logs).toEqual([{ request_id: 'a' }])
  })
  it('sends import bodies as raw text', async () => {
    const fetch = vi.fn(async () => reply(200, { created: 0, updated: 0, rejected: 0, entries: [] }))
    const c = createClient({ fetch, getKey: () => 'k' })
    await c.importAccounts('a|b||1|c')
    expect(fetch.mock.calls[0][1].body).toBe('a|b||1|c')
    expect(fetch.mock.calls[0][1].headers['Content-Type']).toMatch(/^text\/plain/)
  })
  it('maps a network failure to an "unreachable" error and reports it', async () => {
    const onUnreachable = vi.fn()
    const c = createClient({ fetch: async () => { throw new TypeError('Failed to fetch') }, onUnreachable })
    const e = await c.overview('k').catch((x) => x)
    expect(e.code).toBe('unreachable')
    expect(e.isUnreachable).toBe(true)
    expect(e.message).toMatch(/cannot reach/i)
    expect(onUnreachable).toHaveBeenCalledOnce()
  })
  it('calls onUnauthorized on 401 for stored-key calls but not for an explicit login key', async () => {
    const onUnauthorized = vi.fn()
    const c = createClient({ fetch: async () => reply(401, { error: { code: 'unauthorized', message: 'no' } }), getKey: () => 'old', onUnauthorized })
    await expect(c.listAccounts()).rejects.toMatchObject({ status: 401 })
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    await expect(c.overview('typed-key')).rejects.toMatchObject({ status: 401 })
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })
  it('reads Retry-After from a 429 reply', async () => {
    const c = createClient({ fetch: async () => reply(429, { error: { code: 'locked_out', message: 'x' } }, { 'Retry-After': '60' }) })
    const e = await c.overview('k').catch((x) => x)
    expect(e.isLockedOut).toBe(true)
    expect(e.retryAfter).toBe(60)
    expect(e.message).toContain('1 min')
  })
  it('builds the SSE url with a ticket, never the key', () => {
    const c = createClient({ getKey: () => 'a b&c' })
    expect(c.streamUrl('t 1&')).toBe('/api/admin/logs/stream?ticket=t%201%26')
    expect(c.streamUrl('t')).not.toContain('a%20b')
  })

  it('gets a stream ticket with the key in the Authorization header', async () => {
    const calls = []
    const fetch = async (url, init) => { calls.push({ url, init }); return new Response('{"ticket":"abc","expires_in":60}', { status: 200 }) }
    const c = createClient({ getKey: () => 'stored', fetch })
    expect(await c.logsTicket('k1')).toBe('abc')
    expect(calls[0].url).toBe('/api/admin/logs/ticket')
    expect(calls[0].init.method).toBe('POST')
    expect(calls[0].init.headers.Authorization).toBe('Bearer k1')
    expect(calls[0].url).not.toContain('k1')
  })
})
