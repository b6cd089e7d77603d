import { reactive, markRaw, computed } from 'vue'
import { DIALECTS, dialectOf } from '../lib/signals.js'

export const MAX_LOGS = 500

/** Does a status match a filter like "", "2xx", "4xx", "5xx", "err" or "429"? */
export function statusMatches(status, filter) {
  if (!filter) return true
  const s = Number(status)
  if (/^[1-5]xx$/.test(filter)) return Math.floor(s / 100) === Number(filter[0])
  if (filter === 'err') return !(s >= 200 && s < 400)
  return String(status) === String(filter)
}

export function filterLogs(list, { model = '', status = '', text = '', dialect = '' } = {}) {
  const q = text.trim().toLowerCase()
  return list.filter((l) => {
    if (model && l.model !== model) return false
    if (dialect && dialectOf(l) !== dialect) return false
    if (!statusMatches(l.status, status)) return false
    if (!q) return true
    return [l.request_id, l.model, l.account, l.error_kind, dialectOf(l), String(l.status), l.account_id != null ? String(l.account_id) : null]
      .some((f) => f != null && String(f).toLowerCase().includes(q))
  })
}

/**
 * A capped, de-duplicated buffer of request logs, newest first.
 * While paused, incoming entries are held back and merged on resume.
 */
export function createLogStore({ max = MAX_LOGS } = {}) {
  const state = reactive({
    // Plain (raw) arrays replaced on every change: log entries are immutable,
    // so tracking the array identity is enough and much cheaper than a proxy.
    rows: markRaw([]),   // newest first, at most `max`
    held: markRaw([]),   // arrived while paused (newest first)
    paused: false,
    filter: { model: '', status: '', text: '', dialect: '' },
    received: 0,
  })
  const seen = new Set()

  function prepend(list, entries) {
    const out = entries.concat(list)
    if (out.length > max) {
      for (const dropped of out.slice(max)) seen.delete(dropped.request_id)
      out.length = max
    }
    return markRaw(out)
  }

  /** Add one log entry (from SSE). Duplicates (same request_id) are ignored. */
  function add(entry) {
    if (!entry) return false
    const id = entry.request_id
    if (id != null) {
      if (seen.has(id)) return false
      seen.add(id)
    }
    state.received++
    if (state.paused) state.held = prepend(state.held, [entry])
    else state.rows = prepend(state.rows, [entry])
    return true
  }

  function pause() { state.paused = true }
  function resume() {
    state.paused = false
    if (state.held.length) {
      state.rows = prepend(state.rows, state.held)
      state.held = markRaw([])
    }
  }
  function clear() {
    state.rows = markRaw([])
    state.held = markRaw([])
    seen.clear()
  }

  const visible = computed(() => filterLogs(state.rows, state.filter))
  const models = computed(() => [...new Set(state.rows.map((r) => r.model).filter(Boolean))].sort())
  // the known dialects always, plus any other one seen
  const dialects = computed(() => [...DIALECTS, ...[...new Set(state.rows.map(dialectOf))].filter((d) => !DIALECTS.includes(d)).sort()])

  return { state, add, pause, resume, clear, visible, models, dialects, toggle: () => (state.paused ? resume() : pause()) }
}

export const logs = createLogStore()
