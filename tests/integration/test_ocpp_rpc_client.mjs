// Integration test of the gateway against a client no one here wrote (issue 5): npm's ocpp-rpc
// RPCClient in strict mode (it validates what it sends and every answer it gets against the
// official OCA JSON schemas and rejects what does not conform) as a 1.6J and as a 2.0.1 charge
// point with HTTP Basic auth (a wrong password gets 401). Each runs the whole CP->CS repertoire
// (boot, heartbeat, status, authorize, a charging session with meter values, data transfer and
// the notifications); every call must resolve, with no strict-mode failure, and the data must
// land (mgmt's live view and the database through the sqlite3 CLI). Then, with strict mode off
// and through its raw sender, the same client sends violations and must get each version's
// mandated CALLERROR code (protocol/ocpp_frame.c's table), as ocpp-rpc surfaces it (an RPCError
// subclass with rpcErrorCode).
//
// Run from tests/browser (its node_modules has ocpp-rpc and ws):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_ocpp_rpc_client.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  lib, WebSocket, rpc, hasSqlite, connectRpc, startGateway, makeAccessedPiles, ok, until, stopDaemons,
} from './ocpp_lib.mjs';

const skip = !(rpc && WebSocket && lib) ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !hasSqlite ? 'the sqlite3 command-line tool is missing (apt-get install sqlite3)' : false;

const HEARTBEAT_S = 93; // EVGATE_OCPP_HEARTBEAT_S: BootNotification's interval
const ISO_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const env = { tmp: null, mgmt: null, gw: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
let piles = {}; // name -> {id, password, protocol}
let opSession; // the piles' operator, logged in to mgmt

const iso = () => new Date().toISOString();

/** Rows of `sql` (with ? bound to `params`, as text) from the test database, read-only. */
function query(sql, ...params) {
  let i = 0;
  const bound = sql.replace(/\?/g, () => `'${String(params[i++]).replace(/'/g, "''")}'`);
  const r = spawnSync('sqlite3', ['-readonly', '-json', path.join(env.tmp, 'evgate.db'), bound], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

/** An ocpp-rpc client of pile `p`, connected (retried while the gateway's pile table has not
 * loaded the pile yet: 404). Records every strict-mode failure, bad message and inbound frame. */
async function rpcClient(p, { strictMode = true } = {}) {
  const seen = { strictFailures: [], badMessages: [], inbound: [] };
  const client = await connectRpc({
    endpoint: `${env.gw.ws}/ocpp`,
    identity: p.id,
    password: p.password,
    protocols: [p.protocol],
    strictMode,
    reconnect: false,
    callTimeoutMs: 10000,
  });
  assert.equal(client.protocol, p.protocol);
  client.on('strictValidationFailure', (e) => seen.strictFailures.push(e));
  client.on('badMessage', (e) => seen.badMessages.push(e));
  client.on('message', ({ message, outbound }) => {
    if (!outbound) seen.inbound.push(JSON.parse(message.toString()));
  });
  return { client, seen };
}

/** Strict mode is really on for the negotiated protocol: an invalid outbound call is refused by
 * ocpp-rpc itself, before anything is sent. */
async function assertStrict(client, seen, action, bad, code) {
  const sent = seen.inbound.length;
  await assert.rejects(client.call(action, bad), (err) => err instanceof rpc.RPCError && err.rpcErrorCode === code);
  assert.equal(seen.strictFailures.length, 1);
  assert.equal(seen.strictFailures[0].outbound, true);
  seen.strictFailures.length = 0;
  assert.equal(seen.inbound.length, sent, 'nothing was sent, so nothing answered');
}

/** The gateway's answer to a raw frame carrying `id`, as ocpp-rpc surfaces it: with no call of
 * its own pending for the id, it reports the CALLERROR as a 'badMessage' whose error details
 * carry the code; that code becomes ocpp-rpc's own RPCError subclass. */
async function rawAnswer(c, text, id) {
  const from = c.seen.badMessages.length;
  c.client.sendRaw(text);
  const bad = await until(() => c.seen.badMessages.slice(from).find((b) => b.error.details?.msgId === id), `the answer to ${text}`, 10000, 20);
  const frame = JSON.parse(bad.buffer.toString());
  assert.equal(frame[0], 4, JSON.stringify(frame));
  assert.equal(frame.length, 5, JSON.stringify(frame));
  const d = bad.error.details;
  return rpc.createRPCError(d.errorCode, d.errorDescription, d.errorDetails);
}

/** `promise` rejects with ocpp-rpc's error class `Cls` for `code`, with details.path `where`. */
async function rejectsWith(promise, Cls, code, where, what) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof rpc.RPCError, `${what}: not an RPCError: ${err}`);
    assert.ok(err instanceof Cls, `${what}: ${err.constructor.name} (${err.rpcErrorCode}), want ${Cls.name}`);
    assert.equal(err.rpcErrorCode, code, what);
    if (where !== undefined) assert.equal(err.details?.path, where, `${what}: ${JSON.stringify(err.details)}`);
    return true;
  });
}

function isError(err, Cls, code, what) {
  assert.ok(err instanceof Cls, `${what}: ${err.constructor.name} (${err.rpcErrorCode}), want ${Cls.name}`);
  assert.equal(err.rpcErrorCode, code, what);
}

async function liveOf(id) {
  return ok(await opSession.call('GET', `/piles/${id}/live`), 200, `live ${id}`);
}

// ---------- the suite ----------

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-ocpp-rpc-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  env.gw = await startGateway(env.tmp, { EVGATE_OCPP_HEARTBEAT_S: String(HEARTBEAT_S) });
  const made = await makeAccessedPiles(env, { a: 'ocpp1.6', b: 'ocpp2.0.1' });
  piles = made.piles;
  opSession = made.session;
});

after(() => stopDaemons(env));

test('ocpp-rpc\'s Basic auth: a wrong password is refused with 401', { skip }, async () => {
  await rpcClient(piles.a).then(({ client }) => client.close({ code: 1000 })); // the pile is loaded
  const client = new rpc.RPCClient({
    endpoint: `${env.gw.ws}/ocpp`, identity: piles.a.id, password: 'f'.repeat(32), protocols: ['ocpp1.6'], strictMode: true, reconnect: false,
  });
  await assert.rejects(client.connect(), (err) => err instanceof rpc.UnexpectedHttpResponse && err.code === 401);
});

test('1.6J: ocpp-rpc in strict mode runs a whole session; every answer conforms; the data lands', { skip }, async () => {
  const p = piles.a;
  const { client, seen } = await rpcClient(p);
  await assertStrict(client, seen, 'BootNotification', { chargePointVendor: 'V' }, 'OccurenceConstraintViolation');

  const boot = await client.call('BootNotification', {
    chargePointVendor: 'Kempower', chargePointModel: 'S-Series', chargePointSerialNumber: 'KP-16-001', firmwareVersion: '4.2.0',
  });
  assert.equal(boot.status, 'Accepted');
  assert.equal(boot.interval, HEARTBEAT_S);
  assert.match(boot.currentTime, ISO_RE);
  assert.ok(Math.abs(Date.parse(boot.currentTime) - Date.now()) < 5000, boot.currentTime);
  const hb = await client.call('Heartbeat', {});
  assert.match(hb.currentTime, ISO_RE);

  assert.deepEqual(await client.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available', timestamp: iso() }), {});
  assert.deepEqual(await client.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available', timestamp: iso() }), {});
  assert.deepEqual(await client.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: iso() }), {});
  assert.deepEqual(await client.call('Authorize', { idTag: 'RPC-TAG-16' }), { idTagInfo: { status: 'Accepted' } });

  const start = await client.call('StartTransaction', { connectorId: 1, idTag: 'RPC-TAG-16', meterStart: 150, timestamp: iso() });
  assert.equal(start.idTagInfo.status, 'Accepted');
  assert.ok(Number.isInteger(start.transactionId) && start.transactionId > 0, JSON.stringify(start));
  const txId = start.transactionId;
  assert.deepEqual(await client.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: iso() }), {});
  for (const wh of ['2150', '4150']) {
    assert.deepEqual(await client.call('MeterValues', {
      connectorId: 1,
      transactionId: txId,
      meterValue: [{
        timestamp: iso(),
        sampledValue: [
          { value: wh, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh', location: 'Outlet' },
          { value: '32.1', context: 'Sample.Periodic', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
        ],
      }],
    }), {});
  }
  assert.deepEqual(await client.call('StopTransaction', {
    transactionId: txId, idTag: 'RPC-TAG-16', meterStop: 6150, timestamp: iso(), reason: 'Local',
    transactionData: [{ timestamp: iso(), sampledValue: [{ value: '6150', context: 'Transaction.End', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
  }), { idTagInfo: { status: 'Accepted' } });
  assert.deepEqual(await client.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Finishing', timestamp: iso() }), {});

  assert.deepEqual(await client.call('DataTransfer', { vendorId: 'com.kempower', messageId: 'hello', data: '{}' }), { status: 'UnknownVendorId' });
  assert.deepEqual(await client.call('FirmwareStatusNotification', { status: 'Downloaded' }), {});
  assert.deepEqual(await client.call('DiagnosticsStatusNotification', { status: 'Idle' }), {});

  // strict mode checked every answer against the OCA schema: none failed, none was unreadable
  assert.deepEqual(seen.strictFailures, [], 'strict-mode failures');
  assert.deepEqual(seen.badMessages.map((b) => b.buffer.toString()), [], 'frames ocpp-rpc could not take');
  assert.equal(seen.inbound.filter((m) => m[0] === 3).length, 15, 'each of the 15 calls got its CALLRESULT');
  assert.deepEqual(seen.inbound.filter((m) => m[0] === 4), [], 'no CALLERROR');
  const closing = await client.close({ code: 1000 });
  assert.equal(closing.code, 1000);

  // what landed, seen by the operator in mgmt and in the database
  const live = await liveOf(p.id);
  assert.equal(live.protocol, 'ocpp1.6');
  assert.deepEqual([live.boot.vendor, live.boot.model, live.boot.serial, live.boot.firmware],
    ['Kempower', 'S-Series', 'KP-16-001', '4.2.0']);
  assert.equal(live.violations, 0, 'the gateway found nothing ocpp-rpc sent invalid');
  assert.deepEqual(live.connectors.map((c) => [c.connector_id, c.status]), [[0, 'Available'], [1, 'Finishing'], [2, 'Available']]);
  assert.equal(live.open_transaction, null);
  const [tx] = live.transactions;
  assert.deepEqual([tx.transaction_id, tx.connector_id, tx.id_tag, tx.meter_start_wh, tx.meter_stop_wh, tx.energy_wh, tx.stop_reason],
    [txId, 1, 'RPC-TAG-16', 150, 6150, 6000, 'Local']);
  const mv = query('SELECT measurand, unit, value, phase, transaction_id FROM ocpp_meter_values WHERE equipment_id = ? ORDER BY id', p.id);
  assert.deepEqual(mv.map((r) => [r.measurand, r.unit, r.value, r.transaction_id]), [
    ['Energy.Active.Import.Register', 'Wh', 2150, txId],
    ['Current.Import', 'A', 32.1, txId],
    ['Energy.Active.Import.Register', 'Wh', 4150, txId],
    ['Current.Import', 'A', 32.1, txId],
    ['Energy.Active.Import.Register', 'Wh', 6150, txId],
  ]);
  assert.equal(mv[1].phase, 'L1');
});

test('2.0.1: ocpp-rpc in strict mode runs a whole session; every answer conforms; the data lands', { skip }, async () => {
  const p = piles.b;
  const { client, seen } = await rpcClient(p);
  await assertStrict(client, seen, 'Heartbeat', { colour: 'red' }, 'PropertyConstraintViolation');

  const boot = await client.call('BootNotification', {
    reason: 'PowerUp',
    chargingStation: { model: 'Pulsar Plus', vendorName: 'Wallbox', serialNumber: 'WB-201-7', firmwareVersion: '6.1.9', modem: { iccid: '8986001', imsi: '460001' } },
  });
  assert.equal(boot.status, 'Accepted');
  assert.equal(boot.interval, HEARTBEAT_S);
  assert.match(boot.currentTime, ISO_RE);
  assert.match((await client.call('Heartbeat', {})).currentTime, ISO_RE);
  assert.deepEqual(await client.call('StatusNotification', { timestamp: iso(), connectorStatus: 'Available', evseId: 2, connectorId: 1 }), {});
  assert.deepEqual(await client.call('StatusNotification', { timestamp: iso(), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 }), {});
  const auth = await client.call('Authorize', { idToken: { idToken: 'RPC-TOKEN-201', type: 'ISO14443' } });
  assert.equal(auth.idTokenInfo.status, 'Accepted');

  const ref = `rpc-${randomBytes(6).toString('hex')}`;
  const energy = (wh, context) => ({
    timestamp: iso(),
    sampledValue: [{ value: wh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh', multiplier: 0 } }],
  });
  const started = await client.call('TransactionEvent', {
    eventType: 'Started', timestamp: iso(), triggerReason: 'Authorized', seqNo: 0,
    transactionInfo: { transactionId: ref, chargingState: 'EVConnected' },
    idToken: { idToken: 'RPC-TOKEN-201', type: 'ISO14443' }, evse: { id: 1, connectorId: 1 },
    meterValue: [energy(500, 'Transaction.Begin')],
  });
  assert.equal(started.idTokenInfo?.status, 'Accepted', JSON.stringify(started));
  assert.deepEqual(await client.call('TransactionEvent', {
    eventType: 'Updated', timestamp: iso(), triggerReason: 'MeterValuePeriodic', seqNo: 1,
    transactionInfo: { transactionId: ref, chargingState: 'Charging' },
    meterValue: [energy(3500, 'Sample.Periodic'), {
      timestamp: iso(),
      sampledValue: [{ value: 7.4, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'kW' } }],
    }],
  }), {});
  assert.deepEqual(await client.call('TransactionEvent', {
    eventType: 'Ended', timestamp: iso(), triggerReason: 'StopAuthorized', seqNo: 2,
    transactionInfo: { transactionId: ref, chargingState: 'Idle', stoppedReason: 'Local' },
    meterValue: [energy(9500, 'Transaction.End')],
  }), {});

  assert.deepEqual(await client.call('DataTransfer', { vendorId: 'com.wallbox', messageId: 'hello', data: { a: 1 } }), { status: 'UnknownVendorId' });
  assert.deepEqual(await client.call('FirmwareStatusNotification', { status: 'Installed', requestId: 3 }), {});
  assert.deepEqual(await client.call('NotifyReport', {
    requestId: 7, generatedAt: iso(), seqNo: 0, tbc: false,
    reportData: [{ component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Power' }, variableAttribute: [{ type: 'Actual', value: '7400' }] }],
  }), {});
  assert.deepEqual(await client.call('SecurityEventNotification', { type: 'SettingSystemTime', timestamp: iso(), techInfo: 'ntp' }), {});
  assert.deepEqual(await client.call('LogStatusNotification', { status: 'Uploaded', requestId: 4 }), {});

  assert.deepEqual(seen.strictFailures, [], 'strict-mode failures');
  assert.deepEqual(seen.badMessages.map((b) => b.buffer.toString()), [], 'frames ocpp-rpc could not take');
  assert.equal(seen.inbound.filter((m) => m[0] === 3).length, 13, 'each of the 13 calls got its CALLRESULT');
  assert.deepEqual(seen.inbound.filter((m) => m[0] === 4), [], 'no CALLERROR');
  assert.equal((await client.close({ code: 1000 })).code, 1000);

  const live = await liveOf(p.id);
  assert.equal(live.protocol, 'ocpp2.0.1');
  assert.deepEqual([live.boot.vendor, live.boot.model, live.boot.serial, live.boot.firmware, live.boot.reason],
    ['Wallbox', 'Pulsar Plus', 'WB-201-7', '6.1.9', 'PowerUp']);
  assert.equal(live.violations, 0, 'the gateway found nothing ocpp-rpc sent invalid');
  assert.equal(live.open_transaction, null);
  const [tx] = live.transactions;
  assert.deepEqual([tx.transaction_ref, tx.connector_id, tx.id_tag, tx.meter_start_wh, tx.meter_stop_wh, tx.energy_wh, tx.stop_reason],
    [ref, 1, 'RPC-TOKEN-201', 500, 9500, 9000, 'Local']);
  const mv = query('SELECT measurand, unit, value, transaction_id FROM ocpp_meter_values WHERE equipment_id = ? ORDER BY id', p.id);
  assert.deepEqual(mv.map((r) => [r.measurand, r.unit, r.value, r.transaction_id]), [
    ['Energy.Active.Import.Register', 'Wh', 500, tx.transaction_id],
    ['Energy.Active.Import.Register', 'Wh', 3500, tx.transaction_id],
    ['Power.Active.Import', 'kW', 7.4, tx.transaction_id],
    ['Energy.Active.Import.Register', 'Wh', 9500, tx.transaction_id],
  ]);
});

test('1.6J: violations sent by ocpp-rpc get OCPP-J 1.6 CALLERROR codes', { skip }, async () => {
  const c = await rpcClient(piles.a, { strictMode: false });
  const { client } = c;
  await rejectsWith(client.call('BootNotification', { chargePointVendor: 'V' }),
    rpc.RPCOccurenceConstraintViolationError, 'OccurenceConstraintViolation', '$.chargePointModel', 'missing required property');
  await rejectsWith(client.call('StatusNotification', { connectorId: 'one', errorCode: 'NoError', status: 'Available' }),
    rpc.RPCTypeConstraintViolationError, 'TypeConstraintViolation', '$.connectorId', 'wrong type');
  await rejectsWith(client.call('Heartbeat', { colour: 'red' }),
    rpc.RPCFormationViolationError, 'FormationViolation', '$.colour', 'extra property');
  await rejectsWith(client.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Occupied' }),
    rpc.RPCPropertyConstraintViolationError, 'PropertyConstraintViolation', '$.status', 'value outside the enum');
  await rejectsWith(client.call('ChargeMyCar', {}), rpc.RPCNotImplementedError, 'NotImplemented', undefined, 'unknown action');

  isError(await rawAnswer(c, '[2, "rpc-bad-json", "Heartbeat", {', '-1'), rpc.RPCFormationViolationError, 'FormationViolation', 'malformed JSON');
  isError(await rawAnswer(c, '[5, "rpc-type-5", "Heartbeat", {}]', 'rpc-type-5'), rpc.RPCFormationViolationError, 'FormationViolation',
    'message type 5 (1.6 has no closer code)');
  isError(await rawAnswer(c, '[2, "rpc-short", "Heartbeat"]', 'rpc-short'), rpc.RPCProtocolError, 'ProtocolError', 'incomplete CALL');
  isError(await rawAnswer(c, '[2, "rpc-payload", "Heartbeat", []]', 'rpc-payload'), rpc.RPCFormationViolationError, 'FormationViolation',
    'payload not an object');

  // the connection survives all of it and serves the next call
  assert.match((await client.call('Heartbeat', {})).currentTime, ISO_RE);
  await client.close({ code: 1000 });
  const live = await until(async () => {
    const l = await liveOf(piles.a.id);
    return l.violations >= 9 ? l : null;
  }, 'the violations recorded');
  assert.equal(live.violations, 9);
});

test('2.0.1: violations sent by ocpp-rpc get OCPP-J 2.0.1 CALLERROR codes', { skip }, async () => {
  const c = await rpcClient(piles.b, { strictMode: false });
  const { client } = c;
  // the pile booted in the session above; the gateway remembers it
  assert.match((await client.call('Heartbeat', {})).currentTime, ISO_RE);
  await rejectsWith(client.call('BootNotification', { chargingStation: { model: 'M', vendorName: 'V' } }),
    rpc.RPCOccurrenceConstraintViolationError, 'OccurrenceConstraintViolation', '$.reason', 'missing required property');
  await rejectsWith(client.call('StatusNotification', { timestamp: iso(), connectorStatus: 'Available', evseId: '1', connectorId: 1 }),
    rpc.RPCTypeConstraintViolationError, 'TypeConstraintViolation', '$.evseId', 'wrong type');
  await rejectsWith(client.call('Heartbeat', { colour: 'red' }),
    rpc.RPCProtocolError, 'ProtocolError', '$.colour', 'extra property (not conform the PDU structure)');
  await rejectsWith(client.call('ChargeMyCar', {}), rpc.RPCNotImplementedError, 'NotImplemented', undefined, 'unknown action');

  isError(await rawAnswer(c, '[2, "rpc-bad-json", "Heartbeat", {', '-1'), rpc.RPCFrameworkError, 'RpcFrameworkError', 'malformed JSON');
  isError(await rawAnswer(c, '[5, "rpc-type-5", "Heartbeat", {}]', 'rpc-type-5'), rpc.RPCMessageTypeNotSupportedError, 'MessageTypeNotSupported',
    'message type 5');
  isError(await rawAnswer(c, '[2, "rpc-payload", "Heartbeat", "x"]', 'rpc-payload'), rpc.RPCFormatViolationError, 'FormatViolation',
    'payload not an object');
  isError(await rawAnswer(c, '[2, 42, "Heartbeat", {}]', '-1'), rpc.RPCFrameworkError, 'RpcFrameworkError', 'unreadable message id');

  assert.match((await client.call('Heartbeat', {})).currentTime, ISO_RE);
  await client.close({ code: 1000 });
  const live = await until(async () => {
    const l = await liveOf(piles.b.id);
    return l.violations >= 8 ? l : null;
  }, 'the violations recorded');
  assert.equal(live.violations, 8);
});
