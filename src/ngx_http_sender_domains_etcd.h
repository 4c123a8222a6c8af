/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the etcd client of cluster mode (issue
 * 18, docs/cluster.md): POST a JSON body to the gateway's /v3/ API with
 * endpoint failover, the watch stream cut into lines, and the node's lease
 * with its node key, the refresher's leader key and the live node count.
 * It knows nothing of rows: the bodies are sd_etcd_*()'s, the answers go
 * back to the caller.  Everything runs on the libcurl multi client
 * (…_curl.c) and nginx timers; per worker.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_ETCD_H
#define NGX_HTTP_SENDER_DOMAINS_ETCD_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_sender_domains_curl.h"


/* a watch that receives less than a byte a second for this long ends
 * (etcd's progress notifications come every 10 min by default) */
#define NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_IDLE   120
/* the longest line of the watch stream (one message) */
#define NGX_HTTP_SENDER_DOMAINS_ETCD_LINE_MAX     (64 * 1024 * 1024)


/*
 * A PEM file of TLS to etcd, read by the master while it parses the
 * configuration (as nginx reads ssl_certificate_key): the workers need no
 * access to it, "nginx -t" checks it, a reload reads it again.
 */
typedef struct {
    ngx_str_t                               path;  /* full name, for logs */
    ngx_str_t                               pem;   /* the bytes; len 0: not
                                                      configured */
} ngx_http_sender_domains_etcd_pem_t;


/* kept by pointer in calls, the watch and the lease: it lives as long as
 * the cycle (the cluster's main conf) */
typedef struct {
    ngx_array_t                            *endpoints; /* ngx_str_t,
                                                   "http://127.0.0.1:2379" */
    ngx_msec_t                              timeout;   /* one call to one
                                                          endpoint */

    /* https:// endpoints (sender_domains_cluster_ssl_*): the CAs that
     * verify etcd (none: the system's), the client certificate and key */
    ngx_http_sender_domains_etcd_pem_t      ssl_trusted_certificate;
    ngx_http_sender_domains_etcd_pem_t      ssl_certificate;
    ngx_http_sender_domains_etcd_pem_t      ssl_certificate_key;
} ngx_http_sender_domains_etcd_conf_t;


/* ---- one call ---- */

typedef enum {
    NGX_HTTP_SENDER_DOMAINS_ETCD_OK = 0,        /* an answer below 500 */
    NGX_HTTP_SENDER_DOMAINS_ETCD_UNAVAILABLE    /* every endpoint failed:
                                                   connect, timeout, 5xx */
} ngx_http_sender_domains_etcd_outcome_e;


typedef struct ngx_http_sender_domains_etcd_call_s
    ngx_http_sender_domains_etcd_call_t;

typedef void (*ngx_http_sender_domains_etcd_handler_pt)(
    ngx_http_sender_domains_etcd_call_t *ec);


struct ngx_http_sender_domains_etcd_call_s {
    ngx_pool_t                               *pool;
    ngx_log_t                                *log;
    ngx_http_sender_domains_etcd_conf_t      *conf;
    const char                               *path;
    ngx_str_t                                 request;    /* in pool */
    ngx_msec_t                                timeout;

    ngx_http_sender_domains_etcd_handler_pt   handler;
    void                                     *data;

    /* the answer */
    ngx_http_sender_domains_etcd_outcome_e    outcome;
    long                                      status;     /* 0: none */
    ngx_str_t                                 body;       /* NUL-ended */
    ngx_uint_t                                endpoint;   /* the last tried */
    ngx_uint_t                                tries;      /* > 1: an earlier
                                                   endpoint may have applied
                                                   it before failing */

    ngx_http_sender_domains_curl_call_t      *curl;
    ngx_msec_t                                started;
    ngx_uint_t                                first;
};


/*
 * POSTs "body" (copied into pool: a malloc'd sd_etcd_*() body can be freed
 * at once) to "path" ("/v3/kv/txn") of the endpoint that answered last; a
 * connect error, a timeout or a 5xx tries the next one, each endpoint once.
 * The call lives in "pool" (destroying the pool cancels it); "handler"
 * runs once, from the event loop, never from inside this function.  NULL:
 * no memory, or the worker has no curl client.
 */
ngx_http_sender_domains_etcd_call_t *ngx_http_sender_domains_etcd_call(
    ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, const char *path,
    ngx_str_t *body, ngx_http_sender_domains_etcd_handler_pt handler,
    void *data);


/* ---- the watch ---- */

typedef enum {
    NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_FAILED = 0, /* no connection, or an
                                                      answer other than 200 */
    NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_CLOSED,     /* the stream ended, or was
                                                      idle too long */
    NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_ENDPOINT,   /* a call to its endpoint
                                                      failed meanwhile */
    NGX_HTTP_SENDER_DOMAINS_ETCD_WATCH_ERROR       /* a line over LINE_MAX,
                                                      no memory */
} ngx_http_sender_domains_etcd_watch_end_e;

typedef struct ngx_http_sender_domains_etcd_watch_s
    ngx_http_sender_domains_etcd_watch_t;

/* one message of the stream, without its newline, NUL-terminated; may
 * call ..._etcd_watch_stop() on its watch */
typedef void (*ngx_http_sender_domains_etcd_line_pt)(void *data,
    const char *line, size_t len);

/* the watch is over (it is freed after this returns): restart it, from a
 * timer (a second or so: every endpoint may be down) */
typedef void (*ngx_http_sender_domains_etcd_end_pt)(void *data,
    ngx_http_sender_domains_etcd_watch_end_e reason);

/*
 * POST /v3/watch with sd_etcd_watch_body(prefix, from_rev) (everything
 * under the prefix from that revision on, with progress notifications) to
 * the endpoint that answered last; each line of the answer goes to
 * on_line, in order.  on_end runs (from a posted event) when the stream
 * stops for any reason but ..._watch_stop().  NULL: could not start (no
 * memory, no curl client): try again later.  "log" outlives the watch
 * (the cycle's).
 */
ngx_http_sender_domains_etcd_watch_t *ngx_http_sender_domains_etcd_watch_start(
    ngx_log_t *log, ngx_http_sender_domains_etcd_conf_t *conf,
    const char *prefix, int64_t from_rev,
    ngx_http_sender_domains_etcd_line_pt on_line,
    ngx_http_sender_domains_etcd_end_pt on_end, void *data);

/* stops it; on_end does not run; the handle is invalid after this */
void ngx_http_sender_domains_etcd_watch_stop(
    ngx_http_sender_domains_etcd_watch_t *w);


/* ---- the node's lease, the leader, the live nodes ---- */

/*
 * Grants a lease of "ttl" seconds, puts <prefix>nodes/<node> with it,
 * keeps it alive every ttl/3, and with each renewal takes <prefix>leader
 * when nobody holds it (else reads who does) and counts <prefix>nodes/.
 * Retries every second while etcd cannot be reached; grants a new lease
 * when the old one is gone.  One per worker (the cluster worker); prefix
 * and node are copied; "log" is the cycle's.  NGX_ERROR: a bad prefix or
 * node name, ttl < 2, or running already.
 */
ngx_int_t ngx_http_sender_domains_etcd_lease_start(ngx_log_t *log,
    ngx_http_sender_domains_etcd_conf_t *conf, const char *prefix,
    const char *node, time_t ttl);

/*
 * Stops the loop and revokes the lease, so the node's key and, if it
 * led, the leader key go at once: through the event loop in a running
 * worker (never blocks; the loop may be started again at once); from
 * exit_process (ngx_exiting, ngx_quit or ngx_terminate set) one bounded
 * blocking call per endpoint (at most 2, 500 ms each), as the event loop
 * will not run again.
 */
void ngx_http_sender_domains_etcd_lease_stop(void);

/* this worker holds the leader key with a lease renewed within ttl/2 */
ngx_uint_t ngx_http_sender_domains_etcd_is_leader(void);

/* keys under <prefix>nodes/ at the last renewal; 0: not known yet */
ngx_uint_t ngx_http_sender_domains_etcd_live_nodes(void);

/* a call of this worker to etcd succeeded within "within" ms and none has
 * failed on every endpoint since */
ngx_uint_t ngx_http_sender_domains_etcd_reachable(ngx_msec_t within);

/*
 * The one place where an etcd handle gets its TLS settings: every call,
 * the watch, the lease's calls and the blocking revoke at exit.  The PEM
 * bytes go to libcurl as blobs it does not copy (the conf outlives every
 * handle; a key is never copied into memory freed unwiped).
 */
void ngx_http_sender_domains_etcd_tls(CURL *e,
    ngx_http_sender_domains_etcd_conf_t *conf);

/* exit_process, before ..._curl_exit(): lease_stop, and every watch freed */
void ngx_http_sender_domains_etcd_exit(ngx_cycle_t *cycle);

#endif /* NGX_HTTP_SENDER_DOMAINS_ETCD_H */
