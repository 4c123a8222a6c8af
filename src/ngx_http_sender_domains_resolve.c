/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the send-time From-address resolver.
 *
 * GET /resolve?from=... and the $sender_domains_from variable.  One LMDB
 * read transaction, no SES call, and no allocation beyond the request
 * pool: the answer is written with ngx_sprintf, not jansson.
 *
 * Order: a verified address of this workspace, a verified
 * domain of this workspace covering the address (its own domain or a
 * parent: SES lets a verified domain send from every address and
 * subdomain under it), a grandfathered legacy sender, else the default
 * sender with a warning.  An unverified or foreign address never goes out.
 *
 * A send must not fail: when the workspace's own sender cannot be looked
 * up at all (no caller, the store not open, a store error), the answer is
 * still the default sender, with the reason.  Only a request without
 * ?from= is refused (400), and only by the API.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_sender_domains_api.h"
#include "sd_identity.h"
#include "sd_from.h"
#include "ngx_http_sender_domains_metrics.h"


typedef struct {
    ngx_str_t       from;           /* the header value to use */
    ngx_str_t       address;
    const char     *source;         /* address, domain, legacy, default */
    const char     *reason;         /* NULL unless fallback */
    ngx_flag_t      fallback;
} ngx_http_sender_domains_resolution_t;


/*
 * One slot of the fallback-warning throttle: a bulk send from an address
 * that cannot be used would otherwise write one warning per message.
 */
typedef struct {
    uint32_t        key;            /* hash of workspace and reason */
    time_t          logged;         /* when the last line was written */
    ngx_uint_t      suppressed;     /* fallbacks not logged since then */
} ngx_http_sender_domains_warn_slot_t;


#define NGX_HTTP_SENDER_DOMAINS_WARN_SLOTS     1024
#define NGX_HTTP_SENDER_DOMAINS_WARN_PERIOD    60


static const char *ngx_http_sender_domains_resolve_caller(
    ngx_http_request_t *r, ngx_http_sender_domains_caller_t *caller);
static ngx_int_t ngx_http_sender_domains_resolve(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, const char *unavailable,
    ngx_str_t *in, ngx_http_sender_domains_resolution_t *res);
static ngx_int_t ngx_http_sender_domains_resolve_parse(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, ngx_str_t *in, char *name,
    size_t name_size, size_t *name_len, ngx_str_t *addr,
    ngx_http_sender_domains_resolution_t *res);
static ngx_int_t ngx_http_sender_domains_resolve_lookup(
    ngx_http_request_t *r, ngx_http_sender_domains_caller_t *caller,
    ngx_str_t *addr, sd_resolve_t *sr,
    ngx_http_sender_domains_resolution_t *res);
static ngx_int_t ngx_http_sender_domains_resolve_source(
    ngx_http_sender_domains_caller_t *caller, sd_resolve_t *sr,
    ngx_http_sender_domains_resolution_t *res);
static ngx_int_t ngx_http_sender_domains_resolve_default(
    ngx_http_request_t *r, ngx_http_sender_domains_resolution_t *res);
static void ngx_http_sender_domains_warn_unavailable(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, const char *reason);
static void ngx_http_sender_domains_warn_invalid(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, const char *reason,
    ngx_uint_t is_name);
static void ngx_http_sender_domains_warn_refused(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, ngx_str_t *addr,
    const char *reason);
static ngx_int_t ngx_http_sender_domains_from_arg(ngx_http_request_t *r,
    ngx_str_t *out);
static void ngx_http_sender_domains_from_arg_unescape(ngx_str_t *raw,
    ngx_str_t *out);
static ngx_uint_t ngx_http_sender_domains_warn_due(ngx_str_t *ws,
    const char *reason, ngx_str_t *more);


/* per worker: each worker throttles its own lines */
static ngx_http_sender_domains_warn_slot_t
    ngx_http_sender_domains_warn_slots[NGX_HTTP_SENDER_DOMAINS_WARN_SLOTS];


/*
 * Decodes ?from=: '+' is a space, as in forms; send '+' itself as %2B.
 * Into a copy: r->args stays as received for logs and other modules.
 * One pass while every '%' starts a well-formed escape, the usual case;
 * on the first stray '%' ngx_unescape_uri() decodes the whole value, so
 * that its handling of those stays the rule.
 */

static ngx_int_t
ngx_http_sender_domains_from_arg(ngx_http_request_t *r, ngx_str_t *out)
{
    u_char     *dst, *p, *end;
    ngx_int_t   c;
    ngx_str_t   raw;

    if (ngx_http_arg(r, (u_char *) "from", 4, &raw) != NGX_OK) {
        return NGX_DECLINED;
    }

    dst = ngx_pnalloc(r->pool, raw.len + 1);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    out->data = dst;
    end = raw.data + raw.len;

    for (p = raw.data; p < end; p++) {
        if (*p == '+') {
            *dst++ = ' ';

        } else if (*p != '%') {
            *dst++ = *p;

        } else {
            if (end - p < 3 || (c = ngx_hextoi(p + 1, 2)) == NGX_ERROR) {
                ngx_http_sender_domains_from_arg_unescape(&raw, out);
                return NGX_OK;
            }

            *dst++ = (u_char) c;
            p += 2;
        }
    }

    out->len = dst - out->data;

    return NGX_OK;
}


/*
 * The whole value again, into the same buffer (out->data, raw->len + 1
 * bytes): '+' as a space, then ngx_unescape_uri() in place, which never
 * writes ahead of what it has read.
 */

static void
ngx_http_sender_domains_from_arg_unescape(ngx_str_t *raw, ngx_str_t *out)
{
    u_char  *dst, *src, *p;

    for (p = raw->data, dst = out->data; p < raw->data + raw->len; p++) {
        *dst++ = (*p == '+') ? ' ' : *p;
    }

    dst = out->data;
    src = out->data;

    ngx_unescape_uri(&dst, &src, raw->len, 0);
    out->len = dst - out->data;
}


/*
 * Whether a fallback of this workspace and reason should be logged now:
 * the first one is, then at most one a minute, carrying the count of those
 * left out.  The address is not part of the key: a bulk send from many
 * unusable addresses (one per user, say) is one condition of the
 * workspace, not one line per address; each line names the address that
 * triggered it.  A slot taken over by another key (a hash collision of
 * the slot index) just logs: never fewer lines than due.
 */

static ngx_uint_t
ngx_http_sender_domains_warn_due(ngx_str_t *ws, const char *reason,
    ngx_str_t *more)
{
    static u_char                         buf[64];

    time_t                                now;
    uint32_t                              key;
    ngx_http_sender_domains_warn_slot_t  *slot;

    ngx_crc32_init(key);
    ngx_crc32_update(&key, ws->data, ws->len);
    ngx_crc32_update(&key, (u_char *) "", 1);
    ngx_crc32_update(&key, (u_char *) reason, ngx_strlen(reason));
    ngx_crc32_final(key);

    slot = &ngx_http_sender_domains_warn_slots[
                              key % NGX_HTTP_SENDER_DOMAINS_WARN_SLOTS];
    now = ngx_time();

    if (slot->logged != 0 && slot->key == key
        && now - slot->logged < NGX_HTTP_SENDER_DOMAINS_WARN_PERIOD)
    {
        slot->suppressed++;
        return 0;
    }

    /* " (and 41 more since the last such line)", or nothing */
    more->data = buf;
    more->len = 0;

    if (slot->logged != 0 && slot->key == key && slot->suppressed) {
        more->len = ngx_snprintf(buf, sizeof(buf),
                                 " (and %ui more since the last such line)",
                                 slot->suppressed)
                    - buf;
    }

    slot->key = key;
    slot->logged = now;
    slot->suppressed = 0;

    return 1;
}


static ngx_int_t
ngx_http_sender_domains_format(ngx_http_request_t *r, const char *name,
    size_t name_len, ngx_str_t *addr, ngx_str_t *out)
{
    ssize_t  n;

    out->data = ngx_pnalloc(r->pool, SD_FROM_BUFSZ);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    n = sd_from_format(name, name_len, (char *) addr->data, addr->len,
                       (char *) out->data, SD_FROM_BUFSZ);
    if (n < 0) {
        /* a stored name that cannot be formatted: use the bare address */
        n = sd_from_format(NULL, 0, (char *) addr->data, addr->len,
                           (char *) out->data, SD_FROM_BUFSZ);
        if (n < 0) {
            return NGX_ERROR;
        }
    }

    out->len = n;

    return NGX_OK;
}


/*
 * The caller a resolve is for: NULL when established, else why not, the
 * fallback reason ("no_caller", "store_unavailable").  A location with
 * sender_domains_jwt_secret_file needs a verified token first: a
 * workspace named by a header beside a bad token is no caller.
 */

static const char *
ngx_http_sender_domains_resolve_caller(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller)
{
    ngx_http_sender_domains_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_sender_domains_module);

    ngx_memzero(caller, sizeof(ngx_http_sender_domains_caller_t));

    if ((slcf->jwt_set && !ngx_http_sender_domains_jwt_ok(r))
        || ngx_http_sender_domains_caller_from_conf(r, caller) != NGX_OK)
    {
        /* not even an invalid workspace name goes into the log */
        ngx_memzero(caller, sizeof(ngx_http_sender_domains_caller_t));
        return "no_caller";
    }

    if (ngx_http_sender_domains_store() == NULL) {
        return "store_unavailable";
    }

    return NULL;
}


/*
 * The From header for "in" and the caller: the workspace's own sender
 * when it may send as it, else the default sender with the reason (and a
 * throttled line saying why).  NGX_ERROR only when memory runs out.
 */

static ngx_int_t
ngx_http_sender_domains_resolve(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, const char *unavailable,
    ngx_str_t *in, ngx_http_sender_domains_resolution_t *res)
{
    char          name[SD_SENDER_NAME_BUFSZ];
    size_t        name_len;
    ngx_int_t     rc;
    ngx_str_t     addr;
    sd_resolve_t  sr;

    res->fallback = 1;
    res->source = "default";

    if (unavailable) {
        res->reason = unavailable;
        ngx_http_sender_domains_warn_unavailable(r, caller, res->reason);
        return ngx_http_sender_domains_resolve_default(r, res);
    }

    rc = ngx_http_sender_domains_resolve_parse(r, caller, in, name,
                                               sizeof(name), &name_len,
                                               &addr, res);
    if (rc == NGX_DECLINED) {
        return ngx_http_sender_domains_resolve_default(r, res);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_sender_domains_resolve_lookup(r, caller, &addr, &sr, res)
        != NGX_OK)
    {
        return ngx_http_sender_domains_resolve_default(r, res);
    }

    if (ngx_http_sender_domains_resolve_source(caller, &sr, res) != NGX_OK) {
        ngx_http_sender_domains_warn_refused(r, caller, &addr, res->reason);
        return ngx_http_sender_domains_resolve_default(r, res);
    }

    res->fallback = 0;
    res->reason = NULL;
    res->address = addr;

    ngx_http_sender_domains_metric_resolve(sr.source - SD_RESOLVE_ADDRESS);

    /* the sender's own name wins; else the name the caller asked for */
    if (sr.sender_name_len) {
        return ngx_http_sender_domains_format(r, sr.sender_name,
                                              sr.sender_name_len, &addr,
                                              &res->from);
    }

    return ngx_http_sender_domains_format(r, name, name_len, &addr,
                                          &res->from);
}


/*
 * "Name <addr>" or "addr" into the name and the normalized address (in
 * the request's pool).  CR, LF and other controls are refused, and the
 * name gets the rules of a stored sender name (length, invisible
 * characters, the From line's 998 octets): refused, it is a reason of its
 * own.  NGX_DECLINED, logged, with res->reason set: use the default.
 */

static ngx_int_t
ngx_http_sender_domains_resolve_parse(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, ngx_str_t *in, char *name,
    size_t name_size, size_t *name_len, ngx_str_t *addr,
    ngx_http_sender_domains_resolution_t *res)
{
    u_char      *abuf;
    size_t       addr_len;
    ssize_t      n, err;
    const char  *a, *msg;

    res->reason = "invalid_address";

    abuf = ngx_pnalloc(r->pool, SD_EMAIL_BUFSZ);
    if (abuf == NULL) {
        return NGX_ERROR;
    }

    err = sd_from_parse((char *) in->data, in->len, name, name_size,
                        name_len, &a, &addr_len, &msg);
    if (err != SD_OK) {
        if (sd_err_is_name(err)) {
            res->reason = "invalid_sender_name";
        }

        ngx_http_sender_domains_warn_invalid(r, caller, res->reason,
                                             sd_err_is_name(err));
        return NGX_DECLINED;
    }

    n = sd_email_normalize(a, addr_len, (char *) abuf, SD_EMAIL_BUFSZ, &msg);
    if (n <= 0) {
        ngx_http_sender_domains_warn_invalid(r, caller, res->reason, 0);
        return NGX_DECLINED;
    }

    addr->data = abuf;
    addr->len = n;

    return NGX_OK;
}


/* the store's answer; NGX_DECLINED (logged): it could not be read */

static ngx_int_t
ngx_http_sender_domains_resolve_lookup(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, ngx_str_t *addr,
    sd_resolve_t *sr, ngx_http_sender_domains_resolution_t *res)
{
    ngx_str_t      more;
    sd_store_rc_e  rc;

    rc = sd_store_resolve(ngx_http_sender_domains_store(),
                          (char *) caller->workspace.data,
                          caller->workspace.len, (char *) addr->data,
                          addr->len, caller->plan_ok, sr);
    if (rc == SD_STORE_OK) {
        return NGX_OK;
    }

    res->reason = "storage_error";

    /* as throttled as the fallback lines: a bad disk is not news */
    if (ngx_http_sender_domains_warn_due(&caller->workspace, res->reason,
                                         &more))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" cannot look up "
                      "its senders: %s (storage_error); using the "
                      "default sender%V",
                      ngx_http_sender_domains_log_esc(&caller->workspace),
                      sd_store_strerror(ngx_http_sender_domains_store()),
                      &more);
    }

    return NGX_DECLINED;
}


/* where the sender came from; NGX_DECLINED with the reason it may not */

static ngx_int_t
ngx_http_sender_domains_resolve_source(
    ngx_http_sender_domains_caller_t *caller, sd_resolve_t *sr,
    ngx_http_sender_domains_resolution_t *res)
{
    switch (sr->source) {

    case SD_RESOLVE_ADDRESS:
        res->source = "address";
        return NGX_OK;

    case SD_RESOLVE_DOMAIN:
        res->source = "domain";
        return NGX_OK;

    case SD_RESOLVE_LEGACY:
        res->source = "legacy";
        return NGX_OK;

    case SD_RESOLVE_UNVERIFIED:
        res->reason = caller->plan_ok ? "not_verified" : "plan_required";
        return NGX_DECLINED;

    case SD_RESOLVE_UNPROVEN:
        /* verified in the shared SES account, not by this workspace */
        res->reason = "ownership_unproven";
        return NGX_DECLINED;

    default:
        res->reason = "not_registered";
        return NGX_DECLINED;
    }
}


/* the configured default sender, counted by the reason of the fallback */

static ngx_int_t
ngx_http_sender_domains_resolve_default(ngx_http_request_t *r,
    ngx_http_sender_domains_resolution_t *res)
{
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    ngx_http_sender_domains_metric_fallback(res->reason);

    res->address = smcf->default_address;

    return ngx_http_sender_domains_format(r, (char *) smcf->default_name.data,
                                          smcf->default_name.len,
                                          &smcf->default_address, &res->from);
}


/*
 * No caller or no store: a condition of the whole worker, not of a
 * workspace, so one line a minute in all, naming the first workspace it
 * hit.
 */

static void
ngx_http_sender_domains_warn_unavailable(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, const char *reason)
{
    ngx_str_t  more, none;

    ngx_str_null(&none);

    if (!ngx_http_sender_domains_warn_due(&none, reason, &more)) {
        return;
    }

    if (caller->workspace.len == 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sender_domains: a send names no workspace "
                      "(%s); using the default sender%V",
                      reason, &more);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "sender_domains: workspace \"%V\" cannot look up "
                  "its senders: the sender store is not open (%s); "
                  "using the default sender%V",
                  ngx_http_sender_domains_log_esc(&caller->workspace),
                  reason, &more);
}


/* "is_name": the sender name was refused, else the address */

static void
ngx_http_sender_domains_warn_invalid(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, const char *reason,
    ngx_uint_t is_name)
{
    ngx_str_t  more;

    if (ngx_http_sender_domains_warn_due(&caller->workspace, reason, &more)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" asked for an "
                      "invalid sender %s; using the default sender%V",
                      ngx_http_sender_domains_log_esc(&caller->workspace),
                      is_name ? "name" : "address", &more);
    }
}


/* a valid address the workspace may not send as (not verified, ...) */

static void
ngx_http_sender_domains_warn_refused(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller, ngx_str_t *addr,
    const char *reason)
{
    ngx_str_t  more;

    if (ngx_http_sender_domains_warn_due(&caller->workspace, reason, &more)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" cannot send as "
                      "\"%V\" (%s); using the default sender%V",
                      ngx_http_sender_domains_log_esc(&caller->workspace),
                      addr, reason, &more);
    }
}


/*
 * The bytes ngx_escape_json() would add to "s": 0 at once for the usual
 * value, which has no quote, backslash or control byte (a scan of eight
 * bytes at a time instead of ngx_escape_json()'s switch over every byte).
 */

static uintptr_t
ngx_http_sender_domains_json_escapes(ngx_str_t *s)
{
    if (sd_json_plain(s->data, s->len)) {
        return 0;
    }

    return ngx_escape_json(NULL, s->data, s->len);
}


/* "s" as a JSON string's contents; "escapes": as counted above */

static u_char *
ngx_http_sender_domains_json_copy(u_char *p, ngx_str_t *s, uintptr_t escapes)
{
    if (escapes == 0) {
        return ngx_cpymem(p, s->data, s->len);
    }

    return (u_char *) ngx_escape_json(p, s->data, s->len);
}


ngx_int_t
ngx_http_sender_domains_resolve_handler(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    u_char                                *p;
    size_t                                 len;
    uintptr_t                              from_esc, addr_esc;
    ngx_int_t                              rc;
    ngx_str_t                              from;
    ngx_buf_t                             *b;
    ngx_chain_t                            out;
    ngx_http_sender_domains_resolution_t   res;

    rc = ngx_http_sender_domains_from_arg(r, &from);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request", "Pass the sender to check as "
                   "?from=reports%40acme.com.");
    }

    if (ngx_http_sender_domains_resolve(r, &ctx->caller,
            ngx_http_sender_domains_resolve_caller(r, &ctx->caller),
            &from, &res)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    from_esc = ngx_http_sender_domains_json_escapes(&res.from);
    addr_esc = ngx_http_sender_domains_json_escapes(&res.address);

    len = sizeof("{\"from\":\"\",\"address\":\"\",\"source\":\"\","
                 "\"fallback\":false,\"reason\":null}\n")
          + res.from.len + from_esc + res.address.len + addr_esc + 32 + 32;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the usual answer needs no escape: copied, not escaped byte by byte */
    p = ngx_cpymem(b->last, "{\"from\":\"", sizeof("{\"from\":\"") - 1);
    p = ngx_http_sender_domains_json_copy(p, &res.from, from_esc);
    p = ngx_cpymem(p, "\",\"address\":\"", sizeof("\",\"address\":\"") - 1);
    p = ngx_http_sender_domains_json_copy(p, &res.address, addr_esc);
    p = ngx_cpymem(p, "\",\"source\":\"", sizeof("\",\"source\":\"") - 1);
    p = ngx_cpymem(p, res.source, ngx_strlen(res.source));

    if (res.fallback) {
        p = ngx_cpymem(p, "\",\"fallback\":true,\"reason\":",
                       sizeof("\",\"fallback\":true,\"reason\":") - 1);

    } else {
        p = ngx_cpymem(p, "\",\"fallback\":false,\"reason\":",
                       sizeof("\",\"fallback\":false,\"reason\":") - 1);
    }

    if (res.reason) {
        *p++ = '"';
        p = ngx_cpymem(p, res.reason, ngx_strlen(res.reason));
        p = ngx_cpymem(p, "\"}\n", sizeof("\"}\n") - 1);

    } else {
        p = ngx_cpymem(p, "null}\n", sizeof("null}\n") - 1);
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = b->last - b->pos;

    if (ngx_http_sender_domains_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * $sender_domains_from: the From header for the request's ?from= argument
 * and the caller of this location, e.g. for proxy_set_header in front of a
 * mail-sending upstream.  Never empty: the default sender whenever the
 * workspace's own cannot be used or looked up (no ?from= included).
 */

ngx_int_t
ngx_http_sender_domains_from_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    char                                  *action;
    ngx_int_t                              rc;
    ngx_str_t                              from;
    const char                            *unavailable;
    ngx_http_sender_domains_caller_t       caller;
    ngx_http_sender_domains_resolution_t   res;

    /*
     * The variable may be read in any phase (an earlier upstream leaves
     * "sending to client"): the fallback line has no "while ..." of that,
     * and the connection's action is left as it was.
     */
    action = r->connection->log->action;
    r->connection->log->action = NULL;

    unavailable = ngx_http_sender_domains_resolve_caller(r, &caller);

    if (ngx_http_sender_domains_from_arg(r, &from) != NGX_OK) {
        ngx_str_null(&from);
    }

    rc = ngx_http_sender_domains_resolve(r, &caller, unavailable, &from,
                                         &res);

    r->connection->log->action = action;

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    v->data = res.from.data;
    v->len = res.from.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
