import { describe, it, expect, vi } from 'vitest'
import { sortAccounts, filterAccounts, countByStatus, formToPayload, createAccountsStore } from '../src/stores/accounts.js'

const A = [
  { id: 1, source: 'db', name: 'bravo', csesidx: '111', config_id: 'cfg-x', status: 'cooldown', reason: '429 RESOURCE_EXHAUSTED', requests_today: 5, errors_today: 2, inflight: 0, last_used_at: '2026-11-26T03:00:00Z' },
  { id: 2, source: 'db', name: 'alpha', csesidx: '222', config_id: 'cfg-y', status: 'active', requests_today: 50, errors_today: 0, inflight: 3, last_used_at: '2026-11-26T03:30:00Z' },
  { id: 3, source: 'db', name: 'Charlie', csesidx: '333', config_id: 'team-z', status: 'expired', requests_today: 0, errors_today: 0, inflight: 0, last_used_at: null },
  { id: 0, source: 'env', name: 'env', csesidx: '999', config_id: 'envcfg', status: 'disabled', reason: 'disabled by admin', requests_today: 5, errors_today: 0, inflight: 1, last_used_at: '2026-11-26T02:00:00Z' },
]
const names = (l) => l.map((a) => a.name)

describe('sortAccounts', () => {
  it('sorts by name case-insensitively, both directions', () => {
    expect(names(sortAccounts(A, 'name', 'asc'))).toEqual(['alpha', 'bravo', 'Charlie', 'env'])
    expect(names(sortAccounts(A, 'name', 'desc'))).toEqual(['env', 'Charlie', 'bravo', 'alpha'])
  })
  it('sorts numbers with ties broken by name', () => {
    expect(names(sortAccounts(A, 'requests_today', 'desc'))).toEqual(['alpha', 'bravo', 'env', 'Charlie'])
    expect(names(sortAccounts(A, 'requests_today', 'asc'))).toEqual(['Charlie', 'bravo', 'env', 'alpha'])
  })
  it('sorts status by severity and last-used with never-used last when descending', () => {
    expect(names(sortAccounts(A, 'status', 'asc'))).toEqual(['alpha', 'bravo', 'Charlie', 'env'])
    expect(names(sortAccounts(A, 'last_used_at', 'desc'))).toEqual(['alpha', 'bravo', 'env', 'Charlie'])
  })
  it('does not mutate its input', () => {
    const copy = [...A]
    sortAccounts(A, 'name', 'desc')
    expect(A).toEqual(copy)
  })
})

describe('filterAccounts', () => {
  it('filters by status', () => {
    expect(names(filterAccounts(A, { status: 'cooldown' }))).toEqual(['bravo'])
    expect(filterAccounts(A, { status: 'all' })).toHaveLength(4)
  })
  it('searches name, csesidx, config_id and reason', () => {
    expect(names(filterAccounts(A, { search: 'CHAR' }))).toEqual(['Charlie'])
    expect(names(filterAccounts(A, { search: '222' }))).toEqual(['alpha'])
    expect(names(filterAccounts(A, { search: 'team-z' }))).toEqual(['Charlie'])
    expect(names(filterAccounts(A, { search: 'exhausted' }))).toEqual(['bravo'])
    expect(filterAccounts(A, { search: 'nothing-like-this' })).toEqual([])
  })
  it('combines status and search', () => {
    expect(filterAccounts(A, { status: 'active', search: 'bravo' })).toEqual([])
  })
  it('counts by status', () => {
    expect(countByStatus(A)).toEqual({ all: 4, active: 1, cooldown: 1, expired: 1, disabled: 1 })
  })
})

describe('formToPayload', () => {
  const form = { name: ' n ', csesidx: '123', config_id: 'c', secure_c_ses: '', host_c_oses: '  ', proxy: '', note: '', is_active: true }
  it('create: omits empty optional fields and secrets, includes is_active', () => {
    expect(formToPayload(form)).toEqual({ name: 'n', csesidx: '123', config_id: 'c', is_active: true })
  })
  it('edit: never sends an untyped secret, sends a typed one', () => {
    const p = formToPayload(form, { editing: true })
    expect(p).not.toHaveProperty('secure_c_ses')
    expect(p).not.toHaveProperty('host_c_oses')
    expect(p.proxy).toBe('') // clearing the proxy is possible
    expect(formToPayload({ ...form, secure_c_ses: 'NEW' }, { editing: true }).secure_c_ses).toBe('NEW')
  })
  it('tags: sent trimmed; on edit an empty field clears them', () => {
    expect(formToPayload({ ...form, tags: ' team-a,gpu ' }).tags).toBe('team-a,gpu')
    expect(formToPayload(form)).not.toHaveProperty('tags')
    expect(formToPayload({ ...form, tags: '' }, { editing: true }).tags).toBe('')
  })
})

describe('accounts store', () => {
  it('loads, sorts, filters, toggles sort direction', async () => {
    const client = { listAccounts: vi.fn(async () => A) }
    const s = createAccountsStore({ client })
    await s.load()
    expect(names(s.visible.value)).toEqual(['alpha', 'bravo', 'Charlie', 'env'])
    s.setSort('name')
    expect(s.state.sortDir).toBe('desc')
    s.setSort('requests_today')
    expect(s.state.sortDir).toBe('desc')
    expect(s.visible.value[0].name).toBe('alpha')
    s.state.status = 'cooldown'
    expect(names(s.visible.value)).toEqual(['bravo'])
    expect(s.counts.value.all).toBe(4)
  })
  it('upserts SSE account events and applies actions from API replies', async () => {
    const client = {
      listAccounts: async () => A.map((a) => ({ ...a })),
      disableAccount: vi.fn(async (id) => ({ ...A[1], id, status: 'disabled', reason: 'disabled by admin', is_active: false })),
      deleteAccount: vi.fn(async (id) => ({ deleted: true, id })),
      testAccount: vi.fn(async () => ({ ok: false, latency_ms: 300, error: '401 cookies rejected' })),
    }
    const s = createAccountsStore({ client })
    await s.load()
    s.upsert({ id: 1, source: 'db', status: 'active', reason: null, until: null })
    expect(s.state.list.find((a) => a.id === 1)).toMatchObject({ name: 'bravo', status: 'active' })
    s.upsert({ id: 9, source: 'db', name: 'new', status: 'active' })
    expect(s.state.list).toHaveLength(5)
    await s.disable(2)
    expect(s.state.list.find((a) => a.id === 2).status).toBe('disabled')
    await s.remove(3)
    expect(s.state.list.some((a) => a.id === 3)).toBe(false)
    await s.test(1)
    expect(s.state.tests[1]).toMatchObject({ pending: false, ok: false, error: '401 cookies rejected' })
  })
  it('records a failed test call as a test error', async () => {
    const s = createAccountsStore({ client: { testAccount: async () => { throw new Error('Cannot reach the gemgate daemon') } } })
    await expect(s.test(4)).rejects.toThrow()
    expect(s.state.tests[4]).toMatchObject({ ok: false, error: 'Cannot reach the gemgate daemon' })
  })
})
