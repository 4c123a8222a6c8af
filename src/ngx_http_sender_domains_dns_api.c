/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: GET /{identity}/dns, the DNS diagnosis
 * of an identity's records from live lookups.
 *
 * The records are those the card shows (sd_row_public()'s "dns_records");
 * the lookups go out together through the worker's c-ares channel
 * (ngx_http_sender_domains_resolver.c) while the request waits, suspended
 * like a request waiting on SES; the verdicts come from the pure core
 * (sd_diagnose.c).
 *
 * The refresher's hint: a domain still pending in SES an hour after it was
 * added (sender_domains_dns_diagnose_after) is diagnosed the same way in
 * the background, and the summary is saved in the row ("dns_hint"), so the
 * card shows it without the user asking.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_api.h"
#include "ngx_http_sender_domains_resolver.h"


typedef struct {
    ngx_http_request_t     *request;
    json_t                 *records;
    const char             *domain;
    sd_diag_query_t        *q;
    size_t                  n;
} ngx_http_sender_domains_dns_req_t;


/* one background diagnosis: its own pool, destroyed when it is saved */
typedef struct {
    ngx_pool_t             *pool;
    ngx_str_t               ws;
    ngx_str_t               id;
    json_t                 *pub;        /* sd_row_public(), owns records */
    json_t                 *records;
    const char             *domain;
    sd_diag_query_t        *q;
    size_t                  n;
    json_t                 *hint;       /* NULL: remove the row's hint */
    time_t                  after;
    char                   *text;       /* the row written */
} ngx_http_sender_domains_dns_hint_t;


#define NGX_HTTP_SENDER_DOMAINS_DNS_HINTS  8     /* at once, per worker */

static ngx_uint_t  ngx_http_sender_domains_dns_hints;


static void ngx_http_sender_domains_dns_hinted(
    ngx_http_sender_domains_dns_batch_t *batch);
static void ngx_http_sender_domains_dns_hint_save(
    ngx_http_sender_domains_dns_hint_t *h);
static int ngx_http_sender_domains_dns_hint_modify(void *data,
    const sd_record_t *cur, sd_record_t *out);
static void ngx_http_sender_domains_dns_hint_done(void *data);
static void ngx_http_sender_domains_dns_hint_free(
    ngx_http_sender_domains_dns_hint_t *h);

static void ngx_http_sender_domains_dns_answered(
    ngx_http_sender_domains_dns_batch_t *batch);
static ngx_int_t ngx_http_sender_domains_dns_reply(ngx_http_request_t *r,
    ngx_http_sender_domains_dns_req_t *dr,
    ngx_http_sender_domains_dns_batch_t *batch);


ngx_int_t
ngx_http_sender_domains_dns_handler(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    int                                   n;
    json_t                               *pub, *j;
    ngx_int_t                             rc;
    ngx_http_sender_domains_dns_req_t    *dr;
    ngx_http_sender_domains_dns_batch_t  *batch;
    ngx_http_sender_domains_main_conf_t  *smcf;

    rc = ngx_http_sender_domains_load(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    dr = ngx_pcalloc(r->pool, sizeof(ngx_http_sender_domains_dns_req_t));
    if (dr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dr->request = r;
    dr->domain = json_string_value(json_object_get(ctx->row, "identity"));

    pub = sd_row_public(ctx->row, (char *) smcf->ses_region.data, NULL);
    if (pub == NULL || ngx_http_sender_domains_json_track(r, pub) != NGX_OK) {
        json_decref(pub);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dr->records = json_object_get(pub, "dns_records");

    if (!ctx->is_domain || dr->domain == NULL
        || json_array_size(dr->records) == 0)
    {
        /* an address is verified by mail; it has no records of its own */
        j = json_pack("{s:s?,s:s,s:s,s:[]}",
                      "identity", dr->domain,
                      "verdict", "ok",
                      "summary", "This sender has no DNS records of its "
                                 "own to check.",
                      "records");
        return ngx_http_sender_domains_send_json(r, NGX_HTTP_OK, j);
    }

    dr->q = ngx_palloc(r->pool, SD_DIAG_QUERIES_MAX * sizeof(sd_diag_query_t));
    if (dr->q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = sd_diag_queries(dr->records, dr->domain, dr->q, SD_DIAG_QUERIES_MAX);
    if (n <= 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "sender_domains: cannot list the DNS lookups for "
                      "\"%V\" (workspace \"%V\")", &ctx->name,
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace));
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dr->n = n;

    batch = ngx_http_sender_domains_dns_start(r->pool, r->connection->log,
                                              dr->q, dr->n,
                                              ngx_http_sender_domains_dns_answered,
                                              dr);
    if (batch == NULL) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "dns_unavailable", "DNS lookups cannot be made now; see "
                   "the error log. Try again later.");
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "sender_domains: %uz DNS lookups for \"%V\"", dr->n,
                   &ctx->name);

    /* a client that goes away: its pool cancels the lookups */
    r->read_event_handler = ngx_http_test_reading;
    r->main->count++;

    if (r->connection->read->pending_eof) {
        ngx_post_event(r->connection->read, &ngx_posted_events);
    }

    return NGX_DONE;
}


static void
ngx_http_sender_domains_dns_answered(ngx_http_sender_domains_dns_batch_t *batch)
{
    ngx_int_t                           rc;
    ngx_connection_t                   *c;
    ngx_http_request_t                 *r;
    ngx_http_sender_domains_dns_req_t  *dr = batch->data;

    r = dr->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);
    r->read_event_handler = ngx_http_block_reading;

    rc = ngx_http_sender_domains_dns_reply(r, dr, batch);

    ngx_http_finalize_request(r, ngx_http_sender_domains_json_status(r, rc));
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_sender_domains_dns_reply(ngx_http_request_t *r,
    ngx_http_sender_domains_dns_req_t *dr,
    ngx_http_sender_domains_dns_batch_t *batch)
{
    json_t  *out;

    out = sd_diag_run(dr->records, dr->domain, dr->q, batch->res, dr->n);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_sender_domains_send_json(r, NGX_HTTP_OK, out);
}


/* ---- the refresher's hint ------------------------------------------------ */


void
ngx_http_sender_domains_dns_hint(ngx_str_t *ws, ngx_str_t *id,
    const sd_record_t *rec)
{
    int                                   n, due;
    json_t                               *row;
    ngx_pool_t                           *pool;
    ngx_http_sender_domains_dns_hint_t   *h;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    row = json_loadb(rec->json, rec->json_len, 0, NULL);
    if (row == NULL) {
        return;
    }

    due = sd_diag_hint_due(row, (int64_t) ngx_time(),
                           (int64_t) smcf->dns_diagnose_after);

    if ((!due && json_object_get(row, "dns_hint") == NULL)
        || (due && ngx_http_sender_domains_dns_hints
                   >= NGX_HTTP_SENDER_DOMAINS_DNS_HINTS))
    {
        json_decref(row);
        return;
    }

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        json_decref(row);
        return;
    }

    h = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_dns_hint_t));
    if (h == NULL) {
        goto failed;
    }

    h->pool = pool;
    h->after = smcf->dns_diagnose_after;
    h->ws.data = ngx_pstrdup(pool, ws);
    h->ws.len = ws->len;
    h->id.data = ngx_pstrdup(pool, id);
    h->id.len = id->len;

    if (h->ws.data == NULL || h->id.data == NULL) {
        goto failed;
    }

    if (!due) {
        /* verified, failed or removed from SES meanwhile: the hint goes */
        json_decref(row);
        ngx_http_sender_domains_dns_hint_save(h);
        return;
    }

    h->pub = sd_row_public(row, (char *) smcf->ses_region.data, NULL);
    json_decref(row);
    row = NULL;

    h->records = json_object_get(h->pub, "dns_records");
    h->domain = json_string_value(json_object_get(h->pub, "identity"));
    h->q = ngx_palloc(pool, SD_DIAG_QUERIES_MAX * sizeof(sd_diag_query_t));

    if (h->pub == NULL || h->domain == NULL || h->q == NULL
        || json_array_size(h->records) == 0)
    {
        goto failed;
    }

    n = sd_diag_queries(h->records, h->domain, h->q, SD_DIAG_QUERIES_MAX);
    if (n <= 0) {
        goto failed;
    }

    h->n = n;

    if (ngx_http_sender_domains_dns_start(pool, ngx_cycle->log, h->q, h->n,
                                          ngx_http_sender_domains_dns_hinted,
                                          h)
        == NULL)
    {
        goto failed;
    }

    ngx_http_sender_domains_dns_hints++;

    return;

failed:

    json_decref(row);

    if (h) {
        ngx_http_sender_domains_dns_hint_free(h);

    } else {
        ngx_destroy_pool(pool);
    }
}


static void
ngx_http_sender_domains_dns_hinted(ngx_http_sender_domains_dns_batch_t *batch)
{
    json_t                              *diag;
    ngx_http_sender_domains_dns_hint_t  *h = batch->data;

    ngx_http_sender_domains_dns_hints--;

    diag = sd_diag_run(h->records, h->domain, h->q, batch->res, h->n);
    if (diag == NULL) {
        ngx_http_sender_domains_dns_hint_free(h);
        return;
    }

    h->hint = sd_diag_hint(diag, (int64_t) ngx_time());
    json_decref(diag);

    if (h->hint == NULL) {
        ngx_http_sender_domains_dns_hint_free(h);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "sender_domains: workspace \"%V\" identity \"%V\": "
                  "still pending in SES; DNS: %s",
                  ngx_http_sender_domains_log_esc(&h->ws), &h->id,
                  json_string_value(json_object_get(h->hint, "summary")));

    ngx_http_sender_domains_dns_hint_save(h);
}


static void
ngx_http_sender_domains_dns_hint_save(ngx_http_sender_domains_dns_hint_t *h)
{
    sd_store_t     *st;
    sd_store_rc_e   rc;

    st = ngx_http_sender_domains_store();

    if (st != NULL) {
        rc = sd_store_modify(st, (char *) h->ws.data, h->ws.len,
                             (char *) h->id.data, h->id.len,
                             ngx_http_sender_domains_dns_hint_modify,
                             ngx_http_sender_domains_dns_hint_done, h);

        if (rc != SD_STORE_OK && rc != SD_STORE_NOT_FOUND) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "sender_domains: workspace \"%V\" identity "
                          "\"%V\": the DNS hint not saved: %s",
                          ngx_http_sender_domains_log_esc(&h->ws), &h->id,
                          sd_store_strerror(st));
        }
    }

    ngx_http_sender_domains_dns_hint_free(h);
}


/* inside the write transaction: the row as it is now, hint set or gone */

static int
ngx_http_sender_domains_dns_hint_modify(void *data, const sd_record_t *cur,
    sd_record_t *out)
{
    json_t                              *row;
    ngx_http_sender_domains_dns_hint_t  *h = data;

    row = json_loadb(cur->json, cur->json_len, 0, NULL);
    if (row == NULL) {
        return 1;
    }

    if (h->hint
        && sd_diag_hint_due(row, (int64_t) ngx_time(), (int64_t) h->after))
    {
        json_object_set(row, "dns_hint", h->hint);

    } else if (json_object_del(row, "dns_hint") != 0) {
        json_decref(row);
        return 1;                   /* nothing to change */
    }

    h->text = json_dumps(row, JSON_COMPACT);
    json_decref(row);

    if (h->text == NULL) {
        return 1;
    }

    *out = *cur;
    out->json = h->text;
    out->json_len = ngx_strlen(h->text);

    return 0;
}


static void
ngx_http_sender_domains_dns_hint_done(void *data)
{
    ngx_http_sender_domains_dns_hint_t  *h = data;

    free(h->text);
    h->text = NULL;
}


static void
ngx_http_sender_domains_dns_hint_free(ngx_http_sender_domains_dns_hint_t *h)
{
    json_decref(h->pub);
    json_decref(h->hint);
    ngx_destroy_pool(h->pool);
}
