// simulators/evsim-pile answers the central system's CALLs and acts on them. A central system
// here, ocpp-rpc's RPCServer in strict mode (ajv over the official OCA schemas: every CALL
// evsim-pile sends and every answer it gives is checked), drives one simulated pile of each
// version through remote start/stop, configuration, TriggerMessage, availability, Reset. At the
// end, the same against the real mgmt and gateway: a RemoteStartTransaction posted to
// `POST /api/v1/piles/{id}/commands` starts a transaction the pile's live view and the database
// show, and a RemoteStopTransaction ends it.
//
// Run from tests/browser (lib.mjs and its npm packages live there):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_evsim_commands.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { BUILD, NODE_DIR, SRC, lib, startGateway, makeAccessedPiles, until } from './ocpp_lib.mjs';

let ocppRpc = null;
try {
  ocppRpc = createRequire(path.join(NODE_DIR, 'package.json'))('ocpp-rpc');
} catch {
  ocppRpc = null;
}
const SIM = process.env.EVSIM_PILE || path.join(BUILD, 'simulators', 'evsim-pile');
const skip = !lib ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !ocppRpc ? 'ocpp-rpc missing in tests/browser/node_modules' : false;

const tmps = [];
after(async () => {
  for (const t of tmps) await rm(t, { recursive: true, force: true });
});

/** Starts evsim-pile; `stop()` sends SIGINT and resolves {code, stdout, stderr, summary}. */
async function startSim(args) {
  const tmp = await mkdtemp(path.join(tmpdir(), 'evgate-evsim-cmd-'));
  tmps.push(tmp);
  const file = path.join(tmp, 'summary.json');
  const proc = spawn(SIM, [...args, '--summary-json', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => `${stdout}\n${stderr}`,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15000);
      const code = await exited;
      clearTimeout(t);
      let summary = null;
      try {
        summary = JSON.parse(await readFile(file, 'utf8'));
      } catch {
        summary = null;
      }
      if (process.env.EVGATE_TEST_LOG) console.error(`evsim-pile ${args.join(' ')}\n${stdout}${stderr}`);
      return { code, stdout, stderr, summary };
    },
  };
}

/** What the pile sent, in order, with waiters: waitFor(pred) resolves the first entry from
 * index `from` on that matches, or rejects after `ms` naming what it saw. */
function recorder() {
  const seen = [];
  const waiters = new Set();
  return {
    seen,
    push(x) {
      seen.push(x);
      for (const w of [...waiters]) w();
    },
    waitFor(pred, what, from = 0, ms = 15000) {
      return new Promise((resolve, reject) => {
        let t = null;
        const check = () => {
          for (let i = from; i < seen.length; i += 1) {
            if (pred(seen[i])) {
              clearTimeout(t);
              waiters.delete(check);
              resolve(seen[i]);
              return true;
            }
          }
          return false;
        };
        if (check()) return;
        t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; the pile sent: ${seen.slice(from).map((x) => x.method).join(' ')}`));
        }, ms);
        waiters.add(check);
      });
    },
  };
}

/** A strict ocpp-rpc central system on a free port: every pile connection is `clients[n]`,
 * every CALL the pile sends goes into `rec` as {conn, method, params}. `hold` (a promise or
 * null) delays the answer to the pile's Heartbeat. */
async function startCs(version, transactionId = 77) {
  const server = new ocppRpc.RPCServer({ protocols: [version], strictMode: true });
  const cs = { server, rec: recorder(), clients: [], failures: [], hold: null, connected: recorder() };
  server.auth((accept, reject, handshake) => {
    if (handshake.password?.toString() === 'sim-secret') accept({});
    else reject(401);
  });
  server.on('client', (client) => {
    const conn = cs.clients.length;
    cs.clients.push(client);
    client.on('strictValidationFailure', (e) => cs.failures.push(`${e.method} ${e.isCall ? 'call' : 'result'} ${e.outbound ? 'out' : 'in'}: ${e.error.message}`));
    client.handle(async ({ method, params }) => {
      cs.rec.push({ conn, method, params });
      const now = new Date().toISOString();
      const v16 = version === 'ocpp1.6';
      switch (method) {
        case 'BootNotification': return { status: 'Accepted', interval: 300, currentTime: now };
        case 'Heartbeat':
          if (cs.hold) await cs.hold;
          return { currentTime: now };
        case 'Authorize': return v16 ? { idTagInfo: { status: 'Accepted' } } : { idTokenInfo: { status: 'Accepted' } };
        case 'StartTransaction': return { idTagInfo: { status: 'Accepted' }, transactionId };
        case 'TransactionEvent': return params.eventType === 'Ended' ? {} : { idTokenInfo: { status: 'Accepted' } };
        default: return {};
      }
    });
    cs.connected.push({ conn, method: 'connect' });
  });
  cs.port = await lib.freePort();
  await server.listen(cs.port, '127.0.0.1');
  return cs;
}

/** Calls `method` on the pile's current connection; resolves {result} or {error: code}. */
async function call(cs, method, params) {
  try {
    return { result: await cs.clients.at(-1).call(method, params) };
  } catch (e) {
    return { error: e.rpcErrorCode || e.message };
  }
}

const simArgs = (cs, version, id) => ['--url', `ws://127.0.0.1:${cs.port}/cs`, '--ids', id, '--password', 'sim-secret',
  '--protocol', version, '--scenario', 'idle', '--connectors', '2', '--meter-interval', '5', '--heartbeat-override', '300'];

/** The summary's checks every run passes: nothing invalid either way, every CS CALL counted. */
function cleanRun(cs, r, calls) {
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(cs.failures, [], 'ocpp-rpc strict mode found nothing invalid');
  const s = r.summary;
  assert.ok(s, r.stdout);
  assert.equal(s.invalid_sent, 0, 'evsim-pile validated its own answers');
  assert.equal(s.invalid_answers, 0);
  assert.equal(s.unmatched_answers, 0);
  assert.equal(s.received_bad_frames, 0);
  // the CS's CALLs by action, as the test sent them
  const want = {};
  for (const [m, ok] of calls) {
    want[m] ??= { received: 0, result: 0, callerror: 0 };
    want[m].received += 1;
    want[m][ok ? 'result' : 'callerror'] += 1;
  }
  assert.deepEqual(s.cs_calls_by_action, want);
  assert.equal(s.cs_calls, calls.length);
  assert.equal(s.cs_calls_answered, calls.filter(([, ok]) => ok).length);
  assert.match(r.stdout, /received CALL +received +result +callerror/);
}

test('--help says what the pile answers', async () => {
  const out = await new Promise((resolve) => {
    const p = spawn(SIM, ['--help'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d) => { text += d; });
    p.once('exit', () => resolve(text));
  });
  for (const w of ['RemoteStartTransaction', 'RequestStart/StopTransaction', 'GetConfiguration', 'GetVariables', 'TriggerMessage', 'Reset']) {
    assert.ok(out.includes(w), `--help names ${w}`);
  }
});

test('ocpp1.6: the pile answers every CS CALL and acts on remote start/stop, configuration, triggers, availability, reset', { skip }, async () => {
  const version = 'ocpp1.6';
  const cs = await startCs(version, 77);
  const sim = await startSim(simArgs(cs, version, 'SIMCMD16'));
  const calls = []; // [action, answered with a CALLRESULT]
  const c = async (method, params) => {
    const r = await call(cs, method, params);
    calls.push([method, !('error' in r)]);
    return r;
  };
  try {
    const { rec } = cs;
    await rec.waitFor((x) => x.method === 'StatusNotification' && x.params.connectorId === 2, 'the statuses after the boot');

    // configuration
    let r = await c('GetConfiguration', {});
    const keys = Object.fromEntries(r.result.configurationKey.map((k) => [k.key, k]));
    for (const k of ['HeartbeatInterval', 'MeterValueSampleInterval', 'NumberOfConnectors']) assert.ok(keys[k], `${k}: ${JSON.stringify(r.result)}`);
    assert.equal(keys.NumberOfConnectors.value, '2');
    assert.equal(keys.NumberOfConnectors.readonly, true);
    assert.equal(keys.HeartbeatInterval.value, '300');
    assert.equal(keys.HeartbeatInterval.readonly, false);
    assert.equal(keys.MeterValueSampleInterval.value, '5');
    r = await c('GetConfiguration', { key: ['MeterValueSampleInterval', 'NoSuchKey'] });
    assert.deepEqual(r.result.configurationKey.map((k) => k.key), ['MeterValueSampleInterval']);
    assert.deepEqual(r.result.unknownKey, ['NoSuchKey']);
    assert.equal((await c('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '1' })).result.status, 'Accepted');
    assert.equal((await c('ChangeConfiguration', { key: 'HeartbeatInterval', value: 'soon' })).result.status, 'Rejected');
    assert.equal((await c('ChangeConfiguration', { key: 'NumberOfConnectors', value: '4' })).result.status, 'Rejected');
    assert.equal((await c('ChangeConfiguration', { key: 'NoSuchKey', value: '1' })).result.status, 'NotSupported');
    r = await c('GetConfiguration', { key: ['MeterValueSampleInterval'] });
    assert.equal(r.result.configurationKey[0].value, '1', 'ChangeConfiguration applied');

    // TriggerMessage: the answer, then the message
    let mark = rec.seen.length;
    assert.equal((await c('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 2 })).result.status, 'Accepted');
    const st = await rec.waitFor((x) => x.method === 'StatusNotification', 'the triggered StatusNotification', mark);
    assert.equal(st.params.connectorId, 2);
    assert.equal(st.params.status, 'Available');
    mark = rec.seen.length;
    assert.equal((await c('TriggerMessage', { requestedMessage: 'MeterValues' })).result.status, 'Accepted');
    await rec.waitFor((x) => x.method === 'MeterValues', 'the triggered MeterValues', mark);
    assert.equal((await c('TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' })).result.status, 'NotImplemented');

    // a CALL of the CS while the pile's own CALL (a Heartbeat held unanswered) is outstanding
    let release;
    cs.hold = new Promise((res) => { release = res; });
    mark = rec.seen.length;
    assert.equal((await c('TriggerMessage', { requestedMessage: 'Heartbeat' })).result.status, 'Accepted');
    await rec.waitFor((x) => x.method === 'Heartbeat', 'the triggered Heartbeat', mark);
    assert.equal((await c('ClearCache', {})).result.status, 'Accepted', 'answered while its Heartbeat waits');
    cs.hold = null;
    release();

    // remote start on connector 2: Preparing, StartTransaction with the idTag, Charging, meter values
    mark = rec.seen.length;
    assert.equal((await c('RemoteStartTransaction', { connectorId: 2, idTag: 'REMOTE-16' })).result.status, 'Accepted');
    const start = await rec.waitFor((x) => x.method === 'StartTransaction', 'StartTransaction', mark);
    assert.equal(start.params.idTag, 'REMOTE-16');
    assert.equal(start.params.connectorId, 2);
    const statuses = () => rec.seen.slice(mark).filter((x) => x.method === 'StatusNotification' && x.params.connectorId === 2).map((x) => x.params.status);
    await rec.waitFor((x) => x.method === 'StatusNotification' && x.params.status === 'Charging', 'Charging', mark);
    assert.deepEqual(statuses(), ['Preparing', 'Charging']);
    assert.ok(rec.seen.indexOf(start) > rec.seen.findIndex((x, i) => i >= mark && x.params.status === 'Preparing'), 'Preparing before StartTransaction');
    const m1 = await rec.waitFor((x) => x.method === 'MeterValues' && x.params.transactionId === 77, 'a MeterValues of transaction 77', mark);
    await rec.waitFor((x) => x.method === 'MeterValues' && x.params.transactionId === 77 && x !== m1, 'a second MeterValues', mark);
    const energy = rec.seen.slice(mark).filter((x) => x.method === 'MeterValues').map((x) => Number(x.params.meterValue[0].sampledValue[0].value));
    assert.ok(energy[1] > energy[0], `energy rises: ${energy}`);
    assert.equal((await c('RemoteStartTransaction', { idTag: 'REMOTE-X' })).result.status, 'Rejected', 'one transaction at a time');

    // availability while charging is Scheduled; unknown stop ids are Rejected
    assert.equal((await c('ChangeAvailability', { connectorId: 2, type: 'Inoperative' })).result.status, 'Scheduled');
    assert.equal((await c('RemoteStopTransaction', { transactionId: 999 })).result.status, 'Rejected');
    mark = rec.seen.length;
    assert.equal((await c('RemoteStopTransaction', { transactionId: 77 })).result.status, 'Accepted');
    const stop = await rec.waitFor((x) => x.method === 'StopTransaction', 'StopTransaction', mark);
    assert.equal(stop.params.transactionId, 77);
    assert.equal(stop.params.reason, 'Remote');
    assert.equal(stop.params.idTag, 'REMOTE-16');
    await rec.waitFor((x) => x.method === 'StatusNotification' && x.params.connectorId === 2 && x.params.status === 'Unavailable', 'connector 2 Unavailable once the transaction ended', mark);
    mark = rec.seen.length;
    assert.equal((await c('ChangeAvailability', { connectorId: 2, type: 'Operative' })).result.status, 'Accepted');
    await rec.waitFor((x) => x.method === 'StatusNotification' && x.params.connectorId === 2 && x.params.status === 'Available', 'connector 2 Available', mark);

    assert.equal((await c('UnlockConnector', { connectorId: 1 })).result.status, 'Unlocked');
    assert.equal((await c('UnlockConnector', { connectorId: 9 })).result.status, 'NotSupported');
    assert.equal((await c('DataTransfer', { vendorId: 'evgate', messageId: 'ping' })).result.status, 'UnknownVendorId');
    assert.equal((await c('ClearChargingProfile', {})).error, 'NotSupported', 'a known action it does not simulate');

    // Reset: Accepted, the connection goes, a new one boots (without --reconnect)
    assert.equal((await c('Reset', { type: 'Soft' })).result.status, 'Accepted');
    await cs.connected.waitFor((x) => x.conn === 1, 'a second connection after Reset');
    await rec.waitFor((x) => x.conn === 1 && x.method === 'BootNotification', 'BootNotification after Reset');
    await rec.waitFor((x) => x.conn === 1 && x.method === 'StatusNotification' && x.params.connectorId === 2, 'the statuses after the reboot');
    assert.equal((await c('GetConfiguration', { key: ['MeterValueSampleInterval'] })).result.configurationKey[0].value, '1', 'the configuration survives the reboot');

    const res = await sim.stop();
    cleanRun(cs, res, calls);
    assert.equal(res.summary.connected, 1);
    assert.ok(res.summary.reconnects >= 1);
    assert.equal(res.summary.calls.StartTransaction.sent, 1);
  } finally {
    await sim.stop();
    await cs.server.close({ force: true });
  }
});

test('ocpp2.0.1: RequestStart/StopTransaction, Get/SetVariables, TriggerMessage, availability, Reset OnIdle', { skip }, async () => {
  const version = 'ocpp2.0.1';
  const cs = await startCs(version);
  const sim = await startSim(simArgs(cs, version, 'SIMCMD201'));
  const calls = [];
  const c = async (method, params) => {
    const r = await call(cs, method, params);
    calls.push([method, !('error' in r)]);
    return r;
  };
  try {
    const { rec } = cs;
    await rec.waitFor((x) => x.method === 'StatusNotification' && x.params.evseId === 2, 'the statuses after the boot');

    const v = (component, variable, extra = {}) => ({ component: { name: component }, variable: { name: variable }, ...extra });
    let r = await c('GetVariables', { getVariableData: [v('OCPPCommCtrlr', 'HeartbeatInterval'), v('SampledDataCtrlr', 'TxUpdatedInterval'),
      v('OCPPCommCtrlr', 'NoSuchVariable'), v('NoSuchCtrlr', 'X'), v('OCPPCommCtrlr', 'HeartbeatInterval', { attributeType: 'Target' })] });
    const g = r.result.getVariableResult;
    assert.deepEqual(g.map((x) => x.attributeStatus), ['Accepted', 'Accepted', 'UnknownVariable', 'UnknownComponent', 'NotSupportedAttributeType']);
    assert.equal(g[0].attributeValue, '300');
    assert.equal(g[1].attributeValue, '5');
    assert.deepEqual(g[3].component, { name: 'NoSuchCtrlr' });
    r = await c('SetVariables', { setVariableData: [v('SampledDataCtrlr', 'TxUpdatedInterval', { attributeValue: '1' }),
      v('SecurityCtrlr', 'Identity', { attributeValue: 'x' }), v('OCPPCommCtrlr', 'HeartbeatInterval', { attributeValue: '-3' })] });
    assert.deepEqual(r.result.setVariableResult.map((x) => x.attributeStatus), ['Accepted', 'Rejected', 'Rejected']);

    // remote start: TransactionEvent Started with the remoteStartId and the idToken, then Updated
    let mark = rec.seen.length;
    r = await c('RequestStartTransaction', { evseId: 1, remoteStartId: 4711, idToken: { idToken: 'REMOTE-201', type: 'Central' } });
    assert.equal(r.result.status, 'Accepted');
    const started = await rec.waitFor((x) => x.method === 'TransactionEvent' && x.params.eventType === 'Started', 'TransactionEvent Started', mark);
    assert.equal(started.params.transactionInfo.remoteStartId, 4711);
    assert.equal(started.params.triggerReason, 'RemoteStart');
    assert.deepEqual(started.params.idToken, { idToken: 'REMOTE-201', type: 'Central' });
    assert.equal(started.params.evse.id, 1);
    const txId = started.params.transactionInfo.transactionId;
    const u1 = await rec.waitFor((x) => x.method === 'TransactionEvent' && x.params.eventType === 'Updated', 'Updated', mark);
    await rec.waitFor((x) => x.method === 'TransactionEvent' && x.params.eventType === 'Updated' && x !== u1, 'a second Updated', mark);
    assert.ok(rec.seen.slice(mark).filter((x) => x.method === 'TransactionEvent').every((x) => x.params.transactionInfo.transactionId === txId));
    assert.equal((await c('RequestStartTransaction', { remoteStartId: 1, idToken: { idToken: 'X', type: 'Central' } })).result.status, 'Rejected');

    mark = rec.seen.length;
    assert.equal((await c('TriggerMessage', { requestedMessage: 'StatusNotification', evse: { id: 1 } })).result.status, 'Accepted');
    const st = await rec.waitFor((x) => x.method === 'StatusNotification', 'the triggered StatusNotification', mark);
    assert.equal(st.params.evseId, 1);
    assert.equal(st.params.connectorStatus, 'Occupied');
    assert.equal((await c('TriggerMessage', { requestedMessage: 'BootNotification' })).result.status, 'Rejected', 'already accepted');
    assert.equal((await c('TriggerMessage', { requestedMessage: 'LogStatusNotification' })).result.status, 'NotImplemented');
    assert.equal((await c('UnlockConnector', { evseId: 1, connectorId: 1 })).result.status, 'Unlocked');
    assert.equal((await c('UnlockConnector', { evseId: 3, connectorId: 1 })).result.status, 'UnknownConnector');

    // Reset OnIdle while charging: Scheduled; the pile reboots once the transaction ends
    assert.equal((await c('Reset', { type: 'OnIdle' })).result.status, 'Scheduled');
    assert.equal((await c('RequestStopTransaction', { transactionId: 'no-such-tx' })).result.status, 'Rejected');
    mark = rec.seen.length;
    assert.equal((await c('RequestStopTransaction', { transactionId: txId })).result.status, 'Accepted');
    const ended = await rec.waitFor((x) => x.method === 'TransactionEvent' && x.params.eventType === 'Ended', 'TransactionEvent Ended', mark);
    assert.equal(ended.params.transactionInfo.stoppedReason, 'Remote');
    assert.equal(ended.params.triggerReason, 'RemoteStop');
    await cs.connected.waitFor((x) => x.conn === 1, 'a second connection after the scheduled Reset');
    const boot = await rec.waitFor((x) => x.conn === 1 && x.method === 'BootNotification', 'BootNotification after Reset');
    assert.equal(boot.params.reason, 'RemoteReset');
    assert.equal(rec.seen.find((x) => x.method === 'BootNotification').params.reason, 'PowerUp');
    await rec.waitFor((x) => x.conn === 1 && x.method === 'StatusNotification' && x.params.evseId === 2, 'the statuses after the reboot');

    mark = rec.seen.length;
    assert.equal((await c('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 2 } })).result.status, 'Accepted');
    const un = await rec.waitFor((x) => x.method === 'StatusNotification' && x.params.evseId === 2, 'EVSE 2 status', mark);
    assert.equal(un.params.connectorStatus, 'Unavailable');
    assert.equal((await c('RequestStartTransaction', { evseId: 2, remoteStartId: 2, idToken: { idToken: 'X', type: 'Central' } })).result.status, 'Rejected', 'EVSE 2 is Inoperative');
    assert.equal((await c('ClearCache', {})).result.status, 'Accepted');
    assert.equal((await c('DataTransfer', { vendorId: 'evgate' })).result.status, 'UnknownVendorId');
    assert.equal((await c('UnlockConnector', { evseId: 1, connectorId: 1 })).result.status, 'Unlocked');
    assert.equal((await c('GetTransactionStatus', {})).error, 'NotSupported');

    const res = await sim.stop();
    cleanRun(cs, res, calls);
    assert.equal(res.summary.calls['TransactionEvent.Started'].sent, 1);
  } finally {
    await sim.stop();
    await cs.server.close({ force: true });
  }
});

// ---------- the whole chain: mgmt's command API, the gateway, evsim-pile ----------

const chainReady = existsSync(path.join(SRC, 'mgmt', 'api_commands.c')) && existsSync(path.join(SRC, 'gateway', 'commands.c'));
let sqlite3 = true;
try {
  execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
} catch {
  sqlite3 = false;
}
const chainSkip = !lib ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !chainReady ? 'remote operations not in this tree yet (mgmt/api_commands.c, gateway/commands.c)'
    : !sqlite3 ? 'the sqlite3 CLI is missing' : false;

function sql(db, query) {
  return JSON.parse(execFileSync('sqlite3', ['-json', db, query], { encoding: 'utf8' }) || '[]');
}

for (const version of ['ocpp1.6', 'ocpp2.0.1']) {
  test(`${version} end to end: the operator's remote start through mgmt and the gateway starts a transaction on evsim-pile, the remote stop ends it`, { skip: chainSkip }, async () => {
    const env = { adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
    env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-remote-'));
    tmps.push(env.tmp);
    const db = path.join(env.tmp, 'evgate.db');
    let sim = null;
    try {
      env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
      env.gw = await startGateway(env.tmp);
      const made = await makeAccessedPiles(env, { a: version });
      const p = made.piles.a;
      const s = made.session;
      sim = await startSim(['--url', `${env.gw.ws}/ocpp`, '--ids', p.id, '--password', p.password, '--protocol', version,
        '--scenario', 'idle', '--meter-interval', '1', '--reconnect']);
      // online: the gateway's pile table knows the pile (it reloads every few seconds)
      await until(async () => (await s.call('GET', `/piles/${p.id}/live`)).body?.online, `${p.id} online`, 30000, 200);
      const v16 = version === 'ocpp1.6';
      const tag = `RS${randomBytes(4).toString('hex').toUpperCase()}`;
      const startCall = v16 ? { action: 'RemoteStartTransaction', payload: { connectorId: 1, idTag: tag } }
        : { action: 'RequestStartTransaction', payload: { evseId: 1, remoteStartId: 42, idToken: { idToken: tag, type: 'Central' } } };
      let r = await s.call('POST', `/piles/${p.id}/commands`, startCall);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.state, 'answered', JSON.stringify(r.body));
      assert.equal(r.body.response.status, 'Accepted');
      const live = await until(async () => {
        const l = (await s.call('GET', `/piles/${p.id}/live`)).body;
        return l?.open_transaction ? l : null;
      }, 'open_transaction in the live view', 20000, 200);
      const open = live.open_transaction;
      assert.equal(open.id_tag, tag, JSON.stringify(open));
      assert.equal(open.connector_id, 1);
      const rows = sql(db, `SELECT id, id_tag, stopped_at FROM ocpp_transactions WHERE equipment_id = '${p.id}'`);
      assert.deepEqual(rows, [{ id: open.transaction_id, id_tag: tag, stopped_at: null }]);

      // 1.6: the id the gateway gave in StartTransaction's answer; 2.0.1: the pile's own
      const txId = v16 ? open.transaction_id : open.transaction_ref;
      const stopCall = v16 ? { action: 'RemoteStopTransaction', payload: { transactionId: txId } }
        : { action: 'RequestStopTransaction', payload: { transactionId: txId } };
      r = await s.call('POST', `/piles/${p.id}/commands`, stopCall);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.state, 'answered', JSON.stringify(r.body));
      assert.equal(r.body.response.status, 'Accepted');
      await until(async () => !(await s.call('GET', `/piles/${p.id}/live`)).body?.open_transaction, 'the transaction closed', 20000, 200);
      const [row] = sql(db, `SELECT stopped_at, stop_reason FROM ocpp_transactions WHERE id = ${open.transaction_id}`);
      assert.ok(row.stopped_at > 0, JSON.stringify(row));
      assert.equal(row.stop_reason, 'Remote');
      const res = await sim.stop();
      sim = null;
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.summary.invalid_sent, 0);
      assert.equal(res.summary.cs_calls_by_action[startCall.action].result, 1);
      assert.equal(res.summary.cs_calls_by_action[stopCall.action].result, 1);
    } finally {
      await sim?.stop();
      await env.gw?.stop();
      await env.mgmt?.stop();
    }
  });
}
