#!/usr/bin/env node
// loadtest.js - hold many concurrent slow streams against fake_upstream.
//   ulimit -n 20000; node loadtest.js PORT [STREAMS=10000] [DIRECTIVES]
// DIRECTIVES default "delay_ms=1000,fragments=5".  Prints completion
// counts, latency and the fake's /__fake/info afterwards; exits 1 if any
// stream failed or was incomplete.
'use strict';
const http = require('http');
const crypto = require('crypto');

const PORT = +process.argv[2];
const N = +(process.argv[3] || 10000);
const DIR = process.argv[4] || 'delay_ms=1000,fragments=5';
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function req(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port: PORT, method, path, headers, agent }, res => {
      const parts = [];
      let firstAt = 0;
      res.on('data', d => { if (!firstAt) firstAt = Date.now(); parts.push(d); });
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString(), firstAt }));
      res.on('error', reject);
    });
    r.on('error', reject);
    if (body) r.write(body);
    r.end();
  });
}

(async () => {
  const ox = await req('GET', '/auth/getoxsrf?csesidx=1000001', { cookie: '__Secure-C_SES=demo-ses' });
  const o = JSON.parse(ox.body.slice(4));
  const b = s => Buffer.from(s).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const si = b(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: o.keyId })) + '.' + b(JSON.stringify({
    iss: 'https://business.gemini.google', aud: 'https://biz-discoveryengine.googleapis.com',
    sub: 'csesidx/1000001', iat: now, exp: now + 300, nbf: now }));
  const jwt = si + '.' + crypto.createHmac('sha256', Buffer.from(o.xsrfToken, 'base64url')).update(si).digest('base64url');
  const H = { authorization: 'Bearer ' + jwt, 'content-type': 'application/json' };
  const sess = JSON.parse((await req('POST', '/v1alpha/locations/global/widgetCreateSession', H,
    JSON.stringify({ configId: 'demo-config' }))).body).session.name;
  const body = JSON.stringify({ configId: 'demo-config', streamAssistRequest: {
    session: sess, query: { parts: [{ text: `load [[fake:${DIR}]]` }] } } });
  const t0 = Date.now();
  let okN = 0, bad = 0, peakInfo = null;
  const probe = setInterval(async () => {
    try { const i = JSON.parse((await req('GET', '/__fake/info', {})).body); if (!peakInfo || i.active_streams > peakInfo.active_streams) peakInfo = i; } catch (e) { /* ignore */ }
  }, 500);
  const lat = [];
  await Promise.all(Array.from({ length: N }, async () => {
    try {
      const r = await req('POST', '/v1alpha/locations/global/widgetStreamAssist', H, body);
      if (r.status === 200 && r.body.endsWith('}\n]') && r.body.includes('"SUCCEEDED"')) { okN++; lat.push(r.firstAt - t0); } else bad++;
    } catch (e) { bad++; }
  }));
  clearInterval(probe);
  lat.sort((a, b) => a - b);
  const info = JSON.parse((await req('GET', '/__fake/info', {})).body);
  console.log(JSON.stringify({ streams: N, ok: okN, failed: bad, wall_ms: Date.now() - t0,
    first_byte_p50_ms: lat[lat.length >> 1], first_byte_p99_ms: lat[Math.floor(lat.length * 0.99)],
    peak: peakInfo, after: info }));
  process.exit(bad ? 1 : 0);
})();
