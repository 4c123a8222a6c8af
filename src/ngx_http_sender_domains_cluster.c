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
#include "sd_tls.h"


#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_TIMEOUT    3000     /* ms */
#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_LEASE_TTL  10       /* s */
#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_CLAIM_TRIES  3
/* with a limit, each round of a workspace's raced adds lets one through */
#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_LIMIT_TRIES  10
#define NGX_HTTP_SENDER_DOMAINS_CLUSTER_TAKEOVERS    3


/*
 * A takeover's owners' read (docs/cluster.md, "Taking over an expired
 * claim"): kept while an address's spelling is searched, and until the
 * takeover's answer for the owners' webhook events.
 */
typedef struct {
    sd_etcd_txn_t                       owners;
    ngx_uint_t                          has_owners;
    ngx_uint_t                          searched;
    time_t                              takeover_at;
    unsigned char                       missing[SD_ETCD_TAKEOVER_MAX];
    const char                         *prefix;
    ngx_pool_t                         *pool;
    ngx_log_t                          *log;
    ngx_http_sender_domains_etcd_handler_pt  reread;  /* the owners' read's
                                                       handler */
    void                               *data;
} ngx_http_sender_domains_cluster_owners_t;


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
    ngx_http_sender_domains_cluster_owners_t  ow;
} ngx_http_sender_domains_cluster_claim_t;


static ngx_http_sender_domains_cluster_conf_t *
    ngx_http_sender_domains_cluster_get(ngx_conf_t *cf,
    ngx_http_sender_domains_main_conf_t *smcf);
static ngx_int_t ngx_http_sender_domains_cluster_url(ngx_conf_t *cf,
    ngx_str_t *url);
static ngx_int_t ngx_http_sender_domains_cluster_zone_add(ngx_conf_t *cf,
    ngx_http_sender_domains_cluster_conf_t *cc);
static char *ngx_http_sender_domains_cluster_ssl_init(ngx_conf_t *cf,
    ngx_http_sender_domains_cluster_conf_t *cc);
static void ngx_http_sender_domains_cluster_ssl_wipe(void *data);
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
static void ngx_http_sender_domains_cluster_owners_init(
    ngx_http_sender_domains_cluster_owners_t *ow, ngx_http_request_t *r,
    const char *prefix, ngx_http_sender_domains_etcd_handler_pt reread,
    void *data);
static void ngx_http_sender_domains_cluster_owners_keep(
    ngx_http_sender_domains_cluster_owners_t *ow, sd_etcd_txn_t *txn);
static void ngx_http_sender_domains_cluster_owners_drop(
    ngx_http_sender_domains_cluster_owners_t *ow);
static ngx_int_t ngx_http_sender_domains_cluster_respell(
    ngx_http_sender_domains_cluster_owners_t *ow, sd_etcd_txn_t *txn);
static void ngx_http_sender_domains_cluster_respelled(
    ngx_http_sender_domains_etcd_call_t *call);
static void ngx_http_sender_domains_cluster_takeover_events(
    ngx_http_request_t *r, ngx_http_sender_domains_cluster_owners_t *ow);


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
 * sender_domains_cluster_ssl_trusted_certificate FILE;
 * sender_domains_cluster_ssl_certificate FILE;
 * sender_domains_cluster_ssl_certificate_key FILE;
 *
 * Read by the master now, as nginx reads ssl_certificate_key (a key only
 * root may read works, a reload reads the files again), and each checked
 * on its own; the pair and the endpoints at the end of the main conf.
 */

char *
ngx_http_sender_domains_cluster_ssl_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    int                                      rc;
    char                                     err[SD_TLS_ERR_LEN];
    ngx_str_t                               *value;
    ngx_uint_t                               key;
    ngx_pool_cleanup_t                      *cln;
    ngx_http_sender_domains_etcd_pem_t      *f;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    cc = ngx_http_sender_domains_cluster_get(cf, smcf);
    if (cc == NULL) {
        return NGX_CONF_ERROR;
    }

    f = (ngx_http_sender_domains_etcd_pem_t *) ((u_char *) cc + cmd->offset);

    if (f->path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    f->path = value[1];

    if (ngx_conf_full_name(cf->cycle, &f->path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    key = (f == &cc->etcd.ssl_certificate_key);

    if (key) {
        /* before the read: the key's bytes are wiped whatever follows */
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_sender_domains_cluster_ssl_wipe;
        cln->data = f;
    }

    if (ngx_http_sender_domains_conf_read_file(cf, (char *) cmd->name.data,
                                     &f->path,
                                     key ? SD_TLS_KEY_MAX : SD_TLS_FILE_MAX,
                                     key, &f->pem)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    err[0] = '\0';

    if (f == &cc->etcd.ssl_trusted_certificate) {
        rc = sd_tls_check_ca((char *) f->pem.data, f->pem.len, err,
                             sizeof(err)) > 0 ? 0 : -1;

    } else if (key) {
        rc = sd_tls_check_key((char *) f->pem.data, f->pem.len, err,
                              sizeof(err));

    } else {
        rc = sd_tls_check_cert((char *) f->pem.data, f->pem.len, err,
                               sizeof(err));
    }

    if (rc != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V: \"%V\": %s",
                           &cmd->name, &f->path, err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_sender_domains_cluster_ssl_wipe(void *data)
{
    ngx_http_sender_domains_etcd_pem_t  *f = data;

    if (f->pem.data) {
        ngx_explicit_memzero(f->pem.data, f->pem.len);
    }
}


/*
 * TLS to etcd is all or nothing: the files need the cluster, every
 * endpoint https:// (a mixed list would send some members the writes in
 * the clear), a certificate its key and the key its certificate.
 */

static char *
ngx_http_sender_domains_cluster_ssl_init(ngx_conf_t *cf,
    ngx_http_sender_domains_cluster_conf_t *cc)
{
    char                                 err[SD_TLS_ERR_LEN];
    ngx_str_t                           *ep;
    ngx_uint_t                           i;
    ngx_http_sender_domains_etcd_pem_t  *ca, *cert, *key;

    ca = &cc->etcd.ssl_trusted_certificate;
    cert = &cc->etcd.ssl_certificate;
    key = &cc->etcd.ssl_certificate_key;

    if (ca->path.data == NULL && cert->path.data == NULL
        && key->path.data == NULL)
    {
        return NGX_CONF_OK;
    }

    if (cc->etcd.endpoints == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster_ssl_trusted_certificate, "
                           "sender_domains_cluster_ssl_certificate and "
                           "sender_domains_cluster_ssl_certificate_key need "
                           "\"sender_domains_cluster etcd https://...\"");
        return NGX_CONF_ERROR;
    }

    ep = cc->etcd.endpoints->elts;

    for (i = 0; i < cc->etcd.endpoints->nelts; i++) {
        if (ngx_strncmp(ep[i].data, "https://", 8) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "sender_domains_cluster: the etcd endpoint "
                               "\"%V\" is not https://, but "
                               "sender_domains_cluster_ssl_* are set: with "
                               "TLS every endpoint must be https://",
                               &ep[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (cert->path.data && key->path.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster_ssl_certificate \"%V\" "
                           "needs sender_domains_cluster_ssl_certificate_key",
                           &cert->path);
        return NGX_CONF_ERROR;
    }

    if (key->path.data && cert->path.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster_ssl_certificate_key "
                           "\"%V\" needs "
                           "sender_domains_cluster_ssl_certificate",
                           &key->path);
        return NGX_CONF_ERROR;
    }

    err[0] = '\0';

    if (cert->path.data
        && sd_tls_check_pair((char *) cert->pem.data, cert->pem.len,
                             (char *) key->pem.data, key->pem.len, err,
                             sizeof(err))
           != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_cluster_ssl_certificate \"%V\" "
                           "and sender_domains_cluster_ssl_certificate_key "
                           "\"%V\": %s", &cert->path, &key->path, err);
        return NGX_CONF_ERROR;
    }

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

    if (ngx_http_sender_domains_cluster_ssl_init(cf, cc) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
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
    ngx_str_t *id, const char *row, size_t row_len, ngx_uint_t limit,
    ngx_http_sender_domains_cluster_next_pt next)
{
    u_char                                   *p;
    ngx_int_t                                 rc;
    ngx_pool_cleanup_t                       *cln;
    ngx_http_sender_domains_cluster_sh_t     *sh;
    ngx_http_sender_domains_cluster_conf_t   *cc;
    ngx_http_sender_domains_cluster_claim_t  *cl;

    cc = ngx_http_sender_domains_cluster_conf((ngx_cycle_t *) ngx_cycle);
    sh = ngx_http_sender_domains_cluster_sh();

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

    ngx_http_sender_domains_cluster_owners_init(&cl->ow, r, cl->claim.prefix,
                                  ngx_http_sender_domains_cluster_owners_done,
                                                cl);

    /*
     * the caller counted the workspace's rows in this node's store, which
     * holds etcd's as of the revision the node applied
     */
    cl->claim.limit = limit;
    cl->claim.limit_rev = sh ? (int64_t) sh->revision : 0;

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

    case SD_ETCD_CLAIM_LIMIT:
        sd_etcd_txn_free(txn);

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" holds its limit of "
                      "%uz identities in the cluster; \"%*s\" refused",
                      ngx_http_sender_domains_log_esc(&(ngx_str_t) {
                          cl->claim.ws_len, (u_char *) cl->claim.ws }),
                      cl->claim.limit, cl->claim.id_len, cl->claim.id);

        return ngx_http_sender_domains_limit_error(r, cl->claim.limit,
                                                   "identities");

    case SD_ETCD_CLAIM_NESTED:
        if (cl->nested) {
            sd_etcd_txn_free(&cl->first);
        }

        /* the count in the answer was taken at its revision */
        cl->claim.limit_rev = txn->revision;
        cl->first = *txn;       /* kept for the nested shape */
        cl->nested = 1;
        break;

    case SD_ETCD_CLAIM_RETRY:
        cl->claim.limit_rev = txn->revision;
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

    if (++cl->tries >= (cl->claim.limit
                        ? NGX_HTTP_SENDER_DOMAINS_CLUSTER_LIMIT_TRIES
                        : NGX_HTTP_SENDER_DOMAINS_CLUSTER_CLAIM_TRIES))
    {
        return ngx_http_sender_domains_cluster_unavailable(r);
    }

    rc = ngx_http_sender_domains_cluster_claim_send(cl);

    cl->again = (rc == NGX_OK);

    return rc;
}


/* a Txn's answer, parsed; NULL: etcd did not answer (txn is freed) */

static sd_etcd_txn_t *
ngx_http_sender_domains_cluster_answer(
    ngx_http_sender_domains_etcd_call_t *call, sd_etcd_txn_t *txn)
{
    ngx_memzero(txn, sizeof(sd_etcd_txn_t));

    if (!ngx_http_sender_domains_etcd_ok(call)
        || sd_etcd_parse_txn((char *) call->body.data, call->body.len, txn)
           != SD_ETCD_OK)
    {
        sd_etcd_txn_free(txn);
        return NULL;
    }

    return txn;
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
    cl->ow.searched = 0;

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

    if (ngx_http_sender_domains_cluster_answer(call, &txn) == NULL) {
        ngx_http_finalize_request(r,
                           ngx_http_sender_domains_cluster_unavailable(r));
        return;
    }

    switch (ngx_http_sender_domains_cluster_respell(&cl->ow, &txn)) {

    case NGX_OK:
        return;         /* read again under the rows' spelling */

    case NGX_ERROR:
        ngx_http_finalize_request(r,
                           ngx_http_sender_domains_cluster_unavailable(r));
        return;

    default:
        break;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    cl->ow.takeover_at = ngx_time();

    body = sd_etcd_takeover_txn(cl->claim.prefix, &txn, cl->ow.takeover_at,
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

        /* kept for the owners' webhook events, once the takeover commits */
        ngx_http_sender_domains_cluster_owners_keep(&cl->ow, &txn);

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

    if (ngx_http_sender_domains_cluster_answer(call, &txn) == NULL) {
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

        ngx_http_sender_domains_cluster_takeover_events(r, &cl->ow);
    }

    sd_etcd_txn_free(&txn);
    ngx_http_sender_domains_cluster_owners_drop(&cl->ow);

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

    ngx_http_sender_domains_cluster_owners_drop(&cl->ow);
}


/*
 * An owners' read that found no row under an address claim's spelling (the
 * claim key is lower case, the row key keeps "CEO@acme.com" as written):
 * once per read, the owners' keys are searched and the owners read again
 * under the spelling found, and ow->reread gets that answer.  NGX_OK: sent,
 * *txn kept in ow; NGX_DECLINED: nothing to search, *txn untouched;
 * NGX_ERROR: not sent, *txn freed.
 */

static ngx_int_t
ngx_http_sender_domains_cluster_respell(
    ngx_http_sender_domains_cluster_owners_t *ow, sd_etcd_txn_t *txn)
{
    char  *body;

    if (ow->searched
        || sd_etcd_owners_unfound(txn, ow->missing, SD_ETCD_TAKEOVER_MAX) == 0)
    {
        return NGX_DECLINED;
    }

    ow->searched = 1;

    body = sd_etcd_owners_search_txn(ow->prefix, txn, ow->missing);
    if (body == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_sender_domains_cluster_owners_keep(ow, txn);

    if (ngx_http_sender_domains_cluster_post(ow->pool, ow->log, "/v3/kv/txn",
                                             body,
                                  ngx_http_sender_domains_cluster_respelled,
                                             ow)
        != NGX_OK)
    {
        ngx_http_sender_domains_cluster_owners_drop(ow);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_sender_domains_cluster_respelled(
    ngx_http_sender_domains_etcd_call_t *call)
{
    char                                      *body,
                                              *names[SD_ETCD_TAKEOVER_MAX];
    size_t                                     i, n;
    sd_etcd_txn_t                              found;
    const sd_etcd_kv_t                        *claims[SD_ETCD_TAKEOVER_MAX];
    ngx_http_sender_domains_etcd_call_t        failed;
    ngx_http_sender_domains_cluster_owners_t  *ow = call->data;

    ngx_memzero(names, sizeof(names));

    /* no answer: read again as before, and the claims hold (409) */
    if (ngx_http_sender_domains_cluster_answer(call, &found) != NULL) {
        n = sd_etcd_owners_found(ow->prefix, &ow->owners, ow->missing,
                                 &found, names);
        sd_etcd_txn_free(&found);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ow->log, 0,
                       "sender_domains: takeover: %uz owners' rows found "
                       "under another spelling", n);
    }

    /* the read succeeded, so every claim is in it */
    n = sd_etcd_owners_claims(&ow->owners, claims, SD_ETCD_TAKEOVER_MAX);
    body = n ? sd_etcd_owners_named_txn(ow->prefix, claims, names, n) : NULL;

    for (i = 0; i < SD_ETCD_TAKEOVER_MAX; i++) {
        free(names[i]);
    }

    ngx_http_sender_domains_cluster_owners_drop(ow);

    if (body != NULL
        && ngx_http_sender_domains_cluster_post(ow->pool, ow->log,
                                                "/v3/kv/txn", body,
                                                ow->reread, ow->data)
           == NGX_OK)
    {
        return;
    }

    /* not sent: the flow answers as when etcd is out of reach */
    ngx_memzero(&failed, sizeof(ngx_http_sender_domains_etcd_call_t));
    failed.outcome = NGX_HTTP_SENDER_DOMAINS_ETCD_UNAVAILABLE;
    failed.data = ow->data;

    ow->reread(&failed);
}


static void
ngx_http_sender_domains_cluster_owners_init(
    ngx_http_sender_domains_cluster_owners_t *ow, ngx_http_request_t *r,
    const char *prefix, ngx_http_sender_domains_etcd_handler_pt reread,
    void *data)
{
    ow->prefix = prefix;
    ow->pool = r->pool;
    ow->log = r->connection->log;
    ow->reread = reread;
    ow->data = data;
}


/* the owners' read is kept (it owns txn's memory now), or let go */

static void
ngx_http_sender_domains_cluster_owners_keep(
    ngx_http_sender_domains_cluster_owners_t *ow, sd_etcd_txn_t *txn)
{
    ngx_http_sender_domains_cluster_owners_drop(ow);

    ow->owners = *txn;
    ow->has_owners = 1;
}


static void
ngx_http_sender_domains_cluster_owners_drop(
    ngx_http_sender_domains_cluster_owners_t *ow)
{
    if (ow->has_owners) {
        sd_etcd_txn_free(&ow->owners);
        ow->has_owners = 0;
    }
}


/*
 * The owners' rows a committed takeover marked failed reach every node
 * through the watch, which makes no webhook event: this node, which made
 * the change, queues their events (docs/cluster.md).
 */

static void
ngx_http_sender_domains_cluster_takeover_events(ngx_http_request_t *r,
    ngx_http_sender_domains_cluster_owners_t *ow)
{
    size_t                                n;
    sd_store_t                           *st;
    ngx_http_sender_domains_main_conf_t  *smcf;

    st = ngx_http_sender_domains_store();
    if (st == NULL) {
        return;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    n = sd_etcd_takeover_events(st, ow->prefix, &ow->owners, ow->takeover_at,
                                smcf->purge_after);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "sender_domains: takeover events of %uz rows queued", n);
}


/* ---- PUT /legacy's claims: decided in etcd before the store ---- */


#define NGX_HTTP_SENDER_DOMAINS_LEGACY_ROUNDS  3

/* one claim key the list touches: an address's, or an ancestor's */
typedef struct {
    u_char                             *key;
    size_t                              len;
    u_char                             *value;      /* NULL: absent */
    size_t                              value_len;
    int64_t                             mod;
    int64_t                             created;    /* put by this PUT */
    ngx_uint_t                          mark;       /* in Txn number */
} ngx_http_sender_domains_lkey_t;


typedef struct {
    ngx_http_request_t                 *request;
    ngx_str_t                           ws;
    const char                         *prefix;
    size_t                              n;
    ngx_uint_t                         *own;        /* per address */
    ngx_uint_t                         *first;      /* per address: its */
    ngx_uint_t                         *count;      /* ancestors in anc */
    ngx_uint_t                         *anc;
    ngx_http_sender_domains_lkey_t     *keys;
    size_t                              nkeys;
    size_t                              at;
    size_t                              end;
    ngx_uint_t                          txns;
    ngx_uint_t                          rounds;
    ngx_uint_t                          takeovers;
    sd_etcd_guard_t                    *g;
    ngx_uint_t                         *gi;
    size_t                              ng;
    int                                *conflict;
    ngx_int_t                           outcome;    /* after the rollback */
    ngx_http_sender_domains_cluster_legacy_pt  done;
    void                               *data;
    ngx_http_sender_domains_cluster_owners_t  ow;
} ngx_http_sender_domains_cluster_legacy_t;


static void ngx_http_sender_domains_cluster_legacy_free(void *data);
static void ngx_http_sender_domains_cluster_legacy_owners(
    ngx_http_sender_domains_etcd_call_t *call);


static ngx_int_t ngx_http_sender_domains_cluster_legacy_read(
    ngx_http_sender_domains_cluster_legacy_t *lg);
static ngx_int_t ngx_http_sender_domains_cluster_legacy_decide(
    ngx_http_sender_domains_cluster_legacy_t *lg);
static ngx_int_t ngx_http_sender_domains_cluster_legacy_claim(
    ngx_http_sender_domains_cluster_legacy_t *lg);
static ngx_int_t ngx_http_sender_domains_cluster_legacy_end(
    ngx_http_sender_domains_cluster_legacy_t *lg, ngx_int_t outcome);


static int ngx_libc_cdecl
ngx_http_sender_domains_lkey_cmp(const void *a, const void *b)
{
    int                                    c;
    const ngx_http_sender_domains_lkey_t  *x = a, *y = b;

    c = ngx_memcmp(x->key, y->key, ngx_min(x->len, y->len));

    if (c != 0) {
        return c;
    }

    return (x->len > y->len) - (x->len < y->len);
}


static ngx_uint_t
ngx_http_sender_domains_lkey_find(ngx_http_sender_domains_cluster_legacy_t *lg,
    u_char *key, size_t len)
{
    ngx_http_sender_domains_lkey_t   k, *f;

    k.key = key;
    k.len = len;

    f = bsearch(&k, lg->keys, lg->nkeys, sizeof(k),
                ngx_http_sender_domains_lkey_cmp);

    return f ? (ngx_uint_t) (f - lg->keys) : 0;
}


static ngx_uint_t
ngx_http_sender_domains_lkey_other(ngx_http_sender_domains_cluster_legacy_t *lg,
    ngx_uint_t k)
{
    ngx_http_sender_domains_lkey_t  *key = &lg->keys[k];

    return key->value != NULL
           && (key->value_len != lg->ws.len
               || ngx_memcmp(key->value, lg->ws.data, lg->ws.len) != 0);
}


/* the claim keys of every address and its ancestors, sorted, once each */

static ngx_int_t
ngx_http_sender_domains_cluster_legacy_keys(
    ngx_http_sender_domains_cluster_legacy_t *lg, const char **ids,
    const size_t *lens)
{
    u_char                          *p;
    size_t                           i, j, total, klen, nanc;
    size_t                           anc[SD_ETCD_MAX_TXN_OPS];
    char                             key[SD_ETCD_KEY_MAX];
    ngx_pool_t                      *pool = lg->request->pool;
    ngx_http_sender_domains_lkey_t  *all;

    total = 0;

    for (i = 0; i < lg->n; i++) {
        if (sd_etcd_claim_path(lg->prefix, ids[i], lens[i], key, sizeof(key),
                               &klen, anc, &nanc)
            != 0)
        {
            return NGX_ERROR;
        }

        total += 1 + nanc;
    }

    all = ngx_pcalloc(pool, total * sizeof(ngx_http_sender_domains_lkey_t));
    lg->own = ngx_pcalloc(pool, lg->n * sizeof(ngx_uint_t));
    lg->first = ngx_pcalloc(pool, lg->n * sizeof(ngx_uint_t));
    lg->count = ngx_pcalloc(pool, lg->n * sizeof(ngx_uint_t));
    lg->anc = ngx_pcalloc(pool, total * sizeof(ngx_uint_t));
    lg->g = ngx_pcalloc(pool, SD_ETCD_MAX_TXN_OPS * sizeof(sd_etcd_guard_t));
    lg->gi = ngx_pcalloc(pool, SD_ETCD_MAX_TXN_OPS * sizeof(ngx_uint_t));

    if (all == NULL || lg->own == NULL || lg->first == NULL
        || lg->count == NULL || lg->anc == NULL || lg->g == NULL
        || lg->gi == NULL)
    {
        return NGX_ERROR;
    }

    total = 0;

    for (i = 0; i < lg->n; i++) {
        (void) sd_etcd_claim_path(lg->prefix, ids[i], lens[i], key,
                                  sizeof(key), &klen, anc, &nanc);

        p = ngx_pnalloc(pool, klen);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, key, klen);

        all[total].key = p;
        all[total++].len = klen;

        for (j = 0; j < nanc; j++) {
            all[total].key = p;
            all[total++].len = anc[j];
        }
    }

    ngx_qsort(all, total, sizeof(ngx_http_sender_domains_lkey_t),
              ngx_http_sender_domains_lkey_cmp);

    for (i = 0, j = 0; i < total; i++) {
        if (j == 0 || ngx_http_sender_domains_lkey_cmp(&all[j - 1], &all[i])
                      != 0)
        {
            all[j++] = all[i];
        }
    }

    lg->keys = all;
    lg->nkeys = j;

    total = 0;

    for (i = 0; i < lg->n; i++) {
        (void) sd_etcd_claim_path(lg->prefix, ids[i], lens[i], key,
                                  sizeof(key), &klen, anc, &nanc);

        lg->own[i] = ngx_http_sender_domains_lkey_find(lg, (u_char *) key,
                                                       klen);
        lg->first[i] = total;
        lg->count[i] = nanc;

        for (j = 0; j < nanc; j++) {
            lg->anc[total++] = ngx_http_sender_domains_lkey_find(lg,
                                   (u_char *) key, anc[j]);
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_sender_domains_cluster_legacy(ngx_http_request_t *r, ngx_str_t *ws,
    size_t n, const char **ids, const size_t *lens,
    ngx_http_sender_domains_cluster_legacy_pt done, void *data)
{
    ngx_int_t                                  rc;
    ngx_pool_cleanup_t                        *cln;
    ngx_http_sender_domains_cluster_conf_t    *cc;
    ngx_http_sender_domains_cluster_legacy_t  *lg;

    if (n == 0) {
        /* an empty list claims nothing: the store's releases follow */
        return done(r, data, NULL);
    }

    cc = ngx_http_sender_domains_cluster_conf((ngx_cycle_t *) ngx_cycle);

    lg = ngx_pcalloc(r->pool, sizeof(ngx_http_sender_domains_cluster_legacy_t));
    if (lg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_sender_domains_cluster_legacy_free;
    cln->data = lg;

    lg->request = r;
    lg->ws = *ws;
    lg->prefix = (char *) cc->prefix.data;
    lg->n = n;
    lg->done = done;
    lg->data = data;

    ngx_http_sender_domains_cluster_owners_init(&lg->ow, r, lg->prefix,
                                 ngx_http_sender_domains_cluster_legacy_owners,
                                                lg);

    if (ngx_http_sender_domains_cluster_legacy_keys(lg, ids, lens) != NGX_OK) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_identity",
                   "An address has too many labels to be claimed.");
    }

    rc = ngx_http_sender_domains_cluster_legacy_read(lg);
    if (rc != NGX_OK) {
        return rc;
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_sender_domains_cluster_legacy_next(
    ngx_http_sender_domains_cluster_legacy_t *lg, ngx_int_t rc)
{
    if (rc != NGX_OK) {
        ngx_http_finalize_request(lg->request, rc);
    }
}


static void
ngx_http_sender_domains_cluster_legacy_read_done(
    ngx_http_sender_domains_etcd_call_t *call)
{
    size_t                                     i;
    sd_etcd_txn_t                              txn;
    const sd_etcd_kv_t                        *kv;
    ngx_http_sender_domains_lkey_t            *k;
    ngx_http_sender_domains_cluster_legacy_t  *lg = call->data;

    if (ngx_http_sender_domains_cluster_answer(call, &txn) == NULL
        || txn.nresponses != lg->end - lg->at)
    {
        sd_etcd_txn_free(&txn);
        ngx_http_sender_domains_cluster_legacy_next(lg,
            ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR));
        return;
    }

    for (i = 0; i < txn.nresponses; i++) {
        k = &lg->keys[lg->at + i];
        k->value = NULL;
        k->mod = 0;

        if (txn.responses[i].nkvs == 0) {
            continue;
        }

        kv = &txn.responses[i].kvs[0];
        k->value = ngx_pnalloc(lg->request->pool, kv->value_len + 1);

        if (k->value == NULL) {
            sd_etcd_txn_free(&txn);
            ngx_http_sender_domains_cluster_legacy_next(lg,
                ngx_http_sender_domains_cluster_legacy_end(lg,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR));
            return;
        }

        ngx_memcpy(k->value, kv->value, kv->value_len + 1);
        k->value_len = kv->value_len;
        k->mod = kv->mod_revision;
    }

    sd_etcd_txn_free(&txn);

    lg->at = lg->end;

    ngx_http_sender_domains_cluster_legacy_next(lg,
        lg->at < lg->nkeys ? ngx_http_sender_domains_cluster_legacy_read(lg)
                           : ngx_http_sender_domains_cluster_legacy_decide(lg));
}


/* etcd's claims on every key, read in Txns of SD_ETCD_MAX_TXN_OPS ranges */

static ngx_int_t
ngx_http_sender_domains_cluster_legacy_read(
    ngx_http_sender_domains_cluster_legacy_t *lg)
{
    char    *body;
    size_t   i;

    lg->end = ngx_min(lg->nkeys, lg->at + SD_ETCD_MAX_TXN_OPS);

    for (i = lg->at; i < lg->end; i++) {
        lg->g[i - lg->at].key = (char *) lg->keys[i].key;
        lg->g[i - lg->at].len = lg->keys[i].len;
    }

    body = sd_etcd_read_txn(lg->g, lg->end - lg->at);
    if (body == NULL) {
        return ngx_http_sender_domains_cluster_legacy_end(lg,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    if (ngx_http_sender_domains_cluster_post(lg->request->pool,
                                             lg->request->connection->log,
                                             "/v3/kv/txn", body,
                             ngx_http_sender_domains_cluster_legacy_read_done,
                                             lg)
        != NGX_OK)
    {
        return ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sender_domains_cluster_legacy_again(
    ngx_http_sender_domains_cluster_legacy_t *lg)
{
    lg->at = 0;

    return ngx_http_sender_domains_cluster_legacy_read(lg);
}


static void
ngx_http_sender_domains_cluster_legacy_taken(
    ngx_http_sender_domains_etcd_call_t *call)
{
    sd_etcd_txn_t                              txn;
    ngx_http_sender_domains_cluster_legacy_t  *lg = call->data;

    if (ngx_http_sender_domains_cluster_answer(call, &txn) == NULL) {
        ngx_http_sender_domains_cluster_legacy_next(lg,
            ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR));
        return;
    }

    if (txn.succeeded) {
        ngx_http_sender_domains_cluster_takeover_events(lg->request,
                                                        &lg->ow);
    }

    sd_etcd_txn_free(&txn);
    ngx_http_sender_domains_cluster_owners_drop(&lg->ow);

    /* taken over or changed meanwhile: read again */
    ngx_http_sender_domains_cluster_legacy_next(lg,
        ngx_http_sender_domains_cluster_legacy_again(lg));
}


static void
ngx_http_sender_domains_cluster_legacy_free(void *data)
{
    ngx_http_sender_domains_cluster_legacy_t  *lg = data;

    ngx_http_sender_domains_cluster_owners_drop(&lg->ow);
}


static void
ngx_http_sender_domains_cluster_legacy_owners(
    ngx_http_sender_domains_etcd_call_t *call)
{
    char                                      *body;
    sd_etcd_txn_t                              txn;
    sd_etcd_claim_e                            v;
    const sd_etcd_kv_t                        *holder;
    ngx_http_sender_domains_main_conf_t       *smcf;
    ngx_http_sender_domains_cluster_legacy_t  *lg = call->data;

    if (ngx_http_sender_domains_cluster_answer(call, &txn) == NULL) {
        ngx_http_sender_domains_cluster_legacy_next(lg,
            ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR));
        return;
    }

    switch (ngx_http_sender_domains_cluster_respell(&lg->ow, &txn)) {

    case NGX_OK:
        return;         /* read again under the rows' spelling */

    case NGX_ERROR:
        ngx_http_sender_domains_cluster_legacy_next(lg,
            ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR));
        return;

    default:
        break;
    }

    smcf = ngx_http_get_module_main_conf(lg->request,
                                         ngx_http_sender_domains_module);

    lg->ow.takeover_at = ngx_time();

    body = sd_etcd_takeover_txn(lg->prefix, &txn, lg->ow.takeover_at,
                                smcf->purge_after, &v, &holder);

    /* kept for the owners' webhook events, once the takeover commits */
    if (v == SD_ETCD_CLAIM_DONE) {
        ngx_http_sender_domains_cluster_owners_keep(&lg->ow, &txn);

    } else {
        sd_etcd_txn_free(&txn);
    }

    switch (v) {

    case SD_ETCD_CLAIM_DONE:
        ngx_log_error(NGX_LOG_INFO, lg->request->connection->log, 0,
                      "sender_domains: workspace \"%V\" takes over expired "
                      "claims in the way of its legacy senders",
                      ngx_http_sender_domains_log_esc(&lg->ws));

        if (ngx_http_sender_domains_cluster_post(lg->request->pool,
                                             lg->request->connection->log,
                                             "/v3/kv/txn", body,
                                ngx_http_sender_domains_cluster_legacy_taken,
                                             lg)
            != NGX_OK)
        {
            ngx_http_sender_domains_cluster_legacy_next(lg,
                ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR));
        }

        return;

    case SD_ETCD_CLAIM_RETRY:
        ngx_http_sender_domains_cluster_legacy_next(lg,
            ngx_http_sender_domains_cluster_legacy_again(lg));
        return;

    case SD_ETCD_CLAIM_CONFLICT:
        lg->takeovers = NGX_HTTP_SENDER_DOMAINS_CLUSTER_TAKEOVERS;
        ngx_http_sender_domains_cluster_legacy_next(lg,
            ngx_http_sender_domains_cluster_legacy_decide(lg));
        return;

    default:
        ngx_http_sender_domains_cluster_legacy_next(lg,
            ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR));
        return;
    }
}


/*
 * Every key read: another workspace's claim on an address or over it
 * refuses the list, as the single-node store's check does, unless every
 * such claim is free to take (expired unverified: taken over first).
 */

static ngx_int_t
ngx_http_sender_domains_cluster_legacy_decide(
    ngx_http_sender_domains_cluster_legacy_t *lg)
{
    char                                *body;
    size_t                               i, j, n;
    sd_etcd_kv_t                         kvs[SD_ETCD_TAKEOVER_MAX];
    const sd_etcd_kv_t                  *others[SD_ETCD_TAKEOVER_MAX];

    for (i = 0, n = 0; i < lg->nkeys && n < SD_ETCD_TAKEOVER_MAX; i++) {
        if (!ngx_http_sender_domains_lkey_other(lg, i)) {
            continue;
        }

        ngx_memzero(&kvs[n], sizeof(sd_etcd_kv_t));
        kvs[n].key = (char *) lg->keys[i].key;
        kvs[n].key_len = lg->keys[i].len;
        kvs[n].value = (char *) lg->keys[i].value;
        kvs[n].value_len = lg->keys[i].value_len;
        others[n] = &kvs[n];
        n++;
    }

    if (n == 0) {
        lg->at = 0;
        return ngx_http_sender_domains_cluster_legacy_claim(lg);
    }

    if (lg->takeovers < NGX_HTTP_SENDER_DOMAINS_CLUSTER_TAKEOVERS) {
        lg->takeovers++;
        lg->ow.searched = 0;

        body = sd_etcd_owners_txn(lg->prefix, others, n);
        if (body == NULL) {
            return ngx_http_sender_domains_cluster_legacy_end(lg,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        if (ngx_http_sender_domains_cluster_post(lg->request->pool,
                                             lg->request->connection->log,
                                             "/v3/kv/txn", body,
                               ngx_http_sender_domains_cluster_legacy_owners,
                                             lg)
            != NGX_OK)
        {
            return ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR);
        }

        return NGX_OK;
    }

    lg->conflict = ngx_pcalloc(lg->request->pool, lg->n * sizeof(int));
    if (lg->conflict == NULL) {
        return ngx_http_sender_domains_cluster_legacy_end(lg,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    for (i = 0; i < lg->n; i++) {
        lg->conflict[i] = ngx_http_sender_domains_lkey_other(lg, lg->own[i]);

        for (j = 0; j < lg->count[i]; j++) {
            lg->conflict[i] |= ngx_http_sender_domains_lkey_other(lg,
                                   lg->anc[lg->first[i] + j]);
        }
    }

    return ngx_http_sender_domains_cluster_legacy_end(lg, NGX_HTTP_CONFLICT);
}


/* one guard of a claim Txn for key k (once per Txn) */

static void
ngx_http_sender_domains_cluster_legacy_guard(
    ngx_http_sender_domains_cluster_legacy_t *lg, ngx_uint_t k, int put)
{
    ngx_http_sender_domains_lkey_t  *key = &lg->keys[k];

    if (key->mark == lg->txns) {
        return;
    }

    key->mark = lg->txns;

    lg->gi[lg->ng] = k;
    lg->g[lg->ng].key = (char *) key->key;
    lg->g[lg->ng].len = key->len;
    lg->g[lg->ng].own = (key->value != NULL);
    lg->g[lg->ng].put = (key->value == NULL && put);
    lg->ng++;
}


static void
ngx_http_sender_domains_cluster_legacy_claimed(
    ngx_http_sender_domains_etcd_call_t *call)
{
    size_t                                     i;
    sd_etcd_txn_t                              txn;
    ngx_http_sender_domains_lkey_t            *k;
    ngx_http_sender_domains_cluster_legacy_t  *lg = call->data;

    if (ngx_http_sender_domains_cluster_answer(call, &txn) == NULL) {
        ngx_http_sender_domains_cluster_legacy_next(lg,
            ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR));
        return;
    }

    if (!txn.succeeded) {
        sd_etcd_txn_free(&txn);

        /* changed since the read: read again (what this PUT put is own) */
        if (++lg->rounds >= NGX_HTTP_SENDER_DOMAINS_LEGACY_ROUNDS) {
            ngx_http_sender_domains_cluster_legacy_next(lg,
                ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR));
            return;
        }

        ngx_http_sender_domains_cluster_legacy_next(lg,
            ngx_http_sender_domains_cluster_legacy_again(lg));
        return;
    }

    for (i = 0; i < lg->ng; i++) {
        if (!lg->g[i].put) {
            continue;
        }

        k = &lg->keys[lg->gi[i]];
        k->value = lg->ws.data;
        k->value_len = lg->ws.len;
        k->mod = txn.revision;
        k->created = txn.revision;
    }

    sd_etcd_txn_free(&txn);

    lg->at = lg->end;

    ngx_http_sender_domains_cluster_legacy_next(lg,
        ngx_http_sender_domains_cluster_legacy_claim(lg));
}


/*
 * The claims, in Txns of whole addresses: each compares the address's key
 * and its ancestors' (absent, or this workspace's as read) and puts the
 * address's claim where there is none.
 */

static ngx_int_t
ngx_http_sender_domains_cluster_legacy_claim(
    ngx_http_sender_domains_cluster_legacy_t *lg)
{
    char        *body;
    size_t       i, j, need;
    ngx_uint_t   k;

    if (lg->at >= lg->n) {
        return ngx_http_sender_domains_cluster_legacy_end(lg, NGX_OK);
    }

    lg->txns++;
    lg->ng = 0;

    for (i = lg->at; i < lg->n; i++) {
        /* the keys of this address not in this Txn yet */
        need = (lg->keys[lg->own[i]].mark != lg->txns);

        for (j = 0; j < lg->count[i]; j++) {
            k = lg->anc[lg->first[i] + j];
            need += (lg->keys[k].mark != lg->txns);
        }

        if (lg->ng + need > SD_ETCD_MAX_TXN_OPS) {
            break;
        }

        ngx_http_sender_domains_cluster_legacy_guard(lg, lg->own[i], 1);

        for (j = 0; j < lg->count[i]; j++) {
            ngx_http_sender_domains_cluster_legacy_guard(lg,
                lg->anc[lg->first[i] + j], 0);
        }
    }

    lg->end = i;

    body = sd_etcd_guard_txn(lg->g, lg->ng, (char *) lg->ws.data,
                             lg->ws.len);
    if (body == NULL) {
        return ngx_http_sender_domains_cluster_legacy_end(lg,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    if (ngx_http_sender_domains_cluster_post(lg->request->pool,
                                             lg->request->connection->log,
                                             "/v3/kv/txn", body,
                            ngx_http_sender_domains_cluster_legacy_claimed,
                                             lg)
        != NGX_OK)
    {
        return ngx_http_sender_domains_cluster_legacy_end(lg, NGX_ERROR);
    }

    return NGX_OK;
}


static void
ngx_http_sender_domains_cluster_legacy_released(
    ngx_http_sender_domains_etcd_call_t *call)
{
    sd_etcd_txn_t                              txn;
    ngx_http_sender_domains_cluster_legacy_t  *lg = call->data;

    if (ngx_http_sender_domains_cluster_answer(call, &txn) == NULL) {
        ngx_log_error(NGX_LOG_ERR, lg->request->connection->log, 0,
                      "sender_domains: legacy claims of workspace \"%V\" "
                      "that its refused PUT /legacy had created could not "
                      "be released: the cluster did not answer",
                      ngx_http_sender_domains_log_esc(&lg->ws));
        lg->at = lg->nkeys;

    } else {
        sd_etcd_txn_free(&txn);
        lg->at = lg->end;
    }

    ngx_http_sender_domains_cluster_legacy_next(lg,
        ngx_http_sender_domains_cluster_legacy_end(lg, lg->outcome));
}


/*
 * The end: NGX_OK, the list is claimed, the store follows; otherwise the
 * claims this PUT created go first (nothing of a refused list stays),
 * then the answer: NGX_HTTP_CONFLICT the 409 with the addresses,
 * NGX_ERROR 503 cluster_unavailable, or an HTTP status.
 */

static ngx_int_t
ngx_http_sender_domains_cluster_legacy_end(
    ngx_http_sender_domains_cluster_legacy_t *lg, ngx_int_t outcome)
{
    char                *body;
    size_t               n;
    ngx_http_request_t  *r = lg->request;

    if (outcome == NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" claimed its %uz "
                      "legacy senders in the cluster",
                      ngx_http_sender_domains_log_esc(&lg->ws), lg->n);
        return lg->done(r, lg->data, NULL);
    }

    if (lg->outcome == 0) {
        lg->outcome = outcome;
        lg->at = 0;
    }

    for ( /* void */ ; lg->at < lg->nkeys; lg->at++) {
        if (lg->keys[lg->at].created) {
            break;
        }
    }

    if (lg->at < lg->nkeys) {
        for (n = 0, lg->end = lg->at;
             lg->end < lg->nkeys && n < SD_ETCD_MAX_TXN_OPS / 2;
             lg->end++)
        {
            if (lg->keys[lg->end].created) {
                lg->g[n].key = (char *) lg->keys[lg->end].key;
                lg->g[n].len = lg->keys[lg->end].len;
                lg->g[n].rev = lg->keys[lg->end].created;
                n++;
            }
        }

        body = sd_etcd_release_txn(lg->g, n, (char *) lg->ws.data,
                                   lg->ws.len);

        if (body != NULL
            && ngx_http_sender_domains_cluster_post(r->pool,
                                                    r->connection->log,
                                                    "/v3/kv/txn", body,
                            ngx_http_sender_domains_cluster_legacy_released,
                                                    lg)
               == NGX_OK)
        {
            return NGX_OK;
        }
    }

    switch (lg->outcome) {

    case NGX_HTTP_CONFLICT:
        return lg->done(r, lg->data, lg->conflict);

    case NGX_ERROR:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sender_domains: the legacy senders of workspace "
                      "\"%V\" got no answer from the cluster",
                      ngx_http_sender_domains_log_esc(&lg->ws));
        return ngx_http_sender_domains_cluster_unavailable(r);

    default:
        return lg->outcome;
    }
}
