import { describe, it, expect, vi } from 'vitest'
import { createAuthStore } from '../src/stores/auth.js'
import { ApiError, KEY_STORAGE } from '../src/api.js'

function memStorage() {
  const m = new Map()
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k), m }
}

describe('auth store', () => {
  it('stores the key in session storage only after the overview call succeeds', async () => {
    const storage = memStorage()
    const client = { overview: vi.fn(async (k) => { if (k !== 'good') throw new ApiError({ status: 401, code: 'unauthorized', message: 'Wrong admin key (401 unauthorized).' }); return { version: '1' } }) }
    const auth = createAuthStore({ client, storage })
    expect(await auth.login('bad')).toBe(false)
    expect(auth.state.errorCode).toBe('unauthorized')
    expect(auth.state.error).toMatch(/wrong admin key/i)
    expect(storage.getItem(KEY_STORAGE)).toBe(null)
    expect(await auth.login('  good ')).toBe(true)
    expect(client.overview).toHaveBeenLastCalledWith('good')
    expect(storage.getItem(KEY_STORAGE)).toBe('good')
    expect(auth.state.key).toBe('good')
    expect(auth.state.error).toBe(null)
    auth.logout()
    expect(storage.getItem(KEY_STORAGE)).toBe(null)
    expect(auth.state.key).toBe(null)
  })
  it('reports lock-out and unreachable distinctly', async () => {
    const storage = memStorage()
    const errs = [
      new ApiError({ status: 429, code: 'locked_out', message: 'locked out; try again in 15 min' }),
      new ApiError({ status: 0, code: 'unreachable', message: 'Cannot reach the gemgate daemon' }),
    ]
    const auth = createAuthStore({ client: { overview: async () => { throw errs.shift() } }, storage })
    await auth.login('x')
    expect(auth.state.errorCode).toBe('locked_out')
    expect(auth.state.error).toContain('15 min')
    await auth.login('x')
    expect(auth.state.errorCode).toBe('unreachable')
  })
  it('rejects an empty key without calling the API', async () => {
    const client = { overview: vi.fn() }
    const auth = createAuthStore({ client, storage: memStorage() })
    expect(await auth.login('   ')).toBe(false)
    expect(client.overview).not.toHaveBeenCalled()
    expect(auth.state.error).toMatch(/enter/i)
  })
})
