// Emulated tools through the Gemini dialect (@google/genai 2.x): functionCall
// parts out, functionResponse parts in, function calling modes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI, FunctionCallingConfigMode } from '@google/genai';
import { stack, idle, streams, call, dir, markerOf } from './tools-common.mjs';

let s, ai;
before(async () => {
  s = await stack();
  ai = new GoogleGenAI({ apiKey: s.apiKey, httpOptions: { baseUrl: s.url, apiVersion: 'v1beta' } });
});
after(async () => { await s?.stop(); });

const WEATHER = { name: 'get_weather', description: 'Weather in a city',
  parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } };

test('functionCall -> functionResponse -> final answer on the same session', async () => {
  await idle(s);
  const contents = [{ role: 'user', parts: [{ text: `Paris? ${dir(call('get_weather', { city: 'Paris' }))}` }] }];
  const config = { tools: [{ functionDeclarations: [WEATHER] }] };
  const r1 = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents, config });
  assert.equal(r1.functionCalls.length, 1);
  assert.equal(r1.functionCalls[0].name, 'get_weather');
  assert.deepEqual(r1.functionCalls[0].args, { city: 'Paris' });
  const q1 = (await streams(s)).at(-1);
  contents.push(r1.candidates[0].content,
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp_c: 18 } } }] });
  const r2 = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents, config });
  assert.equal(r2.functionCalls, undefined);
  assert.match(r2.text, /^Final answer\. Tool results: get_weather=/);
  const q2 = (await streams(s)).at(-1);
  assert.equal(q2.session, q1.session, 'the functionResponse turn continues the upstream session');
  assert.equal(markerOf(q2.query_text), markerOf(q1.query_text));
});

test('streamed functionCall; mode NONE sends no tools; mode ANY insists', async () => {
  await idle(s);
  const calls = [];
  const st = await ai.models.generateContentStream({ model: 'gemini-2.5-flash',
    contents: `Oslo ${dir(call('get_weather', { city: 'Oslo' }))}`, config: { tools: [{ functionDeclarations: [WEATHER] }] } });
  for await (const ch of st) calls.push(...(ch.functionCalls ?? []));
  assert.deepEqual(calls.map((c) => [c.name, c.args]), [['get_weather', { city: 'Oslo' }]]);
  await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'none',
    config: { tools: [{ functionDeclarations: [WEATHER] }], toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } } } });
  assert.ok(!(await streams(s)).at(-1).query_text.includes('# Tools'));
  await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: `any ${dir(call('get_weather', { city: 'X' }))}`,
    config: { tools: [{ functionDeclarations: [WEATHER] }], toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } } } });
  assert.match((await streams(s)).at(-1).query_text, /You must call/);
});
