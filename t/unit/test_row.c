/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Unit tests: the stored identity row (src/core/sd_row.c).
 *
 * cc -std=gnu99 -Wall -Wextra -Werror -Isrc t/unit/test_row.c \
 *     src/core/sd_row.c src/core/sd_dns.c \
 *     src/core/sd_identity.c \
 *     src/core/sd_time.c \
 *     src/core/sd_backoff.c \
 *     src/core/sd_sesparse.c -ljansson -lcmocka \
 *     -o /tmp/test_row && valgrind --leak-check=full \
 *     --error-exitcode=1 /tmp/test_row
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
#include <cmocka.h>

#include "sd_row.h"
#include "sd_store.h"
#include "sd_time.h"
#include "sd_backoff.h"


#define NOW       1795687200        /* 2026-11-26T10:00:00Z */
#define NOW_TEXT  "2026-11-26T10:00:00Z"
#define REGION    "eu-west-1"


static const char *
str(const json_t *row, const char *key)
{
    json_t  *v;

    v = json_object_get(row, key);

    if (!json_is_string(v)) {
        print_error("\"%s\" is not a string\n", key);
    }

    assert_true(json_is_string(v));

    return json_string_value(v);
}


static void
is_null(const json_t *row, const char *key)
{
    json_t  *v;

    v = json_object_get(row, key);

    if (!json_is_null(v)) {
        print_error("\"%s\" is not null\n", key);
    }

    assert_true(v != NULL && json_is_null(v));
}


static json_int_t
integer(const json_t *row, const char *key)
{
    json_t  *v;

    v = json_object_get(row, key);
    assert_true(json_is_integer(v));

    return json_integer_value(v);
}


static json_t *
new_domain(void)
{
    json_t  *row;

    row = sd_row_new("acme.com", 8, 1, "Acme Reports", 12, "pmail", 5, NOW);
    assert_non_null(row);

    return row;
}


static json_t *
new_address(void)
{
    json_t  *row;

    row = sd_row_new("Rep@acme.com", 12, 0, "Reports", 7, NULL, 0, NOW);
    assert_non_null(row);

    return row;
}


static void
time_text(int64_t t, char *out)
{
    sd_time_format(t, out);
    out[SD_TIME_RFC3339_LEN] = '\0';
}


/* sd_row_new */

static void
test_new_domain(void **state)
{
    json_t  *row, *vi;

    (void) state;

    row = new_domain();

    assert_string_equal(str(row, "identity"), "acme.com");
    assert_string_equal(str(row, "type"), "domain");
    assert_string_equal(str(row, "kind"), "managed");
    assert_string_equal(str(row, "sender_name"), "Acme Reports");
    assert_string_equal(str(row, "state"), SD_STATE_CREATING);
    assert_string_equal(str(row, "dkim_status"), "pending");
    assert_string_equal(str(row, "mail_from_status"), "not_configured");
    assert_true(json_is_false(json_object_get(row, "verified_for_sending")));
    is_null(row, "dkim_inherited_from");
    is_null(row, "mail_from_domain");
    is_null(row, "origin");
    is_null(row, "verification_email_sent_at");
    is_null(row, "verification_link_expires_at");
    is_null(row, "last_checked_at");
    is_null(row, "last_error");
    assert_string_equal(str(row, "created_at"), NOW_TEXT);
    /* not due while the add that made it runs (SD_ROW_LIVE_GRACE) */
    assert_string_equal(str(row, "next_check_at"), "2026-11-26T10:02:00Z");

    vi = json_object_get(row, "verification_info");
    assert_true(json_is_object(vi));
    assert_int_equal(json_object_size(vi), 3);
    is_null(vi, "error_type");
    is_null(vi, "last_checked_at");
    is_null(vi, "last_success_at");

    assert_string_equal(str(row, "_mail_from_label"), "pmail");
    assert_int_equal(integer(row, "_attempt"), 0);

    assert_true(sd_row_is_domain(row));
    assert_true(sd_row_in_state(row, SD_STATE_CREATING));
    assert_false(sd_row_in_state(row, SD_STATE_READY));

    json_decref(row);
}


static void
test_new_address(void **state)
{
    json_t  *row;

    (void) state;

    /* the local part is kept as typed; no MAIL FROM label for an address */
    row = sd_row_new("Rep@acme.com", 12, 0, NULL, 0, "pmail", 5, NOW);
    assert_non_null(row);

    assert_string_equal(str(row, "identity"), "Rep@acme.com");
    assert_string_equal(str(row, "type"), "email");
    assert_string_equal(str(row, "kind"), "managed");
    assert_string_equal(str(row, "sender_name"), "");
    assert_string_equal(str(row, "dkim_status"), "pending");
    assert_null(json_object_get(row, "_mail_from_label"));
    assert_false(sd_row_is_domain(row));

    json_decref(row);

    /* lengths count, not NULs */
    row = sd_row_new("acme.comXX", 8, 1, "Acme ReportsXX", 12, "pmailXX", 5,
                     NOW);
    assert_string_equal(str(row, "identity"), "acme.com");
    assert_string_equal(str(row, "sender_name"), "Acme Reports");
    assert_string_equal(str(row, "_mail_from_label"), "pmail");
    json_decref(row);

    /* a domain without a label gets none; no time means null */
    row = sd_row_new("acme.com", 8, 1, "", 0, NULL, 0, 0);
    assert_null(json_object_get(row, "_mail_from_label"));
    is_null(row, "created_at");
    is_null(row, "next_check_at");
    json_decref(row);
}


static void
test_legacy_and_setters(void **state)
{
    json_t  *row;

    (void) state;

    row = sd_row_legacy("old@acme.com", 12, "Old Sender", 10);
    assert_non_null(row);
    assert_string_equal(str(row, "identity"), "old@acme.com");
    assert_string_equal(str(row, "kind"), "legacy");
    assert_string_equal(str(row, "type"), "email");
    assert_string_equal(str(row, "sender_name"), "Old Sender");
    assert_true(json_is_true(json_object_get(row, "verified_for_sending")));
    assert_true(json_is_array(json_object_get(row, "dns_records")));
    json_decref(row);

    row = new_domain();

    sd_row_set_state(row, SD_STATE_READY);
    assert_true(sd_row_in_state(row, SD_STATE_READY));

    sd_row_set_str(row, "mail_from_domain", "pmail.acme.comXX", 14);
    assert_string_equal(str(row, "mail_from_domain"), "pmail.acme.com");
    sd_row_set_str(row, "mail_from_domain", NULL, 0);
    is_null(row, "mail_from_domain");

    sd_row_set_time(row, "last_checked_at", NOW + 61);
    assert_string_equal(str(row, "last_checked_at"), "2026-11-26T10:01:01Z");
    sd_row_set_time(row, "last_checked_at", 0);
    is_null(row, "last_checked_at");

    sd_row_set_error(row, "ses_error", "SES said no");
    assert_string_equal(str(json_object_get(row, "last_error"), "code"),
                        "ses_error");
    assert_string_equal(str(json_object_get(row, "last_error"), "message"),
                        "SES said no");
    sd_row_clear_error(row);
    is_null(row, "last_error");

    json_decref(row);
}


/* sd_row_set_gone: a re-created identity gets its MAIL FROM again */

static void
test_gone(void **state)
{
    json_t  *row;

    (void) state;

    row = sd_row_new("acme.com", 8, 1, "", 0, "bounce", 6, NOW);
    sd_row_set_state(row, SD_STATE_READY);
    json_object_set_new(row, "verified_for_sending", json_true());
    sd_row_set_str(row, "mail_from_domain", "bounce.acme.com", 15);
    json_object_set_new(row, "mail_from_status", json_string("verified"));

    sd_row_set_gone(row);
    assert_true(sd_row_in_state(row, SD_STATE_CREATING));
    assert_true(json_is_false(json_object_get(row, "verified_for_sending")));
    is_null(row, "mail_from_domain");
    assert_string_equal(str(row, "mail_from_status"), "not_configured");
    assert_string_equal(str(row, "_mail_from_label"), "bounce");
    json_decref(row);

    /* a MAIL FROM SES had (an adopted identity): its label is kept too */
    row = sd_row_new("acme.com", 8, 1, "", 0, NULL, 0, NOW);
    sd_row_set_str(row, "mail_from_domain", "mx.out.ACME.com", 15);
    sd_row_set_gone(row);
    assert_string_equal(str(row, "_mail_from_label"), "mx.out");
    is_null(row, "mail_from_domain");
    json_decref(row);

    /* none: no label made up (the add flow's default applies) */
    row = sd_row_new("acme.com", 8, 1, "", 0, NULL, 0, NOW);
    sd_row_set_gone(row);
    assert_null(json_object_get(row, "_mail_from_label"));
    json_decref(row);

    /* an address has no MAIL FROM of its own */
    row = sd_row_new("ann@acme.com", 12, 0, "", 0, NULL, 0, NOW);
    sd_row_set_state(row, SD_STATE_READY);
    sd_row_set_gone(row);
    assert_true(sd_row_in_state(row, SD_STATE_CREATING));
    assert_null(json_object_get(row, "_mail_from_label"));
    json_decref(row);
}


/* sd_row_apply_ses */

static void
ses_domain(sd_ses_identity_t *si)
{
    memset(si, 0, sizeof(sd_ses_identity_t));

    si->identity_type = SD_SES_IDENTITY_DOMAIN;
    si->verification_status = SD_SES_VS_PENDING;
    si->dkim.present = 1;
    si->dkim.signing_enabled = 1;
    si->dkim.status = SD_SES_VS_PENDING;
    si->dkim.ntokens = 3;
    strcpy(si->dkim.tokens[0], "tok1abc");
    strcpy(si->dkim.tokens[1], "tok2def");
    strcpy(si->dkim.tokens[2], "tok3ghi");
}


/* a ready domain whose MAIL FROM SES is still checking */

static json_t *
mail_from_pending_domain(sd_ses_identity_t *si)
{
    json_t  *row;

    row = new_domain();
    sd_row_set_state(row, SD_STATE_READY);
    ses_domain(si);
    strcpy(si->mail_from.domain, "pmail.acme.com");
    si->mail_from.status = SD_SES_VS_PENDING;
    sd_row_apply_ses(row, si, NOW);

    return row;
}


typedef struct {
    sd_ses_vstatus_e  status;
    const char       *dkim;          /* dkim_status */
    const char       *mail_from;     /* mail_from_status with a domain */
} status_case_t;


static const status_case_t  status_cases[] = {
    { SD_SES_VS_NONE,              "pending",  "not_configured" },
    { SD_SES_VS_PENDING,           "pending",  "pending" },
    { SD_SES_VS_SUCCESS,           "verified", "verified" },
    { SD_SES_VS_FAILED,            "failed",   "failed" },
    { SD_SES_VS_TEMPORARY_FAILURE, "pending",  "pending" },
    { SD_SES_VS_NOT_STARTED,       "pending",  "pending" },
    { SD_SES_VS_UNKNOWN,           "pending",  "pending" },
};


static void
test_apply_domain(void **state)
{
    char               when[SD_TIME_RFC3339_LEN + 1];
    json_t            *row, *tokens, *vi;
    sd_ses_identity_t  si;

    (void) state;

    row = new_domain();
    sd_row_set_state(row, SD_STATE_READY);
    sd_row_set_str(row, "mail_from_domain", "pmail.acme.com", 14);

    ses_domain(&si);
    strcpy(si.dkim.signing_hosted_zone, "dkim.eu-west-1.amazonses.com");
    strcpy(si.mail_from.domain, "bounce.acme.com");
    si.mail_from.status = SD_SES_VS_PENDING;
    strcpy(si.verification_info.error_type, "TYPE_NOT_FOUND");
    si.verification_info.last_checked = NOW - 3600;
    si.verification_info.last_success = 0;

    sd_row_apply_ses(row, &si, NOW + 5);

    assert_string_equal(str(row, "dkim_status"), "pending");
    assert_true(json_is_false(json_object_get(row, "verified_for_sending")));

    tokens = json_object_get(row, "_tokens");
    assert_true(json_is_array(tokens));
    assert_int_equal(json_array_size(tokens), 3);
    assert_string_equal(json_string_value(json_array_get(tokens, 0)),
                        "tok1abc");
    assert_string_equal(json_string_value(json_array_get(tokens, 1)),
                        "tok2def");
    assert_string_equal(json_string_value(json_array_get(tokens, 2)),
                        "tok3ghi");
    assert_string_equal(str(row, "_zone"), "dkim.eu-west-1.amazonses.com");

    /* what SES already has wins over the label we asked for */
    assert_string_equal(str(row, "mail_from_domain"), "bounce.acme.com");
    assert_string_equal(str(row, "mail_from_status"), "pending");

    /* the refresher's DNS hint stays while SES waits, goes once it is done */
    json_object_set_new(row, "dns_hint", json_pack("{s:s}", "summary", "x"));
    sd_row_apply_ses(row, &si, NOW + 5);
    assert_non_null(json_object_get(row, "dns_hint"));
    si.dkim.status = SD_SES_VS_SUCCESS;
    si.mail_from.status = SD_SES_VS_SUCCESS;
    sd_row_apply_ses(row, &si, NOW + 5);
    assert_null(json_object_get(row, "dns_hint"));
    si.dkim.status = SD_SES_VS_PENDING;
    si.mail_from.status = SD_SES_VS_PENDING;
    sd_row_apply_ses(row, &si, NOW + 5);

    vi = json_object_get(row, "verification_info");
    assert_true(json_is_object(vi));
    assert_string_equal(str(vi, "error_type"), "TYPE_NOT_FOUND");
    assert_string_equal(str(vi, "last_checked_at"), "2026-11-26T09:00:00Z");
    is_null(vi, "last_success_at");

    time_text(NOW + 5, when);
    assert_string_equal(str(row, "last_checked_at"), when);

    /* untouched */
    assert_string_equal(str(row, "identity"), "acme.com");
    assert_string_equal(str(row, "sender_name"), "Acme Reports");
    assert_string_equal(str(row, "state"), SD_STATE_READY);
    assert_string_equal(str(row, "created_at"), NOW_TEXT);

    /* verified: everything green, error cleared, last success shown */
    si.dkim.status = SD_SES_VS_SUCCESS;
    si.mail_from.status = SD_SES_VS_SUCCESS;
    si.verified_for_sending = 1;
    si.verification_status = SD_SES_VS_SUCCESS;
    si.verification_info.error_type[0] = '\0';
    si.verification_info.last_checked = NOW;
    si.verification_info.last_success = NOW;

    sd_row_apply_ses(row, &si, NOW + 10);

    assert_string_equal(str(row, "dkim_status"), "verified");
    assert_string_equal(str(row, "mail_from_status"), "verified");
    assert_true(json_is_true(json_object_get(row, "verified_for_sending")));
    vi = json_object_get(row, "verification_info");
    is_null(vi, "error_type");
    assert_string_equal(str(vi, "last_checked_at"), NOW_TEXT);
    assert_string_equal(str(vi, "last_success_at"), NOW_TEXT);

    json_decref(row);
}


static void
test_apply_domain_statuses(void **state)
{
    size_t             i;
    json_t            *row;
    sd_ses_identity_t  si;

    (void) state;

    for (i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
        row = new_domain();

        ses_domain(&si);
        si.dkim.status = status_cases[i].status;
        strcpy(si.mail_from.domain, "pmail.acme.com");
        si.mail_from.status = status_cases[i].status;

        sd_row_apply_ses(row, &si, NOW);

        assert_string_equal(str(row, "dkim_status"), status_cases[i].dkim);
        assert_string_equal(str(row, "mail_from_status"),
                            status_cases[i].mail_from);
        assert_string_equal(str(row, "mail_from_domain"), "pmail.acme.com");

        json_decref(row);
    }

    /* no custom MAIL FROM in SES: not configured, whatever its status */
    row = new_domain();
    ses_domain(&si);
    si.mail_from.status = SD_SES_VS_SUCCESS;
    sd_row_apply_ses(row, &si, NOW);
    assert_string_equal(str(row, "mail_from_status"), "not_configured");
    is_null(row, "mail_from_domain");

    /* no zone from SES: none stored (the default applies later) */
    assert_null(json_object_get(row, "_zone"));

    json_decref(row);
}


static void
test_apply_address(void **state)
{
    size_t             i;
    json_t            *row;
    sd_ses_identity_t  si;

    (void) state;

    for (i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
        row = new_address();

        memset(&si, 0, sizeof(si));
        si.identity_type = SD_SES_IDENTITY_EMAIL_ADDRESS;
        si.verification_status = status_cases[i].status;
        si.verified_for_sending = (status_cases[i].status
                                   == SD_SES_VS_SUCCESS);

        /* DKIM of the parent domain is not the address's own */
        si.dkim.status = SD_SES_VS_FAILED;
        si.dkim.ntokens = 1;
        strcpy(si.dkim.tokens[0], "parenttoken");
        strcpy(si.mail_from.domain, "pmail.acme.com");
        si.mail_from.status = SD_SES_VS_SUCCESS;

        sd_row_apply_ses(row, &si, NOW);

        /* an address's dkim_status follows its verification status */
        assert_string_equal(str(row, "dkim_status"), status_cases[i].dkim);
        assert_true(json_is_boolean(json_object_get(row,
                                                    "verified_for_sending")));
        assert_int_equal(json_is_true(json_object_get(row,
                                                      "verified_for_sending")),
                         si.verified_for_sending);

        assert_null(json_object_get(row, "_tokens"));
        assert_null(json_object_get(row, "_zone"));
        assert_string_equal(str(row, "mail_from_status"), "not_configured");
        is_null(row, "mail_from_domain");
        assert_string_equal(str(row, "last_checked_at"), NOW_TEXT);

        json_decref(row);
    }
}


/* sd_row_flags */

/* what the resolver and the claims use; the poll's bits are tested below */
#define CLAIM_FLAGS  (SD_REC_DOMAIN | SD_REC_VERIFIED | SD_REC_FAILED)

typedef struct {
    int          domain;
    int          verified;       /* -1: field absent */
    const char  *state;
    const char  *dkim;
    unsigned     flags;
} flags_case_t;


static const flags_case_t  flags_cases[] = {
    { 1, 1, SD_STATE_READY,     "verified", SD_REC_DOMAIN | SD_REC_VERIFIED },
    { 1, 1, SD_STATE_MAIL_FROM, "verified", SD_REC_DOMAIN | SD_REC_VERIFIED },
    { 1, 1, SD_STATE_CREATING,  "verified", SD_REC_DOMAIN },
    { 1, 0, SD_STATE_READY,     "pending",  SD_REC_DOMAIN },
    { 1, 0, SD_STATE_READY,     "failed",   SD_REC_DOMAIN | SD_REC_FAILED },
    { 1, 1, SD_STATE_READY,     "failed",   SD_REC_DOMAIN | SD_REC_VERIFIED },
    { 1, -1, SD_STATE_READY,    "pending",  SD_REC_DOMAIN },
    { 0, 0, SD_STATE_READY,     "pending",  0 },
    { 0, 1, SD_STATE_READY,     "verified", SD_REC_VERIFIED },
    { 0, 1, SD_STATE_CREATING,  "verified", 0 },
    { 0, 0, SD_STATE_READY,     "failed",   SD_REC_FAILED },
    { 0, 0, SD_STATE_CREATING,  "failed",   SD_REC_FAILED },
    { 0, -1, SD_STATE_READY,    "verified", 0 },
};


static void
test_flags(void **state)
{
    size_t               i;
    json_t              *row;
    const flags_case_t  *c;

    (void) state;

    for (i = 0; i < sizeof(flags_cases) / sizeof(flags_cases[0]); i++) {
        c = &flags_cases[i];

        row = c->domain ? new_domain() : new_address();
        sd_row_set_state(row, c->state);
        json_object_set_new(row, "dkim_status", json_string(c->dkim));

        if (c->verified < 0) {
            json_object_del(row, "verified_for_sending");

        } else {
            json_object_set_new(row, "verified_for_sending",
                                json_boolean(c->verified));
        }

        if ((sd_row_flags(row) & CLAIM_FLAGS) != c->flags) {
            print_error("case %zu: flags 0x%x, expected 0x%x\n", i,
                        sd_row_flags(row), c->flags);
        }

        assert_int_equal(sd_row_flags(row) & CLAIM_FLAGS, c->flags);

        json_decref(row);
    }
}


static void
test_flags_after_ses(void **state)
{
    json_t            *row;
    sd_ses_identity_t  si;

    (void) state;

    /* an address SES gave up on releases its claim */
    row = new_address();
    sd_row_set_state(row, SD_STATE_READY);
    memset(&si, 0, sizeof(si));
    si.verification_status = SD_SES_VS_FAILED;
    sd_row_apply_ses(row, &si, NOW);
    assert_int_equal(sd_row_flags(row) & CLAIM_FLAGS, SD_REC_FAILED);

    si.verification_status = SD_SES_VS_SUCCESS;
    si.verified_for_sending = 1;
    sd_row_apply_ses(row, &si, NOW);
    assert_int_equal(sd_row_flags(row) & CLAIM_FLAGS, SD_REC_VERIFIED);
    json_decref(row);

    /* a domain */
    row = new_domain();
    sd_row_set_state(row, SD_STATE_READY);
    ses_domain(&si);
    si.dkim.status = SD_SES_VS_FAILED;
    sd_row_apply_ses(row, &si, NOW);
    assert_int_equal(sd_row_flags(row) & CLAIM_FLAGS,
                     SD_REC_DOMAIN | SD_REC_FAILED);
    json_decref(row);
}


/* the refresher's bits: what a ListEmailIdentities answer can settle */

static void
test_flags_poll(void **state)
{
    json_t            *row;
    sd_ses_identity_t  si;

    (void) state;

    assert_int_equal(sd_row_dkim_flag("pending"), SD_REC_DKIM_PENDING);
    assert_int_equal(sd_row_dkim_flag("verified"), SD_REC_DKIM_VERIFIED);
    assert_int_equal(sd_row_dkim_flag("failed"), SD_REC_DKIM_FAILED);
    assert_int_equal(sd_row_dkim_flag("bogus"), 0);
    assert_int_equal(sd_row_dkim_flag(NULL), 0);

    /* a new address: DKIM pending, no MAIL FROM of its own */
    row = new_address();
    assert_int_equal(sd_row_flags(row) & SD_REC_DKIM_MASK,
                     SD_REC_DKIM_PENDING);
    assert_false(sd_row_flags(row) & SD_REC_MAIL_FROM_PENDING);
    json_decref(row);

    /* a domain whose MAIL FROM SES is still checking: only Get shows it */
    row = mail_from_pending_domain(&si);
    assert_int_equal(sd_row_flags(row) & SD_REC_DKIM_MASK,
                     SD_REC_DKIM_PENDING);
    assert_true(sd_row_flags(row) & SD_REC_MAIL_FROM_PENDING);

    /* both settled */
    si.dkim.status = SD_SES_VS_SUCCESS;
    si.mail_from.status = SD_SES_VS_SUCCESS;
    si.verified_for_sending = 1;
    sd_row_apply_ses(row, &si, NOW);
    assert_int_equal(sd_row_flags(row) & SD_REC_DKIM_MASK,
                     SD_REC_DKIM_VERIFIED);
    assert_false(sd_row_flags(row) & SD_REC_MAIL_FROM_PENDING);

    si.dkim.status = SD_SES_VS_FAILED;
    si.verified_for_sending = 0;
    sd_row_apply_ses(row, &si, NOW);
    assert_int_equal(sd_row_flags(row) & SD_REC_DKIM_MASK,
                     SD_REC_DKIM_FAILED);
    json_decref(row);
}


/* sd_row_next_check */

static void
test_next_check(void **state)
{
    json_t  *row;

    (void) state;

    row = new_domain();

    /* a half-added row is resumed by the refresher (issue 13), once the
     * add that made it cannot be running any more */
    assert_non_null(sd_row_str(row, "next_check_at"));
    assert_true(sd_row_next_check(row) == NOW + SD_ROW_LIVE_GRACE);

    sd_row_set_state(row, SD_STATE_MAIL_FROM);
    assert_true(sd_row_next_check(row) == NOW + SD_ROW_LIVE_GRACE);

    sd_row_set_state(row, SD_STATE_READY);
    assert_true(sd_row_next_check(row) == NOW + SD_ROW_LIVE_GRACE);

    sd_row_set_time(row, "next_check_at", 4102444800LL);
    assert_true(sd_row_next_check(row) == 4102444800LL);

    json_object_set_new(row, "next_check_at",
                        json_string("2026-11-26T12:00:00+02:00"));
    assert_true(sd_row_next_check(row) == NOW);

    sd_row_set_time(row, "next_check_at", 0);
    assert_true(sd_row_next_check(row) == 0);

    json_object_set_new(row, "next_check_at", json_string("soon"));
    assert_true(sd_row_next_check(row) == 0);

    json_object_set_new(row, "next_check_at", json_integer(NOW));
    assert_true(sd_row_next_check(row) == 0);

    json_object_del(row, "next_check_at");
    assert_true(sd_row_next_check(row) == 0);

    json_object_del(row, "state");
    sd_row_set_time(row, "next_check_at", NOW);
    assert_true(sd_row_next_check(row) == 0);

    json_decref(row);
}


/* sd_row_schedule */

/* issue 13: ownership, claim expiry, purge */

static void
test_ownership_and_expiry(void **state)
{
    json_t  *row;

    (void) state;

    row = new_domain();
    sd_row_set_state(row, SD_STATE_READY);
    json_object_set_new(row, "verified_for_sending", json_true());

    /* created here: verified */
    json_object_set_new(row, "origin", json_string("created"));
    assert_false(sd_row_unproven(row));
    assert_true(sd_row_flags(row) & SD_REC_VERIFIED);

    /* adopted by an older module: never verified */
    json_object_set_new(row, "origin", json_string("adopted"));
    assert_true(sd_row_unproven(row));
    assert_false(sd_row_flags(row) & SD_REC_VERIFIED);
    assert_true(sd_row_flags(row) & SD_REC_UNPROVEN);

    /* declared by the platform: verified */
    json_object_set_new(row, "ownership", json_string("declared"));
    assert_false(sd_row_unproven(row));
    assert_true(sd_row_flags(row) & SD_REC_VERIFIED);

    /* a verified claim never expires */
    sd_row_set_time(row, "claim_expires_at", NOW - 10);
    assert_int_equal(sd_row_expire(row, NOW), 0);

    /* an unverified one does, once its time is up */
    json_object_set_new(row, "verified_for_sending", json_false());
    assert_int_equal(sd_row_expire(row, NOW - 11), 0);
    assert_int_equal(sd_row_expire(row, NOW), 1);
    assert_true(sd_row_in_state(row, SD_STATE_FAILED));
    assert_string_equal(sd_row_str(json_object_get(row, "last_error"),
                                   "code"), "claim_expired");
    assert_true(sd_row_flags(row) & SD_REC_FAILED);
    assert_int_equal(sd_row_expire(row, NOW), 0);

    /* released: purged after the grace period, which is its next step */
    sd_row_abandon(row, NOW, 86400);
    assert_true(sd_row_next_check(row) == NOW + 86400);
    sd_row_abandon(row, NOW + 5, 86400);
    assert_true(sd_row_next_check(row) == NOW + 86400);

    /* an unverified claim is looked at again when it expires */
    sd_row_set_state(row, SD_STATE_READY);
    sd_row_set_time(row, "claim_expires_at", NOW + 100);
    sd_row_abandon(row, NOW, 86400);
    assert_null(json_object_get(row, "purge_at"));
    assert_true(sd_row_schedule(row, NOW, 3600, 3600, 1) <= NOW + 100);

    json_decref(row);
}


static void
test_schedule_failed(void **state)
{
    json_t  *row;

    (void) state;

    row = new_domain();
    sd_row_set_state(row, SD_STATE_READY);
    json_object_set_new(row, "dkim_status", json_string("failed"));

    assert_true(sd_row_schedule(row, NOW, 60, 3600, 0) == 0);
    is_null(row, "next_check_at");
    assert_true(sd_row_next_check(row) == 0);

    assert_true(sd_row_schedule(row, NOW, 60, 3600, 1) == 0);
    is_null(row, "next_check_at");

    json_decref(row);
}


static void
test_schedule_verified(void **state)
{
    char         when[SD_TIME_RFC3339_LEN + 1];
    size_t       i;
    json_t      *row;
    int64_t      next;
    const char  *mf[] = { "verified", "not_configured", "failed" };

    (void) state;

    for (i = 0; i < sizeof(mf) / sizeof(mf[0]); i++) {
        row = new_domain();
        sd_row_set_state(row, SD_STATE_READY);
        json_object_set_new(row, "verified_for_sending", json_true());
        json_object_set_new(row, "dkim_status", json_string("verified"));
        json_object_set_new(row, "mail_from_status", json_string(mf[i]));

        next = sd_row_schedule(row, NOW, 60, 3600, 0);
        assert_true(next == NOW + SD_BACKOFF_VERIFIED);

        time_text(next, when);
        assert_string_equal(str(row, "next_check_at"), when);
        assert_true(sd_row_next_check(row) == next);

        json_decref(row);
    }

    /* a verified address (no MAIL FROM of its own) */
    row = new_address();
    sd_row_set_state(row, SD_STATE_READY);
    json_object_set_new(row, "verified_for_sending", json_true());
    assert_true(sd_row_schedule(row, NOW, 60, 3600, 1)
                == NOW + SD_BACKOFF_VERIFIED);
    json_decref(row);

    /* verified but MAIL FROM still pending: keep polling for it */
    row = new_domain();
    sd_row_set_state(row, SD_STATE_READY);
    json_object_set_new(row, "verified_for_sending", json_true());
    json_object_set_new(row, "mail_from_status", json_string("pending"));
    next = sd_row_schedule(row, NOW, 60, 3600, 1);
    assert_true(next > NOW && next <= NOW + 66);
    json_decref(row);
}


static void
test_schedule_backoff(void **state)
{
    char       when[SD_TIME_RFC3339_LEN + 1];
    json_t    *row;
    int64_t    next, delay, prev;
    uint32_t   attempt;
    uint64_t   seed;

    (void) state;

    row = new_domain();
    sd_row_set_state(row, SD_STATE_READY);
    seed = sd_backoff_seed("acme.com", 8);

    /* nothing changed: the wait doubles up to the cap */
    prev = 0;

    for (attempt = 1; attempt <= 10; attempt++) {
        next = sd_row_schedule(row, NOW, 60, 3600, 0);
        delay = next - NOW;

        assert_int_equal(integer(row, "_attempt"), attempt);
        assert_true(delay == (int64_t) sd_backoff_next(60, attempt, 3600,
                                                       seed));
        assert_true(delay >= 1 && delay <= 3600);

        if (60 << attempt < 3240) {
            /* well below the cap: jitter (10 %) never hides a doubling */
            assert_true(delay > prev);
            assert_true(delay >= (60 << attempt) * 9 / 10
                        && delay <= (60 << attempt) * 11 / 10);

        } else {
            assert_true(delay >= 3240);
        }

        time_text(next, when);
        assert_string_equal(str(row, "next_check_at"), when);
        assert_true(sd_row_next_check(row) == next);

        prev = delay;
    }

    /* a change starts over */
    next = sd_row_schedule(row, NOW + 100, 60, 3600, 1);
    assert_int_equal(integer(row, "_attempt"), 0);
    delay = next - (NOW + 100);
    assert_true(delay == (int64_t) sd_backoff_next(60, 0, 3600, seed));
    assert_true(delay >= 54 && delay <= 66);

    next = sd_row_schedule(row, NOW + 100, 60, 3600, 0);
    assert_int_equal(integer(row, "_attempt"), 1);
    delay = next - (NOW + 100);
    assert_true(delay >= 108 && delay <= 132);

    json_decref(row);

    /* another identity is spread differently, same rules */
    row = new_address();
    sd_row_set_state(row, SD_STATE_READY);
    next = sd_row_schedule(row, NOW, 0, 0, 1);
    assert_true(next - NOW == (int64_t) sd_backoff_next(
                    0, 0, 0, sd_backoff_seed("Rep@acme.com", 12)));
    json_decref(row);
}


/* sd_row_public */

static void
no_internal_keys(json_t *obj)
{
    const char  *key;
    json_t      *v;

    json_object_foreach(obj, key, v) {
        if (key[0] == '_') {
            print_error("internal key \"%s\" in the public object\n", key);
        }

        assert_true(key[0] != '_');
    }
}


static void
has_public_fields(json_t *pub)
{
    size_t       i;
    const char  *keys[] = {
        "identity", "type", "kind", "sender_name", "dkim_status",
        "mail_from_status", "verified_for_sending", "dkim_inherited_from",
        "mail_from_domain", "origin", "verification_email_sent_at",
        "verification_link_expires_at", "verification_info", "created_at",
        "last_checked_at", "next_check_at", "dns_records"
    };

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (json_object_get(pub, keys[i]) == NULL) {
            print_error("public object lacks \"%s\"\n", keys[i]);
        }

        assert_non_null(json_object_get(pub, keys[i]));
    }
}


static size_t
count_group(json_t *records, const char *group)
{
    size_t   i, n;
    json_t  *r;

    n = 0;

    json_array_foreach(records, i, r) {
        if (strcmp(str(r, "group"), group) == 0) {
            n++;
        }
    }

    return n;
}


static void
test_public_domain(void **state)
{
    char               name[64], value[64];
    size_t             i;
    json_t            *row, *pub, *recs, *r;
    sd_ses_identity_t  si;
    const char        *toks[] = { "tok1abc", "tok2def", "tok3ghi" };

    (void) state;

    row = mail_from_pending_domain(&si);

    pub = sd_row_public(row, REGION, NULL);
    assert_non_null(pub);

    no_internal_keys(pub);
    has_public_fields(pub);
    is_null(pub, "dkim_inherited_from");
    assert_string_equal(str(pub, "identity"), "acme.com");
    assert_string_equal(str(pub, "mail_from_domain"), "pmail.acme.com");

    recs = json_object_get(pub, "dns_records");
    assert_true(json_is_array(recs));
    assert_int_equal(count_group(recs, "dkim"), 3);
    assert_int_equal(count_group(recs, "mail_from"), 2);
    assert_int_equal(count_group(recs, "dmarc"), 1);

    for (i = 0; i < 3; i++) {
        r = json_array_get(recs, i);
        snprintf(name, sizeof(name), "%s._domainkey.acme.com", toks[i]);
        snprintf(value, sizeof(value), "%s.dkim.amazonses.com", toks[i]);

        assert_string_equal(str(r, "group"), "dkim");
        assert_string_equal(str(r, "requirement"), "required");
        assert_string_equal(str(r, "type"), "CNAME");
        assert_string_equal(str(r, "name"), name);
        assert_string_equal(str(r, "value"), value);
    }

    json_array_foreach(recs, i, r) {
        if (strcmp(str(r, "type"), "MX") == 0) {
            assert_string_equal(str(r, "name"), "pmail.acme.com");
            assert_string_equal(str(r, "value"),
                                "10 feedback-smtp." REGION ".amazonses.com");
        }
    }

    /* the stored row keeps its internal fields */
    assert_non_null(json_object_get(row, "_tokens"));
    assert_non_null(json_object_get(row, "_attempt"));
    assert_null(json_object_get(row, "dns_records"));

    json_decref(pub);

    /* a signing zone from SES is used in the CNAME values */
    json_object_set_new(row, "_zone", json_string("dkim.example.net"));
    pub = sd_row_public(row, REGION, NULL);
    r = json_array_get(json_object_get(pub, "dns_records"), 0);
    assert_string_equal(str(r, "value"), "tok1abc.dkim.example.net");
    json_decref(pub);

    json_decref(row);

    /* a fresh domain: no tokens yet, no CNAMEs; no MAIL FROM yet */
    row = new_domain();
    pub = sd_row_public(row, REGION, NULL);
    no_internal_keys(pub);
    has_public_fields(pub);
    recs = json_object_get(pub, "dns_records");
    assert_true(json_is_array(recs));
    assert_int_equal(count_group(recs, "dkim"), 0);
    assert_int_equal(count_group(recs, "mail_from"), 0);
    assert_int_equal(count_group(recs, "dmarc"), 1);
    json_decref(pub);
    json_decref(row);
}


static void
test_public_address(void **state)
{
    json_t  *row, *pub, *recs;

    (void) state;

    row = new_address();

    pub = sd_row_public(row, REGION, "acme.com");
    assert_non_null(pub);
    no_internal_keys(pub);
    has_public_fields(pub);
    assert_string_equal(str(pub, "dkim_inherited_from"), "acme.com");
    recs = json_object_get(pub, "dns_records");
    assert_true(json_is_array(recs));
    assert_int_equal(json_array_size(recs), 0);
    json_decref(pub);

    pub = sd_row_public(row, REGION, NULL);
    is_null(pub, "dkim_inherited_from");
    assert_int_equal(json_array_size(json_object_get(pub, "dns_records")),
                     0);
    json_decref(pub);

    /* whatever the stored row says, the given parent is what shows */
    json_object_set_new(row, "dkim_inherited_from", json_string("old.com"));
    pub = sd_row_public(row, REGION, "mail.acme.com");
    assert_string_equal(str(pub, "dkim_inherited_from"), "mail.acme.com");
    json_decref(pub);

    json_decref(row);
}


static void
test_public_legacy(void **state)
{
    json_t  *row, *pub;

    (void) state;

    row = sd_row_legacy("old@acme.com", 12, "Old Sender", 10);

    pub = sd_row_public(row, REGION, "acme.com");
    assert_non_null(pub);
    assert_true(json_equal(pub, row));
    assert_null(json_object_get(pub, "dkim_inherited_from"));

    json_decref(pub);
    json_decref(row);
}



/* the MAIL FROM: the label asked for, else the one default */

static void
test_mail_from(void **state)
{
    json_t  *row;

    (void) state;

    row = sd_row_new("acme.com", 8, 1, NULL, 0, NULL, 0, NOW);
    assert_non_null(row);

    assert_string_equal(sd_row_mail_from_label(row), "pmail");
    assert_int_equal(sd_row_set_mail_from(row, "acme.com", 8), 0);
    assert_string_equal(str(row, "mail_from_domain"), "pmail.acme.com");
    assert_string_equal(str(row, "mail_from_status"), "pending");
    json_decref(row);

    row = sd_row_new("acme.com", 8, 1, NULL, 0, "bounce", 6, NOW);
    assert_non_null(row);

    assert_string_equal(sd_row_mail_from_label(row), "bounce");
    assert_int_equal(sd_row_set_mail_from(row, "acme.com", 8), 0);
    assert_string_equal(str(row, "mail_from_domain"), "bounce.acme.com");
    json_decref(row);
}


/* origin and ownership; a name registered outside the workspace */

static void
test_origin_outside(void **state)
{
    json_t  *row;

    (void) state;

    row = sd_row_new("acme.com", 8, 1, NULL, 0, NULL, 0, NOW);
    assert_non_null(row);

    sd_row_set_origin(row, SD_ORIGIN_ADOPTED, SD_OWNERSHIP_DECLARED);
    assert_string_equal(str(row, "origin"), "adopted");
    assert_string_equal(str(row, "ownership"), "declared");

    /* NULL ownership: kept as it was */
    sd_row_set_origin(row, SD_ORIGIN_CREATED, NULL);
    assert_string_equal(str(row, "origin"), "created");
    assert_string_equal(str(row, "ownership"), "declared");

    sd_row_set_origin(row, SD_ORIGIN_CREATED, SD_OWNERSHIP_PROVEN);
    assert_string_equal(str(row, "ownership"), "proven");

    json_object_set_new(row, "verified_for_sending", json_true());
    sd_row_set_outside(row, "Not yours.");
    assert_true(sd_row_in_state(row, SD_STATE_FAILED));
    assert_true(json_is_false(json_object_get(row, "verified_for_sending")));
    assert_true(json_is_null(json_object_get(row, "next_check_at")));
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(row, "last_error"), "code")), "registered_outside");
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(row, "last_error"), "message")), "Not yours.");
    assert_int_equal(sd_row_next_check(row), 0);

    json_decref(row);
}


/* the stored record: the row's text and the header fields, once */

static void
test_to_record(void **state)
{
    char         *text;
    json_t       *row, *back;
    sd_record_t   rec;

    (void) state;

    row = sd_row_new("acme.com", 8, 1, "Acme", 4, NULL, 0, NOW);
    assert_non_null(row);
    (void) sd_row_schedule(row, NOW, 60, 3600, 1);

    assert_int_equal(sd_row_to_record(row, &rec, &text), 0);
    assert_ptr_equal(rec.json, text);
    assert_int_equal(rec.json_len, strlen(text));
    assert_int_equal(rec.flags, sd_row_flags(row));
    assert_int_equal(rec.next_check, sd_row_next_check(row));
    assert_true(rec.next_check > NOW);
    assert_int_equal(rec.sender_name_len, 4);
    assert_memory_equal(rec.sender_name, "Acme", 4);

    back = json_loadb(rec.json, rec.json_len, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, row));
    json_decref(back);
    free(text);

    /* no sender name: an empty one */
    json_object_del(row, "sender_name");
    assert_int_equal(sd_row_to_record(row, &rec, &text), 0);
    assert_int_equal(rec.sender_name_len, 0);
    assert_string_equal(rec.sender_name, "");
    free(text);

    json_decref(row);
}


/* SES has the identity: a domain goes on to its MAIL FROM, else ready */

static void
test_settle(void **state)
{
    json_t  *row;

    (void) state;

    row = sd_row_new("acme.com", 8, 1, NULL, 0, NULL, 0, NOW);
    assert_non_null(row);
    sd_row_set_error(row, "ses_unavailable", "Busy.");

    sd_row_settle(row);
    assert_true(sd_row_in_state(row, SD_STATE_MAIL_FROM));
    assert_true(json_is_null(json_object_get(row, "last_error")));

    /* its MAIL FROM set (or kept from SES): ready */
    assert_int_equal(sd_row_set_mail_from(row, "acme.com", 8), 0);
    sd_row_settle(row);
    assert_true(sd_row_in_state(row, SD_STATE_READY));
    json_decref(row);

    row = sd_row_new("me@acme.com", 11, 0, NULL, 0, NULL, 0, NOW);
    assert_non_null(row);
    sd_row_settle(row);
    assert_true(sd_row_in_state(row, SD_STATE_READY));
    json_decref(row);
}


/* the claim tag of SES's answer: this row's, another claim's, none */

static void
test_claim_tag(void **state)
{
    json_t             *row;
    sd_ses_identity_t   si;

    (void) state;

    row = sd_row_new("acme.com", 8, 1, NULL, 0, NULL, 0, NOW);
    assert_non_null(row);
    json_object_set_new(row, "_claim", json_string("00112233aabbccdd"));

    memset(&si, 0, sizeof(si));
    assert_int_equal(sd_row_claim_tag(row, &si), SD_ROW_TAG_NONE);

    strcpy(si.claim, "00112233aabbccdd");
    assert_int_equal(sd_row_claim_tag(row, &si), SD_ROW_TAG_OURS);

    strcpy(si.claim, "ffffffffffffffff");
    assert_int_equal(sd_row_claim_tag(row, &si), SD_ROW_TAG_MODULE);

    /* a row without a claim of its own: the tag is another's */
    json_object_del(row, "_claim");
    strcpy(si.claim, "00112233aabbccdd");
    assert_int_equal(sd_row_claim_tag(row, &si), SD_ROW_TAG_MODULE);

    json_decref(row);
}


/* claim expiry: a domain's TTL; an address's, capped from its add */

static void
test_claim_expiry(void **state)
{
    json_t   *row;
    int64_t   t;

    (void) state;

    row = sd_row_new("acme.com", 8, 1, NULL, 0, NULL, 0, NOW);
    assert_non_null(row);
    sd_row_set_claim_expiry(row, NOW + 100, 72 * 3600, 24 * 3600);
    assert_int_equal(sd_time_parse(str(row, "claim_expires_at"),
                                   strlen(str(row, "claim_expires_at")), &t),
                     0);
    assert_int_equal(t, NOW + 100 + 72 * 3600);
    json_decref(row);

    row = sd_row_new("me@acme.com", 11, 0, NULL, 0, NULL, 0, NOW);
    assert_non_null(row);

    sd_row_set_claim_expiry(row, NOW, 72 * 3600, 24 * 3600);
    assert_int_equal(sd_time_parse(str(row, "claim_expires_at"),
                                   strlen(str(row, "claim_expires_at")), &t),
                     0);
    assert_int_equal(t, NOW + 24 * 3600);

    /* a resend 60 h after the add: never past 72 h from the add */
    sd_row_set_claim_expiry(row, NOW + 60 * 3600, 72 * 3600, 24 * 3600);
    assert_int_equal(sd_time_parse(str(row, "claim_expires_at"),
                                   strlen(str(row, "claim_expires_at")), &t),
                     0);
    assert_int_equal(t, NOW + 72 * 3600);

    sd_row_set_link_sent(row, NOW + 5);
    assert_int_equal(sd_time_parse(str(row, "verification_link_expires_at"),
                         strlen(str(row, "verification_link_expires_at")),
                         &t), 0);
    assert_int_equal(t, NOW + 5 + SD_VERIFICATION_LINK_TTL);
    assert_non_null(str(row, "verification_email_sent_at"));

    json_decref(row);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_new_domain),
        cmocka_unit_test(test_new_address),
        cmocka_unit_test(test_legacy_and_setters),
        cmocka_unit_test(test_gone),
        cmocka_unit_test(test_apply_domain),
        cmocka_unit_test(test_apply_domain_statuses),
        cmocka_unit_test(test_apply_address),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_flags_after_ses),
        cmocka_unit_test(test_flags_poll),
        cmocka_unit_test(test_next_check),
        cmocka_unit_test(test_ownership_and_expiry),
        cmocka_unit_test(test_schedule_failed),
        cmocka_unit_test(test_schedule_verified),
        cmocka_unit_test(test_schedule_backoff),
        cmocka_unit_test(test_public_domain),
        cmocka_unit_test(test_public_address),
        cmocka_unit_test(test_public_legacy),
        cmocka_unit_test(test_mail_from),
        cmocka_unit_test(test_origin_outside),
        cmocka_unit_test(test_to_record),
        cmocka_unit_test(test_settle),
        cmocka_unit_test(test_claim_tag),
        cmocka_unit_test(test_claim_expiry),
    };

    (void) argc;
    (void) argv;

    return cmocka_run_group_tests(tests, NULL, NULL);
}
