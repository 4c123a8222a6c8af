/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: Standard Webhooks signatures
 * (https://www.standardwebhooks.com/, the scheme Svix and Resend use).
 *
 * A webhook request carries "webhook-id", "webhook-timestamp" (Unix
 * seconds) and "webhook-signature: v1,<base64 HMAC-SHA256>", the HMAC
 * keyed with the secret's bytes over "<id>.<timestamp>.<body>".  Secrets
 * are written "whsec_<base64 of 24 to 64 bytes>".
 *
 * Pure C (OpenSSL's libcrypto, no nginx types), unit-tested in
 * t/unit/test_whsign.c against the reference implementation's output.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_WHSIGN_H
#define NGX_HTTP_SENDER_DOMAINS_WHSIGN_H

#include <stddef.h>
#include <stdint.h>


#define SD_WHSIGN_KEY_MIN       24
#define SD_WHSIGN_KEY_MAX       64
/* "v1," and the base64 of 32 bytes */
#define SD_WHSIGN_SIG_LEN       (3 + 44)


typedef struct {
    unsigned char           key[SD_WHSIGN_KEY_MAX];
    size_t                  len;
} sd_whsign_key_t;


/*
 * Reads a secret as written in a secret file: "whsec_" and base64, with
 * surrounding white space (a trailing line feed) ignored.  Returns 0, or
 * -1 with a sentence in *err.
 */
int sd_whsign_key(const char *text, size_t len, sd_whsign_key_t *key,
    const char **err);

/*
 * Writes "v1,<base64>" and a NUL into out (at least SD_WHSIGN_SIG_LEN + 1
 * bytes).  Returns its length, or -1.
 */
int sd_whsign_sign(const sd_whsign_key_t *key, const char *id,
    size_t id_len, int64_t timestamp, const char *body, size_t body_len,
    char *out, size_t out_size);

#endif /* NGX_HTTP_SENDER_DOMAINS_WHSIGN_H */
