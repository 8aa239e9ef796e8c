// Floods do not stop service (issue 9, item 2): while one address holds 10 000 idle TCP
// connections, slow-loris clients trickle headers, header floods pour in and oversized bodies are
// announced, against the gateway and against mgmt, a well-behaved client — a pile booting, an
// admin logging in — is still served promptly. Each attack runs on its own, then is taken away.
//
// The attacks come from 127.0.0.1, the well-behaved clients from 127.0.0.2: mgmt limits the
// connections one address may hold (max_connections / 4), which is what keeps a single flooder
// from starving the rest; the gateway holds every connection it can and times out the idle ones.
//
// Run from tests/browser (lib.mjs and its npm packages live there):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_floods.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { lib, WebSocket, startGateway, makeAccessedPiles, handshakeLoaded, basic } from './ocpp_lib.mjs';

const skip = lib ? false : 'npm packages missing in tests/browser/node_modules (npm ci there)';
const ATTACKER = '127.0.0.1';
const GOOD = '127.0.0.2';
const IDLE = 10000;
/** How long a well-behaved request may take under attack (generous for a loaded CI machine;
 * a starved daemon answers never, not late). */
const PROMPT_MS = 5000;

const env = { tmp: null, mgmt: null, gw: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
let pile = null;

function hostPort(base) {
  const u = new URL(base);
  return { host: u.hostname, port: Number(u.port) };
}

/** An HTTP request from `localAddress`; resolves {status, body, ms}. */
function request(base, method, p, { body, headers = {}, localAddress = GOOD } = {}) {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ ...hostPort(base), method, path: p, localAddress, agent: false,
      headers: { ...(body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}), ...headers },
      timeout: PROMPT_MS }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text, ms: Date.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within ${PROMPT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The well-behaved clients, each answered in time: an admin logs in and reads /me; the
 * gateway answers /healthz and a pile boots over a new WebSocket connection. */
async function served(what) {
  const login = await request(env.mgmt.base, 'POST', '/api/v1/auth/login', { body: JSON.stringify({ username: 'admin', password: env.adminPassword }) });
  assert.equal(login.status, 200, `${what}: mgmt login: ${login.status} ${login.body}`);
  const cookie = [].concat(login.headers['set-cookie'] || []).map((c) => c.split(';')[0]).join('; ');
  const me = await request(env.mgmt.base, 'GET', '/api/v1/me', { headers: { Cookie: cookie } });
  assert.equal(me.status, 200, `${what}: mgmt /me`);
  const hz = await request(env.gw.http, 'GET', '/healthz');
  assert.equal(hz.status, 200, `${what}: gateway /healthz`);
  const t0 = Date.now();
  const ws = new WebSocket(`${env.gw.ws}/ocpp/${pile.id}`, ['ocpp1.6'],
    { headers: { Authorization: basic(pile.id, pile.password) }, localAddress: GOOD, handshakeTimeout: PROMPT_MS });
  try {
    const answer = await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${what}: the pile was not answered within ${PROMPT_MS} ms`)), PROMPT_MS);
      ws.once('error', (e) => { clearTimeout(t); reject(new Error(`${what}: pile connection: ${e.message}`)); });
      ws.once('open', () => ws.send(JSON.stringify([2, 'b1', 'BootNotification', { chargePointVendor: 'evgate', chargePointModel: 'flood' }])));
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m[1] === 'b1') { clearTimeout(t); resolve(m); }
      });
    });
    assert.equal(answer[0], 3, `${what}: BootNotification answered: ${JSON.stringify(answer)}`);
    assert.equal(answer[2].status, 'Accepted');
  } finally {
    ws.terminate();
  }
  return { login: login.ms, pile: Date.now() - t0 };
}

/** Opens `n` TCP connections to `base` from the attacker's address; resolves the sockets that
 * were accepted (a daemon may refuse or close some: that is its defence). */
async function openIdle(base, n) {
  const { host, port } = hostPort(base);
  const socks = [];
  let i = 0;
  const one = () => new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: ATTACKER });
    s.on('error', () => resolve(null));
    s.once('connect', () => resolve(s));
  });
  // a few hundred at a time, as a flooder with a connect loop would
  const workers = Array.from({ length: 200 }, async () => {
    while (i < n) {
      i++;
      const s = await one();
      if (s) socks.push(s);
    }
  });
  await Promise.all(workers);
  return socks;
}

const closeAll = (socks) => { for (const s of socks) s.destroy(); };

/** Connections that send a header line every `everyMs` and never finish; returns a stop(). */
function slowLoris(base, n, everyMs = 500) {
  const { host, port } = hostPort(base);
  const socks = [];
  for (let k = 0; k < n; k++) {
    const s = net.connect({ host, port, localAddress: ATTACKER });
    s.on('error', () => {});
    s.once('connect', () => s.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n`));
    socks.push(s);
  }
  const timer = setInterval(() => {
    for (const s of socks) if (!s.destroyed && s.writable) s.write(`X-Slow-${randomBytes(2).toString('hex')}: 1\r\n`);
  }, everyMs);
  return () => { clearInterval(timer); closeAll(socks); };
}

/** A connection that pours header lines, up to `bytes`; resolves {cut: whether the daemon
 * closed it before they were all sent (what the kernel's buffers took counts as sent), answer:
 * its status line, if any}. */
function headerFlood(base, p, bytes = 16 << 20) {
  const { host, port } = hostPort(base);
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: ATTACKER });
    let sent = 0;
    let answer = '';
    let timer = null;
    const done = (cut) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ cut, answer: answer.split('\r\n')[0] });
    };
    s.on('error', () => done(sent < bytes));
    s.on('close', () => done(sent < bytes));
    s.on('data', (d) => { answer += d; });
    const line = `X-Flood: ${'a'.repeat(1000)}\r\n`;
    const pump = () => {
      while (sent < bytes && !s.destroyed) {
        sent += line.length;
        if (!s.write(line)) return s.once('drain', pump);
      }
      if (sent >= bytes) timer = setTimeout(() => done(false), 2000);
    };
    s.once('connect', () => { s.write(`GET ${p} HTTP/1.1\r\nHost: ${host}\r\n`); pump(); });
  });
}

/** A request announcing a `length`-byte body; resolves the daemon's status line. */
function oversized(base, p, length) {
  const { host, port } = hostPort(base);
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: ATTACKER });
    let answer = '';
    s.on('error', () => resolve(answer.split('\r\n')[0]));
    s.on('data', (d) => {
      answer += d;
      if (answer.includes('\r\n')) { s.destroy(); resolve(answer.split('\r\n')[0]); }
    });
    s.on('close', () => resolve(answer.split('\r\n')[0]));
    s.once('connect', () => s.write(`POST ${p} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{"a":"`));
  });
}

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-floods-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  env.gw = await startGateway(env.tmp);
  const made = await makeAccessedPiles(env, { a: 'ocpp1.6' });
  pile = made.piles.a;
  const r = await handshakeLoaded(env.gw, pile);
  assert.equal(r.status, 101);
  r.ws.terminate();
  await served('before the attacks');
});

after(async () => {
  if (env.gw) {
    const alive = env.gw.alive();
    const r = await env.gw.stop();
    assert.ok(alive, 'the gateway died during the attacks');
    assert.equal(r.code, 0, 'the gateway stops cleanly after the attacks');
  }
  await env.mgmt?.stop();
  if (env.tmp) await rm(env.tmp, { recursive: true, force: true });
});

test('10 000 idle TCP connections to the gateway: piles still connect and boot', { skip }, async () => {
  const socks = await openIdle(env.gw.http, IDLE);
  try {
    assert.ok(socks.length >= IDLE * 0.95, `the gateway accepted ${socks.length} of ${IDLE}`);
    await served('10 000 idle connections to the gateway');
  } finally {
    closeAll(socks);
  }
});

test('10 000 idle TCP connections to mgmt from one address: other addresses are still served', { skip }, async () => {
  const socks = await openIdle(env.mgmt.base, IDLE);
  try {
    await served('10 000 idle connections to mgmt');
  } finally {
    closeAll(socks);
  }
});

test('slow-loris clients on both daemons: service goes on', { skip }, async () => {
  const stops = [slowLoris(env.gw.http, 300), slowLoris(env.mgmt.base, 300)];
  try {
    await served('slow-loris');
  } finally {
    for (const stop of stops) stop();
  }
});

test('header floods are cut off by both daemons, which keep serving', { skip }, async () => {
  const floods = [headerFlood(env.gw.http, '/healthz'), headerFlood(env.gw.http, '/ocpp/x'),
    headerFlood(env.mgmt.base, '/api/v1/me'), headerFlood(env.mgmt.base, '/')];
  await served('header floods');
  for (const f of await Promise.all(floods)) {
    assert.ok(f.cut, `a header flood of 16 MiB was taken whole (${f.answer})`);
    assert.ok(f.answer === '' || /^HTTP\/1\.[01] 4\d\d/.test(f.answer), `refused: ${f.answer}`);
  }
});

test('oversized bodies are refused before they are read; service goes on', { skip }, async () => {
  const mgmtAnswer = await oversized(env.mgmt.base, '/api/v1/auth/login', 1 << 30);
  assert.match(mgmtAnswer, /^HTTP\/1\.[01] 413/, `mgmt: ${mgmtAnswer}`);
  const gwAnswer = await oversized(env.gw.http, '/evcs/v1/query_token', 1 << 30);
  assert.match(gwAnswer, /^HTTP\/1\.[01] 413/, `gateway: ${gwAnswer}`);
  await served('oversized bodies');
});
