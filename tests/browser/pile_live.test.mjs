// Browser end-to-end test of 充电桩详情: an accessed 1.6 pile (made through the mgmt API) connects
// over WebSocket to a real evgate-gateway on the same database, sends BootNotification and
// StatusNotification (connector 1 Charging); its operator opens 我的充电桩 → the pile and sees it
// 在线, its vendor, and connector 1 as 充电中 with T/CEC code 3; 刷新 shows a later change.
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
// the gateway starts in the same hook as mgmt (on its database), once that is listening
const env = lib.useEnvironment(async (e) => {
  gw = await startGateway(e.tmp);
});
after(async () => {
  for (const ws of sockets) ws.terminate();
  await gw?.stop();
});

/** A 1.6 pile session: call(action, payload) resolves the CALLRESULT/CALLERROR frame. */
function connect(id, password) {
  const auth = `Basic ${Buffer.from(`${id}:${password}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.ws}/ocpp/${encodeURIComponent(id)}`, ['ocpp1.6'], { headers: { Authorization: auth }, handshakeTimeout: 10000 });
    sockets.push(ws);
    const waiting = new Map();
    let n = 0;
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
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
        call(action, payload) {
          const msgId = `${action}-${(n += 1)}`;
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no answer to ${msgId}`)), 10000);
            waiting.set(msgId, (m) => { clearTimeout(timer); res(m); });
            ws.send(JSON.stringify([2, msgId, action, payload]));
          });
        },
      }),
    );
  });
}

/** connect(), retried while the gateway answers 404: its pile table reloads a moment after
 * the pile is approved. */
async function connectLoaded(id, password, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await connect(id, password);
    } catch (err) {
      if (err.status !== 404 || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('pile details in the browser', () => {
  test('a connected 1.6 pile shows online, its vendor and connector 1 charging', async () => {
    const { piles, op } = await makeAccessedPiles(env, { a: 'ocpp1.6' });
    const p = piles.a;
    const cp = await connectLoaded(p.id, p.password);
    const boot = await cp.call('BootNotification', { chargePointVendor: 'StarCharge', chargePointModel: 'DC-120', chargePointSerialNumber: 'SN-0001', firmwareVersion: '1.2.3' });
    assert.equal(boot[0], 3, JSON.stringify(boot));
    assert.equal(boot[2].status, 'Accepted');
    const st = await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: new Date().toISOString() });
    assert.equal(st[0], 3, JSON.stringify(st));
    const st0 = await cp.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available', timestamp: new Date().toISOString() });
    assert.equal(st0[0], 3, JSON.stringify(st0));
    // a schema violation: answered with a CALLERROR and recorded for the pile
    const bad = await cp.call('Heartbeat', { extra: 1 });
    assert.equal(bad[0], 4, JSON.stringify(bad));

    await lib.withPage(env, 'pile_live', async (page) => {
      await lib.login(page, env.mgmt.base, op.username, op.password);
      await page.getByTestId('nav-piles').click();
      const row = page.getByTestId('pile-row').filter({ hasText: p.id });
      // the list shows each connector's live status (connector 0, the pile itself, is left out)
      const chip = row.locator('[data-test="pile-live-connector"][data-connector="1"]');
      await chip.waitFor();
      assert.equal(await chip.getAttribute('data-status'), 'Charging');
      assert.match(await chip.textContent(), /充电中/);
      assert.equal(await row.locator('[data-test="pile-live-connector"][data-connector="0"]').count(), 0);
      await lib.shot(page, 'pile_list_live');
      await row.getByTestId('pile-detail').click();
      await page.getByRole('heading', { name: /充电桩详情/ }).waitFor();
      await page.waitForURL(new RegExp(`#/piles/${p.id}$`));
      const online = page.getByTestId('pd-online');
      await assert.doesNotReject(online.filter({ hasText: '在线' }).waitFor());
      assert.equal(await online.getAttribute('data-online'), 'true');
      assert.equal((await page.getByTestId('pd-vendor').textContent()).trim(), 'StarCharge');
      assert.equal((await page.getByTestId('pd-firmware').textContent()).trim(), '1.2.3');
      const c1 = page.locator('[data-test="live-connector"][data-connector="1"]');
      assert.match(await c1.getByTestId('conn-ocpp').textContent(), /充电中/);
      assert.equal(await c1.getByTestId('conn-tcec').getAttribute('data-code'), '3');
      assert.match(await c1.getByTestId('conn-tcec').textContent(), /3 占用\(充电中\)/);
      // the registered part is there too
      await page.getByTestId('reg-connector').filter({ hasText: `${p.id}C1` }).waitFor();
      // the violation with its frame
      await page.getByTestId('pd-viol-total').filter({ hasText: '累计 1 次协议违规' }).waitFor();
      assert.match(await page.getByTestId('pd-frame').first().textContent(), /^\[2,"Heartbeat-/);
      await lib.shot(page, 'pile_live');

      // 刷新 picks up a change of state
      const st2 = await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Finishing', timestamp: new Date().toISOString() });
      assert.equal(st2[0], 3, JSON.stringify(st2));
      const answered = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/piles/${p.id}/live`);
      await page.getByTestId('pd-refresh').click();
      await answered;
      await page.locator('[data-test="live-connector"][data-connector="1"] [data-test="conn-ocpp"][data-status="Finishing"]').waitFor();
      assert.match(await page.locator('[data-test="live-connector"][data-connector="1"]').getByTestId('conn-ocpp').textContent(), /结束中/);
    });
  });
});
