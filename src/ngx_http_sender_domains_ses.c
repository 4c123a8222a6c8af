/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: Amazon SES operations.
 *
 * Builds each SES request (v2 REST-JSON, and the v1 Query API for
 * VerifyEmailIdentity), signs it with our SigV4 signer (not curl's: Debian
 * 12's curl encodes the canonical path once, SES wants it twice), sends it
 * through the non-blocking client and turns the answer into a typed result.
 *
 * Credentials come from sender_domains_aws_credentials_file, else from the
 * environment (nginx passes AWS_* to workers only with "env" directives).
 * Secrets are never logged, at any level.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_ses.h"
#include "sd_sigv4.h"
#include "sd_credentials.h"
#include "ngx_http_sender_domains_budget.h"
#include "ngx_http_sender_domains_metrics.h"


static ngx_int_t ngx_http_sender_domains_ses_load_credentials(
    ngx_cycle_t *cycle, ngx_http_sender_domains_main_conf_t *smcf);
static uint32_t ngx_http_sender_domains_ws_hash(ngx_str_t *workspace);
static ngx_http_sender_domains_ses_t *ngx_http_sender_domains_ses_begin(
    ngx_pool_t *pool, ngx_log_t *log, ngx_http_sender_domains_ses_op_e op,
    ngx_str_t *identity, ngx_str_t *arg, ngx_uint_t background,
    uint32_t ws_hash, ngx_uint_t follow, ngx_msec_t patience,
    ngx_http_sender_domains_ses_done_pt handler, void *data);
static const char *ngx_http_sender_domains_ses_method(
    ngx_http_sender_domains_ses_op_e op);
static ngx_int_t ngx_http_sender_domains_ses_build(
    ngx_http_sender_domains_ses_t *ses, ngx_str_t *arg, ngx_str_t *path,
    ngx_str_t *query, ngx_str_t *body, const char **content_type);
static ngx_int_t ngx_http_sender_domains_ses_json_body(ngx_pool_t *pool,
    json_t *j, ngx_str_t *body);
static ngx_int_t ngx_http_sender_domains_ses_list_query(ngx_pool_t *pool,
    ngx_str_t *token, ngx_str_t *query);
static ngx_int_t ngx_http_sender_domains_ses_verify_body(ngx_pool_t *pool,
    ngx_str_t *identity, ngx_str_t *body);
static ngx_int_t ngx_http_sender_domains_ses_request(
    ngx_http_sender_domains_ses_t *ses, const char *method, ngx_str_t *path,
    ngx_str_t *query, ngx_str_t *body, const char *content_type);
static void ngx_http_sender_domains_ses_sign_header(sd_sigv4_header_t *h,
    const char *name, const char *value, size_t value_len);
static ngx_int_t ngx_http_sender_domains_ses_sign(
    ngx_http_sender_domains_ses_t *ses, const char *method, ngx_str_t *path,
    ngx_str_t *query, ngx_str_t *body, const char *content_type,
    char *amz_date, ngx_str_t *auth);
static ngx_array_t *ngx_http_sender_domains_ses_headers(
    ngx_http_sender_domains_ses_t *ses, ngx_str_t *auth, char *amz_date,
    const char *content_type);
static ngx_int_t ngx_http_sender_domains_ses_url(ngx_pool_t *pool,
    ngx_str_t *path, ngx_str_t *query, ngx_str_t *url);
static void ngx_http_sender_domains_ses_log_failure(
    ngx_http_sender_domains_ses_t *ses);
static void ngx_http_sender_domains_ses_done(
    ngx_http_sender_domains_curl_call_t *call);
static ngx_int_t ngx_http_sender_domains_ses_identity_path(ngx_pool_t *pool,
    ngx_str_t *identity, const char *suffix, ngx_str_t *path);
static ngx_int_t ngx_http_sender_domains_ses_push_header(ngx_array_t *a,
    ngx_pool_t *pool, const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_sender_domains_ses_send(
    ngx_http_sender_domains_ses_t *ses);
static void ngx_http_sender_domains_ses_wake(ngx_event_t *ev);
static void ngx_http_sender_domains_ses_cleanup(void *data);


/* SES v1's VerifyEmailIdentity form, the address to be appended */
#define NGX_HTTP_SENDER_DOMAINS_SES_VERIFY_FORM                              \
    "Action=VerifyEmailIdentity&Version=2010-12-01&EmailAddress="

/* how long a person's call may wait for the shared call budget */
#define NGX_HTTP_SENDER_DOMAINS_SES_MAX_WAIT  5000

/* and a deferred step, nobody waiting for it, in its workspace's turn */
#define NGX_HTTP_SENDER_DOMAINS_SES_MAX_WAIT_DEFERRED  60000

/* timer events log ((ngx_connection_t *) ev->data)->fd in debug builds */
static ngx_connection_t                      ngx_http_sender_domains_ses_dummy;


static sd_credentials_t                      ngx_http_sender_domains_cred;
static ngx_flag_t                            ngx_http_sender_domains_have_cred;
static ngx_str_t                             ngx_http_sender_domains_endpoint;
static ngx_str_t                             ngx_http_sender_domains_host;
static ngx_http_sender_domains_main_conf_t  *ngx_http_sender_domains_smcf;


static const char  *ngx_http_sender_domains_ses_ops[] = {
    "CreateEmailIdentity",
    "GetEmailIdentity",
    "DeleteEmailIdentity",
    "PutEmailIdentityMailFromAttributes",
    "ListEmailIdentities",
    "VerifyEmailIdentity"
};


const char *
ngx_http_sender_domains_ses_op_name(ngx_http_sender_domains_ses_op_e op)
{
    return ngx_http_sender_domains_ses_ops[op];
}


ngx_flag_t
ngx_http_sender_domains_ses_ready(void)
{
    return ngx_http_sender_domains_have_cred;
}


ngx_int_t
ngx_http_sender_domains_ses_init(ngx_cycle_t *cycle)
{
    u_char                               *p, *end;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_sender_domains_module);
    ngx_http_sender_domains_smcf = smcf;

    ngx_http_sender_domains_ses_dummy.fd = (ngx_socket_t) -1;

    if (smcf->ses_endpoint.len) {
        ngx_http_sender_domains_endpoint = smcf->ses_endpoint;

    } else {
        /* https://email.{region}.amazonaws.com */
        p = ngx_pnalloc(cycle->pool, smcf->ses_region.len + 64);
        if (p == NULL) {
            return NGX_ERROR;
        }

        end = ngx_sprintf(p, "https://email.%V.amazonaws.com",
                          &smcf->ses_region);
        ngx_http_sender_domains_endpoint.data = p;
        ngx_http_sender_domains_endpoint.len = end - p;
    }

    /* the Host header curl sends, which we sign: no default port */
    p = ngx_http_sender_domains_endpoint.data;
    end = p + ngx_http_sender_domains_endpoint.len;
    p = ngx_strlchr(p, end, ':') + 3;

    ngx_http_sender_domains_host.data = p;
    ngx_http_sender_domains_host.len = end - p;

    if (ngx_strncmp(ngx_http_sender_domains_endpoint.data, "https", 5) == 0
        && ngx_http_sender_domains_host.len > 4
        && ngx_strncmp(end - 4, ":443", 4) == 0)
    {
        ngx_http_sender_domains_host.len -= 4;
    }

    return ngx_http_sender_domains_ses_load_credentials(cycle, smcf);
}


void
ngx_http_sender_domains_ses_exit(ngx_cycle_t *cycle)
{
    sd_credentials_wipe(&ngx_http_sender_domains_cred);
    ngx_http_sender_domains_have_cred = 0;
}


/*
 * A credentials file was read and checked by the master while it parsed
 * the configuration (so a file only root may read works); the worker takes
 * that copy.  Without one, the environment ("env AWS_ACCESS_KEY_ID;" ...).
 */

static ngx_int_t
ngx_http_sender_domains_ses_load_credentials(ngx_cycle_t *cycle,
    ngx_http_sender_domains_main_conf_t *smcf)
{
    char          err[SD_CRED_ERR_LEN];
    sd_cred_rc_e  rc;

    ngx_http_sender_domains_have_cred = 0;

    if (smcf->credentials) {
        ngx_memcpy(&ngx_http_sender_domains_cred, smcf->credentials,
                   sizeof(sd_credentials_t));
        ngx_http_sender_domains_have_cred = 1;
        return NGX_OK;
    }

    rc = sd_credentials_from_env(getenv, &ngx_http_sender_domains_cred,
                                 err, sizeof(err));
    if (rc != SD_CRED_OK) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "sender_domains: no AWS credentials: %s; set "
                      "sender_domains_aws_credentials_file or pass "
                      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with "
                      "\"env\" directives", err);
        return NGX_OK;
    }

    ngx_http_sender_domains_have_cred = 1;

    return NGX_OK;
}


ngx_http_sender_domains_ses_t *
ngx_http_sender_domains_ses_start(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_sender_domains_ses_op_e op, ngx_str_t *identity, ngx_str_t *arg,
    ngx_uint_t background, ngx_http_sender_domains_ses_done_pt handler,
    void *data)
{
    return ngx_http_sender_domains_ses_begin(pool, log, op, identity, arg,
                                             background, 0, 0, 0, handler,
                                             data);
}


ngx_http_sender_domains_ses_t *
ngx_http_sender_domains_ses_start_for(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_sender_domains_ses_op_e op, ngx_str_t *identity, ngx_str_t *arg,
    ngx_str_t *workspace, ngx_uint_t follow, ngx_msec_t patience,
    ngx_http_sender_domains_ses_done_pt handler, void *data)
{
    return ngx_http_sender_domains_ses_begin(pool, log, op, identity, arg,
               NGX_HTTP_SENDER_DOMAINS_CALL_PERSON,
               ngx_http_sender_domains_ws_hash(workspace), follow, patience,
               handler, data);
}


ngx_http_sender_domains_ses_t *
ngx_http_sender_domains_ses_start_deferred(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_sender_domains_ses_op_e op, ngx_str_t *identity, ngx_str_t *arg,
    ngx_str_t *workspace, ngx_http_sender_domains_ses_done_pt handler,
    void *data)
{
    return ngx_http_sender_domains_ses_begin(pool, log, op, identity, arg,
               NGX_HTTP_SENDER_DOMAINS_CALL_DEFERRED,
               ngx_http_sender_domains_ws_hash(workspace), 0, 0, handler,
               data);
}


/* a workspace's name as the call budget's fair turns know it (never 0) */

static uint32_t
ngx_http_sender_domains_ws_hash(ngx_str_t *workspace)
{
    uint32_t  hash;

    hash = ngx_crc32_short(workspace->data, workspace->len);

    return hash ? hash : 1;
}


static ngx_http_sender_domains_ses_t *
ngx_http_sender_domains_ses_begin(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_sender_domains_ses_op_e op, ngx_str_t *identity, ngx_str_t *arg,
    ngx_uint_t background, uint32_t ws_hash, ngx_uint_t follow,
    ngx_msec_t patience, ngx_http_sender_domains_ses_done_pt handler,
    void *data)
{
    ngx_str_t                       path, query, body;
    const char                     *content_type;
    ngx_http_sender_domains_ses_t  *ses;

    ses = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_ses_t));
    if (ses == NULL) {
        return NULL;
    }

    ses->op = op;
    ses->pool = pool;
    ses->log = log;
    ses->background = background;
    ses->ws_hash = ws_hash;
    ses->follow = follow;
    ses->patience = patience;
    ses->handler = handler;
    ses->data = data;

    if (identity) {
        ses->identity = *identity;
    }

    ngx_str_null(&path);
    ngx_str_null(&query);
    ngx_str_null(&body);
    content_type = NULL;

    if (ngx_http_sender_domains_ses_build(ses, arg, &path, &query, &body,
                                          &content_type)
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_http_sender_domains_ses_request(ses,
            ngx_http_sender_domains_ses_method(op), &path, &query, &body,
            content_type)
        != NGX_OK)
    {
        return NULL;
    }

    return ses;
}


/* the HTTP method of each operation */

static const char *
ngx_http_sender_domains_ses_method(ngx_http_sender_domains_ses_op_e op)
{
    switch (op) {

    case SD_SES_OP_CREATE:
    case SD_SES_OP_VERIFY_EMAIL:
        return "POST";

    case SD_SES_OP_DELETE:
        return "DELETE";

    case SD_SES_OP_PUT_MAIL_FROM:
        return "PUT";

    default:
        return "GET";
    }
}


/* the path, query and body of the operation, all in ses->pool */

static ngx_int_t
ngx_http_sender_domains_ses_build(ngx_http_sender_domains_ses_t *ses,
    ngx_str_t *arg, ngx_str_t *path, ngx_str_t *query, ngx_str_t *body,
    const char **content_type)
{
    json_t  *j;

    switch (ses->op) {

    case SD_SES_OP_CREATE:
        ngx_str_set(path, "/v2/email/identities");

        /*
         * The tag names the claim (row) that created the identity, so an
         * AlreadyExists later tells "ours, the answer was lost" from
         * "someone else's" for certain (see identity_api.c).
         */
        j = json_pack("{s:s%,s:[{s:s,s:s%}]}", "EmailIdentity",
                      ses->identity.data, ses->identity.len,
                      "Tags", "Key", NGX_HTTP_SENDER_DOMAINS_CLAIM_TAG,
                      "Value", arg->data, arg->len);

        *content_type = "application/json";

        return ngx_http_sender_domains_ses_json_body(ses->pool, j, body);

    case SD_SES_OP_GET:
    case SD_SES_OP_DELETE:
        return ngx_http_sender_domains_ses_identity_path(ses->pool,
                                                         &ses->identity, "",
                                                         path);

    case SD_SES_OP_PUT_MAIL_FROM:
        if (ngx_http_sender_domains_ses_identity_path(ses->pool,
                                                      &ses->identity,
                                                      "/mail-from", path)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* USE_DEFAULT_VALUE: mail keeps flowing before the MX is live */
        j = json_pack("{s:s%,s:s}", "MailFromDomain", arg->data, arg->len,
                      "BehaviorOnMxFailure", "USE_DEFAULT_VALUE");

        *content_type = "application/json";

        return ngx_http_sender_domains_ses_json_body(ses->pool, j, body);

    case SD_SES_OP_LIST:
        ngx_str_set(path, "/v2/email/identities");

        return ngx_http_sender_domains_ses_list_query(ses->pool, arg, query);

    case SD_SES_OP_VERIFY_EMAIL:
        ngx_str_set(path, "/");
        *content_type = "application/x-www-form-urlencoded; charset=utf-8";

        return ngx_http_sender_domains_ses_verify_body(ses->pool,
                                                       &ses->identity, body);

    default:
        return NGX_ERROR;
    }
}


/* "j" written compactly into the pool; "j" is released */

static ngx_int_t
ngx_http_sender_domains_ses_json_body(ngx_pool_t *pool, json_t *j,
    ngx_str_t *body)
{
    char       *text;
    ngx_str_t   v;

    if (j == NULL) {
        return NGX_ERROR;
    }

    text = json_dumps(j, JSON_COMPACT);
    json_decref(j);

    if (text == NULL) {
        return NGX_ERROR;
    }

    v.data = (u_char *) text;
    v.len = ngx_strlen(text);
    body->data = ngx_pstrdup(pool, &v);
    body->len = v.len;
    free(text);

    return (body->data == NULL) ? NGX_ERROR : NGX_OK;
}


/* ListEmailIdentities: "PageSize=1000", and the page's token if any */

static ngx_int_t
ngx_http_sender_domains_ses_list_query(ngx_pool_t *pool, ngx_str_t *token,
    ngx_str_t *query)
{
    u_char  *p;

    p = ngx_pnalloc(pool, sizeof("PageSize=1000&NextToken=")
                          + (token ? 3 * token->len : 0));
    if (p == NULL) {
        return NGX_ERROR;
    }

    query->data = p;
    p = ngx_cpymem(p, "PageSize=1000", sizeof("PageSize=1000") - 1);

    if (token && token->len) {
        p = ngx_cpymem(p, "&NextToken=", sizeof("&NextToken=") - 1);
        p += sd_sigv4_uri_encode((char *) p, (char *) token->data,
                                 token->len, 0);
    }

    query->len = p - query->data;

    return NGX_OK;
}


/* VerifyEmailIdentity of SES v1's Query API, as a form */

static ngx_int_t
ngx_http_sender_domains_ses_verify_body(ngx_pool_t *pool,
    ngx_str_t *identity, ngx_str_t *body)
{
    u_char  *p;

    p = ngx_pnalloc(pool, sizeof(NGX_HTTP_SENDER_DOMAINS_SES_VERIFY_FORM)
                          + 3 * identity->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    p = ngx_cpymem(p, NGX_HTTP_SENDER_DOMAINS_SES_VERIFY_FORM,
                   sizeof(NGX_HTTP_SENDER_DOMAINS_SES_VERIFY_FORM) - 1);
    p += sd_sigv4_uri_encode((char *) p, (char *) identity->data,
                             identity->len, 0);
    body->len = p - body->data;

    return NGX_OK;
}


/* "/v2/email/identities/{EmailIdentity}{suffix}", the label encoded once */

static ngx_int_t
ngx_http_sender_domains_ses_identity_path(ngx_pool_t *pool,
    ngx_str_t *identity, const char *suffix, ngx_str_t *path)
{
    u_char  *p;
    size_t   slen;

    slen = ngx_strlen(suffix);

    p = ngx_pnalloc(pool, sizeof("/v2/email/identities/") + 3 * identity->len
                          + slen);
    if (p == NULL) {
        return NGX_ERROR;
    }

    path->data = p;
    p = ngx_cpymem(p, "/v2/email/identities/",
                   sizeof("/v2/email/identities/") - 1);
    p += sd_sigv4_uri_encode((char *) p, (char *) identity->data,
                             identity->len, 0);
    p = ngx_cpymem(p, suffix, slen);
    path->len = p - path->data;

    return NGX_OK;
}


/*
 * "Name: value" (NUL-terminated, for curl); an empty value gives "Name:",
 * which makes curl leave out a header of that name it would add itself.
 */

static ngx_int_t
ngx_http_sender_domains_ses_push_header(ngx_array_t *a, ngx_pool_t *pool,
    const char *name, ngx_str_t *value)
{
    size_t      nlen;
    ngx_str_t  *h;

    h = ngx_array_push(a);
    if (h == NULL) {
        return NGX_ERROR;
    }

    nlen = ngx_strlen(name);

    h->data = ngx_pnalloc(pool, nlen + 2 + value->len + 1);
    if (h->data == NULL) {
        return NGX_ERROR;
    }

    if (value->len == 0) {
        h->len = ngx_sprintf(h->data, "%s:%Z", name) - h->data - 1;
        return NGX_OK;
    }

    h->len = ngx_sprintf(h->data, "%s: %V%Z", name, value) - h->data - 1;

    return NGX_OK;
}


/* signs the request, then sends it (or waits for the budget) */

static ngx_int_t
ngx_http_sender_domains_ses_request(ngx_http_sender_domains_ses_t *ses,
    const char *method, ngx_str_t *path, ngx_str_t *query, ngx_str_t *body,
    const char *content_type)
{
    char       amz_date[SD_SIGV4_AMZ_DATE_LEN + 1];
    ngx_str_t  auth;

    if (!ngx_http_sender_domains_have_cred) {
        /* answered from the event loop, like any other outcome */
        ngx_log_error(NGX_LOG_ERR, ses->log, 0,
                      "sender_domains: %s %V not sent: no AWS credentials",
                      ngx_http_sender_domains_ses_op_name(ses->op),
                      &ses->identity);
        return NGX_ERROR;
    }

    if (sd_sigv4_amz_date(ngx_time(), amz_date) != 0) {
        return NGX_ERROR;
    }

    if (ngx_http_sender_domains_ses_sign(ses, method, path, query, body,
                                         content_type, amz_date, &auth)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ses->headers = ngx_http_sender_domains_ses_headers(ses, &auth, amz_date,
                                                       content_type);
    sd_sigv4_free((char *) auth.data);

    if (ses->headers == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_sender_domains_ses_url(ses->pool, path, query, &ses->url)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ses->method = method;
    ses->req_body = *body;

    return ngx_http_sender_domains_ses_send(ses);
}


static void
ngx_http_sender_domains_ses_sign_header(sd_sigv4_header_t *h,
    const char *name, const char *value, size_t value_len)
{
    h->name = name;
    h->name_len = ngx_strlen(name);
    h->value = value;
    h->value_len = value_len;
}


/*
 * The Authorization header's value (SigV4 over host, x-amz-date and the
 * content type), from sd_sigv4_authorization(): the caller frees it with
 * sd_sigv4_free().
 */

static ngx_int_t
ngx_http_sender_domains_ses_sign(ngx_http_sender_domains_ses_t *ses,
    const char *method, ngx_str_t *path, ngx_str_t *query, ngx_str_t *body,
    const char *content_type, char *amz_date, ngx_str_t *auth)
{
    char                                 *a, region[64];
    size_t                                a_len, nh;
    sd_sigv4_rc_e                         rc;
    sd_sigv4_header_t                     sh[3];
    sd_sigv4_request_t                    req;
    ngx_http_sender_domains_main_conf_t  *smcf = ngx_http_sender_domains_smcf;

    nh = 0;
    ngx_http_sender_domains_ses_sign_header(&sh[nh++], "host",
        (char *) ngx_http_sender_domains_host.data,
        ngx_http_sender_domains_host.len);
    ngx_http_sender_domains_ses_sign_header(&sh[nh++], "x-amz-date",
                                            amz_date, SD_SIGV4_AMZ_DATE_LEN);

    if (content_type) {
        ngx_http_sender_domains_ses_sign_header(&sh[nh++], "content-type",
                                                content_type,
                                                ngx_strlen(content_type));
    }

    ngx_memzero(&req, sizeof(sd_sigv4_request_t));
    ngx_cpystrn((u_char *) region, smcf->ses_region.data,
                ngx_min(smcf->ses_region.len + 1, sizeof(region)));

    req.method = method;
    req.path = (char *) path->data;
    req.path_len = path->len;
    req.query = (char *) query->data;
    req.query_len = query->len;
    req.headers = sh;
    req.nheaders = nh;
    req.body = body->data;
    req.body_len = body->len;
    req.access_key = ngx_http_sender_domains_cred.access_key;
    req.secret_key = ngx_http_sender_domains_cred.secret_key;
    req.session_token = ngx_http_sender_domains_cred.session_token;
    req.region = region;
    req.service = "ses";
    req.amz_date = amz_date;
    req.double_encode_path = 1;
    req.normalize_path = 1;

    rc = sd_sigv4_authorization(&req, &a, &a_len);
    if (rc != SD_SIGV4_OK) {
        ngx_log_error(NGX_LOG_ERR, ses->log, 0,
                      "sender_domains: signing %s failed: %s",
                      ngx_http_sender_domains_ses_op_name(ses->op),
                      sd_sigv4_strerror(rc));
        return NGX_ERROR;
    }

    auth->data = (u_char *) a;
    auth->len = a_len;

    return NGX_OK;
}


/* the headers curl sends: those signed, and the session token if any */

static ngx_array_t *
ngx_http_sender_domains_ses_headers(ngx_http_sender_domains_ses_t *ses,
    ngx_str_t *auth, char *amz_date, const char *content_type)
{
    ngx_str_t     v;
    ngx_array_t  *headers;

    headers = ngx_array_create(ses->pool, 6, sizeof(ngx_str_t));
    if (headers == NULL) {
        return NULL;
    }

    if (ngx_http_sender_domains_ses_push_header(headers, ses->pool,
                                                "Authorization", auth)
        != NGX_OK
        || ngx_http_sender_domains_ses_push_header(headers, ses->pool,
               "Host", &ngx_http_sender_domains_host)
           != NGX_OK)
    {
        return NULL;
    }

    v.data = (u_char *) amz_date;
    v.len = SD_SIGV4_AMZ_DATE_LEN;

    if (ngx_http_sender_domains_ses_push_header(headers, ses->pool,
                                                "X-Amz-Date", &v)
        != NGX_OK)
    {
        return NULL;
    }

    /* no body: an empty value tells curl not to invent a Content-Type */
    v.data = (u_char *) content_type;
    v.len = content_type ? ngx_strlen(content_type) : 0;

    if (ngx_http_sender_domains_ses_push_header(headers, ses->pool,
                                                "Content-Type", &v)
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_http_sender_domains_cred.session_token[0] == '\0') {
        return headers;
    }

    v.data = (u_char *) ngx_http_sender_domains_cred.session_token;
    v.len = ngx_strlen(ngx_http_sender_domains_cred.session_token);

    if (ngx_http_sender_domains_ses_push_header(headers, ses->pool,
                                                "X-Amz-Security-Token", &v)
        != NGX_OK)
    {
        return NULL;
    }

    return headers;
}


/* the endpoint, the path and "?query" when there is one */

static ngx_int_t
ngx_http_sender_domains_ses_url(ngx_pool_t *pool, ngx_str_t *path,
    ngx_str_t *query, ngx_str_t *url)
{
    u_char  *p;

    p = ngx_pnalloc(pool, ngx_http_sender_domains_endpoint.len
                          + path->len + 1 + query->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    url->data = p;
    p = ngx_cpymem(p, ngx_http_sender_domains_endpoint.data,
                   ngx_http_sender_domains_endpoint.len);
    p = ngx_cpymem(p, path->data, path->len);

    if (query->len) {
        *p++ = '?';
        p = ngx_cpymem(p, query->data, query->len);
    }

    url->len = p - url->data;

    return NGX_OK;
}


/*
 * Sends now if the shared budget allows; a person's call waits up to
 * NGX_HTTP_SENDER_DOMAINS_SES_MAX_WAIT for it (a call with a patience no
 * longer than that, then it is answered "deferred"), a deferred step up
 * to NGX_HTTP_SENDER_DOMAINS_SES_MAX_WAIT_DEFERRED, a background call
 * not at all.
 */

static ngx_int_t
ngx_http_sender_domains_ses_send(ngx_http_sender_domains_ses_t *ses)
{
    ngx_msec_t                            wait, most;
    ngx_pool_cleanup_t                   *cln;
    ngx_http_sender_domains_main_conf_t  *smcf = ngx_http_sender_domains_smcf;

    wait = ngx_http_sender_domains_rate_take_fair(ses->ws_hash, ses->follow,
                                                  ses->background,
                                                  &ses->queued);

    if (wait && ses->background == NGX_HTTP_SENDER_DOMAINS_CALL_BACKGROUND) {
        return NGX_DECLINED;
    }

    if (wait) {
        most = (ses->background == NGX_HTTP_SENDER_DOMAINS_CALL_DEFERRED)
               ? NGX_HTTP_SENDER_DOMAINS_SES_MAX_WAIT_DEFERRED
               : NGX_HTTP_SENDER_DOMAINS_SES_MAX_WAIT;

        if (ses->patience && ses->waited + wait > ses->patience) {
            /* the caller would rather go on without this call */
            ses->deferred = 1;
            ses->gave_up = 1;
            wait = 1;

        } else if (ses->waited + wait > most) {
            /* answered as throttled, from the event loop like any answer */
            ses->gave_up = 1;
            wait = 1;
        }

        if (ses->wait.handler == NULL) {
            cln = ngx_pool_cleanup_add(ses->pool, 0);
            if (cln == NULL) {
                return NGX_ERROR;
            }

            cln->handler = ngx_http_sender_domains_ses_cleanup;
            cln->data = ses;

            ses->wait.handler = ngx_http_sender_domains_ses_wake;
            ses->wait.data = &ngx_http_sender_domains_ses_dummy;
            ses->wait.log = ses->log;

            /* nobody waits for a deferred step: a graceful exit does not */
            ses->wait.cancelable =
                (ses->background == NGX_HTTP_SENDER_DOMAINS_CALL_DEFERRED);
        }

        ses->waited += wait;
        ngx_add_timer(&ses->wait, wait);
        ngx_http_sender_domains_metric_ses_waiting(1);

        return NGX_OK;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ses->log, 0,
                   "sender_domains: SES %s %s %V", ses->method,
                   ngx_http_sender_domains_ses_op_name(ses->op), &ses->url);

    /* a second VerifyEmailIdentity would be a second mail to the person */
    ses->started = ngx_current_msec;
    ses->call = ngx_http_sender_domains_curl_start(ses->pool, ses->log,
                    ses->method, &ses->url, ses->headers, &ses->req_body,
                    smcf->ses_timeout, ses->op == SD_SES_OP_VERIFY_EMAIL,
                    ngx_http_sender_domains_ses_done, ses);

    return ses->call ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_sender_domains_ses_wake(ngx_event_t *ev)
{
    ngx_int_t                       rc;
    ngx_http_sender_domains_ses_t  *ses;

    ses = (ngx_http_sender_domains_ses_t *)
              ((u_char *) ev - offsetof(ngx_http_sender_domains_ses_t, wait));

    ngx_http_sender_domains_metric_ses_waiting(-1);

    if (!ses->gave_up) {
        rc = ngx_http_sender_domains_ses_send(ses);

        if (rc == NGX_OK) {
            return;
        }
    }

    ngx_http_sender_domains_rate_leave(ses->ws_hash, &ses->queued);

    /* the budget stayed spent: answer as SES itself would */
    sd_ses_result_set(&ses->result, SD_SES_THROTTLED);
    ngx_str_set(&ses->body, "");
    ses->handler(ses);
}


static void
ngx_http_sender_domains_ses_cleanup(void *data)
{
    ngx_http_sender_domains_ses_t  *ses = data;

    if (ses->wait.timer_set) {
        ngx_del_timer(&ses->wait);
        ngx_http_sender_domains_metric_ses_waiting(-1);
    }

    ngx_http_sender_domains_rate_leave(ses->ws_hash, &ses->queued);
}


/*
 * One line per failed call: the operation, the identity, SES's own words
 * (and curl's, when the connection failed).  At warn only for a call a
 * person is waiting for: an add or refresh that SES refused is worth a
 * line each.  A background call's failure is at info: during an outage the
 * refresher says so once per incident at warn, not once per row.  Nor is
 * an answer the flow expects a warning: AlreadyExists (adopt) and NotFound
 * (gone, or a delete of what is not there), which the callers log.
 */

static void
ngx_http_sender_domains_ses_log_failure(ngx_http_sender_domains_ses_t *ses)
{
    ngx_uint_t                            level;
    ngx_http_sender_domains_curl_call_t  *call = ses->call;

    if (ses->background
        || ses->result.status == SD_SES_ALREADY_EXISTS
        || ses->result.status == SD_SES_NOT_FOUND)
    {
        level = NGX_LOG_INFO;

    } else {
        level = NGX_LOG_WARN;
    }

    ngx_log_error(level, ses->log, 0,
                  "sender_domains: SES %s \"%V\" failed: %s "
                  "(HTTP %l, %s) %s%s%s, request id \"%s\"",
                  ngx_http_sender_domains_ses_op_name(ses->op),
                  &ses->identity, sd_ses_status_name(ses->result.status),
                  call ? (long) call->status : 0L,
                  ses->result.error_type[0] ? ses->result.error_type
                                            : "no error type",
                  ses->result.message,
                  call && call->curl_error[0] ? " " : "",
                  call ? (char *) call->curl_error : "",
                  call ? (char *) call->request_id : "");
}


void
ngx_http_sender_domains_ses_refused(ngx_http_sender_domains_ses_t *ses,
    sd_ses_status_e status)
{
    sd_ses_result_set(&ses->result, status);
    ngx_http_sender_domains_ses_log_failure(ses);
}


static void
ngx_http_sender_domains_ses_done(ngx_http_sender_domains_curl_call_t *call)
{
    ngx_http_sender_domains_ses_t  *ses = call->data;

    ses->body = call->body;

    switch (call->outcome) {

    case NGX_HTTP_SENDER_DOMAINS_CURL_TIMEOUT:
        sd_ses_result_set(&ses->result, SD_SES_TIMEOUT);
        break;

    case NGX_HTTP_SENDER_DOMAINS_CURL_CONNECT:
        sd_ses_result_set(&ses->result, SD_SES_CONNECT_FAILED);
        break;

    case NGX_HTTP_SENDER_DOMAINS_CURL_TOO_LARGE:
        sd_ses_result_set(&ses->result, SD_SES_MALFORMED);
        break;

    default:
        if (ses->op == SD_SES_OP_VERIFY_EMAIL) {
            (void) sd_ses_classify_query_xml((int) call->status,
                                             (char *) call->body.data,
                                             call->body.len, &ses->result);

        } else {
            (void) sd_ses_classify((int) call->status,
                                   (char *) call->error_type,
                                   call->error_type_len,
                                   (char *) call->body.data, call->body.len,
                                   !ses->handler_parses, &ses->result);
        }
    }

    ngx_http_sender_domains_metric_ses(ses->op, call->outcome,
        ses->result.status == SD_SES_THROTTLED, call->status,
        ngx_current_msec - ses->started);

    if (ses->result.status != SD_SES_OK) {
        ngx_http_sender_domains_ses_log_failure(ses);

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ses->log, 0,
                       "sender_domains: SES %s \"%V\" ok",
                       ngx_http_sender_domains_ses_op_name(ses->op),
                       &ses->identity);
    }

    ses->handler(ses);
}
