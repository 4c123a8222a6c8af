/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: the checks of the PEM files of TLS to etcd
 * (src/core/sd_tls.c).  Every key and certificate is made here, at run
 * time, with OpenSSL: the repository holds no private key.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sd_tls.h"


typedef struct {
    char        *cert;      /* PEM, NUL-terminated */
    char        *key;       /* PEM (PKCS#8), NUL-terminated */
    char        *key_ec;    /* PEM ("BEGIN EC PRIVATE KEY") */
    char        *key_enc;   /* PEM, encrypted with a passphrase */
} pair_t;


static pair_t  a, b;


static char *
bio_text(BIO *bio)
{
    char    *p, *s;
    long     n;

    n = BIO_get_mem_data(bio, &p);
    s = malloc((size_t) n + 1);
    assert_non_null(s);
    memcpy(s, p, (size_t) n);
    s[n] = '\0';
    BIO_free(bio);

    return s;
}


/* a P-256 key and a self-signed certificate for it, in PEM */

static void
make_pair(pair_t *p, const char *cn)
{
    BIO        *bio;
    X509       *x;
    EVP_PKEY   *k;
    X509_NAME  *name;

    k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);

    x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *) cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);

    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_X509(bio, x), 1);
    p->cert = bio_text(bio);

    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL,
                                              NULL), 1);
    p->key = bio_text(bio);

    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, k, NULL,
                                                    NULL, 0, NULL, NULL), 1);
    p->key_ec = bio_text(bio);

    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, k,
                         EVP_aes_256_cbc(), NULL, 0, NULL,
                         (void *) "passphrase"), 1);
    p->key_enc = bio_text(bio);

    X509_free(x);
    EVP_PKEY_free(k);
}


static int
setup(void **state)
{
    (void) state;

    make_pair(&a, "a");
    make_pair(&b, "b");

    return 0;
}


static int
teardown(void **state)
{
    (void) state;

    free(a.cert); free(a.key); free(a.key_ec); free(a.key_enc);
    free(b.cert); free(b.key); free(b.key_ec); free(b.key_enc);

    return 0;
}


static char *
concat(const char *x, const char *y)
{
    char  *s;

    s = malloc(strlen(x) + strlen(y) + 1);
    assert_non_null(s);
    strcpy(s, x);
    strcat(s, y);

    return s;
}


static void
test_ca(void **state)
{
    char  err[SD_TLS_ERR_LEN], *two, *bad;

    (void) state;

    assert_int_equal(sd_tls_check_ca(a.cert, strlen(a.cert), err,
                                     sizeof(err)), 1);

    two = concat(a.cert, b.cert);
    assert_int_equal(sd_tls_check_ca(two, strlen(two), err, sizeof(err)), 2);

    /* comments around the certificates, as in ca-certificates.crt */
    free(two);
    two = concat("# the test CAs\n", a.cert);
    assert_int_equal(sd_tls_check_ca(two, strlen(two), err, sizeof(err)), 1);
    free(two);

    err[0] = '\0';
    assert_int_equal(sd_tls_check_ca("hello\n", 6, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "holds no PEM certificate"));

    err[0] = '\0';
    assert_int_equal(sd_tls_check_ca("", 0, err, sizeof(err)), 0);
    assert_true(err[0] != '\0');

    /* a key is not a CA */
    err[0] = '\0';
    assert_int_equal(sd_tls_check_ca(a.key, strlen(a.key), err, sizeof(err)),
                     0);
    assert_non_null(strstr(err, "holds no PEM certificate"));

    /* a second certificate broken in its middle */
    bad = concat(a.cert, b.cert);
    bad[strlen(a.cert) + 40] = '*';
    err[0] = '\0';
    assert_int_equal(sd_tls_check_ca(bad, strlen(bad), err, sizeof(err)), 0);
    assert_non_null(strstr(err, "does not parse"));
    free(bad);
}


static void
test_cert(void **state)
{
    char  err[SD_TLS_ERR_LEN], *both;

    (void) state;

    assert_int_equal(sd_tls_check_cert(a.cert, strlen(a.cert), err,
                                       sizeof(err)), 0);

    err[0] = '\0';
    assert_int_equal(sd_tls_check_cert(a.key, strlen(a.key), err,
                                       sizeof(err)), -1);
    assert_non_null(strstr(err, "holds no PEM certificate"));

    /* certificate and key in one file, as nginx allows */
    both = concat(a.key, a.cert);
    assert_int_equal(sd_tls_check_cert(both, strlen(both), err, sizeof(err)),
                     0);
    assert_int_equal(sd_tls_check_key(both, strlen(both), err, sizeof(err)),
                     0);
    assert_int_equal(sd_tls_check_pair(both, strlen(both), both,
                                       strlen(both), err, sizeof(err)), 0);
    free(both);
}


static void
test_key(void **state)
{
    char  err[SD_TLS_ERR_LEN];

    (void) state;

    assert_int_equal(sd_tls_check_key(a.key, strlen(a.key), err,
                                      sizeof(err)), 0);
    assert_int_equal(sd_tls_check_key(a.key_ec, strlen(a.key_ec), err,
                                      sizeof(err)), 0);

    err[0] = '\0';
    assert_int_equal(sd_tls_check_key(a.key_enc, strlen(a.key_enc), err,
                                      sizeof(err)), -1);
    assert_non_null(strstr(err, "encrypted"));

    err[0] = '\0';
    assert_int_equal(sd_tls_check_key(a.cert, strlen(a.cert), err,
                                      sizeof(err)), -1);
    assert_non_null(strstr(err, "holds no PEM private key"));
}


static void
test_pair(void **state)
{
    char  err[SD_TLS_ERR_LEN], line[17], *nl;

    (void) state;

    assert_int_equal(sd_tls_check_pair(a.cert, strlen(a.cert), a.key,
                                       strlen(a.key), err, sizeof(err)), 0);
    assert_int_equal(sd_tls_check_pair(b.cert, strlen(b.cert), b.key_ec,
                                       strlen(b.key_ec), err, sizeof(err)),
                     0);

    err[0] = '\0';
    assert_int_equal(sd_tls_check_pair(a.cert, strlen(a.cert), b.key,
                                       strlen(b.key), err, sizeof(err)), -1);
    assert_string_equal(err, "the private key does not match the "
                             "certificate's public key");

    err[0] = '\0';
    assert_int_equal(sd_tls_check_pair(a.cert, strlen(a.cert), a.key_enc,
                                       strlen(a.key_enc), err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "encrypted"));

    /* no sentence holds a byte of the key: its first base64 line */
    nl = strchr(b.key, '\n');
    assert_non_null(nl);
    memcpy(line, nl + 1, 16);
    line[16] = '\0';
    sd_tls_check_pair(a.cert, strlen(a.cert), b.key, strlen(b.key), err,
                      sizeof(err));
    assert_null(strstr(err, line));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ca),
        cmocka_unit_test(test_cert),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_pair),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
