/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the checks of the PEM files of TLS to
 * etcd (see sd_tls.h).
 */

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sd_tls.h"


static BIO *sd_tls_bio(const char *pem, size_t len);
static X509 *sd_tls_cert(const char *pem, size_t len, char *err,
    size_t err_len);
static EVP_PKEY *sd_tls_key(const char *pem, size_t len, char *err,
    size_t err_len);
static int sd_tls_no_passphrase(char *buf, int size, int rwflag, void *u);
static int sd_tls_has(const char *p, size_t len, const char *s);
static void sd_tls_error(char *err, size_t err_len, const char *what);


int
sd_tls_check_ca(const char *pem, size_t len, char *err, size_t err_len)
{
    int            n;
    BIO           *bio;
    X509          *x;
    unsigned long  e;

    bio = sd_tls_bio(pem, len);
    if (bio == NULL) {
        sd_tls_error(err, err_len, "it cannot be read");
        return 0;
    }

    n = 0;
    ERR_clear_error();

    while ((x = PEM_read_bio_X509(bio, NULL, sd_tls_no_passphrase, NULL))
           != NULL)
    {
        X509_free(x);
        n++;
    }

    /* the end of the text, or a certificate that does not parse */
    e = ERR_peek_last_error();
    BIO_free(bio);

    if (n > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM
        && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
    {
        ERR_clear_error();
        return n;
    }

    if (n == 0 && ERR_GET_LIB(e) == ERR_LIB_PEM
        && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
    {
        ERR_clear_error();
        snprintf(err, err_len, "it holds no PEM certificate "
                 "(\"-----BEGIN CERTIFICATE-----\")");
        return 0;
    }

    sd_tls_error(err, err_len, n ? "a certificate in it does not parse"
                                 : "its first certificate does not parse");
    return 0;
}


int
sd_tls_check_cert(const char *pem, size_t len, char *err, size_t err_len)
{
    X509  *x;

    x = sd_tls_cert(pem, len, err, err_len);
    if (x == NULL) {
        return -1;
    }

    X509_free(x);

    return 0;
}


int
sd_tls_check_key(const char *pem, size_t len, char *err, size_t err_len)
{
    EVP_PKEY  *k;

    k = sd_tls_key(pem, len, err, err_len);
    if (k == NULL) {
        return -1;
    }

    EVP_PKEY_free(k);

    return 0;
}


int
sd_tls_check_pair(const char *cert, size_t cert_len, const char *key,
    size_t key_len, char *err, size_t err_len)
{
    int        rc;
    X509      *x;
    EVP_PKEY  *k;

    x = sd_tls_cert(cert, cert_len, err, err_len);
    if (x == NULL) {
        return -1;
    }

    k = sd_tls_key(key, key_len, err, err_len);
    if (k == NULL) {
        X509_free(x);
        return -1;
    }

    ERR_clear_error();
    rc = X509_check_private_key(x, k);
    ERR_clear_error();

    X509_free(x);
    EVP_PKEY_free(k);

    if (rc != 1) {
        snprintf(err, err_len, "the private key does not match the "
                 "certificate's public key");
        return -1;
    }

    return 0;
}


static BIO *
sd_tls_bio(const char *pem, size_t len)
{
    if (pem == NULL || len == 0 || len > INT_MAX) {
        return NULL;
    }

    return BIO_new_mem_buf(pem, (int) len);
}


static X509 *
sd_tls_cert(const char *pem, size_t len, char *err, size_t err_len)
{
    BIO   *bio;
    X509  *x;

    bio = sd_tls_bio(pem, len);
    if (bio == NULL) {
        snprintf(err, err_len, "it is empty");
        return NULL;
    }

    ERR_clear_error();
    x = PEM_read_bio_X509(bio, NULL, sd_tls_no_passphrase, NULL);
    BIO_free(bio);

    if (x == NULL) {
        if (!sd_tls_has(pem, len, "-----BEGIN CERTIFICATE-----")) {
            ERR_clear_error();
            snprintf(err, err_len, "it holds no PEM certificate "
                     "(\"-----BEGIN CERTIFICATE-----\")");

        } else {
            sd_tls_error(err, err_len, "its certificate does not parse");
        }

        return NULL;
    }

    ERR_clear_error();

    return x;
}


static EVP_PKEY *
sd_tls_key(const char *pem, size_t len, char *err, size_t err_len)
{
    BIO       *bio;
    EVP_PKEY  *k;

    if (sd_tls_has(pem, len, "ENCRYPTED")) {
        /* "BEGIN ENCRYPTED PRIVATE KEY" (PKCS#8), "Proc-Type: 4,ENCRYPTED" */
        snprintf(err, err_len, "the private key is encrypted; a key with "
                 "a passphrase is not supported (\"openssl pkey -in KEY "
                 "-out KEY.plain\" writes it without)");
        return NULL;
    }

    bio = sd_tls_bio(pem, len);
    if (bio == NULL) {
        snprintf(err, err_len, "it is empty");
        return NULL;
    }

    ERR_clear_error();
    k = PEM_read_bio_PrivateKey(bio, NULL, sd_tls_no_passphrase, NULL);
    BIO_free(bio);

    if (k == NULL) {
        if (!sd_tls_has(pem, len, "PRIVATE KEY-----")) {
            ERR_clear_error();
            snprintf(err, err_len, "it holds no PEM private key "
                     "(\"-----BEGIN PRIVATE KEY-----\")");

        } else {
            sd_tls_error(err, err_len, "its private key does not parse");
        }

        return NULL;
    }

    ERR_clear_error();

    return k;
}


/* nothing could type a passphrase in: an encrypted key fails to load */

static int
sd_tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    (void) u;

    return -1;
}


/* memmem(3) is not in every libc nginx builds with */

static int
sd_tls_has(const char *p, size_t len, const char *s)
{
    size_t  i, n;

    n = strlen(s);

    for (i = 0; i + n <= len; i++) {
        if (p[i] == s[0] && memcmp(p + i, s, n) == 0) {
            return 1;
        }
    }

    return 0;
}


/* "what" and OpenSSL's reason for the last error, which it then forgets */

static void
sd_tls_error(char *err, size_t err_len, const char *what)
{
    const char     *reason;
    unsigned long   e;

    e = ERR_peek_last_error();
    reason = e ? ERR_reason_error_string(e) : NULL;

    if (reason) {
        snprintf(err, err_len, "%s (OpenSSL: %s)", what, reason);

    } else {
        snprintf(err, err_len, "%s", what);
    }

    ERR_clear_error();
}
