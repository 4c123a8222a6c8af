/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: sd_dnswire.c (DNS answers in wire
 * format) and sd_diagnose.c (the verdicts).
 *
 * Answers are built byte by byte here, as a DNS server sends them; the
 * same scenarios run against a real server (Knot) in t/090-t/093.
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sd_dns.h"
#include "sd_diagnose.h"
#include "sd_row.h"


#define STR(lit)  { sizeof(lit) - 1, lit }

#define TOKEN1  "abcdefghijklmnopqrstuvwxyz234567"
#define TOKEN2  "bbcdefghijklmnopqrstuvwxyz234567"
#define TOKEN3  "cbcdefghijklmnopqrstuvwxyz234567"


typedef struct {
    unsigned char  b[4096];
    size_t         len;
    size_t         an_at;
} msg_t;


static void
put(msg_t *m, const void *p, size_t n)
{
    assert_true(m->len + n <= sizeof(m->b));
    memcpy(m->b + m->len, p, n);
    m->len += n;
}


static void
put16(msg_t *m, unsigned v)
{
    unsigned char  b[2] = { v >> 8, v & 0xff };

    put(m, b, 2);
}


static void
put32(msg_t *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}


static void
put_name(msg_t *m, const char *name)
{
    const char     *dot;
    unsigned char   n;

    while (*name) {
        dot = strchr(name, '.');
        n = dot ? (unsigned char) (dot - name) : (unsigned char) strlen(name);
        put(m, &n, 1);
        put(m, name, n);
        name += n + (dot ? 1 : 0);
    }

    n = 0;
    put(m, &n, 1);
}


/* a response header and the question; answers are counted by rr() */

static void
start(msg_t *m, unsigned rcode, const char *qname, unsigned qtype)
{
    memset(m, 0, sizeof(msg_t));
    put16(m, 0x1234);
    put16(m, 0x8180 | rcode);
    put16(m, 1);
    put16(m, 0);
    put16(m, 0);
    put16(m, 0);
    put_name(m, qname);
    put16(m, qtype);
    put16(m, 1);
}


static void
rr_begin(msg_t *m, const char *owner, unsigned type, size_t *rdlen_at)
{
    unsigned  an;

    an = (m->b[6] << 8) | m->b[7];
    an++;
    m->b[6] = an >> 8;
    m->b[7] = an & 0xff;

    put_name(m, owner);
    put16(m, type);
    put16(m, 1);
    put32(m, 300);
    *rdlen_at = m->len;
    put16(m, 0);
}


static void
rr_end(msg_t *m, size_t rdlen_at)
{
    size_t  n = m->len - rdlen_at - 2;

    m->b[rdlen_at] = n >> 8;
    m->b[rdlen_at + 1] = n & 0xff;
}


static void
rr_name(msg_t *m, const char *owner, unsigned type, const char *target)
{
    size_t  at;

    rr_begin(m, owner, type, &at);
    put_name(m, target);
    rr_end(m, at);
}


static void
rr_mx(msg_t *m, const char *owner, unsigned pref, const char *host)
{
    size_t  at;

    rr_begin(m, owner, SD_DNS_T_MX, &at);
    put16(m, pref);
    put_name(m, host);
    rr_end(m, at);
}


static void
rr_a(msg_t *m, const char *owner, unsigned char a, unsigned char b)
{
    size_t         at;
    unsigned char  ip[4] = { 104, 16, a, b };

    rr_begin(m, owner, SD_DNS_T_A, &at);
    put(m, ip, 4);
    rr_end(m, at);
}


/* a TXT record of NULL-terminated strings */

static void
rr_txt(msg_t *m, const char *owner, ...)
{
    size_t         at;
    va_list        args;
    const char    *s;
    unsigned char  n;

    rr_begin(m, owner, SD_DNS_T_TXT, &at);
    va_start(args, owner);

    while ((s = va_arg(args, const char *)) != NULL) {
        n = (unsigned char) strlen(s);
        put(m, &n, 1);
        put(m, s, n);
    }

    va_end(args);
    rr_end(m, at);
}


/* ---- the parser --------------------------------------------------------- */


static void
test_parse_cname_compressed(void **state)
{
    msg_t             m;
    sd_dnsw_answer_t  a;
    unsigned char     ptr[2] = { 0xc0, 0x0c };
    size_t            at;
    unsigned          an;

    (void) state;

    start(&m, 0, "X._DomainKey.Acme.com", SD_DNS_T_A);

    /* the owner as a pointer to the question, the target partly too */
    an = 1;
    m.b[7] = an;
    put(&m, ptr, 2);
    put16(&m, SD_DNS_T_CNAME);
    put16(&m, 1);
    put32(&m, 60);
    at = m.len;
    put16(&m, 0);
    put(&m, "\x03" "abc", 4);
    ptr[1] = 0x0c + 2 + 11;         /* "acme.com" in the question */
    put(&m, ptr, 2);
    rr_end(&m, at);

    assert_int_equal(sd_dnsw_parse(m.b, m.len, &a), 0);
    assert_int_equal(a.rcode, 0);
    assert_int_equal(a.nrr, 1);
    assert_int_equal(a.rr[0].type, SD_DNS_T_CNAME);
    assert_int_equal(a.rr[0].ttl, 60);
    assert_string_equal(a.rr[0].owner, "x._domainkey.acme.com");
    assert_string_equal(a.rr[0].data, "abc.acme.com");
}


static void
test_parse_txt_strings(void **state)
{
    msg_t             m;
    sd_dnsw_answer_t  a;

    (void) state;

    start(&m, 0, "pmail.acme.com", SD_DNS_T_TXT);
    rr_txt(&m, "pmail.acme.com", "v=spf1", " include:amazonses.com", NULL);

    assert_int_equal(sd_dnsw_parse(m.b, m.len, &a), 0);
    assert_int_equal(a.nrr, 1);
    assert_int_equal(a.rr[0].nstrings, 2);
    assert_int_equal(a.rr[0].ends[0], 6);
    assert_string_equal(a.rr[0].data, "v=spf1 include:amazonses.com");
}


static void
test_parse_negative(void **state)
{
    msg_t             m;
    sd_dnsw_answer_t  a;
    size_t            at;

    (void) state;

    start(&m, SD_DNS_RCODE_NXDOMAIN, "nope.acme.com", SD_DNS_T_A);

    /* an authority SOA: minimum 30 under a TTL of 300 */
    m.b[9] = 1;
    put_name(&m, "acme.com");
    put16(&m, SD_DNS_T_SOA);
    put16(&m, 1);
    put32(&m, 300);
    at = m.len;
    put16(&m, 0);
    put_name(&m, "ns.acme.com");
    put_name(&m, "admin.acme.com");
    put32(&m, 1);
    put32(&m, 2);
    put32(&m, 3);
    put32(&m, 4);
    put32(&m, 30);
    rr_end(&m, at);

    assert_int_equal(sd_dnsw_parse(m.b, m.len, &a), 0);
    assert_int_equal(a.rcode, SD_DNS_RCODE_NXDOMAIN);
    assert_int_equal(a.nrr, 0);
    assert_true(a.has_soa);
    assert_int_equal(a.negative_ttl, 30);
}


static void
test_parse_refused_input(void **state)
{
    msg_t             m;
    sd_dnsw_answer_t  a;
    unsigned char     loop[2] = { 0xc0, 0x0c };

    (void) state;

    /* short, a query rather than a response */
    start(&m, 0, "acme.com", SD_DNS_T_A);
    assert_int_equal(sd_dnsw_parse(m.b, 5, &a), -1);
    m.b[2] &= 0x7f;
    assert_int_equal(sd_dnsw_parse(m.b, m.len, &a), -1);

    /* a record running past the end */
    start(&m, 0, "acme.com", SD_DNS_T_A);
    rr_a(&m, "acme.com", 1, 1);
    assert_int_equal(sd_dnsw_parse(m.b, m.len - 1, &a), -1);

    /* a pointer to itself (forwards or onto itself: refused) */
    start(&m, 0, "acme.com", SD_DNS_T_A);
    m.b[7] = 1;
    loop[1] = (unsigned char) m.len;
    put(&m, loop, 2);
    assert_int_equal(sd_dnsw_parse(m.b, m.len, &a), -1);

    /* an A record of 3 bytes */
    start(&m, 0, "acme.com", SD_DNS_T_A);
    {
        size_t  at;

        rr_begin(&m, "acme.com", SD_DNS_T_A, &at);
        put(&m, "\1\2\3", 3);
        rr_end(&m, at);
    }
    assert_int_equal(sd_dnsw_parse(m.b, m.len, &a), -1);
}


static void
test_distance(void **state)
{
    (void) state;

    assert_int_equal(sd_diag_distance("kitten", 6, "sitting", 7), 3);
    assert_int_equal(sd_diag_distance("abc", 3, "abc", 3), 0);
    assert_int_equal(sd_diag_distance("", 0, "abc", 3), 3);
    assert_int_equal(sd_diag_distance("ab", 2, "ba", 2), 2);
}


/* ---- the diagnosis ------------------------------------------------------ */


typedef struct {
    json_t            *records;
    sd_diag_query_t    q[SD_DIAG_QUERIES_MAX];
    sd_diag_result_t   res[SD_DIAG_QUERIES_MAX];
    sd_dnsw_answer_t   ans[SD_DIAG_QUERIES_MAX];
    int                n;
    json_t            *out;
} diag_t;


static const sd_str_t  acme = STR("acme.com");
static const sd_str_t  tokens[] = { STR(TOKEN1), STR(TOKEN2), STR(TOKEN3) };
static const sd_str_t  pmail = STR("pmail.acme.com");
static const sd_str_t  region = STR("us-east-1");


/* every lookup answered NOERROR, empty, unless set() says otherwise */

static diag_t *
diag_new(void)
{
    int      i;
    msg_t    m;
    diag_t  *d;

    d = calloc(1, sizeof(diag_t));
    d->records = sd_dns_records(&acme, tokens, 3, NULL, &pmail, &region, 0);
    assert_non_null(d->records);

    d->n = sd_diag_queries(d->records, "acme.com", d->q, SD_DIAG_QUERIES_MAX);
    assert_int_equal(d->n, 17);         /* SOA and NS at the domain, 15 */

    for (i = 0; i < d->n; i++) {
        start(&m, 0, d->q[i].name, d->q[i].type);
        assert_int_equal(sd_dnsw_parse(m.b, m.len, &d->ans[i]), 0);
        d->res[i].status = SD_DNSQ_ANSWER;
        d->res[i].answer = &d->ans[i];
    }

    return d;
}


static void
set(diag_t *d, const char *name, unsigned type, msg_t *m)
{
    int  i;

    for (i = 0; i < d->n; i++) {
        if (d->q[i].type == type && strcmp(d->q[i].name, name) == 0) {
            assert_int_equal(sd_dnsw_parse(m->b, m->len, &d->ans[i]), 0);
            return;
        }
    }

    fail_msg("no lookup of %s type %u", name, type);
}


static void
set_status(diag_t *d, sd_dnsq_status_e st)
{
    int  i;

    for (i = 0; i < d->n; i++) {
        d->res[i].status = st;
    }
}


static json_t *
record(diag_t *d, size_t i)
{
    if (d->out == NULL) {
        d->out = sd_diag_run(d->records, "acme.com", d->q, d->res, d->n);
        assert_non_null(d->out);
    }

    return json_array_get(json_object_get(d->out, "records"), i);
}


static void
expect(diag_t *d, size_t i, const char *verdict, const char *reason)
{
    json_t  *r = record(d, i);

    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "verdict")),
                        verdict);
    assert_string_equal(json_string_value(json_object_get(r, "reason")),
                        reason);
}


static void
diag_free(diag_t *d)
{
    json_decref(d->out);
    json_decref(d->records);
    free(d);
}


static void
test_all_ok(void **state)
{
    msg_t    m;
    diag_t  *d;

    (void) state;

    d = diag_new();

    start(&m, 0, TOKEN1 "._domainkey.acme.com", SD_DNS_T_A);
    rr_name(&m, TOKEN1 "._domainkey.acme.com", SD_DNS_T_CNAME,
            TOKEN1 ".dkim.amazonses.com");
    set(d, TOKEN1 "._domainkey.acme.com", SD_DNS_T_A, &m);

    start(&m, 0, TOKEN2 "._domainkey.acme.com", SD_DNS_T_A);
    rr_name(&m, TOKEN2 "._domainkey.acme.com", SD_DNS_T_CNAME,
            TOKEN2 ".dkim.amazonses.com");
    set(d, TOKEN2 "._domainkey.acme.com", SD_DNS_T_A, &m);

    start(&m, 0, TOKEN3 "._domainkey.acme.com", SD_DNS_T_A);
    rr_name(&m, TOKEN3 "._domainkey.acme.com", SD_DNS_T_CNAME,
            TOKEN3 ".dkim.amazonses.com");
    set(d, TOKEN3 "._domainkey.acme.com", SD_DNS_T_A, &m);

    start(&m, 0, "pmail.acme.com", SD_DNS_T_MX);
    rr_mx(&m, "pmail.acme.com", 10, "feedback-smtp.us-east-1.amazonses.com");
    set(d, "pmail.acme.com", SD_DNS_T_MX, &m);

    start(&m, 0, "pmail.acme.com", SD_DNS_T_TXT);
    rr_txt(&m, "pmail.acme.com", "v=spf1 include:amazonses.com ~all", NULL);
    rr_txt(&m, "pmail.acme.com", "google-site-verification=x", NULL);
    set(d, "pmail.acme.com", SD_DNS_T_TXT, &m);

    start(&m, 0, "_dmarc.acme.com", SD_DNS_T_TXT);
    rr_txt(&m, "_dmarc.acme.com", "v=DMARC1; p=none;", NULL);
    set(d, "_dmarc.acme.com", SD_DNS_T_TXT, &m);

    expect(d, 0, "ok", "match");
    expect(d, 1, "ok", "match");
    expect(d, 2, "ok", "match");
    expect(d, 3, "ok", "match");
    expect(d, 4, "ok", "match");
    expect(d, 5, "ok", "match");
    assert_string_equal(json_string_value(json_object_get(d->out, "verdict")),
                        "ok");

    diag_free(d);
}


static void
test_dkim_mistakes(void **state)
{
    msg_t    m;
    diag_t  *d;
    json_t  *r;

    (void) state;

    d = diag_new();

    /* 1: published with the domain twice */
    start(&m, 0, TOKEN1 "._domainkey.acme.com.acme.com", SD_DNS_T_A);
    rr_name(&m, TOKEN1 "._domainkey.acme.com.acme.com", SD_DNS_T_CNAME,
            TOKEN1 ".dkim.amazonses.com");
    set(d, TOKEN1 "._domainkey.acme.com.acme.com", SD_DNS_T_A, &m);

    /* 2: flattened by a proxy */
    start(&m, 0, TOKEN2 "._domainkey.acme.com", SD_DNS_T_A);
    rr_a(&m, TOKEN2 "._domainkey.acme.com", 1, 1);
    set(d, TOKEN2 "._domainkey.acme.com", SD_DNS_T_A, &m);

    /* 3: two characters swapped */
    start(&m, 0, TOKEN3 "._domainkey.acme.com", SD_DNS_T_A);
    rr_name(&m, TOKEN3 "._domainkey.acme.com", SD_DNS_T_CNAME,
            "bccdefghijklmnopqrstuvwxyz234567.dkim.amazonses.com");
    set(d, TOKEN3 "._domainkey.acme.com", SD_DNS_T_A, &m);

    expect(d, 0, "wrong", "domain_appended_twice");
    expect(d, 1, "wrong", "proxied");
    expect(d, 2, "wrong", "cname_typo");

    r = record(d, 0);
    assert_non_null(strstr(json_string_value(json_object_get(r, "diagnosis")),
                           "Change the record's name to only \"" TOKEN1
                           "._domainkey\"."));
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(r, "found"), 0)),
                        "CNAME " TOKEN1 ".dkim.amazonses.com");

    /* the rest is missing; DMARC missing does not count */
    expect(d, 3, "missing", "not_found");
    expect(d, 5, "missing", "not_found");
    assert_non_null(strstr(json_string_value(json_object_get(d->out,
                                                             "summary")),
                           "5 records need attention"));

    diag_free(d);
}


static void
test_mail_from_mistakes(void **state)
{
    msg_t    m;
    diag_t  *d;

    (void) state;

    d = diag_new();

    start(&m, 0, "pmail.acme.com", SD_DNS_T_MX);
    rr_mx(&m, "pmail.acme.com", 10, "feedback-smtp.us-east-1.amazonses.com");
    rr_mx(&m, "pmail.acme.com", 5, "mx.example.net");
    set(d, "pmail.acme.com", SD_DNS_T_MX, &m);

    start(&m, 0, "pmail.acme.com", SD_DNS_T_TXT);
    rr_txt(&m, "pmail.acme.com", "v=spf1", "include:amazonses.com", "~all",
           NULL);
    set(d, "pmail.acme.com", SD_DNS_T_TXT, &m);

    expect(d, 3, "conflict", "mx_extra");
    expect(d, 4, "wrong", "txt_split");

    diag_free(d);

    d = diag_new();

    start(&m, 0, "pmail.acme.com", SD_DNS_T_MX);
    rr_mx(&m, "pmail.acme.com", 20, "feedback-smtp.us-east-1.amazonses.com");
    set(d, "pmail.acme.com", SD_DNS_T_MX, &m);

    start(&m, 0, "pmail.acme.com", SD_DNS_T_TXT);
    rr_txt(&m, "pmail.acme.com", "v=spf1 include:amazonses.com ~all", NULL);
    rr_txt(&m, "pmail.acme.com", "v=spf1 mx -all", NULL);
    set(d, "pmail.acme.com", SD_DNS_T_TXT, &m);

    start(&m, 0, "_dmarc.acme.com", SD_DNS_T_TXT);
    rr_txt(&m, "_dmarc.acme.com", "v=DMARC1; p=reject", NULL);
    set(d, "_dmarc.acme.com", SD_DNS_T_TXT, &m);

    expect(d, 3, "wrong", "mx_priority");
    expect(d, 4, "conflict", "spf_multiple");
    expect(d, 5, "ok", "dmarc_present");

    diag_free(d);

    d = diag_new();

    start(&m, 0, "pmail.acme.com", SD_DNS_T_TXT);
    rr_txt(&m, "pmail.acme.com", "\"v=spf1 include:amazonses.com ~all\"",
           NULL);
    set(d, "pmail.acme.com", SD_DNS_T_TXT, &m);

    start(&m, 0, "_dmarc.acme.com", SD_DNS_T_TXT);
    rr_txt(&m, "_dmarc.acme.com", "v=DMARC1; p=reject", NULL);
    rr_txt(&m, "_dmarc.acme.com", "v=DMARC1; p=none", NULL);
    set(d, "_dmarc.acme.com", SD_DNS_T_TXT, &m);

    expect(d, 4, "wrong", "txt_extra_quotes");
    expect(d, 5, "conflict", "dmarc_multiple");

    diag_free(d);

    d = diag_new();

    start(&m, 0, "pmail.acme.com", SD_DNS_T_TXT);
    rr_txt(&m, "pmail.acme.com", "v=spf1 include:_spf.google.com ~all", NULL);
    set(d, "pmail.acme.com", SD_DNS_T_TXT, &m);

    expect(d, 4, "wrong", "spf_missing_include");

    diag_free(d);
}


static void
test_zone_and_failures(void **state)
{
    msg_t    m;
    diag_t  *d;

    (void) state;

    d = diag_new();
    start(&m, SD_DNS_RCODE_NXDOMAIN, "acme.com", SD_DNS_T_SOA);
    set(d, "acme.com", SD_DNS_T_SOA, &m);

    expect(d, 0, "missing", "zone_not_found");
    expect(d, 5, "missing", "zone_not_found");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(d->out, "zone"), "reason")),
                        "zone_not_found");
    diag_free(d);

    d = diag_new();
    set_status(d, SD_DNSQ_TIMEOUT);
    expect(d, 0, "unknown", "timeout");
    expect(d, 4, "unknown", "timeout");
    diag_free(d);

    d = diag_new();
    set_status(d, SD_DNSQ_ERROR);
    expect(d, 3, "unknown", "resolver_error");
    diag_free(d);

    d = diag_new();
    start(&m, SD_DNS_RCODE_SERVFAIL, "pmail.acme.com", SD_DNS_T_MX);
    set(d, "pmail.acme.com", SD_DNS_T_MX, &m);
    expect(d, 3, "wrong", "servfail");
    diag_free(d);
}


/* an authority section: a referral's NS, or a negative answer's SOA */
static void
authority(msg_t *m, const char *owner, unsigned type, const char *target)
{
    size_t  at;

    m->b[9]++;
    put_name(m, owner);
    put16(m, type);
    put16(m, 1);
    put32(m, 300);
    at = m->len;
    put16(m, 0);
    put_name(m, target);

    if (type == SD_DNS_T_SOA) {
        put_name(m, "admin.example");
        put32(m, 1);
        put32(m, 2);
        put32(m, 3);
        put32(m, 4);
        put32(m, 30);
    }

    rr_end(m, at);
}


/* the MAIL FROM name delegated to another provider than the domain's */
static void
test_delegated(void **state)
{
    msg_t        m;
    diag_t      *d;
    json_t      *r;
    const char  *text;

    (void) state;

    d = diag_new();

    /* the domain's own name servers */
    start(&m, 0, "acme.com", SD_DNS_T_NS);
    rr_name(&m, "acme.com", SD_DNS_T_NS, "ns1.provider.example");
    rr_name(&m, "acme.com", SD_DNS_T_NS, "ns2.provider.example");
    set(d, "acme.com", SD_DNS_T_NS, &m);

    /* an authoritative server refers the MX lookup to the child zone */
    start(&m, 0, "pmail.acme.com", SD_DNS_T_MX);
    authority(&m, "pmail.acme.com", SD_DNS_T_NS, "ns1.other.example");
    authority(&m, "pmail.acme.com", SD_DNS_T_NS, "ns2.other.example");
    set(d, "pmail.acme.com", SD_DNS_T_MX, &m);

    /* a recursive one answers NODATA from the child zone's SOA */
    start(&m, 0, "pmail.acme.com", SD_DNS_T_TXT);
    authority(&m, "pmail.acme.com", SD_DNS_T_SOA, "ns1.other.example");
    set(d, "pmail.acme.com", SD_DNS_T_TXT, &m);

    /* NXDOMAIN from the domain's own zone: simply missing */
    start(&m, SD_DNS_RCODE_NXDOMAIN, "_dmarc.acme.com", SD_DNS_T_TXT);
    authority(&m, "acme.com", SD_DNS_T_SOA, "ns1.provider.example");
    set(d, "_dmarc.acme.com", SD_DNS_T_TXT, &m);

    expect(d, 3, "wrong", "delegated_elsewhere");
    r = record(d, 3);
    text = json_string_value(json_object_get(r, "diagnosis"));
    assert_string_equal(text,
        "pmail.acme.com is delegated to other name servers (ns1.other.example, ns2.other.example) than acme.com "
        "(ns1.provider.example, ns2.provider.example): records added where "
        "acme.com is managed are not seen. Add this record at the DNS "
        "provider that serves pmail.acme.com, or remove the NS records of "
        "pmail.acme.com at your DNS provider so that all of acme.com is "
        "managed in one place.");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(r, "found"), 0)),
                        "NS ns1.other.example");

    expect(d, 4, "wrong", "delegated_elsewhere");
    expect(d, 5, "missing", "not_found");
    diag_free(d);
}


/* the refresher's hint: which rows, after how long, and what it keeps */
static void
test_hint(void **state)
{
    json_t         *row, *diag, *hint, *p;
    const int64_t   t0 = 1796515200;

    (void) state;

    row = sd_row_new("acme.com", 8, 1, NULL, 0, NULL, 0, t0);
    assert_non_null(row);

    /* still creating (not in SES yet): never */
    assert_false(sd_diag_hint_due(row, t0 + 7200, 3600));

    sd_row_set_state(row, SD_STATE_READY);
    assert_false(sd_diag_hint_due(row, t0 + 3599, 3600));
    assert_true(sd_diag_hint_due(row, t0 + 3600, 3600));

    /* DKIM verified, MAIL FROM still pending: still worth a look */
    json_object_set_new(row, "dkim_status", json_string("verified"));
    json_object_set_new(row, "mail_from_status", json_string("pending"));
    assert_true(sd_diag_hint_due(row, t0 + 3600, 3600));

    /* both done, or failed: nothing to explain */
    json_object_set_new(row, "mail_from_status", json_string("verified"));
    assert_false(sd_diag_hint_due(row, t0 + 7200, 3600));
    json_object_set_new(row, "dkim_status", json_string("failed"));
    json_object_set_new(row, "mail_from_status", json_string("failed"));
    assert_false(sd_diag_hint_due(row, t0 + 7200, 3600));
    json_decref(row);

    /* an address is verified by mail, not DNS */
    row = sd_row_new("a@acme.com", 10, 0, NULL, 0, NULL, 0, t0);
    sd_row_set_state(row, SD_STATE_READY);
    assert_false(sd_diag_hint_due(row, t0 + 7200, 3600));
    json_decref(row);

    diag = json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:s},s:["
                     "{s:s,s:s,s:s,s:s,s:s,s:s},"
                     "{s:s,s:s,s:s,s:s,s:s,s:s},"
                     "{s:s,s:s,s:s,s:s,s:s,s:s}]}",
        "verdict", "attention",
        "summary", "1 record needs attention: CNAME x._domainkey.acme.com: "
                   "wrong (domain_appended_twice).",
        "zone", "name", "acme.com", "verdict", "ok", "reason", "match",
                "diagnosis", "The domain acme.com exists in DNS.",
        "records",
        "type", "CNAME", "name", "x._domainkey.acme.com",
        "verdict", "wrong", "reason", "domain_appended_twice",
        "diagnosis", "Change the record's name.", "requirement", "required",
        "type", "MX", "name", "mail.acme.com", "verdict", "ok",
        "reason", "match", "diagnosis", "fine", "requirement", "required",
        "type", "TXT", "name", "_dmarc.acme.com", "verdict", "missing",
        "reason", "not_found", "diagnosis", "add one",
        "requirement", "optional");
    assert_non_null(diag);

    hint = sd_diag_hint(diag, t0 + 3600);
    assert_non_null(hint);
    assert_string_equal(json_string_value(json_object_get(hint, "verdict")),
                        "attention");
    assert_string_equal(json_string_value(json_object_get(hint,
                                                          "checked_at")),
                        "2026-12-06T01:00:00Z");
    assert_non_null(strstr(json_string_value(json_object_get(hint,
                                                              "summary")),
                           "domain_appended_twice"));

    /* only what needs attention: not the zone, the MX, the optional DMARC */
    assert_int_equal(json_array_size(json_object_get(hint, "problems")), 1);
    p = json_array_get(json_object_get(hint, "problems"), 0);
    assert_string_equal(json_string_value(json_object_get(p, "name")),
                        "x._domainkey.acme.com");
    assert_string_equal(json_string_value(json_object_get(p, "reason")),
                        "domain_appended_twice");
    assert_string_equal(json_string_value(json_object_get(p, "diagnosis")),
                        "Change the record's name.");

    json_decref(hint);
    json_decref(diag);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cname_compressed),
        cmocka_unit_test(test_parse_txt_strings),
        cmocka_unit_test(test_parse_negative),
        cmocka_unit_test(test_parse_refused_input),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_all_ok),
        cmocka_unit_test(test_dkim_mistakes),
        cmocka_unit_test(test_mail_from_mistakes),
        cmocka_unit_test(test_zone_and_failures),
        cmocka_unit_test(test_hint),
        cmocka_unit_test(test_delegated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
