/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: HS256 bearer tokens (src/core/sd_jwt.c),
 * verified with a fixed secret, then the claims rendered the way
 * $sender_domains_jwt_<claim> renders them (sd_jwt_claim_string()).
 *
 * Input: [mode] [bufsz] [data].
 *   mode & 1 == 0: data is the bearer token, as sent after "Bearer ".
 *   mode & 1 == 1: data is a payload; it is signed with the secret
 *                  (sd_jwt_sign_hs256()), so the fuzzer reaches the code
 *                  behind the signature check: payload JSON, the time
 *                  claims and the claim renderer.
 *   mode & 2:      the signed token is tampered with (one byte flipped)
 *                  before verification.
 * The clock and the leeway come from the mode byte too.
 *
 * Properties: claims are handed out only on SD_JWT_OK (and always an
 * object then); a tampered token never verifies; every error has a
 * message; a rendered claim is NUL-terminated within bufsz (an exact-size
 * heap buffer) and holds no control character (it can reach headers).
 */

#include "fuzz_common.h"

#include <jansson.h>

#include "sd_jwt.h"


#define FZ_SECRET      "sandbox-secret-0123456789abcdef"
#define FZ_SECRET_LEN  (sizeof(FZ_SECRET) - 1)


static void
fz_render(const json_t *claims, const char *name, size_t name_len,
    size_t bufsz)
{
    char     *buf, *nm;
    ssize_t   n;

    nm = fz_dup(name, name_len);
    buf = malloc(bufsz ? bufsz : 1);

    n = sd_jwt_claim_string(claims, nm, name_len, bufsz ? buf : NULL, bufsz);

    if (n >= 0) {
        FZ_CHECK((size_t) n < bufsz && buf[n] == '\0');
        FZ_CHECK(!fz_has_ctl((unsigned char *) buf, n));
    }

    free(buf);
    free(nm);
}


static void
fz_verify(const char *tok, size_t len, int64_t now, int64_t leeway,
    size_t bufsz, int must_fail)
{
    json_t        *claims, *v;
    const char    *key;
    sd_jwt_err_e   rc, err;
    static const char  *names[] = {
        "workspace", "role", "plan", "trial_ends", "sub", "exp", "nbf",
        "iat", NULL
    };
    const char   **nm;

    claims = (json_t *) 1;
    err = (sd_jwt_err_e) -1;

    rc = sd_jwt_verify(tok, len, FZ_SECRET, FZ_SECRET_LEN, now, leeway,
                       &claims, &err);

    FZ_CHECK(rc == err);
    FZ_CHECK(sd_jwt_strerror(rc) != NULL);

    if (rc != SD_JWT_OK) {
        FZ_CHECK(claims == NULL);
        return;
    }

    FZ_CHECK(!must_fail);
    FZ_CHECK(json_is_object(claims));

    for (nm = names; *nm; nm++) {
        fz_render(claims, *nm, strlen(*nm), bufsz);
        fz_render(claims, *nm, strlen(*nm), 256);
    }

    json_object_foreach(claims, key, v) {
        fz_render(claims, key, strlen(key), bufsz);
        fz_render(claims, key, strlen(key), 64);
    }

    /* the claims object is released by the caller */
    json_decref(claims);

    /* without claims_out and err: no leak, same verdict */
    FZ_CHECK(sd_jwt_verify(tok, len, FZ_SECRET, FZ_SECRET_LEN, now, leeway,
                           NULL, NULL) == SD_JWT_OK);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t      fz = { data, size };
    char     *in, *tok, *t2;
    size_t    len, bufsz, toksz;
    ssize_t   n;
    uint8_t   mode;
    int64_t   now, leeway;

    mode = fz_u8(&fz);
    bufsz = fz_u8(&fz);
    in = fz_rest(&fz, &len);

    /* 1750000000 (2025), 0, a far future, or a negative clock */
    switch ((mode >> 2) & 3) {
    case 0: now = 1750000000; break;
    case 1: now = 0; break;
    case 2: now = INT64_MAX; break;
    default: now = -1; break;
    }

    leeway = (mode & 0x10) ? 60 : ((mode & 0x20) ? INT64_MAX : 0);

    if (!(mode & 1)) {
        fz_verify(in, len, now, leeway, bufsz, 0);
        free(in);
        return 0;
    }

    /* header + payload + signature, base64url, and the NUL */
    toksz = 36 + 1 + (len + 2) / 3 * 4 + 1 + 43 + 1;
    tok = malloc(toksz);

    n = sd_jwt_sign_hs256(in, len, FZ_SECRET, FZ_SECRET_LEN, tok, toksz);
    FZ_CHECK(n > 0 && (size_t) n < toksz && tok[n] == '\0');

    /* one byte short fails cleanly */
    t2 = malloc(n);
    FZ_CHECK(sd_jwt_sign_hs256(in, len, FZ_SECRET, FZ_SECRET_LEN, t2, n)
             == -1);
    free(t2);

    t2 = fz_dup(tok, n);

    if (mode & 2) {
        /* flip one base64url character of the payload or signature */
        size_t  h = (size_t) ((char *) memchr(tok, '.', n) - tok) + 1;
        size_t  at = h + (size_t) data[size - 1] * 7919 % (n - h);

        t2[at] = (t2[at] == 'A') ? 'B' : 'A';
        fz_verify(t2, n, now, leeway, bufsz,
                  memcmp(t2, tok, n) != 0 && t2[at] != '.');

    } else {
        fz_verify(t2, n, now, leeway, bufsz, 0);
    }

    free(t2);
    free(tok);
    free(in);

    return 0;
}
