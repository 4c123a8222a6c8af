/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the identity endpoints.
 *
 * Adding an identity is a chain of idempotent steps, each recorded in the
 * row before the next SES call:
 *
 *   claim (LMDB, atomic)  -> state "creating"
 *   CreateEmailIdentity   -> or adopt: GetEmailIdentity when it exists
 *   MAIL FROM (domains)   -> state "configuring_mail_from", then "ready"
 *
 * A crash, reload or SES failure between steps leaves a visible row whose
 * state says where it stopped; adding it again or refreshing it resumes
 * from there (create-or-adopt), so there is never a duplicate or an orphan.
 *
 * A request waiting on SES is suspended (r->main->count++) and finalized
 * exactly once per SES call from the completion handler.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_api.h"
#include "ngx_http_sender_domains_ses.h"
#include "ngx_http_sender_domains_ownership.h"
#include "ngx_http_sender_domains_cluster.h"
#include "sd_row.h"
#include "sd_identity.h"
#include "sd_from.h"
#include "sd_time.h"

#include <openssl/rand.h>

#include "sd_quota.h"


/*
 * How long an add may take before it answers without waiting for its
 * MAIL FROM (ms): at sender_domains_ses_rate 1 a create and a MAIL FROM
 * one second apart fit; a create that waited for another workspace's
 * turn answers without the MAIL FROM (docs/decisions.md).
 */
#define NGX_HTTP_SENDER_DOMAINS_ADD_PATIENCE  1500




typedef enum {
    SD_STEP_NONE = 0,
    SD_STEP_CREATE,
    SD_STEP_ADOPT,
    SD_STEP_MAIL_FROM,
    SD_STEP_GET,
    SD_STEP_DELETE,
    SD_STEP_DELETE_PROBE,
    SD_STEP_RESEND,
    SD_STEP_PEEK,               /* a member's refresh of a half-added row */
    SD_STEP_REPLACE             /* delete a stale claim's leftover, then create */
} ngx_http_sender_domains_step_e;


/* a PUT /legacy list being read: the entries as the store takes them */
typedef struct {
    size_t                      n;
    const char                **ids;
    size_t                     *lens;
    sd_record_t                *recs;
    char                      **texts;      /* json_dumps(): free() */
    json_t                     *out;        /* the answer's list */
    ngx_http_sender_domains_ctx_t  *ctx;
} ngx_http_sender_domains_legacy_list_t;


static ngx_int_t ngx_http_sender_domains_refresh_get(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_release(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, const char *why);
static void ngx_http_sender_domains_retry_after(ngx_http_request_t *r,
    int64_t secs);
static ngx_int_t ngx_http_sender_domains_cooldown(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_uint_t resend, int64_t *wait);
static ngx_int_t ngx_http_sender_domains_limit_error(ngx_http_request_t *r,
    ngx_uint_t limit, const char *what);
static ngx_int_t ngx_http_sender_domains_claim_cluster(
    ngx_http_request_t *r, ngx_http_sender_domains_ctx_t *ctx,
    const char *exists_message, sd_record_t *rec);
static ngx_int_t ngx_http_sender_domains_claim_next(ngx_http_request_t *r);
static ngx_int_t ngx_http_sender_domains_claim(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, const char *exists_message);
static ngx_int_t ngx_http_sender_domains_advance(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_call(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_step_e step,
    ngx_http_sender_domains_ses_op_e op, ngx_str_t *arg);
static void ngx_http_sender_domains_ses_handler(
    ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_done(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_create(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_adopt(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_get(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_mail_from(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_replace(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_delete_probe(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_delete(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_peek(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_resend(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses);
static ngx_int_t ngx_http_sender_domains_step_identity(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses,
    sd_ses_identity_t *si, ngx_int_t *rc);
static ngx_int_t ngx_http_sender_domains_step_settled(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, int64_t now);
static void ngx_http_sender_domains_step_schedule(ngx_http_request_t *r,
    json_t *row, int64_t now);
static ngx_int_t ngx_http_sender_domains_step_save(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_ses_error(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, sd_ses_result_t *res);
static ngx_int_t ngx_http_sender_domains_load_row(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static sd_store_rc_e ngx_http_sender_domains_save(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_reply_row(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_uint_t status);
static ngx_int_t ngx_http_sender_domains_normalize_path_id(
    ngx_http_request_t *r, ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_is_legacy(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_add_identity(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx);
static ngx_int_t ngx_http_sender_domains_add_label(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_str_t *label);
static ngx_int_t ngx_http_sender_domains_legacy_alloc(ngx_http_request_t *r,
    ngx_http_sender_domains_legacy_list_t *l, size_t n);
static ngx_int_t ngx_http_sender_domains_legacy_entry(ngx_http_request_t *r,
    ngx_http_sender_domains_legacy_list_t *l, size_t i, json_t *item);
static ngx_int_t ngx_http_sender_domains_legacy_store(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx,
    ngx_http_sender_domains_legacy_list_t *l);


/* a JSON value that lives as long as the request */

static json_t *
ngx_http_sender_domains_keep(ngx_http_request_t *r, json_t *j)
{
    if (j == NULL || ngx_http_sender_domains_json_track(r, j) != NGX_OK) {
        return NULL;
    }

    return j;
}


/*
 * The identity in the path: domains are lower-cased, an address keeps its
 * local part as typed.  Anything invalid cannot exist: 404, never 400, so
 * a path says nothing about other workspaces.
 */

static ngx_int_t
ngx_http_sender_domains_normalize_path_id(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    u_char       *buf;
    ssize_t       n;
    const char   *msg;

    buf = ngx_pnalloc(r->pool, SD_EMAIL_BUFSZ);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_strlchr(ctx->id.data, ctx->id.data + ctx->id.len, '@')) {
        n = sd_email_normalize((char *) ctx->id.data, ctx->id.len,
                               (char *) buf, SD_EMAIL_BUFSZ, &msg);
        ctx->is_domain = 0;

    } else {
        n = sd_domain_normalize((char *) ctx->id.data, ctx->id.len,
                                (char *) buf, SD_EMAIL_BUFSZ, &msg);
        ctx->is_domain = 1;
    }

    if (n <= 0) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_FOUND,
                   "not_found", "No such sender in this workspace.");
    }

    ctx->name.data = buf;
    ctx->name.len = n;

    return NGX_DECLINED;
}


/* loads the row named in the path into ctx->row */

ngx_int_t
ngx_http_sender_domains_load(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    ngx_int_t  rc;

    rc = ngx_http_sender_domains_normalize_path_id(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_sender_domains_load_row(r, ctx);
}


/* loads the row of ctx->name (already normalised) into ctx->row */

static ngx_int_t
ngx_http_sender_domains_load_row(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    sd_record_t    rec;
    sd_store_rc_e  src;

    src = sd_store_get(ngx_http_sender_domains_store(),
                       (char *) ctx->caller.workspace.data,
                       ctx->caller.workspace.len,
                       (char *) ctx->name.data, ctx->name.len,
                       ngx_http_sender_domains_palloc, r->pool, &rec);

    if (src == SD_STORE_NOT_FOUND) {
        if (ngx_http_sender_domains_is_legacy(r, ctx)) {
            return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                       "legacy_read_only",
                       "Legacy senders are read-only; migrate this sender "
                       "to manage it here.");
        }

        return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_FOUND,
                   "not_found", "No such sender in this workspace.");
    }

    if (src != SD_STORE_OK) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    ctx->row = ngx_http_sender_domains_keep(r,
                   json_loadb(rec.json, rec.json_len, 0, NULL));
    if (ctx->row == NULL || !json_is_object(ctx->row)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "sender_domains: unreadable row \"%V\" (workspace "
                      "\"%V\")", &ctx->name,
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace));
        return ngx_http_sender_domains_error(r,
                   NGX_HTTP_INTERNAL_SERVER_ERROR, "storage_error",
                   "This sender's stored record cannot be read; see the "
                   "error log.");
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_sender_domains_is_legacy(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    sd_record_t  rec;

    return sd_store_legacy_get(ngx_http_sender_domains_store(),
                               (char *) ctx->caller.workspace.data,
                               ctx->caller.workspace.len,
                               (char *) ctx->name.data, ctx->name.len,
                               ngx_http_sender_domains_palloc, r->pool, &rec)
           == SD_STORE_OK;
}


typedef struct {
    json_t                         *row;
    ngx_flag_t                      keep_name;
    char                           *text;
} ngx_http_sender_domains_save_t;


/*
 * Runs inside the write transaction: the sender name may have been edited
 * by another request while this one waited on SES; everything else in the
 * row is what SES said, so the newest answer wins.
 */

static int
ngx_http_sender_domains_save_cb(void *data, const sd_record_t *cur,
    sd_record_t *out)
{
    ngx_http_sender_domains_save_t  *sv = data;

    json_t  *stored;

    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    (void) sd_row_expire(sv->row, ngx_time());
    sd_row_abandon(sv->row, ngx_time(), smcf->purge_after);

    if (sv->keep_name) {
        sd_row_set_str(sv->row, "sender_name", cur->sender_name,
                       cur->sender_name_len);
    }

    /* the cooldowns are the stored row's: only their own write sets them */
    stored = json_loadb(cur->json, cur->json_len, 0, NULL);
    if (stored) {
        sd_quota_keep(sv->row, stored);
        json_decref(stored);
    }

    return sd_row_to_record(sv->row, out, &sv->text) == 0 ? 0 : 1;
}


static void
ngx_http_sender_domains_save_done(void *data)
{
    ngx_http_sender_domains_save_t  *sv = data;

    free(sv->text);
    sv->text = NULL;
}


static sd_store_rc_e
ngx_http_sender_domains_save(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    ngx_http_sender_domains_save_t  sv;

    sv.row = ctx->row;
    sv.keep_name = (ctx->action != SD_ACTION_PATCH);
    sv.text = NULL;

    return sd_store_modify(ngx_http_sender_domains_store(),
                           (char *) ctx->caller.workspace.data,
                           ctx->caller.workspace.len,
                           (char *) ctx->name.data, ctx->name.len,
                           ngx_http_sender_domains_save_cb,
                           ngx_http_sender_domains_save_done, &sv);
}


/*
 * A verified domain of this workspace that covers an address (a copy,
 * NUL-terminated), or NULL.
 */

static const char *
ngx_http_sender_domains_inherited(ngx_http_request_t *r, ngx_str_t *ws,
    const sd_str_t *addr)
{
    size_t        len;
    u_char       *copy;
    const char   *dom, *dot, *end;
    sd_record_t   rec;

    end = addr->data + addr->len;

    dom = (const char *) ngx_strlchr((u_char *) addr->data, (u_char *) end,
                                     '@');
    if (dom == NULL) {
        return NULL;
    }

    for (dom++; dom < end; dom = dot + 1) {
        dot = (const char *) ngx_strlchr((u_char *) dom, (u_char *) end, '.');
        if (dot == NULL) {
            break;
        }

        len = end - dom;

        if (sd_store_get(ngx_http_sender_domains_store(), (char *) ws->data,
                         ws->len, dom, len, ngx_http_sender_domains_palloc,
                         r->pool, &rec) == SD_STORE_OK
            && (rec.flags & SD_REC_DOMAIN) && (rec.flags & SD_REC_VERIFIED))
        {
            copy = ngx_pnalloc(r->pool, len + 1);
            if (copy == NULL) {
                return NULL;
            }

            *ngx_cpymem(copy, dom, len) = '\0';

            return (const char *) copy;
        }
    }

    return NULL;
}


/* the public identity object of a row, written to w */

ngx_int_t
ngx_http_sender_domains_write_view(ngx_http_request_t *r, sd_jsonw_t *w,
    ngx_str_t *ws, const sd_row_view_t *v)
{
    const char                           *inherited;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    inherited = NULL;

    if (!sd_row_view_is_domain(v) && v->identity.data) {
        inherited = ngx_http_sender_domains_inherited(r, ws, &v->identity);
    }

    if (sd_row_write_view(w, v, (char *) smcf->ses_region.data, inherited)
        != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sender_domains_reply_row(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_uint_t status)
{
    sd_jsonw_t                     w;
    sd_row_view_t                 *v;
    ngx_http_sender_domains_out_t  out;

    v = ngx_palloc(r->pool, sizeof(sd_row_view_t));
    if (v == NULL || sd_row_view_tree(v, ctx->row) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_sender_domains_out_init(r, &out, &w);

    if (ngx_http_sender_domains_write_view(r, &w, &ctx->caller.workspace, v)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_sender_domains_send_out(r, status, &out, &w);
}


/* ---- add ---------------------------------------------------------------- */


static ngx_int_t
ngx_http_sender_domains_body_string(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, const char *key, ngx_str_t *out,
    const char *code, const char *message)
{
    json_t  *v;

    ngx_str_null(out);

    v = json_object_get(ctx->body, key);
    if (v == NULL || json_is_null(v)) {
        return NGX_DECLINED;
    }

    if (!json_is_string(v)) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST, code,
                                             message);
    }

    out->data = (u_char *) json_string_value(v);
    out->len = json_string_length(v);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_sender_domains_check_sender_name(ngx_http_request_t *r,
    ngx_str_t *in, ngx_str_t *out)
{
    u_char      *buf;
    ssize_t      n;
    const char  *msg;

    buf = ngx_pnalloc(r->pool, SD_SENDER_NAME_BUFSZ);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = sd_sender_name_validate((char *) in->data, in->len, (char *) buf,
                                SD_SENDER_NAME_BUFSZ, &msg);

    /* RFC 5322: the From line it makes stays within 998 octets */
    if (n > 0 && sd_from_name_fits((char *) buf, n) != SD_OK) {
        msg = sd_strerror(SD_ERR_NAME_LINE_LONG);
        n = -1;
    }

    if (n < 0) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_sender_name", msg);
    }

    out->data = buf;
    out->len = n;

    return NGX_DECLINED;
}


/*
 * Each claim gets a random name, sent as a tag with CreateEmailIdentity:
 * when SES later says the identity already exists, its tags tell whether
 * this very claim created it (an answer lost to a timeout or a crash) or
 * someone else did.
 */

static ngx_int_t
ngx_http_sender_domains_claim_nonce(json_t *row)
{
    u_char  raw[12], hex[25];

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return NGX_ERROR;
    }

    ngx_hex_dump(hex, raw, sizeof(raw));
    hex[24] = '\0';

    json_object_set_new(row, "_claim", json_string((char *) hex));

    return NGX_OK;
}


/* how long the claim of a row that is not verified blocks others */

static void
ngx_http_sender_domains_claim_expiry(ngx_http_sender_domains_ctx_t *ctx,
    int64_t from)
{
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    sd_row_set_claim_expiry(ctx->row, from, smcf->claim_domain,
                            smcf->claim_address);
}


/*
 * SES has the name already and not for this claim (issue 13): its status
 * is the shared account's, so it counts only with a proof.  Answers 409
 * registered_outside and stores nothing (an add's claim is released; a
 * row being resumed is marked failed, its claim released).
 */

static ngx_int_t
ngx_http_sender_domains_outside(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_uint_t verified)
{
    const char     *msg;
    sd_store_rc_e   src;

    if (ctx->is_domain) {
        msg = verified
              ? "This domain is already verified in the platform's Amazon "
                "SES account outside your workspace, and nothing proves "
                "that you control it. It cannot be added here; contact "
                "support."
              : "This domain already exists in the platform's Amazon SES "
                "account outside your workspace, and nothing proves that "
                "you control it. It cannot be added here; contact support.";

    } else {
        msg = verified
              ? "This address is already verified for another sender on "
                "this platform; contact support."
              : "This address already exists in the platform's Amazon SES "
                "account outside your workspace; contact support.";
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "sender_domains: workspace \"%V\" refused \"%V\": it "
                  "exists in SES (%s) not created for this claim",
                  ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                  &ctx->name,
                  verified ? "verified" : "not verified");

    if (ctx->action == SD_ACTION_ADD || ctx->action == SD_ACTION_MIGRATE) {
        src = sd_store_delete(ngx_http_sender_domains_store(),
                              (char *) ctx->caller.workspace.data,
                              ctx->caller.workspace.len,
                              (char *) ctx->name.data, ctx->name.len);

    } else {
        sd_row_set_outside(ctx->row, msg);
        src = ngx_http_sender_domains_save(r, ctx);
    }

    if (src != SD_STORE_OK && src != SD_STORE_NOT_FOUND) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                                         "registered_outside", msg);
}


/*
 * The add's "identity" and "type": which kind it is (an '@' means an
 * address when "type" is not given) and its normal form, in ctx->name.
 * NGX_DECLINED when they are good, else the error answer's code.
 */
static ngx_int_t
ngx_http_sender_domains_add_identity(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    u_char      *buf;
    ssize_t      n;
    ngx_int_t    rc;
    ngx_str_t    id, type;
    const char  *msg;

    rc = ngx_http_sender_domains_body_string(r, ctx, "identity", &id,
             "invalid_identity", "\"identity\" must be a string.");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (id.len == 0) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_identity", "Enter a domain such as acme.com or "
                   "an address such as reports@acme.com.");
    }

    rc = ngx_http_sender_domains_body_string(r, ctx, "type", &type,
             "invalid_type", "\"type\" must be \"domain\" or \"email\".");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (type.len == 0) {
        ctx->is_domain = ngx_strlchr(id.data, id.data + id.len, '@') == NULL;

    } else if (type.len == 6 && ngx_strncmp(type.data, "domain", 6) == 0) {
        ctx->is_domain = 1;

    } else if (type.len == 5 && ngx_strncmp(type.data, "email", 5) == 0) {
        ctx->is_domain = 0;

    } else {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_type", "\"type\" must be \"domain\" or "
                   "\"email\".");
    }

    buf = ngx_pnalloc(r->pool, SD_EMAIL_BUFSZ);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = ctx->is_domain
        ? sd_domain_normalize((char *) id.data, id.len, (char *) buf,
                              SD_EMAIL_BUFSZ, &msg)
        : sd_email_normalize((char *) id.data, id.len, (char *) buf,
                             SD_EMAIL_BUFSZ, &msg);

    /* an address that mail readers would decode: kept out of From */
    if (n > 0 && !ctx->is_domain
        && sd_email_header_check((char *) buf, n, &msg) != SD_OK)
    {
        n = -1;
    }

    if (n <= 0) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_identity", msg);
    }

    ctx->name.data = buf;
    ctx->name.len = n;

    return NGX_DECLINED;
}


/*
 * The add's "mail_from_subdomain": a domain's MAIL FROM label (the
 * default when not given), refused for an address.
 */
static ngx_int_t
ngx_http_sender_domains_add_label(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_str_t *label)
{
    u_char       lbuf[SD_LABEL_BUFSZ];
    ssize_t      n;
    ngx_int_t    rc;
    const char  *msg;

    rc = ngx_http_sender_domains_body_string(r, ctx, "mail_from_subdomain",
             label, "invalid_subdomain",
             "\"mail_from_subdomain\" must be a string such as \"pmail\".");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (!ctx->is_domain) {
        if (label->len == 0) {
            return NGX_DECLINED;
        }

        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_subdomain", "A custom MAIL FROM subdomain "
                   "applies to domains, not to single addresses.");
    }

    if (label->len == 0) {
        ngx_str_set(label, SD_MAIL_FROM_LABEL_DEFAULT);
    }

    n = sd_label_validate((char *) label->data, label->len,
                          (char *) ctx->name.data, ctx->name.len,
                          (char *) lbuf, sizeof(lbuf), &msg);
    if (n <= 0) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_subdomain", msg);
    }

    label->data = ngx_pnalloc(r->pool, n);
    if (label->data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(label->data, lbuf, n);
    label->len = n;

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_sender_domains_add(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    json_t     *row;
    ngx_int_t   rc;
    ngx_str_t   label, name;

    if (!json_is_object(ctx->body)) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_json", "Send a JSON object such as "
                   "{\"identity\":\"acme.com\",\"type\":\"domain\"}.");
    }

    rc = ngx_http_sender_domains_add_identity(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_sender_domains_add_label(r, ctx, &label);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_sender_domains_body_string(r, ctx, "sender_name", &name,
             "invalid_sender_name", "\"sender_name\" must be a string.");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_sender_domains_check_sender_name(r, &name, &name);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    row = ngx_http_sender_domains_keep(r,
              sd_row_new((char *) ctx->name.data, ctx->name.len,
                         ctx->is_domain, (char *) name.data, name.len,
                         (char *) label.data, label.len, ngx_time()));
    if (row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->row = row;

    if (ngx_http_sender_domains_claim_nonce(row) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a claim that never verifies stops blocking others (issue 13) */
    ngx_http_sender_domains_claim_expiry(ctx, ngx_time());

    return ngx_http_sender_domains_claim(r, ctx,
                                         "This sender is already in your "
                                         "list.");
}


/* 403 limit_reached, with the limit in the answer */

static ngx_int_t
ngx_http_sender_domains_limit_error(ngx_http_request_t *r, ngx_uint_t limit,
    const char *what)
{
    u_char  *p, msg[256];

    p = ngx_snprintf(msg, sizeof(msg) - 1, "This workspace has reached its "
                     "limit of %ui %s. Remove one you no longer use, or ask "
                     "the platform to raise the limit.", limit, what);
    *p = '\0';

    return ngx_http_sender_domains_send_json(r, NGX_HTTP_FORBIDDEN,
               json_pack("{s:{s:s,s:s,s:I}}", "error", "code", "limit_reached",
                         "message", (char *) msg, "limit",
                         (json_int_t) limit));
}


/*
 * Records the claim of ctx->row before SES is called (atomically, under
 * the ownership rule), then starts the add flow.  A row of this workspace
 * that stopped half-way resumes instead; a finished one is 409.
 */

static ngx_int_t
ngx_http_sender_domains_claim(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, const char *exists_message)
{
    char           *text;
    ngx_int_t       rc;
    sd_record_t     rec;
    sd_store_rc_e   src;

    ngx_http_sender_domains_main_conf_t  *smcf;

    if (sd_row_to_record(ctx->row, &rec, &text) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    if (smcf->cluster && !ctx->cluster_claimed) {
        rc = ngx_http_sender_domains_claim_cluster(r, ctx, exists_message,
                                                   &rec);
        if (rc != NGX_DECLINED) {
            free(text);
            return rc;
        }
    }

    src = sd_store_claim_max(ngx_http_sender_domains_store(),
                             (char *) ctx->caller.workspace.data,
                             ctx->caller.workspace.len,
                             (char *) ctx->name.data, ctx->name.len, &rec,
                             smcf->max_identities);
    free(text);

    switch (src) {

    case SD_STORE_LIMIT:
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" holds its limit of "
                      "%ui identities; \"%V\" refused",
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace), smcf->max_identities,
                      &ctx->name);
        return ngx_http_sender_domains_limit_error(r, smcf->max_identities,
                   "identities");

    case SD_STORE_OK:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" claimed \"%V\"",
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                      &ctx->name);
        break;

    case SD_STORE_CONFLICT:
        return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                   "already_registered",
                   "Already registered in another workspace.");

    case SD_STORE_EXISTS:
        if (sd_store_get(ngx_http_sender_domains_store(),
                         (char *) ctx->caller.workspace.data,
                         ctx->caller.workspace.len,
                         (char *) ctx->name.data, ctx->name.len,
                         ngx_http_sender_domains_palloc, r->pool, &rec)
            == SD_STORE_NOT_FOUND)
        {
            /* the same address with another capitalisation */
            return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                       "already_exists", "This address is already in your "
                       "list with different capitalisation.");
        }

        rc = ngx_http_sender_domains_load_row(r, ctx);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        if (sd_row_in_state(ctx->row, SD_STATE_READY)) {
            return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                                                 "already_exists",
                                                 exists_message);
        }

        if (sd_row_in_state(ctx->row, SD_STATE_FAILED)) {
            return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                       "already_exists", "This sender is in your list, but "
                       "its claim expired; remove it and add it again to "
                       "restart.");
        }

        break;

    default:
        return ngx_http_sender_domains_store_error(r, src);
    }

    return ngx_http_sender_domains_advance(r, ctx);
}


/*
 * Cluster mode: a name this workspace does not hold yet is claimed in etcd
 * first (docs/cluster.md, "Claim"), for every node at once; the local add
 * flow then goes on from the Txn's answer, with the row in this node's
 * store.  NGX_DECLINED: no cluster claim needed (the workspace has it).
 */

static ngx_int_t
ngx_http_sender_domains_claim_cluster(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, const char *exists_message,
    sd_record_t *rec)
{
    size_t                                n;
    sd_record_t                           have;
    sd_store_rc_e                         src;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    ctx->cluster_claimed = 1;
    ctx->exists_message = exists_message;

    src = sd_store_get(ngx_http_sender_domains_store(),
                       (char *) ctx->caller.workspace.data,
                       ctx->caller.workspace.len,
                       (char *) ctx->name.data, ctx->name.len,
                       ngx_http_sender_domains_palloc, r->pool, &have);

    if (src == SD_STORE_OK) {
        return NGX_DECLINED;
    }

    /* the limit first: a refused add leaves nothing in the cluster */
    src = sd_store_count_ws(ngx_http_sender_domains_store(),
                            (char *) ctx->caller.workspace.data,
                            ctx->caller.workspace.len, smcf->max_identities,
                            &n);
    if (src != SD_STORE_OK) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    if (smcf->max_identities && n >= smcf->max_identities) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" holds its limit of "
                      "%ui identities; \"%V\" refused",
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                      smcf->max_identities, &ctx->name);
        return ngx_http_sender_domains_limit_error(r, smcf->max_identities,
                   "identities");
    }

    return ngx_http_sender_domains_cluster_claim(r, &ctx->caller.workspace,
               &ctx->name, rec->json, rec->json_len,
               ngx_http_sender_domains_claim_next);
}


static ngx_int_t
ngx_http_sender_domains_claim_next(ngx_http_request_t *r)
{
    ngx_http_sender_domains_ctx_t  *ctx;

    ctx = ngx_http_sender_domains_get_ctx(r);

    return ngx_http_sender_domains_claim(r, ctx, ctx->exists_message);
}


/*
 * Runs the next step of the add flow from the row's state, or answers
 * when the row is ready.  Shared by add, refresh and migrate.
 */

static ngx_int_t
ngx_http_sender_domains_advance(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    u_char          *p;
    ngx_str_t        mf, claim;
    ngx_time_t      *tp;
    const char      *label;
    sd_store_rc_e    src;
    ngx_msec_int_t   elapsed;

    if (sd_row_in_state(ctx->row, SD_STATE_CREATING)) {
        if (sd_row_str(ctx->row, "_claim") == NULL) {
            /* a row from before claim tags: give it one, saved first */
            if (ngx_http_sender_domains_claim_nonce(ctx->row) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            src = ngx_http_sender_domains_save(r, ctx);
            if (src != SD_STORE_OK) {
                return ngx_http_sender_domains_store_error(r, src);
            }
        }

        claim.data = (u_char *) sd_row_str(ctx->row, "_claim");
        claim.len = ngx_strlen(claim.data);

        return ngx_http_sender_domains_call(r, ctx, SD_STEP_CREATE,
                                            SD_SES_OP_CREATE, &claim);
    }

    if (sd_row_in_state(ctx->row, SD_STATE_MAIL_FROM)) {
        label = sd_row_mail_from_label(ctx->row);

        mf.len = ngx_strlen(label) + 1 + ctx->name.len;
        mf.data = ngx_pnalloc(r->pool, mf.len);
        if (mf.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_sprintf(mf.data, "%s.%V", label, &ctx->name);
        mf.len = p - mf.data;

        if (ctx->action == SD_ACTION_ADD && ctx->ses_calls) {
            /*
             * The person waits for the create's answer, not for the
             * MAIL FROM: when the budget would keep the add past
             * NGX_HTTP_SENDER_DOMAINS_ADD_PATIENCE, it answers with the
             * row as saved and the MAIL FROM follows in the workspace's
             * turn (docs/decisions.md).
             */
            tp = ngx_timeofday();
            elapsed = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                                        + (tp->msec - r->start_msec));

            ctx->patience = (elapsed < NGX_HTTP_SENDER_DOMAINS_ADD_PATIENCE)
                            ? NGX_HTTP_SENDER_DOMAINS_ADD_PATIENCE - elapsed
                            : 1;
        }

        return ngx_http_sender_domains_call(r, ctx, SD_STEP_MAIL_FROM,
                                            SD_SES_OP_PUT_MAIL_FROM, &mf);
    }

    return ngx_http_sender_domains_reply_row(r, ctx,
               ctx->action == SD_ACTION_ADD ? NGX_HTTP_CREATED : NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_sender_domains_call(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_step_e step,
    ngx_http_sender_domains_ses_op_e op, ngx_str_t *arg)
{
    ngx_msec_t                      patience;
    ngx_http_sender_domains_ses_t  *ses;

    patience = ctx->patience;
    ctx->patience = 0;

    if (!ngx_http_sender_domains_ses_ready()) {
        if (ctx->row
            && (ctx->action == SD_ACTION_ADD
                || ctx->action == SD_ACTION_REFRESH
                || ctx->action == SD_ACTION_MIGRATE)
            && !sd_row_in_state(ctx->row, SD_STATE_READY))
        {
            /* the row says why it stopped; the refresher retries it */
            ngx_http_sender_domains_main_conf_t  *smcf;

            smcf = ngx_http_get_module_main_conf(r,
                                         ngx_http_sender_domains_module);

            sd_row_set_error(ctx->row, "ses_unavailable", "Amazon SES "
                             "cannot be reached: no AWS credentials are "
                             "configured.");
            (void) sd_row_schedule(ctx->row, ngx_time(),
                                   smcf->refresh_interval / 1000, 3600, 0);
            (void) ngx_http_sender_domains_save(r, ctx);
        }

        return ngx_http_sender_domains_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "ses_unavailable", "Amazon SES cannot be reached: no AWS "
                   "credentials are configured. Ask the operator to set "
                   "them; nothing was lost.");
    }

    /*
     * In the workspace's fair turn; the one call right after the first
     * served one goes on in it, later ones take turns (a request never
     * jumps the queue twice).
     */
    ses = ngx_http_sender_domains_ses_start_for(r->pool, r->connection->log,
              op, &ctx->name, arg, &ctx->caller.workspace,
              ctx->ses_calls == 1, patience,
              ngx_http_sender_domains_ses_handler, r);
    if (ses == NULL) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "ses_unavailable", "The call to Amazon SES could not be "
                   "started; nothing was lost. Try again.");
    }

    ctx->step = step;
    ctx->call = ses;

    /* notice a client that goes away: its pool cancels the SES call */
    r->read_event_handler = ngx_http_test_reading;

    r->main->count++;

    /*
     * The client may be gone already: its FIN came with the request (or
     * while the body or an earlier step was handled), epoll reported it
     * then (pending_eof) and, edge-triggered, never will again.  Without
     * this, ngx_http_test_reading() would not run before SES answers and
     * the call would go on for nobody, the request alive until then.
     * (kqueue sets pending_eof too; level-triggered events fire again.)
     */
    if (r->connection->read->pending_eof) {
        ngx_post_event(r->connection->read, &ngx_posted_events);
    }

    return NGX_DONE;
}


static void
ngx_http_sender_domains_ses_handler(ngx_http_sender_domains_ses_t *ses)
{
    ngx_int_t                       rc;
    ngx_connection_t               *c;
    ngx_http_request_t             *r = ses->data;
    ngx_http_sender_domains_ctx_t  *ctx;

    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_sender_domains_module);

    ngx_http_set_log_request(c->log, r);

    ctx->call = NULL;
    r->read_event_handler = ngx_http_block_reading;

    if ((ses->result.status != SD_SES_THROTTLED || ses->call)
        && ctx->ses_calls < 2)
    {
        ctx->ses_calls++;
    }

    rc = ngx_http_sender_domains_step_done(r, ctx, ses);

    /* NGX_DONE when the next call started: it holds its own count */
    ngx_http_finalize_request(r, ngx_http_sender_domains_json_status(r, rc));
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_sender_domains_fail_step(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, sd_ses_result_t *res)
{
    const char     *code;
    sd_store_rc_e   src;

    ngx_http_sender_domains_main_conf_t  *smcf;

    code = sd_ses_error_code(res->status);
    sd_row_set_error(ctx->row, code, res->message);

    if (!sd_row_in_state(ctx->row, SD_STATE_READY)) {
        /* a half-added row: the refresher resumes it, backing off */
        smcf = ngx_http_get_module_main_conf(r,
                                             ngx_http_sender_domains_module);
        (void) sd_row_schedule(ctx->row, ngx_time(),
                               smcf->refresh_interval / 1000, 3600, 0);
    }

    src = ngx_http_sender_domains_save(r, ctx);
    if (src != SD_STORE_OK && src != SD_STORE_NOT_FOUND) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    return ngx_http_sender_domains_ses_error(r, ctx, res);
}


static ngx_int_t
ngx_http_sender_domains_step_done(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses)
{
    switch (ctx->step) {

    case SD_STEP_CREATE:
        return ngx_http_sender_domains_step_create(r, ctx, ses);

    case SD_STEP_ADOPT:
        return ngx_http_sender_domains_step_adopt(r, ctx, ses);

    case SD_STEP_GET:
        return ngx_http_sender_domains_step_get(r, ctx, ses);

    case SD_STEP_MAIL_FROM:
        return ngx_http_sender_domains_step_mail_from(r, ctx, ses);

    case SD_STEP_REPLACE:
        return ngx_http_sender_domains_step_replace(r, ctx, ses);

    case SD_STEP_DELETE_PROBE:
        return ngx_http_sender_domains_step_delete_probe(r, ctx, ses);

    case SD_STEP_DELETE:
        return ngx_http_sender_domains_step_delete(r, ctx, ses);

    case SD_STEP_PEEK:
        return ngx_http_sender_domains_step_peek(r, ctx, ses);

    case SD_STEP_RESEND:
        return ngx_http_sender_domains_step_resend(r, ctx, ses);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/* a refresh interval from now, backing off to an hour */

static void
ngx_http_sender_domains_step_schedule(ngx_http_request_t *r, json_t *row,
    int64_t now)
{
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    (void) sd_row_schedule(row, now, smcf->refresh_interval / 1000, 3600, 1);
}


static ngx_int_t
ngx_http_sender_domains_step_create(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses)
{
    int64_t             now;
    sd_ses_status_e     st;
    sd_ses_identity_t   si;

    now = ngx_time();
    st = ses->result.status;

    if (st == SD_SES_ALREADY_EXISTS) {
        /*
         * SES has it already: adopt it, never overwrite it.  Whether it
         * is our own creation (its answer lost) the tags will tell.
         */
        return ngx_http_sender_domains_call(r, ctx, SD_STEP_ADOPT,
                                            SD_SES_OP_GET, NULL);
    }

    if (st != SD_SES_OK) {
        if ((st == SD_SES_BAD_REQUEST || st == SD_SES_LIMIT_EXCEEDED
             || st == SD_SES_ACCESS_DENIED)
            && (ctx->action == SD_ACTION_ADD
                || ctx->action == SD_ACTION_MIGRATE))
        {
            /* SES certainly created nothing: release the claim */
            (void) sd_store_delete(ngx_http_sender_domains_store(),
                                   (char *) ctx->caller.workspace.data,
                                   ctx->caller.workspace.len,
                                   (char *) ctx->name.data, ctx->name.len);
            return ngx_http_sender_domains_ses_error(r, ctx, &ses->result);
        }

        return ngx_http_sender_domains_fail_step(r, ctx, &ses->result);
    }

    sd_row_set_origin(ctx->row, SD_ORIGIN_CREATED, SD_OWNERSHIP_PROVEN);

    /* SES's DNS search (or the link's life) starts now */
    ngx_http_sender_domains_claim_expiry(ctx, now);

    ngx_memzero(&si, sizeof(sd_ses_identity_t));

    if (sd_ses_parse_identity((char *) ses->body.data, ses->body.len, &si)
        == SD_SES_OK)
    {
        sd_row_apply_ses(ctx->row, &si, now);
    }

    if (!ctx->is_domain) {
        /* CreateEmailIdentity sends the verification email */
        sd_row_set_link_sent(ctx->row, now);
    }

    return ngx_http_sender_domains_step_settled(r, ctx, now);
}


/*
 * GetEmailIdentity's answer, parsed into si: NGX_OK; or NGX_DECLINED when
 * SES failed or its answer is unreadable, with *rc the answer given.
 */

static ngx_int_t
ngx_http_sender_domains_step_identity(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses,
    sd_ses_identity_t *si, ngx_int_t *rc)
{
    sd_ses_status_e  st;

    st = ses->result.status;

    if (st == SD_SES_OK) {
        st = sd_ses_parse_identity((char *) ses->body.data, ses->body.len,
                                   si);
        if (st != SD_SES_OK) {
            sd_ses_result_set(&ses->result, st);
        }
    }

    if (st != SD_SES_OK) {
        *rc = ngx_http_sender_domains_fail_step(r, ctx, &ses->result);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* CreateEmailIdentity said it exists: whose is it? */

static ngx_int_t
ngx_http_sender_domains_step_adopt(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses)
{
    int64_t            now;
    ngx_int_t          rc, tagged;
    sd_ses_identity_t  si;

    now = ngx_time();

    if (ngx_http_sender_domains_step_identity(r, ctx, ses, &si, &rc)
        != NGX_OK)
    {
        return rc;
    }

    tagged = sd_row_claim_tag(ctx->row, &si);

    if (tagged == SD_ROW_TAG_OURS) {
        /* our own creation, its answer lost */
        sd_row_set_origin(ctx->row, SD_ORIGIN_CREATED, SD_OWNERSHIP_PROVEN);

    } else if (!ctx->is_domain && ngx_http_sender_domains_is_legacy(r, ctx)) {
        /* the platform declared it this workspace's sender */
        sd_row_set_origin(ctx->row, SD_ORIGIN_ADOPTED, SD_OWNERSHIP_DECLARED);

    } else if (!si.verified_for_sending && tagged == SD_ROW_TAG_MODULE
               && !ctx->replaced
               && !sd_store_claimed_by_other(ngx_http_sender_domains_store(),
                                     (char *) ctx->caller.workspace.data,
                                     ctx->caller.workspace.len,
                                     (char *) ctx->name.data, ctx->name.len))
    {
        /*
         * Left over from a claim that expired or was released, never
         * verified: its DKIM tokens were shown to someone else.  Start
         * afresh under this claim: delete, create.
         */
        ctx->replaced = 1;

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" replaces the "
                      "unverified SES identity \"%V\" of an expired claim",
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                      &ctx->name);

        return ngx_http_sender_domains_call(r, ctx, SD_STEP_REPLACE,
                                            SD_SES_OP_DELETE, NULL);

    } else if (ngx_http_sender_domains_ownership_adopt(r, ctx, &si) != NGX_OK)
    {
        /* a verified domain is stored unproven, else refused */
        return ngx_http_sender_domains_outside(r, ctx,
                                               si.verified_for_sending);
    }

    sd_row_apply_ses(ctx->row, &si, now);

    return ngx_http_sender_domains_step_settled(r, ctx, now);
}


/* a refresh's GetEmailIdentity */

static ngx_int_t
ngx_http_sender_domains_step_get(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses)
{
    int64_t            now;
    ngx_int_t          rc;
    sd_ses_identity_t  si;

    now = ngx_time();

    if (ses->result.status == SD_SES_NOT_FOUND) {
        /*
         * removed from SES behind our back: the next refresh re-adds it,
         * its MAIL FROM included
         */
        sd_row_set_gone(ctx->row);
        ngx_cpystrn((u_char *) ses->result.message,
                    (u_char *) SD_ROW_GONE_MESSAGE,
                    sizeof(ses->result.message));
        ses->result.ses_message = 0;

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "sender_domains: workspace \"%V\": Amazon SES no "
                      "longer has \"%V\"; the next refresh adds it again",
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                      &ctx->name);

        return ngx_http_sender_domains_fail_step(r, ctx, &ses->result);
    }

    if (ngx_http_sender_domains_step_identity(r, ctx, ses, &si, &rc)
        != NGX_OK)
    {
        return rc;
    }

    sd_row_apply_ses(ctx->row, &si, now);
    ngx_http_sender_domains_step_schedule(r, ctx->row, now);
    sd_row_clear_error(ctx->row);

    return ngx_http_sender_domains_step_save(r, ctx);
}


/* created or adopted: a domain goes on with its MAIL FROM */

static ngx_int_t
ngx_http_sender_domains_step_settled(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, int64_t now)
{
    sd_row_settle(ctx->row);
    ngx_http_sender_domains_step_schedule(r, ctx->row, now);

    return ngx_http_sender_domains_step_save(r, ctx);
}


/* the row saved, the add (or refresh) goes on with the next step */

static ngx_int_t
ngx_http_sender_domains_step_save(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    sd_store_rc_e  src;

    src = ngx_http_sender_domains_save(r, ctx);
    if (src != SD_STORE_OK) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    return ngx_http_sender_domains_advance(r, ctx);
}


static ngx_int_t
ngx_http_sender_domains_step_mail_from(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses)
{
    int64_t                               now;
    ngx_http_sender_domains_main_conf_t  *smcf;

    now = ngx_time();

    if (ses->deferred) {
        /*
         * The budget would have kept the person waiting: the add answers
         * with the row as saved (configuring_mail_from, its MAIL FROM
         * not configured), and the MAIL FROM goes on in this worker, in
         * the workspace's turn; the refresher resumes it if that fails.
         */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" identity \"%V\": "
                      "answered before its MAIL FROM, which follows",
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                      &ctx->name);

        smcf = ngx_http_get_module_main_conf(r,
                                             ngx_http_sender_domains_module);

        if (smcf->resume == NULL
            || smcf->resume(&ctx->caller.workspace, &ctx->name) != NGX_OK)
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "sender_domains: workspace \"%V\" identity "
                          "\"%V\": the MAIL FROM is left to the refresher",
                          ngx_http_sender_domains_log_esc(
                              &ctx->caller.workspace),
                          &ctx->name);
        }

        return ngx_http_sender_domains_reply_row(r, ctx, NGX_HTTP_CREATED);
    }

    if (ses->result.status != SD_SES_OK) {
        return ngx_http_sender_domains_fail_step(r, ctx, &ses->result);
    }

    (void) sd_row_set_mail_from(ctx->row, (char *) ctx->name.data,
                                ctx->name.len);

    sd_row_set_state(ctx->row, SD_STATE_READY);
    sd_row_clear_error(ctx->row);
    ngx_http_sender_domains_step_schedule(r, ctx->row, now);

    return ngx_http_sender_domains_step_save(r, ctx);
}


/* the stale leftover is gone: create it under this claim */

static ngx_int_t
ngx_http_sender_domains_step_replace(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses)
{
    ngx_str_t        claim;
    sd_ses_status_e  st;

    st = ses->result.status;

    if (st != SD_SES_OK && st != SD_SES_NOT_FOUND) {
        return ngx_http_sender_domains_fail_step(r, ctx, &ses->result);
    }

    claim.data = (u_char *) sd_row_str(ctx->row, "_claim");
    claim.len = ngx_strlen(claim.data);

    return ngx_http_sender_domains_call(r, ctx, SD_STEP_CREATE,
                                        SD_SES_OP_CREATE, &claim);
}


/*
 * A half-added row: did its CreateEmailIdentity happen after all?  An
 * adopted one: did this module create it for some claim (issue 13: then
 * nobody holds it any more and it goes)?
 */

static ngx_int_t
ngx_http_sender_domains_step_delete_probe(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses)
{
    const char         *origin;
    sd_ses_status_e     st;
    sd_ses_identity_t   si;

    st = ses->result.status;

    if (st == SD_SES_OK) {
        st = sd_ses_parse_identity((char *) ses->body.data, ses->body.len,
                                   &si);
        if (st != SD_SES_OK) {
            /* unreadable: keep the row rather than orphan an identity */
            sd_ses_result_set(&ses->result, st);
            return ngx_http_sender_domains_ses_error(r, ctx, &ses->result);
        }
    }

    origin = sd_row_str(ctx->row, "origin");

    if (st == SD_SES_OK
        && (sd_row_claim_tag(ctx->row, &si) == SD_ROW_TAG_OURS
            || (sd_row_claim_tag(ctx->row, &si) == SD_ROW_TAG_MODULE
                && origin && ngx_strcmp(origin, SD_ORIGIN_ADOPTED) == 0)))
    {
        return ngx_http_sender_domains_call(r, ctx, SD_STEP_DELETE,
                                            SD_SES_OP_DELETE, NULL);
    }

    if (st != SD_SES_OK && st != SD_SES_NOT_FOUND) {
        return ngx_http_sender_domains_ses_error(r, ctx, &ses->result);
    }

    return ngx_http_sender_domains_release(r, ctx, "not created by us");
}


static ngx_int_t
ngx_http_sender_domains_step_delete(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses)
{
    sd_store_rc_e    src;
    sd_ses_status_e  st;

    st = ses->result.status;

    if (st != SD_SES_OK && st != SD_SES_NOT_FOUND) {
        return ngx_http_sender_domains_ses_error(r, ctx, &ses->result);
    }

    src = sd_store_delete(ngx_http_sender_domains_store(),
                          (char *) ctx->caller.workspace.data,
                          ctx->caller.workspace.len,
                          (char *) ctx->name.data, ctx->name.len);
    if (src != SD_STORE_OK && src != SD_STORE_NOT_FOUND) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sender_domains: workspace \"%V\" removed \"%V\" "
                  "(deleted in SES)",
                  ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                  &ctx->name);

    return ngx_http_sender_domains_send_empty(r, NGX_HTTP_NO_CONTENT);
}


/*
 * A member's refresh of a half-added row reads only: when SES has the
 * identity from this row's own create (its answer was lost), the row
 * moves on in the store; the next write to SES (MAIL FROM) waits for an
 * admin or the refresher.
 */

static ngx_int_t
ngx_http_sender_domains_step_peek(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses)
{
    int64_t             now;
    sd_store_rc_e       src;
    sd_ses_status_e     st;
    sd_ses_identity_t   si;

    now = ngx_time();
    st = ses->result.status;

    if (st != SD_SES_OK && st != SD_SES_NOT_FOUND) {
        return ngx_http_sender_domains_ses_error(r, ctx, &ses->result);
    }

    if (st == SD_SES_OK
        && sd_row_in_state(ctx->row, SD_STATE_CREATING)
        && sd_ses_parse_identity((char *) ses->body.data, ses->body.len, &si)
           == SD_SES_OK
        && sd_row_claim_tag(ctx->row, &si) == SD_ROW_TAG_OURS)
    {
        sd_row_apply_ses(ctx->row, &si, now);
        sd_row_set_origin(ctx->row, SD_ORIGIN_CREATED, NULL);
        sd_row_settle(ctx->row);
        ngx_http_sender_domains_step_schedule(r, ctx->row, now);

        src = ngx_http_sender_domains_save(r, ctx);
        if (src != SD_STORE_OK) {
            return ngx_http_sender_domains_store_error(r, src);
        }
    }

    return ngx_http_sender_domains_reply_row(r, ctx, NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_sender_domains_step_resend(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_http_sender_domains_ses_t *ses)
{
    int64_t        now;
    sd_store_rc_e  src;

    now = ngx_time();

    if (ses->result.status != SD_SES_OK) {
        return ngx_http_sender_domains_ses_error(r, ctx, &ses->result);
    }

    sd_row_set_link_sent(ctx->row, now);

    /* a new link: the claim lasts its life, never past 72 h (13) */
    ngx_http_sender_domains_claim_expiry(ctx, now);

    src = ngx_http_sender_domains_save(r, ctx);
    if (src != SD_STORE_OK) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    return ngx_http_sender_domains_reply_row(r, ctx, NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_sender_domains_ses_error(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, sd_ses_result_t *res)
{
    ngx_uint_t        status;
    u_char           *p, msg[SD_SES_MESSAGE_LEN + 128];
    json_t           *j;
    const char       *code;
    ngx_table_elt_t  *h;

    status = ngx_http_sender_domains_ses_status(res->status);
    code = sd_ses_error_code(res->status);

    switch (status) {

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        p = ngx_snprintf(msg, sizeof(msg) - 1,
                         "Amazon SES is busy or unavailable (%s); nothing "
                         "was lost. Try again in a minute.", res->message);

        h = ngx_list_push(&r->headers_out.headers);
        if (h) {
            h->hash = 1;
#if (nginx_version >= 1023000)
            h->next = NULL;
#endif
            ngx_str_set(&h->key, "Retry-After");
            ngx_str_set(&h->value, "30");
        }

        break;

    case NGX_HTTP_GATEWAY_TIME_OUT:
        p = ngx_snprintf(msg, sizeof(msg) - 1,
                         "Amazon SES did not answer in time; nothing was "
                         "lost. Try again.");
        break;

    default:
        if (res->status == SD_SES_NOT_FOUND && ctx->step == SD_STEP_GET) {
            p = ngx_snprintf(msg, sizeof(msg) - 1, "%s", res->message);
            break;
        }

        if (res->status == SD_SES_MALFORMED) {
            /* SES refused nothing: its answer was unreadable */
            p = ngx_snprintf(msg, sizeof(msg) - 1, "%s Try again.",
                             res->message);
            break;
        }

        p = ngx_snprintf(msg, sizeof(msg) - 1, "Amazon SES refused the "
                         "request: %s", res->message);
    }

    *p = '\0';

    j = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code,
                  "message", (char *) msg,
                  "ses_error_type", res->error_type);

    return ngx_http_sender_domains_send_json(r, status, j);
}


/* ---- get, patch, delete ------------------------------------------------- */


ngx_int_t
ngx_http_sender_domains_get(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    ngx_int_t    rc;
    json_t      *j;
    sd_record_t  rec;

    rc = ngx_http_sender_domains_normalize_path_id(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* a legacy row (with no managed twin) reads like any other */
    if (sd_store_get(ngx_http_sender_domains_store(),
                     (char *) ctx->caller.workspace.data,
                     ctx->caller.workspace.len,
                     (char *) ctx->name.data, ctx->name.len,
                     ngx_http_sender_domains_palloc, r->pool, &rec)
        == SD_STORE_NOT_FOUND
        && sd_store_legacy_get(ngx_http_sender_domains_store(),
                               (char *) ctx->caller.workspace.data,
                               ctx->caller.workspace.len,
                               (char *) ctx->name.data, ctx->name.len,
                               ngx_http_sender_domains_palloc, r->pool, &rec)
           == SD_STORE_OK)
    {
        j = json_loadb(rec.json, rec.json_len, 0, NULL);
        return ngx_http_sender_domains_send_json(r, NGX_HTTP_OK, j);
    }

    rc = ngx_http_sender_domains_load(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_sender_domains_reply_row(r, ctx, NGX_HTTP_OK);
}


ngx_int_t
ngx_http_sender_domains_patch(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    json_t         *v;
    ngx_int_t       rc;
    ngx_str_t       name;
    const char     *key;
    sd_store_rc_e   src;

    if (!json_is_object(ctx->body)) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_json", "Send a JSON object such as "
                   "{\"sender_name\":\"Acme Reports\"}.");
    }

    json_object_foreach(ctx->body, key, v) {
        if (ngx_strcmp(key, "sender_name") != 0) {
            return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_field", "Only \"sender_name\" can be "
                       "changed.");
        }
    }

    v = json_object_get(ctx->body, "sender_name");
    if (!json_is_string(v)) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_sender_name", "\"sender_name\" must be a "
                   "string.");
    }

    name.data = (u_char *) json_string_value(v);
    name.len = json_string_length(v);

    rc = ngx_http_sender_domains_check_sender_name(r, &name, &name);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_sender_domains_load(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    sd_row_set_str(ctx->row, "sender_name", (char *) name.data, name.len);

    src = ngx_http_sender_domains_save(r, ctx);
    if (src != SD_STORE_OK) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    return ngx_http_sender_domains_reply_row(r, ctx, NGX_HTTP_OK);
}


/* removes the row and its claim, leaving SES as it is */

static ngx_int_t
ngx_http_sender_domains_release(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, const char *why)
{
    sd_store_rc_e  src;

    src = sd_store_delete(ngx_http_sender_domains_store(),
                          (char *) ctx->caller.workspace.data,
                          ctx->caller.workspace.len,
                          (char *) ctx->name.data, ctx->name.len);
    if (src != SD_STORE_OK && src != SD_STORE_NOT_FOUND) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sender_domains: workspace \"%V\" released \"%V\" "
                  "(kept in SES: %s)",
                  ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                  &ctx->name, why);

    return ngx_http_sender_domains_send_empty(r, NGX_HTTP_NO_CONTENT);
}


ngx_int_t
ngx_http_sender_domains_delete(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    ngx_int_t    rc;
    const char  *origin;

    rc = ngx_http_sender_domains_load(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    origin = sd_row_str(ctx->row, "origin");

    /*
     * Another workspace took the name after SES marked this claim failed:
     * the identity in SES is theirs to keep now.
     */
    if (sd_store_claimed_by_other(ngx_http_sender_domains_store(),
                                  (char *) ctx->caller.workspace.data,
                                  ctx->caller.workspace.len,
                                  (char *) ctx->name.data, ctx->name.len))
    {
        return ngx_http_sender_domains_release(r, ctx,
                                               "now used by another "
                                               "workspace");
    }

    /* only what this module created is destroyed in SES */
    if (origin && ngx_strcmp(origin, "created") == 0) {
        return ngx_http_sender_domains_call(r, ctx, SD_STEP_DELETE,
                                            SD_SES_OP_DELETE, NULL);
    }

    if (origin == NULL && sd_row_str(ctx->row, "_claim")) {
        /* created or not? its answer was lost: ask SES, read the tag */
        return ngx_http_sender_domains_call(r, ctx, SD_STEP_DELETE_PROBE,
                                            SD_SES_OP_GET, NULL);
    }

    /*
     * Adopted: gone from SES when this module created it for any claim
     * (nobody holds it now), but never a sender the platform declared.
     */
    if (origin && ngx_strcmp(origin, "adopted") == 0
        && !ngx_http_sender_domains_is_legacy(r, ctx)
        && !sd_row_unproven(ctx->row))  /* unproven: never its to delete */
    {
        return ngx_http_sender_domains_call(r, ctx, SD_STEP_DELETE_PROBE,
                                            SD_SES_OP_GET, NULL);
    }

    return ngx_http_sender_domains_release(r, ctx,
                                           origin ? origin : "never created");
}


/* ---- refresh, resend ---------------------------------------------------- */


ngx_int_t
ngx_http_sender_domains_refresh(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    int64_t    wait;
    ngx_int_t  rc;

    rc = ngx_http_sender_domains_load(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ctx->is_domain = sd_row_is_domain(ctx->row);

    if (sd_row_in_state(ctx->row, SD_STATE_FAILED)) {
        /* the claim expired: nothing to ask SES; the row says what to do */
        return ngx_http_sender_domains_reply_row(r, ctx, NGX_HTTP_OK);
    }

    /* at most one SES refresh per identity per 10 s: the row as stored */
    rc = ngx_http_sender_domains_cooldown(r, ctx, 0, &wait);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (wait) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "sender_domains: refresh of \"%V\" (workspace "
                       "\"%V\") answered from the store for %L s",
                       &ctx->name, ngx_http_sender_domains_log_esc(&ctx->caller.workspace), wait);

        ngx_http_sender_domains_retry_after(r, wait);

        return ngx_http_sender_domains_reply_row(r, ctx, NGX_HTTP_OK);
    }

    if (!sd_row_in_state(ctx->row, SD_STATE_READY)) {
        if (ctx->caller.role != NGX_HTTP_SENDER_DOMAINS_ROLE_ADMIN) {
            /* a member's refresh never writes to SES: it reads */
            return ngx_http_sender_domains_call(r, ctx, SD_STEP_PEEK,
                                                SD_SES_OP_GET, NULL);
        }

        /* an add that stopped half-way: finish it */
        return ngx_http_sender_domains_advance(r, ctx);
    }

    /* a domain waiting for its DNS ownership proof: looked up first */
    return ngx_http_sender_domains_ownership_refresh(r, ctx,
                                     ngx_http_sender_domains_refresh_get);
}


static ngx_int_t
ngx_http_sender_domains_refresh_get(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    if (sd_row_in_state(ctx->row, SD_STATE_FAILED)) {
        /* another workspace proved the domain first: nothing to ask */
        return ngx_http_sender_domains_reply_row(r, ctx, NGX_HTTP_OK);
    }

    return ngx_http_sender_domains_call(r, ctx, SD_STEP_GET, SD_SES_OP_GET,
                                        NULL);
}


ngx_int_t
ngx_http_sender_domains_resend(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    u_char     *p, msg[256];
    int64_t     wait;
    ngx_int_t   rc;

    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    rc = ngx_http_sender_domains_load(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (sd_row_is_domain(ctx->row)) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                   "not_pending", "Verification emails are for single "
                   "addresses; a domain verifies through its DNS records.");
    }

    if (json_is_true(json_object_get(ctx->row, "verified_for_sending"))) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                   "not_pending", "This address is already verified.");
    }

    if (sd_row_in_state(ctx->row, SD_STATE_FAILED)
        || sd_row_unproven(ctx->row))
    {
        return ngx_http_sender_domains_error(r, NGX_HTTP_CONFLICT,
                   "not_pending", "This sender's claim expired; remove it "
                   "and add it again to restart.");
    }

    ctx->is_domain = 0;

    /* one email a minute, five resends a day: counted before the call */
    rc = ngx_http_sender_domains_cooldown(r, ctx, 1, &wait);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (wait) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sender_domains: resend to \"%V\" (workspace \"%V\") "
                      "refused for %L s", &ctx->name, ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                      wait);

        if (ctx->cool_daily) {
            p = ngx_snprintf(msg, sizeof(msg) - 1, "A verification email "
                             "was resent %ui times in the last 24 hours; "
                             "try again in %L minutes.", smcf->resend_max,
                             (wait + 59) / 60);
        } else {
            p = ngx_snprintf(msg, sizeof(msg) - 1, "A verification email "
                             "was sent moments ago; check the inbox (and "
                             "the spam folder), or try again in %L "
                             "seconds.", wait);
        }

        *p = '\0';

        ngx_http_sender_domains_retry_after(r, wait);

        return ngx_http_sender_domains_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                             "too_many_requests",
                                             (char *) msg);
    }

    return ngx_http_sender_domains_call(r, ctx, SD_STEP_RESEND,
                                        SD_SES_OP_VERIFY_EMAIL, NULL);
}


/* the Retry-After header, in seconds */

static void
ngx_http_sender_domains_retry_after(ngx_http_request_t *r, int64_t secs)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    h = ngx_list_push(&r->headers_out.headers);

    if (p == NULL || h == NULL) {
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "%L", secs > 0 ? secs : 1) - p;
}


typedef struct {
    ngx_uint_t                      resend;
    int64_t                         now;
    int64_t                         cooldown;
    int64_t                         max;
    int64_t                         wait;
    int                             daily;
    json_t                         *stored;
    char                           *text;
} ngx_http_sender_domains_cool_t;


/* in the write transaction: checks the cooldown and takes it */

static int
ngx_http_sender_domains_cool_cb(void *data, const sd_record_t *cur,
    sd_record_t *out)
{
    ngx_http_sender_domains_cool_t  *cl = data;

    cl->stored = json_loadb(cur->json, cur->json_len, 0, NULL);
    if (!json_is_object(cl->stored)) {
        return 1;
    }

    cl->wait = cl->resend
               ? sd_quota_resend_wait(cl->stored, cl->now, cl->cooldown,
                                      cl->max, &cl->daily)
               : sd_quota_refresh_wait(cl->stored, cl->now, cl->cooldown);
    if (cl->wait) {
        return 1;
    }

    if (cl->resend) {
        sd_quota_resend_note(cl->stored, cl->now);

    } else {
        sd_quota_refresh_note(cl->stored, cl->now);
    }

    cl->text = json_dumps(cl->stored, JSON_COMPACT);
    if (cl->text == NULL) {
        return 1;
    }

    *out = *cur;
    out->json = cl->text;
    out->json_len = ngx_strlen(cl->text);

    return 0;
}


static void
ngx_http_sender_domains_cool_done(void *data)
{
    ngx_http_sender_domains_cool_t  *cl = data;

    free(cl->text);
    cl->text = NULL;
}


/*
 * A cooldown of ctx->row (refresh, or resend): *wait is 0 when the SES
 * call may go, the cooldown then taken in the stored row (so every
 * worker sees it at once); else the seconds left, nothing written.
 * Returns NGX_DECLINED to go on, or the answer of a store error.
 */

static ngx_int_t
ngx_http_sender_domains_cooldown(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, ngx_uint_t resend, int64_t *wait)
{
    int                              daily;
    sd_store_rc_e                    src;
    ngx_http_sender_domains_cool_t   cl;

    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    daily = 0;

    ngx_memzero(&cl, sizeof(ngx_http_sender_domains_cool_t));
    cl.resend = resend;
    cl.now = ngx_time();
    cl.cooldown = resend ? smcf->resend_cooldown : smcf->refresh_cooldown;
    cl.max = smcf->resend_max;

    /* the row just read answers most repeats without a write transaction */
    *wait = resend ? sd_quota_resend_wait(ctx->row, cl.now, cl.cooldown,
                                          cl.max, &daily)
                   : sd_quota_refresh_wait(ctx->row, cl.now, cl.cooldown);

    if (*wait) {
        ctx->cool_daily = resend ? daily : 0;
        return NGX_DECLINED;
    }

    if (cl.cooldown == 0 && (!resend || cl.max == 0)) {
        /* turned off: nothing to record */
        return NGX_DECLINED;
    }

    src = sd_store_modify(ngx_http_sender_domains_store(),
                          (char *) ctx->caller.workspace.data,
                          ctx->caller.workspace.len,
                          (char *) ctx->name.data, ctx->name.len,
                          ngx_http_sender_domains_cool_cb,
                          ngx_http_sender_domains_cool_done, &cl);

    if (cl.stored && ngx_http_sender_domains_json_track(r, cl.stored)
                     != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (src == SD_STORE_NOT_FOUND) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_FOUND,
                   "not_found", "No such sender in this workspace.");
    }

    if (src != SD_STORE_OK) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    if (cl.wait) {
        /* another worker took it in between */
        *wait = cl.wait;
        ctx->cool_daily = cl.daily;
        return NGX_DECLINED;
    }

    if (cl.stored == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sd_quota_keep(ctx->row, cl.stored);

    return NGX_DECLINED;
}


/* ---- legacy senders ----------------------------------------------------- */


ngx_int_t
ngx_http_sender_domains_migrate(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    json_t         *legacy, *row;
    ngx_int_t       rc;
    const char     *name;
    sd_record_t     rec;
    sd_store_rc_e   src;

    rc = ngx_http_sender_domains_normalize_path_id(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    src = sd_store_legacy_get(ngx_http_sender_domains_store(),
                              (char *) ctx->caller.workspace.data,
                              ctx->caller.workspace.len,
                              (char *) ctx->name.data, ctx->name.len,
                              ngx_http_sender_domains_palloc, r->pool, &rec);
    if (src == SD_STORE_NOT_FOUND) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_FOUND,
                   "not_found", "No such legacy sender in this workspace.");
    }

    if (src != SD_STORE_OK) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    legacy = ngx_http_sender_domains_keep(r,
                 json_loadb(rec.json, rec.json_len, 0, NULL));
    name = legacy ? sd_row_str(legacy, "sender_name") : NULL;

    row = ngx_http_sender_domains_keep(r,
              sd_row_new((char *) ctx->name.data, ctx->name.len, 0,
                         name ? name : "", name ? ngx_strlen(name) : 0,
                         NULL, 0, ngx_time()));
    if (row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->row = row;
    ctx->is_domain = 0;

    if (ngx_http_sender_domains_claim_nonce(row) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_sender_domains_claim_expiry(ctx, ngx_time());

    /* the legacy row stays: it keeps resolving until this one verifies */
    return ngx_http_sender_domains_claim(r, ctx,
                                         "This sender was migrated already.");
}


/* 1 when ids[n] already stands among ids[0..n-1] */

static ngx_uint_t
ngx_http_sender_domains_seen(const char **ids, const size_t *lens,
    size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (lens[i] == lens[n] && ngx_memcmp(ids[i], ids[n], lens[n]) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * PUT /legacy with addresses under other workspaces' claims: 409, one
 * entry per such address, and nothing of the list applied.
 */

static ngx_int_t
ngx_http_sender_domains_legacy_conflict(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, size_t n, const char **ids,
    const size_t *lens, const int *conflict)
{
    size_t   i;
    json_t  *entries;

    entries = json_array();

    for (i = 0; i < n; i++) {
        if (!conflict[i]) {
            continue;
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" cannot declare "
                      "legacy sender \"%*s\": another workspace holds it",
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                      lens[i], ids[i]);

        json_array_append_new(entries,
            json_pack("{s:s%,s:s,s:s}", "address", ids[i], lens[i],
                      "code", "already_registered",
                      "message", "Already registered in another workspace."));
    }

    return ngx_http_sender_domains_send_json(r, NGX_HTTP_CONFLICT,
               json_pack("{s:{s:s,s:s,s:o}}", "error",
                         "code", "already_registered",
                         "message", "Some of these addresses lie under "
                         "another workspace's claim; nothing was changed.",
                         "entries", entries));
}


static ngx_int_t
ngx_http_sender_domains_legacy_alloc(ngx_http_request_t *r,
    ngx_http_sender_domains_legacy_list_t *l, size_t n)
{
    l->n = n;
    l->ids = ngx_pcalloc(r->pool, (n + 1) * sizeof(char *));
    l->lens = ngx_pcalloc(r->pool, (n + 1) * sizeof(size_t));
    l->recs = ngx_pcalloc(r->pool, (n + 1) * sizeof(sd_record_t));
    l->texts = ngx_pcalloc(r->pool, (n + 1) * sizeof(char *));
    l->out = ngx_http_sender_domains_keep(r, json_array());

    if (l->ids == NULL || l->lens == NULL || l->recs == NULL
        || l->texts == NULL || l->out == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Entry i of the list: checked as an add checks an address and a sender
 * name, turned into its row; NGX_DECLINED when it is good, else the
 * error answer's code.
 */
static ngx_int_t
ngx_http_sender_domains_legacy_entry(ngx_http_request_t *r,
    ngx_http_sender_domains_legacy_list_t *l, size_t i, json_t *item)
{
    u_char       *buf;
    json_t       *addr, *name, *row;
    ssize_t       len;
    ngx_int_t     rc;
    ngx_str_t     nm;
    const char   *msg;

    addr = json_object_get(item, "address");
    name = json_object_get(item, "sender_name");

    if (!json_is_object(item) || !json_is_string(addr)
        || (name && !json_is_null(name) && !json_is_string(name)))
    {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_json", "Each legacy sender needs a string "
                   "\"address\" and an optional string \"sender_name\".");
    }

    buf = ngx_pnalloc(r->pool, SD_EMAIL_BUFSZ);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sd_email_normalize(json_string_value(addr),
                             json_string_length(addr), (char *) buf,
                             SD_EMAIL_BUFSZ, &msg);

    if (len > 0 && sd_email_header_check((char *) buf, len, &msg) != SD_OK) {
        len = -1;
    }

    if (len <= 0) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_identity", msg);
    }

    nm.data = (u_char *) (json_is_string(name) ? json_string_value(name)
                                               : "");
    nm.len = json_is_string(name) ? json_string_length(name) : 0;

    rc = ngx_http_sender_domains_check_sender_name(r, &nm, &nm);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    row = sd_row_legacy((char *) buf, len, (char *) nm.data, nm.len);
    l->texts[i] = row ? json_dumps(row, JSON_COMPACT) : NULL;
    json_array_append_new(l->out, row);

    if (l->texts[i] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    l->ids[i] = (char *) buf;
    l->lens[i] = len;

    if (ngx_http_sender_domains_seen(l->ids, l->lens, i)) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "duplicate_address", "Each legacy address may appear "
                   "only once in the list.");
    }

    l->recs[i].flags = SD_REC_VERIFIED;
    l->recs[i].sender_name = (char *) nm.data;
    l->recs[i].sender_name_len = nm.len;
    l->recs[i].json = l->texts[i];
    l->recs[i].json_len = ngx_strlen(l->texts[i]);

    return NGX_DECLINED;
}


static ngx_int_t ngx_http_sender_domains_legacy_decided(ngx_http_request_t *r,
    void *data, int *conflict);
static ngx_int_t ngx_http_sender_domains_legacy_write(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx,
    ngx_http_sender_domains_legacy_list_t *l, int *conflict, int check);


/*
 * The checked list replaces the workspace's legacy senders in one write.
 * In cluster mode etcd decides the claims first (for every node at once)
 * and the store then takes the list as decided.
 */
static ngx_int_t
ngx_http_sender_domains_legacy_store(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx,
    ngx_http_sender_domains_legacy_list_t *l)
{
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    if (smcf->cluster) {
        l->ctx = ctx;

        return ngx_http_sender_domains_cluster_legacy(r,
                   &ctx->caller.workspace, l->n, l->ids, l->lens,
                   ngx_http_sender_domains_legacy_decided, l);
    }

    return ngx_http_sender_domains_legacy_write(r, ctx, l, NULL, 1);
}


/* cluster mode: etcd's decision on the list's claims */
static ngx_int_t
ngx_http_sender_domains_legacy_decided(ngx_http_request_t *r, void *data,
    int *conflict)
{
    ngx_http_sender_domains_legacy_list_t  *l = data;

    return ngx_http_sender_domains_legacy_write(r, l->ctx, l, conflict, 0);
}


static ngx_int_t
ngx_http_sender_domains_legacy_write(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx,
    ngx_http_sender_domains_legacy_list_t *l, int *conflict, int check)
{
    sd_store_rc_e   src;

    if (conflict) {
        return ngx_http_sender_domains_legacy_conflict(r, ctx, l->n, l->ids,
                                                       l->lens, conflict);
    }

    conflict = ngx_pcalloc(r->pool, (l->n + 1) * sizeof(int));
    if (conflict == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    src = sd_store_legacy_replace_as(ngx_http_sender_domains_store(),
                                     (char *) ctx->caller.workspace.data,
                                     ctx->caller.workspace.len, l->n, l->ids,
                                     l->lens, l->recs, conflict, check);

    if (src == SD_STORE_CONFLICT) {
        return ngx_http_sender_domains_legacy_conflict(r, ctx, l->n, l->ids,
                                                       l->lens, conflict);
    }

    if (src != SD_STORE_OK) {
        return ngx_http_sender_domains_store_error(r, src);
    }

    return ngx_http_sender_domains_send_json(r, NGX_HTTP_OK,
               json_pack("{s:O}", "legacy", l->out));
}


/* the list's rows, json_dumps()'d, live as long as the request */
static void
ngx_http_sender_domains_legacy_free(void *data)
{
    ngx_http_sender_domains_legacy_list_t  *l = data;

    size_t  i;

    for (i = 0; i < l->n; i++) {
        free(l->texts[i]);
    }
}


ngx_int_t
ngx_http_sender_domains_legacy_put(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    size_t                                  i, n;
    ngx_int_t                               rc;
    ngx_pool_cleanup_t                     *cln;
    ngx_http_sender_domains_legacy_list_t  *l;
    ngx_http_sender_domains_main_conf_t    *smcf;

    if (!json_is_array(ctx->body)) {
        return ngx_http_sender_domains_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_json", "Send a JSON array such as "
                   "[{\"address\":\"reports@acme.com\",\"sender_name\":"
                   "\"Acme\"}].");
    }

    n = json_array_size(ctx->body);

    smcf = ngx_http_get_module_main_conf(r, ngx_http_sender_domains_module);

    /* the list replaces the old one whole: its length is the count */
    if (smcf->max_legacy && n > smcf->max_legacy) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "sender_domains: workspace \"%V\" sent %uz legacy "
                      "senders, more than the limit of %ui; none stored",
                      ngx_http_sender_domains_log_esc(&ctx->caller.workspace),
                      n, smcf->max_legacy);
        return ngx_http_sender_domains_limit_error(r, smcf->max_legacy,
                   "legacy senders");
    }

    l = ngx_pcalloc(r->pool, sizeof(ngx_http_sender_domains_legacy_list_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (l == NULL || cln == NULL
        || ngx_http_sender_domains_legacy_alloc(r, l, n) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_sender_domains_legacy_free;
    cln->data = l;

    rc = NGX_DECLINED;

    for (i = 0; i < n && rc == NGX_DECLINED; i++) {
        rc = ngx_http_sender_domains_legacy_entry(r, l, i,
                                        json_array_get(ctx->body, i));
    }

    if (rc == NGX_DECLINED) {
        rc = ngx_http_sender_domains_legacy_store(r, ctx, l);
    }

    return rc;
}
