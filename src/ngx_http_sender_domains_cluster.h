/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: cluster mode over etcd (issue 18,
 * docs/cluster.md).  Several nginx nodes share one source of truth in etcd;
 * each node's LMDB store is its local cache, so resolve never leaves the
 * node.  Without "sender_domains_cluster" nothing here runs.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_CLUSTER_H
#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sd_store.h"
#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_etcd.h"


typedef struct {
    ngx_http_sender_domains_etcd_conf_t  etcd;  /* endpoints, timeout */
    ngx_str_t                   prefix;         /* NUL-terminated */
    ngx_str_t                   node;           /* NUL-terminated */
    time_t                      lease_ttl;      /* seconds */
    ngx_shm_zone_t             *zone;
} ngx_http_sender_domains_cluster_conf_t;


/* the node's cluster state, written by its cluster worker, read by all */
typedef struct {
    ngx_atomic_t                reachable;      /* etcd answers */
    ngx_atomic_t                leader;         /* runs the refresher */
    ngx_atomic_t                live_nodes;
    ngx_atomic_t                revision;       /* applied to the store */
    ngx_atomic_t                kick;           /* a write waits: publish */
    ngx_atomic_t                resyncs;        /* full reads of the prefix */
    ngx_atomic_t                publish_failures; /* outbox Txns not taken */
    ngx_atomic_t                webhook_events; /* the leader: events
                                                   waiting in etcd */
} ngx_http_sender_domains_cluster_sh_t;


/* an etcd call that got an answer of its own (HTTP 200) */
#define ngx_http_sender_domains_etcd_ok(call)                              \
    ((call)->outcome == NGX_HTTP_SENDER_DOMAINS_ETCD_OK                    \
     && (call)->status == 200)


/* the local add flow, run once the cluster granted the claim */
typedef ngx_int_t (*ngx_http_sender_domains_cluster_next_pt)(
    ngx_http_request_t *r);


char *ngx_http_sender_domains_cluster_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_sender_domains_cluster_prefix(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_sender_domains_cluster_node(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
/* sender_domains_cluster_ssl_*: cmd->offset is into the cluster conf */
char *ngx_http_sender_domains_cluster_ssl_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
/* at the end of the main conf: defaults, and what needs what */
char *ngx_http_sender_domains_cluster_init_conf(ngx_conf_t *cf);

/* the cycle's cluster conf, NULL when not in cluster mode */
static ngx_inline ngx_http_sender_domains_cluster_conf_t *
ngx_http_sender_domains_cluster_conf(ngx_cycle_t *cycle)
{
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_sender_domains_module);

    return smcf ? smcf->cluster : NULL;
}


/* the node's shared state, NULL when not in cluster mode */
static ngx_inline ngx_http_sender_domains_cluster_sh_t *
ngx_http_sender_domains_cluster_sh(void)
{
    ngx_http_sender_domains_cluster_conf_t  *cc;

    cc = ngx_http_sender_domains_cluster_conf((ngx_cycle_t *) ngx_cycle);

    return (cc && cc->zone) ? cc->zone->data : NULL;
}


/* the API: writes refused while etcd is away, answers held until published */
ngx_int_t ngx_http_sender_domains_cluster_gate(ngx_http_request_t *r);
ngx_int_t ngx_http_sender_domains_cluster_hold(ngx_http_request_t *r,
    ngx_uint_t status, ngx_chain_t *out);
ngx_int_t ngx_http_sender_domains_cluster_unavailable(ngx_http_request_t *r);
/*
 * PUT /legacy in cluster mode: the addresses' claims decided in etcd first
 * (docs/cluster.md, "PUT /legacy's claims"); then done(r, data, conflict)
 * runs: conflict NULL when etcd holds every address for the workspace
 * now, else conflict[i] = 1 for each address under another workspace's
 * claim (nothing of the list was claimed).  NGX_DONE: the request goes on
 * from etcd's answers.
 */
typedef ngx_int_t (*ngx_http_sender_domains_cluster_legacy_pt)(
    ngx_http_request_t *r, void *data, int *conflict);

ngx_int_t ngx_http_sender_domains_cluster_legacy(ngx_http_request_t *r,
    ngx_str_t *ws, size_t n, const char **ids, const size_t *lens,
    ngx_http_sender_domains_cluster_legacy_pt done, void *data);

ngx_int_t ngx_http_sender_domains_cluster_claim(ngx_http_request_t *r,
    ngx_str_t *ws, ngx_str_t *id, const char *row, size_t row_len,
    ngx_uint_t limit, ngx_http_sender_domains_cluster_next_pt next);

/* a body from sd_etcd_*() (malloc'd: freed here) POSTed to etcd */
ngx_int_t ngx_http_sender_domains_cluster_post(ngx_pool_t *pool,
    ngx_log_t *log, const char *path, char *body,
    ngx_http_sender_domains_etcd_handler_pt handler, void *data);

/* the node's side (ngx_http_sender_domains_sync.c) */
ngx_int_t ngx_http_sender_domains_cluster_init_process(ngx_cycle_t *cycle);
void ngx_http_sender_domains_cluster_exit_process(ngx_cycle_t *cycle);
void ngx_http_sender_domains_cluster_tick(ngx_uint_t holds_lease);
ngx_uint_t ngx_http_sender_domains_cluster_refresher_runs(void);
ngx_int_t ngx_http_sender_domains_cluster_apply_row(ngx_log_t *log,
    char kind, ngx_str_t *ws, ngx_str_t *id, ngx_str_t *json, int64_t rev);

#endif /* NGX_HTTP_SENDER_DOMAINS_CLUSTER_H */
