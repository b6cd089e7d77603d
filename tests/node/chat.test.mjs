// Real-client tests: the official openai SDK (and raw fetch where the SDK
// hides the wire) against the real gemgated and the real fake upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, waitFor } from '../lib/stack.mjs';

let s, client;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  s = await startStack({ env: { PING_INTERVAL: '1', COOLDOWN_ERROR: '1', COOLDOWN_429: '1', MAX_BODY: '65536' } });
  client = new OpenAI({ apiKey: s.apiKey, baseURL: s.url + '/v1', maxRetries: 0 });
});
after(async () => { await s?.stop(); });

async function resetAccounts() {
  // end cooldowns a previous test may have caused: wait until no request is
  // in flight (a failed call may still be failing over), then reset and
  // check every account is active again
  await waitFor(async () => (await s.admin('GET', '/accounts')).json.accounts.every((a) => a.inflight === 0), 10000, 'no request in flight');
  const r = await s.admin('POST', '/accounts/0/reset');
  assert.equal(r.status, 200, `reset: ${r.text}`);
  await s.fake('DELETE', '/__fake/scenario');
  await waitFor(async () => (await s.admin('GET', '/accounts')).json.accounts.every((a) => a.status === 'active'), 5000, 'accounts active');
}

test('streaming: role first, reasoning apart from content, stop, [DONE]', async () => {
  await resetAccounts();
  const stream = await client.chat.completions.create({
    model: 'gemini-2.5-flash', stream: true,
    messages: [{ role: 'user', content: 'stream me' }],
  });
  let content = '', reasoning = '', first = null, finish = null, chunks = 0, usageSeen = false;
  for await (const ch of stream) {
    chunks++;
    if (ch.usage) usageSeen = true;
    const c = ch.choices[0];
    if (!c) continue;
    if (first === null) first = c.delta;
    if (c.delta.content) content += c.delta.content;
    if (c.delta.reasoning_content) reasoning += c.delta.reasoning_content;
    if (c.finish_reason) finish = c.finish_reason;
    assert.equal(ch.object, 'chat.completion.chunk');
  }
  assert.equal(first.role, 'assistant');
  assert.ok(chunks >= 4, `got ${chunks} chunks`);
  assert.match(content, /^春眠不觉晓，处处闻啼鸟。 echo: stream me$/);
  assert.match(reasoning, /Assessing the Request/);
  assert.ok(!content.includes('Assessing'), 'thinking leaked into content');
  assert.equal(finish, 'stop');
  assert.equal(usageSeen, false, 'usage must only be sent when asked');
});

test('non-streaming: chat.completion with usage and reasoning_content', async () => {
  await resetAccounts();
  const r = await client.chat.completions.create({
    model: 'gemini-2.5-pro', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello' }],
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.match(r.choices[0].message.content, /春眠不觉晓/);
  assert.match(r.choices[0].message.reasoning_content, /Assessing the Request/);
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  // the fake recorded the flattened query with the system prompt
  const rec = await s.fake('GET', '/__fake/record');
  const last = rec.requests.filter((q) => q.endpoint === 'stream').at(-1);
  assert.match(last.query_text, /System: be brief/);
  assert.match(last.query_text, /User: hello/);
  assert.equal(last.model_id, 'gemini-2.5-pro');
});

test('stream_options.include_usage adds one usage chunk with empty choices', async () => {
  await resetAccounts();
  const stream = await client.chat.completions.create({
    model: 'gemini-2.5-flash', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'count me' }],
  });
  const usageChunks = [];
  let nullUsage = 0;
  for await (const ch of stream) {
    if (ch.usage) usageChunks.push(ch);
    else if (ch.usage === null) nullUsage++;
  }
  assert.equal(usageChunks.length, 1);
  assert.deepEqual(usageChunks[0].choices, []);
  assert.ok(usageChunks[0].usage.completion_tokens > 0);
  assert.ok(nullUsage > 0, 'other chunks carry usage:null');
});

test('THINKING=drop is honoured and CJK split across TCP writes arrives intact', async () => {
  await resetAccounts();
  const stream = await client.chat.completions.create({
    model: 'gemini-2.5-flash', stream: true,
    messages: [{ role: 'user', content: '汉字 [[fake:split_utf8]]' }],
  });
  let content = '';
  for await (const ch of stream) content += ch.choices[0]?.delta?.content || '';
  assert.ok(content.startsWith('春眠不觉晓，处处闻啼鸟。'), content);
  assert.ok(!content.includes('\ufffd'), 'replacement character: UTF-8 was broken');
  assert.ok(content.includes('汉字'));
});

test('auth errors: missing and wrong key are 401 in the OpenAI envelope', async () => {
  const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: s.url + '/v1', maxRetries: 0 });
  await assert.rejects(bad.chat.completions.create({ model: 'gemini-auto', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 401 && e.code === 'invalid_api_key' && e.type === 'invalid_request_error');
  const r = await fetch(s.url + '/v1/chat/completions', { method: 'POST', body: '{}' });
  assert.equal(r.status, 401);
  const j = await r.json();
  assert.equal(j.error.code, 'missing_api_key');
  assert.ok(r.headers.get('x-request-id'));
  // x-api-key works too
  const r2 = await fetch(s.url + '/v1/models', { headers: { 'x-api-key': s.apiKey } });
  assert.equal(r2.status, 200);
});

test('validation errors: 400 with param, 404 model, 413 body', async () => {
  const post = (body) => fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' }, body,
  });
  const cases = [
    ['{not json', 400, null, 'invalid_json'],
    ['{"model":"gemini-auto"}', 400, 'messages', 'missing_required_parameter'],
    ['{"model":"gemini-auto","messages":[]}', 400, 'messages', 'empty_array'],
    ['{"model":"gemini-auto","messages":"hi"}', 400, 'messages', 'invalid_type'],
    ['{"model":"gemini-auto","messages":[{"role":"user","content":"x"}],"stream":"yes"}', 400, 'stream', 'invalid_type'],
    ['{"model":"gemini-auto","messages":[{"role":"user","content":"x"}],"n":2}', 400, 'n', 'unsupported_value'],
    ['{"model":"gemini-auto","messages":[{"role":"wizard","content":"x"}]}', 400, 'messages[0].role', 'invalid_value'],
    ['{"model":"gemini-auto","messages":[{"role":"user","content":"x"}],"temperature":"hot"}', 400, 'temperature', 'invalid_type'],
    ['{"model":42,"messages":[{"role":"user","content":"x"}]}', 400, 'model', 'invalid_type'],
    ['{"model":"gpt-99-ultra","messages":[{"role":"user","content":"x"}]}', 404, 'model', 'model_not_found'],
  ];
  for (const [body, status, param, code] of cases) {
    const r = await post(body);
    const j = await r.json();
    assert.equal(r.status, status, body);
    assert.equal(j.error.param, param, body);
    assert.equal(j.error.code, code, body);
    assert.equal(typeof j.error.message, 'string');
    assert.ok('type' in j.error);
  }
  const big = JSON.stringify({ model: 'gemini-auto', messages: [{ role: 'user', content: 'x'.repeat(70000) }] });
  const r = await post(big);
  assert.equal(r.status, 413);
  assert.equal((await r.json()).error.code, 'request_too_large');
  // SDK surfaces the envelope
  await assert.rejects(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 404 && e.code === 'model_not_found');
});

test('upstream 429 on the only account: 429 with Retry-After', async () => {
  await resetAccounts();
  const r = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-auto', messages: [{ role: 'user', content: 'q [[fake:http429]]' }] }),
  });
  assert.equal(r.status, 429);
  const ra = Number(r.headers.get('retry-after'));
  assert.ok(ra >= 1, 'Retry-After present');
  const j = await r.json();
  assert.equal(j.error.type, 'rate_limit_error');
  // while cooling down, a new request is refused fast with 429 too
  const r2 = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-auto', messages: [{ role: 'user', content: 'again' }] }),
  });
  assert.equal(r2.status, 429);
  assert.ok(r2.headers.get('retry-after'));
  // in-band 429 element also counts as rate limit
  await resetAccounts();
  const r3 = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-auto', messages: [{ role: 'user', content: 'q [[fake:inband429]]' }] }),
  });
  assert.equal(r3.status, 429);
});

test('upstream 5xx and thoughts-only end in 502 with a clear message, not success', async () => {
  await resetAccounts();
  const r = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-auto', messages: [{ role: 'user', content: 'q [[fake:thoughts_only]]' }] }),
  });
  assert.equal(r.status, 502);
  assert.match((await r.json()).error.message, /thoughts but no answer/);
  await resetAccounts();
  const r2 = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-auto', messages: [{ role: 'user', content: 'q [[fake:http500]]' }] }),
  });
  assert.ok(r2.status === 502 || r2.status === 503, `status ${r2.status}`);
  assert.ok((await r2.json()).error.message.length > 0);
});

test('policy SKIPPED answers with a content_filter finish', async () => {
  await resetAccounts();
  const r = await client.chat.completions.create({
    model: 'gemini-auto', messages: [{ role: 'user', content: 'q [[fake:skipped]]' }],
  });
  assert.equal(r.choices[0].finish_reason, 'content_filter');
  assert.match(r.choices[0].message.content, /CUSTOMER_POLICY_VIOLATION/);
});

test('truncated upstream stream is not reported as success', async () => {
  await resetAccounts();
  const r = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-auto', stream: true,
      messages: [{ role: 'user', content: 'q [[fake:truncate,truncate_after=4]]' }] }),
  });
  assert.equal(r.status, 200);
  const text = await r.text();
  assert.match(text, /"content":"/, 'some content arrived before the cut');
  assert.match(text, /data: \{"error":\{/);
  const frame = JSON.parse(/data: (\{"error":.*)/.exec(text)[1]).error;
  assert.ok(frame.message.length > 0, 'the error frame has a message');
  assert.ok(!text.includes('[DONE]'), 'a cut stream must not end with [DONE]');
  assert.ok(!text.includes('"finish_reason":"stop"'));
  // and the SDK raises instead of returning a "complete" answer
  await resetAccounts();
  const stream = await client.chat.completions.create({
    model: 'gemini-auto', stream: true, messages: [{ role: 'user', content: 'q2 [[fake:truncate,truncate_after=4]]' }],
  });
  await assert.rejects((async () => { for await (const _ of stream) { /* drain */ } })(),
    (e) => e instanceof Error && String(e.message).includes(frame.message), 'the SDK raises the gateway\'s error frame');
});

test('keep-alive pings arrive before a slow first byte', async () => {
  await resetAccounts();
  const t0 = Date.now();
  const r = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-auto', stream: true,
      messages: [{ role: 'user', content: 'slow [[fake:first_byte_ms=2600]]' }] }),
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '', pingAt = null, dataAt = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    if (pingAt === null && buf.includes(': ping')) pingAt = Date.now() - t0;
    if (dataAt === null && buf.includes('"content":"')) dataAt = Date.now() - t0;
  }
  assert.ok(pingAt !== null, 'no ping seen');
  assert.ok(dataAt !== null && pingAt < dataAt, `ping at ${pingAt} ms, first content at ${dataAt} ms`);
  assert.ok(buf.trimEnd().endsWith('data: [DONE]'));
});

test('client disconnect cancels the upstream transfer within a second', async () => {
  await resetAccounts();
  await s.fake('POST', '/__fake/reset');
  const ac = new AbortController();
  const r = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST', signal: ac.signal,
    headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-auto', stream: true,
      messages: [{ role: 'user', content: 'long [[fake:fragments=200,delay_ms=200]]' }] }),
  });
  const reader = r.body.getReader();
  await reader.read();
  await reader.read();
  const tAbort = Date.now();
  ac.abort();
  let rec;
  for (;;) {
    rec = await s.fake('GET', '/__fake/record');
    const st = rec.requests.filter((q) => q.endpoint === 'stream').at(-1);
    if (st && st.disconnected) break;
    assert.ok(Date.now() - tAbort < 1500, 'upstream still streaming 1.5 s after the client left');
    await sleep(50);
  }
  assert.ok(Date.now() - tAbort <= 1200, `cancel took ${Date.now() - tAbort} ms`);
});

test('models list and retrieve in OpenAI shape; request ids on every response', async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id);
  for (const id of ['gemini-auto', 'gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-3-flash-preview',
    'gemini-3-pro-preview', 'gemini-3.1-pro-preview'])
    assert.ok(ids.includes(id), id);
  assert.equal(list.data[0].object, 'model');
  const m = await client.models.retrieve('gemini-2.5-pro');
  assert.equal(m.id, 'gemini-2.5-pro');
  await assert.rejects(client.models.retrieve('nope'), (e) => e.status === 404);
  const r = await fetch(s.url + '/v1/models', { headers: { authorization: `Bearer ${s.apiKey}` } });
  assert.match(r.headers.get('x-request-id'), /^req_[0-9a-f]+$/);
});

test('aliases are upgraded and logged; gemini-auto sends no modelId', async () => {
  await resetAccounts();
  const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'alias' }] });
  assert.equal(r.model, 'gemini-2.5-flash');
  await client.chat.completions.create({ model: 'gemini-auto', messages: [{ role: 'user', content: 'auto' }] });
  const rec = await s.fake('GET', '/__fake/record');
  const streams = rec.requests.filter((q) => q.endpoint === 'stream');
  assert.equal(streams.at(-2).model_id, 'gemini-2.5-flash');
  assert.equal(streams.at(-1).model_id, null);
  assert.match(s.logs(), /model gpt-4o upgraded to gemini-2\.5-flash/);
});

test('secrets never appear in the daemon log', async () => {
  const log = s.logs();
  assert.ok(!log.includes(s.apiKey), 'API key in log');
  assert.ok(!log.includes(s.adminKey), 'admin key in log');
  assert.ok(!log.includes('demo-ses'), 'cookie in log');
  assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.eyJ/.test(log), 'JWT in log');
});

test('stop sequences are applied by the gateway, also across fragment boundaries', async () => {
  await resetAccounts();
  // the fake answers "春眠不觉晓，处处闻啼鸟。 echo: ..." in ~4-character fragments
  const r = await client.chat.completions.create({
    model: 'gemini-auto', stop: ['处处'], messages: [{ role: 'user', content: 'poem' }],
  });
  assert.equal(r.choices[0].message.content, '春眠不觉晓，');
  assert.equal(r.choices[0].finish_reason, 'stop');
  const stream = await client.chat.completions.create({
    model: 'gemini-auto', stream: true, stop: ['never-there', '觉晓'], messages: [{ role: 'user', content: 'poem' }],
  });
  let content = '', finish = null;
  for await (const ch of stream) {
    content += ch.choices[0]?.delta?.content || '';
    finish = ch.choices[0]?.finish_reason || finish;
  }
  assert.equal(content, '春眠不', 'the stop sequence spans two upstream fragments');
  assert.equal(finish, 'stop');
});

test('stop sequences that never match: the whole answer arrives (held-back text is flushed)', async () => {
  await resetAccounts();
  const want = '春眠不觉晓，处处闻啼鸟。 echo: poem-tail-xyz';
  // a long stop sequence holds back up to len-1 bytes at every fragment
  const stop = ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 'tail-xyw'];
  const r = await client.chat.completions.create({ model: 'gemini-auto', stop, messages: [{ role: 'user', content: 'poem-tail-xyz' }] });
  assert.equal(r.choices[0].message.content, want);
  assert.equal(r.choices[0].finish_reason, 'stop');
  const stream = await client.chat.completions.create({ model: 'gemini-auto', stream: true, stop, messages: [{ role: 'user', content: 'poem-tail-xyz' }] });
  let content = '', finish = null;
  for await (const ch of stream) {
    content += ch.choices[0]?.delta?.content || '';
    finish = ch.choices[0]?.finish_reason || finish;
  }
  assert.equal(content, want, 'streamed answer with a never-matching stop sequence');
  assert.equal(finish, 'stop');
});

test('max_tokens: exact truncated content, completion_tokens <= max, also mid-fragment', async () => {
  await resetAccounts();
  // "aaaa " is one estimated token; fragments of 5 bytes end on words, of 8
  // bytes in the middle of one: both must give exactly three tokens' worth
  const answer = 'answer=aaaa%20bbbb%20cccc%20dddd%20eeee%20ffff%20gggg%20hhhh';
  for (const fb of [5, 10]) {
    const r = await client.chat.completions.create({
      model: 'gemini-auto', max_tokens: 3, messages: [{ role: 'user', content: `q [[fake:${answer},fragment_bytes=${fb},nothoughts]]` }],
    });
    assert.equal(r.choices[0].message.content, 'aaaa bbbb cccc ', `fragment_bytes=${fb}`);
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.ok(r.usage.completion_tokens <= 3, `completion_tokens ${r.usage.completion_tokens} > max_tokens 3`);
    const stream = await client.chat.completions.create({
      model: 'gemini-auto', stream: true, max_tokens: 3, stream_options: { include_usage: true },
      messages: [{ role: 'user', content: `q [[fake:${answer},fragment_bytes=${fb},nothoughts]]` }],
    });
    let content = '', finish = null, usage = null;
    for await (const ch of stream) {
      content += ch.choices[0]?.delta?.content || '';
      finish = ch.choices[0]?.finish_reason || finish;
      usage = ch.usage || usage;
    }
    assert.equal(content, 'aaaa bbbb cccc ', `streamed, fragment_bytes=${fb}`);
    assert.equal(finish, 'length');
    assert.ok(usage && usage.completion_tokens <= 3, `streamed completion_tokens ${usage?.completion_tokens}`);
  }
});

test('max_tokens ends the answer with finish_reason "length" and cuts the upstream transfer', async () => {
  await resetAccounts();
  await s.fake('POST', '/__fake/reset');
  const stream = await client.chat.completions.create({
    model: 'gemini-auto', stream: true, max_tokens: 5,
    messages: [{ role: 'user', content: 'long [[fake:fragments=400,delay_ms=20,nothoughts]]' }],
  });
  let content = '', finish = null;
  for await (const ch of stream) {
    content += ch.choices[0]?.delta?.content || '';
    finish = ch.choices[0]?.finish_reason || finish;
  }
  assert.equal(finish, 'length');
  // the fake's answer in 12-byte fragments: "春眠不觉" (4 tokens), then one
  // more CJK character fits max_tokens 5
  assert.equal(content, '春眠不觉晓', `content ${JSON.stringify(content)}`);
  const st = await waitFor(async () => (await s.fake('GET', '/__fake/record')).requests.filter((q) => q.endpoint === 'stream' && q.done).at(-1), 5000, 'the upstream stream record');
  assert.equal(st.disconnected, true, 'the upstream transfer was cut short');
  const r = await client.chat.completions.create({ model: 'gemini-auto', max_completion_tokens: 2, messages: [{ role: 'user', content: 'short' }] });
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.choices[0].message.content, '春眠');
});

// The documented rule (README, max_tokens): the limit caps the answer; the
// upstream's thinking cannot be stopped, and usage counts answer + reasoning
// as OpenAI does, the reasoning part in completion_tokens_details.
test('max_completion_tokens caps the answer; completion_tokens = answer + reasoning_tokens', async () => {
  await resetAccounts();
  const r = await client.chat.completions.create({ model: 'gemini-auto', max_completion_tokens: 2, messages: [{ role: 'user', content: 'short' }] });
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.choices[0].message.content, '春眠');
  assert.ok(r.choices[0].message.reasoning_content?.length > 0, 'the fake thinks: reasoning delivered');
  const u = r.usage, reasoning = u.completion_tokens_details.reasoning_tokens;
  assert.ok(reasoning > 0, `reasoning_tokens ${reasoning}`);
  assert.equal(u.completion_tokens, 2 + reasoning, `completion_tokens ${u.completion_tokens}: 2 answer + ${reasoning} reasoning`);
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  // streamed, the usage chunk says the same
  const stream = await client.chat.completions.create({ model: 'gemini-auto', stream: true, stream_options: { include_usage: true },
    max_completion_tokens: 2, messages: [{ role: 'user', content: 'short' }] });
  let su = null, content = '';
  for await (const ch of stream) { su = ch.usage || su; content += ch.choices[0]?.delta?.content || ''; }
  assert.equal(content, '春眠');
  assert.equal(su.completion_tokens, 2 + su.completion_tokens_details.reasoning_tokens);
  assert.equal(su.completion_tokens_details.reasoning_tokens, reasoning);
  // without thinking, completion_tokens is the answer alone, within the cap
  const nt = await client.chat.completions.create({ model: 'gemini-auto', max_completion_tokens: 2, messages: [{ role: 'user', content: 'short [[fake:nothoughts]]' }] });
  assert.equal(nt.choices[0].message.content, '春眠');
  assert.equal(nt.usage.completion_tokens_details.reasoning_tokens, 0);
  assert.equal(nt.usage.completion_tokens, 2);
});

// Answers above 1 KiB go into the conversation key as a keyed polynomial
// hash computed while they stream (core/uhash.c): the next turn must still
// find the upstream session, and an answer changed by one character must not.
test('a long streamed answer continues its upstream session; a changed one does not', async () => {
  await resetAccounts();
  const unit = 'Ünïcödé 中文 😀 long answer line.\n';
  const ask = `long turn [[fake:nothoughts,fragments=40,fragment_bytes=97,answer=${encodeURIComponent(unit)}]]`;
  const stream = await client.chat.completions.create({ model: 'gemini-auto', stream: true, messages: [{ role: 'user', content: ask }] });
  let answer = '';
  for await (const ch of stream) answer += ch.choices[0]?.delta?.content || '';
  assert.ok(Buffer.byteLength(answer) > 3000, `a long answer (${Buffer.byteLength(answer)} bytes)`);
  const streams = async () => (await s.fake('GET', '/__fake/record')).requests.filter((q) => q.endpoint === 'stream');
  const s1 = (await streams()).at(-1);
  const next = (a, q) => client.chat.completions.create({ model: 'gemini-auto',
    messages: [{ role: 'user', content: ask }, { role: 'assistant', content: a }, { role: 'user', content: q }] });
  // the mapping is stored when the answer ends: poll until the turn reuses it
  await waitFor(async () => { await next(answer, 'and then?'); return (await streams()).at(-1).session === s1.session; },
    5000, 'the next turn on the same upstream session');
  const s2 = (await streams()).at(-1);
  assert.equal(s2.query_text, 'and then?', 'only the new message is sent');
  // one character changed in the middle: another conversation, replayed whole
  const mid = answer.length >> 1;
  const changed = answer.slice(0, mid) + (answer[mid] === 'x' ? 'y' : 'x') + answer.slice(mid + 1);
  await next(changed, 'changed history');
  const s3 = (await streams()).at(-1);
  assert.notEqual(s3.session, s1.session, 'a changed answer is another conversation');
  assert.match(s3.query_text, /long turn[\s\S]*changed history/);
});
