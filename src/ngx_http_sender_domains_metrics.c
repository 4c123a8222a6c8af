/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: metrics in shared memory and their
 * Prometheus exposition (see the header and docs/operations.md).
 *
 * The counters live in their own shared zone, "sender_domains_metrics",
 * of a fixed size: nginx keeps it across reloads (same name, same size),
 * so counters only start from zero when nginx starts.  Counters only go
 * up; gauges are set by the one process that knows (the refresher's
 * leader) or moved by atomic adds (identities, calls waiting).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_api.h"
#include "ngx_http_sender_domains_curl.h"
#include "ngx_http_sender_domains_metrics.h"
#include "ngx_http_sender_domains_cluster.h"
#include "sd_prom.h"


/* a leader counts at most this many due rows per tick */
#define NGX_HTTP_SENDER_DOMAINS_DUE_COUNT_MAX  100000


static ngx_int_t ngx_http_sender_domains_metrics_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static void ngx_http_sender_domains_metrics_tally(void *ctx,
    const sd_store_tally_t *t);
static void ngx_http_sender_domains_metrics_seed(void *ctx,
    const sd_store_tally_t *t);
static ngx_int_t ngx_http_sender_domains_metrics_log(ngx_http_request_t *r);
static ngx_int_t ngx_http_sender_domains_metrics_handler(
    ngx_http_request_t *r);
static void ngx_http_sender_domains_metrics_write(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m);
static void ngx_http_sender_domains_metrics_write_by_label(sd_prom_t *w,
    const char *name, const char *label, const char *const *values,
    ngx_atomic_t *counters, ngx_uint_t n);
static void ngx_http_sender_domains_metrics_write_info(sd_prom_t *w);
static void ngx_http_sender_domains_metrics_write_identities(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m);
static void ngx_http_sender_domains_metrics_write_resolves(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m);
static void ngx_http_sender_domains_metrics_write_api(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m);
static void ngx_http_sender_domains_metrics_write_ses(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m);
static void ngx_http_sender_domains_metrics_write_refresher_tick(
    sd_prom_t *w, ngx_http_sender_domains_metrics_t *m);
static void ngx_http_sender_domains_metrics_write_ownership(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m);
static void ngx_http_sender_domains_metrics_write_refresher_cycles(
    sd_prom_t *w, ngx_http_sender_domains_metrics_t *m);
static void ngx_http_sender_domains_metrics_write_webhooks(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m);
static void ngx_http_sender_domains_metrics_write_cluster(sd_prom_t *w);
static void ngx_http_sender_domains_metrics_write_store(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m);


ngx_http_sender_domains_metrics_t  *ngx_http_sender_domains_metrics;

static ngx_str_t  ngx_http_sender_domains_metrics_zone_name =
    ngx_string("sender_domains_metrics");

static ngx_msec_t  ngx_http_sender_domains_cycle_started;
static int64_t     ngx_http_sender_domains_dropped;
static time_t      ngx_http_sender_domains_dropped_logged;


static const char  *ngx_http_sender_domains_kinds[] = {
    "domain", "email", "legacy"
};

static const char  *ngx_http_sender_domains_states[] = {
    "pending", "verified", "failed"
};

static const char  *ngx_http_sender_domains_sources[] = {
    "address", "domain", "legacy"
};

static const char  *ngx_http_sender_domains_reasons[] = {
    "invalid_address", "not_registered", "not_verified", "plan_required",
    "storage_error", "ownership_unproven"
};

/* by SD_ACTION_* */
static const char  *ngx_http_sender_domains_endpoints[] = {
    "list", "add", "get", "patch", "delete", "refresh", "resend",
    "migrate", "resolve", "legacy"
};

static const char  *ngx_http_sender_domains_classes[] = {
    "1xx", "2xx", "3xx", "4xx", "5xx"
};

/* by SD_SES_OP_* */
static const char  *ngx_http_sender_domains_ops[] = {
    "CreateEmailIdentity", "GetEmailIdentity", "DeleteEmailIdentity",
    "PutEmailIdentityMailFromAttributes", "ListEmailIdentities",
    "VerifyEmailIdentity"
};

static const char  *ngx_http_sender_domains_outcomes[] = {
    "ok", "throttled", "error_4xx", "error_5xx", "timeout", "dropped"
};

static const char  *ngx_http_sender_domains_wh_outcomes[] = {
    "delivered", "failed", "dropped_full", "expired"
};

static const char  *ngx_http_sender_domains_ownership[] = {
    "proven", "missing", "wrong", "unknown", "lost"
};

static const char  *ngx_http_sender_domains_polls[] = {
    "answered", "gone", "listed", "failed", "resumed", "purged"
};

/* by the index of store_errors[] */
static const char  *ngx_http_sender_domains_store_errors[] = {
    "full", "failed"
};

/* the SES latency histogram's upper bounds, in ms and as written */
static const ngx_msec_t  ngx_http_sender_domains_bounds_ms[] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};

static const char  *ngx_http_sender_domains_bounds[] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
    "5", "10"
};


/* ---- the zone ----------------------------------------------------------- */


ngx_int_t
ngx_http_sender_domains_metrics_zone_add(ngx_conf_t *cf)
{
    ngx_shm_zone_t  *zone;

    zone = ngx_shared_memory_add(cf, &ngx_http_sender_domains_metrics_zone_name,
                                 8 * ngx_pagesize
                                 + ngx_align(
                                     sizeof(ngx_http_sender_domains_metrics_t),
                                     ngx_pagesize),
                                 &ngx_http_sender_domains_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_sender_domains_metrics_init_zone;
    zone->data = NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sender_domains_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data)
{
    /* a reload keeps the counters */
    return ngx_http_sender_domains_shm_init(shm_zone, data,
                                     sizeof(ngx_http_sender_domains_metrics_t));
}


void
ngx_http_sender_domains_metrics_init_process(ngx_cycle_t *cycle,
    sd_store_t *st)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_shm_zone_t   *zone;

    ngx_http_sender_domains_metrics = NULL;

    /* this cycle's zone (a static set while parsing could be stale) */
    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag == &ngx_http_sender_domains_module
            && zone[i].shm.name.len
               == ngx_http_sender_domains_metrics_zone_name.len
            && ngx_strncmp(zone[i].shm.name.data,
                           ngx_http_sender_domains_metrics_zone_name.data,
                           zone[i].shm.name.len) == 0)
        {
            ngx_http_sender_domains_metrics = zone[i].data;
            break;
        }
    }

    if (ngx_http_sender_domains_metrics == NULL || st == NULL) {
        return;
    }

    sd_store_set_tally(st, ngx_http_sender_domains_metrics_tally, NULL);

    /* the first worker of a new zone counts what the store holds */
    if (ngx_atomic_cmp_set(&ngx_http_sender_domains_metrics->seeded, 0, 1)) {

        if (sd_store_tally_count(st, ngx_http_sender_domains_metrics_seed,
                                 NULL)
            != SD_STORE_OK)
        {
            ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                          "sender_domains: identities not counted for the "
                          "metrics: %s", sd_store_strerror(st));
            ngx_http_sender_domains_metrics->seeded = 0;
        }
    }
}


/* under LMDB's write lock: nobody else tells the tally meanwhile */

static void
ngx_http_sender_domains_metrics_seed(void *ctx, const sd_store_tally_t *t)
{
    ngx_uint_t                          k, s;
    ngx_http_sender_domains_metrics_t  *m = ngx_http_sender_domains_metrics;

    for (k = 0; k < SD_TALLY_KINDS; k++) {
        for (s = 0; s < SD_TALLY_STATES; s++) {
            m->identities[k][s] = (ngx_atomic_uint_t) t->n[k][s];
        }
    }
}


static void
ngx_http_sender_domains_metrics_tally(void *ctx, const sd_store_tally_t *t)
{
    ngx_uint_t                          k, s;
    ngx_http_sender_domains_metrics_t  *m = ngx_http_sender_domains_metrics;

    if (m == NULL) {
        return;
    }

    for (k = 0; k < SD_TALLY_KINDS; k++) {
        for (s = 0; s < SD_TALLY_STATES; s++) {
            if (t->n[k][s]) {
                (void) ngx_atomic_fetch_add(&m->identities[k][s],
                                            (ngx_atomic_int_t) t->n[k][s]);
            }
        }
    }

    if (t->lost) {
        (void) ngx_atomic_fetch_add(&m->verification_lost,
                                    (ngx_atomic_int_t) t->lost);
    }

    if (t->events_dropped > 0) {
        (void) ngx_atomic_fetch_add(&m->webhooks[SD_M_WH_DROPPED_FULL],
                                    (ngx_atomic_int_t) t->events_dropped);

        /* at most one line a minute per worker while the queue is full */
        ngx_http_sender_domains_dropped += t->events_dropped;

        if (ngx_time() - ngx_http_sender_domains_dropped_logged >= 60) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "sender_domains: the webhook queue is full: %L "
                          "oldest undelivered events dropped "
                          "(sender_domains_webhook_queue)",
                          ngx_http_sender_domains_dropped);
            ngx_http_sender_domains_dropped = 0;
            ngx_http_sender_domains_dropped_logged = ngx_time();
        }
    }
}


/* ---- the hooks ---------------------------------------------------------- */


void
ngx_http_sender_domains_metric_fallback(const char *reason)
{
    ngx_uint_t  i;

    for (i = 0; i < SD_M_RES_N - SD_M_RES_FALLBACK_FIRST; i++) {
        if (ngx_strcmp(reason, ngx_http_sender_domains_reasons[i]) == 0) {
            ngx_http_sender_domains_metric_resolve(SD_M_RES_FALLBACK_FIRST
                                                   + i);
            return;
        }
    }
}


void
ngx_http_sender_domains_metric_ses(ngx_uint_t op, ngx_uint_t outcome,
    ngx_uint_t throttled, long status, ngx_msec_t ms)
{
    ngx_uint_t                          o, b;
    ngx_http_sender_domains_metrics_t  *m = ngx_http_sender_domains_metrics;

    if (m == NULL || op >= SD_M_SES_OPS) {
        return;
    }

    switch (outcome) {

    case NGX_HTTP_SENDER_DOMAINS_CURL_TIMEOUT:
        o = SD_M_SES_TIMEOUT;
        break;

    case NGX_HTTP_SENDER_DOMAINS_CURL_CONNECT:
        o = SD_M_SES_DROPPED;
        break;

    default:
        o = throttled ? SD_M_SES_THROTTLED
            : (status >= NGX_HTTP_OK && status < NGX_HTTP_SPECIAL_RESPONSE)
              ? SD_M_SES_OK
            : (status >= NGX_HTTP_BAD_REQUEST
               && status < NGX_HTTP_INTERNAL_SERVER_ERROR)
              ? SD_M_SES_ERROR_4XX
            : SD_M_SES_ERROR_5XX;
    }

    (void) ngx_atomic_fetch_add(&m->ses_calls[op][o], 1);

    for (b = 0; b < SD_M_LATENCY_BUCKETS; b++) {
        if (ms <= ngx_http_sender_domains_bounds_ms[b]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&m->ses_latency[b], 1);
    (void) ngx_atomic_fetch_add(&m->ses_latency_ms, ms);
}


void
ngx_http_sender_domains_metric_ses_waiting(ngx_int_t delta)
{
    if (ngx_http_sender_domains_metrics) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_sender_domains_metrics->ses_waiting, delta);
    }
}


void
ngx_http_sender_domains_metric_budget(int64_t millitokens)
{
    if (ngx_http_sender_domains_metrics) {
        ngx_http_sender_domains_metrics->budget_millitokens =
            (ngx_atomic_uint_t) millitokens;
    }
}


void
ngx_http_sender_domains_metric_poll(ngx_uint_t outcome)
{
    if (ngx_http_sender_domains_metrics && outcome < SD_M_POLLS) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_sender_domains_metrics->polls[outcome], 1);
    }
}


void
ngx_http_sender_domains_metric_ownership(ngx_uint_t outcome)
{
    if (ngx_http_sender_domains_metrics && outcome < SD_M_OWN_OUTCOMES) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_sender_domains_metrics->ownership[outcome], 1);
    }
}


/* each refresher tick of the worker holding the lease */

void
ngx_http_sender_domains_metric_tick(sd_store_t *st, ngx_uint_t leader)
{
    size_t                              due;
    int64_t                             oldest;
    ngx_http_sender_domains_metrics_t  *m = ngx_http_sender_domains_metrics;

    if (m == NULL || !leader) {
        return;
    }

    m->lease_pid = (ngx_atomic_uint_t) ngx_pid;
    m->last_tick = (ngx_atomic_uint_t) ngx_time();

    if (sd_store_due_stats(st, ngx_time(),
                           NGX_HTTP_SENDER_DOMAINS_DUE_COUNT_MAX, &due,
                           &oldest)
        == SD_STORE_OK)
    {
        m->rows_due = due;
        m->oldest_due = (ngx_atomic_uint_t) oldest;
    }
}


void
ngx_http_sender_domains_metric_cycle(ngx_uint_t end)
{
    ngx_http_sender_domains_metrics_t  *m = ngx_http_sender_domains_metrics;

    if (m == NULL) {
        return;
    }

    if (!end) {
        ngx_http_sender_domains_cycle_started = ngx_current_msec;
        return;
    }

    m->last_cycle_ms = ngx_current_msec
                       - ngx_http_sender_domains_cycle_started;
    m->last_cycle_end = (ngx_atomic_uint_t) ngx_time();
    (void) ngx_atomic_fetch_add(&m->cycles, 1);
}


void
ngx_http_sender_domains_metric_store_error(sd_store_rc_e rc)
{
    ngx_http_sender_domains_metrics_t  *m = ngx_http_sender_domains_metrics;

    if (m == NULL || (rc != SD_STORE_FULL && rc != SD_STORE_ERROR)) {
        return;
    }

    (void) ngx_atomic_fetch_add(&m->store_errors[rc == SD_STORE_FULL ? 0 : 1],
                                1);
    m->store_last_error = (ngx_atomic_uint_t) ngx_time();
}


void
ngx_http_sender_domains_metric_webhook(ngx_uint_t outcome)
{
    if (ngx_http_sender_domains_metrics && outcome < SD_M_WH_OUTCOMES) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_sender_domains_metrics->webhooks[outcome], 1);
    }
}


/* ---- API requests, counted in the log phase ------------------------------ */


ngx_int_t
ngx_http_sender_domains_metrics_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt                  *h;
    ngx_http_core_main_conf_t            *cmcf;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_sender_domains_module);

    if (!smcf->metrics_used) {
        /* no location serves the metrics: nothing counted, no handler */
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_sender_domains_metrics_log;

    return NGX_OK;
}


/*
 * A resolve that answered is counted by its source alone (one add on the
 * hot path); one that failed (401, 400...) also as an API request.
 */

static ngx_int_t
ngx_http_sender_domains_metrics_log(ngx_http_request_t *r)
{
    ngx_uint_t                           status, action;
    ngx_http_sender_domains_ctx_t       *ctx;
    ngx_http_sender_domains_loc_conf_t  *slcf;
    ngx_http_sender_domains_metrics_t   *m = ngx_http_sender_domains_metrics;

    if (m == NULL) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_sender_domains_module);
    if (ctx == NULL) {
        return NGX_OK;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_sender_domains_module);
    if (!slcf->api) {
        return NGX_OK;
    }

    status = r->headers_out.status;
    action = ctx->action;

    if (status < 100 || status >= 600 || action >= SD_M_API_ENDPOINTS
        || action >= sizeof(ngx_http_sender_domains_endpoints)
                     / sizeof(ngx_http_sender_domains_endpoints[0]))
    {
        return NGX_OK;
    }

    if (action == SD_ACTION_RESOLVE && status < NGX_HTTP_BAD_REQUEST) {
        return NGX_OK;
    }

    (void) ngx_atomic_fetch_add(&m->api[action][status / 100 - 1], 1);

    return NGX_OK;
}


/* ---- the exposition ----------------------------------------------------- */


char *
ngx_http_sender_domains_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_sender_domains_main_conf_t  *smcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_sender_domains_metrics_handler;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_sender_domains_module);
    smcf->metrics_used = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_sender_domains_metrics_handler(ngx_http_request_t *r)
{
    size_t        size;
    u_char       *p;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    sd_prom_t     w;
    ngx_chain_t   out;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_sender_domains_metrics == NULL) {
        /* no sender_domains_db: nothing is counted */
        return NGX_HTTP_NOT_FOUND;
    }

    size = 16384;

    for ( ;; ) {
        p = ngx_pnalloc(r->pool, size);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        sd_prom_init(&w, (char *) p, size);
        ngx_http_sender_domains_metrics_write(&w,
                                              ngx_http_sender_domains_metrics);

        if (!w.overflow) {
            break;
        }

        size *= 2;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = sd_prom_len(&w);
    ngx_str_set(&r->headers_out.content_type, SD_PROM_CONTENT_TYPE);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = p;
    b->last = p + sd_prom_len(&w);
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


#define SD_M_READ(v)   ((int64_t) (ngx_atomic_int_t) (v))

#define SD_M_FAMILY(name, type, help)                                        \
    sd_prom_family(w, "sender_domains_" name, type, help)


/* the exposition, family by family, in the order of docs/operations.md */

static void
ngx_http_sender_domains_metrics_write(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m)
{
    ngx_http_sender_domains_metrics_write_info(w);
    ngx_http_sender_domains_metrics_write_identities(w, m);
    ngx_http_sender_domains_metrics_write_resolves(w, m);
    ngx_http_sender_domains_metrics_write_api(w, m);
    ngx_http_sender_domains_metrics_write_ses(w, m);
    ngx_http_sender_domains_metrics_write_refresher_tick(w, m);
    ngx_http_sender_domains_metrics_write_ownership(w, m);
    ngx_http_sender_domains_metrics_write_refresher_cycles(w, m);
    ngx_http_sender_domains_metrics_write_webhooks(w, m);
    ngx_http_sender_domains_metrics_write_store(w, m);
    ngx_http_sender_domains_metrics_write_cluster(w);
}


/* one sample per value of one label: name{label="values[i]"} counters[i] */

static void
ngx_http_sender_domains_metrics_write_by_label(sd_prom_t *w,
    const char *name, const char *label, const char *const *values,
    ngx_atomic_t *counters, ngx_uint_t n)
{
    ngx_uint_t   i;
    const char  *l[3];

    l[0] = label;
    l[2] = NULL;

    for (i = 0; i < n; i++) {
        l[1] = values[i];
        sd_prom_int(w, name, l, SD_M_READ(counters[i]));
    }
}


static void
ngx_http_sender_domains_metrics_write_info(sd_prom_t *w)
{
    const char  *l[3];

    SD_M_FAMILY("info", "gauge",
                "The module's version; always 1.");

    l[0] = "version";
    l[1] = SD_VERSION;
    l[2] = NULL;
    sd_prom_int(w, "sender_domains_info", l, 1);
}


static void
ngx_http_sender_domains_metrics_write_identities(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m)
{
    ngx_uint_t   k, s;
    const char  *l[5];

    SD_M_FAMILY("identities", "gauge",
                "Senders in the store by kind and state (failed: SES gave "
                "up; verified: verified for sending; pending: the rest).");

    l[0] = "kind";
    l[2] = "state";
    l[4] = NULL;

    for (k = 0; k < SD_TALLY_KINDS; k++) {
        for (s = 0; s < SD_TALLY_STATES; s++) {
            l[1] = ngx_http_sender_domains_kinds[k];
            l[3] = ngx_http_sender_domains_states[s];
            sd_prom_int(w, "sender_domains_identities", l,
                        SD_M_READ(m->identities[k][s]));
        }
    }

    SD_M_FAMILY("identities_verification_lost_total", "counter",
                "Senders that were verified for sending and stopped being "
                "so (DKIM or the address no longer verified).");
    sd_prom_int(w, "sender_domains_identities_verification_lost_total",
                NULL, SD_M_READ(m->verification_lost));
}


/* by source; the fallbacks together as source="default", then by reason */

static void
ngx_http_sender_domains_metrics_write_resolves(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m)
{
    int64_t      def;
    ngx_uint_t   i;
    const char  *l[3];

    SD_M_FAMILY("resolves_total", "counter",
                "From addresses resolved, by where the sender came from "
                "(default: the configured default sender, a fallback).");

    ngx_http_sender_domains_metrics_write_by_label(w,
        "sender_domains_resolves_total", "source",
        ngx_http_sender_domains_sources, m->resolves,
        SD_M_RES_FALLBACK_FIRST);

    def = 0;

    for (i = SD_M_RES_FALLBACK_FIRST; i < SD_M_RES_N; i++) {
        def += SD_M_READ(m->resolves[i]);
    }

    l[0] = "source";
    l[1] = "default";
    l[2] = NULL;
    sd_prom_int(w, "sender_domains_resolves_total", l, def);

    SD_M_FAMILY("resolve_fallbacks_total", "counter",
                "Resolves that fell back to the default sender, by reason.");

    ngx_http_sender_domains_metrics_write_by_label(w,
        "sender_domains_resolve_fallbacks_total", "reason",
        ngx_http_sender_domains_reasons,
        &m->resolves[SD_M_RES_FALLBACK_FIRST],
        SD_M_RES_N - SD_M_RES_FALLBACK_FIRST);
}


static void
ngx_http_sender_domains_metrics_write_api(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m)
{
    int64_t      v;
    ngx_uint_t   i, s;
    const char  *l[5];

    SD_M_FAMILY("api_requests_total", "counter",
                "API requests by endpoint and status class (resolves that "
                "answered are counted in sender_domains_resolves_total).");

    l[0] = "endpoint";
    l[2] = "code";
    l[4] = NULL;

    for (i = 0; i < sizeof(ngx_http_sender_domains_endpoints)
                    / sizeof(ngx_http_sender_domains_endpoints[0]); i++)
    {
        for (s = 0; s < SD_M_STATUS_CLASSES; s++) {
            v = SD_M_READ(m->api[i][s]);

            /* 1xx never happens; a class seen once stays */
            if (v == 0 && (s == 0 || s == 2)) {
                continue;
            }

            l[1] = ngx_http_sender_domains_endpoints[i];
            l[3] = ngx_http_sender_domains_classes[s];
            sd_prom_int(w, "sender_domains_api_requests_total", l, v);
        }
    }
}


static void
ngx_http_sender_domains_metrics_write_ses(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m)
{
    uint64_t     counts[SD_M_LATENCY_BUCKETS + 1];
    ngx_uint_t   i, s;
    const char  *l[5];

    SD_M_FAMILY("ses_calls_total", "counter",
                "Calls to the SES API by operation and outcome.");

    l[0] = "op";
    l[2] = "outcome";
    l[4] = NULL;

    for (i = 0; i < sizeof(ngx_http_sender_domains_ops)
                    / sizeof(ngx_http_sender_domains_ops[0]); i++)
    {
        for (s = 0; s < SD_M_SES_OUTCOMES; s++) {
            l[1] = ngx_http_sender_domains_ops[i];
            l[3] = ngx_http_sender_domains_outcomes[s];
            sd_prom_int(w, "sender_domains_ses_calls_total", l,
                        SD_M_READ(m->ses_calls[i][s]));
        }
    }

    SD_M_FAMILY("ses_call_duration_seconds", "histogram",
                "How long SES calls took, from sending to the answer.");

    for (i = 0; i <= SD_M_LATENCY_BUCKETS; i++) {
        counts[i] = m->ses_latency[i];
    }

    sd_prom_histogram(w, "sender_domains_ses_call_duration_seconds", NULL,
                      ngx_http_sender_domains_bounds, counts,
                      SD_M_LATENCY_BUCKETS,
                      (double) m->ses_latency_ms / 1000);

    SD_M_FAMILY("ses_budget_tokens", "gauge",
                "SES calls the shared budget (sender_domains_ses_rate) "
                "allowed at its last use.");
    sd_prom_double(w, "sender_domains_ses_budget_tokens", NULL,
                   (double) SD_M_READ(m->budget_millitokens) / 1000);

    SD_M_FAMILY("ses_calls_waiting", "gauge",
                "SES calls people wait for that wait for the budget.");
    sd_prom_int(w, "sender_domains_ses_calls_waiting", NULL,
                SD_M_READ(m->ses_waiting));
}


/* what the lease holder's last tick saw */

static void
ngx_http_sender_domains_metrics_write_refresher_tick(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m)
{
    int64_t  v;

    SD_M_FAMILY("refresher_lease_holder_pid", "gauge",
                "The pid of the worker that last held the refresher lease.");
    sd_prom_int(w, "sender_domains_refresher_lease_holder_pid", NULL,
                SD_M_READ(m->lease_pid));

    SD_M_FAMILY("refresher_last_tick_timestamp_seconds", "gauge",
                "When the lease holder last ran (Unix time); a stuck "
                "refresher stops moving it.");
    sd_prom_int(w, "sender_domains_refresher_last_tick_timestamp_seconds",
                NULL, SD_M_READ(m->last_tick));

    SD_M_FAMILY("refresher_rows_due", "gauge",
                "Senders due for a status check at the last tick (counted "
                "up to 100000).");
    sd_prom_int(w, "sender_domains_refresher_rows_due", NULL,
                SD_M_READ(m->rows_due));

    SD_M_FAMILY("refresher_oldest_due_age_seconds", "gauge",
                "How long the most overdue sender has been due, at the last "
                "tick.");
    v = SD_M_READ(m->oldest_due);
    sd_prom_int(w, "sender_domains_refresher_oldest_due_age_seconds", NULL,
                (v && SD_M_READ(m->rows_due))
                ? ngx_max(SD_M_READ(m->last_tick) - v, 0) : 0);
}


static void
ngx_http_sender_domains_metrics_write_ownership(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m)
{
    SD_M_FAMILY("ownership_checks_total", "counter",
                "DNS ownership proofs of domains already verified in Amazon "
                "SES, by outcome (proven: the TXT record was found; lost: "
                "another workspace proved first).");

    ngx_http_sender_domains_metrics_write_by_label(w,
        "sender_domains_ownership_checks_total", "result",
        ngx_http_sender_domains_ownership, m->ownership, SD_M_OWN_OUTCOMES);
}


static void
ngx_http_sender_domains_metrics_write_refresher_cycles(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m)
{
    SD_M_FAMILY("refresher_polls_total", "counter",
                "Senders the refresher checked, by outcome.");

    ngx_http_sender_domains_metrics_write_by_label(w,
        "sender_domains_refresher_polls_total", "outcome",
        ngx_http_sender_domains_polls, m->polls, SD_M_POLLS);

    SD_M_FAMILY("refresher_cycles_total", "counter",
                "Poll cycles the refresher finished.");
    sd_prom_int(w, "sender_domains_refresher_cycles_total", NULL,
                SD_M_READ(m->cycles));

    SD_M_FAMILY("refresher_last_cycle_duration_seconds", "gauge",
                "How long the last poll cycle took.");
    sd_prom_double(w, "sender_domains_refresher_last_cycle_duration_seconds",
                   NULL, (double) SD_M_READ(m->last_cycle_ms) / 1000);

    SD_M_FAMILY("refresher_last_cycle_end_timestamp_seconds", "gauge",
                "When the last poll cycle ended (Unix time).");
    sd_prom_int(w, "sender_domains_refresher_last_cycle_end_timestamp_seconds",
                NULL, SD_M_READ(m->last_cycle_end));
}


static void
ngx_http_sender_domains_metrics_write_webhooks(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m)
{
    size_t       queued;
    sd_store_t  *st;

    SD_M_FAMILY("webhooks_total", "counter",
                "Webhook deliveries by outcome: delivered (a 2xx), failed "
                "(an attempt that will be retried), dropped_full (the queue "
                "was full), expired (not delivered in 72 hours).");

    ngx_http_sender_domains_metrics_write_by_label(w,
        "sender_domains_webhooks_total", "outcome",
        ngx_http_sender_domains_wh_outcomes, m->webhooks, SD_M_WH_OUTCOMES);

    st = ngx_http_sender_domains_store();

    if (st == NULL || sd_store_events_count(st, &queued) != SD_STORE_OK) {
        queued = 0;
    }

    SD_M_FAMILY("webhook_queue_events", "gauge",
                "Webhook events waiting to be delivered, all URLs together.");
    sd_prom_int(w, "sender_domains_webhook_queue_events", NULL,
                (int64_t) queued);
}


/* the map's use (when the store answers), then the writes it refused */

static void
ngx_http_sender_domains_metrics_write_store(sd_prom_t *w,
    ngx_http_sender_domains_metrics_t *m)
{
    sd_store_t        *st;
    sd_store_usage_t   u;

    st = ngx_http_sender_domains_store();

    if (st && sd_store_usage(st, &u) == SD_STORE_OK) {
        SD_M_FAMILY("store_map_size_bytes", "gauge",
                    "The LMDB map's size (sender_domains_db size=).");
        sd_prom_int(w, "sender_domains_store_map_size_bytes", NULL,
                    (int64_t) u.map_size);

        SD_M_FAMILY("store_pages_used", "gauge",
                    "LMDB pages in use (the file's high-water mark).");
        sd_prom_int(w, "sender_domains_store_pages_used", NULL,
                    (int64_t) u.pages_used);

        SD_M_FAMILY("store_used_bytes", "gauge",
                    "Bytes of the map in use: pages used times page size.");
        sd_prom_int(w, "sender_domains_store_used_bytes", NULL,
                    (int64_t) (u.pages_used * u.page_size));
    }

    SD_M_FAMILY("store_write_errors_total", "counter",
                "API writes the store refused: full (the map is full) or "
                "failed (any other error).");

    ngx_http_sender_domains_metrics_write_by_label(w,
        "sender_domains_store_write_errors_total", "error",
        ngx_http_sender_domains_store_errors, m->store_errors,
        SD_M_STORE_ERRORS);

    SD_M_FAMILY("store_last_write_error_timestamp_seconds", "gauge",
                "When the store last refused a write (Unix time; 0: never).");
    sd_prom_int(w, "sender_domains_store_last_write_error_timestamp_seconds",
                NULL, SD_M_READ(m->store_last_error));
}


/*
 * Cluster mode only: the node's view of etcd, written by its cluster
 * worker (ngx_http_sender_domains_sync.c), and its outbox, whose length
 * says how many acknowledged-to-be writes wait for etcd.
 */

static void
ngx_http_sender_domains_metrics_write_cluster(sd_prom_t *w)
{
    size_t                                 outbox;
    sd_store_t                            *st;
    ngx_http_sender_domains_cluster_sh_t  *sh;

    sh = ngx_http_sender_domains_cluster_sh();

    if (sh == NULL) {
        return;
    }

    SD_M_FAMILY("cluster_reachable", "gauge",
                "1 while this node reaches etcd; 0: writes answer 503 "
                "cluster_unavailable, reads are stale.");
    sd_prom_int(w, "sender_domains_cluster_reachable", NULL,
                SD_M_READ(sh->reachable) ? 1 : 0);

    SD_M_FAMILY("cluster_leader", "gauge",
                "1 while this node holds the leader key and runs the "
                "cluster's refresher.");
    sd_prom_int(w, "sender_domains_cluster_leader", NULL,
                SD_M_READ(sh->leader) ? 1 : 0);

    SD_M_FAMILY("cluster_live_nodes", "gauge",
                "Nodes with a live key in etcd; each node's SES bucket "
                "fills at sender_domains_ses_rate divided by this.");
    sd_prom_int(w, "sender_domains_cluster_live_nodes", NULL,
                SD_M_READ(sh->live_nodes));

    SD_M_FAMILY("cluster_applied_revision", "gauge",
                "The etcd revision this node's store has applied.");
    sd_prom_int(w, "sender_domains_cluster_applied_revision", NULL,
                SD_M_READ(sh->revision));

    st = ngx_http_sender_domains_store();

    if (st == NULL || sd_store_outbox_count(st, &outbox) != SD_STORE_OK) {
        outbox = 0;
    }

    SD_M_FAMILY("cluster_outbox_entries", "gauge",
                "Row writes made on this node and not yet published to "
                "etcd; their answers wait for them.");
    sd_prom_int(w, "sender_domains_cluster_outbox_entries", NULL,
                (int64_t) outbox);

    SD_M_FAMILY("cluster_publish_failures_total", "counter",
                "Outbox publications etcd did not take (unreachable, an "
                "error); each is retried with backoff.");
    sd_prom_int(w, "sender_domains_cluster_publish_failures_total", NULL,
                SD_M_READ(sh->publish_failures));

    SD_M_FAMILY("cluster_webhook_events", "gauge",
                "Webhook events waiting in etcd for the leader to deliver, "
                "as the leader read them last (0 on the other nodes).");
    sd_prom_int(w, "sender_domains_cluster_webhook_events", NULL,
                SD_M_READ(sh->webhook_events));

    SD_M_FAMILY("cluster_resyncs_total", "counter",
                "Full reads of the cluster's rows: at the first start and "
                "after the watch's revision was compacted.");
    sd_prom_int(w, "sender_domains_cluster_resyncs_total", NULL,
                SD_M_READ(sh->resyncs));
}
