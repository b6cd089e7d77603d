// A slow client on a long streamed answer: while the client does not read,
// gemgated must stop reading the upstream (CURL_WRITEFUNC_PAUSE once its
// output passes OUT_HIGH_WATER) instead of buffering the whole answer, and
// when the client reads again every byte must arrive, in order, once
// (unpause + the per-socket-read wake-ups of the relay path).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startStack, waitFor } from '../lib/stack.mjs';

const FRAGS = 20000, FB = 1000;               // a 20 MB answer
const TEXT = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. ';
let s;
before(async () => { s = await startStack(); });
after(async () => { await s?.stop(); });

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const factor = (pid) => {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  return maps.includes('libtsan') ? 4 : maps.includes('libasan') ? 2 : 1;
};

test('a client that stops reading pauses the upstream; the whole answer arrives when it reads again', async () => {
  const pid = s.gw.pid;
  const u = new URL(s.url);
  const body = JSON.stringify({
    model: 'gemini-2.5-flash', stream: true,
    messages: [{ role: 'user', content: `long [[fake:nothoughts,fragments=${FRAGS},fragment_bytes=${FB},answer=${encodeURIComponent(TEXT)}]]` }],
  });
  const sock = net.connect({ port: Number(u.port), host: u.hostname });
  sock.setTimeout(120000, () => sock.destroy(new Error('socket timeout')));
  const chunks = [];
  let ended = false;
  sock.on('data', (d) => chunks.push(d));
  sock.on('end', () => { ended = true; });
  sock.on('error', () => {});
  await new Promise((res) => sock.once('connect', res));
  sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${s.apiKey}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  // the stream has started: stop reading
  await waitFor(() => Buffer.concat(chunks).includes('"content"'), 10000, 'the first content delta');
  sock.pause();
  const rss0 = rssKiB(pid);
  // wait until the gateway stops growing (it has paused the upstream): 10
  // samples 50 ms apart within 256 KiB of each other
  const samples = [];
  await waitFor(() => {
    samples.push(rssKiB(pid));
    const last = samples.slice(-10);
    return last.length === 10 && Math.max(...last) - Math.min(...last) < 256;
  }, 20000, 'gemgated RSS settling while the client does not read', 50);
  const grew = Math.max(...samples) - rss0;
  // without backpressure the gateway would hold the rest of the 20 MB answer
  // as SSE (~25 MB more); with it, what it relayed before pausing (the
  // loopback socket buffers take a few MB, and the call keeps the answer
  // text for the conversation) plus OUT_HIGH_WATER (256 KiB): ~4 MB here
  const bound = 12 * 1024 * factor(pid);
  assert.ok(grew < bound, `RSS grew by ${grew} KiB while the client was not reading (bound ${bound} KiB)`);
  console.log(`# backpressure: RSS +${grew} KiB while the client did not read (bound ${bound} KiB)`);
  sock.resume();
  await waitFor(() => ended, 60000 * factor(pid), 'the end of the response');
  const raw = Buffer.concat(chunks).toString('utf8');
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  assert.match(head, /^HTTP\/1\.1 200/);
  // de-chunk the body, then read the SSE events
  let rest = raw.slice(head.length + 4);
  let sse = '';
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const n = parseInt(rest.slice(0, nl), 16);
    if (!n) break;
    sse += rest.slice(nl + 2, nl + 2 + n);
    rest = rest.slice(nl + 2 + n + 2);
  }
  const events = sse.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
  assert.equal(events.at(-1), '[DONE]');
  let content = '';
  let finish = null;
  for (const e of events.slice(0, -1)) {
    const j = JSON.parse(e);
    const c = j.choices?.[0];
    if (c?.delta?.content) content += c.delta.content;
    if (c?.finish_reason) finish = c.finish_reason;
  }
  assert.equal(finish, 'stop');
  assert.equal(content.length, FRAGS * FB);
  const want = TEXT.repeat(Math.ceil((FRAGS * FB) / TEXT.length)).slice(0, FRAGS * FB);
  const h = (x) => createHash('sha256').update(x).digest('hex');
  assert.equal(h(content), h(want), 'every byte of the answer, in order, once');
});
