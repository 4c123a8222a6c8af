/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the shared SES call budget
 * (ngx_http_sender_domains_budget.c).
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_BUDGET_H
#define NGX_HTTP_SENDER_DOMAINS_BUDGET_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the zone (configuration), and this cycle's zone in a worker */
ngx_int_t ngx_http_sender_domains_zone_add(ngx_conf_t *cf);
void ngx_http_sender_domains_budget_init(ngx_cycle_t *cycle);

/*
 * Takes one SES call from the budget shared by all workers.  Returns 0 to
 * go now, or how many milliseconds to wait.  Background calls leave one
 * call's worth for people (a person waiting goes first) and return
 * NGX_MAX_INT32_VALUE while SES is throttling us.
 */
ngx_msec_t ngx_http_sender_domains_rate_take(ngx_uint_t background);

/* what a call is, for ngx_http_sender_domains_rate_take_fair() */
#define NGX_HTTP_SENDER_DOMAINS_CALL_PERSON      0
#define NGX_HTTP_SENDER_DOMAINS_CALL_BACKGROUND  1
#define NGX_HTTP_SENDER_DOMAINS_CALL_DEFERRED    2

/*
 * The same for a person's call of one workspace (hash: ngx_crc32_short of
 * its name, never 0), in fair turns: when others wait and this workspace
 * had the last call, it waits.  "follow": the one call that directly
 * follows a request's first served call (an add's MAIL FROM after its
 * create), which goes on in its turn.  "background"
 * NGX_HTTP_SENDER_DOMAINS_CALL_DEFERRED: a step of the workspace's own
 * that nobody waits for (the MAIL FROM of an add that answered before
 * it): it takes the workspace's turn, after the workspace's people's
 * calls.  *queued says whether this call counts as waiting (0 no, 1 yes,
 * 2 as a later step, 3 as a deferred step; zero it before the first
 * take); a call that stops waiting without being served calls
 * ngx_http_sender_domains_rate_leave().
 */
ngx_msec_t ngx_http_sender_domains_rate_take_fair(uint32_t hash,
    ngx_uint_t follow, ngx_uint_t background, ngx_uint_t *queued);
void ngx_http_sender_domains_rate_leave(uint32_t hash, ngx_uint_t *queued);

/* SES answered 429: pause background polls; logs once per incident */
void ngx_http_sender_domains_rate_throttled(ngx_log_t *log);
void ngx_http_sender_domains_rate_recovered(ngx_log_t *log);

#endif /* NGX_HTTP_SENDER_DOMAINS_BUDGET_H */
