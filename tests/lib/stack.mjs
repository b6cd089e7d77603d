// stack.mjs -- start the real fake upstream and the real gemgated on port 0
// for node tests (openai SDK, playwright).
//
//   const s = await startStack({ env: { MAX_RETRIES: '2' } });
//   s.url, s.apiKey, s.adminKey, s.fakeUrl, s.dataDir, s.logs()
//   await s.fake('POST', '/__fake/scenario', {...});   // control API helper
//   await s.restart({ env }); await s.stop();
//
// s.fake() throws unless the control API answers 2xx (a rejected scenario
// must fail the test, not be ignored); s.fakeRaw() returns {status, json}.
// s.stop() / s.stopGw() / peer.stop() require a clean exit: status 0 within
// the grace period (15 s x TEST_TIME_SCALE).  A daemon that has to be
// SIGKILLed, or exits non-zero (e.g. a sanitizer report at exit), fails.
// timeScale (env TEST_TIME_SCALE, 3 in the sanitizer stages) multiplies
// every polling deadline; waitFor(fn, ms, what) polls fn until truthy.
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
export const timeScale = Math.max(1, Number(process.env.TEST_TIME_SCALE) || 1);
export const scaled = (ms) => Math.round(ms * timeScale);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn (sync or async) every `every` ms until it returns a truthy value,
// which is returned; throws after ms x timeScale with `what` in the message.
export async function waitFor(fn, ms, what = 'condition', every = 25) {
  const end = Date.now() + scaled(ms);
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${scaled(ms)} ms waiting for ${what}`);
    await sleep(every);
  }
}

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

// Resolves {code, signal, forced}: forced = it had to be SIGKILLed after ms.
function waitExitFull(child, ms) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      return resolve({ code: child.exitCode, signal: child.signalCode, forced: false });
    let forced = false;
    const t = setTimeout(() => { forced = true; child.kill('SIGKILL'); }, scaled(ms));
    child.once('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal, forced }); });
  });
}

async function waitExit(child, ms) {
  return (await waitExitFull(child, ms)).code;
}

// A clean stop: SIGTERM, then exit status 0 within the grace period.
async function stopClean(child, what, ms, logs) {
  child.kill('SIGTERM');
  const r = await waitExitFull(child, ms);
  if (r.forced || r.code !== 0)
    throw new Error(`${what} did not stop cleanly: ${r.forced ? `still running after ${scaled(ms)} ms, SIGKILLed` :
      `exit status ${r.code} signal ${r.signal}`}\n${logs ? logs().split('\n').slice(-30).join('\n') : ''}`);
  return 0;
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
  // SIGTERM (the default) must give a clean exit 0 within the grace period
  // (throws otherwise); other signals return the exit code (null if killed).
  s.stopGw = async (signal = 'SIGTERM') => {
    if (!s.gw) return null;
    const g = s.gw;
    s.gw = null;
    if (signal === 'SIGTERM') return stopClean(g, 'gemgated', 15000, s.logs);
    g.kill(signal);
    return waitExit(g, 15000);
  };
  s.restart = async (o = {}) => { await s.stopGw(); return s.startGw(o.env || {}); };
  s.logs = () => {
    try { return readFileSync(join(dir, 'gemgated.log'), 'utf8'); } catch { return ''; }
  };
  s.fakeRaw = async (method, path, body) => {
    const r = await fetch(fakeUrl + path, {
      method, headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const t = await r.text();
    let json = t;
    try { json = JSON.parse(t); } catch { /* text */ }
    return { status: r.status, json };
  };
  s.fake = async (method, path, body) => {
    const r = await s.fakeRaw(method, path, body);
    if (r.status < 200 || r.status > 299)
      throw new Error(`fake control ${method} ${path} answered ${r.status}: ${JSON.stringify(r.json)}`);
    return r.json;
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
      stop: async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
        return stopClean(proc, 'gemgated peer', 15000, peer.logs);
      },
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
    const errs = [];
    for (const p of s.peers) await p.stop().catch((e) => errs.push(e));
    s.peers = [];
    await s.stopGw().catch((e) => errs.push(e));
    if (fake.exitCode === null && fake.signalCode === null)
      await stopClean(fake, 'fake_upstream', 5000).catch((e) => errs.push(e));
    if (errs.length) {
      console.error(`stack kept in ${dir}`);
      throw errs[0];
    }
    if (!process.env.KEEP_STACK) rmSync(dir, { recursive: true, force: true });
  };
  await s.startGw();
  return s;
}
