// T/CEC 102 for the integration tests, written with node:crypto and independent of evgate's C
// code (protocol/tcec*): the envelope (AES-128-CBC + PKCS#7 in Base64, upper-case hex
// HMAC-MD5), a small operator platform server to point evgate at, and an operator whose
// approved self detection carries T/CEC credentials.
import assert from 'node:assert/strict';
import http from 'node:http';
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual, randomBytes } from 'node:crypto';
import { detectionBody, pileBody, ok } from './ocpp_lib.mjs';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

// ---------- envelope ----------
// `keys` are credentials as POST /api/v1/detections/{id}/credentials gives them:
// {operator_id, operator_secret, data_secret, data_secret_iv, sig_secret} (16-character strings).

/** yyyyMMddHHmmss in China Standard Time (the standard's clock, whatever this machine's zone),
 * `offsetS` seconds from now. */
export function timeStamp(offsetS = 0) {
  const d = new Date(Date.now() + (offsetS + 8 * 3600) * 1000);
  return d.toISOString().replace(/[-T:]/g, '').slice(0, 14);
}

/** A TimeStamp as a Date. */
export function fromTimeStamp(s) {
  return new Date(Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(8, 10), +s.slice(10, 12), +s.slice(12, 14)) - 8 * 3600 * 1000);
}

/** Upper-case hex HMAC-MD5 keyed with `secret` over the parts joined. */
export const sign = (secret, ...parts) => createHmac('md5', secret).update(parts.join(''), 'utf8').digest('hex').toUpperCase();

export function encrypt(text, keys) {
  const c = createCipheriv('aes-128-cbc', Buffer.from(keys.data_secret), Buffer.from(keys.data_secret_iv));
  return Buffer.concat([c.update(text, 'utf8'), c.final()]).toString('base64');
}

/** The plaintext; throws on bad padding (another key). */
export function decrypt(b64, keys) {
  const d = createDecipheriv('aes-128-cbc', Buffer.from(keys.data_secret), Buffer.from(keys.data_secret_iv));
  return Buffer.concat([d.update(Buffer.from(b64, 'base64')), d.final()]).toString('utf8');
}

function sigEqual(a, b) {
  return typeof a === 'string' && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

let seqCounter = 1 + Math.floor(Math.random() * 5000);
export const nextSeq = () => String((seqCounter = (seqCounter % 9999) + 1)).padStart(4, '0');

/** A signed, encrypted request envelope of `keys` carrying `payload` (a string is sent as is).
 * opts break or pin it: operatorId, data, timeStamp, seq, sig, sigSecret. */
export function request(keys, payload, opts = {}) {
  const OperatorID = opts.operatorId ?? keys.operator_id;
  const Data = opts.data ?? encrypt(typeof payload === 'string' ? payload : JSON.stringify(payload), keys);
  const TimeStamp = opts.timeStamp ?? timeStamp();
  const Seq = opts.seq ?? nextSeq();
  const Sig = opts.sig ?? sign(opts.sigSecret ?? keys.sig_secret, OperatorID, Data, TimeStamp, Seq);
  return { OperatorID, Data, TimeStamp, Seq, Sig };
}

/** Verifies and opens a request body (an object): {payload} or {error: {ret, msg}}. */
export function openRequest(keys, body) {
  const need = ['OperatorID', 'Data', 'TimeStamp', 'Seq', 'Sig'];
  if (!body || typeof body !== 'object' || need.some((k) => typeof body[k] !== 'string')) return { error: { ret: 4003, msg: 'POST parameters' } };
  if (!sigEqual(body.Sig, sign(keys.sig_secret, body.OperatorID, body.Data, body.TimeStamp, body.Seq))) return { error: { ret: 4001, msg: 'signature' } };
  try {
    return { payload: JSON.parse(decrypt(body.Data, keys)) };
  } catch {
    return { error: { ret: 4004, msg: 'Data' } };
  }
}

/** A signed response envelope (Data "" for no payload). */
export function response(keys, ret, msg, payload) {
  const data = payload === undefined || payload === null ? '' : encrypt(JSON.stringify(payload), keys);
  return { Ret: ret, Msg: msg, Data: data, Sig: sign(keys.sig_secret, String(ret), msg, data) };
}

/** Verifies and opens a response body: {ret, msg, payload}; throws on a bad signature. */
export function openResponse(keys, body) {
  assert.ok(sigEqual(body.Sig, sign(keys.sig_secret, String(body.Ret), body.Msg, body.Data)), `response signature: ${JSON.stringify(body)}`);
  return { ret: body.Ret, msg: body.Msg, payload: body.Data === '' ? null : JSON.parse(decrypt(body.Data, keys)) };
}

// ---------- an operator with T/CEC credentials ----------

/** An approved operator whose `self` detection (platform at `baseUrl`, allowed `sourceIps`)
 * passed, with its T/CEC credentials issued. `env` has {mgmt, adminPassword}; `lib` is
 * tests/browser/lib.mjs. Returns {operatorId, keys (the credentials), detectionId, session}. */
export async function platformOperator(lib, env, baseUrl, sourceIps = ['127.0.0.1']) {
  const tag = lib.uniq();
  const op = { username: `tcec_${tag}`, password: 'Correct-horse-1', company: `中山市互联互通测试有限公司${tag}`, creditCode: lib.creditCode() };
  await lib.approvedOperator(env, op);
  const s = await lib.apiSession(env.mgmt.base, op.username, op.password);
  const admin = await lib.apiSession(env.mgmt.base, 'admin', env.adminPassword);
  const body = detectionBody(tag);
  body.platform.base_url = baseUrl;
  body.platform.source_ips = sourceIps;
  const det = ok(await s.call('POST', '/detections', body), 201, 'detection');
  ok(await s.upload(`/detections/${det.id}/materials`, 'file', PDF, '申请表.pdf', 'application/pdf'), 201, 'materials');
  ok(await s.call('POST', `/detections/${det.id}/submit`, {}), 200, 'detection submit');
  ok(await admin.call('POST', `/admin/detections/${det.id}/approve`, {}), 200, 'detection approve');
  const keys = ok(await s.call('POST', `/detections/${det.id}/credentials`, {}), 200, 'credentials');
  return { operatorId: keys.operator_id, keys, detectionId: det.id, session: s };
}

/** An accessed station `ST<TAG>` named `name` with two 1.6 piles (`EQ<TAG>P1`, `EQ<TAG>P2`),
 * registered by operator session `s` and approved by admin session `admin`. Returns
 * {station, piles}. */
export async function accessedStation(s, admin, tag, name) {
  const station = `ST${tag.toUpperCase()}`;
  ok(await s.call('POST', '/stations', {
    station_id: station, name, area_code: '442000', address: '中山市东区中山四路88号',
    service_tel: '400-800-8888', station_type: 1, station_status: 50, park_nums: 12, lng: 113.392614, lat: 22.517646, construction: 4,
  }), 201, 'station');
  const piles = [1, 2].map((n) => `EQ${tag.toUpperCase()}P${n}`);
  for (const id of piles) ok(await s.call('POST', '/piles', pileBody(station, id, 'ocpp1.6')), 201, `pile ${id}`);
  const app = ok(await s.call('POST', '/piles/submit', { equipment_ids: piles }), 201, 'submit');
  ok(await admin.call('POST', `/admin/access-applications/${app.id}/approve`, {}), 200, 'access approve');
  return { station, piles };
}

// ---------- a small operator platform ----------

/** Station i of a fake platform `prefix`: valid by the data dictionary. */
export function fakeStation(prefix, i) {
  const id = `${prefix}${String(i).padStart(4, '0')}`;
  return {
    OperatorID: 'MA4UJ9XY0', EquipmentOwnerID: 'MA4UJ9XY0', StationID: id, StationName: `测试站${i}`,
    CountryCode: 'CN', AreaCode: '442000', Address: `中山市东区测试路${i}号`, ServiceTel: '4008008888',
    StationType: 1, StationStatus: 50, ParkNums: 10, StationLng: 113.392614, StationLat: 22.517646,
    Construction: 1,
    EquipmentInfos: [{
      EquipmentID: `${id}E1`, EquipmentType: 1, Power: 120.0,
      ConnectorInfos: [{ ConnectorID: `${id}E1C1`, ConnectorType: 4, VoltageUpperLimits: 750, VoltageLowerLimits: 200, Current: 200, Power: 60.0, NationalStandard: 2 }],
    }],
  };
}

/**
 * An operator platform on a free loopback port answering query_token, query_stations_info
 * (paged), query_station_status and query_station_stats, with the credentials `opts.keys`
 * (callers present their operator_secret). opts: {keys, stations (array), tokenTtl (s)}. Returns {url (base, ending in
 * /evcs/v1/), calls (interface names in order), state (keys, and switches the test flips:
 * badSig — answers signed wrongly, refuseTokenOnce — the next call gets 4002), close()}.
 */
export async function fakePlatform(opts) {
  const calls = [];
  const tokens = new Map(); // token -> expiry (ms)
  const state = { keys: opts.keys, badSig: false, refuseTokenOnce: false };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => { raw += d; });
    req.on('end', () => {
      const iface = req.url.replace(/^\/evcs\/v1\//, '');
      calls.push(iface);
      const keys = state.keys;
      const send = (ret, msg, payload) => {
        const body = response(keys, ret, msg, payload);
        if (state.badSig) body.Sig = '0'.repeat(32);
        res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      let body;
      try { body = JSON.parse(raw); } catch { return send(4003, 'POST parameters', null); }
      const opened = openRequest(keys, body);
      if (opened.error) return send(opened.error.ret, opened.error.msg, null);
      const p = opened.payload;
      if (iface === 'query_token') {
        if (p.OperatorSecret !== state.keys.operator_secret) return send(0, '', { OperatorID: p.OperatorID, SuccStat: 1, AccessToken: '', TokenAvailableTime: 0, FailReason: 2 });
        const token = randomBytes(16).toString('hex');
        tokens.set(token, Date.now() + (opts.tokenTtl ?? 7200) * 1000);
        return send(0, '', { OperatorID: p.OperatorID, SuccStat: 0, AccessToken: token, TokenAvailableTime: opts.tokenTtl ?? 7200, FailReason: 0 });
      }
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization || '');
      const exp = auth && tokens.get(auth[1]);
      if (!exp || exp < Date.now() || state.refuseTokenOnce) {
        state.refuseTokenOnce = false;
        return send(4002, 'token', null);
      }
      const stations = opts.stations || [];
      if (iface === 'query_stations_info') {
        const size = p.PageSize || 10;
        const count = Math.max(1, Math.ceil(stations.length / size));
        const no = p.PageNo || 1;
        const items = stations.slice((no - 1) * size, no * size);
        return send(0, '', { PageNo: no, PageCount: count, ItemSize: stations.length, StationInfos: items });
      }
      if (iface === 'query_station_status') {
        const infos = p.StationIDs.map((id) => ({ StationID: id, ConnectorStatusInfos: [{ ConnectorID: `${id}E1C1`, Status: 1 }] }));
        return send(0, '', { Total: infos.length, StationStatusInfos: infos });
      }
      if (iface === 'query_station_stats') {
        return send(0, '', {
          StationStats: {
            StationID: p.StationID, StartTime: p.StartTime, EndTime: p.EndTime, StationElectricity: 10.5,
            EquipmentStatsInfos: [{ EquipmentID: `${p.StationID}E1`, EquipmentElectricity: 10.5, ConnectorStatsInfos: [{ ConnectorID: `${p.StationID}E1C1`, ConnectorElectricity: 10.5 }] }],
          },
        });
      }
      return send(4003, `no interface ${iface}`, null);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/evcs/v1/`,
    calls,
    state,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
