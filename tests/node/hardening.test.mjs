// Security and robustness checks against the real gemgated + fake upstream:
// no secret in any log line or admin reply, admin lockout, CORS, body and
// header limits, SIGTERM drain with live streams, and kill -9 during a burst
// of admin writes (every 201 must survive the restart).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startStack, waitFor } from '../lib/stack.mjs';


// A raw HTTP request (for localAddress, odd headers and a method fetch refuses).
function rawRequest(url, { method = 'GET', headers = {}, body, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: data }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const chat = (s, content, extra = {}, key = s.apiKey) => fetch(s.url + '/v1/chat/completions', {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content }], ...extra }),
});

function sseSummary(text) {
  const data = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  const done = data.includes('[DONE]');
  const errors = data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d)).filter((j) => j.error);
  return { done, errors, frames: data.length };
}

describe('secrets never leave the daemon', () => {
  let s;
  const secrets = [];
  const replies = [];
  const cookie = (tag) => { const v = `CSE.hard-${tag}-${Math.random().toString(36).slice(2, 12)}`; secrets.push(v); return v; };
  const hcookie = (tag) => { const v = `COS.hard-${tag}-${Math.random().toString(36).slice(2, 12)}`; secrets.push(v); return v; };

  before(async () => {
    s = await startStack({ env: { LOG_LEVEL: 'debug', MAX_RETRIES: '3', COOLDOWN_ERROR: '1', COOLDOWN_429: '1' } });
    secrets.push(s.apiKey, s.adminKey, 'demo-ses');
  });
  after(async () => { await s?.stop(); });

  test('traffic, imports and failing accounts leak no cookie, key or JWT', async () => {
    const admin = async (...a) => { const r = await s.admin(...a); replies.push(r.text); return r; };
    // good accounts known to the fake, one with a host cookie
    const good = [
      { csesidx: '4101', secure_c_ses: cookie('good1'), config_id: 'cfg-h1' },
      { csesidx: '4102', secure_c_ses: cookie('good2'), host_c_oses: hcookie('good2'), config_id: 'cfg-h2' },
    ];
    await s.fake('POST', '/__fake/accounts', good);
    for (const a of good) assert.equal((await admin('POST', '/accounts', a)).status, 201);
    // imports in all three formats; these cookies are unknown to the fake, so
    // the accounts fail with 401 EXPIRED_SIGN_IN when tried (and get logged)
    const j = [{ name: 'imp-json', csesidx: '4201', secure_c_ses: cookie('json'), host_c_oses: hcookie('json'), config_id: 'cfg-j' }];
    const envText = `NAME=imp-env\nSECURE_C_SES=${cookie('env')}\nHOST_C_OSES=${hcookie('env')}\nCSESIDX=4202\nCONFIG_ID=cfg-e\n`;
    const pipeText = `imp-pipe|${cookie('pipe')}|${hcookie('pipe')}|4203|cfg-p\n` +
      `broken|${cookie('broken')}|x|notdigits|cfg-x\n`; // rejected line: its cookie must not be echoed
    for (const body of [j, envText, pipeText]) {
      const r = await admin('POST', '/accounts/import', body);
      assert.equal(r.status, 200, r.text);
    }
    // updates with new secrets, a validation failure carrying a secret
    const list = (await admin('GET', '/accounts')).json.accounts;
    const envAcct = list.find((a) => a.name === 'imp-env');
    await admin('PUT', `/accounts/${envAcct.id}`, { secure_c_ses: cookie('upd'), host_c_oses: hcookie('upd') });
    await admin('POST', '/accounts', { csesidx: '4301', secure_c_ses: cookie('bad') + ' space', config_id: 'c' });
    // traffic: the failing accounts come first in failover order for some calls
    for (let i = 0; i < 6; i++) {
      const r = await chat(s, `hello ${i}`, { stream: i % 2 === 0 });
      await r.text();
    }
    for (const a of list) await admin('POST', `/accounts/${a.id}/test`);
    await s.fake('POST', '/__fake/scenario', { endpoint: 'stream', mode: 'http401', count: 2 });
    await (await chat(s, 'jwt refresh')).text();
    await s.fake('POST', '/__fake/scenario', { endpoint: 'stream', mode: 'http429', count: 1 });
    await (await chat(s, 'rate limited')).text();
    // wrong keys presented by clients must not be logged either
    const wrongApi = 'sk-wrong-' + Math.random().toString(36).slice(2, 14);
    const wrongAdmin = 'adm-wrong-' + Math.random().toString(36).slice(2, 14);
    secrets.push(wrongApi, wrongAdmin);
    assert.equal((await chat(s, 'x', {}, wrongApi)).status, 401);
    assert.equal((await s.admin('GET', '/accounts', undefined, wrongAdmin)).status, 401);
    // the log stream with the key in the query string
    const ctl = new AbortController();
    const ls = await fetch(`${s.url}/api/admin/logs/stream?key=${encodeURIComponent(s.adminKey)}`, { signal: ctl.signal });
    assert.equal(ls.status, 200);
    const rd = ls.body.getReader();
    const first = await rd.read();
    replies.push(Buffer.from(first.value || []).toString('utf8'));
    ctl.abort();
    // every read-only admin view
    for (const p of ['/accounts', ...list.map((a) => `/accounts/${a.id}`), '/stats', '/logs?limit=1000', '/overview'])
      await admin('GET', p);
    for (const p of ['/metrics', '/readyz', '/healthz', '/v1/models'])
      replies.push(await (await fetch(s.url + p, { headers: { authorization: `Bearer ${s.apiKey}` } })).text());
    // a clean stop flushes every log line (and must exit 0)
    assert.equal(await s.stopGw(), 0);

    const log = s.logs();
    assert.ok(log.length > 1000, 'debug log should have content');
    for (const sec of secrets) {
      assert.ok(!log.includes(sec), `secret ${sec.slice(0, 12)}… found in the daemon log`);
      for (const r of replies) assert.ok(!r.includes(sec), `secret ${sec.slice(0, 12)}… in an admin/API reply: ${r.slice(0, 200)}`);
    }
    // the cookie bodies without their CSE./COS. prefixes (masking keeps prefixes)
    for (const sec of secrets.filter((x) => /^(CSE|COS)\./.test(x))) assert.ok(!log.includes(sec.slice(4)), 'cookie body in log');
    assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.eyJ/.test(log), 'JWT in log');
    for (const r of replies) assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.eyJ/.test(r), 'JWT in an admin reply');
  });
});

describe('clear errors when a shared getoxsrf fails', () => {
  let s;
  before(async () => { s = await startStack({ env: { MAX_RETRIES: '3' } }); });
  after(async () => { await s?.stop(); });

  // Regression: the 2nd..nth waiter of a failed shared getoxsrf used to get
  // 502 "Upstream failed: " instead of the first one's 503.
  test('every waiter gets the same clear 503', async () => {
    await s.fake('POST', '/__fake/scenario', { csesidx: '1000001', endpoint: 'getoxsrf', mode: 'expired', headers_ms: 300, count: 1 });
    const rs = await Promise.all([1, 2, 3].map(() => chat(s, 'shared getoxsrf')));
    const bodies = await Promise.all(rs.map((r) => r.json()));
    for (const [i, r] of rs.entries()) {
      assert.equal(r.status, 503, `waiter ${i}: ${r.status} ${bodies[i].error.message}`);
      assert.match(bodies[i].error.message, /EXPIRED_SIGN_IN/);
    }
  });
});

describe('admin lockout', () => {
  let s;
  before(async () => { s = await startStack(); });
  after(async () => { await s?.stop(); });

  test('5 bad keys lock the address out (429 locked_out + Retry-After), even for the good key', async () => {
    // from 127.0.0.2 so the rest of the suite (127.0.0.1) is unaffected
    const from = '127.0.0.2';
    const get = (key) => rawRequest(s.url + '/api/admin/accounts', { headers: { authorization: `Bearer ${key}` }, localAddress: from });
    assert.equal((await get(s.adminKey)).status, 200, 'good key works before');
    for (let i = 0; i < 5; i++) {
      const r = await get('bad-key-' + i);
      assert.equal(r.status, 401, `bad key ${i}`);
      assert.equal(JSON.parse(r.text).error.code, 'unauthorized');
    }
    const locked = await get('bad-key-6');
    assert.equal(locked.status, 429);
    assert.equal(JSON.parse(locked.text).error.code, 'locked_out');
    const ra = Number(locked.headers['retry-after']);
    assert.ok(ra > 60 && ra <= 15 * 60, `Retry-After ${ra}`);
    const good = await get(s.adminKey);
    assert.equal(good.status, 429, 'the good key is refused while locked out');
    assert.equal(JSON.parse(good.text).error.code, 'locked_out');
    // another address is not affected
    assert.equal((await s.admin('GET', '/accounts')).status, 200);
  });
});

describe('HTTP limits and CORS', () => {
  let s;
  before(async () => { s = await startStack({ env: { CORS_ORIGINS: 'https://app.example', MAX_BODY: '4096' } }); });
  after(async () => { await s?.stop(); });

  test('CORS: allowed origin gets the headers and a 204 preflight, a foreign origin none', async () => {
    const ok = await fetch(s.url + '/v1/models', { headers: { authorization: `Bearer ${s.apiKey}`, origin: 'https://app.example' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
    const pre = await rawRequest(s.url + '/v1/chat/completions', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
    assert.match(pre.headers['access-control-allow-methods'] || '', /POST/);
    assert.match((pre.headers['access-control-allow-headers'] || '').toLowerCase(), /authorization/);
    const foreign = await fetch(s.url + '/v1/models', { headers: { authorization: `Bearer ${s.apiKey}`, origin: 'https://evil.example' } });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    const fpre = await rawRequest(s.url + '/v1/chat/completions', {
      method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(fpre.headers['access-control-allow-origin'], undefined);
    const sub = await fetch(s.url + '/v1/models', { headers: { authorization: `Bearer ${s.apiKey}`, origin: 'https://app.example.evil.com' } });
    assert.equal(sub.headers.get('access-control-allow-origin'), null, 'prefix match must not pass');
  });

  test('a body over MAX_BODY is 413 in the OpenAI envelope', async () => {
    const r = await chat(s, 'x'.repeat(8192));
    assert.equal(r.status, 413);
    const j = await r.json();
    assert.equal(j.error.code, 'request_too_large');
    const under = await chat(s, 'small');
    assert.equal(under.status, 200);
    await under.text();
  });

  test('oversized headers are refused cleanly and the daemon keeps serving', async () => {
    const status = await new Promise((resolve, reject) => {
      const u = new URL(s.url);
      const sock = net.connect(Number(u.port), u.hostname);
      let got = '';
      sock.setTimeout(10000, () => { sock.destroy(); reject(new Error('no answer to oversized headers')); });
      sock.on('data', (d) => { got += d.toString('latin1'); });
      sock.on('error', () => resolve(got ? Number(got.split(' ')[1]) : 0));
      sock.on('close', () => resolve(got ? Number(got.split(' ')[1]) : 0));
      sock.write(`GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.apiKey}\r\nX-Big: ${'a'.repeat(200000)}\r\n\r\n`);
    });
    // exactly 431, then the connection closes; never a 200 or a hang
    assert.equal(status, 431);
    const many = await new Promise((resolve) => {
      const u = new URL(s.url);
      const sock = net.connect(Number(u.port), u.hostname);
      let got = '';
      sock.setTimeout(10000, () => { sock.destroy(); resolve('!timeout: no answer to 5000 headers'); });
      sock.on('data', (d) => { got += d.toString('latin1'); });
      sock.on('error', () => resolve(got));
      sock.on('close', () => resolve(got));
      let h = `GET /healthz HTTP/1.1\r\nHost: x\r\n`;
      for (let i = 0; i < 5000; i++) h += `X-H${i}: v\r\n`;
      sock.write(h + '\r\n');
    });
    assert.match(many, /^HTTP\/1\.1 431 /, 'thousands of headers: exactly 431');
    const r = await fetch(s.url + '/healthz');
    assert.equal(r.status, 200);
  });
});

describe('shutdown and crash safety', () => {
  test('SIGTERM during streams: each stream finishes or gets an error frame; exit 0', async () => {
    const s = await startStack({ env: { SHUTDOWN_GRACE: '3', PING_INTERVAL: '1' } });
    try {
      // short streams finish inside the grace period, long ones cannot
      const short = [1, 2].map((i) => chat(s, `short ${i} [[fake:delay_ms=100,fragments=8]]`, { stream: true }));
      const long = [1, 2].map((i) => chat(s, `long ${i} [[fake:delay_ms=200,fragments=200]]`, { stream: true }));
      const resps = await Promise.all([...short, ...long]);
      for (const r of resps) assert.equal(r.status, 200);
      const bodies = resps.map((r) => r.text().catch((e) => `!transport ${e.message}`));
      // all four upstream streams are running before the SIGTERM
      await waitFor(async () => (await s.fake('GET', '/__fake/info')).active_streams === 4, 5000, 'four upstream streams');
      const t0 = Date.now();
      const code = await s.stopGw('SIGTERM');
      const took = Date.now() - t0;
      assert.equal(code, 0, 'exit status');
      assert.ok(took < 3000 + 4000, `shutdown took ${took} ms`);
      const texts = await Promise.all(bodies);
      for (const [i, t] of texts.entries()) {
        const sum = sseSummary(t.startsWith('!transport') ? '' : t);
        if (i < 2) assert.ok(sum.done && sum.errors.length === 0, `short stream ${i} should complete: ${t.slice(-200)}`);
        else assert.ok(!sum.done && sum.errors.length === 1, `long stream ${i} must end with one error frame: ${t.slice(-200)}`);
      }
    } finally {
      await s.stop();
    }
  });

  test('kill -9 during a burst of account creates: every 201 survives the restart', async () => {
    const s = await startStack({ envAccount: false });
    try {
      const created = [];
      let stop = false;
      const worker = async (w) => {
        for (let i = 0; !stop; i++) {
          const body = { name: `burst-${w}-${i}`, csesidx: String(500000 + w * 10000 + i), secure_c_ses: `CSE.burst-${w}-${i}`, config_id: 'cfg-burst' };
          try {
            const r = await s.admin('POST', '/accounts', body);
            if (r.status === 201) created.push({ id: r.json.id, csesidx: body.csesidx });
          } catch { return; } // the daemon is gone
        }
      };
      const workers = [0, 1, 2, 3, 4, 5].map(worker);
      await waitFor(() => created.length >= 10, 20000, '10 acknowledged creates');
      s.gw.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await s.stopGw('SIGKILL');
      assert.ok(created.length >= 10, `only ${created.length} creates before the kill`);
      await s.startGw();
      const list = (await s.admin('GET', '/accounts')).json.accounts;
      const have = new Set(list.map((a) => a.csesidx));
      const lost = created.filter((c) => !have.has(c.csesidx));
      assert.deepEqual(lost, [], `${lost.length} of ${created.length} acknowledged creates lost`);
    } finally {
      await s.stop();
    }
  });
});
