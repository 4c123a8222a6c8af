/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the DNS ownership proof of a domain
 * already verified in SES outside the workspace (the rules are in
 * src/core/sd_ownership.c; this is their glue to requests, the c-ares
 * resolver, the store and the refresher).
 */


#ifndef _NGX_HTTP_SENDER_DOMAINS_OWNERSHIP_H_INCLUDED_
#define _NGX_HTTP_SENDER_DOMAINS_OWNERSHIP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_sender_domains_api.h"
#include "sd_sesparse.h"
#include "sd_ownership.h"


typedef ngx_int_t (*ngx_http_sender_domains_own_next_pt)(
    ngx_http_request_t *r, ngx_http_sender_domains_ctx_t *ctx);


/*
 * An add found the domain verified in SES, not for this claim: the row
 * becomes unproven with a fresh token (NGX_OK; the add goes on and stores
 * it), or NGX_DECLINED when that does not apply (an address, an identity
 * SES has not verified, not an add), NGX_ERROR when no token can be drawn.
 */
ngx_int_t ngx_http_sender_domains_ownership_adopt(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, const sd_ses_identity_t *si);

/*
 * POST /{identity}/refresh of a row waiting for its proof: looks the TXT
 * record up first (the request waits, suspended), applies the outcome to
 * the store and to ctx->row, then runs "next" (the refresh's SES call).
 * A row that is not waiting goes straight to "next".
 */
ngx_int_t ngx_http_sender_domains_ownership_refresh(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx,
    ngx_http_sender_domains_own_next_pt next);

/*
 * The refresher: a due row with SD_REC_UNPROVEN that is not failed gets a
 * lookup of its TXT record alongside its SES poll (at most a few at once
 * per worker; the row's schedule bounds how often).
 */
void ngx_http_sender_domains_ownership_background(ngx_str_t *ws,
    ngx_str_t *id);


#endif /* _NGX_HTTP_SENDER_DOMAINS_OWNERSHIP_H_INCLUDED_ */
