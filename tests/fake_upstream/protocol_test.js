#!/usr/bin/env node
// protocol_test.js - low-level checks of fake_upstream (raw sockets,
// pipelining, chunked uploads, directives, scenarios, disconnects).
//   node protocol_test.js PORT        (fake already running, demo account)
'use strict';
const net = require('net');
const http = require('http');
const crypto = require('crypto');
const zlib = require('zlib');

const PORT = +process.argv[2];
const HOST = '127.0.0.1';
let n = 0;
const ok = (m) => console.log(`ok ${++n} - ${m}`);
const die = (m) => { console.error('FAIL: ' + m); process.exit(1); };
const assert = (c, m) => { if (!c) die(m); };
const sleep = (ms) => new Promise(r => setTimeout(r, ms));

// raw exchange: write chunks (with optional pauses), collect until close or timeout
function raw(chunks, { wait = 1500, onData } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(PORT, HOST);
    const got = [];
    let done = false;
    const fin = () => { if (!done) { done = true; s.destroy(); resolve({ buf: Buffer.concat(got), events: got }); } };
    s.on('data', d => { got.push(d); if (onData) onData(d, s); });
    s.on('close', fin);
    s.on('error', fin);
    setTimeout(fin, wait);
    (async () => {
      for (const c of chunks) {
        if (typeof c === 'number') await sleep(c); else s.write(c);
      }
    })();
  });
}

function req(method, path, { headers = {}, body, agent } = {}) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: HOST, port: PORT, method, path, headers, agent }, res => {
      const parts = [];
      res.on('data', d => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    if (body !== undefined) r.write(typeof body === 'string' ? body : JSON.stringify(body));
    r.end();
  });
}

async function getKey(cses = '1000001', ses = 'demo-ses', extra = '') {
  const r = await req('GET', `/auth/getoxsrf?csesidx=${cses}`, { headers: { cookie: `__Secure-C_SES=${ses}${extra}` } });
  if (r.status !== 200) return { status: r.status, body: r.body.toString() };
  return JSON.parse(r.body.toString().slice(4));
}

function sign(key, cses) {
  const b = s => Buffer.from(s).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const si = b(JSON.stringify({ kid: key.keyId, alg: 'HS256' })) + '.' +
    b(JSON.stringify({ exp: now + 300, nbf: now, sub: 'csesidx/' + cses, aud: 'https://biz-discoveryengine.googleapis.com', iss: 'https://business.gemini.google', iat: now }));
  return si + '.' + crypto.createHmac('sha256', Buffer.from(key.xsrfToken, 'base64url')).update(si).digest('base64url');
}

const ctl = (method, path, body) => req(method, '/__fake' + path, { body, headers: { 'content-type': 'application/json' } });

async function main() {
  await ctl('POST', '/reset');
  await ctl('POST', '/accounts', [{ csesidx: '2000002', secure_c_ses: 'ses-b', host_c_oses: 'oses-b', config_id: 'cfg-b' }]);
  const keyA = await getKey();
  let jwtA = sign(keyA, '1000001');
  const api = (op, body, jwt = jwtA, headers = {}) => req('POST', '/v1alpha/locations/global/' + op,
    { body, headers: Object.assign({ authorization: 'Bearer ' + jwt, 'content-type': 'application/json' }, headers) });
  const newSession = async (jwt = jwtA, cfg = 'demo-config') =>
    JSON.parse((await api('widgetCreateSession', { configId: cfg, createSessionRequest: {} }, jwt)).body).session.name;
  const sess = await newSession();
  const sbody = (text, extra = {}) => JSON.stringify({ configId: 'demo-config', additionalParams: { token: '-' },
    streamAssistRequest: Object.assign({ session: sess, query: { parts: [{ text }] }, fileIds: [], toolsSpec: {} }, extra) });
  const rawStream = (text, more = '', opts) => {
    const b = Buffer.from(sbody(text));
    return raw([`POST /v1alpha/locations/global/widgetStreamAssist HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${jwtA}\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n${more}\r\n`, b], opts);
  };
  const elems = (t) => JSON.parse(t);
  const answerOf = (arr) => arr.flatMap(e => (e.streamAssistResponse && e.streamAssistResponse.answer.replies) || [])
    .map(r => r.groundedContent.content).filter(c => c.text && !c.thought).map(c => c.text);

  // --- HTTP layer
  let r = await raw(['GET /__fake/health HTTP/1.1\r\nHost: x\r\n\r\nGET /__fake/health HTTP/1.1\r\nHost: x\r\n\r\n'], { wait: 300 });
  assert((r.buf.toString().match(/HTTP\/1.1 200/g) || []).length === 2, 'pipelined requests');
  ok('pipelining');

  const cbody = JSON.stringify({ configId: 'demo-config', createSessionRequest: { session: { name: '', displayName: 'x' } } });
  const pieces = [`POST /v1alpha/locations/global/widgetCreateSession HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${jwtA}\r\nTransfer-Encoding: chunked\r\n\r\n`];
  for (let i = 0; i < cbody.length; i += 7) {
    const part = cbody.slice(i, i + 7);
    const framed = part.length.toString(16) + ';ext=1\r\n' + part + '\r\n';
    for (const ch of framed) pieces.push(ch);  // byte by byte
  }
  pieces.push('0\r\nX-Trailer: 1\r\n\r\n');
  r = await raw(pieces, { wait: 800 });
  assert(/HTTP\/1.1 200[\s\S]*sessions\/\d{19,20}/.test(r.buf.toString()), 'chunked body byte-by-byte: ' + r.buf.toString().slice(0, 200));
  ok('chunked request body, delivered one byte per write');

  r = await raw([`POST /v1alpha/locations/global/widgetCreateSession HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${jwtA}\r\nExpect: 100-continue\r\nContent-Length: ${cbody.length}\r\n\r\n`, 200, cbody], { wait: 600 });
  assert(/^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 200/.test(r.buf.toString()), 'expect 100-continue');
  ok('Expect: 100-continue');

  r = await raw(['POST /v1alpha/locations/global/widgetCreateSession HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n'], { wait: 500 });
  assert(/^HTTP\/1.1 413/.test(r.buf.toString()), '413');
  r = await raw(['\x00\x01garbage\x7f\r\n\r\n'], { wait: 500 });
  assert(/^HTTP\/1.1 400/.test(r.buf.toString()), 'garbage -> 400');
  r = await raw(['GET / HTTP/1.1\r\nX-Big: ' + 'a'.repeat(70000) + '\r\n\r\n'], { wait: 500 });
  assert(/^HTTP\/1.1 431/.test(r.buf.toString()), '431');
  r = await raw(['GET /__fake/health HTTP/2.0\r\n\r\n'], { wait: 500 });
  assert(/^HTTP\/1.1 505/.test(r.buf.toString()), '505');
  r = await raw([`POST /v1alpha/locations/global/widgetStreamAssist HTTP/1.1\r\nAuthorization: Bearer ${jwtA}\r\nContent-Length: 5\r\n\r\n{{{{{`], { wait: 500 });
  assert(/^HTTP\/1.1 400[\s\S]*INVALID_ARGUMENT/.test(r.buf.toString()), 'bad JSON');
  ok('413 / 400 garbage / 431 / 505 / bad JSON');

  // keep-alive across a stream and a second request
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const s1 = await req('POST', '/v1alpha/locations/global/widgetStreamAssist', { agent, body: sbody('ka1'), headers: { authorization: 'Bearer ' + jwtA } });
  const s2 = await req('POST', '/v1alpha/locations/global/widgetStreamAssist', { agent, body: sbody('ka2'), headers: { authorization: 'Bearer ' + jwtA } });
  assert(s1.status === 200 && s2.status === 200 && answerOf(elems(s2.body.toString())).join('').endsWith('ka2'), 'keepalive streams');
  agent.destroy();
  ok('keep-alive reuse across streams');

  // HTTP/1.0: close-delimited
  const b10 = Buffer.from(sbody('http10'));
  r = await raw([`POST /v1alpha/locations/global/widgetStreamAssist HTTP/1.0\r\nAuthorization: Bearer ${jwtA}\r\nContent-Length: ${b10.length}\r\n\r\n`, b10], { wait: 1000 });
  let t = r.buf.toString();
  assert(!/transfer-encoding/i.test(t) && /connection: close/i.test(t) && t.endsWith('}\n]'), 'http/1.0 stream');
  ok('HTTP/1.0 close-delimited stream');

  // --- directives
  let st = await api('widgetStreamAssist', sbody('q [[fake:fragments=500,fragment_bytes=7,answer=%E4%BD%A0%E5%A5%BDab]]'));
  let arr = elems(st.body.toString());
  let frags = answerOf(arr);
  assert(frags.length === 500 && frags.every(f => Buffer.byteLength(f) <= 7) && frags[0] === '你好a', 'fragments/answer ' + frags.slice(0, 3));
  ok('fragments=N, fragment_bytes, answer=%xx');

  st = await api('widgetStreamAssist', sbody('q [[fake:thoughts_only]]'));
  arr = elems(st.body.toString());
  assert(answerOf(arr).length === 0 && arr[arr.length - 1].streamAssistResponse.answer.state === 'SUCCEEDED', 'thoughts_only');
  st = await api('widgetStreamAssist', sbody('q [[fake:skipped]]'));
  arr = elems(st.body.toString());
  const ans = arr[arr.length - 1].streamAssistResponse.answer;
  assert(ans.state === 'SKIPPED' && ans.assistSkippedReasons[0] === 'CUSTOMER_POLICY_VIOLATION' &&
    ans.customerPolicyEnforcementResult.policyResults[0].modelArmorEnforcementResult.modelArmorViolation, 'skipped');
  ok('thoughts_only, skipped');

  st = await api('widgetStreamAssist', sbody('q [[fake:truncate_clean]]'));
  t = st.body.toString();
  assert(st.status === 200 && !t.trimEnd().endsWith(']') && t.trimEnd().endsWith('}'), 'truncate_clean');
  st = await api('widgetStreamAssist', sbody('q [[fake:truncate_clean,mid,truncate_after=1]]'));
  t = st.body.toString();
  assert(!t.trimEnd().endsWith('}'), 'truncate_clean mid');
  ok('truncate_clean (+mid)');

  st = await api('widgetStreamAssist', sbody('q [[fake:inband429,error_after=2]]'));
  arr = elems(st.body.toString());
  assert(arr.length === 3 && arr[2].error.code === 429, 'inband after 2');
  ok('inband429 error_after');

  // gzip stream decodes incrementally per element (sync flush)
  r = await rawStream('gz [[fake:delay_ms=30]]', 'Accept-Encoding: gzip, deflate\r\n', { wait: 1500 });
  {
    const txt = r.buf.toString('latin1');
    const bodyStart = txt.indexOf('\r\n\r\n') + 4;
    assert(/content-encoding: gzip/i.test(txt.slice(0, bodyStart)), 'gzip header');
    // de-chunk
    let p = bodyStart, comp = [];
    const bb = r.buf;
    for (;;) {
      const e = bb.indexOf('\r\n', p);
      const len = parseInt(bb.slice(p, e).toString(), 16);
      if (!len) break;
      comp.push(bb.slice(e + 2, e + 2 + len));
      p = e + 2 + len + 2;
    }
    const first = zlib.gunzipSync(comp[0], { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString();
    assert(first.startsWith('[{\n  "uToken"'), 'first gzip chunk decodes alone: ' + first.slice(0, 30));
    const all = zlib.gunzipSync(Buffer.concat(comp)).toString();
    assert(all.endsWith('}\n]'), 'gzip full');
  }
  ok('gzip with one independently-decodable flush per element');

  // split_utf8: some TCP reads must end inside a multi-byte character
  const events = [];
  r = await rawStream('分割测试 [[fake:split_utf8]]', '', { wait: 4000, onData: d => events.push(d) });
  {
    const splitInside = events.filter(d => {
      // each read carries one chunk: "<hex>\r\n<data>\r\n"; look at the data
      const e = d.indexOf("\r\n");
      const len = parseInt(d.slice(0, e).toString(), 16);
      if (!(len > 0) || d.length !== e + 2 + len + 2) return false;
      return (d[e + 2 + len - 1] & 0xC0) === 0xC0;
    }).length;
    assert(events.length > 50 && splitInside > 5, `split_utf8: ${events.length} reads, ${splitInside} end on a lead byte`);
    const txt = r.buf.toString();
    assert(txt.includes('0\r\n\r\n'), 'split stream complete');
  }
  ok('split_utf8 delivers multi-byte characters split across reads');

  // headers_ms and first_byte_ms
  let t0 = Date.now(), tHead = 0, tBody = 0;
  r = await rawStream('x [[fake:headers_ms=300]]', '', { wait: 1500, onData: () => { if (!tHead) tHead = Date.now() - t0; } });
  assert(tHead >= 280, 'headers_ms ' + tHead);
  // timing on a loaded 2-core machine: allow two retries before failing
  for (let attempt = 1; ; attempt++) {
    t0 = Date.now(); tHead = 0; tBody = 0;
    r = await rawStream('x [[fake:first_byte_ms=300]]', '', {
      wait: 1500, onData: (d) => {
        const now = Date.now() - t0;
        if (!tHead) tHead = now;
        if (d.includes('[{')) tBody = tBody || now;
      }
    });
    if ((tHead < 150 && tBody >= 280) || attempt === 3) break;
  }
  assert(tHead < 150 && tBody >= 280, `first_byte_ms head ${tHead} body ${tBody}`);
  ok('headers_ms / first_byte_ms');

  // disconnect detection
  await ctl('POST', '/reset');
  r = await rawStream('slow [[fake:delay_ms=200]]', '', { wait: 2000, onData: (d, s) => s.destroy() });
  await sleep(100);
  r = await rawStream('hang [[fake:hang]]', '', { wait: 300 });
  await sleep(100);
  let rec = JSON.parse((await ctl('GET', '/record')).body);
  const streams = rec.requests.filter(q => q.endpoint === 'stream');
  assert(streams.length === 2 && streams.every(q => q.disconnected && q.done), 'disconnected flags ' + JSON.stringify(streams.map(q => [q.disconnected, q.done])));
  assert(rec.active_streams === 0 && rec.total_disconnects === 2, 'counters ' + rec.active_streams + ' ' + rec.total_disconnects);
  const info = JSON.parse((await ctl('GET', '/info')).body);
  assert(info.timers === 0, 'timers cancelled: ' + info.timers);
  ok('client disconnects recorded, timers cancelled');

  // --- accounts, keys, ownership
  const k1 = await getKey();
  const k2 = await getKey();
  assert((await api('widgetCreateSession', { configId: 'demo-config' }, sign(k1, '1000001'))).status === 200, 'previous key still valid');
  for (let i = 0; i < 5; i++) await getKey();
  assert((await api('widgetCreateSession', { configId: 'demo-config' }, sign(k1, '1000001'))).status === 401, 'old key expired from ring');
  assert((await api('widgetCreateSession', { configId: 'demo-config' }, sign(k2, '2000002'))).status === 401, 'key of another account');
  ok('key ring: last keys valid, old ones rejected');
  jwtA = sign(await getKey(), '1000001');

  let kb = await getKey('2000002', 'ses-b');
  assert(kb.status === 401, 'host_c_oses required');
  kb = await getKey('2000002', 'ses-b', '; __Host-C_OSES=oses-b');
  const jwtB = sign(kb, '2000002');
  st = await api('widgetStreamAssist', sbody('steal'), jwtB);
  assert(st.status === 403, 'config check first ' + st.status);
  st = await api('widgetStreamAssist', sbody('steal').replace('"demo-config"', '"cfg-b"'), jwtB);
  assert(st.status === 403 && /session is not owned by the provided user/.test(st.body), 'not owned');
  st = await api('widgetStreamAssist', sbody('x').replace(/sessions\/\d+/, 'sessions/123456789012345678'));
  assert(st.status === 404 && /NOT_FOUND/.test(st.body), 'unknown session 404: ' + st.status + st.body);
  ok('host_c_oses, configId, ownership, unknown session');

  // per-account scenarios: A fails, B fine
  await ctl('POST', '/scenario', { csesidx: '1000001', endpoint: 'stream', mode: 'http503', count: -1 });
  const sessB = await newSession(jwtB, 'cfg-b');
  st = await api('widgetStreamAssist', sbody('x'));
  const stB = await api('widgetStreamAssist', sbody('x').replace('"demo-config"', '"cfg-b"').replace(sess, sessB), jwtB);
  assert(st.status === 503 && stB.status === 200, 'per-account scenario');
  await ctl('DELETE', '/scenario');
  assert((await api('widgetStreamAssist', sbody('x'))).status === 200, 'scenario cleared');
  ok('per-account scenario (count -1) + clear');

  // getoxsrf redirect + cookie rotation
  await ctl('POST', '/scenario', { csesidx: '1000001', endpoint: 'getoxsrf', mode: 'redirect', rotate: true });
  r = await req('GET', '/auth/getoxsrf?csesidx=1000001', { headers: { cookie: '__Secure-C_SES=demo-ses' } });
  assert(r.status === 302 && /^\/auth\/refreshcookies\?continue=/.test(r.headers.location), 'redirect');
  r = await req('GET', r.headers.location, { headers: { cookie: '__Secure-C_SES=demo-ses' } });
  const setc = (r.headers['set-cookie'] || [])[0] || '';
  const newSes = (setc.match(/__Secure-C_SES=([^;]+)/) || [])[1];
  assert(r.status === 302 && newSes && newSes !== 'demo-ses', 'refreshcookies rotates');
  assert((await getKey('1000001', 'demo-ses')).status === 401, 'old cookie dead');
  assert((await getKey('1000001', newSes)).xsrfToken, 'new cookie works');
  await ctl('POST', '/accounts', { csesidx: 1000001, secure_c_ses: 'demo-ses', config_id: 'demo-config' });
  for (const m of ['expired:401', 'forbidden:403', 'http429:429']) {
    const [mode, code] = m.split(':');
    await ctl('POST', '/scenario', { endpoint: 'getoxsrf', mode });
    r = await req('GET', '/auth/getoxsrf?csesidx=1000001', { headers: { cookie: '__Secure-C_SES=demo-ses' } });
    assert(r.status === +code && r.body.toString().startsWith(")]}'"), 'getoxsrf ' + mode);
  }
  ok('getoxsrf redirect/rotate, expired, forbidden, http429');

  // create_session / add_file / download modes
  await ctl('POST', '/scenario', [{ endpoint: 'create_session', mode: 'http500' }, { endpoint: 'add_file', mode: 'http400' }, { endpoint: 'download', mode: 'fail_once' }]);
  assert((await api('widgetCreateSession', { configId: 'demo-config' })).status === 500, 'create 500');
  assert((await api('widgetAddContextFile', { configId: 'demo-config', addContextFileRequest: {} })).status === 400, 'add 400');
  st = await api('widgetStreamAssist', sbody('img [[fake:image,images=2]]', { toolsSpec: { imageGenerationSpec: {} } }));
  arr = elems(st.body.toString());
  const files = [...new Set(arr.flatMap(e => e.streamAssistResponse.answer.replies || []).map(x => x.groundedContent.content.file).filter(Boolean).map(f => f.fileId))];
  assert(files.length === 2, 'two images');
  const dl = (f) => req('GET', `/v1alpha/${sess}:downloadFile?fileId=${f}&alt=media`, { headers: { authorization: 'Bearer ' + jwtA } });
  assert((await dl(files[0])).status === 503, 'fail_once first');
  assert((await dl(files[0])).status === 200, 'fail_once second');
  await ctl('POST', '/scenario', { endpoint: 'download', mode: 'notfound' });
  assert((await dl(files[1])).status === 404, 'download notfound');
  assert((await dl(files[1])).status === 200, 'download ok after');
  r = await req('GET', `/v1alpha/${sess}:downloadFile?fileId=${files[1]}&alt=media`, { headers: { authorization: 'Bearer ' + jwtB } });
  assert(r.status === 403, 'download by other account');
  st = await api('widgetStreamAssist', sbody('img [[fake:image]]'));
  assert(!/fileId/.test(st.body.toString()), 'image needs imageGenerationSpec');
  ok('create_session/add_file/download scenarios, images=2');

  // sessions list/get/delete
  const ls = JSON.parse((await api('widgetListSessions', { configId: 'demo-config', listSessionsRequest: {} })).body);
  assert(ls.listSessionsResponse.sessions.length >= 1, 'list sessions');
  const gs = JSON.parse((await api('widgetGetSession', { configId: 'demo-config', getSessionRequest: { name: sess.split('/').pop() } })).body);
  assert(gs.getSessionResponse.session.turns.length > 3, 'get session turns');
  assert((await api('widgetDeleteSession', { configId: 'demo-config', deleteSessionRequest: { name: sess } })).status === 200, 'delete');
  assert((await api('widgetStreamAssist', sbody('gone'))).status === 404, 'deleted session 404');
  ok('list/get/delete session');

  assert((await ctl('DELETE', '/accounts/2000002')).status === 200, 'delete account');
  assert((await api('widgetListSessions', { configId: 'cfg-b' }, jwtB)).status === 401, 'deleted account JWT');
  assert((await ctl('POST', '/scenario', { endpoint: 'stream', mode: 'bogus' })).status === 400, 'bad scenario rejected');
  ok('account deletion, scenario validation');
  console.log(`protocol_test: all ${n} checks passed`);
}
main().catch(e => die(e.stack || String(e)));
