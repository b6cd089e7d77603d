// Multimodal input (uploads of data: and http(s) attachments) and generated
// media output (chat markdown images, /v1/images/generations), against the
// real gemgated + fake upstream, with the official openai SDK.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { startStack } from '../lib/stack.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const idOf = (session) => String(session).split('/').at(-1);
const MAX = 6_000_000;

// bytes that start with each format's magic number
const fakeFile = (magic, n = 2048) => Buffer.concat([Buffer.from(magic, 'binary'), randomBytes(n)]);
const PNG = fakeFile('\x89PNG\r\n\x1a\n');
const JPEG = fakeFile('\xff\xd8\xff\xe0');
const GIF = fakeFile('GIF89a');
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 '), randomBytes(1000)]);
const PDF = fakeFile('%PDF-1.7\n');
const dataUrl = (mime, buf) => `data:${mime};base64,${buf.toString('base64')}`;

let s, client, img, imgUrl, png, hits = 0;

async function record() { return s.fake('GET', '/__fake/record'); }
async function reset() {
  await s.fake('DELETE', '/__fake/scenario');
  await s.admin('POST', '/accounts/0/reset');
}
async function raw(path, body, stack = s) {
  const r = await fetch(stack.url + path, {
    method: 'POST', headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* SSE or not JSON */ }
  return { status: r.status, json, text };
}
const userMsg = (...parts) => [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, ...parts] }];
const imagePart = (url) => ({ type: 'image_url', image_url: { url } });

before(async () => {
  // a tiny image server on 127.0.0.1 (so FETCH_ALLOW_PRIVATE=true is needed)
  img = createServer((req, res) => {
    hits++;
    if (req.url === '/photo.jpg') { res.writeHead(200, { 'content-type': 'image/jpeg' }); res.end(JPEG); }
    else if (req.url === '/noext') { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(PNG); }
    else if (req.url === '/moved') { res.writeHead(302, { location: '/photo.jpg' }); res.end(); }
    else if (req.url === '/big.png') { res.writeHead(200, { 'content-type': 'image/png' }); res.end(Buffer.alloc(MAX + 10)); }
    else { res.writeHead(404); res.end('nope'); }
  });
  await new Promise((r) => img.listen(0, '127.0.0.1', r));
  imgUrl = `http://127.0.0.1:${img.address().port}`;
  s = await startStack({
    env: {
      FETCH_ALLOW_PRIVATE: 'true', IMAGE_MAX_BYTES: String(MAX), MAX_BODY: String(16 << 20),
      COOLDOWN_ERROR: '1', COOLDOWN_429: '1', PING_INTERVAL: '1', MAX_RETRIES: '2',
    },
  });
  client = new OpenAI({ apiKey: s.apiKey, baseURL: s.url + '/v1', maxRetries: 0 });
  png = (await s.fake('GET', '/__fake/info')).png_sha256;
});
after(async () => {
  await s?.stop();
  img?.close();
});

describe('attachments in', () => {
  test('data: URLs of each type are uploaded byte-exact; fileIds reach streamAssist', async () => {
    await reset();
    const cases = [['image/png', PNG], ['image/jpeg', JPEG], ['image/webp', WEBP], ['image/gif', GIF],
      ['application/pdf', PDF]];
    for (const [mime, buf] of cases) {
      const before = (await record()).uploads.length;
      const r = await client.chat.completions.create({
        model: 'gemini-2.5-flash', messages: userMsg(imagePart(dataUrl(mime, buf))),
      });
      assert.match(r.choices[0].message.content, /what is this\?/);
      const rec = await record();
      assert.equal(rec.uploads.length, before + 1, mime);
      const up = rec.uploads.at(-1);
      assert.equal(up.mime_type, mime);
      assert.equal(up.size, buf.length);
      assert.equal(up.sha256, sha(buf));
      const st = rec.requests.filter((q) => q.endpoint === 'stream').at(-1);
      assert.deepEqual(st.file_ids, [up.file_id]);
      assert.equal(idOf(st.session), idOf(up.session));
    }
  });

  test('file part with inline file_data, and two attachments in one message', async () => {
    await reset();
    const before = (await record()).uploads.length;
    await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: [
        { type: 'text', text: 'compare' },
        { type: 'file', file: { filename: 'report.pdf', file_data: dataUrl('application/pdf', PDF) } },
        imagePart(dataUrl('image/png', PNG)),
      ] }],
    });
    const rec = await record();
    const ups = rec.uploads.slice(before);
    assert.equal(ups.length, 2);
    assert.equal(ups[0].file_name, 'report.pdf');
    assert.equal(ups[0].sha256, sha(PDF));
    assert.equal(ups[1].sha256, sha(PNG));
    const st = rec.requests.filter((q) => q.endpoint === 'stream').at(-1);
    assert.deepEqual(st.file_ids, ups.map((u) => u.file_id));
  });

  test('only the current turn uploads; earlier images stay [image] markers', async () => {
    await reset();
    const before = (await record()).uploads.length;
    await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'old' }, imagePart(dataUrl('image/png', PNG))] },
        { role: 'assistant', content: 'a picture' },
        { role: 'user', content: [{ type: 'text', text: 'new' }, imagePart(dataUrl('image/jpeg', JPEG))] },
      ],
    });
    const rec = await record();
    const ups = rec.uploads.slice(before);
    assert.equal(ups.length, 1);
    assert.equal(ups[0].sha256, sha(JPEG));
    assert.match(rec.requests.filter((q) => q.endpoint === 'stream').at(-1).query_text, /old \[image\]/);
  });

  test('http(s) URL: fetched by the gateway (redirect followed, type sniffed) and uploaded', async () => {
    await reset();
    for (const [path, buf, mime] of [['/photo.jpg', JPEG, 'image/jpeg'], ['/moved', JPEG, 'image/jpeg'],
      ['/noext', PNG, 'image/png']]) {
      const before = (await record()).uploads.length;
      const r = await client.chat.completions.create({
        model: 'gemini-2.5-flash', stream: true, messages: userMsg(imagePart(imgUrl + path)),
      });
      let content = '';
      for await (const ch of r) content += ch.choices[0]?.delta?.content || '';
      assert.match(content, /what is this/);
      const rec = await record();
      assert.equal(rec.uploads.length, before + 1, path);
      assert.equal(rec.uploads.at(-1).sha256, sha(buf));
      assert.equal(rec.uploads.at(-1).mime_type, mime);
      assert.deepEqual(rec.requests.filter((q) => q.endpoint === 'stream').at(-1).file_ids, [rec.uploads.at(-1).file_id]);
    }
  });

  test('failover to another account uploads again into the new session', async () => {
    await reset();
    const B = { csesidx: '3003', secure_c_ses: 'CSE.media-b-0003', config_id: 'cfg-media-b' };
    await s.fake('POST', '/__fake/accounts', [B]);
    const list = (await s.admin('GET', '/accounts')).json.accounts;
    if (!list.some((a) => a.csesidx === B.csesidx)) {
      const rb = await s.admin('POST', '/accounts', { name: 'media-b', ...B });
      assert.equal(rb.status, 201, rb.text);
    }
    const first = list.find((a) => a.id === 0) || list[0];
    await s.fake('POST', '/__fake/scenario', { csesidx: first.csesidx, endpoint: 'stream', mode: 'http503', count: 1 });
    const before = await record();
    const r = await client.chat.completions.create({
      model: 'gemini-2.5-flash', messages: userMsg(imagePart(dataUrl('image/png', PNG))),
    });
    assert.match(r.choices[0].message.content, /what is this/);
    const rec = await record();
    const ups = rec.uploads.slice(before.uploads.length);
    const st = rec.requests.filter((q) => q.endpoint === 'stream' && q.seq > before.last_seq);
    assert.equal(ups.length, 2, 'one upload per session');
    assert.notEqual(idOf(ups[0].session), idOf(ups[1].session));
    assert.equal(ups[0].sha256, sha(PNG));
    assert.equal(ups[1].sha256, sha(PNG));
    assert.equal(st.length, 2);
    assert.equal(st[0].status, 503);
    assert.equal(st[0].csesidx, first.csesidx);
    assert.notEqual(st[1].csesidx, st[0].csesidx);
    assert.deepEqual(st[0].file_ids, [ups[0].file_id]);
    assert.deepEqual(st[1].file_ids, [ups[1].file_id]);
    assert.equal(idOf(st[1].session), idOf(ups[1].session));
    // later tests use the first account only
    const acc = (await s.admin('GET', '/accounts')).json.accounts.find((a) => a.csesidx === B.csesidx);
    await s.admin('DELETE', `/accounts/${acc.id}`);
    await reset();
  });
});

describe('bad input: 400 naming the content part', () => {
  test('a data: URL with an unknown encoding (;base28) is 400 naming the part, in the current and in an earlier turn', async () => {
    await reset();
    const bad = imagePart('data:image/png;base28,iVBORw0KGgo');
    const r = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages: userMsg(bad) });
    assert.equal(r.status, 400, r.text.slice(0, 200));
    assert.equal(r.json.error.param, 'messages[0].content[1].image_url.url');
    const r2 = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [...userMsg(bad),
      { role: 'assistant', content: 'a picture' }, { role: 'user', content: 'and now?' }] });
    assert.equal(r2.status, 400, r2.text.slice(0, 200));
    assert.equal(r2.json.error.param, 'messages[0].content[1].image_url.url');
  });

  const cases = [
    ['malformed base64', userMsg(imagePart('data:image/png;base64,@@@not-base64@@@')),
      'messages[0].content[1].image_url.url', 'invalid_value'],
    ['type the upstream does not take', userMsg(imagePart(dataUrl('application/zip', Buffer.from('PK\x03\x04zip')))),
      'messages[0].content[1].image_url.url', 'unsupported_file_type'],
    ['untyped, unrecognisable bytes', userMsg(imagePart(dataUrl('application/octet-stream', randomBytes(64)))),
      'messages[0].content[1].image_url.url', 'unsupported_file_type'],
    ['over IMAGE_MAX_BYTES', userMsg(imagePart(dataUrl('image/png', Buffer.concat([PNG, Buffer.alloc(MAX)])))),
      'messages[0].content[1].image_url.url', 'file_too_large'],
    ['file part without valid data',
      [{ role: 'user', content: [{ type: 'file', file: { filename: 'x.pdf', file_data: 'not base64!' } }] }],
      'messages[0].content[0].file.file_data', 'invalid_value'],
    ['second message, third part', [
      { role: 'system', content: 'sys' },
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }, imagePart('data:image/gif;base64,R0lGOD=lh')] }],
      'messages[1].content[2].image_url.url', 'invalid_value'],
  ];
  for (const [name, messages, param, code] of cases) {
    test(`${name} (no upstream call)`, async () => {
      const before = (await record()).last_seq;
      const r = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.equal(r.json.error.param, param);
      assert.equal(r.json.error.code, code);
      assert.equal((await record()).last_seq, before, 'nothing may reach the upstream');
    });
  }

  test('unreachable URL / 404 / too large at the URL: 400 before any byte, also when streaming', async () => {
    for (const [url, code] of [['http://127.0.0.1:1/x.png', 'invalid_image_url'],
      [imgUrl + '/missing.png', 'invalid_image_url'], [imgUrl + '/big.png', 'file_too_large'],
      ['http://nonexistent.invalid/x.png', 'invalid_image_url']]) {
      for (const stream of [false, true]) {
        const r = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', stream, messages: userMsg(imagePart(url)) });
        assert.equal(r.status, 400, `${url} ${r.text}`);
        assert.equal(r.json.error.param, 'messages[0].content[1].image_url.url');
        assert.equal(r.json.error.code, code, url);
      }
    }
  });

  test('upstream "Unsupported file type" maps to 400 naming the part, no account penalty', async () => {
    await reset();
    const before = (await s.admin('GET', '/accounts/0')).json;
    const r = await raw('/v1/chat/completions', {
      model: 'gemini-2.5-flash',
      messages: userMsg(imagePart(dataUrl('text/plain', Buffer.from('ok'))), imagePart(dataUrl('text/x-python', Buffer.from('print(1)\n')))),
    });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.param, 'messages[0].content[2].image_url.url');
    assert.equal(r.json.error.code, 'unsupported_file_type');
    assert.match(r.json.error.message, /Unsupported file type: text\/x-python/);
    const after = (await s.admin('GET', '/accounts/0')).json;
    assert.equal(after.status, 'active');
    assert.deepEqual(after.last_errors, before.last_errors);
  });
});

describe('generated images out', () => {
  const markdownPngs = (text) => [...text.matchAll(/!\[image\]\(data:image\/png;base64,([A-Za-z0-9+/=]+)\)/g)]
    .map((m) => Buffer.from(m[1], 'base64'));

  test('/v1/models lists the image models and suffix variants', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    for (const id of ['gemini-imagen', 'gemini-2.5-flash-image', 'gemini-2.5-flash-search', 'gemini-2.5-pro'])
      assert.ok(ids.includes(id), id);
    assert.equal((await client.models.retrieve('gemini-3-pro-preview-image-search')).id, 'gemini-3-pro-preview-image-search');
  });

  test('toolsSpec: -image adds imageGenerationSpec, web_search_options turns grounding on', async () => {
    await reset();
    await client.chat.completions.create({ model: 'gemini-2.5-flash-nosearch-image', messages: [{ role: 'user', content: 'x' }] });
    let st = (await record()).requests.filter((q) => q.endpoint === 'stream').at(-1);
    assert.ok(st.tools_spec.imageGenerationSpec);
    assert.equal(st.tools_spec.webGroundingSpec, undefined);
    assert.equal(st.model_id, 'gemini-2.5-flash');
    await client.chat.completions.create({ model: 'gemini-2.5-flash-nosearch', web_search_options: {}, messages: [{ role: 'user', content: 'x' }] });
    st = (await record()).requests.filter((q) => q.endpoint === 'stream').at(-1);
    assert.ok(st.tools_spec.webGroundingSpec);
  });

  test('chat, non-stream: markdown data URLs appended, de-duplicated, decode to the fake PNG', async () => {
    await reset();
    const before = await record();
    const r = await client.chat.completions.create({
      model: 'gemini-imagen', messages: [{ role: 'user', content: '[[fake:image,images=2,answer=Here you go.]] two cats' }],
    });
    const content = r.choices[0].message.content;
    assert.match(content, /^Here you go\.\n\n!\[image\]\(data:image\/png;base64,/);
    assert.ok(!content.includes('<ctrl46>'));
    const imgs = markdownPngs(content);
    assert.equal(imgs.length, 2, 'the repeated file replies must be de-duplicated');
    for (const b of imgs) assert.equal(sha(b), png);
    const rec = await record();
    const lists = rec.requests.filter((q) => q.endpoint === 'list_files' && q.seq > before.last_seq);
    assert.equal(lists.length, 1);
    const dls = rec.downloads.slice(before.downloads.length);
    assert.equal(dls.length, 2);
    assert.ok(dls.every((d) => d.status === 200));
    assert.equal(rec.requests.filter((q) => q.endpoint === 'stream').at(-1).tools_spec.imageGenerationSpec !== undefined, true);
  });

  test('chat, stream: the image goes out as a content delta before the finish chunk', async () => {
    await reset();
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash-image', stream: true, messages: [{ role: 'user', content: '[[fake:image]] a dog' }],
    });
    const events = [];
    for await (const ch of stream) {
      const c = ch.choices[0];
      if (!c) continue;
      if (c.delta?.content) events.push(['content', c.delta.content]);
      if (c.finish_reason) events.push(['finish', c.finish_reason]);
    }
    assert.deepEqual(events.at(-1), ['finish', 'stop']);
    const content = events.filter((e) => e[0] === 'content').map((e) => e[1]).join('');
    const imgs = markdownPngs(content);
    assert.equal(imgs.length, 1);
    assert.equal(sha(imgs[0]), png);
  });

  test('a download that fails once is retried and succeeds', async () => {
    await reset();
    await s.fake('POST', '/__fake/scenario', { endpoint: 'download', mode: 'fail_once', count: 1 });
    const before = (await record()).downloads.length;
    const t0 = Date.now();
    const r = await client.chat.completions.create({
      model: 'gemini-imagen', messages: [{ role: 'user', content: '[[fake:image]] retry me' }],
    });
    const imgs = markdownPngs(r.choices[0].message.content);
    assert.equal(imgs.length, 1);
    assert.equal(sha(imgs[0]), png);
    const dls = (await record()).downloads.slice(before);
    assert.deepEqual(dls.map((d) => d.status), [503, 200]);
    assert.equal(dls[0].file_id, dls[1].file_id);
    assert.ok(Date.now() - t0 >= 400, 'back-off before the second attempt');
  });

  test('downloads failing every time: 502 after three attempts', async () => {
    await reset();
    await s.fake('POST', '/__fake/scenario', { endpoint: 'download', mode: 'notfound', count: -1 });
    const before = (await record()).downloads.length;
    const r = await raw('/v1/chat/completions', { model: 'gemini-imagen', messages: [{ role: 'user', content: '[[fake:image]] x' }] });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error.code, 'image_download_failed');
    assert.equal((await record()).downloads.length - before, 3);
    await reset();
  });

  test('/v1/images/generations: b64_json and url', async () => {
    await reset();
    const a = await client.images.generate({ model: 'gemini-imagen', prompt: '[[fake:image]] a red square', response_format: 'b64_json' });
    assert.ok(a.created > 0);
    assert.equal(a.data.length, 1);
    assert.equal(sha(Buffer.from(a.data[0].b64_json, 'base64')), png);
    assert.equal(typeof a.data[0].revised_prompt, 'string');
    const b = await client.images.generate({ model: 'dall-e-3', prompt: '[[fake:image]] a blue square', response_format: 'url' });
    assert.match(b.data[0].url, /^http:\/\/127\.0\.0\.1:\d+\/images\/[0-9a-f]{32}\.png$/);
    const got = await fetch(b.data[0].url);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'image/png');
    assert.equal(sha(Buffer.from(await got.arrayBuffer())), png);
    const miss = await fetch(s.url + '/images/' + '0'.repeat(32) + '.png');
    assert.equal(miss.status, 404);
  });

  test('/v1/images/generations: n > 1, bad response_format, no prompt, text-only answer', async () => {
    let r = await raw('/v1/images/generations', { prompt: 'x', n: 2 });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, 'n');
    r = await raw('/v1/images/generations', { prompt: 'x', response_format: 'png' });
    assert.equal(r.json.error.param, 'response_format');
    r = await raw('/v1/images/generations', { model: 'gemini-imagen' });
    assert.equal(r.json.error.param, 'prompt');
    r = await raw('/v1/images/generations', { prompt: 'no directive, so only text' });
    assert.equal(r.status, 502);
    assert.equal(r.json.error.code, 'no_image_generated');
  });
});

describe('default settings', () => {
  // `hop`: a server on loopback that the fetch guard lets through as the
  // first hop only (GEMGATE_TEST_FETCH_EXEMPT names its exact address and
  // port, a test hook in media.c); everything it redirects to is checked
  // again like any URL.
  let d, hop, hopUrl, hopHits = 0;
  before(async () => {
    hop = createServer((req, res) => {
      hopHits++;
      const to = { '/self': `${hopUrl}/img`, '/to-img': `${imgUrl}/photo.jpg`, '/to-localhost': `http://localhost:${img.address().port}/photo.jpg`,
        '/to-private': 'http://10.1.2.3/x.png', '/to-mapped': `http://[::ffff:127.0.0.1]:${img.address().port}/photo.jpg`,
        '/to-shorthand': `http://127.1:${img.address().port}/photo.jpg` }[req.url];
      if (req.url === '/img') { res.writeHead(200, { 'content-type': 'image/png' }); res.end(PNG); }
      else if (to) { res.writeHead(302, { location: to }); res.end(); }
      else { res.writeHead(404); res.end(); }
    });
    await new Promise((r) => hop.listen(0, '127.0.0.1', r));
    hopUrl = `http://127.0.0.1:${hop.address().port}`;
    d = await startStack({ env: { IMAGE_OUTPUT: 'url', GEMGATE_TEST_FETCH_EXEMPT: `127.0.0.1:${hop.address().port}` } });
  });
  after(async () => { await d?.stop(); hop?.close(); });

  test('redirects are checked again: an allowed first hop that redirects to a blocked address is refused', async () => {
    // the first hop is let through, and a redirect to the same allowed address is followed
    for (const path of ['/img', '/self']) {
      const before = (await d.fake('GET', '/__fake/record')).uploads.length;
      const r = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages: userMsg(imagePart(hopUrl + path)) }, d);
      assert.equal(r.status, 200, `${path}: ${r.text.slice(0, 300)}`);
      const ups = (await d.fake('GET', '/__fake/record')).uploads.slice(before);
      assert.deepEqual(ups.map((u) => u.sha256), [sha(PNG)], path);
    }
    const h0 = hits;
    for (const path of ['/to-img', '/to-localhost', '/to-private', '/to-mapped', '/to-shorthand']) {
      const before = hopHits;
      const r = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages: userMsg(imagePart(hopUrl + path)) }, d);
      assert.equal(r.status, 400, `${path}: ${r.text.slice(0, 300)}`);
      assert.equal(r.json.error.param, 'messages[0].content[1].image_url.url', path);
      assert.equal(r.json.error.code, 'invalid_image_url', path);
      assert.match(r.json.error.message, /loopback or private address|localhost/, path);
      assert.equal(hopHits, before + 1, `${path}: the first hop was fetched`);
    }
    assert.equal(hits, h0, 'no redirect reached the image server');
  });

  test('loopback / private / localhost URLs are refused with 400 (FETCH_ALLOW_PRIVATE=false)', async () => {
    const h0 = hits;
    for (const url of [imgUrl + '/photo.jpg', 'http://localhost:9/x.png', 'http://[::1]/x.png',
      'http://[::ffff:127.0.0.1]/x.png', 'http://10.1.2.3/x.png', 'http://169.254.169.254/latest/meta-data',
      'http://2130706433/x.png', 'http://127.1/x.png']) {
      const r = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages: userMsg(imagePart(url)) }, d);
      assert.equal(r.status, 400, `${url}: ${r.text}`);
      assert.equal(r.json.error.param, 'messages[0].content[1].image_url.url');
      assert.equal(r.json.error.code, 'invalid_image_url');
    }
    assert.equal(hits, h0, 'the image server must not have been contacted');
  });

  test('IMAGE_OUTPUT=url: chat answers link gateway-served images', async () => {
    const dc = new OpenAI({ apiKey: d.apiKey, baseURL: d.url + '/v1', maxRetries: 0 });
    const r = await dc.chat.completions.create({ model: 'gemini-imagen', messages: [{ role: 'user', content: '[[fake:image]] x' }] });
    const m = r.choices[0].message.content.match(/!\[image\]\((http:\/\/127\.0\.0\.1:\d+\/images\/[0-9a-f]{32}\.png)\)/);
    assert.ok(m, r.choices[0].message.content);
    const got = await fetch(m[1]);
    assert.equal(got.status, 200);
    assert.equal(sha(Buffer.from(await got.arrayBuffer())), png);
  });
});

// Issue 18 (upstream fidelity): the fake's strict behaviours, each against
// the gateway.
describe('upstream fidelity (issue 18) against the strict fake', () => {
  const markdownPngs = (text) => [...text.matchAll(/!\[image\]\(data:image\/png;base64,([A-Za-z0-9+/=]+)\)/g)]
    .map((m) => Buffer.from(m[1], 'base64'));
  const imagen = (content) => client.chat.completions.create({ model: 'gemini-imagen', messages: [{ role: 'user', content }] });
  const restore = async () => { await s.fake('POST', '/__fake/config', { strict_names: false, key_lifetime_ms: 300000, retired_models: [] }); await reset(); };

  test('media calls use sessionInfo.session: an image still arrives when list/download want projects/... names', async () => {
    await reset();
    await s.fake('POST', '/__fake/config', { strict_names: true });
    try {
      const r = await imagen('[[fake:image,answer=Here.]] strict names');
      const imgs = markdownPngs(r.choices[0].message.content);
      assert.equal(imgs.length, 1, r.choices[0].message.content.slice(0, 200));
      assert.equal(sha(imgs[0]), png);
      const rec = await record();
      const media = rec.requests.filter((q) => q.endpoint === 'list_files' || q.endpoint === 'download');
      assert.ok(media.length >= 2 && media.every((q) => q.session.startsWith('projects/')), 'media calls name projects/... sessions');
    } finally { await restore(); }
  });

  test('files that appear only after the stream are polled for and delivered', async () => {
    await reset();
    try {
      const r = await imagen('[[fake:image,files_after_ms=1500,answer=Later.]] late files');
      const imgs = markdownPngs(r.choices[0].message.content);
      assert.equal(imgs.length, 1, r.choices[0].message.content.slice(0, 200));
      assert.equal(sha(imgs[0]), png);
    } finally { await restore(); }
  });

  test('inlineData image replies become generated images', async () => {
    await reset();
    try {
      const r = await imagen('[[fake:image,inline_data,answer=Inline.]] inline');
      const imgs = markdownPngs(r.choices[0].message.content);
      assert.equal(imgs.length, 1, r.choices[0].message.content.slice(0, 200));
      assert.equal(sha(imgs[0]), png);
    } finally { await restore(); }
  });

  // IMAGE_OUTPUT is b64 here: the video arrives inline like images do (the
  // link form under IMAGE_OUTPUT=url is fidelity.test.mjs's video test)
  test('video: gemini-veo sends videoGenerationSpec, pings through the render silence, answers with the video inline', async () => {
    await reset();
    try {
      const r = await fetch(s.url + '/v1/chat/completions', {
        method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gemini-veo', stream: true, messages: [{ role: 'user', content: '[[fake:video,video_ms=3000]] a cat video' }] }),
      });
      assert.equal(r.status, 200);
      const text = await r.text();
      assert.ok((text.match(/^: ping/mg) || []).length >= 2, 'keep-alive pings during the 3 s silence (PING_INTERVAL=1)');
      const m = text.match(/data:video\/mp4;base64,([A-Za-z0-9+/=]+)/);
      assert.ok(m, 'the generated video as a data:video/mp4 URL');
      assert.equal(sha(Buffer.from(m[1], 'base64')), (await s.fake('GET', '/__fake/info')).mp4_sha256);
      assert.ok(text.includes('[DONE]'));
      const st = (await record()).requests.filter((q) => q.endpoint === 'stream').at(-1);
      assert.ok(st.tools_spec && st.tools_spec.videoGenerationSpec !== undefined, 'videoGenerationSpec sent');
    } finally { await restore(); }
  });

  test('an image stream that outlasts its signing key still delivers the image (fresh JWT per media call)', async () => {
    await reset();
    await s.fake('POST', '/__fake/config', { key_lifetime_ms: 1500 });
    try {
      // drop the keys the gateway holds: its next call signs with a 1.5 s key
      await s.fake('POST', '/__fake/accounts/1000001/revoke_keys');
      const before = await record();
      const r = await imagen('[[fake:image,delay_ms=500,answer=Slow.]] key expires mid-stream');
      const imgs = markdownPngs(r.choices[0].message.content);
      assert.equal(imgs.length, 1, r.choices[0].message.content.slice(0, 200));
      assert.equal(sha(imgs[0]), png);
      const rec = await record();
      const stream = rec.requests.filter((q) => q.endpoint === 'stream' && q.seq > before.last_seq && q.status === 200).at(-1);
      const media = rec.requests.filter((q) => (q.endpoint === 'list_files' || q.endpoint === 'download') && q.seq > stream.seq);
      assert.ok(media.length >= 2 && media.at(-1).status === 200, 'list + download after the stream');
      assert.ok(media[0].at_ms - stream.at_ms > 1500, `the stream (${media[0].at_ms - stream.at_ms} ms) outlasted the 1.5 s key`);
    } finally { await restore(); }
  });
});
