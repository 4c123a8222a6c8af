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


/* an add's claim in flight */
typedef struct {
    ngx_http_request_t                 *request;
    ngx_http_sender_domains_cluster_next_pt  next;
    sd_etcd_claim_t                     claim;
    sd_etcd_txn_t                       first;      /* a NESTED answer */
    ngx_uint_t                          nested;
    ngx_uint_t                          tries;
    ngx_uint_t                          again;
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
        sd_etcd_txn_free(txn);
        return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                   "already_registered",
                   "Already registered in another workspace.");

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


static void
ngx_http_sender_domains_cluster_claim_free(void *data)
{
    ngx_http_sender_domains_cluster_claim_t  *cl = data;

    if (cl->nested) {
        sd_etcd_txn_free(&cl->first);
        cl->nested = 0;
    }
}
