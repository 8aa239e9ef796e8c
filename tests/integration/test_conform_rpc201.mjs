// The ocpp201-core conformance plan (issue 7, gateway/conform_ocpp201*.c) against a 2.0.1
// charging station written here with npm's ocpp-rpc RPCClient in strict mode (everything the
// engine sends it and everything it answers is checked against the OCA schemas by a library no
// one here wrote). The station follows the spec: it answers every CSMS call of the plan, keeps
// HeartbeatInterval, reboots on Reset; and it plays the person at the pile: after it rejects
// RequestStopTransaction of the unknown transaction (remote.stop-unknown) it waits 1 s, presents
// a card (Authorize), starts a transaction, sends meter values every second and ends it after
// 4 s. With real mgmt and gateway daemons, a run queued in SQLite as mgmt queues it must pass
// every check. Then the same station misbehaves for three checks (a skipped seqNo, "abc" Accepted
// as a HeartbeatInterval, a CALLRESULT to an unknown action) and exactly those fail, each with a
// reason naming the problem.
//
// Run from tests/browser (its node_modules has ocpp-rpc and ws):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_conform_rpc201.mjs

import { describe as suite, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  lib, WebSocket, rpc, rpcSchemas, hasSqlite, connectRpc, startGateway, makeAccessedPiles, stopDaemons,
} from './ocpp_lib.mjs';
import { planChecks, queueRun, waitRun, describe } from './conform_lib.mjs';

const schemas201 = rpcSchemas('ocpp2_0_1.json');
const skip = !(rpc && schemas201 && WebSocket && lib) ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !hasSqlite ? 'the sqlite3 command-line tool is missing (apt-get install sqlite3)' : false;

const PLAN = 'ocpp201-core';
const HEARTBEAT_S = 2; // EVGATE_CONFORM_HEARTBEAT_S: what heartbeat.interval sets
const EVSES = 2; // pileBody registers connectors 1 and 2
const CARD = { idToken: 'CONFORM-CARD', type: 'ISO14443' };

const env = { tmp: null, mgmt: null, gw: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
let piles = {};

const iso = () => new Date().toISOString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** ocpp-rpc's 2.0.1 validator, except that an action outside OCPP 2.0.1 passes: only so that the
 * misbehaving station can answer EvgateProbe at all (strict mode refuses an unknown action before
 * any handler runs). Everything else is validated as ocpp-rpc does. */
function probeTolerantValidator() {
  const std = rpc.createValidator('ocpp2.0.1', schemas201);
  return {
    subprotocol: 'ocpp2.0.1',
    validate(schemaId, params) {
      if (schemaId.startsWith('urn:EvgateProbe.')) return true;
      return std.validate(schemaId, params);
    },
  };
}

/** A 2.0.1 charging station of pile `p` with EVSES EVSEs (connector 1 each). `faulty`: the checks
 * whose behaviour it breaks (see each use of this.faulty). */
class Station {
  constructor(p, faulty = []) {
    this.p = p;
    this.faulty = new Set(faulty);
    this.vars = { OCPPCommCtrlr: { HeartbeatInterval: '0' }, SampledDataCtrlr: { TxUpdatedInterval: '1' } };
    this.state = Object.fromEntries([...Array(EVSES)].map((_, i) => [i + 1, 'Available']));
    this.wh = 1000; // the meter, rising
    this.tx = null; // {id, seq, evse}
    this.personDone = false;
    this.statusFaultDone = false;
    this.timers = new Set();
    this.seen = { strictFailures: [], badMessages: [], calls: [] };
    this.client = null;
    this.closed = false;
  }

  later(ms, fn) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn().catch((err) => this.seen.badMessages.push({ error: err }));
    }, ms);
    this.timers.add(t);
  }

  call(action, params) {
    return this.client.call(action, params);
  }

  async connect(reason = 'PowerUp') {
    const client = await connectRpc({
      endpoint: `${env.gw.ws}/ocpp`,
      identity: this.p.id,
      password: this.p.password,
      protocols: ['ocpp2.0.1'],
      strictMode: true,
      strictModeValidators: this.faulty.has('call.unsupported-action') ? [probeTolerantValidator()] : [],
      reconnect: false,
      callTimeoutMs: 10000,
    });
    client.on('strictValidationFailure', (e) => this.seen.strictFailures.push(e));
    client.on('badMessage', (e) => this.seen.badMessages.push(e));
    client.on('message', ({ message, outbound }) => {
      const m = outbound ? null : JSON.parse(message.toString());
      if (m && m[0] === 2) this.seen.calls.push(m[2]);
    });
    this.client = client;
    this.handlers(client);
    await this.boot(reason);
  }

  async boot(reason) {
    const b = await this.call('BootNotification', { reason, chargingStation: { model: 'Conform 201', vendorName: 'evgate test' } });
    assert.equal(b.status, 'Accepted');
    this.vars.OCPPCommCtrlr.HeartbeatInterval = String(b.interval);
    this.heartbeat();
    if (reason === 'Triggered') return;
    // boot.status-all-connectors broken: the first reboot reports EVSE 1 only
    const only1 = this.faulty.has('boot.status-all-connectors') && reason === 'RemoteReset' && !this.statusFaultDone;
    if (only1) this.statusFaultDone = true;
    for (let e = 1; e <= (only1 ? 1 : EVSES); e++) await this.status(e);
  }

  status(evse) {
    return this.call('StatusNotification', { timestamp: iso(), connectorStatus: this.state[evse], evseId: evse, connectorId: 1 });
  }

  /** Heartbeats at HeartbeatInterval, from now. */
  heartbeat() {
    clearTimeout(this.hbTimer);
    const h = Number(this.vars.OCPPCommCtrlr.HeartbeatInterval) * (this.faulty.has('heartbeat.interval') ? 1.5 : 1);
    if (!Number.isFinite(h) || h <= 0 || this.closed) return;
    this.hbTimer = setTimeout(() => {
      if (this.closed) return;
      this.call('Heartbeat', {}).then(() => this.heartbeat(), () => {});
    }, h * 1000);
  }

  energy(context) {
    this.wh += 250;
    return [{ timestamp: iso(), sampledValue: [{ value: this.wh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }];
  }

  /** A TransactionEvent of the running transaction; seqNo 0, 1, ... (one skipped when faulty). */
  txEvent(eventType, triggerReason, info = {}, extra = {}) {
    const tx = this.tx;
    if (this.faulty.has('tx.event-sequence') && tx.seq === 2) tx.seq++;
    const body = {
      eventType, timestamp: iso(), triggerReason, seqNo: tx.seq++,
      transactionInfo: { transactionId: tx.id, ...info },
      ...extra,
    };
    if (eventType === 'Ended') this.tx = null;
    return this.call('TransactionEvent', body);
  }

  /** The person at the pile: a card, a session with meter values every second, the card again. */
  async person() {
    const auth = await this.call('Authorize', { idToken: CARD });
    assert.equal(auth.idTokenInfo.status, 'Accepted');
    this.tx = { id: `local-${randomBytes(4).toString('hex')}`, seq: 0, evse: 1 };
    await this.txEvent('Started', 'Authorized', { chargingState: 'Charging' },
      { idToken: CARD, evse: { id: 1, connectorId: 1 }, meterValue: this.energy('Transaction.Begin') });
    const id = this.tx.id;
    for (let s = 1; s <= 3; s++) {
      this.later(s * 1000, async () => {
        if (this.tx?.id === id) await this.txEvent('Updated', 'MeterValuePeriodic', { chargingState: 'Charging' }, { meterValue: this.energy('Sample.Periodic') });
      });
    }
    this.later(4000, async () => {
      if (this.tx?.id === id) {
        await this.txEvent('Ended', 'StopAuthorized', { chargingState: 'EVConnected', stoppedReason: 'Local' },
          { idToken: CARD, meterValue: this.energy('Transaction.End') });
        await this.status(1); // the person unplugs: EVSE 1 free again (remote.start waits for it)
      }
    });
  }

  variable(d) {
    const comp = this.vars[d.component.name];
    if (!comp) return { status: 'UnknownComponent' };
    if (!(d.variable.name in comp)) return { status: 'UnknownVariable' };
    return { status: 'Accepted', value: comp[d.variable.name] };
  }

  handlers(c) {
    c.handle('GetVariables', ({ params }) => ({
      getVariableResult: params.getVariableData.map((d) => {
        const v = this.variable(d);
        return { attributeStatus: v.status, component: d.component, variable: d.variable, ...(v.value !== undefined ? { attributeValue: v.value } : {}) };
      }),
    }));
    c.handle('SetVariables', ({ params }) => ({
      setVariableResult: params.setVariableData.map((d) => {
        const v = this.variable(d);
        let status = v.status;
        if (status === 'Accepted') {
          const valid = /^[0-9]+$/.test(d.attributeValue) || this.faulty.has('variables.set-invalid');
          if (valid) {
            this.vars[d.component.name][d.variable.name] = d.attributeValue;
            if (d.variable.name === 'HeartbeatInterval') this.heartbeat();
          } else {
            status = 'Rejected';
          }
        }
        return { attributeStatus: status, component: d.component, variable: d.variable };
      }),
    }));
    c.handle('TriggerMessage', ({ params }) => {
      const what = params.requestedMessage;
      // F06.FR.17: booted and Accepted, a BootNotification is not triggered (broken: it is)
      if (what === 'BootNotification' && !this.faulty.has('trigger.boot-notification')) return { status: 'Rejected' };
      const send = {
        BootNotification: () => this.boot('Triggered'),
        Heartbeat: () => this.call('Heartbeat', {}),
        StatusNotification: () => this.call('StatusNotification', {
          timestamp: iso(), connectorStatus: this.state[params.evse?.id ?? 1], evseId: params.evse?.id ?? 1, connectorId: params.evse?.connectorId ?? 1,
        }),
        MeterValues: () => this.call('MeterValues', { evseId: params.evse?.id ?? 1, meterValue: this.energy('Trigger') }),
        TransactionEvent: () => (this.tx ? this.txEvent('Updated', 'Trigger', { chargingState: 'Charging' }, { meterValue: this.energy('Trigger') }) : Promise.resolve()),
      }[what];
      if (!send) return { status: 'NotImplemented' };
      this.later(20, send);
      return { status: 'Accepted' };
    });
    c.handle('ChangeAvailability', ({ params }) => {
      const evse = params.evse?.id ?? 1;
      this.state[evse] = params.operationalStatus === 'Inoperative' ? 'Unavailable' : 'Available';
      this.later(20, () => this.status(evse));
      return { status: 'Accepted' };
    });
    c.handle('UnlockConnector', ({ params }) => ({
      status: params.evseId >= 1 && params.evseId <= EVSES && params.connectorId === 1 ? 'Unlocked'
        : this.faulty.has('unlock.unknown-connector') ? 'UnlockFailed' : 'UnknownConnector',
    }));
    c.handle('ClearCache', () => ({ status: 'Accepted' }));
    c.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
    if (this.faulty.has('call.unsupported-action')) c.handle('EvgateProbe', () => ({}));
    c.handle('RequestStartTransaction', ({ params }) => {
      if (params.evseId === undefined || params.evseId < 1 || params.evseId > EVSES || this.tx) return { status: 'Rejected' };
      this.tx = { id: `remote-${randomBytes(4).toString('hex')}`, seq: 0, evse: params.evseId };
      this.later(20, async () => {
        await this.txEvent('Started', 'RemoteStart', { chargingState: 'EVConnected', remoteStartId: params.remoteStartId },
          { idToken: params.idToken, evse: { id: params.evseId, connectorId: 1 }, meterValue: this.energy('Transaction.Begin') });
        await sleep(200);
        await this.txEvent('Updated', 'ChargingStateChanged', { chargingState: 'Charging' }, { meterValue: this.energy('Sample.Periodic') });
      });
      return { status: 'Accepted' };
    });
    c.handle('RequestStopTransaction', ({ params }) => {
      if (this.tx && params.transactionId === this.tx.id) {
        const wrong = this.faulty.has('remote.stop'); // ends as if the card had stopped it
        this.later(20, () => this.txEvent('Ended', wrong ? 'StopAuthorized' : 'RemoteStop',
          { chargingState: 'EVConnected', stoppedReason: wrong ? 'Local' : 'Remote' }, { meterValue: this.energy('Transaction.End') }));
        return { status: 'Accepted' };
      }
      if (!this.personDone) { // remote.stop-unknown: then the person comes
        this.personDone = true;
        this.later(1000, () => this.person());
      }
      return { status: 'Rejected' };
    });
    c.handle('Reset', ({ params }) => {
      if (params.type === 'Immediate') {
        this.later(50, async () => {
          clearTimeout(this.hbTimer);
          await this.client.close({ code: 1000 });
          await this.connect('RemoteReset');
        });
      } else if (this.faulty.has('reset.on-idle')) {
        return { status: 'Scheduled' };
      } else {
        this.later(50, () => this.boot('RemoteReset'));
      }
      return { status: 'Accepted' };
    });
  }

  async close() {
    this.closed = true;
    clearTimeout(this.hbTimer);
    for (const t of this.timers) clearTimeout(t);
    await this.client?.close({ code: 1000 });
  }
}

/** Runs the plan against `st` (connected first); the finished run. */
async function conformRun(st) {
  await st.connect();
  const id = queueRun(path.join(env.tmp, 'evgate.db'), PLAN, st.p.id);
  const result = await waitRun(path.join(env.tmp, 'evgate.db'), id, 240000);
  await st.close();
  if (process.env.EVGATE_TEST_LOG) console.error(describe(result));
  return result;
}

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-conform201-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  env.gw = await startGateway(env.tmp, {
    EVGATE_CONFORM_HEARTBEAT_S: String(HEARTBEAT_S),
    EVGATE_CONFORM_WAIT_CAP_S: '5',
    EVGATE_OCPP_CALL_TIMEOUT_S: '3',
    EVGATE_OCPP_COMMAND_POLL_MS: '50',
  });
  piles = (await makeAccessedPiles(env, { good: 'ocpp2.0.1', faulty: 'ocpp2.0.1', faulty2: 'ocpp2.0.1' })).piles;
});

after(() => stopDaemons(env));

// the cases use their own piles (and, here, their own daemons where they need them) and spend most
// of their time waiting on the piles: they run side by side
suite('cases', { concurrency: true }, () => {
  test('ocpp201-core against a conforming ocpp-rpc station: every check passes', { skip }, async () => {
    const st = new Station(piles.good);
    const result = await conformRun(st);
    const why = describe(result);
    assert.deepEqual(result.checks.map((c) => c.check_id), planChecks(PLAN).map((c) => c.id), why);
    for (const c of result.checks) assert.equal(c.verdict, 'pass', `${c.check_id}: ${c.reason}\n${why}`);
    assert.equal(result.run.state, 'passed', why);

    // the station's strict mode found nothing wrong in what the engine sent or in its own answers
    assert.deepEqual(st.seen.strictFailures.map((f) => `${f.method}: ${f.error.message}`), [], 'strict-mode failures');
    assert.deepEqual(st.seen.badMessages.map((b) => String(b.error?.message || b.error)), [], 'bad messages');
    // it saw every CSMS action of the plan
    for (const action of ['Reset', 'GetVariables', 'SetVariables', 'TriggerMessage', 'ChangeAvailability', 'UnlockConnector',
      'ClearCache', 'DataTransfer', 'EvgateProbe', 'RequestStartTransaction', 'RequestStopTransaction']) {
      assert.ok(st.seen.calls.includes(action), `the engine sent ${action}`);
    }
    // a check's frames are the exchange it judged
    const frames = (id) => result.checks.find((c) => c.check_id === id).frames.map((f) => f.text).join('\n');
    assert.match(frames('call.unsupported-action'), /"EvgateProbe"/);
    assert.match(frames('heartbeat.interval'), /"Heartbeat"/);
    assert.match(frames('reset.immediate'), /"BootNotification"/);
    // F06.FR.17: booted and Accepted, the station rejects a triggered BootNotification
    assert.match(frames('trigger.boot-notification'), /"requestedMessage":"BootNotification"[\s\S]*"status":"Rejected"/);
    // heartbeat.interval put the interval the station had (its boot's, 300 s) back
    assert.match(frames('heartbeat.interval'), /"attributeValue":"2"[\s\S]*"attributeValue":"300"/);
  });

  /** The run of a station broken for `broken` (check ids): exactly those fail, with reasons matching
   * `reasons` (id -> RegExp). */
  async function brokenRun(pile, broken, reasons) {
    const st = new Station(pile, broken);
    const result = await conformRun(st);
    const why = describe(result);
    const order = planChecks(PLAN).map((c) => c.id);
    const failed = result.checks.filter((c) => c.verdict !== 'pass').map((c) => c.check_id);
    assert.deepEqual(failed, order.filter((id) => broken.includes(id)), why);
    for (const c of result.checks.filter((x) => broken.includes(x.check_id))) {
      assert.equal(c.verdict, 'fail', why);
      assert.match(c.reason, reasons[c.check_id], why);
    }
    assert.equal(result.run.state, 'failed', why);
    assert.deepEqual(st.seen.strictFailures.map((f) => `${f.method}: ${f.error.message}`), [], 'strict-mode failures');
    return result;
  }

  test('ocpp201-core against a station that breaks three checks: exactly those fail, each reason names the problem', { skip }, async () => {
    const result = await brokenRun(piles.faulty, ['variables.set-invalid', 'call.unsupported-action', 'tx.event-sequence'], {
      'variables.set-invalid': /^SetVariables OCPPCommCtrlr\.HeartbeatInterval = "abc": attributeStatus Accepted, expected Rejected$/,
      'call.unsupported-action': /^EvgateProbe \(not an OCPP 2\.0\.1 action\) got a CALLRESULT \(answered \{\}\), expected CALLERROR NotImplemented$/,
      'tx.event-sequence': /^transaction local-[0-9a-f]+: seqNo 3 follows 1 \(1 missing\)$/,
    });
    // the value "abc" did not stay
    assert.match(result.checks.find((c) => c.check_id === 'variables.set-invalid').frames.map((f) => f.text).join('\n'),
      /"attributeValue":"abc"[\s\S]*"attributeValue":"300"/);
  });

  test('ocpp201-core against a station that breaks six more: exactly those fail, each reason names the problem', { skip }, async () => {
    await brokenRun(piles.faulty2, ['boot.status-all-connectors', 'heartbeat.interval', 'trigger.boot-notification',
      'unlock.unknown-connector', 'remote.stop', 'reset.on-idle'], {
      'boot.status-all-connectors': /^no state reported after the BootNotification for EVSE 2 within 5 s /,
      'heartbeat.interval': /^no HeartbeatRequest within 2\.4 s \(1\.2 H, H = 2 s\) of the change of HeartbeatInterval$/,
      'trigger.boot-notification': /^TriggerMessage\{requestedMessage:BootNotification\} answered status Accepted while the pile's boot is Accepted; F06\.FR\.17 requires Rejected \(a BootNotificationRequest with reason Triggered followed\)$/,
      'unlock.unknown-connector': /^UnlockConnector\{evseId:1, connectorId:999\} answered status UnlockFailed, expected UnknownConnector$/,
      'remote.stop': /^TransactionEvent Ended of remote-[0-9a-f]+ has triggerReason StopAuthorized and stoppedReason Local, expected RemoteStop and Remote$/,
      'reset.on-idle': /^Reset\{type:OnIdle\} answered status Scheduled, expected Accepted$/,
    });
  });
});
