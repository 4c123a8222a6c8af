/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the HTTP JSON API (routing, caller
 * context, access rules, JSON answers and errors).
 *
 * Every answer is JSON, errors included: {"error":{"code","message"}}.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_api.h"
#include "sd_time.h"
#include "sd_identity.h"
#include "ngx_http_sender_domains_metrics.h"


#define NGX_HTTP_SENDER_DOMAINS_MAX_BODY   65536

/*
 * Answer buffers: a small first one (most answers are one row or an
 * error), then doubling up to 64 KiB, so a 4 MB list is ~70 allocations.
 */
#define NGX_HTTP_SENDER_DOMAINS_OUT_FIRST  2048
#define NGX_HTTP_SENDER_DOMAINS_OUT_MAX    65536


static ngx_int_t ngx_http_sender_domains_route(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_caller(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_caller_role(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller);
static ngx_int_t ngx_http_sender_domains_check_access(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_plan_ok(ngx_http_request_t *r,
    ngx_http_sender_domains_loc_conf_t *slcf);
static void ngx_http_sender_domains_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_sender_domains_parse_body(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_version_header(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_sender_domains_dispatch(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static int ngx_http_sender_domains_out_emit(const char *buf, size_t size,
    void *data);


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  methods;        /* NGX_HTTP_* mask */
} ngx_http_sender_domains_route_t;


static ngx_str_t  ngx_http_sender_domains_json_type =
    ngx_string("application/json; charset=utf-8");


ngx_int_t
ngx_http_sender_domains_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_sender_domains_ctx_t  *ctx;

    /*
     * Whatever ran before (auth_request's proxied subrequest leaves
     * "sending to client") is not what the module's lines are about: they
     * carry no "while ..." of their own, as those of the content phase.
     */
    r->connection->log->action = NULL;

    ctx = ngx_http_sender_domains_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* each step answers by itself (and returns that) or says go on */

    rc = ngx_http_sender_domains_route(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ctx->action == SD_ACTION_RESOLVE) {
        /*
         * A send must not fail: without a caller or a store the resolver
         * answers the default sender itself, so neither is required here.
         */
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_sender_domains_json_status(r,
                   ngx_http_sender_domains_resolve_handler(r, ctx));
    }

    rc = ngx_http_sender_domains_caller(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_sender_domains_check_access(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ngx_http_sender_domains_store() == NULL) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "storage_unavailable",
                   "The sender store could not be opened; see the error log.");
    }

    if (!ctx->wants_body) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_sender_domains_json_status(r,
                   ngx_http_sender_domains_dispatch(r, ctx));
    }

    if (r->headers_in.content_length_n > NGX_HTTP_SENDER_DOMAINS_MAX_BODY) {
        return ngx_http_sender_domains_error(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                   "The request body is larger than 64 KiB.");
    }

    if (r->headers_in.content_type == NULL
        || ngx_strncasecmp(r->headers_in.content_type->value.data,
                           (u_char *) "application/json", 16) != 0)
    {
        return ngx_http_sender_domains_error(r,
                   NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                   "Send the request body as application/json.");
    }

    /*
     * one buffer in memory up to client_body_buffer_size; a larger body
     * nginx writes to a temporary file, read back by parse_body()
     */
    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                       ngx_http_sender_domains_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /* e.g. a body over client_max_body_size, or a bad chunk */
        return ngx_http_sender_domains_json_status(r, rc);
    }

    return NGX_DONE;
}


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


/*
 * Splits the path below the location into the endpoint and the identity.
 * The URI is already percent-decoded by nginx.
 */

static ngx_int_t
ngx_http_sender_domains_route(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    u_char                    *p, *end, *slash;
    ngx_str_t                  rest, sub;
    ngx_uint_t                 m;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    p = r->uri.data;
    end = p + r->uri.len;

#if (NGX_PCRE)
    /*
     * A regex location ("location ~ ^/ws/(\w+)/senders", the workspace
     * from $1): the API's paths follow what the regex matched.
     */
    if (clcf->regex && r->ncaptures >= 2 && r->captures[1] >= 0
        && (size_t) r->captures[1] <= r->uri.len)
    {
        p += r->captures[1];

    } else
#endif
    if (r->uri.len >= clcf->name.len
        && ngx_strncmp(p, clcf->name.data, clcf->name.len) == 0)
    {
        p += clcf->name.len;
    }

    while (p < end && *p == '/') {
        p++;
    }

    while (end > p && end[-1] == '/') {
        end--;
    }

    rest.data = p;
    rest.len = end - p;
    m = r->method;

    if (rest.len == 0) {
        ctx->action = (m == NGX_HTTP_POST) ? SD_ACTION_ADD : SD_ACTION_LIST;
        ctx->wants_body = (m == NGX_HTTP_POST);
        return ngx_http_sender_domains_allow(r, m,
                                             NGX_HTTP_GET|NGX_HTTP_HEAD
                                             |NGX_HTTP_POST);
    }

    if (rest.len == 7 && ngx_strncmp(rest.data, "resolve", 7) == 0) {
        ctx->action = SD_ACTION_RESOLVE;
        return ngx_http_sender_domains_allow(r, m, NGX_HTTP_GET|NGX_HTTP_HEAD);
    }

    if (rest.len == 6 && ngx_strncmp(rest.data, "legacy", 6) == 0) {
        ctx->action = SD_ACTION_LEGACY;
        ctx->wants_body = 1;
        return ngx_http_sender_domains_allow(r, m, NGX_HTTP_PUT);
    }

    slash = ngx_strlchr(rest.data, end, '/');

    if (slash == NULL) {
        ctx->id = rest;

        switch (m) {
        case NGX_HTTP_PATCH:
            ctx->action = SD_ACTION_PATCH;
            ctx->wants_body = 1;
            break;
        case NGX_HTTP_DELETE:
            ctx->action = SD_ACTION_DELETE;
            break;
        default:
            ctx->action = SD_ACTION_GET;
        }

        return ngx_http_sender_domains_allow(r, m,
                                             NGX_HTTP_GET|NGX_HTTP_HEAD
                                             |NGX_HTTP_PATCH|NGX_HTTP_DELETE);
    }

    ctx->id.data = rest.data;
    ctx->id.len = slash - rest.data;
    sub.data = slash + 1;
    sub.len = end - sub.data;

    if (sub.len == 3 && ngx_strncmp(sub.data, "dns", 3) == 0) {
        ctx->action = SD_ACTION_DNS;
        return ngx_http_sender_domains_allow(r, m, NGX_HTTP_GET|NGX_HTTP_HEAD);
    }

    if (sub.len == 7 && ngx_strncmp(sub.data, "refresh", 7) == 0) {
        ctx->action = SD_ACTION_REFRESH;

    } else if (sub.len == 19
               && ngx_strncmp(sub.data, "resend-verification", 19) == 0)
    {
        ctx->action = SD_ACTION_RESEND;

    } else if (sub.len == 7 && ngx_strncmp(sub.data, "migrate", 7) == 0) {
        ctx->action = SD_ACTION_MIGRATE;

    } else {
        return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_FOUND,
                   "not_found", "There is no such endpoint.");
    }

    return ngx_http_sender_domains_allow(r, m, NGX_HTTP_POST);
}


ngx_int_t
ngx_http_sender_domains_allow(ngx_http_request_t *r, ngx_uint_t method,
    ngx_uint_t allowed)
{
    u_char           *p;
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
    h->value.len = p - buf - 2;
    h->value.data = ngx_pstrdup(r->pool, &(ngx_str_t) { p - buf - 2, buf });
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_ALLOWED,
               "method_not_allowed",
               "This method is not allowed here; see the Allow header.");
}


static ngx_int_t
ngx_http_sender_domains_caller(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    ngx_int_t                            rc;
    ngx_http_sender_domains_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_sender_domains_module);

    if (slcf->jwt_set) {
        rc = ngx_http_sender_domains_jwt_check(r);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    rc = ngx_http_sender_domains_caller_from_conf(r, &ctx->caller);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_UNAUTHORIZED,
                   "unauthenticated",
                   "Sign in first: the request does not name a valid "
                   "workspace.");
    }

    if (ngx_http_sender_domains_caller_role(r, &ctx->caller) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * The caller from the location's values: NGX_OK, NGX_DECLINED when no
 * usable workspace is named, NGX_ERROR.  The role is left to
 * ngx_http_sender_domains_caller_role(), for the endpoints that use it.
 */

ngx_int_t
ngx_http_sender_domains_caller_from_conf(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller)
{
    ngx_http_sender_domains_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_sender_domains_module);

    ngx_memzero(caller, sizeof(ngx_http_sender_domains_caller_t));

    if (slcf->workspace == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_sender_domains_value(r, slcf->workspace, &caller->workspace)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (caller->workspace.len == 0
        || caller->workspace.len > SD_WORKSPACE_MAX
        || ngx_strlchr(caller->workspace.data,
                       caller->workspace.data + caller->workspace.len, '\0'))
    {
        return NGX_DECLINED;
    }

    caller->plan_ok = ngx_http_sender_domains_plan_ok(r, slcf);

    return NGX_OK;
}


static ngx_int_t
ngx_http_sender_domains_caller_role(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller)
{
    ngx_str_t                            role;
    ngx_http_sender_domains_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_sender_domains_module);

    ngx_str_null(&role);

    if (slcf->role
        && ngx_http_sender_domains_value(r, slcf->role, &role) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* least privilege: an absent or unknown role reads, never writes */
    if (role.len == 5 && ngx_strncasecmp(role.data, (u_char *) "admin", 5) == 0)
    {
        caller->role = NGX_HTTP_SENDER_DOMAINS_ROLE_ADMIN;

    } else if (role.len == 7
               && ngx_strncasecmp(role.data, (u_char *) "service", 7) == 0)
    {
        caller->role = NGX_HTTP_SENDER_DOMAINS_ROLE_SERVICE;

    } else {
        caller->role = NGX_HTTP_SENDER_DOMAINS_ROLE_MEMBER;
    }

    return NGX_OK;
}


/*
 * A caller directive's value for this request.  A lone variable is read
 * as ngx_http_complex_value() would read it (flushed; not found is
 * empty), without the copy.
 */

ngx_int_t
ngx_http_sender_domains_value(ngx_http_request_t *r,
    ngx_http_sender_domains_value_t *v, ngx_str_t *out)
{
    ngx_http_variable_value_t  *vv;

    if (v->index == NGX_ERROR) {
        return ngx_http_complex_value(r, &v->cv, out);
    }

    vv = ngx_http_get_flushed_variable(r, v->index);

    if (vv == NULL || vv->not_found) {
        ngx_str_set(out, "");
        return NGX_OK;
    }

    out->data = vv->data;
    out->len = vv->len;

    return NGX_OK;
}


/* "professional" (any case), or any plan while the trial has not ended */

static ngx_int_t
ngx_http_sender_domains_plan_ok(ngx_http_request_t *r,
    ngx_http_sender_domains_loc_conf_t *slcf)
{
    int64_t    ends;
    ngx_str_t  plan, trial;

    if (slcf->plan
        && ngx_http_sender_domains_value(r, slcf->plan, &plan) == NGX_OK
        && plan.len == 12
        && ngx_strncasecmp(plan.data, (u_char *) "professional", 12) == 0)
    {
        return 1;
    }

    if (slcf->trial_ends
        && ngx_http_sender_domains_value(r, slcf->trial_ends, &trial)
           == NGX_OK
        && trial.len
        && sd_time_parse((char *) trial.data, trial.len, &ends) == 0
        && ends > (int64_t) ngx_time())
    {
        return 1;
    }

    return 0;
}


static ngx_int_t
ngx_http_sender_domains_check_access(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    ngx_http_sender_domains_role_e  role = ctx->caller.role;

    if (ctx->action == SD_ACTION_LEGACY) {
        if (role != NGX_HTTP_SENDER_DOMAINS_ROLE_SERVICE) {
            return ngx_http_sender_domains_error(r, NGX_HTTP_FORBIDDEN,
                       "service_required",
                       "Only the platform's sync service can replace the "
                       "legacy senders.");
        }

        return NGX_DECLINED;
    }

    if (!ctx->caller.plan_ok) {
        return ngx_http_sender_domains_plan_error(r);
    }

    switch (ctx->action) {

    case SD_ACTION_LIST:
    case SD_ACTION_GET:
    case SD_ACTION_REFRESH:
    case SD_ACTION_DNS:
        if (role == NGX_HTTP_SENDER_DOMAINS_ROLE_SERVICE) {
            /* the send workers resolve; they do not browse */
            return ngx_http_sender_domains_error(r, NGX_HTTP_FORBIDDEN,
                       "member_required",
                       "The service role resolves senders and syncs legacy "
                       "senders; viewing them needs a workspace member.");
        }

        return NGX_DECLINED;

    default:
        if (role == NGX_HTTP_SENDER_DOMAINS_ROLE_ADMIN) {
            return NGX_DECLINED;
        }
    }

    return ngx_http_sender_domains_error(r, NGX_HTTP_FORBIDDEN,
               "admin_required",
               "Only a workspace admin can change sender settings.");
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


static void
ngx_http_sender_domains_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_sender_domains_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_sender_domains_module);

    rc = ngx_http_sender_domains_parse_body(r, ctx);

    if (rc == NGX_DECLINED) {
        rc = ngx_http_sender_domains_dispatch(r, ctx);
    }

    ngx_http_finalize_request(r, ngx_http_sender_domains_json_status(r, rc));
}


static ngx_int_t
ngx_http_sender_domains_parse_body(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    u_char       *p;
    off_t         size;
    size_t        len;
    ssize_t       n;
    json_t       *j;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;
    json_error_t  err;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_json", "The request body is empty; send a JSON "
                   "object.");
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > NGX_HTTP_SENDER_DOMAINS_MAX_BODY) {
        return ngx_http_sender_domains_error(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                   "The request body is larger than 64 KiB.");
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->raw_body.data = p;
    ctx->raw_body.len = len;

    /*
     * A body over client_body_buffer_size was written to a temporary
     * file by nginx (its buffers are then in_file): read back from there,
     * up to the 64 KiB checked above.
     */

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            size = b->file_last - b->file_pos;

            n = ngx_read_file(b->file, p, (size_t) size, b->file_pos);
            if (n != (ssize_t) size) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "sender_domains: cannot read the request "
                              "body back from \"%V\" (%z of %O bytes)",
                              &b->file->name, n, size);
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p += size;
            continue;
        }

        /* an empty body comes as a buffer with no memory at all */
        if (b->last > b->pos) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    *p = '\0';

    /* JSON_REJECT_DUPLICATES: {"identity":"a","identity":"b"} is ambiguous */
    j = json_loadb((char *) ctx->raw_body.data, len,
                   JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_json", "The request body is not valid JSON.");
    }

    if (ngx_http_sender_domains_json_track(r, j) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->body = j;

    return NGX_DECLINED;
}


ngx_str_t *
ngx_http_sender_domains_log_esc(ngx_str_t *in)
{
    static ngx_uint_t  next;
    static ngx_str_t   out[4];
    static u_char      buf[4][4 * SD_WORKSPACE_MAX + 3];

    size_t       len;
    ngx_str_t   *o;

    if (in->len == 0 || sd_log_plain(in->data, in->len)) {
        return in;
    }

    o = &out[next];
    o->data = buf[next];
    next = (next + 1) % 4;

    len = ngx_min(in->len, SD_WORKSPACE_MAX);
    o->len = sd_log_escape(o->data, in->data, len);

    if (len < in->len) {
        o->len = ngx_cpymem(o->data + o->len, "...", 3) - o->data;
    }

    return o;
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


static ngx_int_t
ngx_http_sender_domains_dispatch(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    switch (ctx->action) {

    case SD_ACTION_LIST:
        if (ngx_http_sender_domains_version_header(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_sender_domains_list(r, ctx);

    default:
        return ngx_http_sender_domains_actions(r, ctx);
    }
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

        return ngx_http_sender_domains_error(r, 507, "storage_full",
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


/*
 * "sender_domains_version_header on": GET / says which module answered, for
 * an operator checking that a deployment took; off by default, as nginx's
 * server_tokens-like details are best not advertised.
 */

static ngx_int_t
ngx_http_sender_domains_version_header(ngx_http_request_t *r)
{
    ngx_table_elt_t                     *h;
    ngx_http_sender_domains_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_sender_domains_module);

    if (!slcf->version_header) {
        return NGX_OK;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "X-Sender-Domains-Version");
    ngx_str_set(&h->value, SD_VERSION);

    return NGX_OK;
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
