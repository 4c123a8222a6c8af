/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Fuzz target: DNS answers in wire format
 * (src/core/sd_dnswire.c) and the diagnosis over them
 * (src/core/sd_diagnose.c).
 *
 * The answer comes from the network: any DNS server the configured
 * resolver asks (or anyone spoofing it) chooses its bytes.
 *
 * Input: the bytes of one DNS response, in an exact-size heap buffer.
 *
 * Properties: sd_dnsw_parse() never reads outside the buffer (ASan), keeps
 * at most SD_DNSW_RR_MAX records, each owner and data NUL-terminated
 * within their arrays, data_len == strlen(data) for names and addresses;
 * names are lower case with no byte outside [a-z0-9._-\]; and the
 * diagnosis of a domain's records, fed the parsed answer for every lookup,
 * returns a JSON object whose every record has a verdict among ok,
 * missing, wrong, conflict, unknown.
 */

#include "fuzz_common.h"

#include "sd_dns.h"
#include "sd_diagnose.h"


static void
fz_check_name(const char *s, size_t max)
{
    size_t  i;

    FZ_CHECK(memchr(s, '\0', max + 1) != NULL);

    for (i = 0; s[i]; i++) {
        FZ_CHECK((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
                 || s[i] == '.' || s[i] == '-' || s[i] == '_'
                 || s[i] == '\\');
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             i, n;
    json_t            *recs, *out, *rec;
    const char        *v;
    unsigned char     *msg;
    sd_dnsw_answer_t  *a;
    sd_diag_query_t    q[SD_DIAG_QUERIES_MAX];
    sd_diag_result_t   res[SD_DIAG_QUERIES_MAX];
    sd_str_t           dom = { 8, "acme.com" };
    sd_str_t           tok[3] = { { 3, "abc" }, { 3, "def" }, { 3, "ghi" } };
    sd_str_t           mf = { 14, "pmail.acme.com" };
    sd_str_t           reg = { 9, "us-east-1" };
    int                nq;

    msg = malloc(size ? size : 1);
    memcpy(msg, data, size);
    a = malloc(sizeof(sd_dnsw_answer_t));

    if (sd_dnsw_parse(msg, size, a) == 0) {
        FZ_CHECK(a->nrr <= SD_DNSW_RR_MAX);

        for (i = 0; i < a->nrr; i++) {
            fz_check_name(a->rr[i].owner, SD_DNSW_NAME_MAX);
            FZ_CHECK(a->rr[i].data_len <= SD_DNSW_DATA_MAX);

            if (a->rr[i].type != SD_DNS_T_TXT) {
                FZ_CHECK(strlen(a->rr[i].data) == a->rr[i].data_len);
            }

            if (a->rr[i].type == SD_DNS_T_CNAME
                || a->rr[i].type == SD_DNS_T_MX)
            {
                fz_check_name(a->rr[i].data, SD_DNSW_DATA_MAX);
            }
        }

        recs = sd_dns_records(&dom, tok, 3, NULL, &mf, &reg, 0);
        FZ_CHECK(recs != NULL);

        nq = sd_diag_queries(recs, "acme.com", q, SD_DIAG_QUERIES_MAX);
        FZ_CHECK(nq > 0);

        for (n = 0; n < (size_t) nq; n++) {
            res[n].status = SD_DNSQ_ANSWER;
            res[n].answer = a;
        }

        out = sd_diag_run(recs, "acme.com", q, res, nq);
        FZ_CHECK(out != NULL);

        json_array_foreach(json_object_get(out, "records"), i, rec) {
            v = json_string_value(json_object_get(rec, "verdict"));
            FZ_CHECK(v != NULL);
            FZ_CHECK(strcmp(v, "ok") == 0 || strcmp(v, "missing") == 0
                     || strcmp(v, "wrong") == 0 || strcmp(v, "conflict") == 0
                     || strcmp(v, "unknown") == 0);
        }

        json_decref(out);
        json_decref(recs);
    }

    free(a);
    free(msg);

    return 0;
}
