/* evsim-pile --scenario conform: a pile that passes every check of ocpp16-core / ocpp201-core
 * (protocol/plans_ocpp16.c, plans_ocpp201.c) and plays the person at the test bench, and
 * --faulty-check=ID, which breaks exactly the behaviour check ID judges. This file holds the
 * table of faulty behaviours, the person's schedule and the held answer; the answers themselves
 * stay in sim_cs.c and the messages in sim_scenario.c, which ask sim_faulty() where they differ.
 *
 * The person: the cable is always in connector 1 / EVSE 1. 1 s after the pile answers a remote
 * stop of a transaction it does not have (check remote.stop-unknown), the card SIM_CONFORM_CARD
 * is presented (Authorize), 1 s after its acceptance the session starts on connector 1 and
 * charges for --session seconds (SIM_CONFORM_SESSION_S), then the card is presented again. */
#include "simulators/sim.h"
#include "protocol/plans.h"

#include <stdlib.h>
#include <string.h>

#define PERSON_DELAY_MS 1000 /* a person's pace: card after the probe, cable after the card */

enum { P16 = 1, P201 = 2 };

/* Every check id of both plans and how its behaviour is broken (also --help's text). */
static const struct fault_def {
    const char *id;
    unsigned plans;
    enum sim_fault f;
    const char *how;
} faults[] = {
    {"boot.first-message", P16 | P201, F_BOOT_FIRST,
     "after the first Reset Hard/Immediate the new connection sends a StatusNotification before "
     "the BootNotification (dependent: boot.status-all-connectors skipped)"},
    {"boot.status-all-connectors", P16 | P201, F_BOOT_STATUS,
     "after that boot the last connector (EVSE) reports no status"},
    {"heartbeat.interval", P16 | P201, F_HEARTBEAT,
     "a HeartbeatInterval change is Accepted and read back but the Heartbeats keep the old "
     "interval"},
    {"config.get-all", P16, F_CONFIG_GET_ALL, "GetConfiguration without keys omits ResetRetries"},
    {"config.get-unknown", P16, F_CONFIG_GET_UNKNOWN,
     "an unknown key asked for comes back in configurationKey (value \"\"), not unknownKey"},
    {"config.change", P16, F_CONFIG_CHANGE,
     "ChangeConfiguration MeterValueSampleInterval is Accepted but not applied"},
    {"config.change-unknown", P16, F_CONFIG_CHANGE_UNKNOWN,
     "ChangeConfiguration of an unknown key is Rejected (not NotSupported)"},
    {"variables.get", P201, F_VAR_GET,
     "the first GetVariables answers Rejected for HeartbeatInterval and TxUpdatedInterval"},
    {"variables.get-unknown", P201, F_VAR_GET_UNKNOWN,
     "an unknown component is answered UnknownVariable (not UnknownComponent)"},
    {"variables.set", P201, F_VAR_SET,
     "the first valid SetVariables of HeartbeatInterval is Accepted but not applied"},
    {"variables.set-invalid", P201, F_VAR_SET_INVALID,
     "a malformed value is Accepted (and ignored) instead of Rejected"},
    {"trigger.boot-notification", P16, F_TRIG_BOOT,
     "TriggerMessage BootNotification: Accepted, nothing sent"},
    {"trigger.boot-notification", P201, F_TRIG_BOOT,
     "TriggerMessage BootNotification once booted: Accepted and a BootNotification (reason "
     "Triggered), against F06.FR.17 (conforming: Rejected)"},
    {"trigger.heartbeat", P16 | P201, F_TRIG_HEARTBEAT,
     "TriggerMessage Heartbeat: Accepted, nothing sent"},
    {"trigger.status-notification", P16 | P201, F_TRIG_STATUS,
     "TriggerMessage StatusNotification: Accepted, nothing sent"},
    {"trigger.meter-values", P16 | P201, F_TRIG_METER,
     "TriggerMessage MeterValues: Accepted, nothing sent"},
    {"trigger.diagnostics-status", P16, F_TRIG_DIAG,
     "TriggerMessage DiagnosticsStatusNotification: Accepted, nothing sent"},
    {"trigger.firmware-status", P16, F_TRIG_FW,
     "TriggerMessage FirmwareStatusNotification: Accepted, nothing sent"},
    {"trigger.unknown-connector", P16, F_TRIG_UNKNOWN,
     "TriggerMessage for a connector the pile does not have: Accepted"},
    {"trigger.transaction-event", P201, F_TRIG_TX,
     "TriggerMessage TransactionEvent: Accepted, nothing sent"},
    {"availability.inoperative", P16 | P201, F_AVAIL_INOP,
     "ChangeAvailability Inoperative: Accepted, but the connector stays Available and reports "
     "nothing (dependent: availability.operative skipped)"},
    {"availability.operative", P16 | P201, F_AVAIL_OP,
     "ChangeAvailability Operative: Accepted, available again but no Available status"},
    {"unlock.connector", P16 | P201, F_UNLOCK, "UnlockConnector of connector 1: UnlockFailed"},
    {"unlock.unknown-connector", P16 | P201, F_UNLOCK_UNKNOWN,
     "UnlockConnector of an unknown connector: Unlocked"},
    {"cache.clear", P16 | P201, F_CACHE, "ClearCache: Rejected"},
    {"datatransfer.unknown-vendor", P16 | P201, F_DATATRANSFER,
     "DataTransfer: CALLERROR GenericError"},
    {"call.unsupported-action", P16 | P201, F_UNSUPPORTED,
     "an action the version does not have: CALLRESULT {}"},
    {"remote.start-unknown-connector", P16, F_REMOTE_START_UNKNOWN,
     "RemoteStartTransaction on an unknown connector: Accepted (nothing starts)"},
    {"remote.start-unknown-evse", P201, F_REMOTE_START_UNKNOWN,
     "RequestStartTransaction on an unknown EVSE: Accepted (nothing starts)"},
    {"remote.stop-unknown", P16 | P201, F_REMOTE_STOP_UNKNOWN,
     "a remote stop of an unknown transaction: Accepted (the card comes all the same)"},
    {"authorize.card", P16 | P201, F_AUTHORIZE,
     "the card starts a session without an Authorize, which ends at once (2.0.1: the idToken "
     "only in its Ended event); dependent: tx.local-start, tx.meter-values, "
     "trigger.transaction-event, tx.local-stop skipped"},
    {"tx.local-start", P16 | P201, F_TX_START,
     "the card session starts with idTag CONFORM-OTHER (2.0.1: that idToken only in its Ended "
     "event) and ends at once; dependent: tx.meter-values, trigger.transaction-event, "
     "tx.local-stop skipped"},
    {"tx.meter-values", P16 | P201, F_TX_METER, "no meter values during the card session"},
    {"tx.local-stop", P16 | P201, F_TX_STOP,
     "the card session ends with a meter reading below its start (1.6 meterStop < meterStart, "
     "2.0.1 the Ended meterValue)"},
    {"remote.start", P16 | P201, F_REMOTE_START,
     "a remote start on a free connector: Rejected (dependent: remote.stop and 1.6 "
     "remote.start-busy skipped)"},
    {"remote.start-busy", P16, F_REMOTE_START_BUSY,
     "RemoteStartTransaction while charging: Accepted (nothing starts)"},
    {"remote.stop", P16 | P201, F_REMOTE_STOP,
     "the remote stop ends the transaction with reason Local (2.0.1 StopAuthorized/Local)"},
    {"reset.soft", P16, F_RESET_SOFT, "Reset Soft: Rejected"},
    {"reset.on-idle", P201, F_RESET_SOFT, "Reset OnIdle: Rejected"},
    {"reset.hard", P16, F_RESET_HARD, "every Reset Hard after the first: Rejected"},
    {"reset.immediate", P201, F_RESET_HARD, "every Reset Immediate after the first: Rejected"},
    {"tx.event-sequence", P201, F_TX_SEQ, "the remote transaction's Ended event skips a seqNo"},
    {"frames.schema-valid", P16 | P201, F_SCHEMA,
     "after answering ClearCache, one Heartbeat with a property its schema does not allow"},
    {"frames.unique-ids", P16 | P201, F_UNIQUE_IDS,
     "after answering ClearCache, one Heartbeat with the uniqueId of the CALL before it"},
    {"frames.one-call-outstanding", P16 | P201, F_ONE_OUTSTANDING,
     "after answering ClearCache, two Heartbeats back to back"},
    {"frames.answers-in-time", P16 | P201, F_LATE_ANSWER,
     "the answer to heartbeat.interval's ChangeConfiguration/SetVariables putting the old "
     "HeartbeatInterval back goes --late-answer seconds late (applied at once)"},
};
#define NFAULTS (sizeof faults / sizeof faults[0])

int sim_cf_parse_faulty(struct sim_opts *o, const char *list, char *err, size_t errlen)
{
    const char *plan = o->version == OCPP_V16 ? "ocpp16-core" : "ocpp201-core";
    unsigned bit = o->version == OCPP_V16 ? P16 : P201;
    for (const char *s = list; *s;) {
        size_t n = strcspn(s, ",");
        char id[80];
        snprintf(id, sizeof id, "%.*s", (int)(n < sizeof id ? n : sizeof id - 1), s);
        const struct fault_def *d = NULL;
        for (size_t i = 0; i < NFAULTS && !d; i++)
            if (faults[i].plans & bit && strcmp(faults[i].id, id) == 0)
                d = &faults[i];
        if (!d || !plan_check_find(plan, id)) {
            snprintf(err, errlen, "--faulty-check: \"%s\" is not a check of %s (see --help)", id,
                     plan);
            return -1;
        }
        o->faulty |= 1ull << d->f;
        s += n + (s[n] == ',');
    }
    return 0;
}

void sim_cf_usage(FILE *out)
{
    static const char *const plans[] = {"ocpp16-core", "ocpp201-core"};
    for (unsigned k = 0; k < 2; k++) {
        size_t n;
        const struct plan_check *c = plan_checks(plans[k], &n);
        fprintf(out, "  %s (--protocol %s):\n", plans[k], k ? "ocpp2.0.1" : "ocpp1.6");
        for (size_t i = 0; i < n; i++) {
            const char *how = "(no faulty behaviour: a defect)";
            for (size_t j = 0; j < NFAULTS; j++)
                if (faults[j].plans & (1u << k) && strcmp(faults[j].id, c[i].id) == 0)
                    how = faults[j].how;
            /* "how" wrapped at 100 columns under its column */
            int col = fprintf(out, "    %-32s", c[i].id);
            for (const char *w = how; *w;) {
                int len = (int)strcspn(w, " ");
                if (col + 1 + len > 100)
                    col = fprintf(out, "\n%36s", "") - 1;
                col += fprintf(out, " %.*s", len, w);
                w += len;
                while (*w == ' ')
                    w++;
            }
            fputc('\n', out);
        }
    }
}

int sim_cf_init(const struct sim_opts *o, struct pile *p)
{
    (void)o;
    p->cf = calloc(1, sizeof *p->cf);
    if (!p->cf)
        return -1;
    p->meter_wh = 1000; /* a pile that has charged before: a reading can go backwards */
    return 0;
}

void sim_cf_free(struct pile *p)
{
    if (!p->cf)
        return;
    free(p->cf->late_text);
    free(p->cf);
    p->cf = NULL;
}

void sim_cf_on_open(const struct sim_opts *o, struct pile *p)
{
    struct sim_conform *cf = p->cf;
    cf->card_session = 0;
    cf->plug_at_ms = 0;
    cf->finishing = 0;
    free(cf->late_text); /* an answer to a CALL of the closed connection */
    cf->late_text = NULL;
    cf->late_at_ms = 0;
    if (cf->reboot_faults != 1)
        return;
    cf->reboot_faults = 2;
    if (sim_faulty(o, F_BOOT_FIRST)) {
        int first = o->version == OCPP_V16 ? 0 : 1;
        sim_statuses(p, first, first); /* sent before the queued BootNotification */
    }
    cf->omit_status = sim_faulty(o, F_BOOT_STATUS);
}

int sim_cf_boot_last(const struct sim_opts *o, struct pile *p)
{
    if (!p->cf || !p->cf->omit_status)
        return o->connectors;
    p->cf->omit_status = 0;
    return o->connectors - 1;
}

void sim_cf_authorized(const struct sim_opts *o, struct pile *p, bool accepted, int64_t now_ms)
{
    (void)o;
    if (accepted && !p->reset) {
        p->cf->plug_at_ms = now_ms + PERSON_DELAY_MS;
        return;
    }
    p->tx_pending = 0; /* the card was refused: the person walks away */
    p->cf->card_session = 0;
    free(p->tag);
    p->tag = NULL;
}

bool sim_cf_quick_session(const struct sim_opts *o, const struct pile *p)
{
    return p->cf && p->cf->card_session &&
           (sim_faulty(o, F_TX_START) || sim_faulty(o, F_AUTHORIZE));
}

void sim_cf_tx_ended(const struct sim_opts *o, struct pile *p, int64_t now_ms)
{
    struct sim_conform *cf = p->cf;
    (void)now_ms;
    cf->card_session = 0;
    if (o->version == OCPP_V16)
        cf->finishing = p->tx_connector; /* Finishing, then Available */
}

bool sim_cf_hb_changed(const struct sim_opts *o, struct pile *p)
{
    struct sim_conform *cf = p->cf;
    if (!cf)
        return false;
    bool late = sim_faulty(o, F_LATE_ANSWER) && !cf->late_done && cf->hb_since_change >= 2;
    cf->hb_since_change = 0;
    if (late)
        cf->late_done = 1;
    return late;
}

void sim_cf_hold(const struct sim_opts *o, struct pile *p, char *text, int64_t now_ms)
{
    free(p->cf->late_text);
    p->cf->late_text = text;
    p->cf->late_at_ms = now_ms + o->late_answer_s * 1000LL;
}

/* The person presents the card at the idle pile. */
static void present_card(const struct sim_opts *o, struct pile *p, int64_t now_ms)
{
    char *tag = strdup(SIM_CONFORM_CARD);
    if (!tag)
        return;
    free(p->tag);
    p->tag = tag;
    p->tag_type = 0; /* ISO14443 */
    p->tx_remote = 0;
    p->tx_pending = 1;
    p->tx_connector = 1;
    p->cf->card_session = 1;
    if (sim_faulty(o, F_AUTHORIZE))
        p->cf->plug_at_ms = now_ms + PERSON_DELAY_MS; /* no Authorize */
    else
        sim_enqueue(p, A_AUTHORIZE);
}

void sim_cf_tick(const struct sim_opts *o, struct pile *p, int64_t now_ms)
{
    struct sim_conform *cf = p->cf;
    if (cf->late_text && now_ms >= cf->late_at_ms) {
        sim_send(p, cf->late_text, strlen(cf->late_text));
        free(cf->late_text);
        cf->late_text = NULL;
    }
    if (!p->booted || p->reset)
        return;
    if (cf->card_at_ms && now_ms >= cf->card_at_ms) {
        cf->card_at_ms = 0;
        if (!p->in_tx && !p->tx_pending)
            present_card(o, p, now_ms);
    }
    if (cf->plug_at_ms && now_ms >= cf->plug_at_ms) {
        cf->plug_at_ms = 0;
        if (p->tx_pending && !p->in_tx && cf->card_session) {
            if (sim_faulty(o, F_TX_START)) {
                char *other = strdup("CONFORM-OTHER");
                if (other) {
                    free(p->tag);
                    p->tag = other;
                }
            }
            cf->meter_start = p->meter_wh;
            sim_start_tx(o, p, 1);
        }
    }
    /* a faulty card session ends as soon as it runs, so that the remote start of the checks
     * after it (which skip the session's own) finds the connector free */
    if (sim_cf_quick_session(o, p) && p->in_tx)
        sim_stop_tx(o, p, STOP_LOCAL);
    if (cf->frames_due) {
        cf->frames_due = 0;
        if (sim_faulty(o, F_SCHEMA))
            sim_enqueue(p, A_CF_BAD_SCHEMA);
        if (sim_faulty(o, F_UNIQUE_IDS))
            sim_enqueue(p, A_CF_REUSED_ID);
        if (sim_faulty(o, F_ONE_OUTSTANDING))
            sim_enqueue(p, A_CF_OVERLAP);
    }
}
