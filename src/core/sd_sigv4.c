/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: AWS Signature Version 4.
 *
 * Follows the rules pinned down by the official aws-sig-v4 test suite and,
 * where the suite is silent, botocore (the canonical URI of non-S3
 * services is the normalised wire path encoded once more).  libcurl's
 * built-in signer (CURLOPT_AWS_SIGV4) is not used on purpose: it encodes
 * the path only once, which SES rejects for every email identity with '+'
 * or '@' in its name.
 */

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sd_sigv4.h"


#define SD_SIGV4_TERMINATOR     "aws4_request"
#define SD_SIGV4_TOKEN_HEADER   "x-amz-security-token"


/* one header after lower-casing and folding, in a shared arena */
typedef struct {
    const char             *name;
    size_t                  name_len;
    const char             *value;
    size_t                  value_len;
    size_t                  index;      /* request order, for a stable sort */
} sd_sigv4_hentry_t;


/* one query pair after re-encoding, in a shared arena */
typedef struct {
    const char             *key;
    size_t                  key_len;
    const char             *value;
    size_t                  value_len;
} sd_sigv4_qentry_t;


/* the pieces of a canonical request, each malloc'd */
typedef struct {
    char                   *uri;
    size_t                  uri_len;
    char                   *query;
    size_t                  query_len;
    char                   *headers;        /* "name:value\n" lines */
    size_t                  headers_len;
    char                   *signed_headers;
    size_t                  signed_len;
    const char             *hash;
    size_t                  hash_len;
    char                    hash_buf[SD_SHA256_HEX_LEN + 1];
} sd_sigv4_parts_t;


static const char  sd_sigv4_hex_upper[] = "0123456789ABCDEF";
static const char  sd_sigv4_hex_lower[] = "0123456789abcdef";


static int
sd_sigv4_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == '_' || c == '~';
}


static int
sd_sigv4_space(unsigned char c)
{
    /* what Python's str.split() splits ASCII on, as botocore does */
    return c == ' ' || c == '\t' || c == '\r' || c == '\n'
           || c == '\v' || c == '\f';
}


static unsigned char
sd_sigv4_lower(unsigned char c)
{
    /* ASCII only: header names must not depend on the C locale */
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c | 0x20) : c;
}


static int
sd_sigv4_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = sd_sigv4_lower(c);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static void
sd_sigv4_to_hex(char *dst, const unsigned char *src, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        dst[2 * i] = sd_sigv4_hex_lower[src[i] >> 4];
        dst[2 * i + 1] = sd_sigv4_hex_lower[src[i] & 0x0f];
    }

    dst[2 * len] = '\0';
}


const char *
sd_sigv4_strerror(sd_sigv4_rc_e rc)
{
    switch (rc) {
    case SD_SIGV4_OK:
        return "ok";
    case SD_SIGV4_EINVAL:
        return "invalid signing input";
    case SD_SIGV4_ENOMEM:
        return "out of memory";
    case SD_SIGV4_ECRYPTO:
        return "OpenSSL failure";
    }

    return "unknown error";
}


void
sd_sigv4_free(void *p)
{
    free(p);
}


size_t
sd_sigv4_uri_encode(char *dst, const char *src, size_t len, int keep_slash)
{
    size_t          i, n;
    unsigned char   c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) src[i];

        if (sd_sigv4_unreserved(c) || (keep_slash && c == '/')) {
            if (dst) {
                dst[n] = (char) c;
            }

            n++;
            continue;
        }

        if (dst) {
            dst[n] = '%';
            dst[n + 1] = sd_sigv4_hex_upper[c >> 4];
            dst[n + 2] = sd_sigv4_hex_upper[c & 0x0f];
        }

        n += 3;
    }

    return n;
}


/* decodes %XX escapes; a '%' without two hex digits stays literal */
static size_t
sd_sigv4_uri_decode(char *dst, const char *src, size_t len)
{
    int     hi, lo;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (src[i] == '%' && i + 2 < len) {
            hi = sd_sigv4_hex_value((unsigned char) src[i + 1]);
            lo = sd_sigv4_hex_value((unsigned char) src[i + 2]);

            if (hi >= 0 && lo >= 0) {
                dst[n++] = (char) ((hi << 4) | lo);
                i += 2;
                continue;
            }
        }

        dst[n++] = src[i];
    }

    return n;
}


int
sd_sigv4_amz_date(time_t t, char out[SD_SIGV4_AMZ_DATE_LEN + 1])
{
    struct tm  tm;

    if (gmtime_r(&t, &tm) == NULL
        || tm.tm_year < 0 - 1900 || tm.tm_year > 9999 - 1900)
    {
        return -1;
    }

    if (strftime(out, SD_SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm)
        != SD_SIGV4_AMZ_DATE_LEN)
    {
        return -1;
    }

    return 0;
}


int
sd_sha256_hex(const void *data, size_t len, char out[SD_SHA256_HEX_LEN + 1])
{
    unsigned int   md_len;
    unsigned char  md[EVP_MAX_MD_SIZE];

    if (data == NULL) {
        data = "";
    }

    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1
        || md_len != SD_SHA256_LEN)
    {
        return -1;
    }

    sd_sigv4_to_hex(out, md, SD_SHA256_LEN);

    return 0;
}


int
sd_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
    unsigned char out[SD_SHA256_LEN])
{
    unsigned int  md_len;

    if (key_len > INT_MAX) {
        return -1;
    }

    if (data == NULL) {
        data = "";
    }

    if (HMAC(EVP_sha256(), key, (int) key_len, data, len, out, &md_len)
        == NULL
        || md_len != SD_SHA256_LEN)
    {
        return -1;
    }

    return 0;
}


/* region, service, access key: they go into the credential scope */
static int
sd_sigv4_valid_scope_part(const char *s)
{
    const unsigned char  *p;

    if (s == NULL || *s == '\0') {
        return 0;
    }

    for (p = (const unsigned char *) s; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == ',') {
            return 0;
        }
    }

    return 1;
}


static int
sd_sigv4_valid_amz_date(const char *d)
{
    size_t  i;

    if (d == NULL || strlen(d) != SD_SIGV4_AMZ_DATE_LEN
        || d[8] != 'T' || d[15] != 'Z')
    {
        return 0;
    }

    for (i = 0; i < SD_SIGV4_AMZ_DATE_LEN; i++) {
        if (i != 8 && i != 15 && (d[i] < '0' || d[i] > '9')) {
            return 0;
        }
    }

    return 1;
}


/* an RFC 7230 token: no separators, spaces or controls in a header name */
static int
sd_sigv4_valid_header_name(const char *name, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (name == NULL || len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) name[i];

        if (c <= ' ' || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c)) {
            return 0;
        }
    }

    return 1;
}


static int
sd_sigv4_name_is(const char *name, size_t len, const char *lower)
{
    size_t  i;

    if (len != strlen(lower)) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (sd_sigv4_lower((unsigned char) name[i])
            != (unsigned char) lower[i])
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Normalised for non-S3 services the way botocore does it: empty and "."
 * segments dropped, ".." pops the previous one (never above the root),
 * and a trailing '/' kept only when something is left before it.
 */
static size_t
sd_sigv4_normalize_path(char *dst, const char *path, size_t len)
{
    size_t       n, seg_len;
    const char  *p, *end, *seg;

    n = 0;
    p = path;
    end = path + len;

    while (p < end) {
        seg = p;

        while (p < end && *p != '/') {
            p++;
        }

        seg_len = (size_t) (p - seg);

        if (p < end) {
            p++;                                /* skip the '/' */
        }

        if (seg_len == 0 || (seg_len == 1 && seg[0] == '.')) {
            continue;
        }

        if (seg_len == 2 && seg[0] == '.' && seg[1] == '.') {
            while (n > 0 && dst[n - 1] != '/') {
                n--;
            }

            if (n > 0) {
                n--;                            /* and its '/' */
            }

            continue;
        }

        dst[n++] = '/';
        memcpy(dst + n, seg, seg_len);
        n += seg_len;
    }

    if (n == 0) {
        dst[n++] = '/';

    } else if (path[len - 1] == '/') {
        dst[n++] = '/';
    }

    return n;
}


static sd_sigv4_rc_e
sd_sigv4_canonical_uri(const sd_sigv4_request_t *req, char **out,
    size_t *out_len)
{
    char        *norm, *uri;
    size_t       len, norm_len;
    const char  *path;

    path = req->path;
    len = req->path_len;

    if (len == 0) {
        path = "/";
        len = 1;
    }

    if (path == NULL || path[0] != '/' || len > SIZE_MAX / 3 - 2) {
        return SD_SIGV4_EINVAL;
    }

    /* normalising never grows the path, but "" becomes "/" */
    norm = malloc(len + 1);
    if (norm == NULL) {
        return SD_SIGV4_ENOMEM;
    }

    if (req->normalize_path) {
        norm_len = sd_sigv4_normalize_path(norm, path, len);

    } else {
        memcpy(norm, path, len);
        norm_len = len;
    }

    if (!req->double_encode_path) {
        /* S3: the wire path is already encoded once and is signed as is */
        norm[norm_len] = '\0';
        *out = norm;
        *out_len = norm_len;
        return SD_SIGV4_OK;
    }

    /*
     * Everyone else encodes the wire path once more, so "%40" in the path
     * is signed as "%2540": botocore's quote(normalize(path), safe='/~').
     */
    uri = malloc(sd_sigv4_uri_encode(NULL, norm, norm_len, 1) + 1);
    if (uri == NULL) {
        free(norm);
        return SD_SIGV4_ENOMEM;
    }

    *out_len = sd_sigv4_uri_encode(uri, norm, norm_len, 1);
    uri[*out_len] = '\0';
    *out = uri;

    free(norm);

    return SD_SIGV4_OK;
}


static int
sd_sigv4_bytes_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    int  rc;

    rc = memcmp(a, b, a_len < b_len ? a_len : b_len);

    if (rc != 0) {
        return rc;
    }

    return (a_len > b_len) - (a_len < b_len);
}


static int
sd_sigv4_qentry_cmp(const void *one, const void *two)
{
    int                       rc;
    const sd_sigv4_qentry_t  *a, *b;

    a = one;
    b = two;

    /* by encoded key, then by encoded value: Param1=Value1&Param1=value2 */
    rc = sd_sigv4_bytes_cmp(a->key, a->key_len, b->key, b->key_len);

    if (rc != 0) {
        return rc;
    }

    return sd_sigv4_bytes_cmp(a->value, a->value_len, b->value, b->value_len);
}


/* decodes then strictly re-encodes src into dst; returns the length */
static size_t
sd_sigv4_reencode(char *dst, char *scratch, const char *src, size_t len)
{
    size_t  n;

    n = sd_sigv4_uri_decode(scratch, src, len);

    return sd_sigv4_uri_encode(dst, scratch, n, 0);
}


static sd_sigv4_rc_e
sd_sigv4_canonical_query(const sd_sigv4_request_t *req, char **out,
    size_t *out_len)
{
    char               *arena, *scratch, *a, *res, *r;
    size_t              i, n, count, len, piece_len, total;
    const char         *q, *end, *piece, *eq;
    sd_sigv4_qentry_t  *e;

    len = req->query_len;

    if (len == 0) {
        res = malloc(1);
        if (res == NULL) {
            return SD_SIGV4_ENOMEM;
        }

        res[0] = '\0';
        *out = res;
        *out_len = 0;
        return SD_SIGV4_OK;
    }

    if (req->query == NULL || len > SIZE_MAX / 4) {
        return SD_SIGV4_EINVAL;
    }

    q = req->query;
    end = q + len;

    count = 1;
    for (i = 0; i < len; i++) {
        if (q[i] == '&') {
            count++;
        }
    }

    /* re-encoding at most triples each byte of the raw query */
    e = malloc(count * sizeof(sd_sigv4_qentry_t));
    arena = malloc(3 * len);
    scratch = malloc(len);

    if (e == NULL || arena == NULL || scratch == NULL) {
        free(e);
        free(arena);
        free(scratch);
        return SD_SIGV4_ENOMEM;
    }

    n = 0;
    a = arena;

    while (q < end) {
        piece = q;

        while (q < end && *q != '&') {
            q++;
        }

        piece_len = (size_t) (q - piece);

        if (q < end) {
            q++;
        }

        if (piece_len == 0) {
            continue;                           /* "a=1&&b=2" */
        }

        eq = memchr(piece, '=', piece_len);

        e[n].key = a;
        e[n].key_len = sd_sigv4_reencode(a, scratch, piece,
                                         eq ? (size_t) (eq - piece)
                                            : piece_len);
        a += e[n].key_len;

        /* a key without '=' is signed with an empty value: "key=" */
        e[n].value = a;
        e[n].value_len = eq ? sd_sigv4_reencode(a, scratch, eq + 1,
                                               piece_len
                                               - (size_t) (eq + 1 - piece))
                            : 0;
        a += e[n].value_len;

        n++;
    }

    free(scratch);

    qsort(e, n, sizeof(sd_sigv4_qentry_t), sd_sigv4_qentry_cmp);

    total = 0;
    for (i = 0; i < n; i++) {
        total += e[i].key_len + 1 + e[i].value_len + (i ? 1 : 0);
    }

    res = malloc(total + 1);
    if (res == NULL) {
        free(e);
        free(arena);
        return SD_SIGV4_ENOMEM;
    }

    r = res;

    for (i = 0; i < n; i++) {
        if (i) {
            *r++ = '&';
        }

        memcpy(r, e[i].key, e[i].key_len);
        r += e[i].key_len;
        *r++ = '=';
        memcpy(r, e[i].value, e[i].value_len);
        r += e[i].value_len;
    }

    *r = '\0';

    free(e);
    free(arena);

    *out = res;
    *out_len = total;

    return SD_SIGV4_OK;
}


/*
 * Trims the value and collapses every inner run of whitespace (folded
 * continuation lines included, quotes not special) into one space.
 */
static size_t
sd_sigv4_fold_value(char *dst, const char *src, size_t len)
{
    int            pending;
    size_t         i, n;
    unsigned char  c;

    n = 0;
    pending = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) src[i];

        if (sd_sigv4_space(c)) {
            pending = (n > 0);
            continue;
        }

        if (pending) {
            dst[n++] = ' ';
            pending = 0;
        }

        dst[n++] = (char) c;
    }

    return n;
}


static int
sd_sigv4_hentry_cmp(const void *one, const void *two)
{
    int                       rc;
    const sd_sigv4_hentry_t  *a, *b;

    a = one;
    b = two;

    rc = sd_sigv4_bytes_cmp(a->name, a->name_len, b->name, b->name_len);

    if (rc != 0) {
        return rc;
    }

    /* duplicates keep request order: qsort() alone is not stable */
    return (a->index > b->index) - (a->index < b->index);
}


/* does the caller's header list already carry the session token? */
static int
sd_sigv4_token_needed(const sd_sigv4_request_t *req)
{
    size_t  i;

    if (req->session_token == NULL || req->session_token[0] == '\0') {
        return 0;
    }

    for (i = 0; i < req->nheaders; i++) {
        if (sd_sigv4_name_is(req->headers[i].name, req->headers[i].name_len,
                             SD_SIGV4_TOKEN_HEADER))
        {
            return 0;
        }
    }

    return 1;
}


/* validates the headers and copies them, lower-cased and folded */
static sd_sigv4_rc_e
sd_sigv4_collect_headers(const sd_sigv4_request_t *req,
    sd_sigv4_hentry_t **entries, size_t *count)
{
    char                     *arena;
    size_t                    i, j, n, bytes;
    sd_sigv4_hentry_t        *e;
    const sd_sigv4_header_t  *h;
    sd_sigv4_header_t         token;

    n = req->nheaders;

    if (n == 0 || req->headers == NULL || n > SIZE_MAX / 2 / sizeof(*e)) {
        return SD_SIGV4_EINVAL;
    }

    bytes = 0;

    for (i = 0; i < n; i++) {
        h = &req->headers[i];

        if (!sd_sigv4_valid_header_name(h->name, h->name_len)
            || (h->value == NULL && h->value_len != 0)
            || h->name_len + h->value_len < h->name_len
            || bytes + h->name_len + h->value_len < bytes)
        {
            return SD_SIGV4_EINVAL;
        }

        bytes += h->name_len + h->value_len;
    }

    token.name = SD_SIGV4_TOKEN_HEADER;
    token.name_len = sizeof(SD_SIGV4_TOKEN_HEADER) - 1;
    token.value = req->session_token;
    token.value_len = 0;

    if (sd_sigv4_token_needed(req)) {
        token.value_len = strlen(req->session_token);
        bytes += token.name_len + token.value_len;
        n++;
    }

    if (bytes > SIZE_MAX - n * sizeof(*e)) {
        return SD_SIGV4_EINVAL;
    }

    /* one block: the entries, then their names and values */
    e = malloc(n * sizeof(*e) + bytes + 1);
    if (e == NULL) {
        return SD_SIGV4_ENOMEM;
    }

    arena = (char *) (e + n);

    for (i = 0; i < n; i++) {
        h = (i < req->nheaders) ? &req->headers[i] : &token;

        for (j = 0; j < h->name_len; j++) {
            arena[j] = (char) sd_sigv4_lower((unsigned char) h->name[j]);
        }

        e[i].name = arena;
        e[i].name_len = h->name_len;
        arena += h->name_len;

        e[i].value = arena;
        e[i].value_len = sd_sigv4_fold_value(arena, h->value, h->value_len);
        arena += e[i].value_len;

        e[i].index = i;
    }

    qsort(e, n, sizeof(*e), sd_sigv4_hentry_cmp);

    *entries = e;
    *count = n;

    return SD_SIGV4_OK;
}


/*
 * "name:v1,v2\n" for each distinct name in sorted order (duplicates joined
 * with ',' in request order), and the matching "name;name" list.
 */
static sd_sigv4_rc_e
sd_sigv4_canonical_headers(const sd_sigv4_request_t *req,
    sd_sigv4_parts_t *parts)
{
    char               *h, *s;
    size_t              i, n, hlen, slen;
    sd_sigv4_rc_e       rc;
    sd_sigv4_hentry_t  *e;

    rc = sd_sigv4_collect_headers(req, &e, &n);
    if (rc != SD_SIGV4_OK) {
        return rc;
    }

    hlen = 0;
    slen = 0;

    for (i = 0; i < n; i++) {
        if (i > 0 && sd_sigv4_bytes_cmp(e[i].name, e[i].name_len,
                                         e[i - 1].name, e[i - 1].name_len)
                     == 0)
        {
            hlen += 1 + e[i].value_len;                 /* ",value" */
            continue;
        }

        hlen += e[i].name_len + 1 + e[i].value_len + 1;  /* "n:v\n" */
        slen += (slen ? 1 : 0) + e[i].name_len;
    }

    h = malloc(hlen + 1);
    s = malloc(slen + 1);

    if (h == NULL || s == NULL) {
        free(h);
        free(s);
        free(e);
        return SD_SIGV4_ENOMEM;
    }

    parts->headers = h;
    parts->headers_len = hlen;
    parts->signed_headers = s;
    parts->signed_len = slen;

    for (i = 0; i < n; i++) {
        if (i > 0 && sd_sigv4_bytes_cmp(e[i].name, e[i].name_len,
                                         e[i - 1].name, e[i - 1].name_len)
                     == 0)
        {
            h[-1] = ',';                        /* replaces the '\n' */

        } else {
            if (s != parts->signed_headers) {
                *s++ = ';';
            }

            memcpy(s, e[i].name, e[i].name_len);
            s += e[i].name_len;

            memcpy(h, e[i].name, e[i].name_len);
            h += e[i].name_len;
            *h++ = ':';
        }

        memcpy(h, e[i].value, e[i].value_len);
        h += e[i].value_len;
        *h++ = '\n';
    }

    *h = '\0';
    *s = '\0';

    free(e);

    return SD_SIGV4_OK;
}


static void
sd_sigv4_parts_free(sd_sigv4_parts_t *parts)
{
    free(parts->uri);
    free(parts->query);
    free(parts->headers);
    free(parts->signed_headers);
}


static sd_sigv4_rc_e
sd_sigv4_parts(const sd_sigv4_request_t *req, sd_sigv4_parts_t *parts)
{
    sd_sigv4_rc_e  rc;

    memset(parts, 0, sizeof(*parts));

    if (req == NULL || req->method == NULL || req->method[0] == '\0'
        || (req->body == NULL && req->body_len != 0)
        || (req->payload_hash != NULL && req->payload_hash[0] == '\0'))
    {
        return SD_SIGV4_EINVAL;
    }

    rc = sd_sigv4_canonical_uri(req, &parts->uri, &parts->uri_len);

    if (rc == SD_SIGV4_OK) {
        rc = sd_sigv4_canonical_query(req, &parts->query, &parts->query_len);
    }

    if (rc == SD_SIGV4_OK) {
        rc = sd_sigv4_canonical_headers(req, parts);
    }

    if (rc != SD_SIGV4_OK) {
        sd_sigv4_parts_free(parts);
        return rc;
    }

    if (req->payload_hash) {
        parts->hash = req->payload_hash;
        parts->hash_len = strlen(req->payload_hash);
        return SD_SIGV4_OK;
    }

    /* an empty body hashes to e3b0c442...b855, which is still sent */
    if (sd_sha256_hex(req->body, req->body_len, parts->hash_buf) != 0) {
        sd_sigv4_parts_free(parts);
        return SD_SIGV4_ECRYPTO;
    }

    parts->hash = parts->hash_buf;
    parts->hash_len = SD_SHA256_HEX_LEN;

    return SD_SIGV4_OK;
}


static char *
sd_sigv4_cpy(char *dst, const char *src, size_t len)
{
    memcpy(dst, src, len);
    return dst + len;
}


static sd_sigv4_rc_e
sd_sigv4_join_parts(const sd_sigv4_request_t *req,
    const sd_sigv4_parts_t *parts, char **out, size_t *out_len)
{
    char    *res, *p;
    size_t   method_len, len;

    method_len = strlen(req->method);

    len = method_len + 1 + parts->uri_len + 1 + parts->query_len + 1
          + parts->headers_len + 1 + parts->signed_len + 1 + parts->hash_len;

    res = malloc(len + 1);
    if (res == NULL) {
        return SD_SIGV4_ENOMEM;
    }

    p = sd_sigv4_cpy(res, req->method, method_len);
    *p++ = '\n';
    p = sd_sigv4_cpy(p, parts->uri, parts->uri_len);
    *p++ = '\n';
    p = sd_sigv4_cpy(p, parts->query, parts->query_len);
    *p++ = '\n';
    p = sd_sigv4_cpy(p, parts->headers, parts->headers_len);
    *p++ = '\n';
    p = sd_sigv4_cpy(p, parts->signed_headers, parts->signed_len);
    *p++ = '\n';
    p = sd_sigv4_cpy(p, parts->hash, parts->hash_len);
    *p = '\0';

    *out = res;

    if (out_len) {
        *out_len = len;
    }

    return SD_SIGV4_OK;
}


sd_sigv4_rc_e
sd_sigv4_canonical_request(const sd_sigv4_request_t *req, char **out,
    size_t *out_len)
{
    sd_sigv4_rc_e     rc;
    sd_sigv4_parts_t  parts;

    *out = NULL;

    rc = sd_sigv4_parts(req, &parts);
    if (rc != SD_SIGV4_OK) {
        return rc;
    }

    rc = sd_sigv4_join_parts(req, &parts, out, out_len);

    sd_sigv4_parts_free(&parts);

    return rc;
}


sd_sigv4_rc_e
sd_sigv4_signed_headers(const sd_sigv4_request_t *req, char **out,
    size_t *out_len)
{
    sd_sigv4_rc_e     rc;
    sd_sigv4_parts_t  parts;

    *out = NULL;

    rc = sd_sigv4_parts(req, &parts);
    if (rc != SD_SIGV4_OK) {
        return rc;
    }

    *out = parts.signed_headers;
    parts.signed_headers = NULL;

    if (out_len) {
        *out_len = parts.signed_len;
    }

    sd_sigv4_parts_free(&parts);

    return SD_SIGV4_OK;
}


static int
sd_sigv4_valid_scope(const sd_sigv4_request_t *req)
{
    return sd_sigv4_valid_amz_date(req->amz_date)
           && sd_sigv4_valid_scope_part(req->region)
           && sd_sigv4_valid_scope_part(req->service);
}


sd_sigv4_rc_e
sd_sigv4_string_to_sign(const sd_sigv4_request_t *req, const char *creq,
    size_t creq_len, char **out, size_t *out_len)
{
    char    *res, *p;
    char     hash[SD_SHA256_HEX_LEN + 1];
    size_t   len, region_len, service_len;

    *out = NULL;

    if (req == NULL || !sd_sigv4_valid_scope(req) || creq == NULL) {
        return SD_SIGV4_EINVAL;
    }

    if (sd_sha256_hex(creq, creq_len, hash) != 0) {
        return SD_SIGV4_ECRYPTO;
    }

    region_len = strlen(req->region);
    service_len = strlen(req->service);

    /* algorithm \n date \n yyyymmdd/region/service/aws4_request \n hash */
    len = sizeof(SD_SIGV4_ALGORITHM) - 1 + 1 + SD_SIGV4_AMZ_DATE_LEN + 1
          + 8 + 1 + region_len + 1 + service_len + 1
          + sizeof(SD_SIGV4_TERMINATOR) - 1 + 1 + SD_SHA256_HEX_LEN;

    res = malloc(len + 1);
    if (res == NULL) {
        return SD_SIGV4_ENOMEM;
    }

    p = sd_sigv4_cpy(res, SD_SIGV4_ALGORITHM, sizeof(SD_SIGV4_ALGORITHM) - 1);
    *p++ = '\n';
    p = sd_sigv4_cpy(p, req->amz_date, SD_SIGV4_AMZ_DATE_LEN);
    *p++ = '\n';
    p = sd_sigv4_cpy(p, req->amz_date, 8);
    *p++ = '/';
    p = sd_sigv4_cpy(p, req->region, region_len);
    *p++ = '/';
    p = sd_sigv4_cpy(p, req->service, service_len);
    *p++ = '/';
    p = sd_sigv4_cpy(p, SD_SIGV4_TERMINATOR, sizeof(SD_SIGV4_TERMINATOR) - 1);
    *p++ = '\n';
    p = sd_sigv4_cpy(p, hash, SD_SHA256_HEX_LEN);
    *p = '\0';

    *out = res;

    if (out_len) {
        *out_len = len;
    }

    return SD_SIGV4_OK;
}


sd_sigv4_rc_e
sd_sigv4_signing_key(const char *secret_key, const char *amz_date,
    const char *region, const char *service, unsigned char key[SD_SHA256_LEN])
{
    int             rc;
    char           *k_secret;
    size_t          secret_len;
    unsigned char   k1[SD_SHA256_LEN], k2[SD_SHA256_LEN];

    if (secret_key == NULL || secret_key[0] == '\0'
        || !sd_sigv4_valid_amz_date(amz_date)
        || !sd_sigv4_valid_scope_part(region)
        || !sd_sigv4_valid_scope_part(service))
    {
        return SD_SIGV4_EINVAL;
    }

    secret_len = strlen(secret_key);

    if (secret_len > INT_MAX - 4) {
        return SD_SIGV4_EINVAL;
    }

    k_secret = malloc(4 + secret_len);
    if (k_secret == NULL) {
        return SD_SIGV4_ENOMEM;
    }

    memcpy(k_secret, "AWS4", 4);
    memcpy(k_secret + 4, secret_key, secret_len);

    /* two buffers: an HMAC output never aliases its own key */
    rc = sd_hmac_sha256(k_secret, 4 + secret_len, amz_date, 8, k1);
    rc = rc || sd_hmac_sha256(k1, sizeof(k1), region, strlen(region), k2);
    rc = rc || sd_hmac_sha256(k2, sizeof(k2), service, strlen(service), k1);
    rc = rc || sd_hmac_sha256(k1, sizeof(k1), SD_SIGV4_TERMINATOR,
                              sizeof(SD_SIGV4_TERMINATOR) - 1, key);

    /* the secret and every intermediate key are as good as the secret */
    OPENSSL_cleanse(k_secret, 4 + secret_len);
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    free(k_secret);

    if (rc) {
        OPENSSL_cleanse(key, SD_SHA256_LEN);
        return SD_SIGV4_ECRYPTO;
    }

    return SD_SIGV4_OK;
}


sd_sigv4_rc_e
sd_sigv4_signature(const unsigned char key[SD_SHA256_LEN], const char *sts,
    size_t sts_len, char out[SD_SHA256_HEX_LEN + 1])
{
    unsigned char  mac[SD_SHA256_LEN];

    if (key == NULL || sts == NULL) {
        return SD_SIGV4_EINVAL;
    }

    if (sd_hmac_sha256(key, SD_SHA256_LEN, sts, sts_len, mac) != 0) {
        return SD_SIGV4_ECRYPTO;
    }

    sd_sigv4_to_hex(out, mac, SD_SHA256_LEN);

    return SD_SIGV4_OK;
}


static sd_sigv4_rc_e
sd_sigv4_format_authorization(const sd_sigv4_request_t *req,
    const sd_sigv4_parts_t *parts, const char *signature, char **out,
    size_t *out_len)
{
    char        *res, *p;
    size_t       len, ak_len, region_len, service_len;
    static const char  cred[] = SD_SIGV4_ALGORITHM " Credential=";
    static const char  sh[] = ", SignedHeaders=";
    static const char  sig[] = ", Signature=";

    ak_len = strlen(req->access_key);
    region_len = strlen(req->region);
    service_len = strlen(req->service);

    len = sizeof(cred) - 1 + ak_len + 1 + 8 + 1 + region_len + 1
          + service_len + 1 + sizeof(SD_SIGV4_TERMINATOR) - 1
          + sizeof(sh) - 1 + parts->signed_len
          + sizeof(sig) - 1 + SD_SHA256_HEX_LEN;

    res = malloc(len + 1);
    if (res == NULL) {
        return SD_SIGV4_ENOMEM;
    }

    p = sd_sigv4_cpy(res, cred, sizeof(cred) - 1);
    p = sd_sigv4_cpy(p, req->access_key, ak_len);
    *p++ = '/';
    p = sd_sigv4_cpy(p, req->amz_date, 8);
    *p++ = '/';
    p = sd_sigv4_cpy(p, req->region, region_len);
    *p++ = '/';
    p = sd_sigv4_cpy(p, req->service, service_len);
    *p++ = '/';
    p = sd_sigv4_cpy(p, SD_SIGV4_TERMINATOR, sizeof(SD_SIGV4_TERMINATOR) - 1);
    p = sd_sigv4_cpy(p, sh, sizeof(sh) - 1);
    p = sd_sigv4_cpy(p, parts->signed_headers, parts->signed_len);
    p = sd_sigv4_cpy(p, sig, sizeof(sig) - 1);
    p = sd_sigv4_cpy(p, signature, SD_SHA256_HEX_LEN);
    *p = '\0';

    *out = res;

    if (out_len) {
        *out_len = len;
    }

    return SD_SIGV4_OK;
}


sd_sigv4_rc_e
sd_sigv4_authorization(const sd_sigv4_request_t *req, char **out,
    size_t *out_len)
{
    char              *creq, *sts;
    char               signature[SD_SHA256_HEX_LEN + 1];
    size_t             creq_len, sts_len;
    sd_sigv4_rc_e      rc;
    unsigned char      key[SD_SHA256_LEN];
    sd_sigv4_parts_t   parts;

    *out = NULL;

    if (req == NULL || !sd_sigv4_valid_scope(req)
        || !sd_sigv4_valid_scope_part(req->access_key))
    {
        return SD_SIGV4_EINVAL;
    }

    rc = sd_sigv4_parts(req, &parts);
    if (rc != SD_SIGV4_OK) {
        return rc;
    }

    creq = NULL;
    sts = NULL;
    sts_len = 0;

    rc = sd_sigv4_join_parts(req, &parts, &creq, &creq_len);

    if (rc == SD_SIGV4_OK) {
        rc = sd_sigv4_string_to_sign(req, creq, creq_len, &sts, &sts_len);
    }

    if (rc == SD_SIGV4_OK) {
        rc = sd_sigv4_signing_key(req->secret_key, req->amz_date, req->region,
                                  req->service, key);
    }

    if (rc == SD_SIGV4_OK) {
        rc = sd_sigv4_signature(key, sts, sts_len, signature);
        OPENSSL_cleanse(key, sizeof(key));
    }

    if (rc == SD_SIGV4_OK) {
        rc = sd_sigv4_format_authorization(req, &parts, signature, out,
                                           out_len);
    }

    free(creq);
    free(sts);
    sd_sigv4_parts_free(&parts);

    return rc;
}
