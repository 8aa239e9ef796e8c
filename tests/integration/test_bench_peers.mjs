// Integration test of the throughput benchmark's two peers (tests/bench): bench-peer-bare (the
// libwebsockets floor) and peer_rpc.mjs (ocpp-rpc in strict mode writing to SQLite). The
// benchmark's ratios mean something only if both answer what evgate answers: each is driven by
// evsim-pile, which checks every answer against the OCPP schemas, and bench-peer-bare's byte
// scanning is probed frame by frame with npm's `ws`.
//
// Run from tests/browser (its node_modules has ws and ocpp-rpc):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_bench_peers.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUILD, SRC, WebSocket, rpc, hasSqlite, closed } from './ocpp_lib.mjs';

const BARE = path.join(BUILD, 'tests', 'bench', 'bench-peer-bare');
const SIM = path.join(BUILD, 'simulators', 'evsim-pile');
const PEER_RPC = path.join(SRC, 'tests', 'bench', 'peer_rpc.mjs');
const BENCH_MODULES = path.join(SRC, 'tests', 'bench', 'node_modules');
const skipWs = WebSocket ? false : 'ws missing in tests/browser/node_modules (npm ci there)';
const skipRpc = !existsSync(path.join(BENCH_MODULES, 'better-sqlite3')) ||
  !existsSync(path.join(BENCH_MODULES, 'ocpp-rpc'))
  ? 'tests/bench/node_modules missing (scripts/install-deps.sh --with-bench)'
  : !hasSqlite ? 'sqlite3 CLI missing' : false;

let tmp = null;
const running = new Set();

/** Starts `cmd args`; resolves {proc, port, stderr()} once it prints `<ready> listening port=P`. */
function startPeer(cmd, args, ready) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(proc);
    let err = '';
    const t = setTimeout(() => reject(new Error(`${ready} not ready:\n${err}`)), 30000);
    proc.stderr.on('data', (d) => {
      err += d;
      const m = err.match(new RegExp(`${ready} listening port=(\\d+)`));
      if (m) {
        clearTimeout(t);
        resolve({ proc, port: Number(m[1]), stderr: () => err });
      }
    });
    proc.once('exit', (code) => {
      running.delete(proc);
      clearTimeout(t);
      reject(new Error(`${ready} exited ${code}:\n${err}`));
    });
  });
}

/** Sends SIGTERM; resolves {code, stderr} when the peer has exited. */
function stopPeer(peer) {
  return new Promise((resolve) => {
    if (!running.has(peer.proc)) {
      resolve({ code: peer.proc.exitCode, stderr: peer.stderr() });
      return;
    }
    peer.proc.removeAllListeners('exit');
    peer.proc.once('exit', (code) => {
      running.delete(peer.proc);
      resolve({ code, stderr: peer.stderr() });
    });
    peer.proc.kill('SIGTERM');
  });
}

/** Runs evsim-pile's idle scenario (200 piles, a heartbeat a second) against `port`; resolves its
 *  summary. */
function runSim(port, name) {
  const file = path.join(tmp, `${name}.json`);
  const args = ['--url', `ws://127.0.0.1:${port}/ocpp`, '--count', '200', '--password', 'x',
    '--scenario', 'idle', '--heartbeat-override', '1', '--duration', '3', '--quiet',
    '--summary-json', file];
  return new Promise((resolve, reject) => {
    const proc = spawn(SIM, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    proc.once('error', reject);
    proc.once('exit', async (code) => {
      try {
        resolve({ code, out, summary: JSON.parse(await readFile(file, 'utf8')) });
      } catch (e) {
        reject(new Error(`evsim-pile exited ${code} without a summary:\n${out}`));
      }
    });
  });
}

/** Every CALL answered, none with a CALLERROR, every answer valid for its schema. */
function assertAllAnswered({ code, out, summary }) {
  assert.equal(code, 0, out);
  assert.equal(summary.connected, 200, out);
  assert.equal(summary.failed_handshakes, 0, out);
  assert.equal(summary.boots_accepted, 200, out);
  assert.deepEqual(summary.callerrors, {}, out);
  assert.equal(summary.invalid_answers, 0, out);
  assert.equal(summary.unmatched_answers, 0, out);
  for (const action of ['BootNotification', 'StatusNotification', 'Heartbeat']) {
    const c = summary.calls[action];
    assert.ok(c && c.sent > 0, `${action} sent:\n${out}`);
    assert.equal(c.answered + c.in_flight, c.sent, `${action}:\n${out}`);
    assert.equal(c.callerror + c.timeout, 0, `${action}:\n${out}`);
  }
  assert.ok(summary.calls.Heartbeat.answered >= 200, out);
}

/** A client whose received frames queue up: next() resolves the next one as text. */
function open(port, protocol = 'ocpp1.6') {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/BENCH1`, [protocol],
      { headers: { Authorization: 'Basic QkVOQ0gxOm5vdC1jaGVja2Vk' } });
    const queue = [];
    const waiters = [];
    ws.on('message', (data) => {
      const w = waiters.shift();
      if (w) w(data.toString());
      else queue.push(data.toString());
    });
    ws.next = (ms = 5000) => queue.length ? Promise.resolve(queue.shift())
      : new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error('no frame')), ms);
        waiters.push((m) => { clearTimeout(t); res(m); });
      });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'evgate-bench-peers-'));
});

after(async () => {
  for (const proc of running) proc.kill('SIGKILL');
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('bench-peer-bare answers CALLs by byte scan, fragments, pipelines and both versions', { skip: skipWs }, async () => {
  const peer = await startPeer(BARE, ['--port', '0'], 'bench-peer-bare');
  const ws = await open(peer.port);
  const TIME = '"currentTime":"2026-01-01T00:00:00.000Z"';

  ws.send('[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]');
  assert.equal(await ws.next(), `[3,"b1",{"status":"Accepted",${TIME},"interval":60}]`);
  ws.send('[2,"h1","Heartbeat",{}]');
  assert.equal(await ws.next(), `[3,"h1",{${TIME}}]`);
  // whitespace between the elements, an escaped quote kept as written, an action that merely
  // starts like Heartbeat
  ws.send(' [ 2 , "a\\"b" , "HeartbeatX" , {} ]');
  assert.equal(await ws.next(), '[3,"a\\"b",{}]');
  ws.send('[2,"s1","StatusNotification",{"connectorId":1,"status":"Available","errorCode":"NoError"}]');
  assert.equal(await ws.next(), '[3,"s1",{}]');

  // not a CALL (an answer, garbage): no answer; the next CALL's answer comes first
  ws.send('[3,"x1",{}]');
  ws.send('not json');
  ws.send('[2,"h2","Heartbeat",{}]');
  assert.equal(await ws.next(), `[3,"h2",{${TIME}}]`);

  // a message in three fragments
  ws.send('[2,"f1","Heart', { fin: false });
  ws.send('beat",{', { fin: false });
  ws.send('}]', { fin: true });
  assert.equal(await ws.next(), `[3,"f1",{${TIME}}]`);

  // more CALLs at once than the answer queue holds: all answered, in order
  for (let i = 0; i < 50; i++) ws.send(`[2,"p${i}","MeterValues",{"connectorId":1,"meterValue":[]}]`);
  for (let i = 0; i < 50; i++) assert.equal(await ws.next(), `[3,"p${i}",{}]`);

  // an id longer than any pile sends closes the connection
  ws.send(`[2,"${'i'.repeat(100)}","Heartbeat",{}]`);
  await closed(ws);

  // a fragmented message past the bound closes with 1009
  const big = await open(peer.port);
  big.send(`[2,"g1","DataTransfer",{"data":"${'x'.repeat(40000)}`, { fin: false });
  big.send(`${'x'.repeat(40000)}"}]`, { fin: true });
  assert.equal((await closed(big)).code, 1009);

  const v201 = await open(peer.port, 'ocpp2.0.1');
  assert.equal(v201.protocol, 'ocpp2.0.1');
  v201.send('[2,"h3","Heartbeat",{}]');
  assert.equal(await v201.next(), `[3,"h3",{${TIME}}]`);
  v201.close();
  await closed(v201);

  const { code, stderr } = await stopPeer(peer);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /bench-peer-bare stopped connections_peak=\d+ connections_total=3 /);
});

test('bench-peer-bare: evsim-pile gets every CALL answered, schema-valid', { skip: skipWs }, async () => {
  const peer = await startPeer(BARE, ['--port', '0'], 'bench-peer-bare');
  assertAllAnswered(await runSim(peer.port, 'bare'));
  const { code, stderr } = await stopPeer(peer);
  assert.equal(code, 0, stderr);
  const calls = Number(stderr.match(/ calls=(\d+)/)[1]);
  assert.equal(Number(stderr.match(/ answers=(\d+)/)[1]), calls, stderr);
});

test('peer-rpc: evsim-pile gets every CALL answered, each message is in SQLite', { skip: skipRpc }, async () => {
  const db = path.join(tmp, 'rpc.db');
  const peer = await startPeer(process.execPath, [PEER_RPC, '--port', '0', '--db', db], 'peer-rpc');
  const sim = await runSim(peer.port, 'rpc');
  assertAllAnswered(sim);

  // MeterValues through ocpp-rpc's own client in strict mode (evsim-pile's idle sends none)
  if (rpc) {
    const cli = new rpc.RPCClient({ endpoint: `ws://127.0.0.1:${peer.port}/ocpp`, identity: 'MV1',
      protocols: ['ocpp1.6'], strictMode: true, reconnect: false });
    await cli.connect();
    await cli.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
    assert.deepEqual(await cli.call('MeterValues', { connectorId: 1, transactionId: 7,
      meterValue: [{ timestamp: '2026-01-01T00:00:00.000Z',
        sampledValue: [{ value: '12.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh' }] }] }), {});
    await assert.rejects(cli.call('Authorize', { idTag: 'T1' }), { rpcErrorCode: 'NotImplemented' });
    await cli.close();
  }

  const { code, stderr } = await stopPeer(peer);
  assert.equal(code, 0, stderr);
  const q = (sql) => spawnSync('sqlite3', [db, sql], { encoding: 'utf8' }).stdout.trim();
  const c = sim.summary.calls;
  assert.equal(Number(q('SELECT count(*) FROM piles')), 200 + (rpc ? 1 : 0));
  assert.equal(Number(q('SELECT count(*) FROM status_notifications')), c.StatusNotification.answered);
  assert.equal(Number(q('SELECT count(*) FROM heartbeats')), c.Heartbeat.answered);
  assert.equal(q("SELECT count(*) FROM status_notifications WHERE status = 'Available' AND error_code = 'NoError'"),
    String(c.StatusNotification.answered));
  if (rpc) {
    assert.equal(q('SELECT pile, connector, transaction_id, ts FROM meter_values'),
      'MV1|1|7|2026-01-01T00:00:00.000Z');
  }
});
