/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: what the API files share (the
 * request's context, the actions, the endpoints).
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_API_H
#define NGX_HTTP_SENDER_DOMAINS_API_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_module.h"
#include "sd_jsonw.h"
#include "sd_row.h"
#include "ngx_http_sender_domains_reply.h"


typedef enum {
    SD_ACTION_LIST = 0,
    SD_ACTION_ADD,
    SD_ACTION_GET,
    SD_ACTION_PATCH,
    SD_ACTION_DELETE,
    SD_ACTION_REFRESH,
    SD_ACTION_RESEND,
    SD_ACTION_MIGRATE,
    SD_ACTION_RESOLVE,
    SD_ACTION_LEGACY,
    SD_ACTION_DNS
} ngx_http_sender_domains_action_e;


struct ngx_http_sender_domains_ctx_s {
    ngx_http_sender_domains_caller_t    caller;
    ngx_http_sender_domains_action_e    action;
    ngx_str_t                           id;         /* from the path */
    ngx_str_t                           raw_body;
    json_t                             *body;       /* parsed, tracked */

    /* the operation in progress (add, refresh, ...) */
    json_t                             *row;        /* internal record */
    ngx_str_t                           name;       /* normalised identity */
    ngx_uint_t                          step;
    void                               *call;       /* SES call in flight */

    json_t                             *claims;     /* verified JWT */
    ngx_int_t                           jwt_rc;     /* 0: not checked */

    unsigned                            wants_body:1;
    unsigned                            is_domain:1;
    unsigned                            waiting:1;
    unsigned                            ses_calls:2;    /* served, to 2 */
    ngx_msec_t                          patience;   /* the next call's */
    unsigned                            cool_daily:1;   /* resend/24 h */
    unsigned                            replaced:1; /* a stale leftover */
    unsigned                            cluster_claimed:1;
    const char                         *exists_message;    /* an add's */
};


/* the identity endpoints (ngx_http_sender_domains_identity_api.c) */
ngx_int_t ngx_http_sender_domains_add(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
ngx_int_t ngx_http_sender_domains_get(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
ngx_int_t ngx_http_sender_domains_patch(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
ngx_int_t ngx_http_sender_domains_delete(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
ngx_int_t ngx_http_sender_domains_refresh(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
ngx_int_t ngx_http_sender_domains_resend(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
ngx_int_t ngx_http_sender_domains_migrate(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
ngx_int_t ngx_http_sender_domains_legacy_put(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
ngx_int_t ngx_http_sender_domains_write_view(ngx_http_request_t *r,
    sd_jsonw_t *w, ngx_str_t *ws, const sd_row_view_t *v);
ngx_int_t ngx_http_sender_domains_load(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);

/* GET /{identity}/dns (ngx_http_sender_domains_dns_api.c) */
/*
 * The refresher's hook (issue 17): "rec" is a row as a poll left it; a
 * domain SES still has pending sender_domains_dns_diagnose_after after its
 * add gets its DNS diagnosed in the background, the summary saved in the
 * row's "dns_hint"; a row no longer pending loses its hint.
 */
void ngx_http_sender_domains_dns_hint(ngx_str_t *ws, ngx_str_t *id,
    const sd_record_t *rec);

ngx_int_t ngx_http_sender_domains_dns_handler(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);

/* the card list, GET / (ngx_http_sender_domains_list.c) */
ngx_int_t ngx_http_sender_domains_list(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);

/* the resolver (ngx_http_sender_domains_resolve.c) */
ngx_int_t ngx_http_sender_domains_resolve_handler(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
ngx_int_t ngx_http_sender_domains_from_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* the caller, bearer tokens (ngx_http_sender_domains_auth.c) */
ngx_int_t ngx_http_sender_domains_caller_from_conf(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller);
ngx_int_t ngx_http_sender_domains_jwt_check(ngx_http_request_t *r);
ngx_int_t ngx_http_sender_domains_jwt_ok(ngx_http_request_t *r);
ngx_int_t ngx_http_sender_domains_jwt_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

#endif /* NGX_HTTP_SENDER_DOMAINS_API_H */
