// Several upstream event loops (issue 14): calls spread over UPSTREAM_LOOPS
// loops still share one getoxsrf per account, and every call completes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startStack, waitFor } from '../lib/stack.mjs';

let s;
const say = (content) => ({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content }] });
async function chat(body, stream = false) {
  const r = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream }),
  });
  return { status: r.status, text: await r.text() };
}
const oxsrfCount = async () => (await s.fake('GET', '/__fake/record')).getoxsrf.length;

before(async () => {
  s = await startStack({ env: { UPSTREAM_LOOPS: '4', EXPIRY_WATCH_IDLE: '0', PING_INTERVAL: '0', PER_IP_CONNECTIONS: '0', ACCOUNT_MAX_CONCURRENCY: '0' } });
});
after(async () => { await s?.stop(); });

test('a burst on 4 loops needing a new key signs in once, and every call completes', async () => {
  // keys live 2 s: the gateway treats a key as stale a quarter of its life before the end
  await s.fake('POST', '/__fake/config', { key_lifetime_ms: 2000 });
  assert.equal((await chat(say('warm up'))).status, 200);
  await new Promise((r) => setTimeout(r, 2100));        // the key is now expired
  for (let round = 0; round < 3; round++) {
    const ox0 = await oxsrfCount();
    const rs = await Promise.all(Array.from({ length: 24 }, (_, i) => chat(say(`burst ${round}.${i} [[fake:delay_ms=20]]`), i % 2 === 0)));
    for (const r of rs) assert.equal(r.status, 200, r.text);
    for (const [i, r] of rs.entries()) {
      if (i % 2 === 0) assert.match(r.text, /data: \[DONE\]/);
      else assert.equal(JSON.parse(r.text).object, 'chat.completion');
    }
    assert.equal(await oxsrfCount(), ox0 + 1, `round ${round}: one getoxsrf for 24 calls on 4 loops`);
    await new Promise((r) => setTimeout(r, 2100));
  }
  await s.fake('POST', '/__fake/config', { key_lifetime_ms: 300000 });
});

test('the gateway reports its calls across loops and drains to zero', async () => {
  const rs = await Promise.all(Array.from({ length: 16 }, (_, i) => chat(say(`count ${i}`), true)));
  for (const r of rs) assert.equal(r.status, 200, r.text);
  await waitFor(async () => {
    const m = await (await fetch(s.url + '/metrics')).text();
    const line = m.split('\n').find((l) => l.startsWith('gemgate_active_streams '));
    assert.ok(line, 'gemgate_active_streams is exported');
    return Number(line.split(' ').pop()) === 0;
  }, 5000, 'active streams back to 0');
});

// libcurl keeps finished transfers' connections while a loop holds fewer
// than CURLMOPT_MAXCONNECTS; that cap follows the loops' recent peak of
// active calls (loop.c conn_cap_watch), so the sockets of a pile-up are not
// kept for as long as light traffic keeps touching them.
function upstreamSockets() {
  const port = Number(new URL(s.fakeUrl).port).toString(16).toUpperCase().padStart(4, '0');
  const rows = readFileSync(`/proc/${s.gw.pid}/net/tcp`, 'utf8').split('\n').slice(1);
  // established (01) connections whose remote end is the fake: the gateway's side
  return rows.filter((l) => { const f = l.trim().split(/\s+/); return f[3] === '01' && f[2]?.endsWith(':' + port); }).length;
}

test('after a pile-up, idle upstream connections shrink back to what the load needs', async () => {
  const rs = await Promise.all(Array.from({ length: 64 }, (_, i) => chat(say(`pile ${i} [[fake:delay_ms=300]]`), i % 2 === 0)));
  assert.ok(rs.every((r) => r.status === 200));
  const piled = upstreamSockets();
  assert.ok(piled >= 32, `the pile-up left its connections open for reuse (${piled})`);
  // light traffic, one call at a time: the cap follows it down within two 5 s windows
  await waitFor(async () => (await chat(say('steady'))).status === 200 && upstreamSockets() <= 12, 25000,
    'upstream connections back to a few per loop');
  assert.equal((await chat(say('still served'))).status, 200);
});
