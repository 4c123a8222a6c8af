/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Unit tests: timestamps (src/core/sd_time.c).
 *
 * cc -std=gnu99 -Wall -Wextra -Werror -Isrc t/unit/test_time.c \
 *     src/core/sd_time.c -lcmocka \
 *     -o /tmp/test_time && valgrind --leak-check=full \
 *     --error-exitcode=1 /tmp/test_time
 *
 * (make -f Makefile.dev unit links every pure-core source; this test needs
 * only the one above.)
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "sd_time.h"


#define OK    0
#define BAD  -1


typedef struct {
    const char  *in;
    int          rc;
    int64_t      t;         /* when rc == OK */
} parse_case_t;


static const parse_case_t  parse_cases[] = {

    /* RFC 3339 in UTC */
    { "1970-01-01T00:00:00Z",                OK, 0 },
    { "2026-11-26T10:00:00Z",                OK, 1795687200 },
    { "2026-01-01T00:00:00Z",                OK, 1767225600 },
    { "2026-12-31T23:59:59Z",                OK, 1798761599 },
    { "1969-12-31T23:59:59Z",                OK, -1 },
    { "1900-03-01T00:00:00Z",                OK, -2203891200LL },
    { "2038-01-19T03:14:08Z",                OK, 2147483648LL },
    { "2100-01-01T00:00:00Z",                OK, 4102444800LL },
    { "2106-02-07T06:28:16Z",                OK, 4294967296LL },
    { "9999-12-31T23:59:59Z",                OK, 253402300799LL },

    /* lower-case separators (RFC 3339 5.6 NOTE) */
    { "2026-11-26t10:00:00z",                OK, 1795687200 },
    { "2026-11-26T10:00:00z",                OK, 1795687200 },
    { "2026-11-26t10:00:00Z",                OK, 1795687200 },

    /* fractions are accepted and dropped */
    { "2026-11-26T10:00:00.5Z",              OK, 1795687200 },
    { "2026-11-26T10:00:00.000Z",            OK, 1795687200 },
    { "2026-11-26T10:00:00.999999999Z",      OK, 1795687200 },
    { "2026-11-26T10:00:00.123456+02:00",    OK, 1795687200 - 7200 },

    /* numeric offsets: local time minus offset is UTC */
    { "2026-11-26T12:00:00+02:00",           OK, 1795687200 },
    { "2026-11-26T04:30:00-05:30",           OK, 1795687200 },
    { "2026-11-26T10:00:00+00:00",           OK, 1795687200 },
    { "2026-11-26T10:00:00-00:00",           OK, 1795687200 },
    { "2026-11-27T09:59:00+23:59",           OK, 1795687200 },
    { "2026-11-26T00:30:00-09:30",           OK, 1795687200 },
    { "2027-01-01T01:00:00+01:00",           OK, 1798761600 },   /* year */
    { "2026-12-31T23:00:00-01:00",           OK, 1798761600 },

    /* leap days */
    { "2024-02-29T00:00:00Z",                OK, 1709164800 },
    { "2000-02-29T12:34:56Z",                OK, 951827696 },

    /* epoch seconds */
    { "0",                                   OK, 0 },
    { "1",                                   OK, 1 },
    { "1700000000",                          OK, 1700000000 },
    { "2147483648",                          OK, 2147483648LL },
    { "000000000042",                        OK, 42 },
    { "999999999999",                        OK, 999999999999LL },

    /* impossible dates and times */
    { "2026-02-30T00:00:00Z",                BAD, 0 },
    { "2026-02-31T00:00:00Z",                BAD, 0 },
    { "2026-04-31T00:00:00Z",                BAD, 0 },
    { "2026-06-31T00:00:00Z",                BAD, 0 },
    { "2026-13-01T00:00:00Z",                BAD, 0 },
    { "2026-00-10T00:00:00Z",                BAD, 0 },
    { "2026-01-00T00:00:00Z",                BAD, 0 },
    { "2026-01-32T00:00:00Z",                BAD, 0 },
    { "2026-11-26T25:00:00Z",                BAD, 0 },
    { "2026-11-26T24:00:00Z",                BAD, 0 },
    { "2026-11-26T23:60:00Z",                BAD, 0 },
    { "2026-11-26T23:59:61Z",                BAD, 0 },
    { "2026-11-26T10:00:00+24:00",           BAD, 0 },
    { "2026-11-26T10:00:00+02:60",           BAD, 0 },

    /* wrong shapes */
    { "2026-11-26",                          BAD, 0 },
    { "2026-11-26T10:00:00",                 BAD, 0 },  /* no zone */
    { "2026-11-26T10:00Z",                   BAD, 0 },
    { "2026-11-26T10:00:00+0200",            BAD, 0 },
    { "2026-11-26T10:00:00+02",              BAD, 0 },
    { "2026-11-26T10:00:00+2:00",            BAD, 0 },
    { "2026-11-26T10:00:00ZZ",               BAD, 0 },
    { "2026-11-26T10:00:00Z ",               BAD, 0 },
    { " 2026-11-26T10:00:00Z",               BAD, 0 },
    { "2026-11-26T10:00:00.5",               BAD, 0 },
    { "2026-11-26T10:00:00.5x",              BAD, 0 },
    { "2026-11-26X10:00:00Z",                BAD, 0 },
    { "2026/11/26T10:00:00Z",                BAD, 0 },
    { "2026-11-26T10-00-00Z",                BAD, 0 },
    { "26-11-26T10:00:00Z",                  BAD, 0 },
    { "2026-1-26T10:00:00Z",                 BAD, 0 },
    { "2026-11-2aT10:00:00Z",                BAD, 0 },
    { "2026-11-26T10:00:00UTC",              BAD, 0 },
    { "Thu, 26 Nov 2026 10:00:00 GMT",       BAD, 0 },
    { "hello",                               BAD, 0 },
    { "Z",                                   BAD, 0 },
    { "-1",                                  BAD, 0 },
    { "+5",                                  BAD, 0 },
    { "12a",                                 BAD, 0 },
    { "1.5",                                 BAD, 0 },
    { "1e9",                                 BAD, 0 },
    { " 1",                                  BAD, 0 },
    { "1 ",                                  BAD, 0 },
    { "0x10",                                BAD, 0 },
    { "null",                                BAD, 0 },
    { "true",                                BAD, 0 },
};


static void
test_parse_table(void **state)
{
    size_t         i;
    int64_t        t;
    int            rc;
    parse_case_t  *c;

    (void) state;

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        c = (parse_case_t *) &parse_cases[i];
        t = 0x5a5a5a5a;

        rc = sd_time_parse(c->in, strlen(c->in), &t);

        if (rc != c->rc || (rc == OK && t != c->t)) {
            print_error("\"%s\": rc %d t %lld, expected rc %d t %lld\n",
                        c->in, rc, (long long) t, c->rc, (long long) c->t);
        }

        assert_int_equal(rc, c->rc);

        if (c->rc == OK) {
            assert_true(t == c->t);

        } else {
            /* a refused text leaves the output alone */
            assert_true(t == 0x5a5a5a5a);
        }
    }
}


/* February 29th only exists in leap years */

static void
test_parse_non_leap_feb29(void **state)
{
    int64_t  t;

    (void) state;

    assert_int_equal(sd_time_parse("2024-02-29T00:00:00Z", 20, &t), 0);
    assert_int_equal(sd_time_parse("2000-02-29T00:00:00Z", 20, &t), 0);

    /*
     * BUG: sd_time_parse() checks the day against a table with 29 days for
     * February in every year, so "2026-02-29" (and 2100-02-29, 1900-02-29)
     * is accepted and silently becomes March 1st.  Fix: for month 2 allow
     * day 29 only when (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)).
     */
    assert_int_equal(sd_time_parse("2026-02-29T00:00:00Z", 20, &t), -1);
    assert_int_equal(sd_time_parse("2025-02-29T12:00:00Z", 20, &t), -1);
    assert_int_equal(sd_time_parse("2100-02-29T00:00:00Z", 20, &t), -1);
    assert_int_equal(sd_time_parse("1900-02-29T00:00:00Z", 20, &t), -1);
}


/* RFC 3339: time-secfrac = "." 1*DIGIT */

static void
test_parse_empty_fraction(void **state)
{
    int64_t  t;

    (void) state;

    /*
     * BUG: a '.' with no digits after it is accepted
     * ("2026-11-26T10:00:00.Z" parses as 10:00:00Z).  RFC 3339 requires
     * at least one digit after the dot.  Fix: in sd_time_parse(), after
     * skipping the fraction digits, return -1 when none were seen
     * (i == 20).
     */
    assert_int_equal(sd_time_parse("2026-11-26T10:00:00.Z", 21, &t), -1);
    assert_int_equal(sd_time_parse("2026-11-26T10:00:00.+02:00", 26, &t),
                     -1);
}


static void
test_parse_lengths(void **state)
{
    int64_t  t;
    char     buf[2048];

    (void) state;

    /* empty */
    t = 7;
    assert_int_equal(sd_time_parse("", 0, &t), -1);
    assert_true(t == 7);

    /* the length counts, not a NUL: trailing bytes are not read */
    assert_int_equal(sd_time_parse("2026-11-26T10:00:00Zgarbage", 20, &t), 0);
    assert_true(t == 1795687200);

    assert_int_equal(sd_time_parse("17000000009999", 10, &t), 0);
    assert_true(t == 1700000000);

    /* a cut timestamp is not one */
    assert_int_equal(sd_time_parse("2026-11-26T10:00:00Z", 19, &t), -1);
    assert_int_equal(sd_time_parse("2026-11-26T10:00:00+02:00", 24, &t), -1);

    /* long but within reason: many fraction digits */
    assert_int_equal(sd_time_parse("2026-11-26T10:00:00.12345678901234Z",
                                   35, &t), 0);
    assert_true(t == 1795687200);

    /* too long: refused without reading past the length */
    memset(buf, '0', sizeof(buf));
    memcpy(buf, "2026-11-26T10:00:00.", 20);
    buf[sizeof(buf) - 1] = 'Z';
    assert_int_equal(sd_time_parse(buf, sizeof(buf), &t), -1);

    memset(buf, '1', sizeof(buf));
    assert_int_equal(sd_time_parse(buf, 64, &t), -1);
    assert_int_equal(sd_time_parse(buf, sizeof(buf), &t), -1);

    /* an epoch longer than 12 digits is not taken as seconds */
    assert_int_equal(sd_time_parse("1700000000000", 13, &t), -1);
}


/* the expected text, from the C library */

static void
expect_format(int64_t t, char *out)
{
    int        n;
    char       buf[96];
    time_t     tt = (time_t) t;
    struct tm  tm;

    assert_non_null(gmtime_r(&tt, &tm));

    n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
    assert_int_equal(n, SD_TIME_RFC3339_LEN);

    memcpy(out, buf, SD_TIME_RFC3339_LEN + 1);
}


static void
check_format(int64_t t, const char *expected)
{
    char     buf[SD_TIME_RFC3339_LEN + 8], want[SD_TIME_RFC3339_LEN + 1];
    int64_t  back;

    memset(buf, '#', sizeof(buf));
    sd_time_format(t, buf);

    /* exactly 20 characters, no NUL written */
    assert_memory_equal(buf + SD_TIME_RFC3339_LEN, "########", 8);

    if (expected == NULL) {
        expect_format(t, want);
        expected = want;
    }

    if (memcmp(buf, expected, SD_TIME_RFC3339_LEN) != 0) {
        print_error("t %lld: \"%.20s\", expected \"%s\"\n", (long long) t,
                    buf, expected);
    }

    assert_memory_equal(buf, expected, SD_TIME_RFC3339_LEN);

    /* and back */
    back = 0x5a5a;
    assert_int_equal(sd_time_parse(buf, SD_TIME_RFC3339_LEN, &back), 0);

    if (back != t) {
        print_error("round trip %lld -> \"%.20s\" -> %lld\n", (long long) t,
                    buf, (long long) back);
    }

    assert_true(back == t);
}


static void
test_format_examples(void **state)
{
    (void) state;

    check_format(0, "1970-01-01T00:00:00Z");
    check_format(1, "1970-01-01T00:00:01Z");
    check_format(59, "1970-01-01T00:00:59Z");
    check_format(86399, "1970-01-01T23:59:59Z");
    check_format(86400, "1970-01-02T00:00:00Z");
    check_format(-1, "1969-12-31T23:59:59Z");
    check_format(-86400, "1969-12-31T00:00:00Z");
    check_format(-86401, "1969-12-30T23:59:59Z");
    check_format(-2203891200LL, "1900-03-01T00:00:00Z");
    check_format(951782400, "2000-02-29T00:00:00Z");
    check_format(951827696, "2000-02-29T12:34:56Z");
    check_format(951868800, "2000-03-01T00:00:00Z");
    check_format(1709164800, "2024-02-29T00:00:00Z");
    check_format(1709251200, "2024-03-01T00:00:00Z");
    check_format(1795687200, "2026-11-26T10:00:00Z");
    check_format(1798761599, "2026-12-31T23:59:59Z");
    check_format(2147483647, "2038-01-19T03:14:07Z");
    check_format(2147483648LL, "2038-01-19T03:14:08Z");
    check_format(4102444800LL, "2100-01-01T00:00:00Z");
    check_format(4107542400LL, "2100-03-01T00:00:00Z");   /* no Feb 29 */
    check_format(4294967296LL, "2106-02-07T06:28:16Z");
    check_format(253402300799LL, "9999-12-31T23:59:59Z");
}


/* compared with gmtime_r over the whole four-digit-year range */

static void
test_format_against_libc(void **state)
{
    int       i;
    int64_t   t;
    uint64_t  x;

    const int64_t  lo = -62135596800LL;     /* 0001-01-01T00:00:00Z */
    const int64_t  hi = 253402300799LL;     /* 9999-12-31T23:59:59Z */

    (void) state;

    /* every day boundary (and its neighbours) from 1965 to 2110 */
    for (t = -157766400LL; t < 4418064000LL; t += 86400) {
        check_format(t, NULL);
        check_format(t - 1, NULL);
        check_format(t + 43199, NULL);
    }

    /* pseudo-random instants anywhere in years 0001..9999 */
    x = 0x243F6A8885A308D3ULL;

    for (i = 0; i < 200000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        t = lo + (int64_t) ((x >> 11) % (uint64_t) (hi - lo + 1));
        check_format(t, NULL);
    }

    check_format(lo, "0001-01-01T00:00:00Z");
    check_format(hi, NULL);
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_non_leap_feb29),
        cmocka_unit_test(test_parse_empty_fraction),
        cmocka_unit_test(test_parse_lengths),
        cmocka_unit_test(test_format_examples),
        cmocka_unit_test(test_format_against_libc),
    };

    (void) argc;
    (void) argv;

    return cmocka_run_group_tests(tests, NULL, NULL);
}
