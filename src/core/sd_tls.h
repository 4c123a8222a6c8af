/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the checks of the PEM files that TLS to
 * etcd uses (issue 18, docs/cluster.md "The etcd client"): a CA bundle,
 * a client certificate (chain) and its private key.  The module runs them
 * while nginx parses its configuration, so "nginx -t" refuses what
 * libcurl could not load later, as nginx does for ssl_certificate; the
 * import tool runs them before its first call.
 *
 * Pure C (OpenSSL's libcrypto, no nginx types), unit-tested in
 * t/unit/test_tls.c with keys and certificates it makes itself.  No
 * sentence written into err ever holds a byte of a key.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_TLS_H
#define NGX_HTTP_SENDER_DOMAINS_TLS_H

#include <stddef.h>


/* the largest file read: a CA bundle (Debian's holds ~150 CAs in 220 KB) */
#define SD_TLS_FILE_MAX         (4 * 1024 * 1024)
/* the largest key file */
#define SD_TLS_KEY_MAX          (64 * 1024)
/* room for any sentence of this file */
#define SD_TLS_ERR_LEN          256


/*
 * A CA bundle: one or more PEM certificates.  Returns their number, or 0
 * with a sentence in err.
 */
int sd_tls_check_ca(const char *pem, size_t len, char *err, size_t err_len);

/*
 * A certificate file: its first PEM certificate (the one the key signs
 * for; more may follow, the chain).  0, or -1 with a sentence in err.
 */
int sd_tls_check_cert(const char *pem, size_t len, char *err,
    size_t err_len);

/*
 * A private key in PEM, not encrypted (a key with a passphrase is
 * refused: nothing could type it in).  0, or -1 with a sentence in err.
 */
int sd_tls_check_key(const char *pem, size_t len, char *err, size_t err_len);

/*
 * The key is the one of the certificate's public key.  0, or -1 with a
 * sentence in err (either does not load, or they do not match).
 */
int sd_tls_check_pair(const char *cert, size_t cert_len, const char *key,
    size_t key_len, char *err, size_t err_len);

#endif /* NGX_HTTP_SENDER_DOMAINS_TLS_H */
