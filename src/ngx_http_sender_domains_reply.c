/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the answers of the HTTP JSON API (the
 * request's context, JSON values held by the request, JSON answers and
 * errors, the answer buffers).
 *
 * Every answer is JSON, errors included: {"error":{"code","message"}}.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_api.h"
#include "ngx_http_sender_domains_reply.h"
#include "ngx_http_sender_domains_metrics.h"
#include "ngx_http_sender_domains_cluster.h"


/*
 * Answer buffers: a small first one (most answers are one row or an
 * error), then doubling up to 64 KiB, so a 4 MB list is ~70 allocations.
 */
#define NGX_HTTP_SENDER_DOMAINS_OUT_FIRST  2048
#define NGX_HTTP_SENDER_DOMAINS_OUT_MAX    65536


/* cluster mode: a write's answer held until the node published it */
#define NGX_HTTP_SENDER_DOMAINS_HOLD_POLL  2        /* ms */
/*
 * A workspace's entries waiting in this node's outbox before its next
 * write is refused (429): a client that drops its held answers cannot
 * grow the outbox, the store everyone shares, without bound
 * (docs/decisions.md, "Cluster mode: fair turns").
 */
#define NGX_HTTP_SENDER_DOMAINS_BACKLOG_MAX  256

typedef struct {
    ngx_http_request_t                 *request;
    ngx_chain_t                        *out;        /* NULL: no body */
    ngx_str_t                           ws;         /* "": every one */
    uint64_t                            upto;
    ngx_msec_t                          started;
    ngx_event_t                         ev;
} ngx_http_sender_domains_cluster_hold_t;


static int ngx_http_sender_domains_out_emit(const char *buf, size_t size,
    void *data);
static ngx_uint_t ngx_http_sender_domains_cluster_write_method(
    ngx_http_request_t *r);
static void ngx_http_sender_domains_cluster_retry_after(
    ngx_http_request_t *r);
static void ngx_http_sender_domains_cluster_hold_check(ngx_event_t *ev);
static void ngx_http_sender_domains_cluster_hold_cleanup(void *data);
static ngx_int_t ngx_http_sender_domains_cluster_published(ngx_str_t *ws,
    uint64_t upto);
static ngx_str_t *ngx_http_sender_domains_cluster_ws(ngx_http_request_t *r);
static void ngx_http_sender_domains_cluster_headers(ngx_http_request_t *r);
static void ngx_http_sender_domains_cluster_unheader(ngx_http_request_t *r);


static ngx_str_t  ngx_http_sender_domains_json_type =
    ngx_string("application/json; charset=utf-8");


/* the request's ctx, made on first use (the JWT variables may come first) */

ngx_http_sender_domains_ctx_t *
ngx_http_sender_domains_get_ctx(ngx_http_request_t *r)
{
    ngx_http_sender_domains_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_sender_domains_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_sender_domains_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_sender_domains_module);
    }

    return ctx;
}


ngx_int_t
ngx_http_sender_domains_allow(ngx_http_request_t *r, ngx_uint_t method,
    ngx_uint_t allowed)
{
    u_char           *p;
    ngx_str_t         value;
    ngx_table_elt_t  *h;
    u_char            buf[64];

    if (method & allowed) {
        return NGX_DECLINED;
    }

    p = buf;

    if (allowed & NGX_HTTP_GET) {
        p = ngx_cpymem(p, "GET, HEAD, ", 11);
    }

    if (allowed & NGX_HTTP_POST) {
        p = ngx_cpymem(p, "POST, ", 6);
    }

    if (allowed & NGX_HTTP_PUT) {
        p = ngx_cpymem(p, "PUT, ", 5);
    }

    if (allowed & NGX_HTTP_PATCH) {
        p = ngx_cpymem(p, "PATCH, ", 7);
    }

    if (allowed & NGX_HTTP_DELETE) {
        p = ngx_cpymem(p, "DELETE, ", 8);
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Allow");
    value.len = p - buf - 2;
    value.data = buf;
    h->value.len = value.len;
    h->value.data = ngx_pstrdup(r->pool, &value);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_ALLOWED,
               "method_not_allowed",
               "This method is not allowed here; see the Allow header.");
}


ngx_int_t
ngx_http_sender_domains_plan_error(ngx_http_request_t *r)
{
    json_t  *j;

    j = json_pack("{s:{s:s,s:s},s:b}",
                  "error",
                  "code", "plan_required",
                  "message", "Custom sender domains are part of the "
                             "Professional plan. Upgrade to send reports "
                             "from your own address.",
                  "upgrade", 1);

    return ngx_http_sender_domains_send_json(r, NGX_HTTP_FORBIDDEN, j);
}


/* 403 limit_reached, with the limit in the answer */

ngx_int_t
ngx_http_sender_domains_limit_error(ngx_http_request_t *r, ngx_uint_t limit,
    const char *what)
{
    u_char  *p, msg[256];

    p = ngx_snprintf(msg, sizeof(msg) - 1, "This workspace has reached its "
                     "limit of %ui %s. Remove one you no longer use, or ask "
                     "the platform to raise the limit.", limit, what);
    *p = '\0';

    return ngx_http_sender_domains_send_json(r, NGX_HTTP_FORBIDDEN,
               json_pack("{s:{s:s,s:s,s:I}}", "error", "code", "limit_reached",
                         "message", (char *) msg, "limit",
                         (json_int_t) limit));
}


/* releases a jansson value with the request */

static void
ngx_http_sender_domains_json_cleanup(void *data)
{
    json_decref(data);
}


ngx_int_t
ngx_http_sender_domains_json_track(ngx_http_request_t *r, json_t *j)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(j);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_sender_domains_json_cleanup;
    cln->data = j;

    return NGX_OK;
}


ngx_int_t
ngx_http_sender_domains_store_error(ngx_http_request_t *r, sd_store_rc_e rc)
{
    ngx_http_sender_domains_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_sender_domains_module);
    ngx_http_sender_domains_metric_store_error(rc);

    if (rc == SD_STORE_FULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "sender_domains: store is full (workspace \"%V\"); "
                      "raise the size in sender_domains_db",
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace));

        return ngx_http_sender_domains_error(r, NGX_HTTP_INSUFFICIENT_STORAGE,
                   "storage_full",
                   "The sender store is full; ask the operator to raise its "
                   "size. What was saved before stays as it was.");
    }

    if (rc == SD_STORE_NOT_FOUND) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_FOUND,
                   "not_found", "No such sender in this workspace.");
    }

    if (rc == SD_STORE_CONFLICT) {
        /* a failed claim coming back after another workspace took it */
        return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                   "already_registered",
                   "Already registered in another workspace.");
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "sender_domains: store error \"%s\" (workspace \"%V\")",
                  sd_store_strerror(ngx_http_sender_domains_store()),
                  ctx ? ngx_http_sender_domains_log_esc(&ctx->caller.workspace)
                      : &(ngx_str_t) ngx_null_string);

    return ngx_http_sender_domains_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
               "storage_error", "The sender store failed; nothing was "
               "changed. See the error log.");
}


/*
 * A bare status from deep inside (an allocation that failed, a row that
 * cannot be read) still goes out as JSON, never as nginx's HTML page.
 */

ngx_int_t
ngx_http_sender_domains_json_status(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc < NGX_HTTP_SPECIAL_RESPONSE || r->header_sent) {
        return rc;
    }

    if (rc == NGX_HTTP_CLIENT_CLOSED_REQUEST || rc == NGX_HTTP_CLOSE) {
        return rc;
    }

    switch (rc) {

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return ngx_http_sender_domains_error(r, rc, "body_too_large",
                   "The request body is too large.");

    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
        return ngx_http_sender_domains_error(r, rc, "uri_too_long",
                   "The request address is too long.");

    case NGX_HTTP_REQUEST_TIME_OUT:
        return ngx_http_sender_domains_error(r, rc, "request_timeout",
                   "The request body did not arrive in time.");
    }

    if (rc >= NGX_HTTP_INTERNAL_SERVER_ERROR) {
        return ngx_http_sender_domains_error(r, rc, "internal_error",
                   "Something went wrong on the server; nothing was changed. "
                   "See the error log.");
    }

    return ngx_http_sender_domains_error(r, rc, "bad_request",
                                         "The request is malformed.");
}


ngx_int_t
ngx_http_sender_domains_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    json_t  *j;

    j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);

    return ngx_http_sender_domains_send_json(r, status, j);
}


/*
 * Sends a JSON document (and releases it).  Returns what the content phase
 * expects: the output filter's result, or an error status.
 */

ngx_int_t
ngx_http_sender_domains_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *j)
{
    sd_jsonw_t                     w;
    ngx_http_sender_domains_out_t  out;

    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_sender_domains_out_init(r, &out, &w);
    sd_jsonw_value(&w, j);
    json_decref(j);

    return ngx_http_sender_domains_send_out(r, status, &out, &w);
}


void
ngx_http_sender_domains_out_init(ngx_http_request_t *r,
    ngx_http_sender_domains_out_t *out, sd_jsonw_t *w)
{
    ngx_memzero(out, sizeof(ngx_http_sender_domains_out_t));

    out->pool = r->pool;
    out->last = &out->first;
    out->next_size = NGX_HTTP_SENDER_DOMAINS_OUT_FIRST;

    sd_jsonw_init(w, ngx_http_sender_domains_out_emit, out);
}


/* a json_dump_callback_t: appends to the chain, a new buffer when full */

static int
ngx_http_sender_domains_out_emit(const char *buf, size_t size, void *data)
{
    ngx_http_sender_domains_out_t  *out = data;

    size_t        n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    out->length += size;

    while (size) {
        b = out->buf;

        if (b == NULL || b->last == b->end) {
            b = ngx_create_temp_buf(out->pool, ngx_max(out->next_size, 1));
            if (b == NULL) {
                return -1;
            }

            cl = ngx_alloc_chain_link(out->pool);
            if (cl == NULL) {
                return -1;
            }

            cl->buf = b;
            cl->next = NULL;
            *out->last = cl;
            out->last = &cl->next;
            out->buf = b;

            out->next_size = ngx_min(out->next_size * 2,
                                     NGX_HTTP_SENDER_DOMAINS_OUT_MAX);
        }

        n = ngx_min(size, (size_t) (b->end - b->last));
        b->last = ngx_cpymem(b->last, buf, n);
        buf += n;
        size -= n;
    }

    return 0;
}


/* sends what was written (and a final newline) as the answer */

ngx_int_t
ngx_http_sender_domains_send_out(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_sender_domains_out_t *out, sd_jsonw_t *w)
{
    ngx_int_t  rc;

    sd_jsonw_lit(w, "\n");

    if (sd_jsonw_failed(w)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out->buf->last_buf = (r == r->main) ? 1 : 0;
    out->buf->last_in_chain = 1;

    ngx_http_sender_domains_unread_body(r, status);

    /* a discarded body or an earlier header must not linger */
    r->headers_out.status = status;
    r->headers_out.content_type = ngx_http_sender_domains_json_type;
    r->headers_out.content_type_len = ngx_http_sender_domains_json_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = out->length;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    r->headers_out.charset.len = 0;

    if (ngx_http_sender_domains_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_sender_domains_cluster_hold(r, status, out->first)
        == NGX_DONE)
    {
        return NGX_DONE;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out->first);
}


ngx_int_t
ngx_http_sender_domains_send_empty(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_int_t  rc;

    ngx_http_sender_domains_unread_body(r, status);

    r->headers_out.status = status;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    if (ngx_http_sender_domains_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_sender_domains_cluster_hold(r, status, NULL) == NGX_DONE) {
        return NGX_DONE;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}


/*
 * An answer given before the body was read (a routing error, 401, 403,
 * 415, 413) must not leave the body on a keep-alive connection, where it
 * would be read as the next request.  A body too large to read is not
 * read: the connection closes instead.
 */

void
ngx_http_sender_domains_unread_body(ngx_http_request_t *r, ngx_uint_t status)
{
    if (r != r->main || r->request_body || r->discard_body) {
        return;
    }

    if (status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        r->keepalive = 0;
        r->lingering_close = 1;
        return;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }
}


/* answers are per caller and change at any time */

ngx_int_t
ngx_http_sender_domains_no_store(ngx_http_request_t *r)
{
    ngx_table_elt_t   *h, **ph;

#if (nginx_version < 1023000)
    if (r->headers_out.cache_control.elts == NULL
        && ngx_array_init(&r->headers_out.cache_control, r->pool, 1,
                          sizeof(ngx_table_elt_t *))
           != NGX_OK)
    {
        return NGX_ERROR;
    }
#endif

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    /*
     * Registered as nginx's own Cache-Control, so that add_header,
     * expires and $sent_http_cache_control see it: since 1.23.0 the
     * header lines of one name are a list chained through "next"
     * (which must end in NULL), before that an array of pointers.
     */

#if (nginx_version >= 1023000)
    h->next = NULL;

    for (ph = &r->headers_out.cache_control; *ph; ph = &(*ph)->next) {
        /* void */
    }

    *ph = h;
#else
    ph = ngx_array_push(&r->headers_out.cache_control);
    if (ph == NULL) {
        return NGX_ERROR;
    }

    *ph = h;
#endif

    return NGX_OK;
}


/*
 * The HTTP status of an SES failure that reaches the client (docs/api.md;
 * its code is sd_ses_error_code()'s): SES unavailable (503), too slow
 * (504), or SES said no (502, its message included).
 */

ngx_uint_t
ngx_http_sender_domains_ses_status(sd_ses_status_e status)
{
    switch (status) {

    case SD_SES_OK:
        return NGX_HTTP_OK;

    case SD_SES_THROTTLED:
    case SD_SES_SERVER_ERROR:
    case SD_SES_CONNECT_FAILED:
    case SD_SES_CONCURRENT_MODIFICATION:
        return NGX_HTTP_SERVICE_UNAVAILABLE;

    case SD_SES_TIMEOUT:
        return NGX_HTTP_GATEWAY_TIME_OUT;

    default:
        return NGX_HTTP_BAD_GATEWAY;
    }
}


/* ---- cluster mode: writes refused while etcd is away, held until published */


static ngx_uint_t
ngx_http_sender_domains_cluster_write_method(ngx_http_request_t *r)
{
    return r->method & (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH
                        |NGX_HTTP_DELETE);
}


/*
 * Before a write is tried: while this node's cluster worker cannot reach
 * etcd, a write answers 503 cluster_unavailable and nothing is written
 * (docs/cluster.md, "Failure modes").  NGX_DECLINED: go on.
 */

ngx_int_t
ngx_http_sender_domains_cluster_gate(ngx_http_request_t *r)
{
    size_t                                 n;
    ngx_str_t                             *ws;
    ngx_table_elt_t                       *h;
    ngx_http_sender_domains_cluster_sh_t  *sh;

    sh = ngx_http_sender_domains_cluster_sh();

    if (sh == NULL || !ngx_http_sender_domains_cluster_write_method(r)) {
        return NGX_DECLINED;
    }

    ws = ngx_http_sender_domains_cluster_ws(r);

    if (sh->reachable) {
        if (ws->len == 0
            || sd_store_outbox_backlog(ngx_http_sender_domains_store(),
                                       (char *) ws->data, ws->len,
                                       NGX_HTTP_SENDER_DOMAINS_BACKLOG_MAX,
                                       &n)
               != SD_STORE_OK
            || n < NGX_HTTP_SENDER_DOMAINS_BACKLOG_MAX)
        {
            return NGX_DECLINED;
        }

        /* info: the caller floods; a line each at warn would flood too */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sender_domains: a write of workspace \"%V\" refused: "
                      "%uz of its changes wait on this node to be sent to "
                      "the cluster", ngx_http_sender_domains_log_esc(ws), n);

        h = ngx_list_push(&r->headers_out.headers);
        if (h != NULL) {
            h->hash = 1;
            ngx_str_set(&h->key, "Retry-After");
            ngx_str_set(&h->value, "1");
        }

        return ngx_http_sender_domains_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                   "too_many_requests",
                   "This workspace's earlier changes are still being sent "
                   "to the cluster from this node; wait for their answers "
                   "and try again in a second.");
    }

    /*
     * info, not warn: the outage itself is one warn line of the node's
     * cluster worker; a line per refused request at warn would let any
     * caller flood the error log while etcd is away
     */
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sender_domains: a write of workspace \"%V\" refused: the "
                  "cluster (etcd) is out of reach of this node",
                  ngx_http_sender_domains_log_esc(ws));

    return ngx_http_sender_domains_cluster_unavailable(r);
}


ngx_int_t
ngx_http_sender_domains_cluster_unavailable(ngx_http_request_t *r)
{
    ngx_http_sender_domains_cluster_retry_after(r);

    return ngx_http_sender_domains_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
               "cluster_unavailable",
               "The cluster's store (etcd) cannot be reached from this "
               "node, so changes are not accepted right now; reading and "
               "sending keep working. Try again in a few seconds.");
}


/*
 * A write's answer (2xx) waits until everything this node's store wrote
 * for the request's workspace up to now has been published to etcd, so
 * an acknowledged write is in the cluster; other workspaces' entries are
 * not waited for (they take their own turns).  NGX_DONE: held, sent
 * later by the hold; NGX_DECLINED: send it now.
 */

ngx_int_t
ngx_http_sender_domains_cluster_hold(ngx_http_request_t *r,
    ngx_uint_t status, ngx_chain_t *out)
{
    uint64_t                                 upto;
    ngx_str_t                               *ws;
    ngx_pool_cleanup_t                      *cln;
    ngx_http_sender_domains_cluster_sh_t    *sh;
    ngx_http_sender_domains_cluster_hold_t  *h;

    sh = ngx_http_sender_domains_cluster_sh();
    ws = ngx_http_sender_domains_cluster_ws(r);

    if (sh == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_sender_domains_cluster_headers(r);

    if (status >= NGX_HTTP_SPECIAL_RESPONSE
        || !ngx_http_sender_domains_cluster_write_method(r)
        || r != r->main
        || sd_store_outbox_last(ngx_http_sender_domains_store(), &upto)
           != SD_STORE_OK
        || ngx_http_sender_domains_cluster_published(ws, upto) == NGX_OK)
    {
        return NGX_DECLINED;
    }

    h = ngx_pcalloc(r->pool, sizeof(ngx_http_sender_domains_cluster_hold_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (h == NULL || cln == NULL) {
        return NGX_DECLINED;
    }

    h->request = r;
    h->out = out;
    h->ws = *ws;
    h->upto = upto;
    h->started = ngx_current_msec;

    h->ev.handler = ngx_http_sender_domains_cluster_hold_check;
    h->ev.data = h;
    h->ev.log = r->connection->log;

    cln->handler = ngx_http_sender_domains_cluster_hold_cleanup;
    cln->data = h;

    /* the node's publisher looks at once instead of at its next round */
    (void) ngx_atomic_fetch_add(&sh->kick, 1);

    r->main->count++;
    ngx_add_timer(&h->ev, NGX_HTTP_SENDER_DOMAINS_HOLD_POLL);

    return NGX_DONE;
}


static void
ngx_http_sender_domains_cluster_hold_check(ngx_event_t *ev)
{
    ngx_int_t                                rc;
    ngx_http_request_t                      *r;
    ngx_http_sender_domains_cluster_conf_t  *cc;
    ngx_http_sender_domains_cluster_hold_t  *h;

    h = ev->data;
    r = h->request;
    cc = ngx_http_sender_domains_cluster_conf((ngx_cycle_t *) ngx_cycle);

    if (ngx_http_sender_domains_cluster_published(&h->ws, h->upto)
        != NGX_OK)
    {
        if (ngx_current_msec - h->started < 2 * cc->etcd.timeout) {
            /* a publish takes a few ms; past that, etcd is slow: look
               less often */
            ngx_add_timer(ev, ngx_current_msec - h->started < 100
                              ? NGX_HTTP_SENDER_DOMAINS_HOLD_POLL : 10);
            return;
        }

        /*
         * Saved on this node, in its outbox, and published when etcd is
         * back (nothing is lost), but the cluster has not confirmed it:
         * not acknowledged.
         */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sender_domains: a write is saved on this node but "
                      "etcd did not confirm it within %M ms; it is "
                      "published when etcd is back", 2 * cc->etcd.timeout);

        /* the held answer goes: its headers, and a 204's "no body" */
        ngx_http_sender_domains_cluster_unheader(r);
        r->header_only = (r->method == NGX_HTTP_HEAD);
        ngx_http_sender_domains_cluster_retry_after(r);

        rc = ngx_http_sender_domains_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                 "cluster_unavailable",
                 "The change is saved on this node but the cluster's store "
                 "(etcd) did not confirm it in time; it is sent there as "
                 "soon as it can be reached. Check again in a few "
                 "seconds.");

    } else {
        rc = ngx_http_send_header(r);

        if (rc != NGX_ERROR && rc <= NGX_OK) {
            rc = h->out ? (r->header_only ? rc
                                          : ngx_http_output_filter(r, h->out))
                        : ngx_http_send_special(r, NGX_HTTP_LAST);
        }
    }

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_sender_domains_cluster_hold_cleanup(void *data)
{
    ngx_http_sender_domains_cluster_hold_t  *h = data;

    if (h->ev.timer_set) {
        ngx_del_timer(&h->ev);
    }
}


/* etcd is back within seconds, or the answer says how stale the node is */

static void
ngx_http_sender_domains_cluster_retry_after(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    ngx_str_set(&h->value, "5");
}


/*
 * NGX_OK when no write of the workspace (ws ""; of any) up to "upto"
 * waits in the outbox any more
 */

static ngx_int_t
ngx_http_sender_domains_cluster_published(ngx_str_t *ws, uint64_t upto)
{
    uint64_t       first;
    sd_store_rc_e  rc;

    if (ws->len) {
        rc = sd_store_outbox_first_ws(ngx_http_sender_domains_store(),
                                      (char *) ws->data, ws->len, &first);

    } else {
        rc = sd_store_outbox_first(ngx_http_sender_domains_store(), &first);
    }

    if (rc != SD_STORE_OK) {
        return NGX_ERROR;
    }

    return (first == 0 || first > upto) ? NGX_OK : NGX_DECLINED;
}


/* the request's workspace ("" when it has none: a hold waits for all) */

static ngx_str_t *
ngx_http_sender_domains_cluster_ws(ngx_http_request_t *r)
{
    ngx_http_sender_domains_ctx_t  *ctx;

    static ngx_str_t  none = ngx_null_string;

    ctx = ngx_http_get_module_ctx(r, ngx_http_sender_domains_module);

    return (ctx != NULL) ? &ctx->caller.workspace : &none;
}


/* what a reader of this node sees: the revision applied, and staleness */

static void
ngx_http_sender_domains_cluster_headers(ngx_http_request_t *r)
{
    u_char                                *p;
    ngx_table_elt_t                       *h;
    ngx_http_sender_domains_cluster_sh_t  *sh;

    sh = ngx_http_sender_domains_cluster_sh();

    p = ngx_pnalloc(r->pool, NGX_ATOMIC_T_LEN);
    h = ngx_list_push(&r->headers_out.headers);
    if (p == NULL || h == NULL) {
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Sender-Domains-Revision");
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "%uA", sh->revision) - p;

    if (sh->reachable) {
        return;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Sender-Domains-Stale");
    ngx_str_set(&h->value, "1");
}


/* the answer is replaced: its cluster headers go (the new one adds them) */

static void
ngx_http_sender_domains_cluster_unheader(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if ((h[i].key.len == sizeof("X-Sender-Domains-Revision") - 1
             && ngx_strncasecmp(h[i].key.data,
                                (u_char *) "X-Sender-Domains-Revision",
                                h[i].key.len) == 0)
            || (h[i].key.len == sizeof("X-Sender-Domains-Stale") - 1
                && ngx_strncasecmp(h[i].key.data,
                                   (u_char *) "X-Sender-Domains-Stale",
                                   h[i].key.len) == 0))
        {
            h[i].hash = 0;
        }
    }
}
