/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: ListEmailIdentities pages
 * (sd_ses_parse_list() in src/core/sd_sesparse.c), as
 * the refresher walks them.
 *
 * Input: [bufsz] [stop-after] [body].  The NextToken buffer is a heap
 * buffer of exactly bufsz bytes (0..255), so a token that does not fit
 * must be refused, not cut or spilled.
 *
 * Properties: callbacks only on SD_SES_OK (the whole page is checked
 * first); each item's name is a span of at least one byte without
 * control characters; the NextToken is NUL-terminated in the buffer and
 * control-free; returning non-zero from the callback stops the walk.
 */

#include "fuzz_common.h"

#include "sd_sesparse.h"


typedef struct {
    unsigned  calls;
    unsigned  stop_after;
} fz_ctx_t;


static int
fz_cb(void *data, const sd_ses_list_item_t *it)
{
    fz_ctx_t  *ctx = data;
    char      *copy;

    FZ_CHECK(it->name != NULL && it->name_len > 0);
    FZ_CHECK(!fz_has_ctl((unsigned char *) it->name, it->name_len));

    /* the refresher copies the name out: it must be readable */
    copy = fz_dup(it->name, it->name_len);
    free(copy);

    (void) sd_ses_vstatus_name(it->verification_status);

    ctx->calls++;

    return ctx->stop_after && ctx->calls >= ctx->stop_after;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t             fz = { data, size };
    char            *body, *tok;
    size_t           blen, bufsz;
    fz_ctx_t         ctx;
    sd_ses_status_e  st;

    bufsz = fz_u8(&fz);
    ctx.calls = 0;
    ctx.stop_after = fz_u8(&fz) % 8;
    body = fz_rest(&fz, &blen);

    tok = malloc(bufsz ? bufsz : 1);
    st = sd_ses_parse_list(body, blen, fz_cb, &ctx, bufsz ? tok : NULL,
                           bufsz);

    if (st != SD_SES_OK) {
        FZ_CHECK(st == SD_SES_MALFORMED);
        FZ_CHECK(ctx.calls == 0);
        FZ_CHECK(bufsz == 0 || tok[0] == '\0');

    } else {
        FZ_CHECK(ctx.stop_after == 0 || ctx.calls <= ctx.stop_after);

        if (bufsz) {
            FZ_CHECK(fz_terminated(tok, bufsz));
            FZ_CHECK(!fz_has_ctl((unsigned char *) tok, strlen(tok)));
        }
    }

    /* without a callback or a token buffer: only the checks */
    (void) sd_ses_parse_list(body, blen, NULL, NULL, NULL, 0);

    free(tok);
    free(body);

    return 0;
}
