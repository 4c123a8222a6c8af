/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Unit tests: polling schedule (src/core/sd_backoff.c).
 *
 * cc -std=gnu99 -Wall -Wextra -Werror -Isrc t/unit/test_backoff.c \
 *     src/core/sd_backoff.c -lcmocka \
 *     -o /tmp/test_backoff && valgrind --leak-check=full \
 *     --error-exitcode=1 /tmp/test_backoff
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sd_backoff.h"


#define SEEDS  2000


/* every seed stays within +/-10 % of nominal and never passes max */
static void
check_range(uint32_t base, uint32_t attempt, uint32_t max, uint64_t nominal)
{
    int       i, below, above;
    uint32_t  v;
    uint64_t  lo, hi, sum;

    lo = nominal - nominal / 10;
    hi = nominal + nominal / 10;
    if (hi > (max ? max : SD_BACKOFF_DEFAULT_MAX)) {
        hi = max ? max : SD_BACKOFF_DEFAULT_MAX;
    }

    below = 0;
    above = 0;
    sum = 0;

    for (i = 0; i < SEEDS; i++) {
        v = sd_backoff_next(base, attempt, max, sd_backoff_seed((char *) &i,
                                                                sizeof(i)));
        if (v < lo || v > hi) {
            print_error("base %u attempt %u max %u: %u not in [%llu, %llu]\n",
                        base, attempt, max, v, (unsigned long long) lo,
                        (unsigned long long) hi);
        }

        assert_true(v >= lo && v <= hi);

        below += (v < nominal);
        above += (v > nominal);
        sum += v;
    }

    /* spread on both sides while below the cap, below it at the cap */
    assert_true(below > SEEDS / 4);

    if (hi > nominal) {
        assert_true(above > SEEDS / 4);
        assert_true(sum / SEEDS >= nominal - nominal / 50
                    && sum / SEEDS <= nominal + nominal / 50);
    }
}


static void
test_doubling_and_cap(void **state)
{
    (void) state;

    check_range(0, 0, 0, 60);
    check_range(60, 0, 3600, 60);
    check_range(60, 1, 3600, 120);
    check_range(60, 2, 3600, 240);
    check_range(60, 3, 3600, 480);
    check_range(60, 5, 3600, 1920);
    check_range(60, 6, 3600, 3600);
    check_range(60, 7, 3600, 3600);
    check_range(60, 1000, 3600, 3600);
    check_range(60, UINT32_MAX, 3600, 3600);

    /* a base above the cap is the cap; a cap that is not a power step */
    check_range(7200, 0, 3600, 3600);
    check_range(100, 4, 1000, 1000);
    check_range(100, 3, 1000, 800);

    /* no overflow at the top of the range */
    check_range(UINT32_MAX, 3, UINT32_MAX, UINT32_MAX);
    check_range(1u << 31, 1, UINT32_MAX, UINT32_MAX);
}


static void
test_deterministic(void **state)
{
    int       i, distinct;
    uint32_t  a, b, prev;

    (void) state;

    for (i = 0; i < 100; i++) {
        a = sd_backoff_next(60, (uint32_t) i % 8, 3600, 12345 + i);
        b = sd_backoff_next(60, (uint32_t) i % 8, 3600, 12345 + i);
        assert_int_equal(a, b);
    }

    /* different seeds spread; the same seed varies across attempts */
    distinct = 0;
    prev = 0;

    for (i = 0; i < 100; i++) {
        a = sd_backoff_next(0, 0, 0, sd_backoff_seed((char *) &i,
                                                     sizeof(i)));
        distinct += (a != prev);
        prev = a;
    }

    assert_true(distinct > 50);

    distinct = 0;
    prev = 0;

    for (i = 6; i < 26; i++) {
        a = sd_backoff_next(60, (uint32_t) i, 3600, 42);
        distinct += (a != prev);
        prev = a;
    }

    assert_true(distinct > 10);
}


static void
test_small_values(void **state)
{
    uint64_t  seed;

    (void) state;

    /* under 10 s there is no whole second of jitter to give */
    for (seed = 0; seed < 50; seed++) {
        assert_int_equal(sd_backoff_next(1, 0, 3600, seed), 1);
        assert_int_equal(sd_backoff_next(5, 0, 3600, seed), 5);
        assert_true(sd_backoff_next(5, 1, 3600, seed) >= 9
                    && sd_backoff_next(5, 1, 3600, seed) <= 11);
        assert_int_equal(sd_backoff_next(60, 10, 1, seed), 1);
    }
}


static void
test_verified_and_seed(void **state)
{
    (void) state;

    assert_int_equal(sd_backoff_verified_interval(), 86400);

    /* FNV-1a 64 reference values */
    assert_true(sd_backoff_seed("", 0) == 0xcbf29ce484222325ULL);
    assert_true(sd_backoff_seed("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(sd_backoff_seed("foobar", 6) == 0x85944171f73967e8ULL);

    /* the length is what counts, not a NUL */
    assert_true(sd_backoff_seed("acme.comXYZ", 8)
                == sd_backoff_seed("acme.com", 8));
    assert_true(sd_backoff_seed("acme.com", 8)
                != sd_backoff_seed("acme.org", 8));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_doubling_and_cap),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_small_values),
        cmocka_unit_test(test_verified_and_seed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
