// dialects.mjs -- time to first token per dialect against the OpenAI Chat
// path, on the same gemgated + fake upstream (bench/dialects.sh starts them).
//
//   node bench/dialects.mjs URL API_KEY [N]
//
// Each round sends one streamed request per path, in turn (so that the noise
// of a shared machine hits every path alike), each a new conversation (a
// random word in the prompt).  TTFT = from sending the request to the first
// response bytes that carry answer text (the fake's answer starts with 春).
// Prints a markdown table: p50 / p90 / p99 per path and the p50 / p90
// difference to the OpenAI Chat path.
const [url, key, nArg] = process.argv.slice(2);
const N = Number(nArg || 200);
const POEM0 = ['春', '\\u6625'];

const paths = {
  'openai chat': (q) => ['/v1/chat/completions', { authorization: `Bearer ${key}` },
    { model: 'gemini-2.5-flash', stream: true, messages: [{ role: 'user', content: q }] }],
  'anthropic messages': (q) => ['/v1/messages', { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    { model: 'gemini-2.5-flash', stream: true, max_tokens: 1024, messages: [{ role: 'user', content: q }] }],
  'openai responses': (q) => ['/v1/responses', { authorization: `Bearer ${key}` },
    { model: 'gemini-2.5-flash', stream: true, store: false, input: q }],
  'gemini (alt=sse)': (q) => ['/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', { 'x-goog-api-key': key },
    { contents: [{ role: 'user', parts: [{ text: q }] }] }],
  'gemini (JSON array)': (q) => ['/v1beta/models/gemini-2.5-flash:streamGenerateContent', { 'x-goog-api-key': key },
    { contents: [{ role: 'user', parts: [{ text: q }] }] }],
};

async function once(make) {
  const q = `bench ${Math.random().toString(36).slice(2)} [[fake:nothoughts]]`;
  const [path, headers, body] = make(q);
  const t0 = process.hrtime.bigint();
  const r = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  const dec = new TextDecoder();
  let buf = '', ttft = null;
  for await (const chunk of r.body) {
    buf += dec.decode(chunk, { stream: true });
    if (ttft === null && POEM0.some((m) => buf.includes(m))) ttft = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  if (ttft === null) throw new Error(`${path}: no answer text`);
  return ttft;
}

const pct = (a, p) => a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];
const res = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
for (let i = 0; i < 20; i++) for (const k in paths) await once(paths[k]);   // warm-up
for (let i = 0; i < N; i++) for (const k in paths) res[k].push(await once(paths[k]));
for (const k in res) res[k].sort((a, b) => a - b);
const base = res['openai chat'];
console.log(`| path | p50 ms | p90 ms | p99 ms | added p50 ms | added p90 ms |`);
console.log(`|---|---|---|---|---|---|`);
for (const k in res) {
  const a = res[k];
  const f = (x) => x.toFixed(2);
  const add = (p) => (k === 'openai chat' ? '—' : f(pct(a, p) - pct(base, p)));
  console.log(`| ${k} | ${f(pct(a, 50))} | ${f(pct(a, 90))} | ${f(pct(a, 99))} | ${add(50)} | ${add(90)} |`);
}
console.log(`\n${N} requests per path (after 20 warm-up rounds), sequential, one path after another in each round.`);
