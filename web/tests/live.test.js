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

describe('live stream', () => {
  beforeEach(() => { vi.useFakeTimers(); FakeES.all = []; logs.clear(); accounts.state.list = [] })
  afterEach(() => { stopLive(); vi.useRealTimers() })

  it('connects with the key in the query, feeds logs and accounts', () => {
    startLive('k&1', { EventSourceImpl: FakeES })
    const es = FakeES.all[0]
    expect(es.url).toBe('/api/admin/logs/stream?key=k%261')
    expect(connection.stream).toBe('connecting')
    es.readyState = 1; es.emit('open')
    expect(connection.stream).toBe('open')
    es.emit('request', { request_id: 'r1', model: 'm', status: 200 })
    es.emit('request', { request_id: 'r1', model: 'm', status: 200 }) // replay after reconnect
    expect(logs.state.rows.map((r) => r.request_id)).toEqual(['r1'])
    es.emit('account', { id: 4, source: 'db', name: 'x', status: 'cooldown' })
    expect(accounts.state.list[0]).toMatchObject({ id: 4, status: 'cooldown' })
  })

  it('shows "retrying" while the browser reconnects, and reconnects itself when the source is closed', () => {
    startLive('k', { EventSourceImpl: FakeES })
    const es = FakeES.all[0]
    es.readyState = 0; es.emit('error')           // browser is retrying by itself
    expect(connection.stream).toBe('retrying')
    vi.advanceTimersByTime(60000)
    expect(FakeES.all).toHaveLength(1)
    es.readyState = 2; es.emit('error')           // gave up (e.g. non-SSE reply)
    vi.advanceTimersByTime(20000)
    expect(FakeES.all.length).toBe(2)
    expect(es.closed).toBe(true)
    FakeES.all[1].emit('open')
    expect(connection.stream).toBe('open')
  })

  it('stopLive closes the source and stops retrying', () => {
    startLive('k', { EventSourceImpl: FakeES })
    const es = FakeES.all[0]
    es.readyState = 2; es.emit('error')
    stopLive()
    vi.advanceTimersByTime(60000)
    expect(FakeES.all).toHaveLength(1)
    expect(es.closed).toBe(true)
    expect(connection.stream).toBe('idle')
  })
})
