/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: AWS Signature Version 4.
 *
 * Pure C (no nginx types, no global state), OpenSSL libcrypto for SHA-256
 * and HMAC.  Every stage of the algorithm is a separate function so each
 * one is checked against the official test suite on its own:
 *
 *   request -> canonical request -> string to sign -> signature
 *                                                   -> Authorization value
 *
 * Ownership: functions that return text of variable length allocate it
 * with malloc(); the caller releases it with sd_sigv4_free().  Fixed-size
 * results (dates, hashes, keys) go into caller arrays.  Nothing keeps a
 * pointer to the request after a call returns.
 *
 * The signer signs exactly the headers it is given (plus the session token,
 * see below); choosing them is the caller's job.  For SES, sign what
 * botocore signs: host, x-amz-date, content-type when there is a body, and
 * x-amz-security-token with temporary credentials.  The same names and
 * values must then go on the wire.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_SIGV4_H
#define NGX_HTTP_SENDER_DOMAINS_SIGV4_H

#include <stddef.h>
#include <time.h>


#define SD_SIGV4_ALGORITHM      "AWS4-HMAC-SHA256"
#define SD_SIGV4_AMZ_DATE_LEN   16          /* "20150830T123600Z" */
#define SD_SHA256_LEN           32
#define SD_SHA256_HEX_LEN       64


typedef enum {
    SD_SIGV4_OK = 0,
    SD_SIGV4_EINVAL,            /* a required field is missing or malformed */
    SD_SIGV4_ENOMEM,
    SD_SIGV4_ECRYPTO            /* OpenSSL failed */
} sd_sigv4_rc_e;


typedef struct {
    const char             *name;       /* any case; lower-cased here */
    size_t                  name_len;
    const char             *value;      /* trimmed and folded here */
    size_t                  value_len;
} sd_sigv4_header_t;


typedef struct {
    const char             *method;     /* "GET", used as given */

    /*
     * The path as sent on the wire (each label already percent-encoded
     * once), e.g. "/v2/email/identities/user%2Btag%40example.com".
     * Must start with '/'; empty means "/".
     */
    const char             *path;
    size_t                  path_len;

    /*
     * The raw query string without '?', possibly empty.  Each key and
     * value is percent-decoded and re-encoded with the strict set, so the
     * wire query should encode every reserved byte ('+' is a literal '+',
     * signed as %2B; send a space as %20).
     */
    const char             *query;
    size_t                  query_len;

    const sd_sigv4_header_t *headers;   /* the headers to sign */
    size_t                  nheaders;

    const unsigned char    *body;
    size_t                  body_len;

    /*
     * Lower-case hex SHA-256 of the payload, or a literal such as
     * "UNSIGNED-PAYLOAD"; NULL means: hash body/body_len.
     */
    const char             *payload_hash;

    const char             *access_key;
    const char             *secret_key;

    /*
     * Temporary credentials: when non-NULL and non-empty and no
     * x-amz-security-token header is among the headers, the signer signs
     * "x-amz-security-token:<session_token>" as if it were; the caller
     * must then send that header.  A header given explicitly wins.
     */
    const char             *session_token;

    const char             *region;     /* "us-east-1" */
    const char             *service;    /* "ses" */
    const char             *amz_date;   /* "20150830T123600Z", UTC */

    unsigned                double_encode_path:1;   /* 1 but for S3 */
    unsigned                normalize_path:1;       /* 1 but for S3 */
} sd_sigv4_request_t;


const char *sd_sigv4_strerror(sd_sigv4_rc_e rc);

/*
 * Percent-encodes src: bytes in A-Za-z0-9-._~ (and '/' when keep_slash)
 * are copied, every other byte becomes %XX with upper-case hex.  Writes no
 * NUL; dst needs room for 3 * len bytes, or pass dst == NULL to get the
 * length only.  Returns the encoded length.
 */
size_t sd_sigv4_uri_encode(char *dst, const char *src, size_t len,
    int keep_slash);

/* "YYYYMMDDTHHMMSSZ" and a NUL for the UTC time t; -1 if t is out of range */
int sd_sigv4_amz_date(time_t t, char out[SD_SIGV4_AMZ_DATE_LEN + 1]);

/* lower-case hex SHA-256 of data, NUL-terminated; -1 on OpenSSL failure */
int sd_sha256_hex(const void *data, size_t len,
    char out[SD_SHA256_HEX_LEN + 1]);

/* HMAC-SHA256(key, data); -1 on OpenSSL failure */
int sd_hmac_sha256(const void *key, size_t key_len, const void *data,
    size_t len, unsigned char out[SD_SHA256_LEN]);

/*
 * The canonical request (no trailing newline), malloc'd, NUL-terminated;
 * *out_len gets its length (out_len may be NULL).
 */
sd_sigv4_rc_e sd_sigv4_canonical_request(const sd_sigv4_request_t *req,
    char **out, size_t *out_len);

/* "a;b;c": the SignedHeaders list of req, malloc'd, NUL-terminated */
sd_sigv4_rc_e sd_sigv4_signed_headers(const sd_sigv4_request_t *req,
    char **out, size_t *out_len);

/*
 * The string to sign for a canonical request; uses req's amz_date, region
 * and service only.  Malloc'd, NUL-terminated, no trailing newline.
 */
sd_sigv4_rc_e sd_sigv4_string_to_sign(const sd_sigv4_request_t *req,
    const char *creq, size_t creq_len, char **out, size_t *out_len);

/*
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 * "aws4_request"), where date is the first 8 characters of amz_date.  It
 * is valid for a whole UTC day, so a caller may cache it per day.  The
 * caller should OPENSSL_cleanse() it when done.
 */
sd_sigv4_rc_e sd_sigv4_signing_key(const char *secret_key,
    const char *amz_date, const char *region, const char *service,
    unsigned char key[SD_SHA256_LEN]);

/* lower-case hex HMAC(key, string to sign), NUL-terminated */
sd_sigv4_rc_e sd_sigv4_signature(const unsigned char key[SD_SHA256_LEN],
    const char *sts, size_t sts_len, char out[SD_SHA256_HEX_LEN + 1]);

/*
 * The whole job: the value of the Authorization header,
 * "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ses/aws4_request,
 * SignedHeaders=host;x-amz-date, Signature=<64 hex>", malloc'd,
 * NUL-terminated.
 */
sd_sigv4_rc_e sd_sigv4_authorization(const sd_sigv4_request_t *req,
    char **out, size_t *out_len);

/* releases a string returned by this file; NULL is fine */
void sd_sigv4_free(void *p);


#endif /* NGX_HTTP_SENDER_DOMAINS_SIGV4_H */
