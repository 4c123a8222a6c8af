/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: Amazon SES operations over the
 * non-blocking HTTP client, signed with SigV4.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_SES_H
#define NGX_HTTP_SENDER_DOMAINS_SES_H

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_sender_domains_curl.h"
#include "sd_sesparse.h"


/* the tag on identities this module creates; its value names the claim */
#define NGX_HTTP_SENDER_DOMAINS_CLAIM_TAG  SD_SES_CLAIM_TAG


typedef enum {
    SD_SES_OP_CREATE = 0,           /* v2 CreateEmailIdentity */
    SD_SES_OP_GET,                  /* v2 GetEmailIdentity */
    SD_SES_OP_DELETE,               /* v2 DeleteEmailIdentity */
    SD_SES_OP_PUT_MAIL_FROM,        /* v2 PutEmailIdentityMailFromAttributes */
    SD_SES_OP_LIST,                 /* v2 ListEmailIdentities */
    SD_SES_OP_VERIFY_EMAIL          /* v1 VerifyEmailIdentity (resend) */
} ngx_http_sender_domains_ses_op_e;


typedef struct ngx_http_sender_domains_ses_s  ngx_http_sender_domains_ses_t;

typedef void (*ngx_http_sender_domains_ses_done_pt)(
    ngx_http_sender_domains_ses_t *ses);


struct ngx_http_sender_domains_ses_s {
    ngx_http_sender_domains_ses_op_e        op;
    ngx_str_t                               identity;
    sd_ses_result_t                         result;
    ngx_str_t                               body;       /* SES's answer */

    ngx_pool_t                             *pool;
    ngx_log_t                              *log;
    ngx_http_sender_domains_curl_call_t    *call;

    /* the signed request, kept while it waits for the call budget */
    const char                             *method;
    ngx_str_t                               url;
    ngx_array_t                            *headers;
    ngx_str_t                               req_body;
    ngx_event_t                             wait;
    ngx_msec_t                              waited;
    ngx_msec_t                              started;    /* sent */
    ngx_uint_t                              background;
    ngx_uint_t                              gave_up;
    /* the fair turn of a person's call (budget.h) */
    uint32_t                                ws_hash;
    ngx_uint_t                              follow;
    ngx_uint_t                              queued;
    /* a person's call that may wait this long (ms, 0: the usual 5 s) */
    ngx_msec_t                              patience;
    /* it would have waited longer: not sent, answered SD_SES_THROTTLED */
    ngx_uint_t                              deferred;
    /* the handler parses a 2xx answer itself (and says MALFORMED) */
    ngx_uint_t                              handler_parses;
    ngx_http_sender_domains_ses_done_pt     handler;
    void                                   *data;
};


ngx_int_t ngx_http_sender_domains_ses_init(ngx_cycle_t *cycle);
void ngx_http_sender_domains_ses_exit(ngx_cycle_t *cycle);

/*
 * Starts an operation.  "arg" is the claim tag's value for CREATE, the
 * MAIL FROM domain for PUT_MAIL_FROM, the NextToken for LIST, unused
 * otherwise.  Returns NULL when the call
 * could not even start (then nothing will be called back); a background
 * call also gets NULL when the shared call budget is spent.  A call a
 * person waits for waits briefly for the budget, then fails as throttled.
 */
ngx_http_sender_domains_ses_t *ngx_http_sender_domains_ses_start(
    ngx_pool_t *pool, ngx_log_t *log, ngx_http_sender_domains_ses_op_e op,
    ngx_str_t *identity, ngx_str_t *arg, ngx_uint_t background,
    ngx_http_sender_domains_ses_done_pt handler, void *data);

/*
 * The same for a person's call made for a workspace: it waits for the
 * call budget in that workspace's fair turn.  "follow": the call right
 * after the request's first served one (an add's MAIL FROM goes on in
 * turn).  "patience" (ms, 0: none): when the budget would make it wait
 * longer, it is not sent and its handler gets SD_SES_THROTTLED with
 * ses->deferred set.
 */
ngx_http_sender_domains_ses_t *ngx_http_sender_domains_ses_start_for(
    ngx_pool_t *pool, ngx_log_t *log, ngx_http_sender_domains_ses_op_e op,
    ngx_str_t *identity, ngx_str_t *arg, ngx_str_t *workspace,
    ngx_uint_t follow, ngx_msec_t patience,
    ngx_http_sender_domains_ses_done_pt handler, void *data);

/*
 * A step of a workspace's own that nobody waits for (the MAIL FROM of an
 * add that answered before it): in that workspace's turns, after its
 * people's calls; waits up to a minute for the budget.
 */
ngx_http_sender_domains_ses_t *ngx_http_sender_domains_ses_start_deferred(
    ngx_pool_t *pool, ngx_log_t *log, ngx_http_sender_domains_ses_op_e op,
    ngx_str_t *identity, ngx_str_t *arg, ngx_str_t *workspace,
    ngx_http_sender_domains_ses_done_pt handler, void *data);

/*
 * For a handler that parses the answer itself (handler_parses): its parse
 * refused a 2xx answer.  Sets the result and writes the same warning line
 * as any other failed call.
 */
void ngx_http_sender_domains_ses_refused(ngx_http_sender_domains_ses_t *ses,
    sd_ses_status_e status);

/* 0 when no AWS credentials were found: every call would fail */
ngx_flag_t ngx_http_sender_domains_ses_ready(void);

const char *ngx_http_sender_domains_ses_op_name(
    ngx_http_sender_domains_ses_op_e op);

#endif /* NGX_HTTP_SENDER_DOMAINS_SES_H */
