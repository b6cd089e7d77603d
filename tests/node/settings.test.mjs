// Documented settings and admin API details that had no test: MODEL_MAP,
// RATE_LIMIT_RPM, PER_IP_CONNECTIONS, SESSION_TTL, LOG_RETENTION_DAYS, the
// outbound PROXY and per-account proxies (through a counting proxy,
// tests/lib/proxy.mjs), x-admin-key, 405, the admin 413, 503
// store_unavailable and the request-log filters -- each against the real
// gemgated and the real fake upstream.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startStack, waitFor, scaled } from '../lib/stack.mjs';
import { startProxy } from '../lib/proxy.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function chat(s, content, extra = {}, headers = {}) {
  const r = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gemini-2.5-flash', messages: typeof content === 'string' ? [{ role: 'user', content }] : content, ...extra }),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* stream */ }
  return { status: r.status, headers: r.headers, json, text };
}

const streams = async (s) => (await s.fake('GET', '/__fake/record')).requests.filter((q) => q.endpoint === 'stream');

// One raw connection: resolves with what the server sent before closing,
// or '!open' when it is still open after ms (it then stays open).
function probeConn(url, ms) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    let got = '';
    const t = setTimeout(() => resolve({ sock, result: '!open' }), scaled(ms));
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('close', () => { clearTimeout(t); resolve({ sock, result: got }); });
    sock.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
  });
}

describe('MODEL_MAP', () => {
  let s;
  before(async () => { s = await startStack({ env: { MODEL_MAP: 'my-alias=gemini-2.5-pro,team-fast=gemini-3-flash-preview' } }); });
  after(async () => { await s?.stop(); });

  test('a mapped alias reaches the upstream as its target modelId', async () => {
    let r = await chat(s, 'map me', { model: 'my-alias' });
    assert.equal(r.status, 200, r.text);
    assert.equal((await streams(s)).at(-1).model_id, 'gemini-2.5-pro');
    r = await chat(s, 'map me too', { model: 'team-fast' });
    assert.equal(r.status, 200, r.text);
    assert.equal((await streams(s)).at(-1).model_id, 'gemini-3-flash-preview');
    const n = (await streams(s)).length;
    r = await chat(s, 'not mapped', { model: 'other-alias' });
    assert.equal(r.status, 404, 'an alias that is not in MODEL_MAP is unknown');
    assert.equal(r.json.error.code, 'model_not_found');
    assert.equal((await streams(s)).length, n, 'nothing went upstream for an unknown model');
  });
});

describe('RATE_LIMIT_RPM', () => {
  let s;
  before(async () => { s = await startStack({ env: { RATE_LIMIT_RPM: '3' } }); });
  after(async () => { await s?.stop(); });

  test('the request over the per-minute limit gets 429 with Retry-After, in the OpenAI envelope', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await chat(s, `rpm ${i}`)).status, 200, `request ${i + 1} of 3`);
    const n = (await streams(s)).length;
    const r = await chat(s, 'rpm over');
    assert.equal(r.status, 429);
    assert.equal(r.json.error.type, 'rate_limit_error');
    assert.equal(r.json.error.code, 'rate_limit_exceeded');
    const ra = Number(r.headers.get('retry-after'));
    assert.ok(ra >= 1 && ra <= 60, `Retry-After ${ra}`);
    assert.equal((await streams(s)).length, n, 'the refused request did not go upstream');
  });
});

describe('PER_IP_CONNECTIONS', () => {
  let s;
  before(async () => { s = await startStack({ env: { PER_IP_CONNECTIONS: '2' } }); });
  after(async () => { await s?.stop(); });

  test('the connection over the per-IP limit is refused; the others keep working', async () => {
    const a = await probeConn(s.url, 300);
    const b = await probeConn(s.url, 300);
    assert.equal(a.result, '!open');
    assert.equal(b.result, '!open');
    const c = await probeConn(s.url, 3000);
    assert.notEqual(c.result, '!open', 'a third connection from the same IP stayed open');
    assert.ok(!/^HTTP\/1\.1 200/.test(c.result), `the third connection was served: ${c.result.slice(0, 80)}`);
    // an allowed connection is still served
    a.sock.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const got = await new Promise((resolve) => {
      let t = '';
      const timer = setTimeout(() => resolve(t || '!timeout'), scaled(5000));
      a.sock.on('data', (d) => { t += d; });
      a.sock.on('close', () => { clearTimeout(timer); resolve(t); });
    });
    assert.match(got, /^HTTP\/1\.1 200/);
    b.sock.destroy();
    // once the others are gone, a new connection is served again
    await waitFor(async () => (await fetch(s.url + '/healthz').catch(() => ({ status: 0 }))).status === 200, 5000, 'a new connection to be served');
  });
});

describe('SESSION_TTL', () => {
  let s;
  before(async () => { s = await startStack({ env: { SESSION_TTL: '2' } }); });
  after(async () => { await s?.stop(); });

  test('a conversation keeps its upstream session within SESSION_TTL and gets a new one after it', async () => {
    const first = await chat(s, 'ttl start');
    assert.equal(first.status, 200);
    const s1 = (await streams(s)).at(-1);
    const turn = (q) => chat(s, [{ role: 'user', content: 'ttl start' }, { role: 'assistant', content: first.json.choices[0].message.content }, { role: 'user', content: q }]);
    assert.equal((await turn('within')).status, 200);
    const s2 = (await streams(s)).at(-1);
    assert.equal(s2.session, s1.session, 'same session within the TTL');
    assert.equal(s2.query_text, 'within');
    // the TTL counts from the last use: wait it out (a duration, not a race)
    await sleep(2500);
    const r3 = await chat(s, [{ role: 'user', content: 'ttl start' }, { role: 'assistant', content: first.json.choices[0].message.content },
      { role: 'user', content: 'within' }, { role: 'assistant', content: 'x' }, { role: 'user', content: 'after ttl' }]);
    assert.equal(r3.status, 200);
    const s3 = (await streams(s)).at(-1);
    assert.notEqual(s3.session, s1.session, 'a new upstream session after SESSION_TTL');
    assert.match(s3.query_text, /ttl start[\s\S]*after ttl/, 'the whole conversation is replayed into the new session');
  });
});

// request_logs rows inserted straight into the SQLite file while gemgated is
// stopped (ts in ms)
function sqlite(db, sql) {
  return new Promise((resolve, reject) => {
    const p = spawn('sqlite3', [db, sql], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`sqlite3: ${err}`))));
  });
}

describe('LOG_RETENTION_DAYS and the request-log filters', () => {
  let s;
  const db = () => join(s.dataDir, 'gemgate.db');
  before(async () => { s = await startStack(); });
  after(async () => { await s?.stop(); });

  test('log filters: model, status, since, account_id', async () => {
    assert.equal((await chat(s, 'log a', { model: 'gemini-2.5-pro' })).status, 200);
    assert.equal((await chat(s, 'log b', { model: 'gemini-2.5-flash' })).status, 200);
    assert.equal((await chat(s, 'log c [[fake:thoughts_only]]')).status, 502);
    const logs = async (q) => {
      const r = await s.admin('GET', '/logs?limit=1000' + q);
      assert.equal(r.status, 200, r.text);
      return r.json.logs;
    };
    await waitFor(async () => (await logs('')).length >= 3, 10000, 'three log rows');
    const all = await logs('');
    const pro = await logs('&model=gemini-2.5-pro');
    assert.ok(pro.length >= 1 && pro.every((l) => l.model === 'gemini-2.5-pro'), 'model filter');
    const e4 = await logs('&status=5xx');
    assert.ok(e4.length >= 1 && e4.every((l) => l.status >= 500 && l.status < 600), 'status=5xx');
    assert.deepEqual(await logs('&status=4xx'), [], 'status=4xx: none');
    const ok200 = await logs('&status=200');
    assert.ok(ok200.length >= 2 && ok200.every((l) => l.status === 200), 'status=200');
    assert.equal(ok200.length + e4.length, all.length, '200 and 5xx partition these rows');
    const future = new Date(Date.now() + 3600e3).toISOString();
    assert.deepEqual(await logs(`&since=${encodeURIComponent(future)}`), [], 'since in the future');
    const since = all.at(-1).ts;
    assert.equal((await logs(`&since=${encodeURIComponent(since)}`)).length, all.length, 'since = the oldest row keeps every row');
    const acc = all.find((l) => l.status === 200).account_id;
    const byAcc = await logs(`&account_id=${acc}`);
    assert.ok(byAcc.length >= 2 && byAcc.every((l) => l.account_id === acc), 'account_id filter');
    assert.deepEqual(await logs('&account_id=987654'), [], 'unknown account_id');
  });

  test('LOG_RETENTION_DAYS purges older rows; 0 keeps them', async () => {
    const old = Date.now() - 3 * 86400e3;
    await s.stopGw();
    await sqlite(db(), `INSERT INTO request_logs (request_id, ts, model, account_id, status) VALUES ('req_retention_old', ${old}, 'gemini-2.5-flash', 0, 200);`);
    await s.startGw({ LOG_RETENTION_DAYS: '0' });
    const has = async (id) => (await s.admin('GET', '/logs?limit=1000&since=' + encodeURIComponent(new Date(old - 1000).toISOString()))).json.logs.some((l) => l.request_id === id);
    assert.equal(await has('req_retention_old'), true, 'the old row is visible');
    await sleep(2500); // LOG_RETENTION_DAYS=0: the purge tick (1 s) must not delete it
    assert.equal(await has('req_retention_old'), true, 'LOG_RETENTION_DAYS=0 keeps rows');
    await s.restart({ env: { LOG_RETENTION_DAYS: '2' } });
    await waitFor(async () => !(await has('req_retention_old')), 10000, 'the 3-day-old row to be purged with LOG_RETENTION_DAYS=2');
    assert.ok((await s.admin('GET', '/logs?limit=1000')).json.logs.length >= 3, 'recent rows are kept');
  });
});

describe('outbound PROXY and per-account proxies', () => {
  let s, p1, p2;
  before(async () => {
    p1 = await startProxy();
    p2 = await startProxy();
    s = await startStack({ env: { PROXY: p1.url } });
  });
  after(async () => { await s?.stop(); await p1?.close(); await p2?.close(); });

  test('every upstream call of the env account goes through PROXY', async () => {
    const r = await chat(s, 'via proxy');
    assert.equal(r.status, 200, r.text);
    const rec = await s.fake('GET', '/__fake/record');
    const fakeSaw = rec.requests.length;
    assert.ok(fakeSaw >= 3, `the fake saw ${fakeSaw} requests`);
    const fake = new URL(s.fakeUrl);
    const viaP1 = p1.seen.filter((x) => x.target.startsWith(`http://${fake.host}/`) || x.target === fake.host);
    assert.equal(viaP1.length, fakeSaw, `proxy saw ${viaP1.length} of the fake's ${fakeSaw} requests: ${JSON.stringify(p1.seen.map((x) => x.path))}`);
    assert.ok(viaP1.some((x) => x.path === '/auth/getoxsrf'), 'getoxsrf via the proxy');
    assert.ok(viaP1.some((x) => x.path.endsWith('widgetStreamAssist')), 'streamAssist via the proxy');
    assert.equal(p2.seen.length, 0);
  });

  test('an account with its own proxy uses it instead of PROXY', async () => {
    const B = { csesidx: '7100', secure_c_ses: 'CSE.proxy-b-cookie-7100', config_id: 'cfg-proxy-b' };
    await s.fake('POST', '/__fake/accounts', B);
    const c = await s.admin('POST', '/accounts', { name: 'via-p2', ...B, proxy: p2.url });
    assert.equal(c.status, 201, c.text);
    await s.admin('POST', '/accounts/0/disable');
    try {
      const before1 = p1.seen.length;
      await s.fake('POST', '/__fake/reset');
      const r = await chat(s, 'via account proxy');
      assert.equal(r.status, 200, r.text);
      const rec = await s.fake('GET', '/__fake/record');
      assert.ok(rec.requests.every((q) => q.csesidx === B.csesidx), 'only account B was used');
      assert.equal(p2.seen.length, rec.requests.length, `account proxy saw ${p2.seen.length} of ${rec.requests.length}`);
      assert.equal(p1.seen.length, before1, 'nothing of account B went through PROXY');
    } finally {
      await s.admin('POST', '/accounts/0/enable');
    }
  });

  test('a proxy outage is an upstream error, not a hang or a silent success', async () => {
    p1.cut(true);
    p2.cut(true);
    try {
      await s.fake('POST', '/__fake/reset');
      const r = await chat(s, 'proxy down');
      assert.ok([502, 503].includes(r.status), `status ${r.status}`);
      assert.ok(r.json.error.message.length > 0);
      assert.equal((await s.fake('GET', '/__fake/record')).requests.length, 0, 'nothing reached the fake');
    } finally {
      p1.cut(false);
      p2.cut(false);
    }
  });
});

describe('admin API details', () => {
  let s;
  before(async () => { s = await startStack({ env: { MAX_BODY: '8192' } }); });
  after(async () => { await s?.stop(); });

  const raw = async (method, path, { headers = {}, body } = {}) => {
    const r = await fetch(s.url + '/api/admin' + path, { method, headers, body });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, headers: r.headers, json, text };
  };

  test('x-admin-key works like the bearer header; a wrong one is 401', async () => {
    const ok = await raw('GET', '/accounts', { headers: { 'x-admin-key': s.adminKey } });
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(ok.json.accounts));
    const bad = await raw('GET', '/accounts', { headers: { 'x-admin-key': s.adminKey + 'x' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error.code, 'unauthorized');
  });

  test('a wrong method is 405 method_not_allowed', async () => {
    const h = { authorization: `Bearer ${s.adminKey}` };
    for (const [m, p] of [['DELETE', '/accounts'], ['GET', '/accounts/import'], ['POST', '/accounts/0']]) {
      const r = await raw(m, p, { headers: h });
      assert.equal(r.status, 405, `${m} ${p}`);
      assert.equal(r.json.error.code, 'method_not_allowed', `${m} ${p}`);
    }
  });

  test('an admin body over the limit is 413 in the admin envelope (code too_large)', async () => {
    // admin JSON routes take at most 1 MiB whatever MAX_BODY says (routes.c ADMIN_BODY)
    // headers only: the limit is checked against Content-Length before any
    // body byte is read (racing a 1 MiB upload against the early 413 would
    // make the client's write fail at random)
    const r = await new Promise((resolve, reject) => {
      const u = new URL(s.url);
      const sock = net.connect(Number(u.port), u.hostname);
      let buf = '';
      sock.setTimeout(scaled(10000), () => { sock.destroy(); reject(new Error('no answer to a headers-only 413 request')); });
      sock.on('data', (d) => { buf += d; });
      sock.on('error', reject);
      sock.on('close', () => {
        const [head, ...rest] = buf.split('\r\n\r\n');
        const text = rest.join('\r\n\r\n');
        let json = null;
        try { json = JSON.parse(text); } catch { /* checked below */ }
        resolve({ status: Number(head.split(' ')[1]), text, json });
      });
      sock.write(`POST /api/admin/accounts HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${s.adminKey}\r\n` +
                 `Content-Type: application/json\r\nContent-Length: ${(1 << 20) + 4096}\r\nConnection: close\r\n\r\n`);
    });
    assert.equal(r.status, 413);
    assert.deepEqual(Object.keys(r.json?.error || {}).sort(), ['code', 'message'], `admin envelope: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.error.code, 'too_large');
    assert.match(r.json.error.message, /1048576/);
    // under the limit the same route validates the body instead
    const ok = await raw('POST', '/accounts', {
      headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'big', note: 'x'.repeat(20000), csesidx: '1', secure_c_ses: 'CSE.x', config_id: 'c' }),
    });
    assert.equal(ok.status, 400, ok.text.slice(0, 200));
    assert.equal(ok.json.error.code, 'validation_failed');
  });

  test('a store that cannot be written answers 503 store_unavailable with Retry-After', async () => {
    // hold an exclusive SQLite lock from outside: every write of gemgated fails
    const db = join(s.dataDir, 'gemgate.db');
    const holder = spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    holder.stdout.on('data', (d) => { out += d; });
    holder.stdin.write('PRAGMA busy_timeout=5000;\nBEGIN EXCLUSIVE;\nSELECT \'locked\';\n');
    try {
      await waitFor(() => out.includes('locked'), 10000, 'the exclusive lock');
      const r = await s.admin('POST', '/accounts', { name: 'while-locked', csesidx: '7200', secure_c_ses: 'CSE.locked-7200', config_id: 'cfg-l' });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.error.code, 'store_unavailable');
      assert.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After');
      assert.ok(!r.text.includes('CSE.locked-7200'), 'no secret in the error');
    } finally {
      holder.stdin.end('ROLLBACK;\n');
      await new Promise((resolve) => holder.on('exit', resolve));
    }
    const again = await s.admin('POST', '/accounts', { name: 'after-lock', csesidx: '7201', secure_c_ses: 'CSE.after-7201', config_id: 'cfg-l' });
    assert.equal(again.status, 201, again.text);
  });
});
