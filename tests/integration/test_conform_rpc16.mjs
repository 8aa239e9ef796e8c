// Integration test of the conformance engine's ocpp16-core checks (gateway/conform_ocpp16*.c)
// against a 1.6J pile written here with npm's ocpp-rpc RPCClient in strict mode (every frame it
// sends and receives is checked against the official OCA schemas), scripted to follow the spec:
// it answers every CS->CP CALL of the plan, honours HeartbeatInterval, reboots on Reset, and so
// on, but presents no card and plugs no cable (the "automatic" pile of a test bench). Real mgmt
// and gateway; the run is queued with the sqlite3 CLI (conform_lib.mjs) and each check's verdict
// is asserted: every check without needs passes, those with needs are skipped with the need as
// their reason (or the check they need), and the run ends `failed` only because of them. A second
// pile misbehaves in exactly four ways, and exactly the four checks that test them fail, with
// reasons naming the problem. Last, the test plays the person at a third pile (presents the card,
// plugs the cable when those checks run): every check passes, and so does the run.
//
// Run from tests/browser (its node_modules has ocpp-rpc):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_conform_rpc16.mjs

import { describe as suite, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  lib, rpc, rpcSchemas, hasSqlite, connectRpc, startGateway, makeAccessedPiles, stopDaemons,
} from './ocpp_lib.mjs';
import { planChecks, queueRun, waitRun, describe, sql } from './conform_lib.mjs';

const schemas16 = rpcSchemas('ocpp1_6.json');
const skip = !(rpc && schemas16 && lib) ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !hasSqlite ? 'the sqlite3 command-line tool is missing (apt-get install sqlite3)' : false;

// H of heartbeat.interval, the longest a check waits, the engine's CALL timeout
const CONFORM_ENV = {
  EVGATE_CONFORM_HEARTBEAT_S: '2',
  EVGATE_CONFORM_WAIT_CAP_S: '4',
  EVGATE_OCPP_CALL_TIMEOUT_S: '3',
  EVGATE_OCPP_COMMAND_POLL_MS: '50',
};
const CONNECTORS = 2; // pileBody registers connectors 1 and 2

const env = { tmp: null, mgmt: null, gw: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
let piles = {};
const iso = () => new Date().toISOString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A scripted 1.6J charge point. `faults`: a set of the misbehaviours below. */
class Pile {
  constructor(p, faults = new Set()) {
    this.p = p;
    this.faults = faults;
    this.client = null;
    this.timer = null;
    this.strictFailures = [];
    this.connections = 0;
    this.stopped = false;
    // what a person does at it (the third test): the cable, the transaction, a remote start
    // waiting for the cable
    this.cable = false;
    this.tx = null; // {id, connectorId, idTag, wh}
    this.meterTimer = null;
    this.remotePending = null; // {connectorId, idTag}
    this.card = null; // presented, waiting for the cable
    // the Core profile's required keys (OCPP 1.6 §9.1), and two of other profiles
    this.config = new Map(Object.entries({
      AuthorizeRemoteTxRequests: ['false', false], ClockAlignedDataInterval: ['0', false],
      ConnectionTimeOut: ['60', false], ConnectorPhaseRotation: ['0.RST,1.RST,2.RST', false],
      GetConfigurationMaxKeys: ['50', true], HeartbeatInterval: ['300', false],
      LocalAuthorizeOffline: ['true', false], LocalPreAuthorize: ['false', false],
      MeterValuesAlignedData: ['Energy.Active.Import.Register', false],
      MeterValuesSampledData: ['Energy.Active.Import.Register', false], MeterValueSampleInterval: ['60', false],
      NumberOfConnectors: [String(CONNECTORS), true], ResetRetries: ['3', false],
      StopTransactionOnEVSideDisconnect: ['true', false], StopTransactionOnInvalidId: ['true', false],
      StopTxnAlignedData: ['', false], StopTxnSampledData: ['', false],
      SupportedFeatureProfiles: ['Core,FirmwareManagement,RemoteTrigger', true],
      TransactionMessageAttempts: ['3', false], TransactionMessageRetryInterval: ['10', false],
      UnlockConnectorOnEVSideDisconnect: ['true', false], SupportedFeatureProfilesMaxLength: ['100', true],
    }).map(([k, [value, readonly]]) => [k, { value, readonly }]));
  }

  /** Connects (retried while the gateway has not loaded the pile: 404), boots and reports every
   * connector's status. */
  async start() {
    const opts = {
      endpoint: `${env.gw.ws}/ocpp`, identity: this.p.id, password: this.p.password, protocols: ['ocpp1.6'],
      strictMode: true, reconnect: false, callTimeoutMs: 10000,
    };
    if (this.faults.has('probe-result')) {
      // strict mode still, with a schema for the made-up action it wrongly answers
      opts.strictModeValidators = [rpc.createValidator('ocpp1.6', [...schemas16,
        { $id: 'urn:EvgateProbe.req', type: 'object' }, { $id: 'urn:EvgateProbe.conf', type: 'object' }])];
    }
    const client = await connectRpc(opts);
    this.client = client;
    this.connections++;
    client.on('strictValidationFailure', (e) => this.strictFailures.push(e));
    this.handlers(client);
    await this.boot();
  }

  async boot() {
    const boot = await this.client.call('BootNotification', { chargePointVendor: 'Evgate', chargePointModel: 'RPC-16' });
    assert.equal(boot.status, 'Accepted');
    this.setHeartbeat(boot.interval, false);
    for (let c = 0; c <= CONNECTORS; c++) await this.status(c, 'Available');
  }

  status(connectorId, status) {
    return this.client.call('StatusNotification', { connectorId, errorCode: 'NoError', status, timestamp: iso() });
  }

  /** HeartbeatInterval s: restarts the timer; on a change from the central system, beats at
   * once too (the first Heartbeat then comes well within 1.2 H, and the second one H later
   * still fits heartbeat.interval's time capped at 4 s). */
  setHeartbeat(s, now) {
    this.config.get('HeartbeatInterval').value = String(s);
    clearInterval(this.timer);
    const beat = () => this.client?.call('Heartbeat', {}).catch(() => {});
    if (now) beat();
    this.timer = setInterval(beat, s * 1000);
  }

  /** After the answer to the central system's CALL has gone out. */
  later(fn) {
    setTimeout(() => fn().catch(() => {}), 20);
  }

  meterValues(connectorId) {
    return this.client.call('MeterValues', {
      connectorId,
      meterValue: [{ timestamp: iso(), sampledValue: [{ value: '1234', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
    });
  }

  async reboot(hard) {
    clearInterval(this.timer);
    if (hard) {
      const old = this.client;
      this.client = null;
      await old.close({ code: 1000 });
      await sleep(300);
      if (!this.stopped) await this.start();
    } else {
      await this.boot(); // a soft reset on the same connection
    }
  }

  handlers(client) {
    const f = this.faults;
    client.handle('Reset', ({ params }) => {
      this.later(() => this.reboot(params.type === 'Hard'));
      return { status: 'Accepted' };
    });
    client.handle('GetConfiguration', ({ params }) => {
      const keys = params.key ?? [...this.config.keys()].filter((k) => !(f.has('no-number-of-connectors') && k === 'NumberOfConnectors'));
      const known = keys.filter((k) => this.config.has(k));
      const unknown = keys.filter((k) => !this.config.has(k));
      const out = { configurationKey: known.map((key) => ({ key, readonly: this.config.get(key).readonly, value: this.config.get(key).value })) };
      if (unknown.length) out.unknownKey = unknown;
      return out;
    });
    client.handle('ChangeConfiguration', ({ params }) => {
      const e = this.config.get(params.key);
      if (!e) return { status: 'NotSupported' };
      if (e.readonly) return { status: 'Rejected' };
      if (params.key === 'HeartbeatInterval') this.setHeartbeat(Number(params.value), true);
      else e.value = params.value;
      return { status: 'Accepted' };
    });
    client.handle('TriggerMessage', ({ params }) => {
      const c = params.connectorId;
      if (c !== undefined && (c < 0 || c > CONNECTORS)) return { status: 'Rejected' };
      const send = {
        BootNotification: () => this.client.call('BootNotification', { chargePointVendor: 'Evgate', chargePointModel: 'RPC-16' })
          .then((b) => this.setHeartbeat(b.interval, false)),
        Heartbeat: () => this.client.call('Heartbeat', {}),
        StatusNotification: () => this.status(f.has('status-wrong-connector') ? 2 : (c ?? 0), 'Available'),
        MeterValues: () => this.meterValues(c ?? 1),
        DiagnosticsStatusNotification: () => this.client.call('DiagnosticsStatusNotification', { status: 'Idle' }),
        FirmwareStatusNotification: () => this.client.call('FirmwareStatusNotification', { status: 'Idle' }),
      }[params.requestedMessage];
      if (!send) return { status: 'NotImplemented' };
      this.later(send);
      return { status: 'Accepted' };
    });
    client.handle('ChangeAvailability', ({ params }) => {
      if (params.connectorId > CONNECTORS) return { status: 'Rejected' };
      this.later(() => this.status(params.connectorId, params.type === 'Inoperative' ? 'Unavailable' : 'Available'));
      return { status: 'Accepted' };
    });
    client.handle('UnlockConnector', ({ params }) => {
      const known = params.connectorId >= 1 && params.connectorId <= CONNECTORS;
      return { status: known || f.has('unlock-unknown') ? 'Unlocked' : 'NotSupported' };
    });
    client.handle('ClearCache', () => ({ status: 'Accepted' }));
    client.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
    // without a cable a remote start is accepted and waits for one (ConnectionTimeOut)
    client.handle('RemoteStartTransaction', ({ params }) => {
      const c = params.connectorId ?? 1;
      if (c < 1 || c > CONNECTORS || this.tx) return { status: 'Rejected' };
      this.remotePending = { connectorId: c, idTag: params.idTag };
      if (this.cable) this.later(() => this.startTx(c, params.idTag));
      return { status: 'Accepted' };
    });
    client.handle('RemoteStopTransaction', ({ params }) => {
      if (!this.tx || this.tx.id !== params.transactionId) return { status: 'Rejected' };
      this.later(() => this.stopTx('Remote'));
      return { status: 'Accepted' };
    });
    if (f.has('probe-result')) client.handle('EvgateProbe', () => ({}));
    // anything else (EvgateProbe): ocpp-rpc answers CALLERROR NotImplemented by itself
  }

  /** A transaction on connector `c` for `idTag`; MeterValues every MeterValueSampleInterval. */
  async startTx(c, idTag) {
    this.remotePending = null;
    await this.status(c, 'Preparing');
    const wh = 1000;
    const r = await this.client.call('StartTransaction', { connectorId: c, idTag, meterStart: wh, timestamp: iso() });
    this.tx = { id: r.transactionId, connectorId: c, idTag, wh };
    await this.status(c, 'Charging');
    const every = Number(this.config.get('MeterValueSampleInterval').value) || 60;
    this.meterTimer = setInterval(() => {
      const tx = this.tx;
      if (!tx) return;
      tx.wh += 150;
      this.client.call('MeterValues', {
        connectorId: tx.connectorId, transactionId: tx.id,
        meterValue: [{ timestamp: iso(), sampledValue: [{ value: String(tx.wh), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
      }).catch(() => {});
    }, every * 1000);
  }

  async stopTx(reason) {
    const tx = this.tx;
    clearInterval(this.meterTimer);
    this.tx = null;
    await this.client.call('StopTransaction', { transactionId: tx.id, idTag: tx.idTag, meterStop: tx.wh + 50, timestamp: iso(), reason });
    await this.status(tx.connectorId, 'Finishing');
  }

  // ---- a person at the pile ----

  /** The card: starts a session with the cable (Authorize first), or ends the running one, and
   * the person then unplugs. */
  async presentCard(idTag) {
    if (this.tx) {
      await this.stopTx('Local');
      this.cable = false;
      return this.status(1, 'Available');
    }
    this.card = idTag;
    return this.client.call('Authorize', { idTag });
  }

  plugCable(c) {
    this.cable = true;
    if (this.remotePending) return this.startTx(this.remotePending.connectorId, this.remotePending.idTag);
    if (this.card) {
      const tag = this.card;
      this.card = null;
      return this.startTx(c, tag);
    }
    return this.status(c, 'Preparing');
  }

  async stop() {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.meterTimer);
    await this.client?.close({ code: 1000 }).catch(() => {});
  }
}

// what each check of the automatic pile comes to: pass, or skipped with this reason
const CARD = /^needs a person: present an RFID card/;
const CABLE = /^needs a person: plug a charging cable in/;
const SKIPPED = {
  'authorize.card': CARD,
  'tx.local-start': /^needs authorize\.card, which did not pass$/,
  'tx.meter-values': /^needs tx\.local-start, which did not pass$/,
  'tx.local-stop': /^needs tx\.local-start, which did not pass$/,
  'remote.start': CABLE,
  'remote.start-busy': /^needs remote\.start, which did not pass$/,
  'remote.stop': /^needs remote\.start, which did not pass$/,
};

/** describe() and the frames of the checks that did not pass (ms since the check began). */
function explain(result, all = false) {
  const frames = result.checks.filter((c) => c.verdict !== 'pass' && (all || !SKIPPED[c.check_id])).map((c) =>
    [`  frames of ${c.check_id}:`, ...c.frames.map((f) => `    ${f.ms} ${f.dir} ${f.text.slice(0, 200)}`)].join('\n'));
  return [describe(result), ...frames].join('\n');
}

async function runAgainst(pile) {
  const db = path.join(env.tmp, 'evgate.db');
  const id = queueRun(db, 'ocpp16-core', pile.p.id);
  return waitRun(db, id, 240000);
}

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-conform16-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  env.gw = await startGateway(env.tmp, CONFORM_ENV);
  piles = (await makeAccessedPiles(env, { good: 'ocpp1.6', bad: 'ocpp1.6', bench: 'ocpp1.6' })).piles;
});

after(() => stopDaemons(env));

// the cases use their own piles (and, here, their own daemons where they need them) and spend most
// of their time waiting on the piles: they run side by side
suite('cases', { concurrency: true }, () => {
  test('ocpp16-core against a conforming automatic pile: every automatic check passes', { skip }, async () => {
    const pile = new Pile(piles.good);
    await pile.start();
    try {
      const result = await runAgainst(pile);
      const why = explain(result);
      const plan = planChecks('ocpp16-core');
      assert.equal(result.checks.length, plan.length, why);
      for (const c of result.checks) {
        const skipped = SKIPPED[c.check_id];
        if (skipped) {
          assert.equal(c.verdict, 'skipped', `${c.check_id}\n${why}`);
          assert.match(c.reason, skipped, `${c.check_id}\n${why}`);
        } else {
          assert.equal(c.verdict, 'pass', `${c.check_id}\n${why}`);
        }
      }
      // the run fails only because required checks needing a person were skipped
      assert.equal(result.run.state, 'failed', why);
      // the frames of a check are its exchange: the pile's reboot is in boot.first-message's
      const boot = result.checks.find((c) => c.check_id === 'boot.first-message');
      assert.ok(boot.frames.some((f) => f.dir === 'out' && /"Reset",\{"type":"Hard"\}/.test(f.text)), JSON.stringify(boot.frames));
      assert.ok(boot.frames.some((f) => f.dir === 'in' && /"BootNotification"/.test(f.text)), JSON.stringify(boot.frames));
      assert.ok(pile.connections >= 3, `the pile reconnected after each hard reset (${pile.connections} connections)`);
      // the settings the run changed are back
      assert.equal(pile.config.get('MeterValueSampleInterval').value, '60');
      assert.deepEqual(pile.strictFailures.map((e) => `${e.method}: ${e.error.message}`), [], 'strict-mode failures');
    } finally {
      await pile.stop();
    }
  });

  test('ocpp16-core against a pile that misbehaves four ways: exactly those checks fail, saying why', { skip }, async () => {
    const pile = new Pile(piles.bad, new Set(['no-number-of-connectors', 'probe-result', 'unlock-unknown', 'status-wrong-connector']));
    await pile.start();
    try {
      const result = await runAgainst(pile);
      const why = explain(result);
      const FAILS = {
        'config.get-all': /^GetConfiguration without keys: configurationKey lacks the Core key NumberOfConnectors$/,
        'call.unsupported-action': /^EvgateProbe \(not an OCPP 1\.6 action\) got a CALLRESULT \(answered \{\}\); expected a CALLERROR NotImplemented$/,
        'unlock.unknown-connector': /^UnlockConnector of connector 3 \(the pile has 2\) answered Unlocked; expected NotSupported$/,
        'trigger.status-notification': /^TriggerMessage StatusNotification for connector 1 was Accepted, but the StatusNotification that came was for connector 2$/,
      };
      for (const c of result.checks) {
        if (FAILS[c.check_id]) {
          assert.equal(c.verdict, 'fail', `${c.check_id}\n${why}`);
          assert.match(c.reason, FAILS[c.check_id], `${c.check_id}\n${why}`);
        } else if (SKIPPED[c.check_id]) {
          assert.equal(c.verdict, 'skipped', `${c.check_id}\n${why}`);
        } else {
          assert.equal(c.verdict, 'pass', `${c.check_id}\n${why}`);
        }
      }
      assert.equal(result.run.state, 'failed', why);
      assert.deepEqual(pile.strictFailures.map((e) => `${e.method}: ${e.error.message}`), [], 'strict-mode failures');
    } finally {
      await pile.stop();
    }
  });

  /** Plays the person at the pile while run `id` goes: does each card/cable step once its check is
   * running. Resolves when the run is finished. */
  async function person(id, pile) {
    const db = path.join(env.tmp, 'evgate.db');
    const steps = {
      'authorize.card': () => pile.presentCard('CARD-0001'),
      'tx.local-start': () => pile.plugCable(1),
      'tx.local-stop': () => pile.presentCard('CARD-0001'),
      'remote.start': () => pile.plugCable(1),
    };
    const done = new Set();
    for (;;) {
      const [row] = sql(db, `SELECT state, (SELECT check_id FROM conformance_checks WHERE run_id = ${id}
        AND verdict = 'running') AS running FROM conformance_runs WHERE id = ${id}`);
      if (!['queued', 'running'].includes(row.state)) return;
      if (steps[row.running] && !done.has(row.running)) {
        done.add(row.running);
        await sleep(300); // a person is not instant
        await steps[row.running]();
      }
      await sleep(100);
    }
  }

  test('ocpp16-core with a person at the pile (card, cable): every check passes and so does the run', { skip }, async () => {
    const pile = new Pile(piles.bench);
    pile.config.get('MeterValueSampleInterval').value = '1'; // tx.meter-values waits 2 x this
    await pile.start();
    try {
      const db = path.join(env.tmp, 'evgate.db');
      const id = queueRun(db, 'ocpp16-core', pile.p.id);
      await person(id, pile);
      const result = await waitRun(db, id, 10000);
      const why = explain(result, true);
      for (const c of result.checks) assert.equal(c.verdict, 'pass', `${c.check_id}\n${why}`);
      assert.equal(result.run.state, 'passed', why);
      assert.deepEqual(pile.strictFailures.map((e) => `${e.method}: ${e.error.message}`), [], 'strict-mode failures');
    } finally {
      await pile.stop();
    }
  });
});
