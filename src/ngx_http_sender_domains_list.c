/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the card list, GET /, in pages.
 *
 *   GET /                     the first 100 rows; "next" (a cursor) only
 *                             when rows remain, so that a workspace of
 *                             up to 100 rows gets the answer it got
 *                             before paging
 *   GET /?limit=N             the first N rows (1..1000) and "next": a
 *                             cursor, or null when no row is left
 *   GET /?limit=N&after=C     the N rows after cursor C, the "next" of
 *                             the page before (after alone: 100 of them)
 *
 * Every answer is one page, so that one request's memory and time are
 * bounded however many rows a workspace has (issue 13: 35 MB for an
 * unpaged list of thousands).
 *
 * Order: managed rows by name (the store's byte order), then the legacy
 * rows that no managed row hides, by name.  A cursor is the base64url of
 * the kind ('m' or 'l') and the name of the last row of its page; a page
 * starts after it, so rows added or removed meanwhile neither repeat nor
 * shift the rest.  It is looked up in the caller's workspace only: a
 * forged or foreign cursor just positions within the caller's own rows.
 *
 * Rows are written straight into pool buffers as they are read (see
 * sd_jsonw.h): no tree of the whole answer, no dump
 * of it, no copy.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_api.h"
#include "sd_identity.h"


#define NGX_HTTP_SENDER_DOMAINS_LIST_MAX      1000
#define NGX_HTTP_SENDER_DOMAINS_LIST_DEFAULT  100

#define SD_LIST_MANAGED                    'm'
#define SD_LIST_LEGACY                     'l'


typedef struct {
    ngx_http_request_t             *request;
    ngx_http_sender_domains_ctx_t  *ctx;
    sd_jsonw_t                     *w;
    sd_row_view_t                  *view;       /* reused row by row */

    ngx_uint_t                      limit;      /* rows in a page */
    ngx_uint_t                      count;

    /* the last row written: where the next page starts */
    u_char                          last_kind;
    size_t                          last_len;
    u_char                          last[SD_EMAIL_MAX];

    unsigned                        paged:1;    /* limit or after given */
    unsigned                        more:1;
    unsigned                        failed:1;
} ngx_http_sender_domains_list_ctx_t;


static ngx_int_t ngx_http_sender_domains_list_params(ngx_http_request_t *r,
    ngx_http_sender_domains_list_ctx_t *lc, ngx_str_t *after);
static ngx_int_t ngx_http_sender_domains_list_cursor(ngx_http_request_t *r,
    ngx_str_t *value, ngx_str_t *after);
static int ngx_http_sender_domains_list_room(
    ngx_http_sender_domains_list_ctx_t *lc);
static void ngx_http_sender_domains_list_wrote(
    ngx_http_sender_domains_list_ctx_t *lc, u_char kind, const char *id,
    size_t id_len);
static ngx_int_t ngx_http_sender_domains_list_view(
    ngx_http_sender_domains_list_ctx_t *lc, const char *what, const char *id,
    size_t id_len, const sd_record_t *rec, json_t **row);
static int ngx_http_sender_domains_list_managed(void *data, const char *id,
    size_t id_len, const sd_record_t *rec);
static int ngx_http_sender_domains_list_legacy(void *data, const char *id,
    size_t id_len, const sd_record_t *rec);
static void ngx_http_sender_domains_list_next(
    ngx_http_sender_domains_list_ctx_t *lc);


ngx_int_t
ngx_http_sender_domains_list(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    u_char                                kind;
    ngx_int_t                             rc;
    ngx_str_t                            *ws, after, from;
    sd_jsonw_t                            w;
    sd_store_rc_e                         src;
    ngx_http_sender_domains_out_t         out;
    ngx_http_sender_domains_list_ctx_t    lc;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);
    ws = &ctx->caller.workspace;

    ngx_memzero(&lc, sizeof(ngx_http_sender_domains_list_ctx_t));
    lc.request = r;
    lc.ctx = ctx;
    lc.w = &w;

    lc.view = ngx_palloc(r->pool, sizeof(sd_row_view_t));
    if (lc.view == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_null(&after);

    rc = ngx_http_sender_domains_list_params(r, &lc, &after);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    kind = after.len ? after.data[0] : SD_LIST_MANAGED;
    from.data = after.len ? after.data + 1 : NULL;
    from.len = after.len ? after.len - 1 : 0;

    ngx_http_sender_domains_out_init(r, &out, &w);

    sd_jsonw_lit(&w, "{\"plan_ok\":true,\"can_edit\":");

    if (ctx->caller.role == NGX_HTTP_SENDER_DOMAINS_ROLE_ADMIN) {
        sd_jsonw_lit(&w, "true");

    } else {
        sd_jsonw_lit(&w, "false");
    }

    sd_jsonw_lit(&w, ",\"default_from\":");
    sd_jsonw_str(&w, (char *) smcf->default_from.data,
                 smcf->default_from.len);
    sd_jsonw_lit(&w, ",\"identities\":[");

    src = SD_STORE_OK;

    if (kind == SD_LIST_MANAGED) {
        src = sd_store_list_after(ngx_http_sender_domains_store(),
                                  (char *) ws->data, ws->len,
                                  (char *) from.data, from.len,
                                  ngx_http_sender_domains_list_managed, &lc);

        /* the legacy rows follow the managed ones, from their start */
        from.data = NULL;
        from.len = 0;
    }

    if (src == SD_STORE_OK && !lc.more && !lc.failed) {
        src = sd_store_legacy_list_after(ngx_http_sender_domains_store(),
                                         (char *) ws->data, ws->len,
                                         (char *) from.data, from.len,
                                         ngx_http_sender_domains_list_legacy,
                                         &lc);
    }

    if (src != SD_STORE_OK) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    if (lc.failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sd_jsonw_lit(&w, "]");

    if (lc.paged || lc.more) {
        sd_jsonw_lit(&w, ",\"next\":");
        ngx_http_sender_domains_list_next(&lc);
    }

    sd_jsonw_lit(&w, "}");

    return ngx_http_sender_domains_send_out(r, NGX_HTTP_OK, &out, &w);
}


/*
 * ?limit=N (1..1000, default 100) and ?after=CURSOR; anything else in
 * the query is ignored.  NGX_DECLINED: go on.
 */

static ngx_int_t
ngx_http_sender_domains_list_params(ngx_http_request_t *r,
    ngx_http_sender_domains_list_ctx_t *lc, ngx_str_t *after)
{
    ngx_int_t   n;
    ngx_str_t   value;

    lc->limit = NGX_HTTP_SENDER_DOMAINS_LIST_DEFAULT;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &value) == NGX_OK) {
        n = NGX_ERROR;

        /* digits only: ngx_atoi() would take none of "+1", "-1", " 1" */
        if (value.len && value.len <= 4) {
            n = ngx_atoi(value.data, value.len);
        }

        if (n < 1 || n > NGX_HTTP_SENDER_DOMAINS_LIST_MAX) {
            return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_parameter",
                       "The limit must be a whole number from 1 to 1000.");
        }

        lc->limit = n;
        lc->paged = 1;
    }

    if (ngx_http_arg(r, (u_char *) "after", 5, &value) == NGX_OK) {
        if (ngx_http_sender_domains_list_cursor(r, &value, after) != NGX_OK)
        {
            return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_parameter",
                       "The after parameter must be the \"next\" value of "
                       "an earlier page of this list.");
        }

        lc->paged = 1;
    }

    return NGX_DECLINED;
}


/*
 * Decodes a cursor into after ("m" or "l", then a name).  Only its shape
 * is checked: whatever name it carries, the walk stays in the caller's
 * workspace.
 */

static ngx_int_t
ngx_http_sender_domains_list_cursor(ngx_http_request_t *r, ngx_str_t *value,
    ngx_str_t *after)
{
    u_char     *p;
    ngx_str_t   text;

    if (value->len == 0 || value->len > 2 * SD_EMAIL_MAX) {
        return NGX_ERROR;
    }

    /* a client may have percent-encoded it */
    p = ngx_pnalloc(r->pool, value->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    text.data = p;
    ngx_unescape_uri(&p, &value->data, value->len, 0);
    text.len = p - text.data;

    after->data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(text.len));
    if (after->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(after, &text) != NGX_OK
        || after->len < 2 || after->len > 1 + SD_EMAIL_MAX
        || (after->data[0] != SD_LIST_MANAGED
            && after->data[0] != SD_LIST_LEGACY)
        || ngx_strlchr(after->data, after->data + after->len, '\0'))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* 1 when the page can take another row; else marks that more remain */

static int
ngx_http_sender_domains_list_room(ngx_http_sender_domains_list_ctx_t *lc)
{
    if (lc->count == lc->limit) {
        lc->more = 1;
        return 0;
    }

    if (lc->count) {
        sd_jsonw_lit(lc->w, ",");
    }

    return 1;
}


static void
ngx_http_sender_domains_list_wrote(ngx_http_sender_domains_list_ctx_t *lc,
    u_char kind, const char *id, size_t id_len)
{
    lc->count++;
    lc->last_kind = kind;
    lc->last_len = ngx_min(id_len, sizeof(lc->last));
    ngx_memcpy(lc->last, id, lc->last_len);
}


/*
 * Fills lc->view with a stored row: from its text (sd_row_view_text()), or,
 * for a row that is not plain JSON of ours, from its parse, returned in
 * *row for the caller to release once written.  NGX_DECLINED: the row
 * cannot be read; it is logged and skipped, for one unreadable row must
 * not hide the others.
 */

static ngx_int_t
ngx_http_sender_domains_list_view(ngx_http_sender_domains_list_ctx_t *lc,
    const char *what, const char *id, size_t id_len, const sd_record_t *rec,
    json_t **row)
{
    *row = NULL;

    if (sd_row_view_text(lc->view, rec->json, rec->json_len) == 0) {
        return NGX_OK;
    }

    *row = json_loadb(rec->json, rec->json_len, 0, NULL);

    if (*row && json_is_object(*row)
        && sd_row_view_tree(lc->view, *row) == 0)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, lc->request->connection->log, 0,
                  "sender_domains: unreadable %s \"%*s\" skipped",
                  what, id_len, id);

    json_decref(*row);
    *row = NULL;

    return NGX_DECLINED;
}


static int
ngx_http_sender_domains_list_managed(void *data, const char *id,
    size_t id_len, const sd_record_t *rec)
{
    ngx_http_sender_domains_list_ctx_t  *lc = data;

    json_t     *row;
    ngx_int_t   rc;

    if (ngx_http_sender_domains_list_view(lc, "row", id, id_len, rec, &row)
        != NGX_OK)
    {
        return 0;
    }

    if (!ngx_http_sender_domains_list_room(lc)) {
        json_decref(row);
        return 1;
    }

    rc = ngx_http_sender_domains_write_view(lc->request, lc->w,
                                            &lc->ctx->caller.workspace,
                                            lc->view);
    json_decref(row);

    if (rc != NGX_OK) {
        lc->failed = 1;
        return 1;
    }

    ngx_http_sender_domains_list_wrote(lc, SD_LIST_MANAGED, id, id_len);

    return 0;
}


/*
 * Legacy rows that were not migrated yet (a managed row hides them).  A
 * legacy row is stored as its public object: once it reads as one JSON
 * object, its text is copied as it is.
 */

static int
ngx_http_sender_domains_list_legacy(void *data, const char *id,
    size_t id_len, const sd_record_t *rec)
{
    ngx_http_sender_domains_list_ctx_t  *lc = data;

    json_t       *row;
    sd_record_t   managed;

    if (sd_store_get(ngx_http_sender_domains_store(),
                     (char *) lc->ctx->caller.workspace.data,
                     lc->ctx->caller.workspace.len, id, id_len,
                     ngx_http_sender_domains_palloc, lc->request->pool,
                     &managed) == SD_STORE_OK)
    {
        return 0;
    }

    if (ngx_http_sender_domains_list_view(lc, "legacy row", id, id_len, rec,
                                          &row)
        != NGX_OK)
    {
        return 0;
    }

    json_decref(row);

    if (!ngx_http_sender_domains_list_room(lc)) {
        return 1;
    }

    sd_jsonw_raw(lc->w, rec->json, rec->json_len);
    ngx_http_sender_domains_list_wrote(lc, SD_LIST_LEGACY, id, id_len);

    return 0;
}


/* the cursor of the next page, or null when this page is the last */

static void
ngx_http_sender_domains_list_next(ngx_http_sender_domains_list_ctx_t *lc)
{
    ngx_str_t  src, dst;
    u_char     raw[1 + SD_EMAIL_MAX];
    u_char     enc[ngx_base64_encoded_length(1 + SD_EMAIL_MAX)];

    if (!lc->more) {
        sd_jsonw_lit(lc->w, "null");
        return;
    }

    raw[0] = lc->last_kind;
    ngx_memcpy(raw + 1, lc->last, lc->last_len);

    src.data = raw;
    src.len = 1 + lc->last_len;
    dst.data = enc;

    ngx_encode_base64url(&dst, &src);

    sd_jsonw_str(lc->w, (char *) dst.data, dst.len);
}

