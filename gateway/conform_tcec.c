/* Plan tcec102-platform, the checks that call the operator platform (protocol/plans_tcec102.c
 * gives each check's exact specification): evgate's token, a refused secret, the crypto of the
 * answers and the refusals of broken requests; the calls the station checks
 * (conform_tcec_stations.c) make too; and the plan's table. Calls go through gateway/tcec_call.h as
 * evgate's outbound client makes them (its OperatorID, the detection's live credential set);
 * each is recorded as two frames of the check with the secrets and tokens redacted. The checks
 * that judge what the platform sends evgate are conform_tcec_in.c's. */
#include "gateway/conform_tcec_private.h"
#include "common/config.h"
#include "common/thread.h"

#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What a probe presents instead of the real secrets: never the platform's own (checked). */
#define WRONG_OPERATOR_SECRET "evgate-conformance-wrong-secret"
#define OTHER_SIG_SECRET      "evgate-conformance-other-sig-secret"

/* --- the run's state ------------------------------------------------------------------------- */

struct find_peer {
    const char *operator_id;
    int64_t detection_id;
    struct cf_tcec *s;
    int found;
};

static int match_peer(void *arg, const struct db_tcec_peer *p)
{
    struct find_peer *f = arg;
    if (strcmp(p->cred->operator_id, f->operator_id) != 0 ||
        (f->detection_id > 0 && p->cred->detection_id != f->detection_id))
        return 0;
    f->found = 1;
    f->s->cred = *p->cred;
    size_t n = strlen(p->base_url);
    if (n == 0)
        snprintf(f->s->setup_error, sizeof f->s->setup_error,
                 "the detection of OperatorID %s gives no platform.base_url to call",
                 f->operator_id);
    else if (n + 2 > sizeof f->s->url)
        snprintf(f->s->setup_error, sizeof f->s->setup_error,
                 "the platform.base_url of OperatorID %s is over %d characters", f->operator_id,
                 CF_TCEC_URL_MAX - 2);
    else
        snprintf(f->s->url, sizeof f->s->url, "%s%s", p->base_url,
                 p->base_url[n - 1] == '/' ? "" : "/");
    return 1;
}

static void free_state(void *state)
{
    struct cf_tcec *s = state;
    cf_tcec_free_pages(s);
    json_decref(s->own);
    s->own = NULL;
}

struct cf_tcec *cf_tcec_state(struct cf_run *r)
{
    struct cf_tcec *s = cf_state(r, sizeof *s);
    if (!s || s->setup_done)
        return s;
    s->setup_done = true;
    cf_state_cleanup(r, free_state);
    /* from a random Seq: evgate's client may call the same platform in the same second, and a
     * platform refuses a (TimeStamp, Seq) pair it saw as a replay */
    unsigned char b[2] = {0, 0};
    RAND_bytes(b, sizeof b);
    s->seq = ((unsigned)b[0] << 8 | b[1]) % 9999;
    struct find_peer f = {cf_target(r), cf_detection_id(r), s, 0};
    int rc = db_tcec_peers(cf_db(r), match_peer, &f);
    if (rc < 0)
        snprintf(s->setup_error, sizeof s->setup_error,
                 "the platform's credentials could not be read (database error %d)", rc);
    else if (!f.found)
        snprintf(s->setup_error, sizeof s->setup_error,
                 "OperatorID %s has no live T/CEC credentials of an approved self detection",
                 cf_target(r));
    return s;
}

enum cf_verdict cf_tcec_end(struct cf_run *r, struct cf_tcec *s, enum cf_verdict v)
{
    if (v == CF_PASS && s->note[0])
        v = cf_pass_note(r, "%s", s->note);
    s->note[0] = 0;
    return v;
}

void cf_tcec_clock(int64_t at, char out[9])
{
    char t[20];
    if (tcec_time_text((long long)at, TCEC_TIME_DATETIME, t, sizeof t) == 0)
        snprintf(out, 9, "%s", t + 11);
    else
        snprintf(out, 9, "?");
}

void cf_tcec_add_note(struct cf_tcec *s, const char *text)
{
    size_t n = strlen(s->note);
    if (n + 3 < sizeof s->note)
        snprintf(s->note + n, sizeof s->note - n, "%s%s", n ? "; " : "", text);
}

void cf_tcec_free_pages(struct cf_tcec *s)
{
    json_decref(s->pages);
    json_decref(s->stations);
    s->pages = s->stations = NULL;
}

/* --- calls --------------------------------------------------------------------------------- */

static int aborted(void *arg)
{
    return cf_aborted(arg);
}

static const char *data_text(enum gw_tcec_data d)
{
    switch (d) {
    case GW_TCEC_DATA_BASE64:
        return "Data is not Base64 of whole AES-128 blocks";
    case GW_TCEC_DATA_DECRYPT:
        return "Data does not decrypt with DataSecret and DataSecretIV (bad padding)";
    case GW_TCEC_DATA_JSON:
        return "Data decrypts, but not to a JSON object";
    default:
        return "Data is empty";
    }
}

/* The two frames of a call: what went out and what came back, secrets and tokens redacted. */
static void frames(struct cf_run *r, const struct gw_tcec_call *c, const char *what)
{
    char *req = c->body ? NULL : gw_tcec_redacted(c->payload);
    char *out = NULL, *in = NULL;
    int n = asprintf(&out, "POST %s%s%s%s%s%s%s %s%s", c->url, c->interface,
                     c->token && c->token[0] ? " Authorization: Bearer ***" : "",
                     c->timestamp[0] ? " TimeStamp " : "", c->timestamp, c->seq[0] ? " Seq " : "",
                     c->seq, what ? what : "", c->body ? c->body : (req ? req : "(no payload)"));
    if (n >= 0)
        cf_frame(r, "out", out, (size_t)n);
    if (c->has_ret) {
        char *ans = c->data == GW_TCEC_DATA_OK ? gw_tcec_redacted(c->answer) : NULL;
        n = asprintf(&in, "HTTP %ld Ret %d Msg \"%s\" Sig %s Data %s", c->http_status, c->ret,
                     c->msg ? c->msg : "", c->sig_ok ? "correct" : "WRONG",
                     ans                            ? ans
                     : c->data == GW_TCEC_DATA_NONE ? "\"\""
                                                    : data_text(c->data));
        free(ans);
    } else if (c->text && c->len) {
        n = asprintf(&in, "%s; the answer: %.600s", c->problem, c->text);
    } else {
        n = asprintf(&in, "no answer: %s", c->problem);
    }
    if (n >= 0)
        cf_frame(r, "in", in, (size_t)n);
    free(req);
    free(out);
    free(in);
}

/* Remembers what the answer's Sig and Data came to, for crypto.answer-*. */
static void judge_crypto(struct cf_run *r, struct cf_tcec *s, const struct gw_tcec_call *c)
{
    if (!c->has_ret)
        return;
    s->answers++;
    if (!c->sig_ok && !s->bad_sig[0])
        snprintf(s->bad_sig, sizeof s->bad_sig,
                 "the answer to %s (check %s, Ret %d) has a Sig that is not upper-case hex "
                 "HMAC-MD5(SigSecret, Ret + Msg + Data)",
                 c->interface, cf_check(r)->id, c->ret);
    if (c->data != GW_TCEC_DATA_NONE) {
        s->answers_with_data++;
        if (c->data != GW_TCEC_DATA_OK && !s->bad_data[0])
            snprintf(s->bad_data, sizeof s->bad_data, "the answer to %s (check %s, Ret %d): %s",
                     c->interface, cf_check(r)->id, c->ret, data_text(c->data));
    }
}

/* Makes call c (its interface, payload or body, token, sig_secret set by the caller) to the
 * platform; `what` (may be NULL) describes a probe in the frame. CF_PASS or CF_ABORT. */
static enum cf_verdict call(struct cf_run *r, struct cf_tcec *s, struct gw_tcec_call *c,
                            const char *what)
{
    const struct evg_config *cfg = cf_config(r);
    long left_s = (long)((cf_deadline_ms(r) - thread_now_ms()) / 1000);
    c->url = s->url;
    c->operator_id = cfg->tcec_operator_id;
    c->keys = (struct tcec_keys){s->cred.data_secret, s->cred.data_secret_iv, s->cred.sig_secret};
    c->timeout_s = (long)cfg->tcec_http_timeout_s < left_s ? (long)cfg->tcec_http_timeout_s
                                                           : (left_s > 1 ? left_s : 1);
    c->should_stop = aborted;
    c->stop_arg = r;
    /* a handle per call: the run's state has no destructor to close a kept one */
    CURL *h = curl_easy_init();
    if (!h)
        return cf_error(r, "libcurl cannot make a handle");
    gw_tcec_call(h, c, &s->seq);
    curl_easy_cleanup(h);
    frames(r, c, what);
    judge_crypto(r, s, c);
    return cf_aborted(r) ? CF_ABORT : CF_PASS;
}

/* query_token with evgate's OperatorID and `secret`. */
static enum cf_verdict ask_token(struct cf_run *r, struct cf_tcec *s, const char *secret,
                                 struct gw_tcec_call *c)
{
    json_t *req = json_pack("{s:s, s:s}", "OperatorID", cf_config(r)->tcec_operator_id,
                            "OperatorSecret", secret);
    if (!req)
        return cf_error(r, "out of memory");
    c->interface = "query_token";
    c->payload = req;
    enum cf_verdict v =
        call(r, s, c, secret == s->cred.operator_secret ? NULL : "(with a wrong OperatorSecret) ");
    c->payload = NULL;
    json_decref(req);
    return v;
}

/* Takes the token of a query_token answer when it is usable (SuccStat 0, not empty). */
static bool take_token(struct cf_tcec *s, const struct gw_tcec_call *c)
{
    const json_t *a = c->answer;
    const char *tok = json_string_value(json_object_get(a, "AccessToken"));
    if (!c->has_ret || c->ret != 0 || !a ||
        json_integer_value(json_object_get(a, "SuccStat")) != 0 || !tok || !tok[0] ||
        strlen(tok) > GW_TCEC_CALL_TOKEN_MAX)
        return false;
    snprintf(s->token, sizeof s->token, "%s", tok);
    s->token_ms = thread_now_ms();
    s->token_ttl_s = (long long)json_integer_value(json_object_get(a, "TokenAvailableTime"));
    return true;
}

/* A call with the AccessToken: once more with a new token when the platform answers 4002 (as
 * evgate's client does), with a note saying how long the refused token had lived. c's answer is
 * the last call's. */
enum cf_verdict cf_tcec_call_authed(struct cf_run *r, struct cf_tcec *s, struct gw_tcec_call *c,
                                    const char *what)
{
    c->token = s->token;
    enum cf_verdict v = call(r, s, c, what);
    if (v != CF_PASS || !c->has_ret || c->ret != TCEC_RET_TOKEN)
        return v;
    char note[200];
    snprintf(note, sizeof note,
             "%s refused with 4002 the AccessToken obtained %lld s before (TokenAvailableTime "
             "%lld s); evgate obtained a new one",
             c->interface, (long long)((thread_now_ms() - s->token_ms) / 1000), s->token_ttl_s);
    cf_tcec_add_note(s, note);
    struct gw_tcec_call t = {0};
    v = ask_token(r, s, s->cred.operator_secret, &t);
    bool renewed = v == CF_PASS && take_token(s, &t);
    gw_tcec_call_clear(&t);
    if (v != CF_PASS || !renewed)
        return v;
    c->token = s->token;
    return call(r, s, c, what);
}

/* The verdict of a call's failure to answer readably with Ret 0, or CF_PASS when it did (the
 * payload's rules are the caller's to judge). `where` names the call ("page 2"). A Data that
 * cannot be read skips: crypto.answer-encrypted judges it. */
enum cf_verdict cf_tcec_answered(struct cf_run *r, const struct gw_tcec_call *c, const char *where)
{
    if (!c->has_ret)
        return cf_fail(r, "%s%s%s: %s", c->interface, where ? " " : "", where ? where : "",
                       c->problem);
    if (c->ret != TCEC_RET_OK)
        return cf_fail(r, "%s%s%s: Ret %d (%s) instead of 0", c->interface, where ? " " : "",
                       where ? where : "", c->ret, c->msg ? c->msg : "");
    if (c->data != GW_TCEC_DATA_OK)
        return cf_skip(r,
                       "%s%s%s: Ret 0 but %s, so the answer cannot be judged "
                       "(crypto.answer-encrypted judges it)",
                       c->interface, where ? " " : "", where ? where : "", data_text(c->data));
    return CF_PASS;
}

const char *cf_tcec_no_token(void)
{
    return "no AccessToken from the platform: token.evgate-obtains did not pass";
}

/* --- token.evgate-obtains, token.bad-secret ---------------------------------------------- */

static enum cf_verdict evgate_obtains(struct cf_run *r, struct cf_tcec *s)
{
    struct gw_tcec_call c = {0};
    enum cf_verdict v = ask_token(r, s, s->cred.operator_secret, &c);
    if (v != CF_PASS)
        goto out;
    if (!c.has_ret) {
        v = cf_fail(r, "query_token: %s", c.problem);
        goto out;
    }
    if (c.ret != TCEC_RET_OK) {
        v = cf_fail(r, "query_token: Ret %d (%s) instead of 0", c.ret, c.msg);
        goto out;
    }
    if (c.data != GW_TCEC_DATA_OK) {
        v = cf_fail(r, "query_token: Ret 0 but %s: evgate cannot read an AccessToken",
                    data_text(c.data));
        goto out;
    }
    const json_t *a = c.answer;
    json_t *succ = json_object_get(a, "SuccStat"), *ttl = json_object_get(a, "TokenAvailableTime");
    const char *tok = json_string_value(json_object_get(a, "AccessToken"));
    bool usable = take_token(s, &c);
    if (!json_is_integer(succ) || json_integer_value(succ) != 0)
        v = cf_fail(r,
                    "query_token: SuccStat %s, FailReason %lld for evgate's OperatorID %s with "
                    "the issued OperatorSecret",
                    json_is_integer(succ) ? (json_integer_value(succ) == 1 ? "1" : "not 0")
                                          : "missing",
                    (long long)json_integer_value(json_object_get(a, "FailReason")),
                    cf_config(r)->tcec_operator_id);
    else if (!tok || !tok[0])
        v = cf_fail(r, "query_token: SuccStat 0 but AccessToken is %s", tok ? "empty" : "missing");
    else if (!usable)
        v = cf_fail(r, "query_token: AccessToken is over %d characters", GW_TCEC_CALL_TOKEN_MAX);
    else if (!json_is_integer(ttl) || json_integer_value(ttl) <= 0)
        v = cf_fail(r, "query_token: TokenAvailableTime %s, expected a number of seconds > 0",
                    json_is_integer(ttl) ? (json_integer_value(ttl) == 0 ? "0" : "negative")
                                         : "missing or not an integer");
    else if (!c.sig_ok)
        cf_tcec_add_note(s, "the answer's Sig is wrong (crypto.answer-signed judges it)");
out:
    gw_tcec_call_clear(&c);
    return v;
}

static enum cf_verdict bad_secret(struct cf_run *r, struct cf_tcec *s)
{
    const char *wrong = strcmp(s->cred.operator_secret, WRONG_OPERATOR_SECRET) != 0
                            ? WRONG_OPERATOR_SECRET
                            : WRONG_OPERATOR_SECRET "2";
    struct gw_tcec_call c = {0};
    enum cf_verdict v = ask_token(r, s, wrong, &c);
    if (v != CF_PASS)
        goto out;
    if (!c.has_ret) {
        v = cf_fail(r, "query_token: %s", c.problem);
        goto out;
    }
    if (c.ret != TCEC_RET_OK) {
        v = cf_fail(r,
                    "query_token with a wrong OperatorSecret: Ret %d (%s); expected Ret 0 with "
                    "SuccStat 1 and FailReason 2",
                    c.ret, c.msg);
        goto out;
    }
    if (c.data != GW_TCEC_DATA_OK) {
        v = cf_skip(r,
                    "query_token: Ret 0 but %s, so the answer cannot be judged "
                    "(crypto.answer-encrypted judges it)",
                    data_text(c.data));
        goto out;
    }
    const json_t *a = c.answer;
    json_t *succ = json_object_get(a, "SuccStat"), *fr = json_object_get(a, "FailReason");
    const char *tok = json_string_value(json_object_get(a, "AccessToken"));
    if (json_is_integer(succ) && json_integer_value(succ) == 0)
        v = cf_fail(r,
                    "query_token with a wrong OperatorSecret issued a token (SuccStat 0, "
                    "AccessToken %s)",
                    tok && tok[0] ? "set" : "empty");
    else if (tok && tok[0])
        v = cf_fail(r,
                    "query_token with a wrong OperatorSecret: SuccStat %lld but AccessToken is "
                    "not empty",
                    (long long)json_integer_value(succ));
    else if (!json_is_integer(fr))
        v = cf_fail(r, "query_token with a wrong OperatorSecret: FailReason missing, expected 2 "
                       "(bad secret)");
    else if (json_integer_value(fr) != 2)
        v = cf_fail(r,
                    "query_token with a wrong OperatorSecret: FailReason %lld instead of 2 "
                    "(bad secret)",
                    (long long)json_integer_value(fr));
out:
    gw_tcec_call_clear(&c);
    return v;
}

/* --- crypto.answer-* ------------------------------------------------------------------------ */

static enum cf_verdict answer_signed(struct cf_run *r, struct cf_tcec *s)
{
    if (s->answers == 0)
        return cf_skip(r, "no T/CEC answer of the platform was read so far");
    if (s->bad_sig[0])
        return cf_fail(r, "%s", s->bad_sig);
    return CF_PASS;
}

static enum cf_verdict answer_encrypted(struct cf_run *r, struct cf_tcec *s)
{
    if (s->answers_with_data == 0)
        return cf_skip(r, "no answer of the platform so far carried Data");
    if (s->bad_data[0])
        return cf_fail(r, "%s", s->bad_data);
    return CF_PASS;
}

/* --- neg.* ------------------------------------------------------------------------------------ */

/* The Ret of a probe's answer: the envelope's, or the Ret of a T/CEC body sent with another HTTP
 * status (a platform may answer a malformed request with 400 as evgate does). false when none. */
static bool probe_ret(const struct gw_tcec_call *c, int *ret)
{
    if (c->has_ret) {
        *ret = c->ret;
        return true;
    }
    if (c->http_status < 400 || !c->text)
        return false;
    json_t *j = json_loadb(c->text, c->len, 0, NULL);
    json_t *v = json_object_get(j, "Ret");
    bool ok = json_is_integer(v);
    if (ok)
        *ret = (int)json_integer_value(v);
    json_decref(j);
    return ok;
}

/* The verdict of a probe that must be refused with `want`. `what` describes it. */
static enum cf_verdict refused_with(struct cf_run *r, const struct gw_tcec_call *c, int want,
                                    const char *what)
{
    int ret;
    if (!probe_ret(c, &ret))
        return cf_fail(r, "%s %s: %s; expected Ret %d", c->interface, what, c->problem, want);
    if (ret == want) {
        const json_t *list = json_object_get(c->answer, "StationInfos");
        if (json_array_size(list) > 0)
            return cf_fail(r, "%s %s: Ret %d but Data carries %zu stations", c->interface, what,
                           ret, json_array_size(list));
        return CF_PASS;
    }
    if (ret == TCEC_RET_OK)
        return cf_fail(r, "%s %s: Ret 0, the request was accepted; expected Ret %d", c->interface,
                       what, want);
    return cf_fail(r, "%s %s: Ret %d (%s) instead of %d", c->interface, what, ret,
                   c->msg ? c->msg : "", want);
}

/* Sends probe `c` (`label` describes it in its frames) with the platform's AccessToken, or once
 * with its own c->token when it brings one, and clears it: CF_PASS when it was refused with Ret
 * `want` (`what` names it in the reason), the verdict of the call or of refused_with otherwise. */
static enum cf_verdict probe(struct cf_run *r, struct cf_tcec *s, struct gw_tcec_call *c,
                             const char *label, int want, const char *what)
{
    enum cf_verdict v = c->token ? call(r, s, c, label) : cf_tcec_call_authed(r, s, c, label);
    if (v == CF_PASS)
        v = refused_with(r, c, want, what);
    gw_tcec_call_clear(c);
    return v;
}

static enum cf_verdict neg_bad_signature(struct cf_run *r, struct cf_tcec *s)
{
    if (!s->token[0])
        return cf_skip(r, "%s", cf_tcec_no_token());
    json_t *req = json_pack("{s:i, s:i}", "PageNo", 1, "PageSize", 1);
    struct gw_tcec_call c = {
        .interface = "query_stations_info", .payload = req, .sig_secret = OTHER_SIG_SECRET};
    enum cf_verdict v = probe(r, s, &c, "(signed with another SigSecret) ", TCEC_RET_SIGNATURE,
                              "signed with another SigSecret");
    json_decref(req);
    return v;
}

static enum cf_verdict neg_wrong_token(struct cf_run *r, struct cf_tcec *s)
{
    unsigned char raw[16];
    char token[2 * sizeof raw + 1];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return cf_error(r, "no random bytes for a token");
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(token + 2 * i, 3, "%02X", raw[i]);
    json_t *req = json_pack("{s:i, s:i}", "PageNo", 1, "PageSize", 1);
    struct gw_tcec_call c = {.interface = "query_stations_info", .payload = req, .token = token};
    enum cf_verdict v = probe(r, s, &c, "(with a token the platform never issued) ", TCEC_RET_TOKEN,
                              "with a token the platform never issued");
    json_decref(req);
    return v;
}

/* A correctly made request envelope without its Seq. Caller frees. */
static char *without_seq(struct cf_run *r, struct cf_tcec *s, const json_t *payload)
{
    char ts[TCEC_TIMESTAMP_LEN + 1], seq[TCEC_SEQ_LEN + 1];
    struct tcec_keys k = {s->cred.data_secret, s->cred.data_secret_iv, s->cred.sig_secret};
    tcec_time_text((long long)time(NULL), TCEC_TIME_STAMP, ts, sizeof ts);
    s->seq = s->seq % 9999 + 1;
    snprintf(seq, sizeof seq, "%04u", s->seq);
    char *text = tcec_request_build(cf_config(r)->tcec_operator_id, ts, seq, payload, &k);
    json_t *env = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    json_object_del(env, "Seq");
    text = env ? json_dumps(env, TCEC_JSON_FLAGS) : NULL;
    json_decref(env);
    return text;
}

static enum cf_verdict neg_malformed(struct cf_run *r, struct cf_tcec *s)
{
    if (!s->token[0])
        return cf_skip(r, "%s", cf_tcec_no_token());
    json_t *req = json_pack("{s:i, s:i}", "PageNo", 1, "PageSize", 1);
    char *body = without_seq(r, s, req);
    json_decref(req);
    if (!body)
        return cf_error(r, "the probe without Seq could not be built");
    struct gw_tcec_call c = {.interface = "query_stations_info", .body = body};
    enum cf_verdict v = probe(r, s, &c, "(an envelope without Seq) ", TCEC_RET_POST,
                              "with an envelope without Seq");
    free(body);
    if (v != CF_PASS)
        return v;
    c = (struct gw_tcec_call){.interface = "query_stations_info",
                              .body = "this body is not JSON {\"OperatorID\":"};
    return probe(r, s, &c, "(a body that is not JSON) ", TCEC_RET_POST,
                 "with a body that is not JSON");
}

static enum cf_verdict neg_bad_payload(struct cf_run *r, struct cf_tcec *s)
{
    if (!s->token[0])
        return cf_skip(r, "%s", cf_tcec_no_token());
    json_t *req = json_pack("{s:[]}", "StationIDs");
    struct gw_tcec_call c = {.interface = "query_station_status", .payload = req};
    enum cf_verdict v =
        probe(r, s, &c, "(StationIDs []) ", TCEC_RET_BUSINESS, "with StationIDs []");
    json_decref(req);
    return v;
}

/* --- the plan's table ------------------------------------------------------------------------ */

/* Each check: the state, the platform looked up, the body, the note. */
#define CHECK(name, body)                                                                          \
    static enum cf_verdict name(struct cf_run *r)                                                  \
    {                                                                                              \
        struct cf_tcec *s = cf_tcec_state(r);                                                      \
        if (!s)                                                                                    \
            return cf_error(r, "out of memory");                                                   \
        if (s->setup_error[0])                                                                     \
            return cf_error(r, "%s", s->setup_error);                                              \
        return cf_tcec_end(r, s, body(r, s));                                                      \
    }
CHECK(check_evgate_obtains, evgate_obtains)
CHECK(check_bad_secret, bad_secret)
CHECK(check_paging, cf_tcec_paging)
CHECK(check_dictionary, cf_tcec_dictionary)
CHECK(check_registered, cf_tcec_registered)
CHECK(check_status, cf_tcec_status)
CHECK(check_stats, cf_tcec_stats)
CHECK(check_answer_signed, answer_signed)
CHECK(check_answer_encrypted, answer_encrypted)
CHECK(check_neg_bad_signature, neg_bad_signature)
CHECK(check_neg_wrong_token, neg_wrong_token)
CHECK(check_neg_malformed, neg_malformed)
CHECK(check_neg_bad_payload, neg_bad_payload)
#undef CHECK

const struct cf_impl cf_tcec102_impl[] = {
    {"token.evgate-obtains", check_evgate_obtains},
    {"token.bad-secret", check_bad_secret},
    {"stations.paging", check_paging},
    {"stations.dictionary", check_dictionary},
    {"stations.registered", check_registered},
    {"status.query", check_status},
    {"stats.query", check_stats},
    {"crypto.answer-signed", check_answer_signed},
    {"crypto.answer-encrypted", check_answer_encrypted},
    {"token.platform-obtains", cf_tcec_platform_obtains},
    {"crypto.request-signed", cf_tcec_request_signed},
    {"crypto.request-encrypted", cf_tcec_request_encrypted},
    {"push.station-status", cf_tcec_push_status},
    {"push.station-info", cf_tcec_push_info},
    {"push.charge-order", cf_tcec_push_order},
    {"token.platform-uses", cf_tcec_platform_uses},
    {"neg.bad-signature", check_neg_bad_signature},
    {"neg.wrong-token", check_neg_wrong_token},
    {"neg.malformed-body", check_neg_malformed},
    {"neg.bad-payload", check_neg_bad_payload},
    {NULL, NULL},
};
