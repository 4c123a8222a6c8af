/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: sd_ownership.c (the DNS ownership proof of a domain already
 * verified in SES), its record among an identity's DNS records, its
 * verdict in the diagnosis, and the row's flags while it waits.
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sd_ownership.h"
#include "sd_row.h"
#include "sd_store.h"
#include "sd_diagnose.h"


#define NOW    1764000000
#define TOKEN  "aebagbafaydqqcikbmga2dqpcaireeyu"
#define OTHER  "bbbbgbafaydqqcikbmga2dqpcaireeyu"
#define NAME   "_sender-domains.acme.com"


/* tokens: base32 of 20 random bytes, lower case, 32 characters */

static void
test_token(void **state)
{
    unsigned char  rnd[SD_OWN_RANDOM_BYTES];
    char           out[SD_OWN_TOKEN_BUFSZ];
    size_t         i;

    (void) state;

    for (i = 0; i < sizeof(rnd); i++) {
        rnd[i] = (unsigned char) (i + 1);
    }

    /* Python: base64.b32encode(bytes(range(1, 21))).lower() */
    assert_int_equal(sd_own_token(rnd, sizeof(rnd), out, sizeof(out)), 32);
    assert_string_equal(out, TOKEN);
    assert_true(sd_own_token_valid(out, strlen(out)));

    memset(rnd, 0xff, sizeof(rnd));
    assert_int_equal(sd_own_token(rnd, sizeof(rnd), out, sizeof(out)), 32);
    assert_string_equal(out, "77777777777777777777777777777777");

    /* too small a buffer, too few bytes: refused */
    assert_int_equal(sd_own_token(rnd, sizeof(rnd), out, 32), -1);
    assert_int_equal(sd_own_token(rnd, 10, out, sizeof(out)), -1);

    assert_false(sd_own_token_valid("AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYU", 32));
    assert_false(sd_own_token_valid("aebagbafaydqqcikbmga2dqpcairee1u", 32));
    assert_false(sd_own_token_valid(TOKEN, 31));
    assert_false(sd_own_token_valid(NULL, 0));
}


static void
test_name(void **state)
{
    char  out[300];

    (void) state;

    assert_int_equal(sd_own_name("acme.com", 8, out, sizeof(out)),
                     (int) strlen(NAME));
    assert_string_equal(out, NAME);
    assert_int_equal(sd_own_name("acme.com", 8, out, 10), -1);
    assert_int_equal(sd_own_name("", 0, out, sizeof(out)), -1);
}


/* one TXT value against the token: joined strings, quotes, case, blanks */

#define TXT(s)  sd_own_txt(s, sizeof(s) - 1, TOKEN)

static void
test_txt(void **state)
{
    (void) state;

    assert_int_equal(TXT("sd-verify=" TOKEN), SD_OWN_TXT_MATCH);
    assert_int_equal(TXT("  sd-verify=" TOKEN " "), SD_OWN_TXT_MATCH);
    assert_int_equal(TXT("SD-Verify=" TOKEN), SD_OWN_TXT_MATCH);
    /* typed in capitals: base32 ignores case */
    assert_int_equal(TXT("sd-verify=AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYU"),
                     SD_OWN_TXT_MATCH);
    /* split into "sd-verify=" "aeba…" by a provider: joined as RFC 7208 */
    assert_int_equal(TXT("sd-verify=" "aebagbafaydqqcik" "bmga2dqpcaireeyu"),
                     SD_OWN_TXT_MATCH);
    assert_int_equal(TXT("sd-verify= " TOKEN), SD_OWN_TXT_MATCH);

    /* the quotes typed with the value, kept as part of it */
    assert_int_equal(TXT("\"sd-verify=" TOKEN "\""), SD_OWN_TXT_MATCH_QUOTED);
    assert_int_equal(TXT("\\\"sd-verify=" TOKEN "\\\""),
                     SD_OWN_TXT_MATCH_QUOTED);

    /* another workspace's token, a truncated one, one with more after */
    assert_int_equal(TXT("sd-verify=" OTHER), SD_OWN_TXT_WRONG);
    assert_int_equal(TXT("sd-verify=aebagbafaydqqcikbmga2dqpcairee"),
                     SD_OWN_TXT_WRONG);
    assert_int_equal(TXT("sd-verify=" TOKEN "x"), SD_OWN_TXT_WRONG);
    assert_int_equal(TXT("sd-verify=" TOKEN " sd-verify=" OTHER),
                     SD_OWN_TXT_WRONG);
    assert_int_equal(TXT("sd-verify="), SD_OWN_TXT_WRONG);

    /* not ours at all */
    assert_int_equal(TXT("v=spf1 include:amazonses.com ~all"),
                     SD_OWN_TXT_OTHER);
    assert_int_equal(TXT(TOKEN), SD_OWN_TXT_OTHER);
    assert_int_equal(TXT(""), SD_OWN_TXT_OTHER);
    assert_int_equal(sd_own_txt(NULL, 0, TOKEN), SD_OWN_TXT_OTHER);

    /* an empty token never matches anything */
    assert_int_equal(sd_own_txt("sd-verify=", 10, ""), SD_OWN_TXT_WRONG);
}


static void
add_txt(sd_dnsw_answer_t *a, const char *owner, const char *data)
{
    sd_dnsw_rr_t  *rr;

    rr = &a->rr[a->nrr++];
    memset(rr, 0, sizeof(*rr));
    rr->type = SD_DNS_T_TXT;
    strcpy(rr->owner, owner);
    strcpy(rr->data, data);
    rr->data_len = strlen(data);
    rr->nstrings = 1;
}


static void
test_check(void **state)
{
    int               quoted;
    sd_dnsw_answer_t *a;

    (void) state;

    a = calloc(1, sizeof(sd_dnsw_answer_t));
    assert_non_null(a);

    assert_int_equal(sd_own_check(NULL, NAME, TOKEN, &quoted),
                     SD_OWN_MISSING);
    assert_int_equal(sd_own_check(a, NAME, TOKEN, &quoted), SD_OWN_MISSING);

    add_txt(a, NAME, "google-site-verification=abc");
    assert_int_equal(sd_own_check(a, NAME, TOKEN, &quoted), SD_OWN_MISSING);

    /* the right token at another name proves nothing */
    add_txt(a, "_sender-domains.other.com", "sd-verify=" TOKEN);
    assert_int_equal(sd_own_check(a, NAME, TOKEN, &quoted), SD_OWN_MISSING);

    /* another workspace's record: wrong, for this one */
    add_txt(a, NAME, "sd-verify=" OTHER);
    assert_int_equal(sd_own_check(a, NAME, TOKEN, &quoted), SD_OWN_WRONG);
    assert_int_equal(sd_own_check(a, NAME, OTHER, &quoted), SD_OWN_FOUND);
    assert_int_equal(quoted, 0);

    /* two workspaces' records side by side: each finds its own */
    add_txt(a, NAME, "\"sd-verify=" TOKEN "\"");
    assert_int_equal(sd_own_check(a, NAME, TOKEN, &quoted), SD_OWN_FOUND);
    assert_int_equal(quoted, 1);

    add_txt(a, NAME, "sd-verify=" TOKEN);
    assert_int_equal(sd_own_check(a, NAME, TOKEN, &quoted), SD_OWN_FOUND);
    assert_int_equal(quoted, 0);

    /* NXDOMAIN: missing */
    a->rcode = SD_DNS_RCODE_NXDOMAIN;
    assert_int_equal(sd_own_check(a, NAME, TOKEN, &quoted), SD_OWN_MISSING);

    free(a);
}


/* the row: unproven with a token, proven, lost */

static json_t *
unproven_row(int ses_verified)
{
    json_t  *row;

    row = sd_row_new("acme.com", 8, 1, "Acme", 4, "pmail", 5, NOW);
    assert_non_null(row);
    sd_row_set_state(row, SD_STATE_READY);
    json_object_set_new(row, "dkim_status", json_string("verified"));
    assert_int_equal(sd_own_set_unproven(row, TOKEN, ses_verified), 0);

    return row;
}


static void
test_row_states(void **state)
{
    json_t    *row;
    unsigned   flags;

    (void) state;

    row = sd_row_new("acme.com", 8, 1, "Acme", 4, "pmail", 5, NOW);
    assert_int_equal(sd_own_set_unproven(row, "short", 1), -1);
    json_decref(row);

    row = unproven_row(1);

    assert_true(sd_own_pending(row));
    assert_string_equal(sd_row_str(row, "ownership"), "unproven");
    assert_string_equal(sd_row_str(row, "origin"), "adopted");
    assert_true(json_is_false(json_object_get(row, "verified_for_sending")));

    /* waiting for its proof: never verified, holds no claim, scheduled */
    flags = sd_row_flags(row);
    assert_true(flags & SD_REC_UNPROVEN);
    assert_false(flags & SD_REC_VERIFIED);
    assert_false(flags & SD_REC_FAILED);

    /* SES's "verified" stays false for the workspace until proven */
    json_object_set_new(row, "verified_for_sending", json_true());
    assert_false(sd_row_flags(row) & SD_REC_VERIFIED);

    assert_int_equal(sd_own_prove(row), 1);
    assert_false(sd_own_pending(row));
    assert_string_equal(sd_row_str(row, "ownership"), "proven");
    assert_true(json_is_true(json_object_get(row, "verified_for_sending")));
    assert_true(json_is_null(json_object_get(row, "claim_expires_at")));
    assert_null(json_object_get(row, "_ses_verified"));

    flags = sd_row_flags(row);
    assert_false(flags & SD_REC_UNPROVEN);
    assert_true(flags & SD_REC_VERIFIED);

    /* proving twice changes nothing */
    assert_int_equal(sd_own_prove(row), 0);
    json_decref(row);

    /* proven while SES says pending: verified only when SES says so */
    row = unproven_row(0);
    assert_int_equal(sd_own_prove(row), 1);
    assert_true(json_is_false(json_object_get(row, "verified_for_sending")));
    json_decref(row);

    /* another workspace proved first: failed, neutral, no schedule */
    row = unproven_row(1);
    sd_own_lose(row);
    assert_false(sd_own_pending(row));
    assert_string_equal(sd_row_str(row, "state"), SD_STATE_FAILED);
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(row, "last_error"), "code")), SD_OWN_ELSEWHERE);
    assert_true(sd_row_flags(row) & SD_REC_FAILED);
    assert_int_equal(sd_own_prove(row), 0);
    json_decref(row);
}


static void
test_row_expires(void **state)
{
    json_t  *row;

    (void) state;

    row = unproven_row(1);
    sd_row_set_time(row, "claim_expires_at", NOW + 10);

    assert_int_equal(sd_row_expire(row, NOW), 0);
    assert_int_equal(sd_row_expire(row, NOW + 10), 1);
    assert_string_equal(sd_row_str(row, "state"), SD_STATE_FAILED);
    assert_true(sd_row_flags(row) & SD_REC_FAILED);
    assert_non_null(strstr(json_string_value(json_object_get(
        json_object_get(row, "last_error"), "message")), "ownership"));

    json_decref(row);
}


/* the public view shows the TXT record first, only while unproven */

static void
test_records(void **state)
{
    json_t  *row, *pub, *recs, *rec;

    (void) state;

    row = unproven_row(1);
    pub = sd_row_public(row, "eu-west-1", NULL);
    assert_non_null(pub);

    assert_null(json_object_get(pub, SD_OWN_TOKEN_FIELD));
    assert_string_equal(sd_row_str(pub, "ownership"), "unproven");

    recs = json_object_get(pub, "dns_records");
    rec = json_array_get(recs, 0);
    assert_string_equal(sd_row_str(rec, "group"), "ownership");
    assert_string_equal(sd_row_str(rec, "requirement"), "required");
    assert_string_equal(sd_row_str(rec, "type"), "TXT");
    assert_string_equal(sd_row_str(rec, "name"), NAME);
    assert_string_equal(sd_row_str(rec, "value"), "sd-verify=" TOKEN);
    assert_non_null(strstr(sd_row_str(rec, "explanation"), "TXT record"));
    json_decref(pub);

    assert_int_equal(sd_own_prove(row), 1);
    pub = sd_row_public(row, "eu-west-1", NULL);
    rec = json_array_get(json_object_get(pub, "dns_records"), 0);
    assert_string_not_equal(sd_row_str(rec, "group"), "ownership");
    json_decref(pub);

    json_decref(row);
}


/* the diagnosis: ok, missing, wrong for the ownership record */

static json_t *
diag(const char *txt, unsigned rcode)
{
    json_t             *recs, *out, *rec;
    sd_diag_query_t     q[SD_DIAG_QUERIES_MAX];
    sd_diag_result_t    res[SD_DIAG_QUERIES_MAX];
    sd_dnsw_answer_t   *a;
    int                 n, i;

    recs = json_pack("[{s:s,s:s,s:s,s:s,s:s,s:s}]", "group", "ownership",
                     "requirement", "required", "type", "TXT", "name", NAME,
                     "value", "sd-verify=" TOKEN, "explanation", "x");
    assert_non_null(recs);

    n = sd_diag_queries(recs, "acme.com", q, SD_DIAG_QUERIES_MAX);
    assert_true(n > 0);

    a = calloc(n, sizeof(sd_dnsw_answer_t));
    assert_non_null(a);

    for (i = 0; i < n; i++) {
        res[i].status = SD_DNSQ_ANSWER;
        res[i].answer = &a[i];

        if (q[i].type == SD_DNS_T_TXT && strcmp(q[i].name, NAME) == 0) {
            a[i].rcode = rcode;

            if (txt) {
                add_txt(&a[i], NAME, txt);
            }
        }
    }

    out = sd_diag_run(recs, "acme.com", q, res, n);
    assert_non_null(out);

    rec = json_incref(json_array_get(json_object_get(out, "records"), 0));

    json_decref(out);
    json_decref(recs);
    free(a);

    return rec;
}


static void
test_diagnose(void **state)
{
    json_t  *rec;

    (void) state;

    rec = diag("sd-verify=" TOKEN, 0);
    assert_string_equal(sd_row_str(rec, "verdict"), "ok");
    assert_string_equal(sd_row_str(rec, "reason"), "match");
    json_decref(rec);

    rec = diag("\"sd-verify=" TOKEN "\"", 0);
    assert_string_equal(sd_row_str(rec, "verdict"), "ok");
    assert_string_equal(sd_row_str(rec, "reason"), "txt_extra_quotes");
    json_decref(rec);

    rec = diag("sd-verify=" OTHER, 0);
    assert_string_equal(sd_row_str(rec, "verdict"), "wrong");
    assert_string_equal(sd_row_str(rec, "reason"),
                        "ownership_token_mismatch");
    json_decref(rec);

    rec = diag(NULL, SD_DNS_RCODE_NXDOMAIN);
    assert_string_equal(sd_row_str(rec, "verdict"), "missing");
    assert_string_equal(sd_row_str(rec, "reason"), "not_found");
    json_decref(rec);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_txt),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_row_states),
        cmocka_unit_test(test_row_expires),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_diagnose),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
