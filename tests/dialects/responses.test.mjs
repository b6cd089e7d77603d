// Real-client tests of the OpenAI Responses dialect: the official `openai`
// package (responses.create / stream / retrieve / delete) and raw fetch where
// the SDK hides the wire, against the real gemgated and the real fake
// upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack } from '../lib/stack.mjs';

const KEY_A = 'sk-resp-a-' + process.pid;
const KEY_B = 'sk-resp-b-' + process.pid;
const POEM = '春眠不觉晓，处处闻啼鸟。';
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let s, client, clientB;

before(async () => {
  s = await startStack({
    env: {
      API_KEY: `${KEY_A},${KEY_B}`, PING_INTERVAL: '1', COOLDOWN_ERROR: '1', COOLDOWN_429: '1',
      MAX_BODY: String(1 << 20), MAX_RETRIES: '0',
    },
  });
  client = new OpenAI({ apiKey: KEY_A, baseURL: s.url + '/v1', maxRetries: 0 });
  clientB = new OpenAI({ apiKey: KEY_B, baseURL: s.url + '/v1', maxRetries: 0 });
});
after(async () => { await s?.stop(); });

// opts: node:test options ({ todo } for the tool-call tests)
function rtest(name, fn, opts = {}) {
  test(name, opts, async (t) => {
    await s.admin('POST', '/accounts/0/reset');
    await s.fake('DELETE', '/__fake/scenario');
    await fn(t);
  });
}

function post(path, body, key = KEY_A, headers = {}) {
  return fetch(s.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

// the fake answers with `text` (directive in the query, never echoed)
const fakeAnswer = (text) => `[[fake:answer=${encodeURIComponent(text)}]]`;
const TOOL_REPLY = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const WEATHER_TOOL = {
  type: 'function', name: 'get_weather', description: 'Current weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

async function lastStream() {
  const rec = await s.fake('GET', '/__fake/record');
  return rec.requests.filter((q) => q.endpoint === 'stream').at(-1);
}

async function collect(stream) {
  const events = [];
  for await (const ev of stream) events.push(ev);
  return events;
}

function checkSequence(events) {
  events.forEach((ev, i) => assert.equal(ev.sequence_number, i, `event ${i} (${ev.type})`));
  assert.equal(events[0].type, 'response.created');
  assert.equal(events[1].type, 'response.in_progress');
}

rtest('string input, not streamed: the response object', async () => {
  const r = await client.responses.create({ model: 'gemini-2.5-flash', input: 'hello there' });
  assert.equal(r.object, 'response');
  assert.match(r.id, /^resp_[A-Za-z0-9_-]+$/);
  assert.equal(r.status, 'completed');
  assert.equal(r.model, 'gemini-2.5-flash');
  assert.equal(r.error, null);
  assert.equal(r.output.length, 1, 'no reasoning item unless a summary is asked for');
  assert.equal(r.output[0].type, 'message');
  assert.equal(r.output[0].role, 'assistant');
  assert.equal(r.output[0].content[0].type, 'output_text');
  assert.equal(r.output_text, `${POEM} echo: hello there`);
  assert.ok(!r.output_text.includes('Assessing'), 'thinking leaked into the answer');
  assert.ok(r.usage.input_tokens > 0 && r.usage.output_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
  assert.equal(typeof r.usage.output_tokens_details.reasoning_tokens, 'number');
  assert.ok(Math.abs(r.created_at - Date.now() / 1000) < 120);
});

rtest('items, instructions and developer messages are flattened for the upstream', async () => {
  const r = await client.responses.create({
    model: 'gemini-2.5-pro', instructions: 'Answer in one line.',
    input: [
      { role: 'developer', content: 'Never use emoji.' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'first question' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'first answer' }] },
      { role: 'user', content: 'second question' },
    ],
    metadata: { ticket: 'T-1' }, temperature: 0.4, top_p: 0.8, user: 'u-1',
  });
  assert.equal(r.instructions, 'Answer in one line.');
  assert.deepEqual(r.metadata, { ticket: 'T-1' });
  assert.equal(r.temperature, 0.4);
  assert.equal(r.user, 'u-1');
  const q = await lastStream();
  assert.equal(q.model_id, 'gemini-2.5-pro');
  assert.match(q.query_text, /Answer in one line\./);
  assert.match(q.query_text, /Never use emoji\./);
  assert.match(q.query_text, /second question/);
});

rtest('streaming: event order, sequence numbers, deltas add up to the answer', async () => {
  const stream = await client.responses.create({ model: 'gemini-2.5-flash', input: 'stream me', stream: true });
  const events = await collect(stream);
  checkSequence(events);
  const types = events.map((e) => e.type);
  const deltas = events.filter((e) => e.type === 'response.output_text.delta');
  assert.ok(deltas.length >= 3, `only ${deltas.length} deltas: not incremental`);
  const head = ['response.created', 'response.in_progress', 'response.output_item.added',
    'response.content_part.added'];
  assert.deepEqual(types.slice(0, 4), head);
  assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done',
    'response.output_item.done', 'response.completed']);
  assert.ok(!types.some((t) => t.startsWith('response.reasoning')), 'reasoning not asked for');
  const text = deltas.map((d) => d.delta).join('');
  assert.equal(text, `${POEM} echo: stream me`);
  assert.equal(events.at(-4).text, text);
  const done = events.at(-1).response;
  assert.equal(done.status, 'completed');
  assert.equal(done.output[0].content[0].text, text);
  assert.ok(done.usage.output_tokens > 0);
  for (const d of deltas) {
    assert.equal(d.output_index, 0);
    assert.equal(d.content_index, 0);
    assert.equal(d.item_id, events[2].item.id);
  }
});

rtest('streaming with reasoning.summary: a reasoning item first, thinking never in the text', async () => {
  const stream = await client.responses.create({
    model: 'gemini-2.5-flash', input: 'think first', stream: true, reasoning: { effort: 'high', summary: 'auto' },
  });
  const events = await collect(stream);
  checkSequence(events);
  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(2, 5), ['response.output_item.added', 'response.reasoning_summary_part.added',
    'response.reasoning_summary_text.delta']);
  assert.equal(events[2].item.type, 'reasoning');
  const rdone = events.find((e) => e.type === 'response.reasoning_summary_text.done');
  assert.match(rdone.text, /Assessing the Request/);
  const iDone = types.indexOf('response.reasoning_summary_part.done');
  const iMsg = events.findIndex((e) => e.type === 'response.output_item.added' && e.item.type === 'message');
  assert.ok(iDone > 0 && iMsg > iDone, 'the reasoning item closes before the message opens');
  assert.equal(events[iMsg].output_index, 1);
  const final = events.at(-1).response;
  assert.equal(final.output[0].type, 'reasoning');
  assert.match(final.output[0].summary[0].text, /Assessing the Request/);
  const text = final.output[1].content[0].text;
  assert.ok(!text.includes('Assessing'));
  assert.ok(final.usage.output_tokens_details.reasoning_tokens > 0);
});

rtest('responses.stream() helper: typed events and finalResponse()', async () => {
  const stream = client.responses.stream({ model: 'gemini-2.5-flash', input: 'helper please' });
  let seen = '';
  stream.on('response.output_text.delta', (e) => { seen += e.delta; });
  const final = await stream.finalResponse();
  assert.equal(final.output_text, `${POEM} echo: helper please`);
  assert.equal(seen, final.output_text);
});

rtest('previous_response_id continues the upstream session with only the new input', async () => {
  const r1 = await client.responses.create({ model: 'gemini-2.5-flash', input: 'remember 42', store: true });
  const q1 = await lastStream();
  const r2 = await client.responses.create({
    model: 'gemini-2.5-flash', input: 'what did I say?', previous_response_id: r1.id,
  });
  assert.equal(r2.previous_response_id, r1.id);
  const q2 = await lastStream();
  assert.equal(q2.session, q1.session, 'the continuing turn must reuse the upstream session');
  assert.ok(!q2.query_text.includes('remember 42'), 'only the new input is sent');
  assert.match(q2.query_text, /what did I say\?/);
  // another API key cannot continue (or even see) it
  await assert.rejects(
    clientB.responses.create({ model: 'gemini-2.5-flash', input: 'x', previous_response_id: r1.id }),
    (e) => e.status === 400 && e.code === 'previous_response_not_found' && e.param === 'previous_response_id');
  await assert.rejects(clientB.responses.retrieve(r1.id), (e) => e.status === 404);
  await assert.rejects(
    client.responses.create({ model: 'gemini-2.5-flash', input: 'x', previous_response_id: 'resp_nope' }),
    (e) => e.status === 400 && e.code === 'previous_response_not_found');
});

rtest('GET and DELETE of a stored response; store:false is not kept', async () => {
  const r = await client.responses.create({ model: 'gemini-2.5-flash', input: 'keep me' });
  const got = await client.responses.retrieve(r.id);
  assert.equal(got.id, r.id);
  assert.equal(got.output_text, r.output_text);
  assert.equal(got.status, 'completed');
  const del = await fetch(`${s.url}/v1/responses/${r.id}`, {
    method: 'DELETE', headers: { authorization: `Bearer ${KEY_A}` },
  });
  assert.equal(del.status, 200);
  assert.deepEqual(await del.json(), { id: r.id, object: 'response', deleted: true });
  await assert.rejects(client.responses.retrieve(r.id), (e) => e.status === 404);
  const streamed = await collect(await client.responses.create({
    model: 'gemini-2.5-flash', input: 'streamed and kept', stream: true }));
  const sid = streamed.at(-1).response.id;
  assert.equal((await client.responses.retrieve(sid)).output_text, `${POEM} echo: streamed and kept`);
  const eph = await client.responses.create({ model: 'gemini-2.5-flash', input: 'forget me', store: false });
  assert.equal(eph.store, false);
  await assert.rejects(client.responses.retrieve(eph.id), (e) => e.status === 404);
});

rtest('function tools: a call, then function_call_output, then the answer (not streamed)', async () => {
  const r1 = await client.responses.create({
    model: 'gemini-2.5-flash', tools: [WEATHER_TOOL],
    input: `What is the weather in Paris? ${fakeAnswer(TOOL_REPLY)}`,
  });
  const calls = r1.output.filter((o) => o.type === 'function_call');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0].arguments), { city: 'Paris' });
  assert.ok(calls[0].call_id);
  assert.ok(!r1.output_text.includes('<tool_call'), 'the call syntax must not leak into the text');
  const r2 = await client.responses.create({
    model: 'gemini-2.5-flash', tools: [WEATHER_TOOL], previous_response_id: r1.id,
    input: [{ type: 'function_call_output', call_id: calls[0].call_id, output: '{"temp_c": 18}' }],
  });
  assert.equal(r2.output.at(-1).type, 'message');
  const q = await lastStream();
  assert.match(q.query_text, /18/);
});

rtest('function tools streamed, Codex-style stateless history', async () => {
  const stream = await client.responses.create({
    model: 'gemini-2.5-flash', stream: true, store: false, tools: [WEATHER_TOOL], tool_choice: 'auto',
    parallel_tool_calls: false, include: ['reasoning.encrypted_content'], prompt_cache_key: 'abc',
    reasoning: { effort: 'medium', summary: 'auto' }, instructions: 'You are a coding agent.',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'sandbox: read-only' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'weather in Rome?' }] },
      { type: 'reasoning', id: 'rs_old', summary: [], encrypted_content: null },
      { type: 'function_call', call_id: 'call_old', name: 'get_weather', arguments: '{"city":"Rome"}' },
      { type: 'function_call_output', call_id: 'call_old', output: '{"temp_c": 21}' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'It is 21C in Rome.' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: `and Paris? ${fakeAnswer(TOOL_REPLY)}` }] },
    ],
  });
  const events = await collect(stream);
  checkSequence(events);
  const added = events.find((e) => e.type === 'response.output_item.added' && e.item.type === 'function_call');
  assert.ok(added, 'a function_call item');
  assert.equal(added.item.name, 'get_weather');
  const argsDone = events.find((e) => e.type === 'response.function_call_arguments.done');
  assert.deepEqual(JSON.parse(argsDone.arguments), { city: 'Paris' });
  assert.equal(argsDone.item_id, added.item.id);
  const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta');
  assert.equal(deltas.map((d) => d.delta).join(''), argsDone.arguments);
  assert.equal(events.at(-1).type, 'response.completed');
  const final = events.at(-1).response;
  assert.equal(final.output.filter((o) => o.type === 'function_call').length, 1);
  const q = await lastStream();
  assert.match(q.query_text, /and Paris\?/);
});

rtest('an image part goes upstream as a file', async () => {
  await client.responses.create({
    model: 'gemini-2.5-flash',
    input: [{ role: 'user', content: [{ type: 'input_text', text: 'what is this?' },
      { type: 'input_image', image_url: `data:image/png;base64,${PNG_B64}` }] }],
  });
  const q = await lastStream();
  assert.equal(q.file_ids.length, 1);
});

rtest('errors use the OpenAI envelope', async () => {
  await assert.rejects(client.responses.create({ input: 'x' }),
    (e) => e.status === 400 && e.param === 'model' && e.type === 'invalid_request_error');
  await assert.rejects(client.responses.create({ model: 'no-such-model', input: 'x' }),
    (e) => e.status === 404 && e.code === 'model_not_found');
  await assert.rejects(client.responses.create({
    model: 'gemini-2.5-flash',
    input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-abc' }] }],
  }), (e) => e.status === 400 && e.param === 'input[0].content[0].image_url');
  const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: s.url + '/v1', maxRetries: 0 });
  await assert.rejects(bad.responses.create({ model: 'gemini-2.5-flash', input: 'x' }), (e) => e.status === 401);
  const r = await post('/v1/responses', { model: 'gemini-2.5-flash', input: 'x', background: true });
  assert.equal(r.status, 400);
  const j = await r.json();
  assert.equal(j.error.param, 'background');
});

rtest('an upstream failure mid-stream is response.failed, never a silent close', async () => {
  const stream = await client.responses.create({
    model: 'gemini-2.5-flash', stream: true, input: 'cut me [[fake:truncate,truncate_after=4]]',
  });
  const events = await collect(stream);
  checkSequence(events);
  assert.equal(events.at(-1).type, 'response.failed');
  assert.equal(events.at(-1).response.status, 'failed');
  assert.ok(events.at(-1).response.error.message);
  assert.ok(!events.some((e) => e.type === 'response.completed'));
});

rtest('max_output_tokens cuts the answer: response.incomplete', async () => {
  const stream = await client.responses.create({
    model: 'gemini-2.5-flash', stream: true, max_output_tokens: 2, input: 'a long answer please',
  });
  const events = await collect(stream);
  checkSequence(events);
  const last = events.at(-1);
  assert.equal(last.type, 'response.incomplete');
  assert.equal(last.response.incomplete_details.reason, 'max_output_tokens');
});

rtest('keep-alive comments during a slow first byte', async () => {
  const r = await post('/v1/responses', {
    model: 'gemini-2.5-flash', stream: true, input: 'slow [[fake:first_byte_ms=2500]]',
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const text = await r.text();
  assert.match(text, /^:.*\n\n/m, 'an SSE comment as keep-alive');
  const frames = text.split('\n\n').filter((f) => f.startsWith('event: '));
  for (const f of frames) {
    const [ev, data] = f.split('\n');
    assert.equal(JSON.parse(data.slice(6)).type, ev.slice(7));
  }
  assert.match(frames.at(-1), /^event: response\.completed/);
});

rtest('a client disconnect cancels the upstream stream', async () => {
  const ac = new AbortController();
  const stream = await client.responses.create({
    model: 'gemini-2.5-flash', stream: true, input: 'long [[fake:fragments=200,delay_ms=50]]',
  }, { signal: ac.signal });
  for await (const ev of stream) {
    if (ev.type === 'response.output_text.delta') { ac.abort(); break; }
  }
  const end = Date.now() + 10000;
  let q;
  while (Date.now() < end) {
    q = await lastStream();
    if (q.disconnected) break;
    await sleep(100);
  }
  assert.ok(q.disconnected, 'the upstream call was not cancelled');
});

// ---- issue 12 checks -------------------------------------------------------

rtest('incremental delivery: the first output_text.delta arrives long before the answer ends', async () => {
  const t0 = Date.now();
  const r = await post('/v1/responses', {
    model: 'gemini-2.5-flash', stream: true, input: 'slowly [[fake:fragments=10,delay_ms=150,nothoughts]]',
  });
  assert.equal(r.status, 200);
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '', at = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    if (at === null && buf.includes('response.output_text.delta')) at = Date.now() - t0;
  }
  const total = Date.now() - t0;
  assert.ok(total >= 1200, `the fake spreads the answer over >= 1.35 s (took ${total} ms)`);
  assert.ok(at !== null && at < total - 800, `first delta at ${at} ms of ${total} ms`);
  const events = buf.split('\n\n').filter((f) => f.startsWith('event: ')).map((f) => JSON.parse(f.split('\n')[1].slice(6)));
  checkSequence(events);
  assert.equal(events.at(-1).type, 'response.completed');
});

rtest('DELETE by another API key is a 404 and leaves the response in place', async () => {
  const r = await client.responses.create({ model: 'gemini-2.5-flash', input: 'mine' });
  const del = await fetch(`${s.url}/v1/responses/${r.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY_B}` } });
  assert.equal(del.status, 404);
  assert.equal((await del.json()).error.type, 'invalid_request_error');
  assert.equal((await client.responses.retrieve(r.id)).id, r.id);
});

rtest('a history-continued conversation cannot leak across API keys', async () => {
  const input = [{ role: 'user', content: 'secret of key A' }];
  const r1 = await client.responses.create({ model: 'gemini-2.5-flash', input, store: false });
  const sA = (await lastStream()).session;
  const history = [...input, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: r1.output_text }] },
    { role: 'user', content: 'and now?' }];
  await clientB.responses.create({ model: 'gemini-2.5-flash', input: history, store: false });
  const qB = await lastStream();
  assert.notEqual(qB.session, sA, 'key B continued key A\'s upstream session');
  assert.match(qB.query_text, /secret of key A/);
  await client.responses.create({ model: 'gemini-2.5-flash', input: history, store: false });
  const qA = await lastStream();
  assert.equal(qA.session, sA, 'key A continues its own session from the history');
  assert.ok(!qA.query_text.includes('secret of key A'));
});

// Codex CLI 0.171 (wire_api = "responses"): stateless (store false), the whole
// history every turn, developer + user message items, function / namespace /
// web_search tools, reasoning summary auto, encrypted reasoning asked for.
const CODEX_TOOLS = [
  { type: 'function', name: 'exec_command', description: 'Runs a command in a PTY.', strict: false,
    parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'], additionalProperties: false } },
  { type: 'namespace', name: 'multi_agent_v1', description: 'Sub-agents',
    tools: [{ type: 'function', name: 'spawn_agent', description: 'Spawn an agent', strict: false,
      parameters: { type: 'object', properties: { task: { type: 'string' } }, required: ['task'] } }] },
  { type: 'web_search' },
];
const codexHeaders = {
  accept: 'text/event-stream', originator: 'codex_exec', 'x-codex-beta-features': 'remote_compaction_v2',
  'user-agent': 'codex_exec/0.171.0 (Debian 12.0.0; x86_64) xterm (codex_exec; 0.171.0)', 'session-id': 'sess-1',
};
function codexBody(input) {
  return {
    model: 'gemini-2.5-pro', stream: true, input, tools: CODEX_TOOLS, tool_choice: 'auto', parallel_tool_calls: true,
    reasoning: { summary: 'auto' }, store: false, include: ['reasoning.encrypted_content'], prompt_cache_key: 'sess-1',
    client_metadata: { 'x-codex-turn-metadata': '{"turn_id":"t1"}' },
  };
}
async function sseEvents(r) {
  return (await r.text()).split('\n\n').filter((f) => f.startsWith('event: ')).map((f) => JSON.parse(f.split('\n')[1].slice(6)));
}

rtest('Codex-like: a stateless stream with the full history, store:false, namespace and web_search tools', async () => {
  const dev = { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are a coding agent running in the Codex CLI.' }] };
  const u1 = { type: 'message', role: 'user', content: [{ type: 'input_text', text: '<environment_context>cwd /tmp</environment_context>' }, { type: 'input_text', text: 'say hi' }] };
  const r1 = await post('/v1/responses', codexBody([dev, u1]), KEY_A, codexHeaders);
  assert.equal(r1.status, 200);
  assert.match(r1.headers.get('content-type'), /text\/event-stream/);
  const ev1 = await sseEvents(r1);
  checkSequence(ev1);
  assert.equal(ev1.at(-1).type, 'response.completed');
  const done = ev1.at(-1).response;
  assert.equal(done.store, false);
  assert.equal(done.output[0].type, 'reasoning', 'summary auto: a reasoning item first');
  const msg = done.output.find((o) => o.type === 'message');
  const text = msg.content[0].text;
  assert.match(text, new RegExp('^' + POEM));
  assert.ok(!text.includes('Assessing'), 'thinking leaked into the answer');
  const q1 = await lastStream();
  assert.equal(q1.model_id, 'gemini-2.5-pro');
  assert.ok(JSON.stringify(q1.tools_spec || {}).includes('webGroundingSpec'), 'web_search turns grounding on');
  assert.match(q1.query_text, /You are a coding agent/);
  await assert.rejects(client.responses.retrieve(done.id), (e) => e.status === 404);
  // turn 2: the whole history again (Codex keeps no server state)
  const history = [dev, u1,
    { type: 'reasoning', id: done.output[0].id, summary: done.output[0].summary, encrypted_content: null },
    { type: 'message', role: 'assistant', id: msg.id, content: [{ type: 'output_text', text }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'and again' }] }];
  const r2 = await post('/v1/responses', codexBody(history), KEY_A, codexHeaders);
  const ev2 = await sseEvents(r2);
  checkSequence(ev2);
  assert.equal(ev2.at(-1).type, 'response.completed');
  const q2 = await lastStream();
  assert.equal(q2.session, q1.session, 'the full history continues the same upstream session');
  assert.ok(!q2.query_text.includes('say hi'), 'only the new input is sent');
  assert.match(q2.query_text, /and again/);
});
