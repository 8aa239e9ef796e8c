// Browser end-to-end test of 首页, the admins' dashboard: three accessed piles (made through the
// mgmt API) and what the gateway would have stored of them written with the sqlite3 CLI — two
// online with connector statuses, one offline, a finished charging session of 12.5 kWh today,
// five online-pile samples, a protocol violation and a refused handshake — and an operator
// waiting for review. The admin logs in and lands on the dashboard, reads the figures of that
// scenario in the cards and tables, finds a dot of the chart per sample (and the numbers in its
// title, description and data table), follows the pending-review link to the account review
// list, and switches to English. An operator still lands on 我的账号.
//
//   EVGATE_BUILD, EVGATE_SRC, EVGATE_SCREENSHOT_DIR as in lib.mjs

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as lib from './lib.mjs';
import { makeAccessedPiles } from '../integration/ocpp_lib.mjs';

const { uniq, creditCode, shot } = lib;

const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;
const env = lib.useEnvironment();
const SAMPLES = [3, 1, 2, 2, 2]; // 5, 4, 3, 2 and 1 hours ago

function sql(text) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 20000', path.join(env.tmp, 'evgate.db')], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

describe('the admin dashboard in the browser', { skip: hasSqlite ? false : 'the sqlite3 command-line tool is missing' }, () => {
  const s = {};

  before(async () => {
    const { piles, op } = await makeAccessedPiles(env, { a: 'ocpp1.6', b: 'ocpp1.6', c: 'ocpp2.0.1' });
    Object.assign(s, { a: piles.a.id, b: piles.b.id, c: piles.c.id, op });
    s.pending = { username: `dash_${uniq()}`, password: 'Operator-pass-1', company: `中山市首页待审核充电有限公司${uniq()}`, creditCode: creditCode() };
    await lib.registerOperator(env.mgmt.base, s.pending);
    const now = Math.floor(Date.now() / 1000);
    // "today" is the day in UTC+8 (mgmt/api_dashboard.c): in the first minutes after its
    // midnight, a session begun 5 minutes ago began yesterday and the cards rightly show 0
    const dayStart = now - ((now + 8 * 3600) % 86400);
    const txStart = Math.max(now - 300, dayStart);
    const txStop = Math.max(now - 60, txStart);
    sql(`
      INSERT INTO pile_sessions (equipment_id, protocol, connected_at, disconnected_at) VALUES
        ('${s.a}', 'ocpp1.6', ${now - 900}, NULL), ('${s.c}', 'ocpp2.0.1', ${now - 900}, NULL),
        ('${s.b}', 'ocpp1.6', ${now - 7200}, ${now - 3600});
      INSERT INTO ocpp_connectors (equipment_id, connector_id, evse_connector_id, status, tcec_status, updated_at) VALUES
        ('${s.a}', 0, 0, 'Available', 1, ${now}), ('${s.a}', 1, 0, 'Charging', 3, ${now}),
        ('${s.a}', 2, 0, 'Available', 1, ${now}), ('${s.c}', 1, 1, 'Available', 1, ${now}),
        ('${s.b}', 1, 0, 'Faulted', 255, ${now - 3600});
      INSERT INTO ocpp_transactions (equipment_id, connector_id, id_tag, started_at, stopped_at, meter_start_wh, meter_stop_wh, energy_wh, stop_reason, updated_at)
        VALUES ('${s.a}', 1, 'CARD1', ${txStart}, ${txStop}, 1000, 13500, 12500, 'Local', ${txStop});
      INSERT INTO pile_violations (equipment_id, at, code, path, reason, frame)
        VALUES ('${s.a}', ${now - 120}, 'FormationViolation', '$.connectorId', 'not an integer', '[2,"1","StatusNotification",{}]');
      INSERT INTO ocpp_refusals (at, equipment_id, status, reason, peer) VALUES (${now - 30}, 'NOSUCHPILE', 404, 'unknown_pile', '127.0.0.1');
      ${SAMPLES.map((n, i) => `INSERT INTO pile_online_samples (at, online) VALUES (${now - (SAMPLES.length - i) * 3600}, ${n});`).join('\n')}
    `);
  });

  test('an admin lands on the dashboard, reads the figures, follows a review link, switches to English', async () => {
    await lib.withPage(env, 'dashboard', async (page) => {
      await lib.login(page, env.mgmt.base, 'admin', env.adminPassword);
      await page.getByRole('heading', { name: '平台运行概况' }).waitFor();
      assert.match(page.url(), /#\/dashboard$/);
      // the first entry of the menu, and the current one
      const first = page.locator('#sidenav .nav-link').first();
      assert.equal(await first.getAttribute('data-test'), 'nav-dashboard');
      assert.equal(await first.getAttribute('aria-current'), 'page');
      assert.equal((await first.textContent()).trim(), '首页');

      // the cards
      const online = page.getByTestId('dash-online');
      await online.getByTestId('dash-online-value').filter({ hasText: /^2$/ }).waitFor();
      await online.getByText('已接入 3 台').waitFor();
      assert.equal(await page.getByTestId('dash-offline').textContent(), '离线 1 台');
      assert.equal(await page.getByTestId('dash-energy-value').textContent(), '12.50');
      assert.equal(await page.getByTestId('dash-sessions-value').textContent(), '1');
      await page.getByTestId('dash-sessions').getByText('已结束 1 次').waitFor();
      assert.equal(await page.getByTestId('dash-pending-total-value').textContent(), '1');

      // piles by protocol
      const row = (p) => page.locator(`[data-test="dash-protocol-row"][data-protocol="${p}"]`);
      const cells = async (p) => [await row(p).getByTestId('accessed').textContent(), await row(p).getByTestId('online').textContent(), await row(p).getByTestId('offline').textContent()];
      assert.deepEqual(await cells('ocpp1.6'), ['2', '1', '1']);
      assert.deepEqual(await cells('ocpp2.0.1'), ['1', '1', '0']);
      assert.deepEqual(await cells('platform'), ['0', '0', '0']);

      // connector statuses: connector 0 left out, the offline pile's connector as 离线
      const status = async (st) => page.locator(`[data-test="dash-connector-status"][data-status="${st}"]`).getByTestId('count').textContent();
      assert.equal(await status('Available'), '2');
      assert.equal(await status('Charging'), '1');
      assert.equal(await status('Offline'), '1');
      await page.locator('[data-test="dash-connector-status"][data-status="Charging"]').getByText('充电中').waitFor();
      assert.equal(await page.locator('[data-test="dash-connector-status"][data-status="Faulted"]').count(), 0, 'the offline pile counts as offline');

      // the chart: a dot per sample, in order, and the numbers for screen readers
      const chart = page.getByTestId('dash-chart');
      const dots = chart.getByTestId('chart-point');
      assert.equal(await dots.count(), SAMPLES.length);
      assert.deepEqual(await dots.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-online')))), SAMPLES);
      const xs = await dots.evaluateAll((els) => els.map((e) => Number(e.getAttribute('cx'))));
      assert.deepEqual(xs, [...xs].sort((p, q) => p - q), 'oldest on the left');
      const ys = await dots.evaluateAll((els) => els.map((e) => Number(e.getAttribute('cy'))));
      assert.ok(ys[0] < ys[1] && ys[2] === ys[4] && ys[1] > ys[2], `heights follow the values: ${ys}`);
      assert.equal(await chart.getAttribute('role'), 'img');
      assert.equal(await chart.locator('title').first().textContent(), '近 24 小时在线充电桩');
      assert.equal(await chart.locator('desc').textContent(), '共 5 个采样点，最高 3 台，最低 1 台，最新 2 台。');
      const labelled = await chart.evaluate((el) => el.getAttribute('aria-labelledby').split(' ').map((id) => document.getElementById(id)?.textContent));
      assert.deepEqual(labelled, ['近 24 小时在线充电桩', '共 5 个采样点，最高 3 台，最低 1 台，最新 2 台。']);
      await page.getByText('查看数据表').click();
      assert.deepEqual(await page.getByTestId('dash-chart-table').locator('tbody td.num').allTextContents(), SAMPLES.map(String));

      // the newest violations: the refused handshake, then the protocol violation of pile a
      const viol = page.getByTestId('dash-violation');
      assert.equal(await viol.count(), 2);
      assert.equal(await viol.nth(0).getAttribute('data-kind'), 'handshake_refused');
      await viol.nth(0).getByText('NOSUCHPILE').waitFor();
      assert.equal(await viol.nth(0).getByTestId('code').textContent(), '未登记的充电桩');
      assert.equal(await viol.nth(1).getAttribute('data-kind'), 'ocpp_violation');
      assert.equal(await viol.nth(1).getByRole('link', { name: s.a }).getAttribute('href'), `#/piles/${s.a}`);
      await shot(page, 'dashboard');

      // 待办审核: the waiting registration, and its link to the review list
      const accounts = page.getByTestId('dash-pending-accounts');
      assert.equal(await accounts.getByTestId('count').textContent(), '1');
      assert.equal(await page.getByTestId('dash-pending-detections').getByTestId('count').textContent(), '0');
      await accounts.click();
      await page.getByRole('heading', { name: '账号审核' }).waitFor();
      assert.match(page.url(), /#\/admin\/accounts\?status=pending$/);
      await page.getByRole('row').filter({ hasText: s.pending.company }).waitFor();

      // back home through the menu, then in English
      await page.getByTestId('nav-dashboard').click();
      await page.getByRole('heading', { name: '平台运行概况' }).waitFor();
      await page.getByTestId('lang-en').click();
      await page.getByRole('heading', { name: 'Platform overview' }).waitFor();
      await page.getByTestId('dash-online').getByRole('heading', { name: 'Piles online' }).waitFor();
      await page.getByTestId('dash-online').getByText('3 accessed').waitFor();
      assert.equal(await page.getByTestId('nav-dashboard').textContent(), 'Home');
      await page.locator('[data-test="dash-connector-status"][data-status="Offline"]').getByText('Offline').waitFor();
      await page.getByTestId('dash-pending-accounts').getByText('Registrations to review').waitFor();
      assert.equal(await page.getByTestId('dash-chart').locator('title').first().textContent(), 'Piles online, last 24 hours');
      assert.equal(await page.getByTestId('dash-violation').nth(0).getByTestId('code').textContent(), 'Unknown pile');
      await shot(page, 'dashboard_en');
      await page.getByTestId('lang-zh').click();
      await page.getByRole('heading', { name: '平台运行概况' }).waitFor();
    });
  });

  test('an operator keeps its own home page and cannot open the dashboard', async () => {
    await lib.withPage(env, 'dashboard_operator', async (page) => {
      await lib.login(page, env.mgmt.base, s.op.username, s.op.password);
      await page.getByTestId('nav-account').waitFor();
      assert.equal(await page.getByTestId('nav-dashboard').count(), 0);
      await page.goto(`${env.mgmt.base}/#/dashboard`);
      await page.waitForURL(/#\/account$/);
    });
  });
});
