/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: cluster mode over etcd (issue 18,
 * docs/cluster.md): the directives.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_api.h"
#include "ngx_http_sender_domains_cluster.h"
#include "sd_etcd.h"


#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_TIMEOUT    3000     /* ms */
#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_LEASE_TTL  10       /* s */
#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_CLAIM_TRIES  3
#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_TAKEOVERS    3


/* an add's claim in flight */
typedef struct {
    ngx_http_request_t                 *request;
    ngx_http_sender_domains_cluster_next_pt  next;
    sd_etcd_claim_t                     claim;
    sd_etcd_txn_t                       first;      /* a NESTED answer */
    ngx_uint_t                          nested;
    ngx_uint_t                          tries;
    ngx_uint_t                          takeovers;
    ngx_uint_t                          again;
} ngx_http_sender_domains_cluster_claim_t;


static ngx_http_sender_domains_cluster_conf_t *
    ngx_http_sender_domains_cluster_get(ngx_conf_t *cf,
    ngx_http_sender_domains_main_conf_t *smcf);
static ngx_int_t ngx_http_sender_domains_cluster_url(ngx_conf_t *cf,
    ngx_str_t *url);
static ngx_int_t ngx_http_sender_domains_cluster_zone_add(ngx_conf_t *cf,
    ngx_http_sender_domains_cluster_conf_t *cc);
static ngx_int_t ngx_http_sender_domains_cluster_claim_send(
    ngx_http_sender_domains_cluster_claim_t *cl);
static void ngx_http_sender_domains_cluster_claim_done(
    ngx_http_sender_domains_etcd_call_t *call);
static ngx_int_t ngx_http_sender_domains_cluster_claim_verdict(
    ngx_http_sender_domains_cluster_claim_t *cl, sd_etcd_txn_t *txn);
static ngx_int_t ngx_http_sender_domains_cluster_owners_send(
    ngx_http_sender_domains_cluster_claim_t *cl, sd_etcd_txn_t *txn);
static void ngx_http_sender_domains_cluster_owners_done(
    ngx_http_sender_domains_etcd_call_t *call);
static void ngx_http_sender_domains_cluster_takeover_done(
    ngx_http_sender_domains_etcd_call_t *call);
static ngx_int_t ngx_http_sender_domains_cluster_claim_again(
    ngx_http_sender_domains_cluster_claim_t *cl);
static ngx_int_t ngx_http_sender_domains_cluster_claim_taken(
    ngx_http_sender_domains_cluster_claim_t *cl);
static void ngx_http_sender_domains_cluster_claim_free(void *data);


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

    cc->etcd.timeout = NGX_HTTP_SENDER_DOMAINS_CLUSTER_TIMEOUT;
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

    if (cc->etcd.endpoints) {
        return "is duplicate";
    }

    cc->etcd.endpoints = ngx_array_create(cf->pool, cf->args->nelts - 2,
                                     sizeof(ngx_str_t));
    if (cc->etcd.endpoints == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_sender_domains_cluster_url(cf, &value[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        ep = ngx_array_push(cc->etcd.endpoints);
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

    if (!sd_etcd_node_ok((char *) value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster_node: invalid name "
                           "\"%V\": 1 to %d letters, digits, '.', '-', '_' "
                           "or ':'", &value[1],
                           SD_ETCD_NODE_MAX);
        return NGX_CONF_ERROR;
    }

    cc->node = value[1];

    return NGX_CONF_OK;
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

    if (cc->etcd.endpoints == NULL) {
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

        if (!sd_etcd_node_ok((char *) node.data, node.len)) {
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

    if (ngx_http_sender_domains_cluster_zone_add(cf, cc) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* ---- the node's shared state, for every worker ---- */

static ngx_int_t
ngx_http_sender_domains_cluster_init_zone(ngx_shm_zone_t *shm_zone,
    void *data)
{
    return ngx_http_sender_domains_shm_init(shm_zone, data,
                                 sizeof(ngx_http_sender_domains_cluster_sh_t));
}


static ngx_int_t
ngx_http_sender_domains_cluster_zone_add(ngx_conf_t *cf,
    ngx_http_sender_domains_cluster_conf_t *cc)
{
    ngx_str_t        name = ngx_string("sender_domains_cluster");
    ngx_shm_zone_t  *zone;

    zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                 &ngx_http_sender_domains_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_sender_domains_cluster_init_zone;
    cc->zone = zone;

    return NGX_OK;
}


/* ---- an add's claim: one etcd Txn before anything is written ---- */


/*
 * An add (or a migrate) of "id" by "ws" in cluster mode: the claim Txn of
 * docs/cluster.md decides, for every node at once, whether the name is the
 * workspace's; only then does "next" run the local add flow, with the row
 * already in this node's store.  NGX_DONE: the request goes on from the
 * Txn's answer.
 */

ngx_int_t
ngx_http_sender_domains_cluster_claim(ngx_http_request_t *r, ngx_str_t *ws,
    ngx_str_t *id, const char *row, size_t row_len,
    ngx_http_sender_domains_cluster_next_pt next)
{
    u_char                                   *p;
    ngx_int_t                                 rc;
    ngx_pool_cleanup_t                       *cln;
    ngx_http_sender_domains_cluster_conf_t   *cc;
    ngx_http_sender_domains_cluster_claim_t  *cl;

    cc = ngx_http_sender_domains_cluster_conf((ngx_cycle_t *) ngx_cycle);

    cl = ngx_pcalloc(r->pool, sizeof(ngx_http_sender_domains_cluster_claim_t));
    p = ngx_pnalloc(r->pool, row_len + 1);
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (cl == NULL || p == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(p, row, row_len);
    p[row_len] = '\0';

    cl->request = r;
    cl->next = next;
    cl->claim.prefix = (char *) cc->prefix.data;
    cl->claim.ws = (char *) ws->data;
    cl->claim.ws_len = ws->len;
    cl->claim.id = (char *) id->data;
    cl->claim.id_len = id->len;
    cl->claim.row = (char *) p;
    cl->claim.row_len = row_len;

    cln->handler = ngx_http_sender_domains_cluster_claim_free;
    cln->data = cl;

    rc = ngx_http_sender_domains_cluster_claim_send(cl);
    if (rc != NGX_OK) {
        return rc;
    }

    r->main->count++;

    return NGX_DONE;
}


static ngx_int_t
ngx_http_sender_domains_cluster_claim_send(
    ngx_http_sender_domains_cluster_claim_t *cl)
{
    char                *body;
    ngx_http_request_t  *r = cl->request;

    body = cl->nested ? sd_etcd_claim_nested_txn(&cl->claim, &cl->first)
                      : sd_etcd_claim_txn(&cl->claim);

    if (body == NULL) {
        /* a name deeper than etcd's compares allow, or no memory */
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_identity",
                   "This name has too many labels to be claimed.");
    }

    if (ngx_http_sender_domains_cluster_post(r->pool, r->connection->log,
                                             "/v3/kv/txn", body,
                                   ngx_http_sender_domains_cluster_claim_done,
                                             cl)
        != NGX_OK)
    {
        return ngx_http_sender_domains_cluster_unavailable(r);
    }

    return NGX_OK;
}


static void
ngx_http_sender_domains_cluster_claim_done(
    ngx_http_sender_domains_etcd_call_t *call)
{
    ngx_int_t                                 rc;
    sd_etcd_txn_t                             txn;
    ngx_http_request_t                       *r;
    ngx_http_sender_domains_cluster_claim_t  *cl;

    cl = call->data;
    r = cl->request;

    ngx_memzero(&txn, sizeof(sd_etcd_txn_t));

    if (!ngx_http_sender_domains_etcd_ok(call)
        || sd_etcd_parse_txn((char *) call->body.data, call->body.len, &txn)
           != SD_ETCD_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sender_domains: the claim of \"%V\" for workspace "
                      "\"%V\" got no answer from the cluster",
                      &(ngx_str_t) { cl->claim.id_len,
                                     (u_char *) cl->claim.id },
                      ngx_http_sender_domains_log_esc(&(ngx_str_t) {
                          cl->claim.ws_len, (u_char *) cl->claim.ws }));
        sd_etcd_txn_free(&txn);
        rc = ngx_http_sender_domains_cluster_unavailable(r);
        ngx_http_finalize_request(r, rc);
        return;
    }

    rc = ngx_http_sender_domains_cluster_claim_verdict(cl, &txn);

    if (cl->again) {
        /* sent again: its answer comes back here */
        cl->again = 0;
        return;
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * Applies a row etcd holds to this node's store at once (the node does not
 * wait for its watch), so the local add flow finds it.
 */

static ngx_int_t
ngx_http_sender_domains_cluster_claim_apply(
    ngx_http_sender_domains_cluster_claim_t *cl, const char *row,
    size_t row_len, int64_t rev)
{
    ngx_str_t  ws, id, json;

    ws.data = (u_char *) cl->claim.ws;
    ws.len = cl->claim.ws_len;
    id.data = (u_char *) cl->claim.id;
    id.len = cl->claim.id_len;
    json.data = (u_char *) row;
    json.len = row_len;

    return ngx_http_sender_domains_cluster_apply_row(
               cl->request->connection->log, SD_ETCD_KIND_ROW, &ws, &id,
               &json, rev);
}


static ngx_int_t
ngx_http_sender_domains_cluster_claim_verdict(
    ngx_http_sender_domains_cluster_claim_t *cl, sd_etcd_txn_t *txn)
{
    int64_t               rev;
    ngx_int_t             rc;
    sd_etcd_claim_e       v;
    ngx_http_request_t   *r = cl->request;
    const sd_etcd_kv_t   *holder, *own;

    v = sd_etcd_claim_verdict(&cl->claim, txn, cl->nested ? &cl->first : NULL,
                              &holder);

    switch (v) {

    case SD_ETCD_CLAIM_DONE:
        rev = txn->revision;
        rc = ngx_http_sender_domains_cluster_claim_apply(cl, cl->claim.row,
                 cl->claim.row_len, rev);
        sd_etcd_txn_free(txn);

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" claimed \"%*s\" in "
                      "the cluster at revision %L",
                      ngx_http_sender_domains_log_esc(&(ngx_str_t) {
                          cl->claim.ws_len, (u_char *) cl->claim.ws }),
                      cl->claim.id_len, cl->claim.id, rev);
        return cl->next(r);

    case SD_ETCD_CLAIM_EXISTS:
        /* the workspace's own row: the local flow says what it is */
        own = (txn->nresponses && txn->responses[0].nkvs)
              ? &txn->responses[0].kvs[0] : NULL;
        rc = own ? ngx_http_sender_domains_cluster_claim_apply(cl, own->value,
                       own->value_len, own->mod_revision)
                 : NGX_OK;
        sd_etcd_txn_free(txn);

        return rc == NGX_OK ? cl->next(r) : NGX_HTTP_INTERNAL_SERVER_ERROR;

    case SD_ETCD_CLAIM_CONFLICT:
        if (holder != NULL
            && cl->takeovers < NGX_HTTP_SENDER_DOMAINS_CLUSTER_TAKEOVERS)
        {
            /* an expired claim stops blocking at its second: look */
            rc = ngx_http_sender_domains_cluster_owners_send(cl, txn);
            sd_etcd_txn_free(txn);

            cl->again = (rc == NGX_OK);

            return rc;
        }

        sd_etcd_txn_free(txn);

        return ngx_http_sender_domains_cluster_claim_taken(cl);

    case SD_ETCD_CLAIM_NESTED:
        if (cl->nested) {
            sd_etcd_txn_free(&cl->first);
        }

        cl->first = *txn;       /* kept for the nested shape */
        cl->nested = 1;
        break;

    case SD_ETCD_CLAIM_RETRY:
        sd_etcd_txn_free(txn);

        if (cl->nested) {
            sd_etcd_txn_free(&cl->first);
            cl->nested = 0;
        }

        break;

    default:
        sd_etcd_txn_free(txn);
        return ngx_http_sender_domains_cluster_unavailable(r);
    }

    if (++cl->tries >= NGX_HTTP_SENDER_DOMAINS_CLUSTER_CLAIM_TRIES) {
        return ngx_http_sender_domains_cluster_unavailable(r);
    }

    rc = ngx_http_sender_domains_cluster_claim_send(cl);

    cl->again = (rc == NGX_OK);

    return rc;
}


/* 409: another workspace holds the tree */

static ngx_int_t
ngx_http_sender_domains_cluster_claim_taken(
    ngx_http_sender_domains_cluster_claim_t *cl)
{
    return ngx_http_sender_domains_error(cl->request, NGX_HTTP_CONFLICT,
               "already_registered",
               "Already registered in another workspace.");
}


/*
 * Taking over expired claims (docs/cluster.md, "Taking over an expired
 * claim"): the claim Txn found other workspaces' claims in the way; read
 * their owners' rows, and when every one is free to take (unverified past
 * claim_expires_at by this node's clock, as the single-node store's claim
 * check says), delete them with their rows marked failed in one Txn
 * guarded by the revisions read, then claim again.
 */

static ngx_int_t
ngx_http_sender_domains_cluster_owners_send(
    ngx_http_sender_domains_cluster_claim_t *cl, sd_etcd_txn_t *txn)
{
    char                *body;
    size_t               n;
    ngx_http_request_t  *r = cl->request;
    const sd_etcd_kv_t  *others[SD_ETCD_TAKEOVER_MAX];

    cl->takeovers++;

    n = sd_etcd_claim_others(&cl->claim, txn, others, SD_ETCD_TAKEOVER_MAX);

    body = n ? sd_etcd_owners_txn(cl->claim.prefix, others, n) : NULL;
    if (body == NULL) {
        return ngx_http_sender_domains_cluster_claim_taken(cl);
    }

    if (ngx_http_sender_domains_cluster_post(r->pool, r->connection->log,
                                             "/v3/kv/txn", body,
                                  ngx_http_sender_domains_cluster_owners_done,
                                             cl)
        != NGX_OK)
    {
        return ngx_http_sender_domains_cluster_unavailable(r);
    }

    return NGX_OK;
}


static void
ngx_http_sender_domains_cluster_owners_done(
    ngx_http_sender_domains_etcd_call_t *call)
{
    char                                     *body;
    ngx_int_t                                 rc;
    sd_etcd_txn_t                             txn;
    sd_etcd_claim_e                           v;
    ngx_http_request_t                       *r;
    const sd_etcd_kv_t                       *holder;
    ngx_http_sender_domains_main_conf_t      *smcf;
    ngx_http_sender_domains_cluster_claim_t  *cl;

    cl = call->data;
    r = cl->request;

    ngx_memzero(&txn, sizeof(sd_etcd_txn_t));

    if (!ngx_http_sender_domains_etcd_ok(call)
        || sd_etcd_parse_txn((char *) call->body.data, call->body.len, &txn)
           != SD_ETCD_OK)
    {
        sd_etcd_txn_free(&txn);
        ngx_http_finalize_request(r,
                           ngx_http_sender_domains_cluster_unavailable(r));
        return;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    body = sd_etcd_takeover_txn(cl->claim.prefix, &txn, ngx_time(),
                                smcf->purge_after, &v, &holder);

    switch (v) {

    case SD_ETCD_CLAIM_DONE:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" takes over the "
                      "expired claims in the way of \"%*s\"",
                      ngx_http_sender_domains_log_esc(&(ngx_str_t) {
                          cl->claim.ws_len, (u_char *) cl->claim.ws }),
                      cl->claim.id_len, cl->claim.id);

        rc = ngx_http_sender_domains_cluster_post(r->pool,
                 r->connection->log, "/v3/kv/txn", body,
                 ngx_http_sender_domains_cluster_takeover_done, cl);

        sd_etcd_txn_free(&txn);

        if (rc != NGX_OK) {
            ngx_http_finalize_request(r,
                           ngx_http_sender_domains_cluster_unavailable(r));
        }

        return;

    case SD_ETCD_CLAIM_CONFLICT:
        sd_etcd_txn_free(&txn);
        ngx_http_finalize_request(r,
                           ngx_http_sender_domains_cluster_claim_taken(cl));
        return;

    case SD_ETCD_CLAIM_RETRY:
        sd_etcd_txn_free(&txn);
        rc = ngx_http_sender_domains_cluster_claim_again(cl);

        if (rc != NGX_OK) {
            ngx_http_finalize_request(r, rc);
        }

        return;

    default:
        sd_etcd_txn_free(&txn);
        ngx_http_finalize_request(r,
                           ngx_http_sender_domains_cluster_unavailable(r));
        return;
    }
}


static void
ngx_http_sender_domains_cluster_takeover_done(
    ngx_http_sender_domains_etcd_call_t *call)
{
    ngx_int_t                                 rc;
    sd_etcd_txn_t                             txn;
    ngx_http_request_t                       *r;
    ngx_http_sender_domains_cluster_claim_t  *cl;

    cl = call->data;
    r = cl->request;

    ngx_memzero(&txn, sizeof(sd_etcd_txn_t));

    if (!ngx_http_sender_domains_etcd_ok(call)
        || sd_etcd_parse_txn((char *) call->body.data, call->body.len, &txn)
           != SD_ETCD_OK)
    {
        sd_etcd_txn_free(&txn);
        ngx_http_finalize_request(r,
                           ngx_http_sender_domains_cluster_unavailable(r));
        return;
    }

    if (txn.succeeded) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "sender_domains: expired claims in the way of \"%*s\" "
                      "released for workspace \"%V\" at revision %L; their "
                      "rows are marked failed (claim_expired)",
                      cl->claim.id_len, cl->claim.id,
                      ngx_http_sender_domains_log_esc(&(ngx_str_t) {
                          cl->claim.ws_len, (u_char *) cl->claim.ws }),
                      txn.revision);
    }

    sd_etcd_txn_free(&txn);

    /* taken over or changed meanwhile: the claim Txn decides again */
    rc = ngx_http_sender_domains_cluster_claim_again(cl);

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc);
    }
}


/* the claim Txn from the start; NGX_OK: sent, its answer comes back */

static ngx_int_t
ngx_http_sender_domains_cluster_claim_again(
    ngx_http_sender_domains_cluster_claim_t *cl)
{
    if (cl->nested) {
        sd_etcd_txn_free(&cl->first);
        cl->nested = 0;
    }

    return ngx_http_sender_domains_cluster_claim_send(cl);
}


static void
ngx_http_sender_domains_cluster_claim_free(void *data)
{
    ngx_http_sender_domains_cluster_claim_t  *cl = data;

    if (cl->nested) {
        sd_etcd_txn_free(&cl->first);
        cl->nested = 0;
    }
}
