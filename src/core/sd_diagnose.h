/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the DNS diagnosis of an identity's
 * records (pure core, jansson only).
 *
 * The expected records are sd_dns_records()'s array.  sd_diag_queries()
 * lists the lookups that can tell what is wrong with them, the caller
 * sends those (ngx_http_sender_domains_resolver.c) and sd_diag_run() turns
 * the answers into one verdict per record:
 *
 *   ok        the record is there as it should be;
 *   missing   nothing is published for it;
 *   wrong     something is published, but not what works;
 *   conflict  what is ours is there, but another record breaks it;
 *   unknown   DNS did not answer (timeout, resolver error).
 *
 * with a machine-readable reason and a plain-English explanation that says
 * what to type instead.
 */


#ifndef _NGX_HTTP_SENDER_DOMAINS_DIAGNOSE_H_INCLUDED_
#define _NGX_HTTP_SENDER_DOMAINS_DIAGNOSE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sd_dnswire.h"


#define SD_DIAG_QUERIES_MAX  32


typedef enum {
    SD_DNSQ_ANSWER = 0,         /* a response: see answer->rcode */
    SD_DNSQ_TIMEOUT,            /* no server answered in time */
    SD_DNSQ_ERROR               /* refused, unreachable, unreadable */
} sd_dnsq_status_e;


typedef struct {
    char                     name[SD_DNSW_NAME_MAX + 1];
    unsigned                 type;
} sd_diag_query_t;


typedef struct {
    sd_dnsq_status_e         status;
    const sd_dnsw_answer_t  *answer;    /* SD_DNSQ_ANSWER */
} sd_diag_result_t;


/*
 * The lookups for records on domain, each once, written to q (up to max).
 * Returns their number, or -1 on a record that is not an object with
 * string "type", "name" and "value", or when max is too small.
 */
int sd_diag_queries(const json_t *records, const char *domain,
    sd_diag_query_t *q, size_t max);

/*
 * The diagnosis, res[i] being the outcome of q[i] (a lookup missing from
 * q counts as a resolver error):
 *
 *   {"identity", "verdict", "summary",
 *    "zone": {"name", "verdict", "reason", "diagnosis", "found"},
 *    "records": [ {the record's fields, "verdict", "reason", "diagnosis",
 *                  "found": ["CNAME x.example", …]}, … ]}
 *
 * "verdict" overall is "ok" when no record needs attention (a missing
 * optional DMARC record does not).  NULL when out of memory or on a
 * malformed record.  The caller owns the reference.
 */
json_t *sd_diag_run(const json_t *records, const char *domain,
    const sd_diag_query_t *q, const sd_diag_result_t *res, size_t n);

/*
 * The refresher's diagnosis of a domain SES still has pending (issue 17):
 * sd_diag_hint_due() says whether the row is one (a managed domain whose
 * claim is in SES, state "ready", with DKIM or MAIL FROM still "pending",
 * added at least "after" seconds before now); sd_diag_hint() makes the
 * row's "dns_hint" from sd_diag_run()'s answer:
 *
 *   {"checked_at", "verdict", "summary",
 *    "problems": [ {"type", "name", "verdict", "reason", "diagnosis"}, … ]}
 *
 * (the zone's problem first, then each record that needs attention).
 * NULL when out of memory.
 */
int sd_diag_hint_due(const json_t *row, int64_t now, int64_t after);
json_t *sd_diag_hint(const json_t *diag, int64_t now);

/* Levenshtein distance of two strings up to 255 bytes, else a big number */
size_t sd_diag_distance(const char *a, size_t alen, const char *b,
    size_t blen);


#endif /* _NGX_HTTP_SENDER_DOMAINS_DIAGNOSE_H_INCLUDED_ */
