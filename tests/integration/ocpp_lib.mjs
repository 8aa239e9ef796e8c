// Shared helpers of the OCPP integration tests: the real evgate-gateway on a free loopback port,
// and accessed piles with passwords made through the mgmt API (an approved operator, a passed
// detection, a station, piles, an approved access application). Uses tests/browser/lib.mjs
// (mgmt daemon, API sessions); `lib` is null when tests/browser's npm packages are missing.

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SRC = process.env.EVGATE_SRC || path.resolve(HERE, '../..');
export const BUILD = process.env.EVGATE_BUILD || path.join(SRC, 'build');
export const NODE_DIR = path.join(SRC, 'tests', 'browser');

export let lib = null;
try {
  lib = await import(pathToFileURL(path.join(NODE_DIR, 'lib.mjs')).href);
} catch {
  lib = null;
}

/** npm's `ws` from tests/browser/node_modules, or null when it is not installed. */
export let WebSocket = null;
try {
  WebSocket = createRequire(path.join(NODE_DIR, 'package.json'))('ws');
} catch {
  WebSocket = null;
}

/** npm's ocpp-rpc from tests/browser/node_modules, or null when it is not installed. */
export let rpc = null;
try {
  rpc = createRequire(path.join(NODE_DIR, 'package.json'))('ocpp-rpc');
} catch {
  rpc = null;
}

/** ocpp-rpc's OCA schemas `file` (ocpp1_6.json, ocpp2_0_1.json), or null when it is missing. */
export function rpcSchemas(file) {
  try {
    return createRequire(path.join(NODE_DIR, 'package.json'))(`ocpp-rpc/lib/schemas/${file}`);
  } catch {
    return null;
  }
}

/** Whether the sqlite3 command-line tool is there (the tests that queue runs or read the
 *  database directly need it). */
export const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;

/** Connects an ocpp-rpc RPCClient made with `opts` (a new one per try) once the gateway has pile
 *  `opts.identity` in its table (until then it answers 404); returns the client. */
export async function connectRpc(opts) {
  let client;
  await until(async () => {
    client = new rpc.RPCClient(opts);
    try {
      await client.connect();
      return true;
    } catch (err) {
      if (err.code === 404) return false;
      throw err;
    }
  }, `pile ${opts.identity} in the gateway's table`);
  return client;
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

/** Starts evgate-gateway on `tmp`'s database; resolves when it logs `listening`. */
export async function startGateway(tmp, extraEnv = {}) {
  const port = await lib.freePort();
  const bin = path.join(BUILD, 'gateway', 'evgate-gateway');
  const e = {
    ...process.env,
    EVGATE_DB: path.join(tmp, 'evgate.db'),
    EVGATE_DATA_DIR: path.join(tmp, 'data'),
    EVGATE_GATEWAY_LISTEN: `127.0.0.1:${port}`,
    ...extraEnv,
  };
  const proc = spawn(bin, [], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
  proc.stdout.on('data', (d) => log.push(...d.toString().split('\n').filter(Boolean)));
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: proc.stderr }).on('line', (line) => {
      log.push(line);
      if (/ info gateway listening /.test(line)) resolve();
    });
    proc.once('error', (err) => reject(new Error(`cannot start ${bin}: ${err.message}`)));
    exited.then(({ code, sig }) => reject(new Error(`gateway exited (${code ?? sig}) before listening:\n${log.join('\n')}`)));
  });
  let timer;
  try {
    await Promise.race([ready, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`gateway not listening after 30 s:\n${log.join('\n')}`)), 30000); })]);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    port,
    log,
    ws: `ws://127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port}`,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    /** SIGKILL, as a crash: nothing is ended in an orderly way. */
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      return exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
        const r = await exited;
        clearTimeout(t);
        return r;
      }
      return { code: proc.exitCode, sig: proc.signalCode };
    },
  };
}

export function detectionBody(tag) {
  return {
    mode: 'self',
    commissioning_unit: { name: `中山市委托测试单位${tag}`, credit_code: lib.creditCode(), address: `广东省中山市石岐区民族路${tag}号` },
    contact: { name: `联调王${tag}`, mobile: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`, email: `joint-${tag}@example.com` },
    pile_summary: { brands: `星星充电 ${tag}`, models: 'DC-120', ac_count: 1, dc_count: 2, protocols: ['ocpp1.6', 'ocpp2.0.1'] },
    platform: { name: `测试充电平台${tag}`, base_url: `https://evcs-${tag}.example.com/evcs/v1/`, protocol_version: 'T/CEC 102-2016', source_ips: ['203.0.113.10'] },
    delegate_detection_id: null,
  };
}

export function pileBody(stationId, equipmentId, protocol) {
  return {
    equipment_id: equipmentId,
    station_id: stationId,
    manufacturer_id: 'MA4UJ9XY0',
    manufacturer_name: '星星充电',
    equipment_model: 'DC-120',
    production_date: '2024-05-01',
    equipment_type: 1,
    power: 120,
    lng: 113.392614,
    lat: 22.517646,
    protocol,
    connectors: [1, 2].map((n) => ({
      connector_id: `${equipmentId}C${n}`,
      ocpp_connector_id: n,
      connector_name: `${n}号枪`,
      connector_type: 4,
      voltage_upper_limits: 750,
      voltage_lower_limits: 200,
      current: 200,
      power: 60,
      park_no: `A0${n}`,
      national_standard: 2,
    })),
  };
}

export function ok(r, status, what) {
  assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The shared start of both: an approved operator with a passed self detection, a station and
 * the piles `names` (name -> protocol) in an approved access application. */
async function approvedPiles(env, names) {
  const tag = lib.uniq();
  const op = { username: `ocpp_${tag}`, password: 'Correct-horse-1', company: `中山市OCPP测试有限公司${tag}`, creditCode: lib.creditCode() };
  await lib.approvedOperator(env, op);
  const s = await lib.apiSession(env.mgmt.base, op.username, op.password);
  const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);

  const det = ok(await s.call('POST', '/detections', detectionBody(tag)), 201, 'detection');
  ok(await s.upload(`/detections/${det.id}/materials`, 'file', PDF, '申请表.pdf', 'application/pdf'), 201, 'materials');
  ok(await s.call('POST', `/detections/${det.id}/submit`, {}), 200, 'detection submit');
  ok(await admin.call('POST', `/admin/detections/${det.id}/approve`, {}), 200, 'detection approve');
  ok(await admin.call('POST', `/admin/detections/${det.id}/verdict`, { verdict: 'passed', note: '线下联调通过' }), 200, 'verdict');

  const stationId = `ST${tag.toUpperCase()}`;
  ok(await s.call('POST', '/stations', {
    station_id: stationId, name: '中山市东区测试充电站', area_code: '442000', address: '中山市东区中山四路88号',
    service_tel: '400-800-8888', station_type: 1, station_status: 50, park_nums: 12, lng: 113.392614, lat: 22.517646, construction: 4,
  }), 201, 'station');
  const ids = {};
  for (const [name, protocol] of Object.entries(names)) {
    ids[name] = `EQ${tag.toUpperCase()}${name.toUpperCase()}`;
    ok(await s.call('POST', '/piles', pileBody(stationId, ids[name], protocol)), 201, `pile ${name}`);
  }
  const app = ok(await s.call('POST', '/piles/submit', { equipment_ids: Object.values(ids) }), 201, 'submit');
  ok(await admin.call('POST', `/admin/access-applications/${app.id}/approve`, {}), 200, 'access approve');
  return { tag, op, s, admin, ids, app, stationId };
}

/** An operator past the access gate whose piles `names` (name -> protocol) are accessed, their
 * passwords issued in one go by POST /access-applications/{id}/pile-passwords. `env` has
 * {mgmt, adminPassword}. Returns {piles: name -> {id, password, protocol}, passwords (that
 * endpoint's JSON body), session, op}. */
export async function makeAccessedPiles(env, names) {
  const { op, s, ids, app } = await approvedPiles(env, names);
  const passwords = ok(await s.call('POST', `/access-applications/${app.id}/pile-passwords`), 200, 'pile passwords');
  const byId = Object.fromEntries(passwords.items.map((x) => [x.equipment_id, x.password]));
  const piles = {};
  for (const [name, id] of Object.entries(ids)) {
    assert.match(byId[id] ?? '', /^[0-9a-f]{32}$/, `password of ${id}`);
    piles[name] = { id, password: byId[id], protocol: names[name] };
  }
  return { piles, passwords, session: s, op };
}

/** An operator past the access gate with accessed piles `names` (name -> protocol), each
 * password issued with POST /piles/{id}/password, and a draft pile; fills `piles` (name ->
 * {id, password, protocol}; `draft`). `env` has {mgmt, adminPassword}. Returns the operator's
 * mgmt session. */
export async function makeOperatorPiles(env, piles, names) {
  const { tag, op, s, ids, stationId } = await approvedPiles(env, names);
  for (const [name, id] of Object.entries(ids)) {
    const pw = ok(await s.call('POST', `/piles/${id}/password`), 200, `password ${name}`);
    assert.match(pw.password, /^[0-9a-f]{32}$/);
    piles[name] = { id, password: pw.password, protocol: names[name], session: op };
  }
  const draftId = `EQ${tag.toUpperCase()}DRAFT`;
  ok(await s.call('POST', '/piles', pileBody(stationId, draftId, 'ocpp1.6')), 201, 'draft pile');
  piles.draft = { id: draftId, password: 'f'.repeat(32) };
  return s;
}

// ---------- WebSocket helpers ----------

export const basic = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Opens a WebSocket; resolves {ws, status: 101} on open or {status, headers, body} on a refusal.
 * opts: {user, password, auth (header), protocols, url} */
export function handshake(gw, id, opts = {}) {
  const url = opts.url || `${gw.ws}/ocpp/${encodeURIComponent(id)}`;
  const headers = {};
  if (opts.auth !== undefined) {
    if (opts.auth !== null) headers.Authorization = opts.auth;
  } else {
    headers.Authorization = basic(opts.user ?? id, opts.password);
  }
  const protocols = opts.protocols === undefined ? ['ocpp1.6'] : opts.protocols;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, handshakeTimeout: 10000 });
    ws.once('open', () => resolve({ ws, status: 101 }));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode, headers: res.headers, body });
      });
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Resolves the next message (parsed JSON) of `ws`, or rejects after `ms`. */
export function nextMessage(ws, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no message')), ms);
    ws.once('message', (data, isBinary) => {
      clearTimeout(t);
      resolve(isBinary ? data : JSON.parse(data.toString()));
    });
  });
}

/** Resolves {code, reason} when `ws` closes, or rejects after `ms`. */
export function closed(ws, ms = 15000) {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: ws._closeCode, reason: String(ws._closeMessage || '') });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('not closed')), ms);
    ws.once('close', (code, reason) => {
      clearTimeout(t);
      resolve({ code, reason: reason.toString() });
    });
  });
}

export async function metricValue(gw, name, labels = {}) {
  const text = await (await fetch(`${gw.http}/metrics`)).text();
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] || '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Polls `fn` until it returns a truthy value (returned) or `ms` pass (throws `what`). */
export async function until(fn, what, ms = 15000, every = 100) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** A handshake of pile `p`, retried while the gateway's pile table still shows an older state
 * of it (the table reloads a moment after a pile is approved or given a password). */
export async function handshakeLoaded(gw, p, opts = {}) {
  // the table reloads a moment after a change: until then the pile is unknown (404), not yet
  // accessed (403 not_accessed) or has its old password (401); a slow (sanitized) gateway
  // shows each of them
  const stale = (r) => r.status === 404 || r.status === 401 || (r.status === 403 && /"not_accessed"/.test(r.body));
  return until(async () => {
    const r = await handshake(gw, p.id, { password: p.password, ...opts });
    return stale(r) ? null : r;
  }, `pile ${p.id} as it is now in the gateway's table`);
}

/** The end of a suite whose `env` has {gw, mgmt, tmp}: stops the gateway (which must still be
 * alive and must stop cleanly on SIGTERM; its log is printed when not, or with
 * EVGATE_TEST_LOG), then mgmt, and removes the directory. */
export async function stopDaemons(env) {
  if (env.gw) {
    const alive = env.gw.alive();
    const r = await env.gw.stop();
    if (!alive || r.code !== 0 || process.env.EVGATE_TEST_LOG) console.error(env.gw.log.slice(process.env.EVGATE_TEST_LOG ? 0 : -60).join('\n'));
    assert.ok(alive, 'the gateway died during the tests');
    assert.equal(r.code, 0, 'the gateway stops cleanly on SIGTERM');
  }
  await env.mgmt?.stop();
  if (env.tmp) await rm(env.tmp, { recursive: true, force: true });
}
