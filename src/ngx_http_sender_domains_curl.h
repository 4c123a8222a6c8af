/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: a non-blocking HTTP client on libcurl's
 * multi socket interface, driven by nginx's event loop.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_CURL_H
#define NGX_HTTP_SENDER_DOMAINS_CURL_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <curl/curl.h>


#define NGX_HTTP_SENDER_DOMAINS_CURL_MAX_BODY  (1024 * 1024)


typedef struct ngx_http_sender_domains_curl_call_s
    ngx_http_sender_domains_curl_call_t;

typedef void (*ngx_http_sender_domains_curl_done_pt)(
    ngx_http_sender_domains_curl_call_t *call);

/*
 * A streaming call's bytes as they arrive (call->status is the answer's
 * status by then); NGX_OK goes on, anything else aborts the call (its
 * handler then runs with outcome NGX_HTTP_SENDER_DOMAINS_CURL_ABORTED).
 * Runs from inside libcurl: it must not start, cancel or free calls.
 */
typedef ngx_int_t (*ngx_http_sender_domains_curl_data_pt)(
    ngx_http_sender_domains_curl_call_t *call, u_char *p, size_t n);


typedef enum {
    NGX_HTTP_SENDER_DOMAINS_CURL_OK = 0,      /* a response arrived */
    NGX_HTTP_SENDER_DOMAINS_CURL_TIMEOUT,
    NGX_HTTP_SENDER_DOMAINS_CURL_CONNECT,     /* DNS, TCP, TLS, reset */
    NGX_HTTP_SENDER_DOMAINS_CURL_TOO_LARGE,
    NGX_HTTP_SENDER_DOMAINS_CURL_ABORTED      /* on_data said stop */
} ngx_http_sender_domains_curl_outcome_e;


struct ngx_http_sender_domains_curl_call_s {
    CURL                                   *easy;
    struct curl_slist                      *headers;
    ngx_pool_t                             *pool;
    ngx_log_t                              *log;

    ngx_http_sender_domains_curl_done_pt    handler;
    void                                   *data;

    /* a streaming call: the answer goes here, not into body */
    ngx_http_sender_domains_curl_data_pt    on_data;

    /* who is called, for the log lines of this file: "SES" (the default) */
    const char                             *peer;
    /* the largest answer kept: ..._CURL_MAX_BODY unless set after start */
    size_t                                  max_body;

    /* the answer */
    ngx_http_sender_domains_curl_outcome_e  outcome;
    long                                    status;
    ngx_str_t                               body;
    size_t                                  body_cap;
    u_char                                  error_type[128];
    size_t                                  error_type_len;
    u_char                                  request_id[64];
    size_t                                  request_id_len;
    char                                    curl_error[CURL_ERROR_SIZE];
    CURLcode                                result;     /* curl's, at the
                                                           end */

    /* keeps an exiting worker alive until the call ends (see .c) */
    ngx_event_t                             deadline;

    /* in the list of calls that own an easy handle, for exit */
    ngx_queue_t                             queue;

    unsigned                                active:1;
    unsigned                                done:1;
};


ngx_int_t ngx_http_sender_domains_curl_init(ngx_cycle_t *cycle);
void ngx_http_sender_domains_curl_exit(ngx_cycle_t *cycle);

/*
 * Starts a call.  The body is not copied: it must live as long as the call.
 * The call lives in "pool"; destroying the pool cancels a call in flight.
 * The handler runs once, from the event loop, never from inside this
 * function.  "fresh": on a new connection, for a call that must not be
 * sent twice (libcurl resends a request once when a kept-alive connection
 * dies before any byte of the answer, though the server may have acted).
 */
ngx_http_sender_domains_curl_call_t *ngx_http_sender_domains_curl_start(
    ngx_pool_t *pool, ngx_log_t *log, const char *method, ngx_str_t *url,
    ngx_array_t *headers, ngx_str_t *body, ngx_msec_t timeout,
    ngx_uint_t fresh, ngx_http_sender_domains_curl_done_pt handler,
    void *data);

/*
 * A streaming call (a watch): the answer is handed to on_data chunk by
 * chunk, never accumulated; no overall timeout, "timeout" bounds the
 * connection, and the call ends with NGX_HTTP_SENDER_DOMAINS_CURL_TIMEOUT
 * when less than one byte a second arrives for "idle" (seconds, 0: never).
 * It keeps no timer that would hold an exiting worker: the owner stops it
 * (cancel, or destroy its pool).  Otherwise as ..._curl_start().
 */
ngx_http_sender_domains_curl_call_t *ngx_http_sender_domains_curl_stream(
    ngx_pool_t *pool, ngx_log_t *log, const char *method, ngx_str_t *url,
    ngx_array_t *headers, ngx_str_t *body, ngx_msec_t timeout,
    time_t idle, ngx_http_sender_domains_curl_data_pt on_data,
    ngx_http_sender_domains_curl_done_pt handler, void *data);

void ngx_http_sender_domains_curl_cancel(
    ngx_http_sender_domains_curl_call_t *call);

ngx_uint_t ngx_http_sender_domains_curl_in_flight(void);

#endif /* NGX_HTTP_SENDER_DOMAINS_CURL_H */
