// The live state of a pile's connectors as the gateway last heard it: OCPP status and T/CEC
// ConnectorStatus cells, shared by the pile list and the pile page.
import { h } from '../dom.js';
import { t, has } from '../i18n.js';
import { dash } from './records_common.js';

export const ocppLabel = (st) => (st && has(`pd.ocpp.${st}`) ? t(`pd.ocpp.${st}`) : null);
export const tcecLabel = (code) => (code !== null && code !== undefined && has(`pd.tcec.${code}`) ? t(`pd.tcec.${code}`) : null);

const TONE = { Available: 'ok', Charging: 'busy', Preparing: 'busy', Finishing: 'busy', SuspendedEV: 'warn', SuspendedEVSE: 'warn', Reserved: 'warn', Occupied: 'busy', Faulted: 'bad', Unavailable: 'off' };

export function ocppCell(st) {
  const label = ocppLabel(st);
  const tone = TONE[st] || 'off';
  return h('span', { class: ['live-state', `live-state-${tone}`], 'data-test': 'conn-ocpp', 'data-status': st || '' }, label || dash(st), label && label !== st ? h('span', { class: 'muted live-code' }, ` ${st}`) : null);
}

export function tcecCell(code) {
  const label = tcecLabel(code);
  return h('span', { 'data-test': 'conn-tcec', 'data-code': code === null || code === undefined ? '' : String(code) }, h('span', { class: 'mono' }, dash(code)), label ? ` ${label}` : null);
}

/** The connectors of a pile in a list: one small status chip each (its number and OCPP status),
 * or their count when the pile never reported them. */
export function connectorChips(pile) {
  const live = (pile.live_connectors || []).filter((c) => c.connector_id > 0); // 0: the pile itself (1.6)
  if (!live.length) return h('span', { class: 'num' }, String((pile.connectors || []).length));
  return h('span', { class: 'conn-chips', 'data-test': 'pile-live-connectors' }, live.map((c) => {
    const id = c.evse_connector_id ? `${c.connector_id}.${c.evse_connector_id}` : String(c.connector_id);
    const label = ocppLabel(c.status) || dash(c.status);
    return h('span', { class: ['conn-chip', `live-state-${pile.online ? TONE[c.status] || 'off' : 'off'}`], title: `${id} ${c.status || ''}`, 'data-test': 'pile-live-connector', 'data-connector': id, 'data-status': c.status || '' }, h('b', null, id), ` ${label}`);
  }));
}
