// Integration test that one pile cannot stop the others (issue 5): while a 1.6 pile B and a
// 2.0.1 pile C send a steady heartbeat each, pile A sends malformed JSON, a 1 MB text frame, a
// binary frame and a flood past ocpp_max_msgs_per_min, and opens and closes connections
// rapidly (its own, and refused ones). Every heartbeat of B and C must get its CALLRESULT within
// a bound, counted by the test itself from the call ids (not from the gateway's metrics); their
// connections stay open; A is closed with 1009 and 1003 where it must be; /healthz answers 200
// throughout; and afterwards a pile that never connected before, and one accessed just now, are
// accepted and served. What each abuse does to A itself is test_ocpp_handshake.mjs'; here only
// the other piles matter. The two tests at the end were gateway bugs this file found: the rate
// limit renewed on every reconnect, and answers past a 64-message send queue vanished silently.
//
// Run from tests/browser (its node_modules has ws):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_ocpp_isolation.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import {
  lib, WebSocket, startGateway, makeAccessedPiles, handshake, handshakeLoaded, nextMessage, closed, metricValue, until, stopDaemons,
} from './ocpp_lib.mjs';

const skip = WebSocket && lib ? false : 'npm packages missing in tests/browser/node_modules (npm ci there)';

const RATE_LIMIT = 300; // EVGATE_OCPP_MAX_MSGS_PER_MIN: a burst of 300, then 5 a second
const BEAT_MS = 250; // B's and C's heartbeat period: 4 a second, under the limit's 5
const ANSWER_BOUND_MS = 1000; // every bystander heartbeat is answered within this (typically < 100 ms)
const HEALTH_BOUND_MS = 2000;
const ABUSE_MS = 6000; // at least this long, so the steady beats run all through it

const env = { tmp: null, mgmt: null, gw: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
let piles = {};

/** A connected pile sending a Heartbeat every `everyMs` (and on send()), matching every answer
 * to its call id by itself: answers (id -> {msg, ms}), late or unknown messages, its close. */
function steadyPile(ws, name, everyMs) {
  const sent = new Map();
  const answers = new Map();
  const stray = [];
  let closedWith = null;
  ws.on('message', (data) => {
    const now = performance.now();
    const msg = JSON.parse(data.toString());
    const t0 = sent.get(msg[1]);
    if (t0 === undefined || answers.has(msg[1])) stray.push(msg);
    else answers.set(msg[1], { msg, ms: now - t0 });
  });
  ws.on('close', (code) => { closedWith = code; });
  let n = 0;
  const send = () => {
    const id = `${name}-${(n += 1)}`;
    sent.set(id, performance.now());
    ws.send(JSON.stringify([2, id, 'Heartbeat', {}]));
  };
  const timer = setInterval(send, everyMs);
  return {
    name, ws, sent, answers, stray, send,
    closedWith: () => closedWith,
    stop: () => clearInterval(timer),
    missing: () => [...sent.keys()].filter((id) => !answers.has(id)),
  };
}

/** /healthz every `everyMs` until stop(): status and time of each. */
function healthPoller(gw, everyMs) {
  const polls = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      let status;
      try {
        const r = await fetch(`${gw.http}/healthz`, { signal: AbortSignal.timeout(HEALTH_BOUND_MS * 2) });
        status = r.status;
        const body = await r.json();
        if (body.status !== 'ok') status = `${status} ${JSON.stringify(body)}`;
      } catch (err) {
        status = String(err);
      }
      polls.push({ status, ms: performance.now() - t0 });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return { polls, async stop() { running = false; await done; } };
}

async function open(p) {
  const r = await handshakeLoaded(env.gw, p, { protocols: [p.protocol] });
  assert.equal(r.status, 101, JSON.stringify(r));
  r.ws.on('error', () => {}); // a reset while A still writes is expected; the close says the rest
  return r.ws;
}

async function answer(ws, frame) {
  const next = nextMessage(ws);
  ws.send(JSON.stringify(frame));
  return next;
}

// ---------- the suite ----------

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-ocpp-iso-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  env.gw = await startGateway(env.tmp, { EVGATE_OCPP_MAX_MSGS_PER_MIN: String(RATE_LIMIT) });
  ({ piles } = await makeAccessedPiles(env, { a: 'ocpp1.6', b: 'ocpp1.6', c: 'ocpp2.0.1', d: 'ocpp2.0.1', e: 'ocpp1.6', g: 'ocpp1.6' }));
});

after(() => stopDaemons(env));

test('pile A\'s malformed, oversized, binary, flooding and churning traffic does not hold up piles B and C', { skip }, async () => {
  // the bystanders: C is 2.0.1, so it boots first (2.0.1 refuses other calls before the boot)
  const wsB = await open(piles.b);
  const wsC = await open(piles.c);
  const boot = await answer(wsC, [2, 'c-boot', 'BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } }]);
  assert.equal(boot[0], 3, JSON.stringify(boot));
  const B = steadyPile(wsB, 'b', BEAT_MS);
  const C = steadyPile(wsC, 'c', BEAT_MS);
  const health = healthPoller(env.gw, 100);
  // in the first rounds each abuse starts with one more heartbeat of each bystander in flight,
  // so every kind is overlapped, however short it is (not in all: the bystanders must stay under
  // their own rate limit)
  let rounds = 0;
  const probe = () => {
    if (rounds < 3) {
      B.send();
      C.send();
    }
  };
  let dropped = (await metricValue(env.gw, 'evgate_gateway_ocpp_messages_dropped_total')) ?? 0;
  const t0 = performance.now();
  let stage = 'start';
  try {
    // the abuse in rounds until both bystanders have beaten steadily through it for a while
    for (; rounds < 3 || performance.now() - t0 < ABUSE_MS; rounds += 1) {
      // 1. malformed JSON, answered on A's own connection
      stage = `round ${rounds}: malformed JSON`;
      let a = await open(piles.a);
      probe();
      for (let i = 0; i < 20; i += 1) a.send(`[2, "junk-${i}", "Heartbeat", {{{`);
      if (rounds === 0) {
        // later rounds' junk goes unanswered: A's flood (4.) spent its message budget, which
        // its new connections inherit
        const junk = await nextMessage(a);
        assert.equal(junk[0], 4, JSON.stringify(junk));
      }

      // 2. a 1 MB text frame: A is closed with 1009
      stage = `round ${rounds}: 1 MB text frame`;
      const bigClosed = closed(a);
      a.send(JSON.stringify([2, 'big', 'DataTransfer', { vendorId: 'x', data: 'y'.repeat(1 << 20) }]));
      probe();
      assert.equal((await bigClosed).code, 1009, 'a 1 MB message closes with 1009 (message too big)');

      // 3. a binary frame: A is closed with 1003
      stage = `round ${rounds}: binary frame`;
      a = await open(piles.a);
      const binClosed = closed(a);
      a.send(randomBytes(4096), { binary: true });
      probe();
      assert.equal((await binClosed).code, 1003, 'a binary frame closes with 1003 (unsupported data)');

      // 4. a flood of twice the per-minute limit, sent at once
      stage = `round ${rounds}: flood`;
      a = await open(piles.a);
      probe();
      for (let i = 0; i < 2 * RATE_LIMIT; i += 1) a.send(JSON.stringify([2, `flood-${i}`, 'Heartbeat', {}]));
      const from = dropped;
      dropped = await until(async () => {
        const v = await metricValue(env.gw, 'evgate_gateway_ocpp_messages_dropped_total');
        return v >= from + RATE_LIMIT / 2 ? v : null;
      }, 'A\'s flood past the limit (the dropped counter)');
      a.close(1000);
      await closed(a);

      // 5. connection churn: A reconnecting as fast as it can, half of them vanishing without a
      // close frame, interleaved with refused handshakes (wrong password, unknown pile)
      stage = `round ${rounds}: connection churn`;
      for (let i = 0; i < 30; i += 1) {
        if (i % 10 === 0) probe();
        if (i % 3 === 2) {
          const refused = await handshake(env.gw, i % 2 ? piles.a.id : `NOSUCH${i}`, { password: 'wrong-password' });
          assert.ok([401, 404].includes(refused.status), JSON.stringify(refused));
          continue;
        }
        const r = await handshake(env.gw, piles.a.id, { password: piles.a.password });
        assert.equal(r.status, 101);
        r.ws.on('error', () => {});
        if (i % 2) r.ws.terminate();
        else r.ws.close(1000);
      }
    }
    // one more beat after the last of it
    stage = 'after';
    probe();
    const last = `b-${B.sent.size}`;
    await until(() => B.answers.has(last), 'the bystander\'s heartbeat after the abuse', 10000, 20)
      .catch(() => assert.fail(`${last} unanswered after ${rounds} rounds; `
        + `b missing ${B.missing().length} of ${B.sent.size}, c ${C.missing().length} of ${C.sent.size}`));
  } finally {
    B.stop();
    C.stop();
    await health.stop();
  }
  const elapsed = performance.now() - t0;

  // every bystander call id has its CALLRESULT, in time, on a connection that stayed open
  for (const P of [B, C]) {
    await until(() => P.missing().length === 0, `${P.name}'s answers`, 10000, 20)
      .catch(() => assert.fail(`${P.name}: no answer to ${P.missing().join(', ')} (of ${P.sent.size}; the abuse was at ${stage})`));
    assert.ok(P.sent.size >= ABUSE_MS / BEAT_MS / 2, `${P.name} sent ${P.sent.size} heartbeats over ${Math.round(elapsed)} ms`);
    const lat = [...P.answers.values()].map((x) => x.ms).sort((x, y) => x - y);
    const worst = lat.at(-1);
    const median = lat[Math.floor(lat.length / 2)];
    if (process.env.EVGATE_TEST_LOG) {
      console.error(`${P.name}: ${rounds} rounds in ${Math.round(elapsed)} ms, ${lat.length} answers, `
        + `median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`);
    }
    assert.ok(worst < ANSWER_BOUND_MS, `${P.name}'s slowest answer took ${worst.toFixed(0)} ms (median ${median.toFixed(1)} ms)`);
    for (const [id, { msg }] of P.answers) {
      assert.equal(msg[0], 3, `${P.name} ${id}: ${JSON.stringify(msg)}`);
      assert.match(msg[2].currentTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    assert.deepEqual(P.stray, [], `${P.name} got no answer twice and none it did not ask for`);
    assert.equal(P.closedWith(), null, `${P.name}'s connection stayed open`);
    assert.equal(P.ws.readyState, WebSocket.OPEN);
  }
  if (process.env.EVGATE_TEST_LOG) console.error(`/healthz: ${health.polls.length} polls, slowest ${Math.max(...health.polls.map((h) => h.ms)).toFixed(1)} ms`);
  assert.ok(health.polls.length >= ABUSE_MS / 1000, `${health.polls.length} health polls`);
  for (const h of health.polls) {
    assert.equal(h.status, 200, `/healthz during the abuse: ${h.status}`);
    assert.ok(h.ms < HEALTH_BOUND_MS, `/healthz took ${h.ms.toFixed(0)} ms`);
  }
  // A's refused handshakes (hundreds) do not flood the log every pile shares: at most the
  // budget of GW_LOG_REFUSALS_PER_MIN (120) a minute is written, /metrics counts them all
  const refusedLogged = env.gw.log.filter((l) => l.includes(' ocpp_refused ')).length;
  const refused = ((await metricValue(env.gw, 'evgate_gateway_ocpp_handshakes_total', { result: 'unauthorized' })) ?? 0)
    + ((await metricValue(env.gw, 'evgate_gateway_ocpp_handshakes_total', { result: 'unknown_pile' })) ?? 0);
  assert.ok(refused > 120, `${refused} refused handshakes counted`);
  assert.ok(refusedLogged <= 2 * 120, `${refusedLogged} ocpp_refused lines for ${refused} refusals in ${Math.round(elapsed / 1000)} s`);
  // the bystanders still work after it all
  assert.equal((await answer(wsB, [2, 'b-end', 'Heartbeat', {}]))[0], 3);
  assert.equal((await answer(wsC, [2, 'c-end', 'Heartbeat', {}]))[0], 3);
  wsB.close(1000);
  wsC.close(1000);
  await Promise.all([closed(wsB), closed(wsC)]);
});

test('afterwards the gateway accepts a pile that never connected, one accessed just now, and A again', { skip }, async () => {
  const d = await open(piles.d);
  const boot = await answer(d, [2, 'd-boot', 'BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } }]);
  assert.deepEqual([boot[0], boot[1], boot[2].status], [3, 'd-boot', 'Accepted']);
  assert.equal((await answer(d, [2, 'd-hb', 'Heartbeat', {}]))[0], 3);
  // a pile approved after the abuse: the gateway's pile table still reloads
  const { piles: fresh } = await makeAccessedPiles(env, { f: 'ocpp1.6' });
  const f = await open(fresh.f);
  const fboot = await answer(f, [2, 'f-boot', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }]);
  assert.deepEqual([fboot[0], fboot[2].status], [3, 'Accepted']);
  const a = await open(piles.a);
  assert.equal((await answer(a, [2, 'a-hb', 'Heartbeat', {}]))[0], 3);
  for (const ws of [a, d, f]) ws.close(1000);
  await Promise.all([closed(a), closed(d), closed(f)]);
  assert.equal((await fetch(`${env.gw.http}/healthz`)).status, 200);
  assert.ok(env.gw.alive());
});

/** Sends `n` heartbeats on a new connection of `p`, `chunk` at a time (fewer answers in flight
 * than the gateway's send queue holds); resolves how many were answered and how many dropped
 * (every one is one or the other, counted by /metrics). */
async function paced(p, n, tag, chunk = 50) {
  const ws = await open(p);
  const answered = new Set();
  ws.on('message', (data) => answered.add(JSON.parse(data.toString())[1]));
  const dropped0 = (await metricValue(env.gw, 'evgate_gateway_ocpp_messages_dropped_total')) ?? 0;
  let dropped = 0;
  for (let sent = 0; sent < n;) {
    for (const end = Math.min(n, sent + chunk); sent < end; sent += 1) ws.send(JSON.stringify([2, `${tag}-${sent}`, 'Heartbeat', {}]));
    await until(async () => {
      dropped = ((await metricValue(env.gw, 'evgate_gateway_ocpp_messages_dropped_total')) ?? 0) - dropped0;
      return answered.size + dropped >= sent;
    }, `the first ${sent} of ${tag} answered or dropped`, 10000, 20);
  }
  ws.close(1000);
  await closed(ws);
  return { answered: answered.size, dropped };
}

// The documented contract (common/config.c): ocpp_max_msgs_per_min is what "one pile may send
// per minute". The bucket is the pile's (gateway/ocpp_rate.h), so a pile that reconnects does not
// start with a full one again (it once did: A above pushed tens of thousands of messages through
// a 300-a-minute limit).
test('a pile does not get a fresh message budget by reconnecting', { skip }, async () => {
  const t0 = performance.now();
  const first = await paced(piles.e, 2 * RATE_LIMIT, 'e1');
  assert.ok(first.answered <= RATE_LIMIT + 5 && first.dropped >= RATE_LIMIT - 5, JSON.stringify(first));
  const second = await paced(piles.e, RATE_LIMIT, 'e2');
  // within the same minute the second connection may only use what refilled meanwhile
  const s = (performance.now() - t0) / 1000;
  const refill = Math.ceil((s / 60) * RATE_LIMIT) + 1;
  assert.ok(second.answered <= refill,
    `a reconnect ${s.toFixed(1)} s later: ${second.answered} of ${RATE_LIMIT} answered, want at most ${refill}`);
});

// OCPP-J asks a pile not to send a CALL before its previous one is answered, but the gateway
// lets it send ocpp_max_msgs_per_min at once. Every one of them must be answered (the gateway
// once queued 64 answers and dropped the rest silently, with a warning each), or the pile closed
// in a way it sees.
test('a burst within the rate limit is answered in full, or refused in a way the pile sees', { skip }, async () => {
  const p = piles.g;
  const ws = await open(p);
  const answers = new Map();
  let closedWith = null;
  ws.on('message', (data) => { const m = JSON.parse(data.toString()); answers.set(m[1], m); });
  ws.on('close', (code) => { closedWith = code; });
  const logFrom = env.gw.log.length;
  const n = RATE_LIMIT / 2; // well within the limit: none may be dropped for the rate
  for (let i = 0; i < n; i += 1) ws.send(JSON.stringify([2, `g-${i}`, 'Heartbeat', {}]));
  // calls after the burst until one is answered: the gateway answers in order, so then every
  // call of the burst has been answered or given up on
  let probes = 0;
  await until(() => {
    if (closedWith !== null || [...answers.keys()].some((id) => id.startsWith('g-probe-'))) return true;
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify([2, `g-probe-${(probes += 1)}`, 'Heartbeat', {}]));
    return false;
  }, 'a call after the burst answered', 10000, 50);
  const warnings = env.gw.log.slice(logFrom).filter((l) => l.includes(' ocpp_send_failed ') && l.includes(p.id)).length;
  const closedByGateway = closedWith;
  if (closedWith === null) {
    ws.close(1000);
    await closed(ws);
  }
  const missing = Array.from({ length: n }, (_, i) => `g-${i}`).filter((id) => !answers.has(id));
  assert.ok(missing.length === 0 || closedByGateway !== null,
    `${missing.length} of ${n} calls within the rate limit got no answer, and the connection stayed open (e.g. ${missing.slice(0, 3).join(', ')})`);
  assert.ok(warnings <= 10, `${warnings} ocpp_send_failed warnings for one burst of ${n}`);
});
