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

/*
 * Finishes a half-added row now, in this worker, as the refresher would
 * (an add that answered before its MAIL FROM hands it over here).
 */
ngx_int_t ngx_http_sender_domains_refresh_resume(ngx_str_t *ws,
    ngx_str_t *id);

#endif /* NGX_HTTP_SENDER_DOMAINS_REFRESH_H */
