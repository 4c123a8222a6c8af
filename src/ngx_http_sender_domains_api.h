/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
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
#include "sd_jsonw.h"
#include "sd_row.h"


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
    unsigned                            ses_served:1;   /* fair turn */
    unsigned                            cool_daily:1;   /* resend/24 h */
    unsigned                            replaced:1; /* a stale leftover */
};


/*
 * An answer being written: a chain of pool buffers that a sd_jsonw_t
 * appends to (ngx_http_sender_domains_out_init()), sent with
 * ngx_http_sender_domains_send_out().  No malloc()ed copy, no single
 * buffer the size of the whole answer.
 */
typedef struct {
    ngx_pool_t                         *pool;
    ngx_chain_t                        *first;
    ngx_chain_t                       **last;
    ngx_buf_t                          *buf;
    size_t                              next_size;
    off_t                               length;
} ngx_http_sender_domains_out_t;


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
void ngx_http_sender_domains_out_init(ngx_http_request_t *r,
    ngx_http_sender_domains_out_t *out, sd_jsonw_t *w);
ngx_int_t ngx_http_sender_domains_send_out(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_sender_domains_out_t *out, sd_jsonw_t *w);
ngx_int_t ngx_http_sender_domains_send_empty(ngx_http_request_t *r,
    ngx_uint_t status);
ngx_int_t ngx_http_sender_domains_no_store(ngx_http_request_t *r);
void ngx_http_sender_domains_unread_body(ngx_http_request_t *r,
    ngx_uint_t status);
ngx_int_t ngx_http_sender_domains_json_track(ngx_http_request_t *r,
    json_t *j);

/*
 * A value that came with a request (a workspace) as a log line may show
 * it: itself when it is plain, else escaped (sd_log_escape()), cut with
 * "..." past SD_WORKSPACE_MAX bytes.  The result lives until the fourth
 * call after this one (a ring of static buffers: a worker logs one line
 * at a time), so a line can show up to four such values.  An argument
 * of ngx_log_error(), it is evaluated only when the line is written.
 */
ngx_str_t *ngx_http_sender_domains_log_esc(ngx_str_t *in);

/* the identity endpoints (ngx_http_sender_domains_identity_api.c) */
ngx_int_t ngx_http_sender_domains_actions(ngx_http_request_t *r,
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

/* bearer tokens (ngx_http_sender_domains_auth.c) */
ngx_int_t ngx_http_sender_domains_jwt_check(ngx_http_request_t *r);
ngx_int_t ngx_http_sender_domains_jwt_ok(ngx_http_request_t *r);
ngx_int_t ngx_http_sender_domains_jwt_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

#endif /* NGX_HTTP_SENDER_DOMAINS_API_H */
