/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: HS256 JWT verification (pure core).
 *
 * No nginx types: this file is unit-tested without nginx.  Inputs are
 * (pointer, length) pairs that need not be NUL-terminated.
 */


#ifndef _NGX_HTTP_SENDER_DOMAINS_JWT_H_INCLUDED_
#define _NGX_HTTP_SENDER_DOMAINS_JWT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>


/* a bearer token longer than this is refused before any decoding */
#define SD_JWT_MAX_TOKEN_LEN  8192


typedef enum {
    SD_JWT_OK = 0,
    SD_JWT_MALFORMED,          /* not three base64url parts of JSON */
    SD_JWT_TOO_LARGE,          /* longer than SD_JWT_MAX_TOKEN_LEN */
    SD_JWT_BAD_ALG,            /* header "alg" is not exactly "HS256" */
    SD_JWT_BAD_SIGNATURE,      /* HMAC does not match */
    SD_JWT_EXPIRED,            /* now >= exp + leeway */
    SD_JWT_NOT_YET_VALID,      /* now + leeway < nbf */
    SD_JWT_INTERNAL,           /* no secret, out of memory, OpenSSL */
    SD_JWT_NO_EXP,             /* no "exp" where one is required */
    SD_JWT_BAD_CLAIM           /* the workspace claim is not a string */
} sd_jwt_err_e;


/*
 * Verifies an HS256 JWT (RFC 7519, compact JWS of RFC 7515).
 *
 * On SD_JWT_OK *claims_out holds the payload object (the caller owns the
 * reference and must json_decref() it); on any error it is set to NULL.
 * "now" and the claims are epoch seconds; "leeway" tolerates clock skew
 * on both "exp" and "nbf".  "err" may be NULL.
 */
sd_jwt_err_e sd_jwt_verify(const char *token, size_t len,
    const char *secret, size_t secret_len, int64_t now, int64_t leeway,
    json_t **claims_out, sd_jwt_err_e *err);

/*
 * A static sentence for the error, fit for a 401 response body.  It
 * never contains the token or the secret.
 */
const char *sd_jwt_strerror(sd_jwt_err_e err);

/*
 * For a verified payload: SD_JWT_OK when it has an "exp" claim (whose
 * value sd_jwt_verify() has checked), else SD_JWT_NO_EXP.  A token with
 * no expiry stays valid for ever once issued (or leaked).
 */
sd_jwt_err_e sd_jwt_require_exp(const json_t *claims);

/*
 * The type of claim "name": 1 a string, 0 absent, -1 anything else (a
 * number, a boolean, null, an object, an array).  For a claim that names
 * something, where sd_jwt_claim_string()'s "123" or "true" would name
 * the wrong thing.
 */
int sd_jwt_claim_is_string(const json_t *claims, const char *name,
    size_t name_len);

/*
 * Renders claim "name" (name_len bytes) of a verified payload as text:
 * strings as they are, integers and reals as decimal, booleans as
 * "true"/"false".  Returns the length written (buf is NUL-terminated),
 * or -1 when the claim is absent, null, an object or an array, or a
 * string with control characters (unsafe in a header), or when it does
 * not fit in bufsz bytes.
 */
ssize_t sd_jwt_claim_string(const json_t *claims, const char *name,
    size_t name_len, char *buf, size_t bufsz);

/*
 * Signs payload (raw JSON bytes, used as they are) with header
 * {"alg":"HS256","typ":"JWT"}.  For tests and the sandbox token
 * generator only.  Returns the token length (out is NUL-terminated) or
 * -1 when it does not fit in outsz bytes or the input is unusable.
 */
ssize_t sd_jwt_sign_hs256(const char *payload, size_t payload_len,
    const char *secret, size_t secret_len, char *out, size_t outsz);


#endif /* _NGX_HTTP_SENDER_DOMAINS_JWT_H_INCLUDED_ */
