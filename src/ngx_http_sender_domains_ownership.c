/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the DNS ownership proof of a domain
 * already verified in SES outside the workspace (issue 13 item 1, issue
 * 17): the token at add time, the TXT lookup on refresh and in the
 * background, and the row's change when it is found (or lost to another
 * workspace).  The rules are the pure core's (src/core/sd_ownership.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "ngx_http_sender_domains_ownership.h"
#include "ngx_http_sender_domains_resolver.h"
#include "ngx_http_sender_domains_metrics.h"
#include "sd_time.h"


/* background lookups in flight in this worker, at most */
#define NGX_HTTP_SENDER_DOMAINS_OWN_CONCURRENCY  8


typedef struct {
    ngx_pool_t                          *pool;
    ngx_log_t                           *log;
    ngx_str_t                            ws;
    ngx_str_t                            id;
    char                                 token[SD_OWN_TOKEN_BUFSZ];
    sd_diag_query_t                      q;

    /* a refresh request waiting on the lookup (NULL: the refresher) */
    ngx_http_request_t                  *request;
    ngx_http_sender_domains_ctx_t       *ctx;
    ngx_http_sender_domains_own_next_pt  next;
} ngx_http_sender_domains_own_t;


typedef struct {
    ngx_uint_t                           outcome;   /* SD_M_OWN_* */
    int64_t                              now;
    char                                *text;
    json_t                              *row;       /* as written */
} ngx_http_sender_domains_own_write_t;


static ngx_http_sender_domains_own_t *ngx_http_sender_domains_own_new(
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *ws, ngx_str_t *id,
    const char *token);
static ngx_int_t ngx_http_sender_domains_own_start(
    ngx_http_sender_domains_own_t *own);
static void ngx_http_sender_domains_own_answered(
    ngx_http_sender_domains_dns_batch_t *batch);
static ngx_uint_t ngx_http_sender_domains_own_settle(
    ngx_http_sender_domains_own_t *own, const sd_diag_result_t *res,
    json_t *row);
static ngx_uint_t ngx_http_sender_domains_own_write(
    ngx_http_sender_domains_own_t *own, ngx_uint_t outcome, json_t *row);


static ngx_uint_t  ngx_http_sender_domains_own_in_flight;


ngx_int_t
ngx_http_sender_domains_ownership_adopt(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, const sd_ses_identity_t *si)
{
    char            token[SD_OWN_TOKEN_BUFSZ];
    unsigned char   rnd[SD_OWN_RANDOM_BYTES];

    ngx_http_sender_domains_main_conf_t  *smcf;

    if (!ctx->is_domain || !si->verified_for_sending
        || ctx->action != SD_ACTION_ADD)
    {
        return NGX_DECLINED;
    }

    /* drawn for this row alone: nothing about it can be derived */
    if (RAND_bytes(rnd, sizeof(rnd)) != 1
        || sd_own_token(rnd, sizeof(rnd), token, sizeof(token)) < 0
        || sd_own_set_unproven(ctx->row, token, 1) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "sender_domains: cannot draw an ownership token for "
                      "\"%V\" (workspace \"%V\")", &ctx->name,
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace));
        return NGX_ERROR;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    /* no DNS search of SES to wait for: the claim's time runs from now */
    sd_row_set_time(ctx->row, "claim_expires_at",
                    ngx_time() + smcf->claim_domain);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sender_domains: workspace \"%V\" added \"%V\", verified "
                  "in SES outside the workspace: ownership unproven until "
                  "the TXT record " SD_OWN_LABEL ".%V is found",
                  ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                  &ctx->name, &ctx->name);

    return NGX_OK;
}


ngx_int_t
ngx_http_sender_domains_ownership_refresh(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx,
    ngx_http_sender_domains_own_next_pt next)
{
    ngx_http_sender_domains_own_t  *own;

    if (!sd_own_pending(ctx->row)) {
        return next(r, ctx);
    }

    own = ngx_http_sender_domains_own_new(r->pool, r->connection->log,
              &ctx->caller.workspace, &ctx->name,
              sd_row_str(ctx->row, SD_OWN_TOKEN_FIELD));
    if (own == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    own->request = r;
    own->ctx = ctx;
    own->next = next;

    if (ngx_http_sender_domains_own_start(own) != NGX_OK) {
        /* no lookups now: the refresh goes on, the refresher tries later */
        return next(r, ctx);
    }

    r->read_event_handler = ngx_http_test_reading;
    r->main->count++;

    if (r->connection->read->pending_eof) {
        ngx_post_event(r->connection->read, &ngx_posted_events);
    }

    return NGX_DONE;
}


void
ngx_http_sender_domains_ownership_background(ngx_str_t *ws, ngx_str_t *id)
{
    json_t                         *row;
    ngx_pool_t                     *pool;
    sd_record_t                     rec;
    sd_store_rc_e                   rc;
    ngx_http_sender_domains_own_t  *own;

    if (ngx_http_sender_domains_own_in_flight
        >= NGX_HTTP_SENDER_DOMAINS_OWN_CONCURRENCY)
    {
        return;     /* the row's next turn checks it */
    }

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    rc = sd_store_get(ngx_http_sender_domains_store(), (char *) ws->data,
                      ws->len, (char *) id->data, id->len,
                      ngx_http_sender_domains_palloc, pool, &rec);

    row = (rc == SD_STORE_OK) ? json_loadb(rec.json, rec.json_len, 0, NULL)
                              : NULL;

    own = NULL;

    if (row && sd_own_pending(row)) {
        own = ngx_http_sender_domains_own_new(pool, ngx_cycle->log, ws, id,
                  sd_row_str(row, SD_OWN_TOKEN_FIELD));
    }

    json_decref(row);

    if (own) {
        own->pool = pool;
    }

    if (own == NULL || ngx_http_sender_domains_own_start(own) != NGX_OK) {
        ngx_destroy_pool(pool);
        return;
    }

    ngx_http_sender_domains_own_in_flight++;
}


static ngx_http_sender_domains_own_t *
ngx_http_sender_domains_own_new(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *ws, ngx_str_t *id, const char *token)
{
    ngx_http_sender_domains_own_t  *own;

    if (token == NULL || ngx_strlen(token) >= SD_OWN_TOKEN_BUFSZ) {
        return NULL;
    }

    own = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_own_t));
    if (own == NULL) {
        return NULL;
    }

    own->log = log;
    own->ws.data = ngx_pstrdup(pool, ws);
    own->ws.len = ws->len;
    own->id.data = ngx_pstrdup(pool, id);
    own->id.len = id->len;

    if (own->ws.data == NULL || own->id.data == NULL) {
        return NULL;
    }

    ngx_cpystrn((u_char *) own->token, (u_char *) token, sizeof(own->token));

    if (sd_own_name((char *) id->data, id->len, own->q.name,
                    sizeof(own->q.name))
        < 0)
    {
        return NULL;
    }

    own->q.type = SD_DNS_T_TXT;

    return own;
}


static ngx_int_t
ngx_http_sender_domains_own_start(ngx_http_sender_domains_own_t *own)
{
    ngx_pool_t  *pool;

    pool = own->request ? own->request->pool : NULL;

    if (pool == NULL) {
        /* the refresher's: the pool the row was read into */
        pool = (ngx_pool_t *) own->pool;
    }

    if (pool == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_sender_domains_dns_start(pool, own->log, &own->q, 1,
                                             ngx_http_sender_domains_own_answered,
                                             own)
           ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_sender_domains_own_answered(ngx_http_sender_domains_dns_batch_t *batch)
{
    ngx_int_t                       rc;
    ngx_connection_t               *c;
    ngx_http_request_t             *r;
    ngx_http_sender_domains_own_t  *own = batch->data;

    r = own->request;

    if (r == NULL) {
        /* the refresher's lookup */
        (void) ngx_http_sender_domains_own_settle(own, &batch->res[0], NULL);

        ngx_http_sender_domains_own_in_flight--;
        ngx_destroy_pool(own->pool);
        return;
    }

    c = r->connection;
    ngx_http_set_log_request(c->log, r);
    r->read_event_handler = ngx_http_block_reading;

    (void) ngx_http_sender_domains_own_settle(own, &batch->res[0],
                                              own->ctx->row);

    rc = own->next(r, own->ctx);

    /* NGX_DONE when the next call started: it holds its own count */
    ngx_http_finalize_request(r, ngx_http_sender_domains_json_status(r, rc));
    ngx_http_run_posted_requests(c);
}


/*
 * What the lookup means for the row: proven, lost to a workspace that
 * proved first, or still waiting.  The change is written to the store and,
 * for a request, to its copy of the row.
 */

static ngx_uint_t
ngx_http_sender_domains_own_settle(ngx_http_sender_domains_own_t *own,
    const sd_diag_result_t *res, json_t *row)
{
    int                held, quoted;
    ngx_uint_t         outcome;
    sd_own_verdict_e   v;

    held = sd_store_tree_held(ngx_http_sender_domains_store(),
                              (char *) own->ws.data, own->ws.len,
                              (char *) own->id.data, own->id.len);

    if (held == 2) {
        outcome = SD_M_OWN_LOST;

    } else if (res->status != SD_DNSQ_ANSWER || res->answer == NULL
               || (res->answer->rcode != SD_DNS_RCODE_NOERROR
                   && res->answer->rcode != SD_DNS_RCODE_NXDOMAIN))
    {
        outcome = SD_M_OWN_UNKNOWN;

    } else {
        v = sd_own_check(res->answer, own->q.name, own->token, &quoted);

        outcome = (v == SD_OWN_FOUND) ? SD_M_OWN_PROVEN
                  : (v == SD_OWN_WRONG) ? SD_M_OWN_WRONG
                  : SD_M_OWN_MISSING;
    }

    if (outcome == SD_M_OWN_PROVEN || outcome == SD_M_OWN_LOST) {
        outcome = ngx_http_sender_domains_own_write(own, outcome, row);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, own->log, 0,
                   "sender_domains: ownership of \"%V\" (workspace \"%V\"): "
                   "outcome %ui", &own->id, &own->ws, outcome);

    ngx_http_sender_domains_metric_ownership(outcome);

    return outcome;
}


static int
ngx_http_sender_domains_own_write_cb(void *data, const sd_record_t *cur,
    sd_record_t *out)
{
    ngx_http_sender_domains_own_write_t  *w = data;

    json_t                               *row;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    json_decref(w->row);
    w->row = NULL;

    row = json_loadb(cur->json, cur->json_len, 0, NULL);

    /* proven, failed or removed meanwhile: nothing to do */
    if (row == NULL || !sd_own_pending(row)) {
        json_decref(row);
        return 1;
    }

    if (w->outcome == SD_M_OWN_PROVEN) {
        (void) sd_own_prove(row);
        (void) sd_row_schedule(row, w->now, smcf->refresh_interval / 1000,
                               3600, 1);

    } else {
        sd_own_lose(row);
        sd_row_abandon(row, w->now, smcf->purge_after);
    }

    w->text = json_dumps(row, JSON_COMPACT);
    if (w->text == NULL) {
        json_decref(row);
        return 1;
    }

    w->row = row;

    out->flags = sd_row_flags(row);
    out->next_check = sd_row_next_check(row);
    out->sender_name = cur->sender_name;
    out->sender_name_len = cur->sender_name_len;
    out->json = w->text;
    out->json_len = ngx_strlen(w->text);

    return 0;
}


static void
ngx_http_sender_domains_own_write_done(void *data)
{
    ngx_http_sender_domains_own_write_t  *w = data;

    free(w->text);
    w->text = NULL;
}


/* copies the members the proof changed onto the request's row */

static void
ngx_http_sender_domains_own_copy(json_t *to, json_t *from)
{
    static const char  *keys[] = {
        "ownership", "verified_for_sending", "claim_expires_at", "state",
        "last_error", "next_check_at", "purge_at", "_ses_verified",
        "_attempt", NULL
    };

    ngx_uint_t   i;
    json_t      *v;

    for (i = 0; keys[i]; i++) {
        v = json_object_get(from, keys[i]);

        if (v) {
            json_object_set(to, keys[i], v);

        } else {
            json_object_del(to, keys[i]);
        }
    }
}


static ngx_uint_t
ngx_http_sender_domains_own_write(ngx_http_sender_domains_own_t *own,
    ngx_uint_t outcome, json_t *row)
{
    sd_store_rc_e                         rc;
    ngx_http_sender_domains_own_write_t   w;

    ngx_memzero(&w, sizeof(w));
    w.outcome = outcome;
    w.now = ngx_time();

    rc = sd_store_modify(ngx_http_sender_domains_store(),
                         (char *) own->ws.data, own->ws.len,
                         (char *) own->id.data, own->id.len,
                         ngx_http_sender_domains_own_write_cb,
                         ngx_http_sender_domains_own_write_done, &w);

    if (rc == SD_STORE_CONFLICT && outcome == SD_M_OWN_PROVEN
        && sd_store_tree_held(ngx_http_sender_domains_store(),
                              (char *) own->ws.data, own->ws.len,
                              (char *) own->id.data, own->id.len)
           == 2)
    {
        /* proven by another workspace a moment earlier */
        json_decref(w.row);
        return ngx_http_sender_domains_own_write(own, SD_M_OWN_LOST, row);
    }

    if (rc == SD_STORE_CONFLICT && outcome == SD_M_OWN_PROVEN) {
        /*
         * Another workspace's claim blocks for now (an add under way, a
         * claim not expired yet): the row waits, and is checked again.
         */
        ngx_log_error(NGX_LOG_NOTICE, own->log, 0,
                      "sender_domains: workspace \"%V\" proved control of "
                      "\"%V\", but another workspace's claim holds the name "
                      "for now; checked again later",
                      ngx_http_sender_domains_log_esc(&own->ws), &own->id);
        json_decref(w.row);
        return SD_M_OWN_MISSING;
    }

    if (rc != SD_STORE_OK) {
        if (rc != SD_STORE_NOT_FOUND) {
            ngx_log_error(NGX_LOG_ERR, own->log, 0,
                          "sender_domains: cannot save the ownership of "
                          "\"%V\" (workspace \"%V\"): %s", &own->id,
                          ngx_http_sender_domains_log_esc(&own->ws),
                          sd_store_strerror(ngx_http_sender_domains_store()));
        }

        json_decref(w.row);
        return SD_M_OWN_UNKNOWN;
    }

    if (w.row == NULL) {
        /* the row was no longer waiting: nothing was written */
        return SD_M_OWN_UNKNOWN;
    }

    if (outcome == SD_M_OWN_PROVEN) {
        ngx_log_error(NGX_LOG_INFO, own->log, 0,
                      "sender_domains: workspace \"%V\" proved control of "
                      "\"%V\" (TXT %s found): ownership proven",
                      ngx_http_sender_domains_log_esc(&own->ws), &own->id,
                      own->q.name);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, own->log, 0,
                      "sender_domains: workspace \"%V\" identity \"%V\": "
                      "another workspace proved control first; the row "
                      "failed (" SD_OWN_ELSEWHERE ")",
                      ngx_http_sender_domains_log_esc(&own->ws), &own->id);
    }

    if (row) {
        ngx_http_sender_domains_own_copy(row, w.row);
    }

    json_decref(w.row);

    return outcome;
}
