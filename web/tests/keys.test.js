import { describe, it, expect, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { keyState, limitsSummary, keyForm, keyFormToPayload, summarizeUsage, createKeysStore } from '../src/stores/keys.js'
import { createClient, ApiError } from '../src/api.js'
import KeyForm from '../src/components/KeyForm.vue'
import KeySecret from '../src/components/KeySecret.vue'
import DailyChart from '../src/components/DailyChart.vue'

const K = { id: 7, name: 'alice', note: 'team A', prefix: 'gk-3f9a2c1', created_at: '2026-12-01T10:00:00Z', expires_at: null, enabled: true,
  limits: { models: 'gemini-2.5-flash,gemini-3-*', rpm: 60, tpm: 0, tokens_day: 2000000, tokens_month: 0, max_concurrent: 4, group: 'team-a' },
  usage: { day_requests: 40, day_errors: 1, day_tokens: 81234, inflight: 1 } }

describe('keys helpers', () => {
  it('keyState: disabled, expired, enabled', () => {
    const now = Date.parse('2026-12-01T12:00:00Z')
    expect(keyState({ ...K, enabled: false }, now)).toBe('disabled')
    expect(keyState({ ...K, expires_at: '2026-12-01T11:59:59Z' }, now)).toBe('expired')
    expect(keyState({ ...K, expires_at: '2026-12-02T00:00:00Z' }, now)).toBe('enabled')
    expect(keyState(K, now)).toBe('enabled')
  })
  it('limitsSummary lists only the limits that are set', () => {
    expect(limitsSummary(K.limits)).toEqual(['rpm 60', 'day 2.0M', 'conc 4', 'group team-a', 'models gemini-2.5-flash,gemini-3-*'])
    expect(limitsSummary({ rpm: 0, models: '', group: '' })).toEqual([])
  })
  it('form round trip: empty limits are 0, empty expiry is null, models normalised', () => {
    const f = keyForm(K)
    expect(f).toMatchObject({ name: 'alice', rpm: '60', tpm: '', tokens_day: '2000000', max_concurrent: '4', group: 'team-a', expires_at: '' })
    const p = keyFormToPayload({ ...f, models: ' a , b* ,', note: ' n ' })
    expect(p).toEqual({ name: 'alice', note: 'n', expires_at: null,
      limits: { rpm: 60, tpm: 0, tokens_day: 2000000, tokens_month: 0, max_concurrent: 4, models: 'a,b*', group: 'team-a' } })
  })
  it('a non-number limit is sent as typed (the API names the field)', () => {
    expect(keyFormToPayload({ ...keyForm(), name: 'x', rpm: 'ten' }).limits.rpm).toBe('ten')
  })
  it('expiry: datetime-local becomes an ISO time', () => {
    const p = keyFormToPayload({ ...keyForm(), name: 'x', expires_at: '2027-01-02T03:04' })
    expect(p.expires_at).toBe(new Date(2027, 0, 2, 3, 4).toISOString())
    expect(keyForm({ ...K, expires_at: p.expires_at }).expires_at).toBe('2027-01-02T03:04')
  })
  it('summarizeUsage fills missing days, sums per day and per model', () => {
    const rows = [
      { day: '2026-12-01', model: 'gemini-2.5-flash', requests: 3, errors: 1, tokens_in: 30, tokens_out: 300 },
      { day: '2026-12-01', model: 'gemini-3-pro', requests: 5, errors: 0, tokens_in: 50, tokens_out: 500 },
      { day: '2026-11-29', model: 'gemini-2.5-flash', requests: 1, errors: 0, tokens_in: 10, tokens_out: 100 },
      { day: '2026-10-01', model: 'old', requests: 9, errors: 0, tokens_in: 1, tokens_out: 1 }, // outside the window: models/total only
    ]
    const s = summarizeUsage(rows, 7, new Date('2026-12-01T22:00:00Z'))
    expect(s.days.map((d) => d.day)).toEqual(['2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01'])
    expect(s.days[6]).toEqual({ day: '2026-12-01', requests: 8, errors: 1, tokens_in: 80, tokens_out: 800 })
    expect(s.days[4].requests).toBe(1)
    expect(s.days[5].requests).toBe(0)
    expect(s.models.map((m) => [m.model, m.requests])).toEqual([['old', 9], ['gemini-3-pro', 5], ['gemini-2.5-flash', 4]])
    expect(s.total).toEqual({ requests: 18, errors: 1, tokens_in: 91, tokens_out: 901 })
  })
})

function fakeFetch(routes) {
  const calls = []
  const fn = vi.fn(async (url, init) => {
    calls.push({ url, method: init.method, body: init.body ? JSON.parse(init.body) : undefined })
    const r = routes(url, init)
    return { ok: r.status < 300, status: r.status, headers: { get: () => null }, text: async () => JSON.stringify(r.body) }
  })
  fn.calls = calls
  return fn
}

describe('keys store + API client', () => {
  it('uses the documented routes: list, POST, PATCH, DELETE, usage?days', async () => {
    const f = fakeFetch((url, init) => {
      if (init.method === 'POST') return { status: 201, body: { key: { ...K, id: 8, name: 'bob' }, secret: 'gk-' + 'a'.repeat(40) } }
      if (init.method === 'PATCH') return { status: 200, body: { ...K, enabled: false } }
      if (init.method === 'DELETE') return { status: 200, body: { deleted: true, id: 7 } }
      if (url.includes('/usage')) return { status: 200, body: { id: 7, days: [{ day: '2026-12-01', model: 'm', requests: 1 }] } }
      return { status: 200, body: { keys: [K] } }
    })
    const s = createKeysStore({ client: createClient({ fetch: f, getKey: () => 'adm' }) })
    await s.load()
    expect(s.state.list.map((k) => k.id)).toEqual([7])
    const r = await s.create({ name: 'bob' })
    expect(r.secret).toMatch(/^gk-a{40}$/)
    expect(s.state.list.map((k) => k.id)).toEqual([7, 8])
    expect(JSON.stringify(s.state)).not.toContain(r.secret) // the store never keeps the secret
    await s.update(7, { enabled: false })
    expect(s.state.list[0].enabled).toBe(false)
    await s.loadUsage(7, 7)
    expect(s.state.usage[7].rows).toHaveLength(1)
    await s.remove(7)
    expect(s.state.list.map((k) => k.id)).toEqual([8])
    expect(f.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/admin/keys', 'POST /api/admin/keys', 'PATCH /api/admin/keys/7', 'GET /api/admin/keys/7/usage?days=7', 'DELETE /api/admin/keys/7'])
    expect(f.calls[2].body).toEqual({ enabled: false })
  })
})

describe('KeyForm', () => {
  it('places the API per-field errors (limits.rpm, name) next to their inputs', async () => {
    const store = { create: vi.fn(async () => { throw new ApiError({ status: 400, code: 'validation_failed', message: 'x',
      fields: { 'limits.rpm': 'must be a whole number, 0 (unlimited) or more', name: 'must be a string of 1-63 bytes', days: 'odd' } }) }) }
    const w = mount(KeyForm, { props: { store }, attachTo: document.body })
    await w.find('#k-rpm').setValue('-1')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(store.create).toHaveBeenCalledOnce()
    expect(store.create.mock.calls[0][0].limits.rpm).toBe('-1')
    expect(w.find('.field-error[data-field=rpm]').text()).toBe('must be a whole number, 0 (unlimited) or more')
    expect(w.find('.field-error[data-field=name]').text()).toBe('must be a string of 1-63 bytes')
    expect(w.find('#k-rpm').classes()).toContain('input-error')
    expect(w.find('.form-error').text()).toBe('days: odd') // a field the form does not have
    w.unmount()
  })
  it('create emits the reply with the secret; edit sends a PATCH body and emits the key', async () => {
    const reply = { key: { ...K, id: 9 }, secret: 'gk-x' }
    const store = { create: vi.fn(async () => reply), update: vi.fn(async (id, b) => ({ ...K, ...b })) }
    const w = mount(KeyForm, { props: { store }, attachTo: document.body })
    await w.find('#k-name').setValue('carol')
    await w.find('#k-tpm').setValue('1000')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(store.create.mock.calls[0][0]).toMatchObject({ name: 'carol', limits: { tpm: 1000, rpm: 0 } })
    expect(w.emitted('created')[0][0]).toBe(reply)
    w.unmount()
    const e = mount(KeyForm, { props: { store, clientKey: K }, attachTo: document.body })
    expect(e.find('#k-rpm').element.value).toBe('60')
    await e.find('#k-rpm').setValue('1')
    await e.find('form').trigger('submit')
    await flushPromises()
    expect(store.update).toHaveBeenCalledWith(7, expect.objectContaining({ limits: expect.objectContaining({ rpm: 1, tokens_day: 2000000 }) }))
    expect(e.emitted('saved')).toHaveLength(1)
    e.unmount()
  })
})

describe('KeySecret', () => {
  it('shows the secret with the warning and copies it', async () => {
    const writeText = vi.fn(async () => {})
    Object.defineProperty(globalThis.navigator, 'clipboard', { value: { writeText }, configurable: true })
    const w = mount(KeySecret, { props: { secret: 'gk-0123456789abcdef', name: 'alice' }, attachTo: document.body })
    expect(w.find('[data-testid=key-secret]').element.value).toBe('gk-0123456789abcdef')
    expect(w.text()).toContain('You will not see it again')
    await w.find('[data-testid=copy-secret]').trigger('click')
    await flushPromises()
    expect(writeText).toHaveBeenCalledWith('gk-0123456789abcdef')
    expect(w.find('[data-testid=copy-secret]').text()).toContain('Copied')
    w.unmount()
  })
})

describe('DailyChart', () => {
  it('stacks the series per day and says when there is no usage', () => {
    const pts = [{ day: '2026-11-30', a: 0, b: 0 }, { day: '2026-12-01', a: 3, b: 1 }]
    const w = mount(DailyChart, { props: { points: pts, series: [{ key: 'a', label: 'A', color: '#111' }, { key: 'b', label: 'B', color: '#222' }] } })
    const bars = w.findAll('g.day-bar')
    expect(bars).toHaveLength(2)
    expect(bars[0].findAll('rect')).toHaveLength(0)
    const r = bars[1].findAll('rect')
    expect(r).toHaveLength(2)
    expect(Number(r[0].attributes('height'))).toBeCloseTo(3 * Number(r[1].attributes('height')), 5)
    expect(r[0].find('title').text()).toBe('2026-12-01: 3 A, 1 B')
    expect(w.text()).not.toContain('no usage yet')
    const e = mount(DailyChart, { props: { points: [pts[0]], series: [{ key: 'a', label: 'A', color: '#111' }] } })
    expect(e.text()).toContain('no usage yet')
  })
})
