/* The conformance plans by name: their titles, which table, what a run of it targets, which
 * protocol. The tables themselves are plans_ocpp16.c, plans_ocpp201.c and plans_tcec102.c. */
#include "protocol/plans_private.h"

#include <string.h>

static const struct plan {
    const char *name;
    const char *title_zh, *title_en;
    const char *target_kind;
    const char *protocol;
    const struct plan_check *checks;
    const size_t *n;
} plans[] = {
    {"ocpp16-core", "OCPP 1.6 核心功能检测", "OCPP 1.6 core", "pile", "ocpp1.6", plan_ocpp16_core,
     &plan_ocpp16_core_n},
    {"ocpp201-core", "OCPP 2.0.1 核心功能检测", "OCPP 2.0.1 core", "pile", "ocpp2.0.1",
     plan_ocpp201_core, &plan_ocpp201_core_n},
    {"tcec102-platform", "T/CEC 102 平台互联检测", "T/CEC 102 platform interconnection", "platform",
     NULL, plan_tcec102_platform, &plan_tcec102_platform_n},
};

#define PLANS (sizeof plans / sizeof plans[0])

static const struct plan *find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < PLANS; i++)
        if (strcmp(plans[i].name, name) == 0)
            return &plans[i];
    return NULL;
}

const struct plan_check *plan_checks(const char *plan, size_t *n)
{
    const struct plan *p = find(plan);
    if (n)
        *n = p ? *p->n : 0;
    return p ? p->checks : NULL;
}

const struct plan_check *plan_check_find(const char *plan, const char *id)
{
    size_t n;
    const struct plan_check *c = plan_checks(plan, &n);
    if (!c || !id)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].id, id) == 0)
            return &c[i];
    return NULL;
}

size_t plan_count(void)
{
    return PLANS;
}

const char *plan_name(size_t i)
{
    return i < PLANS ? plans[i].name : NULL;
}

const char *plan_title_zh(const char *plan)
{
    const struct plan *p = find(plan);
    return p ? p->title_zh : NULL;
}

const char *plan_title_en(const char *plan)
{
    const struct plan *p = find(plan);
    return p ? p->title_en : NULL;
}

const char *plan_target_kind(const char *plan)
{
    const struct plan *p = find(plan);
    return p ? p->target_kind : NULL;
}

const char *plan_protocol(const char *plan)
{
    const struct plan *p = find(plan);
    return p ? p->protocol : NULL;
}

const char *plan_need_name(unsigned need)
{
    switch (need) {
    case PLAN_NEED_NONE:
        return "none";
    case PLAN_NEED_PERSON:
        return "person";
    case PLAN_NEED_CABLE:
        return "cable";
    case PLAN_NEED_CARD:
        return "card";
    default:
        return NULL;
    }
}
