/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: status-change events (src/core/sd_events.c)
 * and their queue in the store (sd_store_set_events(), event_next,
 * event_done): queued in the write's own transaction, in order per
 * identity and target, an identity's failing event never holding back
 * another's, bounded with a workspace's flood pushing out its own.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <lmdb.h>

#include "sd_events.h"
#include "sd_store.h"


#define T0  1796515200


typedef struct {
    char               dir[64];
    char               path[128];
    char               lock[160];
    sd_store_t        *st;
    sd_events_conf_t   conf;
    int64_t            dropped;
} fx_t;


static int64_t  fx_now_value = T0;

static int64_t
fx_now(void)
{
    return fx_now_value;
}


static void
fx_tally(void *ctx, const sd_store_tally_t *t)
{
    fx_t  *fx = ctx;

    fx->dropped += t->events_dropped;
}


static void *
fx_alloc(void *ctx, size_t size)
{
    (void) ctx;
    return malloc(size);
}


static int
setup(void **state)
{
    char            err[256];
    fx_t           *fx;
    const uint32_t  targets[2] = { 7, 9 };

    fx = calloc(1, sizeof(fx_t));
    if (fx == NULL) {
        return -1;
    }

    strcpy(fx->dir, "/tmp/sd-events-test-XXXXXX");

    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }

    snprintf(fx->path, sizeof(fx->path), "%s/sd.mdb", fx->dir);
    snprintf(fx->lock, sizeof(fx->lock), "%s-lock", fx->path);

    if (sd_store_open(fx->path, 4 * 1024 * 1024, &fx->st, err, sizeof(err))
        != SD_STORE_OK)
    {
        print_error("sd_store_open: %s\n", err);
        return -1;
    }

    fx->conf.region = "us-east-1";
    fx->conf.now = fx_now;
    sd_store_set_tally(fx->st, fx_tally, fx);
    sd_store_set_events(fx->st, sd_events_build, &fx->conf, targets, 2, 100);

    *state = fx;
    return 0;
}


static int
teardown(void **state)
{
    fx_t  *fx = *state;

    sd_store_close(fx->st);
    (void) unlink(fx->path);
    (void) unlink(fx->lock);
    (void) rmdir(fx->dir);
    free(fx);

    return 0;
}


static const char  *row_pending =
    "{\"identity\":\"acme.com\",\"type\":\"domain\",\"kind\":\"managed\","
    "\"sender_name\":\"\",\"state\":\"ready\",\"dkim_status\":\"pending\","
    "\"mail_from_status\":\"not_configured\",\"verified_for_sending\":false}";

static const char  *row_verified =
    "{\"identity\":\"acme.com\",\"type\":\"domain\",\"kind\":\"managed\","
    "\"sender_name\":\"\",\"state\":\"ready\",\"dkim_status\":\"verified\","
    "\"mail_from_status\":\"not_configured\",\"verified_for_sending\":true}";


static sd_record_t
rec(unsigned flags, const char *json)
{
    sd_record_t  r;

    memset(&r, 0, sizeof(r));
    r.flags = flags;
    r.json = json;
    r.json_len = strlen(json);

    return r;
}


/* the target's oldest event: its type, and it is removed */
static void
assert_next(fx_t *fx, uint32_t target, const char *type, uint64_t seq)
{
    json_t            *j;
    sd_store_event_t   ev;

    assert_int_equal(sd_store_event_next(fx->st, target, NULL, 0, fx_alloc,
                                         NULL, &ev),
                     SD_STORE_OK);
    assert_int_equal(ev.seq, seq);

    j = json_loads(ev.body, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), type);
    assert_string_equal(json_string_value(json_object_get(j, "workspace")),
                        "acme");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(j, "identity"), "identity")),
                        "acme.com");
    assert_string_equal(json_string_value(json_object_get(j, "created_at")),
                        "2026-12-06T00:00:00Z");

    {
        char  id[32];

        snprintf(id, sizeof(id), "evt_%llu", (unsigned long long) seq);
        assert_string_equal(json_string_value(json_object_get(j, "id")), id);
    }

    json_decref(j);
    free(ev.body);

    assert_int_equal(sd_store_event_done(fx->st, target, seq, 1, 0),
                     SD_STORE_OK);
}


/*
 * Cluster mode: each node numbers its own events, so the id carries the
 * node's name (two nodes' 5th events must not share a webhook-id); a
 * single node's ids stay evt_<seq>.
 */
static void
test_cluster_ids(void **state)
{
    fx_t              *fx = *state;
    char               id[SD_EVENTS_ID_MAX], longname[65];
    json_t            *j;
    sd_record_t        a;
    sd_events_conf_t   other;
    sd_store_event_t   ev;

    assert_int_equal(sd_events_id(NULL, 5, id, sizeof(id)), 5);
    assert_string_equal(id, "evt_5");
    other.node = "nodeB";
    assert_int_equal(sd_events_id(&other, 5, id, sizeof(id)), 11);
    assert_string_equal(id, "evt_nodeB_5");
    other.node = "";
    sd_events_id(&other, 5, id, sizeof(id));
    assert_string_equal(id, "evt_5");

    memset(longname, 'n', 64);
    longname[64] = '\0';
    other.node = longname;
    assert_true(sd_events_id(&other, UINT64_MAX, id, sizeof(id))
                < sizeof(id) - 1);

    fx->conf.node = "nodeA";
    a = rec(SD_REC_DOMAIN, row_pending);
    assert_int_equal(sd_store_claim(fx->st, "acme", 4, "acme.com", 8, &a),
                     SD_STORE_OK);

    assert_int_equal(sd_store_event_next(fx->st, 7, NULL, 0, fx_alloc, NULL,
                                         &ev),
                     SD_STORE_OK);
    j = json_loads(ev.body, 0, NULL);
    assert_non_null(j);
    snprintf(id, sizeof(id), "evt_nodeA_%llu", (unsigned long long) ev.seq);
    assert_string_equal(json_string_value(json_object_get(j, "id")), id);
    json_decref(j);
    free(ev.body);
    fx->conf.node = NULL;
}


/*
 * Cluster mode: a row applied from etcd makes no event (it was made on the
 * node that made the change), except the add's own row that etcd granted
 * to this node (events = 1): its identity.added is made here.
 */
static void
test_apply_events(void **state)
{
    fx_t               *fx = *state;
    size_t              n;
    sd_record_t         a;
    sd_store_remote_t   c;

    a = rec(SD_REC_DOMAIN, row_pending);

    memset(&c, 0, sizeof(c));
    c.kind = SD_STORE_KIND_ROW;
    c.op = SD_STORE_OP_PUT;
    c.ws = "acme";
    c.ws_len = 4;
    c.id = "other.com";
    c.id_len = 9;
    c.rec = &a;
    c.rev = 5;
    c.from_watch = 1;

    assert_int_equal(sd_store_apply_remote(fx->st, &c, 1, 0, NULL),
                     SD_STORE_OK);
    assert_int_equal(sd_store_events_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 0);

    c.id = "acme.com";
    c.id_len = 8;
    c.rev = 6;
    c.from_watch = 0;
    c.events = 1;

    assert_int_equal(sd_store_apply_remote(fx->st, &c, 1, 0, NULL),
                     SD_STORE_OK);
    assert_int_equal(c.applied, 1);
    assert_next(fx, 7, "identity.added", 1);
    assert_next(fx, 9, "identity.added", 1);

    /* the watch applied the node's own add first: the add still makes it */
    c.id = "other.com";
    c.id_len = 9;
    c.rev = 5;

    assert_int_equal(sd_store_apply_remote(fx->st, &c, 1, 0, NULL),
                     SD_STORE_OK);
    assert_int_equal(c.applied, 0);
    assert_int_equal(sd_store_events_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 2);
}


static void
test_events_in_order(void **state)
{
    fx_t         *fx = *state;
    sd_record_t   a, b;

    a = rec(SD_REC_DOMAIN, row_pending);
    b = rec(SD_REC_DOMAIN | SD_REC_VERIFIED, row_verified);

    assert_int_equal(sd_store_claim(fx->st, "acme", 4, "acme.com", 8, &a),
                     SD_STORE_OK);
    /* the same row again: no change, no event */
    assert_int_equal(sd_store_update(fx->st, "acme", 4, "acme.com", 8, &a),
                     SD_STORE_OK);
    assert_int_equal(sd_store_update(fx->st, "acme", 4, "acme.com", 8, &b),
                     SD_STORE_OK);
    assert_int_equal(sd_store_delete(fx->st, "acme", 4, "acme.com", 8),
                     SD_STORE_OK);

    /* each target has every event, oldest first */
    assert_next(fx, 7, "identity.added", 1);
    assert_next(fx, 7, "identity.dkim_status_changed", 2);
    assert_next(fx, 7, "identity.verified", 3);
    assert_next(fx, 7, "identity.removed", 4);
    assert_int_equal(sd_store_event_next(fx->st, 7, NULL, 0, fx_alloc, NULL,
                                         &(sd_store_event_t) { 0 }),
                     SD_STORE_NOT_FOUND);

    assert_next(fx, 9, "identity.added", 1);
}


static void
test_retry_keeps_the_event(void **state)
{
    fx_t              *fx = *state;
    sd_record_t        a;
    sd_store_event_t   ev;

    a = rec(SD_REC_DOMAIN, row_pending);
    assert_int_equal(sd_store_claim(fx->st, "acme", 4, "acme.com", 8, &a),
                     SD_STORE_OK);

    assert_int_equal(sd_store_event_done(fx->st, 7, 1, 0, T0 + 5),
                     SD_STORE_OK);
    assert_int_equal(sd_store_event_done(fx->st, 7, 1, 0, T0 + 15),
                     SD_STORE_OK);

    assert_int_equal(sd_store_event_next(fx->st, 7, NULL, 0, fx_alloc,
                                         NULL, &ev),
                     SD_STORE_OK);
    assert_int_equal(ev.seq, 1);
    assert_int_equal(ev.attempts, 2);
    assert_int_equal(ev.next_attempt, T0 + 15);
    assert_int_equal(ev.created, T0);
    assert_non_null(strstr(ev.body, "\"identity.added\""));
    free(ev.body);
}


/* an adopted row (ownership unproven) proven: its own event */
static void
test_ownership_proven(void **state)
{
    fx_t         *fx = *state;
    sd_record_t   a, b, c;

    a = rec(SD_REC_DOMAIN,
            "{\"identity\":\"acme.com\",\"type\":\"domain\","
            "\"kind\":\"managed\",\"state\":\"ready\","
            "\"dkim_status\":\"verified\",\"ownership\":\"unproven\","
            "\"verified_for_sending\":false}");
    b = rec(SD_REC_DOMAIN | SD_REC_VERIFIED,
            "{\"identity\":\"acme.com\",\"type\":\"domain\","
            "\"kind\":\"managed\",\"state\":\"ready\","
            "\"dkim_status\":\"verified\",\"ownership\":\"proven\","
            "\"verified_for_sending\":true}");
    c = rec(SD_REC_DOMAIN | SD_REC_VERIFIED,
            "{\"identity\":\"acme.com\",\"type\":\"domain\","
            "\"kind\":\"managed\",\"state\":\"ready\","
            "\"dkim_status\":\"verified\",\"ownership\":\"declared\","
            "\"verified_for_sending\":true}");

    assert_int_equal(sd_store_claim(fx->st, "acme", 4, "acme.com", 8, &a),
                     SD_STORE_OK);
    assert_int_equal(sd_store_update(fx->st, "acme", 4, "acme.com", 8, &b),
                     SD_STORE_OK);
    /* another change of ownership, not to proven: no such event */
    assert_int_equal(sd_store_update(fx->st, "acme", 4, "acme.com", 8, &c),
                     SD_STORE_OK);

    assert_next(fx, 7, "identity.added", 1);
    assert_next(fx, 7, "identity.ownership_proven", 2);
    assert_next(fx, 7, "identity.verified", 3);
    assert_int_equal(sd_store_event_next(fx->st, 7, NULL, 0, fx_alloc, NULL,
                                         &(sd_store_event_t) { 0 }),
                     SD_STORE_NOT_FOUND);
}


/*
 * The retry schedule: 5 s doubling up to 1 h apart, the last attempt at
 * 72 h after the event was made, then given up (the defaults, without
 * waiting 72 hours); and a short schedule as a test configures it.
 */
static void
test_retry_schedule(void **state)
{
    int64_t             now, next, gap, prev_gap;
    unsigned            failures;
    sd_events_retry_t   shortr = { 2, 8, 30 };
    static const int64_t  first[] = {
        5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600
    };

    (void) state;

    now = T0;
    prev_gap = 0;

    for (failures = 1; /* void */ ; failures++) {
        if (!sd_events_retry(NULL, failures, T0, now, &next)) {
            break;
        }

        gap = next - now;

        if (failures <= sizeof(first) / sizeof(first[0])) {
            assert_int_equal(gap, first[failures - 1]);
        }

        assert_true(gap >= 1 && gap <= 3600);
        assert_true(next <= T0 + 72 * 3600);

        if (next < T0 + 72 * 3600) {
            assert_true(gap >= prev_gap);    /* grows, then stays at 1 h */
        }

        prev_gap = gap;
        now = next;
    }

    /* the last attempt was made at 72 h exactly, and then it is dropped */
    assert_int_equal(now, T0 + 72 * 3600);
    /* 10 doubling waits (5,115 s), 70 of an hour, one shorter one up to
     * 72 h, and the 82nd failure, at 72 h, gives up */
    assert_int_equal(failures, 82);

    /* a huge count of failures waits the cap, no overflow */
    assert_int_equal(sd_events_retry(NULL, 100000, T0, T0, &next), 1);
    assert_int_equal(next, T0 + 3600);

    /* an event older than the give-up time (nginx was stopped): dropped
     * after its one failed attempt */
    assert_int_equal(sd_events_retry(NULL, 1, T0, T0 + 80 * 3600, &next), 0);

    /* 2 s, 4 s, 8 s, 8 s ... until 30 s: attempts at 0 2 6 14 22 30 */
    now = T0;
    assert_int_equal(sd_events_retry(&shortr, 1, T0, now, &now), 1);
    assert_int_equal(now, T0 + 2);
    assert_int_equal(sd_events_retry(&shortr, 2, T0, now, &now), 1);
    assert_int_equal(now, T0 + 6);
    assert_int_equal(sd_events_retry(&shortr, 3, T0, now, &now), 1);
    assert_int_equal(now, T0 + 14);
    assert_int_equal(sd_events_retry(&shortr, 4, T0, now, &now), 1);
    assert_int_equal(now, T0 + 22);
    assert_int_equal(sd_events_retry(&shortr, 5, T0, now, &now), 1);
    assert_int_equal(now, T0 + 30);
    assert_int_equal(sd_events_retry(&shortr, 6, T0, now, &now), 0);
}


static void
test_queue_bounded(void **state)
{
    fx_t            *fx = *state;
    int              i;
    sd_record_t      a, b;
    size_t           n;
    const uint32_t   targets[1] = { 7 };

    sd_store_set_events(fx->st, sd_events_build, &fx->conf, targets, 1, 3);

    a = rec(SD_REC_DOMAIN, row_pending);
    b = rec(SD_REC_DOMAIN | SD_REC_VERIFIED, row_verified);

    assert_int_equal(sd_store_claim(fx->st, "acme", 4, "acme.com", 8, &a),
                     SD_STORE_OK);

    for (i = 0; i < 3; i++) {
        assert_int_equal(sd_store_update(fx->st, "acme", 4, "acme.com", 8,
                                         &b), SD_STORE_OK);
        assert_int_equal(sd_store_update(fx->st, "acme", 4, "acme.com", 8,
                                         &a), SD_STORE_OK);
    }

    /* 1 + 3 * 4 events made, 3 kept: the newest */
    assert_int_equal(sd_store_events_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(fx->dropped, 10);
    assert_next(fx, 7, "identity.verified", 11);
}


static const char  *row_evil_pending =
    "{\"identity\":\"evil.com\",\"type\":\"domain\",\"kind\":\"managed\","
    "\"sender_name\":\"\",\"state\":\"ready\",\"dkim_status\":\"pending\","
    "\"mail_from_status\":\"not_configured\",\"verified_for_sending\":false}";

static const char  *row_evil_verified =
    "{\"identity\":\"evil.com\",\"type\":\"domain\",\"kind\":\"managed\","
    "\"sender_name\":\"\",\"state\":\"ready\",\"dkim_status\":\"verified\","
    "\"mail_from_status\":\"not_configured\",\"verified_for_sending\":true}";


/* the target's next event to send: its number, when due, and its text */
static void
assert_head(fx_t *fx, uint32_t target, uint64_t seq, int64_t next,
    const char *needle)
{
    sd_store_event_t   ev;

    assert_int_equal(sd_store_event_next(fx->st, target, NULL, 0, fx_alloc,
                                         NULL, &ev),
                     SD_STORE_OK);
    assert_int_equal(ev.seq, seq);
    assert_int_equal(ev.next_attempt, next);
    assert_non_null(strstr(ev.body, needle));
    free(ev.body);
}


/*
 * A receiver refuses one workspace's events: they wait for their retry,
 * the other workspace's go out meanwhile, and the refused identity's own
 * later events stay behind its first (in order per identity).
 */
static void
test_one_identity_never_holds_back_another(void **state)
{
    fx_t         *fx = *state;
    sd_record_t   a, e, ev;

    a = rec(SD_REC_DOMAIN, row_pending);
    e = rec(SD_REC_DOMAIN, row_evil_pending);
    ev = rec(SD_REC_DOMAIN | SD_REC_VERIFIED, row_evil_verified);

    assert_int_equal(sd_store_claim(fx->st, "evil", 4, "evil.com", 8, &e),
                     SD_STORE_OK);
    assert_int_equal(sd_store_claim(fx->st, "acme", 4, "acme.com", 8, &a),
                     SD_STORE_OK);

    assert_head(fx, 7, 1, T0, "\"workspace\":\"evil\"");

    /* with evil's event in flight, the next to send is acme's */
    {
        uint64_t           skip[1] = { 1 };
        sd_store_event_t   e2;

        assert_int_equal(sd_store_event_next(fx->st, 7, skip, 1, fx_alloc,
                                             NULL, &e2), SD_STORE_OK);
        assert_int_equal(e2.seq, 2);
        free(e2.body);
    }

    /* refused: tried again in 5 s */
    assert_int_equal(sd_store_event_done(fx->st, 7, 1, 0, T0 + 5),
                     SD_STORE_OK);

    /* evil.com changes meanwhile: events 3 and 4, behind its event 1 */
    assert_int_equal(sd_store_update(fx->st, "evil", 4, "evil.com", 8, &ev),
                     SD_STORE_OK);

    /* acme's event goes now, not after evil's retry */
    assert_head(fx, 7, 2, T0, "\"workspace\":\"acme\"");
    assert_int_equal(sd_store_event_done(fx->st, 7, 2, 1, 0), SD_STORE_OK);

    /* then evil's first again, at its retry time, never 3 or 4 before it */
    assert_head(fx, 7, 1, T0 + 5, "identity.added");
    assert_int_equal(sd_store_event_done(fx->st, 7, 1, 0, T0 + 15),
                     SD_STORE_OK);
    assert_head(fx, 7, 1, T0 + 15, "identity.added");
    assert_int_equal(sd_store_event_done(fx->st, 7, 1, 1, 0), SD_STORE_OK);

    assert_head(fx, 7, 3, T0, "identity.dkim_status_changed");
    assert_int_equal(sd_store_event_done(fx->st, 7, 3, 1, 0), SD_STORE_OK);
    assert_head(fx, 7, 4, T0, "identity.verified");
    assert_int_equal(sd_store_event_done(fx->st, 7, 4, 1, 0), SD_STORE_OK);
    assert_int_equal(sd_store_event_next(fx->st, 7, NULL, 0, fx_alloc, NULL,
                                         &(sd_store_event_t) { 0 }),
                     SD_STORE_NOT_FOUND);

    /* the other target has its own schedule: everything, in order */
    assert_head(fx, 9, 1, T0, "\"workspace\":\"evil\"");
    assert_int_equal(sd_store_event_done(fx->st, 9, 1, 1, 0), SD_STORE_OK);
    assert_next(fx, 9, "identity.added", 2);
}


/*
 * A full queue while one workspace makes events fast: it pushes out its
 * own oldest events, never the other workspace's.
 */
static void
test_full_queue_drops_the_flooders_own(void **state)
{
    fx_t            *fx = *state;
    int              i;
    size_t           n;
    sd_record_t      a, e, ev;
    const uint32_t   targets[1] = { 7 };

    sd_store_set_events(fx->st, sd_events_build, &fx->conf, targets, 1, 4);

    a = rec(SD_REC_DOMAIN, row_pending);
    e = rec(SD_REC_DOMAIN, row_evil_pending);
    ev = rec(SD_REC_DOMAIN | SD_REC_VERIFIED, row_evil_verified);

    assert_int_equal(sd_store_claim(fx->st, "acme", 4, "acme.com", 8, &a),
                     SD_STORE_OK);
    assert_int_equal(sd_store_claim(fx->st, "evil", 4, "evil.com", 8, &e),
                     SD_STORE_OK);

    for (i = 0; i < 5; i++) {
        assert_int_equal(sd_store_update(fx->st, "evil", 4, "evil.com", 8,
                                         &ev), SD_STORE_OK);
        assert_int_equal(sd_store_update(fx->st, "evil", 4, "evil.com", 8,
                                         &e), SD_STORE_OK);
    }

    /* 2 + 5 * 4 events made, 4 kept: acme's and evil's three newest */
    assert_int_equal(sd_store_events_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 4);
    assert_int_equal(fx->dropped, 18);
    assert_head(fx, 7, 1, T0, "\"workspace\":\"acme\"");
    assert_next(fx, 7, "identity.added", 1);
    assert_head(fx, 7, 20, T0, "\"workspace\":\"evil\"");
}


/* a queue left by the version before (one "events" database): kept */
static void
test_old_queue_moved(void **state)
{
    fx_t            *fx = *state;
    int              i;
    char             err[256];
    size_t           n;
    MDB_env         *env;
    MDB_txn         *txn;
    MDB_dbi          dbi;
    MDB_val          k, v;
    unsigned char    kb[12], vb[20 + 16];
    const uint32_t   targets[2] = { 7, 9 };

    sd_store_close(fx->st);

    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 12), 0);
    assert_int_equal(mdb_env_open(env, fx->path, MDB_NOSUBDIR, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "events", MDB_CREATE, &dbi), 0);

    for (i = 1; i <= 2; i++) {
        memset(kb, 0, sizeof(kb));
        kb[3] = 7;
        kb[11] = (unsigned char) i;
        memset(vb, 0, sizeof(vb));
        vb[0] = T0 & 0xff; vb[1] = (T0 >> 8) & 0xff;
        vb[2] = (T0 >> 16) & 0xff; vb[3] = (T0 >> 24) & 0xff;
        memcpy(vb + 8, vb, 8);
        snprintf((char *) vb + 20, 16, "{\"old\":%d}", i);
        k.mv_data = kb;
        k.mv_size = sizeof(kb);
        v.mv_data = vb;
        v.mv_size = 20 + strlen((char *) vb + 20);
        assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    }

    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    assert_int_equal(sd_store_open(fx->path, 4 * 1024 * 1024, &fx->st, err,
                                   sizeof(err)), SD_STORE_OK);
    sd_store_set_events(fx->st, sd_events_build, &fx->conf, targets, 2, 100);

    assert_int_equal(sd_store_events_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 2);
    assert_head(fx, 7, 1, T0, "{\"old\":1}");
    assert_int_equal(sd_store_event_done(fx->st, 7, 1, 1, 0), SD_STORE_OK);
    assert_head(fx, 7, 2, T0, "{\"old\":2}");
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_keeps_the_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_queue_bounded, setup, teardown),
        cmocka_unit_test(test_retry_schedule),
        cmocka_unit_test_setup_teardown(test_ownership_proven, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_one_identity_never_holds_back_another, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_full_queue_drops_the_flooders_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_queue_moved, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
