/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the etcd client of cluster mode (issue
 * 18, docs/cluster.md).
 *
 * Three pieces, all on the libcurl multi client and nginx timers, per
 * worker, with no knowledge of rows:
 *
 *   a call      POST a JSON body to /v3/…; a connect error, a timeout or a
 *               5xx tries the next endpoint, each at most once; the
 *               endpoint that answered is tried first by the next call.
 *   the watch   one streaming POST /v3/watch whose answer (one JSON
 *               message a line, unbounded) is cut at newlines; a line may
 *               span chunks.  It ends (on_end, from a posted event) when
 *               the stream stops, and when a call to its endpoint fails,
 *               so a member that stopped answering is left at once.
 *   the lease   the cluster worker's lease (grant, keep-alive every
 *               ttl/3), the node key <prefix>nodes/<node>, the leader key
 *               <prefix>leader (taken when absent), the live node count;
 *               revoked when the worker exits.
 *
 * Memory: a call lives in the caller's pool; a watch and each call of the
 * lease loop in a pool of their own, destroyed from a posted event or
 * after their handler, never while libcurl may still hold the call.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_sender_domains_etcd.h"
#include "sd_etcd.h"


/* the lease loop after a failure */
#define NGX_HTTP_SENDER_DOMAINS_ETCD_RETRY        1000
/* the revoke at exit: per endpoint, and endpoints tried */
#define NGX_HTTP_SENDER_DOMAINS_ETCD_REVOKE       500
#define NGX_HTTP_SENDER_DOMAINS_ETCD_REVOKE_TRIES 2
/* an answer of etcd (a range page) may exceed the SES client's limit */
#define NGX_HTTP_SENDER_DOMAINS_ETCD_MAX_BODY     (64 * 1024 * 1024)


struct ngx_http_sender_domains_etcd_watch_s {
    ngx_pool_t                                *pool;
    ngx_log_t                                 *log;
    ngx_http_sender_domains_etcd_conf_t       *conf;
    ngx_uint_t                                 endpoint;
    ngx_http_sender_domains_curl_call_t       *curl;

    /* the stream's bytes not yet cut into lines (ngx_alloc) */
    u_char                                    *buf;
    size_t                                     len;
    size_t                                     cap;

    ngx_http_sender_domains_etcd_line_pt       on_line;
    ngx_http_sender_domains_etcd_end_pt        on_end;
    void                                      *data;

    ngx_http_sender_domains_etcd_watch_end_e   reason;
    ngx_event_t                                end_ev;   /* posted */
    ngx_queue_t                                queue;

    unsigned                                   in_data:1;
    unsigned                                   stopped:1;
    unsigned                                   ended:1;
    unsigned                                   lines:1;
    unsigned                                   too_long:1;
};


typedef enum {
    NGX_HTTP_SENDER_DOMAINS_ETCD_GRANT = 0,
    NGX_HTTP_SENDER_DOMAINS_ETCD_KEEPALIVE,
    NGX_HTTP_SENDER_DOMAINS_ETCD_LEADER,
    NGX_HTTP_SENDER_DOMAINS_ETCD_REVOKE_STEP
} ngx_http_sender_domains_etcd_step_e;


typedef struct {
    ngx_http_sender_domains_etcd_conf_t   *conf;
    ngx_log_t                             *log;
    char                                   prefix[SD_ETCD_PREFIX_MAX + 1];
    char                                   node[SD_ETCD_NODE_MAX + 1];
    size_t                                 node_len;
    time_t                                 ttl;

    int64_t                                lease;
    ngx_msec_t                             renewed;  /* when the last good
                                                        renewal was sent */
    ngx_msec_t                             sent;
    ngx_uint_t                             nodes;
    u_char                                 holder[SD_ETCD_NODE_MAX + 1];
    size_t                                 holder_len;

    ngx_pool_t                            *pool;     /* the call in flight */
    ngx_http_sender_domains_etcd_step_e    step;
    ngx_event_t                            timer;

    unsigned                               running:1;
    unsigned                               leader:1;
    unsigned                               put_node:1;
    unsigned                               leaving:1;
} ngx_http_sender_domains_etcd_lease_t;


static ngx_http_sender_domains_etcd_call_t *ngx_http_sender_domains_etcd_post(
    ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, const char *path,
    ngx_str_t *body, ngx_msec_t timeout,
    ngx_http_sender_domains_etcd_handler_pt handler, void *data);
static ngx_int_t ngx_http_sender_domains_etcd_try(
    ngx_http_sender_domains_etcd_call_t *ec);
static void ngx_http_sender_domains_etcd_done(
    ngx_http_sender_domains_curl_call_t *call);
static ngx_int_t ngx_http_sender_domains_etcd_url(ngx_pool_t *pool,
    ngx_http_sender_domains_etcd_conf_t *conf, ngx_uint_t i,
    const char *path, ngx_str_t *url);
static ngx_array_t *ngx_http_sender_domains_etcd_headers(ngx_pool_t *pool);
static void ngx_http_sender_domains_etcd_failed(ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, ngx_uint_t endpoint);
static void ngx_http_sender_domains_etcd_unreachable(ngx_log_t *log,
    ngx_http_sender_domains_etcd_call_t *ec);
static void ngx_http_sender_domains_etcd_reached(ngx_log_t *log);
static ngx_uint_t ngx_http_sender_domains_etcd_tls_failed(
    ngx_http_sender_domains_curl_call_t *call, ngx_str_t *endpoint);
static const char *ngx_http_sender_domains_etcd_tls_why(
    ngx_http_sender_domains_curl_call_t *call);
static void ngx_http_sender_domains_etcd_tls_error(ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, ngx_uint_t endpoint,
    const char *what, ngx_http_sender_domains_curl_call_t *call);

static ngx_int_t ngx_http_sender_domains_etcd_watch_data(
    ngx_http_sender_domains_curl_call_t *call, u_char *p, size_t n);
static void ngx_http_sender_domains_etcd_watch_done(
    ngx_http_sender_domains_curl_call_t *call);
static void ngx_http_sender_domains_etcd_watch_end(
    ngx_http_sender_domains_etcd_watch_t *w,
    ngx_http_sender_domains_etcd_watch_end_e reason);
static void ngx_http_sender_domains_etcd_watch_free(ngx_event_t *ev);
static void ngx_http_sender_domains_etcd_watch_cleanup(void *data);

static void ngx_http_sender_domains_etcd_lease_tick(ngx_event_t *ev);
static void ngx_http_sender_domains_etcd_lease_send(
    ngx_http_sender_domains_etcd_step_e step);
static void ngx_http_sender_domains_etcd_lease_done(
    ngx_http_sender_domains_etcd_call_t *ec);
static ngx_int_t ngx_http_sender_domains_etcd_lease_leader(
    ngx_http_sender_domains_etcd_call_t *ec);
static void ngx_http_sender_domains_etcd_lease_lost(const char *why);
static void ngx_http_sender_domains_etcd_lease_stale(void);
static void ngx_http_sender_domains_etcd_lease_arm(ngx_msec_t ms);
static void ngx_http_sender_domains_etcd_revoke(void);
static void ngx_http_sender_domains_etcd_revoke_async(void);
static ngx_http_sender_domains_etcd_call_t *ngx_http_sender_domains_etcd_own(
    char *s, const char *path, ngx_msec_t timeout,
    ngx_http_sender_domains_etcd_handler_pt handler, void *data);
static void ngx_http_sender_domains_etcd_revoked(
    ngx_http_sender_domains_etcd_call_t *ec);
static size_t ngx_http_sender_domains_etcd_discard(char *ptr, size_t size,
    size_t nmemb, void *userdata);


static const char  *ngx_http_sender_domains_etcd_steps[] = {
    "lease grant", "lease keepalive", "leader Txn", "lease revoke"
};

/* the endpoint that answered last: the first one the next call tries */
static ngx_uint_t                             ngx_http_sender_domains_etcd_cur;
static ngx_msec_t                             ngx_http_sender_domains_etcd_ok_at;
static ngx_uint_t                             ngx_http_sender_domains_etcd_ok_once;
static ngx_uint_t                             ngx_http_sender_domains_etcd_failing;
/* endpoints (bit i % 64) whose TLS failure was said at error level */
static uint64_t                               ngx_http_sender_domains_etcd_tls_said;

static ngx_queue_t                            ngx_http_sender_domains_etcd_watches;
static ngx_uint_t                             ngx_http_sender_domains_etcd_wq_init;

static ngx_http_sender_domains_etcd_lease_t   ngx_http_sender_domains_etcd_l;

/* timers' data: nginx's debug log reads an fd from it */
static ngx_connection_t                       ngx_http_sender_domains_etcd_conn;


/* ---- one call ---- */

ngx_http_sender_domains_etcd_call_t *
ngx_http_sender_domains_etcd_call(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, const char *path,
    ngx_str_t *body, ngx_http_sender_domains_etcd_handler_pt handler,
    void *data)
{
    return ngx_http_sender_domains_etcd_post(pool, log, conf, path, body,
                                             conf->timeout, handler, data);
}


static ngx_http_sender_domains_etcd_call_t *
ngx_http_sender_domains_etcd_post(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, const char *path,
    ngx_str_t *body, ngx_msec_t timeout,
    ngx_http_sender_domains_etcd_handler_pt handler, void *data)
{
    ngx_http_sender_domains_etcd_call_t  *ec;

    if (conf == NULL || conf->endpoints == NULL
        || conf->endpoints->nelts == 0)
    {
        return NULL;
    }

    ec = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_etcd_call_t));
    if (ec == NULL) {
        return NULL;
    }

    ec->request.data = ngx_pnalloc(pool, body->len + 1);
    if (ec->request.data == NULL) {
        return NULL;
    }

    ngx_memcpy(ec->request.data, body->data, body->len);
    ec->request.data[body->len] = '\0';
    ec->request.len = body->len;

    ec->pool = pool;
    ec->log = log;
    ec->conf = conf;
    ec->path = path;
    ec->timeout = timeout;
    ec->handler = handler;
    ec->data = data;
    ec->first = ngx_http_sender_domains_etcd_cur % conf->endpoints->nelts;
    ec->endpoint = ec->first;

    if (ngx_http_sender_domains_etcd_try(ec) != NGX_OK) {
        return NULL;
    }

    return ec;
}


/* one endpoint: ec->endpoint */

static ngx_int_t
ngx_http_sender_domains_etcd_try(ngx_http_sender_domains_etcd_call_t *ec)
{
    ngx_str_t     url;
    ngx_array_t  *headers;

    if (ngx_http_sender_domains_etcd_url(ec->pool, ec->conf, ec->endpoint,
                                         ec->path, &url)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    headers = ngx_http_sender_domains_etcd_headers(ec->pool);
    if (headers == NULL) {
        return NGX_ERROR;
    }

    ec->curl = ngx_http_sender_domains_curl_start(ec->pool, ec->log, "POST",
                   &url, headers, &ec->request, ec->timeout, 0,
                   ngx_http_sender_domains_etcd_done, ec);
    if (ec->curl == NULL) {
        return NGX_ERROR;
    }

    /* read by curl's log lines, its write callback and its connection:
     * none ran yet, the handle is driven from the event loop only */
    ec->curl->peer = "etcd";
    ec->curl->max_body = NGX_HTTP_SENDER_DOMAINS_ETCD_MAX_BODY;
    ngx_http_sender_domains_etcd_tls(ec->curl->easy, ec->conf);

    ec->tries++;
    ec->started = ngx_current_msec;

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, ec->log, 0,
                   "sender_domains etcd call %p: POST %V, %uz bytes, "
                   "try %ui, timeout %M", ec, &url, ec->request.len,
                   ec->tries, ec->timeout);

    return NGX_OK;
}


static void
ngx_http_sender_domains_etcd_done(ngx_http_sender_domains_curl_call_t *call)
{
    ngx_http_sender_domains_etcd_call_t  *ec = call->data;

    u_char      why[NGX_MAX_ERROR_STR], *p;
    ngx_str_t  *ep;
    ngx_uint_t  n, failed, tls;

    ec->curl = NULL;
    ec->status = call->status;
    ec->body = call->body;
    n = ec->conf->endpoints->nelts;
    ep = ec->conf->endpoints->elts;
    failed = 1;
    tls = 0;
    p = why;

    switch (call->outcome) {

    case NGX_HTTP_SENDER_DOMAINS_CURL_OK:
        if (call->status >= 500 || call->status < 100) {
            p = ngx_snprintf(why, sizeof(why) - 1, "HTTP %l: %*s",
                             call->status,
                             ngx_min(call->body.len, (size_t) 200),
                             call->body.data);
        } else {
            failed = 0;
        }
        break;

    case NGX_HTTP_SENDER_DOMAINS_CURL_TIMEOUT:
        p = ngx_snprintf(why, sizeof(why) - 1, "timed out (%M ms)",
                         ec->timeout);
        break;

    case NGX_HTTP_SENDER_DOMAINS_CURL_TOO_LARGE:
        /* another endpoint would send the same: no retry */
        ngx_log_error(NGX_LOG_ERR, ec->log, 0,
                      "sender_domains: etcd %s on %V: the answer exceeds "
                      "%uz bytes", ec->path, &ep[ec->endpoint],
                      (size_t) NGX_HTTP_SENDER_DOMAINS_ETCD_MAX_BODY);
        ec->outcome = NGX_HTTP_SENDER_DOMAINS_ETCD_UNAVAILABLE;
        ec->status = 0;
        ngx_str_set(&ec->body, "");
        ec->handler(ec);
        return;

    default:
        tls = ngx_http_sender_domains_etcd_tls_failed(call,
                                                      &ep[ec->endpoint]);
        p = ngx_snprintf(why, sizeof(why) - 1, "%s failed: %s",
                         tls ? "TLS" : "connection",
                         tls ? ngx_http_sender_domains_etcd_tls_why(call)
                             : call->curl_error[0] ? call->curl_error
                                                   : "(no detail)");
    }

    *p = '\0';

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, ec->log, 0,
                   "sender_domains etcd call %p: %s on %V: HTTP %l, "
                   "%uz bytes, %M ms", ec, ec->path, &ep[ec->endpoint],
                   call->status, call->body.len,
                   ngx_current_msec - ec->started);

    if (!failed) {
        ngx_http_sender_domains_etcd_tls_said &= ~((uint64_t) 1
                                                   << (ec->endpoint % 64));
        ngx_http_sender_domains_etcd_cur = ec->endpoint;
        ngx_http_sender_domains_etcd_reached(ec->log);
        ec->outcome = NGX_HTTP_SENDER_DOMAINS_ETCD_OK;
        ec->handler(ec);
        return;
    }

    if (tls) {
        ngx_http_sender_domains_etcd_tls_error(ec->log, ec->conf,
                                               ec->endpoint, ec->path,
                                               call);
    }

    ngx_http_sender_domains_etcd_failed(ec->log, ec->conf, ec->endpoint);

    if (ec->tries < n) {
        ngx_log_error(NGX_LOG_INFO, ec->log, 0,
                      "sender_domains: etcd %s on %V failed: %s; trying %V",
                      ec->path, &ep[ec->endpoint], why,
                      &ep[(ec->endpoint + 1) % n]);

        ec->endpoint = (ec->endpoint + 1) % n;

        if (ngx_http_sender_domains_etcd_try(ec) == NGX_OK) {
            return;
        }

    } else {
        ngx_log_error(NGX_LOG_INFO, ec->log, 0,
                      "sender_domains: etcd %s on %V failed: %s",
                      ec->path, &ep[ec->endpoint], why);
    }

    ec->outcome = NGX_HTTP_SENDER_DOMAINS_ETCD_UNAVAILABLE;
    ngx_http_sender_domains_etcd_unreachable(ec->log, ec);
    ec->handler(ec);
}


static ngx_int_t
ngx_http_sender_domains_etcd_url(ngx_pool_t *pool,
    ngx_http_sender_domains_etcd_conf_t *conf, ngx_uint_t i,
    const char *path, ngx_str_t *url)
{
    size_t      len, plen;
    ngx_str_t  *ep;

    ep = conf->endpoints->elts;
    len = ep[i].len;

    while (len && ep[i].data[len - 1] == '/') {
        len--;
    }

    plen = ngx_strlen(path);

    url->data = ngx_pnalloc(pool, len + plen + 1);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(url->data, ep[i].data, len);
    ngx_memcpy(url->data + len, path, plen + 1);
    url->len = len + plen;

    return NGX_OK;
}


static ngx_array_t *
ngx_http_sender_domains_etcd_headers(ngx_pool_t *pool)
{
    ngx_str_t    *h;
    ngx_array_t  *a;

    a = ngx_array_create(pool, 1, sizeof(ngx_str_t));
    if (a == NULL) {
        return NULL;
    }

    h = ngx_array_push(a);
    if (h == NULL) {
        return NULL;
    }

    /* NUL-terminated: curl takes the lines as C strings */
    ngx_str_set(h, "Content-Type: application/json");

    return a;
}


/*
 * An endpoint failed: the next call starts with the one after it, and a
 * watch on it ends (a member that stopped answering, or lost its quorum,
 * would leave the watch silent, not closed).
 */

static void
ngx_http_sender_domains_etcd_failed(ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, ngx_uint_t endpoint)
{
    ngx_queue_t                           *q, *next;
    ngx_http_sender_domains_etcd_watch_t  *w;

    if (ngx_http_sender_domains_etcd_cur % conf->endpoints->nelts
        == endpoint)
    {
        ngx_http_sender_domains_etcd_cur = (endpoint + 1)
                                           % conf->endpoints->nelts;
    }

    if (!ngx_http_sender_domains_etcd_wq_init) {
        return;
    }

    for (q = ngx_queue_head(&ngx_http_sender_domains_etcd_watches);
         q != ngx_queue_sentinel(&ngx_http_sender_domains_etcd_watches);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_http_sender_domains_etcd_watch_t, queue);

        if (w->endpoint == endpoint && w->conf == conf) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "sender_domains: etcd watch on endpoint %ui "
                          "ended: a call to it failed", endpoint);

            ngx_http_sender_domains_etcd_watch_end(w,
                                   NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_ENDPOINT);
        }
    }
}


/* every endpoint failed: warn once, until a call succeeds again */

static void
ngx_http_sender_domains_etcd_unreachable(ngx_log_t *log,
    ngx_http_sender_domains_etcd_call_t *ec)
{
    if (ngx_http_sender_domains_etcd_failing) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "sender_domains etcd: still unreachable (%s)",
                       ec->path);
        return;
    }

    ngx_http_sender_domains_etcd_failing = 1;

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "sender_domains: the etcd cluster is unreachable: %s "
                  "failed on each of its %ui endpoints", ec->path,
                  ec->tries);
}


static void
ngx_http_sender_domains_etcd_reached(ngx_log_t *log)
{
    if (ngx_http_sender_domains_etcd_failing) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "sender_domains: the etcd cluster is reachable again");
        ngx_http_sender_domains_etcd_failing = 0;
    }

    ngx_http_sender_domains_etcd_ok_at = ngx_current_msec;
    ngx_http_sender_domains_etcd_ok_once = 1;
}


ngx_uint_t
ngx_http_sender_domains_etcd_reachable(ngx_msec_t within)
{
    return ngx_http_sender_domains_etcd_ok_once
           && !ngx_http_sender_domains_etcd_failing
           && ngx_current_msec - ngx_http_sender_domains_etcd_ok_at <= within;
}


/* ---- TLS ---- */

void
ngx_http_sender_domains_etcd_tls(CURL *e,
    ngx_http_sender_domains_etcd_conf_t *conf)
{
    struct curl_blob  blob;

    blob.flags = CURL_BLOB_NOCOPY;

    if (conf->ssl_trusted_certificate.pem.len) {
        /* these CAs only: neither the system's bundle nor its directory */
        blob.data = conf->ssl_trusted_certificate.pem.data;
        blob.len = conf->ssl_trusted_certificate.pem.len;
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    }

    if (conf->ssl_certificate.pem.len) {
        blob.data = conf->ssl_certificate.pem.data;
        blob.len = conf->ssl_certificate.pem.len;
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);

        blob.data = conf->ssl_certificate_key.pem.data;
        blob.len = conf->ssl_certificate_key.pem.len;
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
    }
}


/*
 * A failure of TLS (the handshake, a certificate either side refused)
 * rather than of the network: a configuration to fix, not an outage.
 */

static ngx_uint_t
ngx_http_sender_domains_etcd_tls_failed(
    ngx_http_sender_domains_curl_call_t *call, ngx_str_t *endpoint)
{
    if (endpoint->len < 8
        || ngx_strncmp(endpoint->data, "https://", 8) != 0)
    {
        return 0;
    }

    switch (call->result) {

    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CLIENTCERT:
        return 1;

    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        /*
         * With TLS 1.3 the server checks the client's certificate after
         * the client's side of the handshake is over: its refusal comes
         * as an alert on the first read ("alert bad certificate"), or, if
         * its reset came first, as a socket that is no longer connected
         * when libcurl asks for the peer's address.
         */
        return ngx_strstrn((u_char *) call->curl_error, "SSL", 3 - 1)
                   != NULL
               || ngx_strstrn((u_char *) call->curl_error, "getpeername",
                              11 - 1)
                   != NULL;

    default:
        return 0;
    }
}


/* libcurl's words, or ours when it only saw the reset after the handshake */

static const char *
ngx_http_sender_domains_etcd_tls_why(ngx_http_sender_domains_curl_call_t *call)
{
    if (call->curl_error[0] == '\0') {
        return curl_easy_strerror(call->result);
    }

    if (ngx_strstrn((u_char *) call->curl_error, "getpeername", 11 - 1)) {
        return "etcd closed the connection right after the handshake (did "
               "it refuse the client certificate?)";
    }

    return call->curl_error;
}


/*
 * Said at error level once for the endpoint, until a call to it succeeds
 * (each call's own line stays at info): what failed and the files in use,
 * never a byte of them.
 */

static void
ngx_http_sender_domains_etcd_tls_error(ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, ngx_uint_t endpoint,
    const char *what, ngx_http_sender_domains_curl_call_t *call)
{
    u_char      ca[NGX_MAX_PATH + 16], cert[NGX_MAX_PATH + 16], *p;
    uint64_t    bit;
    ngx_str_t  *ep;

    bit = (uint64_t) 1 << (endpoint % 64);

    if (ngx_http_sender_domains_etcd_tls_said & bit) {
        return;
    }

    ngx_http_sender_domains_etcd_tls_said |= bit;
    ep = conf->endpoints->elts;

    if (conf->ssl_trusted_certificate.pem.len) {
        p = ngx_snprintf(ca, sizeof(ca) - 1, "\"%V\"",
                         &conf->ssl_trusted_certificate.path);
    } else {
        p = ngx_cpymem(ca, "the system's", sizeof("the system's") - 1);
    }

    *p = '\0';

    if (conf->ssl_certificate.pem.len) {
        p = ngx_snprintf(cert, sizeof(cert) - 1, "\"%V\"",
                         &conf->ssl_certificate.path);
    } else {
        p = ngx_cpymem(cert, "none", sizeof("none") - 1);
    }

    *p = '\0';

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "sender_domains: etcd %s on %V: TLS failed: %s "
                  "(trusted CAs: %s, "
                  "client certificate: %s); check "
                  "sender_domains_cluster_ssl_trusted_certificate and "
                  "sender_domains_cluster_ssl_certificate against etcd's "
                  "--trusted-ca-file, --cert-file and --client-cert-auth",
                  what, &ep[endpoint],
                  ngx_http_sender_domains_etcd_tls_why(call), ca, cert);
}


/* ---- the watch ---- */

ngx_http_sender_domains_etcd_watch_t *
ngx_http_sender_domains_etcd_watch_start(ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, const char *prefix,
    int64_t from_rev, ngx_http_sender_domains_etcd_line_pt on_line,
    ngx_http_sender_domains_etcd_end_pt on_end, void *data)
{
    char                                  *s;
    ngx_str_t                              url, body;
    ngx_pool_t                            *pool;
    ngx_array_t                           *headers;
    ngx_pool_cleanup_t                    *cln;
    ngx_http_sender_domains_etcd_watch_t  *w;

    if (conf == NULL || conf->endpoints == NULL
        || conf->endpoints->nelts == 0)
    {
        return NULL;
    }

    if (!ngx_http_sender_domains_etcd_wq_init) {
        ngx_queue_init(&ngx_http_sender_domains_etcd_watches);
        ngx_http_sender_domains_etcd_wq_init = 1;
    }

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return NULL;
    }

    w = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_etcd_watch_t));
    cln = ngx_pool_cleanup_add(pool, 0);

    if (w == NULL || cln == NULL) {
        goto failed;
    }

    cln->handler = ngx_http_sender_domains_etcd_watch_cleanup;
    cln->data = w;

    w->pool = pool;
    w->log = log;
    w->conf = conf;
    w->on_line = on_line;
    w->on_end = on_end;
    w->data = data;
    w->endpoint = ngx_http_sender_domains_etcd_cur % conf->endpoints->nelts;
    w->end_ev.handler = ngx_http_sender_domains_etcd_watch_free;
    w->end_ev.data = w;
    w->end_ev.log = log;

    s = sd_etcd_watch_body(prefix, from_rev);
    if (s == NULL) {
        goto failed;
    }

    body.len = ngx_strlen(s);
    body.data = ngx_pnalloc(pool, body.len + 1);

    if (body.data == NULL) {
        free(s);
        goto failed;
    }

    ngx_memcpy(body.data, s, body.len + 1);
    free(s);

    headers = ngx_http_sender_domains_etcd_headers(pool);

    if (headers == NULL
        || ngx_http_sender_domains_etcd_url(pool, conf, w->endpoint,
                                            "/v3/watch", &url)
           != NGX_OK)
    {
        goto failed;
    }

    w->curl = ngx_http_sender_domains_curl_stream(pool, log, "POST", &url,
                  headers, &body, conf->timeout,
                  NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_IDLE,
                  ngx_http_sender_domains_etcd_watch_data,
                  ngx_http_sender_domains_etcd_watch_done, w);
    if (w->curl == NULL) {
        goto failed;
    }

    w->curl->peer = "etcd";
    ngx_http_sender_domains_etcd_tls(w->curl->easy, conf);

    ngx_queue_insert_tail(&ngx_http_sender_domains_etcd_watches, &w->queue);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, log, 0,
                   "sender_domains etcd watch %p: %V from revision %L, "
                   "prefix \"%s\"", w, &url, from_rev, prefix);

    return w;

failed:

    ngx_destroy_pool(pool);

    return NULL;
}


void
ngx_http_sender_domains_etcd_watch_stop(ngx_http_sender_domains_etcd_watch_t *w)
{
    if (w == NULL || w->stopped) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, w->log, 0,
                   "sender_domains etcd watch %p: stopped", w);

    w->stopped = 1;

    if (w->ended || w->in_data) {
        /* freed by the posted event, or when curl hands the call back */
        return;
    }

    ngx_http_sender_domains_etcd_watch_end(w,
                                     NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_CLOSED);
}


/* the stream's bytes, from inside libcurl: cut into lines */

static ngx_int_t
ngx_http_sender_domains_etcd_watch_data(
    ngx_http_sender_domains_curl_call_t *call, u_char *p, size_t n)
{
    ngx_http_sender_domains_etcd_watch_t  *w = call->data;

    u_char  *start, *nl, *end, *b;
    size_t   cap, keep;

    if (w->ended || w->stopped) {
        return NGX_ERROR;
    }

    if (call->status != 200) {
        /* an error answer: its start is kept for the log line */
        keep = ngx_min(n, (size_t) 256 - ngx_min(w->len, (size_t) 256));
        n = keep;
    }

    if (w->len + n > NGX_HTTP_SENDER_DOMAINS_ETCD_LINE_MAX) {
        w->too_long = 1;
        return NGX_ERROR;
    }

    if (w->len + n + 1 > w->cap) {
        cap = ngx_max(w->cap * 2, w->len + n + 1);
        cap = ngx_max(cap, (size_t) 4096);

        b = ngx_alloc(cap, w->log);
        if (b == NULL) {
            return NGX_ERROR;
        }

        if (w->len) {
            ngx_memcpy(b, w->buf, w->len);
        }

        if (w->buf) {
            ngx_free(w->buf);
        }

        w->buf = b;
        w->cap = cap;
    }

    ngx_memcpy(w->buf + w->len, p, n);
    w->len += n;

    if (call->status != 200) {
        return NGX_OK;
    }

    w->in_data = 1;
    start = w->buf;

    while (start < w->buf + w->len) {
        nl = ngx_strlchr(start, w->buf + w->len, '\n');
        if (nl == NULL) {
            break;
        }

        end = nl;

        if (end > start && end[-1] == '\r') {
            end--;
        }

        *end = '\0';

        if (end > start) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, w->log, 0,
                           "sender_domains etcd watch %p: line of %uz bytes",
                           w, (size_t) (end - start));

            w->lines = 1;
            w->on_line(w->data, (const char *) start, end - start);
        }

        start = nl + 1;

        if (w->stopped) {
            break;
        }
    }

    w->in_data = 0;

    if (w->stopped) {
        return NGX_ERROR;
    }

    w->len -= start - w->buf;

    if (w->len) {
        ngx_memmove(w->buf, start, w->len);
    }

    return NGX_OK;
}


static void
ngx_http_sender_domains_etcd_watch_done(
    ngx_http_sender_domains_curl_call_t *call)
{
    ngx_http_sender_domains_etcd_watch_t  *w = call->data;

    ngx_str_t                                 *ep;
    ngx_http_sender_domains_etcd_watch_end_e   reason;

    w->curl = NULL;

    if (w->ended) {
        return;
    }

    if (w->stopped) {
        ngx_http_sender_domains_etcd_watch_end(w,
                                     NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_CLOSED);
        return;
    }

    ep = &((ngx_str_t *) w->conf->endpoints->elts)[w->endpoint];

    switch (call->outcome) {

    case NGX_HTTP_SENDER_DOMAINS_CURL_OK:
        if (call->status == 200) {
            ngx_log_error(NGX_LOG_INFO, w->log, 0,
                          "sender_domains: etcd watch on %V closed by the "
                          "server", ep);
            reason = NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_CLOSED;

        } else {
            ngx_log_error(NGX_LOG_INFO, w->log, 0,
                          "sender_domains: etcd watch on %V failed: HTTP %l: "
                          "%*s", ep, call->status, w->len, w->buf);
            reason = NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_FAILED;
        }
        break;

    case NGX_HTTP_SENDER_DOMAINS_CURL_TIMEOUT:
        if (w->lines) {
            ngx_log_error(NGX_LOG_INFO, w->log, 0,
                          "sender_domains: etcd watch on %V idle for %d s, "
                          "restarted", ep,
                          NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_IDLE);
            reason = NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_CLOSED;

        } else {
            ngx_log_error(NGX_LOG_INFO, w->log, 0,
                          "sender_domains: etcd watch on %V failed: timed "
                          "out", ep);
            reason = NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_FAILED;
        }
        break;

    case NGX_HTTP_SENDER_DOMAINS_CURL_ABORTED:
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "sender_domains: etcd watch on %V: %s", ep,
                      w->too_long ? "a message over the line limit"
                                  : "no memory for its lines");
        reason = NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_ERROR;
        break;

    default:
        if (ngx_http_sender_domains_etcd_tls_failed(call, ep)) {
            ngx_http_sender_domains_etcd_tls_error(w->log, w->conf,
                                                   w->endpoint, "/v3/watch",
                                                   call);
        }

        ngx_log_error(NGX_LOG_INFO, w->log, 0,
                      "sender_domains: etcd watch on %V failed: %s", ep,
                      call->curl_error[0] ? call->curl_error
                                          : "connection failed");
        reason = NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_FAILED;
    }

    if (reason == NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_FAILED
        && ngx_http_sender_domains_etcd_cur % w->conf->endpoints->nelts
           == w->endpoint)
    {
        /* the restart goes to the next endpoint */
        ngx_http_sender_domains_etcd_cur = (w->endpoint + 1)
                                           % w->conf->endpoints->nelts;
    }

    ngx_http_sender_domains_etcd_watch_end(w, reason);
}


/* off the list, the call cancelled; on_end and the free come posted */

static void
ngx_http_sender_domains_etcd_watch_end(ngx_http_sender_domains_etcd_watch_t *w,
    ngx_http_sender_domains_etcd_watch_end_e reason)
{
    if (w->ended) {
        return;
    }

    w->ended = 1;
    w->reason = reason;
    ngx_queue_remove(&w->queue);

    if (w->curl) {
        /* it may be among the calls curl just handed back: not freed yet */
        ngx_http_sender_domains_curl_cancel(w->curl);
        w->curl = NULL;
    }

    ngx_post_event(&w->end_ev, &ngx_posted_events);
}


static void
ngx_http_sender_domains_etcd_watch_free(ngx_event_t *ev)
{
    ngx_http_sender_domains_etcd_watch_t  *w = ev->data;

    if (!w->stopped && w->on_end) {
        w->on_end(w->data, w->reason);
    }

    ngx_destroy_pool(w->pool);
}


static void
ngx_http_sender_domains_etcd_watch_cleanup(void *data)
{
    ngx_http_sender_domains_etcd_watch_t  *w = data;

    if (w->buf) {
        ngx_free(w->buf);
        w->buf = NULL;
    }
}


/* ---- the node's lease, the leader, the live nodes ---- */

ngx_int_t
ngx_http_sender_domains_etcd_lease_start(ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, const char *prefix,
    const char *node, time_t ttl)
{
    size_t                                 plen, nlen;
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    plen = ngx_strlen(prefix);
    nlen = ngx_strlen(node);

    if (l->running || conf == NULL || conf->endpoints == NULL
        || conf->endpoints->nelts == 0 || ttl < 2
        || !sd_etcd_prefix_ok(prefix, plen) || !sd_etcd_node_ok(node, nlen))
    {
        return NGX_ERROR;
    }

    ngx_memzero(l, sizeof(ngx_http_sender_domains_etcd_lease_t));
    ngx_memcpy(l->prefix, prefix, plen + 1);
    ngx_memcpy(l->node, node, nlen + 1);
    l->node_len = nlen;
    l->conf = conf;
    l->log = log;
    l->ttl = ttl;

    ngx_memzero(&ngx_http_sender_domains_etcd_conn, sizeof(ngx_connection_t));
    ngx_http_sender_domains_etcd_conn.fd = (ngx_socket_t) -1;

    l->timer.handler = ngx_http_sender_domains_etcd_lease_tick;
    l->timer.data = &ngx_http_sender_domains_etcd_conn;
    l->timer.log = log;
    l->timer.cancelable = 1;

    l->running = 1;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "sender_domains etcd lease: node \"%s\", prefix \"%s\", "
                   "TTL %T s", l->node, l->prefix, ttl);

    ngx_http_sender_domains_etcd_lease_arm(1);

    return NGX_OK;
}


static void
ngx_http_sender_domains_etcd_lease_arm(ngx_msec_t ms)
{
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    if (l->timer.timer_set) {
        ngx_del_timer(&l->timer);
    }

    ngx_add_timer(&l->timer, ms);
}


static void
ngx_http_sender_domains_etcd_lease_tick(ngx_event_t *ev)
{
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    if (!l->running || l->pool) {
        return;
    }

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        /* a worker that stays to finish its requests leads no more */
        if (l->lease && !l->leaving) {
            l->leaving = 1;

            if (l->leader) {
                ngx_log_error(NGX_LOG_INFO, l->log, 0,
                              "sender_domains: cluster node \"%s\" leaves "
                              "the refresher's leadership: worker exiting",
                              l->node);
                l->leader = 0;
            }

            ngx_http_sender_domains_etcd_lease_send(
                                     NGX_HTTP_SENDER_DOMAINS_ETCD_REVOKE_STEP);
        }

        return;
    }

    ngx_http_sender_domains_etcd_lease_stale();

    ngx_http_sender_domains_etcd_lease_send(l->lease
                                     ? NGX_HTTP_SENDER_DOMAINS_ETCD_KEEPALIVE
                                     : NGX_HTTP_SENDER_DOMAINS_ETCD_GRANT);
}


/* the step-down of a leader that could not renew for ttl/2, logged */

static void
ngx_http_sender_domains_etcd_lease_stale(void)
{
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    if (l->leader && !ngx_http_sender_domains_etcd_is_leader()) {
        ngx_log_error(NGX_LOG_INFO, l->log, 0,
                      "sender_domains: cluster node \"%s\" is no longer the "
                      "refresher's leader: its lease was not renewed for "
                      "%M ms", l->node, ngx_current_msec - l->renewed);
        l->leader = 0;
    }
}


static void
ngx_http_sender_domains_etcd_lease_send(
    ngx_http_sender_domains_etcd_step_e step)
{
    char                                  *s;
    ngx_msec_t                             timeout;
    const char                            *path;
    ngx_http_sender_domains_etcd_call_t   *ec;
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    switch (step) {

    case NGX_HTTP_SENDER_DOMAINS_ETCD_GRANT:
        s = sd_etcd_lease_grant_body(l->ttl);
        path = "/v3/lease/grant";
        break;

    case NGX_HTTP_SENDER_DOMAINS_ETCD_KEEPALIVE:
        s = sd_etcd_lease_id_body(l->lease);
        path = "/v3/lease/keepalive";
        break;

    case NGX_HTTP_SENDER_DOMAINS_ETCD_LEADER:
        s = sd_etcd_leader_txn(l->prefix, l->node, l->node_len, l->lease,
                               l->put_node);
        path = "/v3/kv/txn";
        break;

    default: /* NGX_HTTP_SENDER_DOMAINS_ETCD_REVOKE_STEP */
        s = sd_etcd_lease_id_body(l->lease);
        path = "/v3/lease/revoke";
    }

    /* a renewal must end well within the lease: ttl/5 a try, 1 s at least */
    timeout = ngx_max((ngx_msec_t) l->ttl * 1000 / 5, 1000);
    timeout = ngx_min(timeout, l->conf->timeout);

    l->step = step;
    l->sent = ngx_current_msec;

    ec = ngx_http_sender_domains_etcd_own(s, path, timeout,
                                          ngx_http_sender_domains_etcd_lease_done,
                                          l);
    if (ec == NULL) {
        ngx_log_error(NGX_LOG_ALERT, l->log, 0,
                      "sender_domains: cluster node \"%s\": the %s could not "
                      "be sent (no memory)", l->node,
                      ngx_http_sender_domains_etcd_steps[step]);

        if (l->running) {
            ngx_http_sender_domains_etcd_lease_arm(
                                         NGX_HTTP_SENDER_DOMAINS_ETCD_RETRY);
        }

        return;
    }

    l->pool = ec->pool;
}


/*
 * A body of sd_etcd_*() (freed here) posted by the lease loop in a pool of
 * its own, which the handler destroys.  NULL: no memory.
 */

static ngx_http_sender_domains_etcd_call_t *
ngx_http_sender_domains_etcd_own(char *s, const char *path,
    ngx_msec_t timeout, ngx_http_sender_domains_etcd_handler_pt handler,
    void *data)
{
    ngx_str_t                              body;
    ngx_pool_t                            *pool;
    ngx_http_sender_domains_etcd_call_t   *ec;
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    ec = NULL;
    pool = s ? ngx_create_pool(1024, l->log) : NULL;

    if (pool) {
        body.data = (u_char *) s;
        body.len = ngx_strlen(s);

        ec = ngx_http_sender_domains_etcd_post(pool, l->log, l->conf, path,
                                               &body, timeout, handler, data);
        if (ec == NULL) {
            ngx_destroy_pool(pool);
        }
    }

    free(s);

    return ec;
}


static void
ngx_http_sender_domains_etcd_lease_done(ngx_http_sender_domains_etcd_call_t *ec)
{
    int64_t                                id, ttl;
    ngx_msec_t                             elapsed, next;
    ngx_pool_t                            *pool;
    sd_etcd_rc_e                           rc;
    ngx_http_sender_domains_etcd_step_e    step;
    ngx_http_sender_domains_etcd_lease_t  *l = ec->data;

    pool = l->pool;
    l->pool = NULL;
    step = l->step;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, l->log, 0,
                   "sender_domains etcd lease: %s: outcome %d, HTTP %l, "
                   "%M ms", ngx_http_sender_domains_etcd_steps[step],
                   (int) ec->outcome, ec->status,
                   ngx_current_msec - l->sent);

    if (step == NGX_HTTP_SENDER_DOMAINS_ETCD_REVOKE_STEP) {
        if (ec->outcome == NGX_HTTP_SENDER_DOMAINS_ETCD_OK) {
            ngx_log_error(NGX_LOG_INFO, l->log, 0,
                          "sender_domains: cluster node \"%s\": lease %L "
                          "revoked (HTTP %l)", l->node, l->lease, ec->status);
            l->lease = 0;
        }

        l->running = 0;
        ngx_destroy_pool(pool);
        return;
    }

    if (!l->running) {
        ngx_destroy_pool(pool);
        return;
    }

    if (ec->outcome != NGX_HTTP_SENDER_DOMAINS_ETCD_OK) {
        /* the warning is the client's, once; the loop retries */
        goto retry;
    }

    switch (step) {

    case NGX_HTTP_SENDER_DOMAINS_ETCD_GRANT:
    case NGX_HTTP_SENDER_DOMAINS_ETCD_KEEPALIVE:
        rc = sd_etcd_parse_lease((char *) ec->body.data, ec->body.len, &id,
                                 &ttl);

        if (rc != SD_ETCD_OK || ec->status != 200
            || (step == NGX_HTTP_SENDER_DOMAINS_ETCD_GRANT && ttl == 0))
        {
            ngx_log_error(NGX_LOG_ERR, l->log, 0,
                          "sender_domains: cluster node \"%s\": unexpected "
                          "answer to the %s (HTTP %l): %*s", l->node,
                          ngx_http_sender_domains_etcd_steps[step],
                          ec->status, ngx_min(ec->body.len, (size_t) 200),
                          ec->body.data);
            goto retry;
        }

        if (ttl == 0) {
            ngx_destroy_pool(pool);
            ngx_http_sender_domains_etcd_lease_lost("expired");
            ngx_http_sender_domains_etcd_lease_send(
                                           NGX_HTTP_SENDER_DOMAINS_ETCD_GRANT);
            return;
        }

        if (step == NGX_HTTP_SENDER_DOMAINS_ETCD_GRANT) {
            ngx_log_error(NGX_LOG_INFO, l->log, 0,
                          "sender_domains: cluster node \"%s\": lease %L "
                          "granted, TTL %L s", l->node, id, ttl);
            l->lease = id;
            l->put_node = 1;
        }

        l->renewed = l->sent;

        ngx_destroy_pool(pool);
        ngx_http_sender_domains_etcd_lease_send(
                                          NGX_HTTP_SENDER_DOMAINS_ETCD_LEADER);
        return;

    default: /* NGX_HTTP_SENDER_DOMAINS_ETCD_LEADER */
        if (ngx_http_sender_domains_etcd_lease_leader(ec) != NGX_OK) {
            goto retry;
        }

        /* every ttl/3 from the last renewal's start, not from its end */
        elapsed = ngx_current_msec - l->renewed;
        next = (ngx_msec_t) l->ttl * 1000 / 3;
        next = (elapsed + 100 < next) ? next - elapsed : 100;

        ngx_destroy_pool(pool);
        ngx_http_sender_domains_etcd_lease_arm(next);
        return;
    }

retry:

    ngx_http_sender_domains_etcd_lease_stale();
    ngx_destroy_pool(pool);
    ngx_http_sender_domains_etcd_lease_arm(NGX_HTTP_SENDER_DOMAINS_ETCD_RETRY);
}


/* the leader Txn's answer: who leads, how many nodes live */

static ngx_int_t
ngx_http_sender_domains_etcd_lease_leader(
    ngx_http_sender_domains_etcd_call_t *ec)
{
    size_t                                 len;
    sd_etcd_txn_t                          txn;
    sd_etcd_leader_t                       v;
    ngx_http_sender_domains_etcd_lease_t  *l = ec->data;

    ngx_memzero(&txn, sizeof(sd_etcd_txn_t));

    if (ec->status != 200
        || sd_etcd_parse_txn((char *) ec->body.data, ec->body.len, &txn)
           != SD_ETCD_OK)
    {
        sd_etcd_txn_free(&txn);
        goto bad;
    }

    if (sd_etcd_leader_verdict(&txn, l->node, l->node_len, l->lease, &v)
        != 0)
    {
        sd_etcd_txn_free(&txn);
        goto bad;
    }

    l->put_node = 0;

    if (l->nodes != (ngx_uint_t) v.nodes) {
        ngx_log_error(NGX_LOG_INFO, l->log, 0,
                      "sender_domains: cluster node \"%s\": %L live nodes",
                      l->node, v.nodes);
        l->nodes = (ngx_uint_t) v.nodes;
    }

    if (v.leader && !l->leader) {
        ngx_log_error(NGX_LOG_INFO, l->log, 0,
                      "sender_domains: cluster node \"%s\" is the "
                      "refresher's leader (lease %L, revision %L)", l->node,
                      l->lease, v.revision);

    } else if (!v.leader && l->leader) {
        ngx_log_error(NGX_LOG_INFO, l->log, 0,
                      "sender_domains: cluster node \"%s\" is no longer the "
                      "refresher's leader", l->node);
    }

    l->leader = v.leader;

    len = v.holder ? ngx_min(v.holder_len, (size_t) SD_ETCD_NODE_MAX) : 0;

    if (!v.leader
        && (len != l->holder_len
            || ngx_memcmp(l->holder, v.holder, len) != 0))
    {
        if (len) {
            ngx_log_error(NGX_LOG_INFO, l->log, 0,
                          "sender_domains: cluster node \"%s\": the "
                          "refresher's leader is node \"%*s\"", l->node, len,
                          v.holder);
        }
    }

    if (len) {
        ngx_memcpy(l->holder, v.holder, len);
    }

    l->holder_len = len;

    sd_etcd_txn_free(&txn);

    return NGX_OK;

bad:

    ngx_log_error(NGX_LOG_ERR, l->log, 0,
                  "sender_domains: cluster node \"%s\": unexpected answer to "
                  "the leader Txn (HTTP %l): %*s", l->node, ec->status,
                  ngx_min(ec->body.len, (size_t) 200), ec->body.data);

    return NGX_ERROR;
}


static void
ngx_http_sender_domains_etcd_lease_lost(const char *why)
{
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    ngx_log_error(NGX_LOG_INFO, l->log, 0,
                  "sender_domains: cluster node \"%s\": lease %L %s, "
                  "granting a new one", l->node, l->lease, why);

    if (l->leader) {
        ngx_log_error(NGX_LOG_INFO, l->log, 0,
                      "sender_domains: cluster node \"%s\" is no longer the "
                      "refresher's leader: its lease %s", l->node, why);
    }

    l->lease = 0;
    l->leader = 0;
}


ngx_uint_t
ngx_http_sender_domains_etcd_is_leader(void)
{
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    return l->running && l->leader && !l->leaving && l->lease
           && ngx_current_msec - l->renewed < (ngx_msec_t) l->ttl * 500;
}


ngx_uint_t
ngx_http_sender_domains_etcd_live_nodes(void)
{
    return ngx_http_sender_domains_etcd_l.nodes;
}


void
ngx_http_sender_domains_etcd_lease_stop(void)
{
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    if (l->timer.timer_set) {
        ngx_del_timer(&l->timer);
    }

    if (l->pool) {
        /* cancels the call in flight (a revoke too: redone below) */
        ngx_destroy_pool(l->pool);
        l->pool = NULL;
    }

    if (l->lease) {
        if (ngx_exiting || ngx_quit || ngx_terminate) {
            /* exit_process: the event loop will not run again */
            ngx_http_sender_domains_etcd_revoke();

        } else {
            ngx_http_sender_domains_etcd_revoke_async();
        }

        if (l->leader) {
            ngx_log_error(NGX_LOG_INFO, l->log, 0,
                          "sender_domains: cluster node \"%s\" leaves the "
                          "refresher's leadership: its lease loop stops",
                          l->node);
        }
    }

    l->running = 0;
    l->leader = 0;
    l->leaving = 0;
    l->lease = 0;
}


/*
 * The lease revoked through the event loop, by a call of its own (the
 * loop may start again meanwhile with a new lease).
 */

static void
ngx_http_sender_domains_etcd_revoke_async(void)
{
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    if (ngx_http_sender_domains_etcd_own(sd_etcd_lease_id_body(l->lease),
                                         "/v3/lease/revoke", l->conf->timeout,
                                         ngx_http_sender_domains_etcd_revoked,
                                         NULL)
        == NULL)
    {
        ngx_log_error(NGX_LOG_ALERT, l->log, 0,
                      "sender_domains: cluster node \"%s\": the revoke of "
                      "lease %L could not be sent (no memory); it expires",
                      l->node, l->lease);
    }
}


static void
ngx_http_sender_domains_etcd_revoked(ngx_http_sender_domains_etcd_call_t *ec)
{
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    if (ec->outcome == NGX_HTTP_SENDER_DOMAINS_ETCD_OK) {
        ngx_log_error(NGX_LOG_INFO, ec->log, 0,
                      "sender_domains: cluster node \"%s\": its stopped "
                      "lease revoked (HTTP %l)", l->node, ec->status);

    } else {
        ngx_log_error(NGX_LOG_INFO, ec->log, 0,
                      "sender_domains: cluster node \"%s\": its stopped "
                      "lease could not be revoked; it expires", l->node);
    }

    ngx_destroy_pool(ec->pool);
}


/*
 * The lease revoked at once, blocking and bounded (2 endpoints, 500 ms
 * each): for the worker's exit only, when it serves nothing any more; the
 * node's key and the leader key go now rather than a TTL later.
 */

static void
ngx_http_sender_domains_etcd_revoke(void)
{
    char                                  *s;
    long                                   status;
    CURL                                  *e;
    CURLcode                               rc;
    ngx_str_t                              url, *ep;
    ngx_uint_t                             i, k, n;
    ngx_pool_t                            *pool;
    struct curl_slist                     *h;
    ngx_http_sender_domains_etcd_lease_t  *l = &ngx_http_sender_domains_etcd_l;

    s = sd_etcd_lease_id_body(l->lease);
    pool = ngx_create_pool(1024, l->log);
    h = curl_slist_append(NULL, "Content-Type: application/json");

    if (s == NULL || pool == NULL || h == NULL) {
        goto done;
    }

    n = l->conf->endpoints->nelts;
    ep = l->conf->endpoints->elts;

    for (k = 0; k < ngx_min(n, NGX_HTTP_SENDER_DOMAINS_ETCD_REVOKE_TRIES);
         k++)
    {
        i = (ngx_http_sender_domains_etcd_cur + k) % n;

        if (ngx_http_sender_domains_etcd_url(pool, l->conf, i,
                                             "/v3/lease/revoke", &url)
            != NGX_OK)
        {
            break;
        }

        e = curl_easy_init();
        if (e == NULL) {
            break;
        }

        curl_easy_setopt(e, CURLOPT_URL, url.data);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, s);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                         (long) NGX_HTTP_SENDER_DOMAINS_ETCD_REVOKE);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION,
                         ngx_http_sender_domains_etcd_discard);
        ngx_http_sender_domains_etcd_tls(e, l->conf);

        rc = curl_easy_perform(e);
        status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(e);

        if (rc == CURLE_OK && status > 0 && status < 500) {
            /* 404: the lease was gone already */
            ngx_log_error(NGX_LOG_INFO, l->log, 0,
                          "sender_domains: cluster node \"%s\": lease %L "
                          "revoked at exit (HTTP %l)", l->node, l->lease,
                          status);
            goto done;
        }

        ngx_log_error(NGX_LOG_INFO, l->log, 0,
                      "sender_domains: cluster node \"%s\": revoking lease "
                      "%L on %V failed: %s (HTTP %l)", l->node, l->lease,
                      &ep[i], curl_easy_strerror(rc), status);
    }

done:

    free(s);
    curl_slist_free_all(h);

    if (pool) {
        ngx_destroy_pool(pool);
    }
}


static size_t
ngx_http_sender_domains_etcd_discard(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    return size * nmemb;
}


void
ngx_http_sender_domains_etcd_exit(ngx_cycle_t *cycle)
{
    ngx_queue_t                           *q;
    ngx_http_sender_domains_etcd_watch_t  *w;

    ngx_http_sender_domains_etcd_lease_stop();

    if (!ngx_http_sender_domains_etcd_wq_init) {
        return;
    }

    while (!ngx_queue_empty(&ngx_http_sender_domains_etcd_watches)) {
        q = ngx_queue_head(&ngx_http_sender_domains_etcd_watches);
        w = ngx_queue_data(q, ngx_http_sender_domains_etcd_watch_t, queue);

        ngx_queue_remove(q);
        w->ended = 1;
        w->stopped = 1;

        /* the pool's cleanups cancel and free the curl call */
        ngx_destroy_pool(w->pool);
    }
}
