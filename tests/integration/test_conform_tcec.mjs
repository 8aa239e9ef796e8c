// Integration test of the conformance engine's plan tcec102-platform (issue 7,
// gateway/conform_tcec*.c) against simulators/evsim-platform: real evgate-mgmt and
// evgate-gateway, an operator whose approved self detection has live T/CEC credentials and an
// accessed station with two piles, and the simulator serving that station (--listen) and pushing
// to evgate (--evgate-url, started once the run is queued so that its token is one of the run's).
// Every --faulty mode fails exactly the checks docs/conformance.md's table names for it, with a
// reason naming the problem, and together they fail every check; then a conforming simulator
// passes every check and the detection ends `passed`.
//
// Run from tests/browser like the other Node tests:
//   cd tests/browser && EVGATE_BUILD=../../build-h6 node --test ../integration/test_conform_tcec.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { BUILD, SRC, lib, startGateway, detectionBody, ok } from './ocpp_lib.mjs';
import { accessedStation } from './tcec_lib.mjs';
import { planChecks, queueRun, waitRun, describe, sql as runSql } from './conform_lib.mjs';

const SIM = process.env.EVSIM_PLATFORM || path.join(BUILD, 'simulators', 'evsim-platform');
const PLAN = 'tcec102-platform';
const EVGATE = 'EVGTEST01';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;
const skip = !lib ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !hasSqlite ? 'the sqlite3 command-line tool is missing (apt-get install sqlite3)' : false;

/** docs/conformance.md's tcec102-platform table, last column: mode -> [check ids it fails]. */
function failsByMode() {
  const text = readFileSync(path.join(SRC, 'docs', 'conformance.md'), 'utf8');
  const section = text.slice(text.indexOf('### `tcec102-platform`'));
  const byMode = {};
  for (const line of section.split('\n')) {
    const m = /^\| \d+ \| `([a-z0-9.-]+)` \|.*\| ([^|]*) \|$/.exec(line);
    if (!m) continue;
    for (const [, mode] of m[2].matchAll(/`([a-z0-9-]+)`/g)) (byMode[mode] ??= []).push(m[1]);
  }
  return byMode;
}

// What the reason of a mode's own check names (the problem, not just "failed").
const REASONS = {
  'zero-ttl': ['token.evgate-obtains', /TokenAvailableTime 0/],
  'any-secret': ['token.bad-secret', /wrong OperatorSecret issued a token/],
  'wrong-paging': ['stations.paging', /page 1: PageCount 2, but ItemSize 1/],
  'missing-field': ['stations.dictionary', /StationName/],
  'wrong-enum': ['stations.dictionary', /StationType: 7/],
  'moved-station': ['stations.registered', /StationLng 113\.402614, but 113\.392614 registered/],
  'bad-signature': ['crypto.answer-signed', /Sig .*HMAC-MD5/],
  // (a wrong key gives bad padding, or now and then good padding around bytes that are no JSON)
  'wrong-key': ['crypto.answer-encrypted', /Data (does not decrypt with DataSecret|decrypts, but not to a JSON object)/],
  'wrong-secret': ['token.platform-obtains', /OperatorSecret does not match/],
  'late-push': ['push.station-status', /Ret 4003 \(timestamp\).*TimeStamp/],
  'slow-push': ['push.station-status', /^notification_stationStatus at [0-9:]{8} arrived 1[0-9]{2} s after its TimeStamp \(at most 60 s\)$/],
  'expired-token': ['token.platform-uses', /Ret 4002 \(token\).*expired/],
  'no-sig-check': ['neg.bad-signature', /Ret 0, the request was accepted; expected Ret 4001/],
  'no-token-check': ['neg.wrong-token', /Ret 0, the request was accepted; expected Ret 4002/],
  'parse-error-500': ['neg.malformed-body', /without Seq: Ret 500 .* instead of 4003/],
  'no-payload-check': ['neg.bad-payload', /StationIDs \[\]: Ret 0, the request was accepted; expected Ret 4004/],
};

const env = { tmp: null, mgmt: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
let gw = null;
let op = null; // {keys, detectionId, session, station, piles, data (the stations file), port}
const dbPath = () => path.join(env.tmp, 'evgate.db');

/** Starts evsim-platform with the operator's credentials and `args`; with --listen it resolves once
 *  listening. Returns {stop(), log}. */
async function startSim(args, listen) {
  const k = op.keys;
  const all = ['--operator-id', k.operator_id, '--operator-secret', k.operator_secret, '--data-secret', k.data_secret,
    '--data-secret-iv', k.data_secret_iv, '--sig-secret', k.sig_secret, '--data', op.data, '--quiet', ...args];
  const proc = spawn(SIM, all, { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: proc.stderr }).on('line', (line) => {
      log.push(line);
      if (/ listening on /.test(line)) resolve();
    });
    exited.then((code) => reject(new Error(`evsim-platform exited (${code}):\n${log.join('\n')}`)));
  });
  ready.catch(() => {});
  if (listen) await ready;
  return {
    log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Queues a run of the plan on the operator's detection: POST /api/v1/conformance-runs, or, where mgmt has
 *  no such route, as db_run_create does it (the detection to `testing` in the same step). */
async function queue() {
  const r = await op.session.call('POST', '/conformance-runs', { plan: PLAN, detection_id: op.detectionId });
  if (r.status !== 404 || r.body?.error?.code === 'not_found') return ok(r, 201, 'POST /conformance-runs').id;
  const id = queueRun(dbPath(), PLAN, op.keys.operator_id, { detectionId: op.detectionId, accountId: op.accountId });
  runSql(dbPath(), `UPDATE detections SET status = 'testing' WHERE id = ${Number(op.detectionId)}`);
  return id;
}

/** A passed detection back to `approved`, so that it can be run again: a test-only step (no API
 *  does it; access to piles needs a passed detection, a run an approved or failed one). */
function backToApproved(id) {
  runSql(dbPath(), `UPDATE detections SET status = 'approved', verdict = NULL, verdict_source = NULL,
    verdict_note = NULL, verdict_at = NULL, verdict_by = NULL WHERE id = ${Number(id)} AND status = 'passed'`);
}

let lastStop = 0;
/** One run against the simulator in `mode` (null: conforming); its result (conform_lib's readRun). */
async function runWith(mode, clientArgs = []) {
  const faulty = mode ? ['--faulty', mode] : [];
  const server = await startSim(['--listen', `127.0.0.1:${op.port}`, '--evgate-operator-id', EVGATE, ...faulty], true);
  let client = null;
  try {
    // the run reads what the platform sent since it was queued (in whole seconds): nothing of
    // the previous run's client may fall into that second
    while (Math.floor(Date.now() / 1000) <= Math.floor(lastStop / 1000)) await new Promise((res) => setTimeout(res, 50));
    backToApproved(op.detectionId); // after a run that passed
    const id = await queue();
    client = await startSim(['--evgate-url', `${gw.http}/evcs/v1/`, '--push-info', '--status-interval-ms', '300',
      '--order-interval-ms', '700', ...faulty, ...clientArgs], false);
    return await waitRun(dbPath(), id, 120000);
  } finally {
    await client?.stop();
    await server.stop();
    lastStop = Date.now();
  }
}

/** A new operator whose self detection (its platform at 127.0.0.1:`port`) is approved and has
 *  live T/CEC credentials: {s (its session), admin, det, keys}. */
async function approvedSelfDetection(prefix, company, port) {
  const tag = lib.uniq();
  const user = { username: `${prefix}_${tag}`, password: 'Correct-horse-1', company: `${company}${tag}`, creditCode: lib.creditCode() };
  await lib.approvedOperator(env, user);
  const s = await lib.apiSession(env.mgmt.base, user.username, user.password);
  const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
  const body = detectionBody(tag);
  body.platform.base_url = `http://127.0.0.1:${port}/evcs/v1/`;
  body.platform.source_ips = ['127.0.0.1'];
  const det = ok(await s.call('POST', '/detections', body), 201, 'detection');
  ok(await s.upload(`/detections/${det.id}/materials`, 'file', PDF, '申请表.pdf', 'application/pdf'), 201, 'materials');
  ok(await s.call('POST', `/detections/${det.id}/submit`, {}), 200, 'detection submit');
  ok(await admin.call('POST', `/admin/detections/${det.id}/approve`, {}), 200, 'detection approve');
  const keys = ok(await s.call('POST', `/detections/${det.id}/credentials`), 200, 'credentials');
  return { tag, s, admin, det, keys };
}

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-conform-tcec-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  const port = await lib.freePort();
  // an operator whose self detection names the simulator's address, with credentials, and an
  // accessed station with two piles (access needs a passed detection: it passes first)
  const { tag, s, admin, det, keys } = await approvedSelfDetection('conftcec', '中山市一致性测试有限公司', port);
  ok(await admin.call('POST', `/admin/detections/${det.id}/verdict`, { verdict: 'passed', note: '线下联调通过' }), 200, 'verdict');
  const { station, piles } = await accessedStation(s, admin, tag, '中山市东区一致性测试站');
  // a run grades an approved (or failed) detection; this one passed so that its piles could be
  // accessed, so it goes back to approved here
  backToApproved(det.id);
  const accountId = runSql(dbPath(), `SELECT account_id FROM detections WHERE id = ${Number(det.id)}`)[0].account_id;
  // the station as the platform reports it: what is registered, in the standard's names
  const data = path.join(env.tmp, 'stations.json');
  await writeFile(data, JSON.stringify({ StationInfos: [{
    StationID: station, OperatorID: keys.operator_id, EquipmentOwnerID: keys.operator_id, StationName: '中山市东区一致性测试站',
    CountryCode: 'CN', AreaCode: '442000', Address: '中山市东区中山四路88号', ServiceTel: '400-800-8888', StationType: 1,
    StationStatus: 50, ParkNums: 12, StationLng: 113.392614, StationLat: 22.517646, Construction: 4,
    EquipmentInfos: piles.map((eq) => ({
      EquipmentID: eq, EquipmentType: 1, Power: 120, ConnectorInfos: [1, 2].map((k) => ({
        ConnectorID: `${eq}C${k}`, ConnectorType: 4, VoltageUpperLimits: 750, VoltageLowerLimits: 200, Current: 200,
        Power: 60, NationalStandard: 2,
      })),
    })),
  }] }));
  op = { keys, detectionId: det.id, accountId, session: s, station, piles, data, port };
  // no background rounds of evgate's client; tokens of 3 s (the simulator renews every 1.5 s);
  // every check waits at most 5 s
  gw = await startGateway(env.tmp, {
    EVGATE_TCEC_OPERATOR_ID: EVGATE, EVGATE_TCEC_POLL_S: '0', EVGATE_TCEC_TOKEN_TTL_S: '3',
    EVGATE_CONFORM_WAIT_CAP_S: '5', EVGATE_OCPP_COMMAND_POLL_MS: '100',
  });
});

after(async () => {
  if (skip) return;
  await gw?.stop();
  await env.mgmt?.stop();
  if (env.tmp) await rm(env.tmp, { recursive: true, force: true });
});

test('each faulty mode fails exactly the checks the table names, with the reason', { skip }, async () => {
  const byMode = failsByMode();
  const ids = planChecks(PLAN).map((c) => c.id);
  const required = new Set(planChecks(PLAN).filter((c) => c.required).map((c) => c.id));
  // together the modes fail every check
  assert.deepEqual([...new Set(Object.values(byMode).flat())].sort(), [...ids].sort(), 'every check has a mode');
  assert.deepEqual(Object.keys(byMode).sort(), Object.keys(REASONS).sort(), 'a reason to look for per mode');
  for (const mode of Object.keys(byMode)) {
    // expired-token: the first order push comes after the simulator's first token (3 s) died,
    // so that the run is still on when its pushes get 4002
    const res = await runWith(mode, mode === 'expired-token' ? ['--order-interval-ms', '4000'] : []);
    const text = `--faulty ${mode}:\n${describe(res)}`;
    if (process.env.EVGATE_TEST_LOG) console.error(text);
    // a mode that fails only optional checks leaves the run passed
    assert.equal(res.run.state, byMode[mode].some((id) => required.has(id)) ? 'failed' : 'passed', text);
    const failed = res.checks.filter((c) => c.verdict === 'fail').map((c) => c.check_id);
    assert.deepEqual(failed.sort(), [...byMode[mode]].sort(), text);
    for (const c of res.checks) {
      assert.ok(['pass', 'fail', 'skipped'].includes(c.verdict), `${c.check_id}: ${c.verdict}\n${text}`);
      if (c.verdict !== 'pass') assert.ok(c.reason && !c.reason.includes('\n'), `${c.check_id} gives a one-line reason\n${text}`);
    }
    const [check, re] = REASONS[mode];
    const own = res.checks.find((c) => c.check_id === check);
    assert.equal(own.verdict, 'fail', text);
    assert.match(own.reason, re, text);
  }
});

test('a conforming platform passes every check; the detection passes', { skip }, async () => {
  const res = await runWith(null);
  const text = describe(res);
  for (const c of res.checks) assert.equal(c.verdict, 'pass', `${c.check_id}: ${c.reason}\n${text}`);
  assert.equal(res.run.state, 'passed', text);
  const det = runSql(dbPath(), `SELECT status, verdict, verdict_source FROM detections WHERE id = ${Number(op.detectionId)}`)[0];
  assert.deepEqual(det, { status: 'passed', verdict: 'passed', verdict_source: 'run' });
  // every call is recorded as frames, and no secret or token in them
  const byId = Object.fromEntries(res.checks.map((c) => [c.check_id, c]));
  const token = byId['token.evgate-obtains'].frames;
  assert.equal(token.length, 2);
  assert.match(token[0].text, /^POST http:\/\/127\.0\.0\.1:\d+\/evcs\/v1\/query_token .*"OperatorSecret":"\*\*\*"/);
  assert.match(token[1].text, /^HTTP 200 Ret 0 .*Sig correct .*"AccessToken":"\*\*\*"/);
  assert.ok(byId['stations.paging'].frames.length >= 2);
  assert.ok(byId['push.station-status'].frames.some((f) => /notification_stationStatus/.test(f.text)));
  const all = JSON.stringify(res.checks.map((c) => c.frames));
  for (const secret of [op.keys.operator_secret, op.keys.data_secret, op.keys.data_secret_iv, op.keys.sig_secret])
    assert.ok(!all.includes(secret), 'no secret in the frames');
  assert.ok(!/Bearer [0-9A-F]{16}/.test(all), 'no token in the frames');
});

test('a new platform, none of whose stations is accessed in evgate yet, passes its first run', { skip }, async () => {
  // the order of things for a real operator: the platform is detected first, its stations are
  // accessed after (access needs a passed detection), so its first run finds none registered
  const port = await lib.freePort();
  const { tag, s, det, keys } = await approvedSelfDetection('conftcecnew', '中山市新平台测试有限公司', port);
  const accountId = runSql(dbPath(), `SELECT account_id FROM detections WHERE id = ${Number(det.id)}`)[0].account_id;
  const station = `SN${tag.toUpperCase()}`;
  const piles = [1, 2].map((n) => `EN${tag.toUpperCase()}P${n}`);
  const data = path.join(env.tmp, `stations-${tag}.json`);
  await writeFile(data, JSON.stringify({ StationInfos: [{
    StationID: station, OperatorID: keys.operator_id, EquipmentOwnerID: keys.operator_id, StationName: '中山市西区新平台测试站',
    CountryCode: 'CN', AreaCode: '442000', Address: '中山市西区彩虹大道1号', ServiceTel: '400-800-8888', StationType: 1,
    StationStatus: 50, ParkNums: 8, StationLng: 113.35, StationLat: 22.52, Construction: 4,
    EquipmentInfos: piles.map((eq) => ({
      EquipmentID: eq, EquipmentType: 1, Power: 120, ConnectorInfos: [1, 2].map((k) => ({
        ConnectorID: `${eq}C${k}`, ConnectorType: 4, VoltageUpperLimits: 750, VoltageLowerLimits: 200, Current: 200,
        Power: 60, NationalStandard: 2,
      })),
    })),
  }] }));
  const saved = op;
  op = { keys, detectionId: det.id, accountId, session: s, station, piles, data, port };
  try {
    const res = await runWith(null);
    const text = describe(res);
    for (const c of res.checks) assert.equal(c.verdict, 'pass', `${c.check_id}: ${c.reason}\n${text}`);
    assert.equal(res.run.state, 'passed', text);
    const byId = Object.fromEntries(res.checks.map((c) => [c.check_id, c]));
    assert.match(byId['stations.registered'].reason, /no station of OperatorID \w+ is registered in evgate yet.*1 station/, text);
    // asked for the station the platform returned
    assert.ok(byId['status.query'].frames.some((f) => f.dir === 'out' && f.text.includes(station)), text);
    for (const id of ['push.station-status', 'push.charge-order'])
      assert.match(byId[id].reason, /refused it only because no station of the platform is accessed yet/, `${id}\n${text}`);
    const row = runSql(dbPath(), `SELECT status, verdict, verdict_source FROM detections WHERE id = ${Number(det.id)}`)[0];
    assert.deepEqual(row, { status: 'passed', verdict: 'passed', verdict_source: 'run' });
  } finally {
    op = saved;
  }
});
