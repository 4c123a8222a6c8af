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
sd_row_flags(const json_t *row)
{
    unsigned     flags = 0;
    const char  *dkim;

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


/* the DNS records of a managed row; a row they cannot be made for has [] */

static void
sd_row_write_records(sd_jsonw_t *w, const json_t *row, const char *region)
{
    size_t     i, n;
    json_t    *tokens, *v;
    sd_str_t   domain, zone, mail_from, reg, toks[SD_SES_MAX_DKIM_TOKENS];

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

    if (sd_dns_write(w, &domain, toks, n,
                     sd_row_sd_str(row, "_zone", &zone) ? &zone : NULL,
                     sd_row_sd_str(row, "mail_from_domain", &mail_from)
                     ? &mail_from : NULL,
                     &reg, !sd_row_is_domain(row))
        != 0)
    {
        sd_jsonw_lit(w, "[]");
    }
}


static void
sd_row_write_key(sd_jsonw_t *w, const char *key, int *first)
{
    if (!*first) {
        sd_jsonw_lit(w, ",");
    }

    *first = 0;

    sd_jsonw_str(w, key, strlen(key));
    sd_jsonw_lit(w, ":");
}


/*
 * The stored fields in their stored order, less the internal ones, with
 * three replaced (or added at the end, in this order, when the row lacks
 * them): "dkim_inherited_from", "next_check_at" (null until the row is
 * ready: only ready rows are polled) and "dns_records".  Legacy rows have
 * nothing to publish and are shown as stored.
 */

int
sd_row_write_public(sd_jsonw_t *w, const json_t *row, const char *region,
    const char *inherited_from)
{
    int          first, managed, ready, seen_inherited, seen_next, seen_dns;
    json_t      *v;
    const char  *key, *kind;

    kind = sd_row_str(row, "kind");
    managed = (kind == NULL || strcmp(kind, "legacy") != 0);
    ready = sd_row_in_state(row, SD_STATE_READY);

    first = 1;
    seen_inherited = seen_next = seen_dns = 0;

    sd_jsonw_lit(w, "{");

    json_object_foreach((json_t *) row, key, v) {
        if (key[0] == '_') {
            continue;
        }

        sd_row_write_key(w, key, &first);

        if (managed && strcmp(key, "dkim_inherited_from") == 0) {
            sd_jsonw_str(w, inherited_from,
                         inherited_from ? strlen(inherited_from) : 0);
            seen_inherited = 1;

        } else if (managed && !ready && strcmp(key, "next_check_at") == 0) {
            sd_jsonw_lit(w, "null");
            seen_next = 1;

        } else if (managed && strcmp(key, "dns_records") == 0) {
            sd_row_write_records(w, row, region);
            seen_dns = 1;

        } else {
            sd_jsonw_value(w, v);
        }
    }

    if (managed && !seen_inherited) {
        sd_row_write_key(w, "dkim_inherited_from", &first);
        sd_jsonw_str(w, inherited_from,
                     inherited_from ? strlen(inherited_from) : 0);
    }

    if (managed && !ready && !seen_next) {
        sd_row_write_key(w, "next_check_at", &first);
        sd_jsonw_lit(w, "null");
    }

    if (managed && !seen_dns) {
        sd_row_write_key(w, "dns_records", &first);
        sd_row_write_records(w, row, region);
    }

    sd_jsonw_lit(w, "}");

    return sd_jsonw_failed(w) ? -1 : 0;
}


json_t *
sd_row_public(const json_t *row, const char *region,
    const char *inherited_from)
{
    sd_jsonw_t      w;
    sd_jsonw_mem_t  mem = { NULL, 0, 0 };

    sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);

    (void) sd_row_write_public(&w, row, region, inherited_from);

    return sd_jsonw_mem_load(&w, &mem);
}
