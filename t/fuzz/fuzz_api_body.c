/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: JSON request bodies and their validation, the way the API
 * handles them (src/ngx_http_sender_domains_api.c, _identity_api.c).
 *
 * Input: a request body.  It is parsed with
 * json_loadb(..., JSON_REJECT_DUPLICATES) as the API does, then run
 * through the chain of each endpoint that takes a body:
 *
 *   POST /        "identity" (sd_domain_normalize / sd_email_normalize,
 *                 chosen by "type" or by an '@'), "mail_from_subdomain"
 *                 (sd_label_validate, default "pmail"), "sender_name"
 *                 (sd_sender_name_validate), then sd_row_new(), the JSON
 *                 text stored in LMDB, read back, sd_row_flags(),
 *                 sd_row_next_check() and sd_row_public();
 *   PATCH /{id}   only "sender_name", validated, set on a row;
 *   PUT /legacy   an array of {"address", "sender_name"}: each one
 *                 normalised and validated, then sd_row_legacy().
 *
 * Properties: a row built from validated input serialises, parses back
 * to an equal object and gives the same flags; what the API would store
 * as a sender name never holds a control character.
 */

#include "fuzz_common.h"

#include <jansson.h>

#include "sd_identity.h"
#include "sd_row.h"
#include "sd_store.h"


#define FZ_NOW     1795687200          /* 2026-11-26T10:00:00Z */
#define FZ_REGION  "eu-west-1"


/* a JSON string member, as ngx_http_sender_domains_body_string() reads it */
static int
fz_body_string(json_t *body, const char *key, const char **s, size_t *len)
{
    json_t  *v;

    *s = NULL;
    *len = 0;

    v = json_object_get(body, key);
    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_string(v)) {
        return -1;              /* 400 */
    }

    *s = json_string_value(v);
    *len = json_string_length(v);

    return 0;
}


/* what happens to a row: stored as text, read back, shown to the user */
static void
fz_store_and_show(json_t *row)
{
    char     *text, *pub;
    json_t   *back, *view;
    unsigned  flags;

    FZ_CHECK(row != NULL);

    flags = sd_row_flags(row);
    (void) sd_row_next_check(row);

    text = json_dumps(row, JSON_COMPACT);
    FZ_CHECK(text != NULL);

    back = json_loadb(text, strlen(text), 0, NULL);
    FZ_CHECK(back != NULL);
    FZ_CHECK(json_equal(back, row));
    FZ_CHECK(sd_row_flags(back) == flags);

    view = sd_row_public(back, FZ_REGION, NULL);
    FZ_CHECK(view != NULL);
    pub = json_dumps(view, JSON_COMPACT);
    FZ_CHECK(pub != NULL);

    free(pub);
    json_decref(view);
    json_decref(back);
    free(text);
}


static void
fz_add(json_t *body)
{
    char         buf[SD_EMAIL_BUFSZ], lbuf[SD_LABEL_BUFSZ];
    char         nbuf[SD_SENDER_NAME_BUFSZ];
    int          is_domain;
    size_t       id_len, type_len, label_len, name_len;
    ssize_t      n, ln, nn;
    json_t      *row;
    const char  *id, *type, *label, *name, *msg;

    if (!json_is_object(body)) {
        return;
    }

    if (fz_body_string(body, "identity", &id, &id_len) != 0 || id_len == 0) {
        return;
    }

    if (fz_body_string(body, "type", &type, &type_len) != 0) {
        return;
    }

    if (type_len == 0) {
        is_domain = memchr(id, '@', id_len) == NULL;

    } else if (type_len == 6 && memcmp(type, "domain", 6) == 0) {
        is_domain = 1;

    } else if (type_len == 5 && memcmp(type, "email", 5) == 0) {
        is_domain = 0;

    } else {
        return;
    }

    msg = NULL;
    n = is_domain ? sd_domain_normalize(id, id_len, buf, sizeof(buf), &msg)
                  : sd_email_normalize(id, id_len, buf, sizeof(buf), &msg);
    if (n <= 0) {
        FZ_CHECK(msg != NULL);
        return;
    }

    FZ_CHECK(buf[n] == '\0');

    if (fz_body_string(body, "mail_from_subdomain", &label, &label_len) != 0)
    {
        return;
    }

    ln = 0;

    if (is_domain) {
        if (label_len == 0) {
            label = "pmail";
            label_len = 5;
        }

        ln = sd_label_validate(label, label_len, buf, n, lbuf, sizeof(lbuf),
                               &msg);
        if (ln <= 0) {
            return;
        }

    } else if (label_len) {
        return;
    }

    if (fz_body_string(body, "sender_name", &name, &name_len) != 0) {
        return;
    }

    nn = sd_sender_name_validate(name, name_len, nbuf, sizeof(nbuf), &msg);
    if (nn < 0) {
        return;
    }

    FZ_CHECK(!fz_has_ctl((unsigned char *) nbuf, nn));

    row = sd_row_new(buf, n, is_domain, nbuf, nn, lbuf, ln, FZ_NOW);
    fz_store_and_show(row);

    /* the add flow's later steps touch the same row */
    sd_row_set_state(row, SD_STATE_READY);
    (void) sd_row_schedule(row, FZ_NOW, 60, 3600, 1);
    fz_store_and_show(row);

    json_decref(row);
}


static void
fz_patch(json_t *body)
{
    char         nbuf[SD_SENDER_NAME_BUFSZ];
    json_t      *v, *row;
    ssize_t      nn;
    const char  *key, *msg;

    if (!json_is_object(body)) {
        return;
    }

    json_object_foreach(body, key, v) {
        if (strcmp(key, "sender_name") != 0) {
            return;
        }
    }

    v = json_object_get(body, "sender_name");
    if (!json_is_string(v)) {
        return;
    }

    nn = sd_sender_name_validate(json_string_value(v), json_string_length(v),
                                 nbuf, sizeof(nbuf), &msg);
    if (nn < 0) {
        return;
    }

    FZ_CHECK(!fz_has_ctl((unsigned char *) nbuf, nn));

    row = sd_row_new("acme.com", 8, 1, "", 0, "pmail", 5, FZ_NOW);
    sd_row_set_str(row, "sender_name", nbuf, nn);
    fz_store_and_show(row);
    json_decref(row);
}


static void
fz_legacy(json_t *body)
{
    char         buf[SD_EMAIL_BUFSZ], nbuf[SD_SENDER_NAME_BUFSZ];
    size_t       i, n;
    ssize_t      len, nn;
    json_t      *item, *addr, *name, *row;
    const char  *msg;

    if (!json_is_array(body)) {
        return;
    }

    n = json_array_size(body);
    if (n > 1000) {
        return;
    }

    for (i = 0; i < n; i++) {
        item = json_array_get(body, i);
        addr = json_object_get(item, "address");
        name = json_object_get(item, "sender_name");

        if (!json_is_object(item) || !json_is_string(addr)
            || (name && !json_is_null(name) && !json_is_string(name)))
        {
            return;
        }

        len = sd_email_normalize(json_string_value(addr),
                                 json_string_length(addr), buf, sizeof(buf),
                                 &msg);
        if (len <= 0) {
            return;
        }

        nn = sd_sender_name_validate(
                 json_is_string(name) ? json_string_value(name) : "",
                 json_is_string(name) ? json_string_length(name) : 0,
                 nbuf, sizeof(nbuf), &msg);
        if (nn < 0) {
            return;
        }

        row = sd_row_legacy(buf, len, nbuf, nn);
        fz_store_and_show(row);
        json_decref(row);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t        *body;
    json_error_t   err;

    /* the API refuses bodies over 64 KiB before parsing */
    if (size > 65536) {
        return 0;
    }

    body = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                      &err);
    if (body == NULL) {
        return 0;
    }

    fz_add(body);
    fz_patch(body);
    fz_legacy(body);

    json_decref(body);

    return 0;
}
