/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: webhook events relayed through etcd
 * (see the header).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "sd_relay.h"
#include "sd_sigv4.h"


#define SD_RELAY_DIR  "events/"


size_t
sd_relay_prefix(const char *prefix, char *out, size_t size)
{
    int  n;

    n = snprintf(out, size, "%s" SD_RELAY_DIR, prefix);

    return (n < 0 || (size_t) n >= size) ? 0 : (size_t) n;
}


size_t
sd_relay_key(const char *prefix, uint32_t target, int64_t created,
    const char *node, uint64_t seq, char *out, size_t size)
{
    int  n;

    if (created < 0 || created > INT64_C(999999999999)) {
        created = created < 0 ? 0 : INT64_C(999999999999);
    }

    n = snprintf(out, size, "%s" SD_RELAY_DIR "%08" PRIx32 "/%012" PRId64
                 "-%s-%020" PRIu64, prefix, target, created, node, seq);

    return (n < 0 || (size_t) n >= size) ? 0 : (size_t) n;
}


char *
sd_relay_value(uint32_t target, int64_t created, const char *body,
    size_t len)
{
    char        *out;
    json_t      *ev, *v;
    const char  *id, *ws, *ident;

    ev = json_loadb(body, len, 0, NULL);
    if (ev == NULL) {
        return NULL;
    }

    id = json_string_value(json_object_get(ev, "id"));
    ws = json_string_value(json_object_get(ev, "workspace"));
    ident = json_string_value(json_object_get(json_object_get(ev, "identity"),
                                              "identity"));

    if (id == NULL || ws == NULL || ident == NULL) {
        json_decref(ev);
        return NULL;
    }

    v = json_pack("{s:s,s:I,s:I,s:s,s:s,s:s%}", "id", id,
                  "target", (json_int_t) target, "created",
                  (json_int_t) created, "workspace", ws, "identity", ident,
                  "body", body, len);
    json_decref(ev);

    if (v == NULL) {
        return NULL;
    }

    out = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);

    return out;
}


static char *
sd_relay_txn(json_t *ops)
{
    char    *out;
    json_t  *txn;

    if (ops == NULL) {
        return NULL;
    }

    txn = json_pack("{s:o}", "success", ops);
    if (txn == NULL) {
        return NULL;
    }

    out = json_dumps(txn, JSON_COMPACT);
    json_decref(txn);

    return out;
}


char *
sd_relay_put_txn(const sd_relay_put_t *puts, size_t n)
{
    if (n == 0) {
        return NULL;
    }

    return sd_relay_put_count_txn(NULL, puts, n);
}


/*
 * Appends {"<name>":{"key":k,"<second>":v[,"count_only":true]}} to ops,
 * k and v the two byte strings base64'd: 0, or -1 (ops is left as is).
 */
static int
sd_relay_op(json_t *ops, const char *name, const char *second,
    const char *a, size_t a_len, const char *b, size_t b_len, int count)
{
    json_t  *op, *k, *v;

    k = sd_etcd_jb64(a, a_len);
    v = sd_etcd_jb64(b, b_len);

    op = (k && v) ? json_pack("{s:{s:o,s:o}}", name, "key", k, second, v)
                  : NULL;

    if (op == NULL) {
        /* json_pack() took k and v whatever it answered */
        if (k == NULL || v == NULL) {
            json_decref(k);
            json_decref(v);
        }

        return -1;
    }

    if ((count
         && json_object_set_new(json_object_get(op, name), "count_only",
                                json_true())
            != 0)
        || json_array_append_new(ops, op) != 0)
    {
        return -1;
    }

    return 0;
}


char *
sd_relay_put_count_txn(const char *prefix, const sd_relay_put_t *puts,
    size_t n)
{
    char     key[SD_RELAY_KEY_MAX], end[SD_RELAY_KEY_MAX];
    size_t   i, len, end_len;
    json_t  *ops;

    if (n + (prefix ? 1 : 0) == 0
        || n + (prefix ? 1 : 0) > SD_ETCD_MAX_TXN_OPS)
    {
        return NULL;
    }

    ops = json_array();
    if (ops == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (sd_relay_op(ops, "request_put", "value", puts[i].key,
                        puts[i].key_len, puts[i].value, puts[i].value_len, 0)
            != 0)
        {
            json_decref(ops);
            return NULL;
        }
    }

    if (prefix != NULL) {
        len = sd_relay_prefix(prefix, key, sizeof(key));
        end_len = len ? sd_etcd_range_end(key, len, end) : 0;

        if (len == 0
            || sd_relay_op(ops, "request_range", "range_end", key, len, end,
                           end_len, 1)
               != 0)
        {
            json_decref(ops);
            return NULL;
        }
    }

    return sd_relay_txn(ops);
}


int64_t
sd_relay_count(const sd_etcd_txn_t *txn)
{
    const sd_etcd_resp_t  *r;

    if (!txn->succeeded || txn->nresponses == 0) {
        return -1;
    }

    r = &txn->responses[txn->nresponses - 1];

    return r->type == SD_ETCD_RESP_RANGE ? r->count : -1;
}


char *
sd_relay_delete_txn(const char *key, size_t len)
{
    json_t  *k;

    k = sd_etcd_jb64(key, len);
    if (k == NULL) {
        return NULL;
    }

    return sd_relay_txn(json_pack("[{s:{s:o}}]", "request_delete_range",
                                  "key", k));
}


char *
sd_relay_range_body(const char *prefix, const char *from, size_t from_len,
    int64_t limit)
{
    char    key[SD_RELAY_KEY_MAX + 1], end[SD_RELAY_KEY_MAX];
    size_t  len, end_len;

    len = sd_relay_prefix(prefix, key, sizeof(key));
    if (len == 0) {
        return NULL;
    }

    end_len = sd_etcd_range_end(key, len, end);

    if (from != NULL) {
        /* from the key after "from": "from" followed by a NUL byte */
        if (from_len + 1 > sizeof(key)) {
            return NULL;
        }

        memcpy(key, from, from_len);
        key[from_len] = '\0';
        len = from_len + 1;
    }

    return sd_etcd_range_body(key, len, end, end_len, 0, limit);
}


int
sd_relay_parse(const char *prefix, const sd_etcd_kv_t *kv,
    sd_relay_event_t *ev)
{
    char        dir[SD_RELAY_KEY_MAX];
    size_t      dir_len;
    json_t     *v, *target, *created;
    const char *body;

    memset(ev, 0, sizeof(sd_relay_event_t));

    dir_len = sd_relay_prefix(prefix, dir, sizeof(dir));

    if (dir_len == 0 || kv->key_len <= dir_len
        || memcmp(kv->key, dir, dir_len) != 0 || kv->value == NULL)
    {
        return -1;
    }

    v = json_loadb(kv->value, kv->value_len, 0, NULL);
    if (v == NULL) {
        return -1;
    }

    target = json_object_get(v, "target");
    created = json_object_get(v, "created");
    body = json_string_value(json_object_get(v, "body"));

    ev->id = json_string_value(json_object_get(v, "id"));
    ev->ws = json_string_value(json_object_get(v, "workspace"));
    ev->identity = json_string_value(json_object_get(v, "identity"));

    if (!json_is_integer(target) || !json_is_integer(created)
        || json_integer_value(target) < 0
        || json_integer_value(target) > (json_int_t) UINT32_MAX
        || body == NULL || ev->id == NULL || ev->ws == NULL
        || ev->identity == NULL)
    {
        json_decref(v);
        memset(ev, 0, sizeof(sd_relay_event_t));
        return -1;
    }

    ev->key = kv->key;
    ev->key_len = kv->key_len;
    ev->target = (uint32_t) json_integer_value(target);
    ev->created = (int64_t) json_integer_value(created);
    ev->body = body;
    ev->body_len = json_string_length(json_object_get(v, "body"));
    ev->json = v;

    return 0;
}


void
sd_relay_event_free(sd_relay_event_t *ev)
{
    json_decref(ev->json);
    ev->json = NULL;
}


uint64_t
sd_relay_ident(const unsigned char *key, size_t key_len, const char *ws,
    const char *identity)
{
    int            rc;
    char          *buf;
    size_t         ws_len, id_len, i;
    uint64_t       tag;
    unsigned char  mac[SD_SHA256_LEN];

    ws_len = strlen(ws);
    id_len = strlen(identity);

    buf = malloc(ws_len + 1 + id_len);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, ws, ws_len);
    buf[ws_len] = '\0';
    memcpy(buf + ws_len + 1, identity, id_len);

    rc = sd_hmac_sha256(key, key_len, buf, ws_len + 1 + id_len, mac);
    free(buf);

    if (rc != 0) {
        return 0;
    }

    tag = 0;

    for (i = 0; i < sizeof(uint64_t); i++) {
        tag = tag << 8 | mac[i];
    }

    return tag;
}
