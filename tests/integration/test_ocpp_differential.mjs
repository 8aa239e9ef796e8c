// Differential conformance of protocol/ocpp's validator (issue 5): for every action and
// direction of OCPP 1.6 and 2.0.1, a minimal and a maximal valid payload generated from the
// official OCA schemas and thousands of mutations of them are validated by evgate's C validator
// (through the ocpp_validate filter) and by ocpp-rpc's own validator (ajv over the same schemas).
// Any disagreement in verdict fails the test and prints the payload. When both refuse, evgate's
// failure (keyword and JSON path) must be one of the errors ajv finds with allErrors, and its
// CALLERROR code the one protocol/ocpp_frame.c's table gives.
//
// Usage: node test_ocpp_differential.mjs PATH/TO/ocpp_validate
// ocpp-rpc comes from $OCPP_RPC_DIR (a node_modules folder; tests/meson.build points it at
// tests/browser/node_modules, which `npm ci` fills); without it the test is skipped (77).
//
// One deliberate difference, applied to the reference: ajv-formats 2.1.1 (ocpp-rpc's) takes a
// date-time without an offset ("2024-01-01T10:00:00"), with +HH or +HHMM offsets, and any
// whitespace as the separator; RFC 3339 §5.6, which JSON Schema's "date-time" names, does not.
// evgate follows RFC 3339, and the reference's date-time is ajv-formats' own check AND the
// RFC 3339 syntax (ajv-formats 3 made the offset mandatory too).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const here = dirname(fileURLToPath(import.meta.url));
const cli = process.argv[2];
if (!cli || !existsSync(cli)) {
  console.error('usage: node test_ocpp_differential.mjs PATH/TO/ocpp_validate');
  process.exit(2);
}
const modules = process.env.OCPP_RPC_DIR || resolve(here, '../browser/node_modules');
if (!existsSync(join(modules, 'ocpp-rpc', 'package.json'))) {
  console.log(`SKIP: no ocpp-rpc under ${modules} (npm ci in tests/browser)`);
  process.exit(77);
}
const require = createRequire(join(modules, 'ocpp-rpc', 'package.json'));
const { createValidator } = require('./lib/validator.js');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');
const { fullFormats } = require('ajv-formats/dist/formats');
const rpcVersion = require('./package.json').version;

const RFC3339 = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const dateTime = (s) => fullFormats['date-time'].validate(s) && RFC3339.test(s);

const VERSIONS = [
  { name: '1.6', sub: 'ocpp1.6', file: 'ocpp1_6.json' },
  { name: '2.0.1', sub: 'ocpp2.0.1', file: 'ocpp2_0_1.json' },
];
// protocol/ocpp_frame.c's table, restated: keyword -> [1.6 code, 2.0.1 code]
const CODES = {
  type: ['TypeConstraintViolation', 'TypeConstraintViolation'],
  required: ['OccurenceConstraintViolation', 'OccurrenceConstraintViolation'],
  minItems: ['OccurenceConstraintViolation', 'OccurrenceConstraintViolation'],
  maxItems: ['OccurenceConstraintViolation', 'OccurrenceConstraintViolation'],
  additionalProperties: ['FormationViolation', 'ProtocolError'],
  enum: ['PropertyConstraintViolation', 'PropertyConstraintViolation'],
  maxLength: ['PropertyConstraintViolation', 'PropertyConstraintViolation'],
  minimum: ['PropertyConstraintViolation', 'PropertyConstraintViolation'],
  maximum: ['PropertyConstraintViolation', 'PropertyConstraintViolation'],
  multipleOf: ['PropertyConstraintViolation', 'PropertyConstraintViolation'],
  format: ['PropertyConstraintViolation', 'PropertyConstraintViolation'],
};

// ocpp-rpc's validator (the verdict), and an allErrors ajv with ocpp-rpc's settings (where).
function references(v) {
  const schemas = require(`./lib/schemas/${v.file}`);
  const rpc = createValidator(v.sub, schemas);
  rpc._ajv.addFormat('date-time', dateTime);
  const all = new Ajv({ strictSchema: false, allErrors: true });
  addFormats(all);
  all.addFormat('date-time', dateTime);
  all.removeKeyword('multipleOf');
  all.addKeyword({ // as ocpp-rpc's lib/validator.js
    keyword: 'multipleOf', type: 'number', errors: false, metaSchema: { type: 'number' },
    compile: (m) => (d) => Math.abs(Math.round(d / m) - d / m) < 1e-6,
  });
  all.addSchema(schemas);
  // ocpp-rpc exactly as shipped: it may differ from rpc only on the date-time values above
  const pristine = createValidator(v.sub, schemas);
  return { schemas, rpc, all, pristine };
}

const deref = (node, root) => {
  while (node.$ref) node = root.definitions[node.$ref.split('/').pop()];
  return node;
};
const typeOf = (node) => node.type;

// --- valid payloads --------------------------------------------------------------------------
function sample(node, root, max, depth = 0) {
  node = deref(node, root);
  switch (typeOf(node)) {
  case 'object': {
    const o = {};
    for (const [k, p] of Object.entries(node.properties || {}))
      if (max || (node.required || []).includes(k)) o[k] = sample(p, root, max, depth + 1);
    return o;
  }
  case 'array': {
    let n = max ? Math.min(node.maxItems ?? 2, 2) : node.minItems ?? 0;
    if (!max && n === 0 && depth < 2) n = Math.min(1, node.maxItems ?? 1);
    n = Math.max(n, node.minItems ?? 0);
    return Array.from({ length: n }, () => sample(node.items, root, max, depth + 1));
  }
  case 'string':
    if (node.enum) return max ? node.enum[node.enum.length - 1] : node.enum[0];
    if (node.format === 'date-time') return max ? '2024-02-29T23:59:60.123456+08:00' : '2024-01-01T00:00:00Z';
    if (node.format === 'uri') return max ? 'ftp://user:pw@[v1.x]:21/a/b?c=d#e' : 'http://example.com/x';
    if (!max) return 'x';
    // at the limit, in characters (code points): CJK and an astral character count one each
    return node.maxLength ? [...('充电😀' + 'a'.repeat(node.maxLength))].slice(0, node.maxLength).join('') : 'free text';
  case 'integer':
    return max ? node.maximum ?? 2147483647 : node.minimum ?? 0;
  case 'number':
    if (node.multipleOf) return max ? 3.3 : 0;
    return max ? node.maximum ?? 1234.5678 : node.minimum ?? -0.5;
  case 'boolean':
    return max;
  default:
    return max ? { any: ['thing', 1] } : 'data';
  }
}

// --- mutations ------------------------------------------------------------------------------
const clone = (x) => structuredClone(x);
function setAt(obj, path, value) {
  if (!path.length) return value;
  const c = clone(obj);
  let o = c;
  for (const k of path.slice(0, -1)) o = o[k];
  if (value === undefined) delete o[path[path.length - 1]];
  else o[path[path.length - 1]] = value;
  return c;
}
const BAD_DATES = ['2024-01-01T10:00:00', '2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z',
  '2024-01-01T24:00:00Z', '2024-01-01', '2024-01-01T10:00Z', '2024-01-01T10:00:00.Z',
  '2024-01-01T10:00:00+08', '2024-01-01T10:00:00+0800', '2024-01-01\t10:00:00Z',
  '2024-01-01T12:59:60Z', '2024-13-01T00:00:00Z', '2024-01-01T10:00:00+24:00', 'yesterday',
  '', '2024-01-01T10:00:00Z ', '２０２４-01-01T10:00:00Z'];
const GOOD_DATES = ['2024-01-01t10:00:00z', '2024-01-01 10:00:00Z', '2024-12-31T23:59:60-05:30',
  '2000-02-29T00:00:00.000000001+00:00', '1900-01-31T01:02:03.5Z'];
const URIS = ['http://example.com', 'ftp:', 'example.com/x', 'http://[::1]:8080/a', 'urn:isbn:123',
  'http://[1:2:3:4:5:6:7:8]/', 'http://[1:2:3:4:5:6:7]/', 'http://[::ffff:1.2.3.4]/', 'http://a b/',
  'http://%41/%zz', 'mailto:a@b', 'http://u@h:x/', 'x:/', 'x://', 'http://[v7.abc]/', 'http://h/?q#f#g',
  '1http://a', 'http://é.cn/', 'HTTP://A.B/C?D#E', 'http:/a/b', 'a:b:c', 'http://[::1.2.3]/'];

function* mutations(node, root, value, path) {
  node = deref(node, root);
  const t = typeOf(node);
  if (t === undefined) return;
  // wrong types
  const others = { string: [7, null, true], integer: ['7', 1.5, null, false], number: ['1.5', null, []],
    boolean: ['true', 0, null], object: [[], 'obj', null, 1], array: [{}, 'arr', null] }[t];
  for (const o of others) yield [path, o, 'type'];
  if (t === 'string') {
    if (node.enum) {
      yield [path, node.enum[0] + 'x', 'enum typo'];
      yield [path, node.enum[0].toLowerCase(), 'enum case'];
      yield [path, ' ' + node.enum[0], 'enum space'];
    }
    if (node.maxLength) {
      yield [path, 'b'.repeat(node.maxLength + 1), 'maxLength+1'];
      yield [path, '电'.repeat(node.maxLength), 'maxLength CJK'];
      yield [path, '😀'.repeat(node.maxLength + 1), 'maxLength+1 astral'];
    }
    if (node.format === 'date-time')
      for (const d of [...BAD_DATES, ...GOOD_DATES]) yield [path, d, 'date-time'];
    if (node.format === 'uri') for (const u of URIS) yield [path, u, 'uri'];
  }
  if (t === 'integer' || t === 'number') {
    if (node.minimum !== undefined) yield [path, node.minimum - (t === 'integer' ? 1 : 0.001), 'below min'];
    if (node.maximum !== undefined) yield [path, node.maximum + (t === 'integer' ? 1 : 0.001), 'above max'];
    yield [path, -2147483649, 'big negative'];
    yield [path, 1e300, 'huge'];
    if (t === 'number') yield [path, 0.15, 'fraction'], yield [path, 0.3, 'fraction'];
  }
  if (t === 'object') {
    for (const r of node.required || []) yield [[...path, r], undefined, 'missing required'];
    yield [[...path, 'extraProp'], 1, 'extra property'];
    yield [[...path, 'odd key\'s'], 'v', 'extra property, odd name'];
    for (const [k, p] of Object.entries(node.properties || {}))
      if (value && value[k] !== undefined) yield* mutations(p, root, value[k], [...path, k]);
      else if (value) yield [[...path, k], sample(p, root, false), 'optional added'];
  }
  if (t === 'array' && Array.isArray(value)) {
    yield [path, [], 'empty array'];
    const item = value.length ? value[0] : sample(node.items, root, false);
    if (node.maxItems) yield [path, Array(node.maxItems + 1).fill(item), 'maxItems+1'];
    yield [path, [...value, item], 'one more'];
    if (value.length) yield* mutations(node.items, root, value[value.length - 1], [...path, value.length - 1]);
  }
}

// ajv error -> evgate's JSON path (protocol/ocpp_validate.c's rendering)
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
function seg(container, key) {
  if (Array.isArray(container)) return `[${key}]`;
  return IDENT.test(key) ? `.${key}` : `['${key.replace(/[\\']/g, '\\$&')}']`;
}
function ajvPath(data, e) {
  let path = '$';
  let o = data;
  const toks = e.instancePath ? e.instancePath.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~')) : [];
  for (const t of toks) {
    path += seg(o, t);
    o = o[t];
  }
  if (e.keyword === 'required') path += seg(o, e.params.missingProperty);
  if (e.keyword === 'additionalProperties') path += seg(o, e.params.additionalProperty);
  return path;
}

// --- run --------------------------------------------------------------------------------------
const started = Date.now();
const cases = [];
for (const [vi, v] of VERSIONS.entries()) {
  const ref = references(v);
  const actions = new Set(ref.schemas.map((s) => s.$id.replace(/^urn:/, '').replace(/\.(req|conf)$/, '')));
  for (const s of ref.schemas) {
    const [, action, dir] = /^urn:(\w+)\.(req|conf)$/.exec(s.$id);
    const kind = dir === 'req' ? 'request' : 'response';
    for (const max of [false, true]) {
      const base = sample(s, s, max);
      cases.push({ vi, v, ref, id: s.$id, action, kind, payload: base, why: max ? 'maximal' : 'minimal' });
      for (const [path, value, why] of mutations(s, s, base, []))
        cases.push({ vi, v, ref, id: s.$id, action, kind, payload: setAt(base, path, value), why });
    }
  }
  cases.push({ vi, v, ref, id: null, action: 'NoSuchAction', kind: 'request', payload: {}, why: 'unknown action' });
  console.log(`${v.name}: ${actions.size} actions`);
}
const input = cases.map((c) => JSON.stringify({ version: c.v.name, action: c.action, kind: c.kind, payload: c.payload })).join('\n') + '\n';
const run = spawnSync(cli, { input, maxBuffer: 1 << 30, encoding: 'utf8' });
if (run.status !== 0) {
  console.error(`ocpp_validate exited ${run.status}: ${run.stderr}`);
  process.exit(1);
}
const outputs = run.stdout.split('\n');
let failures = 0, invalid = 0, relaxed = 0;
const tally = {}; // mutation -> [valid, invalid], both validators agreeing
const report = (c, msg) => {
  if (++failures <= 30)
    console.log(`DISAGREE ${c.v.name} ${c.action} ${c.kind} (${c.why}): ${msg}\n  payload: ${JSON.stringify(c.payload)}`);
};
for (const [i, c] of cases.entries()) {
  const got = JSON.parse(outputs[i] || '{"error":"no output"}');
  if (got.error) { report(c, `ocpp_validate: ${got.error}`); continue; }
  if (!c.id) {
    let threw = null;
    try { c.ref.rpc.validate(`urn:${c.action}.req`, c.payload); } catch (e) { threw = e; }
    if (got.valid || got.code !== 'NotImplemented' || !threw) report(c, `unknown action: ${JSON.stringify(got)}`);
    continue;
  }
  const schemaId = `urn:${c.action}.${c.kind === 'request' ? 'req' : 'conf'}`;
  let refValid = true;
  try { c.ref.rpc.validate(schemaId, c.payload); } catch { refValid = false; }
  let pristineValid = true;
  try { c.ref.pristine.validate(schemaId, c.payload); } catch { pristineValid = false; }
  if (pristineValid !== refValid) {
    if (c.why !== 'date-time' || refValid) report(c, 'the date-time tightening changed a verdict it should not');
    relaxed++;
  }
  const allFn = c.ref.all.getSchema(schemaId);
  const allValid = allFn(c.payload);
  if (allValid !== refValid) { report(c, `ocpp-rpc says ${refValid}, allErrors ajv ${allValid}`); continue; }
  if (got.valid !== refValid) {
    report(c, `evgate says ${got.valid ? 'valid' : `invalid (${got.keyword} at ${got.path}: ${got.reason})`}, ocpp-rpc ${refValid ? 'valid' : `invalid: ${c.ref.all.errorsText(allFn.errors)}`}`);
    continue;
  }
  tally[c.why] = tally[c.why] || [0, 0];
  tally[c.why][got.valid ? 0 : 1]++;
  if (got.valid) continue;
  invalid++;
  const found = allFn.errors.map((e) => `${e.keyword} ${ajvPath(c.payload, e)}`);
  if (!found.includes(`${got.keyword} ${got.path}`))
    report(c, `evgate's ${got.keyword} at ${got.path} is not among ajv's: ${found.join('; ')}`);
  else if (CODES[got.keyword]?.[c.vi] !== got.code)
    report(c, `code ${got.code} for ${got.keyword} in ${c.v.name}`);
}
console.log(Object.entries(tally).map(([w, [ok, bad]]) => `${w}: ${ok} valid, ${bad} invalid`).join('\n'));
console.log(`${relaxed} date-times that ajv-formats 2.1.1 alone would take (no offset; +HH, +HHMM or +24:00 offsets; a tab)`);
console.log(`ocpp-rpc@${rpcVersion}: ${cases.length} payloads (${invalid} invalid), ${failures} disagreements, ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failures ? 1 : 0);
