/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the caller (workspace and plan from the
 * location's values) and HS256 bearer tokens.
 *
 * With sender_domains_jwt_secret_file, "Authorization: Bearer <jwt>" is
 * verified (HS256 only, constant-time comparison, exp and nbf checked, see
 * sd_jwt.c) and its claims become the variables
 * $sender_domains_jwt_<claim>, which the sender_domains_workspace / _role /
 * _plan / _trial_ends directives can name.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_sender_domains_api.h"
#include "sd_jwt.h"
#include "sd_time.h"


#define NGX_HTTP_SENDER_DOMAINS_JWT_LEEWAY  30      /* seconds of skew */


static ngx_int_t ngx_http_sender_domains_jwt_verify(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_jwt_workspace(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static void ngx_http_sender_domains_jwt_refused(ngx_http_request_t *r,
    const char *why);
static ngx_int_t ngx_http_sender_domains_plan_ok(ngx_http_request_t *r,
    ngx_http_sender_domains_loc_conf_t *slcf);


/* the refused-token log lines of this worker: one a second */
static time_t      ngx_http_sender_domains_jwt_logged;
static ngx_uint_t  ngx_http_sender_domains_jwt_suppressed;


/*
 * Verifies the token once per request; the result is kept in the ctx.
 * Returns SD_JWT_OK or the error.
 */

static ngx_int_t
ngx_http_sender_domains_jwt_verify(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    u_char                              *p;
    size_t                               len;
    json_t                              *claims;
    ngx_table_elt_t                     *h;
    sd_jwt_err_e                         err;
    ngx_http_sender_domains_loc_conf_t  *slcf;

    if (ctx->jwt_rc) {
        return ctx->jwt_rc - 1;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_sender_domains_module);
    h = r->headers_in.authorization;

    err = SD_JWT_MALFORMED;

    if (slcf->jwt_set && h && h->value.len > 7
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", 7) == 0)
    {
        p = h->value.data + 7;
        len = h->value.len - 7;

        while (len && *p == ' ') {
            p++;
            len--;
        }

        claims = NULL;

        (void) sd_jwt_verify((char *) p, len,
                             (char *) slcf->jwt_secret.data,
                             slcf->jwt_secret.len, (int64_t) ngx_time(),
                             NGX_HTTP_SENDER_DOMAINS_JWT_LEEWAY, &claims,
                             &err);

        if (err == SD_JWT_OK) {
            if (ngx_http_sender_domains_json_track(r, claims) != NGX_OK) {
                err = SD_JWT_INTERNAL;

            } else {
                ctx->claims = claims;
            }
        }

        /* a token that never expires: only with jwt_require_exp off */
        if (err == SD_JWT_OK && slcf->jwt_require_exp) {
            err = sd_jwt_require_exp(ctx->claims);
        }
    }

    ctx->jwt_rc = err + 1;

    return err;
}


/*
 * A refused token in the log: the reason, never the token; at most one
 * line a second per worker, so that a flood of bad tokens cannot fill
 * the log, with the count of those left out.
 */

static void
ngx_http_sender_domains_jwt_refused(ngx_http_request_t *r, const char *why)
{
    time_t  now;

    now = ngx_time();

    if (now == ngx_http_sender_domains_jwt_logged) {
        ngx_http_sender_domains_jwt_suppressed++;
        return;
    }

    if (ngx_http_sender_domains_jwt_suppressed) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sender_domains: bearer token refused: %s (and %ui "
                      "more since the last such line)", why,
                      ngx_http_sender_domains_jwt_suppressed);

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sender_domains: bearer token refused: %s", why);
    }

    ngx_http_sender_domains_jwt_logged = now;
    ngx_http_sender_domains_jwt_suppressed = 0;
}


/*
 * When sender_domains_workspace is one lone $sender_domains_jwt_<claim>,
 * that claim must be a string: the variable would turn 123 into "123"
 * and true into "true", naming a workspace the token did not name.
 */

static ngx_int_t
ngx_http_sender_domains_jwt_workspace(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    ngx_str_t                           *name;
    ngx_http_variable_t                 *v;
    ngx_http_core_main_conf_t           *cmcf;
    ngx_http_sender_domains_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_sender_domains_module);

    if (slcf->workspace == NULL || slcf->workspace->index == NGX_ERROR) {
        return SD_JWT_OK;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);
    v = cmcf->variables.elts;
    name = &v[slcf->workspace->index].name;

    if (name->len <= sizeof("sender_domains_jwt_") - 1
        || ngx_strncmp(name->data, "sender_domains_jwt_",
                       sizeof("sender_domains_jwt_") - 1) != 0)
    {
        return SD_JWT_OK;
    }

    if (sd_jwt_claim_is_string(ctx->claims,
                               (char *) name->data
                               + sizeof("sender_domains_jwt_") - 1,
                               name->len
                               - (sizeof("sender_domains_jwt_") - 1))
        < 0)
    {
        return SD_JWT_BAD_CLAIM;
    }

    return SD_JWT_OK;
}


ngx_int_t
ngx_http_sender_domains_jwt_check(ngx_http_request_t *r)
{
    ngx_int_t                       err;
    ngx_table_elt_t                *h;
    ngx_http_sender_domains_ctx_t  *ctx;

    ctx = ngx_http_sender_domains_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->headers_in.authorization == NULL) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h) {
            h->hash = 1;
#if (nginx_version >= 1023000)
            h->next = NULL;
#endif
            ngx_str_set(&h->key, "WWW-Authenticate");
            ngx_str_set(&h->value, "Bearer");
        }

        return ngx_http_sender_domains_error(r, NGX_HTTP_UNAUTHORIZED,
                   "unauthenticated",
                   "Sign in first: send \"Authorization: Bearer <token>\".");
    }

    err = ngx_http_sender_domains_jwt_verify(r, ctx);

    if (err == SD_JWT_OK) {
        err = ngx_http_sender_domains_jwt_workspace(r, ctx);
    }

    if (err == SD_JWT_OK) {
        return NGX_DECLINED;
    }

    ngx_http_sender_domains_jwt_refused(r, sd_jwt_strerror(err));

    h = ngx_list_push(&r->headers_out.headers);
    if (h) {
        h->hash = 1;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        ngx_str_set(&h->key, "WWW-Authenticate");
        ngx_str_set(&h->value, "Bearer error=\"invalid_token\"");
    }

    return ngx_http_sender_domains_error(r, NGX_HTTP_UNAUTHORIZED,
                                         "unauthenticated",
                                         sd_jwt_strerror(err));
}


/*
 * For the resolver, which answers without a caller rather than refusing:
 * 1 when the request's bearer token verified and names its workspace
 * with a string, else 0 (the reason logged at info, as a refusal is).
 */

ngx_int_t
ngx_http_sender_domains_jwt_ok(ngx_http_request_t *r)
{
    ngx_int_t                       err;
    ngx_http_sender_domains_ctx_t  *ctx;

    ctx = ngx_http_sender_domains_get_ctx(r);
    if (ctx == NULL) {
        return 0;
    }

    err = ngx_http_sender_domains_jwt_verify(r, ctx);

    if (err == SD_JWT_OK) {
        err = ngx_http_sender_domains_jwt_workspace(r, ctx);
    }

    if (err == SD_JWT_OK) {
        return 1;
    }

    ngx_http_sender_domains_jwt_refused(r, r->headers_in.authorization
                                           ? sd_jwt_strerror(err)
                                           : "no token");

    return 0;
}


/* $sender_domains_jwt_<claim>: empty unless the token verified */

ngx_int_t
ngx_http_sender_domains_jwt_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                      *name = (ngx_str_t *) data;

    u_char                         *buf;
    ssize_t                         n;
    ngx_str_t                       claim;
    ngx_http_sender_domains_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_sender_domains_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_sender_domains_jwt_verify(r, ctx) != SD_JWT_OK) {
        return NGX_OK;
    }

    claim.data = name->data + sizeof("sender_domains_jwt_") - 1;
    claim.len = name->len - (sizeof("sender_domains_jwt_") - 1);

    buf = ngx_pnalloc(r->pool, 1024);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    n = sd_jwt_claim_string(ctx->claims, (char *) claim.data, claim.len,
                            (char *) buf, 1024);
    if (n < 0) {
        return NGX_OK;
    }

    v->data = buf;
    v->len = n;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
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
