// Client keys (docs/ADMIN_API.md "Client keys"): list, create, edit, usage.
// Pure helpers are exported for unit tests.  A new key's secret is returned
// to the caller of create() and never stored here.
import { reactive } from 'vue'
import { api as defaultApi } from '../api.js'
import { formatNumber, toMs } from '../lib/format.js'

export const LIMIT_FIELDS = [
  { key: 'rpm', label: 'Requests / minute', short: 'rpm' },
  { key: 'tpm', label: 'Tokens / minute', short: 'tpm' },
  { key: 'tokens_day', label: 'Tokens / day (UTC)', short: 'day' },
  { key: 'tokens_month', label: 'Tokens / month (UTC)', short: 'month' },
  { key: 'max_concurrent', label: 'Concurrent requests', short: 'conc' },
]

/** "enabled" | "disabled" | "expired" */
export function keyState(k, now = Date.now()) {
  if (!k.enabled) return 'disabled'
  const e = toMs(k.expires_at)
  if (e != null && e <= now) return 'expired'
  return 'enabled'
}

/** Short list of the limits that are set: ["rpm 60", "day 2.0M", "group team-a", ...]; [] = unlimited. */
export function limitsSummary(limits = {}) {
  const out = []
  for (const f of LIMIT_FIELDS) {
    const v = Number(limits?.[f.key] || 0)
    if (v > 0) out.push(`${f.short} ${formatNumber(v)}`)
  }
  if (limits?.group) out.push(`group ${limits.group}`)
  if (limits?.models) out.push(`models ${limits.models}`)
  return out
}

/** Empty form for the create dialog, or one filled from a key for editing. */
export function keyForm(k = null) {
  const l = k?.limits || {}
  const f = { name: k?.name || '', note: k?.note || '', expires_at: '', models: l.models || '', group: l.group || '' }
  for (const x of LIMIT_FIELDS) f[x.key] = l[x.key] ? String(l[x.key]) : ''
  const e = toMs(k?.expires_at)
  if (e != null) {
    // datetime-local wants local "YYYY-MM-DDTHH:MM"
    const d = new Date(e)
    const p = (n) => String(n).padStart(2, '0')
    f.expires_at = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`
  }
  return f
}

/**
 * Request body from the form.  Numbers are sent as numbers when they look
 * like numbers, else as typed so that the API's per-field message shows up;
 * an empty limit means 0 (unlimited); an empty expiry means never (null).
 */
export function keyFormToPayload(form) {
  const limits = {}
  for (const x of LIMIT_FIELDS) {
    const s = String(form[x.key] ?? '').trim()
    limits[x.key] = s === '' ? 0 : /^\d+$/.test(s) ? Number(s) : s
  }
  limits.models = String(form.models ?? '').split(',').map((m) => m.trim()).filter(Boolean).join(',')
  limits.group = String(form.group ?? '').trim()
  const out = { name: String(form.name ?? '').trim(), note: String(form.note ?? '').trim(), limits }
  const e = String(form.expires_at ?? '').trim()
  if (e === '') out.expires_at = null
  else {
    const ms = Date.parse(e) // datetime-local: local time
    out.expires_at = Number.isFinite(ms) ? new Date(ms).toISOString() : e
  }
  return out
}

/**
 * Usage rows [{day, model, requests, errors, tokens_in, tokens_out}] (newest
 * first) -> per-day totals oldest first over the last `days` days (missing
 * days are zero), and per-model totals sorted by requests.
 */
export function summarizeUsage(rows = [], days = 30, today = new Date()) {
  const byDay = new Map()
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(end - i * 86400000).toISOString().slice(0, 10)
    byDay.set(d, { day: d, requests: 0, errors: 0, tokens_in: 0, tokens_out: 0 })
  }
  const byModel = new Map()
  const total = { requests: 0, errors: 0, tokens_in: 0, tokens_out: 0 }
  for (const r of rows) {
    const d = byDay.get(r.day)
    const m = r.model || '(none)'
    if (!byModel.has(m)) byModel.set(m, { model: m, requests: 0, errors: 0, tokens_in: 0, tokens_out: 0 })
    for (const t of [d, byModel.get(m), total]) {
      if (!t) continue
      for (const k of ['requests', 'errors', 'tokens_in', 'tokens_out']) t[k] += Number(r[k] || 0)
    }
  }
  return {
    days: [...byDay.values()],
    models: [...byModel.values()].sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model)),
    total,
  }
}

export function createKeysStore({ client = defaultApi } = {}) {
  const state = reactive({ list: [], loaded: false, loading: false, error: null, usage: {} })

  async function load() {
    state.loading = true
    try {
      state.list = await client.listKeys()
      state.loaded = true
      state.error = null
    } catch (e) {
      state.error = e
      throw e
    } finally {
      state.loading = false
    }
  }
  function upsert(k) {
    const i = state.list.findIndex((x) => x.id === k.id)
    if (i >= 0) state.list[i] = k
    else state.list.push(k)
  }
  /** Returns {key, secret}; the secret is the caller's to show once. */
  async function create(fields) {
    const r = await client.createKey(fields)
    if (r?.key) upsert(r.key)
    return r
  }
  async function update(id, fields) {
    const k = await client.updateKey(id, fields)
    if (k && k.id != null) upsert(k)
    return k
  }
  async function remove(id) {
    await client.deleteKey(id)
    state.list = state.list.filter((k) => k.id !== id)
  }
  async function loadUsage(id, days = 30) {
    const r = await client.keyUsage(id, days)
    state.usage[id] = { days, rows: r?.days || [], at: Date.now() }
    return state.usage[id]
  }
  return { state, load, create, update, remove, loadUsage }
}

export const keys = createKeysStore()
