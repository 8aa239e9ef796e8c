/* What plans.c shares with the per-plan tables (plans_ocpp16.c, plans_ocpp201.c,
 * plans_tcec102.c). Not part of the API: use protocol/plans.h. */
#ifndef EVGATE_PLANS_PRIVATE_H
#define EVGATE_PLANS_PRIVATE_H

#include "protocol/plans.h"

/* Shorthands for the tables. */
#define REQ    true
#define OPT    false
#define NONE   PLAN_NEED_NONE
#define PERSON PLAN_NEED_PERSON
#define CABLE  PLAN_NEED_CABLE
#define CARD   PLAN_NEED_CARD

extern const struct plan_check plan_ocpp16_core[];
extern const size_t plan_ocpp16_core_n;
extern const struct plan_check plan_ocpp201_core[];
extern const size_t plan_ocpp201_core_n;
extern const struct plan_check plan_tcec102_platform[];
extern const size_t plan_tcec102_platform_n;

#endif
