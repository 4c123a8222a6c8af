/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: counters and gauges in shared memory,
 * served in Prometheus' text format by "sender_domains_metrics;".
 *
 * Every worker updates them with atomic adds (ngx_atomic_fetch_add): a
 * resolve costs one add.  The identities by kind and state are kept
 * current from the store's tally (each write transaction tells its
 * changes) after one count when the zone is new, so a scrape never scans
 * the store.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_METRICS_H
#define NGX_HTTP_SENDER_DOMAINS_METRICS_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sd_store.h"


/* one counter per resolve outcome: where it came from, or why it fell back */
typedef enum {
    SD_M_RES_ADDRESS = 0,
    SD_M_RES_DOMAIN,
    SD_M_RES_LEGACY,
    SD_M_RES_FB_INVALID_ADDRESS,
    SD_M_RES_FB_NOT_REGISTERED,
    SD_M_RES_FB_NOT_VERIFIED,
    SD_M_RES_FB_PLAN_REQUIRED,
    SD_M_RES_FB_STORAGE_ERROR,
    SD_M_RES_FB_OWNERSHIP_UNPROVEN,
    SD_M_RES_N
} ngx_http_sender_domains_metric_resolve_e;

#define SD_M_RES_FALLBACK_FIRST  SD_M_RES_FB_INVALID_ADDRESS


typedef enum {
    SD_M_SES_OK = 0,
    SD_M_SES_THROTTLED,
    SD_M_SES_ERROR_4XX,
    SD_M_SES_ERROR_5XX,
    SD_M_SES_TIMEOUT,
    SD_M_SES_DROPPED,
    SD_M_SES_OUTCOMES
} ngx_http_sender_domains_metric_ses_e;


typedef enum {
    SD_M_POLL_ANSWERED = 0,     /* GetEmailIdentity answered */
    SD_M_POLL_GONE,             /* SES no longer has it */
    SD_M_POLL_LISTED,           /* settled by a ListEmailIdentities page */
    SD_M_POLL_FAILED,           /* no answer: backs off */
    SD_M_POLL_RESUMED,          /* a half-added row's step was resumed */
    SD_M_POLL_PURGED,           /* an abandoned row was deleted */
    SD_M_POLLS
} ngx_http_sender_domains_metric_poll_e;


typedef enum {
    SD_M_WH_DELIVERED = 0,
    SD_M_WH_FAILED,             /* an attempt failed: retried */
    SD_M_WH_DROPPED_FULL,       /* the queue was full */
    SD_M_WH_EXPIRED,            /* not delivered in 72 hours */
    SD_M_WH_OUTCOMES
} ngx_http_sender_domains_metric_webhook_e;


/* DNS ownership proofs of domains already verified in SES, by outcome */
typedef enum {
    SD_M_OWN_PROVEN = 0,        /* the TXT record was found: proven */
    SD_M_OWN_MISSING,           /* no sd-verify record yet */
    SD_M_OWN_WRONG,             /* sd-verify records, none with the token */
    SD_M_OWN_UNKNOWN,           /* DNS did not answer */
    SD_M_OWN_LOST,              /* another workspace proved first */
    SD_M_OWN_OUTCOMES
} ngx_http_sender_domains_metric_ownership_e;

#define SD_M_SES_OPS            8
#define SD_M_LATENCY_BUCKETS    11
#define SD_M_API_ENDPOINTS      16
#define SD_M_STATUS_CLASSES     5
#define SD_M_STORE_ERRORS       2       /* full, failed */


typedef struct {
    ngx_atomic_t    seeded;
    ngx_atomic_t    identities[SD_TALLY_KINDS][SD_TALLY_STATES];
    ngx_atomic_t    verification_lost;

    ngx_atomic_t    resolves[SD_M_RES_N];
    ngx_atomic_t    api[SD_M_API_ENDPOINTS][SD_M_STATUS_CLASSES];

    ngx_atomic_t    ses_calls[SD_M_SES_OPS][SD_M_SES_OUTCOMES];
    ngx_atomic_t    ses_latency[SD_M_LATENCY_BUCKETS + 1];
    ngx_atomic_t    ses_latency_ms;
    ngx_atomic_t    ses_waiting;
    ngx_atomic_t    budget_millitokens;

    ngx_atomic_t    polls[SD_M_POLLS];
    ngx_atomic_t    lease_pid;
    ngx_atomic_t    last_tick;
    ngx_atomic_t    rows_due;
    ngx_atomic_t    oldest_due;
    ngx_atomic_t    cycles;
    ngx_atomic_t    last_cycle_ms;
    ngx_atomic_t    last_cycle_end;

    ngx_atomic_t    webhooks[SD_M_WH_OUTCOMES];
    ngx_atomic_t    ownership[SD_M_OWN_OUTCOMES];

    ngx_atomic_t    store_errors[SD_M_STORE_ERRORS];
    ngx_atomic_t    store_last_error;       /* epoch seconds */
} ngx_http_sender_domains_metrics_t;


/* this worker's view of the zone; NULL when there is none */
extern ngx_http_sender_domains_metrics_t  *ngx_http_sender_domains_metrics;


/* the resolve path's one atomic add */
static ngx_inline void
ngx_http_sender_domains_metric_resolve(ngx_uint_t slot)
{
    if (ngx_http_sender_domains_metrics) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_sender_domains_metrics->resolves[slot], 1);
    }
}


ngx_int_t ngx_http_sender_domains_metrics_zone_add(ngx_conf_t *cf);
ngx_int_t ngx_http_sender_domains_metrics_init(ngx_conf_t *cf);
void ngx_http_sender_domains_metrics_init_process(ngx_cycle_t *cycle,
    sd_store_t *st);
char *ngx_http_sender_domains_metrics_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/* a fallback, by the resolver's reason ("not_verified", ...) */
void ngx_http_sender_domains_metric_fallback(const char *reason);

/* an SES call that went out and ended: op, libcurl outcome, HTTP status */
void ngx_http_sender_domains_metric_ses(ngx_uint_t op, ngx_uint_t outcome,
    ngx_uint_t throttled, long status, ngx_msec_t ms);
void ngx_http_sender_domains_metric_ses_waiting(ngx_int_t delta);
void ngx_http_sender_domains_metric_budget(int64_t millitokens);

void ngx_http_sender_domains_metric_poll(ngx_uint_t outcome);
void ngx_http_sender_domains_metric_tick(sd_store_t *st, ngx_uint_t leader);
void ngx_http_sender_domains_metric_cycle(ngx_uint_t end);

void ngx_http_sender_domains_metric_store_error(sd_store_rc_e rc);
void ngx_http_sender_domains_metric_webhook(ngx_uint_t outcome);
void ngx_http_sender_domains_metric_ownership(ngx_uint_t outcome);

#endif /* NGX_HTTP_SENDER_DOMAINS_METRICS_H */
