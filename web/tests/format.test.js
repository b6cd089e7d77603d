import { describe, it, expect } from 'vitest'
import { formatCountdown, formatCooldown, formatClock, formatRelative, formatDuration, formatMs, formatPercent, formatNumber } from '../src/lib/format.js'

describe('format', () => {
  const now = new Date(2026, 10, 26, 3, 40, 0).getTime() // local time

  it('formats the cooldown countdown', () => {
    expect(formatCountdown(now + 4 * 60000 + 7000, now)).toBe('4m 07s')
    expect(formatCountdown(now + 9500, now)).toBe('10s')
    expect(formatCountdown(now + 500, now)).toBe('1s')
    expect(formatCountdown(now + 3600e3 + 120e3, now)).toBe('1h 02m')
    expect(formatCountdown(now - 1000, now)).toBe('ending…')
    expect(formatCountdown(null, now)).toBe('')
  })
  it('formats "until HH:MM:SS (countdown)"', () => {
    const until = new Date(2026, 10, 26, 3, 45, 9).getTime()
    expect(formatCooldown(new Date(until).toISOString(), now)).toBe('until 03:45:09 (5m 09s)')
    expect(formatCooldown(null, now)).toBe('cooldown')
    expect(formatClock(until)).toBe('03:45:09')
    expect(formatClock(null)).toBe('—')
  })
  it('formats relative times', () => {
    expect(formatRelative(null, now)).toBe('never')
    expect(formatRelative(now - 2000, now)).toBe('just now')
    expect(formatRelative(now - 42000, now)).toBe('42s ago')
    expect(formatRelative(now - 5 * 60000, now)).toBe('5m ago')
    expect(formatRelative(now - 3 * 3600e3, now)).toBe('3h ago')
    expect(formatRelative(now - 2 * 86400e3, now)).toBe('2d ago')
    expect(formatRelative(new Date(now - 60000).toISOString(), now)).toBe('1m ago')
  })
  it('formats numbers, durations, latencies and percentages', () => {
    expect(formatDuration(3725e3)).toBe('1h 02m')
    expect(formatDuration(2 * 86400e3 + 3600e3)).toBe('2d 1h')
    expect(formatMs(812)).toBe('812 ms')
    expect(formatMs(1840)).toBe('1.84 s')
    expect(formatMs(12345)).toBe('12.3 s')
    expect(formatMs(null)).toBe('—')
    expect(formatPercent(0.02)).toBe('2.0%')
    expect(formatPercent(0.0012)).toBe('0.12%')
    expect(formatPercent(0)).toBe('0%')
    expect(formatNumber(1234)).toBe('1,234')
    expect(formatNumber(30000)).toBe('30.0k')
    expect(formatNumber(2500000)).toBe('2.5M')
  })
})
