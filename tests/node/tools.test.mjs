// Emulated tool calling end to end (issue 13, docs/TOOLS.md): the official
// openai SDK against the real gemgated and the fake upstream, whose tool
// mode answers in the documented <tool_call marker=...> format
// (tests/fake_upstream/README.md "Tool mode").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, waitFor } from '../lib/stack.mjs';

let s, client;

before(async () => {
  s = await startStack({ env: { COOLDOWN_ERROR: '1', COOLDOWN_429: '1' } });
  client = new OpenAI({ apiKey: s.apiKey, baseURL: s.url + '/v1', maxRetries: 0 });
});
after(async () => { await s?.stop(); });

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather', description: 'Get the current weather for a city.',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city'] },
  },
};
const TIME = {
  type: 'function',
  function: { name: 'get_time', description: 'Current time in a timezone.', parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] } },
};
const call = (name, args) => `toolcall=${name},args=${encodeURIComponent(JSON.stringify(args))}`;
const dir = (...parts) => `[[fake:${parts.join(',')}]]`;

async function idle() {
  await waitFor(async () => (await s.admin('GET', '/accounts')).json.accounts.every((a) => a.inflight === 0), 10000, 'no request in flight');
}
async function streamRecords() {
  return (await s.fake('GET', '/__fake/record')).requests.filter((q) => q.endpoint === 'stream');
}
async function metric(name) {
  const t = await (await fetch(s.url + '/metrics')).text();
  const line = t.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}

test('non-streaming loop: call -> tool result -> final answer on the same upstream session', async () => {
  await idle();
  const messages = [{ role: 'user', content: `Weather in Paris? ${dir(call('get_weather', { city: 'Paris' }))}` }];
  const r1 = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages, tools: [WEATHER] });
  const ch = r1.choices[0];
  assert.equal(ch.finish_reason, 'tool_calls');
  assert.equal(ch.message.tool_calls.length, 1);
  const tc = ch.message.tool_calls[0];
  assert.match(tc.id, /^call_[0-9a-f]{24}$/);
  assert.equal(tc.type, 'function');
  assert.equal(tc.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(tc.function.arguments), { city: 'Paris' });
  assert.equal(ch.message.content, 'Let me use a tool.');
  let recs = await streamRecords();
  const q1 = recs.at(-1);
  assert.match(q1.query_text, /^# Tools\n/);
  assert.match(q1.query_text, /### get_weather\nGet the current weather for a city\./);
  const marker = q1.query_text.match(/<tool_call marker="([0-9a-f]{8})">/)[1];
  assert.ok(q1.query_text.endsWith(`(To call a tool, write a <tool_call marker="${marker}"> block as described above.)\n`));

  messages.push(ch.message, { role: 'tool', tool_call_id: tc.id, content: '{"temp_c": 12}' });
  const r2 = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages, tools: [WEATHER] });
  assert.equal(r2.choices[0].finish_reason, 'stop');
  assert.equal(r2.choices[0].message.content, 'Final answer. Tool results: get_weather={"temp_c": 12};');
  assert.equal(r2.choices[0].message.tool_calls, undefined);
  recs = await streamRecords();
  const q2 = recs.at(-1);
  assert.equal(q2.session, q1.session, 'the turn with the result continues the upstream session');
  assert.ok(!q2.query_text.includes('Weather in Paris'), 'a continuing turn sends only the new messages');
  assert.ok(q2.query_text.includes(`<tool_result call_id="${tc.id}" name="get_weather">\n{"temp_c": 12}\n</tool_result>`), q2.query_text);
  assert.ok(q2.query_text.includes(`<tool_call marker="${marker}">`), 'same marker for the same session');
});

test('streaming loop: delta.tool_calls shapes, SDK accumulator, then the final answer', async () => {
  await idle();
  const messages = [{ role: 'user', content: `Stream the weather ${dir(call('get_weather', { city: 'Paris', unit: 'c' }))}` }];
  const raw = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', stream: true, messages, tools: [WEATHER] }),
  });
  const body = await raw.text();
  const chunks = body.split('\n\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)));
  const tcd = chunks.filter((c) => c.choices[0]?.delta?.tool_calls).map((c) => c.choices[0].delta.tool_calls[0]);
  assert.ok(tcd.length >= 2, body);
  assert.equal(tcd[0].index, 0);
  assert.match(tcd[0].id, /^call_/);
  assert.equal(tcd[0].type, 'function');
  assert.deepEqual(tcd[0].function, { name: 'get_weather', arguments: '' });
  for (const d of tcd.slice(1)) assert.deepEqual(Object.keys(d).sort(), ['function', 'index']);
  assert.deepEqual(JSON.parse(tcd.slice(1).map((d) => d.function.arguments).join('')), { city: 'Paris', unit: 'c' });
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
  const text = chunks.map((c) => c.choices[0]?.delta?.content || '').join('');
  // byte-exact: the text around the block (the newline after it too) streams, the block does not
  assert.equal(text, 'Let me use a tool.\n\n\n');
  assert.ok(body.trimEnd().endsWith('data: [DONE]'));

  // the SDK's stream helper accumulates the same thing
  const st = client.chat.completions.stream({ model: 'gemini-2.5-flash', messages, tools: [WEATHER] });
  const fin = await st.finalChatCompletion();
  const m = fin.choices[0].message;
  assert.equal(fin.choices[0].finish_reason, 'tool_calls');
  assert.equal(m.tool_calls.length, 1);
  assert.equal(m.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(m.tool_calls[0].function.arguments), { city: 'Paris', unit: 'c' });

  const qs = (await streamRecords()).at(-1);
  messages.push({ role: 'assistant', content: m.content, tool_calls: m.tool_calls },
    { role: 'tool', tool_call_id: m.tool_calls[0].id, content: 'sunny' });
  const s2 = await client.chat.completions.create({ model: 'gemini-2.5-flash', stream: true, messages, tools: [WEATHER] });
  let content = '', finish = null;
  for await (const c of s2) {
    content += c.choices[0]?.delta?.content || '';
    if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
  }
  assert.equal(content, 'Final answer. Tool results: get_weather=sunny;');
  assert.equal(finish, 'stop');
  assert.equal((await streamRecords()).at(-1).session, qs.session, 'the streamed turn with calls is found again');
});

test('two parallel calls, non-streamed and streamed', async () => {
  await idle();
  const messages = [{ role: 'user', content: `Both ${dir(call('get_weather', { city: 'Oslo' }), call('get_time', { tz: 'Europe/Oslo' }))}` }];
  const { data: r, response } = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages, tools: [WEATHER, TIME] }).withResponse();
  const tcs = r.choices[0].message.tool_calls;
  // the request log (live feed) counts the calls
  const rid = response.headers.get('x-request-id');
  const ctl = new AbortController();
  const ls = await fetch(`${s.url}/api/admin/logs/stream`, { headers: { authorization: `Bearer ${s.adminKey}` }, signal: ctl.signal });
  const rd = ls.body.getReader();
  let feed = '', entry = null;
  const dl = Date.now() + 5000;
  while (!entry && Date.now() < dl) {
    const { value, done } = await rd.read();
    if (done) break;
    feed += Buffer.from(value).toString();
    for (const ev of feed.split('\n\n')) {
      const m = ev.match(/^event: request\ndata: (.*)$/m);
      if (m && JSON.parse(m[1]).request_id === rid) entry = JSON.parse(m[1]);
    }
  }
  ctl.abort();
  assert.ok(entry, `request ${rid} in the log feed`);
  assert.equal(entry.tool_calls, 2);
  assert.deepEqual(tcs.map((t) => t.function.name), ['get_weather', 'get_time']);
  assert.notEqual(tcs[0].id, tcs[1].id);
  assert.deepEqual(JSON.parse(tcs[1].function.arguments), { tz: 'Europe/Oslo' });
  const fin = await client.chat.completions.stream({ model: 'gemini-2.5-flash', messages, tools: [WEATHER, TIME] }).finalChatCompletion();
  assert.deepEqual(fin.choices[0].message.tool_calls.map((t) => [t.function.name, JSON.parse(t.function.arguments)]),
    [['get_weather', { city: 'Oslo' }], ['get_time', { tz: 'Europe/Oslo' }]]);
  // both results back: one final answer naming both
  messages.push(r.choices[0].message,
    { role: 'tool', tool_call_id: tcs[0].id, content: 'cold' }, { role: 'tool', tool_call_id: tcs[1].id, content: '10:00' });
  const r2 = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages, tools: [WEATHER, TIME] });
  assert.equal(r2.choices[0].message.content, 'Final answer. Tool results: get_weather=cold; get_time=10:00;');
});

test('tool_choice none: no tool prompt reaches the upstream, the answer is text', async () => {
  await idle();
  const r = await client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER], tool_choice: 'none',
    messages: [{ role: 'user', content: `no tools please ${dir(call('get_weather', { city: 'Paris' }))}` }],
  });
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].message.tool_calls, undefined);
  assert.match(r.choices[0].message.content, /echo: no tools please$/);
  const q = (await streamRecords()).at(-1).query_text;
  assert.ok(!q.includes('# Tools') && !q.includes('<tool_call'), q);
});

test('tool_choice auto without a call: plain answer, finish stop', async () => {
  await idle();
  const r = await client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER], tool_choice: 'auto', messages: [{ role: 'user', content: 'hi' }],
  });
  assert.equal(r.choices[0].finish_reason, 'stop');
  // the fake's default echo (its tool syntax defused) is plain text
  assert.match(r.choices[0].message.content, /^春眠不觉晓，处处闻啼鸟。 echo: .*<tool-call marker="[0-9a-f]{8}"> block as described above\.\)$/s);
  assert.match((await streamRecords()).at(-1).query_text, /If no tool is needed, answer directly/);
});

test('tool_choice required and named: the prompt insists, the call comes back', async () => {
  await idle();
  const r = await client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER, TIME], tool_choice: 'required',
    messages: [{ role: 'user', content: `must call ${dir(call('get_time', { tz: 'UTC' }))}` }],
  });
  assert.equal(r.choices[0].message.tool_calls[0].function.name, 'get_time');
  let q = (await streamRecords()).at(-1).query_text;
  assert.match(q, /You must call at least one tool in this reply/);
  assert.match(q, /You must call a tool now\.\)\n$/);
  const r2 = await client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER, TIME], tool_choice: { type: 'function', function: { name: 'get_time' } },
    messages: [{ role: 'user', content: `named ${dir(call('get_time', { tz: 'UTC' }))}` }],
  });
  assert.equal(r2.choices[0].message.tool_calls[0].function.name, 'get_time');
  q = (await streamRecords()).at(-1).query_text;
  assert.match(q, /You must call the tool "get_time" in this reply/);
  // a named tool that is not declared is the client's error
  await assert.rejects(client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'nope' } },
    messages: [{ role: 'user', content: 'x' }],
  }), (e) => e.status === 400 && e.param === 'tool_choice');
});

test('parallel_tool_calls false keeps the first call and says so in the prompt', async () => {
  await idle();
  const r = await client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER, TIME], parallel_tool_calls: false,
    messages: [{ role: 'user', content: `one only ${dir(call('get_weather', { city: 'Rome' }), call('get_time', { tz: 'UTC' }))}` }],
  });
  assert.deepEqual(r.choices[0].message.tool_calls.map((t) => t.function.name), ['get_weather']);
  assert.match((await streamRecords()).at(-1).query_text, /Call at most one tool per reply\./);
});

test('an invalid call gets one corrective retry on the same session, which succeeds', async () => {
  await idle();
  const before = await metric('gemgate_tool_retries_total');
  const n0 = (await streamRecords()).length;
  const r = await client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER],
    messages: [{ role: 'user', content: `fix me ${dir(call('get_weather', { city: 'Lima' }), 'toolbad=1')}` }],
  });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.deepEqual(JSON.parse(r.choices[0].message.tool_calls[0].function.arguments), { city: 'Lima' });
  const recs = (await streamRecords()).slice(n0);
  assert.equal(recs.length, 2, 'the question, then the correction');
  assert.equal(recs[1].session, recs[0].session);
  assert.match(recs[1].query_text, /^Your previous reply could not be used: .+\.\nReply again now/);
  assert.equal(await metric('gemgate_tool_retries_total'), before + 1);

  // streamed: the first attempt's text went out; the retry's answer follows it
  const st = await client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER], stream: true,
    messages: [{ role: 'user', content: `fix me streamed ${dir(call('get_weather', { city: 'Lima' }), 'toolbad=1')}` }],
  });
  let text = '', names = [], finish = null;
  for await (const c of st) {
    text += c.choices[0]?.delta?.content || '';
    for (const t of c.choices[0]?.delta?.tool_calls || []) if (t.function?.name) names.push(t.function.name);
    if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
  }
  assert.equal(finish, 'tool_calls');
  assert.deepEqual(names, ['get_weather']);
  // the text before the invalid block went out; from the block on, the first reply is withheld
  assert.equal(text, 'Let me use a tool.\n\nLet me use a tool.\n\n\n');
});

test('a call still invalid after the retry: 502 tool_call_invalid naming the error', async () => {
  await idle();
  const g0 = await metric('gemgate_tool_giveups_total');
  await assert.rejects(client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER],
    messages: [{ role: 'user', content: `hopeless ${dir(call('get_weather', { city: 'Lima' }), 'toolbad=2')}` }],
  }), (e) => {
    assert.equal(e.status, 502);
    assert.equal(e.code, 'tool_call_invalid');
    assert.equal(e.error.message, "the model did not produce a valid tool call: the tool call's JSON could not be parsed");
    assert.equal(e.error.type, 'api_error');
    return true;
  });
  assert.equal(await metric('gemgate_tool_giveups_total'), g0 + 1);
  // streamed: the in-stream error frame, no [DONE]
  const raw = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', stream: true, tools: [WEATHER],
      messages: [{ role: 'user', content: `hopeless streamed ${dir(call('get_weather', { city: 'Lima' }), 'toolbad=2')}` }] }),
  });
  const body = await raw.text();
  assert.equal(raw.status, 200);
  assert.match(body, /"code":"tool_call_invalid"/);
  assert.ok(!body.includes('[DONE]'));
});

test('tool_choice required but the model answers in prose: the retry says so, then the give-up', async () => {
  await idle();
  const n0 = (await streamRecords()).length;
  await assert.rejects(client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER], tool_choice: 'required', messages: [{ role: 'user', content: 'just talk' }],
  }), (e) => e.status === 502 && e.code === 'tool_call_invalid' &&
    e.error.message === 'the model did not produce a valid tool call: the reply must call one of the tools');
  const recs = (await streamRecords()).slice(n0);
  assert.equal(recs.length, 2);
  assert.match(recs[1].query_text, /^Your previous reply could not be used: the reply must call one of the tools\./);
  assert.match(recs[1].query_text, /You must call one of the tools\.\n$/);
});

test('repairs are counted by name; the request counter moves', async () => {
  await idle();
  const f0 = await metric('gemgate_tool_repairs_total{repair="fence"}');
  const c0 = await metric('gemgate_tool_calls_total');
  const r = await client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER],
    messages: [{ role: 'user', content: `fenced ${dir(call('get_weather', { city: 'Kyiv' }), 'toolfence')}` }],
  });
  assert.equal(r.choices[0].message.tool_calls[0].function.name, 'get_weather');
  assert.equal(await metric('gemgate_tool_repairs_total{repair="fence"}'), f0 + 1);
  assert.equal(await metric('gemgate_tool_calls_total'), c0 + 1);
  assert.ok(await metric('gemgate_tool_requests_total') > 0);
});

test('max_tokens cuts the reply before the call: finish length, no corrective retry', async () => {
  await idle();
  const n0 = (await streamRecords()).length;
  const r = await client.chat.completions.create({
    model: 'gemini-2.5-flash', tools: [WEATHER], max_tokens: 2,
    messages: [{ role: 'user', content: `short ${dir(call('get_weather', { city: 'Paris' }))}` }],
  });
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.choices[0].message.tool_calls, undefined);
  assert.equal((await streamRecords()).length - n0, 1, 'no retry for a reply the client cut');
});

test('a 20 KB file-writing call with escapes and CJK streams back byte-exact', async () => {
  await idle();
  const WRITE = { type: 'function', function: { name: 'write_file', parameters: { type: 'object',
    properties: { path: { type: 'string' }, content: { type: 'string' } }, required: ['path', 'content'] } } };
  const content = Array.from({ length: 400 }, (_, i) => `line ${i}: "quoted" \\ back\tslash 春眠不觉晓 ${'x'.repeat(10)}\n`).join('');
  const args = { path: 'src/a b.txt', content };
  const fin = await client.chat.completions.stream({ model: 'gemini-2.5-flash', tools: [WRITE],
    messages: [{ role: 'user', content: `write it ${dir(call('write_file', args))}` }] }).finalChatCompletion();
  const tc = fin.choices[0].message.tool_calls[0];
  assert.equal(tc.function.name, 'write_file');
  assert.deepEqual(JSON.parse(tc.function.arguments), args);
  assert.ok(tc.function.arguments.length > 20000);
});

test('clients with their own tool protocol (no tools field) pass through untouched', async () => {
  await idle();
  const sys = 'You have tools. Use XML: <read_file><path>a.txt</path></read_file>';
  const r = await client.chat.completions.create({
    model: 'gemini-2.5-flash', messages: [{ role: 'system', content: sys }, { role: 'user', content: 'read a.txt' }],
  });
  assert.equal(r.choices[0].finish_reason, 'stop');
  const q = (await streamRecords()).at(-1).query_text;
  assert.equal(q, `System: ${sys}\n\nUser: read a.txt`);
});
