// Browser end-to-end tests of conformance runs (docs/conformance.md, docs/api-runs.md): 一致性检测
// on the pile page, the run page (检测记录详情) and 检测记录.
//
// 1. The UI alone, deterministic: no gateway runs; the test plays the engine by writing the
//    run's rows with the sqlite3 CLI as the gateway would (running, verdicts, frames). The
//    operator's 开始检测 on an offline pile is refused beside the button; on the run page the
//    state, the progress and the counts follow the rows while the page polls, the current check
//    shows what it needs (请刷卡) and 已完成此操作 records the confirmation, 取消检测 asks the
//    engine to stop, a check opens to its frames (pretty-printed text, cut and dropped frames
//    noted, markup shown as text), and the PDF / JSON exports answer with their types. A self
//    detection starts a tcec102-platform run from its page, and cancelling it while queued
//    gives the application back.
// 2. The real chain: evgate-gateway (conform_heartbeat_s=2, conform_wait_cap_s=5,
//    ocpp_command_poll_ms=50) with evsim-pile --scenario conform as the pile; an admin starts an
//    ocpp16-core run from the pile page, watches it progress and finish, opens a check's frames
//    and downloads the report. Skipped while the engine or evsim's conform mode is missing.
//
//   EVGATE_BUILD, EVGATE_SRC, EVGATE_SCREENSHOT_DIR as in lib.mjs

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';
import { startGateway, makeAccessedPiles } from '../integration/ocpp_lib.mjs';
import { queueRun, sql } from '../integration/conform_lib.mjs';

const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;
const SIM = path.join(lib.BUILD, 'simulators', 'evsim-pile');
const GATEWAY = path.join(lib.BUILD, 'gateway', 'evgate-gateway');

/** Why the real chain cannot run, or false. */
function chainSkip() {
  if (!hasSqlite) return 'the sqlite3 command-line tool is missing';
  if (!existsSync(SIM) || !existsSync(GATEWAY)) return 'evsim-pile or evgate-gateway is not built';
  return false;
}

let gw = null;
const sims = [];
const env = lib.useEnvironment();
after(async () => {
  for (const p of sims) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
  await gw?.stop();
});

const dbPath = () => path.join(env.tmp, 'evgate.db');
const q = (s) => (s === null || s === undefined ? 'NULL' : `'${String(s).replaceAll("'", "''")}'`);
const now = () => Math.floor(Date.now() / 1000);
/** Plays the engine: runs SQL on the shared database. */
const engine = (statements) => sql(dbPath(), statements);
/** The value of a data-* attribute as a number. */
const dataNum = async (loc, name) => Number(await loc.getAttribute(name));

/** Clicks `panel`'s run-start; resolves with mgmt's answer to the POST it makes. */
async function clickStart(page, panel) {
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/conformance-runs');
  await panel.getByTestId('run-start').click();
  return answered;
}

/** Starts a run from `panel` and waits for its page; returns the run's id. */
async function startRun(page, panel) {
  const res = await clickStart(page, panel);
  assert.equal(res.status(), 201, await res.text());
  const { id } = await res.json();
  await page.waitForURL(new RegExp(`#/runs/${id}$`));
  return id;
}

/** Writes check `seq` of run `id` as the engine's verdict. */
function verdict(id, seq, v, reason, frames = [], dropped = 0) {
  engine(`UPDATE conformance_checks SET verdict = ${q(v)}, reason = ${q(reason)}, frames = ${q(JSON.stringify(frames))},
    frames_dropped = ${dropped}, started_at = coalesce(started_at, ${now()}), finished_at = ${now()}
    WHERE run_id = ${id} AND seq = ${seq};`);
}

describe('conformance runs in the browser', { skip: hasSqlite ? false : 'the sqlite3 command-line tool is missing' }, () => {
  test('the run page follows a run live: progress, a manual step confirmed, cancel, frames, exports', async () => {
    const { piles, op, session } = await makeAccessedPiles(env, { a: 'ocpp1.6' });
    const p = piles.a;
    const me = await session.call('GET', '/me');
    const accountId = (me.body.account || me.body).id;
    assert.ok(accountId, JSON.stringify(me.body));

    await lib.withPage(env, 'conformance_ui', async (page) => {
      await lib.login(page, env.mgmt.base, op.username, op.password);
      await page.getByTestId('nav-runs').waitFor();
      await page.goto(`${env.mgmt.base}/#/piles/${p.id}`);
      const panel = page.getByTestId('pd-runs');
      await panel.getByRole('heading', { name: '一致性检测' }).waitFor();
      assert.equal((await panel.getByTestId('run-plan-name').textContent()).trim(), 'OCPP 1.6 核心功能检测');
      await panel.getByTestId('run-plan-info').filter({ hasText: '共 36 个检查项' }).waitFor();
      await panel.getByTestId('recent-runs-empty').waitFor();
      // the pile is not connected (no gateway here): refused, and said beside the button
      assert.equal((await clickStart(page, panel)).status(), 409);
      const startError = panel.getByTestId('run-start-error');
      await startError.filter({ hasText: /不在线|不能开始|不允许/ }).waitFor();
      assert.doesNotMatch(await startError.textContent(), /[A-Za-z]{6,}/, 'the error is in Chinese');
      await lib.shot(page, 'conformance_start_refused');

      // a run queued as mgmt queues it (the gateway would take it)
      const id = queueRun(dbPath(), 'ocpp16-core', p.id, { accountId });
      await page.goto(`${env.mgmt.base}/#/runs/${id}`);
      const head = page.getByTestId('run-head');
      await head.locator('[data-test="run-state"][data-state="queued"]').waitFor();
      await page.getByTestId('run-queued').waitFor();
      const progress = head.getByTestId('run-progress');
      assert.equal(await dataNum(progress, 'data-total'), 36);
      assert.equal(await dataNum(progress, 'data-done'), 0);
      assert.equal(await page.getByTestId('check-row').count(), 36);
      assert.equal((await page.getByTestId('check-row').first().getByTestId('check-title').textContent()).trim(), '冷启动后首条消息为 BootNotification');
      assert.match(await head.getByTestId('run-target').textContent(), new RegExp(p.id));

      // the engine takes it: running, check 1 in progress
      engine(`UPDATE conformance_runs SET state = 'running', started_at = ${now()} WHERE id = ${id};
        UPDATE conformance_checks SET verdict = 'running', started_at = ${now()} WHERE run_id = ${id} AND seq = 1;`);
      await head.locator('[data-test="run-state"][data-state="running"]').waitFor();
      const current = page.getByTestId('run-current');
      await current.and(page.locator('[data-check="boot.first-message"]')).waitFor();
      await page.locator('[data-test="check-row"][data-seq="1"].is-current').waitFor();
      assert.equal(await page.getByTestId('run-need').count(), 0, 'boot needs nobody');

      // check 1 passes with its frames; check 2 runs
      const frames = [
        { dir: 'out', ms: 0, text: JSON.stringify([2, 'evgate-1', 'Reset', { type: 'Hard' }]) },
        { dir: 'in', ms: 41, text: JSON.stringify([3, 'evgate-1', { status: 'Accepted' }]) },
        { dir: 'in', ms: 1250, text: JSON.stringify([2, 'b-1', 'BootNotification', { chargePointVendor: '<img src=x data-test=injected>', chargePointModel: 'DC-120' }]) },
        { dir: 'in', ms: 1300, text: '[2,"s-1","StatusNotification",{"connectorId":0,"errorCode":"NoErr', cut: 5120 },
      ];
      verdict(id, 1, 'pass', null, frames, 2);
      engine(`UPDATE conformance_checks SET verdict = 'running', started_at = ${now()} WHERE run_id = ${id} AND seq = 2;`);
      await head.locator('[data-test="run-progress"][data-done="1"]').waitFor();
      await head.locator('[data-test="sum-pass"][data-n="1"]').waitFor();
      await current.and(page.locator('[data-check="boot.status-all-connectors"]')).waitFor();
      assert.match(await head.getByTestId('run-progress-label').textContent(), /已完成 1 \/ 36 项/);

      // open check 1: its frames as readable text
      const row1 = page.locator('[data-test="check-row"][data-seq="1"]');
      assert.equal((await row1.getByTestId('check-verdict').textContent()).trim(), '通过');
      await row1.getByTestId('check-toggle').click();
      const detail1 = page.locator('[data-test="check-detail"][data-seq="1"]');
      await detail1.getByTestId('frame').first().waitFor();
      assert.equal(await detail1.getByTestId('frame').count(), 4);
      const first = detail1.getByTestId('frame').first();
      assert.equal(await first.getAttribute('data-dir'), 'out');
      assert.match(await first.getByTestId('frame-dir').textContent(), /平台 → 充电桩/);
      assert.equal((await first.getByTestId('frame-ms').textContent()).trim(), '+0 ms');
      assert.match(await first.getByTestId('frame-text').textContent(), /"type": "Hard"/, 'pretty-printed');
      assert.match(await detail1.getByTestId('frame').nth(2).getByTestId('frame-text').textContent(), /<img src=x data-test=injected>/);
      assert.equal(await page.locator('[data-test="injected"]').count(), 0, 'frame text never becomes markup');
      assert.match(await detail1.getByTestId('frame-cut').textContent(), /5120/);
      assert.match(await detail1.getByTestId('frames-dropped').textContent(), /另有 2 条/);
      await lib.shot(page, 'conformance_frames');

      // checks 2..23 decided (2 fails), 24 authorize.card waits for a card
      verdict(id, 2, 'fail', 'connector 2 never reported its status');
      engine(`UPDATE conformance_checks SET verdict = 'pass', started_at = ${now()}, finished_at = ${now()} WHERE run_id = ${id} AND seq BETWEEN 3 AND 23;
        UPDATE conformance_checks SET verdict = 'running', started_at = ${now()} WHERE run_id = ${id} AND seq = 24;`);
      await head.locator('[data-test="run-progress"][data-done="23"]').waitFor();
      await head.locator('[data-test="sum-fail"][data-n="1"]').waitFor();
      assert.equal(await dataNum(head.getByTestId('sum-pass'), 'data-n'), 22);
      const row2 = page.locator('[data-test="check-row"][data-seq="2"]');
      assert.equal((await row2.getByTestId('check-verdict').textContent()).trim(), '不通过');
      assert.equal((await row2.getByTestId('check-reason').textContent()).trim(), 'connector 2 never reported its status');
      assert.equal(await detail1.isVisible(), true, 'an opened check stays open while the page polls');
      await current.and(page.locator('[data-check="authorize.card"]')).waitFor();
      const need = page.getByTestId('run-need');
      assert.equal(await need.getAttribute('data-needs'), 'card');
      assert.equal((await need.getByTestId('run-need-text').textContent()).trim(), '请刷卡');
      await lib.shot(page, 'conformance_need_card');
      const confirmed = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/api/v1/conformance-runs/${id}/checks/24/confirm`);
      await need.getByRole('button', { name: '已完成此操作' }).click();
      assert.equal((await confirmed).status(), 200);
      await need.getByTestId('run-confirmed').waitFor();
      assert.notEqual(engine(`SELECT confirmed_at FROM conformance_checks WHERE run_id = ${id} AND seq = 24`)[0].confirmed_at, null);

      // 取消检测: the engine is asked, then ends the run cancelled
      await head.getByTestId('run-cancel').click();
      const dialog = page.getByTestId('dialog-cancel-run');
      await dialog.waitFor();
      const cancelled = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/api/v1/conformance-runs/${id}/cancel`);
      await dialog.getByTestId('dialog-ok').click();
      assert.ok([200, 202].includes((await cancelled).status()));
      await head.getByTestId('run-cancelling').waitFor();
      assert.equal(engine(`SELECT cancel_requested FROM conformance_runs WHERE id = ${id}`)[0].cancel_requested, 1);
      engine(`UPDATE conformance_checks SET verdict = 'skipped', reason = 'cancelled', finished_at = ${now()} WHERE run_id = ${id} AND verdict IN ('pending', 'running');
        UPDATE conformance_runs SET state = 'cancelled', reason = 'cancelled', finished_at = ${now()} WHERE id = ${id};`);
      await head.locator('[data-test="run-state"][data-state="cancelled"]').waitFor();
      await head.getByTestId('run-result').filter({ hasText: '检测已取消' }).waitFor();
      assert.equal(await head.getByTestId('run-cancel').isVisible(), false);
      assert.equal(await page.getByTestId('run-current').count(), 0);
      assert.equal(await dataNum(head.getByTestId('run-progress'), 'data-done'), 36);
      await lib.shot(page, 'conformance_cancelled');

      // exports
      for (const [test, type] of [['run-export-pdf', 'application/pdf'], ['run-export-json', 'application/json']]) {
        const href = await head.getByTestId(test).getAttribute('href');
        const res = await page.request.get(new URL(href, env.mgmt.base).href);
        assert.equal(res.status(), 200, `${href}: ${await res.text()}`);
        assert.match(res.headers()['content-type'] || '', new RegExp(`^${type}`));
        if (type === 'application/json') assert.equal((await res.json()).id, id);
        else assert.equal((await res.body()).subarray(0, 5).toString(), '%PDF-');
      }

      // 检测记录: the run is listed, with filters
      await page.getByTestId('nav-runs').click();
      const listed = page.locator(`[data-test="run-row"][data-run="${id}"]`);
      await listed.waitFor();
      assert.match(await listed.textContent(), /OCPP 1\.6 核心功能检测/);
      assert.equal(await listed.getByTestId('run-state').getAttribute('data-state'), 'cancelled');
      await page.getByTestId('filter-state').selectOption('passed');
      await page.waitForURL(/state=passed/);
      await page.getByTestId('run-empty').waitFor();
      await page.getByTestId('filter-reset').click();
      await listed.waitFor();
      // and on the pile page
      await page.goto(`${env.mgmt.base}/#/piles/${p.id}`);
      await page.getByTestId('pd-runs').locator(`[data-test="run-row"][data-run="${id}"]`).waitFor();
      // in English
      await page.getByTestId('lang-en').click();
      await page.goto(`${env.mgmt.base}/#/runs/${id}`);
      await page.getByRole('heading', { name: /Conformance run JL/ }).waitFor();
      const titleEn = await page.locator('[data-test="check-row"][data-seq="1"]').getByTestId('check-title').textContent();
      assert.match(titleEn, /BootNotification/);
      assert.doesNotMatch(titleEn, /[\u4e00-\u9fff]/, 'the English title');
      assert.equal((await page.getByTestId('run-head').getByTestId('run-state').textContent()).trim(), 'Cancelled');
    });
  });

  test('a self detection starts a tcec102-platform run from its page; cancelling the queued run gives the application back', async () => {
    // an operator with an approved self application and its T/CEC credentials (no gateway yet:
    // the run stays queued)
    const tag = lib.uniq();
    const op = { username: `det_${tag}`, password: 'Operator-pass-1', company: `中山市检测测试充电有限公司${tag}`, creditCode: lib.creditCode() };
    await lib.approvedOperator(env, op);
    const s = await lib.apiSession(env.mgmt.base, op.username, op.password);
    const created = await s.call('POST', '/detections', {
      mode: 'self',
      commissioning_unit: { name: op.company, credit_code: op.creditCode, address: '中山市石岐区孙文中路 1 号' },
      contact: { name: '周联调', mobile: '13700001111', email: 'zhou@example.com' },
      platform: { name: `检测测试平台${tag}`, base_url: 'https://platform.example.com/evcs/v1/', protocol_version: 'T/CEC 102-2016', source_ips: ['198.51.100.7'] },
      pile_summary: { brands: '万马', models: 'DC-60', ac_count: 0, dc_count: 6, protocols: ['platform'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const det = created.body.id;
    assert.equal((await s.upload(`/detections/${det}/materials`, 'file', lib.makePng(200, 280), 'form.png', 'image/png')).status, 201);
    assert.equal((await s.call('POST', `/detections/${det}/submit`)).status, 200);
    const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
    assert.equal((await admin.call('POST', `/admin/detections/${det}/approve`, {})).status, 200);
    const cred = await s.call('POST', `/detections/${det}/credentials`);
    assert.equal(cred.status, 200, JSON.stringify(cred.body));
    const oid = cred.body.operator_id;

    await lib.withPage(env, 'conformance_detection', async (page) => {
      await lib.login(page, env.mgmt.base, op.username, op.password);
      await page.getByTestId('nav-runs').waitFor();
      await page.goto(`${env.mgmt.base}/#/detections/${det}`);
      const panel = page.getByTestId('detection-runs');
      await panel.getByRole('heading', { name: '平台符合性检测' }).waitFor();
      await panel.getByTestId('recent-runs-empty').waitFor();
      assert.equal((await panel.getByTestId('run-plan-name').textContent()).trim(), 'T/CEC 102 平台互联检测');
      const id = await startRun(page, panel);
      const head = page.getByTestId('run-head');
      await head.locator('[data-test="run-state"][data-state="queued"]').waitFor();
      assert.equal(await head.getByTestId('run-target').getAttribute('href'), `#/platforms/${oid}`);
      assert.match(await head.getByTestId('run-plan').textContent(), /T\/CEC 102 平台互联检测/);
      assert.equal(await dataNum(head.getByTestId('run-progress'), 'data-total'), 20);
      await page.getByTestId('run-queued').waitFor();

      // the application is being tested, and lists its run
      await page.goto(`${env.mgmt.base}/#/detections/${det}`);
      await page.getByTestId('status-card').locator('[data-test="status-badge"][data-status="testing"]').waitFor();
      await panel.getByTestId('run-det-testing').waitFor();
      assert.equal(await panel.getByTestId('run-start').count(), 0);
      await panel.locator(`[data-test="run-row"][data-run="${id}"]`).getByTestId('run-link').click();

      // a queued run is cancelled at once
      await head.getByTestId('run-cancel').click();
      await page.getByTestId('dialog-cancel-run').getByTestId('dialog-ok').click();
      await head.locator('[data-test="run-state"][data-state="cancelled"]').waitFor();
      assert.equal(await head.getByTestId('run-cancel').isVisible(), false);
      await page.goto(`${env.mgmt.base}/#/detections/${det}`);
      await page.getByTestId('status-card').locator('[data-test="status-badge"][data-status="approved"]').waitFor();
      await panel.getByTestId('run-start').waitFor();
      await lib.shot(page, 'conformance_detection');
    });
  });

  test('the real chain: an admin runs ocpp16-core against evsim-pile from the pile page', { skip: chainSkip() }, async () => {
    gw = await startGateway(env.tmp, { EVGATE_CONFORM_HEARTBEAT_S: '2', EVGATE_CONFORM_WAIT_CAP_S: '5', EVGATE_OCPP_COMMAND_POLL_MS: '50' });
    const { piles } = await makeAccessedPiles(env, { c: 'ocpp1.6' });
    const p = piles.c;
    const sim = spawn(SIM, ['--url', `${gw.ws}/ocpp`, '--ids', p.id, '--password', p.password, '--protocol', 'ocpp1.6', '--scenario', 'conform', '--connectors', '2', '--reconnect', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    sims.push(sim);
    const simLog = [];
    sim.stderr.on('data', (d) => simLog.push(d.toString()));

    await lib.withPage(env, 'conformance_chain', async (page) => {
      await lib.login(page, env.mgmt.base, 'admin', env.adminPassword);
      await page.getByTestId('nav-runs').waitFor();
      await page.goto(`${env.mgmt.base}/#/piles/${p.id}`);
      await page.getByTestId('pd-online').filter({ hasText: '在线' }).waitFor({ timeout: 30000 });
      const panel = page.getByTestId('pd-runs');
      const id = await startRun(page, panel);
      const head = page.getByTestId('run-head');
      const progress = head.getByTestId('run-progress');
      await progress.waitFor();
      // progress while it runs: some checks decided while others are still to come
      await head.locator('[data-test="run-state"][data-state="running"]').waitFor({ timeout: 30000 });
      await head.locator('[data-test="run-progress"]:not([data-done="0"])').waitFor({ timeout: 60000 });
      // one look at the progress and the state together, then the progress moves on by itself
      const snap = () => page.evaluate(() => {
        const box = document.querySelector('[data-test="run-head"]');
        const pr = box.querySelector('[data-test="run-progress"]');
        return { done: Number(pr.dataset.done), state: box.querySelector('[data-test="run-state"]').dataset.state, pass: Number(box.querySelector('[data-test="sum-pass"]').dataset.n) };
      });
      const midway = await snap();
      assert.equal(midway.state, 'running', JSON.stringify(midway));
      assert.ok(midway.done > 0 && midway.done < 36, `progress ${midway.done} / 36 while running`);
      await page.getByTestId('run-current').waitFor();
      await page.waitForFunction((n) => Number(document.querySelector('[data-test="run-head"] [data-test="run-progress"]').dataset.done) > n, midway.done, { timeout: 120000 });
      await lib.shot(page, 'conformance_chain_running');
      // it ends (passed, or failed with its reasons: the verdicts are the engine's business)
      await head.locator('[data-test="run-state"]:is([data-state="passed"], [data-state="failed"])').waitFor({ timeout: 400000 });
      assert.equal(await dataNum(progress, 'data-done'), 36);
      assert.equal(await head.getByTestId('run-cancel').isVisible(), false);
      // boot.first-message: the frames prove it
      const row = page.locator('[data-test="check-row"][data-check="boot.first-message"]');
      await row.getByTestId('check-toggle').click();
      const detail = page.locator('[data-test="check-detail"][data-seq="1"]');
      await detail.getByTestId('frame').first().waitFor();
      assert.match(await detail.textContent(), /BootNotification/);
      await lib.shot(page, 'conformance_chain_done');
      for (const [test, type] of [['run-export-pdf', 'application/pdf'], ['run-export-json', 'application/json']]) {
        const href = await head.getByTestId(test).getAttribute('href');
        const r = await page.request.get(new URL(href, env.mgmt.base).href);
        assert.equal(r.status(), 200, href);
        assert.match(r.headers()['content-type'] || '', new RegExp(`^${type}`));
      }
    }).catch((e) => {
      e.message += `\n--- gateway log (tail) ---\n${gw.log.slice(-60).join('\n')}\n--- evsim-pile ---\n${simLog.join('').slice(-4000)}`;
      throw e;
    });
  });
});
