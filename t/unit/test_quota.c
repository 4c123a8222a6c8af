/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: per-workspace limits in the store (sd_store_claim_max,
 * sd_store_count_ws) and the per-identity cooldowns
 * (src/core/sd_quota.c).
 *
 * (make -f Makefile.dev unit links every pure-core source.)
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

#include "sd_store.h"
#include "sd_quota.h"


#define NOW       1795687200        /* 2026-11-26T10:00:00Z */


typedef struct {
    char          dir[64];
    char          path[128];
    char          lock[160];
    sd_store_t   *st;
} fx_t;


static int
setup(void **state)
{
    char   err[256];
    fx_t  *fx;

    fx = calloc(1, sizeof(fx_t));
    if (fx == NULL) {
        return -1;
    }

    strcpy(fx->dir, "/tmp/sd-quota-test-XXXXXX");

    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }

    snprintf(fx->path, sizeof(fx->path), "%s/s.mdb", fx->dir);
    snprintf(fx->lock, sizeof(fx->lock), "%s-lock", fx->path);

    if (sd_store_open(fx->path, 4 << 20, &fx->st, err, sizeof(err))
        != SD_STORE_OK)
    {
        print_error("sd_store_open: %s\n", err);
        return -1;
    }

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


static sd_store_rc_e
claim(fx_t *fx, const char *ws, const char *id, size_t max)
{
    sd_record_t  rec;

    memset(&rec, 0, sizeof(rec));
    rec.sender_name = "";
    rec.json = "{}";
    rec.json_len = 2;

    return sd_store_claim_max(fx->st, ws, strlen(ws), id, strlen(id), &rec,
                              max);
}


static void
test_claim_max(void **state)
{
    fx_t    *fx = *state;
    size_t   n;

    assert_int_equal(claim(fx, "ws", "a@x.example", 2), SD_STORE_OK);
    assert_int_equal(claim(fx, "ws", "b@x.example", 2), SD_STORE_OK);

    /* the third is refused, nothing written */
    assert_int_equal(claim(fx, "ws", "c@x.example", 2), SD_STORE_LIMIT);
    assert_int_equal(sd_store_count_ws(fx->st, "ws", 2, 0, &n), SD_STORE_OK);
    assert_int_equal(n, 2);

    /* its claim was not taken: another workspace may have it */
    assert_int_equal(claim(fx, "other", "c@x.example", 2), SD_STORE_OK);

    /* a row it holds already is not a new one */
    assert_int_equal(claim(fx, "ws", "a@x.example", 2), SD_STORE_EXISTS);

    /* a workspace whose name is a prefix counts apart ("w" vs "ws") */
    assert_int_equal(claim(fx, "w", "d@x.example", 1), SD_STORE_OK);
    assert_int_equal(claim(fx, "w", "e@x.example", 1), SD_STORE_LIMIT);

    /* 0 is no limit */
    assert_int_equal(claim(fx, "ws", "f@x.example", 0), SD_STORE_OK);

    /* a removal frees a place */
    assert_int_equal(sd_store_delete(fx->st, "ws", 2, "a@x.example", 11),
                     SD_STORE_OK);
    assert_int_equal(claim(fx, "ws", "g@x.example", 3), SD_STORE_OK);
    assert_int_equal(claim(fx, "ws", "h@x.example", 3), SD_STORE_LIMIT);

    /* the count stops at "max" */
    assert_int_equal(sd_store_count_ws(fx->st, "ws", 2, 2, &n), SD_STORE_OK);
    assert_int_equal(n, 2);
}


static void
test_refresh_cooldown(void **state)
{
    json_t  *row;

    (void) state;

    row = json_pack("{s:s}", "identity", "acme.com");

    assert_int_equal(sd_quota_refresh_wait(row, NOW, 10), 0);

    sd_quota_refresh_note(row, NOW);
    assert_int_equal(sd_quota_refresh_wait(row, NOW, 10), 10);
    assert_int_equal(sd_quota_refresh_wait(row, NOW + 9, 10), 1);
    assert_int_equal(sd_quota_refresh_wait(row, NOW + 10, 10), 0);

    /* a clock stepped far back does not block for long */
    assert_int_equal(sd_quota_refresh_wait(row, NOW - 3600, 10), 0);

    /* cooldown 0: off */
    assert_int_equal(sd_quota_refresh_wait(row, NOW, 0), 0);

    json_decref(row);
}


static void
test_resend_cooldown(void **state)
{
    int      daily, i;
    json_t  *row, *copy;

    (void) state;

    /* the add sent the first email */
    row = json_pack("{s:s,s:s}", "identity", "a@acme.com",
                    "verification_email_sent_at", "2026-11-26T10:00:00Z");

    assert_int_equal(sd_quota_resend_wait(row, NOW + 5, 60, 5, &daily), 55);
    assert_int_equal(daily, 0);
    assert_int_equal(sd_quota_resend_wait(row, NOW + 60, 60, 5, &daily), 0);

    /* five resends a minute apart */
    for (i = 1; i <= 5; i++) {
        assert_int_equal(sd_quota_resend_wait(row, NOW + 60 * i, 60, 5,
                                              &daily), 0);
        sd_quota_resend_note(row, NOW + 60 * i);
        assert_int_equal(sd_quota_resend_wait(row, NOW + 60 * i + 1, 60, 5,
                                              &daily),
                         i < 5 ? 59 : 60 + 86400 - 301);
        assert_int_equal(daily, i == 5);
    }

    /* the sixth within 24 h waits for the first to age out */
    assert_int_equal(sd_quota_resend_wait(row, NOW + 3600, 60, 5, &daily),
                     60 + 86400 - 3600);
    assert_int_equal(daily, 1);

    assert_int_equal(sd_quota_resend_wait(row, NOW + 60 + 86400, 60, 5,
                                          &daily), 0);

    /* no daily limit, no cooldown */
    assert_int_equal(sd_quota_resend_wait(row, NOW + 3600, 60, 0, &daily),
                     0);
    assert_int_equal(sd_quota_resend_wait(row, NOW + 301, 0, 5, &daily),
                     60 + 86400 - 301);
    assert_int_equal(sd_quota_resend_wait(row, NOW + 301, 0, 0, &daily), 0);

    /* a note drops what is older than 24 h: the list stays short */
    sd_quota_resend_note(row, NOW + 60 + 86400);
    assert_int_equal(json_array_size(json_object_get(
        json_object_get(row, SD_QUOTA_KEY), "resends")), 5);

    /* keep: the stored row's limits win over a stale copy */
    copy = json_pack("{s:s}", "identity", "a@acme.com");
    sd_quota_keep(copy, row);
    assert_int_equal(sd_quota_resend_wait(copy, NOW + 61 + 86400, 60, 5,
                                          &daily),
                     59);

    json_decref(copy);
    json_decref(row);
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_claim_max, setup, teardown),
        cmocka_unit_test(test_refresh_cooldown),
        cmocka_unit_test(test_resend_cooldown),
    };

    (void) argc;
    (void) argv;

    return cmocka_run_group_tests(tests, NULL, NULL);
}
