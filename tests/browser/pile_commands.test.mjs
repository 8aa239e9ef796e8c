// Browser end-to-end test of 远程操作 (docs/api-commands.md): an accessed 1.6 pile connects with
// npm's `ws` to a real evgate-gateway on mgmt's database and answers the CALLs it gets; its
// operator opens the pile page, sends 重启充电桩 (Reset, Hard) and sees the pile's answer and the
// command in 最近指令; a RemoteStartTransaction whose idTag is longer than OCPP allows is refused
// with the error beside 卡号, and a missing required field is named before anything is sent.
// An admin then sets the pile's OCPP 设置 (BootNotification answer Pending) on the same page; the
// operator sees it and has no such form.
// Needs the gateway's side of remote operations (gateway/ picks up pile_commands rows).
//
//   EVGATE_BUILD, EVGATE_SRC, EVGATE_SCREENSHOT_DIR as in lib.mjs

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lib from './lib.mjs';
import { startGateway, makeAccessedPiles } from '../integration/ocpp_lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WebSocket = createRequire(path.join(HERE, 'package.json'))('ws');

let gw = null;
const sockets = [];
const env = lib.useEnvironment(async (e) => {
  gw = await startGateway(e.tmp);
});
after(async () => {
  for (const ws of sockets) ws.terminate();
  await gw?.stop();
});

/** A pile (1.6 unless `protocol` says otherwise): call() sends a CALL and resolves its answer;
 * every CALL from the central system is pushed to `received` and answered with
 * answer(action, payload). */
function connect(id, password, answer, protocol = 'ocpp1.6') {
  const auth = `Basic ${Buffer.from(`${id}:${password}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.ws}/ocpp/${encodeURIComponent(id)}`, [protocol], { headers: { Authorization: auth }, handshakeTimeout: 10000 });
    sockets.push(ws);
    const waiting = new Map();
    const received = [];
    let n = 0;
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg[0] === 2) {
        received.push(msg);
        ws.send(JSON.stringify([3, msg[1], answer(msg[2], msg[3])]));
        return;
      }
      const w = waiting.get(msg[1]);
      if (w) {
        waiting.delete(msg[1]);
        w(msg);
      }
    });
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      const err = new Error(`handshake refused: ${res.statusCode}`);
      err.status = res.statusCode;
      reject(err);
    });
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        received,
        call(action, payload) {
          const msgId = `${action}-${(n += 1)}`;
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no answer to ${msgId}`)), 10000);
            waiting.set(msgId, (m) => {
              clearTimeout(timer);
              res(m);
            });
            ws.send(JSON.stringify([2, msgId, action, payload]));
          });
        },
      }),
    );
  });
}

/** connect(), retried while the gateway answers 404: its pile table reloads a moment after
 * the pile is approved. */
async function connectLoaded(id, password, answer, protocol = 'ocpp1.6', ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await connect(id, password, answer, protocol);
    } catch (err) {
      if (err.status !== 404 || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('remote operations in the browser', () => {
  test('an operator resets a connected pile and sees its answer; bad fields are named', async () => {
    const { piles, op } = await makeAccessedPiles(env, { a: 'ocpp1.6' });
    const p = piles.a;
    const cp = await connectLoaded(p.id, p.password, (action) => (action === 'Reset' ? { status: 'Accepted' } : { status: 'Rejected' }));
    const boot = await cp.call('BootNotification', { chargePointVendor: 'StarCharge', chargePointModel: 'DC-120' });
    assert.equal(boot[0], 3, JSON.stringify(boot));

    await lib.withPage(env, 'pile_commands', async (page) => {
      await lib.login(page, env.mgmt.base, op.username, op.password);
      await page.getByTestId('nav-piles').click();
      const row = page.getByTestId('pile-row').filter({ hasText: p.id });
      await row.getByTestId('pile-detail').click();
      await page.getByRole('heading', { name: /充电桩详情/ }).waitFor();
      await page.getByTestId('pd-online').filter({ hasText: '在线' }).waitFor();

      const panel = page.getByTestId('pd-commands');
      await panel.getByRole('heading', { name: '远程操作' }).waitFor();
      await panel.getByLabel('操作', { exact: true }).selectOption('Reset');
      await panel.getByLabel('重启方式').selectOption('Hard');
      assert.deepEqual(JSON.parse(await panel.getByTestId('rc-preview').textContent()), { type: 'Hard' });
      await panel.getByTestId('rc-send').click();
      const result = panel.getByTestId('rc-result');
      await result.getByTestId('rc-state').and(page.locator('[data-state="answered"]')).waitFor({ timeout: 45000 });
      assert.match(await result.getByTestId('rc-state').textContent(), /已应答/);
      assert.deepEqual(JSON.parse(await result.getByTestId('rc-response').textContent()), { status: 'Accepted' });
      // the pile got exactly that CALL
      const resets = cp.received.filter((m) => m[2] === 'Reset');
      assert.equal(resets.length, 1, JSON.stringify(cp.received));
      assert.deepEqual(resets[0][3], { type: 'Hard' });
      // and it is listed
      const listed = panel.getByTestId('rc-row').filter({ hasText: 'Reset' });
      await listed.filter({ hasText: '已应答' }).waitFor();
      assert.match(await listed.textContent(), /Accepted/);
      await lib.shot(page, 'pile_commands');

      // a required field left empty is named before anything is sent
      await panel.getByLabel('操作', { exact: true }).selectOption('RemoteStartTransaction');
      await panel.getByTestId('rc-send').click();
      await panel.getByTestId('error-payload.idTag').filter({ hasText: '此项为必填项' }).waitFor();
      // an idTag longer than OCPP 1.6 allows (20): the server's 422 shows beside the field
      const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/api/v1/piles/${p.id}/commands`);
      await panel.getByLabel('卡号（idTag）').fill('X'.repeat(25));
      await panel.getByLabel('接口编号').fill('1');
      await panel.getByTestId('rc-send').click();
      assert.equal((await posted).status(), 422);
      await panel.getByTestId('error-payload.idTag').filter({ hasText: '超出协议规定的长度' }).waitFor();
      assert.equal(await panel.getByLabel('卡号（idTag）').getAttribute('aria-invalid'), 'true');
      assert.equal(cp.received.filter((m) => m[2] === 'RemoteStartTransaction').length, 0);
      await lib.shot(page, 'pile_commands_invalid');

      // 其他指令: a free JSON payload; its schema errors name the path in the JSON box, an
      // action the central system does not send is named beside 指令名称
      await panel.getByLabel('操作', { exact: true }).selectOption({ label: '其他指令（自定义 JSON）' });
      await panel.getByLabel('指令名称').fill('GetDiagnostics');
      await panel.getByLabel('报文内容（JSON）').fill('{"location": 5}');
      await panel.getByTestId('rc-send').click();
      await panel.getByTestId('error-payload').filter({ hasText: 'location：类型不正确' }).waitFor();
      await panel.getByLabel('指令名称').fill('BootNotification');
      await panel.getByLabel('报文内容（JSON）').fill('{}');
      await panel.getByTestId('rc-send').click();
      await panel.getByTestId('error-other_action').filter({ hasText: '该协议版本中平台不能发送此指令' }).waitFor();
      assert.deepEqual(cp.received.map((m) => m[2]), ['Reset']);
      assert.equal(await page.getByTestId('pd-ocpp-settings').count(), 0, 'operators do not change OCPP settings');
    });

    await lib.withPage(env, 'pile_ocpp_settings', async (page) => {
      await lib.login(page, env.mgmt.base, 'admin', env.adminPassword);
      await page.getByTestId('user-menu').waitFor();
      await page.goto(`${env.mgmt.base}/#/piles/${p.id}`);
      const settings = page.getByTestId('pd-ocpp-settings');
      await settings.getByRole('heading', { name: 'OCPP 设置' }).waitFor();
      // admins send remote operations too
      await page.getByTestId('pd-commands').getByTestId('rc-row').filter({ hasText: 'Reset' }).waitFor();
      await settings.getByLabel('启动通知应答').selectOption('Pending');
      await settings.getByLabel('安全等级').selectOption('2');
      const put = page.waitForResponse((r) => r.request().method() === 'PUT');
      await settings.getByTestId('os-save').click();
      assert.equal((await put).status(), 200);
      await page.locator('[data-test="pd-boot-status"][data-value="Pending"]').waitFor();
      assert.equal(await page.getByTestId('pd-security-profile').getAttribute('data-value'), '2');
      await lib.shot(page, 'pile_ocpp_settings');
    });
    const again = await lib.apiSession(env.mgmt.base, op.username, op.password);
    const pile = await again.call('GET', `/piles/${p.id}`);
    assert.equal(pile.body.boot_status, 'Pending', JSON.stringify(pile.body));
    assert.equal(pile.body.security_profile, 2);
  });

  test('2.0.1: RequestStartTransaction and GetVariables from their forms, in English', async () => {
    const { piles, op } = await makeAccessedPiles(env, { b: 'ocpp2.0.1' });
    const p = piles.b;
    const answers = {
      RequestStartTransaction: { status: 'Accepted' },
      GetVariables: { getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '300', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] },
    };
    const cp = await connectLoaded(p.id, p.password, (action) => answers[action] || {}, 'ocpp2.0.1');
    const boot = await cp.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'DC-120', vendorName: 'StarCharge' } });
    assert.equal(boot[0], 3, JSON.stringify(boot));

    await lib.withPage(env, 'pile_commands_201', async (page) => {
      await lib.login(page, env.mgmt.base, op.username, op.password);
      await page.getByTestId('lang-en').click();
      await page.goto(`${env.mgmt.base}/#/piles/${p.id}`);
      const panel = page.getByTestId('pd-commands');
      await panel.getByTestId('rc-send').waitFor();
      const action = panel.getByLabel('Operation', { exact: true });
      await action.selectOption('RequestStartTransaction');
      await panel.getByLabel('Token (idToken)').fill('CARD0001');
      await panel.getByLabel('Token type').selectOption('ISO14443');
      await panel.getByLabel('Remote start id').fill('42');
      await panel.getByLabel('EVSE').fill('1');
      await panel.getByTestId('rc-send').click();
      const state = panel.getByTestId('rc-result').getByTestId('rc-state');
      await state.and(page.locator('[data-state="answered"]')).waitFor({ timeout: 45000 });
      const starts = cp.received.filter((m) => m[2] === 'RequestStartTransaction');
      assert.equal(starts.length, 1, JSON.stringify(cp.received));
      assert.deepEqual(starts[0][3], { idToken: { idToken: 'CARD0001', type: 'ISO14443' }, remoteStartId: 42, evseId: 1 });

      await action.selectOption('GetVariables');
      await panel.getByLabel('Component').fill('OCPPCommCtrlr');
      await panel.getByLabel('Variable').fill('HeartbeatInterval');
      await panel.getByTestId('rc-send').click();
      await panel.getByTestId('rc-result').getByTestId('rc-state').and(page.locator('[data-state="answered"]')).waitFor({ timeout: 45000 });
      const gets = cp.received.filter((m) => m[2] === 'GetVariables');
      assert.equal(gets.length, 1);
      assert.deepEqual(gets[0][3], { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] });
      assert.equal(JSON.parse(await panel.getByTestId('rc-result').getByTestId('rc-response').textContent()).getVariableResult[0].attributeValue, '300');
      await lib.shot(page, 'pile_commands_201');
    });
  });
});
