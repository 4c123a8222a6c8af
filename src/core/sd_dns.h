/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: the DNS records an identity needs
 * (pure core, jansson only).
 */


#ifndef _NGX_HTTP_SENDER_DOMAINS_DNS_H_INCLUDED_
#define _NGX_HTTP_SENDER_DOMAINS_DNS_H_INCLUDED_


#include <jansson.h>

#include "sd_identity.h"
#include "sd_jsonw.h"


#define SD_DNS_DEFAULT_DKIM_ZONE  "dkim.amazonses.com"


/*
 * A new JSON array of record objects, each
 *
 *     {"group", "requirement", "type", "name", "value", "explanation"}
 *
 * in this order of groups: "dkim" (required; one CNAME per token,
 * "{token}._domainkey.{domain}" -> "{token}.{zone}"), "mail_from"
 * (recommended; MX and SPF TXT on the MAIL FROM domain, only when
 * mail_from_domain is given) and "dmarc" (optional; TXT on
 * "_dmarc.{domain}").  A single-address identity (for_address != 0)
 * gets an empty array: it has no records of its own.
 *
 * domain, the tokens and mail_from_domain are normalised names as SES
 * returns them; signing_hosted_zone is DkimAttributes.SigningHostedZone
 * (NULL or empty: "dkim.amazonses.com"); region is required when
 * mail_from_domain is given.  NULL on a missing argument or when out of
 * memory.  The caller owns the reference (json_decref()).
 */
json_t *sd_dns_records(const sd_str_t *domain, const sd_str_t *dkim_tokens,
    size_t ntokens, const sd_str_t *signing_hosted_zone,
    const sd_str_t *mail_from_domain, const sd_str_t *region,
    int for_address);

/*
 * The same array written to w, byte for byte what json_dumps() of
 * sd_dns_records() gives (sd_dns_records() is its parse).  Returns 0, or
 * -1 with nothing written on a missing or invalid argument (not UTF-8,
 * say), or -1 when w failed.
 */
int sd_dns_write(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *dkim_tokens, size_t ntokens,
    const sd_str_t *signing_hosted_zone, const sd_str_t *mail_from_domain,
    const sd_str_t *region, int for_address);

/*
 * sd_dns_write() with, first, the ownership proof's TXT record of a domain
 * verified in SES outside the workspace (own_token: the row's token, see
 * sd_ownership.h; NULL: none).
 */
int sd_dns_write_own(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *dkim_tokens, size_t ntokens,
    const sd_str_t *signing_hosted_zone, const sd_str_t *mail_from_domain,
    const sd_str_t *region, int for_address, const sd_str_t *own_token);


#endif /* _NGX_HTTP_SENDER_DOMAINS_DNS_H_INCLUDED_ */
