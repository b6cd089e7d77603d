// Real-client tests of the Gemini generateContent dialect: the official
// @google/genai SDK (generateContent, generateContentStream (alt=sse),
// countTokens, models.list/get) and raw fetch for what the SDK does not use
// (the JSON-array stream, ?key= and Bearer auth), against the real gemgated
// and the real fake upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI, FunctionCallingConfigMode } from '@google/genai';
import { startStack } from '../lib/stack.mjs';

const KEY = 'gg-key-' + process.pid;
const POEM = '春眠不觉晓，处处闻啼鸟。';
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const MODEL = 'gemini-2.5-flash';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const KEY_B = 'gg-key-b-' + process.pid;
let s, ai, aiB;

before(async () => {
  s = await startStack({
    env: { API_KEY: `${KEY},${KEY_B}`, PING_INTERVAL: '1', COOLDOWN_ERROR: '1', COOLDOWN_429: '1', MAX_BODY: String(1 << 20),
      MAX_RETRIES: '0' },
  });
  ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: s.url, apiVersion: 'v1beta' } });
  aiB = new GoogleGenAI({ apiKey: KEY_B, httpOptions: { baseUrl: s.url, apiVersion: 'v1beta' } });
});
after(async () => { await s?.stop(); });

// opts: node:test options ({ todo } for the function-calling tests)
function gtest(name, fn, opts = {}) {
  test(name, opts, async (t) => {
    await s.admin('POST', '/accounts/0/reset');
    await s.fake('DELETE', '/__fake/scenario');
    await fn(t);
  });
}

// POST /v1beta/models/<rest> with the key in x-goog-api-key (or as given)
function gpost(rest, body, { headers = { 'x-goog-api-key': KEY }, query = '' } = {}) {
  return fetch(`${s.url}/v1beta/models/${rest}${query}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
}

const fakeAnswer = (text) => `[[fake:answer=${encodeURIComponent(text)}]]`;
const TOOL_REPLY = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const WEATHER_DECL = {
  name: 'get_weather', description: 'Current weather of a city',
  parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] },
};

async function lastStream() {
  const rec = await s.fake('GET', '/__fake/record');
  return rec.requests.filter((q) => q.endpoint === 'stream').at(-1);
}

gtest('generateContent: candidates, finishReason, usageMetadata', async () => {
  const r = await ai.models.generateContent({ model: MODEL, contents: 'hello gemini' });
  assert.equal(r.text, `${POEM} echo: hello gemini`);
  const c = r.candidates[0];
  assert.equal(c.content.role, 'model');
  assert.equal(c.finishReason, 'STOP');
  assert.equal(c.index, 0);
  assert.ok(!c.content.parts.some((p) => p.thought), 'no thoughts unless includeThoughts');
  const u = r.usageMetadata;
  assert.ok(u.promptTokenCount > 0 && u.candidatesTokenCount > 0);
  assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0));
  assert.equal(r.modelVersion, MODEL);
  assert.ok(r.responseId);
});

gtest('systemInstruction and multi-turn contents reach the upstream flattened', async () => {
  await ai.models.generateContent({
    model: 'gemini-2.5-pro',
    contents: [
      { role: 'user', parts: [{ text: 'first question' }] },
      { role: 'model', parts: [{ text: 'first answer' }] },
      { role: 'user', parts: [{ text: 'second question' }] },
    ],
    config: { systemInstruction: 'Answer like a pirate.', temperature: 0.2, topK: 20, stopSequences: ['ZZZ'],
      maxOutputTokens: 500 },
  });
  const q = await lastStream();
  assert.equal(q.model_id, 'gemini-2.5-pro');
  assert.match(q.query_text, /Answer like a pirate\./);
  assert.match(q.query_text, /second question/);
});

gtest('generateContentStream (alt=sse): incremental chunks, thoughts only with includeThoughts', async () => {
  const stream = await ai.models.generateContentStream({ model: MODEL, contents: 'stream me' });
  let text = '', chunks = 0, finish = null, usage = null;
  for await (const ch of stream) {
    chunks++;
    assert.ok(!ch.candidates[0].content.parts.some((p) => p.thought));
    text += ch.text ?? '';
    if (ch.candidates[0].finishReason) finish = ch.candidates[0].finishReason;
    if (ch.usageMetadata) usage = ch.usageMetadata;
  }
  assert.ok(chunks >= 4, `only ${chunks} chunks: not incremental`);
  assert.equal(text, `${POEM} echo: stream me`);
  assert.equal(finish, 'STOP');
  assert.ok(usage.candidatesTokenCount > 0);

  const s2 = await ai.models.generateContentStream({
    model: MODEL, contents: 'think aloud', config: { thinkingConfig: { includeThoughts: true } },
  });
  let thoughts = '', answer = '';
  for await (const ch of s2)
    for (const p of ch.candidates[0].content.parts ?? []) {
      if (p.thought) thoughts += p.text;
      else if (p.text) answer += p.text;
    }
  assert.match(thoughts, /Assessing the Request/);
  assert.ok(!answer.includes('Assessing'), 'thinking leaked into the answer');
  assert.equal(answer, `${POEM} echo: think aloud`);
});

gtest('streamGenerateContent without alt=sse is one JSON array', async () => {
  const r = await gpost(`${MODEL}:streamGenerateContent`, { contents: [{ parts: [{ text: 'as array' }] }] });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/json/);
  const arr = JSON.parse(await r.text());
  assert.ok(Array.isArray(arr) && arr.length >= 3);
  const text = arr.map((c) => c.candidates[0].content.parts.map((p) => p.text ?? '').join('')).join('');
  assert.equal(text, `${POEM} echo: as array`);
  assert.equal(arr.at(-1).candidates[0].finishReason, 'STOP');
  assert.ok(arr.at(-1).usageMetadata.totalTokenCount > 0);
});

gtest('countTokens and the models list', async () => {
  const c = await ai.models.countTokens({ model: MODEL, contents: 'count these words please' });
  assert.ok(c.totalTokens > 0);
  const names = [];
  for await (const m of await ai.models.list()) names.push(m.name);
  assert.ok(names.includes('models/gemini-2.5-flash'), names.join(','));
  const m = await ai.models.get({ model: 'gemini-2.5-pro' });
  assert.equal(m.name, 'models/gemini-2.5-pro');
  assert.ok(m.inputTokenLimit > 0 && m.outputTokenLimit > 0);
  assert.ok(m.supportedActions.includes('generateContent'));
  await assert.rejects(ai.models.get({ model: 'no-such-model' }), (e) => e.status === 404);
});

gtest('the key: x-goog-api-key, ?key= or Bearer; errors in Google\'s shape', async () => {
  const body = { contents: [{ parts: [{ text: 'auth' }] }] };
  assert.equal((await gpost(`${MODEL}:generateContent`, body, { headers: {}, query: `?key=${KEY}` })).status, 200);
  assert.equal((await gpost(`${MODEL}:generateContent`, body,
    { headers: { authorization: `Bearer ${KEY}` } })).status, 200);
  const bad = await gpost(`${MODEL}:generateContent`, body, { headers: { 'x-goog-api-key': 'wrong' } });
  assert.equal(bad.status, 401);
  const j = await bad.json();
  assert.equal(j.error.code, 401);
  assert.equal(j.error.status, 'UNAUTHENTICATED');
  assert.ok(j.error.message);
  const badAi = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: s.url, apiVersion: 'v1beta' } });
  await assert.rejects(badAi.models.generateContent({ model: MODEL, contents: 'x' }), (e) => e.status === 401);
  const nf = await gpost('no-such-model:generateContent', body);
  assert.equal(nf.status, 404);
  assert.equal((await nf.json()).error.status, 'NOT_FOUND');
  const cc = await gpost(`${MODEL}:generateContent`, { ...body, generationConfig: { candidateCount: 2 } });
  assert.equal(cc.status, 400);
  assert.equal((await cc.json()).error.status, 'INVALID_ARGUMENT');
});

gtest('inlineData goes upstream as a file', async () => {
  await ai.models.generateContent({
    model: MODEL,
    contents: [{ role: 'user', parts: [{ text: 'what is this?' }, { inlineData: { mimeType: 'image/png', data: PNG_B64 } }] }],
  });
  const q = await lastStream();
  assert.equal(q.file_ids.length, 1);
});

gtest('function calling: functionCall, functionResponse by name, then the answer', async () => {
  const config = {
    tools: [{ functionDeclarations: [WEATHER_DECL] }],
    toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } },
  };
  const history = [{ role: 'user', parts: [{ text: `Weather in Paris? ${fakeAnswer(TOOL_REPLY)}` }] }];
  const r1 = await ai.models.generateContent({ model: MODEL, contents: history, config });
  const calls = r1.functionCalls;
  assert.equal(calls?.length, 1);
  assert.equal(calls[0].name, 'get_weather');
  assert.deepEqual(calls[0].args, { city: 'Paris' });
  assert.ok(calls[0].id, 'the gateway names its calls');
  assert.ok(!(r1.text ?? '').includes('tool_call'));
  // the client echoes the model turn and answers by name (no id), as many do
  history.push(r1.candidates[0].content);
  history.push({ role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp_c: 18 } } }] });
  const r2 = await ai.models.generateContent({ model: MODEL, contents: history, config });
  assert.ok(r2.text);
  assert.equal(r2.functionCalls, undefined);
  const q = await lastStream();
  assert.match(q.query_text, /18/);
});

gtest('function call streamed in one chunk', async () => {
  const stream = await ai.models.generateContentStream({
    model: MODEL, contents: `Weather? ${fakeAnswer(TOOL_REPLY)}`,
    config: { tools: [{ functionDeclarations: [WEATHER_DECL] }] },
  });
  const calls = [];
  for await (const ch of stream) calls.push(...(ch.functionCalls ?? []));
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].args, { city: 'Paris' });
});

gtest('a continuing conversation reuses the upstream session and sends only the new turn', async () => {
  const r1 = await ai.models.generateContent({ model: MODEL, contents: 'turn one' });
  const q1 = await lastStream();
  await ai.models.generateContent({
    model: MODEL,
    contents: [{ role: 'user', parts: [{ text: 'turn one' }] }, r1.candidates[0].content,
      { role: 'user', parts: [{ text: 'turn two' }] }],
  });
  const q2 = await lastStream();
  assert.equal(q2.session, q1.session);
  assert.ok(!q2.query_text.includes('turn one'));
});

gtest('an upstream failure mid-stream is an error chunk (the SDK throws)', async () => {
  const stream = await ai.models.generateContentStream({
    model: MODEL, contents: 'cut me [[fake:truncate,truncate_after=4]]',
  });
  await assert.rejects((async () => { for await (const ch of stream) void ch; })(),
    (e) => e.status >= 500 || /error/i.test(String(e.message)));
  await s.admin('POST', '/accounts/0/reset');   // the cut put the account in cooldown
  const r = await gpost(`${MODEL}:streamGenerateContent`, { contents: [{ parts: [{ text:
    'cut me too [[fake:truncate,truncate_after=4]]' }] }] });
  assert.equal(r.status, 200);
  const arr = JSON.parse(await r.text());   // still one valid JSON array
  assert.ok(arr.at(-1).error.code >= 500);
  assert.ok(arr.at(-1).error.status);
});

gtest('keep-alives during a slow first byte keep both framings valid', async () => {
  const body = { contents: [{ parts: [{ text: 'slow [[fake:first_byte_ms=2500]]' }] }] };
  const sse = await (await gpost(`${MODEL}:streamGenerateContent`, body, { query: '?alt=sse' })).text();
  assert.match(sse, /^:/m);
  const chunks = sse.split(/\r?\n\r?\n/).filter((f) => f.startsWith('data: ')).map((f) => JSON.parse(f.slice(6)));
  assert.equal(chunks.at(-1).candidates[0].finishReason, 'STOP');
  const arr = JSON.parse(await (await gpost(`${MODEL}:streamGenerateContent`, body)).text());
  assert.equal(arr.at(-1).candidates[0].finishReason, 'STOP');
});

gtest('a client disconnect cancels the upstream stream', async () => {
  const ac = new AbortController();
  const stream = await ai.models.generateContentStream({
    model: MODEL, contents: 'long [[fake:fragments=200,delay_ms=50]]', config: { abortSignal: ac.signal },
  });
  try {
    for await (const ch of stream) { if (ch.text) { ac.abort(); break; } }
  } catch { /* aborted */ }
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

gtest('model ids Gemini CLI uses resolve: known ones as they are, unknown ones by family (logged as upgrades)', async () => {
  const body = { contents: [{ parts: [{ text: 'which model?' }] }] };
  const cases = [['gemini-3.1-pro-preview', 'gemini-3.1-pro-preview'], ['gemini-3.5-flash-lite', 'gemini-3-flash-preview'],
    ['gemini-2.5-flash-lite', 'gemini-3-flash-preview'], ['gemini-3.5-pro', 'gemini-3.1-pro-preview'],
    ['models/gemini-3-flash-preview', 'gemini-3-flash-preview']];
  for (const [asked, used] of cases) {
    const r = await gpost(`${asked.replace('models/', '')}:generateContent`, body);
    const j = await r.json();
    assert.equal(r.status, 200, `${asked}: ${JSON.stringify(j)}`);
    assert.equal((await lastStream()).model_id, used, asked);
  }
  assert.match(s.logs(), /model gemini-3\.5-flash-lite upgraded to gemini-3-flash-preview/);
  const nf = await gpost('gemini-embedding-001:generateContent', body);
  assert.equal(nf.status, 404);
  assert.equal((await nf.json()).error.status, 'NOT_FOUND');
});

const SCHEMA = { type: 'OBJECT', properties: { complexity_reasoning: { type: 'STRING' }, complexity_score: { type: 'INTEGER' } },
  required: ['complexity_reasoning', 'complexity_score'] };
const JSON_ANSWER = '{"complexity_reasoning": "a greeting", "complexity_score": 5}';

gtest('JSON mode: responseMimeType application/json + responseJsonSchema asks for JSON and strips markdown fences', async () => {
  const config = { responseMimeType: 'application/json', responseJsonSchema: SCHEMA };
  const fenced = '```json\n' + JSON_ANSWER + '\n```\n';
  const r = await ai.models.generateContent({ model: MODEL, contents: `rate this ${fakeAnswer(fenced)}`, config });
  assert.deepEqual(JSON.parse(r.text), JSON.parse(JSON_ANSWER));
  const q = await lastStream();
  assert.match(q.query_text, /single JSON value only/);
  assert.match(q.query_text, /complexity_score/, 'the schema is in the query');
  // an unfenced answer is left alone; thoughts stay out of it
  const plain = await ai.models.generateContent({ model: MODEL, contents: `again ${fakeAnswer(JSON_ANSWER)}`, config });
  assert.equal(plain.text, JSON_ANSWER);
  // streamed, in both framings: the concatenated text is the bare JSON
  const st = await ai.models.generateContentStream({ model: MODEL, contents: `stream ${fakeAnswer(fenced)}`, config });
  let text = '';
  for await (const ch of st) text += ch.text ?? '';
  assert.equal(text, JSON_ANSWER);
  const arr = JSON.parse(await (await gpost(`${MODEL}:streamGenerateContent`, {
    contents: [{ parts: [{ text: `array ${fakeAnswer(fenced)}` }] }], generationConfig: config })).text());
  assert.equal(arr.map((c) => c.candidates[0].content.parts.map((p) => p.text ?? '').join('')).join(''), JSON_ANSWER);
  // other MIME types are refused like Google does
  const bad = await gpost(`${MODEL}:generateContent`, { contents: [{ parts: [{ text: 'x' }] }], generationConfig: { responseMimeType: 'image/png' } });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.status, 'INVALID_ARGUMENT');
});

gtest('incremental delivery: the first chunk arrives long before the answer ends', async () => {
  const t0 = Date.now();
  const r = await gpost(`${MODEL}:streamGenerateContent`, { contents: [{ parts: [{ text: 'slowly [[fake:fragments=10,delay_ms=150,nothoughts]]' }] }] },
    { query: '?alt=sse' });
  assert.equal(r.status, 200);
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '', at = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    if (at === null && buf.includes('"text"')) at = Date.now() - t0;
  }
  const total = Date.now() - t0;
  assert.ok(total >= 1200, `the fake spreads the answer over >= 1.35 s (took ${total} ms)`);
  assert.ok(at !== null && at < total - 800, `first chunk at ${at} ms of ${total} ms`);
  const chunks = buf.split(/\r?\n\r?\n/).filter((f) => f.startsWith('data: ')).map((f) => JSON.parse(f.slice(6)));
  assert.equal(chunks.at(-1).candidates[0].finishReason, 'STOP');
});

gtest('a conversation cannot leak across API keys', async () => {
  const r1 = await ai.models.generateContent({ model: MODEL, contents: 'secret of key A' });
  const sA = (await lastStream()).session;
  const history = [{ role: 'user', parts: [{ text: 'secret of key A' }] }, r1.candidates[0].content,
    { role: 'user', parts: [{ text: 'and now?' }] }];
  await aiB.models.generateContent({ model: MODEL, contents: history });
  const qB = await lastStream();
  assert.notEqual(qB.session, sA, 'key B continued key A\'s upstream session');
  assert.match(qB.query_text, /secret of key A/);
  await ai.models.generateContent({ model: MODEL, contents: history });
  const qA = await lastStream();
  assert.equal(qA.session, sA);
  assert.ok(!qA.query_text.includes('secret of key A'));
});

gtest('Gemini CLI 0.61-like pair: router generateContent with a JSON schema, then streamGenerateContent?alt=sse', async () => {
  const headers = { 'x-goog-api-key': KEY, 'x-goog-api-client': 'google-genai-sdk/1.30.0 gl-node/v20.20.2',
    'user-agent': 'GeminiCLI-tui/0.61.0/gemini-3.1-pro-preview (linux; x64; terminal)', 'x-gemini-api-privileged-user-id': 'u-1' };
  const ctx = { role: 'user', parts: [{ text: '<session_context>\nThis is the Gemini CLI.\n</session_context>' }] };
  const ask = { role: 'user', parts: [{ text: 'say hi' }] };
  const router = await gpost('gemini-3.5-flash-lite:generateContent', {
    contents: [ctx, { role: 'model', parts: [{ text: 'Got it. Thanks for the context!' }] },
      { role: 'user', parts: [{ text: `say hi ${fakeAnswer('```json\n' + JSON_ANSWER + '\n```')}` }] }],
    systemInstruction: { parts: [{ text: 'You are a specialized Task Routing AI.' }] },
    generationConfig: { temperature: 1, topP: 0.95, topK: 64, responseMimeType: 'application/json', responseJsonSchema: SCHEMA,
      thinkingConfig: { includeThoughts: true, thinkingLevel: 'HIGH' } },
  }, { headers });
  const rj = await router.json();
  assert.equal(router.status, 200, JSON.stringify(rj));
  const answer = rj.candidates[0].content.parts.filter((p) => !p.thought).map((p) => p.text).join('');
  assert.equal(JSON.parse(answer).complexity_score, 5);
  assert.equal((await lastStream()).model_id, 'gemini-3-flash-preview');
  const r = await gpost('gemini-3.1-pro-preview:streamGenerateContent', {
    contents: [ctx, ask],
    systemInstruction: { parts: [{ text: 'You are Gemini CLI, an autonomous CLI agent.' }] },
    tools: [{ functionDeclarations: [{ name: 'read_file', description: 'Reads a file',
      parametersJsonSchema: { type: 'object', properties: { file_path: { type: 'string' } }, required: ['file_path'] } }] }],
    generationConfig: { temperature: 1, topP: 0.95, topK: 64, thinkingConfig: { includeThoughts: true, thinkingLevel: 'HIGH' } },
  }, { headers, query: '?alt=sse' });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const chunks = (await r.text()).split(/\r?\n\r?\n/).filter((f) => f.startsWith('data: ')).map((f) => JSON.parse(f.slice(6)));
  const parts = chunks.flatMap((c) => c.candidates[0].content.parts ?? []);
  assert.match(parts.filter((p) => p.thought).map((p) => p.text).join(''), /Assessing the Request/);
  const text = parts.filter((p) => !p.thought).map((p) => p.text ?? '').join('');
  assert.match(text, new RegExp('^' + POEM));
  assert.ok(!text.includes('Assessing'));
  assert.equal(chunks.at(-1).candidates[0].finishReason, 'STOP');
  const q = await lastStream();
  assert.equal(q.model_id, 'gemini-3.1-pro-preview');
  assert.match(q.query_text, /You are Gemini CLI/);
});
