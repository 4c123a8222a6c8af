/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the ownership proof of a domain that
 * already exists in the shared SES account (pure core).  See
 * sd_ownership.h and docs/decisions.md ("Ownership proof").
 */


#include <string.h>
#include <strings.h>

#include "sd_ownership.h"
#include "sd_row.h"


static const char  sd_own_b32[] = "abcdefghijklmnopqrstuvwxyz234567";


int
sd_own_token(const unsigned char *rnd, size_t n, char *out, size_t outsz)
{
    size_t    i, o;
    unsigned  bits, acc;

    if (rnd == NULL || n != SD_OWN_RANDOM_BYTES || outsz < SD_OWN_TOKEN_BUFSZ)
    {
        return -1;
    }

    o = 0;
    bits = 0;
    acc = 0;

    for (i = 0; i < n; i++) {
        acc = (acc << 8) | rnd[i];
        bits += 8;

        while (bits >= 5) {
            out[o++] = sd_own_b32[(acc >> (bits - 5)) & 0x1f];
            bits -= 5;
        }
    }

    if (bits) {
        out[o++] = sd_own_b32[(acc << (5 - bits)) & 0x1f];
    }

    out[o] = '\0';

    return (int) o;
}


int
sd_own_token_valid(const char *s, size_t len)
{
    size_t  i;

    if (s == NULL || len != SD_OWN_TOKEN_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7'))) {
            return 0;
        }
    }

    return 1;
}


int
sd_own_name(const char *domain, size_t len, char *out, size_t outsz)
{
    size_t  n;

    n = sizeof(SD_OWN_LABEL) - 1;

    if (domain == NULL || len == 0 || n + 1 + len + 1 > outsz
        || n + 1 + len > 253)
    {
        return -1;
    }

    memcpy(out, SD_OWN_LABEL, n);
    out[n++] = '.';
    memcpy(out + n, domain, len);
    n += len;
    out[n] = '\0';

    return (int) n;
}


static int
sd_own_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/* "sd-verify=<v>" with v exactly the token (any case) */

static sd_own_txt_e
sd_own_value(const char *s, size_t len, const char *token)
{
    size_t  plen, tlen;

    plen = sizeof(SD_OWN_PREFIX) - 1;
    tlen = strlen(token);

    if (len < plen || strncasecmp(s, SD_OWN_PREFIX, plen) != 0) {
        return SD_OWN_TXT_OTHER;
    }

    s += plen;
    len -= plen;

    while (len && sd_own_blank(*s)) {
        s++;
        len--;
    }

    if (len == tlen && tlen != 0 && strncasecmp(s, token, tlen) == 0) {
        return SD_OWN_TXT_MATCH;
    }

    return SD_OWN_TXT_WRONG;
}


sd_own_txt_e
sd_own_txt(const char *data, size_t len, const char *token)
{
    sd_own_txt_e  rc;
    size_t        q;

    if (data == NULL || token == NULL) {
        return SD_OWN_TXT_OTHER;
    }

    while (len && sd_own_blank(*data)) {
        data++;
        len--;
    }

    while (len && sd_own_blank(data[len - 1])) {
        len--;
    }

    rc = sd_own_value(data, len, token);
    if (rc != SD_OWN_TXT_OTHER) {
        return rc;
    }

    /* the quotes typed with the value kept by the provider: "\"sd-…\"" */
    q = 0;

    while (q < len && (data[q] == '"' || data[q] == '\'' || data[q] == '\\'))
    {
        q++;
    }

    if (q == 0) {
        return SD_OWN_TXT_OTHER;
    }

    data += q;
    len -= q;

    while (len && (data[len - 1] == '"' || data[len - 1] == '\''
                   || data[len - 1] == '\\' || sd_own_blank(data[len - 1])))
    {
        len--;
    }

    rc = sd_own_value(data, len, token);

    return (rc == SD_OWN_TXT_MATCH) ? SD_OWN_TXT_MATCH_QUOTED : rc;
}


sd_own_verdict_e
sd_own_check(const sd_dnsw_answer_t *a, const char *name, const char *token,
    int *quoted)
{
    size_t               i;
    sd_own_txt_e         t;
    sd_own_verdict_e     v;
    const sd_dnsw_rr_t  *rr;

    *quoted = 0;
    v = SD_OWN_MISSING;

    if (a == NULL || a->rcode != SD_DNS_RCODE_NOERROR) {
        return v;
    }

    for (i = 0; i < a->nrr; i++) {
        rr = &a->rr[i];

        if (rr->type != SD_DNS_T_TXT || rr->truncated
            || strcmp(rr->owner, name) != 0)
        {
            continue;
        }

        t = sd_own_txt(rr->data, rr->data_len, token);

        if (t == SD_OWN_TXT_MATCH) {
            *quoted = 0;
            return SD_OWN_FOUND;
        }

        if (t == SD_OWN_TXT_MATCH_QUOTED) {
            *quoted = 1;
            v = SD_OWN_FOUND;

        } else if (t == SD_OWN_TXT_WRONG && v == SD_OWN_MISSING) {
            v = SD_OWN_WRONG;
        }
    }

    return v;
}


int
sd_own_pending(const json_t *row)
{
    const char  *own, *token;

    own = sd_row_str(row, "ownership");
    token = sd_row_str(row, SD_OWN_TOKEN_FIELD);

    return own && strcmp(own, "unproven") == 0 && token
           && sd_own_token_valid(token, strlen(token))
           && !sd_row_in_state(row, SD_STATE_FAILED);
}


int
sd_own_set_unproven(json_t *row, const char *token, int ses_verified)
{
    if (token == NULL || !sd_own_token_valid(token, strlen(token))) {
        return -1;
    }

    json_object_set_new(row, "origin", json_string("adopted"));
    json_object_set_new(row, "ownership", json_string("unproven"));
    json_object_set_new(row, SD_OWN_TOKEN_FIELD, json_string(token));
    json_object_set_new(row, "verified_for_sending", json_false());
    sd_own_note_ses(row, ses_verified);

    return 0;
}


void
sd_own_note_ses(json_t *row, int ses_verified)
{
    json_object_set_new(row, "_ses_verified", json_boolean(ses_verified));
}


int
sd_own_prove(json_t *row)
{
    int  verified;

    if (!sd_own_pending(row)) {
        return 0;
    }

    verified = json_is_true(json_object_get(row, "_ses_verified"));

    json_object_set_new(row, "ownership", json_string("proven"));
    json_object_del(row, "_ses_verified");
    json_object_set_new(row, "verified_for_sending", json_boolean(verified));

    if (verified) {
        /* verified and proven: the claim holds for good */
        json_object_set_new(row, "claim_expires_at", json_null());
    }

    sd_row_clear_error(row);

    return 1;
}


void
sd_own_lose(json_t *row)
{
    sd_row_set_state(row, SD_STATE_FAILED);
    json_object_set_new(row, "verified_for_sending", json_false());
    json_object_set_new(row, "next_check_at", json_null());

    sd_row_set_error(row, SD_OWN_ELSEWHERE,
        "Another workspace has proved that it controls this domain's DNS, "
        "so this sender no longer counts here. If the domain is yours, "
        "contact support; otherwise remove this sender.");
}


int
sd_own_write_record(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *token)
{
    if (domain == NULL || token == NULL
        || !sd_own_token_valid(token->data, token->len))
    {
        return -1;
    }

    sd_jsonw_lit(w, "{\"group\":\"ownership\",\"requirement\":\"required\","
                    "\"type\":\"TXT\",\"name\":\"" SD_OWN_LABEL ".");
    sd_jsonw_chars(w, domain->data, domain->len);
    sd_jsonw_lit(w, "\",\"value\":\"" SD_OWN_PREFIX);
    sd_jsonw_chars(w, token->data, token->len);
    sd_jsonw_lit(w, "\",\"explanation\":\"");
    sd_jsonw_chars(w, domain->data, domain->len);
    sd_jsonw_lit(w, " is already verified in the platform's Amazon SES "
                    "account, so its status does not show that it is "
                    "yours. Add this TXT record at your DNS provider to "
                    "prove that you control the domain; the value is made "
                    "for your workspace only. Once DNS shows it, the sender "
                    "counts as verified here (a refresh checks at once). If "
                    "your provider adds the domain to names by itself, "
                    "enter only \\\"" SD_OWN_LABEL "\\\" as the name.\"}");

    return sd_jsonw_failed(w) ? -1 : 0;
}
