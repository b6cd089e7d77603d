// Pure helpers for the per-kind cooldowns, sign-in data, dialects and model
// availability the daemon reports (issues 12 and 18).  Unit-tested in
// tests/signals.test.js; no Vue, no I/O.
import { toMs, formatClock } from './format.js'

/** Kinds of work with their own cooldown, in display order. */
export const COOLDOWN_KINDS = ['text', 'image', 'video']

/** Client dialects, in display order (the daemon's `dialect` values). */
export const DIALECTS = ['openai', 'anthropic', 'responses', 'gemini', 'images']

export const DIALECT_LABELS = {
  openai: 'OpenAI chat',
  anthropic: 'Anthropic',
  responses: 'Responses',
  gemini: 'Gemini',
  images: 'Images',
}

/** "14:02" (local time, minutes). */
export function formatHourMinute(t) {
  const ms = toMs(t)
  if (ms == null) return '—'
  const d = new Date(ms)
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
}

/**
 * The cooldowns of an account that are running at `now`, one per kind, in
 * COOLDOWN_KINDS order (unknown kinds after them, by name):
 * [{kind, until (ms), reason, failCount, label: "image cooling until 14:02"}].
 * Kinds listed only for their fail count (until null) or already past are left out.
 */
export function activeCooldowns(account, now = Date.now()) {
  const cd = account && typeof account.cooldowns === 'object' && account.cooldowns ? account.cooldowns : {}
  const at = toMs(now)
  const order = (k) => {
    const i = COOLDOWN_KINDS.indexOf(k)
    return i < 0 ? COOLDOWN_KINDS.length : i
  }
  return Object.keys(cd)
    .filter((k) => cd[k] && toMs(cd[k].until) != null && toMs(cd[k].until) > at)
    .sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => {
      const until = toMs(cd[k].until)
      return {
        kind: k,
        until,
        reason: cd[k].reason || '',
        failCount: Number(cd[k].fail_count) || 0,
        label: `${k} cooling until ${formatHourMinute(until)}`,
        title: `${k} cooldown until ${formatClock(until)}${cd[k].reason ? ' — ' + cd[k].reason : ''}` +
          (cd[k].fail_count ? ` (failure ${cd[k].fail_count})` : ''),
      }
    })
}

/** "3 refreshes" / "1 refresh" / "no refresh" */
export function formatRefreshCount(n) {
  const v = Number(n)
  if (!Number.isFinite(v) || v <= 0) return 'no refresh'
  return v === 1 ? '1 refresh' : `${v} refreshes`
}

/** A dialect value as the console names it ('' and unknown values as given, null as openai). */
export function dialectOf(entry) {
  const d = entry && entry.dialect
  return d ? String(d) : 'openai'
}

/**
 * Requests per dialect from the overview's requests_by_dialect, known
 * dialects first (zeros included), then others by name:
 * [{dialect, label, count, share}] where share is count / total (0 when none).
 */
export function dialectRows(byDialect) {
  const src = byDialect && typeof byDialect === 'object' ? byDialect : {}
  const names = [...DIALECTS, ...Object.keys(src).filter((k) => !DIALECTS.includes(k)).sort()]
  const rows = names.map((d) => ({ dialect: d, label: DIALECT_LABELS[d] || d, count: Math.max(0, Number(src[d]) || 0) }))
  const total = rows.reduce((s, r) => s + r.count, 0)
  for (const r of rows) r.share = total ? r.count / total : 0
  return rows
}

/**
 * The overview's model list for display: unavailable models first (soonest
 * retry first), then available ones by id.  Each row gets `available`
 * (a model whose unavailable_until has passed counts as available again)
 * and, when unavailable, `retryAt` (ms) and `reason`.
 */
export function modelRows(models, now = Date.now()) {
  const at = toMs(now)
  const rows = (Array.isArray(models) ? models : [])
    .filter((m) => m && m.id)
    .map((m) => {
      const until = toMs(m.unavailable_until)
      const available = m.available !== false || (until != null && until <= at)
      return { id: String(m.id), available, retryAt: available ? null : until, reason: available ? '' : (m.unavailable_reason || '') }
    })
  return rows.sort((a, b) => {
    if (a.available !== b.available) return a.available ? 1 : -1
    if (!a.available && a.retryAt !== b.retryAt) return (a.retryAt ?? Infinity) - (b.retryAt ?? Infinity)
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  })
}
