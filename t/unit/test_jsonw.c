/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Unit tests: the streaming JSON writer (src/core/sd_jsonw.c)
 * and the writers built on it (DNS records, the public row).
 *
 * The oracle is jansson itself: whatever the writer produces must be byte
 * for byte what json_dumps(JSON_COMPACT) gives for the same value, so
 * that streaming the list changed no answer.
 *
 * (make -f Makefile.dev unit links every pure-core source.)
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sd_jsonw.h"
#include "sd_dns.h"
#include "sd_row.h"


#define STR(lit)  { sizeof(lit) - 1, lit }


/* what the writer wrote, NUL-terminated; the caller frees it */

static char *
take(sd_jsonw_t *w, sd_jsonw_mem_t *mem)
{
    assert_false(sd_jsonw_failed(w));
    assert_int_equal(sd_jsonw_mem_emit("", 1, mem), 0);

    return mem->data;
}


static void
test_strings_escape_as_jansson(void **state)
{
    size_t           i;
    char            *want, *got;
    json_t          *j;
    sd_jsonw_t       w;
    sd_jsonw_mem_t   mem;

    static const char  *cases[] = {
        "", "plain", "a\"b", "back\\slash", "tab\there", "nl\ncr\r",
        "\b\f", "\x01\x1f\x7f", "slash/", "\xc3\xa9t\xc3\xa9",
        "\xe2\x82\xac", "\xf0\x9f\x98\x80 emoji", "mixed \"\xc3\xa9\"\n"
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&mem, 0, sizeof(mem));
        sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);
        sd_jsonw_str(&w, cases[i], strlen(cases[i]));
        got = take(&w, &mem);

        j = json_string(cases[i]);
        assert_non_null(j);
        want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_string_equal(got, want);

        free(want);
        json_decref(j);
        free(got);
    }
}


static void
test_invalid_utf8_fails(void **state)
{
    size_t           i;
    sd_jsonw_t       w;
    sd_jsonw_mem_t   mem;

    static const char  *cases[] = {
        "\xff", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "ok\x80"
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_false(sd_jsonw_utf8_valid(cases[i], strlen(cases[i])));
        assert_null(json_string(cases[i]));

        memset(&mem, 0, sizeof(mem));
        sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);
        sd_jsonw_str(&w, cases[i], strlen(cases[i]));
        assert_true(sd_jsonw_failed(&w));

        /* sticky: nothing more is written */
        sd_jsonw_lit(&w, "x");
        assert_null(sd_jsonw_mem_load(&w, &mem));
    }

    assert_true(sd_jsonw_utf8_valid("\xc3\xa9", 2));
}


static int
refuse(const char *buf, size_t size, void *data)
{
    (void) buf;
    (void) size;
    (void) data;

    return -1;
}


static void
test_emit_failure_is_sticky(void **state)
{
    sd_jsonw_t  w;
    json_t     *j;

    (void) state;

    sd_jsonw_init(&w, refuse, NULL);
    sd_jsonw_lit(&w, "{");
    assert_true(sd_jsonw_failed(&w));

    sd_jsonw_init(&w, refuse, NULL);
    j = json_pack("{s:i}", "a", 1);
    sd_jsonw_value(&w, j);
    assert_true(sd_jsonw_failed(&w));
    json_decref(j);
}


/* the DNS array as written equals the dump of sd_dns_records() */

static void
test_dns_write_matches_records(void **state)
{
    char            *want, *got;
    json_t          *j;
    sd_jsonw_t       w;
    sd_jsonw_mem_t   mem;

    static const sd_str_t  dom = STR("acme.com");
    static const sd_str_t  toks[] = { STR("abc"), STR(""), STR("d\"ef") };
    static const sd_str_t  mf = STR("pmail.acme.com");
    static const sd_str_t  other = STR("bounce.example.org");
    static const sd_str_t  rg = STR("eu-west-1");

    (void) state;

    memset(&mem, 0, sizeof(mem));
    sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);
    assert_int_equal(sd_dns_write(&w, &dom, toks, 3, NULL, &mf, &rg, 0), 0);
    got = take(&w, &mem);

    j = sd_dns_records(&dom, toks, 3, NULL, &mf, &rg, 0);
    assert_non_null(j);
    assert_int_equal(json_array_size(j), 5);
    want = json_dumps(j, JSON_COMPACT);
    assert_string_equal(got, want);

    /* no hint for a MAIL FROM domain outside the identity's domain */
    assert_non_null(strstr(got, "enter only \\\"pmail\\\" as the name."));
    assert_non_null(strstr(got, "enter only \\\"abc._domainkey\\\""));
    assert_non_null(strstr(got, "enter only \\\"_dmarc\\\""));
    free(want);
    free(got);
    json_decref(j);

    memset(&mem, 0, sizeof(mem));
    sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);
    assert_int_equal(sd_dns_write(&w, &dom, toks, 1, NULL, &other, &rg, 0),
                     0);
    got = take(&w, &mem);
    assert_null(strstr(got, "enter only \\\"bounce"));
    free(got);

    /* a refused argument writes nothing at all */
    memset(&mem, 0, sizeof(mem));
    sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);
    assert_int_equal(sd_dns_write(&w, &dom, toks, 1, NULL,
                                  &(sd_str_t) STR("bad\xff"), &rg, 0), -1);
    assert_int_equal(mem.len, 0);
    free(mem.data);
}


/* the public row as written equals the dump of its parse */

static void
test_row_write_public_order(void **state)
{
    char            *got, *want;
    json_t          *row, *pub;
    sd_jsonw_t       w;
    sd_jsonw_mem_t   mem;

    (void) state;

    /* no dkim_inherited_from, claim expired: both are added, in order */
    row = json_pack("{s:s,s:s,s:s,s:s,s:[s],s:s}",
                    "identity", "acme.com", "type", "domain",
                    "kind", "managed", "state", "failed",
                    "_tokens", "tok", "sender_name", "A \"B\"");
    assert_non_null(row);

    memset(&mem, 0, sizeof(mem));
    sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);
    assert_int_equal(sd_row_write_public(&w, row, "us-east-1", "x.com"), 0);
    got = take(&w, &mem);

    assert_non_null(strstr(got, "\"sender_name\":\"A \\\"B\\\"\","
                                "\"dkim_inherited_from\":\"x.com\","
                                "\"next_check_at\":null,"
                                "\"dns_records\":[{"));
    assert_null(strstr(got, "_tokens"));

    pub = sd_row_public(row, "us-east-1", "x.com");
    want = json_dumps(pub, JSON_COMPACT);
    assert_string_equal(got, want);

    free(want);
    free(got);
    json_decref(pub);
    json_decref(row);
}


/* a row's public form from its text equals the one from its tree */

static void
check_view(const char *text, int expect_text_view)
{
    int              rc;
    char            *a, *b;
    json_t          *row;
    sd_jsonw_t       w;
    sd_jsonw_mem_t   mem;

    static sd_row_view_t  v;

    row = json_loads(text, 0, NULL);
    assert_non_null(row);

    memset(&mem, 0, sizeof(mem));
    sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);
    assert_int_equal(sd_row_write_public(&w, row, "eu-west-1", "acme.com"),
                     0);
    a = take(&w, &mem);

    rc = sd_row_view_text(&v, text, strlen(text));
    assert_int_equal(rc, expect_text_view ? 0 : -1);

    if (rc == 0) {
        memset(&mem, 0, sizeof(mem));
        sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);
        assert_int_equal(sd_row_write_view(&w, &v, "eu-west-1", "acme.com"),
                         0);
        b = take(&w, &mem);
        assert_string_equal(a, b);
        free(b);
    }

    free(a);
    json_decref(row);
}


static void
test_row_view_text_matches_tree(void **state)
{
    size_t  i;

    static const char  *plain[] = {
        "{\"identity\":\"acme.com\",\"type\":\"domain\",\"kind\":\"managed\","
        "\"sender_name\":\"A \\\"B\\\" \\\\ \xc3\xa9\\n\",\"state\":\"ready\","
        "\"verified_for_sending\":false,\"dkim_inherited_from\":null,"
        "\"mail_from_domain\":\"pmail.acme.com\",\"verification_info\":"
        "{\"error_type\":null,\"n\":[1,-2500,true,{}]},"
        "\"next_check_at\":\"2026-01-01T00:00:00Z\",\"_attempt\":3,"
        "\"_tokens\":[\"t1\",7,\"t2\",\"t3\"],\"_zone\":\"dkim.example\"}",
        "{\"identity\":\"acme.com\",\"type\":\"domain\",\"state\":\"creating\","
        "\"_tokens\":[]}",
        "{\"identity\":\"a@acme.com\",\"type\":\"email\",\"dns_records\":[1],"
        "\"next_check_at\":\"x\",\"dkim_inherited_from\":\"old\"}",
        "{\"identity\":\"x@y.z\",\"kind\":\"legacy\",\"_t\":1}",
        " { \"identity\" : \"acme.com\" , \"type\" : 5 } ",
        "{}",
    };

    static const char  *odd[] = {
        /* an escape in a name the records are made of: parsed instead */
        "{\"identity\":\"acme.com\",\"type\":\"domain\","
        "\"mail_from_domain\":\"p\\nmail.acme.com\"}",
        "{\"identity\":\"acme.com\",\"type\":\"domain\","
        "\"_tokens\":[\"a\\u0041\"]}",
        "{\"a\":1,\"a\":2}",
    };

    static const char  *invalid[] = {
        "", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}",
        "{\"a\":tru}", "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}", "[1]",
        "{\"a\":1} x", "{\"a\":-2.5e}", "{\"a\":[1,]}", "{\"a\":{\"b\"}}", "{\"a\":\"\xff\"}",
        "{\"a\":{\"b\":1,\"c\":[\"\\u12\"]}}",
    };

    static sd_row_view_t  v;

    (void) state;

    for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        check_view(plain[i], 1);
    }

    for (i = 0; i < sizeof(odd) / sizeof(odd[0]) - 1; i++) {
        check_view(odd[i], 0);
    }

    assert_int_equal(sd_row_view_text(&v, odd[2], strlen(odd[2])), -1);

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        assert_int_equal(sd_row_view_text(&v, invalid[i], strlen(invalid[i])),
                         -1);
    }
}


/*
 * Values are copied from the text as they are, so the text view takes
 * only the spelling jansson writes; any other goes to the tree path.
 * These rows were all taken by the text view once, and shown differently
 * from the tree (or jansson refuses them): found by
 * t/fuzz/fuzz_row_view.c, kept as t/fuzz/corpus/row_view/regress-*.
 */

static void
test_row_view_text_jansson_form_only(void **state)
{
    size_t        i;
    json_t       *row;
    char         *text;
    sd_ses_identity_t  si;

    static sd_row_view_t  v;

    static const char  *other_spelling[] = {
        /* regress-nested-space: a space inside a value */
        "{\"identity\":\"a.com\",\"last_error\":{\"code\":\"x\", "
        "\"n\":[1, 2]}}",
        /* regress-escape-slash, -u0041, -lower-hex */
        "{\"identity\":\"a.com\",\"sender_name\":\"a\\/b\"}",
        "{\"identity\":\"a.com\",\"sender_name\":\"\\u0041\"}",
        "{\"identity\":\"a.com\",\"sender_name\":\"\\u001f\"}",
        "{\"identity\":\"a.com\",\"sender_name\":\"\\ud83d\\ude00\"}",
        /* regress-neg-zero, regress-real-exp; reals at all */
        "{\"identity\":\"a.com\",\"_attempt\":1,\"n\":-0}",
        "{\"identity\":\"a.com\",\"n\":1E2}",
        "{\"identity\":\"a.com\",\"n\":[-2500.0]}",
        /* regress-nested-dup: jansson keeps the last value only */
        "{\"identity\":\"a.com\",\"verification_info\":"
        "{\"error_type\":null,\"error_type\":\"X\"}}",
        "{\"identity\":\"a.com\",\"o\":{\"k\":1,\"\\u006b\":2}}",
    };

    static const char  *refused_by_jansson[] = {
        /* regress-escape-nul, -lone-surrogate, -big-int, -real-overflow */
        "{\"identity\":\"a.com\",\"sender_name\":\"a\\u0000\"}",
        "{\"identity\":\"a.com\",\"sender_name\":\"\\ud800\"}",
        "{\"identity\":\"a.com\",\"n\":9223372036854775808}",
        "{\"identity\":\"a.com\",\"n\":1e400}",
    };

    (void) state;

    for (i = 0; i < sizeof(other_spelling) / sizeof(other_spelling[0]); i++)
    {
        check_view(other_spelling[i], 0);
    }

    for (i = 0;
         i < sizeof(refused_by_jansson) / sizeof(refused_by_jansson[0]);
         i++)
    {
        assert_null(json_loads(refused_by_jansson[i], 0, NULL));
        assert_int_equal(sd_row_view_text(&v, refused_by_jansson[i],
                                          strlen(refused_by_jansson[i])),
                         -1);
    }

    /* what the module itself stores still takes the text view */
    check_view("{\"identity\":\"a.com\",\"n\":[0,-1,123456789012345678],"
               "\"s\":\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001F\x7f/\"}", 1);

    row = sd_row_new("acme.com", 8, 1, "A \"B\" \\ \xc3\xa9\t\x01", 12,
                     "pmail", 5, 1795687200);
    memset(&si, 0, sizeof(si));
    si.dkim.status = SD_SES_VS_SUCCESS;
    si.dkim.ntokens = 1;
    strcpy(si.dkim.tokens[0], "tok1");
    strcpy(si.verification_info.error_type, "TYPE");
    sd_row_apply_ses(row, &si, 1795687200);
    sd_row_set_error(row, "x", "\"quoted\"\n\x1f");

    text = json_dumps(row, JSON_COMPACT);
    assert_non_null(text);
    check_view(text, 1);

    free(text);
    json_decref(row);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_escape_as_jansson),
        cmocka_unit_test(test_invalid_utf8_fails),
        cmocka_unit_test(test_emit_failure_is_sticky),
        cmocka_unit_test(test_dns_write_matches_records),
        cmocka_unit_test(test_row_write_public_order),
        cmocka_unit_test(test_row_view_text_matches_tree),
        cmocka_unit_test(test_row_view_text_jansson_form_only),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
