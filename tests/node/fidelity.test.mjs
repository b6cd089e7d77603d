// Upstream fidelity (issue 18, items 1-9): what other clients of the real
// service learned, against the real gemgated and the fake upstream in its
// strict settings (projects/... names only on list/download, expiring
// signing keys, retired models, rotating cookies, late files, inlineData,
// uToken-only bodies, overloaded vs quota 429s, video).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startStack, waitFor } from '../lib/stack.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = (s) => `[[fake:${s}]]`;
const enc = (t) => encodeURIComponent(t).replace(/,/g, '%2C');

const ENV = '1000001';                       // the environment (demo) account
const B = { csesidx: '3002', secure_c_ses: 'CSE.fid-bravo-0002', config_id: 'cfg-fb' };
const R = { csesidx: '3003', secure_c_ses: 'CSE.fid-rot-0003', config_id: 'cfg-fr', host_c_oses: 'COS.fid-rot-0003' };

let s, png, idB;

async function rec(since = 0) { return s.fake('GET', `/__fake/record?since=${since}`); }
async function lastSeq() { return (await rec()).last_seq; }
async function acct(id) { return (await s.admin('GET', `/accounts/${id}`)).json; }
async function chat(body, stack = s) {
  const r = await fetch(stack.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* SSE */ }
  return { status: r.status, json, text, headers: r.headers };
}
const say = (content, model = 'gemini-2.5-flash', extra = {}) => ({ model, messages: [{ role: 'user', content }], ...extra });
// the content of an SSE stream, joined
const sseContent = (text) => text.split('\n').filter((l) => l.startsWith('data: {'))
  .map((l) => JSON.parse(l.slice(6)).choices?.[0]?.delta?.content || '').join('');
// /images/<token>.<ext> links in an answer, fetched
async function links(content) {
  const urls = [...content.matchAll(/\((http:\/\/[^)\s]+\/images\/[^)\s]+)\)/g)].map((m) => m[1]);
  const out = [];
  for (const u of urls) {
    const r = await fetch(u);
    out.push({ url: u, status: r.status, type: r.headers.get('content-type'), body: Buffer.from(await r.arrayBuffer()) });
  }
  return out;
}
async function resetAll() {
  await s.fake('DELETE', '/__fake/scenario');
  await s.fake('POST', '/__fake/config', { key_lifetime_ms: 300000, strict_names: true, retired_models: [] });
  for (const id of [0, idB]) await s.admin('POST', `/accounts/${id}/enable`);
}

before(async () => {
  s = await startStack({
    env: {
      COOLDOWN_429: '30', COOLDOWN_OVERLOADED: '2', COOLDOWN_ERROR: '1', PING_INTERVAL: '1', MAX_RETRIES: '2',
      MODEL_UNAVAILABLE_TTL: '3', IMAGE_POLL_TIMEOUT: '10', IMAGE_OUTPUT: 'url', POOL_STRATEGY: 'failover',
      UPSTREAM_IDLE_TIMEOUT: '2', UPSTREAM_VIDEO_IDLE_TIMEOUT: '20', EXPIRY_WATCH_IDLE: '0',
      SECRET_KEY: 'fidelity-test-secret-key-0123456789',
    },
  });
  await s.fake('POST', '/__fake/accounts', [B, R]);
  await s.fake('POST', '/__fake/config', { strict_names: true });
  const rb = await s.admin('POST', '/accounts', { name: 'bravo', ...B });
  assert.equal(rb.status, 201, rb.text);
  idB = rb.json.id;
  png = (await s.fake('GET', '/__fake/info')).png_sha256;
});
after(async () => { await s?.stop(); });

describe('signing keys and JWTs (item 1)', () => {
  test('an image stream that outlasts the signing key still delivers its image', async () => {
    await resetAll();
    await s.admin('POST', `/accounts/${idB}/disable`, { reason: 'one account for this test' });
    // keys now live 1.5 s; the gateway's cached key is revoked (its next call gets 401 once)
    await s.fake('POST', '/__fake/config', { key_lifetime_ms: 1500, strict_names: true });
    await s.fake('POST', `/__fake/accounts/${ENV}/revoke_keys`);
    const seq = await lastSeq();
    const ox0 = (await rec()).getoxsrf.length;
    const r = await chat(say(`draw ${dir('image,delay_ms=450')}`, 'gemini-2.5-flash-image'));
    assert.equal(r.status, 200, r.text);
    const content = r.json.choices[0].message.content;
    assert.doesNotMatch(content, /unavailable/);
    const files = await links(content);
    assert.equal(files.length, 1, content);
    assert.equal(files[0].status, 200);
    assert.equal(sha(files[0].body), png);
    const R1 = await rec(seq);
    const lists = R1.requests.filter((q) => q.endpoint === 'list_files');
    const dls = R1.requests.filter((q) => q.endpoint === 'download');
    assert.ok(lists.length >= 1 && lists.every((q) => q.status === 200), JSON.stringify(lists));
    assert.ok(dls.length >= 1 && dls.at(-1).status === 200, JSON.stringify(dls));
    assert.ok((await rec()).getoxsrf.length >= ox0 + 2, 'a new key was fetched after the long stream');
  });

  test('a JWT rejected on the media calls (list, download) gets one retry each with a new key', async () => {
    await resetAll();
    await s.admin('POST', `/accounts/${idB}/disable`, { reason: 'one account for this test' });
    assert.equal((await chat(say('warm up'))).status, 200);
    await s.fake('POST', '/__fake/scenario', [
      { csesidx: ENV, endpoint: 'list_files', mode: 'http401', count: 1 },
      { csesidx: ENV, endpoint: 'download', mode: 'http401', count: 1 },
    ]);
    const seq = await lastSeq();
    const r = await chat(say(`draw ${dir('image')}`, 'gemini-2.5-flash-image'));
    assert.equal(r.status, 200, r.text);
    const files = await links(r.json.choices[0].message.content);
    assert.equal(files.length, 1);
    assert.equal(sha(files[0].body), png);
    const q = (await rec(seq)).requests;
    assert.deepEqual(q.filter((x) => x.endpoint === 'list_files').map((x) => x.status), [401, 200]);
    assert.deepEqual(q.filter((x) => x.endpoint === 'download').map((x) => x.status), [401, 200]);
    assert.equal(q.filter((x) => x.endpoint === 'getoxsrf').length, 2, 'one sign-in per 401');
  });
});

describe('session names on media calls (item 2)', () => {
  test('list and download use sessionInfo.session (projects/...) under strict_names', async () => {
    await resetAll();
    const seq = await lastSeq();
    const r = await chat(say(`draw ${dir('image,images=2')}`, 'gemini-2.5-flash-image'));
    assert.equal(r.status, 200, r.text);
    const files = await links(r.json.choices[0].message.content);
    assert.equal(files.length, 2);
    for (const f of files) assert.equal(sha(f.body), png);
    const media = (await rec(seq)).requests.filter((q) => q.endpoint === 'list_files' || q.endpoint === 'download');
    assert.ok(media.length >= 3);
    for (const q of media) {
      assert.match(q.session, /^projects\/\d+\/locations\/global\/collections\//, JSON.stringify(q));
      assert.equal(q.status, 200);
    }
  });
});

describe('retired models (item 3)', () => {
  test('a retired model answered 404 leaves every account active and the next valid request succeeds at once', async () => {
    await resetAll();
    await s.fake('POST', '/__fake/config', { retired_models: ['gemini-3-pro-preview'], strict_names: true });
    const seq = await lastSeq();
    const r = await chat(say('hello old model', 'gemini-3-pro-preview'));
    assert.equal(r.status, 404, r.text);
    assert.equal(r.json.error.code, 'model_not_found');
    assert.equal(r.json.error.param, 'model');
    assert.match(r.json.error.message, /gemini-3-pro-preview/);
    const streams = (await rec(seq)).requests.filter((q) => q.endpoint === 'stream');
    assert.equal(streams.length, 1, 'no new session, no failover');
    for (const id of [0, idB]) {
      const a = await acct(id);
      assert.equal(a.status, 'active', JSON.stringify(a));
      assert.equal(a.last_errors.filter((e) => e.kind !== 'refresh' && Date.parse(e.at) > Date.now() - 5000).length, 0);
    }
    // marked unavailable: /v1/models says so, and the model answers 404 without an upstream call
    const models = await (await fetch(s.url + '/v1/models', { headers: { authorization: `Bearer ${s.apiKey}` } })).json();
    const m = models.data.find((x) => x.id === 'gemini-3-pro-preview');
    assert.equal(m.available, false);
    assert.ok(Date.parse(m.unavailable_until) > Date.now());
    assert.equal(models.data.find((x) => x.id === 'gemini-2.5-flash').available, true);
    const seq2 = await lastSeq();
    const again = await chat(say('again', 'gemini-3-pro-preview'));
    assert.equal(again.status, 404);
    assert.equal((await rec(seq2)).requests.filter((q) => q.endpoint === 'stream').length, 0);
    const ok = await chat(say('valid model now'));
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.json.choices[0].message.content, /valid model now/);
    // MODEL_UNAVAILABLE_TTL (3 s) later the model is tried again
    await s.fake('POST', '/__fake/config', { retired_models: [], strict_names: true });
    await waitFor(async () => {
      const ms = await (await fetch(s.url + '/v1/models', { headers: { authorization: `Bearer ${s.apiKey}` } })).json();
      return ms.data.find((x) => x.id === 'gemini-3-pro-preview').available;
    }, 6000, 'the model to be available again');
    const back = await chat(say('back again', 'gemini-3-pro-preview'));
    assert.equal(back.status, 200, back.text);
  });
});

describe('cookie refresh (item 4)', () => {
  test('a refreshcookies redirect with rotated cookies keeps the account active; the rotated cookie is used afterwards, also after a restart', async () => {
    await resetAll();
    const rr = await s.admin('POST', '/accounts', { name: 'rotor', ...R });
    assert.equal(rr.status, 201, rr.text);
    const idR = rr.json.id;
    await s.fake('POST', '/__fake/scenario', { csesidx: R.csesidx, endpoint: 'getoxsrf', mode: 'redirect', rotate: true, count: 1 });
    const seq = await lastSeq();
    const t = await s.admin('POST', `/accounts/${idR}/test`);
    assert.equal(t.status, 200, t.text);
    assert.equal(t.json.ok, true, t.text);
    const R1 = await rec(seq);
    assert.deepEqual(R1.requests.filter((q) => q.endpoint === 'getoxsrf' || q.endpoint === 'refreshcookies')
      .map((q) => `${q.endpoint} ${q.status}`), ['getoxsrf 302', 'refreshcookies 302', 'getoxsrf 200']);
    let a = await acct(idR);
    assert.equal(a.status, 'active');
    assert.equal(a.refresh_count, 1);
    assert.ok(a.last_signin_at);
    assert.ok(a.last_errors.some((e) => e.message === 'cookies refreshed'), JSON.stringify(a.last_errors));
    assert.ok(!JSON.stringify(a).includes('CSE.fid-rot'), 'no cookie in the account JSON');
    // the old cookies no longer sign in at the fake; the gateway's new ones do
    await s.fake('POST', `/__fake/accounts/${R.csesidx}/revoke_keys`);
    const t2 = await s.admin('POST', `/accounts/${idR}/test`);
    assert.equal(t2.json.ok, true, t2.text);
    // the same for the environment account, then a restart: both keep the rotated cookies
    await s.fake('POST', '/__fake/scenario', { csesidx: ENV, endpoint: 'getoxsrf', mode: 'redirect', rotate: true, count: 1 });
    await s.fake('POST', `/__fake/accounts/${ENV}/revoke_keys`);
    const t3 = await s.admin('POST', '/accounts/0/test');
    assert.equal(t3.json.ok, true, t3.text);
    assert.equal((await acct(0)).refresh_count, 1);
    await sleep(300);   // the saver thread writes off the request path; stop() flushes it too
    await s.restart();
    const seq2 = await lastSeq();
    for (const id of [idR, 0]) {
      const t4 = await s.admin('POST', `/accounts/${id}/test`);
      assert.equal(t4.json.ok, true, `account ${id} after restart: ${t4.text}`);
      assert.equal((await acct(id)).status, 'active');
    }
    const ox = (await rec(seq2)).requests.filter((q) => q.endpoint === 'getoxsrf');
    assert.deepEqual(ox.map((q) => q.status), [200, 200], 'the restarted gateway signed in with the rotated cookies');
    await s.admin('DELETE', `/accounts/${idR}`);
  });

  test('refreshcookies without new cookies: expired', async () => {
    await resetAll();
    await s.fake('POST', '/__fake/scenario', { csesidx: B.csesidx, endpoint: 'getoxsrf', mode: 'redirect', count: 3 });
    await s.fake('POST', `/__fake/accounts/${B.csesidx}/revoke_keys`);
    const t = await s.admin('POST', `/accounts/${idB}/test`);
    // the fake sets the same cookie again: the account is not refreshed, getoxsrf redirects again -> expired
    const a = await acct(idB);
    assert.equal(t.json.ok, false, t.text);
    assert.equal(a.status, 'expired', JSON.stringify(a));
    assert.match(a.reason, /refreshcookies/);
  });
});

describe('line filters across fragments (item 6)', () => {
  test('<ctrl46>Image size: (32, 32) split across two fragments never reaches the answer', async () => {
    await resetAll();
    const answer = '<ctrl46>Image size: (32, 32)\nHere is the answer.';
    const body = say(`x ${dir(`nothoughts,fragment_bytes=14,answer=${enc(answer)}`)}`);
    const r = await chat(body);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'Here is the answer.');
    const st = await chat({ ...body, stream: true });
    assert.equal(st.status, 200);
    assert.equal(sseContent(st.text), 'Here is the answer.');
    assert.doesNotMatch(st.text, /ctrl46|Image size/);
    // text that only starts like a status line is not held back or lost
    const r2 = await chat(say(`y ${dir(`nothoughts,fragment_bytes=3,answer=${enc('<ctrl4 is not a status line')}`)}`));
    assert.equal(r2.json.choices[0].message.content, '<ctrl4 is not a status line');
  });
});

describe('generated files (item 7)', () => {
  test('files that appear only after the stream are found by polling (pings meanwhile)', async () => {
    await resetAll();
    const seq = await lastSeq();
    const r = await chat(say(`draw ${dir('image,files_after_ms=2500')}`, 'gemini-2.5-flash-image', { stream: true }));
    assert.equal(r.status, 200);
    assert.match(r.text, /^: ping/m, 'keep-alive pings while polling');
    const files = await links(sseContent(r.text));
    assert.equal(files.length, 1, r.text);
    assert.equal(sha(files[0].body), png);
    const lists = (await rec(seq)).requests.filter((q) => q.endpoint === 'list_files');
    assert.ok(lists.length >= 2, `polled ${lists.length} times`);
    // the images API too
    const im = await fetch(s.url + '/v1/images/generations', {
      method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: `cat ${dir('image,files_after_ms=1000')}`, response_format: 'b64_json' }),
    });
    assert.equal(im.status, 200);
    assert.equal(sha(Buffer.from((await im.json()).data[0].b64_json, 'base64')), png);
  });

  test('inlineData replies become generated files (no download)', async () => {
    await resetAll();
    const seq = await lastSeq();
    const r = await chat(say(`draw ${dir('image,inline_data')}`, 'gemini-2.5-flash-image'));
    assert.equal(r.status, 200, r.text);
    const files = await links(r.json.choices[0].message.content);
    assert.equal(files.length, 1);
    assert.equal(files[0].type, 'image/png');
    assert.equal(sha(files[0].body), png);
    assert.equal((await rec(seq)).requests.filter((q) => q.endpoint === 'download').length, 0);
  });
});

describe('429 kinds, per-kind cooldowns, uToken-only (item 8)', () => {
  test('LLM_OVERLOADED: retry elsewhere, short cooldown that ends by itself', async () => {
    await resetAll();
    await s.fake('POST', '/__fake/scenario', { csesidx: ENV, endpoint: 'stream', mode: 'overloaded', count: 1 });
    const r = await chat(say('busy service'));
    assert.equal(r.status, 200, r.text);
    const a = await acct(0);
    assert.equal(a.status, 'cooldown');
    assert.equal(a.reason, '429 LLM_OVERLOADED');
    assert.ok(Date.parse(a.until) - Date.now() <= 2500, `short cooldown, until ${a.until}`);
    assert.equal(a.cooldowns.text.fail_count, 0, 'overloaded does not escalate');
    await waitFor(async () => (await acct(0)).status === 'active', 5000, 'the overload cooldown to end');
  });

  test('quota 429: the escalating cooldown', async () => {
    await resetAll();
    await s.fake('POST', '/__fake/scenario', { csesidx: ENV, endpoint: 'stream', mode: 'quota', count: 1 });
    const r = await chat(say('quota gone'));
    assert.equal(r.status, 200, r.text);
    const a = await acct(0);
    assert.equal(a.status, 'cooldown');
    assert.match(a.reason, /^429 RESOURCE_EXHAUSTED/);
    const left = Date.parse(a.until) - Date.now();
    assert.ok(left > 25000 && left <= 30500, `COOLDOWN_429 = 30 s, left ${left}`);
    assert.equal(a.cooldowns.text.fail_count, 1);
  });

  test('an account out of image quota still serves text; image work skips it', async () => {
    await resetAll();
    await s.fake('POST', '/__fake/scenario', { csesidx: ENV, endpoint: 'stream', mode: 'quota', count: 1 });
    const seq = await lastSeq();
    const im = await chat(say(`draw ${dir('image')}`, 'gemini-2.5-flash-image'));
    assert.equal(im.status, 200, im.text);
    let a = await acct(0);
    assert.equal(a.status, 'active', 'an image quota leaves the account active');
    assert.ok(Date.parse(a.cooldowns.image.until) > Date.now() + 25000, JSON.stringify(a.cooldowns));
    assert.equal(a.cooldowns.text, undefined);
    const seq2 = await lastSeq();
    const tx = await chat(say('text still works'));
    assert.equal(tx.status, 200);
    const st2 = (await rec(seq2)).requests.filter((q) => q.endpoint === 'stream');
    assert.deepEqual(st2.map((q) => q.csesidx), [ENV], 'text went to the image-limited account');
    const seq3 = await lastSeq();
    const im2 = await chat(say(`draw again ${dir('image')}`, 'gemini-2.5-flash-image'));
    assert.equal(im2.status, 200);
    const st3 = (await rec(seq3)).requests.filter((q) => q.endpoint === 'stream');
    assert.deepEqual(st3.map((q) => q.csesidx), [B.csesidx], 'image work skipped the image-limited account');
    assert.ok((await rec(seq)).requests.length > 0);
    await s.admin('POST', '/accounts/0/reset');
    a = await acct(0);
    assert.equal(a.cooldowns.image, undefined, 'reset clears the per-kind cooldowns');
  });

  test('a uToken-only 200 body refreshes the JWT and retries once on the same account', async () => {
    await resetAll();
    await s.admin('POST', `/accounts/${idB}/disable`, { reason: 'one account for this test' });
    await s.fake('POST', '/__fake/scenario', { csesidx: ENV, endpoint: 'stream', mode: 'utoken_only', count: 1 });
    const seq = await lastSeq();
    const r = await chat(say('auth hiccup'));
    assert.equal(r.status, 200, r.text);
    assert.match(r.json.choices[0].message.content, /auth hiccup/);
    const q = (await rec(seq)).requests;
    assert.deepEqual(q.filter((x) => x.endpoint === 'stream').map((x) => `${x.csesidx} ${x.mode}`),
      [`${ENV} utoken_only`, `${ENV} null`]);
    assert.equal(q.filter((x) => x.endpoint === 'getoxsrf').length, 1, 'a new key before the retry');
    assert.equal((await acct(0)).status, 'active');
  });
});

describe('video (item 9)', () => {
  test('gemini-veo: long silence with pings, longer idle deadline, the video as a link', async () => {
    await resetAll();
    const seq = await lastSeq();
    const r = await chat(say(`a short clip ${dir('video,video_ms=3500')}`, 'gemini-veo', { stream: true }));
    assert.equal(r.status, 200);
    assert.match(r.text, /^: ping/m);
    assert.match(r.text, /data: \[DONE\]/);
    const files = await links(sseContent(r.text));
    assert.equal(files.length, 1, r.text);
    assert.match(files[0].url, /\.mp4$/);
    assert.equal(files[0].type, 'video/mp4');
    assert.equal(files[0].body.subarray(4, 8).toString(), 'ftyp');
    const st = (await rec(seq)).requests.filter((q) => q.endpoint === 'stream');
    assert.equal(st.length, 1, 'no timeout failover despite UPSTREAM_IDLE_TIMEOUT=2');
    assert.ok(st[0].tools_spec && 'videoGenerationSpec' in st[0].tools_spec, JSON.stringify(st[0].tools_spec));
  });

  test('a video quota 429 cools the account for video only', async () => {
    await resetAll();
    await s.fake('POST', '/__fake/scenario', { csesidx: ENV, endpoint: 'stream', mode: 'quota', count: 1 });
    const r = await chat(say(`clip ${dir('video,video_ms=100')}`, 'gemini-veo'));
    assert.equal(r.status, 200, r.text);
    const a = await acct(0);
    assert.equal(a.status, 'active');
    assert.ok(a.cooldowns.video && Date.parse(a.cooldowns.video.until) > Date.now());
    assert.equal(a.cooldowns.image, undefined);
    await s.admin('POST', '/accounts/0/reset');
  });
});

describe('expiry watch (item 5)', () => {
  test('idle accounts are probed with getoxsrf only: sign-in time kept, expiry and refresh found without a request', async () => {
    const w = await startStack({ envAccount: true, env: { EXPIRY_WATCH_IDLE: '1', COOLDOWN_ERROR: '1' } });
    try {
      const W = { csesidx: '3009', secure_c_ses: 'CSE.watch-0009', config_id: 'cfg-w' };
      await w.fake('POST', '/__fake/accounts', W);
      const rw = await w.admin('POST', '/accounts', { name: 'watched', ...W });
      const id = rw.json.id;
      const get = async (i) => (await w.admin('GET', `/accounts/${i}`)).json;
      await waitFor(async () => (await get(id)).last_signin_at, 8000, 'a probe to sign in');
      const rec0 = await w.fake('GET', '/__fake/record');
      assert.equal(rec0.requests.filter((q) => q.endpoint === 'stream' || q.endpoint === 'create_session').length, 0,
        'probes never stream');
      // a rotation found by the watch
      await w.fake('POST', '/__fake/scenario', { csesidx: W.csesidx, endpoint: 'getoxsrf', mode: 'redirect', rotate: true, count: 1 });
      await waitFor(async () => (await get(id)).refresh_count === 1, 8000, 'the watch to refresh the cookies');
      assert.equal((await get(id)).status, 'active');
      // an expiry found by the watch
      await w.fake('POST', '/__fake/scenario', { csesidx: W.csesidx, endpoint: 'getoxsrf', mode: 'expired', count: -1 });
      await waitFor(async () => (await get(id)).status === 'expired', 8000, 'the watch to find the expiry');
      assert.equal((await get(0)).status, 'active');
    } finally {
      await w.stop();
    }
  });
});
