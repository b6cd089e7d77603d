import { reactive } from 'vue'
import { hooks } from '../api.js'

// Connection health shown in the header/banner.
export const connection = reactive({
  apiDown: false,          // last HTTP call failed at the network level
  apiDownSince: null,
  stream: 'idle',          // 'idle' | 'connecting' | 'open' | 'retrying'
  streamRetries: 0,
})

hooks.onUnreachable = () => {
  if (!connection.apiDown) connection.apiDownSince = Date.now()
  connection.apiDown = true
}
hooks.onReachable = () => {
  connection.apiDown = false
  connection.apiDownSince = null
}
