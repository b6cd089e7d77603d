import { ref } from 'vue'

// A shared 1 Hz clock for countdowns and relative times.
export const now = ref(Date.now())
let timer = null
export function startClock() {
  if (!timer) timer = setInterval(() => { now.value = Date.now() }, 1000)
}
export function stopClock() {
  clearInterval(timer)
  timer = null
}
