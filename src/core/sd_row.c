/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the stored identity row (pure C).
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sd_row.h"
#include "sd_store.h"
#include "sd_dns.h"
#include "sd_time.h"
#include "sd_backoff.h"
#include "sd_ownership.h"


static int64_t sd_row_time(const json_t *row, const char *key);


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


static int
sd_row_str_is_c(const json_t *row, const char *key, const char *value)
{
    const char  *v = sd_row_str(row, key);

    return v != NULL && strcmp(v, value) == 0;
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
    json_object_set_new(row, "ownership", json_null());
    json_object_set_new(row, "verification_email_sent_at", json_null());
    json_object_set_new(row, "verification_link_expires_at", json_null());
    json_object_set_new(row, "verification_info",
                        json_pack("{s:n,s:n,s:n}", "error_type",
                                  "last_checked_at", "last_success_at"));
    json_object_set_new(row, "created_at", sd_row_time_value(now));
    json_object_set_new(row, "last_checked_at", json_null());
    json_object_set_new(row, "next_check_at",
                        sd_row_time_value(now ? now + SD_ROW_LIVE_GRACE
                                              : 0));
    json_object_set_new(row, "claim_expires_at", json_null());
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
 * A MAIL FROM domain is always under its identity ("bounce.acme.com" for
 * "acme.com"): its label is what PutEmailIdentityMailFromAttributes gets
 * again once CreateEmailIdentity has re-created the identity (whose MAIL
 * FROM went with it).  The row's MAIL FROM domain is cleared, as that is
 * what makes the add flow configure it (SES's MAIL FROM of an identity
 * that exists is kept instead).
 */

void
sd_row_set_gone(json_t *row)
{
    size_t       mf_len, id_len;
    const char  *mf, *id;

    sd_row_set_state(row, SD_STATE_CREATING);
    json_object_set_new(row, "verified_for_sending", json_false());

    if (!sd_row_is_domain(row)) {
        return;
    }

    mf = sd_row_str(row, "mail_from_domain");
    id = sd_row_str(row, "identity");

    if (mf != NULL && id != NULL) {
        mf_len = strlen(mf);
        id_len = strlen(id);

        if (mf_len > id_len + 1
            && mf[mf_len - id_len - 1] == '.'
            && strcasecmp(mf + mf_len - id_len, id) == 0)
        {
            json_object_set_new(row, "_mail_from_label",
                                json_stringn(mf, mf_len - id_len - 1));
        }
    }

    json_object_set_new(row, "mail_from_domain", json_null());
    json_object_set_new(row, "mail_from_status",
                        json_string("not_configured"));
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

    if (sd_row_str(row, "ownership") == NULL) {
        /* a row of an older store: say what it is */
        json_object_set_new(row, "ownership",
                            json_string(sd_row_unproven(row) ? "unproven"
                                                             : "proven"));
    }

    if (sd_own_pending(row)) {
        /* kept for the moment the proof is found */
        sd_own_note_ses(row, si->verified_for_sending);
    }

    /* SES's status is the shared account's: it counts only with proof */
    json_object_set_new(row, "verified_for_sending",
                        json_boolean(si->verified_for_sending
                                     && !sd_row_unproven(row)));

    if (si->verified_for_sending && !sd_row_unproven(row)) {
        /* verified: the claim holds for good */
        json_object_set_new(row, "claim_expires_at", json_null());
    }

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

    /* the refresher's DNS hint explains a wait: none left, no hint */
    if (!sd_row_str_is_c(row, "dkim_status", "pending")
        && !sd_row_str_is_c(row, "mail_from_status", "pending"))
    {
        json_object_del(row, "dns_hint");
    }
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

    /* an unverified claim is looked at again when it expires */
    if (!(flags & SD_REC_VERIFIED)) {
        int64_t  ce = sd_row_time(row, "claim_expires_at");

        if (ce > 0 && next > ce) {
            next = (ce > now) ? ce : now + 1;
        }
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


int
sd_row_unproven(const json_t *row)
{
    const char  *own, *origin;

    own = sd_row_str(row, "ownership");

    if (own) {
        return strcmp(own, "unproven") == 0;
    }

    /* a row of an older store: adopted means nobody proved anything */
    origin = sd_row_str(row, "origin");

    return origin && strcmp(origin, "adopted") == 0
           && sd_row_str(row, "kind")
           && strcmp(sd_row_str(row, "kind"), "managed") == 0;
}


unsigned
sd_row_flags(const json_t *row)
{
    unsigned     flags = 0;
    const char  *dkim, *mf;

    if (sd_row_is_domain(row)) {
        flags |= SD_REC_DOMAIN;
    }

    if (sd_row_unproven(row)) {
        flags |= SD_REC_UNPROVEN;
    }

    /*
     * A row still being created never sends, whatever SES said; nor does
     * one whose claim expired, nor one SES verified for someone else.
     */
    if (json_is_true(json_object_get(row, "verified_for_sending"))
        && !sd_row_in_state(row, SD_STATE_CREATING)
        && !sd_row_in_state(row, SD_STATE_FAILED)
        && !(flags & SD_REC_UNPROVEN))
    {
        flags |= SD_REC_VERIFIED;
    }

    if (sd_row_in_state(row, SD_STATE_CREATING)
        || sd_row_in_state(row, SD_STATE_MAIL_FROM))
    {
        flags |= SD_REC_UNFINISHED;
    }

    dkim = sd_row_str(row, "dkim_status");

    /*
     * An unproven row holds no claim (issue 13): an older version's is
     * released, then purged; one waiting for its DNS proof stays
     * scheduled (its claim never blocks anyone: see sd_store.c) until it
     * is proven or expires.
     */
    if ((dkim && strcmp(dkim, "failed") == 0 && !(flags & SD_REC_VERIFIED))
        || sd_row_in_state(row, SD_STATE_FAILED)
        || ((flags & SD_REC_UNPROVEN) && !sd_own_pending(row)))
    {
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


static int64_t
sd_row_time(const json_t *row, const char *key)
{
    int64_t      t;
    const char  *s;

    s = sd_row_str(row, key);

    if (s == NULL || sd_time_parse(s, strlen(s), &t) != 0) {
        return 0;
    }

    return t;
}


int
sd_row_expire(json_t *row, int64_t now)
{
    int      pending;
    int64_t  t;

    if (sd_row_in_state(row, SD_STATE_FAILED)
        || (sd_row_flags(row) & SD_REC_VERIFIED))
    {
        return 0;
    }

    if (json_object_get(row, "claim_expires_at") == NULL) {
        /* a row of an older store: SES's longest limit from the add */
        t = sd_row_time(row, "created_at");
        t = t ? t + 72 * 3600 : 0;

    } else {
        t = sd_row_time(row, "claim_expires_at");
    }

    if (t == 0 || t > now) {
        return 0;
    }

    pending = sd_own_pending(row);

    sd_row_set_state(row, SD_STATE_FAILED);
    json_object_set_new(row, "next_check_at", json_null());

    sd_row_set_error(row, "claim_expired", pending
        ? "The ownership TXT record was not found in time, so this claim "
          "expired and another workspace may now prove the domain. To try "
          "again, remove this sender, add it again and publish the new "
          "TXT record."
        : sd_row_is_domain(row)
        ? "This domain was not verified in time (Amazon SES looks for its "
          "DNS records for 72 hours), so the claim expired and another "
          "workspace may now add it. To try again, remove this sender, add "
          "it again and publish the new records."
        : "This address was not verified in time (its verification link "
          "expires after 24 hours), so the claim expired and another "
          "workspace may now add it. To try again, remove this sender and "
          "add it again.");

    return 1;
}


void
sd_row_abandon(json_t *row, int64_t now, int64_t grace)
{
    if (!(sd_row_flags(row) & SD_REC_FAILED)) {
        json_object_del(row, "purge_at");
        return;
    }

    if (sd_row_time(row, "purge_at") == 0) {
        sd_row_set_time(row, "purge_at", now + grace);
    }
}


int64_t
sd_row_next_check(const json_t *row)
{
    int64_t      t;
    const char  *s;

    /* a released claim: its next step is the purge */
    if (sd_row_flags(row) & SD_REC_FAILED) {
        return sd_row_time(row, "purge_at");
    }

    /* half-added rows are resumed by the refresher too (issue 13) */
    if (!sd_row_in_state(row, SD_STATE_READY)
        && !sd_row_in_state(row, SD_STATE_CREATING)
        && !sd_row_in_state(row, SD_STATE_MAIL_FROM))
    {
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


/* ---- the public object ------------------------------------------------ */


static const char *sd_row_skip_ws(const char *p, const char *end);
static const char *sd_row_skip_string(const char *p, const char *end,
    int *plain);
static const char *sd_row_skip_value(const char *p, const char *end,
    int depth);
static int sd_row_view_tokens(sd_row_view_t *v, const sd_str_t *raw);
static int sd_row_view_note(sd_row_view_t *v, const sd_row_member_t *m,
    int plain);


#define SD_ROW_DEPTH_MAX  32

#define sd_row_str_is(s, lit)                                                 \
    ((s)->data != NULL && (s)->len == sizeof(lit) - 1                         \
     && memcmp((s)->data, lit, sizeof(lit) - 1) == 0)


/*
 * A view of a stored row straight from its text, which this module wrote
 * with json_dumps(): the members are found, checked to be valid JSON in
 * the form json_dumps(JSON_COMPACT) writes (see sd_row_skip_string()) and
 * copied out as they are, so listing 1,000 rows parses no tree.  -1 for
 * anything unexpected (invalid JSON, another spelling of a value, a
 * duplicate key, an escape in a name the DNS records are made of, too
 * many members): the caller then parses the row and uses
 * sd_row_view_tree(), which gives the same answer.
 */

int
sd_row_view_text(sd_row_view_t *v, const char *json, size_t len)
{
    int               plain;
    size_t            i;
    const char       *p, *end, *q;
    sd_row_member_t  *m;

    memset(v, 0, sizeof(sd_row_view_t));

    p = json;
    end = json + len;

    if (!sd_jsonw_utf8_valid(json, len)) {
        return -1;
    }

    p = sd_row_skip_ws(p, end);
    if (p == end || *p++ != '{') {
        return -1;
    }

    p = sd_row_skip_ws(p, end);

    if (p < end && *p == '}') {
        p++;
        goto done;
    }

    for ( ;; ) {
        if (v->nmembers == SD_ROW_MEMBERS_MAX || p == end || *p != '"') {
            return -1;
        }

        m = &v->members[v->nmembers];

        q = sd_row_skip_string(p, end, &plain);
        if (q == NULL || !plain) {
            return -1;
        }

        m->key.data = p + 1;
        m->key.len = q - p - 2;

        for (i = 0; i < v->nmembers; i++) {
            if (v->members[i].key.len == m->key.len
                && memcmp(v->members[i].key.data, m->key.data, m->key.len)
                   == 0)
            {
                return -1;
            }
        }

        p = sd_row_skip_ws(q, end);
        if (p == end || *p++ != ':') {
            return -1;
        }

        p = sd_row_skip_ws(p, end);

        plain = 1;

        if (p < end && *p == '"') {
            q = sd_row_skip_string(p, end, &plain);

        } else {
            q = sd_row_skip_value(p, end, 0);
        }

        if (q == NULL) {
            return -1;
        }

        m->raw.data = p;
        m->raw.len = q - p;
        m->value = NULL;
        v->nmembers++;

        if (sd_row_view_note(v, m, plain) != 0) {
            return -1;
        }

        p = sd_row_skip_ws(q, end);

        if (p < end && *p == ',') {
            p = sd_row_skip_ws(p + 1, end);
            continue;
        }

        if (p < end && *p == '}') {
            p++;
            break;
        }

        return -1;
    }

done:

    return sd_row_skip_ws(p, end) == end ? 0 : -1;
}


/* the same view of a parsed row (a row just changed, or an odd one) */

int
sd_row_view_tree(sd_row_view_t *v, const json_t *row)
{
    size_t            i, n;
    json_t           *val, *tokens;
    const char       *key;
    sd_row_member_t  *m;

    memset(v, 0, sizeof(sd_row_view_t));

    json_object_foreach((json_t *) row, key, val) {
        if (v->nmembers == SD_ROW_MEMBERS_MAX) {
            return -1;
        }

        m = &v->members[v->nmembers++];
        m->key.data = key;
        m->key.len = strlen(key);
        m->value = val;
    }

    sd_row_sd_str(row, "identity", &v->identity);
    sd_row_sd_str(row, "type", &v->type);
    sd_row_sd_str(row, "kind", &v->kind);
    sd_row_sd_str(row, "state", &v->state);
    sd_row_sd_str(row, "mail_from_domain", &v->mail_from_domain);
    sd_row_sd_str(row, "_zone", &v->zone);
    sd_row_sd_str(row, "origin", &v->origin);
    sd_row_sd_str(row, "ownership", &v->ownership);
    sd_row_sd_str(row, SD_OWN_TOKEN_FIELD, &v->own_token);

    tokens = json_object_get(row, "_tokens");
    n = 0;

    json_array_foreach(tokens, i, val) {
        if (n < SD_SES_MAX_DKIM_TOKENS && json_is_string(val)) {
            v->tokens[n].data = json_string_value(val);
            v->tokens[n].len = json_string_length(val);
            n++;
        }
    }

    v->ntokens = n;

    return 0;
}


/* remembers the members the public form is made of */

static int
sd_row_view_note(sd_row_view_t *v, const sd_row_member_t *m, int plain)
{
    sd_str_t   s, *field;
    const sd_str_t  *k = &m->key;

    if (sd_row_str_is(k, "_tokens")) {
        return (m->raw.data[0] == '[') ? sd_row_view_tokens(v, &m->raw) : 0;
    }

    if (sd_row_str_is(k, "identity")) {
        field = &v->identity;

    } else if (sd_row_str_is(k, "type")) {
        field = &v->type;

    } else if (sd_row_str_is(k, "kind")) {
        field = &v->kind;

    } else if (sd_row_str_is(k, "state")) {
        field = &v->state;

    } else if (sd_row_str_is(k, "mail_from_domain")) {
        field = &v->mail_from_domain;

    } else if (sd_row_str_is(k, "_zone")) {
        field = &v->zone;

    } else if (sd_row_str_is(k, "origin")) {
        field = &v->origin;

    } else if (sd_row_str_is(k, "ownership")) {
        field = &v->ownership;

    } else if (sd_row_str_is(k, SD_OWN_TOKEN_FIELD)) {
        field = &v->own_token;

    } else {
        return 0;
    }

    if (m->raw.data[0] != '"') {
        return 0;               /* not a string: as if absent */
    }

    if (!plain) {
        return -1;              /* an escape: let jansson decode it */
    }

    s.data = m->raw.data + 1;
    s.len = m->raw.len - 2;
    *field = s;

    return 0;
}


/* the strings of "_tokens" (other elements are skipped, as by the tree) */

static int
sd_row_view_tokens(sd_row_view_t *v, const sd_str_t *raw)
{
    int          plain;
    const char  *p, *q, *end;

    p = raw->data + 1;
    end = raw->data + raw->len - 1;         /* the ']' */

    for (p = sd_row_skip_ws(p, end); p < end; ) {
        if (*p == '"') {
            q = sd_row_skip_string(p, end, &plain);
            if (q == NULL || !plain) {
                return -1;
            }

            if (v->ntokens < SD_SES_MAX_DKIM_TOKENS) {
                v->tokens[v->ntokens].data = p + 1;
                v->tokens[v->ntokens].len = q - p - 2;
                v->ntokens++;
            }

        } else {
            q = sd_row_skip_value(p, end, 1);
            if (q == NULL) {
                return -1;
            }
        }

        p = sd_row_skip_ws(q, end);

        if (p < end && *p == ',') {
            p = sd_row_skip_ws(p + 1, end);
        }
    }

    return 0;
}


static const char *
sd_row_skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    {
        p++;
    }

    return p;
}


/*
 * The scanner accepts values only in the one form json_dumps(JSON_COMPACT)
 * gives them, because sd_row_write_view() copies them as they are while
 * the tree path writes jansson's form: "\/", "\u0041", "\u001f", "1E2",
 * "-0" or a space inside an object would be shown as stored by one path
 * and rewritten by the other, and a duplicate key inside a value would be
 * shown twice by one and once by the other.  jansson also refuses some
 * text a plain JSON check lets through ("\u0000", a lone surrogate, an
 * integer beyond 64 bits, 1e400).  Anything else returns NULL, and the
 * row takes the (rare) jansson path.  Found by t/fuzz/fuzz_row_view.c.
 */

/* p is at '"'; returns what follows the closing quote, NULL if invalid */

static const char *
sd_row_skip_string(const char *p, const char *end, int *plain)
{
    unsigned  c;

    *plain = 1;

    for (p++; p < end; p++) {
        if (*p == '"') {
            return p + 1;
        }

        if ((unsigned char) *p < 0x20) {
            return NULL;
        }

        if (*p != '\\') {
            continue;
        }

        *plain = 0;

        if (++p == end) {
            return NULL;
        }

        if (*p != 'u') {
            /* jansson writes '/' as is */
            if (strchr("\"\\bfnrt", *p) == NULL || *p == '\0') {
                return NULL;
            }

            continue;
        }

        /* only \u0001-\u001F, upper case, for controls with no short form */

        if (end - p < 5 || p[1] != '0' || p[2] != '0'
            || (p[3] != '0' && p[3] != '1'))
        {
            return NULL;
        }

        if (p[4] >= '0' && p[4] <= '9') {
            c = p[4] - '0';

        } else if (p[4] >= 'A' && p[4] <= 'F') {
            c = p[4] - 'A' + 10;

        } else {
            return NULL;
        }

        c += (p[3] - '0') * 16;

        if (c == 0 || c == '\b' || c == '\t' || c == '\n' || c == '\f'
            || c == '\r')
        {
            return NULL;
        }

        p += 4;
    }

    return NULL;
}


#define SD_ROW_KEYS_MAX    16       /* per object inside a value */
#define SD_ROW_DIGITS_MAX  18       /* always within a json_int_t */


static const char *
sd_row_skip_value(const char *p, const char *end, int depth)
{
    int          plain;
    char         close;
    size_t       i, nkeys;
    sd_str_t     keys[SD_ROW_KEYS_MAX];
    const char  *q;

    if (p == end || depth > SD_ROW_DEPTH_MAX) {
        return NULL;
    }

    switch (*p) {

    case '"':
        return sd_row_skip_string(p, end, &plain);

    case '{':
    case '[':
        /* compact: no white space inside a value */
        close = (*p == '{') ? '}' : ']';
        p++;

        if (p < end && *p == close) {
            return p + 1;
        }

        nkeys = 0;

        for ( ;; ) {
            if (close == '}') {
                if (p == end || *p != '"') {
                    return NULL;
                }

                q = sd_row_skip_string(p, end, &plain);
                if (q == NULL || nkeys == SD_ROW_KEYS_MAX) {
                    return NULL;
                }

                /* one spelling per string: equal keys have equal bytes */
                for (i = 0; i < nkeys; i++) {
                    if (keys[i].len == (size_t) (q - p)
                        && memcmp(keys[i].data, p, q - p) == 0)
                    {
                        return NULL;
                    }
                }

                keys[nkeys].data = p;
                keys[nkeys].len = q - p;
                nkeys++;

                p = q;
                if (p == end || *p++ != ':') {
                    return NULL;
                }
            }

            q = sd_row_skip_value(p, end, depth + 1);
            if (q == NULL) {
                return NULL;
            }

            p = q;

            if (p < end && *p == ',') {
                p++;
                continue;
            }

            return (p < end && *p == close) ? p + 1 : NULL;
        }

    case 't':
        return (end - p >= 4 && memcmp(p, "true", 4) == 0) ? p + 4 : NULL;

    case 'f':
        return (end - p >= 5 && memcmp(p, "false", 5) == 0) ? p + 5 : NULL;

    case 'n':
        return (end - p >= 4 && memcmp(p, "null", 4) == 0) ? p + 4 : NULL;
    }

    /*
     * An integer: -?(0|[1-9][0-9]*), not "-0", at most 18 digits.  Rows
     * hold no reals; jansson's form of one ("%.17g") is its business.
     */

    q = p;

    if (*q == '-') {
        q++;
    }

    if (q < end && *q == '0') {
        q++;

        if (*p == '-') {
            return NULL;
        }

    } else if (q < end && *q >= '1' && *q <= '9') {
        while (q < end && isdigit((unsigned char) *q)) {
            q++;
        }

        if (q - p - (*p == '-') > SD_ROW_DIGITS_MAX) {
            return NULL;
        }

    } else {
        return NULL;
    }

    if (q < end && (*q == '.' || *q == 'e' || *q == 'E')) {
        return NULL;
    }

    return q;
}


/* the DNS records of a managed row; a row they cannot be made for has [] */

static void
sd_row_write_records(sd_jsonw_t *w, const sd_row_view_t *v,
    const char *region)
{
    sd_str_t        reg;
    const sd_str_t *own;

    reg.data = region;
    reg.len = strlen(region);

    /* an unproven domain shows the TXT record that proves it */
    own = (v->own_token.data && sd_row_str_is(&v->ownership, "unproven")
           && !sd_row_str_is(&v->state, SD_STATE_FAILED))
          ? &v->own_token : NULL;

    if (sd_dns_write_own(w, &v->identity, v->tokens, v->ntokens,
                         v->zone.data ? &v->zone : NULL,
                         v->mail_from_domain.data ? &v->mail_from_domain
                                                  : NULL,
                         &reg, !sd_row_view_is_domain(v), own)
        != 0)
    {
        sd_jsonw_lit(w, "[]");
    }
}


int
sd_row_view_is_domain(const sd_row_view_t *v)
{
    return sd_row_str_is(&v->type, "domain");
}


static void
sd_row_write_key(sd_jsonw_t *w, const char *key, size_t len, int *first)
{
    if (!*first) {
        sd_jsonw_lit(w, ",");
    }

    *first = 0;

    sd_jsonw_str(w, key, len);
    sd_jsonw_lit(w, ":");
}


#define sd_row_write_lit_key(w, lit, first)                                   \
    sd_row_write_key(w, lit, sizeof(lit) - 1, first)


/*
 * The stored members in their stored order, less the internal ones, with
 * three replaced (or added at the end, in this order, when the row lacks
 * them): "dkim_inherited_from", "next_check_at" (null once the claim
 * expired: nothing is polled then; half-added rows are resumed, issue 13)
 * and "dns_records".  Legacy rows have
 * nothing to publish and are shown as stored.
 */

int
sd_row_write_view(sd_jsonw_t *w, const sd_row_view_t *v, const char *region,
    const char *inherited_from)
{
    int                     first, managed, ready, unproven;
    int                     seen_inherited, seen_next, seen_dns, seen_own;
    size_t                  i, ilen;
    const sd_str_t         *k;
    const sd_row_member_t  *m;

    managed = !sd_row_str_is(&v->kind, "legacy");
    ready = !sd_row_str_is(&v->state, SD_STATE_FAILED);
    ilen = inherited_from ? strlen(inherited_from) : 0;

    /* adopted by an older version, nothing proven: never shown verified */
    unproven = managed
               && (sd_row_str_is(&v->ownership, "unproven")
                   || (v->ownership.data == NULL
                       && sd_row_str_is(&v->origin, "adopted")));

    first = 1;
    seen_inherited = seen_next = seen_dns = seen_own = 0;

    sd_jsonw_lit(w, "{");

    for (i = 0; i < v->nmembers; i++) {
        m = &v->members[i];
        k = &m->key;

        if (k->len && k->data[0] == '_') {
            continue;
        }

        sd_row_write_key(w, k->data, k->len, &first);

        if (managed && sd_row_str_is(k, "dkim_inherited_from")) {
            sd_jsonw_str(w, inherited_from, ilen);
            seen_inherited = 1;

        } else if (managed && !ready && sd_row_str_is(k, "next_check_at")) {
            sd_jsonw_lit(w, "null");
            seen_next = 1;

        } else if (managed && sd_row_str_is(k, "dns_records")) {
            sd_row_write_records(w, v, region);
            seen_dns = 1;

        } else if (unproven && sd_row_str_is(k, "verified_for_sending")) {
            sd_jsonw_lit(w, "false");

        } else if (unproven && sd_row_str_is(k, "ownership")) {
            sd_jsonw_lit(w, "\"unproven\"");
            seen_own = 1;

        } else if (m->value) {
            sd_jsonw_value(w, m->value);

        } else {
            sd_jsonw_raw(w, m->raw.data, m->raw.len);
        }
    }

    if (managed && !seen_inherited) {
        sd_row_write_lit_key(w, "dkim_inherited_from", &first);
        sd_jsonw_str(w, inherited_from, ilen);
    }

    if (unproven && !seen_own) {
        sd_row_write_lit_key(w, "ownership", &first);
        sd_jsonw_lit(w, "\"unproven\"");
    }

    if (managed && !ready && !seen_next) {
        sd_row_write_lit_key(w, "next_check_at", &first);
        sd_jsonw_lit(w, "null");
    }

    if (managed && !seen_dns) {
        sd_row_write_lit_key(w, "dns_records", &first);
        sd_row_write_records(w, v, region);
    }

    sd_jsonw_lit(w, "}");

    return sd_jsonw_failed(w) ? -1 : 0;
}


int
sd_row_write_public(sd_jsonw_t *w, const json_t *row, const char *region,
    const char *inherited_from)
{
    int             rc;
    sd_row_view_t  *v;

    v = malloc(sizeof(sd_row_view_t));
    if (v == NULL) {
        w->failed = 1;
        return -1;
    }

    rc = sd_row_view_tree(v, row);

    if (rc == 0) {
        rc = sd_row_write_view(w, v, region, inherited_from);

    } else {
        w->failed = 1;
    }

    free(v);

    return rc;
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


void
sd_row_set_origin(json_t *row, const char *origin, const char *ownership)
{
    json_object_set_new(row, "origin", json_string(origin));

    if (ownership != NULL) {
        json_object_set_new(row, "ownership", json_string(ownership));
    }
}


void
sd_row_set_outside(json_t *row, const char *message)
{
    sd_row_set_state(row, SD_STATE_FAILED);
    json_object_set_new(row, "verified_for_sending", json_false());
    json_object_set_new(row, "next_check_at", json_null());
    sd_row_set_error(row, "registered_outside", message);
}


const char *
sd_row_mail_from_label(const json_t *row)
{
    const char  *label;

    label = sd_row_str(row, "_mail_from_label");

    return label ? label : SD_MAIL_FROM_LABEL_DEFAULT;
}


int
sd_row_set_mail_from(json_t *row, const char *id, size_t id_len)
{
    size_t       n;
    const char  *label;
    char         mf[SD_DOMAIN_BUFSZ + SD_LABEL_BUFSZ];

    label = sd_row_mail_from_label(row);
    n = strlen(label);

    if (n + 1 + id_len >= sizeof(mf)) {
        return -1;
    }

    memcpy(mf, label, n);
    mf[n] = '.';
    memcpy(mf + n + 1, id, id_len);

    sd_row_set_str(row, "mail_from_domain", mf, n + 1 + id_len);
    json_object_set_new(row, "mail_from_status", json_string("pending"));

    return 0;
}


int
sd_row_to_record(const json_t *row, sd_record_t *out, char **text)
{
    const char  *name;

    *text = json_dumps(row, JSON_COMPACT);
    if (*text == NULL) {
        return -1;
    }

    name = sd_row_str(row, "sender_name");

    out->flags = sd_row_flags(row);
    out->next_check = sd_row_next_check(row);
    out->sender_name = name ? name : "";
    out->sender_name_len = strlen(out->sender_name);
    out->json = *text;
    out->json_len = strlen(*text);

    return 0;
}


void
sd_row_settle(json_t *row)
{
    sd_row_clear_error(row);

    /* an unproven domain is someone else's in SES: never written to */
    if (sd_row_is_domain(row)
        && json_is_null(json_object_get(row, "mail_from_domain"))
        && !sd_own_pending(row))
    {
        sd_row_set_state(row, SD_STATE_MAIL_FROM);

    } else {
        sd_row_set_state(row, SD_STATE_READY);
    }
}


int
sd_row_claim_tag(const json_t *row, const sd_ses_identity_t *si)
{
    const char  *claim;

    if (si->claim[0] == '\0') {
        return SD_ROW_TAG_NONE;
    }

    claim = sd_row_str(row, "_claim");

    return (claim != NULL && strcmp(si->claim, claim) == 0)
           ? SD_ROW_TAG_OURS : SD_ROW_TAG_MODULE;
}


void
sd_row_set_claim_expiry(json_t *row, int64_t from, int64_t domain_ttl,
    int64_t address_ttl)
{
    int64_t      t, added;
    const char  *created;

    if (sd_row_is_domain(row)) {
        t = from + domain_ttl;

    } else {
        /* a resend never holds it beyond the domain limit from the add */
        t = from + address_ttl;
        created = sd_row_str(row, "created_at");

        if (created
            && sd_time_parse(created, strlen(created), &added) == 0
            && t > added + domain_ttl)
        {
            t = added + domain_ttl;
        }
    }

    sd_row_set_time(row, "claim_expires_at", t);
}


void
sd_row_set_link_sent(json_t *row, int64_t now)
{
    sd_row_set_time(row, "verification_email_sent_at", now);
    sd_row_set_time(row, "verification_link_expires_at",
                    now + SD_VERIFICATION_LINK_TTL);
}
