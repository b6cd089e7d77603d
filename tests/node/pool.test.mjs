// Account pool, failover rules, conversation sessions and model stickiness,
// against the real gemgated + fake upstream.  Runs on SQLite, and on
// PostgreSQL too when GEMGATE_TEST_PG_URL is set (tests/node/run.sh).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, waitFor } from '../lib/stack.mjs';

const backends = [['sqlite', null]];
if (process.env.GEMGATE_TEST_PG_URL) backends.push(['postgresql', process.env.GEMGATE_TEST_PG_URL]);

for (const [backend, dbUrl] of backends) {
  describe(`pool on ${backend}`, () => {
    let s, client;
    const A = { csesidx: '2001', secure_c_ses: 'CSE.alpha-cookie-0001', config_id: 'cfg-a' };
    const B = { csesidx: '2002', secure_c_ses: 'CSE.bravo-cookie-0002', config_id: 'cfg-b', host_c_oses: 'COS.bravo-host-0002' };
    let idA, idB;

    before(async () => {
      const env = { COOLDOWN_429: '2', COOLDOWN_ERROR: '2', POOL_STRATEGY: 'failover', MAX_RETRIES: '3' };
      if (dbUrl) {
        // a fresh schema per run: drop what a previous run left
        env.DATABASE_URL = dbUrl;
      }
      s = await startStack({ envAccount: false, env });
      client = new OpenAI({ apiKey: s.apiKey, baseURL: s.url + '/v1', maxRetries: 0 });
      await s.fake('POST', '/__fake/accounts', [A, B]);
      // clean slate on a shared PostgreSQL database
      const list = await s.admin('GET', '/accounts');
      for (const a of list.json.accounts) if (a.source === 'db') await s.admin('DELETE', `/accounts/${a.id}`);
      const ra = await s.admin('POST', '/accounts', { name: 'alpha', ...A });
      const rb = await s.admin('POST', '/accounts', { name: 'bravo', ...B });
      assert.equal(ra.status, 201, ra.text);
      assert.equal(rb.status, 201, rb.text);
      idA = ra.json.id; idB = rb.json.id;
    });
    after(async () => { await s?.stop(); });

    const acct = async (id) => (await s.admin('GET', `/accounts/${id}`)).json;
    const streams = async () => (await s.fake('GET', '/__fake/record')).requests.filter((q) => q.endpoint === 'stream');
    const resetAll = async () => {
      await s.fake('DELETE', '/__fake/scenario');
      for (const id of [idA, idB]) await s.admin('POST', `/accounts/${id}/enable`);
    };

    test('admin CRUD: masking, validation, conflict, update, list filter', async () => {
      const got = await acct(idB);
      assert.equal(got.name, 'bravo');
      assert.equal(got.status, 'active');
      assert.ok(!JSON.stringify(got).includes('bravo-cookie'), 'secret leaked');
      assert.match(got.secure_c_ses, /^CSE\.…\[21\]$/);
      assert.match(got.host_c_oses, /\[19\]$/);
      const bad = await s.admin('POST', '/accounts', { secure_c_ses: 'x y', csesidx: '12a', config_id: '' });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.code, 'validation_failed');
      assert.ok(bad.json.error.fields.csesidx && bad.json.error.fields.secure_c_ses && bad.json.error.fields.config_id);
      const dup = await s.admin('POST', '/accounts', { ...A });
      assert.equal(dup.status, 409);
      assert.equal(dup.json.error.code, 'conflict');
      const put = await s.admin('PUT', `/accounts/${idB}`, { note: 'primary', proxy: 'socks5://127.0.0.1:1' , secure_c_ses: '' });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.json.note, 'primary');
      assert.match(put.json.secure_c_ses, /\[21\]$/, 'empty secret on update keeps the old one');
      const put2 = await s.admin('PUT', `/accounts/${idB}`, { proxy: '' });
      assert.equal(put2.json.proxy, '');
      const badput = await s.admin('PUT', `/accounts/${idB}`, { proxy: 'ftp://x' });
      assert.equal(badput.status, 400);
      assert.ok(badput.json.error.fields.proxy);
      const missing = await s.admin('GET', '/accounts/999999');
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.code, 'not_found');
      const filtered = await s.admin('GET', '/accounts?q=alph');
      assert.deepEqual(filtered.json.accounts.map((a) => a.id), [idA]);
      const unauth = await s.admin('GET', '/accounts', undefined, 'wrong-key');
      assert.equal(unauth.status, 401);
      assert.equal(unauth.json.error.code, 'unauthorized');
    });

    test('429 fails over to the next account; the cooldown ends by itself', async () => {
      await resetAll();
      await s.fake('POST', '/__fake/scenario', { csesidx: A.csesidx, endpoint: 'stream', mode: 'http429', count: 1 });
      const r = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'failover please' }] });
      assert.match(r.choices[0].message.content, /failover please/);
      const st = await streams();
      assert.equal(st.at(-2).csesidx, A.csesidx);
      assert.equal(st.at(-2).status, 429);
      assert.equal(st.at(-1).csesidx, B.csesidx);
      const a = await acct(idA);
      assert.equal(a.status, 'cooldown');
      assert.match(a.reason, /^429/);
      assert.ok(a.until && Date.parse(a.until) > Date.now());
      assert.equal(a.last_errors[0].kind, 'rate_limit');
      // COOLDOWN_429 is short: poll until the cooldown has ended by itself
      await waitFor(async () => (await acct(idA)).status === 'active', 5000, 'the cooldown to end by itself');
    });

    test('every account cooling down: 429 with Retry-After', async () => {
      await resetAll();
      await s.fake('POST', '/__fake/scenario', { endpoint: 'stream', mode: 'http429', count: 2 });
      const r = await fetch(s.url + '/v1/chat/completions', {
        method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gemini-auto', messages: [{ role: 'user', content: 'x' }] }),
      });
      assert.equal(r.status, 429);
      const ra = Number(r.headers.get('retry-after'));
      assert.ok(ra >= 1 && ra <= 5, `Retry-After ${ra}`);
      assert.equal((await r.json()).error.type, 'rate_limit_error');
      const ov = await s.admin('GET', '/overview');
      assert.equal(ov.json.pool.cooldown, 2);
    });

    test('expired cookie is detected, skipped, and cleared by new cookies', async () => {
      await resetAll();
      await s.fake('POST', '/__fake/scenario', { csesidx: A.csesidx, endpoint: 'getoxsrf', mode: 'expired', count: -1 });
      // make sure A has no cached JWT: change its cookie in the fake and the gateway
      const A2 = { ...A, secure_c_ses: 'CSE.alpha-cookie-0099' };
      await s.admin('PUT', `/accounts/${idA}`, { secure_c_ses: A2.secure_c_ses });
      const r = await client.chat.completions.create({ model: 'gemini-auto', messages: [{ role: 'user', content: 'expiry' }] });
      assert.match(r.choices[0].message.content, /expiry/);
      const a = await acct(idA);
      assert.equal(a.status, 'expired');
      assert.match(a.reason, /EXPIRED_SIGN_IN|401/);
      const before = (await s.fake('GET', '/__fake/record')).getoxsrf.filter((g) => g.csesidx === A.csesidx).length;
      await client.chat.completions.create({ model: 'gemini-auto', messages: [{ role: 'user', content: 'skip A' }] });
      const afterN = (await s.fake('GET', '/__fake/record')).getoxsrf.filter((g) => g.csesidx === A.csesidx).length;
      assert.equal(afterN, before, 'an expired account must not be tried');
      await s.fake('DELETE', '/__fake/scenario');
      await s.fake('POST', '/__fake/accounts', A2);
      const upd = await s.admin('PUT', `/accounts/${idA}`, { secure_c_ses: 'CSE.alpha-cookie-0099x' });
      await s.fake('POST', '/__fake/accounts', { ...A, secure_c_ses: 'CSE.alpha-cookie-0099x' });
      assert.equal(upd.json.status, 'active', 'new cookies clear expired');
    });

    test('403 disables with the reason until an admin enables it', async () => {
      await resetAll();
      await s.fake('POST', '/__fake/scenario', { csesidx: A.csesidx, endpoint: 'stream', mode: 'http403', count: 1 });
      const r = await client.chat.completions.create({ model: 'gemini-auto', messages: [{ role: 'user', content: 'forbidden' }] });
      assert.match(r.choices[0].message.content, /forbidden/);
      const a = await acct(idA);
      assert.equal(a.status, 'disabled');
      assert.match(a.reason, /^403/);
      const en = await s.admin('POST', `/accounts/${idA}/enable`);
      assert.equal(en.json.status, 'active');
    });

    test('network error (stream cut before content) gives a short cooldown and fails over', async () => {
      await resetAll();
      await s.fake('POST', '/__fake/scenario', { csesidx: A.csesidx, endpoint: 'stream', mode: 'truncate', truncate_after: 1, count: 1 });
      const r = await client.chat.completions.create({ model: 'gemini-auto', messages: [{ role: 'user', content: 'cut' }] });
      assert.match(r.choices[0].message.content, /cut/);
      const a = await acct(idA);
      assert.equal(a.status, 'cooldown');
      assert.ok(Date.parse(a.until) - Date.now() <= 2500);
    });

    test('thoughts-only answer retries on another account without penalty', async () => {
      await resetAll();
      await s.fake('POST', '/__fake/scenario', { csesidx: A.csesidx, endpoint: 'stream', mode: 'thoughts_only', count: 1 });
      const r = await client.chat.completions.create({ model: 'gemini-auto', messages: [{ role: 'user', content: 'think' }] });
      assert.match(r.choices[0].message.content, /think/);
      assert.equal((await acct(idA)).status, 'active');
    });

    test('a continuing conversation reuses account + session and sends only the new message', async () => {
      await resetAll();
      const m1 = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'first question' }];
      const r1 = await client.chat.completions.create({ model: 'gemini-2.5-pro', messages: m1 });
      const s1 = (await streams()).at(-1);
      assert.match(s1.query_text, /System: You are terse\.[\s\S]*User: first question/);
      const m2 = [...m1, { role: 'assistant', content: r1.choices[0].message.content }, { role: 'user', content: 'second question' }];
      // the client asks for another model: the conversation keeps its own
      await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: m2 });
      const s2 = (await streams()).at(-1);
      assert.equal(s2.session, s1.session, 'same upstream session');
      assert.equal(s2.csesidx, s1.csesidx, 'same account');
      assert.equal(s2.query_text, 'second question', 'only the new message is sent');
      assert.equal(s2.model_id, 'gemini-2.5-pro', 'model stickiness');
      // a turn that fails over: new session on the other account, full context
      const rA = await client.chat.completions.create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'conv B start' }] });
      const sA = (await streams()).at(-1);
      await s.fake('POST', '/__fake/scenario', { csesidx: sA.csesidx, endpoint: 'stream', mode: 'http429', count: 1 });
      const m4 = [{ role: 'user', content: 'conv B start' }, { role: 'assistant', content: rA.choices[0].message.content }, { role: 'user', content: 'conv B next' }];
      await client.chat.completions.create({ model: 'gemini-2.5-pro', messages: m4 });
      const st = await streams();
      const failed = st.at(-2), ok = st.at(-1);
      assert.equal(failed.session, sA.session);
      assert.equal(failed.query_text, 'conv B next');
      assert.notEqual(ok.csesidx, sA.csesidx, 'moved to the other account');
      assert.notEqual(ok.session, sA.session, 'new session');
      assert.match(ok.query_text, /User: conv B start[\s\S]*Assistant: [\s\S]*User: conv B next/, 'full context resent');
    });

    test('a vanished upstream session is recreated once with the full context', async () => {
      await resetAll();
      const r1 = await client.chat.completions.create({ model: 'gemini-auto', messages: [{ role: 'user', content: 'lost session start' }] });
      const s1 = (await streams()).at(-1);
      await s.fake('POST', '/__fake/scenario', { csesidx: s1.csesidx, endpoint: 'stream', mode: 'notfound', count: 1 });
      await client.chat.completions.create({ model: 'gemini-auto', messages: [
        { role: 'user', content: 'lost session start' }, { role: 'assistant', content: r1.choices[0].message.content },
        { role: 'user', content: 'after loss' }] });
      const st = await streams();
      assert.equal(st.at(-2).status, 404);
      assert.equal(st.at(-1).csesidx, s1.csesidx, 'same account');
      assert.notEqual(st.at(-1).session, s1.session);
      assert.match(st.at(-1).query_text, /User: lost session start[\s\S]*User: after loss/);
    });

    test('conversation mappings survive a restart', async () => {
      await resetAll();
      const r1 = await client.chat.completions.create({ model: 'gemini-auto', messages: [{ role: 'user', content: 'persist me' }] });
      const s1 = (await streams()).at(-1);
      await s.restart(); // a clean SIGTERM must flush the store queue
      client = new OpenAI({ apiKey: s.apiKey, baseURL: s.url + '/v1', maxRetries: 0 });
      await client.chat.completions.create({ model: 'gemini-auto', messages: [
        { role: 'user', content: 'persist me' }, { role: 'assistant', content: r1.choices[0].message.content },
        { role: 'user', content: 'after restart' }] });
      const s2 = (await streams()).at(-1);
      assert.equal(s2.session, s1.session);
      assert.equal(s2.query_text, 'after restart');
    });

    test('import: three formats, bad lines with reasons, idempotent', async () => {
      const text = [
        '# name|secure_c_ses|host_c_oses|csesidx|config_id',
        'imp-one|CSE.import-0001||3001|cfg-i1',
        'imp-two|CSE.import-0002|COS.h2|3002|cfg-i2',
        'imp-bad|CSE.import-0003||30x3|cfg-i3',
      ].join('\n');
      const r = await s.admin('POST', '/accounts/import', text);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.created, 2);
      assert.equal(r.json.rejected, 1);
      const bad = r.json.entries.find((e) => e.result === 'rejected');
      assert.equal(bad.line, 4);
      assert.match(bad.reason, /csesidx/);
      const again = await s.admin('POST', '/accounts/import', text);
      assert.equal(again.json.created, 0);
      assert.equal(again.json.updated, 2);
      const env = 'NAME=imp-env\nSECURE_C_SES=CSE.import-0004\nCSESIDX=3004\nCONFIG_ID=cfg-i4\n';
      const r2 = await s.admin('POST', '/accounts/import', env);
      assert.equal(r2.json.created, 1);
      const js = JSON.stringify([{ name: 'imp-json', secure_c_ses: 'CSE.import-0005', csesidx: '3005', config_id: 'cfg-i5' }, { name: 'nope' }]);
      const r3 = await s.admin('POST', '/accounts/import', js);
      assert.equal(r3.json.created, 1);
      assert.equal(r3.json.rejected, 1);
      const list = (await s.admin('GET', '/accounts')).json.accounts;
      for (const n of ['imp-one', 'imp-two', 'imp-env', 'imp-json']) assert.ok(list.some((a) => a.name === n), n);
      assert.ok(!JSON.stringify(list).includes('import-000'), 'secrets masked in list');
      for (const a of list) if (a.name.startsWith('imp-')) await s.admin('DELETE', `/accounts/${a.id}`);
    });

    test('stats and logs reflect the traffic', async () => {
      const logs = await s.admin('GET', '/logs?limit=5');
      assert.equal(logs.status, 200);
      assert.ok(logs.json.logs.length > 0);
      assert.ok(logs.json.logs[0].request_id.startsWith('req_'));
      const st = await s.admin('GET', '/stats');
      assert.equal(st.status, 200);
      assert.ok(st.json.totals.requests > 0);
      assert.ok(st.json.by_model.some((m) => m.model === 'gemini-2.5-pro'));
      assert.equal(st.json.per_minute.length, 60);
    });

    test('delete removes the account from the pool', async () => {
      const r = await s.admin('POST', '/accounts', { name: 'temp', secure_c_ses: 'CSE.temp-0001', csesidx: '4001', config_id: 'cfg-t' });
      const d = await s.admin('DELETE', `/accounts/${r.json.id}`);
      assert.equal(d.status, 200);
      assert.equal((await s.admin('GET', `/accounts/${r.json.id}`)).status, 404);
    });
  });
}

// Issue 18 (upstream fidelity): pool behaviours against the strict fake.
describe('upstream fidelity (issue 18): the pool', () => {
  let s, client, idA, idB;
  const A = { csesidx: '2101', secure_c_ses: 'CSE.fid-alpha-2101', host_c_oses: 'COS.fid-alpha-host', config_id: 'cfg-fa' };
  const B = { csesidx: '2102', secure_c_ses: 'CSE.fid-bravo-2102', config_id: 'cfg-fb' };
  before(async () => {
    s = await startStack({ envAccount: false, env: { COOLDOWN_429: '30', COOLDOWN_ERROR: '30', POOL_STRATEGY: 'failover', MAX_RETRIES: '3' } });
    client = new OpenAI({ apiKey: s.apiKey, baseURL: s.url + '/v1', maxRetries: 0 });
    await s.fake('POST', '/__fake/accounts', [A, B]);
    idA = (await s.admin('POST', '/accounts', { name: 'fid-a', ...A })).json.id;
    idB = (await s.admin('POST', '/accounts', { name: 'fid-b', ...B })).json.id;
  });
  after(async () => { await s?.stop(); });
  const acct = async (id) => (await s.admin('GET', `/accounts/${id}`)).json;
  const rec = () => s.fake('GET', '/__fake/record');
  const clean = async () => {
    await s.fake('POST', '/__fake/config', { retired_models: [] });
    await s.fake('DELETE', '/__fake/scenario');
    for (const id of [idA, idB]) { await s.admin('POST', `/accounts/${id}/enable`); await s.admin('POST', `/accounts/${id}/reset`); }
  };

  test('a JWT that expired on the upstream clock: one 401, a fresh getoxsrf, the request succeeds', async () => {
    await clean();
    await s.admin('POST', `/accounts/${idB}/disable`);
    try {
      assert.match((await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'warm' }] })).choices[0].message.content, /warm$/);
      await s.fake('POST', '/__fake/clock', { advance_ms: 301000 });   // the cached JWT is now past exp
      const before = await rec();
      const r = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'after jump' }] });
      assert.match(r.choices[0].message.content, /after jump$/);
      const after = await rec();
      assert.ok(after.getoxsrf.length > before.getoxsrf.length, 'a fresh getoxsrf');
      assert.equal((await acct(idA)).status, 'active');
    } finally {
      await s.fake('POST', '/__fake/clock', { set_ms: Date.now() });
      await clean();
    }
  });

  test('the gateway refreshes before the signing key expires (expirationTime), no 401 on the way', async () => {
    await clean();
    await s.admin('POST', `/accounts/${idB}/disable`);
    await s.fake('POST', '/__fake/config', { key_lifetime_ms: 1500 });
    try {
      await s.fake('POST', `/__fake/accounts/${A.csesidx}/revoke_keys`);
      await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'short key 1' }] }).catch(() => null);
      await new Promise((r) => setTimeout(r, 2000));   // the 1.5 s key expires (a duration, not a race)
      const before = (await rec()).last_seq;
      const r = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'short key 2' }] });
      assert.match(r.choices[0].message.content, /short key 2$/);
      const calls = (await rec()).requests.filter((q) => q.seq > before && q.endpoint !== 'getoxsrf');
      assert.deepEqual(calls.filter((q) => q.status === 401).map((q) => q.endpoint), [], 'no call went out with an expired key');
    } finally {
      await s.fake('POST', '/__fake/config', { key_lifetime_ms: 300000 });
      await clean();
    }
  });

  test('a retired model: one upstream call, a 404 naming the model, no cooldown, the next valid request succeeds', async () => {
    await clean();
    await s.fake('POST', '/__fake/config', { retired_models: ['gemini-2.5-pro'] });
    try {
      const before = (await rec()).last_seq;
      const r = await fetch(s.url + '/v1/chat/completions', {
        method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'retired' }] }),
      });
      const j = await r.json();
      assert.equal(r.status, 404, JSON.stringify(j));
      assert.match(j.error.message, /gemini-2\.5-pro/);
      const streams = (await rec()).requests.filter((q) => q.endpoint === 'stream' && q.seq > before);
      assert.equal(streams.length, 1, `${streams.length} streamAssist calls for a retired model`);
      for (const id of [idA, idB]) assert.equal((await acct(id)).status, 'active');
      const ok = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'valid' }] });
      assert.match(ok.choices[0].message.content, /valid$/);
    } finally { await clean(); }
  });

  test('getoxsrf 302 -> refreshcookies: the rotated cookies keep the account active, also after a restart', async () => {
    await clean();
    await s.admin('POST', `/accounts/${idB}/disable`);
    try {
      await s.fake('POST', '/__fake/scenario', { csesidx: A.csesidx, endpoint: 'getoxsrf', mode: 'redirect', rotate: true });
      await s.fake('POST', `/__fake/accounts/${A.csesidx}/revoke_keys`);
      const r = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'rotate' }] });
      assert.match(r.choices[0].message.content, /rotate$/);
      assert.equal((await acct(idA)).status, 'active');
      // the old cookies no longer sign in at the fake: only the stored new ones can
      await s.restart();
      client = new OpenAI({ apiKey: s.apiKey, baseURL: s.url + '/v1', maxRetries: 0 });
      await s.fake('POST', `/__fake/accounts/${A.csesidx}/revoke_keys`);
      const r2 = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'after restart' }] });
      assert.match(r2.choices[0].message.content, /after restart$/);
    } finally {
      await s.fake('POST', '/__fake/accounts', A);   // the original cookies again, at the fake and the gateway
      await s.admin('PUT', `/accounts/${idA}`, { secure_c_ses: A.secure_c_ses, host_c_oses: A.host_c_oses });
      await clean();
    }
  });

  test('a 200 body with only a uToken refreshes the JWT and retries once', async () => {
    await clean();
    await s.admin('POST', `/accounts/${idB}/disable`);
    try {
      await s.fake('POST', '/__fake/scenario', { csesidx: A.csesidx, endpoint: 'stream', mode: 'utoken_only', count: 1 });
      const before = await rec();
      const r = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'utoken' }] });
      assert.match(r.choices[0].message.content, /utoken$/);
      const after = await rec();
      assert.ok(after.getoxsrf.length > before.getoxsrf.length, 'a fresh JWT (getoxsrf) before the retry');
      assert.equal((await acct(idA)).status, 'active');
    } finally { await clean(); }
  });

  test('429 LLM_OVERLOADED cools the account for less than an exhausted quota does', async () => {
    await clean();
    try {
      // the first 429 of each account (no escalation): overloaded on A, then
      // (A cooling) a quota 429 on B
      await s.fake('POST', '/__fake/scenario', [{ csesidx: A.csesidx, endpoint: 'stream', mode: 'overloaded', count: 1 },
        { csesidx: B.csesidx, endpoint: 'stream', mode: 'quota', count: 1 }]);
      await fetch(s.url + '/v1/chat/completions', {
        method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'busy' }] }),
      }).then((r) => r.text());
      const statuses = (await rec()).requests.filter((q) => q.endpoint === 'stream').slice(-2).map((q) => `${q.csesidx}:${q.status}`);
      assert.deepEqual(statuses, [`${A.csesidx}:429`, `${B.csesidx}:429`]);
      const over = Date.parse((await acct(idA)).until || 0) - Date.now();
      const quota = Date.parse((await acct(idB)).until || 0) - Date.now();
      assert.ok(quota > 0 && over * 2 < quota, `overloaded cooldown ${over} ms is not clearly shorter than quota ${quota} ms`);
    } finally { await clean(); }
  });
});
