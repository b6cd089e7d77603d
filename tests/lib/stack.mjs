// stack.mjs -- start the real fake upstream and the real gemgated on port 0
// for node tests (openai SDK, playwright).
//
//   const s = await startStack({ env: { MAX_RETRIES: '2' } });
//   s.url, s.apiKey, s.adminKey, s.fakeUrl, s.dataDir, s.logs()
//   await s.fake('POST', '/__fake/scenario', {...});   // control API helper
//   await s.restart({ env }); await s.stop();
//
// Binaries come from $GEMGATE_BUILD_DIR (default <repo>/build).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const buildDir = process.env.GEMGATE_BUILD_DIR || join(repo, 'build');

async function waitFile(path, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (existsSync(path)) {
      const t = readFileSync(path, 'utf8').trim();
      if (t) return t;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${path}`);
}

function waitExit(child, ms) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => { child.kill('SIGKILL'); }, ms);
    child.once('exit', (code) => { clearTimeout(t); resolve(code); });
  });
}

export async function startStack(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gemgate-stack-'));
  const apiKey = 'sk-test-' + randomBytes(6).toString('hex');
  const adminKey = 'adm-test-' + randomBytes(6).toString('hex');
  const fakeLog = openSync(join(dir, 'fake.log'), 'a');
  const fakeArgs = ['--host', '127.0.0.1', '--port', '0', '--port-file', join(dir, 'fake.port')];
  if (opts.fakeAccounts) fakeArgs.push('--accounts', opts.fakeAccounts);
  const fake = spawn(join(buildDir, 'tests/fake_upstream/fake_upstream'), fakeArgs,
    { stdio: ['ignore', fakeLog, fakeLog] });
  const fakePort = await waitFile(join(dir, 'fake.port'), 10000);
  const fakeUrl = `http://127.0.0.1:${fakePort}`;
  const s = { dir, dataDir: join(dir, 'data'), apiKey, adminKey, fakeUrl, fakeProc: fake, gw: null, url: null };

  s.startGw = async (env = {}) => {
    const portFile = join(dir, 'gw.port');
    rmSync(portFile, { force: true });
    const log = openSync(join(dir, 'gemgated.log'), 'a');
    const baseEnv = {
      PATH: process.env.PATH, HOME: process.env.HOME || '/tmp',
      ASAN_OPTIONS: process.env.ASAN_OPTIONS || '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '',
      TSAN_OPTIONS: process.env.TSAN_OPTIONS || '',
      HOST: '127.0.0.1', PORT: '0', PORT_FILE: portFile, DATA_DIR: s.dataDir,
      API_KEY: apiKey, ADMIN_KEY: adminKey, GEMINI_AUTH_URL: fakeUrl, GEMINI_API_URL: fakeUrl,
      LOG_LEVEL: process.env.GG_LOG_LEVEL || 'info',
    };
    if (opts.envAccount !== false)
      Object.assign(baseEnv, { SECURE_C_SES: 'demo-ses', CSESIDX: '1000001', CONFIG_ID: 'demo-config' });
    s.gw = spawn(join(buildDir, 'daemon/gemgated'), [], {
      cwd: dir, env: { ...baseEnv, ...(opts.env || {}), ...env }, stdio: ['ignore', log, log],
    });
    const port = await waitFile(portFile, 20000).catch((e) => {
      throw new Error(e.message + '\n' + s.logs());
    });
    s.url = `http://127.0.0.1:${port}`;
    return s;
  };
  s.stopGw = async (signal = 'SIGTERM') => {
    if (!s.gw) return null;
    const g = s.gw;
    s.gw = null;
    g.kill(signal);
    return waitExit(g, 15000);
  };
  s.restart = async (o = {}) => { await s.stopGw(); return s.startGw(o.env || {}); };
  s.logs = () => {
    try { return readFileSync(join(dir, 'gemgated.log'), 'utf8'); } catch { return ''; }
  };
  s.fake = async (method, path, body) => {
    const r = await fetch(fakeUrl + path, {
      method, headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const t = await r.text();
    try { return JSON.parse(t); } catch { return t; }
  };
  s.admin = async (method, path, body, key = adminKey) => {
    const r = await fetch(s.url + '/api/admin' + path, {
      method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
    });
    const t = await r.text();
    let json = null;
    try { json = JSON.parse(t); } catch { /* not JSON */ }
    return { status: r.status, headers: r.headers, json, text: t };
  };
  // A second gemgated on the same fake (and, with DATABASE_URL, the same
  // database): for multi-instance tests.
  s.peers = [];
  s.startPeer = async (env = {}) => {
    const pdir = mkdtempSync(join(dir, 'peer-'));
    const portFile = join(pdir, 'gw.port');
    const log = openSync(join(pdir, 'gemgated.log'), 'a');
    const penv = {
      PATH: process.env.PATH, HOME: process.env.HOME || '/tmp',
      ASAN_OPTIONS: process.env.ASAN_OPTIONS || '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '',
      TSAN_OPTIONS: process.env.TSAN_OPTIONS || '',
      HOST: '127.0.0.1', PORT: '0', PORT_FILE: portFile, DATA_DIR: join(pdir, 'data'),
      API_KEY: apiKey, ADMIN_KEY: adminKey, GEMINI_AUTH_URL: fakeUrl, GEMINI_API_URL: fakeUrl,
      LOG_LEVEL: process.env.GG_LOG_LEVEL || 'info', ...(opts.env || {}), ...env,
    };
    const proc = spawn(join(buildDir, 'daemon/gemgated'), [], { cwd: pdir, env: penv, stdio: ['ignore', log, log] });
    const port = await waitFile(portFile, 20000);
    const peer = {
      url: `http://127.0.0.1:${port}`, proc,
      logs: () => { try { return readFileSync(join(pdir, 'gemgated.log'), 'utf8'); } catch { return ''; } },
      stop: async () => { proc.kill('SIGTERM'); return waitExit(proc, 15000); },
      admin: async (method, path, body) => {
        const r = await fetch(peer.url + '/api/admin' + path, {
          method, headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const t = await r.text();
        let json = null;
        try { json = JSON.parse(t); } catch { /* not JSON */ }
        return { status: r.status, json, text: t };
      },
    };
    s.peers.push(peer);
    return peer;
  };
  s.stop = async () => {
    for (const p of s.peers) await p.stop();
    await s.stopGw();
    fake.kill('SIGTERM');
    await waitExit(fake, 5000);
    if (!process.env.KEEP_STACK) rmSync(dir, { recursive: true, force: true });
  };
  await s.startGw();
  return s;
}
