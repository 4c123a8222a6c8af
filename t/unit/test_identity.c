/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Unit tests: sd_identity.c
 *
 * cc -std=gnu99 -Wall -Wextra -Werror -Isrc t/unit/test_identity.c \
 *     src/core/sd_identity.c -lcmocka -o /tmp/test_identity
 * valgrind --leak-check=full --error-exitcode=1 /tmp/test_identity
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sd_identity.h"


/* a literal with its length, embedded NULs included */
#define S(lit)  lit, sizeof(lit) - 1


typedef struct {
    const char  *in;
    size_t       len;
    int          err;       /* SD_OK or the expected error */
    const char  *out;       /* expected result when err == SD_OK */
} case_t;


typedef ssize_t (*norm_pt)(const char *in, size_t len, char *out,
    size_t outsz, const char **errmsg);


static char *
repeat(char *buf, const char *unit, size_t n)
{
    size_t  i;

    buf[0] = '\0';

    for (i = 0; i < n; i++) {
        strcat(buf, unit);
    }

    return buf;
}


static void
check_case(norm_pt fn, const case_t *c, size_t i)
{
    char         out[1024];
    ssize_t      rc;
    const char  *msg;

    msg = NULL;
    memset(out, 0x5a, sizeof(out));

    rc = fn(c->in, c->len, out, sizeof(out), &msg);

    if (rc != (c->err == SD_OK ? (ssize_t) strlen(c->out) : c->err)) {
        print_error("case %zu \"%.*s\": got %zd (%s), want %d\n", i,
                    (int) c->len, c->in, rc, rc < 0 ? msg : out, c->err);
    }

    if (c->err == SD_OK) {
        assert_true(rc >= 0);
        assert_int_equal(rc, strlen(c->out));
        assert_string_equal(out, c->out);

        /* normalisation is idempotent */
        memset(out + 512, 0, 512);
        rc = fn(out, rc, out + 512, 512, &msg);
        assert_int_equal(rc, strlen(c->out));
        assert_string_equal(out + 512, c->out);

    } else {
        assert_int_equal(rc, c->err);
        assert_non_null(msg);
        assert_string_equal(msg, sd_strerror(c->err));
        assert_true(strlen(msg) > 10);
        assert_true(msg[strlen(msg) - 1] == '.');
    }
}


/* domains */

static const case_t domain_cases[] = {
    /* good */
    { S("acme.com"), SD_OK, "acme.com" },
    { S("ACME.COM"), SD_OK, "acme.com" },
    { S("Acme.Com."), SD_OK, "acme.com" },
    { S("  acme.com  "), SD_OK, "acme.com" },
    { S("  acme.com "), SD_OK, "acme.com" },
    /* only spaces are trimmed: a tab or a line end is refused */
    { S("\tacme.com"), SD_ERR_DOMAIN_WHITESPACE, NULL },
    { S("acme.com\r\n"), SD_ERR_DOMAIN_WHITESPACE, NULL },
    { S("mail.acme.com"), SD_OK, "mail.acme.com" },
    { S("a.b.c.d.acme.co.uk"), SD_OK, "a.b.c.d.acme.co.uk" },
    { S("xn--caf-dma.com"), SD_OK, "xn--caf-dma.com" },
    { S("XN--BCHER-KVA.example"), SD_OK, "xn--bcher-kva.example" },
    { S("acme.xn--p1ai"), SD_OK, "acme.xn--p1ai" },
    { S("123.com"), SD_OK, "123.com" },
    { S("3com.com"), SD_OK, "3com.com" },
    { S("a-b.com"), SD_OK, "a-b.com" },
    { S("a--b.com"), SD_OK, "a--b.com" },
    { S("x.y"), SD_OK, "x.y" },
    { S("a.co"), SD_OK, "a.co" },
    { S("acme.com1"), SD_OK, "acme.com1" },
    { S("1.2.3.com"), SD_OK, "1.2.3.com" },
    { S("www.acme.com"), SD_OK, "www.acme.com" },
    { "acme.comXYZ", 8, SD_OK, "acme.com" },   /* not NUL-terminated */

    /* bad */
    { S(""), SD_ERR_DOMAIN_EMPTY, NULL },
    { S("   "), SD_ERR_DOMAIN_EMPTY, NULL },
    { S("acme"), SD_ERR_DOMAIN_ONE_LABEL, NULL },
    { S("acme."), SD_ERR_DOMAIN_ONE_LABEL, NULL },
    { S("."), SD_ERR_DOMAIN_EMPTY_LABEL, NULL },
    { S(".acme.com"), SD_ERR_DOMAIN_EMPTY_LABEL, NULL },
    { S("acme..com"), SD_ERR_DOMAIN_EMPTY_LABEL, NULL },
    { S("acme.com.."), SD_ERR_DOMAIN_EMPTY_LABEL, NULL },
    { S("-acme.com"), SD_ERR_DOMAIN_HYPHEN, NULL },
    { S("acme-.com"), SD_ERR_DOMAIN_HYPHEN, NULL },
    { S("acme.-com"), SD_ERR_DOMAIN_HYPHEN, NULL },
    { S("xn--.com"), SD_ERR_DOMAIN_HYPHEN, NULL },
    { S("acme_mail.com"), SD_ERR_DOMAIN_CHAR, NULL },
    { S("acme!.com"), SD_ERR_DOMAIN_CHAR, NULL },
    { S("acme.c%6fm"), SD_ERR_DOMAIN_CHAR, NULL },
    { S("acme.com\0evil.com"), SD_ERR_DOMAIN_CHAR, NULL },
    { S("acme com"), SD_ERR_DOMAIN_WHITESPACE, NULL },
    { S("acme.com\tx.com"), SD_ERR_DOMAIN_WHITESPACE, NULL },
    { S("acme.com\r\nX-Evil: 1"), SD_ERR_DOMAIN_WHITESPACE, NULL },
    { S("reports@acme.com"), SD_ERR_DOMAIN_IS_EMAIL, NULL },
    { S("@acme.com"), SD_ERR_DOMAIN_IS_EMAIL, NULL },
    { S("mailto:reports@acme.com"), SD_ERR_DOMAIN_IS_EMAIL, NULL },
    { S("https://acme.com/"), SD_ERR_DOMAIN_IS_URL, NULL },
    { S("http://acme.com"), SD_ERR_DOMAIN_IS_URL, NULL },
    { S("https://user@acme.com/"), SD_ERR_DOMAIN_IS_URL, NULL },
    { S("acme.com/path"), SD_ERR_DOMAIN_IS_URL, NULL },
    { S("acme.com:8080"), SD_ERR_DOMAIN_IS_URL, NULL },
    { S("acme.com?x=1"), SD_ERR_DOMAIN_IS_URL, NULL },
    { S("acme.com#top"), SD_ERR_DOMAIN_IS_URL, NULL },
    { S("192.168.1.1"), SD_ERR_DOMAIN_IS_IP, NULL },
    { S("[2001:db8::1]"), SD_ERR_DOMAIN_IS_IP, NULL },
    { S("2001:db8::1"), SD_ERR_DOMAIN_IS_IP, NULL },
    /* internationalised names: U-labels become A-labels (libidn2) */
    { S("café.com"), SD_OK, "xn--caf-dma.com" },
    { S("CAFÉ.com"), SD_OK, "xn--caf-dma.com" },
    { S(" bücher.example. "), SD_OK, "xn--bcher-kva.example" },
    { S("acme.рф"), SD_OK, "acme.xn--p1ai" },
    { S("acme\xff.com"), SD_ERR_DOMAIN_IDN, NULL },
    { S("xn--zz.example"), SD_ERR_DOMAIN_IDN, NULL },
    { S("mail.XN--ZZ.example"), SD_ERR_DOMAIN_IDN, NULL },
    { S("café com"), SD_ERR_DOMAIN_IDN, NULL },
    { S("*.acme.com"), SD_ERR_DOMAIN_WILDCARD, NULL },
    { S("acme.123"), SD_ERR_DOMAIN_NUMERIC_TLD, NULL },
    { S("acme.com.42"), SD_ERR_DOMAIN_NUMERIC_TLD, NULL },
};


static void
test_domain_table(void **state)
{
    size_t  i;

    (void) state;

    for (i = 0; i < sizeof(domain_cases) / sizeof(domain_cases[0]); i++) {
        check_case(sd_domain_normalize, &domain_cases[i], i);
    }
}


static void
test_domain_lengths(void **state)
{
    char     in[700], want[600], a63[64], a64[65], a61[62], out[300];
    case_t   c;
    ssize_t  rc;

    (void) state;

    repeat(a63, "a", 63);
    repeat(a64, "a", 64);
    repeat(a61, "d", 61);

    /* a 63-character label is fine, 64 is not */

    snprintf(in, sizeof(in), "%s.com", a63);
    c = (case_t) { in, strlen(in), SD_OK, in };
    check_case(sd_domain_normalize, &c, 100);

    snprintf(in, sizeof(in), "%s.com", a64);
    c = (case_t) { in, strlen(in), SD_ERR_DOMAIN_LABEL_LONG, NULL };
    check_case(sd_domain_normalize, &c, 101);

    /* exactly 253, also with the root dot (254 typed) */

    snprintf(want, sizeof(want), "%s.%s.%s.%s", a63, a63, a63, a61);
    assert_int_equal(strlen(want), 253);
    c = (case_t) { want, strlen(want), SD_OK, want };
    check_case(sd_domain_normalize, &c, 102);

    snprintf(in, sizeof(in), "%s.", want);
    c = (case_t) { in, strlen(in), SD_OK, want };
    check_case(sd_domain_normalize, &c, 103);

    /* 254 */

    snprintf(in, sizeof(in), "%s.%s.%s.%sd", a63, a63, a63, a61);
    c = (case_t) { in, strlen(in), SD_ERR_DOMAIN_TOO_LONG, NULL };
    check_case(sd_domain_normalize, &c, 104);

    /* output buffer: room for the NUL is needed, never truncated */

    rc = sd_domain_normalize(S("acme.com"), out, 9, NULL);
    assert_int_equal(rc, 8);
    assert_string_equal(out, "acme.com");

    memset(out, 'X', sizeof(out));
    rc = sd_domain_normalize(S("acme.com"), out, 8, NULL);
    assert_int_equal(rc, SD_ERR_NOSPACE);

    rc = sd_domain_normalize(S("acme.com"), NULL, 0, NULL);
    assert_int_equal(rc, SD_ERR_NOSPACE);

    rc = sd_domain_normalize(NULL, 3, out, sizeof(out), NULL);
    assert_int_equal(rc, SD_ERR_INVALID_ARG);

    rc = sd_domain_normalize(NULL, 0, out, sizeof(out), NULL);
    assert_int_equal(rc, SD_ERR_DOMAIN_EMPTY);

    /* SD_DOMAIN_BUFSZ always suffices */

    rc = sd_domain_normalize(want, strlen(want), out, SD_DOMAIN_BUFSZ, NULL);
    assert_int_equal(rc, 253);
}


static void
test_domain_messages(void **state)
{
    const char  *msg;

    (void) state;

    sd_domain_normalize(S("reports@acme.com"), NULL, 0, &msg);
    assert_string_equal(msg, "That looks like an email address; choose "
                        "'Single email address' to verify one address, or "
                        "enter only the domain part.");

    sd_domain_normalize(S("https://acme.com/"), NULL, 0, &msg);
    assert_non_null(strstr(msg, "https://"));

    sd_domain_normalize(S("xn--zz.example"), NULL, 0, &msg);
    assert_non_null(strstr(msg, "punycode"));

    sd_domain_normalize(S(""), NULL, 0, &msg);
    assert_string_equal(msg, "Enter a domain such as acme.com.");
}


/* addresses */

static const case_t email_cases[] = {
    /* good */
    { S(" reports@acme.com "), SD_OK, "reports@acme.com" },
    { S("reports@acme.com\n"), SD_ERR_EMAIL_WHITESPACE, NULL },
    { S("Reports@ACME.com"), SD_OK, "Reports@acme.com" },
    { S("REPORTS@ACME.COM"), SD_OK, "REPORTS@acme.com" },
    { S("first.last@acme.com"), SD_OK, "first.last@acme.com" },
    { S("user+tag@acme.com"), SD_OK, "user+tag@acme.com" },
    { S("o'brien@acme.com"), SD_OK, "o'brien@acme.com" },
    { S("x@mail.acme.co.uk"), SD_OK, "x@mail.acme.co.uk" },
    { S("!#$%&'*+-/=?^_`{|}~@acme.com"), SD_OK,
      "!#$%&'*+-/=?^_`{|}~@acme.com" },
    { S("a@b.co"), SD_OK, "a@b.co" },
    { S("reports@acme.com."), SD_OK, "reports@acme.com" },
    { S("user@xn--caf-dma.com"), SD_OK, "user@xn--caf-dma.com" },
    { S("1234@acme.com"), SD_OK, "1234@acme.com" },
    { "reports@acme.comXYZ", 16, SD_OK, "reports@acme.com" },

    /* bad */
    { S(""), SD_ERR_EMAIL_EMPTY, NULL },
    { S("   "), SD_ERR_EMAIL_EMPTY, NULL },
    { S(" \t "), SD_ERR_EMAIL_WHITESPACE, NULL },
    { S("acme.com"), SD_ERR_EMAIL_NO_AT, NULL },
    { S("@acme.com"), SD_ERR_EMAIL_LOCAL_EMPTY, NULL },
    { S("reports@"), SD_ERR_EMAIL_NO_DOMAIN, NULL },
    { S("a@b@acme.com"), SD_ERR_EMAIL_MULTI_AT, NULL },
    { S("\"john doe\"@acme.com"), SD_ERR_EMAIL_QUOTED, NULL },
    { S("\"john\"@acme.com"), SD_ERR_EMAIL_QUOTED, NULL },
    { S("jo\"hn@acme.com"), SD_ERR_EMAIL_QUOTED, NULL },
    { S("john doe@acme.com"), SD_ERR_EMAIL_WHITESPACE, NULL },
    { S("Acme <reports@acme.com>"), SD_ERR_EMAIL_NAME_ADDR, NULL },
    { S("<reports@acme.com>"), SD_ERR_EMAIL_NAME_ADDR, NULL },
    { S(".reports@acme.com"), SD_ERR_EMAIL_LOCAL_DOT, NULL },
    { S("reports.@acme.com"), SD_ERR_EMAIL_LOCAL_DOT, NULL },
    { S("re..ports@acme.com"), SD_ERR_EMAIL_LOCAL_DOT, NULL },
    { S("re,ports@acme.com"), SD_ERR_EMAIL_LOCAL_CHAR, NULL },
    { S("re(ports)@acme.com"), SD_ERR_EMAIL_LOCAL_CHAR, NULL },
    { S("re\\ports@acme.com"), SD_ERR_EMAIL_LOCAL_CHAR, NULL },
    { S("mailto:reports@acme.com"), SD_ERR_EMAIL_LOCAL_CHAR, NULL },
    { S("re\0ports@acme.com"), SD_ERR_EMAIL_LOCAL_CHAR, NULL },
    { S("josé@acme.com"), SD_ERR_EMAIL_NON_ASCII, NULL },
    { S("报告@acme.com"), SD_ERR_EMAIL_NON_ASCII, NULL },
    { S("reports@café.com"), SD_OK, "reports@xn--caf-dma.com" },
    { S("Reports@CAFÉ.com"), SD_OK, "Reports@xn--caf-dma.com" },
    { S("reports@xn--zz.example"), SD_ERR_DOMAIN_IDN, NULL },
    { S("reports@[192.0.2.1]"), SD_ERR_EMAIL_LITERAL, NULL },
    { S("reports@acme"), SD_ERR_DOMAIN_ONE_LABEL, NULL },
    { S("reports@acme..com"), SD_ERR_DOMAIN_EMPTY_LABEL, NULL },
    { S("reports@-acme.com"), SD_ERR_DOMAIN_HYPHEN, NULL },
    { S("reports@acme_x.com"), SD_ERR_DOMAIN_CHAR, NULL },
    { S("reports@acme.com/x"), SD_ERR_DOMAIN_CHAR, NULL },
    { S("reports@acme.com\0"), SD_ERR_DOMAIN_CHAR, NULL },
    { S("reports@192.168.0.1"), SD_ERR_DOMAIN_IS_IP, NULL },
    { S("reports@acme.123"), SD_ERR_DOMAIN_NUMERIC_TLD, NULL },
    { S("reports@acme.com\r\nBcc: x@y.com"), SD_ERR_EMAIL_WHITESPACE, NULL },
};


static void
test_email_table(void **state)
{
    size_t  i;

    (void) state;

    for (i = 0; i < sizeof(email_cases) / sizeof(email_cases[0]); i++) {
        check_case(sd_email_normalize, &email_cases[i], i);
    }
}


static void
test_email_lengths(void **state)
{
    char     in[700], local[100], dom[300], out[300];
    case_t   c;
    ssize_t  rc;

    (void) state;

    /* local part: 64 fine, 65 not */

    repeat(local, "l", 64);
    snprintf(in, sizeof(in), "%s@acme.com", local);
    c = (case_t) { in, strlen(in), SD_OK, in };
    check_case(sd_email_normalize, &c, 200);

    repeat(local, "l", 65);
    snprintf(in, sizeof(in), "%s@acme.com", local);
    c = (case_t) { in, strlen(in), SD_ERR_EMAIL_LOCAL_LONG, NULL };
    check_case(sd_email_normalize, &c, 201);

    /* total: 64 + 1 + 189 = 254 fine, 255 not */

    repeat(local, "l", 64);
    snprintf(dom, sizeof(dom), "%s.%s.%s.com", repeat(out, "a", 60),
             repeat(out + 100, "b", 60), repeat(out + 200, "c", 63));
    assert_int_equal(strlen(dom), 189);

    snprintf(in, sizeof(in), "%s@%s", local, dom);
    c = (case_t) { in, strlen(in), SD_OK, in };
    check_case(sd_email_normalize, &c, 202);

    rc = sd_email_normalize(in, strlen(in), out, SD_EMAIL_BUFSZ, NULL);
    assert_int_equal(rc, SD_EMAIL_MAX);

    snprintf(in, sizeof(in), "%s@x%s", local, dom);
    c = (case_t) { in, strlen(in), SD_ERR_EMAIL_TOO_LONG, NULL };
    check_case(sd_email_normalize, &c, 203);

    /* a domain part over 253 is reported as such */

    snprintf(in, sizeof(in), "a@%s.%s", dom, dom);
    c = (case_t) { in, strlen(in), SD_ERR_DOMAIN_TOO_LONG, NULL };
    check_case(sd_email_normalize, &c, 204);

    rc = sd_email_normalize(S("a@b.co"), out, 6, NULL);
    assert_int_equal(rc, SD_ERR_NOSPACE);
    rc = sd_email_normalize(S("a@b.co"), out, 7, NULL);
    assert_int_equal(rc, 6);
}


/* MAIL FROM labels */

static void
test_label(void **state)
{
    size_t       i;
    char         out[300], dom[300], a63[64], a64[65];
    ssize_t      rc;
    const char  *msg;

    static const case_t  cases[] = {
        { S("pmail"), SD_OK, "pmail" },
        { S("PMail"), SD_OK, "pmail" },
        { S(" mail "), SD_OK, "mail" },
        { S("bounce-1"), SD_OK, "bounce-1" },
        { S("a"), SD_OK, "a" },
        { S("123"), SD_OK, "123" },
        { S("xn--caf-dma"), SD_OK, "xn--caf-dma" },
        { S("xn--zz"), SD_ERR_DOMAIN_IDN, NULL },
        { S(""), SD_ERR_LABEL_EMPTY, NULL },
        { S("  "), SD_ERR_LABEL_EMPTY, NULL },
        { S("pmail.acme.com"), SD_ERR_LABEL_DOT, NULL },
        { S("pmail."), SD_ERR_LABEL_DOT, NULL },
        { S("-x"), SD_ERR_LABEL_HYPHEN, NULL },
        { S("x-"), SD_ERR_LABEL_HYPHEN, NULL },
        { S("p_mail"), SD_ERR_LABEL_CHAR, NULL },
        { S("p mail"), SD_ERR_LABEL_CHAR, NULL },
        { S("p@mail"), SD_ERR_LABEL_CHAR, NULL },
        { S("pmäil"), SD_ERR_LABEL_NON_ASCII, NULL },
        { S("p\r\nmail"), SD_ERR_LABEL_CHAR, NULL },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        msg = NULL;
        rc = sd_label_validate(cases[i].in, cases[i].len, NULL, 0, out,
                               sizeof(out), &msg);

        if (cases[i].err == SD_OK) {
            assert_int_equal(rc, strlen(cases[i].out));
            assert_string_equal(out, cases[i].out);

        } else {
            if (rc != cases[i].err) {
                print_error("label case %zu: got %zd\n", i, rc);
            }
            assert_int_equal(rc, cases[i].err);
            assert_string_equal(msg, sd_strerror(cases[i].err));
        }
    }

    sd_label_validate(S("pmail.acme.com"), NULL, 0, out, sizeof(out), &msg);
    assert_string_equal(msg, "Enter one label such as pmail, not a full "
                        "domain; it is placed in front of your domain "
                        "automatically.");

    repeat(a63, "a", 63);
    repeat(a64, "a", 64);
    rc = sd_label_validate(a63, 63, NULL, 0, out, sizeof(out), NULL);
    assert_int_equal(rc, 63);
    rc = sd_label_validate(a64, 64, NULL, 0, out, sizeof(out), NULL);
    assert_int_equal(rc, SD_ERR_LABEL_LONG);

    /* the MAIL FROM domain must fit 253: 5 + 1 + 247 = 253 */

    snprintf(dom, sizeof(dom), "%s.%s.%s.%s", a63, a63, a63,
             repeat(out, "b", 55));
    assert_int_equal(strlen(dom), 247);

    rc = sd_mail_from_domain(S("pmail"), dom, 247, out, sizeof(out), NULL);
    assert_int_equal(rc, 253);
    assert_memory_equal(out, "pmail.aaa", 9);

    rc = sd_mail_from_domain(S("pmail1"), dom, 247, out, sizeof(out), &msg);
    assert_int_equal(rc, SD_ERR_LABEL_MAIL_FROM_LONG);
    assert_non_null(strstr(msg, "253"));

    rc = sd_label_validate(S("pmail1"), dom, 247, out, sizeof(out), NULL);
    assert_int_equal(rc, SD_ERR_LABEL_MAIL_FROM_LONG);

    /* composition */

    rc = sd_mail_from_domain(S(" PMail "), S("acme.com"), out, sizeof(out),
                             NULL);
    assert_int_equal(rc, 14);
    assert_string_equal(out, "pmail.acme.com");

    rc = sd_mail_from_domain(S("pmail"), S("acme.com"), out, 15, NULL);
    assert_int_equal(rc, 14);
    rc = sd_mail_from_domain(S("pmail"), S("acme.com"), out, 14, NULL);
    assert_int_equal(rc, SD_ERR_NOSPACE);
    rc = sd_mail_from_domain(S("pmail"), NULL, 0, out, sizeof(out), NULL);
    assert_int_equal(rc, SD_ERR_INVALID_ARG);
    rc = sd_mail_from_domain(S("a.b"), S("acme.com"), out, sizeof(out),
                             NULL);
    assert_int_equal(rc, SD_ERR_LABEL_DOT);
}


/* sender names */

static const case_t name_cases[] = {
    /* good */
    { S(""), SD_OK, "" },
    { S("   "), SD_OK, "" },
    { S("Acme Reports"), SD_OK, "Acme Reports" },
    { S("  Acme  Reports  "), SD_OK, "Acme  Reports" },
    { S("Café Reports"), SD_OK, "Café Reports" },
    { S("李明的报告"), SD_OK, "李明的报告" },
    { S("تقارير أكمي"), SD_OK, "تقارير أكمي" },
    { S("O'Brien, \"Acme\" <x@y.com>"), SD_OK, "O'Brien, \"Acme\" <x@y.com>" },
    { S("Acme\xc2\xa0Reports"), SD_OK, "Acme\xc2\xa0Reports" },  /* NBSP */
    { S("a\xed\x9f\xbf"), SD_OK, "a\xed\x9f\xbf" },              /* D7FF */
    { S("a\xee\x80\x80"), SD_OK, "a\xee\x80\x80" },              /* E000 */
    { S("a\xf4\x8f\xbf\xbf"), SD_OK, "a\xf4\x8f\xbf\xbf" },      /* 10FFFF */
    { S("a\xc2\xa0"), SD_OK, "a\xc2\xa0" },     /* only U+0020 is trimmed */
    { S("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x92\xbb"), SD_OK,
      "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x92\xbb" },          /* ZWJ */
    { "Acme Reports<evil>", 12, SD_OK, "Acme Reports" },

    /* controls */
    { S("Acme\r"), SD_ERR_NAME_CONTROL, NULL },
    { S("Acme\nBcc: x@y.com"), SD_ERR_NAME_CONTROL, NULL },
    { S("Acme\r\nBcc: x@y.com"), SD_ERR_NAME_CONTROL, NULL },
    { S("Acme\0Reports"), SD_ERR_NAME_CONTROL, NULL },
    { S("Acme\tReports"), SD_ERR_NAME_CONTROL, NULL },
    { S("\tAcme"), SD_ERR_NAME_CONTROL, NULL },
    { S("Acme\x1b[31m"), SD_ERR_NAME_CONTROL, NULL },
    { S("Acme\x7f"), SD_ERR_NAME_CONTROL, NULL },
    { S("Acme\xc2\x80"), SD_ERR_NAME_CONTROL, NULL },           /* C1 */
    { S("Acme\xc2\x85"), SD_ERR_NAME_CONTROL, NULL },           /* NEL */
    { S("Acme\xc2\x9f"), SD_ERR_NAME_CONTROL, NULL },
    { S("Acme\xe2\x80\xa8"), SD_ERR_NAME_LINE_SEP, NULL },      /* 2028 */
    { S("Acme\xe2\x80\xa9"), SD_ERR_NAME_LINE_SEP, NULL },      /* 2029 */
    { S("Acme\xe2\x80\xae"), SD_ERR_NAME_BIDI, NULL },          /* RLO */
    { S("Acme\xe2\x81\xa6"), SD_ERR_NAME_BIDI, NULL },          /* LRI */
    { S("Acme\xe2\x80\x8e"), SD_ERR_NAME_BIDI, NULL },          /* LRM */
    { S("Acme\xe2\x80\x8f"), SD_ERR_NAME_BIDI, NULL },          /* RLM */
    { S("Acme\xd8\x9c"), SD_ERR_NAME_BIDI, NULL },              /* ALM */

    /* other invisible format characters (Unicode Cf) */
    { S("Pay\xc2\xadPal"), SD_ERR_NAME_FORMAT, NULL },          /* SHY */
    { S("Pay\xe2\x80\x8bPal"), SD_ERR_NAME_FORMAT, NULL },      /* ZWSP */
    { S("Pay\xe2\x81\xa0Pal"), SD_ERR_NAME_FORMAT, NULL },      /* WJ */
    { S("Pay\xe2\x81\xa4Pal"), SD_ERR_NAME_FORMAT, NULL },      /* 2064 */
    { S("Pay\xe2\x81\xafPal"), SD_ERR_NAME_FORMAT, NULL },      /* 206F */
    { S("\xef\xbb\xbf" "Acme"), SD_ERR_NAME_FORMAT, NULL },      /* BOM */
    { S("Acme\xef\xbf\xb9"), SD_ERR_NAME_FORMAT, NULL },        /* FFF9 */
    { S("Acme\xd8\x80"), SD_ERR_NAME_FORMAT, NULL },            /* 0600 */
    { S("Acme\xe1\xa0\x8e"), SD_ERR_NAME_FORMAT, NULL },        /* 180E */
    { S("Acme\xf3\xa0\x80\x81"), SD_ERR_NAME_FORMAT, NULL },    /* E0001 */
    { S("Acme\xf3\xa0\x81\xbf"), SD_ERR_NAME_FORMAT, NULL },    /* E007F */
    { S("Acme\xf0\x9d\x85\xb3"), SD_ERR_NAME_FORMAT, NULL },    /* 1D173 */
    { S("\xd9\x85\xe2\x80\x8c\xd9\x8a"), SD_OK,
      "\xd9\x85\xe2\x80\x8c\xd9\x8a" },                       /* ZWNJ */
    { S("Acme\xc2\xac"), SD_OK, "Acme\xc2\xac" },    /* U+00AC, not Cf */
    { S("Acme\xc2\xae"), SD_OK, "Acme\xc2\xae" },    /* U+00AE, not Cf */
    { S("Acme\xe2\x80\x8a"), SD_OK, "Acme\xe2\x80\x8a" },  /* hair sp */
    { S("Acme\xe2\x81\xa5"), SD_OK, "Acme\xe2\x81\xa5" },  /* 2065 */

    /* invalid UTF-8 */
    { S("\xff"), SD_ERR_NAME_UTF8, NULL },
    { S("\x80"), SD_ERR_NAME_UTF8, NULL },
    { S("Caf\xc3"), SD_ERR_NAME_UTF8, NULL },                   /* short */
    { S("Caf\xc3(s"), SD_ERR_NAME_UTF8, NULL },
    { S("Caf\xe9"), SD_ERR_NAME_UTF8, NULL },                   /* Latin-1 */
    { S("\xc0\xaf"), SD_ERR_NAME_UTF8, NULL },                  /* overlong */
    { S("\xc1\xbf"), SD_ERR_NAME_UTF8, NULL },
    { S("\xe0\x80\xaf"), SD_ERR_NAME_UTF8, NULL },
    { S("\xe0\x9f\xbf"), SD_ERR_NAME_UTF8, NULL },
    { S("\xf0\x80\x80\xaf"), SD_ERR_NAME_UTF8, NULL },
    { S("\xf0\x8f\xbf\xbf"), SD_ERR_NAME_UTF8, NULL },
    { S("\xc0\x8a"), SD_ERR_NAME_UTF8, NULL },          /* overlong LF */
    { S("\xed\xa0\x80"), SD_ERR_NAME_UTF8, NULL },      /* surrogate */
    { S("\xed\xbf\xbf"), SD_ERR_NAME_UTF8, NULL },
    { S("\xf4\x90\x80\x80"), SD_ERR_NAME_UTF8, NULL },  /* > 10FFFF */
    { S("\xf5\x80\x80\x80"), SD_ERR_NAME_UTF8, NULL },
    { S("\xf8\x88\x80\x80\x80"), SD_ERR_NAME_UTF8, NULL },
    { S("\xe2\x82"), SD_ERR_NAME_UTF8, NULL },
    { S("\xf0\x9f\x98"), SD_ERR_NAME_UTF8, NULL },
};


static void
test_sender_name_table(void **state)
{
    size_t  i;

    (void) state;

    for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
        check_case(sd_sender_name_validate, &name_cases[i], i);
    }
}


static void
test_sender_name_lengths(void **state)
{
    char     in[1024], out[SD_SENDER_NAME_BUFSZ];
    ssize_t  rc;

    (void) state;

    repeat(in, "x", 100);
    rc = sd_sender_name_validate(in, strlen(in), out, sizeof(out), NULL);
    assert_int_equal(rc, 100);

    repeat(in, "x", 101);
    rc = sd_sender_name_validate(in, strlen(in), out, sizeof(out), NULL);
    assert_int_equal(rc, SD_ERR_NAME_TOO_LONG);

    /* code points, not bytes: 100 emoji (400 bytes) are fine */

    repeat(in, "\xf0\x9f\x98\x80", 100);
    rc = sd_sender_name_validate(in, strlen(in), out, sizeof(out), NULL);
    assert_int_equal(rc, 400);
    assert_string_equal(out, in);

    repeat(in, "\xf0\x9f\x98\x80", 101);
    rc = sd_sender_name_validate(in, strlen(in), out, sizeof(out), NULL);
    assert_int_equal(rc, SD_ERR_NAME_TOO_LONG);

    repeat(in, "é", 100);
    rc = sd_sender_name_validate(in, strlen(in), out, sizeof(out), NULL);
    assert_int_equal(rc, 200);

    /* outer spaces do not count */

    snprintf(in, sizeof(in), "   %s   ", repeat(out, "y", 100));
    rc = sd_sender_name_validate(in, strlen(in), out, sizeof(out), NULL);
    assert_int_equal(rc, 100);

    rc = sd_sender_name_validate(S("Acme"), out, 4, NULL);
    assert_int_equal(rc, SD_ERR_NOSPACE);

    rc = sd_sender_name_validate(NULL, 0, out, sizeof(out), NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "");
}


static void
test_utf8_decode(void **state)
{
    uint32_t  cp;

    static const unsigned char  s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

    (void) state;

    assert_int_equal(sd_utf8_decode(s, s + 1, &cp), 1);
    assert_int_equal(cp, 'a');
    assert_int_equal(sd_utf8_decode(s + 1, s + 3, &cp), 2);
    assert_int_equal(cp, 0xe9);
    assert_int_equal(sd_utf8_decode(s + 3, s + 6, &cp), 3);
    assert_int_equal(cp, 0x20ac);
    assert_int_equal(sd_utf8_decode(s + 6, s + 10, &cp), 4);
    assert_int_equal(cp, 0x1f600);

    /* the end bound is honoured */
    assert_int_equal(sd_utf8_decode(s + 6, s + 9, &cp), -1);
    assert_int_equal(sd_utf8_decode(s, s, &cp), -1);
}


/* the ownership tree */

static void
test_kind_and_domain_part(void **state)
{
    size_t       n;
    const char  *d;

    (void) state;

    assert_int_equal(sd_identity_kind(S("acme.com")), SD_KIND_DOMAIN);
    assert_int_equal(sd_identity_kind(S("r@acme.com")), SD_KIND_EMAIL);
    assert_int_equal(sd_identity_kind(S("")), SD_KIND_INVALID);
    assert_int_equal(sd_identity_kind(NULL, 0), SD_KIND_INVALID);
    assert_int_equal(sd_identity_kind("acme.com@", 8), SD_KIND_DOMAIN);

    d = sd_identity_domain_part(S("reports@mail.acme.com"), &n);
    assert_int_equal(n, 13);
    assert_memory_equal(d, "mail.acme.com", 13);

    d = sd_identity_domain_part(S("acme.com"), &n);
    assert_int_equal(n, 8);
    assert_memory_equal(d, "acme.com", 8);
}


static void
test_within(void **state)
{
    size_t  i;

    static const struct {
        const char  *child;
        const char  *parent;
        int          want;
    } cases[] = {
        { "acme.com", "acme.com", 1 },
        { "mail.acme.com", "acme.com", 1 },
        { "a.b.acme.com", "acme.com", 1 },
        { "ACME.com", "acme.COM", 1 },
        { "Mail.Acme.Com", "acme.com", 1 },
        { "bacme.com", "acme.com", 0 },
        { "b-acme.com", "acme.com", 0 },
        { "acme.com", "mail.acme.com", 0 },
        { "acme.com.evil.com", "acme.com", 0 },
        { "acme.com.au", "acme.com", 0 },
        { "com", "acme.com", 0 },
        { "", "acme.com", 0 },
        { "acme.com", "", 0 },
        { "xacme.com", "acme.com", 0 },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (sd_domain_is_within(cases[i].child, strlen(cases[i].child),
                                cases[i].parent, strlen(cases[i].parent))
            != cases[i].want)
        {
            print_error("within case %zu: %s in %s\n", i, cases[i].child,
                        cases[i].parent);
            fail();
        }
    }

    /* lengths, not NULs, bound the names */
    assert_true(sd_domain_is_within("mail.acme.comXX", 13, "acme.com!", 8));
}


static void
test_conflicts(void **state)
{
    size_t  i;

    static const struct {
        const char  *a;
        const char  *b;
        int          want;
    } cases[] = {
        { "acme.com", "acme.com", 1 },
        { "acme.com", "ACME.com", 1 },
        { "acme.com", "mail.acme.com", 1 },
        { "acme.com", "a.b.c.acme.com", 1 },
        { "acme.com", "reports@acme.com", 1 },
        { "acme.com", "reports@mail.acme.com", 1 },
        { "mail.acme.com", "reports@mail.acme.com", 1 },
        { "mail.acme.com", "reports@acme.com", 0 },
        { "mail.acme.com", "news.acme.com", 0 },
        { "acme.com", "bacme.com", 0 },
        { "acme.com", "reports@bacme.com", 0 },
        { "acme.com", "acme.org", 0 },
        { "acme.com", "acme.com.au", 0 },
        { "reports@acme.com", "reports@acme.com", 1 },
        { "reports@acme.com", "Reports@acme.com", 1 },
        { "reports@acme.com", "reports@ACME.com", 1 },
        { "reports@acme.com", "sales@acme.com", 0 },
        { "reports@acme.com", "reports@mail.acme.com", 0 },
        { "reports@acme.com", "reports@acme.org", 0 },
        { "", "acme.com", 0 },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char  *a = cases[i].a, *b = cases[i].b;

        /* symmetric */

        if (sd_identities_conflict(a, strlen(a), b, strlen(b))
                != cases[i].want
            || sd_identities_conflict(b, strlen(b), a, strlen(a))
                != cases[i].want)
        {
            print_error("conflict case %zu: %s vs %s\n", i, a, b);
            fail();
        }
    }
}


static void
test_tree_key(void **state)
{
    char     out[SD_TREE_KEY_BUFSZ], in[400], local[70], dom[200];
    size_t   i;
    ssize_t  rc;

    static const struct {
        const char  *in;
        const char  *key;
    } cases[] = {
        { "acme.com", "com.acme." },
        { "ACME.com", "com.acme." },
        { "mail.acme.com", "com.acme.mail." },
        { "a.b.c", "c.b.a." },
        { "reports@acme.com", "com.acme.@reports" },
        { "Reports@ACME.com", "com.acme.@reports" },
        { "x@mail.acme.com", "com.acme.mail.@x" },
        { "a.b@acme.com", "com.acme.@a.b" },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc = sd_tree_key(cases[i].in, strlen(cases[i].in), out, sizeof(out));
        assert_int_equal(rc, strlen(cases[i].key));
        assert_string_equal(out, cases[i].key);
    }

    assert_int_equal(sd_tree_key(S(""), out, sizeof(out)),
                     SD_ERR_INVALID_ARG);
    assert_int_equal(sd_tree_key(S(".acme.com"), out, sizeof(out)),
                     SD_ERR_INVALID_ARG);
    assert_int_equal(sd_tree_key(S("acme..com"), out, sizeof(out)),
                     SD_ERR_INVALID_ARG);
    assert_int_equal(sd_tree_key(S("acme.com."), out, sizeof(out)),
                     SD_ERR_INVALID_ARG);
    assert_int_equal(sd_tree_key(S("x@"), out, sizeof(out)),
                     SD_ERR_INVALID_ARG);

    /* the key is one byte longer than the name */

    assert_int_equal(sd_tree_key(S("acme.com"), out, 10), 9);
    assert_int_equal(sd_tree_key(S("acme.com"), out, 9), SD_ERR_NOSPACE);

    /* the longest address gives the longest key */

    repeat(local, "l", 64);
    snprintf(dom, sizeof(dom), "%s.%s.%s.com", repeat(out, "a", 60),
             repeat(out + 70, "b", 60), repeat(out + 140, "c", 63));
    snprintf(in, sizeof(in), "%s@%s", local, dom);
    assert_int_equal(strlen(in), SD_EMAIL_MAX);

    rc = sd_tree_key(in, strlen(in), out, sizeof(out));
    assert_int_equal(rc, SD_TREE_KEY_MAX);
}


/*
 * The range property, over a set of names that includes the lookalikes
 * ("acmeb.com", "bacme.com", "acme.com.au"):
 *
 *   1. key(D) is a prefix of key(N)  <=>  N is in D's tree;
 *   2. in byte order, the keys in D's tree are contiguous and key(D)
 *      comes first;
 *   3. the prefixes of key(N) that end in a '.' before any '@' are
 *      exactly the keys of N's ancestors (and of N's domain);
 *   4. sd_identities_conflict(a, b) <=> one key is a prefix of the other
 *      at a domain key, or both are addresses with equal keys.
 */

static const char  *tree_names[] = {
    "acme.com", "mail.acme.com", "a.mail.acme.com", "acmeb.com",
    "bacme.com", "acme.com.au", "com.au", "acme.org", "a-cme.com",
    "acme-b.com", "reports@acme.com", "Sales@acme.com",
    "x@mail.acme.com", "y@a.mail.acme.com", "reports@acmeb.com",
    "r@acme.com.au", "0.acme.com", "z.acme.com", "zz@z.acme.com",
    "acme.co", "mail.acme.co", "r-1@acme.com", "r.1@acme.com",
};

#define NNAMES  (sizeof(tree_names) / sizeof(tree_names[0]))


static int
cmp_keys(const void *a, const void *b)
{
    const char  *ka = *(const char * const *) a;
    const char  *kb = *(const char * const *) b;

    return strcmp(ka, kb);      /* byte order: keys hold no NUL */
}


static int
is_prefix(const char *p, const char *s)
{
    return strncmp(p, s, strlen(p)) == 0;
}


static int
in_tree(const char *domain, const char *name)
{
    size_t       dlen;
    const char  *d;

    d = sd_identity_domain_part(name, strlen(name), &dlen);

    return sd_domain_is_within(d, dlen, domain, strlen(domain));
}


/* "com.acme.mail." -> "mail.acme.com" */

static void
unkey(const char *key, char *out)
{
    size_t       n, len;
    const char  *end, *p;

    out[0] = '\0';
    end = key + strlen(key) - 1;        /* the final '.' */
    n = 0;

    while (end > key) {
        p = end;

        while (p > key && p[-1] != '.') {
            p--;
        }

        len = end - p;

        if (n != 0) {
            out[n++] = '.';
        }

        memcpy(out + n, p, len);
        n += len;
        end = p - 1;

        if (p == key) {
            break;
        }
    }

    out[n] = '\0';
}


static void
test_tree_key_range(void **state)
{
    int          in, first, conflict, want;
    char         keys[NNAMES][SD_TREE_KEY_BUFSZ], akey[SD_TREE_KEY_BUFSZ];
    char         anc[SD_TREE_KEY_BUFSZ], out[SD_TREE_KEY_BUFSZ];
    size_t       i, j, k, n, dlen;
    ssize_t      rc;
    const char  *sorted[NNAMES], *d;

    (void) state;

    for (i = 0; i < NNAMES; i++) {
        rc = sd_tree_key(tree_names[i], strlen(tree_names[i]), keys[i],
                         sizeof(keys[i]));
        assert_true(rc > 0);
        sorted[i] = keys[i];
    }

    /* 1 */

    for (i = 0; i < NNAMES; i++) {
        if (sd_identity_kind(tree_names[i], strlen(tree_names[i]))
            != SD_KIND_DOMAIN)
        {
            continue;
        }

        for (j = 0; j < NNAMES; j++) {
            if (is_prefix(keys[i], keys[j])
                != in_tree(tree_names[i], tree_names[j]))
            {
                print_error("range: %s / %s\n", keys[i], keys[j]);
                fail();
            }
        }
    }

    assert_true(is_prefix("com.acme.", "com.acme.mail."));
    assert_true(is_prefix("com.acme.", "com.acme.@x"));
    assert_false(is_prefix("com.acme.", "com.acmeb."));

    /* 2 */

    qsort(sorted, NNAMES, sizeof(sorted[0]), cmp_keys);

    for (i = 0; i < NNAMES; i++) {
        if (sd_identity_kind(tree_names[i], strlen(tree_names[i]))
            != SD_KIND_DOMAIN)
        {
            continue;
        }

        first = -1;
        in = 0;

        for (j = 0; j < NNAMES; j++) {
            if (is_prefix(keys[i], sorted[j])) {
                if (first == -1) {
                    first = (int) j;
                    assert_string_equal(sorted[j], keys[i]);
                }

                /* no gap since the first member of the range */
                assert_int_equal(in, (int) j - first);
                in++;
            }
        }

        assert_true(first >= 0);
    }

    /* 3 */

    for (i = 0; i < NNAMES; i++) {
        d = sd_identity_domain_part(tree_names[i], strlen(tree_names[i]),
                                    &dlen);
        n = 0;

        /* up to the '@': a local part may hold dots too ("r.1@") */

        for (k = 1; keys[i][k - 1] != '\0' && keys[i][k - 1] != '@'; k++) {
            if (keys[i][k - 1] != '.') {
                continue;
            }

            /* the prefix names an ancestor whose own key it is */

            memcpy(akey, keys[i], k);
            akey[k] = '\0';
            unkey(akey, anc);
            n++;

            assert_true(sd_domain_is_within(d, dlen, anc, strlen(anc)));
            rc = sd_tree_key(anc, strlen(anc), out, sizeof(out));
            assert_int_equal(rc, k);
            assert_string_equal(out, akey);
        }

        /* one per label: every ancestor, the domain itself included */

        for (k = 0, j = 1; k < dlen; k++) {
            j += (d[k] == '.');
        }

        assert_int_equal(n, j);
    }

    /* 4 */

    for (i = 0; i < NNAMES; i++) {
        for (j = 0; j < NNAMES; j++) {
            conflict = sd_identities_conflict(tree_names[i],
                                              strlen(tree_names[i]),
                                              tree_names[j],
                                              strlen(tree_names[j]));

            want = strcmp(keys[i], keys[j]) == 0
                   || (keys[i][strlen(keys[i]) - 1] == '.'
                       && is_prefix(keys[i], keys[j]))
                   || (keys[j][strlen(keys[j]) - 1] == '.'
                       && is_prefix(keys[j], keys[i]));

            if (conflict != want) {
                print_error("conflict vs keys: %s / %s\n", tree_names[i],
                            tree_names[j]);
                fail();
            }
        }
    }
}


/* issue 13, 5: "=?" before the '@' is refused, anywhere else fine */

static void
test_email_header_check(void **state)
{
    size_t       i;
    const char  *msg;

    static const struct {
        const char  *addr;
        int          want;
    } cases[] = {
        { "reports@acme.com", SD_OK },
        { "=?utf-8?q?ceo=40bank.example?=@acme.com", SD_ERR_EMAIL_ENCODED_WORD },
        { "a=?@acme.com", SD_ERR_EMAIL_ENCODED_WORD },
        { "a=b?c@acme.com", SD_OK },
        { "a?=b@acme.com", SD_OK },
        { "a=@acme.com", SD_OK },
        { "a?@acme.com", SD_OK },
        { "=@acme.com", SD_OK },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        msg = NULL;

        if (sd_email_header_check(cases[i].addr, strlen(cases[i].addr), &msg)
            != cases[i].want)
        {
            print_error("header check case %zu: %s\n", i, cases[i].addr);
            fail();
        }

        if (cases[i].want != SD_OK) {
            assert_non_null(msg);
            assert_non_null(strstr(msg, "=?"));
        }
    }

    /* every such address is valid otherwise: this is the only refusal */
    {
        char  out[SD_EMAIL_BUFSZ];

        assert_true(sd_email_normalize(cases[1].addr, strlen(cases[1].addr),
                                       out, sizeof(out), NULL) > 0);
    }

    assert_int_equal(sd_email_header_check(NULL, 0, NULL),
                     SD_ERR_INVALID_ARG);
}


/* request values in log lines: nothing that ends a field or a line */

static void
test_log_escape(void **state)
{
    size_t          i, n;
    unsigned char   out[256];

    static const struct {
        const char  *in;
        size_t       len;
        const char  *want;
        int          plain;
    } cases[] = {
        { S("acme"), "acme", 1 },
        { S("acme-42_x.y"), "acme-42_x.y", 1 },
        { S("a\"b"), "a\\x22b", 0 },
        { S("a\\b"), "a\\x5cb", 0 },
        { S("a\r\nb"), "a\\x0d\\x0ab", 0 },
        { S("\x1b[31mred"), "\\x1b[31mred", 0 },
        { S("a\x7f"), "a\\x7f", 0 },
        { S("caf\xc3\xa9"), "caf\\xc3\\xa9", 0 },
        { S("a\0b"), "a\\x00b", 0 },
        { S(""), "", 1 },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = sd_log_escape(NULL, (const unsigned char *) cases[i].in,
                          cases[i].len);
        assert_int_equal(n, strlen(cases[i].want));

        memset(out, 0, sizeof(out));
        assert_int_equal(sd_log_escape(out, (const unsigned char *) cases[i].in,
                                       cases[i].len), n);
        assert_string_equal((char *) out, cases[i].want);

        assert_int_equal(sd_log_plain((const unsigned char *) cases[i].in,
                                      cases[i].len), cases[i].plain);
    }
}


static void
test_strerror(void **state)
{
    int  err, n;

    n = 0;

    (void) state;

    /* every code in use has its own sentence, not the fallback */

    for (err = -100; err <= 0; err++) {
        if (strcmp(sd_strerror(err), "The value is not valid.") != 0) {
            n++;
        }
    }

    assert_int_equal(n, 59);

    assert_string_equal(sd_strerror(12345), "The value is not valid.");
    assert_string_not_equal(sd_strerror(SD_ERR_DOMAIN_CHAR),
                            sd_strerror(SD_ERR_LABEL_CHAR));
}


/*
 * The eight-bytes-at-a-time scans against their one-byte definitions:
 * every byte value at every position of every length up to 24 (three
 * words and a tail), in a value otherwise plain, then with two odd
 * bytes (the word tricks must not see one where there is none, nor miss
 * one behind another).
 */

static int
printable_by_byte(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


static int
json_plain_by_byte(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == '"' || p[i] == '\\') {
            return 0;
        }
    }

    return 1;
}


static void
test_word_scans(void **state)
{
    size_t         len, i, j;
    unsigned int   c, d;
    unsigned char  buf[32];

    (void) state;

    for (len = 0; len <= 24; len++) {
        memset(buf, 'a', sizeof(buf));

        assert_int_equal(sd_ascii_printable(buf, len), 1);
        assert_int_equal(sd_json_plain(buf, len), 1);

        for (i = 0; i < len; i++) {
            for (c = 0; c < 256; c++) {
                buf[i] = (unsigned char) c;

                assert_int_equal(sd_ascii_printable(buf, len),
                                 printable_by_byte(buf, len));
                assert_int_equal(sd_json_plain(buf, len),
                                 json_plain_by_byte(buf, len));

                /* a byte just past the value is never looked at */
                assert_int_equal(sd_ascii_printable(buf, i), 1);
            }

            buf[i] = 'a';
        }
    }

    /* two odd bytes: a high one before a low one, and the other way */
    for (i = 0; i < 16; i++) {
        for (j = 0; j < 16; j++) {
            for (d = 0; d < 256; d += 17) {
                memset(buf, 'a', sizeof(buf));
                buf[i] = 0xff;
                buf[j] = (unsigned char) d;

                assert_int_equal(sd_ascii_printable(buf, 16),
                                 printable_by_byte(buf, 16));
                assert_int_equal(sd_json_plain(buf, 16),
                                 json_plain_by_byte(buf, 16));
            }
        }
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_domain_table),
        cmocka_unit_test(test_domain_lengths),
        cmocka_unit_test(test_domain_messages),
        cmocka_unit_test(test_email_table),
        cmocka_unit_test(test_email_lengths),
        cmocka_unit_test(test_label),
        cmocka_unit_test(test_sender_name_table),
        cmocka_unit_test(test_sender_name_lengths),
        cmocka_unit_test(test_utf8_decode),
        cmocka_unit_test(test_word_scans),
        cmocka_unit_test(test_kind_and_domain_part),
        cmocka_unit_test(test_within),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_tree_key),
        cmocka_unit_test(test_tree_key_range),
        cmocka_unit_test(test_email_header_check),
        cmocka_unit_test(test_log_escape),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
