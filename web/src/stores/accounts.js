import { reactive, computed } from 'vue'
import { api as defaultApi } from '../api.js'
import { toMs } from '../lib/format.js'

export const STATUSES = ['active', 'cooldown', 'expired', 'disabled']

const STATUS_ORDER = { active: 0, cooldown: 1, expired: 2, disabled: 3 }

function sortValue(a, key) {
  switch (key) {
    case 'status': return STATUS_ORDER[a.status] ?? 9
    case 'last_used_at': return toMs(a.last_used_at) ?? -Infinity
    case 'last_signin_at': return toMs(a.last_signin_at) ?? -Infinity
    case 'name': return (a.name || '').toLowerCase()
    case 'id': return Number(a.id) || 0
    default: {
      const v = a[key]
      return typeof v === 'string' ? v.toLowerCase() : (v ?? -Infinity)
    }
  }
}

/** Stable sort by key/dir; ties broken by name then id. */
export function sortAccounts(list, key = 'name', dir = 'asc') {
  const m = dir === 'desc' ? -1 : 1
  return list
    .map((a, i) => [a, i])
    .sort(([a, ia], [b, ib]) => {
      const va = sortValue(a, key), vb = sortValue(b, key)
      if (va < vb) return -1 * m
      if (va > vb) return 1 * m
      const na = (a.name || '').toLowerCase(), nb = (b.name || '').toLowerCase()
      if (na !== nb) return na < nb ? -1 : 1
      return ia - ib
    })
    .map(([a]) => a)
}

/** Filter by status ('' / 'all' = any) and a case-insensitive search over name, csesidx, config_id, note, reason. */
export function filterAccounts(list, { status = '', search = '' } = {}) {
  const q = search.trim().toLowerCase()
  return list.filter((a) => {
    if (status && status !== 'all' && a.status !== status) return false
    if (!q) return true
    return [a.name, a.csesidx, a.config_id, a.note, a.reason, a.proxy, String(a.id)]
      .some((f) => f != null && String(f).toLowerCase().includes(q))
  })
}

export function countByStatus(list) {
  const c = { all: list.length, active: 0, cooldown: 0, expired: 0, disabled: 0 }
  for (const a of list) if (a.status in c) c[a.status]++
  return c
}

/** Build the request body of the add/edit form. Secrets are sent only when typed. */
export function formToPayload(form, { editing = false } = {}) {
  const out = {}
  for (const k of ['name', 'csesidx', 'config_id', 'proxy', 'note', 'tags']) {
    const v = (form[k] ?? '').toString().trim()
    if (editing || v !== '') out[k] = v
  }
  for (const k of ['secure_c_ses', 'host_c_oses']) {
    const v = (form[k] ?? '').toString().trim()
    if (v !== '') out[k] = v
  }
  if (!editing) out.is_active = form.is_active !== false
  return out
}

export function createAccountsStore({ client = defaultApi } = {}) {
  const state = reactive({
    list: [],
    loaded: false,
    loading: false,
    error: null,
    sortKey: 'name',
    sortDir: 'asc',
    status: 'all',
    search: '',
    tests: {},      // id -> {pending, ok, latency_ms, auth_ms, answer, error, at}
    busy: {},       // id -> action name
  })

  const visible = computed(() =>
    sortAccounts(filterAccounts(state.list, { status: state.status, search: state.search }), state.sortKey, state.sortDir))
  const counts = computed(() => countByStatus(state.list))

  function setSort(key) {
    if (state.sortKey === key) state.sortDir = state.sortDir === 'asc' ? 'desc' : 'asc'
    else {
      state.sortKey = key
      // numbers & recency read best biggest-first
      state.sortDir = ['requests_today', 'errors_today', 'inflight', 'last_used_at', 'last_signin_at', 'refresh_count'].includes(key) ? 'desc' : 'asc'
    }
  }

  async function load() {
    state.loading = true
    try {
      state.list = await client.listAccounts()
      state.loaded = true
      state.error = null
    } catch (e) {
      state.error = e
      throw e
    } finally {
      state.loading = false
    }
  }

  /** Insert or replace one account (from an API reply or an SSE `account` event). */
  function upsert(acc) {
    if (!acc || acc.id == null) return
    const i = state.list.findIndex((a) => a.id === acc.id && a.source === acc.source)
    if (i >= 0) state.list[i] = { ...state.list[i], ...acc }
    else state.list.push(acc)
  }

  function removeLocal(id) {
    state.list = state.list.filter((a) => a.id !== id || a.source === 'env')
  }

  async function act(id, name, fn) {
    state.busy[id] = name
    try { return await fn() } finally { delete state.busy[id] }
  }

  return {
    state,
    visible,
    counts,
    setSort,
    load,
    upsert,
    async create(form) {
      const acc = await client.createAccount(formToPayload(form))
      upsert(acc)
      return acc
    },
    async update(id, form) {
      const acc = await client.updateAccount(id, formToPayload(form, { editing: true }))
      upsert(acc)
      return acc
    },
    remove: (id) => act(id, 'delete', async () => { await client.deleteAccount(id); removeLocal(id) }),
    enable: (id) => act(id, 'enable', async () => { const a = await client.enableAccount(id); upsert(a); return a }),
    disable: (id) => act(id, 'disable', async () => { const a = await client.disableAccount(id); upsert(a); return a }),
    reset: (id) => act(id, 'reset', async () => { const a = await client.resetAccount(id); upsert(a); return a }),
    async test(id) {
      state.tests[id] = { pending: true }
      try {
        const r = await client.testAccount(id)
        state.tests[id] = { ...r, pending: false, at: Date.now() }
        return r
      } catch (e) {
        state.tests[id] = { pending: false, ok: false, error: e.message, at: Date.now() }
        throw e
      }
    },
  }
}

export const accounts = createAccountsStore()
