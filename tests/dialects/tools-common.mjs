// Shared by the tools-*.test.mjs files: the stack, fake directives for the
// fake upstream's tool mode (tests/fake_upstream/README.md "Tool mode") and
// the fake's record.
import { startStack, waitFor } from '../lib/stack.mjs';

export const call = (name, args) => `toolcall=${name},args=${encodeURIComponent(JSON.stringify(args))}`;
export const dir = (...parts) => `[[fake:${parts.join(',')}]]`;

export async function stack() {
  return startStack({ env: { COOLDOWN_ERROR: '1', COOLDOWN_429: '1' } });
}
export async function idle(s) {
  await waitFor(async () => (await s.admin('GET', '/accounts')).json.accounts.every((a) => a.inflight === 0), 10000, 'no request in flight');
}
export async function streams(s) {
  return (await s.fake('GET', '/__fake/record')).requests.filter((q) => q.endpoint === 'stream');
}
export const markerOf = (q) => q.match(/<tool_call marker="([0-9a-f]{8})">/)[1];
