/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: a non-blocking HTTP client on libcurl's
 * multi socket interface, driven by nginx's event loop.
 *
 * One CURLM per worker.  curl's sockets are wrapped as nginx connections
 * whose read/write events call curl_multi_socket_action(); curl's timer is
 * one nginx timer.  Nothing here blocks: DNS uses curl's threaded resolver
 * (Debian's libcurl has AsynchDNS), TLS and I/O are driven by events.
 *
 * We own curl's sockets (OPENSOCKETFUNCTION / CLOSESOCKETFUNCTION) so that
 * a socket is always removed from epoll before it is closed, and never
 * closed twice: only ngx_get_connection()/ngx_free_connection() flip the
 * event "instance" bit that drops stale epoll events for a reused fd, and
 * curl may close a socket before (or without) announcing CURL_POLL_REMOVE,
 * which would make a later epoll DEL fail with EBADF (curl issues #14976,
 * #16026, #17949).  Callbacks never call curl_multi_* (curl calls them
 * from inside curl_multi_socket_action(), add and cleanup, and is not
 * re-entrant): finished calls are collected first and their handlers run
 * after curl returns.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_sender_domains_curl.h"


#define NGX_HTTP_SENDER_DOMAINS_CURL_MAX_SOCKETS  256

/* finished calls taken off curl at a time, before their handlers run */
#define NGX_HTTP_SENDER_DOMAINS_ENDED             64


static curl_socket_t ngx_http_sender_domains_curl_open_socket(void *data,
    curlsocktype purpose, struct curl_sockaddr *addr);
static int ngx_http_sender_domains_curl_close_socket(void *data,
    curl_socket_t s);
static int ngx_http_sender_domains_curl_socket(CURL *easy, curl_socket_t s,
    int what, void *userp, void *socketp);
static int ngx_http_sender_domains_curl_timer(CURLM *multi, long timeout_ms,
    void *userp);
static void ngx_http_sender_domains_curl_timer_handler(ngx_event_t *ev);
static void ngx_http_sender_domains_curl_event_handler(ngx_event_t *ev);
static void ngx_http_sender_domains_curl_deadline_handler(ngx_event_t *ev);
static void ngx_http_sender_domains_curl_drive(curl_socket_t s, int mask);
static ngx_uint_t ngx_http_sender_domains_curl_collect(
    ngx_http_sender_domains_curl_call_t **done, ngx_uint_t max);
static void ngx_http_sender_domains_curl_finish(
    ngx_http_sender_domains_curl_call_t *call);
static ngx_http_sender_domains_curl_call_t *
    ngx_http_sender_domains_curl_launch(ngx_pool_t *pool, ngx_log_t *log,
    const char *method, ngx_str_t *url, ngx_array_t *headers,
    ngx_str_t *body, ngx_msec_t timeout, ngx_uint_t fresh, time_t idle,
    ngx_http_sender_domains_curl_data_pt on_data,
    ngx_http_sender_domains_curl_done_pt handler, void *data);
static ngx_http_sender_domains_curl_call_t *
    ngx_http_sender_domains_curl_create(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_sender_domains_curl_done_pt handler, void *data);
static ngx_int_t ngx_http_sender_domains_curl_headers(
    ngx_http_sender_domains_curl_call_t *call, ngx_array_t *headers);
static void ngx_http_sender_domains_curl_options(
    ngx_http_sender_domains_curl_call_t *call, const char *method,
    u_char *url, ngx_msec_t timeout, ngx_uint_t fresh);
static void ngx_http_sender_domains_curl_body(
    ngx_http_sender_domains_curl_call_t *call, const char *method,
    ngx_str_t *body);
static void ngx_http_sender_domains_curl_cleanup(void *data);
static size_t ngx_http_sender_domains_curl_write(char *ptr, size_t size,
    size_t nmemb, void *userdata);
static size_t ngx_http_sender_domains_curl_header(char *ptr, size_t size,
    size_t nmemb, void *userdata);
static ngx_connection_t *ngx_http_sender_domains_curl_conn(curl_socket_t s);
static void ngx_http_sender_domains_curl_release(curl_socket_t s);


static CURLM             *ngx_http_sender_domains_multi;
static ngx_event_t        ngx_http_sender_domains_timer_ev;
static ngx_connection_t   ngx_http_sender_domains_dummy_conn;
static ngx_connection_t  *ngx_http_sender_domains_sockets[
                              NGX_HTTP_SENDER_DOMAINS_CURL_MAX_SOCKETS];
static ngx_uint_t         ngx_http_sender_domains_in_flight;
static ngx_uint_t         ngx_http_sender_domains_driving;
static ngx_queue_t        ngx_http_sender_domains_calls;


ngx_int_t
ngx_http_sender_domains_curl_init(ngx_cycle_t *cycle)
{
    CURLM  *m;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "sender_domains: curl_global_init() failed");
        return NGX_ERROR;
    }

    m = curl_multi_init();
    if (m == NULL) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "sender_domains: curl_multi_init() failed");
        return NGX_ERROR;
    }

    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION,
                      ngx_http_sender_domains_curl_socket);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION,
                      ngx_http_sender_domains_curl_timer);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);

    /*
     * The timer's data is a dummy connection with fd -1: a debug build
     * logs ((ngx_connection_t *) ev->data)->fd when timers change.
     */
    ngx_memzero(&ngx_http_sender_domains_dummy_conn, sizeof(ngx_connection_t));
    ngx_http_sender_domains_dummy_conn.fd = (ngx_socket_t) -1;

    ngx_memzero(&ngx_http_sender_domains_timer_ev, sizeof(ngx_event_t));
    ngx_http_sender_domains_timer_ev.handler =
        ngx_http_sender_domains_curl_timer_handler;
    ngx_http_sender_domains_timer_ev.data =
        &ngx_http_sender_domains_dummy_conn;
    ngx_http_sender_domains_timer_ev.log = cycle->log;
    ngx_http_sender_domains_timer_ev.cancelable = 1;

    ngx_queue_init(&ngx_http_sender_domains_calls);

    ngx_http_sender_domains_multi = m;

    return NGX_OK;
}


void
ngx_http_sender_domains_curl_exit(ngx_cycle_t *cycle)
{
    ngx_queue_t                          *q;
    ngx_http_sender_domains_curl_call_t  *call;

    if (ngx_http_sender_domains_multi == NULL) {
        return;
    }

    if (ngx_http_sender_domains_timer_ev.timer_set) {
        ngx_del_timer(&ngx_http_sender_domains_timer_ev);
    }

    /*
     * curl_multi_cleanup() leaves the easy handles still attached to
     * their owners: remove and free every call's handle and headers now
     * (calls in flight, and finished ones whose pool is still alive);
     * a pool destroyed later finds nothing left to free
     */

    while (!ngx_queue_empty(&ngx_http_sender_domains_calls)) {
        q = ngx_queue_head(&ngx_http_sender_domains_calls);
        call = ngx_queue_data(q, ngx_http_sender_domains_curl_call_t, queue);

        ngx_http_sender_domains_curl_cleanup(call);
    }

    /* cleanup closes cached connections through our close callback */
    curl_multi_cleanup(ngx_http_sender_domains_multi);
    ngx_http_sender_domains_multi = NULL;
}


ngx_uint_t
ngx_http_sender_domains_curl_in_flight(void)
{
    return ngx_http_sender_domains_in_flight;
}


ngx_http_sender_domains_curl_call_t *
ngx_http_sender_domains_curl_start(ngx_pool_t *pool, ngx_log_t *log,
    const char *method, ngx_str_t *url, ngx_array_t *headers, ngx_str_t *body,
    ngx_msec_t timeout, ngx_uint_t fresh,
    ngx_http_sender_domains_curl_done_pt handler, void *data)
{
    return ngx_http_sender_domains_curl_launch(pool, log, method, url,
                                               headers, body, timeout, fresh,
                                               0, NULL, handler, data);
}


ngx_http_sender_domains_curl_call_t *
ngx_http_sender_domains_curl_stream(ngx_pool_t *pool, ngx_log_t *log,
    const char *method, ngx_str_t *url, ngx_array_t *headers, ngx_str_t *body,
    ngx_msec_t timeout, time_t idle,
    ngx_http_sender_domains_curl_data_pt on_data,
    ngx_http_sender_domains_curl_done_pt handler, void *data)
{
    return ngx_http_sender_domains_curl_launch(pool, log, method, url,
                                               headers, body, timeout, 0,
                                               idle, on_data, handler, data);
}


/* on_data NULL: a call with an overall timeout, its answer accumulated */

static ngx_http_sender_domains_curl_call_t *
ngx_http_sender_domains_curl_launch(ngx_pool_t *pool, ngx_log_t *log,
    const char *method, ngx_str_t *url, ngx_array_t *headers, ngx_str_t *body,
    ngx_msec_t timeout, ngx_uint_t fresh, time_t idle,
    ngx_http_sender_domains_curl_data_pt on_data,
    ngx_http_sender_domains_curl_done_pt handler, void *data)
{
    u_char                               *u;
    CURLMcode                             mc;
    ngx_http_sender_domains_curl_call_t  *call;

    if (ngx_http_sender_domains_multi == NULL) {
        return NULL;
    }

    call = ngx_http_sender_domains_curl_create(pool, log, handler, data);
    if (call == NULL) {
        return NULL;
    }

    u = ngx_pnalloc(pool, url->len + 1);
    if (u == NULL) {
        return NULL;
    }

    ngx_cpystrn(u, url->data, url->len + 1);

    if (ngx_http_sender_domains_curl_headers(call, headers) != NGX_OK) {
        return NULL;
    }

    ngx_http_sender_domains_curl_options(call, method, u, timeout, fresh);
    ngx_http_sender_domains_curl_body(call, method, body);

    if (on_data) {
        /*
         * A stream: no overall timeout, an idle limit instead, and TCP
         * keepalive so a peer host that vanished is noticed; no deadline
         * timer (it would hold an exiting worker for as long as the
         * stream lasts), its owner stops it.
         */
        call->on_data = on_data;
        curl_easy_setopt(call->easy, CURLOPT_TIMEOUT_MS, 0L);
        curl_easy_setopt(call->easy, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(call->easy, CURLOPT_TCP_KEEPIDLE, 10L);
        curl_easy_setopt(call->easy, CURLOPT_TCP_KEEPINTVL, 5L);

        if (idle) {
            curl_easy_setopt(call->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
            curl_easy_setopt(call->easy, CURLOPT_LOW_SPEED_TIME, (long) idle);
        }

    } else {
        /*
         * A non-cancelable timer slightly past curl's own timeout: it
         * keeps a gracefully exiting worker alive until the call ends (an
         * exiting worker waits only for non-cancelable timers), and it is
         * a last resort should curl never report the end.
         */
        call->deadline.handler =
            ngx_http_sender_domains_curl_deadline_handler;
        call->deadline.data = &ngx_http_sender_domains_dummy_conn;
        call->deadline.log = log;
        ngx_add_timer(&call->deadline, timeout + 1000);
    }

    mc = curl_multi_add_handle(ngx_http_sender_domains_multi, call->easy);
    if (mc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "sender_domains: curl_multi_add_handle() failed: %s",
                      curl_multi_strerror(mc));

        if (call->deadline.timer_set) {
            ngx_del_timer(&call->deadline);
        }

        return NULL;
    }

    call->active = 1;
    ngx_http_sender_domains_in_flight++;

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, log, 0,
                   "sender_domains curl call %p: %s %s, timeout %M, "
                   "%ui in flight", call, method, u, timeout,
                   ngx_http_sender_domains_in_flight);

    return call;
}


/*
 * A call in "pool" with its easy handle, in the list of calls that own
 * one; the pool's cleanup cancels and frees it.
 */

static ngx_http_sender_domains_curl_call_t *
ngx_http_sender_domains_curl_create(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_sender_domains_curl_done_pt handler, void *data)
{
    ngx_pool_cleanup_t                   *cln;
    ngx_http_sender_domains_curl_call_t  *call;

    call = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_curl_call_t));
    if (call == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    call->pool = pool;
    call->log = log;
    call->handler = handler;
    call->data = data;
    call->peer = "SES";
    call->max_body = NGX_HTTP_SENDER_DOMAINS_CURL_MAX_BODY;

    cln->handler = ngx_http_sender_domains_curl_cleanup;
    cln->data = call;

    call->easy = curl_easy_init();
    if (call->easy == NULL) {
        return NULL;
    }

    ngx_queue_insert_tail(&ngx_http_sender_domains_calls, &call->queue);

    return call;
}


/* the caller's "Name: value" lines, less the two curl adds by itself */

static ngx_int_t
ngx_http_sender_domains_curl_headers(
    ngx_http_sender_domains_curl_call_t *call, ngx_array_t *headers)
{
    ngx_str_t          *h;
    ngx_uint_t          i;
    struct curl_slist  *l;

    h = headers ? headers->elts : NULL;

    for (i = 0; headers && i < headers->nelts; i++) {
        l = curl_slist_append(call->headers, (char *) h[i].data);
        if (l == NULL) {
            return NGX_ERROR;
        }

        call->headers = l;
    }

    /* curl adds these by itself; SES needs neither */

    l = curl_slist_append(call->headers, "Expect:");
    if (l == NULL) {
        return NGX_ERROR;
    }

    call->headers = l;

    l = curl_slist_append(call->headers, "Accept:");
    if (l == NULL) {
        return NGX_ERROR;
    }

    call->headers = l;

    return NGX_OK;
}


/* the request and our callbacks: sockets, answer, headers */

static void
ngx_http_sender_domains_curl_options(
    ngx_http_sender_domains_curl_call_t *call, const char *method,
    u_char *url, ngx_msec_t timeout, ngx_uint_t fresh)
{
    CURL  *e = call->easy;

    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
    curl_easy_setopt(e, CURLOPT_PRIVATE, call);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) timeout);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->curl_error);

    if (fresh) {
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    }

    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION,
                     ngx_http_sender_domains_curl_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION,
                     ngx_http_sender_domains_curl_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
                     ngx_http_sender_domains_curl_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, call);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION,
                     ngx_http_sender_domains_curl_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, NULL);
}


/* the body, not copied; PUT and POST without one send Content-Length: 0 */

static void
ngx_http_sender_domains_curl_body(ngx_http_sender_domains_curl_call_t *call,
    const char *method, ngx_str_t *body)
{
    CURL  *e = call->easy;

    if (body && body->len) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body->data);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long) body->len);

    } else if (ngx_strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);

    } else if (ngx_strcmp(method, "DELETE") != 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
    }
}


void
ngx_http_sender_domains_curl_cancel(ngx_http_sender_domains_curl_call_t *call)
{
    if (call->deadline.timer_set) {
        ngx_del_timer(&call->deadline);
    }

    if (call->active) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, call->log, 0,
                       "sender_domains curl call %p: removed", call);

        call->active = 0;
        ngx_http_sender_domains_in_flight--;

        if (ngx_http_sender_domains_multi) {
            curl_multi_remove_handle(ngx_http_sender_domains_multi,
                                     call->easy);
        }
    }

    call->done = 1;
}


/* the owner's pool goes away: a client that left takes its call along */

static void
ngx_http_sender_domains_curl_cleanup(void *data)
{
    ngx_http_sender_domains_curl_call_t  *call = data;

    ngx_http_sender_domains_curl_cancel(call);

    if (call->easy) {
        curl_easy_cleanup(call->easy);
        call->easy = NULL;
        ngx_queue_remove(&call->queue);
    }

    if (call->headers) {
        curl_slist_free_all(call->headers);
        call->headers = NULL;
    }
}


static size_t
ngx_http_sender_domains_curl_write(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    ngx_http_sender_domains_curl_call_t  *call = userdata;

    u_char  *p;
    size_t   n, cap;

    n = size * nmemb;

    if (call->on_data) {
        curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &call->status);

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, call->log, 0,
                       "sender_domains curl call %p: %uz stream bytes read",
                       call, n);

        if (call->on_data(call, (u_char *) ptr, n) != NGX_OK) {
            call->outcome = NGX_HTTP_SENDER_DOMAINS_CURL_ABORTED;
            return 0;   /* makes curl abort with CURLE_WRITE_ERROR */
        }

        return n;
    }

    if (call->body.len + n > call->max_body) {
        call->outcome = NGX_HTTP_SENDER_DOMAINS_CURL_TOO_LARGE;
        return 0;   /* makes curl abort with CURLE_WRITE_ERROR */
    }

    if (call->body.len + n + 1 > call->body_cap) {
        cap = ngx_max(call->body_cap * 2, call->body.len + n + 1);
        cap = ngx_max(cap, 1024);

        p = ngx_pnalloc(call->pool, cap);
        if (p == NULL) {
            return 0;
        }

        if (call->body.len) {
            ngx_memcpy(p, call->body.data, call->body.len);
        }

        call->body.data = p;
        call->body_cap = cap;
    }

    ngx_memcpy(call->body.data + call->body.len, ptr, n);
    call->body.len += n;
    call->body.data[call->body.len] = '\0';

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, call->log, 0,
                   "sender_domains curl call %p: %uz body bytes read, "
                   "%uz in all", call, n, call->body.len);

    return n;
}


static size_t
ngx_http_sender_domains_curl_header(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    ngx_http_sender_domains_curl_call_t  *call = userdata;

    u_char  *p, *end, *v, *colon;
    size_t   n;

    n = size * nmemb;
    p = (u_char *) ptr;
    end = p + n;

    while (end > p && (end[-1] == '\r' || end[-1] == '\n')) {
        end--;
    }

    if (end == p) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, call->log, 0,
                       "sender_domains curl call %p: header done", call);
        return n;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, call->log, 0,
                   "sender_domains curl call %p: header \"%*s\"", call,
                   (size_t) (end - p), p);

    if (n >= 5 && ngx_strncmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue or a redirect) */
        call->error_type_len = 0;
        call->request_id_len = 0;
        return n;
    }

    colon = ngx_strlchr(p, end, ':');
    if (colon == NULL) {
        return n;
    }

#define sd_header_is(name)                                                    \
    ((size_t) (colon - p) == sizeof(name) - 1                                 \
     && ngx_strncasecmp(p, (u_char *) name, sizeof(name) - 1) == 0)

    for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++) {
        /* void */
    }

    if (sd_header_is("x-amzn-ErrorType")) {
        call->error_type_len = ngx_min((size_t) (end - v),
                                       sizeof(call->error_type) - 1);
        ngx_memcpy(call->error_type, v, call->error_type_len);
        call->error_type[call->error_type_len] = '\0';

    } else if (sd_header_is("x-amzn-RequestId")) {
        call->request_id_len = ngx_min((size_t) (end - v),
                                       sizeof(call->request_id) - 1);
        ngx_memcpy(call->request_id, v, call->request_id_len);
        call->request_id[call->request_id_len] = '\0';
    }

#undef sd_header_is

    return n;
}


static ngx_connection_t *
ngx_http_sender_domains_curl_conn(curl_socket_t s)
{
    if (s < 0 || s >= NGX_HTTP_SENDER_DOMAINS_CURL_MAX_SOCKETS) {
        return NULL;
    }

    return ngx_http_sender_domains_sockets[s];
}


static curl_socket_t
ngx_http_sender_domains_curl_open_socket(void *data, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
    ngx_http_sender_domains_curl_call_t  *call = data;

    curl_socket_t      s;
    ngx_connection_t  *c;

    s = socket(addr->family, addr->socktype, addr->protocol);
    if (s == -1) {
        return CURL_SOCKET_BAD;
    }

    if (s >= NGX_HTTP_SENDER_DOMAINS_CURL_MAX_SOCKETS) {
        ngx_log_error(NGX_LOG_ERR, call->log, 0,
                      "sender_domains: too many open files for %s calls",
                      call->peer);
        close(s);
        return CURL_SOCKET_BAD;
    }

    /*
     * curl closes some sockets without our close callback (those its
     * internal closure handle owns, curl#14976 and friends): an entry left
     * for this fd number is stale, its fd long gone.
     */
    ngx_http_sender_domains_curl_release(s);

    /*
     * Sockets outlive calls in curl's connection cache, so they log to the
     * cycle, as upstream keepalive does with parked connections.
     */
    c = ngx_get_connection(s, ngx_cycle->log);
    if (c == NULL) {
        close(s);
        return CURL_SOCKET_BAD;
    }

    c->read->handler = ngx_http_sender_domains_curl_event_handler;
    c->write->handler = ngx_http_sender_domains_curl_event_handler;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->data = NULL;

    ngx_http_sender_domains_sockets[s] = c;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, call->log, 0,
                   "sender_domains curl call %p: socket %d opened", call, s);

    return s;
}


/*
 * Like ngx_close_connection(), minus close(): the caller closes, or curl
 * already did.  With the fd about to close (or closed), epoll forgets it by
 * itself (NGX_CLOSE_EVENT: no epoll_ctl on a dead fd).
 */

static void
ngx_http_sender_domains_curl_release(curl_socket_t s)
{
    ngx_connection_t  *c;

    c = ngx_http_sender_domains_curl_conn(s);
    if (c == NULL) {
        return;
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->active || c->write->active) {
        ngx_del_conn(c, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "sender_domains curl socket %d released", s);

    ngx_http_sender_domains_sockets[s] = NULL;
    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);
}


static int
ngx_http_sender_domains_curl_close_socket(void *data, curl_socket_t s)
{
    ngx_http_sender_domains_curl_release(s);

    return close(s);
}


static int
ngx_http_sender_domains_curl_socket(CURL *easy, curl_socket_t s, int what,
    void *userp, void *socketp)
{
    ngx_connection_t  *c;

    c = ngx_http_sender_domains_curl_conn(s);
    if (c == NULL) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "sender_domains curl socket %d: poll %d ignored, "
                       "not a socket of ours", s, what);
        return 0;
    }

    if (what == CURL_POLL_REMOVE && fcntl(s, F_GETFD) == -1) {
        /* curl closed it already, without our close callback */
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "sender_domains curl socket %d: closed by curl "
                       "itself", s);
        ngx_http_sender_domains_curl_release(s);
        return 0;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "sender_domains curl socket %d: poll %d "
                   "(1 in, 2 out, 3 both, 4 remove)", s, what);

    /* level-triggered (flags 0): curl reads only what it needs */

    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) {
        if (!c->read->active) {
            ngx_add_event(c->read, NGX_READ_EVENT, 0);
        }

    } else if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) {
        if (!c->write->active) {
            ngx_add_event(c->write, NGX_WRITE_EVENT, 0);
        }

    } else if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    return 0;
}


static int
ngx_http_sender_domains_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    ngx_event_t  *ev = &ngx_http_sender_domains_timer_ev;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "sender_domains curl timer: %l ms (-1: none)", timeout_ms);

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    if (timeout_ms >= 0) {
        ngx_add_timer(ev, (ngx_msec_t) timeout_ms);
    }

    return 0;
}


static void
ngx_http_sender_domains_curl_timer_handler(ngx_event_t *ev)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "sender_domains curl timer fired");

    ngx_http_sender_domains_curl_drive(CURL_SOCKET_TIMEOUT, 0);
}


static void
ngx_http_sender_domains_curl_event_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    /* nginx never clears "ready"; take the mask from the firing event */
    ev->ready = 0;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "sender_domains curl socket %d: %s event", c->fd,
                   ev->write ? "write" : "read");

    ngx_http_sender_domains_curl_drive(c->fd,
                                       ev->write ? CURL_CSELECT_OUT
                                                 : CURL_CSELECT_IN);
}


static void
ngx_http_sender_domains_curl_deadline_handler(ngx_event_t *ev)
{
    ngx_http_sender_domains_curl_call_t  *call;

    /* ev->data is the dummy connection, for the debug log */
    call = (ngx_http_sender_domains_curl_call_t *)
               ((u_char *) ev
                - offsetof(ngx_http_sender_domains_curl_call_t, deadline));

    /* the caller's failure line says "timeout" with the operation */
    ngx_log_error(NGX_LOG_INFO, call->log, 0,
                  "sender_domains: %s call exceeded its deadline",
                  call->peer);

    ngx_http_sender_domains_curl_cancel(call);
    call->done = 0;
    call->outcome = NGX_HTTP_SENDER_DOMAINS_CURL_TIMEOUT;
    ngx_http_sender_domains_curl_finish(call);
}


static void
ngx_http_sender_domains_curl_drive(curl_socket_t s, int mask)
{
    int                                   running;
    CURLMcode                             mc;
    ngx_uint_t                            n, i;
    ngx_http_sender_domains_curl_call_t  *done[NGX_HTTP_SENDER_DOMAINS_ENDED];

    if (ngx_http_sender_domains_multi == NULL
        || ngx_http_sender_domains_driving)
    {
        return;
    }

    ngx_http_sender_domains_driving = 1;

    mc = curl_multi_socket_action(ngx_http_sender_domains_multi, s, mask,
                                  &running);

    if (mc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "sender_domains: curl_multi_socket_action() failed: %s",
                      curl_multi_strerror(mc));
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "sender_domains curl action: socket %d, mask %d: "
                   "%d running", s, mask, running);

    for ( ;; ) {
        n = ngx_http_sender_domains_curl_collect(done,
                                                 NGX_HTTP_SENDER_DOMAINS_ENDED);
        if (n == 0) {
            break;
        }

        ngx_http_sender_domains_driving = 0;

        /* handlers may start new calls: curl is not on the stack now */
        for (i = 0; i < n; i++) {
            ngx_http_sender_domains_curl_finish(done[i]);
        }

        ngx_http_sender_domains_driving = 1;
    }

    ngx_http_sender_domains_driving = 0;
}


/*
 * Up to "max" calls curl says are done, with their outcome and status,
 * taken off curl (their handlers are not run here: curl is on the stack).
 */

static ngx_uint_t
ngx_http_sender_domains_curl_collect(
    ngx_http_sender_domains_curl_call_t **done, ngx_uint_t max)
{
    int                                   left;
    CURLMsg                              *msg;
    ngx_uint_t                            n;
    ngx_http_sender_domains_curl_call_t  *call;

    n = 0;

    while (n < max
           && (msg = curl_multi_info_read(ngx_http_sender_domains_multi,
                                          &left)))
    {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                          (char **) &call);

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, call->log, 0,
                       "sender_domains curl call %p: done, curl says "
                       "%d: %s", call, (int) msg->data.result,
                       curl_easy_strerror(msg->data.result));

        call->result = msg->data.result;

        if (call->outcome == NGX_HTTP_SENDER_DOMAINS_CURL_OK) {
            switch (msg->data.result) {
            case CURLE_OK:
                break;
            case CURLE_OPERATION_TIMEDOUT:
                call->outcome = NGX_HTTP_SENDER_DOMAINS_CURL_TIMEOUT;
                break;
            default:
                call->outcome = NGX_HTTP_SENDER_DOMAINS_CURL_CONNECT;
            }
        }

        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
                          &call->status);

        /* msg is invalid after this */
        ngx_http_sender_domains_curl_cancel(call);
        call->done = 0;
        done[n++] = call;
    }

    return n;
}


static void
ngx_http_sender_domains_curl_finish(ngx_http_sender_domains_curl_call_t *call)
{
    if (call->done) {
        return;
    }

    call->done = 1;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, call->log, 0,
                   "sender_domains curl call %p: finished, outcome %d, "
                   "status %l, %uz body bytes", call, (int) call->outcome,
                   call->status, call->body.len);

    if (call->outcome == NGX_HTTP_SENDER_DOMAINS_CURL_CONNECT
        && call->curl_error[0])
    {
        /* curl's words go into the caller's failure line too */
        ngx_log_error(NGX_LOG_INFO, call->log, 0,
                      "sender_domains: %s connection failed: %s",
                      call->peer, call->curl_error);
    }

    if (call->body.data == NULL) {
        ngx_str_set(&call->body, "");
    }

    call->handler(call);
}
