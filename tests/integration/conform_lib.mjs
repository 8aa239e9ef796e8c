// Shared helpers of the conformance-run tests: the plans' checks (read from docs/conformance.md,
// whose tables tests/unit/test_plans.c keeps equal to protocol/plans*.c), a run queued the way
// mgmt's db_run_create does it (the sqlite3 CLI, for tests of the engine that do not go through
// the API), and waiting for a run to finish.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SRC, until } from './ocpp_lib.mjs';

/** The checks of `plan` in order: [{seq, id, required}]. */
export function planChecks(plan) {
  const text = readFileSync(path.join(SRC, 'docs', 'conformance.md'), 'utf8');
  const start = text.indexOf('### `' + plan + '`');
  if (start < 0) throw new Error(`no plan ${plan} in docs/conformance.md`);
  const rest = text.slice(start + 1);
  const end = rest.indexOf('\n### ');
  const section = end < 0 ? rest : rest.slice(0, end);
  const checks = [];
  for (const line of section.split('\n')) {
    const m = /^\| (\d+) \| `([a-z0-9.-]+)` \| [^|]+ \| (yes|no) \|/.exec(line);
    if (m) checks.push({ seq: Number(m[1]), id: m[2], required: m[3] === 'yes' });
  }
  if (!checks.length) throw new Error(`plan ${plan} has no checks in docs/conformance.md`);
  return checks;
}

/** Runs SQL through the sqlite3 CLI (with a busy timeout); returns the JSON rows of the last
 *  statement. */
export function sql(db, statements) {
  const out = execFileSync('sqlite3', ['-json', '-cmd', '.timeout 5000', db, statements], {
    encoding: 'utf8',
  });
  return out.trim() ? JSON.parse(out) : [];
}

const q = (s) => `'${String(s).replaceAll("'", "''")}'`;

/** Queues a run of `plan` against `target` as db_run_create does (every check pending); returns
 *  its id. `opts.targetKind` ('pile'), `opts.detectionId`, `opts.accountId` (1). */
export function queueRun(db, plan, target, opts = {}) {
  const checks = planChecks(plan);
  const kind = opts.targetKind || (plan.startsWith('tcec') ? 'platform' : 'pile');
  const now = Math.floor(Date.now() / 1000);
  const rows = checks.map((c) => `(${c.seq}, ${q(c.id)}, ${c.required ? 1 : 0})`).join(',');
  // last_insert_rowid() changes with each inserted row: keep the run's id first
  const out = sql(
    db,
    `BEGIN IMMEDIATE;
     INSERT INTO conformance_runs (plan, target_kind, target, detection_id, account_id, state,
       created_at) VALUES (${q(plan)}, ${q(kind)}, ${q(target)},
       ${opts.detectionId ? Number(opts.detectionId) : 'NULL'}, ${Number(opts.accountId || 1)},
       'queued', ${now});
     CREATE TEMP TABLE new_run AS SELECT last_insert_rowid() AS id;
     INSERT INTO conformance_checks (run_id, seq, check_id, required)
       SELECT (SELECT id FROM new_run), column1, column2, column3 FROM (VALUES ${rows});
     COMMIT;
     SELECT id FROM new_run;`,
  );
  return out[0].id;
}

/** The run's row and its checks: {run, checks: [{seq, check_id, verdict, reason, frames}]}. */
export function readRun(db, id) {
  const run = sql(db, `SELECT * FROM conformance_runs WHERE id = ${Number(id)}`)[0];
  const checks = sql(
    db,
    `SELECT seq, check_id, required, verdict, reason, frames, frames_dropped FROM
     conformance_checks WHERE run_id = ${Number(id)} ORDER BY seq`,
  ).map((c) => ({ ...c, frames: JSON.parse(c.frames) }));
  return { run, checks };
}

const FINAL = new Set(['passed', 'failed', 'error', 'cancelled']);

/** Waits until run `id` is finished (at most `ms`); returns readRun's answer. */
export async function waitRun(db, id, ms = 300000) {
  await until(
    () => FINAL.has(sql(db, `SELECT state FROM conformance_runs WHERE id = ${Number(id)}`)[0]?.state),
    `run ${id} to finish`,
    ms,
    200,
  );
  return readRun(db, id);
}

/** A one-line-per-check summary for assertion messages. */
export function describe(result) {
  return [
    `run ${result.run.id} ${result.run.state}: ${result.run.reason || ''}`,
    ...result.checks.map((c) => `  ${c.seq} ${c.check_id}: ${c.verdict} ${c.reason || ''}`),
  ].join('\n');
}
