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


#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_NODE_MAX   64


typedef struct {
    ngx_array_t                *endpoints;      /* ngx_str_t, no '/' at end */
    ngx_str_t                   prefix;         /* NUL-terminated */
    ngx_str_t                   node;           /* NUL-terminated */
    ngx_msec_t                  timeout;        /* one etcd call */
    time_t                      lease_ttl;      /* seconds */
} ngx_http_sender_domains_cluster_conf_t;


char *ngx_http_sender_domains_cluster_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_sender_domains_cluster_prefix(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_sender_domains_cluster_node(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
/* at the end of the main conf: defaults, and what needs what */
char *ngx_http_sender_domains_cluster_init_conf(ngx_conf_t *cf);

/* the cycle's cluster conf, NULL when not in cluster mode */
ngx_http_sender_domains_cluster_conf_t *ngx_http_sender_domains_cluster_conf(
    ngx_cycle_t *cycle);

#endif /* NGX_HTTP_SENDER_DOMAINS_CLUSTER_H */
