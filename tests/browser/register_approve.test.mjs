// Browser end-to-end test of the account slice: a real evgate-mgmt on a free loopback port with
// a temporary database, driven through the Chinese web UI by Debian's chromium (playwright-core,
// never a downloaded browser). Synchronisation is by events only: the daemon's "listening" log
// line, Playwright's auto-waiting locators and waitForResponse — no sleeps.
//
//   EVGATE_BUILD, EVGATE_SRC   set by meson (tests/meson.build); default to ../../build, ../..
//   EVGATE_SCREENSHOT_DIR      when set, screenshots of the main pages are saved there

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { chromium, selectors } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = process.env.EVGATE_SRC || path.resolve(HERE, '../..');
const BUILD = process.env.EVGATE_BUILD || path.join(SRC, 'build');
const OUT = path.join(HERE, 'out');
const SHOTS = process.env.EVGATE_SCREENSHOT_DIR || null;
const ADMIN_PASSWORD = `Admin-pass-${randomBytes(4).toString('hex')}`;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

selectors.setTestIdAttribute('data-test');

// ---------- fixtures made here ----------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A valid RGB PNG of w×h: a pale licence-like sheet with a red seal-ish block. */
function makePng(w, h) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y += 1) {
    raw[y * (w * 3 + 1)] = 0; // filter: none
    for (let x = 0; x < w; x += 1) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      const border = x < 4 || y < 4 || x >= w - 4 || y >= h - 4;
      const seal = (x - w * 0.75) ** 2 + (y - h * 0.7) ** 2 < (h * 0.16) ** 2;
      const line = y > h * 0.25 && y < h * 0.6 && y % 12 < 2 && x > w * 0.12 && x < w * 0.88;
      const [r, g, b] = border ? [180, 140, 60] : seal ? [210, 40, 40] : line ? [90, 90, 90] : [252, 248, 235];
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// GB 32100-2015: the same algorithm as protocol/creditcode.c, to make valid and invalid codes.
const CC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
function ccCheckChar(code17) {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += CC_ALPHABET.indexOf(code17[i]) * CC_WEIGHTS[i];
  const c = 31 - (sum % 31);
  return CC_ALPHABET[c === 31 ? 0 : c];
}
function creditCode() {
  let org = '';
  for (const b of randomBytes(9)) org += CC_ALPHABET[b % CC_ALPHABET.length];
  const body = `91442000${org}`;
  return body + ccCheckChar(body);
}
function withWrongCheck(code) {
  const right = code[17];
  return code.slice(0, 17) + CC_ALPHABET[(CC_ALPHABET.indexOf(right) + 1) % CC_ALPHABET.length];
}
const uniq = () => randomBytes(3).toString('hex');

// ---------- the daemon ----------

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts evgate-mgmt; resolves when its stderr says it is listening. */
async function startMgmt(dir) {
  const port = await freePort();
  const bin = path.join(BUILD, 'mgmt', 'evgate-mgmt');
  const env = {
    ...process.env,
    EVGATE_DB: path.join(dir, 'evgate.db'),
    EVGATE_DATA_DIR: path.join(dir, 'data'),
    EVGATE_MGMT_LISTEN: `127.0.0.1:${port}`,
    EVGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    EVGATE_WEB_DIR: path.join(SRC, 'mgmt', 'web'),
  };
  await mkdir(env.EVGATE_DATA_DIR, { recursive: true });
  const proc = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
  proc.stdout.on('data', (d) => log.push(...d.toString().split('\n').filter(Boolean)));
  const ready = new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stderr });
    rl.on('line', (line) => {
      log.push(line);
      if (/ info mgmt listening /.test(line)) resolve();
    });
    proc.once('error', (e) => reject(new Error(`cannot start ${bin}: ${e.message}`)));
    exited.then(({ code, sig }) => reject(new Error(`evgate-mgmt exited (${code ?? sig}) before listening:\n${log.join('\n')}`)));
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`evgate-mgmt not listening after 30 s:\n${log.join('\n')}`)), 30000);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return {
    base: `http://127.0.0.1:${port}`,
    log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

// ---------- the suite ----------

let tmp;
let mgmt;
let browser;
let licensePng;
let notLicense;

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'evgate-browser-'));
  licensePng = path.join(tmp, '营业执照.png');
  await writeFile(licensePng, makePng(360, 240));
  notLicense = path.join(tmp, 'licence.pdf'); // a text file with a .pdf name
  await writeFile(notLicense, 'this is plain text, not a PDF\n');
  mgmt = await startMgmt(tmp);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  await mgmt?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Runs fn(page) in a fresh browser context; on failure saves a screenshot and the daemon log
 * into tests/browser/out/. Fails the test on any uncaught page error or CSP violation. */
async function withPage(name, fn) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  try {
    await fn(page);
    assert.deepEqual(problems, [], 'no page errors or CSP violations');
  } catch (e) {
    await mkdir(OUT, { recursive: true });
    const slug = name.replace(/[^A-Za-z0-9_-]+/g, '_');
    await page.screenshot({ path: path.join(OUT, `${slug}.png`), fullPage: true }).catch(() => {});
    await writeFile(path.join(OUT, `${slug}.mgmt.log`), mgmt.log.join('\n')).catch(() => {});
    if (problems.length) e.message += `\n${problems.join('\n')}`;
    throw e;
  } finally {
    await context.close();
  }
}

async function shot(page, name) {
  if (!SHOTS) return;
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function login(page, username, password) {
  await page.goto(`${mgmt.base}/#/login`);
  await page.getByRole('heading', { name: '用户登录' }).waitFor();
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
}

async function logout(page) {
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: '退出登录' }).click();
  await page.getByRole('heading', { name: '用户登录' }).waitFor();
}

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

/** The text shown in the same form row as the control labelled `label`. */
function rowOf(page, label) {
  return page.locator('.form-row').filter({ has: page.getByLabel(label, { exact: true }) });
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
      await page.goto(`${mgmt.base}/`);
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
      await login(page, 'admin', ADMIN_PASSWORD);
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
      await page.goto(`${mgmt.base}/#/register`);
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
    const res = await fetch(`${mgmt.base}/api/v1/auth/register`, { method: 'POST', body: fd });
    assert.equal(res.status, 201, await res.clone().text());
    const { id } = await res.json();
    const reason = '营业执照图片不清晰，请重新上传';

    await withPage('reject_resubmit_tokens', async (page) => {
      await login(page, 'admin', ADMIN_PASSWORD);
      await page.getByRole('heading', { name: '账号审核' }).waitFor();
      await page.goto(`${mgmt.base}/#/admin/accounts/${id}`);
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
      const me = await fetch(`${mgmt.base}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(me.status, 200);
      assert.equal((await me.json()).username, op.username);
      await tokenRow.getByRole('button', { name: '撤销' }).click();
      await page.getByRole('dialog').getByRole('button', { name: '撤销' }).click();
      await tokenRow.waitFor({ state: 'detached' });
      const after = await fetch(`${mgmt.base}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(after.status, 401);
    });
  });

  test('the English switch turns the login page into English, and it is remembered', async () => {
    await withPage('english', async (page) => {
      await page.goto(`${mgmt.base}/`);
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
