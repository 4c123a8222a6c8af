/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: the DNS records an identity needs
 * (pure core, jansson only).
 *
 * Record facts (as the SES developer guide and the SESv2 model give them;
 * docs/api.md shows them to users):
 *   - Easy DKIM: three CNAMEs "{token}._domainkey.{domain}" ->
 *     "{token}.{SigningHostedZone}", falling back to dkim.amazonses.com;
 *   - custom MAIL FROM: exactly one MX "10 feedback-smtp.{region}.
 *     amazonses.com" and TXT "v=spf1 include:amazonses.com ~all";
 *   - DMARC: TXT on "_dmarc.{domain}", starting with a monitoring-only
 *     policy (p=none) so that publishing it can never block mail.
 *
 * Names are shown fully qualified without the root dot, as the SES
 * console shows them; TXT values are shown without the surrounding
 * quotes, which most DNS providers add themselves (the explanation says
 * when to add them).
 */


#include <stdlib.h>
#include <string.h>

#include "sd_dns.h"
#include "sd_ownership.h"


/* far above any DNS name */
#define SD_DNS_ARG_MAX  1024

#define sd_dns_chars(w, s)   sd_jsonw_chars(w, (s)->data, (s)->len)

#define SD_DNS_HINT_CLOSE    "\\\" as the name."


static int sd_dns_present(const sd_str_t *s);
static int sd_dns_valid(const sd_str_t *s);
static void sd_dns_dkim(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *token, const sd_str_t *zone);
static void sd_dns_mail_from(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *mail_from, const sd_str_t *region);
static void sd_dns_mail_from_hint(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *mail_from);
static void sd_dns_dmarc(sd_jsonw_t *w, const sd_str_t *domain);
static void sd_dns_hint_open(sd_jsonw_t *w, const sd_str_t *domain);
static size_t sd_dns_under(const sd_str_t *name, const sd_str_t *domain);


/*
 * The explanations are constant sentences with names put in: they are
 * written as fixed, already escaped pieces around the escaped names, which
 * costs a copy of the bytes and no formatting.  Each record object is
 *
 *   {"group":…,"requirement":…,"type":…,"name":…,"value":…,
 *    "explanation":…}
 */

int
sd_dns_write(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *dkim_tokens, size_t ntokens,
    const sd_str_t *signing_hosted_zone, const sd_str_t *mail_from_domain,
    const sd_str_t *region, int for_address)
{
    return sd_dns_write_own(w, domain, dkim_tokens, ntokens,
                            signing_hosted_zone, mail_from_domain, region,
                            for_address, NULL);
}


int
sd_dns_write_own(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *dkim_tokens, size_t ntokens,
    const sd_str_t *signing_hosted_zone, const sd_str_t *mail_from_domain,
    const sd_str_t *region, int for_address, const sd_str_t *own_token)
{
    size_t    i, first;
    sd_str_t  zone;
    int       with_mail_from;

    if (!sd_dns_present(domain) || (ntokens != 0 && dkim_tokens == NULL)) {
        return -1;
    }

    /*
     * An address identity is verified by the link SES mails to it, and
     * signs with the DKIM of a verified parent domain, if any: nothing
     * for the admin to publish.
     */

    if (for_address) {
        sd_jsonw_lit(w, "[]");
        return sd_jsonw_failed(w) ? -1 : 0;
    }

    if (sd_dns_present(signing_hosted_zone)) {
        zone = *signing_hosted_zone;

    } else {
        zone.len = sizeof(SD_DNS_DEFAULT_DKIM_ZONE) - 1;
        zone.data = SD_DNS_DEFAULT_DKIM_ZONE;
    }

    with_mail_from = (mail_from_domain != NULL && mail_from_domain->len != 0);

    /* check everything first: a refused record leaves nothing written */

    if (!sd_dns_valid(domain) || !sd_dns_valid(&zone)) {
        return -1;
    }

    for (i = 0; i < ntokens; i++) {
        if (dkim_tokens[i].len != 0 && !sd_dns_valid(&dkim_tokens[i])) {
            return -1;
        }
    }

    if (with_mail_from
        && (!sd_dns_valid(mail_from_domain) || !sd_dns_valid(region)))
    {
        return -1;
    }

    if (own_token != NULL && !sd_own_token_valid(own_token->data,
                                                 own_token->len))
    {
        return -1;
    }

    sd_jsonw_lit(w, "[");
    first = 1;

    if (own_token != NULL) {
        /* the proof comes first: nothing counts before it */
        (void) sd_own_write_record(w, domain, own_token);
        first = 0;
    }

    for (i = 0; i < ntokens; i++) {
        if (dkim_tokens[i].len == 0) {
            continue;
        }

        if (!first) {
            sd_jsonw_lit(w, ",");
        }

        sd_dns_dkim(w, domain, &dkim_tokens[i], &zone);
        first = 0;
    }

    if (with_mail_from) {
        if (!first) {
            sd_jsonw_lit(w, ",");
        }

        sd_dns_mail_from(w, domain, mail_from_domain, region);
        first = 0;
    }

    if (!first) {
        sd_jsonw_lit(w, ",");
    }

    sd_dns_dmarc(w, domain);
    sd_jsonw_lit(w, "]");

    return sd_jsonw_failed(w) ? -1 : 0;
}


json_t *
sd_dns_records(const sd_str_t *domain, const sd_str_t *dkim_tokens,
    size_t ntokens, const sd_str_t *signing_hosted_zone,
    const sd_str_t *mail_from_domain, const sd_str_t *region,
    int for_address)
{
    sd_jsonw_t      w;
    sd_jsonw_mem_t  mem = { NULL, 0, 0 };

    sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);

    if (sd_dns_write(&w, domain, dkim_tokens, ntokens, signing_hosted_zone,
                     mail_from_domain, region, for_address)
        != 0)
    {
        w.failed = 1;
    }

    return sd_jsonw_mem_load(&w, &mem);
}


static int
sd_dns_present(const sd_str_t *s)
{
    return s != NULL && s->data != NULL && s->len != 0
           && s->len <= SD_DNS_ARG_MAX;
}


/* present, and text that jansson would take (UTF-8, no NUL) */

static int
sd_dns_valid(const sd_str_t *s)
{
    return sd_dns_present(s) && memchr(s->data, '\0', s->len) == NULL
           && sd_jsonw_utf8_valid(s->data, s->len);
}


static void
sd_dns_dkim(sd_jsonw_t *w, const sd_str_t *domain, const sd_str_t *token,
    const sd_str_t *zone)
{
    sd_jsonw_lit(w, "{\"group\":\"dkim\",\"requirement\":\"required\","
                    "\"type\":\"CNAME\",\"name\":\"");
    sd_dns_chars(w, token);
    sd_jsonw_lit(w, "._domainkey.");
    sd_dns_chars(w, domain);
    sd_jsonw_lit(w, "\",\"value\":\"");
    sd_dns_chars(w, token);
    sd_jsonw_lit(w, ".");
    sd_dns_chars(w, zone);
    sd_jsonw_lit(w, "\",\"explanation\":\"Lets receiving mail servers "
                    "confirm that mail from ");
    sd_dns_chars(w, domain);
    sd_jsonw_lit(w, " really was sent by you (DKIM), and is how Amazon SES "
                    "checks that you own the domain. Add this CNAME record "
                    "at your DNS provider; all three DKIM records are "
                    "needed.");

    sd_dns_hint_open(w, domain);
    sd_dns_chars(w, token);
    sd_jsonw_lit(w, "._domainkey" SD_DNS_HINT_CLOSE "\"}");
}


static void
sd_dns_mail_from(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *mail_from, const sd_str_t *region)
{
    sd_jsonw_lit(w, "{\"group\":\"mail_from\",\"requirement\":\"recommended\","
                    "\"type\":\"MX\",\"name\":\"");
    sd_dns_chars(w, mail_from);
    sd_jsonw_lit(w, "\",\"value\":\"10 feedback-smtp.");
    sd_dns_chars(w, region);
    sd_jsonw_lit(w, ".amazonses.com\",\"explanation\":\"Makes ");
    sd_dns_chars(w, mail_from);
    sd_jsonw_lit(w, " the bounce (MAIL FROM) domain of your mail, so that "
                    "it matches your own domain and looks more "
                    "trustworthy, and lets Amazon SES receive bounce and "
                    "complaint notices for it. Add this MX record with "
                    "priority 10 at your DNS provider. It must be the only "
                    "MX record on ");
    sd_dns_chars(w, mail_from);
    sd_jsonw_lit(w, ", and that name must not be used to receive other "
                    "mail. Your mail keeps being sent while this record is "
                    "missing.");
    sd_dns_mail_from_hint(w, domain, mail_from);

    sd_jsonw_lit(w, "\"},{\"group\":\"mail_from\",\"requirement\":"
                    "\"recommended\",\"type\":\"TXT\",\"name\":\"");
    sd_dns_chars(w, mail_from);
    sd_jsonw_lit(w, "\",\"value\":\"v=spf1 include:amazonses.com ~all\","
                    "\"explanation\":\"Allows Amazon SES to send mail using ");
    sd_dns_chars(w, mail_from);
    sd_jsonw_lit(w, " as the bounce address (SPF), so that receiving mail "
                    "servers trust it. Add this TXT record at your DNS "
                    "provider; some providers (Amazon Route 53, for one) "
                    "need the value wrapped in double quotes.");
    sd_dns_mail_from_hint(w, domain, mail_from);
    sd_jsonw_lit(w, "\"}");
}


/* a MAIL FROM domain outside the identity's domain gets no hint */

static void
sd_dns_mail_from_hint(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *mail_from)
{
    size_t  prefix;

    prefix = sd_dns_under(mail_from, domain);

    if (prefix) {
        sd_dns_hint_open(w, domain);
        sd_jsonw_chars(w, mail_from->data, prefix);
        sd_jsonw_lit(w, SD_DNS_HINT_CLOSE);
    }
}


static void
sd_dns_dmarc(sd_jsonw_t *w, const sd_str_t *domain)
{
    sd_jsonw_lit(w, "{\"group\":\"dmarc\",\"requirement\":\"optional\","
                    "\"type\":\"TXT\",\"name\":\"_dmarc.");
    sd_dns_chars(w, domain);
    sd_jsonw_lit(w, "\",\"value\":\"v=DMARC1; p=none;\",\"explanation\":"
                    "\"Tells receiving mail servers what to do with mail "
                    "that claims to come from ");
    sd_dns_chars(w, domain);
    sd_jsonw_lit(w, " but fails the checks above (DMARC). This policy "
                    "(p=none) only monitors and never blocks mail; to "
                    "receive daily reports, add rua=mailto: followed by an "
                    "address of yours, and tighten the policy later. Add "
                    "this TXT record at your DNS provider; if ");
    sd_dns_chars(w, domain);
    sd_jsonw_lit(w, " already has a DMARC record, keep that one instead.");

    sd_dns_hint_open(w, domain);
    sd_jsonw_lit(w, "_dmarc" SD_DNS_HINT_CLOSE "\"}");
}


/*
 * Many DNS providers append the zone to whatever is typed as the name,
 * and "x._domainkey.acme.com.acme.com" is the classic mistake: say what
 * to type then.  The caller writes that shorter name between
 * sd_dns_hint_open() and SD_DNS_HINT_CLOSE.
 */

static void
sd_dns_hint_open(sd_jsonw_t *w, const sd_str_t *domain)
{
    sd_jsonw_lit(w, " If your DNS provider adds \\\"");
    sd_dns_chars(w, domain);
    sd_jsonw_lit(w, "\\\" to names by itself, enter only \\\"");
}


/* the length of "x" when name is "x.{domain}", else 0 */

static size_t
sd_dns_under(const sd_str_t *name, const sd_str_t *domain)
{
    size_t  prefix;

    if (name->len <= domain->len + 1) {
        return 0;
    }

    prefix = name->len - domain->len - 1;

    if (name->data[prefix] != '.'
        || memcmp(name->data + prefix + 1, domain->data, domain->len) != 0)
    {
        return 0;
    }

    return prefix;
}
