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
 *
 * In cluster mode (docs/cluster.md, "Webhook events: relayed through
 * etcd, sent by the leader") the lease worker of every node relays its
 * store's events into etcd (<prefix>events/, sd_relay.c) instead of
 * sending them, and the cluster's leader sends them from there, with the
 * same slots, order and retry schedule; its retries are kept in memory.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/rand.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_curl.h"
#include "ngx_http_sender_domains_webhook.h"
#include "sd_whsign.h"
#include "sd_events.h"
#include "sd_relay.h"
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

/*
 * Cluster mode: the leader's memory of the retries of events in etcd (a
 * new leader starts them afresh), and of the keys it deleted lately (a
 * page read before a deletion committed must not send them again).
 */
#define NGX_HTTP_SENDER_DOMAINS_WEBHOOK_RETRIES  256
#define NGX_HTTP_SENDER_DOMAINS_WEBHOOK_DONE     64
#define NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PAGE     64


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
    char                                id[SD_EVENTS_ID_MAX];

    /* cluster mode: the event's key in etcd (0: an event of the store),
     * its identity's tag; the slot stays taken until the key's delete
     * after delivery is answered */
    size_t                              key_len;
    u_char                              key[SD_RELAY_KEY_MAX];
    uint64_t                            ident;
} ngx_http_sender_domains_delivery_t;


/* cluster mode: an event of etcd that failed, and when to try it again */
typedef struct {
    size_t                              key_len;    /* 0: a free entry */
    u_char                              key[SD_RELAY_KEY_MAX];
    uint64_t                            ident;
    unsigned                            attempts;
    int64_t                             next;
} ngx_http_sender_domains_wh_retry_t;


/* cluster mode: one relay Txn in flight, the store's events it puts */
typedef struct {
    ngx_uint_t                          n;
    ngx_uint_t                          full;
    uint32_t                            target[SD_RELAY_BATCH];
    uint64_t                            seq[SD_RELAY_BATCH];
} ngx_http_sender_domains_wh_batch_t;


static ngx_http_sender_domains_webhooks_conf_t *
    ngx_http_sender_domains_webhooks_conf(ngx_conf_t *cf);
static void ngx_http_sender_domains_webhook_tick(ngx_event_t *ev);
static void ngx_http_sender_domains_webhook_fill(
    ngx_http_sender_domains_delivery_t *slots, sd_store_t *st);
static ngx_int_t ngx_http_sender_domains_webhook_send(
    ngx_http_sender_domains_delivery_t *d, sd_store_t *st,
    const uint64_t *skip, size_t nskip);
static ngx_int_t ngx_http_sender_domains_webhook_post(
    ngx_http_sender_domains_delivery_t *d, ngx_pool_t *pool,
    const char *body, size_t len);
static size_t ngx_http_sender_domains_webhook_room(void);
static void ngx_http_sender_domains_webhook_counted(int64_t waiting);
static void ngx_http_sender_domains_webhook_kick(void);
static void ngx_http_sender_domains_webhook_relay(sd_store_t *st);
static void ngx_http_sender_domains_webhook_relayed(
    ngx_http_sender_domains_etcd_call_t *call);
static void ngx_http_sender_domains_webhook_read(void);
static void ngx_http_sender_domains_webhook_waiting(int64_t n);
static void ngx_http_sender_domains_webhook_page(
    ngx_http_sender_domains_etcd_call_t *call);
static void ngx_http_sender_domains_webhook_delete(
    ngx_http_sender_domains_delivery_t *d);
static void ngx_http_sender_domains_webhook_deleted(
    ngx_http_sender_domains_etcd_call_t *call);
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

/* cluster mode (NULL: a single node) */
static ngx_http_sender_domains_cluster_conf_t  *ngx_http_sender_domains_wh_cc;
static ngx_pool_t                          *ngx_http_sender_domains_wh_relay;
static ngx_pool_t                          *ngx_http_sender_domains_wh_reading;
static ngx_uint_t                           ngx_http_sender_domains_wh_all;
static size_t                               ngx_http_sender_domains_wh_from_len;
static u_char                               ngx_http_sender_domains_wh_from[
                                                SD_RELAY_KEY_MAX];
static ngx_http_sender_domains_wh_retry_t  *ngx_http_sender_domains_wh_retries;
static ngx_http_sender_domains_wh_retry_t  *ngx_http_sender_domains_wh_done;
static ngx_uint_t                           ngx_http_sender_domains_wh_done_i;
/* the worker's key of its identities' tags (sd_relay_ident()) */
static u_char                               ngx_http_sender_domains_wh_tag_key[
                                                32];

/*
 * The events waiting in etcd as the last relay Txn counted them (-1: not
 * known yet), against sender_domains_webhook_queue: at the limit, a node
 * keeps its events in its own store, under that store's limit.
 */
static int64_t                              ngx_http_sender_domains_wh_waiting
                                                = -1;
static ngx_uint_t                           ngx_http_sender_domains_wh_queue;
static ngx_uint_t                           ngx_http_sender_domains_wh_held;


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

    ngx_http_sender_domains_wh_queue = wc->queue;
    ngx_http_sender_domains_wh_waiting = -1;
    ngx_http_sender_domains_wh_held = 0;

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
    ngx_http_sender_domains_wh_cc = cc;

    if (cc) {
        ngx_http_sender_domains_wh_retries = ngx_pcalloc(cycle->pool,
                        (NGX_HTTP_SENDER_DOMAINS_WEBHOOK_RETRIES
                         + NGX_HTTP_SENDER_DOMAINS_WEBHOOK_DONE)
                        * sizeof(ngx_http_sender_domains_wh_retry_t));
        if (ngx_http_sender_domains_wh_retries == NULL) {
            return;
        }

        ngx_http_sender_domains_wh_done =
                                    ngx_http_sender_domains_wh_retries
                                    + NGX_HTTP_SENDER_DOMAINS_WEBHOOK_RETRIES;

        if (RAND_bytes(ngx_http_sender_domains_wh_tag_key,
                       sizeof(ngx_http_sender_domains_wh_tag_key))
            != 1)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "sender_domains: no random bytes for the webhook "
                          "identities' tags");
            ngx_http_sender_domains_wh_retries = NULL;
            return;
        }
    }

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

    if (st && ngx_http_sender_domains_wh_leader
        && ngx_http_sender_domains_wh_cc)
    {
        /* every node relays its events into etcd; the leader sends them */
        ngx_http_sender_domains_webhook_relay(st);

        if (ngx_http_sender_domains_etcd_is_leader()) {
            ngx_http_sender_domains_webhook_read();

        } else {
            ngx_http_sender_domains_webhook_waiting(0);
        }

    } else if (st && ngx_http_sender_domains_wh_leader) {
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
    time_t                               now;
    ngx_pool_t                          *pool;
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

    (void) sd_events_id(ngx_http_sender_domains_wh_events, ev.seq, d->id,
                        sizeof(d->id));

    d->seq = ev.seq;
    d->attempts = ev.attempts;
    d->created = ev.created;
    d->key_len = 0;

    return ngx_http_sender_domains_webhook_post(d, pool, ev.body,
                                                ev.body_len);
}


/* POSTs an event (d->id) to the slot's URL; the pool is the slot's then */

static ngx_int_t
ngx_http_sender_domains_webhook_post(ngx_http_sender_domains_delivery_t *d,
    ngx_pool_t *pool, const char *text, size_t len)
{
    char                                 sig[SD_WHSIGN_SIG_LEN + 1];
    time_t                               now;
    ngx_str_t                            body;
    ngx_array_t                         *headers;
    ngx_http_sender_domains_webhook_t   *h = d->hook;

    now = ngx_time();

    headers = ngx_array_create(pool, 5, sizeof(ngx_str_t));
    if (headers == NULL
        || ngx_http_sender_domains_webhook_header(headers, pool,
               "Content-Type: application/json") != NGX_OK
        || ngx_http_sender_domains_webhook_header(headers, pool,
               "User-Agent: ngx_http_sender_domains_module/" SD_VERSION)
           != NGX_OK
        || ngx_http_sender_domains_webhook_header(headers, pool,
               "webhook-id: %s", d->id) != NGX_OK
        || ngx_http_sender_domains_webhook_header(headers, pool,
               "webhook-timestamp: %T", now) != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    if (h->has_key) {
        if (sd_whsign_sign(&h->key, d->id, ngx_strlen(d->id), (int64_t) now,
                           text, len, sig, sizeof(sig)) < 0
            || ngx_http_sender_domains_webhook_header(headers, pool,
                   "webhook-signature: %s", sig) != NGX_OK)
        {
            ngx_destroy_pool(pool);
            return NGX_ERROR;
        }
    }

    body.data = (u_char *) text;
    body.len = len;

    d->pool = pool;

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
                       "sender_domains: webhook %s to \"%V\" delivered",
                       d->id, &h->url);

        if (d->key_len) {
            ngx_http_sender_domains_webhook_delete(d);

        } else if (st) {
            (void) sd_store_event_done(st, h->target, d->seq, 1, 0);
        }

        ngx_http_sender_domains_metric_webhook(SD_M_WH_DELIVERED);

    } else {
        ngx_http_sender_domains_webhook_failed(d, call);
    }

    if (d->pool == pool) {
        d->pool = NULL;     /* else its key's delete holds the slot */
    }

    ngx_destroy_pool(pool);

    /*
     * The next event goes out now, not at the next tick: a receiver gets
     * a backlog at the speed it answers, not two events a second.
     */
    ngx_http_sender_domains_webhook_kick();
}


/* the tick runs now rather than at its time */

static void
ngx_http_sender_domains_webhook_kick(void)
{
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (ngx_http_sender_domains_wh_ev.timer_set) {
        /* else ngx_add_timer() keeps a timer due within 300 ms */
        ngx_del_timer(&ngx_http_sender_domains_wh_ev);
    }

    ngx_add_timer(&ngx_http_sender_domains_wh_ev, 1);
}


/* cluster mode: the leader's memory of an etcd event's retries */

static ngx_http_sender_domains_wh_retry_t *
ngx_http_sender_domains_webhook_retry_find(const u_char *key, size_t len)
{
    ngx_uint_t                           i;
    ngx_http_sender_domains_wh_retry_t  *r = ngx_http_sender_domains_wh_retries;

    for (i = 0; i < NGX_HTTP_SENDER_DOMAINS_WEBHOOK_RETRIES; i++) {
        if (r[i].key_len == len && ngx_memcmp(r[i].key, key, len) == 0) {
            return &r[i];
        }
    }

    return NULL;
}


static void
ngx_http_sender_domains_webhook_retry_set(
    ngx_http_sender_domains_delivery_t *d, int64_t next)
{
    ngx_uint_t                           i;
    ngx_http_sender_domains_wh_retry_t  *r, *e;

    e = ngx_http_sender_domains_webhook_retry_find(d->key, d->key_len);

    if (e == NULL) {
        /* a free entry, else the one due first (it is tried afresh) */
        r = ngx_http_sender_domains_wh_retries;
        e = &r[0];

        for (i = 0; i < NGX_HTTP_SENDER_DOMAINS_WEBHOOK_RETRIES; i++) {
            if (r[i].key_len == 0) {
                e = &r[i];
                break;
            }

            if (r[i].next < e->next) {
                e = &r[i];
            }
        }
    }

    e->key_len = d->key_len;
    ngx_memcpy(e->key, d->key, d->key_len);
    e->ident = d->ident;
    e->attempts = d->attempts + 1;
    e->next = next;
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
    time_t                                now;
    int64_t                               next;
    const char                           *why;
    sd_store_t                           *st;
    ngx_http_sender_domains_wh_retry_t   *e;
    ngx_http_sender_domains_webhook_t    *h = d->hook;

    st = ngx_http_sender_domains_store();
    now = ngx_time();

    why = call->outcome == NGX_HTTP_SENDER_DOMAINS_CURL_TIMEOUT
          ? "timeout"
          : call->outcome == NGX_HTTP_SENDER_DOMAINS_CURL_CONNECT
            ? "no connection" : "answered";

    if (!sd_events_retry(ngx_http_sender_domains_wh_retry, d->attempts + 1,
                         d->created, (int64_t) now, &next))
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "sender_domains: webhook %s to \"%V\" dropped "
                      "after %ui attempts in %T s (%s, HTTP %l)",
                      d->id, &h->url, (ngx_uint_t) d->attempts + 1,
                      (time_t) (now - d->created), why, call->status);

        if (d->key_len) {
            e = ngx_http_sender_domains_webhook_retry_find(d->key,
                                                           d->key_len);
            if (e) {
                e->key_len = 0;
            }

            ngx_http_sender_domains_webhook_delete(d);

        } else if (st) {
            (void) sd_store_event_done(st, h->target, d->seq, 1, 0);
        }

        ngx_http_sender_domains_metric_webhook(SD_M_WH_EXPIRED);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "sender_domains: webhook %s to \"%V\" failed "
                  "(%s, HTTP %l); retried in %T s", d->id, &h->url, why,
                  call->status, (time_t) (next - now));

    if (d->key_len) {
        ngx_http_sender_domains_webhook_retry_set(d, next);

    } else if (st) {
        (void) sd_store_event_done(st, h->target, d->seq, 0, next);
    }

    ngx_http_sender_domains_metric_webhook(SD_M_WH_FAILED);
}


/* ---- cluster mode: relayed through etcd, sent by the leader ------------- */


/*
 * How many events this node may relay now: sender_domains_webhook_queue
 * bounds the events waiting in etcd as it bounds a single node's queue,
 * so a receiver that is down, or a workspace that makes events fast,
 * cannot fill etcd (its quota full, every write of the cluster would
 * fail).  At the limit the events stay in this node's store, whose own
 * limit drops the writing workspace's oldest first.
 */

static size_t
ngx_http_sender_domains_webhook_room(void)
{
    int64_t  waiting = ngx_http_sender_domains_wh_waiting;

    /* not counted yet: the first Txn counts and relays nothing */
    if (waiting < 0) {
        return 0;
    }

    if ((uint64_t) waiting >= ngx_http_sender_domains_wh_queue) {
        return 0;
    }

    return ngx_min(SD_RELAY_BATCH,
                   ngx_http_sender_domains_wh_queue - (size_t) waiting);
}


/* the count a relay Txn read back (-1: none): held at the limit, or not */

static void
ngx_http_sender_domains_webhook_counted(int64_t waiting)
{
    if (waiting < 0) {
        return;
    }

    ngx_http_sender_domains_wh_waiting = waiting;

    if ((uint64_t) waiting >= ngx_http_sender_domains_wh_queue) {
        if (!ngx_http_sender_domains_wh_held) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "sender_domains: %L webhook events wait in etcd, "
                          "sender_domains_webhook_queue's %ui; this node "
                          "keeps its events in its store until the leader "
                          "delivers some", waiting,
                          ngx_http_sender_domains_wh_queue);
        }

        ngx_http_sender_domains_wh_held = 1;
        return;
    }

    if (ngx_http_sender_domains_wh_held) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "sender_domains: %L webhook events wait in etcd, "
                      "under sender_domains_webhook_queue's %ui; this node "
                      "relays its events again", waiting,
                      ngx_http_sender_domains_wh_queue);
    }

    ngx_http_sender_domains_wh_held = 0;
}


/*
 * The node's lease worker puts the events its store queued into etcd, up
 * to SD_RELAY_BATCH in one Txn (each identity's oldest per round, so an
 * identity's events keep their order), and removes them from the store
 * once etcd committed them; etcd out of reach: they stay, tried again at
 * the next tick.
 */

static void
ngx_http_sender_domains_webhook_relay(sd_store_t *st)
{
    char                                *text, *body;
    size_t                               bytes, nskip, key_len, room, queued;
    u_char                              *key;
    uint64_t                             skip[SD_RELAY_BATCH];
    ngx_uint_t                           i;
    ngx_pool_t                          *pool;
    sd_relay_put_t                      *puts;
    sd_store_event_t                     ev;
    ngx_http_sender_domains_webhook_t   *h;
    ngx_http_sender_domains_wh_batch_t  *b;

    if (ngx_http_sender_domains_wh_relay != NULL) {
        return;
    }

    pool = ngx_create_pool(16384, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    b = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_wh_batch_t));
    puts = ngx_pcalloc(pool, SD_RELAY_BATCH * sizeof(sd_relay_put_t));
    if (b == NULL || puts == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    bytes = 0;
    room = ngx_http_sender_domains_webhook_room();

    for (i = 0; i < ngx_http_sender_domains_wh_n; i++) {
        h = ngx_http_sender_domains_wh[i
                * NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL].hook;
        nskip = 0;

        while (b->n < room && nskip < SD_RELAY_BATCH
               && bytes < SD_RELAY_TXN_BYTES)
        {
            if (sd_store_event_next(st, h->target, skip, nskip,
                                    ngx_http_sender_domains_palloc, pool,
                                    &ev)
                != SD_STORE_OK)
            {
                break;
            }

            skip[nskip++] = ev.seq;

            text = sd_relay_value(h->target, ev.created, ev.body,
                                  ev.body_len);
            key = ngx_pnalloc(pool, SD_RELAY_KEY_MAX);

            key_len = key ? sd_relay_key(
                                (char *) ngx_http_sender_domains_wh_cc
                                                                ->prefix.data,
                                h->target, ev.created,
                                (char *) ngx_http_sender_domains_wh_cc
                                                                ->node.data,
                                ev.seq, (char *) key, SD_RELAY_KEY_MAX)
                          : 0;

            if (text == NULL || key_len == 0) {
                free(text);
                ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                              "sender_domains: webhook event %uL of the "
                              "store cannot be relayed to the cluster; "
                              "dropped", ev.seq);
                (void) sd_store_event_done(st, h->target, ev.seq, 1, 0);
                continue;
            }

            puts[b->n].key = (char *) key;
            puts[b->n].key_len = key_len;
            puts[b->n].value_len = ngx_strlen(text);
            puts[b->n].value = ngx_pnalloc(pool, puts[b->n].value_len);

            if (puts[b->n].value == NULL) {
                free(text);
                break;
            }

            ngx_memcpy((char *) puts[b->n].value, text, puts[b->n].value_len);
            free(text);

            b->target[b->n] = h->target;
            b->seq[b->n] = ev.seq;
            b->n++;
            bytes += key_len + puts[b->n - 1].value_len;
        }
    }

    /* etcd holds its limit: only count again, while events wait here */
    if (b->n == 0
        && (room > 0 || sd_store_events_count(st, &queued) != SD_STORE_OK
            || queued == 0))
    {
        ngx_destroy_pool(pool);
        return;
    }

    b->full = (b->n == SD_RELAY_BATCH || bytes >= SD_RELAY_TXN_BYTES);

    body = sd_relay_put_count_txn(
                (char *) ngx_http_sender_domains_wh_cc->prefix.data, puts,
                b->n);
    if (body == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    ngx_http_sender_domains_wh_relay = pool;

    if (ngx_http_sender_domains_cluster_post(pool, ngx_cycle->log,
                                             "/v3/kv/txn", body,
                                        ngx_http_sender_domains_webhook_relayed,
                                             b)
        != NGX_OK)
    {
        ngx_http_sender_domains_wh_relay = NULL;
        ngx_destroy_pool(pool);
    }
}


static void
ngx_http_sender_domains_webhook_relayed(
    ngx_http_sender_domains_etcd_call_t *call)
{
    ngx_uint_t                           i, full;
    sd_store_t                          *st;
    sd_etcd_txn_t                        txn;
    ngx_http_sender_domains_wh_batch_t  *b = call->data;

    st = ngx_http_sender_domains_store();
    ngx_memzero(&txn, sizeof(sd_etcd_txn_t));
    full = 0;

    if (ngx_http_sender_domains_etcd_ok(call)
        && sd_etcd_parse_txn((char *) call->body.data, call->body.len, &txn)
           == SD_ETCD_OK
        && txn.succeeded)
    {
        for (i = 0; st && i < b->n; i++) {
            (void) sd_store_event_done(st, b->target[i], b->seq[i], 1, 0);
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "sender_domains: %ui webhook events relayed to the "
                       "cluster", b->n);

        ngx_http_sender_domains_webhook_counted(sd_relay_count(&txn));

        full = b->full && !ngx_http_sender_domains_wh_held;

    } else {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "sender_domains: %ui webhook events not relayed to "
                      "the cluster (etcd %s, HTTP %l); kept in the store, "
                      "tried again", b->n,
                      call->outcome == NGX_HTTP_SENDER_DOMAINS_ETCD_OK
                      ? "answered" : "unavailable", call->status);
    }

    sd_etcd_txn_free(&txn);
    ngx_destroy_pool(ngx_http_sender_domains_wh_relay);
    ngx_http_sender_domains_wh_relay = NULL;

    if (full) {
        ngx_http_sender_domains_webhook_kick();
    }
}


/* the leader: a page of the events in etcd, in key order */

static void
ngx_http_sender_domains_webhook_read(void)
{
    char        *body;
    ngx_pool_t  *pool;

    if (ngx_http_sender_domains_wh_reading != NULL) {
        return;
    }

    pool = ngx_create_pool(16384, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    body = sd_relay_range_body(
                (char *) ngx_http_sender_domains_wh_cc->prefix.data,
                ngx_http_sender_domains_wh_from_len
                ? (char *) ngx_http_sender_domains_wh_from : NULL,
                ngx_http_sender_domains_wh_from_len,
                NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PAGE);
    if (body == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    ngx_http_sender_domains_wh_reading = pool;
    ngx_http_sender_domains_wh_all = (ngx_http_sender_domains_wh_from_len == 0);

    if (ngx_http_sender_domains_cluster_post(pool, ngx_cycle->log,
                                             "/v3/kv/range", body,
                                           ngx_http_sender_domains_webhook_page,
                                             NULL)
        != NGX_OK)
    {
        ngx_http_sender_domains_wh_reading = NULL;
        ngx_destroy_pool(pool);
    }
}


static ngx_uint_t
ngx_http_sender_domains_webhook_has(const uint64_t *set, ngx_uint_t n,
    uint64_t v)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (set[i] == v) {
            return 1;
        }
    }

    return 0;
}


/*
 * Whether the leader deleted the key lately, or an earlier event of the
 * identity waits for its retry (it may have been on an earlier page).
 */

static ngx_uint_t
ngx_http_sender_domains_webhook_held(const sd_relay_event_t *ev,
    uint64_t ident)
{
    size_t                               len;
    ngx_uint_t                           i;
    ngx_http_sender_domains_wh_retry_t  *r;

    r = ngx_http_sender_domains_wh_done;

    for (i = 0; i < NGX_HTTP_SENDER_DOMAINS_WEBHOOK_DONE; i++) {
        if (r[i].key_len == ev->key_len
            && ngx_memcmp(r[i].key, ev->key, ev->key_len) == 0)
        {
            return 1;
        }
    }

    r = ngx_http_sender_domains_wh_retries;

    for (i = 0; i < NGX_HTTP_SENDER_DOMAINS_WEBHOOK_RETRIES; i++) {
        if (r[i].key_len == 0 || r[i].ident != ident) {
            continue;
        }

        len = ngx_min(r[i].key_len, ev->key_len);

        if (ngx_memcmp(r[i].key, ev->key, len) < 0
            || (ngx_memcmp(r[i].key, ev->key, len) == 0
                && r[i].key_len < ev->key_len))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Each URL's free slots take the page's events in key order: an identity
 * with an event in flight, waiting for its retry, or passed over on this
 * page holds its later events back; up to four requests per URL.
 */

static ngx_uint_t
ngx_http_sender_domains_webhook_fill_page(sd_relay_event_t *evs, size_t n)
{
    size_t                               k;
    time_t                               now;
    u_char                              *copy;
    uint64_t                             ident;
    uint64_t                             blocked[
                                   NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL
                                   + NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PAGE];
    ngx_uint_t                           i, j, nb, free_slots;
    ngx_pool_t                          *pool;
    ngx_http_sender_domains_delivery_t  *slots, *d;
    ngx_http_sender_domains_wh_retry_t  *r;

    now = ngx_time();
    free_slots = 0;

    for (i = 0; i < ngx_http_sender_domains_wh_n; i++) {
        slots = &ngx_http_sender_domains_wh[i
                    * NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL];
        nb = 0;

        for (j = 0; j < NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL; j++) {
            if (slots[j].pool != NULL) {
                blocked[nb++] = slots[j].ident;
            }
        }

        for (k = 0; k < n; k++) {
            if (evs[k].json == NULL || evs[k].target != slots[0].hook->target) {
                continue;
            }

            ident = sd_relay_ident(ngx_http_sender_domains_wh_tag_key,
                                   sizeof(ngx_http_sender_domains_wh_tag_key),
                                   evs[k].ws, evs[k].identity);

            if (ngx_http_sender_domains_webhook_has(blocked, nb, ident)) {
                continue;
            }

            r = ngx_http_sender_domains_webhook_retry_find(
                                     (u_char *) evs[k].key, evs[k].key_len);

            if ((r && r->next > now)
                || (r == NULL
                    && ngx_http_sender_domains_webhook_held(&evs[k], ident)))
            {
                blocked[nb++] = ident;
                continue;
            }

            d = NULL;

            for (j = 0; j < NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL; j++) {
                if (slots[j].pool == NULL) {
                    d = &slots[j];
                    break;
                }
            }

            if (d == NULL || evs[k].key_len > SD_RELAY_KEY_MAX) {
                break;
            }

            pool = ngx_create_pool(4096, ngx_cycle->log);
            if (pool == NULL) {
                break;
            }

            d->key_len = evs[k].key_len;
            ngx_memcpy(d->key, evs[k].key, evs[k].key_len);
            d->ident = ident;
            d->seq = 0;
            d->created = evs[k].created;
            d->attempts = r ? r->attempts : 0;
            ngx_cpystrn((u_char *) d->id, (u_char *) evs[k].id,
                        sizeof(d->id));

            blocked[nb++] = ident;

            /* the body is copied: the page's pool goes before the answer */
            copy = ngx_pnalloc(pool, evs[k].body_len + 1);
            if (copy == NULL) {
                ngx_destroy_pool(pool);
                break;
            }

            ngx_memcpy(copy, evs[k].body, evs[k].body_len);

            if (ngx_http_sender_domains_webhook_post(d, pool, (char *) copy,
                                                     evs[k].body_len)
                != NGX_OK)
            {
                d->key_len = 0;
                break;
            }
        }

        for (j = 0; j < NGX_HTTP_SENDER_DOMAINS_WEBHOOK_PARALLEL; j++) {
            free_slots += (slots[j].pool == NULL);
        }
    }

    return free_slots;
}


static void
ngx_http_sender_domains_webhook_page(ngx_http_sender_domains_etcd_call_t *call)
{
    size_t             i, n;
    ngx_uint_t         free_slots;
    sd_etcd_txn_t      txn;
    sd_etcd_resp_t    *resp;
    sd_relay_event_t  *evs;

    ngx_memzero(&txn, sizeof(sd_etcd_txn_t));
    n = 0;
    evs = NULL;

    if (ngx_http_sender_domains_etcd_ok(call)
        && sd_etcd_parse_range((char *) call->body.data, call->body.len, &txn)
           == SD_ETCD_OK
        && txn.nresponses == 1)
    {
        resp = &txn.responses[0];

        /* a read from the first key counts every event waiting */
        if (ngx_http_sender_domains_wh_all) {
            ngx_http_sender_domains_webhook_waiting(resp->count);
        }

        evs = ngx_pcalloc(call->pool,
                          (resp->nkvs + 1) * sizeof(sd_relay_event_t));

        for (i = 0; evs && i < resp->nkvs; i++) {
            if (sd_relay_parse(
                    (char *) ngx_http_sender_domains_wh_cc->prefix.data,
                    &resp->kvs[i], &evs[n]) == 0)
            {
                n++;
            }
        }

        free_slots = ngx_http_sender_domains_webhook_fill_page(evs, n);

        /*
         * A full page with slots still free: the next read goes on after
         * it, so events held back on this page never starve the rest;
         * else, or at the end, from the first key again.
         */
        if (resp->more && free_slots && resp->nkvs > 0
            && resp->kvs[resp->nkvs - 1].key_len <= SD_RELAY_KEY_MAX)
        {
            ngx_http_sender_domains_wh_from_len =
                                           resp->kvs[resp->nkvs - 1].key_len;
            ngx_memcpy(ngx_http_sender_domains_wh_from,
                       resp->kvs[resp->nkvs - 1].key,
                       ngx_http_sender_domains_wh_from_len);

        } else {
            ngx_http_sender_domains_wh_from_len = 0;
        }

        for (i = 0; i < n; i++) {
            sd_relay_event_free(&evs[i]);
        }
    }

    sd_etcd_txn_free(&txn);
    ngx_destroy_pool(ngx_http_sender_domains_wh_reading);
    ngx_http_sender_domains_wh_reading = NULL;
}


/* the gauge of the events waiting in etcd (the leader's; 0 elsewhere) */

static void
ngx_http_sender_domains_webhook_waiting(int64_t n)
{
    ngx_http_sender_domains_cluster_sh_t  *sh;

    sh = ngx_http_sender_domains_cluster_sh();

    if (sh) {
        sh->webhook_events = (ngx_atomic_uint_t) (n > 0 ? n : 0);
    }
}


/* a delivered or given-up event's key goes; the slot is free then */

static void
ngx_http_sender_domains_webhook_delete(ngx_http_sender_domains_delivery_t *d)
{
    char                                *body;
    ngx_pool_t                          *pool;
    ngx_http_sender_domains_wh_retry_t  *e;

    e = ngx_http_sender_domains_webhook_retry_find(d->key, d->key_len);
    if (e) {
        e->key_len = 0;
    }

    /* a page read before the delete commits must not send it again */
    e = &ngx_http_sender_domains_wh_done[ngx_http_sender_domains_wh_done_i++
                                      % NGX_HTTP_SENDER_DOMAINS_WEBHOOK_DONE];
    e->key_len = d->key_len;
    ngx_memcpy(e->key, d->key, d->key_len);

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    body = sd_relay_delete_txn((char *) d->key, d->key_len);
    if (body == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    d->pool = pool;

    if (ngx_http_sender_domains_cluster_post(pool, ngx_cycle->log,
                                             "/v3/kv/txn", body,
                                        ngx_http_sender_domains_webhook_deleted,
                                             d)
        != NGX_OK)
    {
        d->pool = NULL;
        ngx_destroy_pool(pool);
    }
}


static void
ngx_http_sender_domains_webhook_deleted(
    ngx_http_sender_domains_etcd_call_t *call)
{
    ngx_uint_t                           i;
    ngx_http_sender_domains_wh_retry_t  *e;
    ngx_http_sender_domains_delivery_t  *d = call->data;

    if (!ngx_http_sender_domains_etcd_ok(call)) {
        /* the key stays: a later page sends it again (at least once) */
        e = ngx_http_sender_domains_wh_done;

        for (i = 0; i < NGX_HTTP_SENDER_DOMAINS_WEBHOOK_DONE; i++) {
            if (e[i].key_len == d->key_len
                && ngx_memcmp(e[i].key, d->key, d->key_len) == 0)
            {
                e[i].key_len = 0;
            }
        }

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "sender_domains: webhook %s delivered, its key not "
                      "deleted from the cluster (HTTP %l)", d->id,
                      call->status);
    }

    ngx_destroy_pool(d->pool);
    d->pool = NULL;
}
