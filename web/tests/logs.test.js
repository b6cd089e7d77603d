import { describe, it, expect } from 'vitest'
import { createLogStore, filterLogs, statusMatches } from '../src/stores/logs.js'

const log = (i, o = {}) => ({ request_id: 'req_' + i, ts: '2026-11-26T03:00:00Z', model: 'gemini-2.5-flash', account: 'team-a', account_id: 1, status: 200, latency_ms: 100, ttft_ms: 20, ...o })

describe('log buffer', () => {
  it('keeps newest first and caps at max, dropping the oldest', () => {
    const s = createLogStore({ max: 500 })
    for (let i = 0; i < 620; i++) s.add(log(i))
    expect(s.state.rows).toHaveLength(500)
    expect(s.state.rows[0].request_id).toBe('req_619')
    expect(s.state.rows[499].request_id).toBe('req_120')
  })
  it('ignores duplicates (replayed on SSE reconnect)', () => {
    const s = createLogStore()
    expect(s.add(log(1))).toBe(true)
    expect(s.add(log(2))).toBe(true)
    expect(s.add(log(1))).toBe(false)
    expect(s.state.rows.map((r) => r.request_id)).toEqual(['req_2', 'req_1'])
  })
  it('a request id evicted by the cap may come back', () => {
    const s = createLogStore({ max: 2 })
    s.add(log(1)); s.add(log(2)); s.add(log(3))
    expect(s.add(log(1))).toBe(true)
  })
  it('holds entries while paused and merges them on resume', () => {
    const s = createLogStore({ max: 5 })
    s.add(log(1))
    s.pause()
    s.add(log(2)); s.add(log(3))
    expect(s.state.rows.map((r) => r.request_id)).toEqual(['req_1'])
    expect(s.state.held).toHaveLength(2)
    s.resume()
    expect(s.state.rows.map((r) => r.request_id)).toEqual(['req_3', 'req_2', 'req_1'])
    expect(s.state.held).toHaveLength(0)
  })
  it('clear empties everything', () => {
    const s = createLogStore()
    s.add(log(1)); s.clear()
    expect(s.state.rows).toEqual([])
    expect(s.add(log(1))).toBe(true)
  })
})

describe('log filters', () => {
  const L = [
    log(1, { status: 200 }),
    log(2, { status: 429, error_kind: 'rate_limit', model: 'gemini-2.5-pro' }),
    log(3, { status: 502, error_kind: 'upstream', account: 'team-b' }),
    log(4, { status: 400, error_kind: 'client' }),
  ]
  const ids = (l) => l.map((x) => x.request_id)
  it('matches status classes', () => {
    expect(statusMatches(503, '5xx')).toBe(true)
    expect(statusMatches(429, '4xx')).toBe(true)
    expect(statusMatches(200, '4xx')).toBe(false)
    expect(statusMatches(429, '429')).toBe(true)
    expect(statusMatches(200, 'err')).toBe(false)
    expect(statusMatches(502, 'err')).toBe(true)
  })
  it('filters by model, status and text', () => {
    expect(ids(filterLogs(L, { model: 'gemini-2.5-pro' }))).toEqual(['req_2'])
    expect(ids(filterLogs(L, { status: '4xx' }))).toEqual(['req_2', 'req_4'])
    expect(ids(filterLogs(L, { text: 'TEAM-B' }))).toEqual(['req_3'])
    expect(ids(filterLogs(L, { text: 'rate_limit' }))).toEqual(['req_2'])
    expect(ids(filterLogs(L, { text: 'req_4', status: '5xx' }))).toEqual([])
  })
  it('store exposes filtered rows and seen models', () => {
    const s = createLogStore()
    L.forEach((l) => s.add(l))
    s.state.filter.status = '5xx'
    expect(ids(s.visible.value)).toEqual(['req_3'])
    expect(s.models.value).toEqual(['gemini-2.5-flash', 'gemini-2.5-pro'])
  })
})
