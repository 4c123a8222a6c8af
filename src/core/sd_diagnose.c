/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the DNS diagnosis (pure core).
 *
 * Lookups per record, all sent at once:
 *
 *   CNAME (DKIM)    A and AAAA at the name (an authoritative server
 *                   answers with the CNAME, a recursive one with the CNAME
 *                   and what it leads to; a proxying provider's flattened
 *                   record shows as A or AAAA), and A at the name with the
 *                   domain appended again;
 *   MX, TXT         that type at the name, and at the doubled name;
 *   the zone        SOA at the domain: NXDOMAIN there means the domain
 *                   itself does not exist in DNS; NS at the domain, its
 *                   name servers, to compare with those of a name found
 *                   delegated elsewhere (an answer whose authority
 *                   section names a zone below the domain).
 */


#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sd_diagnose.h"
#include "sd_ownership.h"
#include "sd_row.h"
#include "sd_time.h"


#define SD_DIAG_TEXT_MAX  2048

#define SD_DIAG_SPF_INCLUDE  "include:amazonses.com"


typedef struct {
    const char              *domain;
    const sd_diag_query_t   *q;
    const sd_diag_result_t  *res;
    size_t                   n;
    const sd_diag_result_t  *zone;      /* SOA at the domain */
    int                      zone_gone;  /* NXDOMAIN for the domain */
} sd_diag_t;


typedef struct {
    const char   *verdict;
    const char   *reason;
    char          text[SD_DIAG_TEXT_MAX];
    json_t       *found;
} sd_diag_out_t;


static int sd_diag_add(sd_diag_query_t *q, size_t *n, size_t max,
    const char *name, const char *suffix, unsigned type);
static const sd_diag_result_t *sd_diag_find(sd_diag_t *d, const char *name,
    const char *suffix, unsigned type);
static size_t sd_diag_prefix(const char *name, const char *domain);
static void sd_diag_say(sd_diag_out_t *o, const char *verdict,
    const char *reason, const char *fmt, ...);
static int sd_diag_failed(sd_diag_t *d, const sd_diag_result_t *r,
    const char *name, sd_diag_out_t *o);
static int sd_diag_missing(sd_diag_t *d, const char *name, unsigned type,
    const sd_diag_result_t *r, sd_diag_out_t *o);
static int sd_diag_delegated(sd_diag_t *d, const char *name,
    const sd_diag_result_t *r, sd_diag_out_t *o);
static int sd_diag_under(const char *name, const char *zone);
static void sd_diag_found(json_t *found, const sd_dnsw_answer_t *a,
    const char *owner);
static void sd_diag_show(char *out, size_t outsz, const sd_dnsw_rr_t *rr);
static void sd_diag_cname(sd_diag_t *d, const char *name, const char *value,
    sd_diag_out_t *o);
static void sd_diag_mx(sd_diag_t *d, const char *name, const char *value,
    sd_diag_out_t *o);
static void sd_diag_txt(sd_diag_t *d, const char *group, const char *name,
    const char *value, sd_diag_out_t *o);
static void sd_diag_ownership(sd_diag_t *d, const char *name,
    const char *value, sd_diag_out_t *o);
static int sd_diag_txt_quoted(const sd_dnsw_rr_t *rr, const char *tag);
static int sd_diag_txt_split(const sd_dnsw_rr_t *rr);
static int sd_diag_starts(const char *s, size_t len, const char *tag);
static int sd_diag_spf_has_include(const char *s, size_t len);
static int sd_diag_close(const char *found, const char *want);


int
sd_diag_queries(const json_t *records, const char *domain,
    sd_diag_query_t *q, size_t max)
{
    size_t       i, n;
    json_t      *rec;
    const char  *type, *name;

    n = 0;

    if (!json_is_array(records) || domain == NULL) {
        return -1;
    }

    if (sd_diag_add(q, &n, max, domain, NULL, SD_DNS_T_SOA) != 0
        || sd_diag_add(q, &n, max, domain, NULL, SD_DNS_T_NS) != 0)
    {
        return -1;
    }

    json_array_foreach(records, i, rec) {
        type = json_string_value(json_object_get(rec, "type"));
        name = json_string_value(json_object_get(rec, "name"));

        if (type == NULL || name == NULL
            || !json_is_string(json_object_get(rec, "value")))
        {
            return -1;
        }

        if (strcmp(type, "CNAME") == 0) {
            if (sd_diag_add(q, &n, max, name, NULL, SD_DNS_T_A) != 0
                || sd_diag_add(q, &n, max, name, NULL, SD_DNS_T_AAAA) != 0
                || (sd_diag_prefix(name, domain)
                    && sd_diag_add(q, &n, max, name, domain, SD_DNS_T_A)
                       != 0))
            {
                return -1;
            }

            continue;
        }

        if (sd_dnsw_type_value(type) == 0
            || sd_diag_add(q, &n, max, name, NULL, sd_dnsw_type_value(type))
               != 0
            || (sd_diag_prefix(name, domain)
                && sd_diag_add(q, &n, max, name, domain,
                               sd_dnsw_type_value(type))
                   != 0))
        {
            return -1;
        }
    }

    return (int) n;
}


static int
sd_diag_add(sd_diag_query_t *q, size_t *n, size_t max, const char *name,
    const char *suffix, unsigned type)
{
    size_t  i;
    char    buf[SD_DNSW_NAME_MAX + 1];
    int     len;

    len = snprintf(buf, sizeof(buf), "%s%s%s", name, suffix ? "." : "",
                   suffix ? suffix : "");

    if (len < 0 || (size_t) len >= sizeof(buf)) {
        return -1;
    }

    for (i = 0; i < *n; i++) {
        if (q[i].type == type && strcmp(q[i].name, buf) == 0) {
            return 0;
        }
    }

    if (*n == max) {
        return -1;
    }

    memcpy(q[*n].name, buf, len + 1);
    q[*n].type = type;
    (*n)++;

    return 0;
}


json_t *
sd_diag_run(const json_t *records, const char *domain,
    const sd_diag_query_t *q, const sd_diag_result_t *res, size_t n)
{
    size_t          i, bad;
    json_t         *out, *list, *rec, *copy, *zone;
    sd_diag_t       d;
    const char     *type, *name, *value, *group, *requirement;
    sd_diag_out_t  *o;
    char            summary[SD_DIAG_TEXT_MAX];
    size_t          slen;

    if (!json_is_array(records) || domain == NULL) {
        return NULL;
    }

    o = malloc(sizeof(sd_diag_out_t));
    if (o == NULL) {
        return NULL;
    }

    d.domain = domain;
    d.q = q;
    d.res = res;
    d.n = n;
    d.zone = sd_diag_find(&d, domain, NULL, SD_DNS_T_SOA);
    d.zone_gone = d.zone->status == SD_DNSQ_ANSWER
                  && d.zone->answer->rcode == SD_DNS_RCODE_NXDOMAIN;

    out = json_object();
    list = json_array();
    zone = json_object();

    if (out == NULL || list == NULL || zone == NULL) {
        goto failed;
    }

    json_object_set_new(out, "identity", json_string(domain));
    json_object_set_new(zone, "name", json_string(domain));

    o->found = json_array();
    if (o->found == NULL) {
        goto failed;
    }

    if (d.zone_gone) {
        sd_diag_say(o, "missing", "zone_not_found",
            "DNS says the domain %s does not exist (NXDOMAIN): none of its "
            "records can be found. Check the spelling of the domain, that "
            "it is registered and not expired, and that its name servers "
            "at the registrar are those of your DNS provider.", domain);

    } else if (!sd_diag_failed(&d, d.zone, domain, o)) {
        sd_diag_found(o->found, d.zone->answer, domain);
        sd_diag_say(o, "ok", "match", "The domain %s exists in DNS.",
                    domain);
    }

    json_object_set_new(zone, "verdict", json_string(o->verdict));
    json_object_set_new(zone, "reason", json_string(o->reason));
    json_object_set_new(zone, "diagnosis", json_string(o->text));
    json_object_set_new(zone, "found", o->found);
    json_object_set_new(out, "zone", zone);
    zone = NULL;

    bad = 0;
    slen = 0;
    summary[0] = '\0';

    json_array_foreach(records, i, rec) {
        group = json_string_value(json_object_get(rec, "group"));
        requirement = json_string_value(json_object_get(rec,
                                                        "requirement"));
        type = json_string_value(json_object_get(rec, "type"));
        name = json_string_value(json_object_get(rec, "name"));
        value = json_string_value(json_object_get(rec, "value"));

        if (type == NULL || name == NULL || value == NULL) {
            goto failed;
        }

        o->found = json_array();
        if (o->found == NULL) {
            goto failed;
        }

        if (strcmp(type, "CNAME") == 0) {
            sd_diag_cname(&d, name, value, o);

        } else if (strcmp(type, "MX") == 0) {
            sd_diag_mx(&d, name, value, o);

        } else if (group && strcmp(group, "ownership") == 0) {
            sd_diag_ownership(&d, name, value, o);

        } else {
            sd_diag_txt(&d, group ? group : "", name, value, o);
        }

        copy = json_deep_copy(rec);
        if (copy == NULL) {
            json_decref(o->found);
            goto failed;
        }

        json_object_set_new(copy, "verdict", json_string(o->verdict));
        json_object_set_new(copy, "reason", json_string(o->reason));
        json_object_set_new(copy, "diagnosis", json_string(o->text));
        json_object_set_new(copy, "found", o->found);
        json_array_append_new(list, copy);

        if (strcmp(o->verdict, "ok") == 0
            || (strcmp(o->verdict, "missing") == 0 && requirement
                && strcmp(requirement, "optional") == 0))
        {
            continue;
        }

        if (slen < sizeof(summary) - 1) {
            slen += snprintf(summary + slen, sizeof(summary) - slen,
                             "%s%s %s: %s (%s)", bad ? "; " : "", type,
                             name, o->verdict, o->reason);
        }

        bad++;
    }

    if (slen >= sizeof(summary)) {
        slen = sizeof(summary) - 1;
        summary[slen] = '\0';
    }

    json_object_set_new(out, "verdict", json_string(bad ? "attention"
                                                        : "ok"));

    if (bad == 0) {
        json_object_set_new(out, "summary", json_string(
            "DNS shows every needed record as it should be."));

    } else {
        char  head[SD_DIAG_TEXT_MAX + 64];

        snprintf(head, sizeof(head), "%zu record%s need%s attention: %s.",
                 bad, bad == 1 ? "" : "s", bad == 1 ? "s" : "", summary);
        json_object_set_new(out, "summary", json_string(head));
    }

    json_object_set_new(out, "records", list);
    free(o);

    return out;

failed:

    free(o);
    json_decref(out);
    json_decref(list);
    json_decref(zone);

    return NULL;
}


static const sd_diag_result_t  sd_diag_no_result = { SD_DNSQ_ERROR, NULL };


static const sd_diag_result_t *
sd_diag_find(sd_diag_t *d, const char *name, const char *suffix,
    unsigned type)
{
    size_t  i, nlen, slen;

    nlen = strlen(name);
    slen = suffix ? strlen(suffix) : 0;

    for (i = 0; i < d->n; i++) {
        if (d->q[i].type != type) {
            continue;
        }

        if (suffix == NULL) {
            if (strcmp(d->q[i].name, name) != 0) {
                continue;
            }

        } else if (strlen(d->q[i].name) != nlen + 1 + slen
                   || strncmp(d->q[i].name, name, nlen) != 0
                   || d->q[i].name[nlen] != '.'
                   || strcmp(d->q[i].name + nlen + 1, suffix) != 0)
        {
            continue;
        }

        if (d->res[i].status == SD_DNSQ_ANSWER && d->res[i].answer == NULL) {
            return &sd_diag_no_result;
        }

        return &d->res[i];
    }

    return &sd_diag_no_result;
}


/* the length of "x" when name is "x.{domain}", else 0 */

static size_t
sd_diag_prefix(const char *name, const char *domain)
{
    size_t  nlen, dlen;

    nlen = strlen(name);
    dlen = strlen(domain);

    if (nlen <= dlen + 1 || name[nlen - dlen - 1] != '.'
        || strcmp(name + nlen - dlen, domain) != 0)
    {
        return 0;
    }

    return nlen - dlen - 1;
}


static void
sd_diag_say(sd_diag_out_t *o, const char *verdict, const char *reason,
    const char *fmt, ...)
{
    va_list  args;

    o->verdict = verdict;
    o->reason = reason;

    va_start(args, fmt);
    vsnprintf(o->text, sizeof(o->text), fmt, args);
    va_end(args);
}


/* a lookup that gave no usable answer: says why and returns 1 */

static int
sd_diag_failed(sd_diag_t *d, const sd_diag_result_t *r, const char *name,
    sd_diag_out_t *o)
{
    (void) d;

    if (r->status == SD_DNSQ_TIMEOUT) {
        sd_diag_say(o, "unknown", "timeout",
            "No DNS server answered for %s in time, so this record could "
            "not be checked. If this lasts, the domain's name servers may "
            "be unreachable; try again in a few minutes.", name);
        return 1;
    }

    if (r->status != SD_DNSQ_ANSWER) {
        sd_diag_say(o, "unknown", "resolver_error",
            "The DNS lookup of %s failed, so this record could not be "
            "checked; try again in a few minutes.", name);
        return 1;
    }

    if (r->answer->rcode == SD_DNS_RCODE_SERVFAIL) {
        sd_diag_say(o, "wrong", "servfail",
            "DNS servers fail to answer for %s (SERVFAIL): the zone is "
            "broken or its DNSSEC signatures do not validate, and mail "
            "servers cannot read it either. Ask your DNS provider to check "
            "the zone and its DNSSEC settings (a DS record left at the "
            "registrar after moving DNS elsewhere is a common cause).",
            name);
        return 1;
    }

    if (r->answer->rcode != SD_DNS_RCODE_NOERROR
        && r->answer->rcode != SD_DNS_RCODE_NXDOMAIN)
    {
        sd_diag_say(o, "unknown", "resolver_error",
            "The DNS server refused to look up %s (response code %u), so "
            "this record could not be checked.", name, r->answer->rcode);
        return 1;
    }

    return 0;
}


/*
 * Nothing of type at name: was it published under the doubled name, or is
 * the whole domain missing?  Says which and returns 1 when r failed or
 * when there is such an explanation; 0: plainly missing.
 */

static int
sd_diag_missing(sd_diag_t *d, const char *name, unsigned type,
    const sd_diag_result_t *r, sd_diag_out_t *o)
{
    size_t                   i, prefix;
    const sd_diag_result_t  *twice;
    char                     doubled[SD_DNSW_NAME_MAX * 2 + 2];

    prefix = sd_diag_prefix(name, d->domain);

    if (prefix) {
        twice = sd_diag_find(d, name, d->domain, type);
        snprintf(doubled, sizeof(doubled), "%s.%s", name, d->domain);

        if (twice->status == SD_DNSQ_ANSWER) {
            for (i = 0; i < twice->answer->nrr; i++) {
                if (strcmp(twice->answer->rr[i].owner, doubled) != 0) {
                    continue;
                }

                sd_diag_found(o->found, twice->answer, doubled);
                sd_diag_say(o, "wrong", "domain_appended_twice",
                    "The record was found at %s: the domain is in the name "
                    "twice, because your DNS provider adds \"%s\" to the "
                    "name by itself. Change the record's name to only "
                    "\"%.*s\".", doubled, d->domain, (int) prefix, name);
                return 1;
            }
        }
    }

    if (sd_diag_delegated(d, name, r, o)) {
        return 1;
    }

    if (d->zone_gone) {
        sd_diag_say(o, "missing", "zone_not_found",
            "DNS says the domain %s does not exist (NXDOMAIN), so %s cannot "
            "be found either. Check that the domain is registered and that "
            "its name servers at the registrar are those of your DNS "
            "provider, then add this record there.", d->domain, name);
        return 1;
    }

    return sd_diag_failed(d, r, name, o);
}


/*
 * A name not found whose answer came from a zone below the domain (a
 * negative answer's SOA, or a referral's NS): that part of the domain is
 * delegated to other name servers, so a record added where the domain is
 * managed is never seen.
 */

static int
sd_diag_delegated(sd_diag_t *d, const char *name, const sd_diag_result_t *r,
    sd_diag_out_t *o)
{
    size_t                   i, len;
    const char              *child;
    const sd_dnsw_answer_t  *a, *ns;
    const sd_diag_result_t  *apex;
    char                     theirs[SD_DNSW_AUTH_NS_MAX
                                    * (SD_DNSW_NAME_MAX + 2) + 1];
    char                     ours[SD_DNSW_RR_MAX * (SD_DNSW_NAME_MAX + 2)
                                  + 1];

    if (r == NULL || r->status != SD_DNSQ_ANSWER || r->answer == NULL) {
        return 0;
    }

    a = r->answer;
    child = a->auth_zone;

    if (child[0] == '\0' || a->rcode == SD_DNS_RCODE_SERVFAIL
        || strcmp(child, d->domain) == 0
        || !sd_diag_under(child, d->domain) || !sd_diag_under(name, child))
    {
        return 0;
    }

    theirs[0] = '\0';
    len = 0;

    for (i = 0; i < a->nauth_ns && len < sizeof(theirs) - 1; i++) {
        len += snprintf(theirs + len, sizeof(theirs) - len, "%s%s",
                        i ? ", " : "", a->auth_ns[i]);
    }

    ours[0] = '\0';
    len = 0;
    apex = sd_diag_find(d, d->domain, NULL, SD_DNS_T_NS);
    ns = apex->status == SD_DNSQ_ANSWER ? apex->answer : NULL;

    for (i = 0; ns && i < ns->nrr && len < sizeof(ours) - 1; i++) {
        if (ns->rr[i].type == SD_DNS_T_NS
            && strcmp(ns->rr[i].owner, d->domain) == 0)
        {
            len += snprintf(ours + len, sizeof(ours) - len, "%s%s",
                            len ? ", " : "", ns->rr[i].data);
        }
    }

    for (i = 0; i < a->nauth_ns; i++) {
        json_array_append_new(o->found, json_pack("s+", "NS ",
                                                  a->auth_ns[i]));
    }

    sd_diag_say(o, "wrong", "delegated_elsewhere",
        "%s%s%s is delegated to other name servers%s%s%s than %s%s%s%s: "
        "records added where %s is managed are not seen. Add this record "
        "at the DNS provider that serves %s, or remove the NS records of %s "
        "at your DNS provider so that all of %s is managed in one place.",
        strcmp(name, child) == 0 ? "" : name,
        strcmp(name, child) == 0 ? "" : " is under ", child,
        theirs[0] ? " (" : "", theirs, theirs[0] ? ")" : "",
        d->domain, ours[0] ? " (" : "", ours, ours[0] ? ")" : "",
        d->domain, child, child, d->domain);

    return 1;
}


/* name is zone or a name under it */

static int
sd_diag_under(const char *name, const char *zone)
{
    size_t  nlen, zlen;

    nlen = strlen(name);
    zlen = strlen(zone);

    if (nlen == zlen) {
        return strcmp(name, zone) == 0;
    }

    return nlen > zlen && name[nlen - zlen - 1] == '.'
           && strcmp(name + nlen - zlen, zone) == 0;
}


/* what DNS answered at owner, one string per record, for "found" */

static void
sd_diag_found(json_t *found, const sd_dnsw_answer_t *a, const char *owner)
{
    size_t  i;
    char    buf[SD_DNSW_DATA_MAX * 4 + 64];

    for (i = 0; a && i < a->nrr; i++) {
        if (strcmp(a->rr[i].owner, owner) != 0) {
            continue;
        }

        sd_diag_show(buf, sizeof(buf), &a->rr[i]);
        json_array_append_new(found, json_string(buf));
    }
}


/* a record as a zone file shows it: TXT strings quoted, bytes escaped */

static void
sd_diag_show(char *out, size_t outsz, const sd_dnsw_rr_t *rr)
{
    size_t         o, i, s, start;
    unsigned char  c;

    o = snprintf(out, outsz, "%s ", sd_dnsw_type_name(rr->type));

    if (rr->type == SD_DNS_T_MX) {
        o += snprintf(out + o, outsz - o, "%u ", rr->pref);
    }

    if (rr->type != SD_DNS_T_TXT) {
        snprintf(out + o, outsz - o, "%s", rr->data);
        return;
    }

    start = 0;

    for (s = 0; s < rr->nstrings && s < SD_DNSW_STRINGS_MAX; s++) {
        if (o + 2 >= outsz) {
            break;
        }

        if (s) {
            out[o++] = ' ';
        }

        out[o++] = '"';

        for (i = start; i < rr->ends[s] && o + 5 < outsz; i++) {
            c = (unsigned char) rr->data[i];

            if (c == '"' || c == '\\') {
                out[o++] = '\\';
                out[o++] = c;

            } else if (c < 0x20 || c >= 0x7f) {
                o += snprintf(out + o, outsz - o, "\\%03u", c);

            } else {
                out[o++] = c;
            }
        }

        if (o + 1 < outsz) {
            out[o++] = '"';
        }

        start = rr->ends[s];
    }

    out[o < outsz ? o : outsz - 1] = '\0';
}


static void
sd_diag_cname(sd_diag_t *d, const char *name, const char *value,
    sd_diag_out_t *o)
{
    size_t                   i, ncname, naddr;
    const sd_dnsw_rr_t      *rr, *cname;
    const sd_diag_result_t  *r, *six;
    const char              *dot;

    r = sd_diag_find(d, name, NULL, SD_DNS_T_A);

    ncname = 0;
    naddr = 0;
    cname = NULL;

    if (r->status == SD_DNSQ_ANSWER) {
        for (i = 0; i < r->answer->nrr; i++) {
            rr = &r->answer->rr[i];

            if (strcmp(rr->owner, name) != 0) {
                continue;
            }

            if (rr->type == SD_DNS_T_CNAME) {
                ncname++;
                cname = rr;

            } else if (rr->type == SD_DNS_T_A || rr->type == SD_DNS_T_AAAA) {
                naddr++;
            }
        }

        sd_diag_found(o->found, r->answer, name);
    }

    /* a flattened record may have only IPv6 addresses */
    six = sd_diag_find(d, name, NULL, SD_DNS_T_AAAA);

    if (ncname == 0 && six->status == SD_DNSQ_ANSWER) {
        for (i = 0; i < six->answer->nrr; i++) {
            rr = &six->answer->rr[i];

            if (rr->type == SD_DNS_T_AAAA && strcmp(rr->owner, name) == 0) {
                naddr++;
            }
        }

        if (naddr) {
            sd_diag_found(o->found, six->answer, name);
        }
    }

    if (ncname == 0 && naddr == 0) {
        if (sd_diag_missing(d, name, SD_DNS_T_A, r, o)) {
            return;
        }

        sd_diag_say(o, "missing", "not_found",
            "DNS has no record at %s. Add a CNAME record with this name "
            "pointing to %s.", name, value);
        return;
    }

    if (ncname == 0) {
        sd_diag_say(o, "wrong", "proxied",
            "DNS answers %s with IP addresses instead of a CNAME: your DNS "
            "provider proxies or flattens this record (Cloudflare's orange "
            "cloud, for one). Turn off the proxy for this record (\"DNS "
            "only\") so that it stays a CNAME pointing to %s.", name, value);
        return;
    }

    if (ncname > 1) {
        sd_diag_say(o, "conflict", "cname_multiple",
            "DNS answers %s with more than one CNAME, which is invalid. "
            "Keep only the one pointing to %s.", name, value);
        return;
    }

    if (strcmp(cname->data, value) == 0) {
        sd_diag_say(o, "ok", "match", "DNS shows %s pointing to %s, as it "
                    "should.", name, value);
        return;
    }

    if (strncmp(cname->data, value, strlen(value)) == 0
        && cname->data[strlen(value)] == '.'
        && strcmp(cname->data + strlen(value) + 1, d->domain) == 0)
    {
        sd_diag_say(o, "wrong", "value_domain_appended",
            "%s points to %s: your DNS provider added \"%s\" to the value. "
            "Enter the value with a final dot, \"%s.\", so that it is "
            "taken as a full name.", name, cname->data, d->domain, value);
        return;
    }

    if (sd_diag_close(cname->data, value)) {
        sd_diag_say(o, "wrong", "cname_typo",
            "%s points to %s, which looks like a mistyped or shortened copy "
            "of the value. Copy the value again: %s.", name, cname->data,
            value);
        return;
    }

    dot = strchr(value, '.');

    if (dot && strlen(cname->data) > strlen(dot)
        && strcmp(cname->data + strlen(cname->data) - strlen(dot), dot)
           == 0)
    {
        sd_diag_say(o, "wrong", "cname_other_token",
            "%s points to %s, another DKIM key than this identity's "
            "(perhaps from an earlier attempt). Change it to point to %s.",
            name, cname->data, value);
        return;
    }

    sd_diag_say(o, "wrong", "cname_elsewhere",
        "%s points to %s instead of %s. Change the CNAME to point to %s.",
        name, cname->data, value, value);
}


/*
 * A mistyped or cut copy: within 3 edits of the value, or its first part
 * (at least half of the value, as a cut copy-and-paste leaves it).
 */

static int
sd_diag_close(const char *found, const char *want)
{
    size_t       flen, wlen, fl, wl;
    const char  *dot;

    flen = strlen(found);
    wlen = strlen(want);

    if (flen < wlen && flen * 2 >= wlen && strncmp(found, want, flen) == 0) {
        return 1;
    }

    /* the first label (the token) cut short, with or without the rest */

    dot = strchr(found, '.');
    fl = dot ? (size_t) (dot - found) : flen;
    dot = strchr(want, '.');
    wl = dot ? (size_t) (dot - want) : wlen;

    if (fl < wl && fl * 2 >= wl && strncmp(found, want, fl) == 0
        && (fl == flen || strcmp(found + fl, want + wl) == 0))
    {
        return 1;
    }

    return sd_diag_distance(found, flen, want, wlen) <= 3;
}


size_t
sd_diag_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t  i, j, cost, best;
    size_t  prev[256], cur[256];

    if (alen > 255 || blen > 255) {
        return (size_t) -1;
    }

    for (j = 0; j <= blen; j++) {
        prev[j] = j;
    }

    for (i = 1; i <= alen; i++) {
        cur[0] = i;

        for (j = 1; j <= blen; j++) {
            cost = (a[i - 1] == b[j - 1]) ? 0 : 1;
            best = prev[j] + 1;

            if (cur[j - 1] + 1 < best) {
                best = cur[j - 1] + 1;
            }

            if (prev[j - 1] + cost < best) {
                best = prev[j - 1] + cost;
            }

            cur[j] = best;
        }

        memcpy(prev, cur, (blen + 1) * sizeof(size_t));
    }

    return prev[blen];
}


static void
sd_diag_mx(sd_diag_t *d, const char *name, const char *value,
    sd_diag_out_t *o)
{
    size_t                   i, nmx, nours;
    unsigned                 want_pref;
    const char              *host, *other;
    const sd_dnsw_rr_t      *rr, *ours;
    const sd_diag_result_t  *r;

    want_pref = (unsigned) strtoul(value, NULL, 10);
    host = strchr(value, ' ');
    host = host ? host + 1 : value;

    r = sd_diag_find(d, name, NULL, SD_DNS_T_MX);

    nmx = 0;
    nours = 0;
    ours = NULL;
    other = NULL;

    if (r->status == SD_DNSQ_ANSWER) {
        for (i = 0; i < r->answer->nrr; i++) {
            rr = &r->answer->rr[i];

            if (rr->type != SD_DNS_T_MX || strcmp(rr->owner, name) != 0) {
                continue;
            }

            nmx++;

            if (strcmp(rr->data, host) == 0) {
                nours++;
                ours = rr;

            } else if (other == NULL) {
                other = rr->data;
            }
        }

        sd_diag_found(o->found, r->answer, name);
    }

    if (nmx == 0) {
        if (sd_diag_missing(d, name, SD_DNS_T_MX, r, o)) {
            return;
        }

        sd_diag_say(o, "missing", "not_found",
            "DNS has no MX record at %s. Add an MX record with this name, "
            "priority %u and mail server %s.", name, want_pref, host);
        return;
    }

    if (nours && other) {
        sd_diag_say(o, "conflict", "mx_extra",
            "%s has a second MX record, %s, besides Amazon SES's: mail for "
            "this name would go there too, and Amazon SES needs the name "
            "for its own bounces. Remove the MX record pointing to %s, or "
            "choose another MAIL FROM name.", name, other, other);
        return;
    }

    if (nours) {
        if (ours->pref != want_pref) {
            sd_diag_say(o, "wrong", "mx_priority",
                "The MX record at %s points to %s with priority %u; set "
                "the priority to %u.", name, host, ours->pref, want_pref);
            return;
        }

        sd_diag_say(o, "ok", "match", "DNS shows the MX record %u %s at "
                    "%s, as it should.", want_pref, host, name);
        return;
    }

    if (nmx == 1 && sd_diag_close(other, host)) {
        sd_diag_say(o, "wrong", "mx_typo",
            "The MX record at %s points to %s, which looks like a mistyped "
            "copy of %s. Copy the value again: %s.", name, other, host,
            value);
        return;
    }

    sd_diag_say(o, "wrong", "mx_elsewhere",
        "The MX record at %s points to %s, not to Amazon SES. This name "
        "must be used only for Amazon SES's bounces: replace the MX record "
        "with %s, or choose another MAIL FROM name if %s receives other "
        "mail.", name, other, value, name);
}


static void
sd_diag_txt(sd_diag_t *d, const char *group, const char *name,
    const char *value, sd_diag_out_t *o)
{
    int                      dmarc;
    size_t                   i, ntxt, nours;
    const char              *tag;
    const sd_dnsw_rr_t      *rr, *ours, *quoted, *split;
    const sd_diag_result_t  *r;

    dmarc = (strcmp(group, "dmarc") == 0);
    tag = dmarc ? "v=DMARC1" : "v=spf1";

    r = sd_diag_find(d, name, NULL, SD_DNS_T_TXT);

    ntxt = 0;
    nours = 0;
    ours = NULL;
    quoted = NULL;
    split = NULL;

    if (r->status == SD_DNSQ_ANSWER) {
        for (i = 0; i < r->answer->nrr; i++) {
            rr = &r->answer->rr[i];

            if (rr->type != SD_DNS_T_TXT || strcmp(rr->owner, name) != 0) {
                continue;
            }

            ntxt++;

            if (sd_diag_starts(rr->data, rr->data_len, tag)) {
                nours++;
                ours = rr;

                if (!dmarc && sd_diag_txt_split(rr)) {
                    split = rr;
                }

            } else if (!dmarc && rr->nstrings > 1
                       && rr->data_len >= strlen(tag)
                       && strncasecmp(rr->data, tag, strlen(tag)) == 0
                       && sd_diag_txt_split(rr))
            {
                /* "v=spf1" "include:…" joined: "v=spf1include:…" */
                nours++;
                ours = rr;
                split = rr;

            } else if (sd_diag_txt_quoted(rr, tag)) {
                quoted = rr;
            }
        }

        sd_diag_found(o->found, r->answer, name);
    }

    if (nours == 0 && quoted) {
        sd_diag_say(o, "wrong", "txt_extra_quotes",
            "The TXT record at %s has quotation marks inside its value, so "
            "mail servers do not recognise it. Your DNS provider adds the "
            "quotes by itself: enter the value without them: %s", name,
            value);
        return;
    }

    if (nours > 1) {
        if (dmarc) {
            sd_diag_say(o, "conflict", "dmarc_multiple",
                "%s has %zu DMARC records; with more than one, mail "
                "servers ignore them all. Keep exactly one (yours, if you "
                "had one before) and delete the others.", name, nours);

        } else {
            sd_diag_say(o, "conflict", "spf_multiple",
                "%s has %zu SPF records (TXT starting with v=spf1); with "
                "more than one, SPF fails for all mail. Merge them into one "
                "record that contains %s, and delete the others.", name,
                nours, SD_DIAG_SPF_INCLUDE);
        }

        return;
    }

    if (nours == 0) {
        if (sd_diag_missing(d, name, SD_DNS_T_TXT, r, o)) {
            return;
        }

        if (dmarc && ntxt) {
            sd_diag_say(o, "wrong", "dmarc_invalid",
                "The TXT record at %s is not a DMARC record (it must start "
                "with v=DMARC1). Replace it with a TXT record with the "
                "value %s", name, value);

        } else if (dmarc) {
            sd_diag_say(o, "missing", "not_found",
                "DNS has no DMARC record at %s. It is optional but "
                "recommended: add a TXT record with this name and the "
                "value %s", name, value);

        } else {
            sd_diag_say(o, "missing", "not_found",
                "DNS has no SPF record at %s. Add a TXT record with this "
                "name and the value %s", name, value);
        }

        return;
    }

    if (split) {
        sd_diag_say(o, "wrong", "txt_split",
            "The SPF record at %s is split into several strings that run "
            "together without spaces (mail servers join them as they are). "
            "Enter the value as one piece: %s", name, value);
        return;
    }

    if (dmarc) {
        if (ours->data_len == strlen(value)
            && strncasecmp(ours->data, value, ours->data_len) == 0)
        {
            sd_diag_say(o, "ok", "match", "DNS shows the DMARC record at "
                        "%s, as it should.", name);

        } else {
            sd_diag_say(o, "ok", "dmarc_present",
                "%s already has a DMARC record of your own: keep yours, "
                "there is nothing to add.", name);
        }

        return;
    }

    if (!sd_diag_spf_has_include(ours->data, ours->data_len)) {
        sd_diag_say(o, "wrong", "spf_missing_include",
            "The SPF record at %s does not allow Amazon SES: add %s to it "
            "(before the final ~all or -all), for example: %s", name,
            SD_DIAG_SPF_INCLUDE, value);
        return;
    }

    sd_diag_say(o, "ok", "match", "DNS shows an SPF record at %s that "
                "includes Amazon SES, as it should.", name);
}


/*
 * The ownership proof's TXT record (sd_ownership.h): found with this
 * workspace's token, missing, or present with another value (a typo, an
 * earlier attempt's token, or another workspace's).
 */

static void
sd_diag_ownership(sd_diag_t *d, const char *name, const char *value,
    sd_diag_out_t *o)
{
    int                      quoted;
    const char              *token;
    sd_own_verdict_e         v;
    const sd_diag_result_t  *r;

    token = value + sizeof(SD_OWN_PREFIX) - 1;

    if (strncmp(value, SD_OWN_PREFIX, sizeof(SD_OWN_PREFIX) - 1) != 0) {
        token = value;
    }

    r = sd_diag_find(d, name, NULL, SD_DNS_T_TXT);

    if (r->status == SD_DNSQ_ANSWER) {
        sd_diag_found(o->found, r->answer, name);
    }

    v = sd_own_check(r->status == SD_DNSQ_ANSWER ? r->answer : NULL, name,
                     token, &quoted);

    if (v == SD_OWN_FOUND) {
        if (quoted) {
            sd_diag_say(o, "ok", "txt_extra_quotes",
                "DNS shows the ownership record at %s, with quotation marks "
                "inside its value; it proves control all the same (you may "
                "remove the quotes).", name);
            return;
        }

        sd_diag_say(o, "ok", "match", "DNS shows the ownership record at "
                    "%s, as it should.", name);
        return;
    }

    if (v == SD_OWN_WRONG) {
        sd_diag_say(o, "wrong", "ownership_token_mismatch",
            "The TXT record at %s carries another sd-verify value than the "
            "one made for your workspace (a typo, or a value copied from "
            "elsewhere). Change it to exactly: %s", name, value);
        return;
    }

    if (sd_diag_missing(d, name, SD_DNS_T_TXT, r, o)) {
        return;
    }

    sd_diag_say(o, "missing", "not_found",
        "DNS has no ownership record at %s yet. Add a TXT record with this "
        "name and the value %s; until then the sender does not count as "
        "verified for your workspace.", name, value);
}


/* s starts with tag (any case), followed by a space, ';' or the end */

static int
sd_diag_starts(const char *s, size_t len, const char *tag)
{
    size_t  tlen;

    tlen = strlen(tag);

    return len >= tlen && strncasecmp(s, tag, tlen) == 0
           && (len == tlen || s[tlen] == ' ' || s[tlen] == ';');
}


/* the value starts with quotes (or an escaped quote) before the tag */

static int
sd_diag_txt_quoted(const sd_dnsw_rr_t *rr, const char *tag)
{
    size_t  skip;

    skip = 0;

    while (skip < rr->data_len
           && (rr->data[skip] == '"' || rr->data[skip] == '\\'
               || rr->data[skip] == '\''))
    {
        skip++;
    }

    return skip && sd_diag_starts(rr->data + skip, rr->data_len - skip, tag);
}


/* strings joined where neither side has a space: words run together */

static int
sd_diag_txt_split(const sd_dnsw_rr_t *rr)
{
    size_t  s, at;

    for (s = 0; s + 1 < rr->nstrings && s < SD_DNSW_STRINGS_MAX; s++) {
        at = rr->ends[s];

        if (at == 0 || at >= rr->data_len) {
            continue;
        }

        if (rr->data[at - 1] != ' ' && rr->data[at] != ' ') {
            return 1;
        }
    }

    return 0;
}


static int
sd_diag_spf_has_include(const char *s, size_t len)
{
    size_t  i, start, tlen;

    tlen = sizeof(SD_DIAG_SPF_INCLUDE) - 1;

    for (i = 0; i < len; ) {
        while (i < len && s[i] == ' ') {
            i++;
        }

        start = i;

        while (i < len && s[i] != ' ') {
            i++;
        }

        if (start < i && s[start] == '+') {
            start++;
        }

        if (i - start == tlen
            && strncasecmp(s + start, SD_DIAG_SPF_INCLUDE, tlen) == 0)
        {
            return 1;
        }
    }

    return 0;
}


int
sd_diag_hint_due(const json_t *row, int64_t now, int64_t after)
{
    int64_t      created;
    const char  *kind, *dkim, *mf, *at;

    kind = sd_row_str(row, "kind");
    dkim = sd_row_str(row, "dkim_status");
    mf = sd_row_str(row, "mail_from_status");
    at = sd_row_str(row, "created_at");

    if (at == NULL || sd_time_parse(at, strlen(at), &created) != 0) {
        return 0;
    }

    if (!sd_row_is_domain(row) || kind == NULL || strcmp(kind, "managed") != 0
        || !sd_row_in_state(row, SD_STATE_READY) || created <= 0)
    {
        return 0;
    }

    if (!(dkim && strcmp(dkim, "pending") == 0)
        && !(mf && strcmp(mf, "pending") == 0))
    {
        return 0;
    }

    return now - created >= after;
}


static int
sd_diag_hint_problem(json_t *problems, const json_t *rec, const char *type,
    const char *name)
{
    const char  *verdict, *requirement;

    verdict = json_string_value(json_object_get(rec, "verdict"));
    requirement = json_string_value(json_object_get(rec, "requirement"));

    if (verdict == NULL || strcmp(verdict, "ok") == 0
        || (strcmp(verdict, "missing") == 0 && requirement
            && strcmp(requirement, "optional") == 0))
    {
        return 0;
    }

    return json_array_append_new(problems, json_pack("{s:s,s:s?,s:s,s:O,s:O}",
               "type", type, "name", name, "verdict", verdict,
               "reason", json_object_get(rec, "reason"),
               "diagnosis", json_object_get(rec, "diagnosis")));
}


json_t *
sd_diag_hint(const json_t *diag, int64_t now)
{
    size_t        i;
    json_t       *hint, *problems, *rec, *zone;
    const char   *verdict, *summary;

    verdict = json_string_value(json_object_get(diag, "verdict"));
    summary = json_string_value(json_object_get(diag, "summary"));

    if (verdict == NULL || summary == NULL) {
        return NULL;
    }

    problems = json_array();
    hint = json_pack("{s:s,s:s}", "verdict", verdict, "summary", summary);

    if (problems == NULL || hint == NULL) {
        json_decref(problems);
        json_decref(hint);
        return NULL;
    }

    sd_row_set_time(hint, "checked_at", now);

    zone = json_object_get(diag, "zone");

    if (zone && sd_diag_hint_problem(problems, zone, "zone",
                    json_string_value(json_object_get(zone, "name")))
                != 0)
    {
        goto failed;
    }

    json_array_foreach(json_object_get(diag, "records"), i, rec) {
        if (sd_diag_hint_problem(problems, rec,
                json_string_value(json_object_get(rec, "type")),
                json_string_value(json_object_get(rec, "name")))
            != 0)
        {
            goto failed;
        }
    }

    if (json_object_set_new(hint, "problems", problems) != 0) {
        json_decref(hint);
        return NULL;
    }

    return hint;

failed:

    json_decref(problems);
    json_decref(hint);
    return NULL;
}
