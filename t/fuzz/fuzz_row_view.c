/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: the card list's fast path, differential
 * (src/core/sd_row.c, _jsonw.c, _dns.c).
 *
 * GET / writes each stored row straight from its JSON text
 * (sd_row_view_text() + sd_row_write_view()), without a jansson tree;
 * rows the scanner does not take are parsed and written from the tree
 * (sd_row_view_tree(), as ngx_http_sender_domains_list.c does).  Both
 * must give the same bytes, so a client cannot tell which path a row
 * took.
 *
 * Input: the whole input is a stored row's text (any bytes), handed over
 * in a heap buffer of its exact length, as LMDB hands it out.
 *
 * Properties, with region "us-east-1" and inherited_from NULL and
 * "acme.com":
 *
 *   (a) the text scanner never reads out of bounds (ASan);
 *   (b) when sd_row_view_text() accepts the text, jansson parses it too
 *       (json_loadb() with flags 0, as the module loads rows) into an
 *       object, and what sd_row_write_view() writes from the text view
 *       is byte for byte what it writes from sd_row_view_tree() of the
 *       parsed row, and both succeed or both fail;
 *   (c) whatever either path writes is valid JSON with no duplicate
 *       key, and is json_dumps(JSON_COMPACT) of its own parse (the
 *       writer's canonical form, which sd_row_public() promises).
 *
 * A difference aborts with both outputs printed.
 */

#include "fuzz_common.h"

#include <jansson.h>

#include "sd_row.h"
#include "sd_jsonw.h"


#define FZ_REGION  "us-east-1"


/* writes v into a fresh buffer; *out_len, the rc of sd_row_write_view() */
static char *
fz_write(const sd_row_view_t *v, const char *inherited, size_t *out_len,
    int *rc)
{
    sd_jsonw_t      w;
    sd_jsonw_mem_t  mem = { NULL, 0, 0 };

    sd_jsonw_init(&w, sd_jsonw_mem_emit, &mem);

    *rc = sd_row_write_view(&w, v, FZ_REGION, inherited);
    FZ_CHECK((*rc != 0) == (sd_jsonw_failed(&w) != 0));

    *out_len = mem.len;

    return mem.data;
}


/* (c): valid JSON, no duplicate key, already in its compact form */
static void
fz_check_output(const char *what, const char *out, size_t len)
{
    char          *again;
    json_t        *j;
    json_error_t   err;

    j = json_loadb(out, len, JSON_REJECT_DUPLICATES, &err);

    if (j == NULL) {
        fprintf(stderr, "%s output is not JSON (%s at %d): %.*s\n",
                what, err.text, err.position, (int) len, out);
        abort();
    }

    FZ_CHECK(json_is_object(j));

    again = json_dumps(j, JSON_COMPACT);
    FZ_CHECK(again != NULL);

    if (strlen(again) != len || memcmp(again, out, len) != 0) {
        fprintf(stderr, "%s output is not compact jansson form:\n"
                "  written: %.*s\n  dumped:  %s\n",
                what, (int) len, out, again);
        abort();
    }

    free(again);
    json_decref(j);
}


static void
fz_one(const char *text, size_t len, const sd_row_view_t *tv, int text_rc,
    const json_t *row, sd_row_view_t *rv, const char *inherited)
{
    int      trc, rrc;
    char    *tout, *rout;
    size_t   tlen, rlen;

    tout = NULL;
    tlen = 0;
    trc = -1;

    if (text_rc == 0) {
        tout = fz_write(tv, inherited, &tlen, &trc);
    }

    if (row == NULL || !json_is_object(row)) {
        /* the text view accepted no such row (checked by the caller) */
        free(tout);
        return;
    }

    if (sd_row_view_tree(rv, row) != 0) {
        /* too many members for a view: the text view refuses them too */
        FZ_CHECK(text_rc != 0);
        free(tout);
        return;
    }

    rout = fz_write(rv, inherited, &rlen, &rrc);

    if (text_rc == 0
        && (trc != rrc
            || (trc == 0
                && (tlen != rlen || memcmp(tout, rout, tlen) != 0))))
    {
        fprintf(stderr,
                "text and tree views differ (inherited_from %s)\n"
                "  row:  %.*s\n"
                "  text: rc %d %.*s\n"
                "  tree: rc %d %.*s\n",
                inherited ? inherited : "NULL", (int) len, text,
                trc, (int) tlen, tout ? tout : "",
                rrc, (int) rlen, rout ? rout : "");
        abort();
    }

    if (rrc == 0) {
        fz_check_output("tree view", rout, rlen);
    }

    if (trc == 0) {
        fz_check_output("text view", tout, tlen);
    }

    free(rout);
    free(tout);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             text_rc;
    char           *text;
    json_t         *row;
    json_error_t    err;
    sd_row_view_t  *tv, *rv;

    text = fz_dup(data, size);

    tv = malloc(sizeof(sd_row_view_t));
    rv = malloc(sizeof(sd_row_view_t));
    FZ_CHECK(tv != NULL && rv != NULL);

    /* (a) */
    text_rc = sd_row_view_text(tv, text, size);
    FZ_CHECK(text_rc == 0 || text_rc == -1);

    /* as the list's fallback loads a row */
    row = json_loadb(text, size, 0, &err);

    if (text_rc == 0) {
        if (row == NULL || !json_is_object(row)) {
            fprintf(stderr, "text view accepted what jansson refuses "
                    "(%s at %d): %.*s\n",
                    row ? "not an object" : err.text, err.position,
                    (int) size, text);
            abort();
        }

        FZ_CHECK(tv->nmembers == json_object_size(row));
        FZ_CHECK(tv->ntokens <= SD_SES_MAX_DKIM_TOKENS);
    }

    /* (b), (c) */
    fz_one(text, size, tv, text_rc, row, rv, NULL);
    fz_one(text, size, tv, text_rc, row, rv, "acme.com");

    json_decref(row);
    free(rv);
    free(tv);
    free(text);

    return 0;
}
