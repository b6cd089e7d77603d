import { ref } from 'vue'

export const ROUTES = [
  { path: 'overview', label: 'Overview' },
  { path: 'accounts', label: 'Accounts' },
  { path: 'import', label: 'Import' },
  { path: 'logs', label: 'Live log' },
  { path: 'keys', label: 'Keys' },
]
export const DEFAULT_ROUTE = 'overview'

export function parseHash(hash) {
  const p = (hash || '').replace(/^#\/?/, '').split(/[?/]/)[0]
  return ROUTES.some((r) => r.path === p) ? p : DEFAULT_ROUTE
}

export const route = ref(parseHash(globalThis.location?.hash))

if (globalThis.window) {
  window.addEventListener('hashchange', () => { route.value = parseHash(location.hash) })
}

export function go(path) {
  location.hash = '#/' + path
}
