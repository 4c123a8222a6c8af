
/*
 * Custom Sender Domains for nginx: the DNS records an identity needs
 * (pure core, jansson only).
 *
 * Record facts (docs/ and /work/shared/reference/ses-wire.md 3):
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


#include <string.h>

#include "ngx_http_sender_domains_dns.h"


/* far above any DNS name; keeps the "%.*s" int casts honest */
#define SD_DNS_ARG_MAX  1024

#define sd_dns_arg(s)   (int) (s)->len, (s)->data


static int sd_dns_present(const sd_str_t *s);
static int sd_dns_dkim(json_t *records, const sd_str_t *domain,
    const sd_str_t *token, const sd_str_t *zone);
static int sd_dns_mail_from(json_t *records, const sd_str_t *domain,
    const sd_str_t *mail_from, const sd_str_t *region);
static int sd_dns_dmarc(json_t *records, const sd_str_t *domain);
static json_t *sd_dns_hint(json_t *text, json_t *name,
    const sd_str_t *domain);
static int sd_dns_add(json_t *records, const char *group,
    const char *requirement, const char *type, json_t *name, json_t *value,
    json_t *explanation);


json_t *
sd_dns_records(const sd_str_t *domain, const sd_str_t *dkim_tokens,
    size_t ntokens, const sd_str_t *signing_hosted_zone,
    const sd_str_t *mail_from_domain, const sd_str_t *region,
    int for_address)
{
    size_t    i;
    json_t   *records;
    sd_str_t  zone;

    if (!sd_dns_present(domain) || (ntokens != 0 && dkim_tokens == NULL)) {
        return NULL;
    }

    records = json_array();
    if (records == NULL) {
        return NULL;
    }

    /*
     * An address identity is verified by the link SES mails to it, and
     * signs with the DKIM of a verified parent domain, if any: nothing
     * for the admin to publish.
     */

    if (for_address) {
        return records;
    }

    if (sd_dns_present(signing_hosted_zone)) {
        zone = *signing_hosted_zone;

    } else {
        zone.len = sizeof(SD_DNS_DEFAULT_DKIM_ZONE) - 1;
        zone.data = SD_DNS_DEFAULT_DKIM_ZONE;
    }

    for (i = 0; i < ntokens; i++) {
        if (dkim_tokens[i].len == 0) {
            continue;
        }

        if (!sd_dns_present(&dkim_tokens[i])
            || sd_dns_dkim(records, domain, &dkim_tokens[i], &zone) != 0)
        {
            goto failed;
        }
    }

    if (mail_from_domain != NULL && mail_from_domain->len != 0) {
        if (!sd_dns_present(mail_from_domain) || !sd_dns_present(region)
            || sd_dns_mail_from(records, domain, mail_from_domain, region)
               != 0)
        {
            goto failed;
        }
    }

    if (sd_dns_dmarc(records, domain) != 0) {
        goto failed;
    }

    return records;

failed:

    json_decref(records);

    return NULL;
}


static int
sd_dns_present(const sd_str_t *s)
{
    return s != NULL && s->data != NULL && s->len != 0
           && s->len <= SD_DNS_ARG_MAX;
}


static int
sd_dns_dkim(json_t *records, const sd_str_t *domain, const sd_str_t *token,
    const sd_str_t *zone)
{
    json_t  *name, *text;

    name = json_sprintf("%.*s._domainkey.%.*s", sd_dns_arg(token),
                        sd_dns_arg(domain));

    text = json_sprintf("Lets receiving mail servers confirm that mail from "
                        "%.*s really was sent by you (DKIM), and is how "
                        "Amazon SES checks that you own the domain. Add "
                        "this CNAME record at your DNS provider; all three "
                        "DKIM records are needed.", sd_dns_arg(domain));

    return sd_dns_add(records, "dkim", "required", "CNAME", name,
                      json_sprintf("%.*s.%.*s", sd_dns_arg(token),
                                   sd_dns_arg(zone)),
                      sd_dns_hint(text, name, domain));
}


static int
sd_dns_mail_from(json_t *records, const sd_str_t *domain,
    const sd_str_t *mail_from, const sd_str_t *region)
{
    json_t  *name, *text;

    name = json_stringn(mail_from->data, mail_from->len);

    text = json_sprintf("Makes %.*s the bounce (MAIL FROM) domain of your "
                        "mail, so that it matches your own domain and "
                        "looks more trustworthy, and lets Amazon SES "
                        "receive bounce and complaint notices for it. Add "
                        "this MX record with priority 10 at your DNS "
                        "provider. It must be the only MX record on "
                        "%.*s, and that name must not be used to receive "
                        "other mail. Your mail keeps being sent while this "
                        "record is missing.", sd_dns_arg(mail_from),
                        sd_dns_arg(mail_from));

    if (sd_dns_add(records, "mail_from", "recommended", "MX", name,
                   json_sprintf("10 feedback-smtp.%.*s.amazonses.com",
                                sd_dns_arg(region)),
                   sd_dns_hint(text, name, domain))
        != 0)
    {
        return -1;
    }

    name = json_stringn(mail_from->data, mail_from->len);

    text = json_sprintf("Allows Amazon SES to send mail using %.*s as the "
                        "bounce address (SPF), so that receiving mail "
                        "servers trust it. Add this TXT record at your DNS "
                        "provider; some providers (Amazon Route 53, for "
                        "one) need the value wrapped in double quotes.",
                        sd_dns_arg(mail_from));

    return sd_dns_add(records, "mail_from", "recommended", "TXT", name,
                      json_string("v=spf1 include:amazonses.com ~all"),
                      sd_dns_hint(text, name, domain));
}


static int
sd_dns_dmarc(json_t *records, const sd_str_t *domain)
{
    json_t  *name, *text;

    name = json_sprintf("_dmarc.%.*s", sd_dns_arg(domain));

    text = json_sprintf("Tells receiving mail servers what to do with mail "
                        "that claims to come from %.*s but fails the checks "
                        "above (DMARC). This policy (p=none) only monitors "
                        "and never blocks mail; to receive daily reports, "
                        "add rua=mailto: followed by an address of yours, "
                        "and tighten the policy later. Add this TXT record "
                        "at your DNS provider; if %.*s already has a DMARC "
                        "record, keep that one instead.", sd_dns_arg(domain),
                        sd_dns_arg(domain));

    return sd_dns_add(records, "dmarc", "optional", "TXT", name,
                      json_string("v=DMARC1; p=none;"),
                      sd_dns_hint(text, name, domain));
}


/*
 * Many DNS providers append the zone to whatever is typed as the name,
 * and "x._domainkey.acme.com.acme.com" is the classic mistake: say what
 * to type then.  Consumes text; name is only borrowed.
 */

static json_t *
sd_dns_hint(json_t *text, json_t *name, const sd_str_t *domain)
{
    size_t       nlen;
    json_t      *hinted;
    const char  *n;

    if (text == NULL || name == NULL) {
        json_decref(text);
        return NULL;
    }

    n = json_string_value(name);
    nlen = json_string_length(name);

    if (nlen <= domain->len + 1
        || n[nlen - domain->len - 1] != '.'
        || memcmp(n + nlen - domain->len, domain->data, domain->len) != 0)
    {
        return text;
    }

    hinted = json_sprintf("%s If your DNS provider adds \"%.*s\" to names "
                          "by itself, enter only \"%.*s\" as the name.",
                          json_string_value(text), sd_dns_arg(domain),
                          (int) (nlen - domain->len - 1), n);

    json_decref(text);

    return hinted;
}


/* steals name, value and explanation, even on failure */

static int
sd_dns_add(json_t *records, const char *group, const char *requirement,
    const char *type, json_t *name, json_t *value, json_t *explanation)
{
    json_t  *rec;

    rec = NULL;

    if (name == NULL || value == NULL || explanation == NULL) {
        goto failed;
    }

    rec = json_object();
    if (rec == NULL) {
        goto failed;
    }

    if (json_object_set_new(rec, "group", json_string(group)) != 0
        || json_object_set_new(rec, "requirement", json_string(requirement))
           != 0
        || json_object_set_new(rec, "type", json_string(type)) != 0
        || json_object_set(rec, "name", name) != 0
        || json_object_set(rec, "value", value) != 0
        || json_object_set(rec, "explanation", explanation) != 0)
    {
        goto failed;
    }

    /* json_array_append_new() consumes rec even when it fails */

    if (json_array_append_new(records, rec) != 0) {
        rec = NULL;
        goto failed;
    }

    json_decref(name);
    json_decref(value);
    json_decref(explanation);

    return 0;

failed:

    json_decref(rec);
    json_decref(name);
    json_decref(value);
    json_decref(explanation);

    return -1;
}
