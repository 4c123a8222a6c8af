/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * A test-only nginx module: the module's etcd client on its own, for
 * t/cluster/client.sh.  In the one worker (worker_processes 1) it runs
 * the lease loop and a watch of the prefix (restarted from the last
 * revision seen + 1 whenever it ends), and answers:
 *
 *   GET /status        leader=… nodes=… reachable=… lines=… bad=…
 *                      events=… rev=… restarts=… reason=…
 *   GET /put?k=K&v=V   POST /v3/kv/put through ..._etcd_call()
 *   GET /big?k=K&n=N   a put of N bytes ('x'), to cut across chunks
 *   GET /range?k=K     POST /v3/kv/range
 *   GET /stop, /start  ..._etcd_lease_stop(), ..._etcd_lease_start()
 *     (answers "outcome=… status=… tries=… endpoint=…\n<etcd's body>")
 *
 *   sd_etcd_probe URL…;  sd_etcd_probe_node NAME;  sd_etcd_probe_ttl S;
 *   sd_etcd_probe_prefix P;  location … { sd_etcd_probe_handler; }
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_sender_domains_curl.h"
#include "ngx_http_sender_domains_etcd.h"
#include "sd_etcd.h"


typedef struct {
    ngx_http_sender_domains_etcd_conf_t   etcd;
    ngx_str_t                             node;
    ngx_str_t                             prefix;
    time_t                                ttl;
} ngx_http_sd_etcd_probe_conf_t;


static ngx_int_t ngx_http_sd_etcd_probe_init_process(ngx_cycle_t *cycle);
static void ngx_http_sd_etcd_probe_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_sd_etcd_probe_create_conf(ngx_conf_t *cf);
static char *ngx_http_sd_etcd_probe_endpoints(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_sd_etcd_probe_handler_set(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_sd_etcd_probe_handler(ngx_http_request_t *r);
static void ngx_http_sd_etcd_probe_answer(
    ngx_http_sender_domains_etcd_call_t *ec);
static void ngx_http_sd_etcd_probe_watch(void);
static void ngx_http_sd_etcd_probe_line(void *data, const char *line,
    size_t len);
static void ngx_http_sd_etcd_probe_end(void *data,
    ngx_http_sender_domains_etcd_watch_end_e reason);
static void ngx_http_sd_etcd_probe_restart(ngx_event_t *ev);


static ngx_command_t  ngx_http_sd_etcd_probe_commands[] = {

    { ngx_string("sd_etcd_probe"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_sd_etcd_probe_endpoints,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sd_etcd_probe_node"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sd_etcd_probe_conf_t, node),
      NULL },

    { ngx_string("sd_etcd_probe_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sd_etcd_probe_conf_t, prefix),
      NULL },

    { ngx_string("sd_etcd_probe_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sd_etcd_probe_conf_t, ttl),
      NULL },

    { ngx_string("sd_etcd_probe_handler"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_sd_etcd_probe_handler_set,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_sd_etcd_probe_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    ngx_http_sd_etcd_probe_create_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL, NULL, NULL, NULL
};


ngx_module_t  ngx_http_sd_etcd_probe_module = {
    NGX_MODULE_V1,
    &ngx_http_sd_etcd_probe_module_ctx,
    ngx_http_sd_etcd_probe_commands,
    NGX_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_sd_etcd_probe_init_process,   /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_sd_etcd_probe_exit_process,   /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_sd_etcd_probe_conf_t        *ngx_http_sd_etcd_probe_cf;
static ngx_http_sender_domains_etcd_watch_t *ngx_http_sd_etcd_probe_w;
static ngx_event_t                           ngx_http_sd_etcd_probe_ev;
static ngx_connection_t                      ngx_http_sd_etcd_probe_conn;
static ngx_uint_t  lines, bad, events, restarts, last_reason = 99;
static int64_t     last_rev;


static void *
ngx_http_sd_etcd_probe_create_conf(ngx_conf_t *cf)
{
    ngx_http_sd_etcd_probe_conf_t  *c;

    c = ngx_pcalloc(cf->pool, sizeof(ngx_http_sd_etcd_probe_conf_t));
    if (c == NULL) {
        return NULL;
    }

    c->ttl = NGX_CONF_UNSET;
    c->etcd.timeout = 2000;

    return c;
}


static char *
ngx_http_sd_etcd_probe_endpoints(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sd_etcd_probe_conf_t  *c = conf;

    ngx_str_t   *value, *ep;
    ngx_uint_t   i;

    c->etcd.endpoints = ngx_array_create(cf->pool, 3, sizeof(ngx_str_t));
    if (c->etcd.endpoints == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        ep = ngx_array_push(c->etcd.endpoints);
        if (ep == NULL) {
            return NGX_CONF_ERROR;
        }

        *ep = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_sd_etcd_probe_handler_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_sd_etcd_probe_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_sd_etcd_probe_init_process(ngx_cycle_t *cycle)
{
    ngx_http_sd_etcd_probe_conf_t  *c;

    c = ngx_http_cycle_get_module_main_conf(cycle,
                                            ngx_http_sd_etcd_probe_module);
    if (c == NULL || c->etcd.endpoints == NULL) {
        return NGX_OK;
    }

    ngx_http_sd_etcd_probe_cf = c;

    if (ngx_http_sender_domains_curl_init(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_sender_domains_etcd_lease_start(cycle->log, &c->etcd,
            (char *) c->prefix.data, (char *) c->node.data,
            c->ttl == NGX_CONF_UNSET ? 10 : c->ttl)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "probe: lease_start refused");
        return NGX_ERROR;
    }

    ngx_http_sd_etcd_probe_conn.fd = (ngx_socket_t) -1;
    ngx_http_sd_etcd_probe_ev.handler = ngx_http_sd_etcd_probe_restart;
    ngx_http_sd_etcd_probe_ev.data = &ngx_http_sd_etcd_probe_conn;
    ngx_http_sd_etcd_probe_ev.log = cycle->log;
    ngx_http_sd_etcd_probe_ev.cancelable = 1;

    ngx_http_sd_etcd_probe_watch();

    return NGX_OK;
}


static void
ngx_http_sd_etcd_probe_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_sd_etcd_probe_cf == NULL) {
        return;
    }

    ngx_http_sender_domains_etcd_exit(cycle);
    ngx_http_sender_domains_curl_exit(cycle);
}


static void
ngx_http_sd_etcd_probe_watch(void)
{
    ngx_http_sd_etcd_probe_conf_t  *c = ngx_http_sd_etcd_probe_cf;

    ngx_http_sd_etcd_probe_w = ngx_http_sender_domains_etcd_watch_start(
                                   ngx_cycle->log, &c->etcd,
                                   (char *) c->prefix.data,
                                   last_rev ? last_rev + 1 : 0,
                                   ngx_http_sd_etcd_probe_line,
                                   ngx_http_sd_etcd_probe_end, NULL);

    if (ngx_http_sd_etcd_probe_w == NULL) {
        ngx_add_timer(&ngx_http_sd_etcd_probe_ev, 500);
    }
}


static void
ngx_http_sd_etcd_probe_line(void *data, const char *line, size_t len)
{
    size_t           i;
    sd_etcd_watch_t  w;

    lines++;
    ngx_memzero(&w, sizeof(sd_etcd_watch_t));

    if (line[len] != '\0' || sd_etcd_parse_watch(line, len, &w)
                             != SD_ETCD_OK)
    {
        bad++;
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "probe: bad watch line of %uz bytes: %*s", len,
                      ngx_min(len, (size_t) 200), line);
        sd_etcd_watch_free(&w);
        return;
    }

    for (i = 0; i < w.nevents; i++) {
        events++;
        last_rev = ngx_max(last_rev, w.events[i].kv.mod_revision);
    }

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "probe: watch line of %uz bytes, %uz events, revision %L",
                  len, w.nevents, w.revision);

    sd_etcd_watch_free(&w);
}


static void
ngx_http_sd_etcd_probe_end(void *data,
    ngx_http_sender_domains_etcd_watch_end_e reason)
{
    ngx_http_sd_etcd_probe_w = NULL;
    restarts++;
    last_reason = reason;

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "probe: watch ended, reason %d; restart from %L", reason,
                  last_rev + 1);

    ngx_add_timer(&ngx_http_sd_etcd_probe_ev, 500);
}


static void
ngx_http_sd_etcd_probe_restart(ngx_event_t *ev)
{
    ngx_http_sd_etcd_probe_watch();
}


static ngx_str_t *
ngx_http_sd_etcd_probe_arg(ngx_http_request_t *r, char *name)
{
    ngx_str_t  *v;

    v = ngx_pcalloc(r->pool, sizeof(ngx_str_t));
    if (v == NULL
        || ngx_http_arg(r, (u_char *) name, ngx_strlen(name), v) != NGX_OK)
    {
        return NULL;
    }

    return v;
}


static ngx_int_t
ngx_http_sd_etcd_probe_send(ngx_http_request_t *r, u_char *p, size_t len)
{
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->pos, p, len);
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "text/plain");

    if (ngx_http_send_header(r) == NGX_ERROR) {
        return NGX_ERROR;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_sd_etcd_probe_handler(ngx_http_request_t *r)
{
    u_char                               buf[512], *p, *kb, *vb, *big;
    char                                *s;
    size_t                               n, vlen;
    ngx_str_t                           *k, *v, body, *ns;
    const char                          *path;
    ngx_http_sender_domains_etcd_call_t *ec;
    ngx_http_sd_etcd_probe_conf_t       *c;

    if (ngx_http_sd_etcd_probe_cf == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (ngx_strstr(r->uri.data, "/status") != NULL) {
        p = ngx_snprintf(buf, sizeof(buf),
                         "leader=%ui nodes=%ui reachable=%ui lines=%ui "
                         "bad=%ui events=%ui rev=%L restarts=%ui "
                         "reason=%ui\n",
                         ngx_http_sender_domains_etcd_is_leader(),
                         ngx_http_sender_domains_etcd_live_nodes(),
                         ngx_http_sender_domains_etcd_reachable(5000),
                         lines, bad, events, last_rev, restarts,
                         last_reason);

        return ngx_http_sd_etcd_probe_send(r, buf, p - buf);
    }

    if (ngx_strstr(r->uri.data, "/stop") != NULL) {
        ngx_http_sender_domains_etcd_lease_stop();
        return ngx_http_sd_etcd_probe_send(r, (u_char *) "stopped\n", 8);
    }

    if (ngx_strstr(r->uri.data, "/start") != NULL) {
        c = ngx_http_sd_etcd_probe_cf;

        if (ngx_http_sender_domains_etcd_lease_start(ngx_cycle->log, &c->etcd,
                (char *) c->prefix.data, (char *) c->node.data,
                c->ttl == NGX_CONF_UNSET ? 10 : c->ttl)
            != NGX_OK)
        {
            return NGX_HTTP_CONFLICT;
        }

        return ngx_http_sd_etcd_probe_send(r, (u_char *) "started\n", 8);
    }

    k = ngx_http_sd_etcd_probe_arg(r, "k");
    if (k == NULL) {
        return NGX_HTTP_BAD_REQUEST;
    }

    kb = ngx_pnalloc(r->pool, 2 * k->len + 8);
    if (kb == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sd_etcd_b64(k->data, k->len, (char *) kb, 2 * k->len + 8);

    if (ngx_strstr(r->uri.data, "/range") != NULL) {
        s = sd_etcd_range_body((char *) k->data, k->len, NULL, 0, 0, 0);
        path = "/v3/kv/range";

    } else {
        v = ngx_http_sd_etcd_probe_arg(r, "v");
        ns = ngx_http_sd_etcd_probe_arg(r, "n");

        if (ns) {
            vlen = ngx_atoi(ns->data, ns->len);
            big = ngx_pnalloc(r->pool, vlen);
            if (big == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_memset(big, 'x', vlen);

        } else if (v) {
            vlen = v->len;
            big = v->data;

        } else {
            return NGX_HTTP_BAD_REQUEST;
        }

        n = 4 * (vlen / 3 + 1) + 1;
        vb = ngx_pnalloc(r->pool, n);
        if (vb == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        sd_etcd_b64(big, vlen, (char *) vb, n);

        n = ngx_strlen(kb) + ngx_strlen(vb) + 32;
        s = malloc(n);
        if (s) {
            snprintf(s, n, "{\"key\":\"%s\",\"value\":\"%s\"}", kb, vb);
        }

        path = "/v3/kv/put";
    }

    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = (u_char *) s;
    body.len = ngx_strlen(s);

    ec = ngx_http_sender_domains_etcd_call(r->pool, r->connection->log,
                                           &ngx_http_sd_etcd_probe_cf->etcd,
                                           path, &body,
                                           ngx_http_sd_etcd_probe_answer, r);
    /* the body was copied */
    free(s);

    if (ec == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_sd_etcd_probe_answer(ngx_http_sender_domains_etcd_call_t *ec)
{
    ngx_http_request_t  *r = ec->data;

    u_char     *out, *p;
    size_t      len;
    ngx_int_t   rc;

    len = 128 + ec->body.len;
    out = ngx_pnalloc(r->pool, len);
    if (out == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_snprintf(out, len, "outcome=%d status=%l tries=%ui "
                     "endpoint=%ui\n%V\n", (int) ec->outcome, ec->status,
                     ec->tries, ec->endpoint, &ec->body);

    rc = ngx_http_sd_etcd_probe_send(r, out, p - out);
    ngx_http_finalize_request(r, rc);
}
