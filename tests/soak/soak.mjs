// soak.mjs -- the real gemgated + fake upstream with 4 accounts under mixed
// traffic and injected faults for SOAK_SECONDS (default 60; SOAK_LONG=1 =
// 15 minutes).  Traffic: streaming and non-streaming chats, per-account 429s,
// JWT 401s (stream) and expired cookies (getoxsrf), truncations before and
// after content, in-band 429s, 5xx, thoughts-only answers, slow streams and
// client aborts mid-stream.
//
// Every request must end either in success (complete content; streams end
// with finish_reason and [DONE]) or in a clear error (OpenAI envelope, or an
// in-stream error frame with no [DONE]).  Healthy requests (plain, slow,
// split_utf8, ...) must ALL succeed while only per-request and per-account
// faults run; the pool-wide chaos faults run only in a final chaos window
// (the last 20 %, at least 10 s), where a clear error on a healthy request
// is counted as caused by the soak.  Any other error fails the soak.  The daemon must stay up, its RSS
// must stay flat (mean of the last third vs the first third of the samples
// after warm-up) and its fd count must return near the baseline when idle.
//
//   node tests/soak/soak.mjs                 (binaries from $GEMGATE_BUILD_DIR)
//   SOAK_SECONDS=30 SOAK_CONCURRENCY=8 node tests/soak/soak.mjs
import { readFileSync, readdirSync } from 'node:fs';
import { startStack, waitFor } from '../lib/stack.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SECONDS = Number(process.env.SOAK_SECONDS || (process.env.SOAK_LONG ? 900 : 60));
const CONC = Number(process.env.SOAK_CONCURRENCY || 8);
const RSS_TOLERANCE = Number(process.env.SOAK_RSS_TOLERANCE || 0.20); // fraction
const RSS_SLACK_KB = 6 * 1024;
const FD_SLACK = 8;
const ANSWER = '春眠不觉晓，处处闻啼鸟。 echo: ';

const accounts = [1, 2, 3, 4].map((i) => ({
  csesidx: String(3000 + i), secure_c_ses: `CSE.soak-cookie-${i}`, config_id: `cfg-soak-${i}`,
}));

let chaosOn = false;   // the chaos window: pool-wide faults are running
const failures = [];
const counts = {};
const bump = (k) => { counts[k] = (counts[k] || 0) + 1; };
const fail = (kind, msg) => {
  failures.push(`${kind}: ${msg}`);
  if (failures.length <= 20) console.error(`soak: FAIL ${kind}: ${msg}`);
};

function procStat(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(st)[1]);
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  return { rss, fds };
}

// Parse an SSE body into { frames: [json...], done, errors: [...] }.
function parseSSE(text) {
  const out = { chunks: [], done: false, errors: [], afterDone: false };
  for (const block of text.split('\n\n')) {
    for (const line of block.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      const d = line.slice(6);
      if (out.done) out.afterDone = true;
      if (d === '[DONE]') { out.done = true; continue; }
      let j;
      try { j = JSON.parse(d); } catch { out.errors.push({ message: `unparsable frame ${d.slice(0, 80)}` }); continue; }
      if (j.error) out.errors.push(j.error);
      else out.chunks.push(j);
    }
  }
  return out;
}

function isEnvelope(j) {
  return j && j.error && typeof j.error.message === 'string' && j.error.message.length > 0 && 'type' in j.error;
}

// The request kinds: [weight, name, directive, expectation].
// expect: 'exact' = success with the echo answer; 'ok' = success, content not
// checked exactly; 'any' = success or a clear error; 'error' = must fail clearly.
// Request kinds: [weight, name, directive, expectation].  expect: 'exact' =
// success with the echo answer; 'ok' = success, content not checked exactly;
// 'error' = must fail clearly; 'abort' = the client hangs up mid-stream.
// Healthy clients may still get a clear error while every account is cooling
// down (that is counted, never a failure).  Faults that fail on every
// account (the directive travels with the query) cool the whole pool, so a
// separate chaos client sends those at a low rate (chaosKinds).
const kinds = [
  [30, 'plain', '', 'exact'],
  [8, 'slow', '[[fake:delay_ms=40,fragments=25]]', 'ok'],
  [4, 'slow_first_byte', '[[fake:first_byte_ms=1500]]', 'exact'],
  [4, 'split_utf8', '[[fake:split_utf8]]', 'exact'],
  [6, 'abort', '[[fake:delay_ms=60,fragments=40]]', 'abort'],
];
// Faults whose directive travels with the query fail on every account a
// request tries, so they cool the pool: chaos window only.
const chaosKinds = [
  [2, 'thoughts_only', '[[fake:thoughts_only]]', 'error'],
  [3, 'truncate_after_content', '[[fake:truncate,truncate_after=3]]', 'error'],
  [1, 'truncate_before_content', '[[fake:truncate,truncate_after=1]]', 'error'],
  [1, 'inband429', '[[fake:inband429]]', 'error'],
  [1, 'inband429_after_content', '[[fake:inband429,error_after=3]]', 'error'],
  [1, 'http500', '[[fake:http500]]', 'error'],
  [1, 'http429_all', '[[fake:http429]]', 'error'],
];
function pick(list) {
  let r = Math.random() * list.reduce((a, k) => a + k[0], 0);
  for (const k of list) { if ((r -= k[0]) < 0) return k; }
  return list[0];
}

let seq = 0;
async function oneRequest(s, list = kinds) {
  const [, name, directive, expect] = pick(list);
  const stream = Math.random() < 0.7 || expect === 'abort';
  const tag = `soak-${++seq}-${name}`;
  const query = `${tag} ${directive}`.trim();
  const body = { model: 'gemini-2.5-flash', stream, messages: [{ role: 'user', content: query }] };
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new Error('client timeout')), 60000);
  const label = `${tag} (${stream ? 'stream' : 'json'})`;
  const inChaos = chaosOn;   // errors caused by the chaos are allowed
  bump(`${name}:${stream ? 's' : 'j'}`);
  try {
    const r = await fetch(s.url + '/v1/chat/completions', {
      method: 'POST', signal: ctl.signal,
      headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (expect === 'abort' && r.status === 200) {
      // read until the first content delta, then hang up
      const rd = r.body.getReader();
      let seen = '';
      while (!seen.includes('"content"')) {
        const { value, done } = await rd.read();
        if (done) break;
        seen += Buffer.from(value).toString('utf8');
      }
      ctl.abort();
      bump('aborted');
      return;
    }
    const text = await r.text();
    if (r.status !== 200) {
      let j = null;
      try { j = JSON.parse(text); } catch { /* not JSON */ }
      if (!isEnvelope(j)) return fail('bad-error', `${label}: HTTP ${r.status} without an OpenAI envelope: ${text.slice(0, 200)}`);
      if ((r.status === 429 || r.status === 503) && !r.headers.get('retry-after'))
        return fail('bad-error', `${label}: ${r.status} without Retry-After`);
      if (expect === 'exact' || expect === 'ok') {
        // a healthy request may lose to the pool-wide chaos only
        if (!inChaos && !chaosOn)
          return fail('unexpected-error', `${label}: HTTP ${r.status} outside the chaos window: ${j.error.message}`);
        bump('collateral-error');
        bump(`why:${r.status} ${j.error.message.replace(/soak-\d+\S*/g, '').slice(0, 70)}`);
        return;
      }
      if (expect === 'abort' && !inChaos && !chaosOn)
        return fail('unexpected-error', `${label}: HTTP ${r.status} outside the chaos window: ${j.error.message}`);
      bump('clear-error');
      return;
    }
    let content = '';
    let finish = null;
    if (stream) {
      const sse = parseSSE(text);
      if (sse.afterDone) return fail('protocol', `${label}: data after [DONE]`);
      for (const c of sse.chunks) {
        const ch = c.choices?.[0];
        if (ch?.delta?.content) content += ch.delta.content;
        if (ch?.finish_reason) finish = ch.finish_reason;
      }
      if (sse.done && sse.errors.length) return fail('protocol', `${label}: [DONE] after an error frame`);
      if (!sse.done) {
        if (!sse.errors.length) return fail('silent-truncation', `${label}: stream ended without [DONE] and without an error frame`);
        if (!sse.errors.every((e) => typeof e.message === 'string' && e.message))
          return fail('bad-error', `${label}: error frame without a message`);
        if (expect === 'exact' || expect === 'ok') {
          // failures after content must not happen without an injected fault
          if (content) return fail('unexpected-error', `${label}: error after content: ${sse.errors[0].message}`);
          if (!inChaos && !chaosOn)
            return fail('unexpected-error', `${label}: error frame outside the chaos window: ${sse.errors[0].message}`);
          bump('collateral-error');
          return;
        }
        bump('clear-error');
        return;
      }
      if (!finish) return fail('silent-truncation', `${label}: [DONE] without finish_reason`);
    } else {
      let j;
      try { j = JSON.parse(text); } catch { return fail('protocol', `${label}: 200 with a non-JSON body`); }
      content = j.choices?.[0]?.message?.content ?? '';
      finish = j.choices?.[0]?.finish_reason;
      if (!finish) return fail('protocol', `${label}: no finish_reason`);
    }
    if (expect === 'error') return fail('silent-success', `${label}: fault ${directive} answered 200/[DONE] with ${JSON.stringify(content.slice(0, 80))}`);
    if (expect === 'exact' && content !== ANSWER + tag)
      return fail('silent-truncation', `${label}: content ${JSON.stringify(content)} != ${JSON.stringify(ANSWER + tag)}`);
    if (expect === 'ok' && content.length === 0) return fail('silent-truncation', `${label}: empty content`);
    bump('ok');
    if (name === 'plain') bump(inChaos || chaosOn ? 'plain-ok-chaos' : 'plain-ok');
  } catch (e) {
    if (ctl.signal.aborted && expect === 'abort') { bump('aborted'); return; }
    fail('transport', `${label}: ${e.cause?.code || ''} ${e.message}`);
  } finally {
    clearTimeout(timer);
  }
}

// Per-account faults injected in the background: 429s and JWT 401s on
// streams, expired cookies on getoxsrf (then an admin cookie update, as an
// operator would), create_session 500s.
async function faultLoop(s, ids, stopAt) {
  let n = 0;
  const heal = async () => {
    const list = await s.admin('GET', '/accounts');
    for (const acc of list.json?.accounts || []) {
      if (acc.status === 'expired') {
        // new cookies in the fake and the gateway, as an operator would do
        const k = accounts.findIndex((x) => x.csesidx === acc.csesidx);
        const cookie = `CSE.soak-cookie-${k + 1}-${n}`;
        await s.fake('POST', '/__fake/accounts', { ...accounts[k], secure_c_ses: cookie });
        await s.admin('PUT', `/accounts/${acc.id}`, { secure_c_ses: cookie });
        bump('healed-expired');
      } else if (acc.status === 'disabled') {
        await s.admin('POST', `/accounts/${acc.id}/enable`);
        bump('healed-disabled');
      }
    }
  };
  while (Date.now() < stopAt) {
    const a = accounts[n % accounts.length];
    const f = n++ % 4;
    if (f === 0) await s.fake('POST', '/__fake/scenario', { csesidx: a.csesidx, endpoint: 'stream', mode: 'http429', count: 1 });
    else if (f === 1) await s.fake('POST', '/__fake/scenario', { csesidx: a.csesidx, endpoint: 'stream', mode: 'http401', count: 1 });
    else if (f === 2) {
      // the cookie expires: drop the account's keys so its next getoxsrf
      // (after the JWT 401) is answered EXPIRED_SIGN_IN
      await s.fake('POST', '/__fake/scenario', { csesidx: a.csesidx, endpoint: 'getoxsrf', mode: 'expired', count: 1 });
      await s.fake('POST', `/__fake/accounts/${a.csesidx}/revoke_keys`);
    } else {
      await s.fake('POST', '/__fake/scenario', { csesidx: a.csesidx, endpoint: 'create_session', mode: 'http500', count: 1 });
    }
    await sleep(1000);
    for (const acc of (await s.admin('GET', '/accounts')).json?.accounts || [])
      bump(`state:${acc.status}${acc.reason ? ':' + acc.reason.slice(0, 20).replace(/\s/g, '_') : ''}`);
    await heal();
  }
  await s.fake('DELETE', '/__fake/scenario');
  await heal();
}

async function main() {
  const t0 = Date.now();
  const s = await startStack({
    envAccount: false,
    env: {
      MAX_RETRIES: '3', COOLDOWN_429: '1', COOLDOWN_429_MAX: '2', COOLDOWN_ERROR: '1',
      PING_INTERVAL: '1', POOL_STRATEGY: 'round_robin', LOG_LEVEL: 'warn',
    },
  });
  let exitCode = 0;
  try {
    const pid = s.gw.pid;
    await s.fake('POST', '/__fake/accounts', accounts);
    const ids = [];
    for (const [i, a] of accounts.entries()) {
      const r = await s.admin('POST', '/accounts', { name: `soak${i + 1}`, ...a });
      if (r.status !== 201) throw new Error(`account create: ${r.status} ${r.text}`);
      ids.push(r.json.id);
    }
    // warm-up: a few of each kind, then the fd/RSS baseline
    chaosOn = true;   // the warm-up runs the chaos kinds once too
    for (let i = 0; i < 10; i++) await oneRequest(s);
    for (let i = 0; i < 6; i++) await oneRequest(s, chaosKinds);
    // settle: every account active again, nothing in flight
    await waitFor(async () => (await s.admin('GET', '/accounts')).json.accounts.every((a) => a.status === 'active' && a.inflight === 0),
      15000, 'every account active after the warm-up');
    chaosOn = false;
    const base = procStat(pid);
    console.log(`soak: ${SECONDS} s, ${CONC} clients, baseline rss ${base.rss} kB, ${base.fds} fds`);

    const stopAt = Date.now() + SECONDS * 1000;
    const chaosAt = stopAt - Math.max(10000, SECONDS * 200);
    const samples = [];
    let crashed = false;
    const onExit = (code, sig) => { crashed = true; fail('crash', `gemgated exited (${code ?? sig})`); };
    s.gw.once('exit', onExit);
    const sampler = setInterval(() => { try { samples.push(procStat(pid)); } catch { /* gone */ } }, 1000);
    const faults = faultLoop(s, ids, stopAt);
    const chaos = (async () => {
      while (Date.now() < chaosAt && !crashed) await sleep(100);
      chaosOn = true;
      console.log('soak: chaos window (pool-wide faults) starts');
      while (Date.now() < stopAt && !crashed) { await oneRequest(s, chaosKinds); await sleep(1500); }
    })();
    const workers = [];
    for (let w = 0; w < CONC; w++) {
      workers.push((async () => {
        while (Date.now() < stopAt && !crashed) {
          await oneRequest(s);
          await sleep(20 + Math.random() * 60); // clients think; keeps the fault mix meaningful
        }
      })());
    }
    await Promise.all(workers);
    await faults;
    await chaos;
    clearInterval(sampler);
    if (crashed) throw new Error('gemgated crashed');

    // idle: the fake must see no live streams (aborts cancelled upstream)
    let info;
    for (let i = 0; i < 50; i++) {
      info = await s.fake('GET', '/__fake/info');
      if (info.active_streams === 0) break;
      await sleep(200);
    }
    if (info.active_streams !== 0) fail('leak', `fake still has ${info.active_streams} active streams after the load`);
    const h = await fetch(s.url + '/healthz');
    if (h.status !== 200) fail('health', `/healthz ${h.status} after the load`);
    await sleep(3000); // keep-alive sockets of the clients time out or are reused
    let end = procStat(pid);
    for (let i = 0; i < 20 && end.fds > base.fds + FD_SLACK; i++) { await sleep(500); end = procStat(pid); }
    if (end.fds > base.fds + FD_SLACK) fail('fd-leak', `fds ${base.fds} -> ${end.fds}`);

    const third = Math.floor(samples.length / 3);
    if (third >= 3) {
      const mean = (a) => a.reduce((x, y) => x + y.rss, 0) / a.length;
      const first = mean(samples.slice(0, third));
      const last = mean(samples.slice(-third));
      console.log(`soak: rss first third ${Math.round(first)} kB, last third ${Math.round(last)} kB, ` +
        `max ${Math.max(...samples.map((x) => x.rss))} kB; fds ${base.fds} -> ${end.fds}`);
      if (last > first * (1 + RSS_TOLERANCE) + RSS_SLACK_KB)
        fail('rss-growth', `mean RSS grew from ${Math.round(first)} kB to ${Math.round(last)} kB`);
    }
    // every plain request outside the chaos window succeeded (others failed above)
    if (!(counts['plain-ok'] > 0)) fail('too-few-successes', 'no plain request succeeded');
    s.gw.off('exit', onExit);
    const stopped = await s.stopGw('SIGTERM');
    if (stopped !== 0) fail('shutdown', `gemgated exited ${stopped} on SIGTERM`);
  } catch (e) {
    fail('setup', e.stack || String(e));
  } finally {
    const total = Object.entries(counts).sort().map(([k, v]) => `${k}=${v}`).join(' ');
    console.log(`soak: ${total}`);
    if (failures.length) {
      console.log(`soak: ${failures.length} failure(s); daemon log tail:\n` + s.logs().split('\n').slice(-30).join('\n'));
      exitCode = 1;
    }
    await s.stop();
  }
  console.log(`soak: ${failures.length ? 'FAILED' : 'ok'} in ${Math.round((Date.now() - t0) / 1000)} s`);
  process.exit(exitCode);
}

main();
