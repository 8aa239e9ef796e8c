/* The conformance plans (issue 7, docs/conformance.md "The plans") as data: per plan, the ordered
 * checks a run executes. Pure, static tables, no I/O: mgmt writes one conformance_checks row per
 * entry when it creates a run, the gateway's engine executes them in this order.
 *
 * A check's `id` is stable: reports, the check rows (check_id), the simulators' faulty modes
 * (`evsim-pile --faulty-check=ID`) and the UI refer to it. Rename one only with a migration of
 * the stored rows; add new checks freely.
 *
 * `needs` says what someone must do for the check to have something to judge. The engine shows
 * it to the person watching the run and waits up to `timeout_s` for the expected message
 * either way (a simulator or a pile on a test bench may do it by itself): when the message comes,
 * it is judged; when it does not and nobody confirmed the step in the UI, the check is `skipped`
 * with the need as its reason; when someone confirmed and it still does not come, it fails. */
#ifndef EVGATE_PLANS_H
#define EVGATE_PLANS_H

#include <stdbool.h>
#include <stddef.h>

/* What a check needs besides the engine: bits, combined in plan_check.needs. A cable or a card
 * implies a person at the pile. */
enum plan_need {
    PLAN_NEED_NONE = 0,
    PLAN_NEED_PERSON = 1 << 0, /* someone does something at the pile or the platform (power
                                * cycle, make a connector change state, end a session) */
    PLAN_NEED_CABLE = 1 << 1,  /* plug a charging cable in (or out) */
    PLAN_NEED_CARD = 1 << 2,   /* present an RFID card the pile's operator knows */
};
#define PLAN_NEED_ALL (PLAN_NEED_PERSON | PLAN_NEED_CABLE | PLAN_NEED_CARD)

#define PLAN_TIMEOUT_MAX_S 600 /* no check waits longer */

struct plan_check {
    const char *id;       /* "boot.first-message": ^[a-z0-9]+(\.[a-z0-9-]+)+$, unique in its plan */
    const char *title_zh; /* one line, plain 简体中文: what an operator reads in the report */
    const char *title_en; /* one line */
    const char *what;     /* one line, English: what is sent, what is expected, what fails it (the
                           * engine's specification of the check) */
    bool required;        /* counts for the run's verdict (passed = every required check passed) */
    unsigned needs;       /* a set of enum plan_need bits; PLAN_NEED_NONE = fully automatic */
    unsigned timeout_s;   /* how long the check may wait, 1..PLAN_TIMEOUT_MAX_S */
};

/* The checks of `plan` ("ocpp16-core", "ocpp201-core", "tcec102-platform") in execution order,
 * their number in *n. Static storage. NULL (and *n = 0) for an unknown or NULL plan. n may be
 * NULL. */
const struct plan_check *plan_checks(const char *plan, size_t *n);

/* The check `id` of `plan`, or NULL. Static storage. */
const struct plan_check *plan_check_find(const char *plan, const char *id);

/* The plans: plan_name(i) for i < plan_count(), in the order above; NULL past the end. */
size_t plan_count(void);
const char *plan_name(size_t i);

/* The title of `plan` as a person reads it, in 简体中文 ("OCPP 1.6 核心功能检测") or English
 * ("OCPP 1.6 core"): one line, the words of the report and of the web UI. NULL for an unknown
 * or NULL plan. Static storage. */
const char *plan_title_zh(const char *plan);
const char *plan_title_en(const char *plan);

/* What a run of `plan` targets: "pile" (a connected pile, by EquipmentID) or "platform" (an
 * operator platform, by its self detection). NULL for an unknown plan. Static storage. */
const char *plan_target_kind(const char *plan);

/* The OCPP subprotocol a pile must speak for `plan`: "ocpp1.6", "ocpp2.0.1"; NULL for a
 * platform plan or an unknown plan. Static storage. */
const char *plan_protocol(const char *plan);

/* The name of one need bit: "person", "cable", "card"; "none" for PLAN_NEED_NONE; NULL for
 * anything else (several bits, unknown bits). Static storage. */
const char *plan_need_name(unsigned need);

#endif
