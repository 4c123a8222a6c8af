/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Unit tests: sd_from.c
 *
 * cc -std=gnu99 -Wall -Wextra -Werror -Isrc t/unit/test_from.c \
 *     src/core/sd_from.c \
 *     src/core/sd_identity.c -lcmocka -o /tmp/test_from
 * valgrind --leak-check=full --error-exitcode=1 /tmp/test_from
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sd_from.h"


#define S(lit)  lit, sizeof(lit) - 1


/* parsing */

typedef struct {
    const char  *in;
    size_t       len;
    int          err;
    const char  *name;
    const char  *addr;
} parse_case_t;


static const parse_case_t  parse_cases[] = {
    /* good */
    { S("reports@acme.com"), SD_OK, "", "reports@acme.com" },
    { S("Reports@ACME.com"), SD_OK, "", "Reports@ACME.com" },
    { S("  reports@acme.com  "), SD_OK, "", "reports@acme.com" },
    { S("<reports@acme.com>"), SD_OK, "", "reports@acme.com" },
    { S("< reports@acme.com >"), SD_OK, "", "reports@acme.com" },
    { S("Acme Reports <reports@acme.com>"), SD_OK, "Acme Reports",
      "reports@acme.com" },
    { S("  Acme   Reports   <reports@acme.com>  "), SD_OK, "Acme Reports",
      "reports@acme.com" },
    { S("Acme<reports@acme.com>"), SD_OK, "Acme", "reports@acme.com" },
    { S("\"Acme, Inc.\" <reports@acme.com>"), SD_OK, "Acme, Inc.",
      "reports@acme.com" },
    { S("\"Say \\\"hi\\\"\" <r@acme.com>"), SD_OK, "Say \"hi\"",
      "r@acme.com" },
    { S("\"back\\\\slash\" <r@acme.com>"), SD_OK, "back\\slash",
      "r@acme.com" },
    { S("\"Acme <Reports>\" <r@acme.com>"), SD_OK, "Acme <Reports>",
      "r@acme.com" },
    { S("\"  spaced  \" <r@acme.com>"), SD_OK, "  spaced  ", "r@acme.com" },
    { S("\"\" <r@acme.com>"), SD_OK, "", "r@acme.com" },
    { S("Acme \"Reports\" Team <r@acme.com>"), SD_OK, "Acme Reports Team",
      "r@acme.com" },
    { S("J. Smith <j@acme.com>"), SD_OK, "J. Smith", "j@acme.com" },
    { S("Café Reports <r@acme.com>"), SD_OK, "Café Reports",
      "r@acme.com" },
    { S("\"李明\" <r@acme.com>"), SD_OK, "李明", "r@acme.com" },
    { S("\"a@b.com\" <r@acme.com>"), SD_OK, "a@b.com", "r@acme.com" },
    { S("\"x, y\" <r@acme.com>"), SD_OK, "x, y", "r@acme.com" },
    { "Acme <r@acme.com>, b@c.com", 17, SD_OK, "Acme", "r@acme.com" },

    /* header injection and other controls */
    { S("a@b.com\r\nBcc: x@y.com"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("a@b.com\nBcc: x@y.com"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("a@b.com\rBcc: x@y.com"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("Acme\r\n <a@b.com>"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("Acme <a@b.com>\r\nBcc: x@y.com"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("\"Acme\r\nBcc: x@y.com\" <a@b.com>"), SD_ERR_FROM_CONTROL, NULL,
      NULL },
    { S("\"Acme\\\r\nBcc: x@y.com\" <a@b.com>"), SD_ERR_FROM_CONTROL, NULL,
      NULL },
    { S("a@b.com\0x@y.com"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("a@b.com\0"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("Acme\t<a@b.com>"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("\ta@b.com"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("Acme\x7f <a@b.com>"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("Acme\x1b <a@b.com>"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("Acme\xc2\x85 <a@b.com>"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("Acme\xe2\x80\xa8 <a@b.com>"), SD_ERR_FROM_CONTROL, NULL, NULL },
    { S("\xff <a@b.com>"), SD_ERR_FROM_UTF8, NULL, NULL },
    { S("Acme\xc0\x8a <a@b.com>"), SD_ERR_FROM_UTF8, NULL, NULL },
    { S("Caf\xe9 <a@b.com>"), SD_ERR_FROM_UTF8, NULL, NULL },

    /* one mailbox only */
    { S("a@b.com, c@d.com"), SD_ERR_FROM_MULTIPLE, NULL, NULL },
    { S("a@b.com,c@d.com"), SD_ERR_FROM_MULTIPLE, NULL, NULL },
    { S("A <a@b.com>, C <c@d.com>"), SD_ERR_FROM_MULTIPLE, NULL, NULL },
    { S("A, B <a@b.com>"), SD_ERR_FROM_MULTIPLE, NULL, NULL },
    { S("<a@b.com,c@d.com>"), SD_ERR_FROM_MULTIPLE, NULL, NULL },
    { S("undisclosed-recipients:;"), SD_ERR_FROM_GROUP, NULL, NULL },
    { S("Team: a@b.com;"), SD_ERR_FROM_GROUP, NULL, NULL },
    { S("Team: <a@b.com>;"), SD_ERR_FROM_GROUP, NULL, NULL },
    { S("a@b.com (Acme)"), SD_ERR_FROM_COMMENT, NULL, NULL },
    { S("(Acme) <a@b.com>"), SD_ERR_FROM_COMMENT, NULL, NULL },
    { S("<a@b.com> (Acme)"), SD_ERR_FROM_COMMENT, NULL, NULL },
    { S("<a(x)@b.com>"), SD_ERR_FROM_COMMENT, NULL, NULL },

    /* syntax */
    { S(""), SD_ERR_FROM_EMPTY, NULL, NULL },
    { S("    "), SD_ERR_FROM_EMPTY, NULL, NULL },
    { S("\"Acme <a@b.com>"), SD_ERR_FROM_QUOTE, NULL, NULL },
    { S("\"Acme\\\" <a@b.com>"), SD_ERR_FROM_QUOTE, NULL, NULL },
    { S("Acme <a@b.com"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("Acme <a@b.com> x"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("Acme <a@b.com> <c@d.com>"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("Acme <a <b@c.com>>"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("<@relay.com:a@b.com>"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("<a@ b.com>"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("Acme reports@acme.com"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("a@b.com>"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("a@b.com <c@d.com>"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("[Acme] <c@d.com>"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("Acme\\ <c@d.com>"), SD_ERR_FROM_SYNTAX, NULL, NULL },
    { S("<>"), SD_ERR_FROM_NO_ADDR, NULL, NULL },
    { S("Acme <  >"), SD_ERR_FROM_NO_ADDR, NULL, NULL },

    /* "=?" before the '@': readers would decode it (issue 13, 5) */
    { S("=?utf-8?q?ceo=40bank.example?=@acme.com"), SD_ERR_FROM_ENCODED_WORD,
      NULL, NULL },
    { S("Acme <x=?q?@acme.com>"), SD_ERR_FROM_ENCODED_WORD, NULL, NULL },
    { S("Acme <a=b?c@acme.com>"), SD_OK, "Acme", "a=b?c@acme.com" },
    { S("a?=b@acme.com"), SD_OK, "", "a?=b@acme.com" },

    /* the display name gets the rules of a stored sender name */
    { S("\"=?utf-8?q?a=0D=0Ab?=\" <r@acme.com>"), SD_OK,
      "=?utf-8?q?a=0D=0Ab?=", "r@acme.com" },
    { S("Acme\xe2\x80\xae stroper <r@acme.com>"), SD_ERR_NAME_BIDI, NULL,
      NULL },
    { S("Acme\xe2\x81\xa6x <r@acme.com>"), SD_ERR_NAME_BIDI, NULL, NULL },
    { S("Acme\xe2\x80\x8f <r@acme.com>"), SD_ERR_NAME_BIDI, NULL, NULL },
    { S("Pay\xe2\x80\x8bPal <r@acme.com>"), SD_ERR_NAME_FORMAT, NULL, NULL },
    { S("Pay\xc2\xadPal <r@acme.com>"), SD_ERR_NAME_FORMAT, NULL, NULL },
    { S("\xef\xbb\xbf" "Acme <r@acme.com>"), SD_ERR_NAME_FORMAT, NULL, NULL },
    { S("Acme\xf3\xa0\x80\x81 <r@acme.com>"), SD_ERR_NAME_FORMAT, NULL,
      NULL },
    { S("\"\xe2\x80\x8b\" <r@acme.com>"), SD_ERR_NAME_FORMAT, NULL, NULL },
    /* ZWNJ and ZWJ stay: Persian names, emoji sequences */
    { S("\xd9\x85\xe2\x80\x8c\xd9\x8a <r@acme.com>"), SD_OK,
      "\xd9\x85\xe2\x80\x8c\xd9\x8a", "r@acme.com" },
    { S("\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb <r@acme.com>"), SD_OK,
      "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", "r@acme.com" },
    /* a format character in the address is about the address */
    { S("Acme <r\xe2\x80\x8b@acme.com>"), SD_OK, "Acme",
      "r\xe2\x80\x8b@acme.com" },
};


static void
test_parse_table(void **state)
{
    char         name[256];
    size_t       i, nlen, alen;
    ssize_t      rc;
    const char  *addr, *msg;

    (void) state;

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const parse_case_t  *c = &parse_cases[i];

        msg = NULL;
        addr = NULL;
        memset(name, 0x5a, sizeof(name));

        rc = sd_from_parse(c->in, c->len, name, sizeof(name), &nlen, &addr,
                           &alen, &msg);

        if (rc != c->err) {
            print_error("parse case %zu: got %zd (%s), want %d\n", i, rc,
                        rc < 0 ? msg : "ok", c->err);
        }

        assert_int_equal(rc, c->err);

        if (c->err == SD_OK) {
            assert_int_equal(nlen, strlen(c->name));
            assert_string_equal(name, c->name);
            assert_int_equal(alen, strlen(c->addr));
            assert_memory_equal(addr, c->addr, alen);

            /* the address is a span of the input */
            assert_true(addr >= c->in && addr + alen <= c->in + c->len);

            /* without a name buffer */
            rc = sd_from_parse(c->in, c->len, NULL, 0, NULL, &addr, &alen,
                               NULL);
            assert_int_equal(rc, SD_OK);
            assert_int_equal(alen, strlen(c->addr));

        } else {
            assert_string_equal(msg, sd_strerror(c->err));
        }
    }
}


/* a ?from= name is held to 100 characters, as a stored one */

static void
test_parse_name_length(void **state)
{
    char         in[1200], name[SD_SENDER_NAME_BUFSZ];
    size_t       i, nlen, alen, n;
    ssize_t      rc;
    const char  *addr;

    (void) state;

    for (n = 99; n <= 102; n++) {
        memset(in, 'A', n);
        memcpy(in + n, " <r@acme.com>", 13);

        rc = sd_from_parse(in, n + 13, name, sizeof(name), &nlen, &addr,
                           &alen, NULL);

        if (n <= 100) {
            assert_int_equal(rc, SD_OK);
            assert_int_equal(nlen, n);

        } else {
            assert_int_equal(rc, SD_ERR_NAME_TOO_LONG);
        }
    }

    /* 100 characters of four bytes: the longest name there is */

    for (i = 0; i < 100; i++) {
        memcpy(in + 4 * i, "\xf0\x9f\x98\x80", 4);
    }

    memcpy(in + 400, " <r@acme.com>", 13);
    rc = sd_from_parse(in, 413, name, sizeof(name), &nlen, &addr, &alen,
                       NULL);
    assert_int_equal(rc, SD_OK);
    assert_int_equal(nlen, 400);

    /* 101 of them, and far longer ones, are too long, not "no space" */

    memcpy(in + 400, "\xf0\x9f\x98\x80 <r@acme.com>", 17);
    rc = sd_from_parse(in, 417, name, sizeof(name), &nlen, &addr, &alen,
                       NULL);
    assert_int_equal(rc, SD_ERR_NAME_TOO_LONG);

    memset(in, 'x', 1100);
    memcpy(in + 1100, " <r@acme.com>", 13);
    rc = sd_from_parse(in, 1113, name, sizeof(name), &nlen, &addr, &alen,
                       NULL);
    assert_int_equal(rc, SD_ERR_NAME_TOO_LONG);

    /* 150 two-byte characters: 300 bytes, fits the buffer, too many */

    for (i = 0; i < 150; i++) {
        memcpy(in + 2 * i, "\xc3\xa9", 2);
    }

    memcpy(in + 300, " <r@acme.com>", 13);
    rc = sd_from_parse(in, 313, name, sizeof(name), &nlen, &addr, &alen,
                       NULL);
    assert_int_equal(rc, SD_ERR_NAME_TOO_LONG);
}


static void
test_parse_then_normalize(void **state)
{
    char         name[64], out[SD_EMAIL_BUFSZ];
    size_t       nlen, alen;
    ssize_t      rc;
    const char  *addr, *msg;

    (void) state;

    rc = sd_from_parse(S("Acme <Reports@ACME.com>"), name, sizeof(name),
                       &nlen, &addr, &alen, NULL);
    assert_int_equal(rc, SD_OK);

    rc = sd_email_normalize(addr, alen, out, sizeof(out), NULL);
    assert_int_equal(rc, 16);
    assert_string_equal(out, "Reports@acme.com");

    /* a quoted local part gets through parsing, and is refused after */

    rc = sd_from_parse(S("\"john doe\"@acme.com"), name, sizeof(name),
                       &nlen, &addr, &alen, NULL);

    if (rc == SD_OK) {
        rc = sd_email_normalize(addr, alen, out, sizeof(out), &msg);
    }

    assert_true(rc == SD_ERR_FROM_SYNTAX || rc == SD_ERR_EMAIL_QUOTED);

    rc = sd_from_parse(S("<\"john\"@acme.com>"), name, sizeof(name), &nlen,
                       &addr, &alen, NULL);
    assert_int_equal(rc, SD_OK);
    rc = sd_email_normalize(addr, alen, out, sizeof(out), &msg);
    assert_int_equal(rc, SD_ERR_EMAIL_QUOTED);

    /* the name buffer is bounded, never overrun */

    memset(name, 'X', sizeof(name));
    rc = sd_from_parse(S("Acme Reports <r@acme.com>"), name, 12, &nlen,
                       &addr, &alen, &msg);
    assert_int_equal(rc, SD_ERR_NOSPACE);
    assert_int_equal(name[12], 'X');

    rc = sd_from_parse(S("Acme Reports <r@acme.com>"), name, 13, &nlen,
                       &addr, &alen, &msg);
    assert_int_equal(rc, SD_OK);
    assert_string_equal(name, "Acme Reports");

    rc = sd_from_parse(S("x@y.com"), name, sizeof(name), &nlen, NULL, &alen,
                       &msg);
    assert_int_equal(rc, SD_ERR_INVALID_ARG);
}


/*
 * Formatting.  The expected values come from Python 3.11's email package
 * (/usr/bin/python3 on Debian 12), not from this code:
 *
 *   ASCII names:      email.utils.formataddr((name, addr))
 *   non-ASCII names:  cs = email.charset.Charset('utf-8')
 *                     cs.header_encoding = email.charset.BASE64
 *                     email.header.Header(name, cs, maxlinelen=75)
 *                         .encode(linesep='\n')
 *                     with "\n " joined as " " and "=?utf-8?b?" written
 *                     "=?UTF-8?B?" (RFC 2047: case-insensitive).
 */

typedef struct {
    const char  *name;
    const char  *want;
} format_case_t;


static const format_case_t  format_cases[] = {
    /* empty */
    { "",
      "reports@acme.com" },
    /* atoms */
    { "Acme Reports",
      "Acme Reports <reports@acme.com>" },
    /* single_atom */
    { "Acme",
      "Acme <reports@acme.com>" },
    /* atext_specials_free */
    { "O'Brien & Co",
      "O'Brien & Co <reports@acme.com>" },
    /* dot */
    { "J. Smith",
      "\"J. Smith\" <reports@acme.com>" },
    /* comma */
    { "Acme, Inc.",
      "\"Acme, Inc.\" <reports@acme.com>" },
    /* quotes */
    { "Say \"hi\"",
      "\"Say \\\"hi\\\"\" <reports@acme.com>" },
    /* backslash */
    { "back\\slash",
      "\"back\\\\slash\" <reports@acme.com>" },
    /* angle */
    { "Acme <Reports>",
      "\"Acme <Reports>\" <reports@acme.com>" },
    /* at */
    { "reports@acme.com",
      "\"reports@acme.com\" <reports@acme.com>" },
    /* cafe */
    { "Café Reports",
      "=?UTF-8?B?Q2Fmw6kgUmVwb3J0cw==?= <reports@acme.com>" },
    /* cjk */
    { "李明的报告",
      "=?UTF-8?B?5p2O5piO55qE5oql5ZGK?= <reports@acme.com>" },
    /* emoji */
    { "📈 Reports",
      "=?UTF-8?B?8J+TiCBSZXBvcnRz?= <reports@acme.com>" },
    /* cafe_x30 */
    { "Café Café Café Café Café Café Café Café Café Café Café "
        "Café Café Café Café Café Café Café Café Café Café Café "
        "Café Café Café Café Café Café Café Café ",
      "=?UTF-8?B?Q2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2"
      "Fm?= =?UTF-8?B?w6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ"
      "2Fmw6kg?= =?UTF-8?B?Q2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kg"
      "Q2Fmw6kgQ2Fm?= =?UTF-8?B?w6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6kgQ2Fmw6k"
      "gQ2Fmw6kgQ2Fmw6kg?= <reports@acme.com>" },
    /* e_acute_x100 */
    { "ééééééééééééééééééééééééééééééééé"
        "ééééééééééééééééééééééééééééééééé"
        "ééééééééééééééééééééééééééééééééé"
        "é",
      "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6"
      "k=?= =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDq"
      "cOpw6k=?= =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOp"
      "w6nDqcOpw6k=?= =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6n"
      "DqcOpw6nDqcOpw6k=?= =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOp?= <re"
      "ports@acme.com>" },
    /* mixed_x60 */
    { "aéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaé"
        "aéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaé"
        "aéaéaéaéaéaéaéaéaéaéaéaéaéaéaéaé",
      "=?UTF-8?B?YcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYc"
      "Op?= =?UTF-8?B?YcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpY"
      "cOpYcOp?= =?UTF-8?B?YcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOp"
      "YcOpYcOpYcOp?= =?UTF-8?B?YcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcOpYcO"
      "pYcOpYcOpYcOpYcOp?= <reports@acme.com>" },
    /* emoji_x100 */
    { "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"
        "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"
        "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"
        "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"
        "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"
        "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"
        "😀😀😀😀",
      "=?UTF-8?B?8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8J+YgPCfmI"
      "A=?= =?UTF-8?B?8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8J+Yg"
      "PCfmIA=?= =?UTF-8?B?8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA"
      "8J+YgPCfmIA=?= =?UTF-8?B?8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8J+YgPCfmID"
      "wn5iA8J+YgPCfmIA=?= =?UTF-8?B?8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8J+YgP"
      "CfmIDwn5iA8J+YgPCfmIA=?= =?UTF-8?B?8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8"
      "J+YgPCfmIDwn5iA8J+YgPCfmIA=?= =?UTF-8?B?8J+YgPCfmIDwn5iA8J+YgPCfmIDw"
      "n5iA8J+YgPCfmIDwn5iA8J+YgPCfmIA=?= =?UTF-8?B?8J+YgPCfmIDwn5iA8J+YgPC"
      "fmIDwn5iA8J+YgPCfmIDwn5iA8J+YgPCfmIA=?= =?UTF-8?B?8J+YgPCfmIDwn5iA8J"
      "+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8J+YgPCfmIA=?= =?UTF-8?B?8J+YgA==?= <r"
      "eports@acme.com>" },
    /* cjk_x100 */
    { "报报报报报报报报报报报报报报报报报报报报报报"
        "报报报报报报报报报报报报报报报报报报报报报报"
        "报报报报报报报报报报报报报报报报报报报报报报"
        "报报报报报报报报报报报报报报报报报报报报报报"
        "报报报报报报报报报报报报",
      "=?UTF-8?B?5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5o"
      "ql?= =?UTF-8?B?5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5"
      "oql5oql?= =?UTF-8?B?5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql"
      "5oql5oql5oql?= =?UTF-8?B?5oql5oql5oql5oql5oql5oql5oql5oql5oql5oql5oq"
      "l5oql5oql5oql5oql?= =?UTF-8?B?5oql5oql5oql5oql5oql5oql5oql5oql5oql5o"
      "ql5oql5oql5oql5oql5oql?= =?UTF-8?B?5oql5oql5oql5oql5oql5oql5oql5oql5"
      "oql5oql5oql5oql5oql5oql5oql?= =?UTF-8?B?5oql5oql5oql5oql5oql5oql5oql"
      "5oql5oql5oql?= <reports@acme.com>" },
    /* rtl */
    { "تقارير أكمي",
      "=?UTF-8?B?2KrZgtin2LHZitixINij2YPZhdmK?= <reports@acme.com>" },
    /* nbsp */
    { "Acme Reports",
      "=?UTF-8?B?QWNtZcKgUmVwb3J0cw==?= <reports@acme.com>" },
};


static int
b64val(char c)
{
    const char  *a, *p;

    a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    p = strchr(a, c);

    return (c != '\0' && p != NULL) ? (int) (p - a) : -1;
}


/* decodes the encoded-words of s (our own output) back to UTF-8 */

static size_t
decode_words(const char *s, char *out)
{
    int          v[4], k;
    size_t       n;
    const char  *p, *e;

    n = 0;

    for (p = s; (p = strstr(p, "=?UTF-8?B?")) != NULL; p = e + 2) {
        p += 10;
        e = strstr(p, "?=");
        assert_non_null(e);
        assert_int_equal((e - p) % 4, 0);

        for ( /* void */ ; p < e; p += 4) {
            for (k = 0; k < 4; k++) {
                v[k] = (p[k] == '=') ? 0 : b64val(p[k]);
                assert_true(v[k] >= 0);
            }

            out[n++] = (char) (v[0] << 2 | v[1] >> 4);

            if (p[2] != '=') {
                out[n++] = (char) ((v[1] & 0xf) << 4 | v[2] >> 2);
            }

            if (p[3] != '=') {
                out[n++] = (char) ((v[2] & 0x3) << 6 | v[3]);
            }
        }
    }

    out[n] = '\0';

    return n;
}


static void
check_words(const char *s, const char *name)
{
    char         dec[1024];
    size_t       len;
    const char  *p, *sp;
    uint32_t     cp;
    const char  *q, *end;
    int          n;

    /* each encoded-word at most 75 characters, separated by one space */

    for (p = s; strncmp(p, "=?UTF-8?B?", 10) == 0; p = sp + 1) {
        sp = strchr(p, ' ');
        assert_non_null(sp);
        len = sp - p;
        assert_true(len <= 75);
        assert_memory_equal(sp - 2, "?=", 2);
    }

    assert_int_equal(*p, '<');

    /* splits fall on character boundaries: each word is valid alone */

    for (p = s; (p = strstr(p, "=?UTF-8?B?")) != NULL; p = strstr(p, "?=")) {
        char  one[128], word[128];

        sp = strstr(p, "?=");
        memcpy(word, p, sp + 2 - p);
        word[sp + 2 - p] = '\0';
        len = decode_words(word, one);

        for (q = one, end = one + len; q < end; q += n) {
            n = sd_utf8_decode((const unsigned char *) q,
                               (const unsigned char *) end, &cp);
            assert_true(n > 0);
        }

        p = sp;
    }

    if (name != NULL) {
        decode_words(s, dec);
        assert_string_equal(dec, name);
    }
}


static void
test_format_vectors(void **state)
{
    char     out[SD_FROM_BUFSZ];
    size_t   i;
    ssize_t  rc;

    (void) state;

    for (i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
        const format_case_t  *c = &format_cases[i];

        rc = sd_from_format(c->name, strlen(c->name), S("reports@acme.com"),
                            out, sizeof(out));

        if (rc < 0 || strcmp(out, c->want) != 0) {
            print_error("format case %zu: got %zd\n  %s\nwant\n  %s\n", i, rc,
                        rc < 0 ? "" : out, c->want);
        }

        assert_int_equal(rc, strlen(c->want));
        assert_string_equal(out, c->want);

        if (strncmp(out, "=?", 2) == 0) {
            check_words(out, c->name);
        }
    }
}


static void
test_format_decisions(void **state)
{
    char     out[SD_FROM_BUFSZ], name[SD_SENDER_NAME_BUFSZ];
    size_t   i;
    ssize_t  rc;

    static const format_case_t  cases[] = {
        /*
         * a typed encoded-word is encoded itself, so that readers show it
         * as is (quoting is not enough: Python decodes inside quotes);
         * expected values: base64 of the name by Python
         */
        { "=?UTF-8?B?SGk=?=",
          "=?UTF-8?B?PT9VVEYtOD9CP1NHaz0/PQ==?= <r@acme.com>" },
        { "Say =?utf-8?q?a=0D=0Ab?=",
          "=?UTF-8?B?U2F5ID0/dXRmLTg/cT9hPTBEPTBBYj89?= <r@acme.com>" },
        /* "?=" alone and "= ?" are not the start of one */
        { "A?=B", "A?=B <r@acme.com>" },
        { "A= ?B", "A= ?B <r@acme.com>" },
        /* outer and doubled spaces are kept by quoting */
        { " Acme", "\" Acme\" <r@acme.com>" },
        { "Acme ", "\"Acme \" <r@acme.com>" },
        { "Acme  Reports", "\"Acme  Reports\" <r@acme.com>" },
        /* a single '=' or '?' is atext */
        { "A=B?", "A=B? <r@acme.com>" },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc = sd_from_format(cases[i].name, strlen(cases[i].name),
                            S("r@acme.com"), out, sizeof(out));
        assert_int_equal(rc, strlen(cases[i].want));
        assert_string_equal(out, cases[i].want);
    }

    /* the longest valid name fits SD_FROM_BUFSZ with the longest address */

    for (i = 0; i < 100; i++) {
        memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4);
    }

    {
        char  addr[SD_EMAIL_BUFSZ];

        memset(addr, 'a', 64);
        addr[64] = '@';
        memset(addr + 65, 'b', 189);
        for (i = 65 + 63; i < SD_EMAIL_MAX; i += 64) {
            addr[i] = '.';
        }
        addr[SD_EMAIL_MAX] = '\0';

        rc = sd_from_format(name, 400, addr, SD_EMAIL_MAX, out, sizeof(out));
        assert_true(rc > 0);
        assert_true((size_t) rc < sizeof(out));
        assert_true(rc + sizeof("From: ") - 1 <= 998);
        assert_int_equal(rc + sizeof("From: ") - 1, 940);
        check_words(out, NULL);         /* lengths only */
        assert_int_equal(sd_from_name_fits(name, 400), SD_OK);

        /* the widest ASCII names: all quoted pairs, all encoded */

        memset(name, '"', 100);
        rc = sd_from_format(name, 100, addr, SD_EMAIL_MAX, out, sizeof(out));
        assert_int_equal(rc, 202 + 2 + SD_EMAIL_MAX + 1);
        assert_int_equal(sd_from_name_fits(name, 100), SD_OK);

        memset(name, '?', 100);
        name[0] = '=';
        rc = sd_from_format(name, 100, addr, SD_EMAIL_MAX, out, sizeof(out));
        assert_true(rc > 0 && rc < 500);
        assert_memory_equal(out, "=?UTF-8?B?", 10);
        assert_int_equal(sd_from_name_fits(name, 100), SD_OK);
    }
}


/* RFC 5322 2.1.1: no From line over 998 octets, whatever the name */

static void
test_format_line_limit(void **state)
{
    char     big[4096], name[1300];
    size_t   i;
    ssize_t  rc;

    (void) state;

    /* 300 four-byte characters: only possible past the 100 limit */

    for (i = 0; i < 300; i++) {
        memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4);
    }

    rc = sd_from_format(name, 1200, S("r@acme.com"), big, sizeof(big));
    assert_int_equal(rc, SD_ERR_FROM_LINE_LONG);
    assert_int_equal(sd_from_name_fits(name, 1200), SD_ERR_NAME_LINE_LONG);

    /* 750 columns of name fit "a@b" but not the longest address */

    memset(name, 'A', 750);
    rc = sd_from_format(name, 750, S("r@acme.com"), big, sizeof(big));
    assert_int_equal(rc, 750 + 13);
    assert_int_equal(sd_from_name_fits(name, 750), SD_ERR_NAME_LINE_LONG);

    /* the exact edge: 6 + 735 + 2 + 254 + 1 = 998 */

    assert_int_equal(sd_from_name_fits(name, 735), SD_OK);
    assert_int_equal(sd_from_name_fits(name, 736), SD_ERR_NAME_LINE_LONG);

    memset(name, 'A', 993 - 13);
    rc = sd_from_format(name, 992 - 13, S("r@acme.com"), big, sizeof(big));
    assert_int_equal(rc, 992);
    rc = sd_from_format(name, 993 - 13, S("r@acme.com"), big, sizeof(big));
    assert_int_equal(rc, SD_ERR_FROM_LINE_LONG);

    assert_int_equal(sd_from_name_fits("", 0), SD_OK);
}


static void
test_format_errors(void **state)
{
    char     out[64];
    ssize_t  rc;

    (void) state;

    /* a name that would break the header is refused, never emitted */

    rc = sd_from_format(S("Acme\r\nBcc: x@y.com"), S("r@acme.com"), out,
                        sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_CONTROL);
    rc = sd_from_format(S("Acme\n"), S("r@acme.com"), out, sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_CONTROL);
    rc = sd_from_format(S("Acme\0"), S("r@acme.com"), out, sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_CONTROL);
    rc = sd_from_format(S("Acme\xc2\x85"), S("r@acme.com"), out,
                        sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_CONTROL);
    rc = sd_from_format(S("Acme\xe2\x80\xa9"), S("r@acme.com"), out,
                        sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_CONTROL);
    rc = sd_from_format(S("Caf\xe9"), S("r@acme.com"), out, sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_UTF8);
    rc = sd_from_format(S("\xed\xa0\x80"), S("r@acme.com"), out,
                        sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_UTF8);

    /* invisible characters: a stored name from before the rule */

    rc = sd_from_format(S("Acme\xe2\x80\xae"), S("r@acme.com"), out,
                        sizeof(out));
    assert_int_equal(rc, SD_ERR_NAME_BIDI);
    rc = sd_from_format(S("Pay\xe2\x80\x8bPal"), S("r@acme.com"), out,
                        sizeof(out));
    assert_int_equal(rc, SD_ERR_NAME_FORMAT);

    /* so is an address that is not one */

    rc = sd_from_format(S("Acme"), S("r@acme.com>\r\nBcc: x@y.com"), out,
                        sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_BAD_ADDR);
    rc = sd_from_format(S("Acme"), S("r@acme.com> x"), out, sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_BAD_ADDR);
    rc = sd_from_format(S("Acme"), S("acme.com"), out, sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_BAD_ADDR);
    rc = sd_from_format(S("Acme"), S(""), out, sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_BAD_ADDR);
    rc = sd_from_format(S(""), S("a b@acme.com"), out, sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_BAD_ADDR);
    rc = sd_from_format(S(""), S("josé@acme.com"), out, sizeof(out));
    assert_int_equal(rc, SD_ERR_FROM_BAD_ADDR);
    rc = sd_from_format(S("Acme"), NULL, 0, out, sizeof(out));
    assert_int_equal(rc, SD_ERR_INVALID_ARG);

    /* overflow is an error at every size, never a truncation */

    rc = sd_from_format(S("Acme Reports"), S("r@acme.com"), out, 26);
    assert_int_equal(rc, 25);
    assert_string_equal(out, "Acme Reports <r@acme.com>");

    memset(out, 'X', sizeof(out));
    rc = sd_from_format(S("Acme Reports"), S("r@acme.com"), out, 25);
    assert_int_equal(rc, SD_ERR_NOSPACE);
    assert_int_equal(out[25], 'X');

    rc = sd_from_format(S("Café Reports"), S("r@acme.com"), out, 40);
    assert_int_equal(rc, SD_ERR_NOSPACE);
    rc = sd_from_format(S("Say \"hi\""), S("r@acme.com"), out, 20);
    assert_int_equal(rc, SD_ERR_NOSPACE);
    rc = sd_from_format(S(""), S("r@acme.com"), out, 10);
    assert_int_equal(rc, SD_ERR_NOSPACE);
    rc = sd_from_format(S(""), S("r@acme.com"), out, 11);
    assert_int_equal(rc, 10);
    rc = sd_from_format(S(""), S("r@acme.com"), NULL, 0);
    assert_int_equal(rc, SD_ERR_NOSPACE);
}


/* a From value, once parsed and formatted, parses back the same */

static void
test_round_trip(void **state)
{
    char         out[SD_FROM_BUFSZ], name[256];
    size_t       i, nlen, alen;
    ssize_t      rc;
    const char  *addr;

    static const char  *names[] = {
        "Acme", "Acme Reports", "J. Smith", "Acme, Inc.", "Say \"hi\"",
        "back\\slash", "a@b", "(x)", "[x]", "x:y;z", "<x>",
    };

    (void) state;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        rc = sd_from_format(names[i], strlen(names[i]), S("r@acme.com"),
                            out, sizeof(out));
        assert_true(rc > 0);

        rc = sd_from_parse(out, rc, name, sizeof(name), &nlen, &addr, &alen,
                           NULL);
        assert_int_equal(rc, SD_OK);
        assert_string_equal(name, names[i]);
        assert_int_equal(alen, 10);
        assert_memory_equal(addr, "r@acme.com", 10);
    }
}


static void
test_address_domain_match(void **state)
{
    size_t  i;

    static const struct {
        const char  *addr;
        const char  *domain;
        int          want;
    } cases[] = {
        { "reports@acme.com", "acme.com", 1 },
        { "reports@mail.acme.com", "acme.com", 1 },
        { "reports@a.b.acme.com", "acme.com", 1 },
        { "Reports@ACME.COM", "acme.com", 1 },
        { "reports@acme.com", "ACME.com", 1 },
        { "reports@mail.acme.com", "mail.acme.com", 1 },
        { "reports@bacme.com", "acme.com", 0 },
        { "reports@acme.com.evil.com", "acme.com", 0 },
        { "reports@acme.com", "mail.acme.com", 0 },
        { "reports@acme.org", "acme.com", 0 },
        { "acme.com", "acme.com", 0 },
        { "reports@", "acme.com", 0 },
        { "reports@acme.com", "", 0 },
        { "acme.com@evil.com", "acme.com", 0 },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (sd_address_domain_match(cases[i].addr, strlen(cases[i].addr),
                                    cases[i].domain, strlen(cases[i].domain))
            != cases[i].want)
        {
            print_error("match case %zu: %s / %s\n", i, cases[i].addr,
                        cases[i].domain);
            fail();
        }
    }

    assert_false(sd_address_domain_match(NULL, 0, S("acme.com")));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_name_length),
        cmocka_unit_test(test_parse_then_normalize),
        cmocka_unit_test(test_format_vectors),
        cmocka_unit_test(test_format_decisions),
        cmocka_unit_test(test_format_line_limit),
        cmocka_unit_test(test_format_errors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_address_domain_match),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
