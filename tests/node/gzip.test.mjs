// Upstream compression: by default gemgated asks widgetStreamAssist for an
// uncompressed answer (streamed or not); UPSTREAM_GZIP_ANSWERS and
// UPSTREAM_GZIP_STREAMS turn gzip on, and then every byte of a long CJK
// answer cut into many gzip-flushed fragments must still arrive intact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { startStack } from '../lib/stack.mjs';

let s;
before(async () => { s = await startStack({ env: { PING_INTERVAL: '0' } }); });
after(async () => { await s?.stop(); });

const LONG = '汉字かなカナ한글 emoji 🚀 '.repeat(100);

async function ask(stream, mark) {
  const client = new OpenAI({ apiKey: s.apiKey, baseURL: s.url + '/v1', maxRetries: 0 });
  const content = `${mark} [[fake:fragment_bytes=50,answer=${encodeURIComponent(LONG)}]]`;
  const req = { model: 'gemini-2.5-flash', messages: [{ role: 'user', content }] };
  let text = '';
  if (stream) {
    for await (const ch of await client.chat.completions.create({ ...req, stream: true }))
      text += ch.choices[0]?.delta?.content ?? '';
  } else {
    text = (await client.chat.completions.create(req)).choices[0].message.content;
  }
  assert.equal(text, LONG, 'the long answer arrives byte-exact');
  return text;
}

async function gzipOf(mark) {
  const rec = await s.fake('GET', '/__fake/record');
  const q = rec.requests.filter((r) => r.endpoint === 'stream' && String(r.query_text).includes(mark));
  assert.equal(q.length, 1, `one upstream call for ${mark}`);
  return q[0].gzip;
}

test('by default neither streamed nor buffered answers ask the upstream for gzip', async () => {
  for (const stream of [false, true]) {
    const mark = `plain-${stream}-${randomBytes(4).toString('hex')}`;
    await ask(stream, mark);
    assert.equal(await gzipOf(mark), false, `stream=${stream} came gzip-encoded`);
  }
});

test('UPSTREAM_GZIP_ANSWERS / _STREAMS: gzip answers are inflated byte-exact', async () => {
  await s.restart({ env: { UPSTREAM_GZIP_ANSWERS: 'true' } });
  let mark = `ga-buffered-${randomBytes(4).toString('hex')}`;
  await ask(false, mark);
  assert.equal(await gzipOf(mark), true, 'buffered answer asks for gzip');
  mark = `ga-stream-${randomBytes(4).toString('hex')}`;
  await ask(true, mark);
  assert.equal(await gzipOf(mark), false, 'streams stay uncompressed with only _ANSWERS');

  await s.restart({ env: { UPSTREAM_GZIP_STREAMS: 'true' } });
  mark = `gs-stream-${randomBytes(4).toString('hex')}`;
  await ask(true, mark);
  assert.equal(await gzipOf(mark), true, 'streamed answer asks for gzip');
  mark = `gs-buffered-${randomBytes(4).toString('hex')}`;
  await ask(false, mark);
  assert.equal(await gzipOf(mark), false, 'buffered answers stay uncompressed with only _STREAMS');
});
