// The conformance engine's life (gateway/conform.h): a run against a pile that is not connected
// ends `error` at once; a cancelled run ends `cancelled` with its current check skipped; a
// gateway killed (SIGKILL) in the middle of a run leaves it `running`, and the next gateway ends it
// `error` "the gateway restarted" before anything else, after which a new run against the same
// pile passes (mgmt restarting in the middle of it changes nothing); an orderly stop ends a running run `error` "the gateway stopped"; and a run never
// disturbs another pile (it keeps its one connection and every answer). Real mgmt and gateway,
// evsim-pile --scenario conform as the pile; runs are queued in SQLite as mgmt queues them.
//
// Run from tests/browser (lib.mjs and its npm packages live there):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_conform_engine.mjs

import { describe as suite, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BUILD, lib, startGateway, makeAccessedPiles, stopDaemons, until, metricValue } from './ocpp_lib.mjs';
import { queueRun, readRun, waitRun, describe, sql } from './conform_lib.mjs';

const SIM = path.join(BUILD, 'simulators', 'evsim-pile');
let sqliteOk = true;
try {
  execFileSync('sqlite3', ['-version']);
} catch {
  sqliteOk = false;
}
const skip = !lib ? 'npm packages missing in tests/browser/node_modules' : !sqliteOk ? 'sqlite3 CLI missing' : false;

// short waits: a check that waits for something that does not come gives up after 5 s (enough for
// heartbeat.interval's 2.4 x 2 s)
const GW_ENV = {
  EVGATE_CONFORM_HEARTBEAT_S: '2',
  EVGATE_CONFORM_WAIT_CAP_S: '5',
  EVGATE_OCPP_CALL_TIMEOUT_S: '3',
  EVGATE_OCPP_COMMAND_POLL_MS: '50',
};

const tmps = [];
after(async () => {
  for (const t of tmps) await rm(t, { recursive: true, force: true });
});

function startSim(gwWs, pile, version, scenario) {
  const proc = spawn(SIM, ['--url', `${gwWs}/ocpp`, '--ids', pile.id, '--password', pile.password,
    '--protocol', version, '--scenario', scenario, '--connectors', '2', '--reconnect'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    output: () => out,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function setup(names) {
  const env = { adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-conform-'));
  tmps.push(env.tmp);
  env.db = path.join(env.tmp, 'evgate.db');
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  env.gw = await startGateway(env.tmp, GW_ENV);
  const made = await makeAccessedPiles(env, names);
  env.piles = made.piles;
  env.session = made.session;
  return env;
}

const online = (env, id) => until(async () => (await env.session.call('GET', `/piles/${id}/live`)).body?.online,
  `${id} online`, 30000, 100);
const state = (db, id) => sql(db, `SELECT state FROM conformance_runs WHERE id = ${id}`)[0].state;

// the cases use their own piles (and, here, their own daemons where they need them) and spend most
// of their time waiting on the piles: they run side by side
suite('cases', { concurrency: true }, () => {
  test('a run against a pile that is not connected ends error at once, naming why', { skip }, async () => {
    const env = await setup({ a: 'ocpp1.6' });
    try {
      const id = queueRun(env.db, 'ocpp16-core', env.piles.a.id);
      const res = await waitRun(env.db, id, 30000);
      assert.equal(res.run.state, 'error', describe(res));
      assert.match(res.run.reason, /not connected/);
      assert.ok(res.checks.every((c) => c.verdict === 'skipped'), describe(res));
    } finally {
      await stopDaemons(env);
    }
  });

  test('a cancelled run ends cancelled: the check under way and the rest are skipped', { skip }, async () => {
    const env = await setup({ a: 'ocpp1.6' });
    // an idle pile answers calls but never charges: the transaction checks wait their 3 s
    const sim = startSim(env.gw.ws, env.piles.a, 'ocpp1.6', 'idle');
    try {
      await online(env, env.piles.a.id);
      const id = queueRun(env.db, 'ocpp16-core', env.piles.a.id);
      // wait until a waiting check is running, then cancel as mgmt does
      await until(() => sql(env.db, `SELECT count(*) AS n FROM conformance_checks WHERE run_id = ${id}
        AND verdict = 'running' AND check_id = 'authorize.card'`)[0].n === 1, 'authorize.card running', 120000, 50);
      sql(env.db, `UPDATE conformance_runs SET cancel_requested = 1 WHERE id = ${id}`);
      const res = await waitRun(env.db, id, 15000);
      assert.equal(res.run.state, 'cancelled', describe(res));
      const card = res.checks.find((c) => c.check_id === 'authorize.card');
      assert.equal(card.verdict, 'skipped', describe(res));
      assert.match(card.reason, /cancelled/);
      assert.ok(res.checks.filter((c) => c.seq > card.seq).every((c) => c.verdict === 'skipped'), describe(res));
      // earlier checks kept their verdicts and frames
      const unknown = res.checks.find((c) => c.check_id === 'config.get-unknown');
      assert.equal(unknown.verdict, 'pass', describe(res));
      assert.ok(unknown.frames.some((f) => f.dir === 'out' && f.text.includes('EvgateUnknownKey')), JSON.stringify(unknown.frames));
    } finally {
      await sim.stop();
      await stopDaemons(env);
    }
  });

  test('SIGKILL halfway: the next gateway ends the run error, a new run passes; SIGTERM ends a run error', { skip }, async () => {
    const env = await setup({ a: 'ocpp1.6', b: 'ocpp1.6' });
    const port = env.gw.port;
    const sim = startSim(env.gw.ws, env.piles.a, 'ocpp1.6', 'conform');
    // a bystander: its connection and answers must not be touched by the runs
    const other = startSim(env.gw.ws, env.piles.b, 'ocpp1.6', 'idle');
    try {
      await online(env, env.piles.a.id);
      await online(env, env.piles.b.id);
      const first = queueRun(env.db, 'ocpp16-core', env.piles.a.id);
      await until(() => sql(env.db, `SELECT count(*) AS n FROM conformance_checks WHERE run_id = ${first}
        AND verdict NOT IN ('pending', 'running')`)[0].n >= 4, 'four checks decided', 120000, 50);
      await env.gw.kill();
      assert.equal(state(env.db, first), 'running', 'a killed gateway leaves its run running');
      env.gw = await startGateway(env.tmp, { ...GW_ENV, EVGATE_GATEWAY_LISTEN: `127.0.0.1:${port}` });
      const killed = readRun(env.db, first);
      assert.equal(killed.run.state, 'error', describe(killed));
      assert.equal(killed.run.reason, 'the gateway restarted');
      assert.ok(killed.checks.filter((c) => c.seq <= 4).every((c) => ['pass', 'fail'].includes(c.verdict)), describe(killed));
      assert.ok(killed.checks.some((c) => c.verdict === 'skipped' && /restarted/.test(c.reason || '')), describe(killed));

      await online(env, env.piles.a.id);
      const second = queueRun(env.db, 'ocpp16-core', env.piles.a.id);
      // mgmt restarting meanwhile changes nothing: it only queues and reads
      await until(() => state(env.db, second) === 'running', 'second run running', 30000, 50);
      await env.mgmt.stop();
      env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
      const res = await waitRun(env.db, second, 240000);
      assert.equal(res.run.state, 'passed', describe(res));
      const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
      const api = await admin.call('GET', `/conformance-runs/${second}?frames=0`);
      assert.equal(api.status, 200);
      assert.equal(api.body.state, 'passed');
      assert.equal(api.body.summary.pass, api.body.checks.length);
      // /metrics counts the outcome (right after the database has it); the restarted gateway
      // listens on the first one's port (env.gw.http names the port startGateway picked)
      const gwHttp = { http: `http://127.0.0.1:${port}` };
      await until(async () => (await metricValue(gwHttp, 'evgate_gateway_conform_runs_total', { state: 'passed' })) === 1,
        'the passed run counted in /metrics');

      const third = queueRun(env.db, 'ocpp16-core', env.piles.a.id);
      await until(() => state(env.db, third) === 'running', 'third run running', 30000, 50);
      const stopped = await env.gw.stop();
      const gwLog = env.gw.log;
      env.gw = null; /* stopped here: stopDaemons must not stop it again */
      assert.equal(stopped.code, 0, `an orderly stop with a run under way exits 0:\n${gwLog.slice(-30).join('\n')}`);
      const ended = readRun(env.db, third);
      assert.equal(ended.run.state, 'error', describe(ended));
      assert.equal(ended.run.reason, 'the gateway stopped');
    } finally {
      await sim.stop();
      await other.stop();
      await stopDaemons(env);
    }
    // the bystander: one connection for the whole first gateway, never a CALLERROR
    assert.doesNotMatch(other.output(), /CALLERRORs received by code: [A-Z]/, other.output());
  });
});
