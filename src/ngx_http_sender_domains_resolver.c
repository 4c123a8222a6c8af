/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: DNS lookups with c-ares on nginx's
 * event loop.
 *
 * nginx's own resolver asks only A, AAAA, SRV and PTR; the diagnosis needs
 * CNAME, MX, TXT and SOA, and the raw answer (NXDOMAIN or not, what else
 * is at a name).  One ares_channel per worker, made on first use:
 *
 *   - c-ares' socket-state callback (ARES_OPT_SOCK_STATE_CB) wraps each of
 *     its sockets in an nginx connection whose read/write events call
 *     ares_process_fd(); the events are level-triggered, so c-ares may read
 *     one datagram per call;
 *   - ares_timeout() sets one nginx timer that calls ares_process_fd()
 *     with no socket, for c-ares' retries and timeouts;
 *   - each lookup is an ares_send() of a query made by ares_create_query()
 *     (both in Debian 12's c-ares 1.18); the answer is parsed by the pure
 *     core (sd_dnswire.c).
 *
 * A lookup's ticket is malloc()ed and freed by its c-ares callback, which
 * always comes (answer, timeout, or ARES_EDESTRUCTION at exit); a batch
 * that ends first (its deadline, or its pool destroyed when the client
 * left) only detaches from its tickets.  Batches end from a posted event,
 * never inside c-ares' own callback.
 *
 * Answers with records are cached per name and type for their TTL (at most
 * NGX_HTTP_SENDER_DOMAINS_DNS_CACHE_TTL, at most
 * NGX_HTTP_SENDER_DOMAINS_DNS_CACHE_MAX entries, least recently used out
 * first); negative answers and failures are not cached, so a record just
 * published is seen on the next check.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include <ares.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_resolver.h"


#define NGX_HTTP_SENDER_DOMAINS_DNS_MAX_SOCKETS  64
#define NGX_HTTP_SENDER_DOMAINS_DNS_CACHE_MAX    512
#define NGX_HTTP_SENDER_DOMAINS_DNS_CACHE_TTL    300
#define NGX_HTTP_SENDER_DOMAINS_DNS_CLASS_IN     1       /* RFC 1035 */


typedef struct {
    ngx_http_sender_domains_dns_batch_t  *batch;    /* NULL: detached */
    size_t                                index;
    ngx_str_t                             key;      /* cache key */
    u_char                                key_data[SD_DNSW_NAME_MAX + 8];
} ngx_http_sender_domains_dns_ticket_t;


typedef struct {
    ngx_queue_t                           queue;    /* most recent first */
    time_t                                expires;
    size_t                                key_len;
    u_char                                key[SD_DNSW_NAME_MAX + 8];
    size_t                                len;
    u_char                               *answer;
} ngx_http_sender_domains_dns_cached_t;


static ngx_int_t ngx_http_sender_domains_dns_init(ngx_log_t *log);
static ngx_http_sender_domains_dns_batch_t *
    ngx_http_sender_domains_dns_batch_create(ngx_pool_t *pool,
    ngx_log_t *log, sd_diag_query_t *q, size_t n,
    ngx_http_sender_domains_dns_done_pt handler, void *data);
static void ngx_http_sender_domains_dns_query(
    ngx_http_sender_domains_dns_batch_t *batch, size_t i);
static void ngx_http_sender_domains_dns_sock_state(void *data,
    ares_socket_t s, int readable, int writable);
static void ngx_http_sender_domains_dns_event(ngx_event_t *ev);
static void ngx_http_sender_domains_dns_timer(ngx_event_t *ev);
static void ngx_http_sender_domains_dns_schedule(void);
static void ngx_http_sender_domains_dns_answer(void *arg, int status,
    int timeouts, unsigned char *abuf, int alen);
static void ngx_http_sender_domains_dns_outcome(
    ngx_http_sender_domains_dns_batch_t *batch, size_t i,
    sd_dnsq_status_e status, const u_char *abuf, size_t alen);
static void ngx_http_sender_domains_dns_deadline(ngx_event_t *ev);
static void ngx_http_sender_domains_dns_done(ngx_event_t *ev);
static void ngx_http_sender_domains_dns_detach(
    ngx_http_sender_domains_dns_batch_t *batch);
static void ngx_http_sender_domains_dns_cleanup(void *data);
static ngx_http_sender_domains_dns_cached_t *
    ngx_http_sender_domains_dns_cache_get(u_char *key, size_t len);
static void ngx_http_sender_domains_dns_cache_put(u_char *key, size_t len,
    const u_char *abuf, size_t alen, const sd_dnsw_answer_t *a);
static void ngx_http_sender_domains_dns_cache_free(
    ngx_http_sender_domains_dns_cached_t *e);


static ares_channel        ngx_http_sender_domains_dns_channel;
static ngx_uint_t          ngx_http_sender_domains_dns_failed;
static ngx_uint_t          ngx_http_sender_domains_dns_destroying;
static ngx_uint_t          ngx_http_sender_domains_dns_pending;
static ngx_event_t         ngx_http_sender_domains_dns_timer_ev;
static ngx_connection_t    ngx_http_sender_domains_dns_dummy;
static ngx_connection_t   *ngx_http_sender_domains_dns_sockets[
                               NGX_HTTP_SENDER_DOMAINS_DNS_MAX_SOCKETS];
static ngx_queue_t         ngx_http_sender_domains_dns_cache;
static ngx_uint_t          ngx_http_sender_domains_dns_cached;
static ngx_log_t          *ngx_http_sender_domains_dns_log;


char *
ngx_http_sender_domains_dns_resolver(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    u_char      *p;
    size_t       len;
    ngx_str_t   *value;
    ngx_url_t    u;
    ngx_uint_t   i;

    if (smcf->dns_servers.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    len = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url = value[i];
        u.default_port = 53;
        u.no_resolve = 1;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0
            || u.uri.len || u.family == AF_UNIX)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid DNS server address \"%V\" in "
                               "\"%V\": give an IP address, with an "
                               "optional port (127.0.0.1:53, [::1]:53)",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        len += u.addrs[0].name.len + 1;
        value[i] = u.addrs[0].name;     /* "1.2.3.4:53", "[::1]:53" */
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->dns_servers.data = p;

    for (i = 1; i < cf->args->nelts; i++) {
        if (i > 1) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, value[i].data, value[i].len);
    }

    *p = '\0';
    smcf->dns_servers.len = p - smcf->dns_servers.data;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_sender_domains_dns_init(ngx_log_t *log)
{
    int                                   rc, optmask;
    ngx_msec_t                            timeout;
    struct ares_options                   opts;
    ngx_http_sender_domains_main_conf_t  *smcf;

    if (ngx_http_sender_domains_dns_channel) {
        return NGX_OK;
    }

    if (ngx_http_sender_domains_dns_failed) {
        return NGX_ERROR;
    }

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    timeout = smcf->dns_timeout;

    rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "sender_domains: ares_library_init() failed: %s",
                      ares_strerror(rc));
        ngx_http_sender_domains_dns_failed = 1;
        return NGX_ERROR;
    }

    /*
     * Two tries per server, the first with half the time (c-ares doubles
     * it for the second): one lost datagram does not fail the check; the
     * batch's own deadline bounds the whole at sender_domains_dns_timeout.
     */

    ngx_memzero(&opts, sizeof(struct ares_options));
    opts.sock_state_cb = ngx_http_sender_domains_dns_sock_state;
    opts.sock_state_cb_data = NULL;
    opts.timeout = (int) ngx_max(timeout / 3, 100);
    opts.tries = 2;

    /*
     * SERVFAIL and REFUSED come back as answers rather than as "could not
     * contact DNS servers": a broken zone is a finding, not an outage
     */
    opts.flags = ARES_FLAG_NOCHECKRESP;

    optmask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES
              | ARES_OPT_FLAGS;

    rc = ares_init_options(&ngx_http_sender_domains_dns_channel, &opts,
                           optmask);
    if (rc != ARES_SUCCESS) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "sender_domains: ares_init_options() failed: %s",
                      ares_strerror(rc));
        ngx_http_sender_domains_dns_channel = NULL;
        ngx_http_sender_domains_dns_failed = 1;
        ares_library_cleanup();
        return NGX_ERROR;
    }

    if (smcf->dns_servers.len) {
        rc = ares_set_servers_ports_csv(ngx_http_sender_domains_dns_channel,
                                        (char *) smcf->dns_servers.data);
        if (rc != ARES_SUCCESS) {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "sender_domains: DNS servers \"%V\" refused by "
                          "c-ares: %s", &smcf->dns_servers,
                          ares_strerror(rc));
            ares_destroy(ngx_http_sender_domains_dns_channel);
            ngx_http_sender_domains_dns_channel = NULL;
            ngx_http_sender_domains_dns_failed = 1;
            ares_library_cleanup();
            return NGX_ERROR;
        }
    }

    ngx_memzero(&ngx_http_sender_domains_dns_dummy, sizeof(ngx_connection_t));
    ngx_http_sender_domains_dns_dummy.fd = (ngx_socket_t) -1;

    ngx_memzero(&ngx_http_sender_domains_dns_timer_ev, sizeof(ngx_event_t));
    ngx_http_sender_domains_dns_timer_ev.handler =
        ngx_http_sender_domains_dns_timer;
    ngx_http_sender_domains_dns_timer_ev.data =
        &ngx_http_sender_domains_dns_dummy;
    ngx_http_sender_domains_dns_timer_ev.log = ngx_cycle->log;
    ngx_http_sender_domains_dns_timer_ev.cancelable = 1;

    ngx_queue_init(&ngx_http_sender_domains_dns_cache);
    ngx_http_sender_domains_dns_log = ngx_cycle->log;

    return NGX_OK;
}


void
ngx_http_sender_domains_dns_exit(ngx_cycle_t *cycle)
{
    ngx_queue_t                           *q;
    ngx_http_sender_domains_dns_cached_t  *e;

    if (ngx_http_sender_domains_dns_channel == NULL) {
        return;
    }

    if (ngx_http_sender_domains_dns_timer_ev.timer_set) {
        ngx_del_timer(&ngx_http_sender_domains_dns_timer_ev);
    }

    /* every ticket's callback runs now with ARES_EDESTRUCTION */
    ngx_http_sender_domains_dns_destroying = 1;
    ares_destroy(ngx_http_sender_domains_dns_channel);
    ngx_http_sender_domains_dns_channel = NULL;
    ares_library_cleanup();

    while (!ngx_queue_empty(&ngx_http_sender_domains_dns_cache)) {
        q = ngx_queue_head(&ngx_http_sender_domains_dns_cache);
        e = ngx_queue_data(q, ngx_http_sender_domains_dns_cached_t, queue);
        ngx_http_sender_domains_dns_cache_free(e);
    }
}


ngx_uint_t
ngx_http_sender_domains_dns_in_flight(void)
{
    return ngx_http_sender_domains_dns_pending;
}


ngx_http_sender_domains_dns_batch_t *
ngx_http_sender_domains_dns_start(ngx_pool_t *pool, ngx_log_t *log,
    sd_diag_query_t *q, size_t n, ngx_http_sender_domains_dns_done_pt handler,
    void *data)
{
    size_t                                i;
    ngx_http_sender_domains_dns_batch_t  *batch;
    ngx_http_sender_domains_main_conf_t  *smcf;

    if (ngx_http_sender_domains_dns_init(log) != NGX_OK) {
        return NULL;
    }

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    batch = ngx_http_sender_domains_dns_batch_create(pool, log, q, n,
                                                     handler, data);
    if (batch == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        ngx_http_sender_domains_dns_query(batch, i);
    }

    if (batch->pending == 0) {
        ngx_post_event(&batch->done, &ngx_posted_events);

    } else {
        ngx_add_timer(&batch->deadline, smcf->dns_timeout);
    }

    ngx_http_sender_domains_dns_schedule();

    return batch;
}


/* a batch in "pool", every answer an error until one comes */

static ngx_http_sender_domains_dns_batch_t *
ngx_http_sender_domains_dns_batch_create(ngx_pool_t *pool, ngx_log_t *log,
    sd_diag_query_t *q, size_t n, ngx_http_sender_domains_dns_done_pt handler,
    void *data)
{
    size_t                                i;
    ngx_pool_cleanup_t                   *cln;
    ngx_http_sender_domains_dns_batch_t  *batch;

    batch = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_dns_batch_t));
    if (batch == NULL) {
        return NULL;
    }

    batch->res = ngx_pcalloc(pool, n * sizeof(sd_diag_result_t));
    batch->tickets = ngx_pcalloc(pool, n * sizeof(void *));
    cln = ngx_pool_cleanup_add(pool, 0);

    if (batch->res == NULL || batch->tickets == NULL || cln == NULL) {
        return NULL;
    }

    batch->pool = pool;
    batch->log = log;
    batch->q = q;
    batch->n = n;
    batch->handler = handler;
    batch->data = data;

    batch->deadline.handler = ngx_http_sender_domains_dns_deadline;
    batch->deadline.data = batch;
    batch->deadline.log = log;
    batch->done.handler = ngx_http_sender_domains_dns_done;
    batch->done.data = batch;
    batch->done.log = log;

    cln->handler = ngx_http_sender_domains_dns_cleanup;
    cln->data = batch;

    for (i = 0; i < n; i++) {
        batch->res[i].status = SD_DNSQ_ERROR;
    }

    return batch;
}


/*
 * The batch's query "i": answered from the cache, or sent with a ticket
 * that ngx_http_sender_domains_dns_answer() gets back.  A query that
 * cannot be sent stays an error.
 */

static void
ngx_http_sender_domains_dns_query(ngx_http_sender_domains_dns_batch_t *batch,
    size_t i)
{
    int                                    rc, qlen;
    unsigned char                         *qbuf;
    sd_diag_query_t                       *q = &batch->q[i];
    ngx_http_sender_domains_dns_cached_t  *e;
    ngx_http_sender_domains_dns_ticket_t  *t;

    t = ngx_alloc(sizeof(ngx_http_sender_domains_dns_ticket_t), batch->log);
    if (t == NULL) {
        return;
    }

    t->batch = batch;
    t->index = i;
    t->key.data = t->key_data;
    t->key.len = ngx_sprintf(t->key_data, "%ui %s", (ngx_uint_t) q->type,
                             q->name)
                 - t->key_data;

    e = ngx_http_sender_domains_dns_cache_get(t->key.data, t->key.len);

    if (e) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, batch->log, 0,
                       "sender_domains: DNS cache hit for %s type %ui",
                       q->name, (ngx_uint_t) q->type);

        ngx_http_sender_domains_dns_outcome(batch, i, SD_DNSQ_ANSWER,
                                            e->answer, e->len);
        ngx_free(t);
        return;
    }

    rc = ares_create_query(q->name, NGX_HTTP_SENDER_DOMAINS_DNS_CLASS_IN,
                           (int) q->type, 0, 1, &qbuf, &qlen, 0);
    if (rc != ARES_SUCCESS) {
        ngx_log_error(NGX_LOG_WARN, batch->log, 0,
                      "sender_domains: cannot look up \"%s\": %s",
                      q->name, ares_strerror(rc));
        ngx_free(t);
        return;
    }

    batch->tickets[i] = t;
    batch->pending++;
    ngx_http_sender_domains_dns_pending++;

    ares_send(ngx_http_sender_domains_dns_channel, qbuf, qlen,
              ngx_http_sender_domains_dns_answer, t);
    ares_free_string(qbuf);
}


static void
ngx_http_sender_domains_dns_answer(void *arg, int status, int timeouts,
    unsigned char *abuf, int alen)
{
    ngx_http_sender_domains_dns_ticket_t  *t = arg;
    ngx_http_sender_domains_dns_batch_t   *batch;
    sd_dnsq_status_e                       st;
    sd_dnsw_answer_t                       a;

    ngx_http_sender_domains_dns_pending--;

    batch = t->batch;

    if (ngx_http_sender_domains_dns_destroying || batch == NULL) {
        ngx_free(t);
        return;
    }

    batch->tickets[t->index] = NULL;

    switch (status) {

    case ARES_SUCCESS:
        st = SD_DNSQ_ANSWER;

        /* cache what has records, for their TTL */
        if (abuf && alen > 0 && sd_dnsw_parse(abuf, alen, &a) == 0
            && a.nrr)
        {
            ngx_http_sender_domains_dns_cache_put(t->key.data, t->key.len,
                                                  abuf, alen, &a);
        }

        break;

    case ARES_ETIMEOUT:
        st = SD_DNSQ_TIMEOUT;
        break;

    case ARES_ESERVFAIL:
        /* every server said SERVFAIL: report it as the answer it was */
        st = SD_DNSQ_ANSWER;
        abuf = (unsigned char *) "\0\0\x81\x82\0\0\0\0\0\0\0\0";
        alen = 12;
        break;

    default:
        ngx_log_error(NGX_LOG_WARN, batch->log, 0,
                      "sender_domains: DNS lookup of \"%s\" failed: %s",
                      batch->q[t->index].name, ares_strerror(status));
        st = SD_DNSQ_ERROR;
    }

    ngx_http_sender_domains_dns_outcome(batch, t->index, st, abuf,
                                        alen > 0 ? (size_t) alen : 0);
    ngx_free(t);

    if (--batch->pending == 0) {
        if (batch->deadline.timer_set) {
            ngx_del_timer(&batch->deadline);
        }

        ngx_post_event(&batch->done, &ngx_posted_events);
    }
}


static void
ngx_http_sender_domains_dns_outcome(ngx_http_sender_domains_dns_batch_t *batch,
    size_t i, sd_dnsq_status_e status, const u_char *abuf, size_t alen)
{
    sd_dnsw_answer_t  *a;

    batch->res[i].status = status;
    batch->res[i].answer = NULL;

    if (status != SD_DNSQ_ANSWER) {
        return;
    }

    a = ngx_palloc(batch->pool, sizeof(sd_dnsw_answer_t));

    if (a == NULL || sd_dnsw_parse(abuf, alen, a) != 0) {
        ngx_log_error(NGX_LOG_WARN, batch->log, 0,
                      "sender_domains: unreadable DNS answer for \"%s\"",
                      batch->q[i].name);
        batch->res[i].status = SD_DNSQ_ERROR;
        return;
    }

    batch->res[i].answer = a;
}


/* the deadline passed: what is still out counts as timed out */

static void
ngx_http_sender_domains_dns_deadline(ngx_event_t *ev)
{
    size_t                                i;
    ngx_http_sender_domains_dns_batch_t  *batch = ev->data;

    for (i = 0; i < batch->n; i++) {
        if (batch->tickets[i]) {
            batch->res[i].status = SD_DNSQ_TIMEOUT;
        }
    }

    ngx_http_sender_domains_dns_detach(batch);
    ngx_http_sender_domains_dns_done(&batch->done);
}


static void
ngx_http_sender_domains_dns_done(ngx_event_t *ev)
{
    ngx_http_sender_domains_dns_done_pt   handler;
    ngx_http_sender_domains_dns_batch_t  *batch = ev->data;

    handler = batch->handler;

    if (handler == NULL) {
        return;
    }

    ngx_http_sender_domains_dns_detach(batch);
    batch->handler = NULL;
    handler(batch);
}


/* the batch forgets its lookups; c-ares' answers then only free tickets */

static void
ngx_http_sender_domains_dns_detach(ngx_http_sender_domains_dns_batch_t *batch)
{
    size_t                                 i;
    ngx_http_sender_domains_dns_ticket_t  *t;

    for (i = 0; i < batch->n; i++) {
        t = batch->tickets[i];

        if (t) {
            t->batch = NULL;
            batch->tickets[i] = NULL;
        }
    }

    batch->pending = 0;

    if (batch->deadline.timer_set) {
        ngx_del_timer(&batch->deadline);
    }

    if (batch->done.posted) {
        ngx_delete_posted_event(&batch->done);
    }
}


static void
ngx_http_sender_domains_dns_cleanup(void *data)
{
    ngx_http_sender_domains_dns_batch_t  *batch = data;

    ngx_http_sender_domains_dns_detach(batch);
    batch->handler = NULL;
}


/* ---- c-ares' sockets and timer on nginx events ------------------------- */


static void
ngx_http_sender_domains_dns_sock_state(void *data, ares_socket_t s,
    int readable, int writable)
{
    ngx_uint_t         i, free_slot;
    ngx_connection_t  *c;

    c = NULL;
    free_slot = NGX_HTTP_SENDER_DOMAINS_DNS_MAX_SOCKETS;

    for (i = 0; i < NGX_HTTP_SENDER_DOMAINS_DNS_MAX_SOCKETS; i++) {
        if (ngx_http_sender_domains_dns_sockets[i] == NULL) {
            if (free_slot == NGX_HTTP_SENDER_DOMAINS_DNS_MAX_SOCKETS) {
                free_slot = i;
            }

            continue;
        }

        if (ngx_http_sender_domains_dns_sockets[i]->fd == s) {
            c = ngx_http_sender_domains_dns_sockets[i];
            break;
        }
    }

    if (!readable && !writable) {
        /* c-ares closes the socket after this: out of epoll first */

        if (c == NULL) {
            return;
        }

        if (c->read->active) {
            ngx_del_event(c->read, NGX_READ_EVENT, 0);
        }

        if (c->write->active) {
            ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
        }

        if (c->read->posted) {
            ngx_delete_posted_event(c->read);
        }

        if (c->write->posted) {
            ngx_delete_posted_event(c->write);
        }

        ngx_http_sender_domains_dns_sockets[i] = NULL;
        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
        return;
    }

    if (c == NULL) {
        if (free_slot == NGX_HTTP_SENDER_DOMAINS_DNS_MAX_SOCKETS) {
            ngx_log_error(NGX_LOG_ALERT, ngx_http_sender_domains_dns_log, 0,
                          "sender_domains: too many DNS sockets");
            return;
        }

        c = ngx_get_connection(s, ngx_http_sender_domains_dns_log);
        if (c == NULL) {
            return;
        }

        c->read->handler = ngx_http_sender_domains_dns_event;
        c->write->handler = ngx_http_sender_domains_dns_event;
        c->read->log = c->log;
        c->write->log = c->log;
        ngx_http_sender_domains_dns_sockets[free_slot] = c;
    }

    /* level-triggered (flags 0): c-ares may leave data to read */

    if (readable) {
        if (!c->read->active) {
            ngx_add_event(c->read, NGX_READ_EVENT, 0);
        }

    } else if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (writable) {
        if (!c->write->active) {
            ngx_add_event(c->write, NGX_WRITE_EVENT, 0);
        }

    } else if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


static void
ngx_http_sender_domains_dns_event(ngx_event_t *ev)
{
    ngx_socket_t       fd;
    ngx_connection_t  *c = ev->data;

    if (ngx_http_sender_domains_dns_channel == NULL) {
        return;
    }

    fd = c->fd;

    if (ev->write) {
        ares_process_fd(ngx_http_sender_domains_dns_channel, ARES_SOCKET_BAD,
                        fd);

    } else {
        ares_process_fd(ngx_http_sender_domains_dns_channel, fd,
                        ARES_SOCKET_BAD);
    }

    ngx_http_sender_domains_dns_schedule();
}


static void
ngx_http_sender_domains_dns_timer(ngx_event_t *ev)
{
    if (ngx_http_sender_domains_dns_channel == NULL) {
        return;
    }

    ares_process_fd(ngx_http_sender_domains_dns_channel, ARES_SOCKET_BAD,
                    ARES_SOCKET_BAD);

    ngx_http_sender_domains_dns_schedule();
}


static void
ngx_http_sender_domains_dns_schedule(void)
{
    ngx_msec_t       ms;
    struct timeval   tv, *tvp;
    ngx_event_t     *ev = &ngx_http_sender_domains_dns_timer_ev;

    if (ngx_http_sender_domains_dns_channel == NULL) {
        return;
    }

    tvp = ares_timeout(ngx_http_sender_domains_dns_channel, NULL, &tv);

    if (tvp == NULL) {
        if (ev->timer_set) {
            ngx_del_timer(ev);
        }

        return;
    }

    ms = (ngx_msec_t) tvp->tv_sec * 1000 + tvp->tv_usec / 1000 + 1;

    ngx_add_timer(ev, ms);
}


/* ---- the cache ---------------------------------------------------------- */


static ngx_http_sender_domains_dns_cached_t *
ngx_http_sender_domains_dns_cache_get(u_char *key, size_t len)
{
    ngx_queue_t                           *q;
    ngx_http_sender_domains_dns_cached_t  *e;

    for (q = ngx_queue_head(&ngx_http_sender_domains_dns_cache);
         q != ngx_queue_sentinel(&ngx_http_sender_domains_dns_cache);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_http_sender_domains_dns_cached_t, queue);

        if (e->key_len != len || ngx_memcmp(e->key, key, len) != 0) {
            continue;
        }

        if (e->expires <= ngx_time()) {
            ngx_http_sender_domains_dns_cache_free(e);
            return NULL;
        }

        ngx_queue_remove(q);
        ngx_queue_insert_head(&ngx_http_sender_domains_dns_cache, q);

        return e;
    }

    return NULL;
}


static void
ngx_http_sender_domains_dns_cache_put(u_char *key, size_t len,
    const u_char *abuf, size_t alen, const sd_dnsw_answer_t *a)
{
    size_t                                 i;
    uint32_t                               ttl;
    ngx_queue_t                           *q;
    ngx_http_sender_domains_dns_cached_t  *e;

    ttl = NGX_HTTP_SENDER_DOMAINS_DNS_CACHE_TTL;

    for (i = 0; i < a->nrr; i++) {
        ttl = ngx_min(ttl, a->rr[i].ttl);
    }

    if (ttl == 0 || len > sizeof(e->key)) {
        return;
    }

    e = ngx_http_sender_domains_dns_cache_get(key, len);
    if (e) {
        ngx_http_sender_domains_dns_cache_free(e);
    }

    if (ngx_http_sender_domains_dns_cached
        >= NGX_HTTP_SENDER_DOMAINS_DNS_CACHE_MAX)
    {
        q = ngx_queue_last(&ngx_http_sender_domains_dns_cache);
        e = ngx_queue_data(q, ngx_http_sender_domains_dns_cached_t, queue);
        ngx_http_sender_domains_dns_cache_free(e);
    }

    e = ngx_alloc(sizeof(ngx_http_sender_domains_dns_cached_t),
                  ngx_http_sender_domains_dns_log);
    if (e == NULL) {
        return;
    }

    e->answer = ngx_alloc(alen, ngx_http_sender_domains_dns_log);
    if (e->answer == NULL) {
        ngx_free(e);
        return;
    }

    ngx_memcpy(e->answer, abuf, alen);
    e->len = alen;
    ngx_memcpy(e->key, key, len);
    e->key_len = len;
    e->expires = ngx_time() + ttl;

    ngx_queue_insert_head(&ngx_http_sender_domains_dns_cache, &e->queue);
    ngx_http_sender_domains_dns_cached++;
}


static void
ngx_http_sender_domains_dns_cache_free(ngx_http_sender_domains_dns_cached_t *e)
{
    ngx_queue_remove(&e->queue);
    ngx_free(e->answer);
    ngx_free(e);
    ngx_http_sender_domains_dns_cached--;
}
