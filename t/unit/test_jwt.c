/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Unit tests: HS256 JWT verification (src/core/sd_jwt.c).
 *
 * cc -std=gnu99 -Wall -Wextra -Werror -Isrc t/unit/test_jwt.c \
 *     src/core/sd_jwt.c -ljansson -lcrypto -lcmocka \
 *     -o /tmp/test_jwt && valgrind --leak-check=full --error-exitcode=1 \
 *     /tmp/test_jwt
 *
 * The fixed tokens below were made with Python's hmac module
 * (/usr/bin/python3, hmac.new(secret, h + "." + p, hashlib.sha256)),
 * so the verifier is checked against an independent signer.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sd_jwt.h"


#define SECRET      "sandbox-secret-0123456789abcdef"
#define SECRET_LEN  (sizeof(SECRET) - 1)
#define NOW         1750000000

/* {"sub":"user-1","workspace":"ws_42","role":"admin",
    "plan":"professional","iat":1700000000,"exp":2000000000} */
#define PY_VALID_PAYLOAD                                                     \
    "{\"sub\":\"user-1\",\"workspace\":\"ws_42\",\"role\":\"admin\","        \
    "\"plan\":\"professional\",\"iat\":1700000000,\"exp\":2000000000}"
#define PY_VALID                                                             \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."                                  \
    "eyJzdWIiOiJ1c2VyLTEiLCJ3b3Jrc3BhY2UiOiJ3c180MiIsInJvbGUiOiJhZG1pbiIs"   \
    "InBsYW4iOiJwcm9mZXNzaW9uYWwiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MjAwMDAw"   \
    "MDAwMH0.VTxy5zJpZaoKDLm_G1npse3xkuAkkezEBDoXgVjkOrw"

/* {"sub":"user-1","exp":1700000000} */
#define PY_EXPIRED                                                           \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."                                  \
    "eyJzdWIiOiJ1c2VyLTEiLCJleHAiOjE3MDAwMDAwMDB9."                          \
    "c0PT-OYjyWLQG96evzhrdA__fZG1sDcSEnxEa6Jr3xQ"

/* {"sub":"user-1","nbf":1800000000,"exp":2000000000} */
#define PY_NBF                                                               \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."                                  \
    "eyJzdWIiOiJ1c2VyLTEiLCJuYmYiOjE4MDAwMDAwMDAsImV4cCI6MjAwMDAwMDAwMH0."  \
    "XpZULUfW4v2bZJbKXAAUrfjpTqWeZ4L9Krc2C-SqPLs"

/* header {"alg":"none","typ":"JWT"}, payload {"sub":"user-1"} */
#define PY_NONE_UNSIGNED                                                     \
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c2VyLTEifQ."
#define PY_NONE_HMAC                                                         \
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c2VyLTEifQ."           \
    "LVbqXOGveHFe3rHzYxm5eQyrfcfWkyQAa24bo0GAwNg"

/* header {"alg":"HS512","typ":"JWT"}, a real HMAC-SHA512 signature */
#define PY_HS512                                                             \
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEifQ."           \
    "fKpBmZuyf6pqscJ4L9u4no5dyDG8zNY9nAYGnw4RsFk_vL0XX4xKhKL8UuhFOaxcTCw68x" \
    "N-67XF-tUWygsiEQ"

/* {"s":"text","i":42,"neg":-7,"r":1.5,"rw":1700000000.0,"t":true,
    "f":false,"n":null,"o":{"a":1},"a":[1,2],"ctl":"a\r\nb",
    "utf":"R\u00e9sum\u00e9"} */
#define PY_TYPES                                                             \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."                                  \
    "eyJzIjoidGV4dCIsImkiOjQyLCJuZWciOi03LCJyIjoxLjUsInJ3IjoxNzAwMDAwMDAw"   \
    "LjAsInQiOnRydWUsImYiOmZhbHNlLCJuIjpudWxsLCJvIjp7ImEiOjF9LCJhIjpbMSwy"   \
    "XSwiY3RsIjoiYVxyXG5iIiwidXRmIjoiUlx1MDBlOXN1bVx1MDBlOSJ9."             \
    "eg5FBJHaqpMDuwLVI3IT7GJ6jpKWolABnHis4i4WqWg"


static sd_jwt_err_e
verify(const char *tok, json_t **claims)
{
    sd_jwt_err_e  err, rc;

    err = (sd_jwt_err_e) -1;
    rc = sd_jwt_verify(tok, strlen(tok), SECRET, SECRET_LEN, NOW, 0, claims,
                       &err);
    assert_int_equal(rc, err);

    if (rc != SD_JWT_OK && claims != NULL) {
        assert_null(*claims);
    }

    return rc;
}


static sd_jwt_err_e
verify_noclaims(const char *tok)
{
    json_t        *claims;
    sd_jwt_err_e   rc;

    claims = NULL;
    rc = verify(tok, &claims);
    json_decref(claims);

    return rc;
}


/* base64url without padding, for tokens with hand-made headers */
static void
b64url(const char *src, size_t len, char *dst)
{
    int     n;
    char   *p, *q;

    n = EVP_EncodeBlock((unsigned char *) dst, (const unsigned char *) src,
                        (int) len);
    dst[n] = '\0';

    for (p = dst, q = dst; *p; p++) {
        if (*p == '=') {
            continue;
        }

        *q++ = (*p == '+') ? '-' : (*p == '/') ? '_' : *p;
    }

    *q = '\0';
}


/* a token with any header, signed with HMAC-SHA256 and the given key */
static char *
make_token(const char *header, const char *payload, const char *secret)
{
    char          *tok;
    size_t         n;
    unsigned int   maclen;
    unsigned char  mac[EVP_MAX_MD_SIZE];

    tok = malloc(strlen(header) * 2 + strlen(payload) * 2 + 128);
    assert_non_null(tok);

    b64url(header, strlen(header), tok);
    n = strlen(tok);
    tok[n++] = '.';
    b64url(payload, strlen(payload), tok + n);
    n = strlen(tok);

    assert_non_null(HMAC(EVP_sha256(), secret, (int) strlen(secret),
                         (unsigned char *) tok, n, mac, &maclen));

    tok[n++] = '.';
    b64url((const char *) mac, maclen, tok + n);

    return tok;
}


static sd_jwt_err_e
verify_made(const char *header, const char *payload)
{
    char          *tok;
    sd_jwt_err_e   rc;

    tok = make_token(header, payload, SECRET);
    rc = verify_noclaims(tok);
    free(tok);

    return rc;
}


static void
test_python_valid(void **state)
{
    json_t  *claims;

    (void) state;

    claims = NULL;
    assert_int_equal(verify(PY_VALID, &claims), SD_JWT_OK);
    assert_non_null(claims);
    assert_string_equal(json_string_value(json_object_get(claims,
                                                          "workspace")),
                        "ws_42");
    json_decref(claims);

    /* a NULL claims_out is allowed: the reference is dropped */
    assert_int_equal(sd_jwt_verify(PY_VALID, strlen(PY_VALID), SECRET,
                                   SECRET_LEN, NOW, 0, NULL, NULL),
                     SD_JWT_OK);
}


static void
test_signer_matches_python(void **state)
{
    char     out[1024];
    ssize_t  n;

    (void) state;

    n = sd_jwt_sign_hs256(PY_VALID_PAYLOAD, strlen(PY_VALID_PAYLOAD),
                          SECRET, SECRET_LEN, out, sizeof(out));
    assert_int_equal(n, strlen(PY_VALID));
    assert_string_equal(out, PY_VALID);

    /* exactly enough room, then one byte short */
    n = sd_jwt_sign_hs256(PY_VALID_PAYLOAD, strlen(PY_VALID_PAYLOAD),
                          SECRET, SECRET_LEN, out, strlen(PY_VALID) + 1);
    assert_int_equal(n, strlen(PY_VALID));
    n = sd_jwt_sign_hs256(PY_VALID_PAYLOAD, strlen(PY_VALID_PAYLOAD),
                          SECRET, SECRET_LEN, out, strlen(PY_VALID));
    assert_int_equal(n, -1);

    n = sd_jwt_sign_hs256("{}", 2, "", 0, out, sizeof(out));
    assert_int_equal(n, -1);
}


static void
test_expired(void **state)
{
    json_t        *claims;
    sd_jwt_err_e   rc;

    (void) state;

    assert_int_equal(verify_noclaims(PY_EXPIRED), SD_JWT_EXPIRED);

    /* boundary: expired at now == exp; the leeway extends it */
    rc = sd_jwt_verify(PY_EXPIRED, strlen(PY_EXPIRED), SECRET, SECRET_LEN,
                       1699999999, 0, &claims, NULL);
    assert_int_equal(rc, SD_JWT_OK);
    json_decref(claims);

    rc = sd_jwt_verify(PY_EXPIRED, strlen(PY_EXPIRED), SECRET, SECRET_LEN,
                       1700000000, 0, &claims, NULL);
    assert_int_equal(rc, SD_JWT_EXPIRED);
    assert_null(claims);

    rc = sd_jwt_verify(PY_EXPIRED, strlen(PY_EXPIRED), SECRET, SECRET_LEN,
                       1700000059, 60, &claims, NULL);
    assert_int_equal(rc, SD_JWT_OK);
    json_decref(claims);

    rc = sd_jwt_verify(PY_EXPIRED, strlen(PY_EXPIRED), SECRET, SECRET_LEN,
                       1700000060, 60, &claims, NULL);
    assert_int_equal(rc, SD_JWT_EXPIRED);

    assert_string_equal(sd_jwt_strerror(SD_JWT_EXPIRED),
                        "The token has expired.");
}


static void
test_fractional_exp(void **state)
{
    json_t        *claims;
    char          *tok;
    sd_jwt_err_e   rc;

    (void) state;

    tok = make_token("{\"alg\":\"HS256\"}", "{\"exp\":1750000000.5}",
                     SECRET);

    rc = sd_jwt_verify(tok, strlen(tok), SECRET, SECRET_LEN, 1750000000, 0,
                       &claims, NULL);
    assert_int_equal(rc, SD_JWT_OK);
    json_decref(claims);

    rc = sd_jwt_verify(tok, strlen(tok), SECRET, SECRET_LEN, 1750000001, 0,
                       &claims, NULL);
    assert_int_equal(rc, SD_JWT_EXPIRED);

    free(tok);

    /* a time claim that is not a number is not a time */
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}",
                                 "{\"exp\":\"2000000000\"}"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}", "{\"nbf\":true}"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}", "{\"iat\":null}"),
                     SD_JWT_MALFORMED);

    /* iat alone, even in the future, is only type-checked */
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}",
                                 "{\"iat\":1900000000}"),
                     SD_JWT_OK);
}


static void
test_nbf(void **state)
{
    json_t        *claims;
    sd_jwt_err_e   rc;

    (void) state;

    assert_int_equal(verify_noclaims(PY_NBF), SD_JWT_NOT_YET_VALID);

    rc = sd_jwt_verify(PY_NBF, strlen(PY_NBF), SECRET, SECRET_LEN,
                       1800000000, 0, &claims, NULL);
    assert_int_equal(rc, SD_JWT_OK);
    json_decref(claims);

    rc = sd_jwt_verify(PY_NBF, strlen(PY_NBF), SECRET, SECRET_LEN,
                       1799999970, 30, &claims, NULL);
    assert_int_equal(rc, SD_JWT_OK);
    json_decref(claims);

    rc = sd_jwt_verify(PY_NBF, strlen(PY_NBF), SECRET, SECRET_LEN,
                       1799999969, 30, &claims, NULL);
    assert_int_equal(rc, SD_JWT_NOT_YET_VALID);
}


static void
test_wrong_secret(void **state)
{
    sd_jwt_err_e  rc;

    (void) state;

    rc = sd_jwt_verify(PY_VALID, strlen(PY_VALID), "other-secret", 12, NOW,
                       0, NULL, NULL);
    assert_int_equal(rc, SD_JWT_BAD_SIGNATURE);
    assert_string_equal(sd_jwt_strerror(rc),
                        "The token signature is invalid.");

    /* a secret that is a prefix of the right one */
    rc = sd_jwt_verify(PY_VALID, strlen(PY_VALID), SECRET, SECRET_LEN - 1,
                       NOW, 0, NULL, NULL);
    assert_int_equal(rc, SD_JWT_BAD_SIGNATURE);

    /* no secret at all is a configuration error, never "valid" */
    rc = sd_jwt_verify(PY_VALID, strlen(PY_VALID), "", 0, NOW, 0, NULL,
                       NULL);
    assert_int_equal(rc, SD_JWT_INTERNAL);
    rc = sd_jwt_verify(PY_VALID, strlen(PY_VALID), NULL, 5, NOW, 0, NULL,
                       NULL);
    assert_int_equal(rc, SD_JWT_INTERNAL);
}


static void
test_alg_pinned(void **state)
{
    (void) state;

    assert_int_equal(verify_noclaims(PY_NONE_UNSIGNED), SD_JWT_BAD_ALG);
    assert_int_equal(verify_noclaims(PY_NONE_HMAC), SD_JWT_BAD_ALG);
    assert_int_equal(verify_noclaims(PY_HS512), SD_JWT_BAD_ALG);
    assert_string_equal(sd_jwt_strerror(SD_JWT_BAD_ALG),
                        "Only HS256 tokens are accepted.");

    /* signed with the right key and HMAC-SHA256, but lying about alg */
    assert_int_equal(verify_made("{\"alg\":\"RS256\"}", "{}"),
                     SD_JWT_BAD_ALG);
    assert_int_equal(verify_made("{\"alg\":\"HS512\"}", "{}"),
                     SD_JWT_BAD_ALG);
    assert_int_equal(verify_made("{\"alg\":\"hs256\"}", "{}"),
                     SD_JWT_BAD_ALG);
    assert_int_equal(verify_made("{\"alg\":\"HS256 \"}", "{}"),
                     SD_JWT_BAD_ALG);
    assert_int_equal(verify_made("{\"typ\":\"JWT\"}", "{}"),
                     SD_JWT_BAD_ALG);
    assert_int_equal(verify_made("{\"alg\":null}", "{}"), SD_JWT_BAD_ALG);
    assert_int_equal(verify_made("{\"alg\":[\"HS256\"]}", "{}"),
                     SD_JWT_BAD_ALG);

    /* duplicate keys are refused, whatever their order */
    assert_int_equal(verify_made("{\"alg\":\"none\",\"alg\":\"HS256\"}",
                                 "{}"),
                     SD_JWT_MALFORMED);

    /* the accepted header forms */
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}", "{}"), SD_JWT_OK);
    assert_int_equal(verify_made("{\"typ\":\"jwt\",\"alg\":\"HS256\","
                                 "\"kid\":\"k1\"}", "{}"),
                     SD_JWT_OK);

    /* typ other than JWT, crit, and headers that are not objects */
    assert_int_equal(verify_made("{\"alg\":\"HS256\",\"typ\":\"JWE\"}",
                                 "{}"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_made("{\"alg\":\"HS256\",\"typ\":1}", "{}"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_made("{\"alg\":\"HS256\",\"crit\":[\"b64\"],"
                                 "\"b64\":false}", "{}"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_made("[\"HS256\"]", "{}"), SD_JWT_MALFORMED);
    assert_int_equal(verify_made("\"HS256\"", "{}"), SD_JWT_MALFORMED);
}


static void
test_tampered(void **state)
{
    char  *tok, *dot;

    (void) state;

    /* payload swapped for another, validly encoded, one */
    tok = strdup(PY_VALID);
    assert_non_null(tok);
    dot = strchr(tok, '.') + 1;
    dot[10] = (dot[10] == 'A') ? 'B' : 'A';
    assert_int_equal(verify_noclaims(tok), SD_JWT_BAD_SIGNATURE);
    free(tok);

    /* one bit of the signature flipped */
    tok = strdup(PY_VALID);
    assert_non_null(tok);
    tok[strlen(tok) - 5] ^= 0x01;
    assert_int_equal(verify_noclaims(tok), SD_JWT_BAD_SIGNATURE);
    free(tok);

    /* signature truncated, then empty */
    tok = strdup(PY_VALID);
    assert_non_null(tok);
    tok[strlen(tok) - 4] = '\0';
    assert_int_equal(verify_noclaims(tok), SD_JWT_BAD_SIGNATURE);
    *(strrchr(tok, '.') + 1) = '\0';
    assert_int_equal(verify_noclaims(tok), SD_JWT_BAD_SIGNATURE);
    free(tok);

    /*
     * the last signature character carries 2 unused bits: a lenient
     * decoder reads "w" (110000) and "x" (110001) as the same bytes;
     * only the canonical encoding passes
     */
    tok = strdup(PY_VALID);
    assert_non_null(tok);
    assert_int_equal(tok[strlen(tok) - 1], 'w');
    tok[strlen(tok) - 1] = 'x';
    assert_int_equal(verify_noclaims(tok), SD_JWT_BAD_SIGNATURE);
    free(tok);

    /* a valid signature from a different token */
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}",
                                 "{\"role\":\"admin\"}"),
                     SD_JWT_OK);
}


static void
test_shape(void **state)
{
    char     *tok;
    size_t    n;

    (void) state;

    assert_string_equal(sd_jwt_strerror(SD_JWT_MALFORMED),
                        "The token is malformed.");

    /* padding is not base64url in a JWS */
    tok = malloc(strlen(PY_VALID) + 4);
    assert_non_null(tok);
    strcpy(tok, PY_VALID);
    strcat(tok, "=");
    assert_int_equal(verify_noclaims(tok), SD_JWT_MALFORMED);
    free(tok);

    /* padding inside a part, where a lenient decoder would skip it */
    assert_int_equal(verify_noclaims("eyJhbGciOiJIUzI1NiJ9=.e30.abc"),
                     SD_JWT_MALFORMED);

    /* 2 parts, 4 parts, empty parts */
    assert_int_equal(verify_noclaims("eyJhbGciOiJIUzI1NiJ9.e30"),
                     SD_JWT_MALFORMED);
    n = strlen(PY_VALID);
    tok = malloc(n + 8);
    assert_non_null(tok);
    memcpy(tok, PY_VALID, n);
    memcpy(tok + n, ".e30", 5);
    assert_int_equal(verify_noclaims(tok), SD_JWT_MALFORMED);
    free(tok);

    assert_int_equal(verify_noclaims(".e30.abc"), SD_JWT_MALFORMED);
    assert_int_equal(verify_noclaims("eyJhbGciOiJIUzI1NiJ9..abc"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_noclaims(".."), SD_JWT_MALFORMED);
    assert_int_equal(verify_noclaims(""), SD_JWT_MALFORMED);
    assert_int_equal(sd_jwt_verify(NULL, 0, SECRET, SECRET_LEN, NOW, 0,
                                   NULL, NULL),
                     SD_JWT_MALFORMED);

    /* garbage: standard base64 characters, spaces, bytes, a lone char */
    assert_int_equal(verify_noclaims("eyJhbGciOiJIUzI1NiJ9.e+0/.abc"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_noclaims("eyJhbGciOiJIUzI1NiJ9 .e30.abc"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_noclaims("eyJhbGciOiJIUzI1NiJ9.\xc3\xa9.abc"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_noclaims("eyJhbGciOiJIUzI1NiJ9A.e30.abc"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_noclaims("not a token"), SD_JWT_MALFORMED);
    assert_int_equal(verify_noclaims("Bearer " PY_VALID), SD_JWT_MALFORMED);

    /* non-canonical trailing bits in the payload ("e31" vs "e30") */
    assert_int_equal(verify_noclaims("eyJhbGciOiJIUzI1NiJ9.e31.abc"),
                     SD_JWT_MALFORMED);

    /* payloads that are not a JSON object, correctly signed */
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}", "[1,2]"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}", "\"sub\""),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}", "{\"a\":1"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}", "{} {}"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}",
                                 "{\"a\":1,\"a\":2}"),
                     SD_JWT_MALFORMED);
    assert_int_equal(verify_made("{\"alg\":\"HS256\"}",
                                 "{\"a\":\"\\u0000\"}"),
                     SD_JWT_MALFORMED);
}


static void
test_huge(void **state)
{
    char          *payload, *tok;
    size_t         i, plen;
    ssize_t        n;
    sd_jwt_err_e   rc;

    (void) state;

    /* the largest payload that still fits in 8 KiB, and one byte more */
    plen = 6000;
    payload = malloc(SD_JWT_MAX_TOKEN_LEN);
    tok = malloc(16384);
    assert_non_null(payload);
    assert_non_null(tok);

    for (;;) {
        memcpy(payload, "{\"pad\":\"", 8);
        for (i = 8; i < plen - 2; i++) {
            payload[i] = 'x';
        }
        memcpy(payload + plen - 2, "\"}", 2);

        n = sd_jwt_sign_hs256(payload, plen, SECRET, SECRET_LEN, tok, 16384);
        assert_true(n > 0);

        if ((size_t) n > SD_JWT_MAX_TOKEN_LEN) {
            break;
        }

        rc = sd_jwt_verify(tok, (size_t) n, SECRET, SECRET_LEN, NOW, 0,
                           NULL, NULL);
        assert_int_equal(rc, SD_JWT_OK);
        plen++;
    }

    rc = sd_jwt_verify(tok, (size_t) n, SECRET, SECRET_LEN, NOW, 0, NULL,
                       NULL);
    assert_int_equal(rc, SD_JWT_TOO_LARGE);

    /* a megabyte of garbage is refused on its length alone */
    free(tok);
    tok = malloc(1 << 20);
    assert_non_null(tok);
    memset(tok, 'A', 1 << 20);
    rc = sd_jwt_verify(tok, 1 << 20, SECRET, SECRET_LEN, NOW, 0, NULL, NULL);
    assert_int_equal(rc, SD_JWT_TOO_LARGE);

    free(tok);
    free(payload);
}


static void
expect_claim(const json_t *claims, const char *name, const char *want)
{
    char     buf[64];
    ssize_t  n;

    n = sd_jwt_claim_string(claims, name, strlen(name), buf, sizeof(buf));

    if (want == NULL) {
        assert_int_equal(n, -1);
        return;
    }

    assert_int_equal(n, strlen(want));
    assert_string_equal(buf, want);
}


static void
test_claim_types(void **state)
{
    char     buf[8];
    json_t  *claims;
    ssize_t  n;

    (void) state;

    claims = NULL;
    assert_int_equal(verify(PY_TYPES, &claims), SD_JWT_OK);

    expect_claim(claims, "s", "text");
    expect_claim(claims, "i", "42");
    expect_claim(claims, "neg", "-7");
    expect_claim(claims, "r", "1.5");
    expect_claim(claims, "rw", "1700000000");
    expect_claim(claims, "t", "true");
    expect_claim(claims, "f", "false");
    expect_claim(claims, "utf", "R\xc3\xa9sum\xc3\xa9");
    expect_claim(claims, "n", NULL);
    expect_claim(claims, "o", NULL);
    expect_claim(claims, "a", NULL);
    expect_claim(claims, "ctl", NULL);
    expect_claim(claims, "missing", NULL);
    expect_claim(claims, "", NULL);

    /* the name is a (pointer, length) pair: "sXYZ" with length 1 is "s" */
    n = sd_jwt_claim_string(claims, "sXYZ", 1, buf, sizeof(buf));
    assert_int_equal(n, 4);
    assert_string_equal(buf, "text");

    /* too small a buffer is "not available", never a truncated value */
    n = sd_jwt_claim_string(claims, "s", 1, buf, 4);
    assert_int_equal(n, -1);
    n = sd_jwt_claim_string(claims, "s", 1, buf, 5);
    assert_int_equal(n, 4);
    n = sd_jwt_claim_string(claims, "f", 1, buf, 5);
    assert_int_equal(n, -1);
    n = sd_jwt_claim_string(claims, "s", 1, buf, 0);
    assert_int_equal(n, -1);
    n = sd_jwt_claim_string(NULL, "s", 1, buf, sizeof(buf));
    assert_int_equal(n, -1);

    json_decref(claims);
}


static void
test_claim_reals(void **state)
{
    json_t  *claims;

    (void) state;

    claims = json_pack("{s:f, s:f, s:f, s:f, s:f}", "a", 0.1, "b", -2.25,
                       "c", 1e300, "d", -0.0, "e", 12345678901.0);
    assert_non_null(claims);

    expect_claim(claims, "a", "0.1");
    expect_claim(claims, "b", "-2.25");
    expect_claim(claims, "c", "1e+300");
    expect_claim(claims, "d", "0");
    expect_claim(claims, "e", "12345678901");

    json_decref(claims);
}


/* issue 13, 6: "exp" required by default, the workspace claim a string */

static void
test_require_exp_and_string_claims(void **state)
{
    json_t  *c;

    (void) state;

    c = json_loads("{\"ws\":\"acme\",\"exp\":1}", 0, NULL);
    assert_int_equal(sd_jwt_require_exp(c), SD_JWT_OK);
    json_decref(c);

    c = json_loads("{\"ws\":\"acme\",\"n\":123,\"t\":true,\"z\":null,"
                   "\"o\":{},\"a\":[],\"r\":1.5}", 0, NULL);
    assert_int_equal(sd_jwt_require_exp(c), SD_JWT_NO_EXP);
    assert_int_equal(sd_jwt_require_exp(NULL), SD_JWT_NO_EXP);

    assert_int_equal(sd_jwt_claim_is_string(c, "ws", 2), 1);
    assert_int_equal(sd_jwt_claim_is_string(c, "n", 1), -1);
    assert_int_equal(sd_jwt_claim_is_string(c, "t", 1), -1);
    assert_int_equal(sd_jwt_claim_is_string(c, "z", 1), -1);
    assert_int_equal(sd_jwt_claim_is_string(c, "o", 1), -1);
    assert_int_equal(sd_jwt_claim_is_string(c, "a", 1), -1);
    assert_int_equal(sd_jwt_claim_is_string(c, "r", 1), -1);
    assert_int_equal(sd_jwt_claim_is_string(c, "missing", 7), 0);
    assert_int_equal(sd_jwt_claim_is_string(NULL, "ws", 2), 0);
    json_decref(c);

    assert_string_equal(sd_jwt_strerror(SD_JWT_NO_EXP),
                        "The token has no expiry time (exp); ask for a "
                        "token that expires.");
    assert_string_equal(sd_jwt_strerror(SD_JWT_BAD_CLAIM),
                        "The token's workspace claim must be a string.");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_python_valid),
        cmocka_unit_test(test_signer_matches_python),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_fractional_exp),
        cmocka_unit_test(test_nbf),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_alg_pinned),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_huge),
        cmocka_unit_test(test_claim_types),
        cmocka_unit_test(test_claim_reals),
        cmocka_unit_test(test_require_exp_and_string_claims),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
