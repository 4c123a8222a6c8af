/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the answers of the HTTP JSON API
 * (ngx_http_sender_domains_reply.c).
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_REPLY_H
#define NGX_HTTP_SENDER_DOMAINS_REPLY_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "sd_jsonw.h"
#include "sd_store.h"
#include "sd_sesparse.h"
#include "ngx_http_sender_domains_module.h"


/* the request's context: ngx_http_sender_domains_api.h */
typedef struct ngx_http_sender_domains_ctx_s  ngx_http_sender_domains_ctx_t;


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
ngx_int_t ngx_http_sender_domains_allow(ngx_http_request_t *r,
    ngx_uint_t method, ngx_uint_t allowed);
ngx_int_t ngx_http_sender_domains_json_status(ngx_http_request_t *r,
    ngx_int_t rc);
ngx_int_t ngx_http_sender_domains_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message);
ngx_int_t ngx_http_sender_domains_plan_error(ngx_http_request_t *r);
ngx_int_t ngx_http_sender_domains_limit_error(ngx_http_request_t *r,
    ngx_uint_t limit, const char *what);
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
ngx_uint_t ngx_http_sender_domains_ses_status(sd_ses_status_e status);


#endif /* NGX_HTTP_SENDER_DOMAINS_REPLY_H */
