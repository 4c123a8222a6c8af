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
                      &ctx->caller.workspace);
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
