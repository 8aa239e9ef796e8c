/* The pile table behind OCPP handshakes: snapshots loaded by a background thread and swapped
 * in under a mutex. See piles.h. */
#include "gateway/piles.h"
#include "common/log.h"
#include "common/thread.h"
#include "db/db.h"
#include "db/piles_gateway.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* On-demand reloads come at most this often (a refused handshake asks for one). */
#define GW_PILES_MIN_GAP_MS 1000
/* A table whose state has not moved is loaded anyway after this long: a database file put back
 * from a backup under a running gateway can carry the same state. */
#define GW_PILES_FULL_LOAD_MS (5 * 60 * 1000)

struct snapshot {
    struct gw_pile *v; /* sorted by equipment_id (strcmp) */
    size_t n, cap;
    bool has_state; /* the table's state was read before the rows */
    struct db_gateway_piles_state state;
};

struct gw_piles {
    struct db *db; /* the thread's own connection */
    int refresh_ms;
    pthread_t thread;
    bool started;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;  /* CLOCK_MONOTONIC */
    struct snapshot *cur;
    bool stopping, asked;
    struct timespec last_check, last_load; /* monotonic */
    uint64_t checks, loads, failures;
    struct gw_pile_changes changes; /* queued for gw_piles_take_changes() */
};

/* The changed piles of one load, collected off the lock. */
struct changed {
    char (*ids)[GW_PILE_ID_MAX + 1];
    size_t n, cap;
    bool all; /* over GW_PILES_CHANGES_MAX */
};

static void snapshot_free(struct snapshot *s)
{
    if (!s)
        return;
    free(s->v);
    free(s);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One row into the snapshot; rows that cannot be a handshake's identity are skipped. */
static int add_row(void *arg, const struct db_gateway_pile *p)
{
    struct snapshot *s = arg;
    size_t idlen = strlen(p->equipment_id);
    if (idlen == 0 || idlen > GW_PILE_ID_MAX)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct gw_pile *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    struct gw_pile *e = &s->v[s->n];
    memset(e, 0, sizeof *e);
    memcpy(e->equipment_id, p->equipment_id, idlen + 1);
    snprintf(e->protocol, sizeof e->protocol, "%s", p->protocol);
    e->accessed = strcmp(p->status, "accessed") == 0;
    snprintf(e->boot_status, sizeof e->boot_status, "%s", p->boot_status);
    e->security_profile = p->security_profile;
    const char *salt = p->password_salt, *hash = p->password_hash;
    if (salt && hash && strlen(salt) < sizeof e->salt && strlen(hash) == 2 * sizeof e->hash) {
        bool ok = true;
        for (size_t i = 0; i < sizeof e->hash && ok; i++) {
            int hi = hexval(hash[2 * i]), lo = hexval(hash[2 * i + 1]);
            ok = hi >= 0 && lo >= 0;
            e->hash[i] = (unsigned char)(hi << 4 | lo);
        }
        if (ok) {
            snprintf(e->salt, sizeof e->salt, "%s", salt);
            e->has_password = true;
        }
    }
    s->n++;
    return 0;
}

static int cmp_pile(const void *a, const void *b)
{
    return strcmp(((const struct gw_pile *)a)->equipment_id,
                  ((const struct gw_pile *)b)->equipment_id);
}

/* Reads every pile into a new snapshot; NULL on failure (logged). Takes no lock. */
static struct snapshot *load(struct gw_piles *t)
{
    struct snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* Read first: a write between it and the rows makes the next check load once more. */
    s->has_state = db_gateway_piles_state(t->db, &s->state) == DB_OK;
    int rc = db_gateway_piles(t->db, add_row, s);
    if (rc != DB_OK) {
        log_warn("gateway", "pile_table_load_failed", "rc=%d", rc);
        snapshot_free(s);
        return NULL;
    }
    /* SQLite's ORDER BY (BINARY collation) is strcmp order; sort anyway if it ever is not. */
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->v[i - 1].equipment_id, s->v[i].equipment_id) >= 0) {
            qsort(s->v, s->n, sizeof *s->v, cmp_pile);
            break;
        }
    return s;
}

/* Whether two entries of a pile admit the same connections. */
static bool same_admission(const struct gw_pile *a, const struct gw_pile *b)
{
    return a->accessed == b->accessed && a->has_password == b->has_password &&
           gw_pile_profile(a) == gw_pile_profile(b) &&
           (!a->has_password ||
            (strcmp(a->salt, b->salt) == 0 && memcmp(a->hash, b->hash, sizeof a->hash) == 0));
}

static void changed_add(struct changed *c, const char *id)
{
    if (c->all)
        return;
    if (c->n == GW_PILES_CHANGES_MAX) {
        c->all = true;
        return;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        void *v = realloc(c->ids, cap * sizeof *c->ids);
        if (!v) {
            c->all = true; /* cannot name them: have everything checked */
            return;
        }
        c->ids = v;
        c->cap = cap;
    }
    memcpy(c->ids[c->n++], id, GW_PILE_ID_MAX + 1);
}

/* The piles of `old` whose entry in `cur` admits differently or is gone, by a merge of the two
 * sorted snapshots (piles new in `cur` have no connection to check). */
static void diff(const struct snapshot *old, const struct snapshot *cur, struct changed *out)
{
    size_t i = 0, j = 0;
    while (old && i < old->n) {
        int c = j < cur->n ? strcmp(old->v[i].equipment_id, cur->v[j].equipment_id) : -1;
        if (c < 0) {
            changed_add(out, old->v[i++].equipment_id); /* gone */
        } else if (c > 0) {
            j++;
        } else {
            if (!same_admission(&old->v[i], &cur->v[j]))
                changed_add(out, old->v[i].equipment_id);
            i++;
            j++;
        }
    }
}

/* Appends one load's changes to the queue; t->lock held. */
static void queue_changes(struct gw_piles *t, struct changed *c)
{
    struct gw_pile_changes *q = &t->changes;
    if (!c->all && !q->all && q->n + c->n <= GW_PILES_CHANGES_MAX && c->n) {
        void *v = realloc(q->ids, (q->n + c->n) * sizeof *q->ids);
        if (v) {
            q->ids = v;
            memcpy(q->ids + q->n, c->ids, c->n * sizeof *c->ids);
            q->n += c->n;
            return;
        }
    }
    if (c->all || (c->n && !q->all)) { /* too many, or no memory: check everything */
        free(q->ids);
        q->ids = NULL;
        q->n = 0;
        q->all = true;
    }
}

/* Whether the table still holds what t->cur was loaded from: its state has not moved and the
 * snapshot is younger than GW_PILES_FULL_LOAD_MS. Runs on the thread, off the lock (t->cur and
 * t->last_load change on this thread only). */
static bool unchanged(struct gw_piles *t)
{
    struct db_gateway_piles_state now;
    return t->cur && t->cur->has_state &&
           thread_before(thread_now(), thread_after_ms(t->last_load, GW_PILES_FULL_LOAD_MS)) &&
           db_gateway_piles_state(t->db, &now) == DB_OK &&
           now.generation == t->cur->state.generation && now.max_id == t->cur->state.max_id;
}

/* Checks, and loads and swaps when the table changed; called with t->lock held, which it drops
 * while querying. */
static void reload_locked(struct gw_piles *t)
{
    pthread_mutex_unlock(&t->lock);
    bool changed = !unchanged(t);
    struct snapshot *s = changed ? load(t) : NULL, *old = NULL;
    struct changed ch = {0};
    if (s)
        diff(t->cur, s, &ch); /* t->cur is replaced on this thread only: no lock to read it */
    pthread_mutex_lock(&t->lock);
    t->last_check = thread_now();
    t->checks++;
    if (s) {
        t->last_load = t->last_check;
        old = t->cur;
        t->cur = s;
        t->loads++;
        queue_changes(t, &ch);
    } else if (changed) {
        t->failures++;
    }
    pthread_mutex_unlock(&t->lock);
    free(ch.ids);
    snapshot_free(old); /* lookups copy entries out under the lock: nobody points into it */
    pthread_mutex_lock(&t->lock);
}

static void *run(void *arg)
{
    struct gw_piles *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        struct timespec due = thread_after_ms(t->last_check, t->refresh_ms);
        if (t->asked) {
            struct timespec soon = thread_after_ms(t->last_check, GW_PILES_MIN_GAP_MS);
            if (thread_before(soon, due))
                due = soon;
        }
        if (thread_before(thread_now(), due)) {
            pthread_cond_timedwait(&t->cond, &t->lock, &due);
            continue;
        }
        t->asked = false;
        reload_locked(t);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

struct gw_piles *gw_piles_start(const char *db_path, int busy_ms, const char *synchronous,
                                int refresh_ms, char *err, size_t errlen)
{
    struct gw_piles *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->refresh_ms = refresh_ms > 0 ? refresh_ms : 1000;
    thread_cond_init_monotonic(&t->cond);
    pthread_mutex_init(&t->lock, NULL);

    t->db = db_open(db_path, busy_ms, synchronous, err, errlen);
    if (!t->db)
        goto fail;
    t->cur = load(t);
    if (!t->cur) {
        snprintf(err, errlen, "cannot read the piles table (see the log)");
        goto fail;
    }
    t->checks = t->loads = 1;
    t->last_check = t->last_load = thread_now();

    /* Signals belong to the main thread. */
    int rc = thread_start_quiet(&t->thread, run, t);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the pile table thread: %s", strerror(rc));
        goto fail;
    }
    t->started = true;
    log_info("gateway", "pile_table_loaded", "piles=%zu refresh_ms=%d", t->cur->n, t->refresh_ms);
    return t;
fail:
    gw_piles_stop(t);
    return NULL;
}

void gw_piles_stop(struct gw_piles *t)
{
    if (!t)
        return;
    if (t->started) {
        pthread_mutex_lock(&t->lock);
        t->stopping = true;
        pthread_cond_signal(&t->cond);
        pthread_mutex_unlock(&t->lock);
        pthread_join(t->thread, NULL);
    }
    db_close(t->db);
    snapshot_free(t->cur);
    free(t->changes.ids);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int gw_piles_lookup(struct gw_piles *t, const char *equipment_id, struct gw_pile *out)
{
    int rc = -1;
    pthread_mutex_lock(&t->lock);
    const struct snapshot *s = t->cur;
    size_t lo = 0, hi = s ? s->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(equipment_id, s->v[mid].equipment_id);
        if (c == 0) {
            *out = s->v[mid];
            rc = 0;
            break;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void gw_piles_refresh_soon(struct gw_piles *t)
{
    pthread_mutex_lock(&t->lock);
    if (!t->asked) {
        t->asked = true;
        pthread_cond_signal(&t->cond);
    }
    pthread_mutex_unlock(&t->lock);
}

bool gw_pile_password_ok(const struct gw_pile *p, const char *password, size_t len)
{
    if (!p->has_password)
        return false;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
              EVP_DigestUpdate(ctx, p->salt, strlen(p->salt)) &&
              EVP_DigestUpdate(ctx, password, len) && EVP_DigestFinal_ex(ctx, md, &mdlen) &&
              mdlen == sizeof p->hash;
    EVP_MD_CTX_free(ctx);
    return ok && CRYPTO_memcmp(md, p->hash, sizeof p->hash) == 0;
}

void gw_piles_take_changes(struct gw_piles *t, struct gw_pile_changes *out)
{
    pthread_mutex_lock(&t->lock);
    *out = t->changes;
    memset(&t->changes, 0, sizeof t->changes);
    pthread_mutex_unlock(&t->lock);
}

int gw_pile_profile(const struct gw_pile *p)
{
    return p->security_profile >= 1 && p->security_profile <= 3 ? p->security_profile : 3;
}

static uint64_t password_fp(const struct gw_pile *p)
{
    uint64_t fp = 0;
    for (size_t i = 0; i < sizeof fp; i++)
        fp = fp << 8 | p->hash[i];
    return fp;
}

void gw_pile_admission_init(struct gw_pile_admission *a, const struct gw_pile *p, bool tls,
                            bool client_cert)
{
    memset(a, 0, sizeof *a);
    a->profile = gw_pile_profile(p);
    a->by_password = a->profile != 3;
    a->password_fp = a->by_password && p->has_password ? password_fp(p) : 0;
    a->tls = tls;
    a->client_cert = tls && client_cert;
}

const char *gw_pile_admission_check(const struct gw_pile_admission *a, const struct gw_pile *now)
{
    if (!now || !now->accessed)
        return "not_accessed";
    int profile = gw_pile_profile(now);
    if ((profile >= 2 && !a->tls) || (profile == 3 && !a->client_cert))
        return "profile_changed";
    /* A profile 3 connection showed a certificate, which a password issued since cannot undo;
     * one let in by its password depends on that password while the profile asks for one. */
    if (profile != 3 && a->by_password &&
        (!now->has_password || password_fp(now) != a->password_fp))
        return "credentials_changed";
    return NULL;
}

void gw_piles_stats(struct gw_piles *t, struct gw_piles_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&t->lock);
    out->piles = t->cur ? t->cur->n : 0;
    out->checks_total = t->checks;
    out->loads_total = t->loads;
    out->load_failures = t->failures;
    struct timespec now = thread_now();
    out->last_check_age_s = (double)(now.tv_sec - t->last_check.tv_sec) +
                            (double)(now.tv_nsec - t->last_check.tv_nsec) / 1e9;
    pthread_mutex_unlock(&t->lock);
}
