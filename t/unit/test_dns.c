/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Unit tests: sd_dns.c
 *
 * cc -std=gnu99 -Wall -Wextra -Werror -Isrc t/unit/test_dns.c \
 *     src/core/sd_dns.c \
 *     src/core/sd_identity.c -ljansson -lcmocka \
 *     -o /tmp/test_dns
 * valgrind --leak-check=full --error-exitcode=1 /tmp/test_dns
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sd_dns.h"


#define STR(lit)  { sizeof(lit) - 1, lit }


static const sd_str_t  acme = STR("acme.com");
static const sd_str_t  tokens[] = {
    STR("abc123"), STR("def456"), STR("ghi789")
};
static const sd_str_t  pmail = STR("pmail.acme.com");
static const sd_str_t  region = STR("eu-west-1");


static const char *
field(json_t *rec, const char *key)
{
    json_t  *v;

    v = json_object_get(rec, key);
    assert_non_null(v);
    assert_true(json_is_string(v));

    return json_string_value(v);
}


static void
check_record(json_t *rec, const char *group, const char *requirement,
    const char *type, const char *name, const char *value)
{
    assert_true(json_is_object(rec));

    /* exactly the six fields of docs/openapi.yaml's DnsRecord, no more */
    assert_int_equal(json_object_size(rec), 6);

    assert_string_equal(field(rec, "group"), group);
    assert_string_equal(field(rec, "requirement"), requirement);
    assert_string_equal(field(rec, "type"), type);
    assert_string_equal(field(rec, "name"), name);
    assert_string_equal(field(rec, "value"), value);
    assert_true(strlen(field(rec, "explanation")) > 60);
}


static void
test_full_domain(void **state)
{
    json_t      *r;
    const char  *e;

    (void) state;

    r = sd_dns_records(&acme, tokens, 3, NULL, &pmail, &region, 0);
    assert_non_null(r);
    assert_true(json_is_array(r));
    assert_int_equal(json_array_size(r), 6);

    check_record(json_array_get(r, 0), "dkim", "required", "CNAME",
                 "abc123._domainkey.acme.com",
                 "abc123.dkim.amazonses.com");
    check_record(json_array_get(r, 1), "dkim", "required", "CNAME",
                 "def456._domainkey.acme.com",
                 "def456.dkim.amazonses.com");
    check_record(json_array_get(r, 2), "dkim", "required", "CNAME",
                 "ghi789._domainkey.acme.com",
                 "ghi789.dkim.amazonses.com");
    check_record(json_array_get(r, 3), "mail_from", "recommended", "MX",
                 "pmail.acme.com",
                 "10 feedback-smtp.eu-west-1.amazonses.com");
    check_record(json_array_get(r, 4), "mail_from", "recommended", "TXT",
                 "pmail.acme.com", "v=spf1 include:amazonses.com ~all");
    check_record(json_array_get(r, 5), "dmarc", "optional", "TXT",
                 "_dmarc.acme.com", "v=DMARC1; p=none;");

    /* plain language naming the domain, and what to type */

    e = field(json_array_get(r, 0), "explanation");
    assert_non_null(strstr(e, "mail from acme.com really was sent by you"));
    assert_non_null(strstr(e, "Add this CNAME record at your DNS provider"));
    assert_non_null(strstr(e, "enter only \"abc123._domainkey\""));

    e = field(json_array_get(r, 3), "explanation");
    assert_non_null(strstr(e, "priority 10"));
    assert_non_null(strstr(e, "enter only \"pmail\""));

    e = field(json_array_get(r, 4), "explanation");
    assert_non_null(strstr(e, "double quotes"));

    e = field(json_array_get(r, 5), "explanation");
    assert_non_null(strstr(e, "p=none"));
    assert_non_null(strstr(e, "rua=mailto:"));
    assert_non_null(strstr(e, "enter only \"_dmarc\""));

    json_decref(r);
}


static void
test_regional_zone_no_mail_from(void **state)
{
    size_t    i;
    json_t   *r;
    sd_str_t  zone = STR("dkim.af-south-1.amazonses.com");

    (void) state;

    r = sd_dns_records(&acme, tokens, 3, &zone, NULL, NULL, 0);
    assert_non_null(r);
    assert_int_equal(json_array_size(r), 4);

    check_record(json_array_get(r, 0), "dkim", "required", "CNAME",
                 "abc123._domainkey.acme.com",
                 "abc123.dkim.af-south-1.amazonses.com");

    for (i = 0; i < 3; i++) {
        assert_string_equal(field(json_array_get(r, i), "group"), "dkim");
    }

    assert_string_equal(field(json_array_get(r, 3), "group"), "dmarc");

    json_decref(r);

    /* an empty zone or MAIL FROM counts as none */

    zone.len = 0;
    r = sd_dns_records(&acme, tokens, 1, &zone, &(sd_str_t) { 0, "" },
                       NULL, 0);
    assert_non_null(r);
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(field(json_array_get(r, 0), "value"),
                        "abc123.dkim.amazonses.com");
    json_decref(r);
}


static void
test_subdomain_identity(void **state)
{
    json_t    *r;
    sd_str_t   dom = STR("news.acme.com");
    sd_str_t   mf = STR("bounce.news.acme.com");
    sd_str_t   rg = STR("us-east-1");

    (void) state;

    r = sd_dns_records(&dom, tokens, 3, NULL, &mf, &rg, 0);
    assert_non_null(r);
    assert_int_equal(json_array_size(r), 6);

    check_record(json_array_get(r, 2), "dkim", "required", "CNAME",
                 "ghi789._domainkey.news.acme.com",
                 "ghi789.dkim.amazonses.com");
    check_record(json_array_get(r, 3), "mail_from", "recommended", "MX",
                 "bounce.news.acme.com",
                 "10 feedback-smtp.us-east-1.amazonses.com");
    check_record(json_array_get(r, 5), "dmarc", "optional", "TXT",
                 "_dmarc.news.acme.com", "v=DMARC1; p=none;");

    json_decref(r);
}


/* nginx strings are not NUL-terminated: only len counts */

static void
test_not_nul_terminated(void **state)
{
    json_t    *r;
    sd_str_t   dom = { 8, "acme.comGARBAGE" };
    sd_str_t   tok[1] = { { 3, "abcXYZ" } };
    sd_str_t   zone = { 18, "dkim.amazonses.com!!" };
    sd_str_t   mf = { 14, "pmail.acme.com???" };
    sd_str_t   rg = { 9, "us-west-2xx" };

    (void) state;

    r = sd_dns_records(&dom, tok, 1, &zone, &mf, &rg, 0);
    assert_non_null(r);
    assert_int_equal(json_array_size(r), 4);

    check_record(json_array_get(r, 0), "dkim", "required", "CNAME",
                 "abc._domainkey.acme.com", "abc.dkim.amazonses.com");
    check_record(json_array_get(r, 1), "mail_from", "recommended", "MX",
                 "pmail.acme.com",
                 "10 feedback-smtp.us-west-2.amazonses.com");
    assert_null(strstr(field(json_array_get(r, 0), "explanation"),
                       "GARBAGE"));

    json_decref(r);
}


static void
test_address_identity(void **state)
{
    json_t    *r;
    sd_str_t   addr = STR("reports@acme.com");

    (void) state;

    r = sd_dns_records(&addr, NULL, 0, NULL, NULL, NULL, 1);
    assert_non_null(r);
    assert_true(json_is_array(r));
    assert_int_equal(json_array_size(r), 0);
    json_decref(r);

    /* for_address wins even if tokens are passed */

    r = sd_dns_records(&addr, tokens, 3, NULL, &pmail, &region, 1);
    assert_non_null(r);
    assert_int_equal(json_array_size(r), 0);
    json_decref(r);
}


static void
test_bad_arguments(void **state)
{
    json_t    *r;
    sd_str_t   empty = { 0, "" };
    sd_str_t   bad[2] = { STR("abc"), { 3, NULL } };

    (void) state;

    assert_null(sd_dns_records(NULL, tokens, 3, NULL, NULL, NULL, 0));
    assert_null(sd_dns_records(&empty, tokens, 3, NULL, NULL, NULL, 0));
    assert_null(sd_dns_records(&acme, NULL, 3, NULL, NULL, NULL, 0));

    /* MAIL FROM without a region: the MX cannot be written */
    assert_null(sd_dns_records(&acme, tokens, 3, NULL, &pmail, NULL, 0));
    assert_null(sd_dns_records(&acme, tokens, 3, NULL, &pmail, &empty, 0));

    /* a token without data (not merely empty) is a caller bug */
    assert_null(sd_dns_records(&acme, bad, 2, NULL, NULL, NULL, 0));

    /* no tokens yet (SES has not answered): DMARC only */
    r = sd_dns_records(&acme, NULL, 0, NULL, NULL, NULL, 0);
    assert_non_null(r);
    assert_int_equal(json_array_size(r), 1);
    json_decref(r);
}


/* the whole array as JSON text: valid, and stable for the API */

static void
test_serialised(void **state)
{
    char    *s;
    json_t  *r, *back;

    (void) state;

    r = sd_dns_records(&acme, tokens, 3, NULL, &pmail, &region, 0);
    assert_non_null(r);

    s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(s);
    assert_non_null(strstr(s, "{\"group\":\"dkim\",\"requirement\":"
                              "\"required\",\"type\":\"CNAME\",\"name\":"
                              "\"abc123._domainkey.acme.com\",\"value\":"
                              "\"abc123.dkim.amazonses.com\","
                              "\"explanation\":\""));

    back = json_loads(s, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, r));

    json_decref(back);
    free(s);
    json_decref(r);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_full_domain),
        cmocka_unit_test(test_regional_zone_no_mail_from),
        cmocka_unit_test(test_subdomain_identity),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_address_identity),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_serialised),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
