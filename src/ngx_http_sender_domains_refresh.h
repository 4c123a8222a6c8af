/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the background refresher.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_REFRESH_H
#define NGX_HTTP_SENDER_DOMAINS_REFRESH_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_sender_domains_refresh_init(ngx_cycle_t *cycle);
void ngx_http_sender_domains_refresh_exit(ngx_cycle_t *cycle);

#endif /* NGX_HTTP_SENDER_DOMAINS_REFRESH_H */
