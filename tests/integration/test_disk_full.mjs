// A full disk (issue 9, item 2): the database lives on a small tmpfs that the test fills up.
// Writes then fail with a clear error — mgmt answers 507 `storage_full`, the gateway answers a
// pile's CALL with InternalError saying the disk is full — nothing half-written is left, and
// once space returns both daemons write again without a restart.
//
// Mounting a tmpfs needs root (as `make test` runs here and in CI); elsewhere the test skips.
//
// Run from tests/browser (lib.mjs and its npm packages live there):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_disk_full.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { lib, startGateway, makeAccessedPiles, handshakeLoaded } from './ocpp_lib.mjs';

const SIZE = '24m';
const env = { tmp: null, mnt: null, mgmt: null, gw: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };

function tryMount(dir) {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr || r.error?.message || 'mount failed').trim();
}

let skip = lib ? false : 'npm packages missing in tests/browser/node_modules (npm ci there)';

/** Fills the file system of `dir` with a file; resolves its path once a write hits ENOSPC. */
async function fill(dir) {
  const file = path.join(dir, 'filler');
  const fh = await open(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  try {
    for (;;) await fh.write(chunk);
  } catch (e) {
    assert.equal(e.code, 'ENOSPC', e.message);
  }
  // the last few bytes too: a file system keeps some slack below a chunk
  try {
    for (;;) await fh.write(Buffer.alloc(512));
  } catch (e) {
    assert.equal(e.code, 'ENOSPC', e.message);
  } finally {
    await fh.close();
  }
  return file;
}

/** An OCPP-J client: call(action, payload) resolves the whole answer frame. */
function rpc(ws) {
  const waiting = new Map();
  let n = 0;
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    const w = waiting.get(m[1]);
    if (w) { waiting.delete(m[1]); w(m); }
  });
  return (action, payload) => new Promise((resolve) => {
    const id = `d${++n}`;
    waiting.set(id, resolve);
    ws.send(JSON.stringify([2, id, action, payload]));
  });
}

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-diskfull-'));
  const why = tryMount(env.tmp);
  if (why) {
    skip = `cannot mount a tmpfs here: ${why}`;
    return;
  }
  env.mnt = env.tmp;
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  env.gw = await startGateway(env.tmp);
});

after(async () => {
  await env.gw?.stop();
  await env.mgmt?.stop();
  if (env.mnt) spawnSync('umount', [env.mnt]);
  if (env.tmp) await rm(env.tmp, { recursive: true, force: true });
});

test('a full disk: clear errors from both daemons, nothing half-written, writing again once space returns', async (t) => {
  if (skip) return t.skip(skip);
  const made = await makeAccessedPiles(env, { a: 'ocpp1.6' });
  const p = made.piles.a;
  const s = made.session;
  const r = await handshakeLoaded(env.gw, p);
  assert.equal(r.status, 101);
  const call = rpc(r.ws);
  const boot = await call('BootNotification', { chargePointVendor: 'evgate', chargePointModel: 'diskfull' });
  assert.equal(boot[2].status, 'Accepted');
  const station = (i) => ({ station_id: `DF${i}${randomBytes(2).toString('hex').toUpperCase()}`, name: `满盘测试站${i}`,
    area_code: '442000', address: '中山市东区中山四路88号', service_tel: '400-800-8888', station_type: 1,
    station_status: 50, park_nums: 12, lng: 113.392614, lat: 22.517646, construction: 4 });

  const filler = await fill(env.tmp);
  try {
    // mgmt: stations until the disk refuses one (the WAL grows a page at a time, so the first
    // writes may still find room); that one is 507 storage_full and is not there afterwards
    let full = null;
    const created = [];
    for (let i = 0; i < 400 && !full; i++) {
      const body = station(i);
      const res = await s.call('POST', '/stations', body);
      if (res.status === 201) created.push(body.station_id);
      else full = { res, id: body.station_id };
    }
    assert.ok(full, 'mgmt never met the full disk');
    assert.equal(full.res.status, 507, JSON.stringify(full.res.body));
    assert.equal(full.res.body.error.code, 'storage_full');
    assert.match(full.res.body.error.message, /disk is full/);
    // reads still work on a full disk
    const me = await s.call('GET', '/me');
    assert.equal(me.status, 200);

    // the gateway: readings until one is refused with a CALLERROR that says why
    let refused = null;
    for (let i = 0; i < 400 && !refused; i++) {
      const m = await call('MeterValues', { connectorId: 1, meterValue: [{ timestamp: new Date().toISOString(),
        sampledValue: [{ value: String(1000 + i), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
      if (m[0] !== 3) refused = m;
    }
    assert.ok(refused, 'the gateway never met the full disk');
    assert.equal(refused[0], 4);
    assert.equal(refused[2], 'InternalError');
    assert.match(refused[3], /disk is full/);

    // space returns
    await unlink(filler);
    const again = station('X');
    const res = await s.call('POST', '/stations', again);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const ok = await call('MeterValues', { connectorId: 1, meterValue: [{ timestamp: new Date().toISOString(),
      sampledValue: [{ value: '99999', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
    assert.equal(ok[0], 3, `a reading once space returned: ${JSON.stringify(ok)}`);

    // nothing half-written: every 201 is there, the refused station is not
    for (const id of [...created, again.station_id]) assert.equal((await s.call('GET', `/stations/${id}`)).status, 200, id);
    assert.equal((await s.call('GET', `/stations/${full.id}`)).status, 404);
    assert.ok(env.mgmt.log.some((l) => / error mgmt storage_full /.test(l)), 'mgmt logged the full disk');
    assert.ok(env.gw.log.some((l) => /disk_full/.test(l)), 'the gateway logged the full disk');
  } finally {
    await unlink(filler).catch(() => {});
    r.ws.terminate();
  }
  const ic = spawnSync('sqlite3', [path.join(env.tmp, 'evgate.db'), 'PRAGMA integrity_check'], { encoding: 'utf8' });
  if (ic.status === 0) assert.equal(ic.stdout.trim(), 'ok');
});
