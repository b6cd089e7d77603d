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

// claims: overrides of the payload (undefined deletes); nowMs: the clock to
// sign with (the fake's, after POST /__fake/clock)
function sign(key, cses, { claims = {}, nowMs = Date.now() } = {}) {
  const b = s => Buffer.from(s).toString('base64url');
  const now = Math.floor(nowMs / 1000);
  const pl = Object.assign({ exp: now + 300, nbf: now, sub: 'csesidx/' + cses, aud: 'https://biz-discoveryengine.googleapis.com', iss: 'https://business.gemini.google', iat: now }, claims);
  for (const k of Object.keys(pl)) if (pl[k] === undefined) delete pl[k];
  const si = b(JSON.stringify({ kid: key.keyId, alg: 'HS256' })) + '.' + b(JSON.stringify(pl));
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

  // tool mode (README "Tool mode"): marker read from the query, plan kept
  // per session for the correction, final answer from <tool_result> blocks
  {
    const tsess = await newSession();
    const tbody = (text) => JSON.stringify({ configId: 'demo-config', additionalParams: { token: '-' },
      streamAssistRequest: { session: tsess, query: { parts: [{ text }] }, fileIds: [], toolsSpec: {} } });
    const tans = async (text) => answerOf(elems((await api('widgetStreamAssist', tbody(text))).body.toString())).join('');
    const prompt = '# Tools\n<tool_call marker="0badc0de">\n{"name": "TOOL_NAME"}\n</tool_call>\n';
    const args = encodeURIComponent(JSON.stringify({ city: 'Paris', unit: 'c' }));
    let a = await tans(`${prompt}weather? [[fake:toolcall=get_weather,args=${args},toolcall=get_time,toolbad=1]]`);
    assert(a === 'Let me use a tool.\n\n<tool_call marker="0badc0de">\n{"name": "get_weather", "arguments": {"city" "Paris"}}\n</tool_call>\n' +
      '<tool_call marker="0badc0de">\n{"name": "get_time", "arguments": {"city" "Paris"}}\n</tool_call>\n', 'toolbad first reply ' + JSON.stringify(a));
    a = await tans('Your previous reply could not be used: x.\n<tool_call marker="0badc0de">\n');
    assert(a === 'Let me use a tool.\n\n<tool_call marker="0badc0de">\n{"name": "get_weather", "arguments": {"city":"Paris","unit":"c"}}\n</tool_call>\n' +
      '<tool_call marker="0badc0de">\n{"name": "get_time", "arguments": {}}\n</tool_call>\n', 'correction answered from the plan ' + JSON.stringify(a));
    a = await tans(`${prompt}<tool_result call_id="call_1" name="get_weather">\n{"t": 1}\n</tool_result>\n<tool_result call_id="call_2" name="get_time">\nnoon\n</tool_result>\n`);
    assert(a === 'Final answer. Tool results: get_weather={"t": 1}; get_time=noon;', 'final answer ' + JSON.stringify(a));
    a = await tans(`${prompt}again, no directive`);
    assert(a.startsWith('\u6625') && a.includes('<tool-call marker="0badc0de">') && !a.includes('<tool_call'), 'no plan: defused echo ' + a);
    a = await tans(`${prompt}[[fake:toolcall=f,toolfence,tooltext=Sure.]]`);
    assert(a === 'Sure.\n\n```json\n{"name": "f", "arguments": {}}\n```\n', 'toolfence/tooltext ' + JSON.stringify(a));
    a = await tans('no prompt here [[fake:toolcall=f]]');
    assert(a.endsWith('echo: no prompt here'), 'no tool prompt: plain echo ' + a);
    assert((await api('widgetStreamAssist', tbody('x [[fake:args=%7B%7D]]'))).status === 400, 'args without toolcall accepted');
    ok('tool mode: toolcall/args/toolbad/toolfence/tooltext, correction from the session plan, final answer');
  }

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
  await upstreamBehaviours(api, ctl);
  console.log(`protocol_test: all ${n} checks passed`);
}

// ---- the strict protocol checks and the upstream behaviours of issue 18
// (README "Strict checks" and "Upstream behaviours")
async function upstreamBehaviours(api0, ctl) {
  const ctlOk = async (method, path, body) => {
    const r = await ctl(method, path, body);
    assert(r.status === 200, `control ${method} ${path} -> ${r.status} ${r.body}`);
    return JSON.parse(r.body);
  };
  await ctlOk('POST', '/reset');
  const fakeNow = async () => (await ctlOk('GET', '/clock')).now_ms;
  let key = await getKey();
  let jwt = sign(key, '1000001');
  const api = (op, body, j = jwt) => api0(op, body, j);
  const cs = async () => JSON.parse((await api('widgetCreateSession', { configId: 'demo-config' })).body).session.name;
  let sess = await cs();
  const body = (parts, extra = {}, s = sess) => ({ configId: 'demo-config', additionalParams: { token: '-' },
    streamAssistRequest: Object.assign({ session: s, query: { parts }, fileIds: [], toolsSpec: {} }, extra) });
  const text = (t, extra, s) => body([{ text: t }], extra, s);
  const replies = (b) => JSON.parse(b.toString()).flatMap(e => (e.streamAssistResponse && e.streamAssistResponse.answer.replies) || [])
    .map(r => r.groundedContent.content);
  const lastRec = async () => { const rec = await ctlOk('GET', '/record'); return rec.requests[rec.requests.length - 1]; };

  // JWT: iat required, lifetime bounded, iat not in the future
  const jwtStatus = async (claims) => (await api('widgetCreateSession', { configId: 'demo-config' }, sign(key, '1000001', { claims }))).status;
  assert(await jwtStatus({}) === 200, 'valid JWT');
  assert(await jwtStatus({ iat: undefined }) === 401, 'JWT without iat accepted');
  const now = Math.floor(Date.now() / 1000);
  assert(await jwtStatus({ exp: now + 301 }) === 401, 'JWT living 301 s accepted');
  assert(await jwtStatus({ exp: now + 365 * 86400 }) === 401, 'one-year JWT accepted');
  assert(await jwtStatus({ iat: now - 100, nbf: now - 100, exp: now + 250 }) === 401, 'exp - iat > 300 accepted');
  assert(await jwtStatus({ iat: now + 60, nbf: now + 60, exp: now + 300 }) === 401, 'iat in the future accepted');
  assert(await jwtStatus({ exp: now }) === 401, 'exp <= nbf accepted');
  ok('strict JWT: iat required, exp - nbf/iat <= 300 s, no future iat');

  // the fake's clock and key expiry
  const ox = await getKey();
  const t0 = await fakeNow();
  assert(Math.abs(Date.parse(ox.expirationTime) - (t0 + 300000)) < 2000, 'expirationTime = issue + 300 s: ' + ox.expirationTime);
  await ctlOk('POST', '/clock', { advance_ms: 200000 });
  let fnow = await fakeNow();
  assert(fnow - t0 >= 200000 && fnow - t0 < 205000, 'clock advanced ' + (fnow - t0));
  const st200 = async (k, nowMs) => (await api('widgetCreateSession', { configId: 'demo-config' }, sign(k, '1000001', { nowMs }))).status;
  assert(await st200(ox, fnow) === 200, 'key valid at +200 s');
  assert(await st200(ox, Date.now()) === 200, 'a JWT signed 200 s ago is still inside its 300 s');
  await ctlOk('POST', '/clock', { advance_ms: 101000 });
  fnow = await fakeNow();
  assert(await st200(ox, fnow) === 401, 'key expired at +301 s but a fresh JWT signed with it passed');
  assert(await st200(ox, Date.now()) === 401, 'a JWT whose exp passed on the fake clock passed');
  const ox2 = await getKey();
  assert(await st200(ox2, fnow) === 200, 'new key on the moved clock');
  assert((await ctl('POST', '/clock', { advance_ms: -5 })).status === 400, 'negative advance accepted');
  assert((await ctl('POST', '/clock', { bogus: 1 })).status === 400, 'bad clock body accepted');
  await ctlOk('POST', '/clock', { set_ms: Date.now() });
  assert(Math.abs((await fakeNow()) - Date.now()) < 1000, 'clock set back');
  // short key lifetimes: per getoxsrf scenario, per account, fake-wide
  await ctlOk('POST', '/scenario', { endpoint: 'getoxsrf', key_lifetime_ms: 1500 });
  const oxs = await getKey();
  assert(Math.abs(Date.parse(oxs.expirationTime) - ((await fakeNow()) + 1500)) < 1000, 'short expirationTime ' + oxs.expirationTime);
  assert(await st200(oxs, await fakeNow()) === 200, 'short key valid at first');
  await ctlOk('POST', '/clock', { advance_ms: 1600 });
  assert(await st200(oxs, await fakeNow()) === 401, 'short key (scenario) did not expire');
  await ctlOk('POST', '/reset');
  await ctlOk('POST', '/accounts', { csesidx: '3000003', secure_c_ses: 'ses-c', config_id: 'cfg-c', key_lifetime_ms: 1000 });
  const oxc = await getKey('3000003', 'ses-c');
  const jwtC = (nowMs) => sign(oxc, '3000003', { nowMs });
  assert((await api('widgetCreateSession', { configId: 'cfg-c' }, jwtC(Date.now()))).status === 200, 'account key valid');
  await ctlOk('POST', '/clock', { advance_ms: 1100 });
  assert((await api('widgetCreateSession', { configId: 'cfg-c' }, jwtC(await fakeNow()))).status === 401, 'per-account key lifetime ignored');
  await ctlOk('POST', '/reset');
  await ctlOk('POST', '/config', { key_lifetime_ms: 1000 });
  const oxg = await getKey();
  await ctlOk('POST', '/clock', { advance_ms: 1100 });
  assert(await st200(oxg, await fakeNow()) === 401, 'fake-wide key lifetime ignored');
  assert((await ctl('POST', '/config', { key_lifetime_ms: 0 })).status === 400, 'bad config accepted');
  assert((await ctl('POST', '/config', { nope: 1 })).status === 400, 'unknown config key accepted');
  assert((await ctl('POST', '/accounts', { csesidx: '4', secure_c_ses: 'x', config_id: 'y', typo: 1 })).status === 400, 'unknown account field accepted');
  await ctlOk('POST', '/reset');
  assert((await ctlOk('GET', '/config')).key_lifetime_ms === 300000, 'reset restores the config');
  key = await getKey();
  jwt = sign(key, '1000001');
  ok('fake clock (POST /__fake/clock), signing keys expire; short lifetimes per scenario/account/config');

  // query.parts required; parts checked; several text parts joined with \n
  const stq = async (b) => (await api('widgetStreamAssist', b));
  let r = await stq({ configId: 'demo-config', streamAssistRequest: { session: sess } });
  assert(r.status === 400 && /query is required/.test(r.body), 'missing query ' + r.status);
  r = await stq(body([]));
  assert(r.status === 400 && /query.parts is required/.test(r.body), 'empty parts ' + r.status);
  r = await stq(body([{ fileData: { fileUri: 'gs://x' } }]));
  assert(r.status === 400 && /exactly one of text or inlineData/.test(r.body), 'unknown part ' + r.status);
  r = await stq(body([{ text: 'a', inlineData: { mimeType: 'image/png', data: 'AAAA' } }]));
  assert(r.status === 400, 'part with two kinds ' + r.status);
  r = await stq(body([{ text: 5 }]));
  assert(r.status === 400, 'non-string text ' + r.status);
  r = await stq(body([{ inlineData: { mimeType: 'image/png', data: 'not base64!' } }]));
  assert(r.status === 400 && /not base64/.test(r.body), 'bad inlineData ' + r.status);
  r = await stq(body([{ inlineData: { mimeType: 'application/pdf', data: 'AAAA' } }]));
  assert(r.status === 400, 'non-image inlineData ' + r.status);
  r = await stq(body([{ text: 'first' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }, { text: 'second' }]));
  assert(r.status === 200, 'text + inlineData + text ' + r.status + r.body);
  assert((await lastRec()).query_text === 'first\nsecond', 'parts joined with \\n: ' + JSON.stringify((await lastRec()).query_text));
  ok('query.parts required, non-text parts checked, text parts joined with a newline');

  // modelId: absent or {} = auto; "" and null rejected; retired -> 404
  const stm = async (gc) => (await stq(text('m', gc === undefined ? {} : { assistGenerationConfig: gc })));
  assert((await stm(undefined)).status === 200, 'no assistGenerationConfig');
  assert((await stm({})).status === 200, 'assistGenerationConfig {}');
  assert((await stm({ modelId: 'gemini-2.5-pro' })).status === 200, 'known model');
  r = await stm({ modelId: '' });
  assert(r.status === 400 && /INVALID_ARGUMENT/.test(r.body), 'empty modelId ' + r.status);
  assert((await stm({ modelId: null })).status === 400, 'null modelId');
  assert((await stm({ modelId: 'gemini-9' })).status === 400, 'unknown modelId');
  await ctlOk('POST', '/config', { retired_models: ['gemini-3-pro-preview'] });
  r = await stm({ modelId: 'gemini-3-pro-preview' });
  assert(r.status === 404 && JSON.parse(r.body).error.status === 'NOT_FOUND' &&
    /gemini-3-pro-preview not found or not supported/.test(r.body), 'retired model ' + r.status + r.body);
  assert((await stm({ modelId: 'gemini-2.5-pro' })).status === 200, 'other model still served');
  assert((await ctl('POST', '/config', { retired_models: [''] })).status === 400, 'empty retired name accepted');
  await ctlOk('POST', '/config', { retired_models: [] });
  assert((await stm({ modelId: 'gemini-3-pro-preview' })).status === 200, 'retired list cleared');
  ok('modelId: empty/null rejected, retired model 404 "not found or not supported"');

  // unknown directives and malformed values fail the request
  r = await stq(text('x [[fake:imgae]]'));
  assert(r.status === 400 && /unknown directive 'imgae'/.test(r.body), 'typo directive ' + r.status + r.body);
  r = await stq(text('x [[fake:delay_ms=abc]]'));
  assert(r.status === 400 && /delay_ms=abc/.test(r.body), 'bad directive value ' + r.status);
  r = await stq(text('x [[fake:nogzip,http42]]'));
  assert(r.status === 400, 'bad http mode ' + r.status);
  assert((await ctl('POST', '/scenario', { endpoint: 'stream', delay_ms: 'x' })).status === 400, 'bad scenario value accepted');
  assert((await ctl('POST', '/scenario', { endpoint: 'stream', dealy_ms: 5 })).status === 400, 'scenario typo accepted');
  ok('unknown directives / malformed values -> 400; scenario typos -> 400');

  // strict session names on list/download (config, account, scenario)
  const imgTools = { toolsSpec: { imageGenerationSpec: {} } };
  r = await stq(text('i [[fake:image]]', imgTools));
  const fid = replies(r.body).find(c => c.file).file.fileId;
  const full = JSON.parse(r.body.toString()).pop().streamAssistResponse.sessionInfo.session;
  assert(full.startsWith('projects/') && full.endsWith(sess), 'sessionInfo.session is the full name');
  const list = (name) => api('widgetListSessionFileMetadata', { configId: 'demo-config', listSessionFileMetadataRequest: { name, filter: 'file_origin_type = AI_GENERATED' } });
  const dl = (name, f = fid) => req('GET', `/download/v1alpha/${name}:downloadFile?fileId=${f}&alt=media`, { headers: { authorization: 'Bearer ' + jwt } });
  assert((await list(sess)).status === 200 && (await dl(sess)).status === 200, 'short names work by default');
  await ctlOk('POST', '/config', { strict_names: true });
  r = await list(sess);
  assert(r.status === 400 && /expected projects/.test(r.body), 'strict list short ' + r.status);
  assert((await dl(sess)).status === 400, 'strict download short');
  assert((await list(full)).status === 200 && (await dl(full)).status === 200, 'strict full names');
  await ctlOk('POST', '/config', { strict_names: false });
  await ctlOk('POST', '/scenario', { endpoint: 'download', strict_names: true });
  assert((await dl(sess)).status === 400 && (await dl(sess)).status === 200, 'strict_names per scenario');
  await ctlOk('POST', '/accounts', { csesidx: 1000001, secure_c_ses: 'demo-ses', config_id: 'demo-config', strict_names: true });
  assert((await list(sess)).status === 400 && (await list(full)).status === 200, 'strict_names per account');
  await ctlOk('POST', '/accounts', { csesidx: 1000001, secure_c_ses: 'demo-ses', config_id: 'demo-config' });
  ok('strict session names on list/download (config, account, scenario)');

  // getoxsrf 302 -> refreshcookies rotating both cookies
  await ctlOk('POST', '/accounts', { csesidx: '5000005', secure_c_ses: 'ses-e', host_c_oses: 'oses-e', config_id: 'cfg-e' });
  await ctlOk('POST', '/scenario', { csesidx: '5000005', endpoint: 'getoxsrf', mode: 'redirect', rotate: true });
  const oldCk = '__Secure-C_SES=ses-e; __Host-C_OSES=oses-e';
  r = await req('GET', '/auth/getoxsrf?csesidx=5000005', { headers: { cookie: oldCk } });
  assert(r.status === 302 && /^\/auth\/refreshcookies\?continue=/.test(r.headers.location), 'getoxsrf 302');
  r = await req('GET', r.headers.location, { headers: { cookie: oldCk } });
  const sc = (r.headers['set-cookie'] || []).join('\n');
  const nses = (sc.match(/__Secure-C_SES=([^;]+)/) || [])[1], noses = (sc.match(/__Host-C_OSES=([^;]+)/) || [])[1];
  assert(r.status === 302 && nses && noses && nses !== 'ses-e' && noses !== 'oses-e', 'both cookies rotate: ' + sc);
  assert(/^http:\/\/[^/]+\/auth\/getoxsrf\?csesidx=5000005$/.test(r.headers.location), 'refreshcookies continues to getoxsrf: ' + r.headers.location);
  assert((await getKey('5000005', 'ses-e', '; __Host-C_OSES=oses-e')).status === 401, 'old cookies still sign in');
  assert((await getKey('5000005', nses, '; __Host-C_OSES=oses-e')).status === 401, 'new C_SES with old C_OSES signs in');
  assert((await getKey('5000005', nses, '; __Host-C_OSES=' + noses)).xsrfToken, 'new cookies do not sign in');
  ok('getoxsrf 302 -> refreshcookies rotates __Secure-C_SES and __Host-C_OSES; only the new ones work');

  // generated files that appear only after the stream
  r = await stq(text('late [[fake:image,images=2,files_after_ms=400]]', imgTools));
  const tEnd = Date.now();
  assert(r.status === 200 && !replies(r.body).some(c => c.file || c.inlineData), 'no file in a files_after_ms stream');
  assert(!JSON.parse((await list(full)).body).listSessionFileMetadataResponse.fileMetadata ||
    JSON.parse((await list(full)).body).listSessionFileMetadataResponse.fileMetadata.every(f => f.fileId === fid), 'late files listed at once');
  let late = [];
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    const fm = JSON.parse((await list(full)).body).listSessionFileMetadataResponse.fileMetadata || [];
    late = fm.filter(f => f.fileId !== fid);
    if (late.length) break;
    await sleep(25);
  }
  assert(late.length === 2, 'late files never listed');
  assert(Date.now() - tEnd >= 350, `late files listed ${Date.now() - tEnd} ms after the stream (want >= 400)`);
  assert((await dl(full, late[0].fileId)).status === 200, 'late file downloads');
  ok('files_after_ms: no file in the stream, files listed N ms after it ended');

  // inlineData image replies
  r = await stq(text('inline [[fake:image,inline_data]]', imgTools));
  const inl = replies(r.body).filter(c => c.inlineData);
  assert(inl.length === 1 && inl[0].inlineData.mimeType === 'image/png' &&
    crypto.createHash('sha256').update(Buffer.from(inl[0].inlineData.data, 'base64')).digest('hex') ===
    JSON.parse((await ctl('GET', '/info')).body).png_sha256, 'inlineData PNG');
  assert(!replies(r.body).some(c => c.file), 'inline_data stream also carries files');
  ok('inline_data: the image arrives as inlineData');

  // a 200 body with only a uToken
  r = await stq(text('u [[fake:utoken_only]]'));
  const ub = JSON.parse(r.body.toString());
  assert(r.status === 200 && ub.length === 1 && Object.keys(ub[0]).join() === 'uToken', 'uToken-only body ' + r.body);
  ok('utoken_only: 200 with a lone uToken element');

  // 429 kinds
  r = await stq(text('o [[fake:overloaded]]'));
  let eb = JSON.parse(r.body).error;
  assert(r.status === 429 && eb.status === 'RESOURCE_EXHAUSTED' && eb.details[0].reason === 'LLM_OVERLOADED', 'overloaded');
  await ctlOk('POST', '/scenario', { endpoint: 'stream', mode: 'quota' });
  r = await stq(text('q'));
  eb = JSON.parse(r.body).error;
  assert(r.status === 429 && eb.details[0].reason === 'RATE_LIMIT_EXCEEDED' && /Quota exceeded/.test(eb.message), 'quota ' + r.body);
  ok('429 LLM_OVERLOADED vs quota exhausted (RATE_LIMIT_EXCEEDED)');

  // video: silence, then a video/mp4 file
  const vTools = { toolsSpec: { videoGenerationSpec: {} } };
  let tFirst = 0, tFile = 0;
  const vb = Buffer.from(JSON.stringify(text('v [[fake:video,video_ms=600,nogzip]]', vTools)));
  const rv = await raw([`POST /v1alpha/locations/global/widgetStreamAssist HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${jwt}\r\nContent-Length: ${vb.length}\r\nConnection: close\r\n\r\n`, vb],
    { wait: 5000, onData: (d) => { const t = Date.now(); if (!tFirst) tFirst = t; if (!tFile && d.includes('video/mp4')) tFile = t; } });
  assert(tFile && tFile - tFirst >= 550, `video file after ${tFile - tFirst} ms of silence (want >= 600)`);
  assert(/generated_video_1\.mp4/.test(rv.buf.toString()), 'video file name');
  r = await stq(text('v2 [[fake:video,video_ms=0]]', vTools));
  const vf = replies(r.body).find(c => c.file);
  assert(vf && vf.file.mimeType === 'video/mp4', 'video reply');
  const vd = await dl(full, vf.file.fileId);
  assert(vd.status === 200 && vd.headers['content-type'] === 'video/mp4' && vd.body.slice(4, 8).toString() === 'ftyp', 'video download');
  r = await stq(text('v3 [[fake:video]]'));
  assert(!replies(r.body).some(c => c.file), 'video without videoGenerationSpec');
  ok('video: silence (video_ms), then a video/mp4 file that downloads');
  await ctlOk('POST', '/reset');
}
main().catch(e => die(e.stack || String(e)));
