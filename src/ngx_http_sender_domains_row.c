/*
 * Custom Sender Domains for nginx: the stored identity row (pure C).
 */

#include <string.h>

#include "ngx_http_sender_domains_row.h"
#include "ngx_http_sender_domains_store.h"
#include "ngx_http_sender_domains_dns.h"
#include "ngx_http_sender_domains_time.h"
#include "ngx_http_sender_domains_backoff.h"


static json_t *
sd_row_time_value(int64_t t)
{
    char  buf[SD_TIME_RFC3339_LEN];

    if (t <= 0) {
        return json_null();
    }

    sd_time_format(t, buf);

    return json_stringn(buf, SD_TIME_RFC3339_LEN);
}


json_t *
sd_row_new(const char *id, size_t id_len, int is_domain,
    const char *sender_name, size_t sender_name_len,
    const char *mail_from_label, size_t mail_from_label_len, int64_t now)
{
    json_t  *row;

    row = json_object();
    if (row == NULL) {
        return NULL;
    }

    json_object_set_new(row, "identity", json_stringn(id, id_len));
    json_object_set_new(row, "type",
                        json_string(is_domain ? "domain" : "email"));
    json_object_set_new(row, "kind", json_string("managed"));
    json_object_set_new(row, "sender_name",
                        json_stringn(sender_name ? sender_name : "",
                                     sender_name_len));
    json_object_set_new(row, "state", json_string(SD_STATE_CREATING));
    json_object_set_new(row, "dkim_status", json_string("pending"));
    json_object_set_new(row, "mail_from_status",
                        json_string("not_configured"));
    json_object_set_new(row, "verified_for_sending", json_false());
    json_object_set_new(row, "dkim_inherited_from", json_null());
    json_object_set_new(row, "mail_from_domain", json_null());
    json_object_set_new(row, "origin", json_null());
    json_object_set_new(row, "verification_email_sent_at", json_null());
    json_object_set_new(row, "verification_link_expires_at", json_null());
    json_object_set_new(row, "verification_info",
                        json_pack("{s:n,s:n,s:n}", "error_type",
                                  "last_checked_at", "last_success_at"));
    json_object_set_new(row, "created_at", sd_row_time_value(now));
    json_object_set_new(row, "last_checked_at", json_null());
    json_object_set_new(row, "next_check_at", sd_row_time_value(now));
    json_object_set_new(row, "last_error", json_null());

    if (is_domain && mail_from_label && mail_from_label_len) {
        json_object_set_new(row, "_mail_from_label",
                            json_stringn(mail_from_label,
                                         mail_from_label_len));
    }

    json_object_set_new(row, "_attempt", json_integer(0));

    return row;
}


json_t *
sd_row_legacy(const char *addr, size_t addr_len, const char *name,
    size_t name_len)
{
    return json_pack("{s:s%,s:s,s:s,s:s%,s:b,s:s,s:s,s:[]}",
                     "identity", addr, addr_len,
                     "type", "email",
                     "kind", "legacy",
                     "sender_name", name ? name : "", name_len,
                     "verified_for_sending", 1,
                     "dkim_status", "verified",
                     "mail_from_status", "not_configured",
                     "dns_records");
}


const char *
sd_row_str(const json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key));
}


int
sd_row_is_domain(const json_t *row)
{
    const char  *t = sd_row_str(row, "type");

    return t && strcmp(t, "domain") == 0;
}


int
sd_row_in_state(const json_t *row, const char *state)
{
    const char  *s = sd_row_str(row, "state");

    return s && strcmp(s, state) == 0;
}


void
sd_row_set_state(json_t *row, const char *state)
{
    json_object_set_new(row, "state", json_string(state));
}


void
sd_row_set_str(json_t *row, const char *key, const char *v, size_t len)
{
    json_object_set_new(row, key, v ? json_stringn(v, len) : json_null());
}


void
sd_row_set_time(json_t *row, const char *key, int64_t t)
{
    json_object_set_new(row, key, sd_row_time_value(t));
}


void
sd_row_set_error(json_t *row, const char *code, const char *message)
{
    json_object_set_new(row, "last_error",
                        json_pack("{s:s,s:s}", "code", code,
                                  "message", message));
}


void
sd_row_clear_error(json_t *row)
{
    json_object_set_new(row, "last_error", json_null());
}


/*
 * TEMPORARY_FAILURE and NOT_STARTED show as pending: SES keeps trying
 * (see sd_ses_dkim_status_name()).  An address has no DKIM of its own:
 * its "dkim_status" follows its verification status.
 */

void
sd_row_apply_ses(json_t *row, const sd_ses_identity_t *si, int64_t now)
{
    size_t   i;
    json_t  *tokens, *info;
    int      is_domain;

    is_domain = sd_row_is_domain(row);

    if (is_domain) {
        json_object_set_new(row, "dkim_status",
                            json_string(sd_ses_dkim_status_name(
                                si->dkim.status)));

        if (si->dkim.ntokens) {
            tokens = json_array();

            for (i = 0; i < si->dkim.ntokens; i++) {
                json_array_append_new(tokens,
                                      json_string(si->dkim.tokens[i]));
            }

            json_object_set_new(row, "_tokens", tokens);
        }

        if (si->dkim.signing_hosted_zone[0]) {
            json_object_set_new(row, "_zone",
                                json_string(si->dkim.signing_hosted_zone));
        }

        if (si->mail_from.domain[0]) {
            /* what SES has wins: an existing MAIL FROM is kept */
            json_object_set_new(row, "mail_from_domain",
                                json_string(si->mail_from.domain));
            json_object_set_new(row, "mail_from_status",
                                json_string(sd_ses_mail_from_status_name(
                                    si->mail_from.status)));

        } else {
            json_object_set_new(row, "mail_from_status",
                                json_string("not_configured"));
        }

    } else {
        json_object_set_new(row, "dkim_status",
                            json_string(sd_ses_dkim_status_name(
                                si->verification_status)));
    }

    json_object_set_new(row, "verified_for_sending",
                        json_boolean(si->verified_for_sending));

    info = json_object();
    json_object_set_new(info, "error_type",
                        si->verification_info.error_type[0]
                        ? json_string(si->verification_info.error_type)
                        : json_null());
    json_object_set_new(info, "last_checked_at",
                        sd_row_time_value(si->verification_info.last_checked));
    json_object_set_new(info, "last_success_at",
                        sd_row_time_value(si->verification_info.last_success));
    json_object_set_new(row, "verification_info", info);

    sd_row_set_time(row, "last_checked_at", now);
}


int64_t
sd_row_schedule(json_t *row, int64_t now, int64_t base, int64_t max,
    int changed)
{
    int64_t      attempt, next;
    unsigned     flags;
    const char  *id, *mf;

    flags = sd_row_flags(row);
    attempt = json_integer_value(json_object_get(row, "_attempt"));
    attempt = changed ? 0 : attempt + 1;

    json_object_set_new(row, "_attempt", json_integer(attempt));

    if (flags & SD_REC_FAILED) {
        /* SES stopped looking: so do we, until a person refreshes */
        json_object_set_new(row, "next_check_at", json_null());
        return 0;
    }

    id = sd_row_str(row, "identity");

    mf = sd_row_str(row, "mail_from_status");

    if ((flags & SD_REC_VERIFIED) && !(mf && strcmp(mf, "pending") == 0))
    {
        next = now + sd_backoff_verified_interval();

    } else {
        next = now + sd_backoff_next((uint32_t) base, (uint32_t) attempt,
                                     (uint32_t) max,
                                     sd_backoff_seed(id, strlen(id)));
    }

    sd_row_set_time(row, "next_check_at", next);

    return next;
}


unsigned
sd_row_dkim_flag(const char *dkim_status)
{
    if (dkim_status == NULL) {
        return 0;
    }

    if (strcmp(dkim_status, "verified") == 0) {
        return SD_REC_DKIM_VERIFIED;
    }

    if (strcmp(dkim_status, "failed") == 0) {
        return SD_REC_DKIM_FAILED;
    }

    return strcmp(dkim_status, "pending") == 0 ? SD_REC_DKIM_PENDING : 0;
}


unsigned
sd_row_flags(const json_t *row)
{
    unsigned     flags = 0;
    const char  *dkim, *mf;

    if (sd_row_is_domain(row)) {
        flags |= SD_REC_DOMAIN;
    }

    /* a row still being created never sends, whatever SES said */
    if (json_is_true(json_object_get(row, "verified_for_sending"))
        && !sd_row_in_state(row, SD_STATE_CREATING))
    {
        flags |= SD_REC_VERIFIED;
    }

    dkim = sd_row_str(row, "dkim_status");

    if (dkim && strcmp(dkim, "failed") == 0 && !(flags & SD_REC_VERIFIED)) {
        flags |= SD_REC_FAILED;
    }

    /* for the refresher: what a List answer can settle */
    flags |= sd_row_dkim_flag(dkim);

    mf = sd_row_str(row, "mail_from_status");

    if (mf && strcmp(mf, "pending") == 0) {
        flags |= SD_REC_MAIL_FROM_PENDING;
    }

    return flags;
}


int64_t
sd_row_next_check(const json_t *row)
{
    int64_t      t;
    const char  *s;

    /* half-added rows are finished by a person's refresh or add */
    if (!sd_row_in_state(row, SD_STATE_READY)) {
        return 0;
    }

    s = sd_row_str(row, "next_check_at");

    if (s == NULL || sd_time_parse(s, strlen(s), &t) != 0) {
        return 0;
    }

    return t;
}


static int
sd_row_sd_str(const json_t *row, const char *key, sd_str_t *out)
{
    const char  *s = sd_row_str(row, key);

    if (s == NULL) {
        out->data = NULL;
        out->len = 0;
        return 0;
    }

    out->data = s;
    out->len = strlen(s);

    return 1;
}


json_t *
sd_row_public(const json_t *row, const char *region,
    const char *inherited_from)
{
    size_t       i, n;
    json_t      *out, *v, *tokens, *records;
    sd_str_t     domain, zone, mail_from, reg, toks[SD_SES_MAX_DKIM_TOKENS];
    const char  *key;

    out = json_object();
    if (out == NULL) {
        return NULL;
    }

    json_object_foreach((json_t *) row, key, v) {
        if (key[0] != '_') {
            json_object_set(out, key, v);
        }
    }

    if (strcmp(sd_row_str(row, "kind") ? sd_row_str(row, "kind") : "",
               "legacy") == 0)
    {
        return out;
    }

    json_object_set_new(out, "dkim_inherited_from",
                        inherited_from ? json_string(inherited_from)
                                       : json_null());

    /* only ready rows are polled; a half-added one waits for a person */
    if (!sd_row_in_state(row, SD_STATE_READY)) {
        json_object_set_new(out, "next_check_at", json_null());
    }

    tokens = json_object_get(row, "_tokens");
    n = 0;

    json_array_foreach(tokens, i, v) {
        if (n < SD_SES_MAX_DKIM_TOKENS && json_is_string(v)) {
            toks[n].data = json_string_value(v);
            toks[n].len = json_string_length(v);
            n++;
        }
    }

    sd_row_sd_str(row, "identity", &domain);
    reg.data = region;
    reg.len = strlen(region);

    records = sd_dns_records(&domain, toks, n,
                             sd_row_sd_str(row, "_zone", &zone) ? &zone
                                                                : NULL,
                             sd_row_sd_str(row, "mail_from_domain",
                                           &mail_from) ? &mail_from : NULL,
                             &reg, !sd_row_is_domain(row));

    json_object_set_new(out, "dns_records", records ? records : json_array());

    return out;
}
