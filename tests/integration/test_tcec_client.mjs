// Integration test of evgate calling operator platforms over T/CEC 102 (issue 6, item 3): a
// platform written here with node:crypto (tests/integration/tcec_lib.mjs) holds 60 stations;
// evgate-gateway, given the operator's credentials through the mgmt API, obtains a token, pages
// through query_stations_info, asks query_station_status and query_station_stats for every
// station, renews its token before it expires, gets a new one when the platform says 4002, and
// records every call (secrets redacted); a platform whose answers carry a wrong signature is
// recorded as such. Real evgate-mgmt and evgate-gateway on loopback; the database is read with
// Debian's sqlite3 CLI.
//
// Run from tests/browser (its node_modules has the mgmt helpers' dependencies):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_tcec_client.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { lib, startGateway, until } from './ocpp_lib.mjs';
import { fakePlatform, fakeStation, platformOperator } from './tcec_lib.mjs';

const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;
const skip = !lib ? 'npm packages missing in tests/browser/node_modules (npm ci there)'
  : !hasSqlite ? 'the sqlite3 command-line tool is missing (apt-get install sqlite3)' : false;

const OUR_ID = 'EVGTEST01';
const env = { tmp: null, mgmt: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };

function sql(query) {
  const r = spawnSync('sqlite3', ['-json', '-readonly', path.join(env.tmp, 'evgate.db'), query], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

const exchanges = (operatorId) => sql(`SELECT interface, ret, reason, request, response FROM tcec_exchanges
  WHERE direction = 'out' AND operator_id = '${operatorId}' ORDER BY id`);

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-tcec-client-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
});

after(async () => {
  if (skip) return;
  await env.mgmt?.stop();
  if (env.tmp) await rm(env.tmp, { recursive: true, force: true });
});

test('evgate reads a platform: token, every page, status, stats; renews its token; records it all', { skip }, async () => {
  const stations = Array.from({ length: 60 }, (_, i) => fakeStation('ZSFAKE', i + 1));
  // a token of 10 s: a whole round (65 calls) fits in it even on a sanitized gateway, so the
  // renewal comes between rounds
  const fake = await fakePlatform({ keys: null, stations, tokenTtl: 10 });
  const op = await platformOperator(lib, env, fake.url);
  fake.state.keys = op.keys; // the platform holds the set evgate issued (docs/tcec.md)
  const gw = await startGateway(env.tmp, { EVGATE_TCEC_OPERATOR_ID: OUR_ID, EVGATE_TCEC_POLL_S: '2' });
  try {
    // the first round: one token, two pages of 50, two status batches, 60 stats
    await until(() => exchanges(op.operatorId).filter((x) => x.interface === 'query_station_stats').length >= 60,
      'a whole round of calls', 30000);
    const xs = exchanges(op.operatorId);
    const first = xs.slice(0, 1 + 2 + 2 + 60);
    assert.deepEqual(first.map((x) => x.interface), [
      'query_token', 'query_stations_info', 'query_stations_info', 'query_station_status', 'query_station_status',
      ...Array(60).fill('query_station_stats')], 'the calls of one round, in order');
    for (const x of first) assert.equal(x.ret, 0, JSON.stringify(x));
    for (const x of first) assert.equal(x.reason, null, JSON.stringify(x));
    const token = first[0];
    assert.equal(JSON.parse(token.request).OperatorSecret, '***', 'the secret is never recorded');
    assert.equal(JSON.parse(token.request).OperatorID, OUR_ID);
    assert.equal(JSON.parse(token.response).AccessToken, '***', 'nor the token');
    assert.deepEqual(first.slice(1, 3).map((x) => JSON.parse(x.request).PageNo), [1, 2]);
    assert.equal(JSON.parse(first[2].response).StationInfos.length, 10, 'the last page holds the rest');
    assert.equal(JSON.parse(first[3].request).StationIDs.length, 50);
    assert.deepEqual(JSON.parse(first[4].request).StationIDs, stations.slice(50).map((s) => s.StationID));
    // a token of 10 s is renewed before a later round's calls, without a 4002
    await until(() => exchanges(op.operatorId).filter((x) => x.interface === 'query_token').length >= 2,
      'a second query_token', 30000);
    assert.ok(!exchanges(op.operatorId).some((x) => x.reason), 'no call failed');

    // the platform says 4002 once: evgate gets a new token and asks again
    const before4002 = exchanges(op.operatorId).length;
    fake.state.refuseTokenOnce = true;
    await until(() => exchanges(op.operatorId).slice(before4002).some((x) => x.reason === 'token'), 'a 4002', 30000);
    await until(() => {
      const later = exchanges(op.operatorId).slice(before4002);
      const i = later.findIndex((x) => x.reason === 'token');
      return i >= 0 && later.slice(i + 1, i + 3).map((x) => x.interface).join() ===
        `query_token,${later[i].interface}`;
    }, 'a new token and the same call again', 30000);

    // answers with a wrong signature are recorded as such and their data is not used
    fake.state.badSig = true;
    const beforeBad = exchanges(op.operatorId).length;
    await until(() => exchanges(op.operatorId).slice(beforeBad).some((x) => x.reason === 'signature'),
      'a signature failure', 30000);
    fake.state.badSig = false;
  } finally {
    await gw.stop();
    await fake.close();
  }
});

test('a tcec_operator_id that is not an OperatorID stops the start, naming the setting', { skip }, async () => {
  await assert.rejects(startGateway(env.tmp, { EVGATE_TCEC_OPERATOR_ID: 'bad-id' }), /tcec_operator_id/);
});
