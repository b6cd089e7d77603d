// Added latency of a tool request (docs/TOOLS.md "Tests and numbers"): the
// same chat request with and without tools against the real gemgated and the
// fake upstream, streamed (TTFT = first content or tool_calls chunk, total)
// and not.  Not a test: `node tools-latency.mjs [N]` prints medians.
import { startStack } from '../lib/stack.mjs';

const N = Number(process.argv[2]) || 40;
const s = await startStack({});
const TOOLS = Array.from({ length: 5 }, (_, i) => ({ type: 'function', function: {
  name: `tool_${i}`, description: 'A tool that does something useful with a city and a unit.',
  parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city'] } } }));
const args = encodeURIComponent(JSON.stringify({ city: 'Paris', unit: 'c' }));
const reply = 'Let me use a tool.\n\n<tool_call marker="M">\n{"name": "tool_0", "arguments": {"city":"Paris","unit":"c"}}\n</tool_call>\n';

async function one(body, stream) {
  const t0 = performance.now();
  const r = await fetch(s.url + '/v1/chat/completions', { method: 'POST',
    headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream }) });
  let ttft = null;
  if (stream) {
    const rd = r.body.getReader();
    let acc = '';
    for (;;) {
      const { value, done } = await rd.read();
      if (done) break;
      acc += Buffer.from(value).toString();
      if (ttft === null && /"(content":"[^"]|tool_calls)/.test(acc)) ttft = performance.now() - t0;
    }
  } else {
    await r.text();
  }
  if (r.status !== 200) throw new Error(`status ${r.status}`);
  return { ttft, total: performance.now() - t0 };
}
const med = (a) => { const b = [...a].sort((x, y) => x - y); return b[Math.floor(b.length / 2)]; };
const plain = encodeURIComponent('The weather in Paris is mild today, around 14 degrees, with light clouds in the afternoon.');
const cases = {
  'plain answer, no tools': { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: `q [[fake:answer=${plain}]]` }] },
  'plain answer, 5 tools offered': { model: 'gemini-2.5-flash', tools: TOOLS, messages: [{ role: 'user', content: `q [[fake:answer=${plain}]]` }] },
  // the same answer bytes (a call block) as plain text without tools, and parsed into a call with tools
  'call block as text, no tools': { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: `q [[fake:answer=${encodeURIComponent(reply)}]]` }] },
  'one call, 5 tools offered': { model: 'gemini-2.5-flash', tools: TOOLS, messages: [{ role: 'user', content: `q [[fake:toolcall=tool_0,args=${args}]]` }] },
};
for (const [name, body] of Object.entries(cases)) {
  for (let i = 0; i < 5; i++) await one(body, true);  // warm-up
  const st = [], ns = [];
  for (let i = 0; i < N; i++) st.push(await one(body, true));
  for (let i = 0; i < N; i++) ns.push(await one(body, false));
  console.log(`${name}: stream ttft ${med(st.map((x) => x.ttft)).toFixed(2)} ms, total ${med(st.map((x) => x.total)).toFixed(2)} ms; ` +
    `non-stream total ${med(ns.map((x) => x.total)).toFixed(2)} ms (median of ${N})`);
}
await s.stop();
