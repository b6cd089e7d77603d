// proxy.mjs -- a tiny counting HTTP proxy for the tests (PROXY and the
// per-account proxy settings): it forwards absolute-form requests
// ("GET http://host:port/path HTTP/1.1", what curl sends through an http://
// proxy to an http:// upstream such as the fake) and tunnels CONNECT, and
// records every request that passes.
//
//   const p = await startProxy();
//   p.url                     // http://127.0.0.1:PORT
//   p.seen                    // [{method, target, path}] in arrival order
//   p.count(re)               // how many targets/paths match re
//   p.cut(true)               // refuse new requests with 502 (an outage)
//   await p.close();
//
// Loopback only; nothing here reaches the internet.
import http from 'node:http';
import net from 'node:net';

export async function startProxy() {
  const seen = [];
  const sockets = new Set();
  let refusing = false;
  const server = http.createServer((req, res) => {
    let target;
    try { target = new URL(req.url); } catch { target = null; }
    seen.push({ method: req.method, target: req.url, path: target ? target.pathname : req.url });
    if (!target || target.protocol !== 'http:' || refusing) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(refusing ? 'proxy: refusing (cut)' : 'proxy: absolute http:// URL expected');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const up = http.request({
      host: target.hostname, port: target.port || 80, method: req.method,
      path: target.pathname + target.search, headers,
    }, (ures) => {
      res.writeHead(ures.statusCode, ures.rawHeaders);
      ures.pipe(res);
    });
    up.setTimeout(120000, () => up.destroy(new Error('upstream timeout')));
    up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connect', (req, csock, head) => {
    seen.push({ method: 'CONNECT', target: req.url, path: '' });
    const [host, port] = req.url.split(':');
    if (refusing) { csock.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'); return; }
    const usock = net.connect(Number(port), host, () => {
      csock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head && head.length) usock.write(head);
      usock.pipe(csock);
      csock.pipe(usock);
    });
    usock.setTimeout(120000, () => usock.destroy());
    usock.on('error', () => csock.destroy());
    csock.on('error', () => usock.destroy());
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    count: (re) => seen.filter((x) => re.test(x.target)).length,
    cut: (on) => { refusing = on; },
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
