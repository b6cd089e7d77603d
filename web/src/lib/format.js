// Pure formatting helpers (unit-tested).

const pad = (n) => String(n).padStart(2, '0')

export function toMs(t) {
  if (t == null || t === '') return null
  if (typeof t === 'number') return t
  if (t instanceof Date) return t.getTime()
  const v = Date.parse(t)
  return Number.isFinite(v) ? v : null
}

/** Local wall-clock time HH:MM:SS. */
export function formatClock(t) {
  const ms = toMs(t)
  if (ms == null) return '—'
  const d = new Date(ms)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** Duration in ms -> "1h 02m", "4m 07s", "9s". */
export function formatDuration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—'
  let s = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(s / 86400); s -= d * 86400
  const h = Math.floor(s / 3600); s -= h * 3600
  const m = Math.floor(s / 60); s -= m * 60
  if (d > 0) return `${d}d ${h}h`
  if (h > 0) return `${h}h ${pad(m)}m`
  if (m > 0) return `${m}m ${pad(s)}s`
  return `${s}s`
}

/** Remaining time until `until` as a countdown string; "ending…" once passed. */
export function formatCountdown(until, now = Date.now()) {
  const ms = toMs(until)
  if (ms == null) return ''
  const left = ms - toMs(now)
  if (left <= 0) return 'ending…'
  return formatDuration(left + 999) // round up so "0s" is never shown while still cooling down
}

/** "until 14:02:33 (3m 10s)" */
export function formatCooldown(until, now = Date.now()) {
  if (toMs(until) == null) return 'cooldown'
  return `until ${formatClock(until)} (${formatCountdown(until, now)})`
}

export function formatRelative(t, now = Date.now()) {
  const ms = toMs(t)
  if (ms == null) return 'never'
  const diff = Math.round((toMs(now) - ms) / 1000)
  if (diff < -5) return 'in ' + formatDuration(-diff * 1000)
  if (diff < 5) return 'just now'
  if (diff < 60) return `${diff}s ago`
  if (diff < 3600) return `${Math.floor(diff / 60)}m ago`
  if (diff < 86400) return `${Math.floor(diff / 3600)}h ago`
  return `${Math.floor(diff / 86400)}d ago`
}

export function formatNumber(n) {
  if (n == null || !Number.isFinite(Number(n))) return '—'
  n = Number(n)
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + 'M'
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(n >= 1e5 ? 0 : 1) + 'k'
  return n.toLocaleString('en-US')
}

export function formatMs(ms) {
  if (ms == null || !Number.isFinite(Number(ms))) return '—'
  ms = Number(ms)
  if (ms >= 10000) return (ms / 1000).toFixed(1) + ' s'
  if (ms >= 1000) return (ms / 1000).toFixed(2) + ' s'
  return Math.round(ms) + ' ms'
}

export function formatPercent(x) {
  if (x == null || !Number.isFinite(Number(x))) return '—'
  const p = Number(x) * 100
  return (p === 0 ? '0' : p < 1 ? p.toFixed(2) : p.toFixed(1)) + '%'
}
