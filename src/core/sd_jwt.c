/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: HS256 JWT verification (pure core).
 *
 * The token is checked in this order: size, shape (three base64url
 * parts), header (alg pinned to HS256, typ, crit), signature, then the
 * payload and its time claims.  Nothing in the payload is trusted, or
 * even parsed, before the signature has been checked.
 */


#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sd_jwt.h"


#define SD_JWT_SHA256_LEN  32

/* the largest decoded part of a token that passed the size check */
#define SD_JWT_MAX_PART    (SD_JWT_MAX_TOKEN_LEN / 4 * 3 + 3)

/* a year: anything larger is a configuration mistake, not skew */
#define SD_JWT_MAX_LEEWAY  (365 * 86400)

/* jansson refuses duplicate keys: {"alg":"none","alg":"HS256"} is a trap */
#define SD_JWT_JSON_FLAGS  JSON_REJECT_DUPLICATES


typedef struct {
    const char  *p;
    size_t       len;
} sd_jwt_part_t;


static sd_jwt_err_e sd_jwt_do_verify(const char *token, size_t len,
    const char *secret, size_t secret_len, int64_t now, int64_t leeway,
    json_t **claims_out);
static int sd_jwt_split(const char *token, size_t len, sd_jwt_part_t *parts);
static ssize_t sd_jwt_b64url_decode(const char *src, size_t len,
    unsigned char *dst, size_t dstsz);
static size_t sd_jwt_b64url_encode(const unsigned char *src, size_t len,
    char *dst);
static json_t *sd_jwt_parse_object(const unsigned char *buf, size_t len);
static sd_jwt_err_e sd_jwt_check_header(const json_t *header);
static sd_jwt_err_e sd_jwt_check_signature(const char *token,
    const sd_jwt_part_t *parts, const char *secret, size_t secret_len);
static sd_jwt_err_e sd_jwt_check_times(const json_t *claims, int64_t now,
    int64_t leeway);
static int sd_jwt_at_or_before(const json_t *t, int64_t when);
static int sd_jwt_has_ctl(const char *s, size_t len);
static ssize_t sd_jwt_format_real(double v, char *buf, size_t bufsz);


/*
 * base64url alphabet (RFC 4648 section 5); -1 for every other byte,
 * padding '=' included: JWS forbids it (RFC 7515 section 2).
 */
static const signed char  sd_jwt_b64_dec[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};

static const char  sd_jwt_b64_enc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* {"alg":"HS256","typ":"JWT"}, the only header sd_jwt_sign_hs256 writes */
static const char  sd_jwt_hs256_header[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";


sd_jwt_err_e
sd_jwt_verify(const char *token, size_t len, const char *secret,
    size_t secret_len, int64_t now, int64_t leeway, json_t **claims_out,
    sd_jwt_err_e *err)
{
    json_t        *claims;
    sd_jwt_err_e   rc;

    claims = NULL;

    rc = sd_jwt_do_verify(token, len, secret, secret_len, now, leeway,
                          &claims);

    if (rc != SD_JWT_OK && claims != NULL) {
        json_decref(claims);
        claims = NULL;
    }

    if (claims_out != NULL) {
        *claims_out = claims;

    } else if (claims != NULL) {
        json_decref(claims);
    }

    if (err != NULL) {
        *err = rc;
    }

    return rc;
}


const char *
sd_jwt_strerror(sd_jwt_err_e err)
{
    switch (err) {

    case SD_JWT_OK:
        return "The token is valid.";

    case SD_JWT_MALFORMED:
        return "The token is malformed.";

    case SD_JWT_TOO_LARGE:
        return "The token is too large.";

    case SD_JWT_BAD_ALG:
        return "Only HS256 tokens are accepted.";

    case SD_JWT_BAD_SIGNATURE:
        return "The token signature is invalid.";

    case SD_JWT_EXPIRED:
        return "The token has expired.";

    case SD_JWT_NOT_YET_VALID:
        return "The token is not valid yet.";

    case SD_JWT_NO_EXP:
        return "The token has no expiry time (exp); ask for a token that "
               "expires.";

    case SD_JWT_BAD_CLAIM:
        return "The token's workspace claim must be a string.";

    case SD_JWT_INTERNAL:
    default:
        return "The token could not be verified.";
    }
}


sd_jwt_err_e
sd_jwt_require_exp(const json_t *claims)
{
    if (claims == NULL || !json_is_object(claims)
        || json_object_get(claims, "exp") == NULL)
    {
        return SD_JWT_NO_EXP;
    }

    return SD_JWT_OK;
}


int
sd_jwt_claim_is_string(const json_t *claims, const char *name,
    size_t name_len)
{
    json_t  *v;

    if (claims == NULL || !json_is_object(claims) || name == NULL) {
        return 0;
    }

    v = json_object_getn(claims, name, name_len);
    if (v == NULL) {
        return 0;
    }

    return json_is_string(v) ? 1 : -1;
}


ssize_t
sd_jwt_claim_string(const json_t *claims, const char *name, size_t name_len,
    char *buf, size_t bufsz)
{
    int      n;
    json_t  *v;
    size_t   len;

    if (claims == NULL || !json_is_object(claims) || name == NULL
        || buf == NULL || bufsz == 0)
    {
        return -1;
    }

    v = json_object_getn(claims, name, name_len);
    if (v == NULL) {
        return -1;
    }

    switch (json_typeof(v)) {

    case JSON_STRING:
        len = json_string_length(v);

        /*
         * claims become nginx variables, which can end up in headers
         * (proxy_set_header, auth_request_set): CR/LF would inject
         */
        if (sd_jwt_has_ctl(json_string_value(v), len) || len >= bufsz) {
            return -1;
        }

        memcpy(buf, json_string_value(v), len);
        buf[len] = '\0';
        return (ssize_t) len;

    case JSON_INTEGER:
        n = snprintf(buf, bufsz, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));
        break;

    case JSON_REAL:
        return sd_jwt_format_real(json_real_value(v), buf, bufsz);

    case JSON_TRUE:
        n = snprintf(buf, bufsz, "true");
        break;

    case JSON_FALSE:
        n = snprintf(buf, bufsz, "false");
        break;

    default:
        /* null, objects and arrays have no single text form */
        return -1;
    }

    if (n < 0 || (size_t) n >= bufsz) {
        return -1;
    }

    return n;
}


ssize_t
sd_jwt_sign_hs256(const char *payload, size_t payload_len,
    const char *secret, size_t secret_len, char *out, size_t outsz)
{
    size_t         hlen, plen, need;
    unsigned int   maclen;
    unsigned char  mac[EVP_MAX_MD_SIZE];

    if (payload == NULL || secret == NULL || secret_len == 0
        || secret_len > INT_MAX || out == NULL
        || payload_len > (SIZE_MAX - 128) / 4 * 3)
    {
        return -1;
    }

    hlen = sizeof(sd_jwt_hs256_header) - 1;
    plen = (payload_len / 3) * 4 + ((payload_len % 3) ? payload_len % 3 + 1
                                                        : 0);

    /* header "." payload "." 43 signature characters, NUL */
    need = hlen + 1 + plen + 1 + 43 + 1;
    if (need > outsz) {
        return -1;
    }

    memcpy(out, sd_jwt_hs256_header, hlen);
    out[hlen] = '.';
    sd_jwt_b64url_encode((const unsigned char *) payload, payload_len,
                         out + hlen + 1);

    if (HMAC(EVP_sha256(), secret, (int) secret_len,
             (const unsigned char *) out, hlen + 1 + plen, mac, &maclen)
        == NULL || maclen != SD_JWT_SHA256_LEN)
    {
        return -1;
    }

    out[hlen + 1 + plen] = '.';
    sd_jwt_b64url_encode(mac, maclen, out + hlen + 1 + plen + 1);
    out[need - 1] = '\0';

    OPENSSL_cleanse(mac, sizeof(mac));

    return (ssize_t) (need - 1);
}


static sd_jwt_err_e
sd_jwt_do_verify(const char *token, size_t len, const char *secret,
    size_t secret_len, int64_t now, int64_t leeway, json_t **claims_out)
{
    json_t         *header, *claims;
    ssize_t         hlen, plen;
    sd_jwt_err_e    rc;
    sd_jwt_part_t   parts[3];
    unsigned char   hbuf[SD_JWT_MAX_PART], pbuf[SD_JWT_MAX_PART];

    /* an empty key would make every token forgeable */
    if (secret == NULL || secret_len == 0 || secret_len > INT_MAX) {
        return SD_JWT_INTERNAL;
    }

    if (token == NULL || len == 0) {
        return SD_JWT_MALFORMED;
    }

    if (len > SD_JWT_MAX_TOKEN_LEN) {
        return SD_JWT_TOO_LARGE;
    }

    /*
     * the shape is checked in full first, so that a garbled token is
     * reported as malformed rather than as a bad signature
     */
    if (sd_jwt_split(token, len, parts) != 0) {
        return SD_JWT_MALFORMED;
    }

    hlen = sd_jwt_b64url_decode(parts[0].p, parts[0].len, hbuf,
                                sizeof(hbuf));
    plen = sd_jwt_b64url_decode(parts[1].p, parts[1].len, pbuf,
                                sizeof(pbuf));

    if (hlen <= 0 || plen <= 0) {
        return SD_JWT_MALFORMED;
    }

    header = sd_jwt_parse_object(hbuf, (size_t) hlen);
    if (header == NULL) {
        return SD_JWT_MALFORMED;
    }

    rc = sd_jwt_check_header(header);
    json_decref(header);

    if (rc != SD_JWT_OK) {
        return rc;
    }

    rc = sd_jwt_check_signature(token, parts, secret, secret_len);
    if (rc != SD_JWT_OK) {
        return rc;
    }

    claims = sd_jwt_parse_object(pbuf, (size_t) plen);
    if (claims == NULL) {
        return SD_JWT_MALFORMED;
    }

    rc = sd_jwt_check_times(claims, now, leeway);
    if (rc != SD_JWT_OK) {
        json_decref(claims);
        return rc;
    }

    *claims_out = claims;

    return SD_JWT_OK;
}


/*
 * Exactly three parts separated by '.', each made only of base64url
 * characters.  The signature may be empty here, so that an "alg":"none"
 * token is refused for its algorithm rather than for its shape.
 */
static int
sd_jwt_split(const char *token, size_t len, sd_jwt_part_t *parts)
{
    size_t  i, n, start;

    n = 0;
    start = 0;

    for (i = 0; i <= len; i++) {

        if (i < len && token[i] != '.') {
            if (sd_jwt_b64_dec[(unsigned char) token[i]] < 0) {
                return -1;
            }

            continue;
        }

        if (n == 3 || (n < 2 && i == start)) {
            return -1;
        }

        parts[n].p = token + start;
        parts[n].len = i - start;
        n++;
        start = i + 1;
    }

    return (n == 3) ? 0 : -1;
}


/*
 * Strict decoding: no padding, no whitespace, and the unused low bits
 * of the last character must be zero, so that every byte string has
 * exactly one accepted encoding (no malleable signatures).
 */
static ssize_t
sd_jwt_b64url_decode(const char *src, size_t len, unsigned char *dst,
    size_t dstsz)
{
    int       c;
    size_t    i, out, bits;
    uint32_t  acc;

    if (len % 4 == 1) {
        return -1;
    }

    acc = 0;
    bits = 0;
    out = 0;

    for (i = 0; i < len; i++) {
        c = sd_jwt_b64_dec[(unsigned char) src[i]];
        if (c < 0) {
            return -1;
        }

        acc = (acc << 6) | (uint32_t) c;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;

            if (out >= dstsz) {
                return -1;
            }

            dst[out++] = (unsigned char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    if (acc != 0) {
        return -1;
    }

    return (ssize_t) out;
}


static size_t
sd_jwt_b64url_encode(const unsigned char *src, size_t len, char *dst)
{
    size_t    i, n;
    uint32_t  v;

    n = 0;

    for (i = 0; i + 2 < len; i += 3) {
        v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8)
            | src[i + 2];
        dst[n++] = sd_jwt_b64_enc[(v >> 18) & 63];
        dst[n++] = sd_jwt_b64_enc[(v >> 12) & 63];
        dst[n++] = sd_jwt_b64_enc[(v >> 6) & 63];
        dst[n++] = sd_jwt_b64_enc[v & 63];
    }

    if (len - i == 1) {
        v = (uint32_t) src[i] << 16;
        dst[n++] = sd_jwt_b64_enc[(v >> 18) & 63];
        dst[n++] = sd_jwt_b64_enc[(v >> 12) & 63];

    } else if (len - i == 2) {
        v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8);
        dst[n++] = sd_jwt_b64_enc[(v >> 18) & 63];
        dst[n++] = sd_jwt_b64_enc[(v >> 12) & 63];
        dst[n++] = sd_jwt_b64_enc[(v >> 6) & 63];
    }

    return n;
}


/* decoded bytes that must hold exactly one JSON object */
static json_t *
sd_jwt_parse_object(const unsigned char *buf, size_t len)
{
    json_t        *v;
    json_error_t   e;

    v = json_loadb((const char *) buf, len, SD_JWT_JSON_FLAGS, &e);
    if (v == NULL) {
        return NULL;
    }

    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }

    return v;
}


/*
 * The algorithm is pinned, never taken from the token: "none", HS384,
 * HS512 and every asymmetric algorithm (the RS256/HS256 key confusion)
 * are refused before any key is used.
 */
static sd_jwt_err_e
sd_jwt_check_header(const json_t *header)
{
    json_t  *alg, *typ;

    alg = json_object_get(header, "alg");

    if (alg == NULL || !json_is_string(alg)
        || json_string_length(alg) != 5
        || memcmp(json_string_value(alg), "HS256", 5) != 0)
    {
        return SD_JWT_BAD_ALG;
    }

    /* "typ" is a media type name, so it compares case-insensitively */
    typ = json_object_get(header, "typ");

    if (typ != NULL
        && (!json_is_string(typ) || json_string_length(typ) != 3
            || strncasecmp(json_string_value(typ), "JWT", 3) != 0))
    {
        return SD_JWT_MALFORMED;
    }

    /*
     * RFC 7515 section 4.1.11: a token that lists critical extensions
     * must be refused by a verifier that implements none of them
     */
    if (json_object_get(header, "crit") != NULL) {
        return SD_JWT_MALFORMED;
    }

    return SD_JWT_OK;
}


static sd_jwt_err_e
sd_jwt_check_signature(const char *token, const sd_jwt_part_t *parts,
    const char *secret, size_t secret_len)
{
    int            diff;
    ssize_t        n;
    unsigned int   maclen;
    unsigned char  sig[SD_JWT_SHA256_LEN + 3];
    unsigned char  mac[EVP_MAX_MD_SIZE];

    n = sd_jwt_b64url_decode(parts[2].p, parts[2].len, sig, sizeof(sig));
    if (n != SD_JWT_SHA256_LEN) {
        return SD_JWT_BAD_SIGNATURE;
    }

    /* the signing input is the token itself, up to the second dot */
    if (HMAC(EVP_sha256(), secret, (int) secret_len,
             (const unsigned char *) token,
             (size_t) (parts[2].p - 1 - token), mac, &maclen)
        == NULL || maclen != SD_JWT_SHA256_LEN)
    {
        return SD_JWT_INTERNAL;
    }

    diff = CRYPTO_memcmp(mac, sig, SD_JWT_SHA256_LEN);
    OPENSSL_cleanse(mac, sizeof(mac));

    return (diff == 0) ? SD_JWT_OK : SD_JWT_BAD_SIGNATURE;
}


/*
 * RFC 7519 sections 4.1.4-4.1.6.  "exp" and "nbf" are optional, but
 * when present they must be numbers; so must "iat", which is not
 * otherwise enforced (a future "iat" is clock skew, not forgery).
 */
static sd_jwt_err_e
sd_jwt_check_times(const json_t *claims, int64_t now, int64_t leeway)
{
    json_t  *exp, *nbf, *iat;

    if (leeway < 0) {
        leeway = 0;

    } else if (leeway > SD_JWT_MAX_LEEWAY) {
        leeway = SD_JWT_MAX_LEEWAY;
    }

    /* keeps now +/- leeway far from overflow */
    if (now < 0) {
        now = 0;

    } else if (now > INT64_MAX / 2) {
        now = INT64_MAX / 2;
    }

    exp = json_object_get(claims, "exp");
    nbf = json_object_get(claims, "nbf");
    iat = json_object_get(claims, "iat");

    if ((exp != NULL && !json_is_number(exp))
        || (nbf != NULL && !json_is_number(nbf))
        || (iat != NULL && !json_is_number(iat)))
    {
        return SD_JWT_MALFORMED;
    }

    /* expired when now >= exp + leeway, that is exp <= now - leeway */
    if (exp != NULL && sd_jwt_at_or_before(exp, now - leeway)) {
        return SD_JWT_EXPIRED;
    }

    /* not yet valid when now + leeway < nbf */
    if (nbf != NULL && !sd_jwt_at_or_before(nbf, now + leeway)) {
        return SD_JWT_NOT_YET_VALID;
    }

    return SD_JWT_OK;
}


/*
 * Is the numeric claim "t" at or before "when"?  Integers compare
 * exactly; a fractional claim compares as a real, so an exp of 99.5
 * has expired at now = 100 and not at now = 99.
 */
static int
sd_jwt_at_or_before(const json_t *t, int64_t when)
{
    if (json_is_integer(t)) {
        return json_integer_value(t) <= when;
    }

    return json_real_value(t) <= (double) when;
}


static int
sd_jwt_has_ctl(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return 1;
        }
    }

    return 0;
}


/*
 * Whole numbers (the usual epoch seconds sent as 1.7e9) print without a
 * fraction; others print with the fewest digits that read back equal.
 */
static ssize_t
sd_jwt_format_real(double v, char *buf, size_t bufsz)
{
    int  n;

    if (v == 0) {
        n = snprintf(buf, bufsz, "0");

    } else if (v > -9007199254740992.0 && v < 9007199254740992.0
               && (double) (int64_t) v == v)
    {
        n = snprintf(buf, bufsz, "%lld", (long long) v);

    } else {
        n = snprintf(buf, bufsz, "%.15g", v);

        if (n >= 0 && (size_t) n < bufsz && strtod(buf, NULL) != v) {
            n = snprintf(buf, bufsz, "%.17g", v);
        }
    }

    if (n < 0 || (size_t) n >= bufsz) {
        return -1;
    }

    return n;
}
