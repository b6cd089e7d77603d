// Memory bounds that must not cost behaviour (issue 14): the 20 KiB MHD
// connection pool still takes large request heads (an 8 KiB Cookie plus a
// long Authorization) and large JSON bodies, streamed and not; a conversation
// evicted from the in-memory cache (SESSION_CACHE_MAX) continues from the
// store with the same account and upstream session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startStack, waitFor } from '../lib/stack.mjs';

let s;
before(async () => {
  // a stored account: the store keeps conversation mappings of stored accounts only
  s = await startStack({ envAccount: false, env: { SESSION_CACHE_MAX: '2', MAX_BODY: String(4 << 20) } });
  const A = { csesidx: '2101', secure_c_ses: 'CSE.mem-cookie-0001', config_id: 'cfg-m' };
  await s.fake('POST', '/__fake/accounts', [A]);
  const r = await s.admin('POST', '/accounts', { name: 'mem', ...A });
  assert.equal(r.status, 201, r.text);
});
after(async () => { await s?.stop(); });

const streams = async () => (await s.fake('GET', '/__fake/record')).requests.filter((q) => q.endpoint === 'stream');

// The usual client headers (an SDK's x-stainless-*, a browser's user agent)
// plus an 8 KiB cookie: about 9 KiB of request head.
function bigHeaders(extra = {}) {
  const h = {
    authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json',
    cookie: 'session=' + 'c'.repeat(8192),
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
    'x-stainless-os': 'Linux', 'x-stainless-lang': 'js', 'x-stainless-package-version': '4.52.0',
    'x-stainless-runtime': 'node', 'x-stainless-runtime-version': 'v20.11.0', 'x-stainless-arch': 'x64',
    ...extra,
  };
  const size = Object.entries(h).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  assert.ok(size > 8500, `request head ${size} bytes`);
  return h;
}

test('an 8 KiB cookie and a 1 MB body: 200, streamed to [DONE] and not streamed', async () => {
  const content = 'x'.repeat(1 << 20) + ' [[fake:fragments=40,fragment_bytes=2000]]';
  const answers = [];
  for (const stream of [true, false]) {
    const r = await fetch(s.url + '/v1/chat/completions', {
      method: 'POST', headers: bigHeaders(),
      body: JSON.stringify({ model: 'gemini-2.5-flash', stream, messages: [{ role: 'user', content }] }),
    });
    const text = await r.text();
    assert.equal(r.status, 200, text.slice(0, 300));
    if (stream) {
      assert.ok(text.trimEnd().endsWith('data: [DONE]'), 'stream ends with [DONE]');
      const deltas = text.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)))
        .map((j) => j.choices?.[0]?.delta?.content || '').join('');
      answers.push(deltas);
    } else {
      answers.push(JSON.parse(text).choices[0].message.content);
    }
  }
  assert.ok(answers[0].length > 60000, `answer ${answers[0].length} bytes`);
  assert.equal(answers[0], answers[1], 'the same answer streamed and not');
});

test('a 2 KiB API key in x-api-key beside the cookie works too; a head far over the pool is 431', async () => {
  // the key itself is wrong (401), but the head was read and routed
  const r = await fetch(s.url + '/v1/models', { headers: bigHeaders({ authorization: '', 'x-api-key': 'k'.repeat(2048) }) });
  assert.equal(r.status, 401);
  await r.text();
  const status = await new Promise((resolve, reject) => {
    const u = new URL(s.url);
    const sock = net.connect(Number(u.port), u.hostname);
    let got = '';
    sock.setTimeout(10000, () => { sock.destroy(); reject(new Error('no answer')); });
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('error', () => resolve(got ? Number(got.split(' ')[1]) : 0));
    sock.on('close', () => resolve(got ? Number(got.split(' ')[1]) : 0));
    sock.write(`GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.apiKey}\r\nCookie: ${'a'.repeat(40000)}\r\n\r\n`);
  });
  assert.equal(status, 431);
  const ok = await fetch(s.url + '/v1/models', { headers: { authorization: `Bearer ${s.apiKey}` } });
  assert.equal(ok.status, 200);
});

test('a conversation evicted from the memory cache continues from the store', async () => {
  const chat = async (messages) => {
    const r = await fetch(s.url + '/v1/chat/completions', {
      method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages }),
    });
    assert.equal(r.status, 200);
    return { id: r.headers.get('x-request-id'), text: (await r.json()).choices[0].message.content };
  };
  const m1 = [{ role: 'user', content: 'evicted conversation start' }];
  const { id, text: a1 } = await chat(m1);
  const first = (await streams()).at(-1);
  // three more conversations push the first out of a 2-entry cache
  for (let i = 0; i < 3; i++) await chat([{ role: 'user', content: `filler ${i}` }]);
  // the store writer is asynchronous: the first request's log row is queued
  // after its conversation mapping, so once the row is readable the mapping is too
  await waitFor(async () => (await s.admin('GET', '/logs?limit=50')).json.logs.some((l) => l.request_id === id),
    10000, 'the first request is in the store');
  await chat([...m1, { role: 'assistant', content: a1 }, { role: 'user', content: 'evicted conversation next' }]);
  const next = (await streams()).at(-1);
  assert.equal(next.session, first.session, 'same upstream session, read back from the store');
  assert.equal(next.csesidx, first.csesidx);
  assert.equal(next.query_text, 'evicted conversation next', 'only the new message is sent');
});
