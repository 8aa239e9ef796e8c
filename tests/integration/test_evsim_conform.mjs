// simulators/evsim-pile --scenario conform against the real conformance engine: a conforming pile
// of each version passes every check of its plan (ocpp16-core, ocpp201-core), and runs with
// --faulty-check=A,B,... fail exactly the checks named (their dependents, as --help documents
// them, skipped), every other check passing; together the faulty runs cover every check id of
// both plans. Real evgate-mgmt and evgate-gateway, accessed piles made through mgmt, the runs
// queued in SQLite as mgmt's db_run_create does (conform_lib.mjs) and read back from there.
//
// Run from tests/browser (lib.mjs and its npm packages live there):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_evsim_conform.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BUILD, SRC, lib, startGateway, makeAccessedPiles, stopDaemons, until } from './ocpp_lib.mjs';
import { planChecks, queueRun, waitRun, describe, sql } from './conform_lib.mjs';

const SIM = process.env.EVSIM_PILE || path.join(BUILD, 'simulators', 'evsim-pile');
let sqlite3 = true;
try {
  execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
} catch {
  sqlite3 = false;
}
const engine = existsSync(path.join(SRC, 'gateway', 'conform_run.c'));
const skip = !lib ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !sqlite3 ? 'the sqlite3 CLI is missing'
    : !engine ? 'the conformance engine is not in this tree (gateway/conform_run.c)' : false;

const PLANS = { 'ocpp1.6': 'ocpp16-core', 'ocpp2.0.1': 'ocpp201-core' };
const CALL_TIMEOUT_S = 3;

// The faulty runs: per version, groups of checks whose misbehaviours do not disturb each other.
// `fail`: the checks --faulty-check names, each with what its reason must mention; `skipped`: the
// checks that depend on one of them (--help says which) and are skipped by the engine.
const GROUPS = {
  'ocpp1.6': [
    {
      fail: {
        'config.get-all': /ResetRetries/, 'config.get-unknown': /EvgateUnknownKey/, 'config.change': /MeterValueSampleInterval/,
        'config.change-unknown': /Rejected/, 'trigger.boot-notification': /BootNotification/, 'trigger.heartbeat': /Heartbeat/,
        'trigger.status-notification': /StatusNotification/, 'trigger.meter-values': /MeterValues/,
        'trigger.diagnostics-status': /DiagnosticsStatusNotification/, 'trigger.firmware-status': /FirmwareStatusNotification/,
        'trigger.unknown-connector': /Accepted/,
      },
    },
    {
      fail: {
        'availability.inoperative': /Unavailable/, 'unlock.connector': /UnlockFailed/,
        'unlock.unknown-connector': /Unlocked/, 'cache.clear': /Rejected/, 'datatransfer.unknown-vendor': /GenericError/,
        'call.unsupported-action': /CALLRESULT/, 'remote.start-unknown-connector': /Accepted/, 'remote.stop-unknown': /Accepted/,
        'frames.schema-valid': /Heartbeat/, 'frames.unique-ids': /Heartbeat/, 'frames.one-call-outstanding': /Heartbeat/,
      },
      skipped: ['availability.operative'],
    },
    {
      fail: {
        'boot.first-message': /StatusNotification/, 'heartbeat.interval': /Heartbeat/, 'tx.meter-values': /MeterValues/,
        'tx.local-stop': /meterStop/, 'remote.start-busy': /Accepted/, 'reset.soft': /Rejected/,
      },
      skipped: ['boot.status-all-connectors'],
    },
    {
      fail: {
        'boot.status-all-connectors': /connector 2/, 'tx.local-start': /CONFORM-OTHER/, 'remote.stop': /reason Local/,
        'reset.hard': /Rejected/, 'frames.answers-in-time': /ChangeConfiguration/, 'availability.operative': /Available/,
      },
      skipped: ['tx.meter-values', 'tx.local-stop'],
    },
    {
      fail: { 'authorize.card': /without an Authorize/, 'remote.start': /Rejected/ },
      skipped: ['tx.local-start', 'tx.meter-values', 'tx.local-stop', 'remote.start-busy', 'remote.stop'],
    },
  ],
  'ocpp2.0.1': [
    {
      fail: {
        'variables.get': /Rejected/, 'variables.get-unknown': /UnknownVariable/, 'variables.set': /old value/,
        'variables.set-invalid': /Accepted/, 'trigger.boot-notification': /answered status Accepted.*F06\.FR\.17.*reason Triggered/,
        'trigger.heartbeat': /Heartbeat/,
        'trigger.status-notification': /StatusNotification/, 'trigger.meter-values': /MeterValues/,
        'unlock.connector': /UnlockFailed/, 'unlock.unknown-connector': /Unlocked/,
      },
    },
    {
      fail: {
        'availability.inoperative': /Unavailable/, 'cache.clear': /Rejected/, 'datatransfer.unknown-vendor': /GenericError/,
        'call.unsupported-action': /CALLRESULT/, 'remote.start-unknown-evse': /Accepted/, 'remote.stop-unknown': /Accepted/,
        'frames.schema-valid': /Heartbeat/, 'frames.unique-ids': /Heartbeat/, 'frames.one-call-outstanding': /Heartbeat/,
      },
      skipped: ['availability.operative'],
    },
    {
      fail: {
        'boot.first-message': /StatusNotification/, 'heartbeat.interval': /Heartbeat/, 'tx.meter-values': /Updated/,
        'trigger.transaction-event': /Trigger/, 'tx.local-stop': /energy|decrease|meter/i, 'reset.on-idle': /Rejected/,
        'tx.event-sequence': /seqNo/,
      },
      skipped: ['boot.status-all-connectors'],
    },
    {
      fail: {
        'boot.status-all-connectors': /EVSE 2/, 'tx.local-start': /CONFORM-OTHER/, 'remote.stop': /Local|StopAuthorized/,
        'reset.immediate': /Rejected/, 'frames.answers-in-time': /SetVariables/, 'availability.operative': /Available/,
      },
      skipped: ['tx.meter-values', 'trigger.transaction-event', 'tx.local-stop'],
    },
    {
      fail: { 'authorize.card': /without an AuthorizeRequest/, 'remote.start': /Rejected/ },
      skipped: ['tx.local-start', 'tx.meter-values', 'trigger.transaction-event', 'tx.local-stop', 'remote.stop'],
    },
  ],
};

const env = { tmp: null, mgmt: null, gw: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
let made = null;
const sims = [];

/** Starts evsim-pile --scenario conform for pile `p`; stop() ends it and resolves its output. */
function startSim(p, extra = []) {
  const args = ['--url', `${env.gw.ws}/ocpp`, '--ids', p.id, '--password', p.password, '--protocol', p.protocol,
    '--scenario', 'conform', '--connectors', '2', '--quiet', '--late-answer', String(CALL_TIMEOUT_S + 2), ...extra];
  const proc = spawn(SIM, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  const sim = {
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(t);
      if (process.env.EVGATE_TEST_LOG) console.error(`evsim-pile ${args.join(' ')}\n${out}`);
      return { code, out };
    },
  };
  sims.push(sim);
  return sim;
}

/** The pile is online: the gateway's pile table knows it (it reloads every few seconds). */
async function online(p) {
  await until(async () => (await made.session.call('GET', `/piles/${p.id}/live`)).body?.online, `${p.id} online`, 30000, 200);
}

/** A run of the pile's plan against a conform pile with `faulty` checks; returns waitRun's result. */
async function conformRun(p, faulty = []) {
  const sim = startSim(p, faulty.length ? ['--faulty-check', faulty.join(',')] : []);
  try {
    await online(p);
    const id = queueRun(path.join(env.tmp, 'evgate.db'), PLANS[p.protocol], p.id);
    const result = await waitRun(path.join(env.tmp, 'evgate.db'), id, 200000);
    if (process.env.EVGATE_TEST_LOG) console.error(`${p.protocol} --faulty-check=${faulty.join(',')}\n${describe(result)}`);
    const r = await sim.stop();
    assert.equal(r.code, 0, r.out);
    return result;
  } finally {
    await sim.stop();
  }
}

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-conform-sim-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  env.gw = await startGateway(env.tmp, {
    EVGATE_CONFORM_HEARTBEAT_S: '2',
    EVGATE_CONFORM_WAIT_CAP_S: '5',
    EVGATE_OCPP_CALL_TIMEOUT_S: String(CALL_TIMEOUT_S),
    EVGATE_OCPP_COMMAND_POLL_MS: '50',
    EVGATE_CONFORM_RUNS_MAX: '12',
  });
  // one pile per run: the conform runs and every faulty group
  const names = {};
  for (const [version, groups] of Object.entries(GROUPS)) {
    const v = version === 'ocpp1.6' ? 'v16' : 'v201';
    names[`${v}ok`] = version;
    groups.forEach((_, i) => { names[`${v}f${i}`] = version; });
    names[`${v}pending`] = version;
  }
  made = await makeAccessedPiles(env, names);
  // the Pending piles are Pending from the gateway's first sight of them: the same table load
  // that lets them connect carries their boot setting
  const db = path.join(env.tmp, 'evgate.db');
  for (const [name, p] of Object.entries(made.piles))
    if (name.endsWith('pending')) sql(db, `UPDATE piles SET boot_status = 'Pending' WHERE equipment_id = '${p.id}'`);
});

after(async () => {
  for (const s of sims) await s.stop();
  await stopDaemons(env);
});

test('--help gives every check of both plans a faulty behaviour; a check of the other plan is refused', async () => {
  const help = execFileSync(SIM, ['--help'], { encoding: 'utf8' });
  for (const [version, plan] of Object.entries(PLANS)) {
    const section = help.slice(help.indexOf(`${plan} (--protocol ${version})`));
    for (const c of planChecks(plan)) {
      assert.match(section, new RegExp(`\\n    ${c.id.replaceAll('.', '\\.')} +\\S`), `${plan} ${c.id} in --help`);
    }
  }
  assert.doesNotMatch(help, /no faulty behaviour/);
  for (const [args, re] of [
    [['--protocol', 'ocpp2.0.1', '--faulty-check', 'config.get-all'], /"config\.get-all" is not a check of ocpp201-core/],
    [['--faulty-check', 'cache.clear,evgate.nothing'], /"evgate\.nothing" is not a check of ocpp16-core/],
  ]) {
    let r;
    try {
      execFileSync(SIM, ['--ids', 'X', '--password', 'y', '--scenario', 'conform', ...args], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      r = e;
    }
    assert.equal(r?.status, 2, `${args.join(' ')} is a usage error`);
    assert.match(r.stderr, re);
  }
  let r;
  try {
    execFileSync(SIM, ['--ids', 'X', '--password', 'y', '--faulty-check', 'cache.clear'], { stdio: 'pipe' });
  } catch (e) {
    r = e;
  }
  assert.equal(r?.status, 2);
  assert.match(r.stderr.toString(), /needs --scenario conform/);
});

test('the faulty groups cover every check of both plans', () => {
  for (const [version, groups] of Object.entries(GROUPS)) {
    const ids = planChecks(PLANS[version]).map((c) => c.id);
    const covered = groups.flatMap((g) => Object.keys(g.fail));
    assert.deepEqual([...covered].sort(), [...ids].sort(), `${version}: each check failed exactly once`);
  }
});

test('conform and faulty runs of both plans', { skip, timeout: 240000, concurrency: true }, async (t) => {
  const jobs = [];
  for (const [version, groups] of Object.entries(GROUPS)) {
    const v = version === 'ocpp1.6' ? 'v16' : 'v201';
    const plan = PLANS[version];
    const ids = planChecks(plan).map((c) => c.id);
    jobs.push(t.test(`${plan}: evsim-pile --scenario conform passes every check`, async () => {
      const result = await conformRun(made.piles[`${v}ok`]);
      const text = describe(result);
      for (const c of result.checks) assert.equal(c.verdict, 'pass', `${c.check_id}\n${text}`);
      assert.equal(result.run.state, 'passed', text);
    }));
    groups.forEach((g, i) => {
      const fail = Object.keys(g.fail);
      jobs.push(t.test(`${plan}: --faulty-check=${fail.join(',')}`, async () => {
        const result = await conformRun(made.piles[`${v}f${i}`], fail);
        const text = describe(result);
        const skipped = new Set(g.skipped || []);
        for (const c of result.checks) {
          const frames = (c.frames || []).map((f) => `    ${f.dir} ${f.ms} ${f.text}`).join('\n');
          const textf = `${text}\n  frames of ${c.check_id}:\n${frames}`;
          if (g.fail[c.check_id]) {
            assert.equal(c.verdict, 'fail', `${c.check_id} fails\n${textf}`);
            assert.match(c.reason || '', g.fail[c.check_id], `${c.check_id}'s reason\n${textf}`);
          } else if (skipped.has(c.check_id)) {
            assert.equal(c.verdict, 'skipped', `${c.check_id} is skipped (a dependent)\n${textf}`);
          } else {
            assert.equal(c.verdict, 'pass', `${c.check_id} passes\n${textf}`);
          }
        }
        assert.deepEqual(result.checks.map((c) => c.check_id), ids);
        const required = new Set(planChecks(plan).filter((c) => c.required).map((c) => c.id));
        assert.equal(result.run.state, fail.some((id) => required.has(id)) ? 'failed' : 'passed', text);
      }));
    });
  }
  await Promise.all(jobs);
});

test('a pile evgate answers Pending fails boot.first-message, naming the status, and the run stops there', { skip, timeout: 120000 }, async () => {
  const db = path.join(env.tmp, 'evgate.db');
  const piles = Object.keys(PLANS).map((version) => made.piles[`${version === 'ocpp1.6' ? 'v16' : 'v201'}pending`]);
  await Promise.all(piles.map(async (p) => {
    const sim = startSim(p);
    try {
      await online(p);
      const id = queueRun(db, PLANS[p.protocol], p.id);
      const result = await waitRun(db, id, 60000);
      const boot = result.checks.find((c) => c.check_id === 'boot.first-message');
      assert.equal(boot.verdict, 'fail', describe(result));
      const why = /^evgate answered the BootNotification(Request)? with status Pending \(the pile's boot setting\), not Accepted: the run cannot go on$/;
      assert.match(boot.reason, why, describe(result));
      // nothing after it can be judged: the run ends failed at once, naming the check
      assert.equal(result.run.state, 'failed', describe(result));
      assert.match(result.run.reason, /^the run stopped after boot\.first-message: evgate answered/, describe(result));
      assert.ok(result.checks.filter((c) => c.seq > 1).every((c) => c.verdict === 'skipped'), describe(result));
    } finally {
      await sim.stop();
    }
  }));
});
