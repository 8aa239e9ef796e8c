// Browser end-to-end test of 充电设施接入 → 申请接入 and the records pages: an operator that
// passes the access gate (made through the API: registered, approved, a self detection with a
// material, submitted, approved, verdict passed) opens 申请接入 → 新建申请, downloads the
// stations template, uploads a stations file whose station name has a trailing space and sees
// the error table pointing at sheet/row/column with the suggestion, uploads the corrected file,
// uploads a valid piles file and submits; the admin approves it in 接入审核; the operator finds
// the piles 已接入 in 我的充电桩 and takes their passwords once. A second test adds a station and
// a pile with its connectors through the forms, the server's suggestion applied in one click.
//
//   EVGATE_BUILD, EVGATE_SRC, EVGATE_SCREENSHOT_DIR as in lib.mjs

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as lib from './lib.mjs';

const { makePng, makeXlsx, creditCode, uniq, shot, logout } = lib;

const env = lib.useEnvironment();
const withPage = (name, fn) => lib.withPage(env, name, fn, { acceptDownloads: true });
const login = (page, username, password) => lib.login(page, env.mgmt.base, username, password);
const isApi = (p, method) => (r) => new URL(r.url()).pathname === `/api/v1${p}` && (!method || r.request().method() === method);

function operator(prefix) {
  const u = uniq();
  return { username: `${prefix}_${u}`, password: `Op-pass-${u}-x`, company: `中山市${u}新能源科技有限公司`, creditCode: creditCode() };
}

/** An active operator with a passed self detection: it passes the access gate. */
async function gatedOperator(prefix) {
  const op = operator(prefix);
  await lib.approvedOperator(env, op);
  const s = await lib.apiSession(env.mgmt.base, op.username, op.password);
  const created = await s.call('POST', '/detections', {
    mode: 'self',
    commissioning_unit: { name: op.company, credit_code: op.creditCode, address: '中山市石岐区孙文中路 1 号' },
    contact: { name: '周联调', mobile: '13700001111', email: 'zhou@example.com' },
    platform: { name: `星联平台${uniq()}`, base_url: 'https://platform.example.com/evcs/v1/', protocol_version: 'T/CEC 102-2016', source_ips: ['198.51.100.7'] },
    pile_summary: { brands: '万马', models: 'DC-60', ac_count: 0, dc_count: 6, protocols: ['ocpp1.6'] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id } = created.body;
  const up = await s.upload(`/detections/${id}/materials`, 'file', makePng(200, 280), 'form.png', 'image/png');
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal((await s.call('POST', `/detections/${id}/submit`)).status, 200);
  const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
  const ok = await admin.call('POST', `/admin/detections/${id}/approve`, {});
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const verdict = await admin.call('POST', `/admin/detections/${id}/verdict`, { verdict: 'passed', note: '线下联调通过' });
  assert.equal(verdict.status, 200, JSON.stringify(verdict.body));
  const gate = await s.call('GET', '/access-gate');
  assert.equal(gate.body.allowed, true, JSON.stringify(gate.body));
  return { op, session: s };
}

const STATION_HEAD = ['充电站编号*', '充电站名称*', '行政区划代码*', '详细地址*', '站点电话', '服务电话*', '站点类型*', '站点状态*', '车位数量*', '经度*', '纬度*', '建设场所*'];
const stationRow = (sid, name) => [sid, name, '442000', '中山市东区中山四路88号', '', '0760-88880000', 1, 50, 12, 113.392782, 22.517646, 1];
const PILE_HEAD = ['充电桩编码*', '充电站编号*', '生产商名称', '设备型号', '设备类型*', '额定功率(kW)*', '接入协议*'];
const CONN_HEAD = ['充电接口编码*', '充电桩编码*', '接口序号*', '接口名称', '接口类型*', '额定电压上限(V)*', '额定电压下限(V)*', '额定电流(A)*', '额定功率(kW)*', '国家标准*'];

describe('access applications and records in the browser', () => {
  test('import with an error table, submit, admin approval, piles accessed with passwords', async () => {
    const { op } = await gatedOperator('ri');
    const u = uniq().toUpperCase();
    const sid = `ZS${u}`;
    const stationName = '中山东区公共充电站';
    const piles = [`P${u}01`, `P${u}02`];
    const badStations = path.join(env.tmp, '1.先导入-充电站信息-有空格.xlsx');
    const goodStations = path.join(env.tmp, '1.先导入-充电站信息.xlsx');
    const pileFile = path.join(env.tmp, '2.后导入-充电桩信息.xlsx');
    await writeFile(badStations, makeXlsx({ 充电站: [STATION_HEAD, stationRow(sid, `${stationName} `)] }));
    await writeFile(goodStations, makeXlsx({ 充电站: [STATION_HEAD, stationRow(sid, stationName)] }));
    const pileBook = (power) =>
      makeXlsx({
        充电桩: [PILE_HEAD, ...piles.map((p) => [p, sid, '万马', 'DC-60', 1, 60, 'ocpp1.6'])],
        充电枪: [CONN_HEAD, ...piles.flatMap((p) => [[`${p}A`, p, 1, '1号枪', 4, 750, 200, 80, 60, 2], [`${p}B`, p, 2, '2号枪', 4, 750, 200, 80, power, 2]])],
      });
    const badPileFile = path.join(env.tmp, '2.后导入-充电桩信息-文本数字.xlsx');
    await writeFile(badPileFile, pileBook('６０'));
    await writeFile(pileFile, pileBook(60));

    await withPage('records_import', async (page) => {
      await login(page, op.username, op.password);
      await page.getByTestId('nav-access').click();
      await page.getByRole('heading', { name: '申请接入', level: 1 }).waitFor();
      await page.getByTestId('access-gate').getByText('可以申请接入').waitFor();
      const newBtn = page.getByRole('button', { name: '新建申请' });
      await page.waitForFunction((el) => !el.disabled, await newBtn.elementHandle());
      let answered = page.waitForResponse(isApi('/access-applications', 'POST'));
      await newBtn.click();
      const created = await answered;
      assert.equal(created.status(), 201);
      const app = await created.json();
      await page.getByRole('heading', { name: '1、上传充电站信息' }).waitFor();
      await page.getByTestId('guide-warning').getByText('多一个空格都可能导致申请失败').waitFor();

      // The template downloads as an xlsx (a zip).
      const downloaded = page.waitForEvent('download');
      await page.getByRole('link', { name: '《1.先导入-充电站信息.xlsx》' }).first().click();
      const download = await downloaded;
      assert.match(download.suggestedFilename(), /\.xlsx$/);
      const tpl = await readFile(await download.path());
      assert.equal(tpl.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'the template is a zip (xlsx)');
      await shot(page, 'access_wizard_1_stations');

      // A station name with a trailing space: the error table names the cell and the fix.
      answered = page.waitForResponse(isApi(`/access-applications/${app.id}/stations`, 'POST'));
      await page.getByTestId('import-file-stations').setInputFiles(badStations);
      assert.equal((await answered).status(), 422);
      const problem = page.getByTestId('import-problem').filter({ hasText: '充电站名称' });
      await problem.waitFor();
      assert.equal(await problem.getAttribute('data-sheet'), '充电站');
      assert.equal(await problem.getAttribute('data-row'), '2');
      assert.equal(await problem.getAttribute('data-column'), '充电站名称');
      assert.equal(await problem.getAttribute('data-code'), 'spaces');
      assert.equal(await problem.getByTestId('problem-value').getAttribute('data-raw'), `${stationName} `);
      assert.equal(await problem.getByTestId('problem-value').innerText(), `${stationName}·`, 'the trailing space is visible');
      assert.equal(await problem.getByTestId('problem-suggestion').innerText(), stationName);
      await problem.getByText('开头、结尾有空格或含连续空格').waitFor();
      await page.getByTestId('spaces-warning').waitFor();
      await shot(page, 'access_wizard_1_errors');

      // The corrected file passes: on to ② 上传充电桩信息.
      answered = page.waitForResponse(isApi(`/access-applications/${app.id}/stations`, 'POST'));
      await page.getByTestId('import-file-stations').setInputFiles(goodStations);
      assert.equal((await answered).status(), 200);
      await page.getByRole('heading', { name: '2、上传充电桩信息' }).waitFor();
      await page.getByTestId('import-ok').getByText('已导入 1 个充电站').waitFor();
      await page.getByRole('link', { name: '《2.后导入-充电桩信息.xlsx》' }).first().waitFor();
      await shot(page, 'access_wizard_2_piles');

      // A connector's power typed with full-width digits: the 充电枪 sheet's cell is named.
      answered = page.waitForResponse(isApi(`/access-applications/${app.id}/piles`, 'POST'));
      await page.getByTestId('import-file-piles').setInputFiles(badPileFile);
      assert.equal((await answered).status(), 422);
      const bad = page.getByTestId('import-problem').filter({ hasText: '充电枪' });
      await bad.nth(1).waitFor(); // the table is drawn after the answer arrives
      assert.equal(await bad.count(), 2, 'one problem per pile\'s second connector');
      assert.equal(await bad.first().getAttribute('data-row'), '3');
      assert.equal(await bad.first().getAttribute('data-column'), '额定功率(kW)');
      assert.equal(await bad.first().getAttribute('data-code'), 'full_width');
      assert.equal(await bad.first().getByTestId('problem-suggestion').innerText(), '60');
      await shot(page, 'access_wizard_2_errors');

      answered = page.waitForResponse(isApi(`/access-applications/${app.id}/piles`, 'POST'));
      await page.getByTestId('import-file-piles').setInputFiles(pileFile);
      const pileAnswer = await answered;
      assert.equal(pileAnswer.status(), 200, await pileAnswer.text());

      // ③ 确认提交: the counts and the staged lists.
      await page.getByRole('heading', { name: '3、确认提交' }).waitFor();
      assert.equal(await page.getByTestId('count-stations').innerText(), '1');
      assert.equal(await page.getByTestId('count-piles').innerText(), '2');
      await page.getByTestId('staged-station').filter({ hasText: sid }).getByText(stationName).waitFor();
      for (const p of piles) await page.getByTestId('staged-pile').filter({ hasText: p }).waitFor();
      await shot(page, 'access_wizard_3_submit');
      await page.getByRole('button', { name: '提交', exact: true }).click();
      answered = page.waitForResponse(isApi(`/access-applications/${app.id}/submit`, 'POST'));
      await page.getByRole('dialog').getByRole('button', { name: '提交' }).click();
      assert.equal((await answered).status(), 200);
      await page.getByTestId('flash').filter({ hasText: '接入申请已提交' }).waitFor();
      await page.getByTestId('status-card').getByTestId('status-badge').filter({ hasText: '已提交' }).waitFor();
      await page.getByTestId('nav-access').click();
      await page.getByTestId('access-row').filter({ hasText: '已提交' }).waitFor();
      await shot(page, 'access_list');
      await logout(page);

      // The admin approves it in 接入审核.
      await login(page, 'admin', env.adminPassword);
      await page.getByRole('link', { name: '接入审核' }).click();
      await page.getByRole('heading', { name: '接入审核' }).waitFor();
      const queued = page.getByTestId('access-review-row').filter({ hasText: op.company });
      await queued.filter({ hasText: '已提交' }).waitFor();
      await shot(page, 'admin_access_list');
      await queued.getByRole('link', { name: '审核' }).click();
      await page.getByTestId('staged-station').filter({ hasText: sid }).waitFor();
      await page.getByTestId('staged-pile').filter({ hasText: piles[1] }).waitFor();
      await shot(page, 'admin_access_detail');
      // 驳回 needs a reason: the dialog says so, then is cancelled.
      await page.getByRole('button', { name: '驳回' }).click();
      await page.getByRole('dialog').getByRole('button', { name: '驳回' }).click();
      await page.getByRole('dialog').getByTestId('error-reason').getByText('请填写驳回原因').waitFor();
      await page.getByRole('dialog').getByRole('button', { name: '取消' }).click();
      await page.getByRole('button', { name: '通过' }).click();
      await page.getByRole('dialog').getByText(op.company).waitFor();
      answered = page.waitForResponse(isApi(`/admin/access-applications/${app.id}/approve`, 'POST'));
      await page.getByRole('dialog').getByRole('button', { name: '通过' }).click();
      assert.equal((await answered).status(), 200);
      await page.getByTestId('status-card').getByTestId('status-badge').filter({ hasText: '审核通过' }).waitFor();
      await page.getByTestId('audit-row').filter({ hasText: '审核通过' }).waitFor();
      await logout(page);

      // The operator: the piles are 已接入; their passwords are shown once.
      await login(page, op.username, op.password);
      await page.getByRole('link', { name: '我的充电桩' }).click();
      await page.getByRole('heading', { name: '我的充电桩', level: 1 }).waitFor();
      for (const p of piles) await page.getByTestId('pile-row').filter({ hasText: p }).getByTestId('status-badge').filter({ hasText: '已接入' }).waitFor();
      await shot(page, 'pile_list');
      await page.getByRole('link', { name: '我的充电站' }).click();
      await page.getByTestId('station-row').filter({ hasText: sid }).getByTestId('status-badge').filter({ hasText: '已接入' }).waitFor();
      await shot(page, 'station_list');

      await page.goto(`${env.mgmt.base}/#/access/${app.id}`);
      await page.getByTestId('passwords-card').getByRole('button', { name: '获取充电桩密码' }).click();
      answered = page.waitForResponse(isApi(`/access-applications/${app.id}/pile-passwords`, 'POST'));
      await page.getByRole('dialog').getByRole('button', { name: '获取充电桩密码' }).click();
      assert.equal((await answered).status(), 200);
      const dialog = page.getByTestId('dialog-passwords');
      await dialog.getByText('仅显示这一次').waitFor();
      for (const p of piles) {
        const value = await dialog.getByTestId('password-row').filter({ hasText: p }).getByTestId('pile-password-value').inputValue();
        assert.match(value, /^[0-9a-f]{32}$/, `${p} has a 128-bit password`);
      }
      const csv = page.waitForEvent('download');
      await dialog.getByRole('link', { name: '下载 CSV' }).click();
      const csvText = await readFile(await (await csv).path(), 'utf8');
      assert.match(csvText, new RegExp(`${piles[0]},[0-9a-f]{32}`));
      await shot(page, 'access_passwords');
      await dialog.getByRole('button', { name: '我已保存，关闭' }).click();
      await dialog.waitFor({ state: 'detached' });
    });
  });

  test('a station and a pile with connectors through the forms; the suggestion applied in one click', async () => {
    const { op } = await gatedOperator('rf');
    const u = uniq().toUpperCase();
    const sid = `FS${u}`;
    const eid = `FP${u}`;
    await withPage('records_forms', async (page) => {
      await login(page, op.username, op.password);
      await page.getByRole('link', { name: '我的充电站' }).click();
      await page.getByRole('link', { name: '新增充电站' }).click();
      const form = page.getByTestId('station-form');
      await form.waitFor();
      await page.getByLabel('充电站编号', { exact: true }).fill(sid);
      await page.getByLabel('充电站名称', { exact: true }).fill('石岐  充电站');
      await page.getByTestId('area-province').selectOption({ label: '广东省' });
      await page.getByTestId('area-city').selectOption({ label: '中山市' });
      await page.getByLabel('详细地址', { exact: true }).fill('中山市石岐区民族路1号');
      await page.getByLabel('服务电话', { exact: true }).fill('0760-88880001');
      await page.getByLabel('站点类型', { exact: true }).selectOption('1');
      await page.getByLabel('站点状态', { exact: true }).selectOption('50');
      await page.getByLabel('建设场所', { exact: true }).selectOption('6');
      await page.getByLabel('车位数量', { exact: true }).fill('8');
      await page.getByLabel('经度', { exact: true }).fill('113.377');
      await page.getByLabel('纬度', { exact: true }).fill('22.522');
      let answered = page.waitForResponse(isApi('/stations', 'POST'));
      await page.getByRole('button', { name: '提交' }).click();
      assert.equal((await answered).status(), 422);
      const suggest = page.getByTestId('suggest-name');
      await suggest.getByText('建议改为：').waitFor();
      assert.equal(await page.getByTestId('error-name').innerText(), '开头、结尾有空格或含连续空格');
      await shot(page, 'station_form_error');
      await suggest.getByRole('button', { name: '应用' }).click();
      assert.equal(await page.getByLabel('充电站名称', { exact: true }).inputValue(), '石岐 充电站');
      answered = page.waitForResponse(isApi('/stations', 'POST'));
      await page.getByRole('button', { name: '提交' }).click();
      assert.equal((await answered).status(), 201);
      await page.getByTestId('station-row').filter({ hasText: sid }).getByText('广东省 / 中山市').waitFor();

      // A pile with two connectors; the second one's power is too high for the pile.
      await page.getByRole('link', { name: '我的充电桩' }).click();
      await page.getByRole('link', { name: '新增充电桩' }).click();
      await page.getByTestId('pile-form').waitFor();
      await page.getByLabel('充电桩编码', { exact: true }).fill(eid);
      await page.getByLabel('所属充电站', { exact: true }).selectOption(sid);
      await page.getByLabel('设备类型', { exact: true }).selectOption('2');
      await page.getByLabel('接入协议', { exact: true }).selectOption('ocpp2.0.1');
      await page.getByLabel('额定功率(kW)', { exact: true }).fill('7');
      const fillConnector = async (n, values) => {
        const row = page.getByTestId('connector-row').nth(n - 1);
        for (const [name, v] of Object.entries(values)) {
          const cell = row.getByTestId(`connector-${name}`);
          if ((await cell.evaluate((el) => el.tagName)) === 'SELECT') await cell.selectOption(v);
          else await cell.fill(v);
        }
      };
      const conn = { connector_type: '3', voltage_upper_limits: '250', voltage_lower_limits: '180', current: '32', national_standard: '2' };
      await fillConnector(1, { connector_id: `${eid}1`, power: '7', ...conn });
      await page.getByRole('button', { name: '+ 新增充电枪' }).click();
      await fillConnector(2, { connector_id: `${eid}2`, power: '70', ...conn });
      answered = page.waitForResponse(isApi('/piles', 'POST'));
      await page.getByRole('button', { name: '保存', exact: true }).click();
      assert.equal((await answered).status(), 422);
      const second = page.getByTestId('connector-row').nth(1);
      await second.locator('.conn-power.has-error').waitFor();
      assert.equal(await page.getByTestId('connector-row').first().locator('.has-error').count(), 0);
      await shot(page, 'pile_form_error');
      // Removing the first connector renumbers the second as 1.
      await page.getByTestId('connector-row').first().getByTestId('connector-remove').click();
      assert.equal(await page.getByTestId('connector-row').count(), 1);
      assert.equal(await page.getByTestId('connector-row').first().locator('.conn-num').innerText(), '1');
      await page.getByTestId('connector-row').first().getByTestId('connector-power').fill('7');
      answered = page.waitForResponse(isApi('/piles', 'POST'));
      await page.getByRole('button', { name: '保存', exact: true }).click();
      const saved = await answered;
      assert.equal(saved.status(), 201, await saved.text());
      const body = await saved.json();
      assert.deepEqual(body.connectors.map((c) => [c.connector_id, c.ocpp_connector_id]), [[`${eid}2`, 1]]);

      // Select the draft pile and submit it for access.
      const row = page.getByTestId('pile-row').filter({ hasText: eid });
      await row.getByTestId('status-badge').filter({ hasText: '草稿' }).waitFor();
      await row.getByTestId('pile-select').check();
      await shot(page, 'pile_list_draft');
      await page.getByRole('button', { name: '提交接入申请' }).click();
      answered = page.waitForResponse(isApi('/piles/submit', 'POST'));
      await page.getByRole('dialog').getByRole('button', { name: '提交接入申请' }).click();
      assert.equal((await answered).status(), 201);
      await page.getByTestId('status-card').getByTestId('status-badge').filter({ hasText: '已提交' }).waitFor();
      await page.getByTestId('staged-pile').filter({ hasText: eid }).waitFor();
      await page.getByTestId('staged-station').filter({ hasText: sid }).waitFor();
      await shot(page, 'access_detail_submitted');
    });
  });
});
