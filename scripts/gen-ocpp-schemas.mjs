#!/usr/bin/env node
// Generates protocol/ocpp_schemas_16.c and protocol/ocpp_schemas_201.c, the rule tables behind
// ocpp_validate(), from the official OCA JSON schemas that the npm package ocpp-rpc ships in
// lib/schemas/ocpp1_6.json and ocpp2_0_1.json. The output is committed (builds need no npm);
// tests/unit/test_ocpp.c regenerates it when node and ocpp-rpc are at hand and fails when the
// committed files differ.
//
// Usage: node scripts/gen-ocpp-schemas.mjs NODE_MODULES_DIR [OUT_DIR]
//   NODE_MODULES_DIR  a node_modules folder holding ocpp-rpc (tests/browser/node_modules after
//                     `npm ci` there), or the --prefix folder of `npm install --prefix DIR ...`
//   OUT_DIR           default: protocol/ next to this script
// Any schema keyword the C validator does not implement stops the generator: the tables never
// silently drop a rule.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function fail(msg) {
  process.stderr.write(`gen-ocpp-schemas: ${msg}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
if (args.length < 1 || args.length > 2 || args[0].startsWith('-'))
  fail('usage: node scripts/gen-ocpp-schemas.mjs NODE_MODULES_DIR [OUT_DIR]');
let pkgDir = resolve(args[0], 'ocpp-rpc');
if (!existsSync(join(pkgDir, 'package.json'))) pkgDir = resolve(args[0], 'node_modules', 'ocpp-rpc');
if (!existsSync(join(pkgDir, 'package.json'))) fail(`no ocpp-rpc package under ${args[0]}`);
const here = dirname(fileURLToPath(import.meta.url));
const outDir = args[1] ? resolve(args[1]) : join(here, '..', 'protocol');
const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;

// Keywords with no effect on validation here: annotations, and additionalItems, which JSON
// Schema ignores when "items" is a single schema (the only form these schemas use).
const IGNORED = new Set(['description', 'default', '$id', '$schema', 'javaType', 'comment',
  '$comment', 'definitions', 'additionalItems']);
const TYPES = { string: 'OCPP_JT_STRING', integer: 'OCPP_JT_INTEGER', number: 'OCPP_JT_NUMBER',
  boolean: 'OCPP_JT_BOOLEAN', object: 'OCPP_JT_OBJECT', array: 'OCPP_JT_ARRAY' };
const FORMATS = { 'date-time': 'OCPP_FMT_DATE_TIME', uri: 'OCPP_FMT_URI' };

function cString(s) {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

function cNumber(n) {
  if (!Number.isFinite(n)) fail(`bad number ${n}`);
  const s = String(n);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

function generate(file, suffix) {
  const schemas = JSON.parse(readFileSync(join(pkgDir, 'lib', 'schemas', file), 'utf8'));
  const rules = []; // C initialiser text of R[i]
  const ruleIndex = new Map(); // canonical key -> index (identical rules are shared)
  const props = []; // C initialiser text of P[i]
  const enums = []; // strings of E[]

  // Returns the index in R of the rule for schema node `node` of root schema `root`.
  function rule(node, root, where, depth = 0) {
    if (depth > 32) fail(`${where}: nesting too deep (a cyclic $ref?)`);
    if (node.$ref !== undefined) {
      for (const k of Object.keys(node))
        if (k !== '$ref' && !IGNORED.has(k)) fail(`${where}: keyword ${k} beside $ref`);
      const m = /^#\/definitions\/([^/]+)$/.exec(node.$ref);
      if (!m || !root.definitions || !root.definitions[m[1]]) fail(`${where}: bad $ref ${node.$ref}`);
      return rule(root.definitions[m[1]], root, `${where}->${m[1]}`, depth + 1);
    }
    const f = { type: 'OCPP_JT_ANY' };
    const children = {};
    for (const [k, v] of Object.entries(node)) {
      if (IGNORED.has(k)) continue;
      switch (k) {
      case 'type':
        if (!TYPES[v]) fail(`${where}: type ${JSON.stringify(v)}`);
        f.type = TYPES[v];
        break;
      case 'format':
        if (!FORMATS[v]) fail(`${where}: format ${v}`);
        f.format = FORMATS[v];
        break;
      case 'maxLength':
      case 'maxItems':
        if (!Number.isInteger(v) || v <= 0) fail(`${where}: ${k} ${v}`);
        f[k === 'maxLength' ? 'max_length' : 'max_items'] = v;
        break;
      case 'minItems':
        if (!Number.isInteger(v) || v < 0) fail(`${where}: minItems ${v}`);
        if (v > 0) f.min_items = v;
        break;
      case 'minimum':
        f.has_min = 1;
        f.minimum = cNumber(v);
        break;
      case 'maximum':
        f.has_max = 1;
        f.maximum = cNumber(v);
        break;
      case 'multipleOf':
        if (!(v > 0)) fail(`${where}: multipleOf ${v}`);
        f.multiple_of = cNumber(v);
        break;
      case 'enum':
        if (!Array.isArray(v) || !v.length || v.some((e) => typeof e !== 'string'))
          fail(`${where}: enum of non-strings`);
        children.enum = v;
        break;
      case 'additionalProperties':
        if (v !== false && v !== true) fail(`${where}: additionalProperties ${JSON.stringify(v)}`);
        if (v === false) f.closed = 1;
        break;
      case 'properties':
        children.properties = v;
        break;
      case 'required':
        children.required = v;
        break;
      case 'items':
        if (Array.isArray(v) || typeof v !== 'object') fail(`${where}: tuple items`);
        children.items = v;
        break;
      default:
        fail(`${where}: keyword ${k} is not implemented by the C validator`);
      }
    }
    if (f.type === 'OCPP_JT_ANY' && Object.keys(f).length + Object.keys(children).length > 1)
      fail(`${where}: keywords without a type`);
    const required = children.required || [];
    const propNames = Object.keys(children.properties || {});
    for (const r of required)
      if (!propNames.includes(r)) fail(`${where}: required ${r} is not a property`);
    if (propNames.length || required.length) {
      const entries = propNames.map((name) => ({
        name,
        idx: rule(children.properties[name], root, `${where}.${name}`, depth + 1),
        req: required.includes(name) ? 1 : 0,
      }));
      f.nprops = entries.length;
      f.props = entries;
    }
    if (children.items) f.items = rule(children.items, root, `${where}[]`, depth + 1);
    if (children.enum) {
      f.nenum = children.enum.length;
      f.enums = children.enum;
    }
    const key = JSON.stringify(f);
    if (ruleIndex.has(key)) return ruleIndex.get(key);
    const parts = [`.type = ${f.type}`];
    if (f.format) parts.push(`.format = ${f.format}`);
    if (f.closed) parts.push('.closed = 1');
    if (f.has_min) parts.push(`.has_min = 1, .minimum = ${f.minimum}`);
    if (f.has_max) parts.push(`.has_max = 1, .maximum = ${f.maximum}`);
    if (f.multiple_of) parts.push(`.multiple_of = ${f.multiple_of}`);
    if (f.max_length) parts.push(`.max_length = ${f.max_length}`);
    if (f.min_items) parts.push(`.min_items = ${f.min_items}`);
    if (f.max_items) parts.push(`.max_items = ${f.max_items}`);
    if (f.enums) {
      parts.push(`.nenum = ${f.nenum}, .enums = &E[${enums.length}]`);
      enums.push(...f.enums);
    }
    if (f.props) {
      parts.push(`.nprops = ${f.nprops}, .props = &P[${props.length}]`);
      for (const p of f.props) props.push(`{${cString(p.name)}, &R[${p.idx}], ${p.req}}`);
    }
    if (f.items !== undefined) parts.push(`.items = &R[${f.items}]`);
    rules.push(`{${parts.join(', ')}}`);
    ruleIndex.set(key, rules.length - 1);
    return rules.length - 1;
  }

  const messages = new Map();
  for (const s of schemas) {
    const m = /^urn:(\w+)\.(req|conf)$/.exec(s.$id || '');
    if (!m) fail(`${file}: schema id ${s.$id}`);
    if (s.type !== 'object') fail(`${s.$id}: payload is not an object`);
    const e = messages.get(m[1]) || {};
    e[m[2]] = rule(s, s, s.$id);
    messages.set(m[1], e);
  }
  const names = [...messages.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const n of names)
    if (messages.get(n).req === undefined || messages.get(n).conf === undefined)
      fail(`${file}: ${n} lacks a .req or .conf schema`);

  const out = [];
  out.push(`/* OCPP ${suffix === '16' ? '1.6' : '2.0.1'} payload rules for ocpp_validate(): ${names.length} actions, requests and responses.`);
  out.push(` * GENERATED by scripts/gen-ocpp-schemas.mjs from the npm package ocpp-rpc@${version}`);
  out.push(` * (lib/schemas/${file}, the official OCA JSON schemas); do not edit. To regenerate:`);
  out.push(` *   npm install --prefix /tmp/orpc ocpp-rpc@${version}`);
  out.push(' *   node scripts/gen-ocpp-schemas.mjs /tmp/orpc/node_modules');
  out.push(' * tests/unit/test_ocpp.c checks that this file is what the generator writes. */');
  out.push('#include "protocol/ocpp_schema.h"');
  out.push('');
  out.push('/* clang-format off */');
  out.push(`const char ocpp_schemas_${suffix}_source[] = "ocpp-rpc@${version}";`);
  out.push('');
  out.push(`static const struct ocpp_rule R[${rules.length}];`);
  out.push('');
  out.push('static const char *const E[] = {');
  for (const e of enums) out.push(`    ${cString(e)},`);
  out.push('};');
  out.push('');
  out.push('static const struct ocpp_prop P[] = {');
  for (const [i, p] of props.entries()) out.push(`    /* ${i} */ ${p},`);
  out.push('};');
  out.push('');
  out.push(`static const struct ocpp_rule R[${rules.length}] = {`);
  for (const [i, r] of rules.entries()) out.push(`    /* ${i} */ ${r},`);
  out.push('};');
  out.push('');
  out.push(`const struct ocpp_message ocpp_messages_${suffix}[] = {`);
  for (const n of names)
    out.push(`    {${cString(n)}, &R[${messages.get(n).req}], &R[${messages.get(n).conf}]},`);
  out.push('};');
  out.push(`const size_t ocpp_messages_${suffix}_count = ${names.length};`);
  out.push('/* clang-format on */');
  writeFileSync(join(outDir, `ocpp_schemas_${suffix}.c`), out.join('\n') + '\n');
}

generate('ocpp1_6.json', '16');
generate('ocpp2_0_1.json', '201');
