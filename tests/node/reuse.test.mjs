// Reuse safety: the upstream loop reuses libcurl easy handles (createSession,
// streamAssist) and each request builds its headers afresh.  One loop, one
// HTTP worker, two accounts taken in turn: consecutive requests run on the
// same reused handles, and each one must carry only its own account's JWT,
// its own session, and its own attachments (none when it has none).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startStack } from '../lib/stack.mjs';

const A = { csesidx: '3101', secure_c_ses: 'CSE.reuse-alpha-0001', config_id: 'cfg-ra' };
const B = { csesidx: '3102', secure_c_ses: 'CSE.reuse-bravo-0002', config_id: 'cfg-rb' };
const PNG = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'binary'), randomBytes(512)]);
const dataUrl = `data:image/png;base64,${PNG.toString('base64')}`;

let s;
before(async () => {
  s = await startStack({
    envAccount: false,
    env: { UPSTREAM_LOOPS: '1', THREADS: '1', POOL_STRATEGY: 'round_robin', PING_INTERVAL: '0', MAX_RETRIES: '0' },
  });
  await s.fake('POST', '/__fake/accounts', [A, B]);
  for (const [name, a] of [['ra', A], ['rb', B]]) {
    const r = await s.admin('POST', '/accounts', { name, ...a });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => { await s?.stop(); });

async function chat(text, { stream = false, image = false } = {}) {
  const content = image ? [{ type: 'text', text }, { type: 'image_url', image_url: { url: dataUrl } }] : text;
  const r = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', stream, messages: [{ role: 'user', content }] }),
  });
  const body = await r.text();
  assert.equal(r.status, 200, body);
  assert.ok(body.includes(`echo: ${text}`) || body.includes('echo:'), body.slice(0, 300));
  return body;
}

test('consecutive calls on reused handles carry no state of the previous call', async () => {
  const plan = [
    { image: true, stream: false }, { image: false, stream: false },
    { image: true, stream: true }, { image: false, stream: true },
    { image: false, stream: false }, { image: true, stream: false },
    { image: false, stream: true }, { image: false, stream: false },
  ];
  const marks = [];
  for (const [i, p] of plan.entries()) {
    const mark = `reuse-${i}-${randomBytes(4).toString('hex')}`;
    marks.push(mark);
    await chat(mark, p);
  }
  const rec = await s.fake('GET', '/__fake/record');
  const owner = new Map(rec.sessions.map((x) => [x.name, x.csesidx]));
  const used = [];
  for (const [i, p] of plan.entries()) {
    const st = rec.requests.filter((q) => q.endpoint === 'stream' && String(q.query_text).includes(marks[i]));
    assert.equal(st.length, 1, `one streamAssist for request ${i}`);
    const q = st[0];
    assert.equal(q.status, 200, `request ${i}`);
    // its own account's JWT, on a session that account created for it
    assert.ok([A.csesidx, B.csesidx].includes(q.csesidx), `request ${i}: csesidx ${q.csesidx}`);
    const full = [...owner.keys()].find((n) => n.endsWith('/' + String(q.session).split('/').at(-1)));
    assert.ok(full, `request ${i}: session ${q.session} known to the fake`);
    assert.equal(owner.get(full), q.csesidx, `request ${i}: session owner matches the JWT`);
    // its own attachments only
    assert.equal((q.file_ids || []).length, p.image ? 1 : 0, `request ${i}: file_ids ${JSON.stringify(q.file_ids)}`);
    used.push({ cses: q.csesidx, session: q.session });
  }
  // round robin: consecutive requests alternate accounts, every session is new
  for (let i = 1; i < used.length; i++)
    assert.notEqual(used[i].cses, used[i - 1].cses, `requests ${i - 1} and ${i} on different accounts`);
  assert.equal(new Set(used.map((u) => u.session)).size, used.length, 'a new session per request');
  // every createSession was authenticated as the account whose session it made
  const cs = rec.requests.filter((q) => q.endpoint !== 'stream' && /CreateSession/i.test(String(q.path)));
  assert.ok(cs.length >= plan.length, `createSession records: ${cs.length}`);
  for (const q of cs) {
    const full = [...owner.keys()].find((n) => n.endsWith('/' + String(q.session).split('/').at(-1)));
    assert.equal(owner.get(full), q.csesidx, `createSession ${q.session}: owner matches the JWT`);
  }
});
