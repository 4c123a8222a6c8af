/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: SESv1 Query answers (VerifyEmailIdentity), XML
 * (sd_ses_classify_query_xml() in src/core/sd_sesparse.c:
 * a small hand-written scanner for the root element, <Error>, <Code>,
 * <Message>, entities and CDATA).
 *
 * Input: [status hi] [status lo] [body].  Same properties as
 * fuzz_ses_classify (the result is shown to users and logged).
 */

#define FZ_NO_MAIN
#include "fuzz_ses_classify.c"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t             fz = { data, size };
    int              status;
    char            *body;
    size_t           blen;
    uint16_t         s;
    sd_ses_result_t  res;
    sd_ses_status_e  st;

    s = fz_u16(&fz);
    status = (s < 0x8000) ? fz_statuses[s % (sizeof(fz_statuses)
                                              / sizeof(fz_statuses[0]))]
                          : 100 + s % 600;
    body = fz_rest(&fz, &blen);

    memset(&res, 0xa5, sizeof(res));
    st = sd_ses_classify_query_xml(status, body, blen, &res);
    fz_check_result(&res, st);
    FZ_CHECK(res.http_status == status);

    free(body);

    return 0;
}
