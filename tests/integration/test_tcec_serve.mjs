// Integration test of the gateway's T/CEC 102 endpoint, POST /evcs/v1/{interface} (issue 6,
// item 2): operator platforms get AccessTokens from query_token and push station information,
// connector status and charge orders; each check of docs/tcec.md "Serving platforms" answers
// with its Ret, what is accepted is in the database, and every attributed request is logged.
//
// The client side of T/CEC is written here with node:crypto (AES-128-CBC, HMAC-MD5): an
// independent implementation of the envelope, which also checks every answer's Sig and Data.
// Real evgate-mgmt and evgate-gateway on loopback; operators, detections, credentials,
// stations and piles come from the mgmt API; the database is read with the sqlite3 CLI.
//
// Run from tests/browser (its lib.mjs starts mgmt):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_tcec_serve.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import {
  lib, WebSocket, startGateway, detectionBody, pileBody, ok, handshake, nextMessage, closed, metricValue, until, stopDaemons,
} from './ocpp_lib.mjs';
import { timeStamp, sign, decrypt, request } from './tcec_lib.mjs';

const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;
const skip = !(lib && WebSocket) ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !hasSqlite ? 'the sqlite3 command-line tool is missing (apt-get install sqlite3)' : false;

const env = { tmp: null, mgmt: null, gw: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
const ops = {}; // a: the platform (self), b: another operator (self), c: delegated to a's platform
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

// ---------- the T/CEC client side, on node:crypto ----------

/** POST (or `opts.method`) of `body` (an object is sent as JSON) to /evcs/v1/{iface};
 * resolves {status, headers, text, json}. opts: token, localAddress, method, headers, agent. */
function post(iface, body, opts = {}) {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const headers = { 'Content-Type': 'application/json;charset=utf-8', ...(opts.headers || {}) };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.method !== 'GET') headers['Content-Length'] = Buffer.byteLength(text);
  const gw = opts.gw || env.gw;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: gw.port, path: `/evcs/v1/${iface}`, method: opts.method || 'POST', headers,
      localAddress: opts.localAddress, agent: opts.agent ?? false, timeout: 20000,
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(data); } catch { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text: data, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    if (opts.method !== 'GET') req.end(text); else req.end();
  });
}

/** Announces a body of `size` bytes, sends a little of it and resolves the answer that comes
 * without the rest: {status, headers, text, json}. */
function announceLarge(iface, size) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: env.gw.port, path: `/evcs/v1/${iface}`, method: 'POST', agent: false, timeout: 20000,
      headers: { 'Content-Type': 'application/json', 'Content-Length': size },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        req.destroy();
        let json = null;
        try { json = JSON.parse(data); } catch { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text: data, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.write('{"OperatorID":"');
  });
}

/** Checks an answer as a platform would: four fields, Sig over Ret + Msg + Data with the
 * operator's SigSecret (or Sig "" when `unsigned`), Data decrypted. Returns {ret, msg, data}. */
function opened(r, keys, { status = 200, unsigned = false } = {}) {
  assert.equal(r.status, status, r.text);
  assert.ok(r.json, `not JSON: ${r.text}`);
  assert.deepEqual(Object.keys(r.json).sort(), ['Data', 'Msg', 'Ret', 'Sig'], r.text);
  const { Ret, Msg, Data, Sig } = r.json;
  assert.ok(Number.isInteger(Ret), r.text);
  if (unsigned) {
    assert.equal(Sig, '', r.text);
  } else {
    assert.equal(Sig, sign(keys.sig_secret, String(Ret), Msg, Data), `response Sig: ${r.text}`);
  }
  const data = Data ? JSON.parse(decrypt(Data, keys)) : null;
  if (Ret !== 0) assert.equal(Data, '', 'an error answer carries no Data');
  return { ret: Ret, msg: Msg, data };
}

/** A request of `o` (an operator with keys and, for notifications, a token) to `iface`. */
async function call(o, iface, payload, opts = {}) {
  const keys = opts.keys || o.keys;
  const r = await post(iface, request(keys, payload, opts), { token: opts.token ?? o.token, ...opts });
  return opened(r, keys, opts);
}

async function queryToken(o, opts = {}) {
  const r = await call(o, 'query_token', { OperatorID: o.keys.operator_id, OperatorSecret: o.keys.operator_secret, ...(opts.payload || {}) }, opts);
  assert.equal(r.ret, 0, r.msg);
  return r.data;
}

// ---------- the database ----------

function query(sql, ...params) {
  let i = 0;
  const bound = sql.replace(/\?/g, () => `'${String(params[i++]).replace(/'/g, "''")}'`);
  const r = spawnSync('sqlite3', ['-readonly', '-json', path.join(env.tmp, 'evgate.db'), bound], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

const lastExchange = (opId) => query('SELECT * FROM tcec_exchanges WHERE operator_id = ? ORDER BY id DESC LIMIT 1', opId)[0];

// ---------- operators through the mgmt API ----------

/** An approved operator with a detection (`mode` self with `sourceIps`, or delegated to
 * `delegate`), accessed stations and piles `piles` (name -> station name), and a draft pile.
 * Self: credentials issued. Returns {s (mgmt session), det, keys, account, stations, piles}. */
async function makeOperator({ mode = 'self', sourceIps = ['127.0.0.1'], delegate = null, stations = ['s1'], piles = { p1: 's1' } }) {
  const tag = lib.uniq();
  const op = { username: `tcec_${tag}`, password: 'Correct-horse-1', company: `中山市互联互通测试有限公司${tag}`, creditCode: lib.creditCode() };
  const account = await lib.approvedOperator(env, op);
  const s = await lib.apiSession(env.mgmt.base, op.username, op.password);
  const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
  const body = detectionBody(tag);
  if (mode === 'self') {
    body.platform.source_ips = sourceIps;
  } else {
    body.mode = 'delegated';
    body.platform = null;
    body.delegate_detection_id = delegate;
    body.delegation_scope = `委托范围：中山市全部充电站 ${tag}`;
  }
  const det = ok(await s.call('POST', '/detections', body), 201, 'detection');
  ok(await s.upload(`/detections/${det.id}/materials`, 'file', PDF, '申请表.pdf', 'application/pdf'), 201, 'materials');
  ok(await s.call('POST', `/detections/${det.id}/submit`, {}), 200, 'detection submit');
  ok(await admin.call('POST', `/admin/detections/${det.id}/approve`, {}), 200, 'detection approve');
  let keys = null;
  if (mode === 'self') {
    ok(await admin.call('POST', `/admin/detections/${det.id}/verdict`, { verdict: 'passed', note: '线下联调通过' }), 200, 'verdict');
    keys = ok(await s.call('POST', `/detections/${det.id}/credentials`), 200, 'credentials');
    for (const k of ['operator_secret', 'data_secret', 'data_secret_iv', 'sig_secret']) assert.equal(keys[k].length, 16, k);
    assert.match(keys.operator_id, /^[0-9A-Z]{9}$/);
  }
  const stationIds = {};
  for (const name of stations) {
    stationIds[name] = `ST${tag.toUpperCase()}${name.toUpperCase()}`;
    ok(await s.call('POST', '/stations', {
      station_id: stationIds[name], name: '中山市东区互联互通测试站', area_code: '442000', address: '中山市东区中山四路88号',
      service_tel: '400-800-8888', station_type: 1, station_status: 50, park_nums: 12, lng: 113.392614, lat: 22.517646, construction: 4,
    }), 201, `station ${name}`);
  }
  const pileIds = {};
  for (const [name, station] of Object.entries(piles)) {
    pileIds[name] = `EQ${tag.toUpperCase()}${name.toUpperCase()}`;
    ok(await s.call('POST', '/piles', pileBody(stationIds[station], pileIds[name], 'ocpp1.6')), 201, `pile ${name}`);
  }
  const app = ok(await s.call('POST', '/piles/submit', { equipment_ids: Object.values(pileIds) }), 201, 'submit');
  ok(await admin.call('POST', `/admin/access-applications/${app.id}/approve`, {}), 200, 'access approve');
  const draft = `EQ${tag.toUpperCase()}DRAFT`;
  ok(await s.call('POST', '/piles', pileBody(stationIds[stations[0]], draft, 'ocpp1.6')), 201, 'draft pile');
  return { s, det, keys, account, stations: stationIds, piles: pileIds, draft };
}

// ---------- payloads ----------

const statusInfo = (connectorId, status = 3) => ({ ConnectorStatusInfo: { ConnectorID: connectorId, Status: status, ParkStatus: 10, LockStatus: 50 } });

function stationInfo(o, stationName, pileNames) {
  return {
    StationInfo: {
      StationID: o.stations[stationName], OperatorID: o.keys?.operator_id ?? ops.a.keys.operator_id, EquipmentOwnerID: ops.a.keys.operator_id,
      StationName: '中山市东区互联互通测试站', CountryCode: 'CN', AreaCode: '442000', Address: '中山市东区中山四路88号',
      ServiceTel: '400-800-8888', StationType: 1, StationStatus: 50, ParkNums: 12, StationLng: 113.392614, StationLat: 22.517646,
      Construction: 4,
      EquipmentInfos: pileNames.map((n) => ({
        EquipmentID: o.piles[n], EquipmentType: 1, Power: 120,
        ConnectorInfos: [1, 2].map((k) => ({
          ConnectorID: `${o.piles[n]}C${k}`, ConnectorType: 4, VoltageUpperLimits: 750, VoltageLowerLimits: 200, Current: 200, Power: 60, NationalStandard: 2,
        })),
      })),
    },
  };
}

function chargeOrder(o, connectorId, extra = {}) {
  return {
    StartChargeSeq: `${o.keys.operator_id}${Date.now()}${Math.floor(Math.random() * 1000)}`.slice(0, 27),
    ConnectorID: connectorId, StartTime: '2026-11-25 08:00:00', EndTime: '2026-11-25 09:30:00',
    TotalPower: 42.15, TotalElecMoney: 30.5, TotalSeviceMoney: 12.25, TotalMoney: 42.75, StopReason: 0,
    SumPeriod: 1, ChargeDetails: [{ DetailStartTime: '2026-11-25 08:00:00', DetailEndTime: '2026-11-25 09:30:00', ElecPrice: 0.7236, SevicePrice: 0.2906, DetailPower: 42.15, DetailElecMoney: 30.5, DetailSeviceMoney: 12.25 }],
    ...extra,
  };
}

// ---------- the suite ----------

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-tcec-serve-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  env.gw = await startGateway(env.tmp);
  ops.a = await makeOperator({ sourceIps: ['127.0.0.1', '2001:db8::/64'], stations: ['s1', 's2'], piles: { p1: 's1', p2: 's2' } });
  ops.b = await makeOperator({ sourceIps: ['127.0.0.0/8'] });
  ops.c = await makeOperator({ mode: 'delegated', delegate: ops.a.det.id });
  ops.a.token = (await queryToken(ops.a)).AccessToken;
  ops.b.token = (await queryToken(ops.b)).AccessToken;
});

after(() => stopDaemons(env));

test('query_token: an AccessToken for the live credentials; only its hash is stored; secrets redacted in the log', { skip }, async () => {
  const a = ops.a;
  const d = await queryToken(a);
  assert.equal(d.OperatorID, a.keys.operator_id);
  assert.equal(d.SuccStat, 0);
  assert.equal(d.FailReason, 0);
  assert.equal(d.TokenAvailableTime, 7200);
  assert.match(d.AccessToken, /^[0-9A-F]{64}$/);
  const hash = createHash('sha256').update(d.AccessToken).digest('hex').toUpperCase();
  const [row] = query('SELECT * FROM tcec_tokens WHERE token_hash = ?', hash);
  assert.ok(row, 'the token hash is stored');
  assert.equal(row.operator_id, a.keys.operator_id);
  assert.equal(row.expires_at - row.issued_at, 7200);
  assert.equal(query("SELECT count(*) AS n FROM tcec_tokens WHERE token_hash LIKE ?", `%${d.AccessToken}%`)[0].n, 0);
  const x = lastExchange(a.keys.operator_id);
  assert.equal(x.interface, 'query_token');
  assert.equal(x.direction, 'in');
  assert.equal(x.ret, 0);
  assert.equal(x.peer, '127.0.0.1');
  assert.equal(JSON.parse(x.request).OperatorSecret, '***');
  assert.equal(JSON.parse(x.response).AccessToken, '***');
  assert.ok(!JSON.stringify(query('SELECT * FROM tcec_exchanges')).includes(a.keys.operator_secret), 'no OperatorSecret in the log');
  // the token works
  const r = await call(a, 'notification_stationStatus', statusInfo(`${a.piles.p1}C1`, 1), { token: d.AccessToken });
  assert.equal(r.ret, 0, r.msg);
});

test('query_token: FailReason 2 for a wrong OperatorSecret, 1 for an OperatorID that is not the caller', { skip }, async () => {
  const a = ops.a;
  let r = await call(a, 'query_token', { OperatorID: a.keys.operator_id, OperatorSecret: 'WRONGSECRET12345' });
  assert.equal(r.ret, 0);
  assert.deepEqual(r.data, { OperatorID: a.keys.operator_id, SuccStat: 1, AccessToken: '', TokenAvailableTime: 0, FailReason: 2 });
  assert.equal(lastExchange(a.keys.operator_id).reason, 'operator_secret');
  r = await call(a, 'query_token', { OperatorID: ops.b.keys.operator_id, OperatorSecret: ops.b.keys.operator_secret });
  assert.equal(r.ret, 0);
  assert.equal(r.data.SuccStat, 1);
  assert.equal(r.data.FailReason, 1);
  assert.equal(r.data.AccessToken, '');
  assert.equal(lastExchange(a.keys.operator_id).reason, 'operator_id');
});

test('an OperatorID without live credentials cannot be attributed: HTTP 403, Ret 4001, unsigned', { skip }, async () => {
  const stranger = { ...ops.a.keys, operator_id: 'ZZZZZZZZ9' };
  const r = await post('query_token', request(stranger, { OperatorID: 'ZZZZZZZZ9', OperatorSecret: 'x' }));
  const o = opened(r, stranger, { status: 403, unsigned: true });
  assert.equal(o.ret, 4001);
  assert.match(o.msg, /ZZZZZZZZ9/);
  assert.equal(query('SELECT count(*) AS n FROM tcec_exchanges WHERE operator_id = ?', 'ZZZZZZZZ9')[0].n, 0);
});

test('notification_stationStatus: accepted and stored (latest and history)', { skip }, async () => {
  const a = ops.a;
  const cid = `${a.piles.p1}C2`;
  for (const st of [1, 3]) {
    const r = await call(a, 'notification_stationStatus', statusInfo(cid, st));
    assert.equal(r.ret, 0, r.msg);
    assert.deepEqual(r.data, { Status: 0 });
  }
  const [latest] = query('SELECT * FROM tcec_connector_status WHERE connector_id = ?', cid);
  assert.equal(latest.status, 3);
  assert.equal(latest.park_status, 10);
  assert.equal(latest.lock_status, 50);
  assert.equal(latest.operator_id, a.keys.operator_id);
  assert.equal(latest.account_id, a.account.id);
  assert.deepEqual(query('SELECT status FROM tcec_connector_status_history WHERE connector_id = ? ORDER BY id', cid).map((x) => x.status), [1, 3]);
  const x = lastExchange(a.keys.operator_id);
  assert.equal(x.interface, 'notification_stationStatus');
  assert.equal(x.ret, 0);
  assert.equal(x.reason, null);
  assert.equal(JSON.parse(x.request).ConnectorStatusInfo.ConnectorID, cid);
  assert.deepEqual(JSON.parse(x.response), { Status: 0 });
});

test('notification_stationInfo: accepted and stored; a pile of another station, or a connector not of the pile, is refused', { skip }, async () => {
  const a = ops.a;
  const info = stationInfo(a, 's1', ['p1']);
  let r = await call(a, 'notification_stationInfo', info);
  assert.equal(r.ret, 0, r.msg);
  assert.deepEqual(r.data, { Status: 0 });
  const [row] = query('SELECT * FROM tcec_station_info WHERE station_id = ?', a.stations.s1);
  assert.equal(row.account_id, a.account.id);
  assert.equal(row.operator_id, a.keys.operator_id);
  assert.equal(JSON.parse(row.data).EquipmentInfos[0].EquipmentID, a.piles.p1);
  // p2 belongs to station s2
  r = await call(a, 'notification_stationInfo', stationInfo(a, 's1', ['p1', 'p2']));
  assert.equal(r.ret, 4004);
  assert.match(r.msg, new RegExp(`StationInfo\\.EquipmentInfos\\[1\\]\\.EquipmentID: ${a.piles.p2} `));
  const bad = stationInfo(a, 's1', ['p1']);
  bad.StationInfo.EquipmentInfos[0].ConnectorInfos[1].ConnectorID = `${a.piles.p2}C1`;
  r = await call(a, 'notification_stationInfo', bad);
  assert.equal(r.ret, 4004);
  assert.match(r.msg, new RegExp(`ConnectorInfos\\[1\\]\\.ConnectorID: ${a.piles.p2}C1 `));
  assert.equal(lastExchange(a.keys.operator_id).reason, 'ownership');
});

test('notification_charge_order_info: confirmed and stored once; the same order again is confirmed, a different one disputed', { skip }, async () => {
  const a = ops.a;
  const order = chargeOrder(a, `${a.piles.p1}C1`);
  let r = await call(a, 'notification_charge_order_info', order);
  assert.equal(r.ret, 0, r.msg);
  assert.deepEqual(r.data, { StartChargeSeq: order.StartChargeSeq, ConnectorID: order.ConnectorID, ConfirmResult: 0 });
  let rows = query('SELECT * FROM tcec_charge_orders WHERE start_charge_seq = ?', order.StartChargeSeq);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].total_power, 42.15);
  assert.equal(rows[0].total_money, 42.75);
  assert.equal(rows[0].account_id, a.account.id);
  assert.equal(JSON.parse(rows[0].data).ChargeDetails[0].SevicePrice, 0.2906);
  r = await call(a, 'notification_charge_order_info', order);
  assert.equal(r.ret, 0, r.msg);
  assert.equal(r.data.ConfirmResult, 0);
  r = await call(a, 'notification_charge_order_info', { ...order, TotalPower: 50, ChargeDetails: undefined, SumPeriod: undefined });
  assert.equal(r.ret, 0, r.msg);
  assert.equal(r.data.ConfirmResult, 1);
  rows = query('SELECT * FROM tcec_charge_orders WHERE start_charge_seq = ?', order.StartChargeSeq);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].total_power, 42.15, 'the first order is kept');
});

test('a bad signature is 4001 (signed answer); Data not Base64 is 4003; Data that does not decrypt is 4004', { skip }, async () => {
  const a = ops.a;
  let r = await call(a, 'notification_stationStatus', statusInfo(`${a.piles.p1}C1`), { sigSecret: 'not-the-secret!!' });
  assert.equal(r.ret, 4001);
  assert.equal(lastExchange(a.keys.operator_id).reason, 'signature');
  r = await call(a, 'notification_stationStatus', null, { data: 'not*base64' });
  assert.equal(r.ret, 4003);
  const wrongKeys = { ...a.keys, data_secret: '0000000000000000' };
  const env1 = request(wrongKeys, statusInfo(`${a.piles.p1}C1`));
  r = opened(await post('notification_stationStatus', env1, { token: a.token }), a.keys);
  assert.equal(r.ret, 4004);
});

test('tokens: missing, unknown, another operator\'s → 4002; query_token needs none', { skip }, async () => {
  const a = ops.a;
  const payload = statusInfo(`${a.piles.p1}C1`);
  let r = await call(a, 'notification_stationStatus', payload, { token: '' });
  assert.equal(r.ret, 4002);
  assert.match(r.msg, /Bearer/);
  r = await call(a, 'notification_stationStatus', payload, { token: 'F'.repeat(64) });
  assert.equal(r.ret, 4002);
  assert.match(r.msg, /unknown/);
  r = await call(a, 'notification_stationStatus', payload, { token: ops.b.token });
  assert.equal(r.ret, 4002);
  r = opened(await post('notification_stationStatus', request(a.keys, payload), { headers: { Authorization: `Basic ${a.token}` } }), a.keys);
  assert.equal(r.ret, 4002);
  assert.equal(lastExchange(a.keys.operator_id).reason, 'token');
  // query_token is the one interface without a token
  r = await call(a, 'query_token', { OperatorID: a.keys.operator_id, OperatorSecret: a.keys.operator_secret }, { token: '' });
  assert.equal(r.ret, 0, r.msg);
  assert.equal(r.data.SuccStat, 0);
});

test('an expired token is 4002 (a gateway with tcec_token_ttl_s = 2)', { skip }, async () => {
  const gw2 = await startGateway(env.tmp, { EVGATE_TCEC_TOKEN_TTL_S: '2' });
  try {
    const a = ops.a;
    const d = await queryToken(a, { gw: gw2 });
    assert.equal(d.TokenAvailableTime, 2);
    const payload = statusInfo(`${a.piles.p1}C1`);
    const first = await call(a, 'notification_stationStatus', payload, { gw: gw2, token: d.AccessToken });
    assert.equal(first.ret, 0, first.msg);
    const r = await until(async () => {
      const x = await call(a, 'notification_stationStatus', payload, { gw: gw2, token: d.AccessToken });
      return x.ret === 0 ? null : x;
    }, 'the token to expire', 20000, 250);
    assert.equal(r.ret, 4002);
    assert.match(r.msg, /expired/);
  } finally {
    const r = await gw2.stop();
    assert.equal(r.code, 0);
  }
});

test('malformed envelopes: HTTP 400 with Ret 4003 (unsigned: not attributable)', { skip }, async () => {
  const a = ops.a;
  const good = request(a.keys, statusInfo(`${a.piles.p1}C1`));
  const cases = [
    '{"OperatorID":',
    JSON.stringify({ ...good, Sig: undefined }),
    JSON.stringify({ ...good, Seq: '0000' }),
    JSON.stringify({ ...good, TimeStamp: '20261332000000' }),
    JSON.stringify({ ...good, Extra: 1 }),
    '',
  ];
  for (const body of cases) {
    const r = opened(await post('notification_stationStatus', body, { token: a.token }), a.keys, { status: 400, unsigned: true });
    assert.equal(r.ret, 4003, body);
  }
});

test('replay: the same (TimeStamp, Seq) again is refused with 4003; a TimeStamp far from now too', { skip }, async () => {
  const a = ops.a;
  const e = request(a.keys, statusInfo(`${a.piles.p1}C1`, 1));
  let r = opened(await post('notification_stationStatus', e, { token: a.token }), a.keys);
  assert.equal(r.ret, 0, r.msg);
  r = opened(await post('notification_stationStatus', e, { token: a.token }), a.keys);
  assert.equal(r.ret, 4003);
  assert.match(r.msg, new RegExp(`Seq ${e.Seq}.*${e.TimeStamp}`));
  assert.equal(lastExchange(a.keys.operator_id).reason, 'replay');
  // the same Seq with another TimeStamp is a new request
  r = await call(a, 'notification_stationStatus', statusInfo(`${a.piles.p1}C1`, 1), { seq: e.Seq, timeStamp: timeStamp(-5) === e.TimeStamp ? timeStamp(-6) : timeStamp(-5) });
  assert.equal(r.ret, 0, r.msg);
  for (const off of [-3600, 3600]) {
    r = await call(a, 'notification_stationStatus', statusInfo(`${a.piles.p1}C1`, 1), { timeStamp: timeStamp(off) });
    assert.equal(r.ret, 4003);
    assert.match(r.msg, /TimeStamp/);
  }
  assert.equal(lastExchange(a.keys.operator_id).reason, 'timestamp');
});

test('payload rules: a missing field or a wrong enumeration is 4004 naming the field', { skip }, async () => {
  const a = ops.a;
  let r = await call(a, 'notification_stationStatus', { ConnectorStatusInfo: { ConnectorID: `${a.piles.p1}C1` } });
  assert.equal(r.ret, 4004);
  assert.match(r.msg, /^ConnectorStatusInfo\.Status: /);
  r = await call(a, 'notification_stationStatus', statusInfo(`${a.piles.p1}C1`, 7));
  assert.equal(r.ret, 4004);
  assert.match(r.msg, /^ConnectorStatusInfo\.Status: .*7/);
  const info = stationInfo(a, 's1', ['p1']);
  info.StationInfo.EquipmentInfos[0].ConnectorInfos[0].ConnectorType = 9;
  r = await call(a, 'notification_stationInfo', info);
  assert.equal(r.ret, 4004);
  assert.match(r.msg, /^StationInfo\.EquipmentInfos\[0\]\.ConnectorInfos\[0\]\.ConnectorType: /);
  r = await call(a, 'notification_charge_order_info', chargeOrder(a, `${a.piles.p1}C1`, { TotalMoney: 99 }));
  assert.equal(r.ret, 4004);
  assert.match(r.msg, /^TotalMoney: /);
  const x = lastExchange(a.keys.operator_id);
  assert.equal(x.reason, 'payload');
  assert.equal(x.ret, 4004);
});

test('ownership: another operator\'s station or connector, or a pile not accessed, is 4004 naming the ID', { skip }, async () => {
  const { a, b } = ops;
  let r = await call(a, 'notification_stationInfo', stationInfo(b, 's1', ['p1']));
  assert.equal(r.ret, 4004);
  assert.match(r.msg, new RegExp(`StationInfo\\.StationID: ${b.stations.s1} is not`));
  r = await call(a, 'notification_stationStatus', statusInfo(`${b.piles.p1}C1`));
  assert.equal(r.ret, 4004);
  assert.match(r.msg, new RegExp(`ConnectorStatusInfo\\.ConnectorID: ${b.piles.p1}C1 is not`));
  r = await call(a, 'notification_charge_order_info', chargeOrder(a, `${b.piles.p1}C2`));
  assert.equal(r.ret, 4004);
  assert.match(r.msg, new RegExp(`${b.piles.p1}C2`));
  r = await call(a, 'notification_stationStatus', statusInfo(`${a.draft}C1`));
  assert.equal(r.ret, 4004, 'a draft pile is not accessed');
  assert.match(r.msg, new RegExp(`${a.draft}C1`));
  assert.equal(query('SELECT count(*) AS n FROM tcec_connector_status WHERE connector_id IN (?, ?)', `${b.piles.p1}C1`, `${a.draft}C1`)[0].n, 0);
  // b reports its own
  r = await call(b, 'notification_stationStatus', statusInfo(`${b.piles.p1}C1`));
  assert.equal(r.ret, 0, r.msg);
});

test('delegation: the delegate platform reports for the delegating operator; others may not', { skip }, async () => {
  const { a, b, c } = ops;
  let r = await call(a, 'notification_stationStatus', statusInfo(`${c.piles.p1}C1`, 2));
  assert.equal(r.ret, 0, r.msg);
  const [row] = query('SELECT * FROM tcec_connector_status WHERE connector_id = ?', `${c.piles.p1}C1`);
  assert.equal(row.account_id, c.account.id);
  assert.equal(row.operator_id, a.keys.operator_id);
  r = await call(a, 'notification_stationInfo', stationInfo(c, 's1', ['p1']));
  assert.equal(r.ret, 0, r.msg);
  assert.equal(query('SELECT account_id FROM tcec_station_info WHERE station_id = ?', c.stations.s1)[0].account_id, c.account.id);
  const order = chargeOrder(a, `${c.piles.p1}C2`);
  r = await call(a, 'notification_charge_order_info', order);
  assert.equal(r.ret, 0, r.msg);
  assert.equal(query('SELECT account_id FROM tcec_charge_orders WHERE start_charge_seq = ?', order.StartChargeSeq)[0].account_id, c.account.id);
  r = await call(b, 'notification_stationStatus', statusInfo(`${c.piles.p1}C1`));
  assert.equal(r.ret, 4004);
  assert.match(r.msg, new RegExp(`${c.piles.p1}C1`));
});

test('source addresses: a request from an address off the allow-list is refused (HTTP 403, Ret 4003, signed) and logged', { skip }, async () => {
  const a = ops.a;
  const before = query('SELECT count(*) AS n FROM tcec_exchanges WHERE reason = ?', 'source_ip')[0].n;
  for (const iface of ['query_token', 'notification_stationStatus']) {
    const payload = iface === 'query_token' ? { OperatorID: a.keys.operator_id, OperatorSecret: a.keys.operator_secret } : statusInfo(`${a.piles.p1}C1`);
    const r = opened(await post(iface, request(a.keys, payload), { token: a.token, localAddress: '127.0.0.2' }), a.keys, { status: 403 });
    assert.equal(r.ret, 4003);
    assert.match(r.msg, /127\.0\.0\.2/);
    const x = lastExchange(a.keys.operator_id);
    assert.equal(x.reason, 'source_ip');
    assert.equal(x.peer, '127.0.0.2');
    assert.equal(x.interface, iface);
  }
  assert.equal(query('SELECT count(*) AS n FROM tcec_exchanges WHERE reason = ?', 'source_ip')[0].n, before + 2);
  // b allows 127.0.0.0/8
  const r = await call(ops.b, 'notification_stationStatus', statusInfo(`${ops.b.piles.p1}C2`), { localAddress: '127.0.0.2' });
  assert.equal(r.ret, 0, r.msg);
});

test('HTTP: unknown interface 404, GET 405, a body over the limit 413, keep-alive between requests; metrics by interface and Ret', { skip }, async () => {
  const a = ops.a;
  let r = await post('query_stations_info', request(a.keys, {}));
  opened(r, a.keys, { status: 404, unsigned: true });
  assert.equal(r.json.Ret, 4003);
  assert.match(r.json.Msg, /query_stations_info/);
  r = await post('x%22%0a%E4%B8%AD', request(a.keys, {})); // a name that is not printable ASCII
  opened(r, a.keys, { status: 404, unsigned: true });
  assert.match(r.json.Msg, /^no such interface: x/);
  r = await post('query_token', undefined, { method: 'GET' });
  opened(r, a.keys, { status: 405, unsigned: true });
  assert.equal(r.headers.allow, 'POST');
  // a body announced over tcec_body_max_bytes (1 MiB) is refused from its headers, before it is read
  r = await announceLarge('query_token', 1100000);
  opened(r, a.keys, { status: 413, unsigned: true });
  assert.equal(r.json.Ret, 4003);
  assert.equal(r.headers.connection, 'close');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < 3; i++) {
      const x = opened(await post('notification_stationStatus', request(a.keys, statusInfo(`${a.piles.p1}C1`, 1)), { token: a.token, agent }), a.keys);
      assert.equal(x.ret, 0, x.msg);
    }
  } finally {
    agent.destroy();
  }
  assert.ok(await metricValue(env.gw, 'evgate_gateway_tcec_requests_total', { interface: 'notification_stationStatus', ret: '0' }) >= 3);
  assert.ok(await metricValue(env.gw, 'evgate_gateway_tcec_requests_total', { interface: 'notification_stationStatus', ret: '4002' }) >= 1);
  assert.ok(await metricValue(env.gw, 'evgate_gateway_tcec_requests_total', { interface: 'unknown', ret: '4003' }) >= 1);
});

test('a platform that hangs up before its answer: the request is still stored and logged, the gateway lives on', { skip }, async () => {
  const a = ops.a;
  const cid = `${a.piles.p1}C2`;
  const seqs = [];
  for (let i = 0; i < 5; i++) {
    const e = request(a.keys, statusInfo(cid, i % 2 ? 2 : 4));
    seqs.push(e.Seq);
    const body = JSON.stringify(e);
    await new Promise((resolve, reject) => {
      const sock = net.connect(env.gw.port, '127.0.0.1', () => {
        sock.write(`POST /evcs/v1/notification_stationStatus HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.token}\r\n`
          + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => {
          sock.destroy();
          resolve();
        });
      });
      sock.on('error', reject);
    });
  }
  await until(() => query(`SELECT count(*) AS n FROM tcec_replay WHERE operator_id = ? AND seq IN (${seqs.map(() => '?').join(',')})`,
    a.keys.operator_id, ...seqs)[0].n === seqs.length, 'the five requests in the replay guard');
  await until(() => query('SELECT count(*) AS n FROM tcec_exchanges WHERE operator_id = ? AND json_extract(request, \'$.ConnectorStatusInfo.ConnectorID\') = ? AND ret = 0 AND at >= ?',
    a.keys.operator_id, cid, Math.floor(Date.now() / 1000) - 60)[0].n >= seqs.length, 'the five exchanges logged');
  assert.ok(env.gw.alive());
  const r = await call(a, 'notification_stationStatus', statusInfo(cid, 1));
  assert.equal(r.ret, 0, r.msg);
});

test('an OCPP 1.6 pile boots on the same gateway meanwhile', { skip }, async () => {
  const a = ops.a;
  const pw = ok(await a.s.call('POST', `/piles/${a.piles.p1}/password`), 200, 'password');
  // the gateway's pile table takes the new password on its next reload
  const hs = await until(async () => {
    const x = await handshake(env.gw, a.piles.p1, { password: pw.password, protocols: ['ocpp1.6'] });
    return x.status === 401 || x.status === 404 ? null : x;
  }, `pile ${a.piles.p1} with its password in the gateway's table`);
  assert.equal(hs.status, 101, JSON.stringify(hs));
  const next = nextMessage(hs.ws);
  hs.ws.send(JSON.stringify([2, 'boot-1', 'BootNotification', { chargePointVendor: 'StarCharge', chargePointModel: 'DC-120' }]));
  const msg = await next;
  assert.equal(msg[0], 3, JSON.stringify(msg));
  assert.equal(msg[2].status, 'Accepted');
  // and T/CEC still answers while the pile is connected
  const r = await call(a, 'notification_stationStatus', statusInfo(`${a.piles.p1}C1`, 1));
  assert.equal(r.ret, 0, r.msg);
  hs.ws.close(1000);
  await closed(hs.ws);
});

test('re-issued credentials end the tokens of the old ones (4002 revoked); the new keys work', { skip }, async () => {
  const a = ops.a;
  const oldKeys = a.keys;
  const oldToken = a.token;
  a.keys = ok(await a.s.call('POST', `/detections/${a.det.id}/credentials`), 200, 'credentials again');
  assert.notEqual(a.keys.sig_secret, oldKeys.sig_secret);
  // the old keys no longer verify: the answer is signed with the new ones
  let r = opened(await post('notification_stationStatus', request(oldKeys, statusInfo(`${a.piles.p1}C1`)), { token: oldToken }), a.keys);
  assert.equal(r.ret, 4001);
  r = await call(a, 'notification_stationStatus', statusInfo(`${a.piles.p1}C1`), { token: oldToken });
  assert.equal(r.ret, 4002);
  assert.match(r.msg, /revoked/);
  a.token = (await queryToken(a)).AccessToken;
  r = await call(a, 'notification_stationStatus', statusInfo(`${a.piles.p1}C1`));
  assert.equal(r.ret, 0, r.msg);
});
