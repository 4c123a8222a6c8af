/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: the Prometheus text writer (src/core/sd_prom.c)
 * and the store's tally of identities by kind and state, which keeps the
 * metrics' gauges current (src/core/sd_store.c).
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

#include "sd_prom.h"
#include "sd_store.h"


/* ---- the writer ---------------------------------------------------------- */


static void
test_family_and_samples(void **state)
{
    char               buf[1024];
    sd_prom_t          w;
    const char *const  l[] = { "op", "CreateEmailIdentity", "outcome", "ok",
                               NULL };

    (void) state;

    sd_prom_init(&w, buf, sizeof(buf));
    sd_prom_family(&w, "sd_calls_total", "counter", "Calls.");
    sd_prom_int(&w, "sd_calls_total", l, 3);
    sd_prom_int(&w, "sd_plain", NULL, -2);
    sd_prom_double(&w, "sd_tokens", NULL, 0.1);
    sd_prom_double(&w, "sd_big", NULL, 1.0 / 3);

    assert_false(w.overflow);
    buf[sd_prom_len(&w)] = '\0';

    assert_string_equal(buf,
        "# HELP sd_calls_total Calls.\n"
        "# TYPE sd_calls_total counter\n"
        "sd_calls_total{op=\"CreateEmailIdentity\",outcome=\"ok\"} 3\n"
        "sd_plain -2\n"
        "sd_tokens 0.1\n"
        "sd_big 0.33333333333333331\n");
}


static void
test_escaping(void **state)
{
    char               buf[256];
    sd_prom_t          w;
    const char *const  l[] = { "ws", "a\"b\\c\nd", NULL };

    (void) state;

    sd_prom_init(&w, buf, sizeof(buf));
    sd_prom_family(&w, "m", "gauge", "back\\slash \"quoted\"\nnext");
    sd_prom_int(&w, "m", l, 1);
    buf[sd_prom_len(&w)] = '\0';

    /* HELP escapes \ and LF only; label values also " */
    assert_string_equal(buf,
        "# HELP m back\\\\slash \"quoted\"\\nnext\n"
        "# TYPE m gauge\n"
        "m{ws=\"a\\\"b\\\\c\\nd\"} 1\n");
}


static void
test_histogram(void **state)
{
    char               buf[512];
    sd_prom_t          w;
    const char *const  bounds[] = { "0.1", "1" };
    const uint64_t     counts[] = { 2, 0, 1 };

    (void) state;

    sd_prom_init(&w, buf, sizeof(buf));
    sd_prom_histogram(&w, "lat_seconds", NULL, bounds, counts, 2, 5.25);
    buf[sd_prom_len(&w)] = '\0';

    /* cumulative buckets, +Inf equal to _count */
    assert_string_equal(buf,
        "lat_seconds_bucket{le=\"0.1\"} 2\n"
        "lat_seconds_bucket{le=\"1\"} 2\n"
        "lat_seconds_bucket{le=\"+Inf\"} 3\n"
        "lat_seconds_sum 5.25\n"
        "lat_seconds_count 3\n");
}


static void
test_overflow(void **state)
{
    char       buf[16];
    sd_prom_t  w;

    (void) state;

    memset(buf, 'x', sizeof(buf));
    sd_prom_init(&w, buf, 10);
    sd_prom_int(&w, "a_long_metric_name", NULL, 1);

    assert_true(w.overflow);
    assert_true(sd_prom_len(&w) <= 10);
    assert_int_equal(buf[10], 'x');          /* nothing past the end */
}


/* ---- the tally ------------------------------------------------------------ */


typedef struct {
    char               dir[64];
    char               path[128];
    char               lock[160];
    sd_store_t        *st;
    sd_store_tally_t   sum;        /* what the deltas added up to */
    int                calls;
} fx_t;


static void
fx_tally(void *ctx, const sd_store_tally_t *t)
{
    fx_t    *fx = ctx;
    size_t   k, s;

    for (k = 0; k < SD_TALLY_KINDS; k++) {
        for (s = 0; s < SD_TALLY_STATES; s++) {
            fx->sum.n[k][s] += t->n[k][s];
        }
    }

    fx->sum.lost += t->lost;
    fx->calls++;
}


static void
fx_set(void *ctx, const sd_store_tally_t *t)
{
    memcpy(ctx, t, sizeof(sd_store_tally_t));
}


static int
setup(void **state)
{
    char   err[256];
    fx_t  *fx;

    fx = calloc(1, sizeof(fx_t));
    if (fx == NULL) {
        return -1;
    }

    strcpy(fx->dir, "/tmp/sd-prom-test-XXXXXX");

    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }

    snprintf(fx->path, sizeof(fx->path), "%s/sd.mdb", fx->dir);
    snprintf(fx->lock, sizeof(fx->lock), "%s-lock", fx->path);

    if (sd_store_open(fx->path, 1024 * 1024, &fx->st, err, sizeof(err))
        != SD_STORE_OK)
    {
        print_error("sd_store_open: %s\n", err);
        return -1;
    }

    sd_store_set_tally(fx->st, fx_tally, fx);

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
rec(unsigned flags)
{
    sd_record_t  r;

    memset(&r, 0, sizeof(r));
    r.flags = flags;
    r.next_check = 0;
    r.json = "{}";
    r.json_len = 2;

    return r;
}


/* the deltas told so far equal a full count */
static void
assert_sum_is_count(fx_t *fx)
{
    size_t            k, s;
    sd_store_tally_t  t;

    memset(&t, 0xff, sizeof(t));
    assert_int_equal(sd_store_tally_count(fx->st, fx_set, &t), SD_STORE_OK);

    for (k = 0; k < SD_TALLY_KINDS; k++) {
        for (s = 0; s < SD_TALLY_STATES; s++) {
            assert_int_equal(fx->sum.n[k][s], t.n[k][s]);
        }
    }
}


static int
to_verified(void *ctx, const sd_record_t *cur, sd_record_t *out)
{
    (void) ctx;

    *out = *cur;
    out->flags |= SD_REC_VERIFIED;
    return 0;
}


static int
to_unverified(void *ctx, const sd_record_t *cur, sd_record_t *out)
{
    (void) ctx;

    *out = *cur;
    out->flags &= ~SD_REC_VERIFIED;
    return 0;
}


static int
leave(void *ctx, const sd_record_t *cur, sd_record_t *out)
{
    (void) ctx;
    (void) cur;
    (void) out;

    return 1;
}


static void
test_tally_follows_writes(void **state)
{
    fx_t         *fx = *state;
    sd_record_t   d, e, l[2];
    const char   *ids[2] = { "a@x.com", "b@x.com" };
    size_t        lens[2] = { 7, 7 };

    d = rec(SD_REC_DOMAIN);
    e = rec(0);
    l[0] = rec(SD_REC_VERIFIED);
    l[1] = rec(SD_REC_VERIFIED);

    assert_int_equal(sd_store_claim(fx->st, "w", 1, "acme.com", 8, &d),
                     SD_STORE_OK);
    assert_int_equal(sd_store_claim(fx->st, "w", 1, "jo@b.com", 8, &e),
                     SD_STORE_OK);
    assert_int_equal(fx->sum.n[SD_TALLY_DOMAIN][SD_TALLY_PENDING], 1);
    assert_int_equal(fx->sum.n[SD_TALLY_EMAIL][SD_TALLY_PENDING], 1);

    /* a refused claim tells nothing */
    assert_int_equal(sd_store_claim(fx->st, "w", 1, "acme.com", 8, &d),
                     SD_STORE_EXISTS);
    assert_int_equal(fx->sum.n[SD_TALLY_DOMAIN][SD_TALLY_PENDING], 1);

    /* pending -> verified: one moves, nothing lost */
    assert_int_equal(sd_store_modify(fx->st, "w", 1, "acme.com", 8,
                                     to_verified, NULL, NULL), SD_STORE_OK);
    assert_int_equal(fx->sum.n[SD_TALLY_DOMAIN][SD_TALLY_PENDING], 0);
    assert_int_equal(fx->sum.n[SD_TALLY_DOMAIN][SD_TALLY_VERIFIED], 1);
    assert_int_equal(fx->sum.lost, 0);

    /* a modify that leaves the row alone */
    assert_int_equal(sd_store_modify(fx->st, "w", 1, "acme.com", 8,
                                     leave, NULL, NULL), SD_STORE_OK);
    assert_int_equal(fx->sum.n[SD_TALLY_DOMAIN][SD_TALLY_VERIFIED], 1);

    /* verified -> not: counted as lost */
    assert_int_equal(sd_store_modify(fx->st, "w", 1, "acme.com", 8,
                                     to_unverified, NULL, NULL),
                     SD_STORE_OK);
    assert_int_equal(fx->sum.n[SD_TALLY_DOMAIN][SD_TALLY_PENDING], 1);
    assert_int_equal(fx->sum.lost, 1);

    /* failed */
    d = rec(SD_REC_DOMAIN | SD_REC_FAILED);
    assert_int_equal(sd_store_update(fx->st, "w", 1, "acme.com", 8, &d),
                     SD_STORE_OK);
    assert_int_equal(fx->sum.n[SD_TALLY_DOMAIN][SD_TALLY_FAILED], 1);
    assert_int_equal(fx->sum.n[SD_TALLY_DOMAIN][SD_TALLY_PENDING], 0);

    /* the legacy list replaced twice: counts, not adds */
    assert_int_equal(sd_store_legacy_replace(fx->st, "w", 1, 2, ids, lens, l, NULL),
                     SD_STORE_OK);
    assert_int_equal(sd_store_legacy_replace(fx->st, "w", 1, 1, ids, lens, l, NULL),
                     SD_STORE_OK);
    assert_int_equal(fx->sum.n[SD_TALLY_LEGACY][SD_TALLY_VERIFIED], 1);

    assert_sum_is_count(fx);

    /* deletes */
    assert_int_equal(sd_store_delete(fx->st, "w", 1, "acme.com", 8),
                     SD_STORE_OK);
    assert_int_equal(sd_store_delete(fx->st, "w", 1, "nope.com", 8),
                     SD_STORE_NOT_FOUND);
    assert_int_equal(fx->sum.n[SD_TALLY_DOMAIN][SD_TALLY_FAILED], 0);

    assert_sum_is_count(fx);
}


/* a commit that fails (the map full) takes its delta back */
static void
test_tally_failed_write(void **state)
{
    fx_t         *fx = *state;
    char          id[32], *big;
    int           i;
    sd_store_rc_e rc;
    sd_record_t   r;

    big = malloc(100000);
    assert_non_null(big);
    memset(big, 'x', 100000);

    r = rec(SD_REC_DOMAIN);
    r.json = big;
    r.json_len = 100000;

    rc = SD_STORE_OK;

    for (i = 0; i < 100 && rc == SD_STORE_OK; i++) {
        snprintf(id, sizeof(id), "d%d.com", i);
        rc = sd_store_claim(fx->st, "w", 1, id, strlen(id), &r);
    }

    free(big);

    assert_int_equal(rc, SD_STORE_FULL);
    assert_int_equal(fx->sum.n[SD_TALLY_DOMAIN][SD_TALLY_PENDING], i - 1);
    assert_sum_is_count(fx);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_and_samples),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test_setup_teardown(test_tally_follows_writes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tally_failed_write, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
