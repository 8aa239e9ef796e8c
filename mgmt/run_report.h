/* The report of a conformance run (docs/conformance.md, docs/api-runs.md) as an A4 PDF in
 * Chinese: 桩平台检测报告 with the run's plan, target, times and summary, a table of every check
 * and the frames of each check that failed or erred (and of a skipped one that has frames). A pure
 * library like pdf_form.h (no HTTP, no database): mgmt/api_runs.c hands it the run it answers GET
 * /conformance-runs/{id} with. Also the words the report uses for states and verdicts (the plans' titles are
 * protocol/plans.h's). */
#ifndef EVGATE_MGMT_RUN_REPORT_H
#define EVGATE_MGMT_RUN_REPORT_H

#include <jansson.h>
#include <stddef.h>

/* Bounds on what one report lays out (the stored run is bounded by db/runs.h already). */
#define RUN_REPORT_MAX_CHECKS  256  /* checks drawn (DB_RUN_CHECKS_MAX); more are counted only */
#define RUN_REPORT_FRAMES_HEAD 8    /* a check with more than HEAD + TAIL frames shows the first */
#define RUN_REPORT_FRAMES_TAIL 16   /* HEAD and the last TAIL, and says how many it left out */
#define RUN_REPORT_FRAME_BYTES 1200 /* of one frame's text, cut on a UTF-8 boundary */
#define RUN_REPORT_FRAME_LINES 8    /* lines of one frame's text; more end in "…" */
#define RUN_REPORT_CELL_LINES  12   /* lines of a title or reason cell */
#define RUN_REPORT_TEXT_BYTES  2048 /* of a title, name or reason */
#define RUN_REPORT_MAX_BYTES   (16u * 1024 * 1024) /* the finished PDF */
#define RUN_REPORT_MAX_WAITING 16 /* reports queued for the render thread; more fail */

/* The Chinese word of a check's verdict (pass 通过, fail 不通过, skipped 跳过, error 错误,
 * pending 等待中, running 进行中) and of a run's state (queued 排队中, running 进行中, passed
 * 通过, failed 不通过, error 错误, cancelled 已取消); the value itself when unknown, "" for
 * NULL. Static storage (or the argument). */
const char *run_verdict_zh(const char *verdict);
const char *run_state_zh(const char *state);

/* Renders the report of `run` (borrowed): the object of GET /conformance-runs/{id} in docs/api-runs.md with
 * times still as epoch seconds (integers; null = not yet), i.e. {id, plan, plan_title_zh,
 * target_kind, target, target_name, target_company, started_by, state, reason, created_at,
 * started_at, finished_at, summary, checks: [{seq, check_id, title_zh, required, verdict,
 * reason, frames: [{dir, ms, text, cut?}], frames_dropped}]}, `generated_at` (epoch seconds) the
 * moment printed as the report's date. Missing members print as "—"; every text is drawn as
 * plain text (never markup) and cut to the bounds above. A queued or running run is reported as
 * far as it went, with a note saying so. Times print in China Standard Time (UTC+8).
 *
 * Returns 0 with *out a malloc'd PDF of *out_len bytes (caller frees), or -1 with a message in
 * `err` (errlen bytes, may be NULL/0) and *out NULL: `run` not an object, no font with Chinese
 * glyphs, a PDF over RUN_REPORT_MAX_BYTES; -2 (PDF_RENDER_BUSY, and a message) when
 * RUN_REPORT_MAX_WAITING reports are already waiting: try again later. Thread-safe and blocking:
 * reports are drawn one at a time, with the detection forms, on pdf_render.h's render thread
 * (for the memory reason it gives), so call it off any event loop. `run` must stay unchanged
 * until the call returns. */
int run_report_pdf(const json_t *run, long long generated_at, unsigned char **out, size_t *out_len,
                   char *err, size_t errlen);

#endif
