// Emulated tools through the Responses dialect (openai SDK 6.x): function_call
// output items with call_id, response.function_call_arguments.delta/done,
// function_call_output items in (stateful and stateless), the corrective retry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { stack, idle, streams, call, dir, markerOf } from './tools-common.mjs';

let s, client;
before(async () => {
  s = await stack();
  client = new OpenAI({ apiKey: s.apiKey, baseURL: s.url + '/v1', maxRetries: 0 });
});
after(async () => { await s?.stop(); });

const WEATHER = { type: 'function', name: 'get_weather', description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const TIME = { type: 'function', name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] } };

test('function_call -> function_call_output (previous_response_id) -> answer, call_id round-trips', async () => {
  await idle(s);
  const r1 = await client.responses.create({
    model: 'gemini-2.5-flash', tools: [WEATHER], input: `Paris? ${dir(call('get_weather', { city: 'Paris' }))}`,
  });
  const fc = r1.output.filter((o) => o.type === 'function_call');
  assert.equal(fc.length, 1, JSON.stringify(r1.output));
  assert.equal(fc[0].name, 'get_weather');
  assert.deepEqual(JSON.parse(fc[0].arguments), { city: 'Paris' });
  assert.match(fc[0].call_id, /^call_[0-9a-f]{24}$/);
  assert.ok(!r1.output_text.includes('<tool_call'));
  const q1 = (await streams(s)).at(-1);
  const r2 = await client.responses.create({
    model: 'gemini-2.5-flash', tools: [WEATHER], previous_response_id: r1.id,
    input: [{ type: 'function_call_output', call_id: fc[0].call_id, output: '{"temp_c": 18}' }],
  });
  // with previous_response_id the request carries no call: the tool's name
  // comes from the kept response's function_call item with that call_id
  assert.equal(r2.output_text, 'Final answer. Tool results: get_weather={"temp_c": 18};');
  const q2 = (await streams(s)).at(-1);
  assert.equal(q2.session, q1.session);
  assert.ok(q2.query_text.includes(`<tool_result call_id="${fc[0].call_id}" name="get_weather">\n{"temp_c": 18}\n</tool_result>`), q2.query_text);
  // an output for a call_id the kept response never made stays nameless
  const r3 = await client.responses.create({
    model: 'gemini-2.5-flash', tools: [WEATHER], previous_response_id: r2.id,
    input: [{ type: 'function_call_output', call_id: 'call_unknown', output: 'x' }],
  });
  assert.equal(r3.status, 'completed');
  const q3 = (await streams(s)).at(-1);
  assert.ok(q3.query_text.includes('<tool_result call_id="call_unknown">\nx\n</tool_result>'), q3.query_text);
  assert.equal(markerOf(q2.query_text), markerOf(q1.query_text));
});

test('streamed: output_item.added, function_call_arguments.delta/done, then a stateless second turn', async () => {
  await idle(s);
  const input = [{ role: 'user', content: `Two at once ${dir(call('get_weather', { city: 'Oslo' }), call('get_time', { tz: 'UTC' }))}` }];
  const stream = await client.responses.create({ model: 'gemini-2.5-flash', tools: [WEATHER, TIME], stream: true, store: false, input });
  const ev = [];
  for await (const e of stream) ev.push(e);
  const types = ev.map((e) => e.type);
  const added = ev.filter((e) => e.type === 'response.output_item.added' && e.item.type === 'function_call');
  assert.deepEqual(added.map((e) => e.item.name), ['get_weather', 'get_time']);
  const done = ev.filter((e) => e.type === 'response.function_call_arguments.done');
  assert.equal(done.length, 2);
  assert.deepEqual(JSON.parse(done[0].arguments), { city: 'Oslo' });
  const deltas = ev.filter((e) => e.type === 'response.function_call_arguments.delta' && e.item_id === done[1].item_id);
  assert.equal(deltas.map((d) => d.delta).join(''), done[1].arguments);
  assert.equal(types.at(-1), 'response.completed');
  const all = ev.at(-1).response.output;
  const out = all.filter((o) => o.type === 'function_call');
  assert.equal(out.length, 2);
  const q1 = (await streams(s)).at(-1);
  // stateless (Codex-style): the whole history -- the answer's items as they
  // came (its message and its calls), then the outputs
  const hist = [...input, ...all.filter((o) => o.type !== 'reasoning').map(({ id, status, ...o }) => o),
    { type: 'function_call_output', call_id: out[0].call_id, output: 'cold' },
    { type: 'function_call_output', call_id: out[1].call_id, output: 'noon' }];
  const r2 = await client.responses.create({ model: 'gemini-2.5-flash', tools: [WEATHER, TIME], store: false, input: hist });
  assert.equal(r2.output_text, 'Final answer. Tool results: get_weather=cold; get_time=noon;');
  const q2 = (await streams(s)).at(-1);
  assert.equal(q2.session, q1.session, 'the conversation key (text + call names) finds the session again');
  assert.ok(!q2.query_text.includes('Two at once'), 'sent as a continuation');
});

test('tool_choice none / required, and a corrective retry that succeeds', async () => {
  await idle(s);
  await client.responses.create({ model: 'gemini-2.5-flash', tools: [WEATHER], tool_choice: 'none', input: 'plain' });
  assert.ok(!(await streams(s)).at(-1).query_text.includes('# Tools'));
  const r = await client.responses.create({ model: 'gemini-2.5-flash', tools: [WEATHER], tool_choice: 'required',
    input: `fix ${dir(call('get_weather', { city: 'Lima' }), 'toolbad=1')}` });
  assert.deepEqual(JSON.parse(r.output.find((o) => o.type === 'function_call').arguments), { city: 'Lima' });
  assert.match((await streams(s)).at(-1).query_text, /^Your previous reply could not be used/);
});

test('give-up: 502 tool_call_invalid', async () => {
  await idle(s);
  await assert.rejects(client.responses.create({ model: 'gemini-2.5-flash', tools: [WEATHER],
    input: `bad ${dir(call('get_weather', { city: 'Lima' }), 'toolbad=2')}` }),
  (e) => e.status === 502 && /did not produce a valid tool call/.test(e.message));
});
