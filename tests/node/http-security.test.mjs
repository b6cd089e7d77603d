// HTTP admission (issue 16 findings 1, 5, 7, 11, 12): authentication and
// body limits on the first callback (before any body byte is read), a
// per-IP connection limit, a whole-request deadline that trickling cannot
// extend, 415 on non-JSON bodies, loopback + Host check without an API key,
// stream tickets instead of keys in URLs, console CSP, METRICS_KEY.
// Real gemgated + fake upstream on real sockets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startStack } from '../lib/stack.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// Send raw bytes; resolve with {status, head, body, closed} once the server
// answered (or closed).  The body is never sent unless `body` is given.
function raw(url, text, { localAddress, body, waitMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const sock = net.connect({ port: Number(u.port), host: u.hostname, localAddress });
    let got = '';
    const t0 = Date.now();
    const done = () => {
      const [head, ...rest] = got.split('\r\n\r\n');
      resolve({ status: got ? Number(got.split(' ')[1]) : 0, head, body: rest.join('\r\n\r\n'), ms: Date.now() - t0 });
    };
    sock.setTimeout(waitMs, () => { sock.destroy(); reject(new Error('no answer: ' + text.split('\r\n')[0])); });
    sock.on('data', (d) => {
      got += d.toString('latin1');
      const i = got.indexOf('\r\n\r\n');
      const m = /content-length: (\d+)/i.exec(got);
      if (i >= 0 && m && got.length >= i + 4 + Number(m[1])) { sock.destroy(); done(); }
    });
    sock.on('error', () => {});
    sock.on('close', done);
    sock.write(text);
    if (body) sock.write(body);
  });
}

// Sanitizer shadow memory inflates RSS: TSan about 4x, ASan about 2x.
function rssFactor(pid) {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  return maps.includes('libtsan') ? 4 : maps.includes('libasan') ? 2 : 1;
}

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

describe('admission on the first callback', () => {
  let s;
  before(async () => { s = await startStack({ env: { REQUEST_TIMEOUT: '3' } }); });
  after(async () => { await s?.stop(); });

  test('no key -> 401 before any body byte is sent', async () => {
    const r = await raw(s.url, 'POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n' +
      'Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n');
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.body).error.code, 'missing_api_key');
    const a = await raw(s.url, 'POST /api/admin/accounts HTTP/1.1\r\nHost: localhost\r\n' +
      'Content-Type: application/json\r\nContent-Length: 500000\r\n\r\n');
    assert.equal(a.status, 401);
    assert.equal(JSON.parse(a.body).error.code, 'unauthorized');
    const w = await raw(s.url, 'POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer nope\r\n' +
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    assert.equal(w.status, 401);
    assert.equal(JSON.parse(w.body).error.code, 'invalid_api_key');
  });

  test('Content-Length over the route limit -> 413 at once, body never sent', async () => {
    const r = await raw(s.url, `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${s.apiKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${21 << 20}\r\n\r\n`);
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.body).error.code, 'request_too_large');
    // admin JSON routes take at most 1 MiB
    const a = await raw(s.url, `PUT /api/admin/accounts/1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${s.adminKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${2 << 20}\r\n\r\n`);
    assert.equal(a.status, 413);
    assert.ok(JSON.parse(a.body).error.message.includes('1048576'));
  });

  test('a bodyless route refuses a body (Content-Length or chunked)', async () => {
    const r = await raw(s.url, `GET /v1/models HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${s.apiKey}\r\n` +
      'Content-Length: 5\r\n\r\n', { body: 'hello' });
    assert.equal(r.status, 413);
    const c = await raw(s.url, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n',
      { body: '5\r\nhello\r\n0\r\n\r\n' });
    assert.equal(c.status, 413);
    const ok = await fetch(s.url + '/v1/models', { headers: { authorization: `Bearer ${s.apiKey}` } });
    assert.equal(ok.status, 200);
  });

  test('chunked bodies are counted as they arrive', async () => {
    const chunk = 'x'.repeat(65536);
    const u = new URL(s.url);
    const sock = net.connect(Number(u.port), u.hostname);
    sock.on('error', () => {});
    sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${s.apiKey}\r\n` +
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    let sent = 0;
    const closed = new Promise((res) => sock.on('close', res));
    let open = true;
    closed.then(() => { open = false; });
    while (open && sent < (64 << 20)) {
      if (!sock.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`))
        await Promise.race([new Promise((r) => sock.once('drain', r)), closed, sleep(2000)]);
      sent += chunk.length;
      if (sent % (4 << 20) === 0) await sleep(1);
    }
    await until('connection closed', () => !open, 10000);
    // closed soon after MAX_BODY (20 MiB), long before 64 MiB
    assert.ok(sent < (40 << 20), `sent ${sent} bytes before the close`);
  });

  test('JSON routes refuse a non-JSON Content-Type with 415 in their envelope', async () => {
    const r = await fetch(s.url + '/v1/chat/completions', {
      method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 415);
    const j = await r.json();
    assert.equal(j.error.code, 'unsupported_media_type');
    assert.equal(j.error.type, 'invalid_request_error');
    const a = await fetch(s.url + '/api/admin/accounts', {
      method: 'POST', headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=b',
    });
    assert.equal(a.status, 415);
    assert.deepEqual(Object.keys((await a.json()).error).sort(), ['code', 'message']);
    // JSON with a charset, and the text import route, still pass
    const ok = await fetch(s.url + '/v1/chat/completions', {
      method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(ok.status, 200);
    await ok.text();
    const imp = await fetch(s.url + '/api/admin/accounts/import', {
      method: 'POST', headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'text/plain' },
      body: 'x|CSE.y||notdigits|c\n',
    });
    assert.equal(imp.status, 200);
  });

  test('300 trickling connections are cut at REQUEST_TIMEOUT; RSS stays bounded; /v1/models answers', async () => {
    const pid = s.gw.pid;
    const rss0 = rssKiB(pid);
    const bound = 64 * 1024 * rssFactor(pid);
    const u = new URL(s.url);
    const socks = [];
    let closedCount = 0;
    for (let i = 0; i < 300; i++) {
      // 30 per source address: under the default PER_IP_CONNECTIONS (64)
      const sock = net.connect({ port: Number(u.port), host: u.hostname, localAddress: `127.0.0.${2 + (i % 10)}` });
      sock.on('error', () => {});
      sock.on('close', () => { closedCount++; sock.gone = true; });
      sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${s.apiKey}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${20 << 20}\r\n\r\n` + 'x'.repeat(16384));
      socks.push(sock);
    }
    const t0 = Date.now();
    let peak = 0;
    let answered = 0;
    // trickle 1 KiB per connection every 200 ms: without a deadline this goes on forever
    while (Date.now() - t0 < 8000 && closedCount < 300) {
      for (const sock of socks) if (!sock.gone) sock.write('y'.repeat(1024));
      peak = Math.max(peak, rssKiB(pid));
      const m = await fetch(s.url + '/v1/models', { headers: { authorization: `Bearer ${s.apiKey}` } });
      if (m.status === 200) answered++;
      await m.text();
      await sleep(200);
    }
    const took = Date.now() - t0;
    for (const sock of socks) sock.destroy();
    assert.equal(closedCount, 300, `${300 - closedCount} trickling connections still open after ${took} ms`);
    assert.ok(took < 3000 + 4000, `closed after ${took} ms (REQUEST_TIMEOUT 3 s)`);
    assert.ok(answered >= 3, `/v1/models answered ${answered} times during the trickle`);
    // bound: 300 x (16 KiB + trickle) plus allocator slack, 64 MiB (x sanitizer
    // factor) -- far below the 300 x 20 MiB that buffering whole bodies allows
    assert.ok(peak - rss0 < bound, `RSS grew by ${peak - rss0} KiB (bound ${bound} KiB)`);
    console.log(`# trickle: rss ${rss0} KiB -> peak ${peak} KiB, all closed in ${took} ms, /v1/models ok ${answered}x`);
  });

  test(`at most PER_IP_CONNECTIONS (default 64) connections per address`, async () => {
    const u = new URL(s.url);
    const socks = [];
    let closed = 0;
    for (let i = 0; i < 80; i++) {
      const sock = net.connect({ port: Number(u.port), host: u.hostname, localAddress: '127.0.0.77' });
      sock.on('error', () => {});
      sock.on('close', () => { closed++; });
      sock.write('GET /v1/models HTTP/1.1\r\nHost: localhost\r\n'); // headers never end
      socks.push(sock);
    }
    await until('16 refused', () => closed >= 16, 5000);
    await sleep(300);
    assert.equal(closed, 16);
    for (const sock of socks) sock.destroy();
  });
});

describe('stream tickets, console headers, METRICS_KEY', () => {
  let s;
  before(async () => { s = await startStack({ env: { METRICS_KEY: 'mk-secret-1' } }); });
  after(async () => { await s?.stop(); });

  test('the live log opens with a single-use ticket obtained with the key in a header', async () => {
    assert.equal((await fetch(s.url + '/api/admin/logs/ticket', { method: 'POST' })).status, 401);
    const t = await fetch(s.url + '/api/admin/logs/ticket', { method: 'POST', headers: { authorization: `Bearer ${s.adminKey}` } });
    assert.equal(t.status, 200);
    const { ticket, expires_in: ttl } = await t.json();
    assert.match(ticket, /^[0-9a-f]{64}$/);
    assert.equal(ttl, 60);
    const ctl = new AbortController();
    const ls = await fetch(`${s.url}/api/admin/logs/stream?ticket=${ticket}`, { signal: ctl.signal });
    assert.equal(ls.status, 200);
    assert.match(ls.headers.get('content-type'), /text\/event-stream/);
    const first = await ls.body.getReader().read();
    assert.match(Buffer.from(first.value).toString(), /retry: 2000/);
    ctl.abort();
    // single use
    const again = await fetch(`${s.url}/api/admin/logs/stream?ticket=${ticket}`);
    assert.equal(again.status, 401);
    const bogus = await fetch(`${s.url}/api/admin/logs/stream?ticket=${'0'.repeat(64)}`);
    assert.equal(bogus.status, 401);
    // the ticket opens only the stream
    const t2 = (await (await fetch(s.url + '/api/admin/logs/ticket', { method: 'POST', headers: { authorization: `Bearer ${s.adminKey}` } })).json()).ticket;
    assert.equal((await fetch(`${s.url}/api/admin/accounts?ticket=${t2}`)).status, 401);
  });

  test('/admin/ has a CSP with frame-ancestors none and X-Frame-Options DENY', async () => {
    for (const p of ['/admin/', '/admin/index.html', '/admin']) {
      const r = await fetch(s.url + p, { redirect: 'manual' });
      await r.text();
      const csp = r.headers.get('content-security-policy') || '';
      assert.match(csp, /frame-ancestors 'none'/, p);
      assert.match(csp, /default-src 'self'/, p);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', p);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', p);
    }
  });

  test('METRICS_KEY guards /metrics and /readyz; /healthz stays open', async () => {
    for (const p of ['/metrics', '/readyz']) {
      assert.equal((await fetch(s.url + p)).status, 401, p);
      assert.equal((await fetch(s.url + p, { headers: { authorization: `Bearer ${s.apiKey}` } })).status, 401, p);
      const ok = await fetch(s.url + p, { headers: { authorization: 'Bearer mk-secret-1' } });
      assert.ok([200, 503].includes(ok.status), `${p} ${ok.status}`);
      await ok.text();
    }
    const m = await (await fetch(s.url + '/metrics', { headers: { authorization: 'Bearer mk-secret-1' } })).text();
    for (const name of ['gemgate_active_streams', 'gemgate_connections', 'gemgate_accounts{state="active"}',
      'gemgate_store_dropped_total', 'gemgate_http_requests_total'])
      assert.ok(m.includes(name), name);
    assert.equal((m.match(/# HELP gemgate_accounts /g) || []).length, 1);
    assert.equal((await fetch(s.url + '/healthz')).status, 200);
  });
});

describe('without an API key', () => {
  let s;
  before(async () => { s = await startStack({ env: { API_KEY: '', HOST: '' } }); });
  after(async () => { await s?.stop(); });

  test('listens on loopback only and says so', async () => {
    await until('start-up line', () => /listening on 127\.0\.0\.1:/.test(s.logs()));
    assert.match(s.logs(), /no API_KEY set: listening on 127\.0\.0\.1 only/);
  });

  test('accepts only Host names of this machine (DNS rebinding)', async () => {
    const port = new URL(s.url).port;
    for (const h of [`localhost:${port}`, `127.0.0.1:${port}`, 'localhost', `[::1]:${port}`]) {
      const r = await raw(s.url, `GET /v1/models HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`);
      assert.equal(r.status, 200, h);
    }
    for (const h of [`evil.example:${port}`, 'attacker.test', `localhost.evil.example:${port}`]) {
      const r = await raw(s.url, `GET /v1/models HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`);
      assert.equal(r.status, 421, h);
      assert.equal(JSON.parse(r.body).error.code, 'host_not_allowed');
    }
  });

  test('a text/plain POST (no preflight from a web page) is refused', async () => {
    const r = await fetch(s.url + '/v1/chat/completions', {
      method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 415);
  });
});
