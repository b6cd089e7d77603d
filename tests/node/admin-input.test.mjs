// Admin API query values (issue 11, item 7): GET /api/admin/logs and
// /api/admin/stats check every query value (limit, account_id, status,
// since; window) instead of reading it with atoi: a bad value is a 400
// validation_failed in the admin envelope that names the parameter, good
// values filter as documented (docs/ADMIN_API.md).  Real gemgated + fake.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';

async function chat(s, model, content) {
  const r = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  });
  await r.text();
  return r.status;
}

function assertBad(r, param, what) {
  assert.equal(r.status, 400, `${what}: ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/, what);
  assert.equal(r.json?.error?.code, 'validation_failed', `${what}: ${r.text}`);
  assert.deepEqual(Object.keys(r.json.error.fields), [param], `${what}: only ${param} is named`);
  assert.equal(typeof r.json.error.fields[param], 'string', what);
  assert.ok(r.json.error.message.startsWith(`${param}: `), `${what}: ${r.json.error.message}`);
}

describe('admin query values', () => {
  let s;
  before(async () => {
    s = await startStack();
    assert.equal(await chat(s, 'gemini-2.5-flash', 'first'), 200);
    assert.equal(await chat(s, 'gemini-2.5-flash', 'second'), 200);
    assert.equal(await chat(s, 'no-such-model-xyz', 'third'), 404);
  });
  after(async () => { await s?.stop(); });

  test('bad limit: 400 naming limit', async () => {
    for (const v of ['abc', '0', '-5', '1001', '10x', '1.5', ' 7', '99999999999999999999', '0x10'])
      assertBad(await s.admin('GET', '/logs?limit=' + encodeURIComponent(v)), 'limit', `limit=${v}`);
  });

  test('bad account_id: 400 naming account_id', async () => {
    for (const v of ['abc', '-1', '2.0', '1e3', '9223372036854775808'])
      assertBad(await s.admin('GET', '/logs?account_id=' + encodeURIComponent(v)), 'account_id', `account_id=${v}`);
  });

  test('bad status: 400 naming status', async () => {
    for (const v of ['abc', '99', '600', '6xx', '0xx', '2x', '2xxx', '20O', '-200'])
      assertBad(await s.admin('GET', '/logs?status=' + encodeURIComponent(v)), 'status', `status=${v}`);
  });

  test('bad since and window: 400 naming them', async () => {
    assertBad(await s.admin('GET', '/logs?since=yesterday'), 'since', 'since=yesterday');
    assertBad(await s.admin('GET', '/logs?since=2026-13-45'), 'since', 'since=2026-13-45');
    assertBad(await s.admin('GET', '/stats?window=7d'), 'window', 'window=7d');
    // the first bad value is named when several are bad
    assertBad(await s.admin('GET', '/logs?limit=x&status=y'), 'limit', 'limit and status bad');
  });

  test('good values filter as documented', async () => {
    const all = await s.admin('GET', '/logs');
    assert.equal(all.status, 200, all.text);
    const chats = all.json.logs.filter((l) => l.model === 'gemini-2.5-flash');
    assert.equal(chats.length, 2, all.text);
    const one = await s.admin('GET', '/logs?limit=1');
    assert.equal(one.status, 200);
    assert.equal(one.json.logs.length, 1);
    assert.equal(one.json.logs[0].request_id, all.json.logs[0].request_id, 'newest first');
    assert.equal((await s.admin('GET', '/logs?limit=1000')).status, 200);
    assert.equal((await s.admin('GET', '/logs?limit=')).json.logs.length, all.json.logs.length, 'empty = absent');

    const ok = await s.admin('GET', '/logs?status=2xx');
    assert.equal(ok.status, 200);
    assert.ok(ok.json.logs.length >= 2);
    assert.ok(ok.json.logs.every((l) => l.status >= 200 && l.status <= 299), ok.text);
    const exact = await s.admin('GET', '/logs?status=200');
    assert.ok(exact.json.logs.length >= 2 && exact.json.logs.every((l) => l.status === 200), exact.text);
    const client = await s.admin('GET', '/logs?status=4xx');
    assert.equal(client.status, 200);
    assert.ok(client.json.logs.every((l) => l.status >= 400 && l.status <= 499), client.text);

    const acc = chats[0].account_id;
    const byAcc = await s.admin('GET', `/logs?account_id=${acc}`);
    assert.equal(byAcc.status, 200);
    assert.ok(byAcc.json.logs.length >= 1);
    if (acc !== 0) assert.ok(byAcc.json.logs.every((l) => l.account_id === acc), byAcc.text);
    assert.equal((await s.admin('GET', '/logs?account_id=987654321')).json.logs.length, 0, 'unknown account: no rows');

    const future = await s.admin('GET', '/logs?since=' + encodeURIComponent(new Date(Date.now() + 3600000).toISOString()));
    assert.equal(future.status, 200);
    assert.equal(future.json.logs.length, 0);
    const past = await s.admin('GET', '/logs?since=' + encodeURIComponent(new Date(Date.now() - 3600000).toISOString()));
    assert.ok(past.json.logs.length >= 2);

    for (const w of ['1h', '24h']) {
      const st = await s.admin('GET', '/stats?window=' + w);
      assert.equal(st.status, 200, st.text);
      assert.equal(st.json.window, w);
    }
    assert.equal((await s.admin('GET', '/stats')).json.window, '1h');
  });
});
