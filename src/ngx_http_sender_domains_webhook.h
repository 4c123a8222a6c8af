/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: status-change webhooks.
 *
 * Events are queued in the store by the write that causes them
 * (sd_events.c) and sent, oldest first for each URL,
 * by the worker that holds the refresher lease, signed per the Standard
 * Webhooks specification (sd_whsign.c), and retried
 * with backoff until a 2xx or 72 hours.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_WEBHOOK_H
#define NGX_HTTP_SENDER_DOMAINS_WEBHOOK_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sd_store.h"


char *ngx_http_sender_domains_webhook_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_sender_domains_webhook_retry(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_sender_domains_webhook_queue(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

void ngx_http_sender_domains_webhook_init_process(ngx_cycle_t *cycle,
    sd_store_t *st);

/* the refresher's tick: whether this worker holds the lease */
void ngx_http_sender_domains_webhook_leader(ngx_uint_t leader);

#endif /* NGX_HTTP_SENDER_DOMAINS_WEBHOOK_H */
