// Real-client tests of the Anthropic Messages dialect: the official
// @anthropic-ai/sdk (and raw fetch where the SDK hides the wire) against the
// real gemgated and the real fake upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { startStack } from '../lib/stack.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha = (b) => createHash('sha256').update(b).digest('hex');
const fakeFile = (magic, n = 2048) => Buffer.concat([Buffer.from(magic, 'binary'), randomBytes(n)]);
const PNG = fakeFile('\x89PNG\r\n\x1a\n');
const JPEG = fakeFile('\xff\xd8\xff\xe0');
const PDF = fakeFile('%PDF-1.7\n');
const POEM = '春眠不觉晓，处处闻啼鸟。';

const KEY_A = 'sk-anth-a-' + process.pid;
const KEY_B = 'sk-anth-b-' + process.pid;
let s, client, clientB, img, imgUrl;

before(async () => {
  img = createServer((req, res) => {
    if (req.url === '/photo.jpg') { res.writeHead(200, { 'content-type': 'image/jpeg' }); res.end(JPEG); }
    else { res.writeHead(404); res.end('nope'); }
  });
  await new Promise((r) => img.listen(0, '127.0.0.1', r));
  imgUrl = `http://127.0.0.1:${img.address().port}`;
  s = await startStack({
    env: {
      PING_INTERVAL: '1', COOLDOWN_ERROR: '1', COOLDOWN_429: '1', MAX_BODY: String(1 << 20),
      FETCH_ALLOW_PRIVATE: 'true', MAX_RETRIES: '1', CORS_ORIGINS: 'https://app.example',
      API_KEY: `${KEY_A},${KEY_B}`,
    },
  });
  s.apiKey = KEY_A;   // the first of the two keys (s.apiKey is what post() sends)
  client = new Anthropic({ apiKey: KEY_A, baseURL: s.url, maxRetries: 0 });
  clientB = new Anthropic({ apiKey: KEY_B, baseURL: s.url, maxRetries: 0 });
});
after(async () => {
  await s?.stop();
  img?.close();
});

// opts: node:test options ({ todo } for the tool-call tests)
function atest(name, fn, opts = {}) {
  test(name, opts, fn);
}

function post(path, body, headers = {}) {
  return fetch(s.url + path, {
    method: 'POST',
    headers: { 'x-api-key': s.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

// Wait until the account has no call in flight (a failed call marks its
// account when it ends, which can be just after the client saw the error),
// so that the reset() that follows is not undone by a late cooldown.
async function settle() {
  const t0 = Date.now();
  for (;;) {
    const a = await s.admin('GET', '/accounts/0');
    assert.equal(a.status, 200, a.text);
    const acct = a.json.account ?? a.json;
    if (acct.inflight === 0) return;
    if (Date.now() - t0 > 10000) throw new Error(`account 0 still has ${acct.inflight} call(s) in flight`);
    await sleep(20);
  }
}

async function reset() {
  await s.admin('POST', '/accounts/0/reset');
  await s.fake('DELETE', '/__fake/scenario');
}
const record = () => s.fake('GET', '/__fake/record');
const lastStream = async () => (await record()).requests.filter((q) => q.endpoint === 'stream').at(-1);

// Parse an SSE body into [{event, data}] (data parsed as JSON).
function sse(text) {
  const out = [];
  for (const frame of text.split('\n\n')) {
    if (!frame.trim()) continue;
    let event = null, data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    out.push({ event, data: data ? JSON.parse(data) : null });
  }
  return out;
}

// The event grammar of a complete stream: message_start, then blocks
// (start, deltas of the block's kind, stop) with increasing indices, then
// message_delta and message_stop; pings anywhere; event name == data.type.
function checkGrammar(events) {
  const ev = events.filter((e) => e.event !== 'ping');
  for (const e of events) assert.equal(e.data.type, e.event);
  assert.equal(ev[0].event, 'message_start');
  assert.equal(ev.at(-1).event, 'message_stop');
  assert.equal(ev.at(-2).event, 'message_delta');
  let open = null, next = 0;
  const deltaFor = { text: ['text_delta'], thinking: ['thinking_delta', 'signature_delta'], tool_use: ['input_json_delta'] };
  for (const e of ev.slice(1, -2)) {
    if (e.event === 'content_block_start') {
      assert.equal(open, null, 'a block starts while another is open');
      assert.equal(e.data.index, next);
      open = e.data.content_block.type;
    } else if (e.event === 'content_block_delta') {
      assert.equal(e.data.index, next);
      assert.ok(deltaFor[open].includes(e.data.delta.type), `${e.data.delta.type} in a ${open} block`);
    } else if (e.event === 'content_block_stop') {
      assert.equal(e.data.index, next);
      open = null;
      next++;
    } else {
      assert.fail(`unexpected event ${e.event}`);
    }
  }
  assert.equal(open, null);
  return ev;
}

// ---- messages ------------------------------------------------------------

atest('non-streaming: a message with system blocks, usage, no thinking unless asked', async () => {
  await reset();
  const m = await client.messages.create({
    model: 'gemini-2.5-pro', max_tokens: 1024,
    system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'Use English.' }],
    messages: [{ role: 'user', content: 'hello' }],
    metadata: { user_id: 'u-1' }, temperature: 0.2, top_k: 5,
  });
  assert.match(m.id, /^msg_[0-9a-f]+$/);
  assert.equal(m.type, 'message');
  assert.equal(m.role, 'assistant');
  assert.equal(m.stop_reason, 'end_turn');
  assert.equal(m.stop_sequence, null);
  assert.equal(m.content.length, 1);
  assert.equal(m.content[0].type, 'text');
  assert.match(m.content[0].text, new RegExp('^' + POEM));
  assert.ok(!m.content[0].text.includes('Assessing'), 'thinking leaked into the text');
  assert.ok(m.usage.input_tokens > 0 && m.usage.output_tokens > 0);
  const q = await lastStream();
  assert.match(q.query_text, /System: Be brief\.\n\nUse English\./);
  assert.match(q.query_text, /User: hello/);
  assert.equal(q.model_id, 'gemini-2.5-pro');
});

atest('thinking enabled: a thinking block with a signature before the text, streamed and not', async () => {
  await reset();
  const params = {
    model: 'gemini-2.5-flash', max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 },
    messages: [{ role: 'user', content: 'think first' }],
  };
  const m = await client.messages.create(params);
  assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'text']);
  assert.match(m.content[0].thinking, /Assessing the Request/);
  assert.ok(m.content[0].signature.length > 0);
  assert.ok(!m.content[1].text.includes('Assessing'));
  await reset();
  const stream = client.messages.stream(params);
  let thinking = '', text = '', signatures = 0;
  stream.on('thinking', (d) => { thinking += d; });
  stream.on('text', (d) => { text += d; });
  stream.on('signature', () => { signatures++; });
  const fin = await stream.finalMessage();
  assert.match(thinking, /Assessing the Request/);
  assert.match(text, new RegExp('^' + POEM));
  assert.equal(signatures, 1);
  assert.deepEqual(fin.content.map((b) => b.type), ['thinking', 'text']);
  assert.equal(fin.content[1].text, text);
  assert.equal(fin.stop_reason, 'end_turn');
  assert.ok(fin.usage.output_tokens > 0);
});

atest('streaming: exact event grammar, incremental delivery, thinking off by default', async () => {
  await reset();
  const r = await post('/v1/messages', {
    model: 'gemini-2.5-flash', max_tokens: 512, stream: true,
    messages: [{ role: 'user', content: 'stream me [[fake:fragments=8,delay_ms=150,nothoughts]]' }],
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '', reads = 0, firstDeltaRead = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    reads++;
    buf += dec.decode(value, { stream: true });
    if (firstDeltaRead === null && buf.includes('text_delta')) firstDeltaRead = reads;
  }
  const ev = checkGrammar(sse(buf));
  assert.ok(reads > firstDeltaRead, 'the answer arrived in more than one read');
  const start = ev[0].data.message;
  assert.match(start.id, /^msg_/);
  assert.deepEqual(start.content, []);
  assert.equal(start.stop_reason, null);
  assert.ok(start.usage.input_tokens > 0);
  assert.ok(!ev.some((e) => e.data.content_block?.type === 'thinking'));
  const text = ev.filter((e) => e.data.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('');
  assert.match(text, new RegExp('^' + POEM));
  assert.equal(ev.at(-2).data.delta.stop_reason, 'end_turn');
  assert.ok(ev.at(-2).data.usage.output_tokens > 0);
  // and through the SDK
  await reset();
  const stream = client.messages.stream({ model: 'gemini-2.5-flash', max_tokens: 512, messages: [{ role: 'user', content: 'again' }] });
  assert.match(await stream.finalText(), new RegExp('^' + POEM));
});

atest('multi-turn: the next turn continues the same upstream session and sends only the new message', async () => {
  await reset();
  const system = 'You are terse.';
  const first = await client.messages.create({
    model: 'gemini-2.5-flash', max_tokens: 512, system, messages: [{ role: 'user', content: 'first question' }],
  });
  const s1 = await lastStream();
  const second = await client.messages.create({
    model: 'gemini-2.5-flash', max_tokens: 512, system,
    messages: [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'text', text: 'second question' }] },
    ],
  });
  const s2 = await lastStream();
  assert.equal(second.stop_reason, 'end_turn');
  assert.equal(s2.session, s1.session, 'the same upstream session');
  assert.ok(!s2.query_text.includes('first question'), s2.query_text);
  assert.match(s2.query_text, /second question/);
});

atest('images (base64 and url) and a PDF document are uploaded; earlier turns are not', async () => {
  await reset();
  const before = (await record()).uploads.length;
  await client.messages.create({
    model: 'gemini-2.5-flash', max_tokens: 512,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'old' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') } }] },
      { role: 'assistant', content: 'a picture' },
      { role: 'user', content: [
        { type: 'text', text: 'what are these?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: JPEG.toString('base64') } },
        { type: 'image', source: { type: 'url', url: imgUrl + '/photo.jpg' } },
        { type: 'document', title: 'spec.pdf', source: { type: 'base64', media_type: 'application/pdf', data: PDF.toString('base64') } },
      ] },
    ],
  });
  const rec = await record();
  const ups = rec.uploads.slice(before);
  assert.deepEqual(ups.map((u) => u.sha256).sort(), [sha(JPEG), sha(JPEG), sha(PDF)].sort());
  assert.ok(ups.some((u) => u.mime_type === 'application/pdf'));
  assert.match(rec.requests.filter((q) => q.endpoint === 'stream').at(-1).query_text, /old \[image\]/);
});

atest('generated images arrive once, as a markdown link in the text block', async () => {
  await reset();
  const count = (t) => (t.match(/!\[image\]\(data:image\/png;base64,/g) || []).length;
  const m = await client.messages.create({
    model: 'gemini-2.5-flash-image', max_tokens: 1000, messages: [{ role: 'user', content: '[[fake:image,answer=Here you go.]] a cat' }],
  });
  assert.equal(m.content.length, 1);
  assert.match(m.content[0].text, /^Here you go\.\n\n!\[image\]\(data:image\/png;base64,/);
  assert.equal(count(m.content[0].text), 1);
  await reset();
  const text = await client.messages.stream({
    model: 'gemini-2.5-flash-image', max_tokens: 1000, messages: [{ role: 'user', content: '[[fake:image]] a dog' }],
  }).finalText();
  assert.equal(count(text), 1);
});

atest('stop_sequences and max_tokens map to stop_reason stop_sequence / max_tokens', async () => {
  await reset();
  const m = await client.messages.create({
    model: 'gemini-auto', max_tokens: 512, stop_sequences: ['处处'], messages: [{ role: 'user', content: 'poem' }],
  });
  assert.equal(m.content[0].text, '春眠不觉晓，');
  assert.equal(m.stop_reason, 'stop_sequence');
  assert.equal(m.stop_sequence, '处处');
  await reset();
  const stream = client.messages.stream({
    model: 'gemini-auto', max_tokens: 5, messages: [{ role: 'user', content: 'long [[fake:fragments=200,delay_ms=10,nothoughts]]' }],
  });
  const fin = await stream.finalMessage();
  assert.equal(fin.stop_reason, 'max_tokens');
  assert.ok(fin.content[0].text.length > 0 && fin.content[0].text.length < 60);
});

atest('count_tokens: non-zero, grows with content, equals usage.input_tokens', async () => {
  const base = { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'count me please' }] };
  const a = await client.messages.countTokens(base);
  assert.ok(a.input_tokens > 0);
  const b = await client.messages.countTokens({
    ...base, system: 'A long system prompt that says many things about many topics.',
    tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
  });
  assert.ok(b.input_tokens > a.input_tokens);
  await reset();
  const m = await client.messages.create({ ...base, max_tokens: 100 });
  assert.equal(m.usage.input_tokens, a.input_tokens);
  const r = await post('/v1/messages/count_tokens', { messages: [] });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.type, 'invalid_request_error');
});

atest('Claude model ids map to Gemini models and are logged as upgrades', async () => {
  await reset();
  await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 100, messages: [{ role: 'user', content: 'a' }] });
  assert.equal((await lastStream()).model_id, 'gemini-3.1-pro-preview');
  await client.messages.create({ model: 'claude-3-5-haiku-20241022', max_tokens: 100, messages: [{ role: 'user', content: 'b' }] });
  assert.equal((await lastStream()).model_id, 'gemini-3-flash-preview');
  assert.match(s.logs(), /model claude-sonnet-4-5-20250929 upgraded to gemini-3\.1-pro-preview/);
});

atest('web_search server tool turns grounding on', async () => {
  await reset();
  await client.messages.create({
    model: 'gemini-2.5-flash-nosearch', max_tokens: 100, messages: [{ role: 'user', content: 'news?' }],
    tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }],
  });
  assert.ok(JSON.stringify((await lastStream()).tools_spec || {}).includes('webGroundingSpec'));
});

// ---- auth and errors -----------------------------------------------------

atest('auth: x-api-key and Bearer work; a wrong key is 401 authentication_error', async () => {
  await reset();
  const bearer = new Anthropic({ apiKey: null, authToken: s.apiKey, baseURL: s.url, maxRetries: 0 });
  const m = await bearer.messages.create({ model: 'gemini-auto', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(m.type, 'message');
  const bad = new Anthropic({ apiKey: 'sk-wrong', baseURL: s.url, maxRetries: 0 });
  await assert.rejects(bad.messages.create({ model: 'gemini-auto', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.AuthenticationError && e.status === 401 && e.error.error.type === 'authentication_error');
});

// (the 413 envelope is checked with a headers-only request in "every error
// type in Anthropic's envelope": racing a 1 MB upload against the early 413
// makes fetch fail at random)
atest('errors: 400 invalid_request_error with the field, 404 not_found_error', async () => {
  const cases = [
    ['{not json', 400, 'invalid_request_error', /JSON/],
    [{ model: 'gemini-auto', messages: [{ role: 'user', content: 'x' }] }, 400, 'invalid_request_error', /^max_tokens: Field required/],
    [{ model: 'gemini-auto', max_tokens: 10, messages: [] }, 400, 'invalid_request_error', /^messages: /],
    [{ model: 'gemini-auto', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'AAAA' } }] }] },
      400, 'invalid_request_error', /^messages\.0\.content\.0\.source\.media_type: /],
    [{ model: 'claude-unknown-1', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, 404, 'not_found_error', /^model: claude-unknown-1/],
  ];
  for (const [body, status, type, msg] of cases) {
    const r = await post('/v1/messages', body);
    const j = await r.json();
    assert.equal(r.status, status, JSON.stringify(j));
    assert.equal(j.type, 'error');
    assert.equal(j.error.type, type);
    assert.match(j.error.message, msg);
  }
  await assert.rejects(client.messages.create({ model: 'nope', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.NotFoundError && e.error.error.type === 'not_found_error');
});

atest('429 rate_limit_error with retry-after; 529 overloaded_error when no account is usable', async () => {
  await reset();
  const r = await post('/v1/messages', { model: 'gemini-auto', max_tokens: 10, messages: [{ role: 'user', content: 'q [[fake:http429]]' }] });
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  assert.equal((await r.json()).error.type, 'rate_limit_error');
  await settle();
  await reset();
  await s.admin('POST', '/accounts/0/disable', { reason: 'test' });
  try {
    await assert.rejects(client.messages.create({ model: 'gemini-auto', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 529 && e.error.error.type === 'overloaded_error');
  } finally {
    await s.admin('POST', '/accounts/0/enable');
  }
});

atest('an upstream failure is api_error; a failure after the start is an error event, never message_stop', async () => {
  await reset();
  const r = await post('/v1/messages', { model: 'gemini-auto', max_tokens: 10, messages: [{ role: 'user', content: 'q [[fake:thoughts_only]]' }] });
  assert.ok(r.status >= 500, `status ${r.status}`);
  assert.equal((await r.json()).type, 'error');
  await settle();
  await reset();
  const r2 = await post('/v1/messages', {
    model: 'gemini-auto', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'q [[fake:truncate,truncate_after=4]]' }],
  });
  assert.equal(r2.status, 200);
  const ev = sse(await r2.text());
  assert.equal(ev[0].event, 'message_start');
  assert.ok(ev.some((e) => e.data.delta?.type === 'text_delta'), 'some text before the cut');
  assert.equal(ev.at(-1).event, 'error');
  assert.equal(ev.at(-1).data.type, 'error');
  assert.ok(ev.at(-1).data.error.type && ev.at(-1).data.error.message);
  assert.ok(!ev.some((e) => e.event === 'message_stop'));
  await settle();
  await reset();
  const stream = client.messages.stream({ model: 'gemini-auto', max_tokens: 100, messages: [{ role: 'user', content: 'q2 [[fake:truncate,truncate_after=4]]' }] });
  await assert.rejects(stream.finalMessage());
});

atest('ping events keep a slow first byte alive; the SDK ignores them', async () => {
  await reset();
  const t0 = Date.now();
  const r = await post('/v1/messages', {
    model: 'gemini-auto', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'slow [[fake:first_byte_ms=2600]]' }],
  });
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '', pingAt = null, dataAt = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    if (pingAt === null && buf.includes('event: ping\ndata: {"type": "ping"}')) pingAt = Date.now() - t0;
    if (dataAt === null && buf.includes('text_delta')) dataAt = Date.now() - t0;
  }
  assert.ok(pingAt !== null, 'no ping seen');
  assert.ok(dataAt !== null && pingAt < dataAt, `ping at ${pingAt} ms, first text at ${dataAt} ms`);
  checkGrammar(sse(buf));
  await reset();
  const text = await client.messages.stream({ model: 'gemini-auto', max_tokens: 100, messages: [{ role: 'user', content: 'slow [[fake:first_byte_ms=1600]]' }] }).finalText();
  assert.match(text, new RegExp('^' + POEM));
});

atest('client disconnect cancels the upstream transfer within a second', async () => {
  await reset();
  await s.fake('POST', '/__fake/reset');
  const ac = new AbortController();
  const r = await fetch(s.url + '/v1/messages', {
    method: 'POST', signal: ac.signal, headers: { 'x-api-key': s.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-auto', max_tokens: 100000, stream: true,
      messages: [{ role: 'user', content: 'long [[fake:fragments=200,delay_ms=200]]' }] }),
  });
  const reader = r.body.getReader();
  await reader.read();
  await reader.read();
  const tAbort = Date.now();
  ac.abort();
  for (;;) {
    const st = await lastStream();
    if (st && st.disconnected) break;
    assert.ok(Date.now() - tAbort < 1500, 'upstream still streaming 1.5 s after the client left');
    await sleep(50);
  }
});

// ---- tool calls (issue 13; the fake answers in docs/TOOLS.md's format) ----

const WEATHER = { name: 'get_weather', description: 'Current weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const callReply = (name, args) => `<tool_call>\n${JSON.stringify({ name, arguments: args })}\n</tool_call>`;

atest('tool loop: tool_use (streamed input_json_delta) -> tool_result -> final answer', async () => {
  await reset();
  await s.fake('POST', '/__fake/scenario', { endpoint: 'stream', answer: callReply('get_weather', { city: 'Paris' }) });
  const stream = client.messages.stream({
    model: 'gemini-2.5-flash', max_tokens: 1024, tools: [WEATHER],
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
  });
  let partial = '';
  stream.on('inputJson', (d) => { partial += d; });
  const first = await stream.finalMessage();
  assert.equal(first.stop_reason, 'tool_use');
  const use = first.content.find((b) => b.type === 'tool_use');
  assert.ok(use, JSON.stringify(first.content));
  assert.equal(use.name, 'get_weather');
  assert.deepEqual(use.input, { city: 'Paris' });
  assert.deepEqual(JSON.parse(partial), { city: 'Paris' });
  assert.ok(use.id.length > 0);
  const q1 = await lastStream();
  assert.match(q1.query_text, /get_weather/);
  const second = await client.messages.create({
    model: 'gemini-2.5-flash', max_tokens: 1024, tools: [WEATHER],
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18 C and sunny' }] },
    ],
  });
  assert.equal(second.stop_reason, 'end_turn');
  assert.match(second.content.at(-1).text, new RegExp('^' + POEM));
  assert.match((await lastStream()).query_text, /18 C and sunny/);
});

atest('tool_choice none sends no tools; a non-streamed call has its input as an object', async () => {
  await reset();
  await client.messages.create({
    model: 'gemini-2.5-flash', max_tokens: 100, tools: [WEATHER], tool_choice: { type: 'none' },
    messages: [{ role: 'user', content: 'no tools please' }],
  });
  assert.ok(!(await lastStream()).query_text.includes('get_weather'));
  await reset();
  await s.fake('POST', '/__fake/scenario', { endpoint: 'stream', answer: callReply('get_weather', { city: 'Oslo' }) });
  const m = await client.messages.create({
    model: 'gemini-2.5-flash', max_tokens: 100, tools: [WEATHER], tool_choice: { type: 'tool', name: 'get_weather' },
    messages: [{ role: 'user', content: 'Oslo?' }],
  });
  assert.equal(m.stop_reason, 'tool_use');
  assert.deepEqual(m.content.find((b) => b.type === 'tool_use').input, { city: 'Oslo' });
});

// ---- a Claude Code-like session --------------------------------------------

atest('Claude Code-like: count_tokens, then a streamed ?beta=true call with a system array, tools and betas', async () => {
  await reset();
  const system = [
    { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." },
    { type: 'text', text: 'You are an interactive CLI tool that helps users with software engineering tasks.', cache_control: { type: 'ephemeral' } },
  ];
  const tools = [
    { name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } },
    { name: 'Read', description: 'Read a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' } }, required: ['file_path'] } },
  ];
  const messages = [{ role: 'user', content: [
    { type: 'text', text: '<system-reminder>context</system-reminder>' },
    { type: 'text', text: 'list the files', cache_control: { type: 'ephemeral' } },
  ] }];
  const n = await client.beta.messages.countTokens({
    model: 'claude-sonnet-4-5-20250929', system, tools, messages, betas: ['token-counting-2024-11-01'],
  });
  assert.ok(n.input_tokens > 0);
  const stream = client.beta.messages.stream({
    model: 'claude-sonnet-4-5-20250929', max_tokens: 32000, system, tools, messages, stream: true,
    metadata: { user_id: 'user_abc_account__session_123' }, betas: ['interleaved-thinking-2025-05-14', 'fine-grained-tool-streaming-2025-05-14'],
    thinking: { type: 'enabled', budget_tokens: 4000 },
  });
  const fin = await stream.finalMessage();
  assert.equal(fin.stop_reason, 'end_turn');
  assert.equal(fin.content.at(-1).type, 'text');
  assert.match(fin.content.at(-1).text, new RegExp('^' + POEM));
  assert.equal(fin.usage.input_tokens, n.input_tokens);
  const q = await lastStream();
  assert.match(q.query_text, /You are Claude Code/);
  assert.match(q.query_text, /list the files/);
});

// ---- issue 12 checks -------------------------------------------------------

// Reads a fetch Response body, noting when `marker` first appears.
async function timedRead(r, marker) {
  const t0 = Date.now();
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '', at = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    if (at === null && buf.includes(marker)) at = Date.now() - t0;
  }
  return { buf, at, total: Date.now() - t0 };
}

atest('incremental delivery: the first text_delta arrives long before the answer ends', async () => {
  await reset();
  const r = await post('/v1/messages', {
    model: 'gemini-2.5-flash', max_tokens: 4096, stream: true,
    messages: [{ role: 'user', content: 'slowly [[fake:fragments=10,delay_ms=150,nothoughts]]' }],
  });
  assert.equal(r.status, 200);
  const { buf, at, total } = await timedRead(r, 'text_delta');
  assert.ok(total >= 1200, `the fake spreads the answer over >= 1.35 s (took ${total} ms)`);
  assert.ok(at !== null && at < total - 800, `first text at ${at} ms of ${total} ms`);
  checkGrammar(sse(buf));
});

atest('thinking {type: "adaptive"} (as Claude Code sends it) returns thinking; disabled and absent do not', async () => {
  await reset();
  const base = { model: 'gemini-2.5-flash', max_tokens: 8192, messages: [{ role: 'user', content: 'adaptive' }] };
  const m = await client.messages.create({ ...base, thinking: { type: 'adaptive' } });
  assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'text']);
  assert.match(m.content[0].thinking, /Assessing the Request/);
  assert.ok(!m.content[1].text.includes('Assessing'), 'thinking leaked into the text');
  await reset();
  const st = client.messages.stream({ ...base, thinking: { type: 'adaptive' } });
  let thinking = '', text = '';
  st.on('thinking', (d) => { thinking += d; });
  st.on('text', (d) => { text += d; });
  await st.finalMessage();
  assert.match(thinking, /Assessing the Request/);
  assert.ok(!text.includes('Assessing'));
  for (const thinkingOpt of [{ type: 'disabled' }, undefined]) {
    await reset();
    const off = await client.messages.create({ ...base, ...(thinkingOpt ? { thinking: thinkingOpt } : {}) });
    assert.deepEqual(off.content.map((b) => b.type), ['text'], JSON.stringify(thinkingOpt));
    assert.ok(!off.content[0].text.includes('Assessing'));
  }
});

atest('?beta=true, anthropic-version / anthropic-beta headers, Bearer auth, HEAD / probe, CORS preflight', async () => {
  await reset();
  const head = await fetch(s.url + '/', { method: 'HEAD' });
  assert.equal(head.status, 200, 'Claude Code probes HEAD / first');
  const body = { model: 'claude-opus-4-8', max_tokens: 100, messages: [{ role: 'user', content: 'beta' }] };
  const r = await fetch(s.url + '/v1/messages?beta=true', {
    method: 'POST', body: JSON.stringify(body),
    headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01',
      'anthropic-beta': 'claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14',
      'anthropic-dangerous-direct-browser-access': 'true', 'x-app': 'cli' },
  });
  const j = await r.json();
  assert.equal(r.status, 200, JSON.stringify(j));
  assert.equal(j.type, 'message');
  const c = await fetch(s.url + '/v1/messages/count_tokens?beta=true', {
    method: 'POST', body: JSON.stringify(body),
    headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json', 'anthropic-beta': 'token-counting-2024-11-01' },
  });
  assert.equal(c.status, 200);
  assert.ok((await c.json()).input_tokens > 0);
  const pre = await fetch(s.url + '/v1/messages', {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST',
      'access-control-request-headers': 'x-api-key,anthropic-version,anthropic-beta,anthropic-dangerous-direct-browser-access,content-type' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
  const allowed = pre.headers.get('access-control-allow-headers').split(/,\s*/);
  for (const h of ['x-api-key', 'anthropic-version', 'anthropic-beta', 'anthropic-dangerous-direct-browser-access', 'content-type'])
    assert.ok(allowed.includes(h), `${h} not in Access-Control-Allow-Headers`);
});

atest('count_tokens is never 0, even for a near-empty request', async () => {
  for (const content of ['a', [{ type: 'text', text: '.' }], [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') } }]]) {
    const r = await post('/v1/messages/count_tokens', { model: 'claude-haiku-4-5', messages: [{ role: 'user', content }] });
    const j = await r.json();
    assert.equal(r.status, 200, JSON.stringify(j));
    assert.ok(j.input_tokens > 0, JSON.stringify(content));
  }
});

atest('every error type in Anthropic\'s envelope: 401, 404, 405, 413 (body limit), 500/502 api_error', async () => {
  const noKey = await fetch(s.url + '/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(noKey.status, 401);
  assert.deepEqual(Object.keys(await noKey.json()).sort(), ['error', 'type']);
  // only the headers: the gateway refuses by Content-Length before the body
  // (racing a 1 MB upload against the early 413 makes fetch fail at random)
  const big = await new Promise((resolve, reject) => {
    const req = httpRequest(s.url + '/v1/messages', { method: 'POST', headers: {
      'x-api-key': KEY_A, 'content-type': 'application/json', 'content-length': String(1_200_000) } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => { req.destroy(); resolve({ status: res.statusCode, body }); });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
  assert.equal(big.status, 413);
  const bj = JSON.parse(big.body);
  assert.equal(bj.type, 'error');
  assert.equal(bj.error.type, 'request_too_large');
  const get = await fetch(s.url + '/v1/messages', { headers: { 'x-api-key': KEY_A } });
  assert.ok(get.status === 405 || get.status === 404, `GET /v1/messages: ${get.status}`);
  assert.equal((await get.json()).type, 'error');
  await reset();
  const up = await post('/v1/messages', { model: 'gemini-auto', max_tokens: 10, messages: [{ role: 'user', content: 'q [[fake:http500]]' }] });
  assert.ok(up.status >= 500 && up.status !== 529, `status ${up.status}`);
  assert.equal((await up.json()).error.type, 'api_error');
  await settle();
});

atest('a conversation cannot leak across API keys', async () => {
  await reset();
  const first = await client.messages.create({ model: 'gemini-2.5-flash', max_tokens: 100, messages: [{ role: 'user', content: 'secret of key A' }] });
  const sA = (await lastStream()).session;
  const history = [
    { role: 'user', content: 'secret of key A' }, { role: 'assistant', content: first.content },
    { role: 'user', content: 'and now?' },
  ];
  await clientB.messages.create({ model: 'gemini-2.5-flash', max_tokens: 100, messages: history });
  const qB = await lastStream();
  assert.notEqual(qB.session, sA, 'key B continued key A\'s upstream session');
  assert.match(qB.query_text, /secret of key A/, 'key B gets a fresh session with its own full history');
  await client.messages.create({ model: 'gemini-2.5-flash', max_tokens: 100, messages: history });
  const qA = await lastStream();
  assert.equal(qA.session, sA, 'key A still continues its own session');
  assert.ok(!qA.query_text.includes('secret of key A'));
});

atest('Claude Code 2.1-like session: HEAD / probe, count_tokens, then a streamed ?beta=true call with the captured headers and body keys', async () => {
  await reset();
  const headers = {
    accept: 'application/json', authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json',
    'user-agent': 'claude-cli/2.1.197 (external, sdk-cli)', 'x-claude-code-session-id': '262eb7e1-0a7e-4b54-8b9e-beb49c44d82c',
    'x-stainless-lang': 'js', 'x-stainless-retry-count': '0', 'x-stainless-timeout': '600',
    'anthropic-beta': 'claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14,context-management-2025-06-27,effort-2025-11-24',
    'anthropic-dangerous-direct-browser-access': 'true', 'anthropic-version': '2023-06-01', 'x-app': 'cli',
    'accept-encoding': 'gzip, deflate, br, zstd',
  };
  const cc = { type: 'ephemeral' };
  const body = {
    model: 'claude-opus-4-8',
    messages: [{ role: 'user', content: [
      { type: 'text', text: '<system-reminder>\nToday\'s date is 2026-12-01.\n</system-reminder>' },
      { type: 'text', text: 'say hi', cache_control: cc },
    ] }],
    system: [
      { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.197.123; cc_entrypoint=sdk-cli;' },
      { type: 'text', text: 'You are a Claude agent, built on Anthropic\'s Claude Agent SDK.', cache_control: cc },
      { type: 'text', text: 'You are an interactive agent that helps users with software engineering tasks.', cache_control: cc },
    ],
    tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }],
    metadata: { user_id: JSON.stringify({ device_id: 'f92a', account_uuid: '', session_id: '262eb7e1' }) },
    max_tokens: 64000, thinking: { type: 'adaptive' },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    output_config: { effort: 'high' }, stream: true,
  };
  const probe = await fetch(s.url + '/', { method: 'HEAD', headers: { 'user-agent': headers['user-agent'] } });
  assert.equal(probe.status, 200, 'the HEAD / connectivity probe');
  const n = await fetch(s.url + '/v1/messages/count_tokens?beta=true', { method: 'POST', headers, body: JSON.stringify({ ...body, stream: undefined, max_tokens: undefined }) });
  const nj = await n.json();
  assert.equal(n.status, 200, JSON.stringify(nj));
  assert.ok(nj.input_tokens > 0);
  const r = await fetch(s.url + '/v1/messages?beta=true', { method: 'POST', headers, body: JSON.stringify(body) });
  assert.equal(r.status, 200);
  const ev = checkGrammar(sse(await r.text()));
  assert.equal(ev[0].data.message.usage.input_tokens, nj.input_tokens);
  assert.deepEqual(ev.filter((e) => e.event === 'content_block_start').map((e) => e.data.content_block.type), ['thinking', 'text']);
  const text = ev.filter((e) => e.data.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('');
  assert.match(text, new RegExp('^' + POEM));
  assert.ok(!text.includes('Assessing'));
  assert.equal(ev.at(-2).data.delta.stop_reason, 'end_turn');
  const q = await lastStream();
  assert.equal(q.model_id, 'gemini-3.1-pro-preview');
  assert.match(q.query_text, /You are a Claude agent/);
  assert.match(q.query_text, /say hi/);
});
