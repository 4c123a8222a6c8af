/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: Standard Webhooks signatures (see the
 * header).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sd_whsign.h"


#define SD_WHSIGN_PREFIX      "whsec_"
#define SD_WHSIGN_PREFIX_LEN  (sizeof(SD_WHSIGN_PREFIX) - 1)


static int
sd_whsign_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


int
sd_whsign_key(const char *text, size_t len, sd_whsign_key_t *key,
    const char **err)
{
    int            n;
    size_t         pad;
    unsigned char  buf[SD_WHSIGN_KEY_MAX + 3];

    while (len && sd_whsign_space(text[0])) {
        text++;
        len--;
    }

    while (len && sd_whsign_space(text[len - 1])) {
        len--;
    }

    if (len < SD_WHSIGN_PREFIX_LEN
        || memcmp(text, SD_WHSIGN_PREFIX, SD_WHSIGN_PREFIX_LEN) != 0)
    {
        *err = "the secret does not start with \"whsec_\"";
        return -1;
    }

    text += SD_WHSIGN_PREFIX_LEN;
    len -= SD_WHSIGN_PREFIX_LEN;

    /* base64 of 24..64 bytes: 32..88 characters, a multiple of 4 */
    if (len % 4 != 0 || len < 32 || len > 88) {
        *err = "the secret is not the base64 of 24 to 64 bytes";
        return -1;
    }

    for (pad = 0; pad < len && pad < 2 && text[len - 1 - pad] == '='; pad++) {
        /* void */
    }

    /* EVP_DecodeBlock() ignores nothing and writes whole groups */
    n = EVP_DecodeBlock(buf, (const unsigned char *) text, (int) len);
    if (n < 0) {
        *err = "the secret is not valid base64";
        return -1;
    }

    n -= (int) pad;

    if (n < SD_WHSIGN_KEY_MIN || n > SD_WHSIGN_KEY_MAX) {
        *err = "the secret is not the base64 of 24 to 64 bytes";
        return -1;
    }

    memcpy(key->key, buf, (size_t) n);
    key->len = (size_t) n;

    return 0;
}


int
sd_whsign_sign(const sd_whsign_key_t *key, const char *id, size_t id_len,
    int64_t timestamp, const char *body, size_t body_len, char *out,
    size_t out_size)
{
    int             n;
    char            ts[24], *msg, *p;
    unsigned int    mac_len;
    unsigned char   mac[EVP_MAX_MD_SIZE];
    unsigned char  *rc;

    if (out_size < SD_WHSIGN_SIG_LEN + 1) {
        return -1;
    }

    n = snprintf(ts, sizeof(ts), "%lld", (long long) timestamp);

    /* what is signed: "<id>.<timestamp>.<body>" */
    msg = malloc(id_len + 1 + (size_t) n + 1 + body_len + 1);
    if (msg == NULL) {
        return -1;
    }

    p = msg;
    memcpy(p, id, id_len);
    p += id_len;
    *p++ = '.';
    memcpy(p, ts, (size_t) n);
    p += n;
    *p++ = '.';
    memcpy(p, body, body_len);
    p += body_len;

    rc = HMAC(EVP_sha256(), key->key, (int) key->len, (unsigned char *) msg,
              (size_t) (p - msg), mac, &mac_len);

    free(msg);

    if (rc == NULL || mac_len != 32) {
        return -1;
    }

    memcpy(out, "v1,", 3);
    n = EVP_EncodeBlock((unsigned char *) out + 3, mac, (int) mac_len);

    return 3 + n;
}
