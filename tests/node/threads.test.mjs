// Thread roles: the request path (MHD workers, upstream loops) runs at
// normal priority; the store writer runs in the idle scheduling class so a
// SQLite flush never delays a request, and the other background writers at
// nice +10.  Read from /proc of the running daemon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { startStack } from '../lib/stack.mjs';

let s;
before(async () => { s = await startStack({ env: { UPSTREAM_LOOPS: '2', THREADS: '2' } }); });
after(async () => { await s?.stop(); });

function threads(pid) {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');   // field 3 onwards
    return { tid, comm: readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(),
      nice: Number(f[19 - 3]), policy: Number(f[41 - 3]) };
  });
}

test('threads are named; the store writer is idle-class, the request path normal', async () => {
  const r = await fetch(s.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(r.status, 200, await r.text());
  const t = threads(s.gw.pid);
  const by = (name) => t.filter((x) => x.comm === name);
  assert.equal(by('gg-loop-0').length, 1, JSON.stringify(t));
  assert.equal(by('gg-loop-1').length, 1, JSON.stringify(t));
  for (const x of [...by('gg-loop-0'), ...by('gg-loop-1'), ...t.filter((x) => x.comm.startsWith('MHD'))]) {
    assert.equal(x.policy, 0, `${x.comm} is SCHED_OTHER`);
    assert.equal(x.nice, 0, `${x.comm} at nice 0`);
  }
  const store = by('gg-store');
  assert.equal(store.length, 1, JSON.stringify(t));
  assert.equal(store[0].policy, 5, 'gg-store is SCHED_IDLE');
  for (const x of t.filter((y) => ['gg-creds', 'gg-keys', 'gg-cluster'].includes(y.comm)))
    assert.equal(x.nice, 10, `${x.comm} at nice +10`);
});

// MALLOC_TCACHE_MAX: glibc reads GLIBC_TUNABLES only at exec, so gemgated
// executes itself once more with the tunable added (main.c alloc_tune).
// Sanitizer builds bring their own allocator and skip it.
const environ = (pid) => Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
  .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const sanitized = (pid) => /lib(asan|tsan)/.test(readFileSync(`/proc/${pid}/maps`, 'utf8'));

test('MALLOC_TCACHE_MAX reaches glibc through one re-execution; an operator tunable wins', async () => {
  if (sanitized(s.gw.pid)) {
    assert.equal(environ(s.gw.pid).GLIBC_TUNABLES, undefined, 'sanitizer builds do not re-execute');
    return;
  }
  // the default, in the running daemon (same pid: the exec replaced the image)
  assert.equal(environ(s.gw.pid).GLIBC_TUNABLES, 'glibc.malloc.tcache_max=256');
  const other = async (env, want) => {
    const t = await startStack({ env });
    try {
      assert.equal((await fetch(t.url + '/healthz')).status, 200);
      assert.equal(environ(t.gw.pid).GLIBC_TUNABLES, want, JSON.stringify(env));
    } finally { await t.stop(); }
  };
  await other({ MALLOC_TCACHE_MAX: '0' }, undefined);
  // glibc 2.36 cuts the string /proc shows at its first ':' while parsing it
  const t = await startStack({ env: { MALLOC_TCACHE_MAX: '128', GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' } });
  try {
    const v = environ(t.gw.pid).GLIBC_TUNABLES;
    assert.ok(['glibc.malloc.tcache_max=128', 'glibc.malloc.tcache_max=128:glibc.malloc.arena_max=4'].includes(v), v);
  } finally { await t.stop(); }
  await other({ GLIBC_TUNABLES: 'glibc.malloc.tcache_max=512' }, 'glibc.malloc.tcache_max=512');
});
