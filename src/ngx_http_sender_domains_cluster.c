/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: cluster mode over etcd (issue 18,
 * docs/cluster.md): the directives.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_cluster.h"
#include "sd_etcd.h"


#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_TIMEOUT    3000     /* ms */
#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_LEASE_TTL  10       /* s */


static ngx_http_sender_domains_cluster_conf_t *
    ngx_http_sender_domains_cluster_get(ngx_conf_t *cf,
    ngx_http_sender_domains_main_conf_t *smcf);
static ngx_int_t ngx_http_sender_domains_cluster_url(ngx_conf_t *cf,
    ngx_str_t *url);
static ngx_int_t ngx_http_sender_domains_cluster_node_ok(ngx_str_t *node);


static ngx_http_sender_domains_cluster_conf_t *
ngx_http_sender_domains_cluster_get(ngx_conf_t *cf,
    ngx_http_sender_domains_main_conf_t *smcf)
{
    ngx_http_sender_domains_cluster_conf_t  *cc;

    if (smcf->cluster) {
        return smcf->cluster;
    }

    cc = ngx_pcalloc(cf->pool, sizeof(ngx_http_sender_domains_cluster_conf_t));
    if (cc == NULL) {
        return NULL;
    }

    cc->timeout = NGX_HTTP_SENDER_DOMAINS_CLUSTER_TIMEOUT;
    cc->lease_ttl = NGX_HTTP_SENDER_DOMAINS_CLUSTER_LEASE_TTL;

    smcf->cluster = cc;

    return cc;
}


/* sender_domains_cluster etcd URL...; */

char *
ngx_http_sender_domains_cluster_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    ngx_str_t                               *value, *ep;
    ngx_uint_t                               i;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "etcd") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster: unknown engine \"%V\", "
                           "expected \"etcd\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    cc = ngx_http_sender_domains_cluster_get(cf, smcf);
    if (cc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cc->endpoints) {
        return "is duplicate";
    }

    cc->endpoints = ngx_array_create(cf->pool, cf->args->nelts - 2,
                                     sizeof(ngx_str_t));
    if (cc->endpoints == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_sender_domains_cluster_url(cf, &value[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        ep = ngx_array_push(cc->endpoints);
        if (ep == NULL) {
            return NGX_CONF_ERROR;
        }

        *ep = value[i];
    }

    return NGX_CONF_OK;
}


/* an etcd endpoint: http(s)://host[:port], no path (a '/' at the end goes) */

static ngx_int_t
ngx_http_sender_domains_cluster_url(ngx_conf_t *cf, ngx_str_t *url)
{
    u_char  *host;

    if (url->len > 7 && ngx_strncmp(url->data, "http://", 7) == 0) {
        host = url->data + 7;

    } else if (url->len > 8 && ngx_strncmp(url->data, "https://", 8) == 0) {
        host = url->data + 8;

    } else {
        host = NULL;
    }

    while (url->len && url->data[url->len - 1] == '/') {
        url->len--;
    }

    if (host == NULL || host >= url->data + url->len
        || ngx_strlchr(host, url->data + url->len, '/') != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster: invalid etcd endpoint "
                           "\"%V\", expected \"http://host:port\" or "
                           "\"https://host:port\"", url);
        return NGX_ERROR;
    }

    url->data[url->len] = '\0';

    return NGX_OK;
}


/* sender_domains_cluster_prefix /sender-domains/v1/; */

char *
ngx_http_sender_domains_cluster_prefix(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    ngx_str_t                               *value;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    value = cf->args->elts;

    cc = ngx_http_sender_domains_cluster_get(cf, smcf);
    if (cc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cc->prefix.data) {
        return "is duplicate";
    }

    if (!sd_etcd_prefix_ok((char *) value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster_prefix: invalid prefix "
                           "\"%V\": it must start and end with \"/\", hold "
                           "only printable characters and be at most %d "
                           "bytes", &value[1], SD_ETCD_PREFIX_MAX);
        return NGX_CONF_ERROR;
    }

    cc->prefix = value[1];

    return NGX_CONF_OK;
}


/* sender_domains_cluster_node NAME; */

char *
ngx_http_sender_domains_cluster_node(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    ngx_str_t                               *value;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    value = cf->args->elts;

    cc = ngx_http_sender_domains_cluster_get(cf, smcf);
    if (cc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cc->node.data) {
        return "is duplicate";
    }

    if (ngx_http_sender_domains_cluster_node_ok(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster_node: invalid name "
                           "\"%V\": 1 to %d letters, digits, '.', '-', '_' "
                           "or ':'", &value[1],
                           NGX_HTTP_SENDER_DOMAINS_CLUSTER_NODE_MAX);
        return NGX_CONF_ERROR;
    }

    cc->node = value[1];

    return NGX_CONF_OK;
}


/* a node name is a key part and a log value: keep it plain */

static ngx_int_t
ngx_http_sender_domains_cluster_node_ok(ngx_str_t *node)
{
    u_char      c;
    ngx_uint_t  i;

    if (node->len == 0
        || node->len > NGX_HTTP_SENDER_DOMAINS_CLUSTER_NODE_MAX)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < node->len; i++) {
        c = node->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'
              || c == ':'))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The cluster needs the node's LMDB store (its cache); the prefix and the
 * node name need the cluster.  The node's name defaults to the host's.
 */

char *
ngx_http_sender_domains_cluster_init_conf(ngx_conf_t *cf)
{
    ngx_str_t                                node;
    ngx_http_sender_domains_main_conf_t     *smcf;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_sender_domains_module);
    cc = smcf->cluster;

    if (cc == NULL) {
        return NGX_CONF_OK;
    }

    if (cc->endpoints == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster_prefix and "
                           "sender_domains_cluster_node need "
                           "\"sender_domains_cluster etcd URL...\"");
        return NGX_CONF_ERROR;
    }

    if (smcf->db_path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster needs sender_domains_db: "
                           "each node keeps its local copy of the cluster's "
                           "rows in its own store");
        return NGX_CONF_ERROR;
    }

    if (cc->prefix.data == NULL) {
        ngx_str_set(&cc->prefix, SD_ETCD_PREFIX_DEFAULT);
    }

    if (cc->node.data == NULL) {
        node = cf->cycle->hostname;

        if (ngx_http_sender_domains_cluster_node_ok(&node) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "sender_domains_cluster: the host name "
                               "\"%V\" is not a usable node name; set "
                               "sender_domains_cluster_node", &node);
            return NGX_CONF_ERROR;
        }

        cc->node.data = ngx_pnalloc(cf->pool, node.len + 1);
        if (cc->node.data == NULL) {
            return NGX_CONF_ERROR;
        }

        cc->node.len = node.len;
        ngx_memcpy(cc->node.data, node.data, node.len);
        cc->node.data[node.len] = '\0';
    }

    return NGX_CONF_OK;
}


ngx_http_sender_domains_cluster_conf_t *
ngx_http_sender_domains_cluster_conf(ngx_cycle_t *cycle)
{
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_sender_domains_module);

    return smcf ? smcf->cluster : NULL;
}
