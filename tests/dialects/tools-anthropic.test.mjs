// Emulated tools through the Anthropic Messages dialect (@anthropic-ai/sdk):
// tool_use blocks (streamed input_json_delta), tool_result blocks in,
// stop_reason tool_use, tool_choice auto/any/tool/none, the corrective retry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { stack, idle, streams, call, dir, markerOf } from './tools-common.mjs';

let s, client;
before(async () => {
  s = await stack();
  client = new Anthropic({ apiKey: s.apiKey, baseURL: s.url, maxRetries: 0 });
});
after(async () => { await s?.stop(); });

const WEATHER = { name: 'get_weather', description: 'Weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const TIME = { name: 'get_time', input_schema: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] } };

test('streamed tool_use with input_json_delta -> tool_result -> final answer on the same session', async () => {
  await idle(s);
  const messages = [{ role: 'user', content: `Paris? ${dir(call('get_weather', { city: 'Paris' }))}` }];
  const st = client.messages.stream({ model: 'gemini-2.5-flash', max_tokens: 1024, tools: [WEATHER], messages });
  let partial = '';
  st.on('inputJson', (d) => { partial += d; });
  const m1 = await st.finalMessage();
  assert.equal(m1.stop_reason, 'tool_use');
  const use = m1.content.find((b) => b.type === 'tool_use');
  assert.deepEqual(use.input, { city: 'Paris' });
  assert.deepEqual(JSON.parse(partial), { city: 'Paris' });
  assert.equal(m1.content.find((b) => b.type === 'text')?.text.trim(), 'Let me use a tool.');
  const q1 = (await streams(s)).at(-1);
  messages.push({ role: 'assistant', content: m1.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18 C', is_error: false }] });
  const m2 = await client.messages.create({ model: 'gemini-2.5-flash', max_tokens: 1024, tools: [WEATHER], messages });
  assert.equal(m2.stop_reason, 'end_turn');
  assert.equal(m2.content.at(-1).text, 'Final answer. Tool results: get_weather=18 C;');
  const q2 = (await streams(s)).at(-1);
  assert.equal(q2.session, q1.session, 'the tool_result turn continues the upstream session');
  assert.ok(q2.query_text.includes(`<tool_result call_id="${use.id}" name="get_weather">\n18 C\n</tool_result>`), q2.query_text);
  assert.equal(markerOf(q2.query_text), markerOf(q1.query_text));
});

test('two tool_use blocks non-streamed; an error result is marked', async () => {
  await idle(s);
  const messages = [{ role: 'user', content: `both ${dir(call('get_weather', { city: 'Oslo' }), call('get_time', { tz: 'UTC' }))}` }];
  const m1 = await client.messages.create({ model: 'gemini-2.5-flash', max_tokens: 512, tools: [WEATHER, TIME], messages });
  const uses = m1.content.filter((b) => b.type === 'tool_use');
  assert.deepEqual(uses.map((u) => [u.name, u.input]), [['get_weather', { city: 'Oslo' }], ['get_time', { tz: 'UTC' }]]);
  messages.push({ role: 'assistant', content: m1.content }, { role: 'user', content: [
    { type: 'tool_result', tool_use_id: uses[0].id, content: 'cold' },
    { type: 'tool_result', tool_use_id: uses[1].id, content: 'no clock', is_error: true }] });
  const m2 = await client.messages.create({ model: 'gemini-2.5-flash', max_tokens: 512, tools: [WEATHER, TIME], messages });
  assert.equal(m2.content.at(-1).text, 'Final answer. Tool results: get_weather=cold; get_time=no clock;');
  assert.match((await streams(s)).at(-1).query_text, /<tool_result call_id="[^"]+" name="get_time" error="true">/);
});

test('tool_choice any / tool / none; disable_parallel_tool_use keeps one call', async () => {
  await idle(s);
  const m = await client.messages.create({ model: 'gemini-2.5-flash', max_tokens: 100, tools: [WEATHER, TIME],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
    messages: [{ role: 'user', content: `x ${dir(call('get_weather', { city: 'A' }), call('get_time', { tz: 'B' }))}` }] });
  assert.deepEqual(m.content.filter((b) => b.type === 'tool_use').map((b) => b.name), ['get_weather']);
  const q = (await streams(s)).at(-1).query_text;
  assert.match(q, /You must call at least one tool/);
  assert.match(q, /Call at most one tool per reply/);
  await client.messages.create({ model: 'gemini-2.5-flash', max_tokens: 100, tools: [WEATHER, TIME],
    tool_choice: { type: 'tool', name: 'get_time' }, messages: [{ role: 'user', content: `y ${dir(call('get_time', { tz: 'UTC' }))}` }] });
  assert.match((await streams(s)).at(-1).query_text, /You must call the tool "get_time"/);
  await client.messages.create({ model: 'gemini-2.5-flash', max_tokens: 100, tools: [WEATHER], tool_choice: { type: 'none' },
    messages: [{ role: 'user', content: 'none' }] });
  assert.ok(!(await streams(s)).at(-1).query_text.includes('# Tools'));
});

test('corrective retry succeeds (streamed), give-up is a 502 api_error', async () => {
  await idle(s);
  const m = await client.messages.stream({ model: 'gemini-2.5-flash', max_tokens: 100, tools: [WEATHER],
    messages: [{ role: 'user', content: `r ${dir(call('get_weather', { city: 'Lima' }), 'toolbad=1')}` }] }).finalMessage();
  assert.equal(m.stop_reason, 'tool_use');
  await assert.rejects(client.messages.create({ model: 'gemini-2.5-flash', max_tokens: 100, tools: [WEATHER],
    messages: [{ role: 'user', content: `g ${dir(call('get_weather', { city: 'Lima' }), 'toolbad=2')}` }] }),
  (e) => e.status === 502 && /did not produce a valid tool call/.test(e.message));
});
