/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: classification of SESv2 answers
 * (sd_ses_classify() in src/core/sd_sesparse.c).
 *
 * Input: [status hi] [status lo] [flags] [type length] [x-amzn-ErrorType
 * header value] [body].  The status is mapped onto 100..699 with a bias
 * towards the ones SES sends, so that every branch is reachable.
 *
 * Properties (sesparse.h): error_type and message are NUL-terminated in
 * their arrays; the error type holds only [A-Za-z0-9._-]; the message is
 * one line of valid UTF-8 with no control characters, never empty on an
 * error and empty on success; the status maps to an API error.
 */

#include "fuzz_common.h"

#include "sd_sesparse.h"


static const int  fz_statuses[] = {
    200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504
};


void
fz_check_result(const sd_ses_result_t *res, sd_ses_status_e st)
{
    size_t       i, n;
    const char  *code;

    FZ_CHECK(res->status == st);
    FZ_CHECK(fz_terminated(res->error_type, SD_SES_ERROR_TYPE_LEN));
    FZ_CHECK(fz_terminated(res->message, SD_SES_MESSAGE_LEN));

    for (i = 0; res->error_type[i]; i++) {
        char c = res->error_type[i];

        FZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                 || (c >= '0' && c <= '9') || c == '.' || c == '_'
                 || c == '-');
    }

    n = strlen(res->message);
    FZ_CHECK(!fz_has_ctl((unsigned char *) res->message, n));
    FZ_CHECK(fz_valid_utf8((unsigned char *) res->message, n));
    FZ_CHECK(memmem(res->message, n, "\xe2\x80\xa8", 3) == NULL);
    FZ_CHECK(memmem(res->message, n, "\xe2\x80\xa9", 3) == NULL);
    FZ_CHECK(n == 0 || (res->message[0] != ' ' && res->message[n - 1] != ' '));

    if (st == SD_SES_OK) {
        FZ_CHECK(n == 0);

    } else {
        FZ_CHECK(n > 0);
    }

    code = sd_ses_error_code(st);
    FZ_CHECK((st == SD_SES_OK) == (code == NULL));
    FZ_CHECK(sd_ses_status_name(st) != NULL);
    (void) sd_ses_status_retryable(st);
}


#ifndef FZ_NO_MAIN

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t             fz = { data, size };
    int              status;
    char            *type, *body;
    size_t           tlen, blen;
    uint8_t          flags;
    uint16_t         s;
    sd_ses_result_t  res;
    sd_ses_status_e  st;

    s = fz_u16(&fz);
    status = (s < 0x8000) ? fz_statuses[s % (sizeof(fz_statuses)
                                              / sizeof(fz_statuses[0]))]
                          : 100 + s % 600;
    flags = fz_u8(&fz);
    type = fz_take(&fz, fz_u8(&fz), &tlen);
    body = fz_rest(&fz, &blen);

    memset(&res, 0xa5, sizeof(res));
    st = sd_ses_classify(status, (flags & 2) ? NULL : type,
                         (flags & 2) ? 0 : tlen, body, blen, flags & 1, &res);
    fz_check_result(&res, st);
    FZ_CHECK(res.http_status == status);

    free(type);
    free(body);

    return 0;
}

#endif
