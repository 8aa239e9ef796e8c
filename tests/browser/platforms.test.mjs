// Browser end-to-end test of 平台互联 (T/CEC 102 interconnection): an operator with an approved
// self detection and credentials (made through the API) and an exchange log written straight
// into the database with the sqlite3 CLI (as the gateway writes it) opens 平台互联, sees its
// platform with its last contacts, opens it, reads the refusals counted by reason with their
// Chinese labels, filters the exchanges to failures and expands one to read the decoded request
// (pretty-printed text, never markup; the secrets redacted); the English switch shows English
// labels.
//
//   EVGATE_BUILD, EVGATE_SRC, EVGATE_SCREENSHOT_DIR as in lib.mjs

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as lib from './lib.mjs';

const { makePng, creditCode, uniq, shot } = lib;

const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;
const env = lib.useEnvironment();

const sqlText = (v) => (v === null || v === undefined ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);

/** Appends exchange rows [{operator_id, direction, interface, peer, at, ret, msg, reason,
 * request, response}] to tcec_exchanges (payloads as JSON text unless already strings). */
function insertExchanges(rows) {
  const payload = (p) => (p === null || p === undefined ? null : typeof p === 'string' ? p : JSON.stringify(p));
  const values = rows
    .map((r) => `(${[r.operator_id, r.direction, r.interface, r.peer, r.at, r.ret, r.msg, r.reason, payload(r.request), payload(r.response), 7].map(sqlText).join(', ')})`)
    .join(',\n');
  const sql = `INSERT INTO tcec_exchanges (operator_id, direction, interface, peer, at, ret, msg, reason, request, response, duration_ms) VALUES\n${values};`;
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 20000', path.join(env.tmp, 'evgate.db')], { input: sql, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** An active operator with an approved self detection and T/CEC credentials. */
async function operatorWithCredentials() {
  const op = { username: `pf_${uniq()}`, password: 'Operator-pass-1', company: `中山市互联测试充电有限公司${uniq()}`, creditCode: creditCode() };
  await lib.approvedOperator(env, op);
  const s = await lib.apiSession(env.mgmt.base, op.username, op.password);
  const created = await s.call('POST', '/detections', {
    mode: 'self',
    commissioning_unit: { name: op.company, credit_code: op.creditCode, address: '中山市石岐区孙文中路 1 号' },
    contact: { name: '周联调', mobile: '13700001111', email: 'zhou@example.com' },
    platform: { name: `互联测试平台${uniq()}`, base_url: 'https://platform.example.com/evcs/v1/', protocol_version: 'T/CEC 102-2016', source_ips: ['198.51.100.7'] },
    pile_summary: { brands: '万马', models: 'DC-60', ac_count: 0, dc_count: 6, protocols: ['platform'] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id } = created.body;
  const up = await s.upload(`/detections/${id}/materials`, 'file', makePng(200, 280), 'form.png', 'image/png');
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal((await s.call('POST', `/detections/${id}/submit`)).status, 200);
  const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
  assert.equal((await admin.call('POST', `/admin/detections/${id}/approve`, {})).status, 200);
  const cred = await s.call('POST', `/detections/${id}/credentials`);
  assert.equal(cred.status, 200, JSON.stringify(cred.body));
  return { ...op, platform: created.body.platform.name, cred: cred.body, operatorId: cred.body.operator_id };
}

describe('platform interconnection in the browser', { skip: hasSqlite ? false : 'the sqlite3 command-line tool is missing' }, () => {
  test('an operator sees its platform, refusals by reason, filters failures and reads a decoded payload', async () => {
    const op = await operatorWithCredentials();
    const oid = op.operatorId;
    // moments of today in China Standard Time (the day the counts of today use)
    const now = Math.floor(Date.now() / 1000);
    const t0 = Math.max(now - ((now + 8 * 3600) % 86400), now - 600);
    const base = { operator_id: oid, peer: '198.51.100.7', msg: '' };
    const status = { ConnectorStatusInfo: { ConnectorID: 'EQ1C1', Status: 3 } };
    insertExchanges([
      { ...base, direction: 'in', interface: 'query_token', at: t0 + 1, ret: 0, reason: null, request: { OperatorID: oid, OperatorSecret: op.cred.operator_secret }, response: { OperatorID: oid, SuccStat: 0, AccessToken: 'TOKEN-SECRET-abcdef123456', TokenAvailableTime: 7200, FailReason: 0 } },
      { ...base, direction: 'in', interface: 'notification_stationStatus', at: t0 + 2, ret: 0, reason: null, request: status, response: { Status: 0 } },
      { ...base, direction: 'in', interface: 'notification_stationStatus', at: t0 + 3, ret: 4001, msg: '签名错误', reason: 'signature', request: null, response: null },
      { ...base, direction: 'in', interface: 'notification_stationStatus', at: t0 + 4, ret: 4001, msg: '签名错误', reason: 'signature', request: null, response: null },
      { ...base, direction: 'in', interface: 'notification_stationInfo', at: t0 + 5, ret: 4004, msg: 'StationID ST-OTHER-9 is not yours', reason: 'not_owner', request: { StationInfo: { StationID: 'ST-OTHER-9', StationName: '<img src=x data-test=injected>' } }, response: null },
      { ...base, direction: 'out', interface: 'query_token', peer: 'https://platform.example.com/evcs/v1/query_token', at: t0 + 6, ret: 0, reason: null, request: { OperatorID: 'MA0000000', OperatorSecret: '***' }, response: { SuccStat: 0, AccessToken: '***' } },
      { ...base, direction: 'out', interface: 'query_stations_info', peer: 'https://platform.example.com/evcs/v1/query_stations_info', at: t0 + 7, ret: null, msg: 'connection refused', reason: 'network', request: { PageNo: 1, PageSize: 100 }, response: null },
    ]);

    await lib.withPage(env, 'platforms', async (page) => {
      await lib.login(page, env.mgmt.base, op.username, op.password);
      await page.getByTestId('nav-platforms').click();
      await page.getByRole('heading', { name: '平台互联', level: 1 }).waitFor();
      const row = page.getByTestId('platform-row').filter({ hasText: oid });
      await row.waitFor();
      assert.equal(await page.getByTestId('platform-row').count(), 1, 'only its own platform');
      assert.match(await row.textContent(), new RegExp(op.platform));
      assert.match(await row.getByTestId('last-in-at').textContent(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.match(await row.getByTestId('last-out-at').textContent(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.equal((await row.getByTestId('refused-today').textContent()).trim(), '3');
      assert.equal((await row.getByTestId('failed-out-today').textContent()).trim(), '1');
      await shot(page, 'platforms_list');

      await row.getByTestId('platform-view').click();
      await page.getByRole('heading', { name: new RegExp(`平台互联 · ${op.platform}`) }).waitFor();
      // last contact in each direction
      assert.equal((await page.getByTestId('pf-last-in-interface').textContent()).trim(), 'notification_stationInfo');
      assert.match(await page.getByTestId('pf-last-in-ret').textContent(), /4004 业务参数不合法/);
      assert.equal((await page.getByTestId('pf-last-out-interface').textContent()).trim(), 'query_stations_info');
      assert.match(await page.getByTestId('pf-last-out-ret').textContent(), /无应答/);
      // refusals by reason, with readable labels
      const refIn = page.getByTestId('refusals-in');
      const sig = refIn.locator('[data-test="refusal-row"][data-reason="signature"]');
      assert.equal((await sig.getByTestId('refusal-label').textContent()).trim(), '签名校验失败');
      assert.equal((await sig.getByTestId('refusal-count').textContent()).trim(), '2');
      const owner = refIn.locator('[data-test="refusal-row"][data-reason="not_owner"]');
      assert.equal((await owner.getByTestId('refusal-label').textContent()).trim(), '非本运营商数据');
      assert.equal((await owner.getByTestId('refusal-count').textContent()).trim(), '1');
      const net = page.getByTestId('refusals-out').locator('[data-test="refusal-row"][data-reason="network"]');
      assert.equal((await net.getByTestId('refusal-label').textContent()).trim(), '网络不通或无应答');
      // every exchange, newest first
      await page.getByTestId('exchange-row').first().waitFor();
      assert.equal(await page.getByTestId('exchange-row').count(), 7);

      // failures only
      const failedAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/tcec/platforms/${oid}/exchanges` && new URL(r.url()).searchParams.get('failed') === '1');
      await page.getByLabel('仅看失败').check();
      assert.equal((await failedAnswer).status(), 200);
      await page.waitForURL(/failed=1/);
      await page.getByTestId('exchange-row').first().waitFor();
      assert.equal(await page.getByTestId('exchange-row').count(), 4);
      for (const r of await page.getByTestId('exchange-row').all()) assert.notEqual(await r.getByTestId('result').getAttribute('data-reason'), null);
      assert.equal(await page.getByTestId('filter-failed').isChecked(), true);

      // expand the refused stationInfo: the decoded request, pretty-printed, as text
      const refused = page.getByTestId('exchange-row').filter({ hasText: 'notification_stationInfo' });
      await refused.getByTestId('exchange-toggle').click();
      const detail = page.getByTestId('exchange-detail').filter({ hasText: 'ST-OTHER-9' });
      const pre = detail.getByTestId('payload-request');
      await pre.waitFor();
      const text = await pre.textContent();
      assert.deepEqual(JSON.parse(text), { StationInfo: { StationID: 'ST-OTHER-9', StationName: '<img src=x data-test=injected>' } });
      assert.match(text, /\n {4}"StationID": "ST-OTHER-9"/, 'pretty-printed');
      assert.equal(await pre.locator('*').count(), 0, 'the payload is text, not markup');
      assert.equal(await page.locator('[data-test="injected"]').count(), 0);
      assert.equal((await detail.getByTestId('exchange-msg').textContent()).trim(), 'StationID ST-OTHER-9 is not yours');
      assert.equal((await detail.getByTestId('payload-response').textContent()).trim(), '（无）');
      await shot(page, 'platforms_detail');

      // the query_token exchange shows its payload with the secrets redacted
      await page.getByTestId('filter-reset').click();
      await page.waitForURL((u) => !/failed=1/.test(u.hash));
      await page.getByTestId('exchange-row').nth(6).waitFor();
      const tok = page.getByTestId('exchange-row').filter({ hasText: 'query_token' }).filter({ has: page.locator('[data-direction="in"]') });
      await tok.getByTestId('exchange-toggle').click();
      const tokDetail = page.getByTestId('exchange-detail').filter({ hasText: 'TokenAvailableTime' });
      assert.equal(JSON.parse(await tokDetail.getByTestId('payload-request').textContent()).OperatorSecret, '***');
      assert.equal(JSON.parse(await tokDetail.getByTestId('payload-response').textContent()).AccessToken, '***');
      const body = await page.locator('body').textContent();
      for (const k of ['operator_secret', 'data_secret', 'data_secret_iv', 'sig_secret']) assert.ok(!body.includes(op.cred[k]), `${k} shown`);
      assert.ok(!body.includes('TOKEN-SECRET-abcdef123456'), 'AccessToken shown');

      // English
      await page.getByTestId('lang-en').click();
      await page.getByRole('heading', { name: new RegExp(`Interconnection · ${op.platform}`) }).waitFor();
      await page.getByRole('heading', { name: 'Refusals and failures' }).waitFor();
      const sigEn = page.getByTestId('refusals-in').locator('[data-test="refusal-row"][data-reason="signature"]');
      assert.equal((await sigEn.getByTestId('refusal-label').textContent()).trim(), 'Signature mismatch');
      const ownerEn = page.getByTestId('refusals-in').locator('[data-test="refusal-row"][data-reason="not_owner"]');
      assert.equal((await ownerEn.getByTestId('refusal-label').textContent()).trim(), "Another operator's data");
      assert.match(await page.getByTestId('pf-last-in-ret').textContent(), /4004 Invalid business parameters/);
      assert.equal((await page.getByTestId('nav-platforms').textContent()).trim(), 'Platform interconnection');
      await page.getByLabel('Failures only').waitFor();
      await shot(page, 'platforms_detail_en');
    });
  });

  test('an admin sees every platform and searches by company', async () => {
    const a = await operatorWithCredentials();
    const b = await operatorWithCredentials();
    await lib.withPage(env, 'platforms_admin', async (page) => {
      await lib.login(page, env.mgmt.base, 'admin', env.adminPassword);
      await page.getByTestId('nav-platforms').click();
      await page.getByTestId('platform-row').filter({ hasText: a.operatorId }).waitFor();
      await page.getByTestId('platform-row').filter({ hasText: b.operatorId }).waitFor();
      await page.getByLabel('关键字').fill(b.company);
      await page.getByTestId('filter-submit').click();
      await page.waitForURL(/q=/);
      await page.getByTestId('platform-row').filter({ hasText: b.operatorId }).waitFor();
      assert.equal(await page.getByTestId('platform-row').count(), 1);
    });
  });
});
