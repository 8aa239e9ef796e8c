// Integration test of simulators/evsim-platform (issue 6, part 4), the T/CEC 102 operator-platform
// simulator, against a counterpart written here with node:crypto (AES-128-CBC + HMAC-MD5), so
// that nothing of protocol/tcec is used to check it:
//  1. as evgate's outbound client: query_token, every page of query_stations_info,
//     query_station_status, query_station_stats, and the Ret of bad requests;
//  2. as evgate's server: a small HTTP server answering query_token and the notifications,
//     while the simulator obtains and refreshes a token and pushes station info, status and
//     charge orders;
//  3. each --faulty mode produces the fault it names;
//  4. against the real evgate-mgmt and evgate-gateway (skipped without tests/browser's npm
//     packages or the sqlite3 CLI): pushes stored, evgate's queries answered, and each fault
//     refused by evgate with the Ret and reason of docs/tcec.md, in both directions.
//
// Run from tests/browser like the other Node tests:
//   cd tests/browser && EVGATE_BUILD=../../build-h8 node --test ../integration/test_evsim_platform.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { BUILD, until, lib, startGateway, detectionBody, ok } from './ocpp_lib.mjs';
import {
  encrypt as tcecEncrypt, decrypt as tcecDecrypt, sign as tcecSign, timeStamp, fromTimeStamp, accessedStation,
} from './tcec_lib.mjs';

// EVSIM_PLATFORM: another build of the simulator (e.g. with ASan) to run the same tests against
const SIM = process.env.EVSIM_PLATFORM || path.join(BUILD, 'simulators', 'evsim-platform');

// the credential set evgate issues to the operator; evgate calls the simulator as EVGATE_ID
const OP = 'MA59J8YL8';
const EVGATE_ID = 'EVGATE001';
const KEYS = { operatorSecret: 'op-secret-0001', dataSecret: 'a1b2c3d4e5f6a7b8', iv: '0f1e2d3c4b5a6978', sigSecret: 'sig-secret-evsim' };
const CREDS = ['--operator-id', OP, '--operator-secret', KEYS.operatorSecret, '--data-secret', KEYS.dataSecret,
  '--data-secret-iv', KEYS.iv, '--sig-secret', KEYS.sigSecret];
const OPTIONS = ['--listen', '--base-path', '--evgate-url', '--operator-id', '--operator-secret', '--data-secret',
  '--data-secret-iv', '--sig-secret', '--evgate-operator-id', '--data', '--stations', '--piles-per-station',
  '--connectors-per-pile', '--id-prefix', '--token-ttl-s', '--status-interval-ms', '--order-interval-ms', '--push-info',
  '--faulty', '--duration-s', '--summary-json', '--quiet', '--help'];
const FAULTS = ['bad-signature', 'wrong-key', 'expired-token', 'missing-field', 'wrong-enum', 'wrong-paging', 'late-push'];

// ---------- the counterpart's T/CEC 102, on node:crypto ----------

// (the primitives are tests/integration/tcec_lib.mjs'; here with this file's fixed IV and keys)
const keysWith = (key) => ({ data_secret: key, data_secret_iv: KEYS.iv });
const encrypt = (text, key = KEYS.dataSecret) => tcecEncrypt(text, keysWith(key));
/** The decrypted JSON object, or throws (bad padding: another key; not JSON). */
const decrypt = (b64, key = KEYS.dataSecret) => JSON.parse(tcecDecrypt(b64, keysWith(key)));
const sign = (text, secret = KEYS.sigSecret) => tcecSign(secret, text);
const pad = (n, w = 2) => String(n).padStart(w, '0');
let seq = 0;

/** A request envelope from operator `op`; opts: {key, sigSecret, ts} to break it. */
function envelope(payload, op = EVGATE_ID, opts = {}) {
  const Data = encrypt(JSON.stringify(payload), opts.key);
  const TimeStamp = opts.ts || timeStamp();
  const Seq = pad((seq = (seq % 9999) + 1), 4);
  return { OperatorID: op, Data, TimeStamp, Seq, Sig: sign(op + Data + TimeStamp + Seq, opts.sigSecret) };
}

/** Checks a response envelope: {Ret, Msg, Data, Sig, sigOk, payload (null if Data is ""), decryptError}. */
function openResponse(body) {
  assert.deepEqual(Object.keys(body).sort(), ['Data', 'Msg', 'Ret', 'Sig'], JSON.stringify(body));
  assert.equal(typeof body.Ret, 'number');
  const sigOk = body.Sig === sign(`${body.Ret}${body.Msg}${body.Data}`);
  let payload = null;
  let decryptError = null;
  if (body.Data !== '') {
    try {
      payload = decrypt(body.Data);
    } catch (e) {
      decryptError = e;
    }
  }
  return { ...body, sigOk, payload, decryptError };
}

/** A response envelope as evgate's server would answer (or broken with opts.sigSecret). */
function responseEnvelope(Ret, payload, opts = {}) {
  const Msg = Ret === 0 ? '' : 'refused by the test';
  const Data = payload ? encrypt(JSON.stringify(payload)) : '';
  return { Ret, Msg, Data, Sig: sign(`${Ret}${Msg}${Data}`, opts.sigSecret) };
}

// ---------- the data dictionary's rules the tests look at ----------

const decimals = (v) => (String(v).split('.')[1] || '').length;
const STATION_TYPES = [1, 50, 100, 101, 102, 103, 255];
const CONNECTOR_STATUSES = [0, 1, 2, 3, 4, 255];

function checkStationInfo(s) {
  for (const k of ['StationID', 'OperatorID', 'EquipmentOwnerID', 'StationName', 'CountryCode', 'AreaCode', 'Address', 'ServiceTel'])
    assert.equal(typeof s[k], 'string', `StationInfo.${k}`);
  assert.equal(s.OperatorID, OP);
  assert.match(s.AreaCode, /^\d{6}$/);
  assert.ok(s.StationID.length <= 20);
  assert.ok(STATION_TYPES.includes(s.StationType), `StationType ${s.StationType}`);
  assert.ok([0, 1, 5, 6, 50].includes(s.StationStatus));
  assert.ok(decimals(s.StationLng) <= 6 && decimals(s.StationLat) <= 6);
  assert.ok(s.EquipmentInfos.length >= 1);
  for (const e of s.EquipmentInfos) {
    assert.ok(e.EquipmentID.length <= 23 && [1, 2, 3, 4, 5].includes(e.EquipmentType));
    assert.ok(decimals(e.Power) <= 1);
    for (const c of e.ConnectorInfos) {
      assert.ok(c.ConnectorID.length <= 26 && [1, 2, 3, 4, 5, 6].includes(c.ConnectorType));
      assert.ok(c.VoltageLowerLimits <= c.VoltageUpperLimits && [1, 2].includes(c.NationalStandard));
    }
  }
}

function checkConnectorStatus(c) {
  assert.equal(typeof c.ConnectorID, 'string');
  assert.ok(CONNECTOR_STATUSES.includes(c.Status), `Status ${c.Status}`);
}

function checkOrder(o) {
  assert.equal(o.StartChargeSeq.length, 27);
  assert.ok(o.StartChargeSeq.startsWith(OP));
  assert.match(o.StartTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.ok(o.StartTime <= o.EndTime);
  assert.ok(decimals(o.TotalPower) <= 2 && decimals(o.TotalMoney) <= 2);
  assert.ok(Math.abs(o.TotalElecMoney + o.TotalSeviceMoney - o.TotalMoney) < 0.006, JSON.stringify(o));
  assert.ok(o.StopReason >= 0 && o.StopReason <= 99);
  assert.equal(o.SumPeriod, o.ChargeDetails.length);
}

// ---------- running the simulator ----------

let tmp = null;
async function tmpDir() {
  tmp ??= await mkdtemp(path.join(tmpdir(), 'evgate-evsim-platform-'));
  return tmp;
}

/** Starts evsim-platform with `args` (credentials, by default CREDS, and --summary-json added).
 * With `listen` (--listen 127.0.0.1:`port`, 0: any) it resolves once the simulator printed its
 * address: {base, stop(), log}. */
async function startSim(args, { listen = true, creds = CREDS, port = 0 } = {}) {
  const file = path.join(await tmpDir(), `summary-${process.hrtime.bigint()}.json`);
  const all = [...creds, ...(listen ? ['--listen', `127.0.0.1:${port}`] : []), ...args, '--summary-json', file];
  const proc = spawn(SIM, all, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  let stdout = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
  const listening = new Promise((resolve, reject) => {
    createInterface({ input: proc.stderr }).on('line', (line) => {
      log.push(line);
      const m = / listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]);
    });
    proc.once('error', reject);
    exited.then(({ code, sig }) => reject(new Error(`evsim-platform exited (${code ?? sig}):\n${log.join('\n')}`)));
  });
  listening.catch(() => {}); // a client-only run never listens; its exit is no error
  const sim = {
    proc, log, base: null,
    /** SIGTERM, then {code, stdout, summary}. */
    async stop() {
      let timer;
      const kill = new Promise((_, reject) => {
        timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('evsim-platform did not stop within 20 s')); }, 20000);
      });
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const { code } = await Promise.race([exited, kill]);
      clearTimeout(timer);
      const summary = JSON.parse(await readFile(file, 'utf8'));
      if (process.env.EVGATE_TEST_LOG) console.error(`evsim-platform ${all.join(' ')}\n${stdout}${log.join('\n')}`);
      return { code, stdout, summary };
    },
  };
  if (listen) {
    let timer;
    sim.base = await Promise.race([listening, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`evsim-platform not listening after 20 s:\n${log.join('\n')}`)), 20000);
    })]);
    clearTimeout(timer);
  }
  return sim;
}

/** POSTs an envelope (or raw text) to the simulator's interface; resolves {status, body (parsed response)}. */
async function call(base, iface, body, token) {
  const headers = { 'Content-Type': 'application/json; charset=utf-8' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${base}${iface}`, {
    method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(20000),
  });
  const text = await r.text();
  return { status: r.status, body: r.status === 200 ? openResponse(JSON.parse(text)) : text };
}

/** query_token as evgate: the response checked; returns {token, ttl, response}. */
async function getToken(base, { secret = KEYS.operatorSecret, op = EVGATE_ID, check = true } = {}) {
  const r = await call(base, 'query_token', envelope({ OperatorID: op, OperatorSecret: secret }, op));
  assert.equal(r.status, 200);
  if (check) {
    assert.equal(r.body.Ret, 0, r.body.Msg);
    assert.ok(r.body.sigOk, 'query_token answer signed with SigSecret');
  }
  return { token: r.body.payload?.AccessToken, ttl: r.body.payload?.TokenAvailableTime, response: r.body };
}

/** Every page of query_stations_info with PageSize `size`: {pages, ids (in order), itemSize, pageCount}. */
async function allPages(base, token, size) {
  const pages = [];
  let pageCount = 1;
  for (let no = 1; no <= pageCount; no++) {
    const r = await call(base, 'query_stations_info', envelope({ PageNo: no, PageSize: size }), token);
    assert.equal(r.body.Ret, 0, r.body.Msg);
    assert.ok(r.body.sigOk);
    pages.push(r.body.payload);
    pageCount = r.body.payload.PageCount;
    assert.equal(r.body.payload.PageNo, no);
  }
  const ids = pages.flatMap((p) => p.StationInfos.map((s) => s.StationID));
  return { pages, ids, itemSize: pages[0].ItemSize, pageCount };
}

// ---------- a stand-in for evgate's server ----------

/** An HTTP server answering query_token (TokenAvailableTime `ttl`) and the notifications, and
 * recording every request: {iface, auth, env, sigOk, payload, decryptError, at}. It answers
 * Ret 0 even to requests it finds faulty (so a faulty simulator goes on), except where
 * `answer(rec)` returns another response envelope. */
async function startEvgate({ ttl = 3600, answer = null } = {}) {
  const requests = [];
  let tokens = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const iface = req.url.replace(/^\/evcs\/v1\//, '');
      const env = JSON.parse(body);
      const rec = { iface, auth: req.headers.authorization || null, env, at: new Date() };
      rec.sigOk = env.Sig === sign(env.OperatorID + env.Data + env.TimeStamp + env.Seq);
      try {
        rec.payload = decrypt(env.Data);
      } catch (e) {
        rec.decryptError = e;
      }
      requests.push(rec);
      let out;
      if (iface === 'query_token') {
        rec.token = `TOKEN${++tokens}`;
        out = { OperatorID: EVGATE_ID, SuccStat: 0, AccessToken: rec.token, TokenAvailableTime: ttl, FailReason: 0 };
      } else if (iface === 'notification_charge_order_info') {
        out = { StartChargeSeq: rec.payload?.StartChargeSeq ?? '', ConnectorID: rec.payload?.ConnectorID ?? '', ConfirmResult: 0 };
      } else {
        out = { Status: 0 };
      }
      const reply = (answer && answer(rec)) || responseEnvelope(0, out);
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    requests,
    url: `http://127.0.0.1:${server.address().port}/evcs/v1/`,
    of: (iface) => requests.filter((r) => r.iface === iface),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Runs the simulator as a client of a fresh stand-in until `done(evgate)` holds; returns
 * {evgate, result (of stop())}. */
async function runClient(args, done, evgateOpts = {}, ms = 30000) {
  const evgate = await startEvgate(evgateOpts);
  const sim = await startSim(['--evgate-url', evgate.url, '--stations', '2', '--piles-per-station', '1',
    '--connectors-per-pile', '2', ...args], { listen: false });
  try {
    await until(() => done(evgate), `the simulator's pushes (${args.join(' ')})`, ms);
  } finally {
    var result = await sim.stop();
    await evgate.close();
  }
  return { evgate, result };
}

// ---------- tests ----------

test('--help lists every option and every fault; bad options are refused', async () => {
  const help = await new Promise((resolve, reject) => {
    const p = spawn(SIM, ['--help']);
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.once('error', reject);
    p.once('exit', (code) => resolve({ code, out }));
  });
  assert.equal(help.code, 0);
  for (const o of OPTIONS) assert.ok(help.out.includes(o), `--help lacks ${o}`);
  for (const f of FAULTS) assert.ok(help.out.includes(f), `--help lacks ${f}`);
  const bad = (args) => new Promise((resolve) => {
    const p = spawn(SIM, args);
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.once('exit', (code) => resolve({ code, err }));
  });
  let r = await bad([...CREDS, '--listen', '127.0.0.1:0', '--faulty', 'slow']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--faulty/);
  r = await bad([...CREDS.slice(0, 4), '--data-secret', 'short', '--data-secret-iv', KEYS.iv, '--sig-secret', 'x', '--listen', '127.0.0.1:0']);
  assert.equal(r.code, 2);
  assert.match(r.err, /16 characters/);
  r = await bad(CREDS);
  assert.equal(r.code, 2, 'neither --listen nor --evgate-url');
});

test('server: evgate obtains a token, pages through every station once, reads status and stats', async () => {
  const sim = await startSim(['--stations', '5', '--piles-per-station', '2', '--connectors-per-pile', '2', '--evgate-operator-id', EVGATE_ID]);
  try {
    // query_token: success, a wrong secret (2), an unknown operator (1)
    const { token, ttl, response } = await getToken(sim.base);
    assert.match(token, /^\S{16,}$/);
    assert.equal(ttl, 7200);
    assert.deepEqual(Object.keys(response.payload).sort(), ['AccessToken', 'FailReason', 'OperatorID', 'SuccStat', 'TokenAvailableTime']);
    assert.equal(response.payload.SuccStat, 0);
    let t = await getToken(sim.base, { secret: 'not-the-secret', check: false });
    assert.equal(t.response.Ret, 0);
    assert.deepEqual([t.response.payload.SuccStat, t.response.payload.FailReason, t.response.payload.AccessToken], [1, 2, '']);
    t = await getToken(sim.base, { op: 'OTHER0001', check: false });
    assert.deepEqual([t.response.payload.SuccStat, t.response.payload.FailReason], [1, 1]);

    // every page, every station exactly once, in the IDs the prefix predicts
    const expect = [1, 2, 3, 4, 5].map((i) => `SIMS${i}`);
    const p = await allPages(sim.base, token, 2);
    assert.equal(p.pageCount, 3);
    assert.equal(p.itemSize, 5);
    assert.deepEqual([...p.ids].sort(), expect);
    assert.equal(new Set(p.ids).size, p.ids.length, 'no station twice');
    assert.deepEqual(p.pages.map((x) => x.StationInfos.length), [2, 2, 1]);
    for (const s of p.pages.flatMap((x) => x.StationInfos)) checkStationInfo(s);
    const s1 = p.pages.flatMap((x) => x.StationInfos).find((s) => s.StationID === 'SIMS1');
    assert.deepEqual(s1.EquipmentInfos.map((e) => e.EquipmentID), ['SIMS1E1', 'SIMS1E2']);
    assert.deepEqual(s1.EquipmentInfos[0].ConnectorInfos.map((c) => c.ConnectorID), ['SIMS1E1C1', 'SIMS1E1C2']);
    // one page of everything; PageNo past the last page; a LastQueryTime in the future
    const one = await allPages(sim.base, token, 1000);
    assert.deepEqual([one.pageCount, one.ids.length], [1, 5]);
    let r = await call(sim.base, 'query_stations_info', envelope({ PageNo: 4, PageSize: 2 }), token);
    assert.equal(r.body.Ret, 4004);
    assert.match(r.body.Msg, /PageNo/);
    r = await call(sim.base, 'query_stations_info', envelope({ LastQueryTime: '2099-01-01 00:00:00', PageNo: 1, PageSize: 10 }), token);
    assert.deepEqual([r.body.Ret, r.body.payload.ItemSize, r.body.payload.StationInfos.length], [0, 0, 0]);

    // status of two stations
    r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1', 'SIMS3'] }), token);
    assert.equal(r.body.Ret, 0, r.body.Msg);
    assert.ok(r.body.sigOk);
    assert.equal(r.body.payload.Total, 2);
    assert.deepEqual(r.body.payload.StationStatusInfos.map((s) => s.StationID), ['SIMS1', 'SIMS3']);
    for (const s of r.body.payload.StationStatusInfos) {
      assert.equal(s.ConnectorStatusInfos.length, 4);
      s.ConnectorStatusInfos.forEach(checkConnectorStatus);
    }
    r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1', 'NOSUCH'] }), token);
    assert.equal(r.body.Ret, 4004);
    assert.match(r.body.Msg, /NOSUCH/);
    assert.equal(r.body.Data, '');
    assert.ok(r.body.sigOk, 'error answers are signed too');

    // stats over three days: sums add up level by level, one decimal
    r = await call(sim.base, 'query_station_stats', envelope({ StationID: 'SIMS2', StartTime: '2026-01-01', EndTime: '2026-01-03' }), token);
    assert.equal(r.body.Ret, 0, r.body.Msg);
    assert.ok(r.body.sigOk);
    const st = r.body.payload.StationStats;
    assert.deepEqual([st.StationID, st.StartTime, st.EndTime], ['SIMS2', '2026-01-01', '2026-01-03']);
    assert.equal(st.EquipmentStatsInfos.length, 2);
    const tenth = (x) => Math.round(x * 10);
    let sum = 0;
    for (const e of st.EquipmentStatsInfos) {
      assert.equal(tenth(e.EquipmentElectricity), e.ConnectorStatsInfos.reduce((a, c) => a + tenth(c.ConnectorElectricity), 0));
      assert.equal(e.ConnectorStatsInfos.length, 2);
      sum += tenth(e.EquipmentElectricity);
    }
    assert.equal(tenth(st.StationElectricity), sum);
    assert.ok(st.StationElectricity > 0);
    r = await call(sim.base, 'query_station_stats', envelope({ StationID: 'SIMS2', StartTime: '2026-01-03', EndTime: '2026-01-01' }), token);
    assert.equal(r.body.Ret, 4004, 'EndTime before StartTime');

    // what evgate gets wrong: signature 4001, no / unknown token 4002, envelope 4003, key 4004
    r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1'] }, EVGATE_ID, { sigSecret: 'wrong' }), token);
    assert.equal(r.body.Ret, 4001);
    assert.ok(r.body.sigOk);
    r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1'] }));
    assert.equal(r.body.Ret, 4002);
    r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1'] }), 'NOTATOKEN');
    assert.equal(r.body.Ret, 4002);
    r = await call(sim.base, 'query_token', envelope({ OperatorID: EVGATE_ID, OperatorSecret: KEYS.operatorSecret }, EVGATE_ID, { sigSecret: 'wrong' }));
    assert.equal(r.body.Ret, 4001);
    r = await call(sim.base, 'query_station_status', '{"OperatorID":"EVGATE001"}', token);
    assert.equal(r.body.Ret, 4003);
    r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1'] }, EVGATE_ID, { key: 'ffffffffffffffff' }), token);
    assert.equal(r.body.Ret, 4004);
    r = await call(sim.base, 'query_station_status', envelope({ StationIDs: [] }), token);
    assert.equal(r.body.Ret, 4004, 'StationIDs needs one ID');
    r = await call(sim.base, 'notification_stationStatus', envelope({}), token);
    assert.equal(r.status, 404, 'an operator platform serves no notifications');
  } finally {
    var { code, summary, stdout } = await sim.stop();
  }
  assert.equal(code, 0);
  assert.match(stdout, /evsim-platform summary/);
  assert.equal(summary.tokens_issued, 1);
  assert.deepEqual(summary.served.query_token.ret, { 0: 3, 4001: 1 });
  assert.equal(summary.served.query_stations_info.ret['0'], 3 + 1 + 1);
  assert.equal(summary.served.query_stations_info.ret['4004'], 1);
  assert.deepEqual(summary.served.query_station_status.ret, { 0: 1, 4001: 1, 4002: 2, 4003: 1, 4004: 3 });
  assert.deepEqual(summary.served.query_station_stats.ret, { 0: 1, 4004: 1 });
});

test('server: stations loaded from --data are served as given', async () => {
  const dir = await tmpDir();
  const file = path.join(dir, 'stations.json');
  const station = {
    StationID: 'ZS0001', OperatorID: OP, EquipmentOwnerID: OP, StationName: '中山市东区测试站', CountryCode: 'CN',
    AreaCode: '442000', Address: '中山市东区中山四路88号', ServiceTel: '400-800-8888', StationType: 1, StationStatus: 50,
    ParkNums: 3, StationLng: 113.392614, StationLat: 22.517646, Construction: 4,
    EquipmentInfos: [{ EquipmentID: 'ZSEQ0001', EquipmentType: 2, Power: 7,
      ConnectorInfos: [{ ConnectorID: 'ZSEQ00011', ConnectorType: 3, VoltageUpperLimits: 220, VoltageLowerLimits: 220, Current: 32, Power: 7, NationalStandard: 2 }] }],
  };
  await writeFile(file, JSON.stringify({ StationInfos: [station] }));
  const sim = await startSim(['--data', file]);
  try {
    const { token } = await getToken(sim.base);
    const p = await allPages(sim.base, token, 10);
    assert.deepEqual(p.pages[0].StationInfos, [station]);
    const r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['ZS0001'] }), token);
    assert.deepEqual(r.body.payload.StationStatusInfos[0].ConnectorStatusInfos.map((c) => c.ConnectorID), ['ZSEQ00011']);
  } finally {
    await sim.stop();
  }
  // a station the data dictionary refuses is refused at the start, naming the field
  await writeFile(file, JSON.stringify({ StationInfos: [{ ...station, StationType: 7 }] }));
  const r = await new Promise((resolve) => {
    const p = spawn(SIM, [...CREDS, '--listen', '127.0.0.1:0', '--data', file]);
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.once('exit', (code) => resolve({ code, err }));
  });
  assert.equal(r.code, 2);
  assert.match(r.err, /StationType/);
});

test('client: obtains a token, pushes station info, status and orders, refreshes the token', async () => {
  // TokenAvailableTime 2: refreshed a second after each token; every third status push is
  // answered with a wrong Sig, which the simulator must notice
  let statusPushes = 0;
  const answer = (rec) => (rec.iface === 'notification_stationStatus' && ++statusPushes % 3 === 0
    ? responseEnvelope(0, { Status: 0 }, { sigSecret: 'not-evgates-secret' }) : null);
  const { evgate, result } = await runClient(['--push-info', '--status-interval-ms', '150', '--order-interval-ms', '400'],
    (e) => e.of('query_token').length >= 3 && e.of('notification_stationStatus').length >= 4 && e.of('notification_charge_order_info').length >= 2,
    { ttl: 2, answer });
  assert.equal(result.code, 0);
  // every request signed with SigSecret, decrypting with DataSecret, from the operator
  for (const r of evgate.requests) {
    assert.ok(r.sigOk, `${r.iface}: Sig`);
    assert.ok(!r.decryptError, `${r.iface}: Data`);
    assert.equal(r.env.OperatorID, OP);
    assert.match(r.env.Seq, /^\d{4}$/);
    assert.ok(Math.abs(fromTimeStamp(r.env.TimeStamp) - r.at) < 5000, `${r.iface}: TimeStamp ${r.env.TimeStamp}`);
  }
  assert.equal(evgate.requests[0].iface, 'query_token');
  assert.deepEqual(evgate.requests[0].payload, { OperatorID: OP, OperatorSecret: KEYS.operatorSecret });
  assert.equal(evgate.requests[0].auth, null);
  // each push carries the newest token issued before it
  let current = null;
  for (const r of evgate.requests) {
    if (r.iface === 'query_token') current = r.token;
    else assert.equal(r.auth, `Bearer ${current}`, `${r.iface} at ${r.at.toISOString()}`);
  }
  // a refresh before the token expired: the second query_token within 2 s of the first
  const q = evgate.of('query_token');
  assert.ok(q[1].at - q[0].at < 2000, `refreshed after ${q[1].at - q[0].at} ms`);
  // station info once per station, first
  const infos = evgate.of('notification_stationInfo');
  assert.deepEqual(infos.map((r) => r.payload.StationInfo.StationID), ['SIMS1', 'SIMS2']);
  infos.forEach((r) => checkStationInfo(r.payload.StationInfo));
  const firstStatus = evgate.requests.findIndex((r) => r.iface === 'notification_stationStatus');
  assert.ok(firstStatus > evgate.requests.indexOf(infos[1]));
  for (const r of evgate.of('notification_stationStatus')) checkConnectorStatus(r.payload.ConnectorStatusInfo);
  const orders = evgate.of('notification_charge_order_info');
  orders.forEach((r) => checkOrder(r.payload));
  assert.equal(new Set(orders.map((r) => r.payload.StartChargeSeq)).size, orders.length, 'StartChargeSeq unique');
  // the summary counts what was sent, by Ret, and the answers with a wrong Sig
  const s = result.summary.sent;
  const n = (i) => evgate.of(i).length;
  assert.equal(result.summary.tokens_obtained, n('query_token'));
  assert.equal(result.summary.refreshes, n('query_token') - 1);
  assert.equal(s.query_token.ret['0'], n('query_token'));
  assert.equal(s.notification_stationInfo.ret['0'], 2);
  assert.equal(s.notification_stationStatus.total, n('notification_stationStatus'));
  assert.equal(s.notification_stationStatus.errors.signature, Math.floor(n('notification_stationStatus') / 3));
  assert.equal(s.notification_charge_order_info.ret['0'], n('notification_charge_order_info'));
  assert.deepEqual(s.notification_charge_order_info.errors, {});
});

test('client: an answer with Ret 4002 makes it fetch a new token; other Rets are counted', async () => {
  let pushes = 0;
  const answer = (rec) => {
    if (rec.iface !== 'notification_stationStatus') return null;
    pushes++;
    if (pushes === 2) return responseEnvelope(4002, null);
    if (pushes === 3) return responseEnvelope(4004, null);
    return null;
  };
  const { evgate, result } = await runClient(['--status-interval-ms', '150', '--order-interval-ms', '0'],
    (e) => e.of('notification_stationStatus').length >= 5, { answer });
  const order = evgate.requests.map((r) => r.iface);
  const second = order.indexOf('notification_stationStatus', order.indexOf('notification_stationStatus') + 1);
  assert.equal(order[second + 1], 'query_token', `after the 4002: ${order.join(' ')}`);
  assert.equal(result.summary.sent.notification_stationStatus.ret['4002'], 1);
  assert.equal(result.summary.sent.notification_stationStatus.ret['4004'], 1);
  assert.equal(evgate.of('notification_charge_order_info').length, 0, '--order-interval-ms 0: no orders');
});

// ---------- faults, the simulator as server ----------

test('faulty server: bad-signature, wrong-key, missing-field, wrong-enum, wrong-paging, expired-token', async () => {
  const stations = ['--stations', '3', '--piles-per-station', '1', '--connectors-per-pile', '1'];
  // bad-signature: every answer's Sig fails the check, its Data still decrypts
  let sim = await startSim(['--faulty', 'bad-signature', ...stations]);
  try {
    const t = await getToken(sim.base, { check: false });
    assert.equal(t.response.Ret, 0);
    assert.equal(t.response.sigOk, false, 'bad-signature: query_token answer Sig');
    const r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1'] }), t.token);
    assert.equal(r.body.sigOk, false);
    assert.equal(r.body.payload.Total, 1);
  } finally {
    await sim.stop();
  }
  // wrong-key: Data does not decrypt with DataSecret, Sig is right
  sim = await startSim(['--faulty', 'wrong-key', ...stations]);
  try {
    const r = await call(sim.base, 'query_token', envelope({ OperatorID: EVGATE_ID, OperatorSecret: KEYS.operatorSecret }));
    assert.equal(r.body.Ret, 0);
    assert.ok(r.body.sigOk);
    assert.ok(r.body.decryptError, 'wrong-key: Data decrypts with DataSecret');
    assert.equal(decrypt(r.body.Data, '0000000000000000').SuccStat, 0, 'encrypted with another key');
  } finally {
    await sim.stop();
  }
  // missing-field and wrong-enum: in StationInfo, ConnectorStatusInfo, StationStats
  for (const mode of ['missing-field', 'wrong-enum']) {
    sim = await startSim(['--faulty', mode, ...stations]);
    try {
      const { token } = await getToken(sim.base);
      const p = await allPages(sim.base, token, 10);
      let r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1'] }), token);
      const cs = r.body.payload.StationStatusInfos[0].ConnectorStatusInfos[0];
      r = await call(sim.base, 'query_station_stats', envelope({ StationID: 'SIMS1', StartTime: '2026-01-01', EndTime: '2026-01-01' }), token);
      const stats = r.body.payload.StationStats;
      for (const s of p.pages[0].StationInfos) {
        if (mode === 'missing-field') assert.ok(!('StationName' in s), `${mode}: StationName`);
        else assert.ok(!STATION_TYPES.includes(s.StationType), `${mode}: StationType ${s.StationType}`);
      }
      if (mode === 'missing-field') {
        assert.ok(!('Status' in cs));
        assert.ok(!('StationElectricity' in stats));
      } else {
        assert.ok(!CONNECTOR_STATUSES.includes(cs.Status));
        assert.equal(typeof stats.StationElectricity, 'number');
      }
    } finally {
      await sim.stop();
    }
  }
  // wrong-paging: one page more than the items fill, and it repeats page 1
  sim = await startSim(['--faulty', 'wrong-paging', ...stations]);
  try {
    const { token } = await getToken(sim.base);
    const p = await allPages(sim.base, token, 2);
    assert.equal(p.itemSize, 3);
    assert.notEqual(p.pageCount, Math.ceil(p.itemSize / 2), 'wrong-paging: PageCount inconsistent with ItemSize');
    assert.notEqual(new Set(p.ids).size, p.ids.length, 'wrong-paging: a station comes back twice');
  } finally {
    await sim.stop();
  }
  // expired-token: a token announced for 7200 s is refused 1.5 s later
  sim = await startSim(['--faulty', 'expired-token', ...stations]);
  try {
    const { token, ttl } = await getToken(sim.base);
    assert.equal(ttl, 7200);
    let r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1'] }), token);
    const early = r.body.Ret;
    await new Promise((res) => setTimeout(res, 1500));
    r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1'] }), token);
    assert.equal(r.body.Ret, 4002, 'expired-token: the token dies long before TokenAvailableTime');
    assert.ok(early === 0 || early === 4002);
  } finally {
    await sim.stop();
  }
  // a conforming server keeps the token: the same wait, Ret 0 (the test above is about the fault)
  sim = await startSim(stations);
  try {
    const { token } = await getToken(sim.base);
    await new Promise((res) => setTimeout(res, 1500));
    const r = await call(sim.base, 'query_station_status', envelope({ StationIDs: ['SIMS1'] }), token);
    assert.equal(r.body.Ret, 0);
    const p = await allPages(sim.base, token, 2);
    assert.equal(p.pageCount, 2);
  } finally {
    await sim.stop();
  }
});

// ---------- faults, the simulator as client ----------

const FAST = ['--push-info', '--status-interval-ms', '150', '--order-interval-ms', '300'];
const pushed = (e) => e.of('notification_stationInfo').length >= 1 && e.of('notification_stationStatus').length >= 2
  && e.of('notification_charge_order_info').length >= 1;

test('faulty client: bad-signature and wrong-key', async () => {
  let { evgate } = await runClient(['--faulty', 'bad-signature', ...FAST], pushed);
  assert.ok(evgate.requests.length >= 4);
  for (const r of evgate.requests) {
    assert.equal(r.sigOk, false, `bad-signature: ${r.iface} Sig`);
    assert.ok(!r.decryptError);
  }
  ({ evgate } = await runClient(['--faulty', 'wrong-key', ...FAST], pushed));
  for (const r of evgate.requests) {
    assert.ok(r.sigOk, `wrong-key: ${r.iface} Sig`);
    assert.ok(r.decryptError, `wrong-key: ${r.iface} Data decrypts with DataSecret`);
  }
});

test('faulty client: missing-field and wrong-enum', async () => {
  let { evgate } = await runClient(['--faulty', 'missing-field', ...FAST], pushed);
  assert.deepEqual(evgate.of('query_token')[0].payload, { OperatorID: OP, OperatorSecret: KEYS.operatorSecret });
  for (const r of evgate.of('notification_stationInfo')) assert.ok(!('StationName' in r.payload.StationInfo));
  for (const r of evgate.of('notification_stationStatus')) assert.ok(!('Status' in r.payload.ConnectorStatusInfo));
  for (const r of evgate.of('notification_charge_order_info')) assert.ok(!('TotalMoney' in r.payload));
  ({ evgate } = await runClient(['--faulty', 'wrong-enum', ...FAST], pushed));
  for (const r of evgate.of('notification_stationInfo')) assert.ok(!STATION_TYPES.includes(r.payload.StationInfo.StationType));
  for (const r of evgate.of('notification_stationStatus')) assert.ok(!CONNECTOR_STATUSES.includes(r.payload.ConnectorStatusInfo.Status));
  for (const r of evgate.of('notification_charge_order_info')) assert.ok(r.payload.StopReason > 99);
});

test('faulty client: expired-token keeps its token past expiry; late-push sends old TimeStamps', async () => {
  let { evgate } = await runClient(['--faulty', 'expired-token', '--status-interval-ms', '200', '--order-interval-ms', '0'],
    (e) => e.of('notification_stationStatus').some((r) => r.at - e.of('query_token')[0].at > 2500), { ttl: 2 });
  assert.equal(evgate.of('query_token').length, 1, 'expired-token: no refresh');
  const late = evgate.of('notification_stationStatus').filter((r) => r.at - evgate.of('query_token')[0].at > 2500);
  for (const r of late) assert.equal(r.auth, 'Bearer TOKEN1');
  ({ evgate } = await runClient(['--faulty', 'late-push', '--status-interval-ms', '150', '--order-interval-ms', '0'],
    (e) => e.of('notification_stationStatus').length >= 2));
  for (const r of evgate.of('notification_stationStatus')) {
    const age = r.at - fromTimeStamp(r.env.TimeStamp);
    assert.ok(age > 10 * 60 * 1000, `late-push: TimeStamp ${r.env.TimeStamp} is ${age} ms old`);
    assert.ok(r.sigOk && !r.decryptError);
  }
  for (const r of evgate.of('query_token')) assert.ok(Math.abs(r.at - fromTimeStamp(r.env.TimeStamp)) < 5000);
});

// ---------- against the real gateway ----------

const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;
const gwSkip = !lib ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !hasSqlite ? 'the sqlite3 command-line tool is missing (apt-get install sqlite3)' : false;
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

/** An approved operator (mgmt API, as test_tcec_serve.mjs makes them) whose self detection names
 * the platform at `baseUrl`, with T/CEC credentials, one accessed station and two accessed piles
 * of two connectors each. Returns {keys (the issued set), station, piles}. */
async function gatewayOperator(env, baseUrl) {
  const tag = lib.uniq();
  const op = { username: `evsimp_${tag}`, password: 'Correct-horse-1', company: `中山市平台模拟测试有限公司${tag}`, creditCode: lib.creditCode() };
  await lib.approvedOperator(env, op);
  const s = await lib.apiSession(env.mgmt.base, op.username, op.password);
  const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
  const body = detectionBody(tag);
  body.platform.base_url = baseUrl;
  body.platform.source_ips = ['127.0.0.1'];
  const det = ok(await s.call('POST', '/detections', body), 201, 'detection');
  ok(await s.upload(`/detections/${det.id}/materials`, 'file', PDF, '申请表.pdf', 'application/pdf'), 201, 'materials');
  ok(await s.call('POST', `/detections/${det.id}/submit`, {}), 200, 'detection submit');
  ok(await admin.call('POST', `/admin/detections/${det.id}/approve`, {}), 200, 'detection approve');
  ok(await admin.call('POST', `/admin/detections/${det.id}/verdict`, { verdict: 'passed', note: '线下联调通过' }), 200, 'verdict');
  const keys = ok(await s.call('POST', `/detections/${det.id}/credentials`), 200, 'credentials');
  const { station, piles } = await accessedStation(s, admin, tag, '中山市东区平台模拟站');
  return { keys, station, piles };
}

/** The station as the platform reports it: the IDs registered in mgmt. */
function registeredStation(o) {
  const id = o.keys.operator_id;
  return {
    StationID: o.station, OperatorID: id, EquipmentOwnerID: id, StationName: '中山市东区平台模拟站', CountryCode: 'CN',
    AreaCode: '442000', Address: '中山市东区中山四路88号', ServiceTel: '400-800-8888', StationType: 1, StationStatus: 50,
    ParkNums: 12, StationLng: 113.392614, StationLat: 22.517646, Construction: 4,
    EquipmentInfos: o.piles.map((eq) => ({
      EquipmentID: eq, EquipmentType: 1, Power: 120,
      ConnectorInfos: [1, 2].map((k) => ({
        ConnectorID: `${eq}C${k}`, ConnectorType: 4, VoltageUpperLimits: 750, VoltageLowerLimits: 200, Current: 200, Power: 60, NationalStandard: 2,
      })),
    })),
  };
}

test('against the real gateway: pushes stored, queries answered; each fault refused by evgate in either direction', { skip: gwSkip }, async () => {
  const env = { tmp: await mkdtemp(path.join(tmpdir(), 'evgate-evsim-platform-gw-')), mgmt: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
  const EVGATE = 'EVGTEST01';
  let gw = null;
  let sim = null;
  const sql = (q) => {
    const r = spawnSync('sqlite3', ['-json', '-readonly', path.join(env.tmp, 'evgate.db'), q], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim() ? JSON.parse(r.stdout) : [];
  };
  const count = (q) => sql(q)[0].n;
  try {
    env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
    const simPort = await lib.freePort();
    const o = await gatewayOperator(env, `http://127.0.0.1:${simPort}/evcs/v1/`);
    const opId = o.keys.operator_id;
    const creds = ['--operator-id', opId, '--operator-secret', o.keys.operator_secret, '--data-secret', o.keys.data_secret,
      '--data-secret-iv', o.keys.data_secret_iv, '--sig-secret', o.keys.sig_secret];
    const data = path.join(env.tmp, 'stations.json');
    await writeFile(data, JSON.stringify({ StationInfos: [registeredStation(o)] }));
    // tokens of 3 s, so that the simulator refreshes and expired-token shows; a round every 2 s
    gw = await startGateway(env.tmp, { EVGATE_TCEC_OPERATOR_ID: EVGATE, EVGATE_TCEC_POLL_S: '2', EVGATE_TCEC_TOKEN_TTL_S: '3' });
    sim = await startSim(['--evgate-url', `${gw.http}/evcs/v1/`, '--evgate-operator-id', EVGATE,
      '--data', data, '--push-info', '--status-interval-ms', '300', '--order-interval-ms', '700'], { creds, port: simPort });
    const where = `operator_id = '${opId}'`;
    await until(() => count(`SELECT count(*) AS n FROM tcec_exchanges WHERE ${where} AND direction = 'in' AND interface = 'query_token' AND ret = 0`) >= 2
      && count(`SELECT count(*) AS n FROM tcec_connector_status_history`) >= 3
      && count(`SELECT count(*) AS n FROM tcec_charge_orders`) >= 1
      && count(`SELECT count(*) AS n FROM tcec_station_info`) >= 1
      && count(`SELECT count(*) AS n FROM tcec_exchanges WHERE ${where} AND direction = 'out' AND interface = 'query_station_stats'`) >= 1,
    'pushes stored and a round of evgate\'s queries', 60000, 250);
    // evgate's first round may start before the simulator listens, and one may be under way
    // when it stops: the exchanges between its first token and the stop are the ones to judge
    const first = count(`SELECT min(id) AS n FROM tcec_exchanges WHERE ${where} AND direction = 'out' AND interface = 'query_token' AND ret = 0`);
    const last = count(`SELECT max(id) AS n FROM tcec_exchanges`);
    const r = await sim.stop();
    sim = null;
    assert.equal(r.code, 0);
    // evgate accepted everything the simulator pushed, and the simulator accepted every answer
    const sent = r.summary.sent;
    for (const i of ['query_token', 'notification_stationInfo', 'notification_stationStatus', 'notification_charge_order_info']) {
      assert.deepEqual(Object.keys(sent[i].ret), ['0'], `${i}: ${JSON.stringify(sent[i])}`);
      assert.deepEqual(sent[i].errors, {}, `${i}: ${JSON.stringify(sent[i])}`);
    }
    assert.ok(r.summary.refreshes >= 1, 'the 3 s token was refreshed');
    // and the simulator served every query of evgate's round with Ret 0
    for (const i of ['query_token', 'query_stations_info', 'query_station_status', 'query_station_stats'])
      assert.deepEqual(Object.keys(r.summary.served[i]?.ret ?? {}), ['0'], `${i}: ${JSON.stringify(r.summary.served[i])}`);
    const refused = sql(`SELECT direction, interface, ret, reason FROM tcec_exchanges WHERE ${where}
      AND (direction = 'in' OR id BETWEEN ${first} AND ${last}) AND (ret IS NOT 0 OR reason IS NOT NULL)`);
    assert.deepEqual(refused, [], 'no exchange in either direction was refused');
    const st = sql(`SELECT * FROM tcec_station_info`);
    assert.equal(st.length, 1);

    // each fault of the client side gets evgate's Ret (docs/tcec.md, "Checks, in order")
    const faults = [
      ['bad-signature', 'query_token', 4001, 'signature'],
      ['wrong-key', 'query_token', 4004, 'decrypt'],
      ['missing-field', 'notification_stationStatus', 4004, 'payload'],
      ['wrong-enum', 'notification_stationStatus', 4004, 'payload'],
      ['late-push', 'notification_stationStatus', 4003, 'timestamp'],
      ['expired-token', 'notification_stationStatus', 4002, 'token'],
    ];
    for (const [mode, iface, ret, reason] of faults) {
      const before = count(`SELECT max(id) AS n FROM tcec_exchanges`) ?? 0;
      sim = await startSim(['--evgate-url', `${gw.http}/evcs/v1/`, '--data', data, '--faulty', mode,
        '--status-interval-ms', '250', '--order-interval-ms', '0', '--quiet'], { creds, listen: false });
      await until(() => count(`SELECT count(*) AS n FROM tcec_exchanges WHERE id > ${before} AND ${where} AND direction = 'in'
        AND interface = '${iface}' AND reason = '${reason}'`) >= 1, `${mode}: ${iface} refused for ${reason}`, 30000, 250);
      const f = await sim.stop();
      sim = null;
      assert.ok((f.summary.sent[iface]?.ret?.[String(ret)] ?? 0) >= 1, `${mode}: ${JSON.stringify(f.summary.sent)}`);
    }

    // each fault of the server side is what evgate's outbound client records (wrong-paging
    // passes its checks: catching it is the conformance run's job)
    const serverFaults = [
      ['bad-signature', 'signature'],
      ['wrong-key', 'decrypt'],
      ['missing-field', 'payload'],
      ['wrong-enum', 'payload'],
      ['expired-token', 'token'],
    ];
    for (const [mode, reason] of serverFaults) {
      const before = count(`SELECT max(id) AS n FROM tcec_exchanges`) ?? 0;
      sim = await startSim(['--data', data, '--evgate-operator-id', EVGATE, '--faulty', mode, '--quiet'], { creds, port: simPort });
      await until(() => count(`SELECT count(*) AS n FROM tcec_exchanges WHERE id > ${before} AND ${where} AND direction = 'out'
        AND reason = '${reason}'`) >= 1, `${mode}: evgate's call refused for ${reason}`, 30000, 250);
      await sim.stop();
      sim = null;
    }
  } finally {
    if (sim) await sim.stop().catch(() => {});
    if (gw) await gw.stop();
    await env.mgmt?.stop();
    await rm(env.tmp, { recursive: true, force: true });
  }
});

test('cleanup', async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});
