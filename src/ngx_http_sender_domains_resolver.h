/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: DNS lookups of any record type with
 * c-ares, driven by nginx's event loop (one channel per worker).
 */


#ifndef _NGX_HTTP_SENDER_DOMAINS_RESOLVER_H_INCLUDED_
#define _NGX_HTTP_SENDER_DOMAINS_RESOLVER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "sd_diagnose.h"


#define NGX_HTTP_SENDER_DOMAINS_DNS_TIMEOUT   5000


typedef struct ngx_http_sender_domains_dns_batch_s
    ngx_http_sender_domains_dns_batch_t;

typedef void (*ngx_http_sender_domains_dns_done_pt)(
    ngx_http_sender_domains_dns_batch_t *batch);


/*
 * Lookups sent together; the handler runs once, from a posted event, when
 * every one has an outcome or the timeout has passed (the rest then count
 * as timed out).  It lives in the pool it was made in: destroying the pool
 * cancels it.
 */
struct ngx_http_sender_domains_dns_batch_s {
    ngx_pool_t                          *pool;
    ngx_log_t                           *log;
    size_t                               n;
    sd_diag_query_t                     *q;
    sd_diag_result_t                    *res;
    void                               **tickets;   /* in flight */
    size_t                               pending;

    ngx_event_t                          deadline;
    ngx_event_t                          done;

    ngx_http_sender_domains_dns_done_pt  handler;
    void                                *data;
};


ngx_http_sender_domains_dns_batch_t *ngx_http_sender_domains_dns_start(
    ngx_pool_t *pool, ngx_log_t *log, sd_diag_query_t *q, size_t n,
    ngx_http_sender_domains_dns_done_pt handler, void *data);

void ngx_http_sender_domains_dns_exit(ngx_cycle_t *cycle);

/* lookups sent and not answered yet, in this worker */
ngx_uint_t ngx_http_sender_domains_dns_in_flight(void);

/* "sender_domains_dns_resolver ADDRESS[:PORT] ..." */
char *ngx_http_sender_domains_dns_resolver(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_SENDER_DOMAINS_RESOLVER_H_INCLUDED_ */
