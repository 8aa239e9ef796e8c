// Acknowledged means durable (issue 9, item 1): OCPP 1.6J and 2.0.1 piles keep the gateway busy
// with transactions, meter values and status changes, and an operator platform pushes T/CEC
// charge orders, the gateway is killed with SIGKILL at a
// random moment, and everything a pile got an answer for before the kill must be in the
// database when it is opened again — which must pass `PRAGMA integrity_check`. Three rounds, the
// gateway restarted on the same database each time.
//
// Run from tests/browser (lib.mjs and its npm packages live there):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_durability.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { lib, hasSqlite, startGateway, makeAccessedPiles, handshakeLoaded, until } from './ocpp_lib.mjs';
import { platformOperator, accessedStation, request as tcecRequest, openResponse } from './tcec_lib.mjs';

const skip = !lib ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !hasSqlite ? 'sqlite3 (the command) is not installed' : false;
const ROUNDS = 3;
const PILES = { a: 'ocpp1.6', b: 'ocpp1.6', c: 'ocpp1.6', d: 'ocpp1.6', e: 'ocpp2.0.1', f: 'ocpp2.0.1' };
const STATUS16 = ['Preparing', 'Charging', 'SuspendedEV', 'Finishing', 'Available'];
const STATUS201 = ['Occupied', 'Available', 'Reserved', 'Unavailable'];

const env = { tmp: null, mgmt: null, gw: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
let made = null;
let platform = null; // {keys, connector}: an operator platform with an accessed station

function sqlite(args) {
  const r = spawnSync('sqlite3', ['-json', path.join(env.tmp, 'evgate.db'), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}
const sql = (q) => sqlite([q]);

/** What one pile was answered for (acked) and what it sent without an answer yet (sent). */
function ledger() {
  return { tx: [], stopped: [], meters: [], status: { acked: null, later: [] }, refs: [], ended: [] };
}

/** An OCPP-J client on `ws`: call(action, payload) resolves the CALLRESULT payload, rejects on
 * a CALLERROR or when the connection ends. */
function rpc(ws) {
  const waiting = new Map();
  let n = 0;
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m[0] === 2) { // the gateway's own CALLs are not part of this test: say NotImplemented
      ws.send(JSON.stringify([4, m[1], 'NotImplemented', 'not in this test', {}]));
      return;
    }
    const w = waiting.get(m[1]);
    if (!w) return;
    waiting.delete(m[1]);
    if (m[0] === 3) w.resolve(m[2]);
    else w.reject(new Error(`CALLERROR ${m[2]} ${m[3]}`));
  });
  const fail = () => {
    for (const w of waiting.values()) w.reject(new Error('connection ended'));
    waiting.clear();
  };
  ws.on('close', fail);
  ws.on('error', fail);
  return (action, payload) => new Promise((resolve, reject) => {
    const id = `m${++n}`;
    waiting.set(id, { resolve, reject });
    ws.send(JSON.stringify([2, id, action, payload]), (err) => { if (err) fail(); });
  });
}

const now = () => new Date().toISOString();

/** A 1.6J pile's life until its connection dies: sessions of start, meter values, stop, each
 * step recorded in `l` once answered. */
async function pile16(p, l, counter) {
  const call = rpc(p.ws);
  await call('BootNotification', { chargePointVendor: 'evgate', chargePointModel: 'durability' });
  for (let s = 0; ; s++) {
    const status = STATUS16[s % STATUS16.length];
    l.status.later.push(status);
    await call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status, timestamp: now() });
    l.status = { acked: status, later: [] };
    const start = await call('StartTransaction', { connectorId: 1, idTag: 'DURABLE1', meterStart: counter.wh, timestamp: now() });
    const tx = start.transactionId;
    l.tx.push(tx);
    for (let i = 0; i < 3; i++) {
      const wh = ++counter.wh;
      await call('MeterValues', { connectorId: 1, transactionId: tx, meterValue: [{ timestamp: now(), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
      l.meters.push(wh);
    }
    await call('StopTransaction', { transactionId: tx, meterStop: ++counter.wh, timestamp: now(), reason: 'Local' });
    l.stopped.push(tx);
  }
}

/** A 2.0.1 station's life: TransactionEvent Started, Updated (with a reading), Ended. */
async function pile201(p, l, counter) {
  const call = rpc(p.ws);
  await call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'durability', vendorName: 'evgate' } });
  for (let s = 0, seq = 0; ; s++) {
    const status = STATUS201[s % STATUS201.length];
    l.status.later.push(status);
    await call('StatusNotification', { timestamp: now(), connectorStatus: status, evseId: 1, connectorId: 1 });
    l.status = { acked: status, later: [] };
    const ref = `${p.id}-${randomBytes(6).toString('hex')}`;
    const ev = (eventType, triggerReason, extra = {}) => ({ eventType, timestamp: now(), triggerReason, seqNo: seq++,
      transactionInfo: { transactionId: ref }, evse: { id: 1, connectorId: 1 }, ...extra });
    await call('TransactionEvent', ev('Started', 'CablePluggedIn'));
    l.refs.push(ref);
    const wh = ++counter.wh;
    await call('TransactionEvent', ev('Updated', 'MeterValuePeriodic', { meterValue: [{ timestamp: now(), sampledValue: [{ value: wh, measurand: 'Energy.Active.Import.Register' }] }] }));
    l.meters.push(wh);
    await call('TransactionEvent', ev('Ended', 'EVCommunicationLost', { transactionInfo: { transactionId: ref, stoppedReason: 'EVDisconnected' } }));
    l.ended.push(ref);
  }
}

/** A platform's life: an AccessToken, then one charge order after another, each kept in
 * `orders` once evgate confirmed it (Ret 0, ConfirmResult 0). Ends when the gateway is gone. */
async function platformLife(gw, orders) {
  const call = async (iface, payload, token) => {
    const res = await fetch(`${gw.http}/evcs/v1/${iface}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(tcecRequest(platform.keys, payload)),
    });
    return openResponse(platform.keys, await res.json());
  };
  const k = platform.keys;
  const tok = await call('query_token', { OperatorID: k.operator_id, OperatorSecret: k.operator_secret });
  assert.equal(tok.payload?.SuccStat, 0, JSON.stringify(tok));
  for (;;) {
    const seq = `${k.operator_id}${Date.now()}${randomInt(1000, 9999)}`.slice(0, 27);
    const r = await call('notification_charge_order_info', {
      StartChargeSeq: seq, ConnectorID: platform.connector, StartTime: '2026-11-25 08:00:00',
      EndTime: '2026-11-25 09:30:00', TotalPower: 42.15, TotalElecMoney: 30.5, TotalSeviceMoney: 12.25,
      TotalMoney: 42.75, StopReason: 0,
    }, tok.payload.AccessToken);
    assert.equal(r.ret, 0, r.msg);
    assert.equal(r.payload.ConfirmResult, 0);
    orders.push(seq);
  }
}

/** Everything in `l` is in the database; returns how many records were checked. */
function checkLedger(p, l) {
  const id = p.id.replace(/'/g, "''");
  const txs = new Map(sql(`SELECT id, transaction_ref AS ref, stopped_at FROM ocpp_transactions WHERE equipment_id = '${id}'`)
    .map((r) => [r.ref ?? r.id, r]));
  for (const tx of [...l.tx, ...l.refs]) assert.ok(txs.has(tx), `${p.id}: the answered start of transaction ${tx} is lost`);
  for (const tx of [...l.stopped, ...l.ended]) assert.ok(txs.get(tx)?.stopped_at, `${p.id}: the answered end of transaction ${tx} is lost`);
  const values = new Set(sql(`SELECT value FROM ocpp_meter_values WHERE equipment_id = '${id}'`).map((r) => r.value));
  for (const wh of l.meters) assert.ok(values.has(wh), `${p.id}: the answered reading ${wh} Wh is lost`);
  if (l.status.acked) {
    const rows = sql(`SELECT status FROM ocpp_connectors WHERE equipment_id = '${id}'`);
    assert.equal(rows.length, 1, `${p.id}: one connector: ${JSON.stringify(rows)}`);
    const [row] = rows;
    assert.ok([l.status.acked, ...l.status.later].includes(row.status),
      `${p.id}: status ${row?.status} in the database, ${l.status.acked} was answered (later sent: ${l.status.later})`);
  }
  return l.tx.length + l.refs.length + l.stopped.length + l.ended.length + l.meters.length + (l.status.acked ? 1 : 0);
}

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-durability-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  made = await makeAccessedPiles(env, PILES);
  const o = await platformOperator(lib, env, 'https://platform.example.com/evcs/v1/');
  const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
  const v = await admin.call('POST', `/admin/detections/${o.detectionId}/verdict`, { verdict: 'passed', note: '线下联调通过' });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  const { piles } = await accessedStation(o.session, admin, lib.uniq(), '中山市耐久测试站');
  platform = { keys: o.keys, connector: `${piles[0]}C1` };
});

after(async () => {
  await env.gw?.kill();
  await env.mgmt?.stop();
  if (env.tmp) await rm(env.tmp, { recursive: true, force: true });
});

test('every answered record survives SIGKILL of the gateway under load; the database stays intact', { skip }, async () => {
  const counter = { wh: 1000 };
  let checked = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    env.gw = await startGateway(env.tmp);
    const ledgers = {};
    const lives = [];
    for (const [name, p] of Object.entries(made.piles)) {
      const r = await handshakeLoaded(env.gw, p, { protocols: [p.protocol] });
      assert.equal(r.status, 101, `${p.id}: ${r.status} ${r.body}`);
      const l = (ledgers[name] = ledger());
      const life = (p.protocol === 'ocpp1.6' ? pile16 : pile201)({ ...p, ws: r.ws }, l, counter);
      lives.push(life.then(() => assert.fail('a pile life ends only with its connection'), (e) => e));
    }
    const orders = [];
    lives.push(platformLife(env.gw, orders).then(() => assert.fail('the platform stops only with the gateway'), (e) => e));
    // the kill comes once every pile and the platform have had some answers, at a random
    // moment after that
    const answered = () => orders.length > 0
      && Object.values(ledgers).every((l) => l.status.acked && (l.tx.length + l.refs.length) > 0);
    await until(answered, 'answers for every pile', 20000, 10);
    // a random moment, not a synchronisation: where the kill falls is what varies
    await new Promise((r) => setTimeout(r, randomInt(0, 700)));
    const { sig } = await env.gw.kill();
    assert.equal(sig, 'SIGKILL');
    const ends = await Promise.all(lives);
    // (undici says "terminated" when the connection drops in the middle of an answer's body)
    for (const e of ends) assert.match(String(e?.message), /connection ended|CALLERROR|not open|CLOSED|closed|fetch failed|terminated/i, String(e?.stack));

    const [{ integrity_check: ic }] = sql('PRAGMA integrity_check');
    assert.equal(ic, 'ok', `round ${round}: integrity_check`);
    for (const [name, l] of Object.entries(ledgers)) checked += checkLedger(made.piles[name], l);
    const stored = new Set(sql('SELECT start_charge_seq AS s FROM tcec_charge_orders').map((r) => r.s));
    for (const seq of orders) assert.ok(stored.has(seq), `the confirmed charge order ${seq} is lost`);
    checked += orders.length;
  }
  // the rounds did real work: many records were answered and checked
  assert.ok(checked >= ROUNDS * Object.keys(PILES).length * 3, `${checked} answered records checked`);
});
