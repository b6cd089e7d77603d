import { reactive } from 'vue'

let nextId = 1

export function createToastStore({ setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  const state = reactive({ items: [] })

  function dismiss(id) {
    const i = state.items.findIndex((t) => t.id === id)
    if (i >= 0) {
      clearTimer(state.items[i].timer)
      state.items.splice(i, 1)
    }
  }

  /** push({kind:'error'|'success'|'info', message, timeout}) — identical messages are merged. */
  function push({ kind = 'info', message, timeout } = {}) {
    if (!message) return null
    const ms = timeout ?? (kind === 'error' ? 10000 : 4000)
    const same = state.items.find((t) => t.kind === kind && t.message === message)
    if (same) {
      same.count++
      clearTimer(same.timer)
      if (ms > 0) same.timer = setTimer(() => dismiss(same.id), ms)
      return same.id
    }
    const t = { id: nextId++, kind, message, count: 1, timer: null }
    state.items.push(t)
    if (ms > 0) t.timer = setTimer(() => dismiss(t.id), ms)
    if (state.items.length > 5) dismiss(state.items[0].id)
    return t.id
  }

  return {
    state,
    push,
    dismiss,
    error: (message, o) => push({ ...o, kind: 'error', message: message?.message || String(message) }),
    success: (message, o) => push({ ...o, kind: 'success', message }),
    info: (message, o) => push({ ...o, kind: 'info', message }),
  }
}

export const toast = createToastStore()
