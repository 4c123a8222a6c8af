/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: status-change webhooks (see the
 * header and docs/api.md, "Webhooks").
 *
 * Every worker tells the store how to make events (so every write queues
 * them, in its own transaction); only the worker holding the refresher
 * lease sends them: up to four requests in flight per URL, each the event
 * due first among the oldest of identities with none in flight
 * (sd_store_event_next()), so a receiver
 * sees each identity's events in order, and an event the receiver keeps
 * refusing holds back only its own identity's later events, never another
 * workspace's.  A 2xx removes the event; anything else (a timeout, a
 * refused connection, a non-2xx) retries it after 5 s, 10 s, 20 s … at
 * most 1 h apart, for up to 72 h (sender_domains_webhook_retry;
 * sd_events_retry()).  The queue is in LMDB: events survive restarts and
 * SIGKILL, and an event whose answer was lost is sent again with the same
 * webhook-id.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_curl.h"
#include "ngx_http_sender_domains_webhook.h"
#include "sd_whsign.h"
#include "sd_events.h"
#include "ngx_http_sender_domains_metrics.h"
#include "ngx_http_sender_domains_cluster.h"


#define NGX_HTTP_SENDER_DOMAINS_WEBHOOK_QUEUE    10000
#define NGX_HTTP_SENDER_DOMAINS_WEBHOOK_TICK     500      /* ms */
#define NGX_HTTP_SENDER_DOMAINS_WEBHOOK_TIMEOUT  10000    /* ms */

/*
 * Requests in flight per URL: a receiver that holds one workspace's
 * events until the timeout does not hold the others' in line behind them.
 */
#define NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL 4


typedef struct {
    ngx_str_t                   url;            /* NUL-terminated */
    uint32_t                    target;         /* crc32 of the URL */
    sd_whsign_key_t             key;
    ngx_flag_t                  has_key;
} ngx_http_sender_domains_webhook_t;


typedef struct {
    ngx_array_t                 hooks;          /* _webhook_t */
    ngx_uint_t                  queue;
    sd_events_retry_t           retry;          /* initial 0: unset */
    sd_events_conf_t            events;
} ngx_http_sender_domains_webhooks_conf_t;


/* one request slot of a URL in this worker */
typedef struct {
    ngx_http_sender_domains_webhook_t  *hook;
    ngx_pool_t                         *pool;       /* the call in flight */
    uint64_t                            seq;
    unsigned                            attempts;
    int64_t                             created;
} ngx_http_sender_domains_delivery_t;


static ngx_http_sender_domains_webhooks_conf_t *
    ngx_http_sender_domains_webhooks_conf(ngx_conf_t *cf);
static void ngx_http_sender_domains_webhook_tick(ngx_event_t *ev);
static void ngx_http_sender_domains_webhook_fill(
    ngx_http_sender_domains_delivery_t *slots, sd_store_t *st);
static ngx_int_t ngx_http_sender_domains_webhook_send(
    ngx_http_sender_domains_delivery_t *d, sd_store_t *st,
    const uint64_t *skip, size_t nskip);
static void ngx_http_sender_domains_webhook_done(
    ngx_http_sender_domains_curl_call_t *call);
static void ngx_http_sender_domains_webhook_failed(
    ngx_http_sender_domains_delivery_t *d,
    ngx_http_sender_domains_curl_call_t *call);


static ngx_event_t                          ngx_http_sender_domains_wh_ev;
static ngx_connection_t                     ngx_http_sender_domains_wh_conn;
static ngx_http_sender_domains_delivery_t  *ngx_http_sender_domains_wh;
static ngx_uint_t                           ngx_http_sender_domains_wh_n;
static ngx_uint_t                           ngx_http_sender_domains_wh_leader;
static sd_events_retry_t                   *ngx_http_sender_domains_wh_retry;
static sd_events_conf_t                    *ngx_http_sender_domains_wh_events;


/* ---- configuration -------------------------------------------------------- */


static ngx_http_sender_domains_webhooks_conf_t *
ngx_http_sender_domains_webhooks_conf(ngx_conf_t *cf)
{
    ngx_http_sender_domains_main_conf_t      *smcf;
    ngx_http_sender_domains_webhooks_conf_t  *wc;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_sender_domains_module);

    if (smcf->webhooks) {
        return smcf->webhooks;
    }

    wc = ngx_pcalloc(cf->pool, sizeof(ngx_http_sender_domains_webhooks_conf_t));
    if (wc == NULL
        || ngx_array_init(&wc->hooks, cf->pool, 2,
                          sizeof(ngx_http_sender_domains_webhook_t))
           != NGX_OK)
    {
        return NULL;
    }

    wc->queue = NGX_CONF_UNSET_UINT;
    smcf->webhooks = wc;

    return wc;
}


char *
ngx_http_sender_domains_webhook_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ssize_t                                   n;
    u_char                                    buf[512];
    ngx_str_t                                *value, path;
    ngx_uint_t                                i;
    ngx_file_t                                file;
    const char                               *err;
    ngx_http_sender_domains_webhook_t        *h;
    ngx_http_sender_domains_webhooks_conf_t  *wc;

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "http://", 7) != 0
        && ngx_strncmp(value[1].data, "https://", 8) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_webhook: \"%V\" is not an http:// "
                           "or https:// URL", &value[1]);
        return NGX_CONF_ERROR;
    }

    wc = ngx_http_sender_domains_webhooks_conf(cf);
    if (wc == NULL) {
        return NGX_CONF_ERROR;
    }

    h = wc->hooks.elts;

    for (i = 0; i < wc->hooks.nelts; i++) {
        if (h[i].url.len == value[1].len
            && ngx_strncmp(h[i].url.data, value[1].data, value[1].len) == 0)
        {
            return "is duplicate";
        }
    }

    if (wc->hooks.nelts == SD_EVENT_TARGETS_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_webhook: at most %d URLs",
                           SD_EVENT_TARGETS_MAX);
        return NGX_CONF_ERROR;
    }

    h = ngx_array_push(&wc->hooks);
    if (h == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_http_sender_domains_webhook_t));
    h->url = value[1];       /* ngx_conf args end with a NUL */
    h->target = ngx_crc32_short(value[1].data, value[1].len);

    if (cf->args->nelts < 3) {
        return NGX_CONF_OK;
    }

    /* the secret, read by the master like ssl_certificate_key */
    path = value[2];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = path;
    file.log = cf->log;

    file.fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "sender_domains_webhook: cannot open \"%V\"",
                           &path);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_file(&file, buf, sizeof(buf), 0);
    (void) ngx_close_file(file.fd);

    if (n < 0) {
        return NGX_CONF_ERROR;
    }

    if (sd_whsign_key((char *) buf, (size_t) n, &h->key, &err) != 0) {
        ngx_explicit_memzero(buf, sizeof(buf));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_webhook: \"%V\": %s", &path, err);
        return NGX_CONF_ERROR;
    }

    ngx_explicit_memzero(buf, sizeof(buf));
    h->has_key = 1;

    return NGX_CONF_OK;
}


char *
ngx_http_sender_domains_webhook_queue(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_int_t                                 n;
    ngx_str_t                                *value;
    ngx_http_sender_domains_webhooks_conf_t  *wc;

    wc = ngx_http_sender_domains_webhooks_conf(cf);
    if (wc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (wc->queue != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 1) {
        return "must be a number of events, at least 1";
    }

    wc->queue = n;

    return NGX_CONF_OK;
}


/* "sender_domains_webhook_retry initial cap give_up" */

char *
ngx_http_sender_domains_webhook_retry(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    time_t                                    t[3];
    ngx_str_t                                *value;
    ngx_uint_t                                i;
    ngx_http_sender_domains_webhooks_conf_t  *wc;

    wc = ngx_http_sender_domains_webhooks_conf(cf);
    if (wc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (wc->retry.initial) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < 3; i++) {
        t[i] = ngx_parse_time(&value[i + 1], 1);

        if (t[i] == (time_t) NGX_ERROR || t[i] < 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "sender_domains_webhook_retry: \"%V\" is not "
                               "a time of at least 1s", &value[i + 1]);
            return NGX_CONF_ERROR;
        }
    }

    if (t[1] < t[0]) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_webhook_retry: the longest wait "
                           "\"%V\" is shorter than the first \"%V\"",
                           &value[2], &value[1]);
        return NGX_CONF_ERROR;
    }

    if (t[2] < t[0]) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_webhook_retry: the give-up time "
                           "\"%V\" is shorter than the first wait \"%V\"",
                           &value[3], &value[1]);
        return NGX_CONF_ERROR;
    }

    wc->retry.initial = t[0];
    wc->retry.cap = t[1];
    wc->retry.give_up = t[2];

    return NGX_CONF_OK;
}


/* ---- the worker ------------------------------------------------------------ */


void
ngx_http_sender_domains_webhook_init_process(ngx_cycle_t *cycle,
    sd_store_t *st)
{
    uint32_t                                  targets[SD_EVENT_TARGETS_MAX];
    ngx_uint_t                                i;
    ngx_http_sender_domains_webhook_t        *h;
    ngx_http_sender_domains_main_conf_t      *smcf;
    ngx_http_sender_domains_webhooks_conf_t  *wc;
    ngx_http_sender_domains_cluster_conf_t   *cc;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_sender_domains_module);
    wc = smcf->webhooks;

    ngx_http_sender_domains_wh_n = 0;

    if (wc == NULL || wc->hooks.nelts == 0 || st == NULL) {
        return;
    }

    if (wc->queue == NGX_CONF_UNSET_UINT) {
        wc->queue = NGX_HTTP_SENDER_DOMAINS_WEBHOOK_QUEUE;
    }

    if (wc->retry.initial == 0) {
        wc->retry.initial = SD_EVENTS_RETRY_INITIAL;
        wc->retry.cap = SD_EVENTS_RETRY_CAP;
        wc->retry.give_up = SD_EVENTS_RETRY_GIVE_UP;
    }

    ngx_http_sender_domains_wh_retry = &wc->retry;

    wc->events.region = (const char *) smcf->ses_region.data;
    wc->events.now = NULL;

    /* cluster mode: ids unique in the cluster, evt_<node>_<seq> */
    cc = smcf->cluster;
    wc->events.node = cc ? (const char *) cc->node.data : NULL;
    ngx_http_sender_domains_wh_events = &wc->events;

    ngx_http_sender_domains_wh = ngx_pcalloc(cycle->pool,
                            wc->hooks.nelts
                            * NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL
                            * sizeof(ngx_http_sender_domains_delivery_t));
    if (ngx_http_sender_domains_wh == NULL) {
        return;
    }

    h = wc->hooks.elts;

    for (i = 0; i < wc->hooks.nelts; i++) {
        targets[i] = h[i].target;
    }

    for (i = 0;
         i < wc->hooks.nelts * NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL;
         i++)
    {
        ngx_http_sender_domains_wh[i].hook =
                            &h[i / NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL];
    }

    ngx_http_sender_domains_wh_n = wc->hooks.nelts;

    sd_store_set_events(st, sd_events_build, &wc->events, targets,
                        wc->hooks.nelts, wc->queue);

    ngx_memzero(&ngx_http_sender_domains_wh_conn, sizeof(ngx_connection_t));
    ngx_http_sender_domains_wh_conn.fd = (ngx_socket_t) -1;

    ngx_memzero(&ngx_http_sender_domains_wh_ev, sizeof(ngx_event_t));
    ngx_http_sender_domains_wh_ev.handler = ngx_http_sender_domains_webhook_tick;
    ngx_http_sender_domains_wh_ev.data = &ngx_http_sender_domains_wh_conn;
    ngx_http_sender_domains_wh_ev.log = cycle->log;
    ngx_http_sender_domains_wh_ev.cancelable = 1;

    ngx_add_timer(&ngx_http_sender_domains_wh_ev,
                  NGX_HTTP_SENDER_DOMAINS_WEBHOOK_TICK);
}


void
ngx_http_sender_domains_webhook_leader(ngx_uint_t leader)
{
    ngx_http_sender_domains_wh_leader = leader;
}


static void
ngx_http_sender_domains_webhook_tick(ngx_event_t *ev)
{
    ngx_uint_t   i;
    sd_store_t  *st;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    st = ngx_http_sender_domains_store();

    if (st && ngx_http_sender_domains_wh_leader) {
        for (i = 0; i < ngx_http_sender_domains_wh_n; i++) {
            ngx_http_sender_domains_webhook_fill(
                &ngx_http_sender_domains_wh[i
                    * NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL], st);
        }
    }

    ngx_add_timer(ev, NGX_HTTP_SENDER_DOMAINS_WEBHOOK_TICK);
}


/*
 * Starts a request in each free slot of a URL while events are due, each
 * the next of an identity that has none in flight (so each identity's
 * events still arrive in order).
 */

static void
ngx_http_sender_domains_webhook_fill(ngx_http_sender_domains_delivery_t *slots,
    sd_store_t *st)
{
    size_t      nskip;
    uint64_t    skip[NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL];
    ngx_uint_t  i, j;

    for (i = 0; i < NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL; i++) {
        if (slots[i].pool != NULL) {
            continue;
        }

        nskip = 0;

        for (j = 0; j < NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL; j++) {
            if (slots[j].pool != NULL) {
                skip[nskip++] = slots[j].seq;
            }
        }

        if (ngx_http_sender_domains_webhook_send(&slots[i], st, skip, nskip)
            != NGX_OK)
        {
            return;     /* nothing more is due (or no memory) */
        }
    }
}


static ngx_int_t
ngx_http_sender_domains_webhook_header(ngx_array_t *headers, ngx_pool_t *pool,
    const char *fmt, ...)
{
    u_char     *p, buf[256];
    va_list     args;
    ngx_str_t  *h;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf) - 1, fmt, args);
    va_end(args);

    h = ngx_array_push(headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->len = p - buf;
    h->data = ngx_pnalloc(pool, h->len + 1);
    if (h->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(h->data, buf, h->len);
    h->data[h->len] = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_sender_domains_webhook_send(ngx_http_sender_domains_delivery_t *d,
    sd_store_t *st, const uint64_t *skip, size_t nskip)
{
    char                                 id[SD_EVENTS_ID_MAX];
    char                                 sig[SD_WHSIGN_SIG_LEN + 1];
    time_t                               now;
    ngx_str_t                            body;
    ngx_pool_t                          *pool;
    ngx_array_t                         *headers;
    sd_store_rc_e                        rc;
    sd_store_event_t                     ev;
    ngx_http_sender_domains_webhook_t   *h = d->hook;

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = sd_store_event_next(st, h->target, skip, nskip,
                             ngx_http_sender_domains_palloc, pool, &ev);

    now = ngx_time();

    if (rc != SD_STORE_OK || ev.next_attempt > now) {
        ngx_destroy_pool(pool);
        return NGX_DECLINED;
    }

    (void) sd_events_id(ngx_http_sender_domains_wh_events, ev.seq, id,
                        sizeof(id));

    headers = ngx_array_create(pool, 5, sizeof(ngx_str_t));
    if (headers == NULL
        || ngx_http_sender_domains_webhook_header(headers, pool,
               "Content-Type: application/json") != NGX_OK
        || ngx_http_sender_domains_webhook_header(headers, pool,
               "User-Agent: ngx_http_sender_domains_module/" SD_VERSION)
           != NGX_OK
        || ngx_http_sender_domains_webhook_header(headers, pool,
               "webhook-id: %s", id) != NGX_OK
        || ngx_http_sender_domains_webhook_header(headers, pool,
               "webhook-timestamp: %T", now) != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    if (h->has_key) {
        if (sd_whsign_sign(&h->key, id, ngx_strlen(id), (int64_t) now,
                           ev.body, ev.body_len, sig, sizeof(sig)) < 0
            || ngx_http_sender_domains_webhook_header(headers, pool,
                   "webhook-signature: %s", sig) != NGX_OK)
        {
            ngx_destroy_pool(pool);
            return NGX_ERROR;
        }
    }

    body.data = (u_char *) ev.body;
    body.len = ev.body_len;

    d->pool = pool;
    d->seq = ev.seq;
    d->attempts = ev.attempts;
    d->created = ev.created;

    if (ngx_http_sender_domains_curl_start(pool, ngx_cycle->log, "POST",
            &h->url, headers, &body, NGX_HTTP_SENDER_DOMAINS_WEBHOOK_TIMEOUT,
            0, ngx_http_sender_domains_webhook_done, d)
        == NULL)
    {
        d->pool = NULL;
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_sender_domains_webhook_done(ngx_http_sender_domains_curl_call_t *call)
{
    ngx_pool_t                          *pool;
    sd_store_t                          *st;
    ngx_http_sender_domains_delivery_t  *d = call->data;
    ngx_http_sender_domains_webhook_t   *h = d->hook;

    st = ngx_http_sender_domains_store();
    pool = d->pool;

    if (call->outcome == NGX_HTTP_SENDER_DOMAINS_CURL_OK
        && call->status >= NGX_HTTP_OK
        && call->status < NGX_HTTP_SPECIAL_RESPONSE)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "sender_domains: webhook evt_%uL to \"%V\" delivered",
                       d->seq, &h->url);

        if (st) {
            (void) sd_store_event_done(st, h->target, d->seq, 1, 0);
        }

        ngx_http_sender_domains_metric_webhook(SD_M_WH_DELIVERED);

    } else {
        ngx_http_sender_domains_webhook_failed(d, call);
    }

    d->pool = NULL;
    ngx_destroy_pool(pool);

    /*
     * The next event goes out now, not at the next tick: a receiver gets
     * a backlog at the speed it answers, not two events a second.
     */
    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        if (ngx_http_sender_domains_wh_ev.timer_set) {
            /* else ngx_add_timer() keeps a timer due within 300 ms */
            ngx_del_timer(&ngx_http_sender_domains_wh_ev);
        }

        ngx_add_timer(&ngx_http_sender_domains_wh_ev, 1);
    }
}


/*
 * A failed attempt: tried again later (sd_events_retry()), or, when it was
 * made at or after the give-up time, dropped with a warn line; the next
 * event of its identity may go out then (other identities' go meanwhile).
 */

static void
ngx_http_sender_domains_webhook_failed(ngx_http_sender_domains_delivery_t *d,
    ngx_http_sender_domains_curl_call_t *call)
{
    time_t                              now;
    int64_t                             next;
    const char                         *why;
    sd_store_t                         *st;
    ngx_http_sender_domains_webhook_t  *h = d->hook;

    st = ngx_http_sender_domains_store();
    now = ngx_time();

    why = call->outcome == NGX_HTTP_SENDER_DOMAINS_CURL_TIMEOUT
          ? "timeout"
          : call->outcome == NGX_HTTP_SENDER_DOMAINS_CURL_CONNECT
            ? "no connection" : "answered";

    if (!sd_events_retry(ngx_http_sender_domains_wh_retry, d->attempts + 1, d->created,
                         (int64_t) now, &next))
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "sender_domains: webhook evt_%uL to \"%V\" dropped "
                      "after %ui attempts in %T s (%s, HTTP %l)",
                      d->seq, &h->url, (ngx_uint_t) d->attempts + 1,
                      (time_t) (now - d->created), why, call->status);

        if (st) {
            (void) sd_store_event_done(st, h->target, d->seq, 1, 0);
        }

        ngx_http_sender_domains_metric_webhook(SD_M_WH_EXPIRED);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "sender_domains: webhook evt_%uL to \"%V\" failed "
                  "(%s, HTTP %l); retried in %T s", d->seq, &h->url, why,
                  call->status, (time_t) (next - now));

    if (st) {
        (void) sd_store_event_done(st, h->target, d->seq, 0, next);
    }

    ngx_http_sender_domains_metric_webhook(SD_M_WH_FAILED);
}
