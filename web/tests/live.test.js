import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest'
import { startLive, stopLive } from '../src/stores/live.js'
import { connection } from '../src/stores/connection.js'
import { logs } from '../src/stores/logs.js'
import { accounts } from '../src/stores/accounts.js'

class FakeES {
  static all = []
  constructor(url) { this.url = url; this.readyState = 0; this.listeners = {}; this.closed = false; FakeES.all.push(this) }
  addEventListener(t, fn) { (this.listeners[t] ||= []).push(fn) }
  emit(t, data) { for (const fn of this.listeners[t] || []) fn(data !== undefined ? { data: JSON.stringify(data) } : {}) }
  close() { this.closed = true; this.readyState = 2 }
}

const flush = async () => { for (let i = 0; i < 10; i++) await Promise.resolve() }

describe('live stream', () => {
  let tickets
  let n
  const getTicket = (key) => { tickets.push(key); n++; return Promise.resolve(`t${n}`) }
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); FakeES.all = []; tickets = []; n = 0; logs.clear(); accounts.state.list = [] })
  afterEach(() => { stopLive(); vi.useRealTimers() })

  it('trades the key for a ticket; only the ticket is in the URL; feeds logs and accounts', async () => {
    const p = startLive('k&1', { EventSourceImpl: FakeES, getTicket })
    expect(connection.stream).toBe('connecting')
    await p
    expect(tickets).toEqual(['k&1'])
    const es = FakeES.all[0]
    expect(es.url).toBe('/api/admin/logs/stream?ticket=t1')
    expect(es.url).not.toContain('k%261')
    expect(es.url).not.toContain('key=')
    es.readyState = 1; es.emit('open')
    expect(connection.stream).toBe('open')
    es.emit('request', { request_id: 'r1', model: 'm', status: 200 })
    es.emit('request', { request_id: 'r1', model: 'm', status: 200 }) // replay after reconnect
    expect(logs.state.rows.map((r) => r.request_id)).toEqual(['r1'])
    es.emit('account', { id: 4, source: 'db', name: 'x', status: 'cooldown' })
    expect(accounts.state.list[0]).toMatchObject({ id: 4, status: 'cooldown' })
  })

  it('on an error closes the source and reconnects with a NEW ticket after a backoff', async () => {
    await startLive('k', { EventSourceImpl: FakeES, getTicket })
    const es = FakeES.all[0]
    es.emit('error')
    expect(connection.stream).toBe('retrying')
    expect(es.closed).toBe(true)
    vi.advanceTimersByTime(500)
    expect(FakeES.all).toHaveLength(1)
    vi.advanceTimersByTime(1000)
    await flush()
    expect(FakeES.all).toHaveLength(2)
    expect(FakeES.all[1].url).toBe('/api/admin/logs/stream?ticket=t2')
    FakeES.all[1].emit('open')
    expect(connection.stream).toBe('open')
  })

  it('a refused ticket request is retried with a backoff', async () => {
    let fail = true
    const flaky = (key) => (fail ? Promise.reject(new Error('401')) : getTicket(key))
    await startLive('k', { EventSourceImpl: FakeES, getTicket: flaky })
    expect(FakeES.all).toHaveLength(0)
    expect(connection.stream).toBe('retrying')
    fail = false
    vi.advanceTimersByTime(20000)
    await flush()
    expect(FakeES.all).toHaveLength(1)
    expect(FakeES.all[0].url).toBe('/api/admin/logs/stream?ticket=t1')
  })

  it('stopLive closes the source and stops retrying', async () => {
    await startLive('k', { EventSourceImpl: FakeES, getTicket })
    const es = FakeES.all[0]
    es.emit('error')
    stopLive()
    vi.advanceTimersByTime(60000)
    await flush()
    expect(FakeES.all).toHaveLength(1)
    expect(es.closed).toBe(true)
    expect(connection.stream).toBe('idle')
  })

  it('stopLive while the ticket is pending opens nothing', async () => {
    const p = startLive('k', { EventSourceImpl: FakeES, getTicket })
    stopLive()
    await p
    expect(FakeES.all).toHaveLength(0)
  })
})
