/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: GetEmailIdentity / CreateEmailIdentity bodies
 * (sd_ses_parse_identity() in src/core/sd_sesparse.c,
 * Tags and the claim tag included)
 * and what the module does with a parsed answer: sd_row_apply_ses() on a
 * domain row and on an address row, sd_row_schedule(), sd_row_flags(),
 * the stored JSON text, and sd_row_public() with its DNS records
 * (src/core/sd_row.c, _dns.c).
 *
 * Input: [flags] [body].
 *
 * Properties: on SD_SES_OK every string of sd_ses_identity_t is
 * NUL-terminated in its array (the claim tag's value from Tags included,
 * without control characters), at most SD_SES_MAX_DKIM_TOKENS tokens,
 * each a DNS label; on SD_SES_MALFORMED malformed_field names the field.
 * A row updated from any accepted answer still serialises (no value
 * jansson refuses, such as invalid UTF-8, silently dropped from it), and
 * its public object carries the dns_records array.
 */

#include "fuzz_common.h"

#include <jansson.h>

#include "sd_sesparse.h"
#include "sd_row.h"
#include "sd_store.h"


#define FZ_NOW     1795687200          /* 2026-11-26T10:00:00Z */


static void
fz_check_ident(const sd_ses_identity_t *si)
{
    size_t  i;

    FZ_CHECK(si->dkim.ntokens <= SD_SES_MAX_DKIM_TOKENS);

    for (i = 0; i < si->dkim.ntokens; i++) {
        FZ_CHECK(fz_terminated(si->dkim.tokens[i],
                               SD_SES_DKIM_TOKEN_LEN + 1));
        FZ_CHECK(si->dkim.tokens[i][0] != '\0');
        FZ_CHECK(strchr(si->dkim.tokens[i], '.') == NULL);
        FZ_CHECK(!fz_has_ctl((unsigned char *) si->dkim.tokens[i],
                             strlen(si->dkim.tokens[i])));
    }

    FZ_CHECK(fz_terminated(si->dkim.signing_hosted_zone,
                           SD_SES_DOMAIN_LEN + 1));
    FZ_CHECK(fz_terminated(si->dkim.signing_origin, SD_SES_ORIGIN_LEN + 1));
    FZ_CHECK(fz_terminated(si->mail_from.domain, SD_SES_DOMAIN_LEN + 1));
    FZ_CHECK(fz_terminated(si->verification_info.error_type,
                           SD_SES_VERIF_ERROR_LEN + 1));
    FZ_CHECK(fz_terminated(si->claim, SD_SES_CLAIM_LEN + 1));
    FZ_CHECK(!fz_has_ctl((unsigned char *) si->claim, strlen(si->claim)));
    FZ_CHECK(si->verification_info.last_checked >= 0);
    FZ_CHECK(si->verification_info.last_success >= 0);

    (void) sd_ses_dkim_status_name(si->dkim.status);
    (void) sd_ses_mail_from_status_name(si->mail_from.status);
    (void) sd_ses_vstatus_name(si->verification_status);
}


static void
fz_apply(json_t *row, const sd_ses_identity_t *si, int changed)
{
    char         *text;
    json_t       *back, *pub, *recs;
    const char   *region;

    sd_row_apply_ses(row, si, FZ_NOW);
    sd_row_set_state(row, SD_STATE_READY);
    (void) sd_row_schedule(row, FZ_NOW, 60, 3600, changed);
    (void) sd_row_flags(row);
    (void) sd_row_next_check(row);

    text = json_dumps(row, JSON_COMPACT);
    FZ_CHECK(text != NULL);

    back = json_loadb(text, strlen(text), 0, NULL);
    FZ_CHECK(back != NULL && json_equal(back, row));

    /* every value the answer could set is in the row */
    FZ_CHECK(json_is_string(json_object_get(back, "dkim_status")));
    FZ_CHECK(json_is_object(json_object_get(back, "verification_info")));

    region = "eu-west-1";
    pub = sd_row_public(back, region, si->dkim.ntokens ? "acme.com" : NULL);
    FZ_CHECK(pub != NULL);
    recs = json_object_get(pub, "dns_records");
    FZ_CHECK(json_is_array(recs));

    free(text);
    text = json_dumps(pub, JSON_COMPACT);
    FZ_CHECK(text != NULL);

    free(text);
    json_decref(pub);
    json_decref(back);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t               fz = { data, size };
    char              *body;
    size_t             blen;
    uint8_t            flags;
    json_t            *row;
    sd_ses_status_e    st;
    sd_ses_identity_t  si;

    flags = fz_u8(&fz);
    body = fz_rest(&fz, &blen);

    memset(&si, 0xa5, sizeof(si));
    st = sd_ses_parse_identity(body, blen, &si);

    if (st != SD_SES_OK) {
        FZ_CHECK(st == SD_SES_MALFORMED);
        FZ_CHECK(si.malformed_field != NULL);
        goto done;
    }

    FZ_CHECK(si.malformed_field == NULL);
    fz_check_ident(&si);

    row = sd_row_new("acme.com", 8, 1, "Acme", 4, "pmail", 5, FZ_NOW);
    fz_apply(row, &si, flags & 1);
    fz_apply(row, &si, 0);
    json_decref(row);

    row = sd_row_new("Reports@acme.com", 16, 0, "", 0, NULL, 0, FZ_NOW);
    fz_apply(row, &si, flags & 2);
    json_decref(row);

done:

    free(body);

    return 0;
}
