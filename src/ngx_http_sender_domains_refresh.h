/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the shared SES call budget and the
 * background refresher.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_REFRESH_H
#define NGX_HTTP_SENDER_DOMAINS_REFRESH_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_sender_domains_zone_add(ngx_conf_t *cf);

/*
 * Takes one SES call from the budget shared by all workers.  Returns 0 to
 * go now, or how many milliseconds to wait.  Background calls leave one
 * call's worth for people (a person waiting goes first) and return
 * NGX_MAX_INT32_VALUE while SES is throttling us.
 */
ngx_msec_t ngx_http_sender_domains_rate_take(ngx_uint_t background);

/* SES answered 429: pause background polls; logs once per incident */
void ngx_http_sender_domains_rate_throttled(ngx_log_t *log);
void ngx_http_sender_domains_rate_recovered(ngx_log_t *log);

ngx_int_t ngx_http_sender_domains_refresh_init(ngx_cycle_t *cycle);
void ngx_http_sender_domains_refresh_exit(ngx_cycle_t *cycle);

#endif /* NGX_HTTP_SENDER_DOMAINS_REFRESH_H */
