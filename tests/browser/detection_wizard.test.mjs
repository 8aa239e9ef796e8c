// Browser end-to-end test of 充电设施接入 → 桩平台检测: an approved operator (made through the
// API) walks the detection wizard in Chinese for a 自有平台接入 application — every field, two
// source IPs, 保存草稿, the pre-filled PDF form downloaded, a stamped scan (PNG) uploaded and
// listed with its sha256 — and submits it; the admin approves it in 检测审核; the operator takes
// the platform's T/CEC credentials, shown once. A second test sends an incomplete application
// and finds the server's errors beside 手机号 and the materials.
//
//   EVGATE_BUILD, EVGATE_SRC, EVGATE_SCREENSHOT_DIR as in lib.mjs

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import * as lib from './lib.mjs';

const { makePng, creditCode, uniq, shot, logout, rowOf } = lib;

let scanPng;
let scanSha;
const env = lib.useEnvironment(async (e) => {
  const png = makePng(420, 594); // an A4-ish "scan" of the stamped form
  scanPng = path.join(e.tmp, '检测申请表盖章扫描件.png');
  await writeFile(scanPng, png);
  scanSha = createHash('sha256').update(png).digest('hex');
});

const withPage = (name, fn) => lib.withPage(env, name, fn, { acceptDownloads: true });
const login = (page, username, password) => lib.login(page, env.mgmt.base, username, password);
const isApi = (p, method) => (r) => new URL(r.url()).pathname === `/api/v1${p}` && (!method || r.request().method() === method);

function operator(prefix) {
  return {
    username: `${prefix}_${uniq()}`,
    password: 'Operator-pass-1',
    company: `中山市${prefix === 'dw' ? '星联' : '驿充'}新能源科技有限公司${uniq()}`,
    creditCode: creditCode(),
  };
}

/** ② 基本信息: every field of a `self` (or `delegated`) application but those in `skip`. */
async function fillBasic(page, op, v, skip = [], mode = 'self') {
  const fill = async (label, value) => {
    const input = page.getByLabel(label, { exact: true });
    await input.fill(skip.includes(label) ? '' : value);
  };
  await fill('单位名称', op.company);
  await fill('统一社会信用代码', op.creditCode);
  await fill('单位地址', '广东省中山市东区中山四路 88 号');
  await fill('姓名', '陈联调');
  await fill('手机号', '13922223333');
  await fill('电子邮箱', 'lianti@example.com');
  if (mode === 'self') {
    await fill('平台名称', v.platform);
    await fill('接口地址', 'https://evcs.example.com/evcs/v1/');
    await page.getByLabel('协议版本', { exact: true }).selectOption('T/CEC 102-2016');
    await fill('源IP地址 1', '203.0.113.10');
    await page.getByRole('button', { name: '+ 添加IP地址' }).click();
    await fill('源IP地址 2', '2001:db8::/64');
  } else {
    await page.getByLabel('委托平台', { exact: true }).selectOption({ label: v.delegateOption });
    await fill('委托范围', '本单位在中山市范围内的全部公共充电桩');
  }
  await fill('品牌', '星星充电, 特来电');
  await fill('型号', 'DC-120, AC-7');
  await fill('交流桩数量', '12');
  await fill('直流桩数量', '4');
  await page.getByLabel('OCPP 1.6J', { exact: true }).check();
  await page.getByLabel('经运营商平台上报', { exact: true }).check();
}

/** A complete self application submitted and approved through the API; resolves to its id. */
async function approvedSelfApplication(op, platform) {
  const s = await lib.apiSession(env.mgmt.base, op.username, op.password);
  const created = await s.call('POST', '/detections', {
    mode: 'self',
    commissioning_unit: { name: op.company, credit_code: op.creditCode, address: '中山市石岐区孙文中路 1 号' },
    contact: { name: '周联调', mobile: '13700001111', email: 'zhou@example.com' },
    platform: { name: platform, base_url: 'https://platform.example.com/evcs/v1/', protocol_version: 'T/CEC 102-2016', source_ips: ['198.51.100.7'] },
    pile_summary: { brands: '万马', models: 'DC-60', ac_count: 0, dc_count: 6, protocols: ['ocpp2.0.1'] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id } = created.body;
  const up = await s.upload(`/detections/${id}/materials`, 'file', makePng(200, 280), 'form.png', 'image/png');
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const sub = await s.call('POST', `/detections/${id}/submit`);
  assert.equal(sub.status, 200, JSON.stringify(sub.body));
  const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
  const ok = await admin.call('POST', `/admin/detections/${id}/approve`, {});
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  return id;
}

/** From the operator's home page to ② 基本信息 of a new application of `mode`. */
async function startSelfApplication(page, mode = '自有平台接入') {
  await page.getByRole('link', { name: '桩平台检测' }).click();
  await page.getByRole('heading', { name: '桩平台检测', level: 1 }).waitFor();
  await page.getByRole('link', { name: '新建申请' }).click();
  await page.getByRole('heading', { name: '新建检测申请' }).waitFor();
  await page.getByRole('radio', { name: new RegExp(mode) }).click();
  assert.equal(await page.getByRole('radio', { name: new RegExp(mode) }).getAttribute('aria-checked'), 'true');
  if (mode === '自有平台接入') await shot(page, 'detection_wizard_1_mode');
  await page.getByRole('button', { name: '下一步' }).click();
  await page.getByRole('group', { name: '委托单位信息' }).waitFor();
}

describe('detection applications in the browser', () => {
  test('an operator applies (self), the admin approves, the operator takes its credentials once', async () => {
    const op = operator('dw');
    const v = { platform: `星联充电服务平台${uniq()}` };
    await lib.approvedOperator(env, op);

    await withPage('detection_wizard', async (page) => {
      // 1. The operator: the menu, the list (empty, access not yet allowed), the wizard.
      await login(page, op.username, op.password);
      await page.getByRole('link', { name: '桩平台检测' }).waitFor();
      await page.getByRole('link', { name: '桩平台检测' }).click();
      await page.getByTestId('access-gate').getByText('尚不能申请接入').waitFor();
      await page.getByRole('link', { name: '我的账号' }).click();
      await startSelfApplication(page);

      // ② 基本信息: every field, two source IPs; 保存草稿 creates the draft.
      await fillBasic(page, op, v);
      let answered = page.waitForResponse(isApi('/detections', 'POST'));
      await page.getByRole('button', { name: '保存草稿' }).click();
      const created = await answered;
      assert.equal(created.status(), 201);
      const { id } = await created.json();
      await page.getByTestId('toast').filter({ hasText: '草稿已保存' }).waitFor();
      await page.getByTestId('wizard-app-no').waitFor();
      assert.match(page.url(), new RegExp(`#/detections/${id}/edit\\?step=2$`));
      await shot(page, 'detection_wizard_2_basic');

      // 下一步 saves again (PUT) and moves on to ③ 上传材料.
      answered = page.waitForResponse(isApi(`/detections/${id}`, 'PUT'));
      await page.getByRole('button', { name: '下一步' }).click();
      const put = await answered;
      assert.equal(put.status(), 200);
      const saved = await put.json();
      assert.deepEqual(saved.platform.source_ips, ['203.0.113.10', '2001:db8::/64']);
      assert.deepEqual(saved.pile_summary.protocols, ['ocpp1.6', 'platform']);
      assert.equal(saved.pile_summary.ac_count, 12);
      await page.getByText('按文字要求打印、盖章，扫描、拍照上传').waitFor();
      await page.getByText('《充电设施平台符合性检测申请表》').first().waitFor();

      // The pre-filled form downloads as a real PDF.
      const downloaded = page.waitForEvent('download');
      await page.getByRole('link', { name: '下载申请表' }).click();
      const download = await downloaded;
      const pdf = await readFile(await download.path());
      assert.equal(pdf.subarray(0, 4).toString('latin1'), '%PDF');
      assert.ok(pdf.length > 1024, `the form has ${pdf.length} bytes`);

      // The stamped scan is uploaded and listed with its sha256.
      answered = page.waitForResponse(isApi(`/detections/${id}/materials`, 'POST'));
      await page.getByTestId('material-input').setInputFiles(scanPng);
      assert.equal((await answered).status(), 201);
      const row = page.getByTestId('material-row').filter({ hasText: '检测申请表盖章扫描件.png' });
      await row.waitFor();
      assert.equal(await row.getByTestId('material-sha256').getAttribute('title'), scanSha);
      assert.match(await row.getByRole('link', { name: '预览' }).getAttribute('href'), /^\/api\/v1\/files\/\d+$/);
      await shot(page, 'detection_wizard_3_materials');

      // ④ 提交: the summary, then 提交申请.
      await page.getByRole('button', { name: '下一步' }).click();
      await page.getByRole('button', { name: '提交申请' }).waitFor();
      await page.getByTestId('info-source-ips').getByText('2001:db8::/64').waitFor();
      await shot(page, 'detection_wizard_4_submit');
      answered = page.waitForResponse(isApi(`/detections/${id}/submit`, 'POST'));
      await page.getByRole('button', { name: '提交申请' }).click();
      assert.equal((await answered).status(), 200);
      await page.getByTestId('flash').filter({ hasText: '检测申请已提交' }).waitFor();
      await page.getByTestId('status-card').getByTestId('status-badge').filter({ hasText: '已提交' }).waitFor();
      await logout(page);

      // 2. The admin reviews it in 检测审核 and approves it.
      await login(page, 'admin', env.adminPassword);
      await page.getByRole('link', { name: '检测审核' }).click();
      await page.getByRole('heading', { name: '检测审核' }).waitFor();
      const queued = page.getByTestId('detection-review-row').filter({ hasText: v.platform });
      await queued.filter({ hasText: '已提交' }).waitFor();
      await shot(page, 'admin_detection_list');
      await queued.getByRole('link', { name: '审核' }).click();
      await page.getByRole('heading', { name: v.platform }).waitFor();
      const img = page.getByTestId('material-img');
      await img.waitFor();
      await page.waitForFunction((el) => el.complete && el.naturalWidth === 420, await img.elementHandle());
      await shot(page, 'admin_detection_detail');
      await page.getByRole('button', { name: '通过' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText(op.company).waitFor();
      answered = page.waitForResponse(isApi(`/admin/detections/${id}/approve`, 'POST'));
      await dialog.getByRole('button', { name: '通过' }).click();
      assert.equal((await answered).status(), 200);
      await page.getByTestId('status-badge').filter({ hasText: '审核通过' }).waitFor();
      await page.getByTestId('audit-row').filter({ hasText: '审核通过' }).waitFor();
      await page.getByRole('button', { name: '录入检测结论' }).waitFor();
      await logout(page);

      // 3. The operator takes the platform credentials: shown once, in a dialog.
      await login(page, op.username, op.password);
      await page.getByRole('link', { name: '桩平台检测' }).click();
      const mine = page.getByTestId('detection-row').filter({ hasText: v.platform });
      await mine.filter({ hasText: '审核通过' }).waitFor();
      await shot(page, 'detection_list');
      await mine.getByRole('link', { name: '查看' }).click();
      const credCard = page.getByTestId('credentials-card');
      await credCard.getByText('尚未生成').waitFor();
      await credCard.getByRole('button', { name: '获取凭证' }).click();
      answered = page.waitForResponse(isApi(`/detections/${id}/credentials`, 'POST'));
      await page.getByRole('dialog').getByRole('button', { name: '获取凭证' }).click();
      assert.equal((await answered).status(), 200);
      const credDialog = page.getByTestId('dialog-credentials');
      await credDialog.getByText('仅显示这一次').waitFor();
      const values = {};
      for (const k of ['operator_id', 'operator_secret', 'data_secret', 'data_secret_iv', 'sig_secret']) values[k] = await credDialog.getByTestId(`cred-${k}`).inputValue();
      assert.equal(values.operator_id, op.creditCode.slice(8, 17), 'OperatorID = characters 9–17 of the credit code');
      for (const k of ['operator_secret', 'data_secret', 'data_secret_iv', 'sig_secret']) assert.equal(values[k].length, 16, `${k} has 16 characters: ${values[k]}`);
      await shot(page, 'detection_credentials');
      await credDialog.getByRole('button', { name: '我已保存，关闭' }).click();
      await credDialog.waitFor({ state: 'detached' });
      await credCard.getByText(/已于 .* 生成/).waitFor();

      // A reload shows when they were issued, never the secrets.
      await page.reload();
      await page.getByTestId('credentials-card').getByText(/已于 .* 生成/).waitFor();
      await page.getByTestId('credentials-card').getByRole('button', { name: '重新生成凭证' }).waitFor();
      assert.equal(await page.getByTestId('cred-operator_secret').count(), 0);
      const text = await page.locator('body').innerText();
      for (const k of ['operator_secret', 'data_secret', 'data_secret_iv', 'sig_secret']) assert.ok(!text.includes(values[k]), `${k} is not shown again`);
      await shot(page, 'detection_detail');
    });
  });

  test('submitting without a mobile and without materials shows both errors in place', async () => {
    const op = operator('dx');
    await lib.approvedOperator(env, op);
    await withPage('detection_errors', async (page) => {
      await login(page, op.username, op.password);
      await page.getByRole('link', { name: '桩平台检测' }).waitFor();
      await startSelfApplication(page);
      // The form starts from the registration; the mobile is emptied.
      assert.equal(await page.getByLabel('单位名称', { exact: true }).inputValue(), op.company);
      await fillBasic(page, op, { platform: `驿充平台${uniq()}` }, ['手机号']);
      let answered = page.waitForResponse(isApi('/detections', 'POST'));
      await page.getByRole('button', { name: '下一步' }).click();
      assert.equal((await answered).status(), 201);
      await page.getByTestId('dropzone').waitFor();
      await page.getByRole('button', { name: '下一步' }).click();
      answered = page.waitForResponse((r) => /\/api\/v1\/detections\/\d+\/submit$/.test(r.url()));
      await page.getByRole('button', { name: '提交申请' }).click();
      assert.equal((await answered).status(), 422);

      // Back on ② 基本信息, the error beside 手机号 and a note of the missing materials.
      const mobileRow = rowOf(page, '手机号');
      await mobileRow.getByText('请填写手机号').waitFor();
      assert.equal(await page.getByLabel('手机号', { exact: true }).getAttribute('aria-invalid'), 'true');
      await page.getByTestId('submit-errors').getByText(/上传材料：请至少上传一份申请材料/).waitFor();
      assert.equal(await rowOf(page, '单位名称').getByText(/请填写/).count(), 0, 'only the bad fields are marked');
      await shot(page, 'detection_errors_basic');

      // ③ 上传材料 shows its own error beside the upload area.
      await page.getByRole('button', { name: '下一步' }).click();
      const area = page.locator('[data-field="materials"]');
      await area.getByTestId('error-materials').getByText('请至少上传一份申请材料').waitFor();
      await shot(page, 'detection_errors_materials');
    });
  });
  test('the admin records a verdict; a second operator delegates to the passed platform', async () => {
    const a = operator('dw');
    const b = operator('dx');
    const platform = `中山市公共充电监管平台${uniq()}`;
    await lib.approvedOperator(env, a);
    await lib.approvedOperator(env, b);
    const id = await approvedSelfApplication(a, platform);

    await withPage('detection_verdict_delegated', async (page) => {
      // The admin records the joint-debugging verdict by hand: choice and note are required.
      await login(page, 'admin', env.adminPassword);
      await page.getByRole('link', { name: '检测审核' }).waitFor();
      await page.goto(`${env.mgmt.base}/#/admin/detections/${id}`);
      await page.getByRole('heading', { name: platform }).waitFor();
      await page.getByRole('button', { name: '录入检测结论' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: '保存结论' }).click();
      await dialog.getByText('请选择检测结论').waitFor();
      await dialog.getByRole('radio', { name: '检测通过' }).check();
      await dialog.getByRole('button', { name: '保存结论' }).click();
      await dialog.getByText('请填写结论说明').waitFor();
      await dialog.getByLabel('结论说明').fill('已完成线下联调，各接口数据正确');
      await shot(page, 'admin_verdict_dialog');
      const answered = page.waitForResponse(isApi(`/admin/detections/${id}/verdict`, 'POST'));
      await dialog.getByRole('button', { name: '保存结论' }).click();
      assert.equal((await answered).status(), 200);
      await page.getByTestId('status-badge').filter({ hasText: '检测通过' }).waitFor();
      await page.getByTestId('verdict').getByText('管理员录入').waitFor();
      await page.getByTestId('audit-row').filter({ hasText: '录入检测结论' }).waitFor();
      await logout(page);

      // The first operator may now apply for access.
      await login(page, a.username, a.password);
      await page.getByRole('link', { name: '桩平台检测' }).click();
      await page.getByTestId('access-gate').getByText('可以申请接入').waitFor();
      await page.getByTestId('detection-row').filter({ hasText: '检测通过' }).waitFor();
      await logout(page);

      // The second operator delegates to that platform.
      await login(page, b.username, b.password);
      await page.getByRole('link', { name: '桩平台检测' }).waitFor();
      await startSelfApplication(page, '委托平台接入');
      await page.getByRole('group', { name: '委托信息' }).waitFor();
      await fillBasic(page, b, { delegateOption: `${platform}（${a.company}）` }, [], 'delegated');
      await shot(page, 'detection_wizard_2_delegated');
      const created = page.waitForResponse(isApi('/detections', 'POST'));
      await page.getByRole('button', { name: '下一步' }).click();
      const body = await (await created).json();
      assert.equal(body.mode, 'delegated');
      assert.equal(body.delegate_detection_id, id);
      await page.getByText('《充电设施委托接入申请表》').first().waitFor();
    });
  });
});
