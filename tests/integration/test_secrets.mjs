// Secrets never leak (issue 9, item 6): one scenario through both daemons uses every kind of
// secret evgate handles — the admin's and an operator's passwords (and wrong ones), a session
// cookie, a bearer token, pile passwords (right and wrong, as Basic-auth headers), the T/CEC
// credentials and the access tokens exchanged both ways — then searches every line either
// daemon logged, and every API answer read after the secret was first shown, for each of them,
// in clear and in the encodings they travel in (Basic auth's base64, URL encoding).
//
// Run from tests/browser (lib.mjs and its npm packages live there):
//   cd tests/browser && EVGATE_BUILD=../../build node --test ../integration/test_secrets.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BUILD, lib, startGateway, makeAccessedPiles, handshake, until, ok } from './ocpp_lib.mjs';
import { platformOperator, request as tcecRequest, openResponse } from './tcec_lib.mjs';

const skip = lib ? false : 'npm packages missing in tests/browser/node_modules (npm ci there)';
const PILE_SIM = path.join(BUILD, 'simulators', 'evsim-pile');
const PLATFORM_SIM = path.join(BUILD, 'simulators', 'evsim-platform');
const EVGATE_ID = 'EVGSECRET';

const env = { tmp: null, mgmt: null, gw: null, adminPassword: `Admin-pass-${randomBytes(6).toString('hex')}` };
/** name -> secret string: everything that must never appear again once shown. */
const secrets = new Map();
/** API answers read after the secrets were shown: [what, body text]. */
const answers = [];
const simOutput = [];

function keep(name, value) {
  assert.ok(typeof value === 'string' && value.length >= 8, `${name} is a usable secret: ${value}`);
  secrets.set(name, value);
}

/** Runs a simulator to its end; resolves {code, out}. */
function runSim(bin, args, ms = 60000) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${bin} ran over ${ms} ms:\n${out}`)); }, ms);
    proc.once('error', reject);
    proc.once('exit', (code) => {
      clearTimeout(t);
      simOutput.push(out);
      resolve({ code, out });
    });
  });
}

const sql = (q) => {
  const r = spawnSync('sqlite3', ['-json', '-readonly', path.join(env.tmp, 'evgate.db'), q], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
};

/** GET `p` with session `s`, kept for the search. */
async function read(s, p) {
  const r = await s.call('GET', p);
  assert.equal(r.status, 200, `${p}: ${JSON.stringify(r.body)}`);
  answers.push([p, JSON.stringify(r.body)]);
  return r.body;
}

before(async () => {
  if (skip) return;
  env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-secrets-'));
  env.mgmt = await lib.startMgmt(env.tmp, env.adminPassword);
  keep('admin password', env.adminPassword);
});

after(async () => {
  await env.gw?.stop();
  await env.mgmt?.stop();
  if (env.tmp) await rm(env.tmp, { recursive: true, force: true });
});

test('a full scenario leaves no secret in any log or later answer', { skip }, async () => {
  // --- mgmt: an operator with a platform, T/CEC credentials, a bearer token, piles
  const simPort = await lib.freePort();
  const o = await platformOperator(lib, env, `http://127.0.0.1:${simPort}/evcs/v1/`);
  keep('operator password', 'Correct-horse-1');
  for (const k of ['operator_secret', 'data_secret', 'data_secret_iv', 'sig_secret']) keep(`T/CEC ${k}`, o.keys[k]);
  const tok = ok(await o.session.call('POST', '/auth/tokens', { name: 'secrets-test' }), 201, 'token');
  keep('bearer token', tok.token);
  const bearer = await fetch(`${env.mgmt.base}/api/v1/me`, { headers: { Authorization: `Bearer ${tok.token}` } });
  assert.equal(bearer.status, 200, 'the token works');

  // logins that fail: a wrong password for a real user name, and for none
  const wrong = `Wrong-pass-${randomBytes(6).toString('hex')}`;
  keep('wrong login password', wrong);
  for (const username of ['admin', `nobody_${randomBytes(3).toString('hex')}`]) {
    const r = await fetch(`${env.mgmt.base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password: wrong }),
    });
    assert.equal(r.status, 401);
  }
  const badBearer = `evg_${randomBytes(20).toString('hex')}`;
  keep('unknown bearer token', badBearer);
  assert.equal((await fetch(`${env.mgmt.base}/api/v1/me`, { headers: { Authorization: `Bearer ${badBearer}` } })).status, 401);

  const made = await makeAccessedPiles(env, { a: 'ocpp1.6', b: 'ocpp2.0.1' });
  for (const [name, p] of Object.entries(made.piles)) {
    keep(`pile ${name} password`, p.password);
    keep(`pile ${name} Basic header`, Buffer.from(`${p.id}:${p.password}`).toString('base64'));
  }

  // --- the gateway: piles with right and wrong passwords
  env.gw = await startGateway(env.tmp, { EVGATE_TCEC_OPERATOR_ID: EVGATE_ID, EVGATE_TCEC_POLL_S: '1', EVGATE_TCEC_TOKEN_TTL_S: '3' });
  const a = made.piles.a;
  await until(async () => (await handshake(env.gw, a.id, { user: a.id, password: a.password, protocols: ['ocpp1.6'] })).status !== 404,
    'the gateway knows the piles');
  for (const p of Object.values(made.piles)) {
    const r = await runSim(PILE_SIM, ['--url', `${env.gw.ws}/ocpp`, '--ids', p.id, '--password', p.password,
      '--protocol', p.protocol, '--scenario', 'boot', '--duration', '5']);
    assert.equal(r.code, 0, r.out);
  }
  const wrongPile = randomBytes(16).toString('hex');
  keep('wrong pile password', wrongPile);
  keep('wrong pile Basic header', Buffer.from(`${a.id}:${wrongPile}`).toString('base64'));
  const refused = await handshake(env.gw, a.id, { user: a.id, password: wrongPile, protocols: ['ocpp1.6'] });
  assert.equal(refused.status, 401);

  // --- T/CEC both ways: the simulator pushes to evgate with the credentials and serves
  // evgate's queries; access tokens are issued in both directions and refreshed (3 s)
  const creds = ['--operator-id', o.operatorId, '--operator-secret', o.keys.operator_secret, '--data-secret',
    o.keys.data_secret, '--data-secret-iv', o.keys.data_secret_iv, '--sig-secret', o.keys.sig_secret];
  const plat = runSim(PLATFORM_SIM, [...creds, '--listen', `127.0.0.1:${simPort}`, '--evgate-url', `${env.gw.http}/evcs/v1/`,
    '--evgate-operator-id', EVGATE_ID, '--stations', '2', '--token-ttl-s', '3', '--status-interval-ms', '300',
    '--duration-s', '8', '--quiet']);
  const where = `operator_id = '${o.operatorId}' AND interface = 'query_token' AND ret = 0`;
  await until(() => sql(`SELECT count(*) AS n FROM tcec_exchanges WHERE ${where} AND direction = 'in'`)[0].n >= 2
    && sql(`SELECT count(*) AS n FROM tcec_exchanges WHERE ${where} AND direction = 'out'`)[0].n >= 1,
  'tokens issued both ways, one refreshed', 30000, 200);
  const r = await plat;
  assert.equal(r.code, 0, r.out);
  // an AccessToken evgate issues, asked for here so that its value is known (evgate stores only
  // its hash), and used for a push
  const call = async (iface, payload, token) => {
    const res = await fetch(`${env.gw.http}/evcs/v1/${iface}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(tcecRequest(o.keys, payload)),
    });
    assert.equal(res.status, 200, iface);
    return openResponse(o.keys, await res.json());
  };
  const issued = await call('query_token', { OperatorID: o.operatorId, OperatorSecret: o.keys.operator_secret });
  assert.equal(issued.payload?.SuccStat, 0, JSON.stringify(issued));
  keep('T/CEC AccessToken issued by evgate', issued.payload.AccessToken);
  const pushed = await call('notification_stationStatus', { ConnectorStatusInfo: { ConnectorID: 'NOSUCHCONN01', Status: 2 } },
    issued.payload.AccessToken);
  assert.notEqual(pushed.ret, 4002, 'the token was accepted');

  // --- API answers after the secrets were shown
  await read(o.session, '/me');
  await read(o.session, `/detections/${o.detectionId}`);
  await read(o.session, '/auth/tokens');
  await read(o.session, '/tcec/platforms');
  await read(o.session, `/tcec/platforms/${o.operatorId}`);
  await read(o.session, `/tcec/platforms/${o.operatorId}/exchanges`);
  for (const p of Object.values(made.piles)) {
    await read(made.session, `/piles/${p.id}`);
    await read(made.session, `/piles/${p.id}/live`);
  }
  const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
  await read(admin, `/tcec/platforms/${o.operatorId}/exchanges`);
  await read(admin, '/piles');

  // --- the search
  await env.gw.stop();
  await env.mgmt.stop();
  const logs = { gateway: env.gw.log.join('\n'), mgmt: env.mgmt.log.join('\n') };
  assert.ok(logs.gateway.includes(' listening ') && logs.mgmt.includes(' listening '), 'the logs were captured');
  assert.ok(/handshake|refused|401/.test(logs.gateway), 'the refused pile was logged (without its password)');
  const leaks = [];
  for (const [name, value] of secrets) {
    for (const form of new Set([value, encodeURIComponent(value)])) {
      for (const [daemon, text] of Object.entries(logs)) if (text.includes(form)) leaks.push(`${name} in the ${daemon} log`);
      for (const [what, body] of answers) if (body.includes(form)) leaks.push(`${name} in GET ${what}`);
    }
  }
  assert.deepEqual(leaks, [], 'secrets leaked');
  // the scenario really used them: the simulators saw tokens and answers
  assert.ok(secrets.size >= 14, `${secrets.size} secrets searched`);
});
