/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the HTTP JSON API's entry (routing of
 * every path to its endpoint, the caller's role, access rules, the body).
 * The answers are written by ngx_http_sender_domains_reply.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_api.h"
#include "ngx_http_sender_domains_cluster.h"
#include "sd_identity.h"
#include "ngx_http_sender_domains_reply.h"


#define NGX_HTTP_SENDER_DOMAINS_MAX_BODY   65536


/* an endpoint named by a path segment */
typedef struct {
    ngx_str_t                          name;
    ngx_http_sender_domains_action_e   action;
    ngx_uint_t                         methods;     /* NGX_HTTP_* mask */
    ngx_uint_t                         wants_body;
} ngx_http_sender_domains_route_t;


static ngx_int_t ngx_http_sender_domains_route(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static void ngx_http_sender_domains_route_path(ngx_http_request_t *r,
    ngx_str_t *rest);
static ngx_http_sender_domains_route_t *ngx_http_sender_domains_route_find(
    ngx_http_sender_domains_route_t *routes, ngx_str_t *name);
static ngx_int_t ngx_http_sender_domains_route_to(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_route_t *rt);
static ngx_int_t ngx_http_sender_domains_route_identity(
    ngx_http_request_t *r, ngx_http_sender_domains_ctx_t *ctx, ngx_str_t *id);
static ngx_int_t ngx_http_sender_domains_route_sub(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_str_t *rest, u_char *slash);
static ngx_int_t ngx_http_sender_domains_caller(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_caller_role(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller);
static ngx_int_t ngx_http_sender_domains_check_access(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static void ngx_http_sender_domains_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_sender_domains_parse_body(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_version_header(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_sender_domains_dispatch(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);


/* /{name} */
static ngx_http_sender_domains_route_t  ngx_http_sender_domains_routes[] = {
    { ngx_string("resolve"), SD_ACTION_RESOLVE, NGX_HTTP_GET|NGX_HTTP_HEAD,
      0 },
    { ngx_string("legacy"), SD_ACTION_LEGACY, NGX_HTTP_PUT, 1 },
    { ngx_null_string, 0, 0, 0 }
};


/* /{identity}/{name} */
static ngx_http_sender_domains_route_t
    ngx_http_sender_domains_identity_routes[] = {
    { ngx_string("dns"), SD_ACTION_DNS, NGX_HTTP_GET|NGX_HTTP_HEAD, 0 },
    { ngx_string("refresh"), SD_ACTION_REFRESH, NGX_HTTP_POST, 0 },
    { ngx_string("resend-verification"), SD_ACTION_RESEND, NGX_HTTP_POST,
      0 },
    { ngx_string("migrate"), SD_ACTION_MIGRATE, NGX_HTTP_POST, 0 },
    { ngx_null_string, 0, 0, 0 }
};


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

    rc = ngx_http_sender_domains_cluster_gate(r);
    if (rc != NGX_DECLINED) {
        return rc;
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


/*
 * Splits the path below the location into the endpoint and the identity.
 * The URI is already percent-decoded by nginx.
 */

static ngx_int_t
ngx_http_sender_domains_route(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    u_char                           *slash;
    ngx_str_t                         rest;
    ngx_http_sender_domains_route_t  *rt;

    ngx_http_sender_domains_route_path(r, &rest);

    if (rest.len == 0) {
        ctx->action = (r->method == NGX_HTTP_POST) ? SD_ACTION_ADD
                                                   : SD_ACTION_LIST;
        ctx->wants_body = (r->method == NGX_HTTP_POST);
        return ngx_http_sender_domains_allow(r, r->method,
                                             NGX_HTTP_GET|NGX_HTTP_HEAD
                                             |NGX_HTTP_POST);
    }

    rt = ngx_http_sender_domains_route_find(ngx_http_sender_domains_routes,
                                            &rest);
    if (rt) {
        return ngx_http_sender_domains_route_to(r, ctx, rt);
    }

    slash = ngx_strlchr(rest.data, rest.data + rest.len, '/');

    if (slash == NULL) {
        return ngx_http_sender_domains_route_identity(r, ctx, &rest);
    }

    return ngx_http_sender_domains_route_sub(r, ctx, &rest, slash);
}


/* the path below the location (or what its regex matched), no end slashes */

static void
ngx_http_sender_domains_route_path(ngx_http_request_t *r, ngx_str_t *rest)
{
    u_char                    *p, *end;
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

    rest->data = p;
    rest->len = end - p;
}


static ngx_http_sender_domains_route_t *
ngx_http_sender_domains_route_find(ngx_http_sender_domains_route_t *routes,
    ngx_str_t *name)
{
    ngx_http_sender_domains_route_t  *rt;

    for (rt = routes; rt->name.len; rt++) {
        if (rt->name.len == name->len
            && ngx_strncmp(rt->name.data, name->data, name->len) == 0)
        {
            return rt;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_sender_domains_route_to(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_route_t *rt)
{
    ctx->action = rt->action;
    ctx->wants_body = rt->wants_body;

    return ngx_http_sender_domains_allow(r, r->method, rt->methods);
}


/* /{identity}: read, change or delete it */

static ngx_int_t
ngx_http_sender_domains_route_identity(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_str_t *id)
{
    ctx->id = *id;

    switch (r->method) {

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

    return ngx_http_sender_domains_allow(r, r->method,
                                         NGX_HTTP_GET|NGX_HTTP_HEAD
                                         |NGX_HTTP_PATCH|NGX_HTTP_DELETE);
}


/* /{identity}/{name}: "slash" is the first '/' of "rest" */

static ngx_int_t
ngx_http_sender_domains_route_sub(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_str_t *rest, u_char *slash)
{
    ngx_str_t                         sub;
    ngx_http_sender_domains_route_t  *rt;

    ctx->id.data = rest->data;
    ctx->id.len = slash - rest->data;
    sub.data = slash + 1;
    sub.len = rest->data + rest->len - sub.data;

    rt = ngx_http_sender_domains_route_find(
             ngx_http_sender_domains_identity_routes, &sub);
    if (rt == NULL) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_FOUND,
                   "not_found", "There is no such endpoint.");
    }

    return ngx_http_sender_domains_route_to(r, ctx, rt);
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

    case SD_ACTION_ADD:
        return ngx_http_sender_domains_add(r, ctx);

    case SD_ACTION_GET:
        return ngx_http_sender_domains_get(r, ctx);

    case SD_ACTION_PATCH:
        return ngx_http_sender_domains_patch(r, ctx);

    case SD_ACTION_DELETE:
        return ngx_http_sender_domains_delete(r, ctx);

    case SD_ACTION_REFRESH:
        return ngx_http_sender_domains_refresh(r, ctx);

    case SD_ACTION_RESEND:
        return ngx_http_sender_domains_resend(r, ctx);

    case SD_ACTION_MIGRATE:
        return ngx_http_sender_domains_migrate(r, ctx);

    case SD_ACTION_LEGACY:
        return ngx_http_sender_domains_legacy_put(r, ctx);

    case SD_ACTION_RESOLVE:
        return ngx_http_sender_domains_resolve_handler(r, ctx);

    case SD_ACTION_DNS:
        return ngx_http_sender_domains_dns_handler(r, ctx);

    default:
        return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_FOUND,
                   "not_found", "There is no such endpoint.");
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

