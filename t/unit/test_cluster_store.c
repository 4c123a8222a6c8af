/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: the store in cluster mode (issue 18, src/core/sd_store.c):
 * the outbox written in the row write's own transaction, the rows' etcd
 * revisions and tombstones, sd_store_apply_remote() (no outbox entry, no
 * event, another workspace's claim replaced) and the resync; the
 * outbox's fair turns across workspaces, its index and the upgrade of a
 * store whose outbox an older module wrote.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <lmdb.h>

#include "sd_events.h"
#include "sd_store.h"


#define T0  1796515200
#define D   SD_REC_DOMAIN
#define V   SD_REC_VERIFIED
#define F   SD_REC_FAILED


typedef struct {
    char               dir[64];
    char               path[128];
    char               lock[160];
    sd_store_t        *st;
    sd_events_conf_t   conf;
} fx_t;


static int64_t
fx_now(void)
{
    return T0;
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
    const uint32_t  targets[1] = { 7 };

    fx = calloc(1, sizeof(fx_t));
    if (fx == NULL) {
        return -1;
    }

    strcpy(fx->dir, "/tmp/sd-cluster-test-XXXXXX");

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
    sd_store_set_events(fx->st, sd_events_build, &fx->conf, targets, 1, 100);

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


static sd_record_t
mkrec(unsigned flags, const char *name, const char *json)
{
    sd_record_t  r;

    memset(&r, 0, sizeof(r));
    r.flags = flags;
    r.sender_name = name ? name : "";
    r.sender_name_len = name ? strlen(name) : 0;
    r.json = json;
    r.json_len = strlen(json);

    return r;
}


static sd_store_remote_t
remote(char kind, char op, const char *ws, const char *id,
    const sd_record_t *rec, int64_t rev)
{
    sd_store_remote_t  c;

    memset(&c, 0, sizeof(c));
    c.kind = kind;
    c.op = op;
    c.ws = ws;
    c.ws_len = strlen(ws);
    c.id = id;
    c.id_len = strlen(id);
    c.rec = rec;
    c.rev = rev;
    c.from_watch = 1;

    return c;
}


/* applies one change; returns its "applied" */
static int
apply1(fx_t *fx, sd_store_remote_t c, int64_t applied_rev)
{
    size_t  replaced;

    assert_int_equal(sd_store_apply_remote(fx->st, &c, 1, applied_rev,
                                           &replaced),
                     SD_STORE_OK);
    assert_int_equal(replaced, (size_t) c.replaced);

    return c.applied;
}


/* the next outbox entry is this one; it is removed */
static uint64_t
assert_out(fx_t *fx, uint64_t after, char kind, char op, unsigned flags,
    const char *ws, const char *id, const char *json)
{
    uint64_t        seq;
    sd_store_out_t  o;

    assert_int_equal(sd_store_outbox_next(fx->st, after, fx_alloc, NULL, &o),
                     SD_STORE_OK);
    assert_true(o.seq > after);
    assert_int_equal(o.kind, kind);
    assert_int_equal(o.op, op);
    assert_int_equal(o.flags, flags);
    assert_int_equal(o.ws_len, strlen(ws));
    assert_string_equal(o.ws, ws);
    assert_int_equal(o.id_len, strlen(id));
    assert_string_equal(o.id, id);
    assert_int_equal(o.json_len, strlen(json));
    assert_string_equal(o.json, json);

    seq = o.seq;
    free(o.ws);

    assert_int_equal(sd_store_outbox_done(fx->st, seq), SD_STORE_OK);

    return seq;
}


static int
row_exists(fx_t *fx, const char *ws, const char *id, const char *json)
{
    int          same;
    sd_record_t  r;

    if (sd_store_get(fx->st, ws, strlen(ws), id, strlen(id), fx_alloc, NULL,
                     &r) != SD_STORE_OK)
    {
        return 0;
    }

    same = (json == NULL || (r.json_len == strlen(json)
                             && memcmp(r.json, json, r.json_len) == 0));
    free((void *) r.sender_name);

    return same ? 1 : 2;
}


static void
test_outbox_off(void **state)
{
    fx_t         *fx = *state;
    size_t        n;
    uint64_t      last;
    sd_record_t   r;
    const char   *ids[1] = { "old@x.io" };
    size_t        lens[1] = { 8 };

    r = mkrec(D, NULL, "{\"a\":1}");

    assert_int_equal(sd_store_claim(fx->st, "w", 1, "acme.com", 8, &r),
                     SD_STORE_OK);
    assert_int_equal(sd_store_update(fx->st, "w", 1, "acme.com", 8, &r),
                     SD_STORE_OK);
    assert_int_equal(sd_store_legacy_replace(fx->st, "w", 1, 1, ids, lens, &r,
                                             NULL),
                     SD_STORE_OK);
    assert_int_equal(sd_store_delete(fx->st, "w", 1, "acme.com", 8),
                     SD_STORE_OK);

    assert_int_equal(sd_store_outbox_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sd_store_outbox_last(fx->st, &last), SD_STORE_OK);
    assert_int_equal(last, 0);
    assert_int_equal(sd_store_outbox_next(fx->st, 0, fx_alloc, NULL, NULL),
                     SD_STORE_NOT_FOUND);
}


static void
test_outbox_entries(void **state)
{
    fx_t         *fx = *state;
    size_t        n;
    uint64_t      seq, last;
    sd_record_t   a, b, l[2];
    const char   *ids1[2] = { "a@x.io", "b@x.io" };
    const char   *ids2[2] = { "c@x.io", "a@x.io" };
    size_t        lens[2] = { 6, 6 };

    sd_store_set_outbox(fx->st, 1);

    a = mkrec(D, NULL, "{\"v\":1}");
    b = mkrec(D | V, "Acme", "{\"v\":2}");

    assert_int_equal(sd_store_claim(fx->st, "w", 1, "acme.com", 8, &a),
                     SD_STORE_OK);
    assert_int_equal(sd_store_update(fx->st, "w", 1, "acme.com", 8, &b),
                     SD_STORE_OK);
    assert_int_equal(sd_store_delete(fx->st, "w", 1, "acme.com", 8),
                     SD_STORE_OK);

    /* a refused claim writes nothing, so appends nothing */
    assert_int_equal(sd_store_claim(fx->st, "w", 1, "acme.com", 8, &a),
                     SD_STORE_OK);
    assert_int_equal(sd_store_claim(fx->st, "z", 1, "acme.com", 8, &a),
                     SD_STORE_CONFLICT);

    l[0] = mkrec(V, "A", "{\"l\":\"a\"}");
    l[1] = mkrec(V, "B", "{\"l\":\"b\"}");
    assert_int_equal(sd_store_legacy_replace(fx->st, "w", 1, 2, ids1, lens, l,
                                             NULL),
                     SD_STORE_OK);

    /* a@x.io unchanged (second place now): no entry; b gone; c new */
    l[1] = mkrec(V, "A", "{\"l\":\"a\"}");
    l[0] = mkrec(V, "C", "{\"l\":\"c\"}");
    assert_int_equal(sd_store_legacy_replace(fx->st, "w", 1, 2, ids2, lens, l,
                                             NULL),
                     SD_STORE_OK);

    assert_int_equal(sd_store_outbox_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 8);

    seq = assert_out(fx, 0, 'r', 'p', D, "w", "acme.com", "{\"v\":1}");
    assert_int_equal(seq, 1);
    seq = assert_out(fx, seq, 'r', 'p', D | V, "w", "acme.com", "{\"v\":2}");
    seq = assert_out(fx, seq, 'r', 'd', 0, "w", "acme.com", "");
    seq = assert_out(fx, seq, 'r', 'p', D, "w", "acme.com", "{\"v\":1}");
    seq = assert_out(fx, seq, 'l', 'p', V, "w", "a@x.io", "{\"l\":\"a\"}");
    seq = assert_out(fx, seq, 'l', 'p', V, "w", "b@x.io", "{\"l\":\"b\"}");
    seq = assert_out(fx, seq, 'l', 'd', 0, "w", "b@x.io", "");
    seq = assert_out(fx, seq, 'l', 'p', V, "w", "c@x.io", "{\"l\":\"c\"}");
    assert_int_equal(seq, 8);

    assert_int_equal(sd_store_outbox_next(fx->st, 0, fx_alloc, NULL, NULL),
                     SD_STORE_NOT_FOUND);
    assert_int_equal(sd_store_outbox_done(fx->st, 3), SD_STORE_NOT_FOUND);

    /* the numbering never goes back, even with the outbox empty */
    assert_int_equal(sd_store_outbox_last(fx->st, &last), SD_STORE_OK);
    assert_int_equal(last, 8);
    assert_int_equal(sd_store_delete(fx->st, "w", 1, "acme.com", 8),
                     SD_STORE_OK);
    assert_int_equal(sd_store_outbox_last(fx->st, &last), SD_STORE_OK);
    assert_int_equal(last, 9);
    assert_int_equal(sd_store_outbox_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 1);
}


static int
set_to(void *ctx, const sd_record_t *cur, sd_record_t *out)
{
    (void) cur;
    *out = *(sd_record_t *) ctx;

    return 0;
}


/* the next entry says whether a poll wrote it (guarded when published) */
static void
assert_redoable(fx_t *fx, int redoable)
{
    sd_store_out_t  o;

    assert_int_equal(sd_store_outbox_next(fx->st, 0, fx_alloc, NULL, &o),
                     SD_STORE_OK);
    assert_int_equal(o.redoable, redoable);
    free(o.ws);
    assert_int_equal(sd_store_outbox_done(fx->st, o.seq), SD_STORE_OK);
}


/*
 * A poll's batch (SD_STORE_REDOABLE) marks its entries: the publisher
 * guards them with the row's revision; a person's write, or a batch
 * without the flag, never is.  The mark does not outlive the batch.
 */
static void
test_outbox_redoable(void **state)
{
    fx_t               *fx = *state;
    sd_record_t         a, b;
    sd_store_change_t   ch;

    sd_store_set_outbox(fx->st, 1);

    a = mkrec(D, NULL, "{\"v\":1}");
    b = mkrec(D | V, NULL, "{\"v\":2}");

    assert_int_equal(sd_store_claim(fx->st, "w", 1, "acme.com", 8, &a),
                     SD_STORE_OK);
    assert_redoable(fx, 0);

    memset(&ch, 0, sizeof(ch));
    ch.ws = "w";
    ch.ws_len = 1;
    ch.id = "acme.com";
    ch.id_len = 8;
    ch.ctx = &b;

    assert_int_equal(sd_store_modify_many(fx->st, &ch, 1, set_to, NULL,
                                          SD_STORE_REDOABLE),
                     SD_STORE_OK);
    assert_redoable(fx, 1);

    ch.ctx = &a;
    assert_int_equal(sd_store_modify_many(fx->st, &ch, 1, set_to, NULL, 0),
                     SD_STORE_OK);
    assert_redoable(fx, 0);

    assert_int_equal(sd_store_update(fx->st, "w", 1, "acme.com", 8, &b),
                     SD_STORE_OK);
    assert_redoable(fx, 0);
}


static void
poll_write(fx_t *fx, const char *ws, const char *id, sd_record_t *rec)
{
    sd_store_change_t  ch;

    memset(&ch, 0, sizeof(ch));
    ch.ws = ws;
    ch.ws_len = strlen(ws);
    ch.id = id;
    ch.id_len = strlen(id);
    ch.ctx = rec;

    assert_int_equal(sd_store_modify_many(fx->st, &ch, 1, set_to, NULL,
                                          SD_STORE_REDOABLE),
                     SD_STORE_OK);
    assert_int_equal(ch.rc, SD_STORE_OK);
}


/*
 * A poll overtaken in etcd goes with the later polls of the same key (made
 * on top of it while etcd was away); a person's write of that key and
 * another key's poll stay, in their order.
 */
static void
test_outbox_overtaken(void **state)
{
    fx_t         *fx = *state;
    size_t        n;
    uint64_t      first;
    sd_record_t   a, p1, p2, w, q;

    a = mkrec(D, NULL, "{\"v\":0}");
    assert_int_equal(sd_store_claim(fx->st, "w", 1, "acme.com", 8, &a),
                     SD_STORE_OK);
    assert_int_equal(sd_store_claim(fx->st, "w", 1, "other.io", 8, &a),
                     SD_STORE_OK);

    sd_store_set_outbox(fx->st, 1);

    p1 = mkrec(D, NULL, "{\"poll\":1}");
    w = mkrec(D, "Acme", "{\"person\":1}");
    p2 = mkrec(D, NULL, "{\"poll\":2}");
    q = mkrec(D, NULL, "{\"poll\":\"other\"}");

    poll_write(fx, "w", "acme.com", &p1);
    assert_int_equal(sd_store_update(fx->st, "w", 1, "acme.com", 8, &w),
                     SD_STORE_OK);
    poll_write(fx, "w", "acme.com", &p2);
    poll_write(fx, "w", "other.io", &q);

    assert_int_equal(sd_store_outbox_first(fx->st, &first), SD_STORE_OK);
    assert_int_equal(sd_store_outbox_overtaken(fx->st, first), SD_STORE_OK);

    assert_int_equal(sd_store_outbox_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 2);
    (void) assert_out(fx, 0, 'r', 'p', D, "w", "acme.com",
                      "{\"person\":1}");
    (void) assert_out(fx, 0, 'r', 'p', D, "w", "other.io",
                      "{\"poll\":\"other\"}");

    assert_int_equal(sd_store_outbox_overtaken(fx->st, first),
                     SD_STORE_NOT_FOUND);
}


static void
test_revision_echo(void **state)
{
    fx_t         *fx = *state;
    int           tomb;
    int64_t       rev;
    sd_record_t   mine, theirs;

    sd_store_set_outbox(fx->st, 1);

    mine = mkrec(D, NULL, "{\"mine\":1}");
    theirs = mkrec(D | V, NULL, "{\"theirs\":1}");

    assert_int_equal(sd_store_claim(fx->st, "w", 1, "acme.com", 8, &mine),
                     SD_STORE_OK);

    /* a watch change while the write waits in the outbox: the local write
       is newer (its publish follows), so it is not put back */
    assert_int_equal(apply1(fx, remote('r', 'p', "w", "acme.com", &theirs, 9),
                            0),
                     0);
    assert_int_equal(row_exists(fx, "w", "acme.com", "{\"mine\":1}"), 1);

    /* published at revision 10 */
    assert_int_equal(sd_store_set_rev(fx->st, 'r', "w", 1, "acme.com", 8, 10),
                     SD_STORE_OK);
    {
        uint64_t  first;

        assert_int_equal(sd_store_outbox_first(fx->st, &first), SD_STORE_OK);
        assert_int_equal(first, 1);
        assert_int_equal(sd_store_outbox_done(fx->st, 1), SD_STORE_OK);
        assert_int_equal(sd_store_outbox_first(fx->st, &first), SD_STORE_OK);
        assert_int_equal(first, 0);
    }
    assert_int_equal(sd_store_get_rev(fx->st, 'r', "w", 1, "acme.com", 8,
                                      &rev, &tomb),
                     SD_STORE_OK);
    assert_int_equal(rev, 10);
    assert_int_equal(tomb, 0);

    /* never lowered */
    assert_int_equal(sd_store_set_rev(fx->st, 'r', "w", 1, "acme.com", 8, 4),
                     SD_STORE_OK);
    assert_int_equal(sd_store_get_rev(fx->st, 'r', "w", 1, "acme.com", 8,
                                      &rev, &tomb),
                     SD_STORE_OK);
    assert_int_equal(rev, 10);

    /* its own watch echo, and an older change: skipped */
    assert_int_equal(apply1(fx, remote('r', 'p', "w", "acme.com", &theirs, 10),
                            0),
                     0);
    assert_int_equal(apply1(fx, remote('r', 'p', "w", "acme.com", &theirs, 9),
                            0),
                     0);
    assert_int_equal(row_exists(fx, "w", "acme.com", "{\"mine\":1}"), 1);

    /* a newer one applies */
    assert_int_equal(apply1(fx, remote('r', 'p', "w", "acme.com", &theirs, 11),
                            11),
                     1);
    assert_int_equal(row_exists(fx, "w", "acme.com", "{\"theirs\":1}"), 1);
    assert_int_equal(sd_store_get_rev(fx->st, 'r', "w", 1, "acme.com", 8,
                                      &rev, &tomb),
                     SD_STORE_OK);
    assert_int_equal(rev, 11);
    assert_int_equal(sd_store_applied_rev(fx->st, &rev), SD_STORE_OK);
    assert_int_equal(rev, 11);

    /* a Txn's answer the watch has already overtaken: skipped */
    {
        sd_store_remote_t  c;

        c = remote('r', 'p', "w", "acme.com", &mine, 11);
        c.from_watch = 0;
        c.rev = 11;
        assert_int_equal(apply1(fx, c, 0), 0);
    }

    /* applied_rev never goes back */
    assert_int_equal(apply1(fx, remote('r', 'p', "w", "x.com", &mine, 5), 5),
                     1);
    assert_int_equal(sd_store_applied_rev(fx->st, &rev), SD_STORE_OK);
    assert_int_equal(rev, 11);
}


static void
test_tombstone(void **state)
{
    fx_t         *fx = *state;
    int           tomb;
    int64_t       rev;
    sd_record_t   r;

    r = mkrec(D, NULL, "{}");

    assert_int_equal(apply1(fx, remote('r', 'p', "w", "acme.com", &r, 5), 0),
                     1);
    assert_int_equal(row_exists(fx, "w", "acme.com", NULL), 1);
    assert_int_equal(sd_store_claimed_by_other(fx->st, "z", 1, "acme.com", 8),
                     1);

    assert_int_equal(apply1(fx, remote('r', 'd', "w", "acme.com", NULL, 7),
                            0),
                     1);
    assert_int_equal(row_exists(fx, "w", "acme.com", NULL), 0);
    assert_int_equal(sd_store_claimed_by_other(fx->st, "z", 1, "acme.com", 8),
                     0);
    assert_int_equal(sd_store_get_rev(fx->st, 'r', "w", 1, "acme.com", 8,
                                      &rev, &tomb),
                     SD_STORE_OK);
    assert_int_equal(rev, 7);
    assert_int_equal(tomb, 1);

    /* a late put never brings the deleted row back */
    assert_int_equal(apply1(fx, remote('r', 'p', "w", "acme.com", &r, 6), 0),
                     0);
    assert_int_equal(row_exists(fx, "w", "acme.com", NULL), 0);

    /* applied past it: the tombstone goes */
    assert_int_equal(apply1(fx, remote('r', 'p', "w", "b.com", &r, 8), 8), 1);
    assert_int_equal(sd_store_get_rev(fx->st, 'r', "w", 1, "acme.com", 8,
                                      &rev, &tomb),
                     SD_STORE_OK);
    assert_int_equal(rev, 0);
    assert_int_equal(tomb, 0);

    /* a published local delete leaves a tombstone too */
    assert_int_equal(sd_store_delete(fx->st, "w", 1, "b.com", 5),
                     SD_STORE_OK);
    assert_int_equal(sd_store_set_rev(fx->st, 'r', "w", 1, "b.com", 5, 9),
                     SD_STORE_OK);
    assert_int_equal(sd_store_get_rev(fx->st, 'r', "w", 1, "b.com", 5,
                                      &rev, &tomb),
                     SD_STORE_OK);
    assert_int_equal(rev, 9);
    assert_int_equal(tomb, 1);
    assert_int_equal(apply1(fx, remote('r', 'd', "w", "b.com", NULL, 9), 0),
                     0);

    /* a progress notification: no change, applied_rev moves, it goes */
    assert_int_equal(sd_store_apply_remote(fx->st, NULL, 0, 12, NULL),
                     SD_STORE_OK);
    assert_int_equal(sd_store_applied_rev(fx->st, &rev), SD_STORE_OK);
    assert_int_equal(rev, 12);
    assert_int_equal(sd_store_get_rev(fx->st, 'r', "w", 1, "b.com", 5,
                                      &rev, &tomb),
                     SD_STORE_OK);
    assert_int_equal(rev, 0);
}


static void
test_apply_no_outbox_no_event(void **state)
{
    fx_t               *fx = *state;
    size_t              n;
    sd_record_t         r, l;
    sd_store_remote_t   c[3];

    sd_store_set_outbox(fx->st, 1);

    r = mkrec(D | V, NULL, "{}");
    l = mkrec(V, "L", "{}");

    c[0] = remote('r', 'p', "w", "acme.com", &r, 3);
    c[1] = remote('l', 'p', "w", "old@legacy.io", &l, 4);
    c[2] = remote('r', 'd', "w", "gone.com", NULL, 5);

    assert_int_equal(sd_store_apply_remote(fx->st, c, 3, 5, NULL),
                     SD_STORE_OK);
    assert_int_equal(c[0].applied + c[1].applied + c[2].applied, 3);

    assert_int_equal(sd_store_outbox_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sd_store_events_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 0);

    /* the same write made here: an entry and an event */
    assert_int_equal(sd_store_claim(fx->st, "w", 1, "b.com", 5, &r),
                     SD_STORE_OK);
    assert_int_equal(sd_store_outbox_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(sd_store_events_count(fx->st, &n), SD_STORE_OK);
    assert_true(n > 0);
}


static void
test_resync(void **state)
{
    fx_t               *fx = *state;
    size_t              n, removed;
    int64_t             rev;
    sd_record_t         r;
    sd_store_remote_t   c;
    const char         *ids[1] = { "old@l.io" };
    size_t              lens[1] = { 8 };

    r = mkrec(D, NULL, "{}");

    /* published rows, then one write not published yet */
    assert_int_equal(apply1(fx, remote('r', 'p', "w", "gone.com", &r, 3), 3),
                     1);
    assert_int_equal(apply1(fx, remote('r', 'p', "w", "kept.com", &r, 4), 4),
                     1);
    assert_int_equal(apply1(fx, remote('l', 'p', "w", "old@l.io", &r, 5), 5),
                     1);

    sd_store_set_outbox(fx->st, 1);
    assert_int_equal(sd_store_claim(fx->st, "w", 1, "local.com", 9, &r),
                     SD_STORE_OK);

    assert_int_equal(sd_store_resync_begin(fx->st), SD_STORE_OK);

    c = remote('r', 'p', "w", "kept.com", &r, 4);
    c.resync = 1;
    assert_int_equal(apply1(fx, c, 0), 0);     /* had it: seen, skipped */

    assert_int_equal(sd_store_resync_end(fx->st, 20, &removed), SD_STORE_OK);
    assert_int_equal(removed, 2);               /* gone.com, old@l.io */

    assert_int_equal(row_exists(fx, "w", "gone.com", NULL), 0);
    assert_int_equal(row_exists(fx, "w", "kept.com", NULL), 1);
    assert_int_equal(row_exists(fx, "w", "local.com", NULL), 1);
    assert_int_equal(sd_store_legacy_get(fx->st, "w", 1, "old@l.io", 8,
                                         fx_alloc, NULL, &r),
                     SD_STORE_NOT_FOUND);
    assert_int_equal(sd_store_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(sd_store_applied_rev(fx->st, &rev), SD_STORE_OK);
    assert_int_equal(rev, 20);

    /* the removed rows' claims went with them; nothing was published */
    assert_int_equal(sd_store_claim(fx->st, "z", 1, "gone.com", 8, &r),
                     SD_STORE_OK);
    assert_int_equal(sd_store_legacy_replace(fx->st, "z", 1, 1, ids, lens, &r,
                                             NULL),
                     SD_STORE_OK);
    assert_int_equal(sd_store_outbox_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 3);
}


static void
test_claim_replaced(void **state)
{
    fx_t               *fx = *state;
    size_t              replaced;
    sd_record_t         r;
    sd_store_remote_t   c;

    r = mkrec(D, NULL, "{}");

    assert_int_equal(sd_store_claim(fx->st, "a", 1, "acme.com", 8, &r),
                     SD_STORE_OK);

    c = remote('r', 'p', "b", "acme.com", &r, 3);
    assert_int_equal(sd_store_apply_remote(fx->st, &c, 1, 3, &replaced),
                     SD_STORE_OK);
    assert_int_equal(c.applied, 1);
    assert_int_equal(c.replaced, 1);
    assert_int_equal(replaced, 1);

    /* etcd is the truth: the name is b's now */
    assert_int_equal(sd_store_claimed_by_other(fx->st, "a", 1, "acme.com", 8),
                     1);
    assert_int_equal(sd_store_claimed_by_other(fx->st, "b", 1, "acme.com", 8),
                     0);
    assert_int_equal(sd_store_claim(fx->st, "a", 1, "mail.acme.com", 13, &r),
                     SD_STORE_CONFLICT);

    /* a remote row of b's own name again: nothing replaced */
    c = remote('r', 'p', "b", "acme.com", &r, 4);
    assert_int_equal(sd_store_apply_remote(fx->st, &c, 1, 4, &replaced),
                     SD_STORE_OK);
    assert_int_equal(replaced, 0);

    /* a remote failed row lets go of its claim */
    r = mkrec(D | F, NULL, "{}");
    c = remote('r', 'p', "b", "acme.com", &r, 5);
    assert_int_equal(apply1(fx, c, 5), 1);
    assert_int_equal(sd_store_tree_held(fx->st, "a", 1, "acme.com", 8), 0);
}


static void
test_resolve_applied(void **state)
{
    fx_t           *fx = *state;
    sd_record_t     r, l;
    sd_resolve_t    res;

    r = mkrec(V, "Billing", "{}");
    l = mkrec(V, "Old Sender", "{}");

    assert_int_equal(apply1(fx, remote('r', 'p', "w", "bill@acme.com", &r, 2),
                            2),
                     1);
    assert_int_equal(apply1(fx, remote('l', 'p', "w", "ceo@old.io", &l, 3),
                            3),
                     1);

    assert_int_equal(sd_store_resolve(fx->st, "w", 1, "bill@acme.com", 13, 1,
                                      &res),
                     SD_STORE_OK);
    assert_int_equal(res.source, SD_RESOLVE_ADDRESS);
    assert_int_equal(res.sender_name_len, 7);
    assert_memory_equal(res.sender_name, "Billing", 7);

    assert_int_equal(sd_store_resolve(fx->st, "w", 1, "ceo@old.io", 10, 1,
                                      &res),
                     SD_STORE_OK);
    assert_int_equal(res.source, SD_RESOLVE_LEGACY);

    /* deleted remotely: resolves no more */
    assert_int_equal(apply1(fx, remote('l', 'd', "w", "ceo@old.io", NULL, 4),
                            4),
                     1);
    assert_int_equal(sd_store_resolve(fx->st, "w", 1, "ceo@old.io", 10, 1,
                                      &res),
                     SD_STORE_OK);
    assert_int_equal(res.source, SD_RESOLVE_NONE);
}


/* the entry next_fair gives after after_ws is ws's id; it is removed */
static const char *
assert_turn(fx_t *fx, const char *after_ws, const char *ws, const char *id)
{
    static char     last[64];
    sd_store_out_t  o;

    assert_int_equal(sd_store_outbox_next_fair(fx->st, after_ws,
                                               after_ws ? strlen(after_ws)
                                                        : 0,
                                               fx_alloc, NULL, &o),
                     SD_STORE_OK);
    assert_string_equal(o.ws, ws);
    assert_string_equal(o.id, id);
    assert_int_equal(sd_store_outbox_done(fx->st, o.seq), SD_STORE_OK);

    snprintf(last, sizeof(last), "%s", o.ws);
    free(o.ws);

    return last;
}


static void
add(fx_t *fx, const char *ws, const char *id)
{
    sd_record_t  r;

    r = mkrec(D, NULL, "{}");
    assert_int_equal(sd_store_claim(fx->st, ws, strlen(ws), id, strlen(id),
                                    &r),
                     SD_STORE_OK);
}


static void
patch(fx_t *fx, const char *ws, const char *id, const char *json)
{
    sd_record_t  r;

    r = mkrec(D, NULL, json);
    assert_int_equal(sd_store_update(fx->st, ws, strlen(ws), id, strlen(id),
                                     &r),
                     SD_STORE_OK);
}


static uint64_t
first_ws(fx_t *fx, const char *ws)
{
    uint64_t  seq;

    assert_int_equal(sd_store_outbox_first_ws(fx->st, ws, strlen(ws), &seq),
                     SD_STORE_OK);
    return seq;
}


static size_t
backlog(fx_t *fx, const char *ws, size_t max)
{
    size_t  n;

    assert_int_equal(sd_store_outbox_backlog(fx->st, ws, strlen(ws), max, &n),
                     SD_STORE_OK);
    return n;
}


/*
 * Three workspaces: A floods first (4 entries), then B (2) and C (1).
 * Turns go A, B, C, A, B, A, A (around, each FIFO); strict seq order
 * would publish all of A's before B's first.
 */
static void
test_fair_turns(void **state)
{
    fx_t        *fx = *state;
    size_t       n;
    const char  *w;

    add(fx, "wsA", "a1.io");                /* before the outbox: none */
    sd_store_set_outbox(fx->st, 1);

    patch(fx, "wsA", "a1.io", "{\"v\":1}");
    add(fx, "wsA", "a2.io");
    patch(fx, "wsA", "a1.io", "{\"v\":2}");
    add(fx, "wsA", "a3.io");
    add(fx, "wsB", "b1.io");
    patch(fx, "wsB", "b1.io", "{\"v\":1}");
    add(fx, "wsC", "c1.io");

    assert_int_equal(sd_store_outbox_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 7);

    /* the hold's question: each workspace's own oldest */
    assert_int_equal(first_ws(fx, "wsA"), 1);
    assert_int_equal(first_ws(fx, "wsB"), 5);
    assert_int_equal(first_ws(fx, "wsC"), 7);
    assert_int_equal(first_ws(fx, "ws"), 0);    /* a prefix of them all */
    assert_int_equal(first_ws(fx, "wsAB"), 0);
    assert_int_equal(backlog(fx, "wsA", 100), 4);
    assert_int_equal(backlog(fx, "wsA", 3), 3);
    assert_int_equal(backlog(fx, "wsB", 100), 2);
    assert_int_equal(backlog(fx, "wsD", 100), 0);

    w = assert_turn(fx, NULL, "wsA", "a1.io");
    w = assert_turn(fx, w, "wsB", "b1.io");

    /* B's answer no longer waits for A's three other entries */
    assert_int_equal(first_ws(fx, "wsB"), 6);
    assert_int_equal(first_ws(fx, "wsA"), 2);

    w = assert_turn(fx, w, "wsC", "c1.io");
    assert_int_equal(first_ws(fx, "wsC"), 0);
    w = assert_turn(fx, w, "wsA", "a2.io");        /* around */
    w = assert_turn(fx, w, "wsB", "b1.io");
    assert_int_equal(first_ws(fx, "wsB"), 0);
    w = assert_turn(fx, w, "wsA", "a1.io");        /* alone: FIFO */
    w = assert_turn(fx, w, "wsA", "a3.io");

    assert_int_equal(sd_store_outbox_next_fair(fx->st, w, strlen(w),
                                               fx_alloc, NULL, NULL),
                     SD_STORE_NOT_FOUND);
    assert_int_equal(first_ws(fx, "wsA"), 0);
    assert_int_equal(backlog(fx, "wsA", 100), 0);
    assert_int_equal(sd_store_outbox_count(fx->st, &n), SD_STORE_OK);
    assert_int_equal(n, 0);
}


/*
 * A name released by one workspace and then taken by another touches one
 * claim key in etcd: B's entry of x.io waits for A's older ones of it,
 * while B's other entries still take their turns.
 */
static void
test_fair_same_name(void **state)
{
    fx_t        *fx = *state;
    const char  *w;
    sd_record_t  r;
    const char  *ids[1] = { "x.io" };
    size_t       lens[1] = { 4 };

    sd_store_set_outbox(fx->st, 1);

    add(fx, "wsA", "p.io");                 /* 1 */
    add(fx, "wsB", "q.io");                 /* 2 */
    add(fx, "wsA", "x.io");                 /* 3 */
    assert_int_equal(sd_store_delete(fx->st, "wsA", 3, "x.io", 4),
                     SD_STORE_OK);          /* 4: the release */

    r = mkrec(0, "Old", "{}");              /* 5: B's legacy claim */
    assert_int_equal(sd_store_legacy_replace(fx->st, "wsB", 3, 1, ids, lens,
                                             &r, NULL),
                     SD_STORE_OK);

    w = assert_turn(fx, NULL, "wsA", "p.io");
    w = assert_turn(fx, w, "wsB", "q.io");
    w = assert_turn(fx, w, "wsA", "x.io");         /* the put */
    w = assert_turn(fx, w, "wsA", "x.io");         /* B waits: the delete */
    w = assert_turn(fx, w, "wsB", "x.io");
    assert_int_equal(sd_store_outbox_next_fair(fx->st, w, strlen(w),
                                               fx_alloc, NULL, NULL),
                     SD_STORE_NOT_FOUND);
}


/*
 * What a module before coutix leaves: the outbox without its index (del:
 * no index database at all; else an empty one, as when such a module
 * wrote beside this one)
 */
static void
drop_index(const char *path, int del)
{
    int       rc;
    pid_t     pid;
    MDB_env  *env;
    MDB_txn  *txn;
    MDB_dbi   dbi, meta;
    MDB_val   k;

    /* in a child: LMDB allows one environment per file and process */
    pid = fork();
    assert_true(pid >= 0);

    if (pid == 0) {
        rc = mdb_env_create(&env);
        rc = rc ? rc : mdb_env_set_maxdbs(env, 16);
        rc = rc ? rc : mdb_env_set_mapsize(env, 4 * 1024 * 1024);
        rc = rc ? rc : mdb_env_open(env, path, MDB_NOSUBDIR, 0600);
        rc = rc ? rc : mdb_txn_begin(env, NULL, 0, &txn);
        rc = rc ? rc : mdb_dbi_open(txn, "coutix", 0, &dbi);
        rc = rc ? rc : mdb_drop(txn, dbi, del);
        rc = rc ? rc : mdb_dbi_open(txn, "meta", 0, &meta);

        if (rc == 0) {
            k.mv_data = "outbox_ix";
            k.mv_size = 9;
            rc = mdb_del(txn, meta, &k, NULL);
        }

        rc = rc ? rc : mdb_txn_commit(txn);
        _exit(rc ? 1 : 0);
    }

    assert_int_equal(waitpid(pid, &rc, 0), pid);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
}


static void
test_fair_upgrade(void **state)
{
    fx_t        *fx = *state;
    char         err[256];
    const char  *w;

    sd_store_set_outbox(fx->st, 1);

    add(fx, "wsA", "a1.io");
    add(fx, "wsA", "a2.io");
    add(fx, "wsB", "b1.io");

    /* opened again: the index is made at open */
    sd_store_close(fx->st);
    drop_index(fx->path, 1);
    assert_int_equal(sd_store_open(fx->path, 4 * 1024 * 1024, &fx->st, err,
                                   sizeof(err)),
                     SD_STORE_OK);
    sd_store_set_outbox(fx->st, 1);

    assert_int_equal(first_ws(fx, "wsB"), 3);
    w = assert_turn(fx, NULL, "wsA", "a1.io");
    w = assert_turn(fx, w, "wsB", "b1.io");

    /*
     * An older module's worker (after a reload) writes while this one
     * has the store open: the next turn makes the index again.
     */
    add(fx, "wsB", "b2.io");
    drop_index(fx->path, 0);

    w = assert_turn(fx, w, "wsA", "a2.io");
    assert_int_equal(first_ws(fx, "wsB"), 4);
    w = assert_turn(fx, w, "wsB", "b2.io");
    assert_int_equal(sd_store_outbox_next_fair(fx->st, w, strlen(w),
                                               fx_alloc, NULL, NULL),
                     SD_STORE_NOT_FOUND);
}


/* the watch's check "is this key's own write unpublished" by name */
static void
test_fair_holds(void **state)
{
    fx_t         *fx = *state;
    sd_record_t   r, remote_rec;

    sd_store_set_outbox(fx->st, 1);
    add(fx, "wsA", "a1.io");
    add(fx, "wsB", "b1.io");

    r = mkrec(D, NULL, "{\"local\":1}");
    assert_int_equal(sd_store_update(fx->st, "wsB", 3, "b1.io", 5, &r),
                     SD_STORE_OK);

    /* B's row waits in the outbox: a remote change does not replace it */
    remote_rec = mkrec(D, NULL, "{\"remote\":1}");
    assert_int_equal(apply1(fx, remote('r', 'p', "wsB", "b1.io", &remote_rec,
                                       9), 9),
                     0);
    assert_int_equal(row_exists(fx, "wsB", "b1.io", "{\"local\":1}"), 1);

    /* A's, published, does */
    (void) assert_turn(fx, NULL, "wsA", "a1.io");
    assert_int_equal(apply1(fx, remote('r', 'p', "wsA", "a1.io", &remote_rec,
                                       10), 10),
                     1);
    assert_int_equal(row_exists(fx, "wsA", "a1.io", "{\"remote\":1}"), 1);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_outbox_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_redoable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outbox_overtaken, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_revision_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_no_outbox_no_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_applied, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fair_turns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fair_same_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fair_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fair_holds, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
