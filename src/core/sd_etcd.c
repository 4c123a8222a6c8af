/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: cluster mode over etcd, the pure part:
 * keys, the claim Txn, the gateway's answers, the apply rule
 * (sd_etcd.h, docs/cluster.md).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "sd_etcd.h"
#include "sd_row.h"
#include "sd_store.h"


#define SD_ETCD_CLAIMS      "claims/"
#define SD_ETCD_ROWS        "rows/"
#define SD_ETCD_LEGACY      "legacy/"
#define SD_ETCD_NODES       "nodes/"
#define SD_ETCD_LEADER      "leader"


static json_t *sd_etcd_compare_mod(const char *key, size_t key_len,
    int64_t rev);
static json_t *sd_etcd_publish_guard(json_t *inner, const char *row,
    size_t row_len, int64_t rev);


/* ---- keys ---- */

int
sd_etcd_prefix_ok(const char *prefix, size_t len)
{
    size_t  i;

    if (len < 2 || len > SD_ETCD_PREFIX_MAX || prefix[0] != '/'
        || prefix[len - 1] != '/')
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) prefix[i] <= 0x20
            || (unsigned char) prefix[i] >= 0x7f)
        {
            return 0;
        }
    }

    return 1;
}


static size_t
sd_etcd_cat(char *out, size_t size, size_t n, const char *s, size_t len)
{
    if (n == (size_t) -1 || n + len >= size) {
        return (size_t) -1;
    }

    memcpy(out + n, s, len);
    out[n + len] = '\0';

    return n + len;
}


size_t
sd_etcd_claim_key(const char *prefix, const char *id, size_t id_len,
    char *out, size_t size)
{
    size_t  n, plen, tk_len;

    plen = strlen(prefix);

    if (id_len == 0 || plen + sizeof(SD_ETCD_CLAIMS) - 1 >= size) {
        return 0;
    }

    n = sd_etcd_cat(out, size, 0, prefix, plen);
    n = sd_etcd_cat(out, size, n, SD_ETCD_CLAIMS, sizeof(SD_ETCD_CLAIMS) - 1);

    /* the store's tree key: needs id_len + 3 bytes */
    if (n == (size_t) -1 || n + id_len + 3 >= size) {
        return 0;
    }

    tk_len = sd_store_tree_key(id, id_len, out + n, size - n - 1);
    if (tk_len == 0) {
        return 0;
    }

    out[n + tk_len] = '\0';

    return n + tk_len;
}


static int
sd_etcd_ws_plain(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '/' && c != '%';
}


size_t
sd_etcd_rows_prefix(const char *prefix, const char *ws, size_t ws_len,
    char *out, size_t size)
{
    char                 esc[4];
    size_t               n, i;
    static const char    hex[] = "0123456789ABCDEF";

    if (ws_len == 0) {
        return 0;
    }

    n = sd_etcd_cat(out, size, 0, prefix, strlen(prefix));
    if (n != (size_t) -1) {
        n = sd_etcd_cat(out, size, n, SD_ETCD_ROWS, sizeof(SD_ETCD_ROWS) - 1);
    }

    /* '/' and '%' and bytes outside printable ASCII as %XX */
    for (i = 0; n != (size_t) -1 && i < ws_len; i++) {
        unsigned char  c = (unsigned char) ws[i];

        if (sd_etcd_ws_plain(c)) {
            n = sd_etcd_cat(out, size, n, (char *) &c, 1);

        } else {
            esc[0] = '%';
            esc[1] = hex[c >> 4];
            esc[2] = hex[c & 0x0f];
            n = sd_etcd_cat(out, size, n, esc, 3);
        }
    }

    if (n != (size_t) -1) {
        n = sd_etcd_cat(out, size, n, "/", 1);
    }

    return (n == (size_t) -1) ? 0 : n;
}


size_t
sd_etcd_row_key(const char *prefix, const char *ws, size_t ws_len,
    const char *id, size_t id_len, char *out, size_t size)
{
    size_t  n;

    if (id_len == 0) {
        return 0;
    }

    n = sd_etcd_rows_prefix(prefix, ws, ws_len, out, size);
    if (n == 0) {
        return 0;
    }

    n = sd_etcd_cat(out, size, n, id, id_len);

    return (n == (size_t) -1) ? 0 : n;
}


static int
sd_etcd_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


int
sd_etcd_parse_row_key(const char *prefix, const char *key, size_t len,
    char *ws_buf, size_t ws_size, size_t *ws_len, const char **id,
    size_t *id_len)
{
    int          hi, lo;
    size_t       plen, n;
    const char  *p, *end;

    plen = strlen(prefix);
    end = key + len;

    if (len < plen + sizeof(SD_ETCD_ROWS) - 1
        || memcmp(key, prefix, plen) != 0
        || memcmp(key + plen, SD_ETCD_ROWS, sizeof(SD_ETCD_ROWS) - 1) != 0)
    {
        return -1;
    }

    p = key + plen + sizeof(SD_ETCD_ROWS) - 1;
    n = 0;

    while (p < end && *p != '/') {
        if (n + 1 >= ws_size) {
            return -1;
        }

        if (*p == '%') {
            if (end - p < 3) {
                return -1;
            }

            hi = sd_etcd_hexval(p[1]);
            lo = sd_etcd_hexval(p[2]);

            if (hi < 0 || lo < 0) {
                return -1;
            }

            ws_buf[n++] = (char) (hi << 4 | lo);
            p += 3;
            continue;
        }

        ws_buf[n++] = *p++;
    }

    if (n == 0 || p == end || p + 1 == end) {
        return -1;
    }

    ws_buf[n] = '\0';
    *ws_len = n;
    *id = p + 1;
    *id_len = end - (p + 1);

    return 0;
}


int
sd_etcd_claim_name(const char *prefix, const char *key, size_t len,
    char *out, size_t size, size_t *out_len)
{
    size_t       plen, n;
    const char  *tk, *end, *at, *p, *q;

    plen = strlen(prefix);

    if (len <= plen + sizeof(SD_ETCD_CLAIMS) - 1
        || memcmp(key, prefix, plen) != 0
        || memcmp(key + plen, SD_ETCD_CLAIMS, sizeof(SD_ETCD_CLAIMS) - 1) != 0)
    {
        return -1;
    }

    tk = key + plen + sizeof(SD_ETCD_CLAIMS) - 1;
    end = key + len;

    if ((size_t) (end - tk) + 1 > size) {
        return -1;
    }

    at = memchr(tk, '@', end - tk);
    n = 0;

    if (at) {
        memcpy(out, at + 1, end - (at + 1));
        n = end - (at + 1);
        out[n++] = '@';
        end = at;
    }

    /* "com.acme.mail." -> "mail.acme.com": the labels back to front */
    if (end == tk || end[-1] != '.') {
        return -1;
    }

    p = end - 1;

    while (p > tk) {
        q = p;

        while (q > tk && q[-1] != '.') {
            q--;
        }

        memcpy(out + n, q, p - q);
        n += p - q;

        if (q > tk) {
            out[n++] = '.';
        }

        p = (q > tk) ? q - 1 : tk;
    }

    out[n] = '\0';
    *out_len = n;

    return 0;
}


size_t
sd_etcd_range_end(const char *key, size_t len, char *out)
{
    size_t  i;

    memcpy(out, key, len);

    for (i = len; i > 0; i--) {
        if ((unsigned char) out[i - 1] < 0xff) {
            out[i - 1] = (char) ((unsigned char) out[i - 1] + 1);
            return i;
        }
    }

    /* only 0xff bytes: etcd reads "\0" as the end of the key space */
    out[0] = '\0';

    return 1;
}


size_t
sd_etcd_b64(const void *in, size_t len, char *out, size_t size)
{
    if (size < 4 * ((len + 2) / 3) + 1 || len > 0x3fffffff) {
        return 0;
    }

    return (size_t) EVP_EncodeBlock((unsigned char *) out, in, (int) len);
}


static int
sd_etcd_b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '+' || c == '/';
}


int
sd_etcd_unb64(const char *in, size_t len, char *out, size_t size,
    size_t *out_len)
{
    int     n;
    size_t  i, pad;

    if (len % 4 != 0 || len > 0x3fffffff || size < len / 4 * 3 + 1) {
        return -1;
    }

    for (pad = 0; pad < 2 && pad < len && in[len - 1 - pad] == '='; pad++) {
        /* void */
    }

    /* EVP_DecodeBlock() skips blanks; etcd never sends any */
    for (i = 0; i < len - pad; i++) {
        if (!sd_etcd_b64_char(in[i])) {
            return -1;
        }
    }

    if (len == 0) {
        out[0] = '\0';
        *out_len = 0;
        return 0;
    }

    n = EVP_DecodeBlock((unsigned char *) out, (const unsigned char *) in,
                        (int) len);
    if (n < 0) {
        return -1;
    }

    *out_len = (size_t) n - pad;
    out[*out_len] = '\0';

    return 0;
}


/* ---- request bodies ---- */

json_t *
sd_etcd_jb64(const char *s, size_t len)
{
    char    *buf;
    size_t   size;
    json_t  *j;

    size = 4 * ((len + 2) / 3) + 1;
    buf = malloc(size);
    if (buf == NULL) {
        return NULL;
    }

    sd_etcd_b64(s, len, buf, size);
    j = json_string(buf);
    free(buf);

    return j;
}


/* jansson's integers are long long; etcd's gateway takes int64 strings */
static json_t *
sd_etcd_jint(int64_t v)
{
    char  buf[24];

    snprintf(buf, sizeof(buf), "%lld", (long long) v);

    return json_string(buf);
}


/* a Txn's JSON text (NULL after an error or with no memory); txn goes */
static char *
sd_etcd_txn_dump(json_t *txn, int err)
{
    char  *out;

    out = err ? NULL : json_dumps(txn, JSON_COMPACT);
    json_decref(txn);

    return out;
}


static int
sd_etcd_set(json_t *o, const char *name, json_t *v)
{
    return v == NULL || json_object_set_new(o, name, v) != 0;
}


static int
sd_etcd_push(json_t *a, json_t *v)
{
    return v == NULL || json_array_append_new(a, v) != 0;
}


/*
 * One Compare: target VERSION (version == 0) or VALUE (value == v), over
 * the key or over [key, range_end).
 */
static json_t *
sd_etcd_compare(const char *key, size_t key_len, int range,
    const char *value, size_t value_len)
{
    int      err;
    char     end[SD_ETCD_KEY_MAX];
    size_t   end_len;
    json_t  *c;

    c = json_object();
    if (c == NULL) {
        return NULL;
    }

    err = sd_etcd_set(c, "key", sd_etcd_jb64(key, key_len));

    if (range) {
        end_len = sd_etcd_range_end(key, key_len, end);
        err |= sd_etcd_set(c, "range_end", sd_etcd_jb64(end, end_len));
    }

    err |= sd_etcd_set(c, "result", json_string("EQUAL"));

    if (value) {
        err |= sd_etcd_set(c, "target", json_string("VALUE"));
        err |= sd_etcd_set(c, "value", sd_etcd_jb64(value, value_len));

    } else {
        err |= sd_etcd_set(c, "target", json_string("VERSION"));
        err |= sd_etcd_set(c, "version", sd_etcd_jint(0));
    }

    if (err) {
        json_decref(c);
        return NULL;
    }

    return c;
}


static json_t *
sd_etcd_op_put(const char *key, size_t key_len, const char *v, size_t v_len)
{
    int      err;
    json_t  *op, *put;

    op = json_object();
    put = json_object();

    if (op == NULL || put == NULL) {
        json_decref(op);
        json_decref(put);
        return NULL;
    }

    err = sd_etcd_set(put, "key", sd_etcd_jb64(key, key_len));
    err |= sd_etcd_set(put, "value", sd_etcd_jb64(v, v_len));
    err |= sd_etcd_set(op, "request_put", put);

    if (err) {
        json_decref(op);
        return NULL;
    }

    return op;
}


static json_t *
sd_etcd_range_obj(const char *key, size_t key_len, const char *end,
    size_t end_len, int64_t revision, int64_t limit)
{
    int      err;
    json_t  *r;

    r = json_object();
    if (r == NULL) {
        return NULL;
    }

    err = sd_etcd_set(r, "key", sd_etcd_jb64(key, key_len));

    if (end) {
        err |= sd_etcd_set(r, "range_end", sd_etcd_jb64(end, end_len));
    }

    if (revision > 0) {
        err |= sd_etcd_set(r, "revision", sd_etcd_jint(revision));
    }

    if (limit > 0) {
        err |= sd_etcd_set(r, "limit", sd_etcd_jint(limit));
    }

    if (err) {
        json_decref(r);
        return NULL;
    }

    return r;
}


static json_t *
sd_etcd_op_range(const char *key, size_t key_len, int range, int64_t limit)
{
    char     end[SD_ETCD_KEY_MAX];
    size_t   end_len;
    json_t  *op;

    end_len = range ? sd_etcd_range_end(key, key_len, end) : 0;

    op = json_object();
    if (op == NULL
        || sd_etcd_set(op, "request_range",
                       sd_etcd_range_obj(key, key_len, range ? end : NULL,
                                         end_len, 0, limit)))
    {
        json_decref(op);
        return NULL;
    }

    return op;
}


typedef struct {
    char        claim[SD_ETCD_KEY_MAX];
    size_t      claim_len;
    char        row[SD_ETCD_KEY_MAX];
    size_t      row_len;
    size_t      claims_at;      /* where the tree key starts in claim */
    size_t      anc[SD_ETCD_MAX_TXN_OPS];   /* ancestor key lengths */
    size_t      nanc;
    int         address;
    char        rows[SD_ETCD_KEY_MAX];      /* rows/<ws>/: the limit's */
    size_t      rows_len;
    size_t      nread;          /* the failure's reads of the claim */
} sd_etcd_keys_t;


static int
sd_etcd_keys(const sd_etcd_claim_t *c, char kind, sd_etcd_keys_t *k)
{
    size_t  i;

    k->claim_len = sd_etcd_claim_key(c->prefix, c->id, c->id_len, k->claim,
                                     sizeof(k->claim));
    k->row_len = sd_etcd_any_row_key(c->prefix, kind, c->ws, c->ws_len,
                                     c->id, c->id_len, k->row,
                                     sizeof(k->row));

    if (k->claim_len == 0 || k->row_len == 0) {
        return -1;
    }

    k->rows_len = sd_etcd_rows_prefix(c->prefix, c->ws, c->ws_len, k->rows,
                                      sizeof(k->rows));
    if (k->rows_len == 0) {
        return -1;
    }

    k->claims_at = strlen(c->prefix) + sizeof(SD_ETCD_CLAIMS) - 1;
    k->address = memchr(k->claim + k->claims_at, '@',
                        k->claim_len - k->claims_at) != NULL;
    k->nanc = 0;

    /* the ancestors: every prefix of the tree key that ends a label */
    for (i = k->claims_at; i + 1 < k->claim_len; i++) {
        if (k->claim[i] != '.') {
            continue;
        }

        /* the compares: row, ancestors, subtree */
        if (k->nanc + 2 >= SD_ETCD_MAX_TXN_OPS) {
            return -1;
        }

        k->anc[k->nanc++] = i + 1;
    }

    /* the row, each ancestor, the subtree */
    k->nread = k->nanc + 2;

    return 0;
}


/*
 * The limit's guard: no row of the workspace (rows/<ws>/...) was put
 * after rev, the revision its count was taken at (a key deleted since
 * does not show, and only lowers the count).
 */
static json_t *
sd_etcd_compare_rows_since(const sd_etcd_keys_t *k, int64_t rev)
{
    int      err;
    char     end[SD_ETCD_KEY_MAX];
    size_t   end_len;
    json_t  *c;

    c = json_object();
    if (c == NULL) {
        return NULL;
    }

    end_len = sd_etcd_range_end(k->rows, k->rows_len, end);

    err = sd_etcd_set(c, "key", sd_etcd_jb64(k->rows, k->rows_len));
    err |= sd_etcd_set(c, "range_end", sd_etcd_jb64(end, end_len));
    err |= sd_etcd_set(c, "result", json_string("LESS"));
    err |= sd_etcd_set(c, "target", json_string("MOD"));
    err |= sd_etcd_set(c, "mod_revision", sd_etcd_jint(rev + 1));

    if (err) {
        json_decref(c);
        return NULL;
    }

    return c;
}


/*
 * The reads of a failed claim: the row, each ancestor, the subtree; with
 * a limit, then the workspace's rows (one returned, all counted).
 */
static json_t *
sd_etcd_claim_failure(const sd_etcd_keys_t *k, size_t limit)
{
    size_t   i;
    json_t  *f;

    f = json_array();
    if (f == NULL) {
        return NULL;
    }

    if (sd_etcd_push(f, sd_etcd_op_range(k->row, k->row_len, 0, 0))) {
        goto failed;
    }

    for (i = 0; i < k->nanc; i++) {
        if (sd_etcd_push(f, sd_etcd_op_range(k->claim, k->anc[i], 0, 0))) {
            goto failed;
        }
    }

    if (sd_etcd_push(f, sd_etcd_op_range(k->claim, k->claim_len, !k->address,
                                         SD_ETCD_CONFLICT_READ)))
    {
        goto failed;
    }

    if (limit && sd_etcd_push(f, sd_etcd_op_range(k->rows, k->rows_len, 1, 1)))
    {
        goto failed;
    }

    return f;

failed:

    json_decref(f);
    return NULL;
}


static char *
sd_etcd_claim_build(const sd_etcd_claim_t *c, char kind,
    const sd_etcd_txn_t *seen)
{
    int              err;
    size_t           i;
    json_t          *txn, *cmp, *ok;
    sd_etcd_keys_t   k;

    if (sd_etcd_keys(c, kind, &k) != 0) {
        return NULL;
    }

    if (seen && seen->nresponses != k.nread + (c->limit ? 1 : 0)) {
        return NULL;
    }

    txn = json_object();
    cmp = json_array();
    ok = json_array();

    if (txn == NULL || cmp == NULL || ok == NULL) {
        json_decref(txn);
        json_decref(cmp);
        json_decref(ok);
        return NULL;
    }

    err = sd_etcd_set(txn, "compare", cmp);
    err |= sd_etcd_set(txn, "success", ok);

    /* the workspace does not have the row yet */
    err |= sd_etcd_push(cmp, sd_etcd_compare(k.row, k.row_len, 0, NULL, 0));

    for (i = 0; !err && i < k.nanc; i++) {
        if (seen && seen->responses[1 + i].nkvs > 0) {
            /* held by this workspace when it was read: still so */
            err |= sd_etcd_push(cmp, sd_etcd_compare(k.claim, k.anc[i], 0,
                                                     c->ws, c->ws_len));

        } else {
            err |= sd_etcd_push(cmp, sd_etcd_compare(k.claim, k.anc[i], 0,
                                                     NULL, 0));
        }
    }

    if (seen && !k.address && seen->responses[1 + k.nanc].nkvs > 0) {
        /* the name is free and everything under it is this workspace's */
        err |= sd_etcd_push(cmp, sd_etcd_compare(k.claim, k.claim_len, 0,
                                                 NULL, 0));
        err |= sd_etcd_push(cmp, sd_etcd_compare(k.claim, k.claim_len, 1,
                                                 c->ws, c->ws_len));

    } else {
        err |= sd_etcd_push(cmp, sd_etcd_compare(k.claim, k.claim_len,
                                                 !k.address, NULL, 0));
    }

    if (c->limit) {
        err |= sd_etcd_push(cmp, sd_etcd_compare_rows_since(&k,
                                                            c->limit_rev));
    }

    err |= sd_etcd_push(ok, sd_etcd_op_put(k.claim, k.claim_len, c->ws,
                                           c->ws_len));
    err |= sd_etcd_push(ok, sd_etcd_op_put(k.row, k.row_len, c->row,
                                           c->row_len));
    err |= sd_etcd_set(txn, "failure", sd_etcd_claim_failure(&k, c->limit));

    return sd_etcd_txn_dump(txn, err);
}


char *
sd_etcd_claim_txn(const sd_etcd_claim_t *c)
{
    return sd_etcd_claim_build(c, SD_ETCD_KIND_ROW, NULL);
}


char *
sd_etcd_claim_nested_txn(const sd_etcd_claim_t *c, const sd_etcd_txn_t *seen)
{
    if (seen == NULL) {
        return NULL;
    }

    return sd_etcd_claim_build(c, SD_ETCD_KIND_ROW, seen);
}


/*
 * The import of a single-node store
 * (tools/sender-domains-cluster-import.c): the claim Txn of either kind of
 * row, the legacy row's key in place of the identity row's (a legacy
 * sender's claim is the same claim key).
 */
char *
sd_etcd_import_claim_txn(const sd_etcd_claim_t *c, char kind,
    const sd_etcd_txn_t *seen)
{
    return sd_etcd_claim_build(c, kind, seen);
}


/*
 * A row put without a claim of its own: compare version(row) == 0 (and,
 * with own_claim, VALUE(claim) == ws: the name is this workspace's through
 * its other row); success put row; failure range row (and the claim).
 */
char *
sd_etcd_import_row_txn(const sd_etcd_claim_t *c, char kind, int own_claim)
{
    int      err;
    char     claim[SD_ETCD_KEY_MAX], row[SD_ETCD_KEY_MAX];
    size_t   claim_len, row_len;
    json_t  *txn, *cmp, *ok, *ko;

    claim_len = sd_etcd_claim_key(c->prefix, c->id, c->id_len, claim,
                                  sizeof(claim));
    row_len = sd_etcd_any_row_key(c->prefix, kind, c->ws, c->ws_len, c->id,
                                  c->id_len, row, sizeof(row));

    if (claim_len == 0 || row_len == 0) {
        return NULL;
    }

    txn = json_object();
    cmp = json_array();
    ok = json_array();
    ko = json_array();

    if (txn == NULL || cmp == NULL || ok == NULL || ko == NULL) {
        json_decref(txn);
        json_decref(cmp);
        json_decref(ok);
        json_decref(ko);
        return NULL;
    }

    err = sd_etcd_set(txn, "compare", cmp);
    err |= sd_etcd_set(txn, "success", ok);
    err |= sd_etcd_set(txn, "failure", ko);

    err |= sd_etcd_push(cmp, sd_etcd_compare(row, row_len, 0, NULL, 0));
    err |= sd_etcd_push(ok, sd_etcd_op_put(row, row_len, c->row,
                                           c->row_len));
    err |= sd_etcd_push(ko, sd_etcd_op_range(row, row_len, 0, 0));

    if (own_claim) {
        err |= sd_etcd_push(cmp, sd_etcd_compare(claim, claim_len, 0, c->ws,
                                                 c->ws_len));
        err |= sd_etcd_push(ko, sd_etcd_op_range(claim, claim_len, 0, 0));
    }

    return sd_etcd_txn_dump(txn, err);
}


/* DONE; EXISTS: etcd has the row; RETRY: the claim is no longer own */
sd_etcd_claim_e
sd_etcd_import_row_verdict(const sd_etcd_txn_t *txn)
{
    if (txn->succeeded) {
        return SD_ETCD_CLAIM_DONE;
    }

    if (txn->nresponses == 0 || txn->responses[0].type != SD_ETCD_RESP_RANGE)
    {
        return SD_ETCD_CLAIM_INVALID;
    }

    return txn->responses[0].nkvs ? SD_ETCD_CLAIM_EXISTS : SD_ETCD_CLAIM_RETRY;
}


static json_t *
sd_etcd_op_delete(const char *key, size_t key_len)
{
    json_t  *op, *del;

    op = json_object();
    del = json_object();

    if (op == NULL || del == NULL
        || sd_etcd_set(del, "key", sd_etcd_jb64(key, key_len)))
    {
        json_decref(op);
        json_decref(del);
        return NULL;
    }

    if (sd_etcd_set(op, "request_delete_range", del)) {
        json_decref(op);
        return NULL;
    }

    return op;
}


size_t
sd_etcd_any_row_key(const char *prefix, char kind, const char *ws,
    size_t ws_len, const char *id, size_t id_len, char *out, size_t size)
{
    char  legacy[SD_ETCD_PREFIX_MAX + sizeof(SD_ETCD_LEGACY)];

    if (kind != SD_ETCD_KIND_LEGACY) {
        return sd_etcd_row_key(prefix, ws, ws_len, id, id_len, out, size);
    }

    if (strlen(prefix) > SD_ETCD_PREFIX_MAX) {
        return 0;
    }

    snprintf(legacy, sizeof(legacy), "%s" SD_ETCD_LEGACY, prefix);

    return sd_etcd_row_key(legacy, ws, ws_len, id, id_len, out, size);
}


char
sd_etcd_parse_any_row_key(const char *prefix, const char *key, size_t len,
    char *ws_buf, size_t ws_size, size_t *ws_len, const char **id,
    size_t *id_len)
{
    char  legacy[SD_ETCD_PREFIX_MAX + sizeof(SD_ETCD_LEGACY)];

    if (sd_etcd_parse_row_key(prefix, key, len, ws_buf, ws_size, ws_len, id,
                              id_len)
        == 0)
    {
        return SD_ETCD_KIND_ROW;
    }

    if (strlen(prefix) > SD_ETCD_PREFIX_MAX) {
        return 0;
    }

    snprintf(legacy, sizeof(legacy), "%s" SD_ETCD_LEGACY, prefix);

    if (sd_etcd_parse_row_key(legacy, key, len, ws_buf, ws_size, ws_len, id,
                              id_len)
        == 0)
    {
        return SD_ETCD_KIND_LEGACY;
    }

    return 0;
}


/*
 * One row change of a node's outbox (docs/cluster.md, "Publishing"):
 *   put, claim kept:     compare version(claim) == 0
 *                        success put claim = ws, put row; failure put row
 *   put, claim released, or delete:
 *                        compare value(claim) == ws
 *                        success delete claim, put/delete row;
 *                        failure put/delete row
 * So the row always lands, a claim is only ever created where none is and
 * only ever removed when it is this workspace's.
 */
char *
sd_etcd_publish_txn(const sd_etcd_publish_t *p)
{
    int      err, release;
    char     claim[SD_ETCD_KEY_MAX], row[SD_ETCD_KEY_MAX],
             twin[SD_ETCD_KEY_MAX];
    size_t   claim_len, row_len, twin_len;
    json_t  *txn, *cmp, *ok, *ko;

    claim_len = sd_etcd_claim_key(p->prefix, p->id, p->id_len, claim,
                                  sizeof(claim));
    row_len = sd_etcd_any_row_key(p->prefix, p->kind, p->ws, p->ws_len,
                                  p->id, p->id_len, row, sizeof(row));

    /*
     * The row of the other kind for the same name (a migrated address has
     * a managed row and its legacy twin): the claim is theirs too, so a
     * row that goes, or stops holding, releases it only when no twin is
     * left, as the store's legacy_unclaim keeps a migrated row's claim.
     */
    twin_len = sd_etcd_any_row_key(p->prefix,
                                   p->kind == SD_ETCD_KIND_LEGACY
                                   ? SD_ETCD_KIND_ROW : SD_ETCD_KIND_LEGACY,
                                   p->ws, p->ws_len, p->id, p->id_len, twin,
                                   sizeof(twin));

    if (claim_len == 0 || row_len == 0 || twin_len == 0) {
        return NULL;
    }

    release = p->delete || p->release_claim;

    txn = json_object();
    cmp = json_array();
    ok = json_array();
    ko = json_array();

    err = (txn == NULL || cmp == NULL || ok == NULL || ko == NULL);

    if (err) {
        json_decref(cmp);
        json_decref(ok);
        json_decref(ko);

    } else {
        err = sd_etcd_set(txn, "compare", cmp);
        err |= sd_etcd_set(txn, "success", ok);
        err |= sd_etcd_set(txn, "failure", ko);
    }

    if (!err && release) {
        err |= sd_etcd_push(cmp, sd_etcd_compare(claim, claim_len, 0, p->ws,
                                                 p->ws_len));
        err |= sd_etcd_push(cmp, sd_etcd_compare(twin, twin_len, 0, NULL, 0));
        err |= sd_etcd_push(ok, sd_etcd_op_delete(claim, claim_len));

    } else if (!err) {
        err |= sd_etcd_push(cmp, sd_etcd_compare(claim, claim_len, 0, NULL,
                                                 0));
        err |= sd_etcd_push(ok, sd_etcd_op_put(claim, claim_len, p->ws,
                                               p->ws_len));
    }

    if (!err && p->delete) {
        err |= sd_etcd_push(ok, sd_etcd_op_delete(row, row_len));
        err |= sd_etcd_push(ko, sd_etcd_op_delete(row, row_len));

    } else if (!err) {
        err |= sd_etcd_push(ok, sd_etcd_op_put(row, row_len, p->json,
                                               p->json_len));
        err |= sd_etcd_push(ko, sd_etcd_op_put(row, row_len, p->json,
                                               p->json_len));
    }

    if (!err && p->guard) {
        txn = sd_etcd_publish_guard(txn, row, row_len, p->guard_rev);
        err = (txn == NULL);
    }

    return sd_etcd_txn_dump(txn, err);
}


/*
 * A redoable change (a poll's) lands only over the row it was made from:
 *   compare mod_revision(row) == rev
 *   success the change's own Txn (nested); failure read the row
 * so a poll worked out from an older copy never overwrites a person's
 * newer write made on another node, nor puts back a deleted row.  Takes
 * the inner Txn (freed on failure).
 */
static json_t *
sd_etcd_publish_guard(json_t *inner, const char *row, size_t row_len,
    int64_t rev)
{
    int      err;
    json_t  *txn, *cmp, *ok, *ko, *op;

    txn = json_object();
    cmp = json_array();
    ok = json_array();
    ko = json_array();
    op = json_object();

    err = (txn == NULL || cmp == NULL || ok == NULL || ko == NULL
           || op == NULL);

    if (err) {
        json_decref(inner);
        json_decref(cmp);
        json_decref(ok);
        json_decref(ko);
        json_decref(op);
        json_decref(txn);
        return NULL;
    }

    err = sd_etcd_set(txn, "compare", cmp);
    err |= sd_etcd_set(txn, "success", ok);
    err |= sd_etcd_set(txn, "failure", ko);
    err |= sd_etcd_set(op, "request_txn", inner);
    err |= sd_etcd_push(ok, op);
    err |= sd_etcd_push(cmp, sd_etcd_compare_mod(row, row_len, rev));
    err |= sd_etcd_push(ko, sd_etcd_op_range(row, row_len, 0, 0));

    if (err) {
        json_decref(txn);
        return NULL;
    }

    return txn;
}


/* 1: every response of the answer is a range read (the claim's reads) */
static int
sd_etcd_all_ranges(const sd_etcd_txn_t *txn)
{
    size_t  i;

    for (i = 0; i < txn->nresponses; i++) {
        if (txn->responses[i].type != SD_ETCD_RESP_RANGE) {
            return 0;
        }
    }

    return 1;
}


static int
sd_etcd_own(const sd_etcd_claim_t *c, const sd_etcd_kv_t *kv)
{
    return kv->value_len == c->ws_len
           && memcmp(kv->value, c->ws, c->ws_len) == 0;
}


sd_etcd_claim_e
sd_etcd_claim_verdict(const sd_etcd_claim_t *c, const sd_etcd_txn_t *txn,
    const sd_etcd_txn_t *prev, const sd_etcd_kv_t **holder)
{
    return sd_etcd_import_verdict(c, SD_ETCD_KIND_ROW, txn, prev, holder);
}


sd_etcd_claim_e
sd_etcd_import_verdict(const sd_etcd_claim_t *c, char kind,
    const sd_etcd_txn_t *txn, const sd_etcd_txn_t *prev,
    const sd_etcd_kv_t **holder)
{
    int                    own, changed;
    size_t                 i, j, n, extra;
    sd_etcd_keys_t         k;
    const sd_etcd_resp_t  *r, *sub;

    if (holder) {
        *holder = NULL;
    }

    if (txn->succeeded) {
        return SD_ETCD_CLAIM_DONE;
    }

    extra = c->limit ? 1 : 0;

    if (sd_etcd_keys(c, kind, &k) != 0 || txn->nresponses != k.nread + extra
        || (prev && prev->nresponses != k.nread + extra))
    {
        return SD_ETCD_CLAIM_INVALID;
    }

    /* the claim's reads; the limit's count (if any) follows them */
    n = k.nread;

    if (!sd_etcd_all_ranges(txn)) {
        return SD_ETCD_CLAIM_INVALID;
    }

    if (txn->responses[0].nkvs > 0) {
        return SD_ETCD_CLAIM_EXISTS;
    }

    own = 0;

    /* another workspace's ancestor, or anything of another under it */
    for (i = 1; i < n; i++) {
        r = &txn->responses[i];

        for (j = 0; j < r->nkvs; j++) {
            if (!sd_etcd_own(c, &r->kvs[j])) {
                if (holder) {
                    *holder = &r->kvs[j];
                }

                return SD_ETCD_CLAIM_CONFLICT;
            }

            if (i == n - 1 && r->kvs[j].key_len == k.claim_len
                && memcmp(r->kvs[j].key, k.claim, k.claim_len) == 0)
            {
                /* the name itself, claimed by this workspace's other row */
                return SD_ETCD_CLAIM_EXISTS;
            }

            own = 1;
        }
    }

    /* nothing of another workspace in the way: the limit, if that is it */
    if (c->limit && txn->responses[n].count >= (int64_t) c->limit) {
        return SD_ETCD_CLAIM_LIMIT;
    }

    sub = &txn->responses[n - 1];

    if (prev == NULL) {
        return (own || sub->more) ? SD_ETCD_CLAIM_NESTED : SD_ETCD_CLAIM_RETRY;
    }

    /*
     * A nested Txn failed and every key read is this workspace's: if the
     * ancestors and the subtree's emptiness are what the Txn was built
     * from, the only compare that can have failed is VALUE == workspace
     * over a subtree read in part: a key of another workspace under it.
     */
    changed = 0;

    for (i = 1; i <= k.nanc; i++) {
        changed |= (txn->responses[i].nkvs > 0)
                   != (prev->responses[i].nkvs > 0);
    }

    changed |= (sub->nkvs > 0) != (prev->responses[k.nanc + 1].nkvs > 0);

    if (!changed && sub->more) {
        return SD_ETCD_CLAIM_CONFLICT;
    }

    return own ? SD_ETCD_CLAIM_NESTED : SD_ETCD_CLAIM_RETRY;
}


/* ---- taking over an expired claim ---- */

/* a Txn object with its "compare" and "success" arrays; NULL: no memory */
static json_t *
sd_etcd_txn_new(json_t **cmp, json_t **ok)
{
    json_t  *txn;

    txn = json_object();
    *cmp = json_array();
    *ok = json_array();

    if (txn == NULL || *cmp == NULL || *ok == NULL
        || json_object_set_new(txn, "compare", *cmp) != 0)
    {
        json_decref(txn);
        json_decref(*cmp);
        json_decref(*ok);
        return NULL;
    }

    if (json_object_set_new(txn, "success", *ok) != 0) {
        json_decref(txn);
        return NULL;
    }

    return txn;
}



size_t
sd_etcd_claim_others(const sd_etcd_claim_t *c, const sd_etcd_txn_t *txn,
    const sd_etcd_kv_t **out, size_t max)
{
    size_t                 i, j, n;
    const sd_etcd_resp_t  *r;

    n = 0;

    if (txn->succeeded) {
        return 0;
    }

    /* responses[0] is the workspace's own row */
    for (i = 1; i < txn->nresponses; i++) {
        r = &txn->responses[i];

        if (r->type != SD_ETCD_RESP_RANGE) {
            return 0;
        }

        for (j = 0; j < r->nkvs && n < max; j++) {
            if (!sd_etcd_own(c, &r->kvs[j])) {
                out[n++] = &r->kvs[j];
            }
        }
    }

    return n;
}


/* the claim key of "claim" turned into its owner's row key of a kind */
static size_t
sd_etcd_owner_key(const char *prefix, const sd_etcd_kv_t *claim, char kind,
    char *out, size_t size)
{
    char    name[SD_ETCD_KEY_MAX];
    size_t  name_len;

    if (claim->value_len == 0
        || sd_etcd_claim_name(prefix, claim->key, claim->key_len, name,
                              sizeof(name), &name_len)
           != 0)
    {
        return 0;
    }

    return sd_etcd_any_row_key(prefix, kind, claim->value, claim->value_len,
                               name, name_len, out, size);
}


char *
sd_etcd_owners_txn(const char *prefix, const sd_etcd_kv_t *const *claims,
    size_t n)
{
    return sd_etcd_owners_named_txn(prefix, claims, NULL, n);
}


/* the owner's row key of a kind: of names[i] when given, else the claim's */
static size_t
sd_etcd_owner_row_key(const char *prefix, const sd_etcd_kv_t *claim,
    const char *name, char kind, char *out, size_t size)
{
    if (name == NULL) {
        return sd_etcd_owner_key(prefix, claim, kind, out, size);
    }

    return sd_etcd_any_row_key(prefix, kind, claim->value, claim->value_len,
                               name, strlen(name), out, size);
}


char *
sd_etcd_owners_named_txn(const char *prefix, const sd_etcd_kv_t *const *claims,
    char *const *names, size_t n)
{
    int          err;
    char         row[SD_ETCD_KEY_MAX], legacy[SD_ETCD_KEY_MAX];
    size_t       i, row_len, legacy_len;
    json_t      *txn, *cmp, *ok;
    const char  *name;

    if (n == 0 || n > SD_ETCD_TAKEOVER_MAX) {
        return NULL;
    }

    txn = sd_etcd_txn_new(&cmp, &ok);
    if (txn == NULL) {
        return NULL;
    }

    err = 0;

    for (i = 0; !err && i < n; i++) {
        name = names ? names[i] : NULL;

        row_len = sd_etcd_owner_row_key(prefix, claims[i], name,
                                        SD_ETCD_KIND_ROW, row, sizeof(row));
        legacy_len = sd_etcd_owner_row_key(prefix, claims[i], name,
                                           SD_ETCD_KIND_LEGACY, legacy,
                                           sizeof(legacy));

        if (row_len == 0 || legacy_len == 0) {
            err = 1;
            break;
        }

        /* still the owner's: the rows read are the claim's */
        err |= sd_etcd_push(cmp, sd_etcd_compare(claims[i]->key,
                                                 claims[i]->key_len, 0,
                                                 claims[i]->value,
                                                 claims[i]->value_len));
        err |= sd_etcd_push(ok, sd_etcd_op_range(claims[i]->key,
                                                 claims[i]->key_len, 0, 0));
        err |= sd_etcd_push(ok, sd_etcd_op_range(row, row_len, 0, 0));
        err |= sd_etcd_push(ok, sd_etcd_op_range(legacy, legacy_len, 0, 0));
    }

    return sd_etcd_txn_dump(txn, err);
}


/*
 * An address's claim key is lower case (sd_store_tree_key) while its
 * owner's row key keeps the local part as written ("CEO@acme.com"), so
 * the owners' read may find no row under the claim's spelling: those
 * claims are searched among the owner's row keys, and read again under
 * the key's spelling.
 */
size_t
sd_etcd_owners_unfound(const sd_etcd_txn_t *owners, unsigned char *missing,
    size_t max)
{
    size_t                 i, n, found;
    const sd_etcd_resp_t  *r;

    found = 0;
    n = owners->nresponses / 3;

    if (!owners->succeeded || owners->nresponses != 3 * n || n > max
        || !sd_etcd_all_ranges(owners))
    {
        return 0;
    }

    for (i = 0; i < n; i++) {
        r = &owners->responses[3 * i];

        missing[i] = r[0].nkvs > 0 && r[1].nkvs == 0 && r[2].nkvs == 0
                     && memchr(r[0].kvs[0].key, '@', r[0].kvs[0].key_len)
                        != NULL;
        found += missing[i];
    }

    return found;
}


/* a range of the keys under key (keys only: the names are what is read) */
static json_t *
sd_etcd_op_keys(const char *key, size_t key_len)
{
    json_t  *op;

    op = sd_etcd_op_range(key, key_len, 1, 0);

    if (op != NULL
        && sd_etcd_set(json_object_get(op, "request_range"), "keys_only",
                       json_true())
           != 0)
    {
        json_decref(op);
        return NULL;
    }

    return op;
}


char *
sd_etcd_owners_search_txn(const char *prefix, const sd_etcd_txn_t *owners,
    const unsigned char *missing)
{
    int                  err;
    char                 rows[SD_ETCD_KEY_MAX], lrows[SD_ETCD_KEY_MAX],
                         legacy[SD_ETCD_PREFIX_MAX + sizeof(SD_ETCD_LEGACY)];
    size_t               i, n, len, llen;
    json_t              *txn, *cmp, *ok;
    const sd_etcd_kv_t  *claim;

    if (strlen(prefix) > SD_ETCD_PREFIX_MAX) {
        return NULL;
    }

    snprintf(legacy, sizeof(legacy), "%s" SD_ETCD_LEGACY, prefix);

    txn = sd_etcd_txn_new(&cmp, &ok);
    if (txn == NULL) {
        return NULL;
    }

    err = 0;
    n = owners->nresponses / 3;

    for (i = 0; !err && i < n; i++) {
        if (!missing[i]) {
            continue;
        }

        claim = &owners->responses[3 * i].kvs[0];

        len = sd_etcd_rows_prefix(prefix, claim->value, claim->value_len,
                                  rows, sizeof(rows));
        llen = sd_etcd_rows_prefix(legacy, claim->value, claim->value_len,
                                   lrows, sizeof(lrows));

        err |= (len == 0 || llen == 0);
        err |= err ? 0 : sd_etcd_push(ok, sd_etcd_op_keys(rows, len));
        err |= err ? 0 : sd_etcd_push(ok, sd_etcd_op_keys(lrows, llen));
    }

    return sd_etcd_txn_dump(txn, err);
}


/* 1: the row key's name has the claim's tree key (*id: that name) */
static int
sd_etcd_same_name(const char *prefix, const sd_etcd_kv_t *claim,
    const sd_etcd_kv_t *row, const char **id, size_t *id_len)
{
    char    ws[SD_ETCD_KEY_MAX], tk[SD_ETCD_KEY_MAX];
    size_t  ws_len, plen, tk_len;

    if (sd_etcd_parse_any_row_key(prefix, row->key, row->key_len, ws,
                                  sizeof(ws), &ws_len, id, id_len)
        == 0)
    {
        return 0;
    }

    plen = strlen(prefix) + sizeof(SD_ETCD_CLAIMS) - 1;

    if (*id_len + 3 > sizeof(tk) || claim->key_len <= plen) {
        return 0;
    }

    tk_len = sd_store_tree_key(*id, *id_len, tk, sizeof(tk));

    return tk_len == claim->key_len - plen
           && memcmp(tk, claim->key + plen, tk_len) == 0;
}


size_t
sd_etcd_owners_found(const char *prefix, const sd_etcd_txn_t *owners,
    const unsigned char *missing, const sd_etcd_txn_t *search, char **names)
{
    size_t                 i, j, k, n, at, found, id_len;
    const char            *id;
    const sd_etcd_kv_t    *claim;
    const sd_etcd_resp_t  *r;

    found = 0;
    at = 0;
    n = owners->nresponses / 3;

    for (i = 0; i < n; i++) {
        names[i] = NULL;
    }

    if (!search->succeeded || !sd_etcd_all_ranges(search)) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (!missing[i]) {
            continue;
        }

        if (at + 2 > search->nresponses) {
            break;
        }

        claim = &owners->responses[3 * i].kvs[0];

        /* the managed rows first, then the legacy rows */
        for (k = 0; k < 2 && names[i] == NULL; k++) {
            r = &search->responses[at + k];

            for (j = 0; j < r->nkvs; j++) {
                if (sd_etcd_same_name(prefix, claim, &r->kvs[j], &id,
                                      &id_len))
                {
                    names[i] = strndup(id, id_len);
                    found += (names[i] != NULL);
                    break;
                }
            }
        }

        at += 2;
    }

    return found;
}


/* the claims an owners' read was built from, as read back (0: one went) */
size_t
sd_etcd_owners_claims(const sd_etcd_txn_t *owners, const sd_etcd_kv_t **out,
    size_t max)
{
    size_t  i, n;

    n = owners->nresponses / 3;

    if (owners->nresponses != 3 * n || n > max) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (owners->responses[3 * i].nkvs == 0) {
            return 0;
        }

        out[i] = &owners->responses[3 * i].kvs[0];
    }

    return n;
}


/* compare mod_revision(key) == rev */
static json_t *
sd_etcd_compare_mod(const char *key, size_t key_len, int64_t rev)
{
    int      err;
    json_t  *c;

    c = json_object();
    if (c == NULL) {
        return NULL;
    }

    err = sd_etcd_set(c, "key", sd_etcd_jb64(key, key_len));
    err |= sd_etcd_set(c, "result", json_string("EQUAL"));
    err |= sd_etcd_set(c, "target", json_string("MOD"));
    err |= sd_etcd_set(c, "mod_revision", sd_etcd_jint(rev));

    if (err) {
        json_decref(c);
        return NULL;
    }

    return c;
}


/* the legacy row key of a managed row's key (the same name) */
static size_t
sd_etcd_row_legacy_key(const char *prefix, const sd_etcd_kv_t *row, char *out,
    size_t size)
{
    char         ws[SD_ETCD_KEY_MAX];
    size_t       ws_len, id_len;
    const char  *id;

    if (sd_etcd_parse_row_key(prefix, row->key, row->key_len, ws, sizeof(ws),
                              &ws_len, &id, &id_len)
        != 0)
    {
        return 0;
    }

    return sd_etcd_any_row_key(prefix, SD_ETCD_KIND_LEGACY, ws, ws_len, id,
                               id_len, out, size);
}


/*
 * Whether a claim's row still holds it at "now", as the single-node
 * store's claim check says: 1 holds; 0 free, with *expired the row as it
 * is to be written (NULL: the row stays as it is).
 */
static int
sd_etcd_row_holds(const sd_etcd_kv_t *row, int64_t now, int64_t grace,
    char **expired)
{
    json_t  *j;

    *expired = NULL;

    j = json_loadb(row->value, row->value_len, 0, NULL);
    if (j == NULL) {
        return 1;
    }

    if (sd_row_unproven(j) || sd_row_in_state(j, SD_STATE_FAILED)) {
        /* holds nothing (its claim key should be gone already) */
        json_decref(j);
        return 0;
    }

    if (!sd_row_expire(j, now)) {
        json_decref(j);
        return 1;       /* verified, or not expired yet */
    }

    sd_row_abandon(j, now, grace);
    *expired = json_dumps(j, JSON_COMPACT);
    json_decref(j);

    return *expired == NULL ? 1 : 0;
}


char *
sd_etcd_takeover_txn(const char *prefix, const sd_etcd_txn_t *owners,
    int64_t now, int64_t grace, sd_etcd_claim_e *verdict,
    const sd_etcd_kv_t **holder)
{
    int                    err;
    char                  *out, *expired, legacy[SD_ETCD_KEY_MAX];
    size_t                 i, n, legacy_len;
    json_t                *txn, *cmp, *ok;
    const sd_etcd_kv_t    *claim, *row;
    const sd_etcd_resp_t  *r;

    *verdict = SD_ETCD_CLAIM_INVALID;

    if (holder) {
        *holder = NULL;
    }

    n = owners->nresponses / 3;

    if (!owners->succeeded) {
        /* a claim went or changed owner since it was read: claim again */
        *verdict = SD_ETCD_CLAIM_RETRY;
        return NULL;
    }

    if (n == 0 || owners->nresponses != 3 * n) {
        return NULL;
    }

    if (!sd_etcd_all_ranges(owners)) {
        return NULL;
    }

    txn = sd_etcd_txn_new(&cmp, &ok);
    if (txn == NULL) {
        return NULL;
    }

    err = 0;

    for (i = 0; !err && i < n; i++) {
        r = &owners->responses[3 * i];

        if (r[0].nkvs == 0 || r[2].nkvs > 0 || r[1].nkvs == 0) {
            /*
             * A legacy sender's claim holds for good; a claim with no row
             * of its owner blocks, as in the single-node store.
             */
            *verdict = SD_ETCD_CLAIM_CONFLICT;
            claim = r[0].nkvs ? &r[0].kvs[0] : NULL;
            goto held;
        }

        claim = &r[0].kvs[0];
        row = &r[1].kvs[0];

        if (sd_etcd_row_holds(row, now, grace, &expired)) {
            *verdict = SD_ETCD_CLAIM_CONFLICT;
            goto held;
        }

        /* the row's own spelling (an address's local part as written) */
        legacy_len = sd_etcd_row_legacy_key(prefix, row, legacy,
                                            sizeof(legacy));
        err |= (legacy_len == 0);

        err |= sd_etcd_push(cmp, sd_etcd_compare_mod(claim->key,
                                                     claim->key_len,
                                                     claim->mod_revision));
        err |= sd_etcd_push(cmp, sd_etcd_compare(claim->key, claim->key_len,
                                                 0, claim->value,
                                                 claim->value_len));
        err |= sd_etcd_push(cmp, sd_etcd_compare_mod(row->key, row->key_len,
                                                     row->mod_revision));
        err |= sd_etcd_push(cmp, sd_etcd_compare(legacy, legacy_len, 0, NULL,
                                                 0));
        err |= sd_etcd_push(ok, sd_etcd_op_delete(claim->key,
                                                  claim->key_len));

        if (expired) {
            err |= sd_etcd_push(ok, sd_etcd_op_put(row->key, row->key_len,
                                                   expired, strlen(expired)));
            free(expired);
        }
    }

    if (err) {
        *verdict = SD_ETCD_CLAIM_INVALID;
        goto failed;
    }

    out = json_dumps(txn, JSON_COMPACT);
    json_decref(txn);

    *verdict = out ? SD_ETCD_CLAIM_DONE : SD_ETCD_CLAIM_INVALID;

    return out;

held:

    if (holder) {
        *holder = claim;
    }

failed:

    json_decref(txn);

    return NULL;
}


/* one owner's row read by the owners' Txn, as a record (text: free()) */
static int
sd_etcd_kv_record(const char *json, size_t len, sd_record_t *rec, char **text)
{
    int      rc;
    json_t  *j;

    j = json_loadb(json, len, 0, NULL);
    if (j == NULL) {
        return -1;
    }

    rc = sd_row_to_record(j, rec, text);
    json_decref(j);

    return rc;
}


size_t
sd_etcd_takeover_events(sd_store_t *store, const char *prefix,
    const sd_etcd_txn_t *owners, int64_t now, int64_t grace)
{
    char                  *expired, *old_text, *new_text, ws[SD_ETCD_KEY_MAX];
    size_t                 i, n, done, ws_len, id_len;
    const char            *id;
    sd_record_t            old, rec;
    const sd_etcd_kv_t    *row;
    const sd_etcd_resp_t  *r;

    done = 0;
    n = owners->nresponses / 3;

    for (i = 0; i < n && owners->nresponses == 3 * n; i++) {
        r = &owners->responses[3 * i];

        if (r[1].nkvs == 0) {
            continue;
        }

        row = &r[1].kvs[0];

        /* the same rule, at the same second, as the Txn that committed */
        if (sd_etcd_row_holds(row, now, grace, &expired) || expired == NULL) {
            continue;
        }

        old_text = NULL;
        new_text = NULL;

        if (sd_etcd_parse_row_key(prefix, row->key, row->key_len, ws,
                                  sizeof(ws), &ws_len, &id, &id_len)
               == 0
            && sd_etcd_kv_record(row->value, row->value_len, &old, &old_text)
               == 0
            && sd_etcd_kv_record(expired, strlen(expired), &rec, &new_text)
               == 0
            && sd_store_events_of(store, ws, ws_len, id, id_len, &old, &rec)
               == SD_STORE_OK)
        {
            done++;
        }

        free(old_text);
        free(new_text);
        free(expired);
    }

    return done;
}


/* ---- PUT /legacy's claims ---- */

int
sd_etcd_claim_path(const char *prefix, const char *id, size_t id_len,
    char *key, size_t size, size_t *key_len, size_t *anc, size_t *nanc)
{
    size_t  i, at;

    *key_len = sd_etcd_claim_key(prefix, id, id_len, key, size);
    if (*key_len == 0) {
        return -1;
    }

    at = strlen(prefix) + sizeof(SD_ETCD_CLAIMS) - 1;
    *nanc = 0;

    for (i = at; i + 1 < *key_len; i++) {
        if (key[i] != '.') {
            continue;
        }

        if (*nanc + 2 >= SD_ETCD_MAX_TXN_OPS) {
            return -1;
        }

        anc[(*nanc)++] = i + 1;
    }

    return 0;
}


char *
sd_etcd_read_txn(const sd_etcd_guard_t *keys, size_t n)
{
    int      err;
    size_t   i;
    json_t  *txn, *ok;

    if (n == 0 || n > SD_ETCD_MAX_TXN_OPS) {
        return NULL;
    }

    txn = json_object();
    ok = json_array();

    if (txn == NULL || ok == NULL) {
        json_decref(txn);
        json_decref(ok);
        return NULL;
    }

    err = sd_etcd_set(txn, "success", ok);

    for (i = 0; !err && i < n; i++) {
        err |= sd_etcd_push(ok, sd_etcd_op_range(keys[i].key, keys[i].len, 0,
                                                 0));
    }

    return sd_etcd_txn_dump(txn, err);
}


char *
sd_etcd_guard_txn(const sd_etcd_guard_t *g, size_t n, const char *ws,
    size_t ws_len)
{
    int      err;
    size_t   i, puts;
    json_t  *txn, *cmp, *ok;

    for (i = 0, puts = 0; i < n; i++) {
        puts += g[i].put;
    }

    if (n == 0 || n > SD_ETCD_MAX_TXN_OPS || puts > SD_ETCD_MAX_TXN_OPS) {
        return NULL;
    }

    txn = sd_etcd_txn_new(&cmp, &ok);
    if (txn == NULL) {
        return NULL;
    }

    err = 0;

    for (i = 0; !err && i < n; i++) {
        err |= sd_etcd_push(cmp, sd_etcd_compare(g[i].key, g[i].len, 0,
                                                 g[i].own ? ws : NULL,
                                                 g[i].own ? ws_len : 0));
        if (g[i].put) {
            err |= sd_etcd_push(ok, sd_etcd_op_put(g[i].key, g[i].len, ws,
                                                   ws_len));
        }
    }

    return sd_etcd_txn_dump(txn, err);
}


char *
sd_etcd_release_txn(const sd_etcd_guard_t *g, size_t n, const char *ws,
    size_t ws_len)
{
    int      err;
    size_t   i;
    json_t  *txn, *cmp, *ok;

    if (n == 0 || 2 * n > SD_ETCD_MAX_TXN_OPS) {
        return NULL;
    }

    txn = sd_etcd_txn_new(&cmp, &ok);
    if (txn == NULL) {
        return NULL;
    }

    err = 0;

    for (i = 0; !err && i < n; i++) {
        err |= sd_etcd_push(cmp, sd_etcd_compare(g[i].key, g[i].len, 0, ws,
                                                 ws_len));
        err |= sd_etcd_push(cmp, sd_etcd_compare_mod(g[i].key, g[i].len,
                                                     g[i].rev));
        err |= sd_etcd_push(ok, sd_etcd_op_delete(g[i].key, g[i].len));
    }

    return sd_etcd_txn_dump(txn, err);
}


char *
sd_etcd_range_body(const char *key, size_t key_len, const char *range_end,
    size_t range_end_len, int64_t revision, int64_t limit)
{
    char    *out;
    json_t  *r;

    r = sd_etcd_range_obj(key, key_len, range_end, range_end_len, revision,
                          limit);
    if (r == NULL) {
        return NULL;
    }

    out = json_dumps(r, JSON_COMPACT);
    json_decref(r);

    return out;
}


char *
sd_etcd_watch_body(const char *prefix, int64_t start_revision)
{
    int      err;
    char    *out, end[SD_ETCD_PREFIX_MAX];
    size_t   len, end_len;
    json_t  *w, *cr;

    len = strlen(prefix);
    if (len == 0 || len > SD_ETCD_PREFIX_MAX) {
        return NULL;
    }

    end_len = sd_etcd_range_end(prefix, len, end);

    w = json_object();
    cr = json_object();

    if (w == NULL || cr == NULL) {
        json_decref(w);
        json_decref(cr);
        return NULL;
    }

    err = sd_etcd_set(w, "create_request", cr);
    err |= sd_etcd_set(cr, "key", sd_etcd_jb64(prefix, len));
    err |= sd_etcd_set(cr, "range_end", sd_etcd_jb64(end, end_len));

    if (start_revision > 0) {
        err |= sd_etcd_set(cr, "start_revision", sd_etcd_jint(start_revision));
    }

    err |= sd_etcd_set(cr, "progress_notify", json_true());

    out = err ? NULL : json_dumps(w, JSON_COMPACT);
    json_decref(w);

    return out;
}


/* ---- answers ---- */

/* an int64 as the gateway writes it (a string), or a JSON integer */
static int
sd_etcd_get_int(json_t *o, const char *name, int64_t *v)
{
    char        *end;
    json_t      *j;
    long long    n;
    const char  *s;

    j = json_object_get(o, name);

    if (j == NULL) {
        *v = 0;
        return 0;
    }

    if (json_is_integer(j)) {
        *v = json_integer_value(j);
        return 0;
    }

    if (!json_is_string(j)) {
        return -1;
    }

    s = json_string_value(j);
    errno = 0;
    n = strtoll(s, &end, 10);

    if (errno != 0 || end == s || *end != '\0') {
        return -1;
    }

    *v = n;

    return 0;
}


static int
sd_etcd_get_bytes(json_t *o, const char *name, char **out, size_t *len)
{
    json_t      *j;
    size_t       slen;
    const char  *s;

    j = json_object_get(o, name);

    if (j == NULL) {
        s = "";
        slen = 0;

    } else if (!json_is_string(j)) {
        return -1;

    } else {
        s = json_string_value(j);
        slen = json_string_length(j);
    }

    *out = malloc(slen / 4 * 3 + 1);
    if (*out == NULL) {
        return -1;
    }

    if (sd_etcd_unb64(s, slen, *out, slen / 4 * 3 + 1, len) != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }

    return 0;
}


static void
sd_etcd_kv_free(sd_etcd_kv_t *kv)
{
    free(kv->key);
    free(kv->value);
    kv->key = NULL;
    kv->value = NULL;
}


static int
sd_etcd_kv(json_t *j, sd_etcd_kv_t *kv)
{
    memset(kv, 0, sizeof(sd_etcd_kv_t));

    if (!json_is_object(j)
        || sd_etcd_get_bytes(j, "key", &kv->key, &kv->key_len) != 0
        || sd_etcd_get_bytes(j, "value", &kv->value, &kv->value_len) != 0
        || sd_etcd_get_int(j, "create_revision", &kv->create_revision) != 0
        || sd_etcd_get_int(j, "mod_revision", &kv->mod_revision) != 0
        || sd_etcd_get_int(j, "version", &kv->version) != 0
        || sd_etcd_get_int(j, "lease", &kv->lease) != 0
        || kv->key_len == 0)
    {
        sd_etcd_kv_free(kv);
        return -1;
    }

    return 0;
}


static int
sd_etcd_range_resp(json_t *j, sd_etcd_resp_t *r)
{
    size_t   i;
    json_t  *kvs, *more;

    r->type = SD_ETCD_RESP_RANGE;

    if (!json_is_object(j)) {
        return -1;
    }

    kvs = json_object_get(j, "kvs");
    more = json_object_get(j, "more");

    if (sd_etcd_get_int(j, "count", &r->count) != 0
        || (kvs && !json_is_array(kvs)) || (more && !json_is_boolean(more)))
    {
        return -1;
    }

    r->more = json_is_true(more);

    if (kvs == NULL || json_array_size(kvs) == 0) {
        return 0;
    }

    r->kvs = calloc(json_array_size(kvs), sizeof(sd_etcd_kv_t));
    if (r->kvs == NULL) {
        return -1;
    }

    for (i = 0; i < json_array_size(kvs); i++) {
        if (sd_etcd_kv(json_array_get(kvs, i), &r->kvs[i]) != 0) {
            return -1;
        }

        r->nkvs++;
    }

    return 0;
}


void
sd_etcd_txn_free(sd_etcd_txn_t *txn)
{
    size_t  i, j;

    for (i = 0; i < txn->nresponses; i++) {
        for (j = 0; j < txn->responses[i].nkvs; j++) {
            sd_etcd_kv_free(&txn->responses[i].kvs[j]);
        }

        free(txn->responses[i].kvs);
    }

    free(txn->responses);
    free(txn->message);
    memset(txn, 0, sizeof(sd_etcd_txn_t));
}


/* {"error":"…","message":"…","code":N}: the gateway's error answer */
static sd_etcd_rc_e
sd_etcd_error(json_t *root, int *code, char **message)
{
    int64_t      c;
    json_t      *m;
    const char  *s;

    m = json_object_get(root, "message");
    if (m == NULL || !json_is_string(m)) {
        m = json_object_get(root, "error");
    }

    if (sd_etcd_get_int(root, "code", &c) != 0) {
        c = -1;
    }

    *code = (int) c;
    s = json_is_string(m) ? json_string_value(m) : "";
    *message = strdup(s);

    if (*message == NULL) {
        return SD_ETCD_NOMEM;
    }

    /* gRPC OUT_OF_RANGE: "required revision has been compacted" */
    if (c == 11 || strstr(s, "compacted") != NULL) {
        return SD_ETCD_COMPACTED;
    }

    return SD_ETCD_SERVER_ERROR;
}


static json_t *
sd_etcd_load(const char *body, size_t len)
{
    json_t  *root;

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);

    if (root != NULL && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }

    return root;
}


static int
sd_etcd_header(json_t *root, int64_t *revision)
{
    json_t  *h;

    h = json_object_get(root, "header");

    if (h == NULL) {
        *revision = 0;
        return 0;
    }

    if (!json_is_object(h)) {
        return -1;
    }

    return sd_etcd_get_int(h, "revision", revision);
}


/*
 * The start of every answer: the JSON object, or the gateway's error
 * answer (SD_ETCD_SERVER_ERROR, SD_ETCD_COMPACTED) in txn.
 */
static sd_etcd_rc_e
sd_etcd_open(const char *body, size_t len, sd_etcd_txn_t *txn, json_t **out)
{
    json_t        *root;
    sd_etcd_rc_e   rc;

    memset(txn, 0, sizeof(sd_etcd_txn_t));
    *out = NULL;

    root = sd_etcd_load(body, len);
    if (root == NULL) {
        return SD_ETCD_BAD_JSON;
    }

    if (json_object_get(root, "error") != NULL) {
        rc = sd_etcd_error(root, &txn->code, &txn->message);
        json_decref(root);
        return rc;
    }

    *out = root;

    return SD_ETCD_OK;
}


sd_etcd_rc_e
sd_etcd_parse_txn(const char *body, size_t len, sd_etcd_txn_t *txn)
{
    size_t        i;
    json_t       *root, *resps, *r, *v, *ok;
    sd_etcd_rc_e  rc;

    rc = sd_etcd_open(body, len, txn, &root);
    if (rc != SD_ETCD_OK) {
        return rc;
    }

    rc = SD_ETCD_BAD_JSON;
    ok = json_object_get(root, "succeeded");
    resps = json_object_get(root, "responses");

    if (sd_etcd_header(root, &txn->revision) != 0 || txn->revision <= 0
        || (ok && !json_is_boolean(ok)) || (resps && !json_is_array(resps)))
    {
        goto done;
    }

    txn->succeeded = json_is_true(ok);

    if (resps && json_array_size(resps) > 0) {
        txn->responses = calloc(json_array_size(resps),
                                sizeof(sd_etcd_resp_t));
        if (txn->responses == NULL) {
            rc = SD_ETCD_NOMEM;
            goto done;
        }
    }

    for (i = 0; resps && i < json_array_size(resps); i++) {
        sd_etcd_resp_t  *out = &txn->responses[i];

        r = json_array_get(resps, i);
        if (!json_is_object(r) || json_object_size(r) != 1) {
            goto done;
        }

        txn->nresponses++;

        if ((v = json_object_get(r, "response_range")) != NULL) {
            if (sd_etcd_range_resp(v, out) != 0) {
                goto done;
            }

        } else if ((v = json_object_get(r, "response_put")) != NULL) {
            out->type = SD_ETCD_RESP_PUT;

        } else if ((v = json_object_get(r, "response_delete_range"))
                   != NULL)
        {
            out->type = SD_ETCD_RESP_DELETE;

            if (!json_is_object(v)
                || sd_etcd_get_int(v, "deleted", &out->deleted) != 0)
            {
                goto done;
            }

        } else if ((v = json_object_get(r, "response_txn")) != NULL) {
            out->type = SD_ETCD_RESP_TXN;

        } else {
            goto done;
        }
    }

    rc = SD_ETCD_OK;

done:

    json_decref(root);

    return rc;
}


sd_etcd_rc_e
sd_etcd_parse_range(const char *body, size_t len, sd_etcd_txn_t *txn)
{
    json_t        *root;
    sd_etcd_rc_e   rc;

    rc = sd_etcd_open(body, len, txn, &root);
    if (rc != SD_ETCD_OK) {
        return rc;
    }

    rc = SD_ETCD_BAD_JSON;

    txn->responses = calloc(1, sizeof(sd_etcd_resp_t));
    if (txn->responses == NULL) {
        rc = SD_ETCD_NOMEM;
        goto done;
    }

    txn->nresponses = 1;
    txn->succeeded = 1;

    if (sd_etcd_header(root, &txn->revision) != 0 || txn->revision <= 0
        || sd_etcd_range_resp(root, &txn->responses[0]) != 0)
    {
        goto done;
    }

    rc = SD_ETCD_OK;

done:

    json_decref(root);

    return rc;
}


void
sd_etcd_watch_free(sd_etcd_watch_t *w)
{
    size_t  i;

    for (i = 0; i < w->nevents; i++) {
        sd_etcd_kv_free(&w->events[i].kv);
    }

    free(w->events);
    free(w->message);
    memset(w, 0, sizeof(sd_etcd_watch_t));
}


sd_etcd_rc_e
sd_etcd_parse_watch(const char *line, size_t len, sd_etcd_watch_t *w)
{
    size_t        i;
    json_t       *root, *res, *evs, *ev, *t, *b, *reason;
    sd_etcd_rc_e  rc;

    memset(w, 0, sizeof(sd_etcd_watch_t));

    root = sd_etcd_load(line, len);
    if (root == NULL) {
        return SD_ETCD_BAD_JSON;
    }

    /* a stream error: {"error":{"grpc_code":…,"http_code":…,"message":…}} */
    res = json_object_get(root, "error");
    if (res != NULL) {
        rc = SD_ETCD_BAD_JSON;

        if (json_is_object(res)) {
            int64_t  code;

            if (sd_etcd_get_int(res, "grpc_code", &code) == 0) {
                rc = sd_etcd_error(res, &w->code, &w->message);
                w->code = (int) code;
                rc = (code == 11) ? SD_ETCD_COMPACTED : rc;
            }

        } else {
            rc = sd_etcd_error(root, &w->code, &w->message);
        }

        json_decref(root);
        return rc;
    }

    rc = SD_ETCD_BAD_JSON;
    res = json_object_get(root, "result");

    if (!json_is_object(res)) {
        goto done;
    }

    evs = json_object_get(res, "events");
    reason = json_object_get(res, "cancel_reason");

    if (sd_etcd_header(res, &w->revision) != 0
        || sd_etcd_get_int(res, "watch_id", &w->watch_id) != 0
        || sd_etcd_get_int(res, "compact_revision", &w->compact_revision)
           != 0
        || (evs && !json_is_array(evs))
        || (reason && !json_is_string(reason)))
    {
        goto done;
    }

    b = json_object_get(res, "created");
    w->created = json_is_true(b);
    b = json_object_get(res, "canceled");
    w->canceled = json_is_true(b);

    if (reason) {
        w->message = strdup(json_string_value(reason));
        if (w->message == NULL) {
            rc = SD_ETCD_NOMEM;
            goto done;
        }
    }

    if (evs && json_array_size(evs) > 0) {
        w->events = calloc(json_array_size(evs), sizeof(sd_etcd_event_t));
        if (w->events == NULL) {
            rc = SD_ETCD_NOMEM;
            goto done;
        }
    }

    for (i = 0; evs && i < json_array_size(evs); i++) {
        ev = json_array_get(evs, i);

        if (!json_is_object(ev)) {
            goto done;
        }

        /* PUT is proto3's default (0), so the gateway leaves it out */
        t = json_object_get(ev, "type");

        if (t == NULL || (json_is_string(t)
                          && strcmp(json_string_value(t), "PUT") == 0))
        {
            w->events[i].type = SD_ETCD_EVENT_PUT;

        } else if (json_is_string(t)
                   && strcmp(json_string_value(t), "DELETE") == 0)
        {
            w->events[i].type = SD_ETCD_EVENT_DELETE;

        } else {
            goto done;
        }

        if (sd_etcd_kv(json_object_get(ev, "kv"), &w->events[i].kv) != 0) {
            goto done;
        }

        /* counted before any further check: sd_etcd_watch_free() frees it */
        w->nevents++;

        if (w->events[i].kv.mod_revision <= 0) {
            goto done;
        }

        /* the events of one message are at most its header's revision */
        if (w->revision > 0 && w->events[i].kv.mod_revision > w->revision) {
            goto done;
        }
    }

    rc = SD_ETCD_OK;

done:

    json_decref(root);

    return rc;
}


/* ---- the node's lease, its key and the refresher's leader ---- */

int
sd_etcd_node_ok(const char *name, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len == 0 || len > SD_ETCD_NODE_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'
              || c == ':'))
        {
            return 0;
        }
    }

    return 1;
}


static char *
sd_etcd_one_int(const char *name, int64_t v)
{
    char    *out;
    json_t  *o;

    o = json_object();
    if (o == NULL || sd_etcd_set(o, name, sd_etcd_jint(v))) {
        json_decref(o);
        return NULL;
    }

    out = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    return out;
}


char *
sd_etcd_lease_grant_body(int64_t ttl)
{
    return sd_etcd_one_int("TTL", ttl);
}


char *
sd_etcd_lease_id_body(int64_t id)
{
    return sd_etcd_one_int("ID", id);
}


sd_etcd_rc_e
sd_etcd_parse_lease(const char *body, size_t len, int64_t *id, int64_t *ttl)
{
    json_t         *root, *res;
    sd_etcd_rc_e    rc;
    sd_etcd_txn_t   err;
    int64_t         revision;

    *id = 0;
    *ttl = 0;

    rc = sd_etcd_open(body, len, &err, &root);
    if (rc != SD_ETCD_OK) {
        sd_etcd_txn_free(&err);
        return rc;
    }

    /* a keepalive's answer is one message of a stream: {"result":{…}} */
    res = json_object_get(root, "result");
    if (res == NULL) {
        res = root;
    }

    rc = SD_ETCD_BAD_JSON;

    if (json_is_object(res)
        && sd_etcd_header(res, &revision) == 0
        && sd_etcd_get_int(res, "ID", id) == 0
        && sd_etcd_get_int(res, "TTL", ttl) == 0
        && *id != 0 && *ttl >= 0)
    {
        rc = SD_ETCD_OK;
    }

    json_decref(root);

    return rc;
}


static json_t *
sd_etcd_op_put_lease(const char *key, size_t key_len, const char *v,
    size_t v_len, int64_t lease)
{
    json_t  *op;

    op = sd_etcd_op_put(key, key_len, v, v_len);
    if (op == NULL) {
        return NULL;
    }

    if (sd_etcd_set(json_object_get(op, "request_put"), "lease",
                    sd_etcd_jint(lease)))
    {
        json_decref(op);
        return NULL;
    }

    return op;
}


static json_t *
sd_etcd_op_count(const char *key, size_t key_len)
{
    json_t  *op;

    op = sd_etcd_op_range(key, key_len, 1, 0);
    if (op == NULL) {
        return NULL;
    }

    if (sd_etcd_set(json_object_get(op, "request_range"), "count_only",
                    json_true()))
    {
        json_decref(op);
        return NULL;
    }

    return op;
}


char *
sd_etcd_leader_txn(const char *prefix, const char *node, size_t node_len,
    int64_t lease, int put_node)
{
    int      err;
    char    *out, leader[SD_ETCD_KEY_MAX], nodes[SD_ETCD_KEY_MAX];
    size_t   plen, leader_len, nodes_len, node_key_len;
    json_t  *t, *cmp, *ok, *ko;

    plen = strlen(prefix);

    if (!sd_etcd_prefix_ok(prefix, plen) || !sd_etcd_node_ok(node, node_len)
        || lease <= 0)
    {
        return NULL;
    }

    leader_len = sd_etcd_cat(leader, sizeof(leader), 0, prefix, plen);
    leader_len = sd_etcd_cat(leader, sizeof(leader), leader_len,
                             SD_ETCD_LEADER, sizeof(SD_ETCD_LEADER) - 1);
    nodes_len = sd_etcd_cat(nodes, sizeof(nodes), 0, prefix, plen);
    nodes_len = sd_etcd_cat(nodes, sizeof(nodes), nodes_len,
                            SD_ETCD_NODES, sizeof(SD_ETCD_NODES) - 1);

    /* nodes/<node> in the same buffer, after the range's start */
    node_key_len = sd_etcd_cat(nodes, sizeof(nodes), nodes_len, node,
                               node_len);

    if (leader_len == (size_t) -1 || node_key_len == (size_t) -1) {
        return NULL;
    }

    t = json_object();
    cmp = json_array();
    ok = json_array();
    ko = json_array();

    if (t == NULL || cmp == NULL || ok == NULL || ko == NULL) {
        json_decref(t);
        json_decref(cmp);
        json_decref(ok);
        json_decref(ko);
        return NULL;
    }

    err = sd_etcd_set(t, "compare", cmp);
    err |= sd_etcd_set(t, "success", ok);
    err |= sd_etcd_set(t, "failure", ko);

    err |= sd_etcd_push(cmp, sd_etcd_compare(leader, leader_len, 0, NULL, 0));

    if (put_node) {
        err |= sd_etcd_push(ok, sd_etcd_op_put_lease(nodes, node_key_len,
                                                     node, node_len, lease));
        err |= sd_etcd_push(ko, sd_etcd_op_put_lease(nodes, node_key_len,
                                                     node, node_len, lease));
    }

    err |= sd_etcd_push(ok, sd_etcd_op_put_lease(leader, leader_len, node,
                                                 node_len, lease));
    err |= sd_etcd_push(ko, sd_etcd_op_range(leader, leader_len, 0, 0));

    err |= sd_etcd_push(ok, sd_etcd_op_count(nodes, nodes_len));
    err |= sd_etcd_push(ko, sd_etcd_op_count(nodes, nodes_len));

    out = err ? NULL : json_dumps(t, JSON_COMPACT);
    json_decref(t);

    return out;
}


int
sd_etcd_leader_verdict(const sd_etcd_txn_t *txn, const char *node,
    size_t node_len, int64_t lease, sd_etcd_leader_t *out)
{
    size_t                 i;
    const sd_etcd_kv_t    *kv;
    const sd_etcd_resp_t  *r;

    memset(out, 0, sizeof(sd_etcd_leader_t));

    /* a leading put of the node's key, when asked for */
    i = (txn->nresponses > 0 && txn->responses[0].type == SD_ETCD_RESP_PUT
         && txn->nresponses == 3) ? 1 : 0;

    if (txn->nresponses != i + 2
        || txn->responses[i + 1].type != SD_ETCD_RESP_RANGE)
    {
        return -1;
    }

    out->revision = txn->revision;
    out->nodes = txn->responses[i + 1].count;
    r = &txn->responses[i];

    if (txn->succeeded) {
        if (r->type != SD_ETCD_RESP_PUT) {
            return -1;
        }

        out->leader = 1;
        out->holder = node;
        out->holder_len = node_len;

        return 0;
    }

    if (r->type != SD_ETCD_RESP_RANGE || r->nkvs > 1) {
        return -1;
    }

    if (r->nkvs == 0) {
        /* gone between the compare and the read: cannot be, but no one */
        return 0;
    }

    kv = &r->kvs[0];
    out->holder = kv->value;
    out->holder_len = kv->value_len;
    out->leader = (kv->lease == lease && kv->value_len == node_len
                   && memcmp(kv->value, node, node_len) == 0);

    return 0;
}


/* ---- applying to the node's cache ---- */

sd_etcd_apply_e
sd_etcd_apply(int64_t have_rev, int64_t applied_rev,
    sd_etcd_event_type_e type, int64_t ev_rev, int from_watch)
{
    if (ev_rev <= 0 || ev_rev <= have_rev) {
        /* the cache already holds this change or a later one */
        return SD_ETCD_SKIP;
    }

    /*
     * A Txn's own answer the watch has already overtaken: the watch
     * applied every change up to applied_rev, this one or a later one of
     * the same key among them (a tombstone may be gone by now).
     */
    if (!from_watch && ev_rev <= applied_rev) {
        return SD_ETCD_SKIP;
    }

    return (type == SD_ETCD_EVENT_DELETE) ? SD_ETCD_APPLY_DELETE
                                          : SD_ETCD_APPLY_PUT;
}


int
sd_etcd_tombstone_done(int64_t tomb_rev, int64_t applied_rev)
{
    return applied_rev >= tomb_rev;
}
