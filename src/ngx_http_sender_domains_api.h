/*
 * Custom Sender Domains for nginx: what the API files share.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_API_H
#define NGX_HTTP_SENDER_DOMAINS_API_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_module.h"


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
    SD_ACTION_LEGACY
} ngx_http_sender_domains_action_e;


typedef struct ngx_http_sender_domains_ctx_s  ngx_http_sender_domains_ctx_t;

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
};


ngx_http_sender_domains_ctx_t *ngx_http_sender_domains_get_ctx(
    ngx_http_request_t *r);
ngx_int_t ngx_http_sender_domains_caller_from_conf(ngx_http_request_t *r,
    ngx_http_sender_domains_caller_t *caller);
ngx_int_t ngx_http_sender_domains_allow(ngx_http_request_t *r,
    ngx_uint_t method, ngx_uint_t allowed);
ngx_int_t ngx_http_sender_domains_json_status(ngx_http_request_t *r,
    ngx_int_t rc);
ngx_int_t ngx_http_sender_domains_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message);
ngx_int_t ngx_http_sender_domains_plan_error(ngx_http_request_t *r);
ngx_int_t ngx_http_sender_domains_store_error(ngx_http_request_t *r,
    sd_store_rc_e rc);
ngx_int_t ngx_http_sender_domains_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *j);
ngx_int_t ngx_http_sender_domains_send_empty(ngx_http_request_t *r,
    ngx_uint_t status);
ngx_int_t ngx_http_sender_domains_no_store(ngx_http_request_t *r);
void ngx_http_sender_domains_unread_body(ngx_http_request_t *r,
    ngx_uint_t status);
ngx_int_t ngx_http_sender_domains_json_track(ngx_http_request_t *r,
    json_t *j);

/* the identity endpoints (ngx_http_sender_domains_identity_api.c) */
ngx_int_t ngx_http_sender_domains_actions(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
json_t *ngx_http_sender_domains_render(ngx_http_request_t *r,
    const sd_record_t *rec);
sd_store_rc_e ngx_http_sender_domains_list_legacy(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, json_t *rows);

/* the resolver (ngx_http_sender_domains_resolve.c) */
ngx_int_t ngx_http_sender_domains_resolve_handler(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
ngx_int_t ngx_http_sender_domains_from_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* bearer tokens (ngx_http_sender_domains_auth.c) */
ngx_int_t ngx_http_sender_domains_jwt_check(ngx_http_request_t *r);
ngx_int_t ngx_http_sender_domains_jwt_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

#endif /* NGX_HTTP_SENDER_DOMAINS_API_H */
