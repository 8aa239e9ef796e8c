// Shared pieces of the browser end-to-end tests: fixtures made here (PNG, credit codes), a real
// evgate-mgmt on a free loopback port with a temporary database, Debian's chromium through
// playwright-core (never a downloaded browser), and the page helpers. Synchronisation is by
// events only: the daemon's "listening" log line, Playwright's auto-waiting locators and
// waitForResponse — no sleeps.
//
//   EVGATE_BUILD, EVGATE_SRC   set by meson (tests/meson.build); default to ../../build, ../..
//   EVGATE_SCREENSHOT_DIR      when set, screenshots of the main pages are saved there

import { before, after } from 'node:test';
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
export const SRC = process.env.EVGATE_SRC || path.resolve(HERE, '../..');
export const BUILD = process.env.EVGATE_BUILD || path.join(SRC, 'build');
export const OUT = path.join(HERE, 'out');
export const SHOTS = process.env.EVGATE_SCREENSHOT_DIR || null;
export const CHROMIUM_ARGS = [
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
export function makePng(w, h) {
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
export function creditCode() {
  let org = '';
  for (const b of randomBytes(9)) org += CC_ALPHABET[b % CC_ALPHABET.length];
  const body = `91442000${org}`;
  return body + ccCheckChar(body);
}
export function withWrongCheck(code) {
  const right = code[17];
  return code.slice(0, 17) + CC_ALPHABET[(CC_ALPHABET.indexOf(right) + 1) % CC_ALPHABET.length];
}
export const uniq = () => randomBytes(3).toString('hex');

// A minimal xlsx (what a spreadsheet program writes, reduced): one worksheet per entry of
// `sheets` ({name: [[cell, ...], ...]}), strings as inline strings, numbers as number cells;
// a stored (uncompressed) zip, which every reader accepts.
const xmlEscape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
function colName(i) {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}
function sheetXml(rows) {
  const body = rows
    .map((cells, r) => {
      const cs = cells
        .map((v, c) => {
          const ref = `${colName(c)}${r + 1}`;
          if (v === null || v === undefined || v === '') return '';
          if (typeof v === 'number') return `<c r="${ref}"><v>${v}</v></c>`;
          return `<c r="${ref}" t="inlineStr"><is><t xml:space="preserve">${xmlEscape(v)}</t></is></c>`;
        })
        .join('');
      return `<row r="${r + 1}">${cs}</row>`;
    })
    .join('');
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${body}</sheetData></worksheet>`;
}
function zipStored(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, text] of files) {
    const data = Buffer.from(text, 'utf8');
    const fname = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fname.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fname.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fname, data);
    centrals.push(central, fname);
    offset += local.length + fname.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
export function makeXlsx(sheets) {
  const names = Object.keys(sheets);
  const ns = 'http://schemas.openxmlformats.org';
  return zipStored([
    [
      '[Content_Types].xml',
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="${ns}/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>${names.map((_, i) => `<Override PartName="/xl/worksheets/sheet${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`).join('')}</Types>`,
    ],
    ['_rels/.rels', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="${ns}/package/2006/relationships"><Relationship Id="rId1" Type="${ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`],
    [
      'xl/workbook.xml',
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="${ns}/spreadsheetml/2006/main" xmlns:r="${ns}/officeDocument/2006/relationships"><sheets>${names.map((n, i) => `<sheet name="${xmlEscape(n)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('')}</sheets></workbook>`,
    ],
    [
      'xl/_rels/workbook.xml.rels',
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="${ns}/package/2006/relationships">${names.map((_, i) => `<Relationship Id="rId${i + 1}" Type="${ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`).join('')}</Relationships>`,
    ],
    ...names.map((n, i) => [`xl/worksheets/sheet${i + 1}.xml`, sheetXml(sheets[n])]),
  ]);
}

// ---------- the daemon ----------

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts evgate-mgmt on `dir`; resolves when its stderr says it is listening. */
export async function startMgmt(dir, adminPassword) {
  const port = await freePort();
  const bin = path.join(BUILD, 'mgmt', 'evgate-mgmt');
  const env = {
    ...process.env,
    EVGATE_DB: path.join(dir, 'evgate.db'),
    EVGATE_DATA_DIR: path.join(dir, 'data'),
    EVGATE_MGMT_LISTEN: `127.0.0.1:${port}`,
    EVGATE_ADMIN_PASSWORD: adminPassword,
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

/**
 * Registers node:test before/after hooks for one suite: a temporary directory, evgate-mgmt on
 * it with a random admin password, and chromium. Returns the object they fill in:
 * {tmp, mgmt, browser, adminPassword}. `setup(env)`, when given, runs at the end of the same
 * hook (the order of separate root-level hooks is not to be relied on).
 */
export function useEnvironment(setup) {
  const env = { tmp: null, mgmt: null, browser: null, adminPassword: `Admin-pass-${randomBytes(4).toString('hex')}` };
  before(async () => {
    env.tmp = await mkdtemp(path.join(tmpdir(), 'evgate-browser-'));
    env.mgmt = await startMgmt(env.tmp, env.adminPassword);
    env.browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    if (setup) await setup(env);
  });
  after(async () => {
    await env.browser?.close().catch(() => {});
    await env.mgmt?.stop();
    if (env.tmp) await rm(env.tmp, { recursive: true, force: true });
  });
  return env;
}

/** Runs fn(page) in a fresh browser context; on failure saves a screenshot and the daemon log
 * into tests/browser/out/. Fails the test on any uncaught page error or CSP violation.
 * opts: {acceptDownloads}. */
export async function withPage(env, name, fn, opts = {}) {
  const context = await env.browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 }, acceptDownloads: Boolean(opts.acceptDownloads) });
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
    await writeFile(path.join(OUT, `${slug}.mgmt.log`), env.mgmt.log.join('\n')).catch(() => {});
    if (problems.length) e.message += `\n${problems.join('\n')}`;
    throw e;
  } finally {
    await context.close();
  }
}

export async function shot(page, name) {
  if (!SHOTS) return;
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

export async function login(page, base, username, password) {
  await page.goto(`${base}/#/login`);
  await page.getByRole('heading', { name: '用户登录' }).waitFor();
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  // logged in once the header shows the user menu: a goto() before that is sent back to
  // #/login by the router, and the login's answer then lands on the home page
  await page.getByTestId('user-menu').waitFor();
}

export async function logout(page) {
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: '退出登录' }).click();
  await page.getByRole('heading', { name: '用户登录' }).waitFor();
}

/** The form row (label, control, error line) of the control labelled `label`. */
export function rowOf(page, label) {
  return page.locator('.form-row').filter({ has: page.getByLabel(label, { exact: true }) });
}

// ---------- the API from node (set-up that the UI test does not need to click through) ----------

/** Registers an operator through POST /auth/register; resolves to the new account. */
export async function registerOperator(base, op) {
  const fd = new FormData();
  for (const [k, v] of Object.entries({
    username: op.username,
    password: op.password,
    company_name: op.company,
    credit_code: op.creditCode,
    legal_representative: op.legal || '张三',
    contact_name: op.contact || '李四',
    mobile: op.mobile || '13800138000',
    email: op.email || 'li.si@example.com',
    address: op.address || '中山市东区中山四路 1 号',
  })) fd.append(k, v);
  fd.append('license', new Blob([makePng(120, 80)], { type: 'image/png' }), 'licence.png');
  const res = await fetch(`${base}/api/v1/auth/register`, { method: 'POST', body: fd });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

/** A cookie session from node: call(method, path, body) answers {status, body}. */
export async function apiSession(base, username, password) {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const { csrf_token: csrf } = await res.json();
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return {
    async call(method, p, body) {
      const headers = { Cookie: cookie, 'X-CSRF-Token': csrf, Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const r = await fetch(`${base}/api/v1${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = text;
      }
      return { status: r.status, body: json };
    },
    /** A multipart POST of one file as `field`. */
    async upload(p, field, bytes, filename, type) {
      const fd = new FormData();
      fd.append(field, new Blob([bytes], { type }), filename);
      const r = await fetch(`${base}/api/v1${p}`, { method: 'POST', headers: { Cookie: cookie, 'X-CSRF-Token': csrf, Accept: 'application/json' }, body: fd });
      return { status: r.status, body: await r.json().catch(() => null) };
    },
  };
}

/** Registers an operator and has the admin approve it: an active operator in two requests. */
export async function approvedOperator(env, op) {
  const acct = await registerOperator(env.mgmt.base, op);
  const admin = await apiSession(env.mgmt.base, 'admin', env.adminPassword);
  const r = await admin.call('POST', `/admin/accounts/${acct.id}/approve`, {});
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return acct;
}
