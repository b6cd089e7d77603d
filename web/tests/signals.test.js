import { describe, it, expect } from 'vitest'
import { mount } from '@vue/test-utils'
import { activeCooldowns, formatHourMinute, formatRefreshCount, dialectOf, dialectRows, modelRows, DIALECTS } from '../src/lib/signals.js'
import { filterLogs, createLogStore } from '../src/stores/logs.js'
import { sortAccounts } from '../src/stores/accounts.js'
import CooldownBadges from '../src/components/CooldownBadges.vue'
import DialectBadge from '../src/components/DialectBadge.vue'
import ModelAvailability from '../src/components/ModelAvailability.vue'
import DialectCounts from '../src/components/DialectCounts.vue'

const NOW = new Date(2026, 11, 1, 13, 50, 0).getTime()   // local 13:50:00
const at = (h, m, s = 0) => new Date(2026, 11, 1, h, m, s).toISOString()

describe('per-kind cooldowns', () => {
  const acc = {
    cooldowns: {
      video: { until: at(14, 30), reason: '429 quota', fail_count: 2 },
      image: { until: at(14, 2, 33), reason: '429 quota (image)', fail_count: 1 },
      text: { until: null, reason: null, fail_count: 3 },          // failures remembered, not cooling
      old: { until: at(13, 0), reason: 'x', fail_count: 1 },        // past
    },
  }
  it('lists only running cooldowns, text/image/video order, labelled in local HH:MM', () => {
    const l = activeCooldowns(acc, NOW)
    expect(l.map((c) => c.kind)).toEqual(['image', 'video'])
    expect(l[0].label).toBe('image cooling until 14:02')
    expect(l[1].label).toBe('video cooling until 14:30')
    expect(l[0].title).toBe('image cooldown until 14:02:33 — 429 quota (image) (failure 1)')
    expect(l[0].failCount).toBe(1)
  })
  it('ends a cooldown exactly at its until', () => {
    expect(activeCooldowns(acc, new Date(2026, 11, 1, 14, 2, 33).getTime()).map((c) => c.kind)).toEqual(['video'])
  })
  it('copes with accounts from an older daemon', () => {
    expect(activeCooldowns({}, NOW)).toEqual([])
    expect(activeCooldowns({ cooldowns: null }, NOW)).toEqual([])
    expect(activeCooldowns(null, NOW)).toEqual([])
  })
  it('formats HH:MM and refresh counts', () => {
    expect(formatHourMinute(at(9, 5))).toBe('09:05')
    expect(formatHourMinute(null)).toBe('—')
    expect(formatRefreshCount(0)).toBe('no refresh')
    expect(formatRefreshCount(1)).toBe('1 refresh')
    expect(formatRefreshCount(4)).toBe('4 refreshes')
    expect(formatRefreshCount(undefined)).toBe('no refresh')
  })
  it('CooldownBadges renders one badge per running kind and nothing otherwise', () => {
    const w = mount(CooldownBadges, { props: { account: acc, now: NOW } })
    const b = w.findAll('.cooldown-badge')
    expect(b.map((x) => x.attributes('data-kind'))).toEqual(['image', 'video'])
    expect(b[0].text()).toBe('image cooling until 14:02')
    expect(mount(CooldownBadges, { props: { account: { cooldowns: {} }, now: NOW } }).find('.cooldown-badges').exists()).toBe(false)
  })
})

describe('accounts sort by sign-in and refreshes', () => {
  const list = [
    { id: 1, name: 'a', last_signin_at: at(13, 0), refresh_count: 0 },
    { id: 2, name: 'b', last_signin_at: null, refresh_count: 5 },
    { id: 3, name: 'c', last_signin_at: at(13, 40), refresh_count: 1 },
  ]
  it('sorts by last sign-in time (never signed in last when descending)', () => {
    expect(sortAccounts(list, 'last_signin_at', 'desc').map((a) => a.id)).toEqual([3, 1, 2])
  })
  it('sorts by refresh count', () => {
    expect(sortAccounts(list, 'refresh_count', 'desc').map((a) => a.id)).toEqual([2, 3, 1])
  })
})

describe('dialects', () => {
  const logs = [
    { request_id: 'r1', dialect: 'anthropic', model: 'gemini-3.1-pro-preview', status: 200 },
    { request_id: 'r2', dialect: 'openai', model: 'gemini-2.5-flash', status: 200 },
    { request_id: 'r3', model: 'gemini-2.5-flash', status: 500 },                     // no dialect: openai
    { request_id: 'r4', dialect: 'gemini', model: 'gemini-2.5-flash', status: 200 },
  ]
  it('an entry without a dialect is an OpenAI one', () => {
    expect(dialectOf(logs[2])).toBe('openai')
    expect(dialectOf({ dialect: 'responses' })).toBe('responses')
  })
  it('filters the log by dialect, alone and with other filters', () => {
    expect(filterLogs(logs, { dialect: 'anthropic' }).map((l) => l.request_id)).toEqual(['r1'])
    expect(filterLogs(logs, { dialect: 'openai' }).map((l) => l.request_id)).toEqual(['r2', 'r3'])
    expect(filterLogs(logs, { dialect: 'openai', status: '5xx' }).map((l) => l.request_id)).toEqual(['r3'])
    expect(filterLogs(logs, { text: 'gemini' }).map((l) => l.request_id)).toEqual(['r1', 'r2', 'r3', 'r4']) // model names match too
    expect(filterLogs(logs, { text: 'anthropic' }).map((l) => l.request_id)).toEqual(['r1'])
  })
  it('the log store offers the known dialects plus unknown ones seen', () => {
    const s = createLogStore()
    s.add({ request_id: 'x', dialect: 'bedrock' })
    expect(s.dialects.value).toEqual([...DIALECTS, 'bedrock'])
    s.state.filter.dialect = 'bedrock'
    expect(s.visible.value.map((l) => l.request_id)).toEqual(['x'])
  })
  it('rows of requests per dialect: known ones with zeros, shares of the total', () => {
    const r = dialectRows({ openai: 3, anthropic: 1, zzz: 0 })
    expect(r.map((x) => [x.dialect, x.count])).toEqual([['openai', 3], ['anthropic', 1], ['responses', 0], ['gemini', 0], ['images', 0], ['zzz', 0]])
    expect(r[0].share).toBe(0.75)
    expect(dialectRows(undefined).every((x) => x.count === 0 && x.share === 0)).toBe(true)
  })
  it('DialectBadge and DialectCounts render', () => {
    const b = mount(DialectBadge, { props: { dialect: 'anthropic' } })
    expect(b.text()).toBe('anthropic')
    expect(b.attributes('data-dialect')).toBe('anthropic')
    const c = mount(DialectCounts, { props: { counts: { openai: 2, anthropic: 1 } } })
    expect(c.find('.dialect-row[data-dialect=anthropic] .dialect-count').text()).toBe('1')
    expect(c.find('.dialect-row[data-dialect=gemini] .dialect-count').text()).toBe('0')
  })
})

describe('model availability', () => {
  const models = [
    { id: 'gemini-2.5-flash', available: true },
    { id: 'gemini-3-pro-preview', available: false, unavailable_until: at(14, 20), unavailable_reason: 'Model gemini-3-pro-preview not found or not supported.' },
    { id: 'gemini-auto', available: true },
    { id: 'gemini-2.5-pro', available: false, unavailable_until: at(14, 0), unavailable_reason: 'gone' },
  ]
  it('puts unavailable models first, soonest retry first, then the rest by id', () => {
    const r = modelRows(models, NOW)
    expect(r.map((m) => m.id)).toEqual(['gemini-2.5-pro', 'gemini-3-pro-preview', 'gemini-2.5-flash', 'gemini-auto'])
    expect(r[1]).toMatchObject({ available: false, reason: 'Model gemini-3-pro-preview not found or not supported.' })
    expect(r[1].retryAt).toBe(Date.parse(at(14, 20)))
  })
  it('a model whose retry time has passed counts as available again', () => {
    const r = modelRows(models, new Date(2026, 11, 1, 14, 10).getTime())
    expect(r.find((m) => m.id === 'gemini-2.5-pro')).toMatchObject({ available: true, retryAt: null, reason: '' })
  })
  it('ModelAvailability shows the reason and the retry time of an unavailable model', () => {
    const w = mount(ModelAvailability, { props: { models, now: NOW } })
    const row = w.find('.model-row[data-model="gemini-3-pro-preview"]')
    expect(row.attributes('data-available')).toBe('false')
    expect(row.find('.model-reason').text()).toBe('Model gemini-3-pro-preview not found or not supported.')
    expect(row.find('.model-retry').text()).toBe('retry 14:20:00 (30m 00s)')
    expect(w.text()).toContain('2 of 4 available')
    expect(w.find('.model-row[data-model="gemini-auto"] .model-retry').exists()).toBe(false)
  })
})

describe('AccountActions with per-kind cooldowns', () => {
  it('Reset is enabled by a running image cooldown on an active account, disabled without one', async () => {
    const { default: AccountActions } = await import('../src/components/AccountActions.vue')
    const store = { state: { busy: {}, tests: {} } }
    const soon = new Date(Date.now() + 600000).toISOString()
    const on = mount(AccountActions, { props: { store, account: { id: 1, name: 'a', status: 'active', cooldowns: { image: { until: soon, reason: 'q', fail_count: 1 } } } } })
    expect(on.find('[data-action=reset]').attributes('disabled')).toBeUndefined()
    const off = mount(AccountActions, { props: { store, account: { id: 2, name: 'b', status: 'active', cooldowns: { text: { until: null, fail_count: 2 } } } } })
    expect(off.find('[data-action=reset]').attributes('disabled')).toBeDefined()
  })
})

describe('LogsView dialect column and filter', () => {
  it('shows a dialect badge per row and filters by the dialect select', async () => {
    const { logs } = await import('../src/stores/logs.js')
    const { default: LogsView } = await import('../src/views/LogsView.vue')
    logs.clear()
    logs.add({ request_id: 'a1', dialect: 'anthropic', model: 'gemini-3.1-pro-preview', status: 200, ts: '2026-12-01T13:00:00Z' })
    logs.add({ request_id: 'o1', model: 'gemini-2.5-flash', status: 200, ts: '2026-12-01T13:00:01Z' })
    const w = mount(LogsView)
    const cells = w.findAll('.log-row .log-dialect')
    expect(cells.map((c) => c.attributes('data-dialect'))).toEqual(['openai', 'anthropic'])
    const opts = w.findAll('[data-testid=dialect-filter] option').map((o) => o.attributes('value'))
    expect(opts).toEqual(['', ...DIALECTS])
    await w.find('[data-testid=dialect-filter]').setValue('anthropic')
    expect(w.findAll('.log-row').map((r) => r.attributes('data-request-id'))).toEqual(['a1'])
    logs.state.filter.dialect = ''
    logs.clear()
  })
})
