// Browser end-to-end test of the account slice: a real evgate-mgmt on a free loopback port with
// a temporary database, driven through the Chinese web UI by Debian's chromium (playwright-core,
// never a downloaded browser). Synchronisation is by events only: the daemon's "listening" log
// line, Playwright's auto-waiting locators and waitForResponse — no sleeps.
//
//   EVGATE_BUILD, EVGATE_SRC   set by meson (tests/meson.build); default to ../../build, ../..
//   EVGATE_SCREENSHOT_DIR      when set, screenshots of the main pages are saved there

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as lib from './lib.mjs';

const { makePng, creditCode, withWrongCheck, uniq, shot, logout, rowOf } = lib;

// ---------- the suite ----------

let licensePng;
let notLicense;

const env = lib.useEnvironment(async () => {
  licensePng = path.join(env.tmp, '营业执照.png');
  await writeFile(licensePng, makePng(360, 240));
  notLicense = path.join(env.tmp, 'licence.pdf'); // a text file with a .pdf name
  await writeFile(notLicense, 'this is plain text, not a PDF\n');
});

const withPage = (name, fn) => lib.withPage(env, name, fn);
const login = (page, username, password) => lib.login(page, env.mgmt.base, username, password);

async function fillRegistration(page, o) {
  await page.getByLabel('用户名').fill(o.username);
  await page.getByLabel('密码', { exact: true }).fill(o.password);
  await page.getByLabel('确认密码').fill(o.password);
  await page.getByLabel('企业名称').fill(o.company);
  await page.getByLabel('统一社会信用代码').fill(o.creditCode);
  await page.getByLabel('法定代表人').fill('张三');
  await page.getByLabel('联系人').fill('李四');
  await page.getByLabel('手机号').fill('13800138000');
  await page.getByLabel('电子邮箱').fill('li.si@example.com');
  await page.getByLabel('通讯地址').fill('中山市东区中山四路 1 号');
  await page.getByLabel('营业执照').setInputFiles(o.license);
}

describe('accounts in the browser', () => {
  test('an operator registers, the admin approves it, the operator sees 正常', async () => {
    const op = {
      username: `op_${uniq()}`,
      password: 'Operator-pass-1',
      company: `中山市新能源充电科技有限公司${uniq()}`,
      creditCode: creditCode(),
      license: licensePng,
    };
    await withPage('register_approve', async (page) => {
      // 1. Register through the Chinese UI.
      await page.goto(`${env.mgmt.base}/`);
      await page.getByRole('heading', { name: '用户登录' }).waitFor();
      await shot(page, 'login');
      await page.getByRole('link', { name: '立即注册>>' }).click();
      await page.getByRole('heading', { name: '运营商注册' }).waitFor();
      await fillRegistration(page, op);
      await page.getByText(/营业执照\.png（\d/).waitFor(); // chosen file name and size
      await shot(page, 'register');
      const registered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/register'));
      await page.getByRole('button', { name: '提交' }).click();
      assert.equal((await registered).status(), 201);
      await page.getByText('等待系统管理员审批').waitFor();
      await shot(page, 'register_done');

      // 2. The pending operator can log in and sees 待审核.
      await page.getByRole('link', { name: '前往登录' }).click();
      await login(page, op.username, op.password);
      const badge = page.getByTestId('status-card').getByTestId('status-badge');
      await badge.filter({ hasText: '待审核' }).waitFor();
      await shot(page, 'account_pending');
      await logout(page);

      // 3. The admin finds it in 账号审核 and approves it.
      await login(page, 'admin', env.adminPassword);
      await page.getByRole('link', { name: '账号审核' }).click();
      await page.getByRole('heading', { name: '账号审核' }).waitFor();
      await page.getByLabel('关键词').fill(op.company);
      await page.getByRole('button', { name: '查询' }).click();
      const row = page.getByRole('row').filter({ hasText: op.username });
      await row.filter({ hasText: op.creditCode }).filter({ hasText: '待审核' }).waitFor();
      await shot(page, 'review_list');
      await row.getByRole('link', { name: '查看' }).click();
      await page.getByRole('heading', { name: op.company }).waitFor();
      const img = page.getByRole('img', { name: '营业执照' });
      await img.waitFor();
      await page.waitForFunction((el) => el.complete && el.naturalWidth === 360, await img.elementHandle());
      await shot(page, 'review_detail');
      await page.getByRole('button', { name: '通过' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText(op.company).waitFor();
      const approved = page.waitForResponse((r) => r.url().endsWith('/approve'));
      await dialog.getByRole('button', { name: '通过' }).click();
      assert.equal((await approved).status(), 200);
      await page.getByTestId('status-badge').filter({ hasText: '正常' }).waitFor();
      await page.getByTestId('audit-row').filter({ hasText: '审核通过' }).waitFor();
      await logout(page);

      // 4. The operator now sees 正常.
      await login(page, op.username, op.password);
      await badge.filter({ hasText: '正常' }).waitFor();
      assert.equal((await badge.textContent()).trim(), '正常');
      await page.getByTestId('company-card').getByText(op.creditCode).waitFor();
      await shot(page, 'account_active');
    });
  });

  test('a wrong credit code is refused beside its field, before any upload', async () => {
    await withPage('register_errors', async (page) => {
      const requests = [];
      const statuses = [];
      page.on('request', (r) => { if (r.url().endsWith('/api/v1/auth/register')) requests.push(r); });
      page.on('response', (r) => { if (r.url().endsWith('/api/v1/auth/register')) statuses.push(r.status()); });
      const good = creditCode();
      await page.goto(`${env.mgmt.base}/#/register`);
      await page.getByRole('heading', { name: '运营商注册' }).waitFor();
      await fillRegistration(page, {
        username: `bad_${uniq()}`,
        password: 'Operator-pass-1',
        company: '中山市测试充电有限公司',
        creditCode: withWrongCheck(good),
        license: licensePng,
      });
      await page.getByRole('button', { name: '提交' }).click();
      const ccRow = rowOf(page, '统一社会信用代码');
      await ccRow.getByText('统一社会信用代码校验位不正确').waitFor();
      assert.equal(await page.getByLabel('统一社会信用代码').getAttribute('aria-invalid'), 'true');
      await shot(page, 'register_bad_code');
      assert.equal(requests.length, 0, 'the client refused the code without a request');

      // Lower case letters get the server's own wording too.
      await page.getByLabel('统一社会信用代码').fill(good.toLowerCase());
      await page.getByRole('button', { name: '提交' }).click();
      await ccRow.getByText('统一社会信用代码中的字母须大写').waitFor();
      assert.equal(requests.length, 0);

      // The server's verdicts land beside their fields as well: a licence that is not a
      // pdf/jpg/png by content (415) …
      await page.getByLabel('统一社会信用代码').fill(good);
      await page.getByLabel('营业执照').setInputFiles(notLicense);
      let answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/register'));
      await page.getByRole('button', { name: '提交' }).click();
      assert.equal((await answered).status(), 415);
      await rowOf(page, '营业执照').getByText('文件类型不支持').waitFor();

      // … and a user name that is taken (409 duplicate).
      await page.getByLabel('用户名').fill('admin');
      await page.getByLabel('营业执照').setInputFiles(licensePng);
      answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/register'));
      await page.getByRole('button', { name: '提交' }).click();
      assert.equal((await answered).status(), 409);
      await rowOf(page, '用户名').getByText('该用户名已被注册').waitFor();
      assert.ok(statuses.every((s) => s >= 400), `no registration succeeded: ${statuses}`);
    });
  });

  test('a rejected operator sees the reason, resubmits, and manages API tokens', async () => {
    const op = { username: `rj_${uniq()}`, password: 'Operator-pass-2', company: `中山市驳回测试充电有限公司${uniq()}`, creditCode: creditCode() };
    // Registered through the API: the UI path is covered above.
    const fd = new FormData();
    for (const [k, v] of Object.entries({
      username: op.username, password: op.password, company_name: op.company, credit_code: op.creditCode,
      legal_representative: '王五', contact_name: '赵六', mobile: '13900139000', email: 'zhao@example.com', address: '中山市石岐区',
    })) fd.append(k, v);
    fd.append('license', new Blob([makePng(120, 80)], { type: 'image/png' }), 'licence.png');
    const res = await fetch(`${env.mgmt.base}/api/v1/auth/register`, { method: 'POST', body: fd });
    assert.equal(res.status, 201, await res.clone().text());
    const { id } = await res.json();
    const reason = '营业执照图片不清晰，请重新上传';

    await withPage('reject_resubmit_tokens', async (page) => {
      await login(page, 'admin', env.adminPassword);
      await page.getByRole('heading', { name: '平台运行概况' }).waitFor(); // an admin's home: 首页
      await page.goto(`${env.mgmt.base}/#/admin/accounts/${id}`);
      await page.getByRole('heading', { name: op.company }).waitFor();
      await page.getByRole('button', { name: '驳回' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: '驳回' }).click();
      await dialog.getByText('请填写驳回原因', { exact: true }).waitFor(); // beside the empty textarea, nothing sent
      await shot(page, 'reject_dialog');
      await dialog.getByLabel('驳回原因').fill(reason);
      await dialog.getByRole('button', { name: '驳回' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByTestId('status-badge').filter({ hasText: '驳回' }).waitFor();
      await page.getByTestId('audit-row').filter({ hasText: reason }).waitFor();
      await logout(page);

      await login(page, op.username, op.password);
      await page.getByTestId('status-card').getByTestId('status-badge').filter({ hasText: '驳回' }).waitFor();
      await page.getByTestId('reject-reason').filter({ hasText: reason }).waitFor();
      await page.getByRole('button', { name: '修改并重新提交' }).click();
      const form = page.getByTestId('resubmit-card');
      assert.equal(await form.getByLabel('企业名称').inputValue(), op.company);
      await form.getByLabel('通讯地址').fill('中山市东区兴中道 6 号');
      await form.getByLabel('营业执照').setInputFiles(licensePng);
      await shot(page, 'account_rejected');
      const resubmitted = page.waitForResponse((r) => r.url().endsWith('/api/v1/me/registration'));
      await form.getByRole('button', { name: '提交' }).click();
      assert.equal((await resubmitted).status(), 200);
      await page.getByTestId('status-card').getByTestId('status-badge').filter({ hasText: '待审核' }).waitFor();
      await page.getByTestId('company-card').getByText('中山市东区兴中道 6 号').waitFor();

      // API token: shown once, works as a bearer token, and stops working once revoked.
      await page.getByLabel('令牌名称').fill('数据同步脚本');
      await page.getByRole('button', { name: '创建令牌' }).click();
      const token = await page.getByTestId('token-value').inputValue();
      assert.ok(token.length >= 16, `a token is shown: ${token}`);
      const tokenRow = page.getByTestId('token-row').filter({ hasText: '数据同步脚本' });
      await tokenRow.waitFor();
      await shot(page, 'account_tokens');
      const me = await fetch(`${env.mgmt.base}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(me.status, 200);
      assert.equal((await me.json()).username, op.username);
      await tokenRow.getByRole('button', { name: '撤销' }).click();
      await page.getByRole('dialog').getByRole('button', { name: '撤销' }).click();
      await tokenRow.waitFor({ state: 'detached' });
      const after = await fetch(`${env.mgmt.base}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(after.status, 401);
    });
  });

  test('the English switch turns the login page into English, and it is remembered', async () => {
    await withPage('english', async (page) => {
      await page.goto(`${env.mgmt.base}/`);
      await page.getByRole('heading', { name: '用户登录' }).waitFor();
      await page.getByRole('button', { name: 'English' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Username').waitFor();
      await page.getByRole('link', { name: 'Register now >>' }).waitFor();
      await shot(page, 'login_en');
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill('wrong-password-1');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByText('Wrong username or password').waitFor();
      await page.getByRole('button', { name: '中文' }).click();
      await page.getByRole('heading', { name: '用户登录' }).waitFor();
    });
  });
});
