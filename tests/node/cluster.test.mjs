// Two gemgated instances on one real PostgreSQL behave as one gateway:
// shared account state (LISTEN/NOTIFY), cross-instance concurrency limits,
// shared conversations, and serving through a database outage.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { startStack, timeScale } from '../lib/stack.mjs';

const pgUrl = process.env.GEMGATE_TEST_PG_URL;
// tests/node/run.sh always provides PostgreSQL: there a missing URL fails
if (!pgUrl && process.env.GEMGATE_REQUIRE_PG) throw new Error('GEMGATE_REQUIRE_PG is set but GEMGATE_TEST_PG_URL is not');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, ms, what) {
  const t0 = Date.now();
  ms *= timeScale;
  for (;;) {
    const v = await fn();
    if (v) return Date.now() - t0;
    if (Date.now() - t0 > ms) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

async function chat(url, key, content, extra = {}) {
  const r = await fetch(url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', messages: typeof content === 'string' ? [{ role: 'user', content }] : content, ...extra }),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* stream */ }
  return { status: r.status, json, text, headers: r.headers };
}

describe('two instances on one PostgreSQL', { skip: !pgUrl && 'GEMGATE_TEST_PG_URL not set' }, () => {
  let s, a, b, idX, idY;
  const X = { csesidx: '5001', secure_c_ses: 'CSE.xray-cookie-5001', config_id: 'cfg-x' };
  const Y = { csesidx: '5002', secure_c_ses: 'CSE.yank-cookie-5002', config_id: 'cfg-y' };
  const A = () => ({ url: s.url, admin: s.admin });

  before(async () => {
    const env = { DATABASE_URL: pgUrl, ACCOUNT_MAX_CONCURRENCY: '1', COOLDOWN_429: '30', MAX_RETRIES: '3' };
    s = await startStack({ envAccount: false, env });
    await s.fake('POST', '/__fake/accounts', [X, Y]);
    const list = await s.admin('GET', '/accounts');
    for (const acc of list.json.accounts) await s.admin('DELETE', `/accounts/${acc.id}`);
    idX = (await s.admin('POST', '/accounts', { name: 'xray', ...X })).json.id;
    idY = (await s.admin('POST', '/accounts', { name: 'yank', ...Y })).json.id;
    b = await s.startPeer();
    a = A();
    await waitFor(async () => (await b.admin('GET', '/accounts')).json.accounts.length === 2, 3000, 'B to load both accounts');
  });
  after(async () => { await s?.stop(); });

  const streams = async () => (await s.fake('GET', '/__fake/record')).requests.filter((q) => q.endpoint === 'stream');
  const status = async (inst, id) => (await inst.admin('GET', `/accounts/${id}`)).json.status;

  test('a disable on A is honoured by B within a second', async () => {
    await a.admin('POST', `/accounts/${idX}/disable`);
    const took = await waitFor(async () => (await status(b, idX)) === 'disabled', 1000, 'B to see the disable');
    const r = await chat(b.url, s.apiKey, 'after disable');
    assert.equal(r.status, 200, r.text);
    assert.equal((await streams()).at(-1).csesidx, Y.csesidx, 'B must avoid the disabled account');
    await a.admin('POST', `/accounts/${idX}/enable`);
    await waitFor(async () => (await status(b, idX)) === 'active', 1000, 'B to see the enable');
    console.log(`# disable propagated in ${took} ms`);
  });

  test('a cooldown set by A is honoured by B', async () => {
    await s.fake('POST', '/__fake/scenario', { csesidx: X.csesidx, endpoint: 'stream', mode: 'http429', count: 1 });
    const r = await chat(a.url, s.apiKey, 'trigger 429');
    assert.equal(r.status, 200, r.text);
    assert.equal(await status(a, idX), 'cooldown');
    const took = await waitFor(async () => (await status(b, idX)) === 'cooldown', 1000, 'B to see the cooldown');
    const r2 = await chat(b.url, s.apiKey, 'on B during cooldown');
    assert.equal(r2.status, 200);
    assert.equal((await streams()).at(-1).csesidx, Y.csesidx);
    await a.admin('POST', `/accounts/${idX}/reset`);
    await waitFor(async () => (await status(b, idX)) === 'active', 1000, 'B to see the reset');
    console.log(`# cooldown propagated in ${took} ms`);
  });

  test('with a concurrency limit of 1 an account never serves two streams at once across A and B', async () => {
    await s.fake('POST', '/__fake/reset');
    const slow = '[[fake:delay_ms=250,fragments=6,nothoughts]]';
    const t0 = Date.now();
    const results = await Promise.all([
      chat(a.url, s.apiKey, 'c1 ' + slow), chat(b.url, s.apiKey, 'c2 ' + slow),
      chat(a.url, s.apiKey, 'c3 ' + slow), chat(b.url, s.apiKey, 'c4 ' + slow),
    ]);
    const ok = results.filter((r) => r.status === 200);
    const busy = results.filter((r) => r.status !== 200);
    assert.equal(ok.length, 2, `two streams fit (two accounts x 1): ${results.map((r) => r.status)}`);
    for (const r of busy) {
      assert.equal(r.status, 503);
      assert.ok(r.headers.get('retry-after'));
    }
    const st = (await streams()).filter((q) => q.at_ms >= t0 - 1000);
    const per = {};
    for (const q of st) (per[q.csesidx] ||= []).push(q.at_ms);
    for (const [cs, starts] of Object.entries(per)) {
      starts.sort((x, y) => x - y);
      for (let i = 1; i < starts.length; i++)
        assert.ok(starts[i] - starts[i - 1] >= 1200, `account ${cs} served overlapping streams`);
    }
    // slots are freed: the next request on either instance succeeds
    assert.equal((await chat(b.url, s.apiKey, 'after')).status, 200);
  });

  test('a conversation started on A continues on B with only the new message', async () => {
    const m1 = [{ role: 'user', content: 'cluster conversation' }];
    const r1 = await chat(a.url, s.apiKey, m1);
    assert.equal(r1.status, 200);
    const s1 = (await streams()).at(-1);
    // A's async store writer: poll PostgreSQL until the mapping is there
    const sid = s1.session.split('/').pop();
    await waitFor(() => execSync(`psql "${pgUrl}" -tAc "select count(*) from conv_sessions where session_name like '%${sid}'"`).toString().trim() !== '0',
      10000, 'the conversation mapping in PostgreSQL');
    const m2 = [...m1, { role: 'assistant', content: r1.json.choices[0].message.content }, { role: 'user', content: 'continued on B' }];
    const r2 = await chat(b.url, s.apiKey, m2);
    assert.equal(r2.status, 200, r2.text);
    const s2 = (await streams()).at(-1);
    assert.equal(s2.session, s1.session);
    assert.equal(s2.csesidx, s1.csesidx);
    assert.equal(s2.query_text, 'continued on B');
  });

  test('with PostgreSQL stopped both keep serving; queued writes land after it returns', { skip: !process.env.GEMGATE_TEST_PG_STOP }, async () => {
    execSync(process.env.GEMGATE_TEST_PG_STOP, { stdio: 'ignore' });
    try {
      const ra = await chat(a.url, s.apiKey, 'during outage A');
      const rb = await chat(b.url, s.apiKey, 'during outage B');
      assert.equal(ra.status, 200, ra.text);
      assert.equal(rb.status, 200, rb.text);
      const ready = await fetch(a.url + '/readyz');
      assert.equal(ready.status, 503);
      const rj = await ready.json();
      assert.equal(rj.store, false);
      const idsDuring = [ra.headers.get('x-request-id'), rb.headers.get('x-request-id')];
      execSync(process.env.GEMGATE_TEST_PG_START, { stdio: 'ignore' });
      await waitFor(async () => (await fetch(a.url + '/readyz')).status === 200, 15000, 'A ready again');
      await waitFor(async () => {
        const l = await b.admin('GET', '/logs?limit=50');
        if (l.status !== 200) return false;
        const got = new Set(l.json.logs.map((x) => x.request_id));
        return idsDuring.every((id) => got.has(id));
      }, 15000, 'request logs written during the outage to land');
    } finally {
      try { execSync(process.env.GEMGATE_TEST_PG_START, { stdio: 'ignore' }); } catch { /* already up */ }
    }
  });
});
