// The request log's dialect and tool-call count survive in the store
// (sql/*/..._reqlog_dialect.sql): requests in several dialects, some with
// emulated tool calls, then gemgated is restarted on the same data dir (or
// the same PostgreSQL database) and GET /api/admin/logs, which reads the
// store, still shows each row's `dialect` and `tool_calls`; ?dialect=
// filters on them and refuses an unknown value with 400 naming `dialect`.
// Real gemgated + fake upstream; runs on SQLite, and on PostgreSQL when
// GEMGATE_TEST_PG_URL is set (tests/node/run.sh).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor } from '../lib/stack.mjs';

const pgUrl = process.env.GEMGATE_TEST_PG_URL;
const backends = [['sqlite', null], ['postgresql', pgUrl]];

const call = (name, args) => `toolcall=${name},args=${encodeURIComponent(JSON.stringify(args))}`;
const dir = (...parts) => `[[fake:${parts.join(',')}]]`;
const WEATHER_OAI = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};
const TIME_OAI = {
  type: 'function',
  function: { name: 'get_time', description: 'Time in a zone.', parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] } },
};
const WEATHER_ANT = { name: 'get_weather', description: 'Weather in a city.',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

async function post(s, path, body, headers) {
  const r = await fetch(s.url + path, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text, id: r.headers.get('x-request-id') };
}
const openai = (s, body) => post(s, '/v1/chat/completions', body, { authorization: `Bearer ${s.apiKey}` });
const anthropic = (s, body) => post(s, '/v1/messages', body, { 'x-api-key': s.apiKey, 'anthropic-version': '2023-06-01' });
const gemini = (s, body) => post(s, '/v1beta/models/gemini-2.5-flash:generateContent', body, { 'x-goog-api-key': s.apiKey });

for (const [backend, dbUrl] of backends) {
  describe(`request log in the store (${backend})`, { skip: backend === 'postgresql' && !dbUrl && 'GEMGATE_TEST_PG_URL not set' }, () => {
    let s;
    const want = {};            // request id -> { dialect, tool_calls }

    // GET /logs rows of our requests (a shared PostgreSQL may hold others)
    async function mine(query = '') {
      const r = await s.admin('GET', '/logs?limit=1000' + query);
      assert.equal(r.status, 200, r.text);
      return { all: r.json.logs, ours: new Map(r.json.logs.filter((l) => want[l.request_id]).map((l) => [l.request_id, l])) };
    }

    before(async () => {
      s = await startStack({ env: dbUrl ? { DATABASE_URL: dbUrl } : {} });
      const plainA = await anthropic(s, { model: 'gemini-2.5-flash', max_tokens: 100, messages: [{ role: 'user', content: 'hello from anthropic' }] });
      assert.equal(plainA.status, 200, plainA.text);
      assert.equal(plainA.json.type, 'message');
      want[plainA.id] = { dialect: 'anthropic', tool_calls: 0 };

      const toolA = await anthropic(s, {
        model: 'gemini-2.5-flash', max_tokens: 1024, tools: [WEATHER_ANT],
        messages: [{ role: 'user', content: `Weather in Rome? ${dir(call('get_weather', { city: 'Rome' }))}` }],
      });
      assert.equal(toolA.status, 200, toolA.text);
      assert.equal(toolA.json.stop_reason, 'tool_use', toolA.text);
      assert.equal(toolA.json.content.filter((b) => b.type === 'tool_use').length, 1);
      want[toolA.id] = { dialect: 'anthropic', tool_calls: 1 };

      const toolO = await openai(s, {
        model: 'gemini-2.5-flash', tools: [WEATHER_OAI, TIME_OAI],
        messages: [{ role: 'user', content: `Both ${dir(call('get_weather', { city: 'Oslo' }), call('get_time', { tz: 'Europe/Oslo' }))}` }],
      });
      assert.equal(toolO.status, 200, toolO.text);
      assert.equal(toolO.json.choices[0].message.tool_calls.length, 2, toolO.text);
      want[toolO.id] = { dialect: 'openai', tool_calls: 2 };

      const plainO = await openai(s, { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hello from openai' }] });
      assert.equal(plainO.status, 200, plainO.text);
      want[plainO.id] = { dialect: 'openai', tool_calls: 0 };

      const plainG = await gemini(s, { contents: [{ role: 'user', parts: [{ text: 'hello from gemini' }] }] });
      assert.equal(plainG.status, 200, plainG.text);
      want[plainG.id] = { dialect: 'gemini', tool_calls: 0 };

      for (const id of Object.keys(want)) assert.match(id, /\S/, 'every answer has an x-request-id');
    });
    after(async () => { await s?.stop(); });

    test('before a restart: stored rows carry dialect and tool_calls', async () => {
      // a row is logged when its request completes, which may be just after
      // the client has the answer: poll until all are stored
      const { ours } = await waitFor(async () => {
        const m = await mine();
        return m.ours.size === Object.keys(want).length && m;
      }, 5000, `all ${Object.keys(want).length} requests in the stored log`);
      for (const [id, w] of Object.entries(want)) {
        const row = ours.get(id);
        assert.equal(row.dialect, w.dialect, `${id} dialect`);
        assert.equal(row.tool_calls, w.tool_calls, `${id} tool_calls`);
      }
    });

    test('after a restart on the same data: dialect, tool_calls and ?dialect= from the store', async () => {
      await s.restart({ env: dbUrl ? { DATABASE_URL: dbUrl } : {} });
      // the in-memory ring was refilled from the store at start-up: the
      // overview counts our requests and the live feed replays them
      const ov = await s.admin('GET', '/overview');
      assert.equal(ov.status, 200, ov.text);
      assert.ok(ov.json.requests_by_dialect.anthropic >= 2, JSON.stringify(ov.json.requests_by_dialect));
      assert.ok(ov.json.requests_by_dialect.gemini >= 1, JSON.stringify(ov.json.requests_by_dialect));
      const ctl = new AbortController();
      const ls = await fetch(`${s.url}/api/admin/logs/stream`, { headers: { authorization: `Bearer ${s.adminKey}` }, signal: ctl.signal });
      assert.equal(ls.status, 200);
      const rd = ls.body.getReader();
      let seen = '';
      const replayed = () => Object.keys(want).every((id) => seen.includes(id));
      const end = Date.now() + 5000;
      while (!replayed() && Date.now() < end) {
        const { value, done } = await Promise.race([rd.read(), new Promise((res) => setTimeout(() => res({ timeout: true }), end - Date.now()))]);
        if (done) break;
        if (value) seen += Buffer.from(value).toString('utf8');
      }
      ctl.abort();
      assert.ok(replayed(), `the live feed replays the stored requests after a restart: ${seen.slice(0, 400)}`);
      for (const frame of seen.split('\n\n').filter((f) => f.includes('event: request'))) {
        const row = JSON.parse(frame.split('\n').find((l) => l.startsWith('data: ')).slice(6));
        if (want[row.request_id]) {
          assert.equal(row.dialect, want[row.request_id].dialect, 'replayed dialect');
          assert.equal(row.tool_calls, want[row.request_id].tool_calls, 'replayed tool_calls');
        }
      }

      const { ours } = await mine();
      assert.equal(ours.size, Object.keys(want).length);
      for (const [id, w] of Object.entries(want)) {
        const row = ours.get(id);
        assert.equal(row.dialect, w.dialect, `${id} dialect after restart`);
        assert.equal(row.tool_calls, w.tool_calls, `${id} tool_calls after restart`);
        assert.equal(row.status, 200);
        assert.equal(typeof row.latency_ms, 'number');
      }

      for (const d of ['anthropic', 'openai', 'gemini']) {
        const { all, ours: got } = await mine('&dialect=' + d);
        assert.ok(all.every((l) => l.dialect === d), `?dialect=${d}: only ${d} rows`);
        const expect = Object.entries(want).filter(([, w]) => w.dialect === d).map(([id]) => id).sort();
        assert.deepEqual([...got.keys()].sort(), expect, `?dialect=${d}: exactly our ${d} requests`);
      }
      const images = await mine('&dialect=images');
      assert.equal(images.ours.size, 0);
      // combined with the other filters
      const both = await mine('&dialect=anthropic&status=2xx&model=gemini-2.5-flash');
      assert.equal(both.ours.size, 2);
    });

    test('?dialect= with an unknown value: 400 validation_failed naming dialect', async () => {
      for (const v of ['claude', 'OpenAI', 'anthropic,openai', ' gemini']) {
        const r = await s.admin('GET', '/logs?dialect=' + encodeURIComponent(v));
        assert.equal(r.status, 400, `dialect=${v}: ${r.text}`);
        assert.equal(r.json?.error?.code, 'validation_failed', r.text);
        assert.deepEqual(Object.keys(r.json.error.fields), ['dialect'], r.text);
      }
      const empty = await s.admin('GET', '/logs?dialect=');
      assert.equal(empty.status, 200, 'empty = absent');
    });
  });
}
