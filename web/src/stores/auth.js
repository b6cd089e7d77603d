import { reactive } from 'vue'
import { api as defaultApi, KEY_STORAGE, hooks } from '../api.js'

export function createAuthStore({ client = defaultApi, storage = globalThis.sessionStorage } = {}) {
  const read = () => { try { return storage?.getItem(KEY_STORAGE) || null } catch { return null } }
  const state = reactive({
    key: read(),
    checking: false,
    error: null,       // message for the login screen
    errorCode: null,   // 'unauthorized' | 'locked_out' | 'unreachable' | ...
    overview: null,
  })

  async function login(key) {
    key = (key || '').trim()
    state.error = null
    state.errorCode = null
    if (!key) {
      state.error = 'Enter the admin key.'
      state.errorCode = 'empty'
      return false
    }
    state.checking = true
    try {
      state.overview = await client.overview(key)
      try { storage?.setItem(KEY_STORAGE, key) } catch { /* private mode */ }
      state.key = key
      return true
    } catch (e) {
      state.error = e.message
      state.errorCode = e.code || 'error'
      return false
    } finally {
      state.checking = false
    }
  }

  function logout(message = null, code = null) {
    try { storage?.removeItem(KEY_STORAGE) } catch { /* ignore */ }
    state.key = null
    state.overview = null
    state.error = message
    state.errorCode = code
  }

  return {
    state,
    login,
    logout,
    get loggedIn() { return !!state.key },
  }
}

export const auth = createAuthStore()

// A 401 on any authenticated call means the key is no longer valid (e.g. the
// daemon was restarted with another ADMIN_KEY): back to the login screen.
hooks.onUnauthorized = () => {
  if (auth.state.key) auth.logout('Your admin key was rejected (401) — please log in again.', 'unauthorized')
}
