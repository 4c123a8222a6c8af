/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: identity and address validation
 * (src/core/sd_identity.c).
 *
 * Input: [split] [a: split bytes] [b: the rest].  Both strings go through
 * every validator the API uses on request data (domain, address, MAIL
 * FROM label, sender name), then the normalised names through the
 * ownership-tree helpers the store relies on for exclusive claims.
 *
 * Properties checked (from sd_identity.h):
 *   - outputs are NUL-terminated at the returned length and fit outsz;
 *   - a buffer one byte too small gives SD_ERR_NOSPACE and no overflow;
 *   - normalisation is idempotent and keeps the kind (domain/address);
 *   - a MAIL FROM domain built from valid parts is a valid domain;
 *   - a valid sender name holds no control character, no outer space,
 *     is valid UTF-8 and re-validates to itself;
 *   - sd_identities_conflict() is symmetric and reflexive;
 *   - tree keys: key(D) is a prefix of key(N) exactly when N is D, under
 *     D, or an address on either; two addresses have the same key exactly
 *     when they conflict (the store's claim index depends on both).
 */

#include "fuzz_common.h"

#include "sd_identity.h"
#include "sd_from.h"


typedef ssize_t (*fz_norm_pt)(const char *in, size_t len, char *out,
    size_t outsz, const char **errmsg);


/* the label alone (no domain length limit), as a normaliser */
static ssize_t
fz_label(const char *in, size_t len, char *out, size_t outsz,
    const char **errmsg)
{
    return sd_label_validate(in, len, NULL, 0, out, outsz, errmsg);
}


/*
 * Runs a normaliser with a big buffer, then with exact-size heap buffers
 * (n bytes: must fail with NOSPACE; n + 1: must give the same result).
 * Returns the result in a malloc'd string (or NULL on a validation error).
 */
static char *
fz_normalize(fz_norm_pt fn, const char *in, size_t len, ssize_t *out_n)
{
    char         big[2048], *exact, *res;
    ssize_t      n, m;
    const char  *msg;

    msg = NULL;
    n = fn(in, len, big, sizeof(big), &msg);
    *out_n = n;

    if (n < 0) {
        FZ_CHECK(msg != NULL && msg[0] != '\0');
        FZ_CHECK(n != SD_ERR_NOSPACE);
        return NULL;
    }

    FZ_CHECK((size_t) n < sizeof(big));
    FZ_CHECK(big[n] == '\0');

    exact = malloc(n ? n : 1);
    m = fn(in, len, exact, n, &msg);
    FZ_CHECK(m == SD_ERR_NOSPACE);
    free(exact);

    exact = malloc(n + 1);
    m = fn(in, len, exact, n + 1, &msg);
    FZ_CHECK(m == n);
    FZ_CHECK(memcmp(exact, big, n + 1) == 0);

    res = exact;

    return res;
}


static int
fz_is_prefix(const char *p, size_t plen, const char *s, size_t slen)
{
    return plen <= slen && memcmp(p, s, plen) == 0;
}


static char *
fz_tree_key(const char *name, size_t len, ssize_t *out_n)
{
    char     *buf, *exact;
    ssize_t   n, m;

    buf = malloc(SD_TREE_KEY_BUFSZ);
    n = sd_tree_key(name, len, buf, SD_TREE_KEY_BUFSZ);
    *out_n = n;

    if (n < 0) {
        free(buf);
        return NULL;
    }

    FZ_CHECK(n <= SD_TREE_KEY_MAX);
    FZ_CHECK(buf[n] == '\0');

    exact = malloc(n ? n : 1);
    m = sd_tree_key(name, len, exact, n);
    FZ_CHECK(m == SD_ERR_NOSPACE);
    free(exact);

    return buf;
}


static void
fz_check_name(const char *in, size_t len)
{
    char      *out, *again;
    ssize_t    n, m;

    out = fz_normalize(sd_sender_name_validate, in, len, &n);
    if (out == NULL) {
        return;
    }

    FZ_CHECK(n <= SD_SENDER_NAME_MAX_BYTES);
    FZ_CHECK(!fz_has_ctl((unsigned char *) out, n));
    FZ_CHECK(fz_valid_utf8((unsigned char *) out, n));
    FZ_CHECK(n == 0 || (out[0] != ' ' && out[n - 1] != ' '));

    /* U+0085 NEL, U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR */
    FZ_CHECK(memmem(out, n, "\xc2\x85", 2) == NULL);
    FZ_CHECK(memmem(out, n, "\xe2\x80\xa8", 3) == NULL);
    FZ_CHECK(memmem(out, n, "\xe2\x80\xa9", 3) == NULL);

    again = fz_normalize(sd_sender_name_validate, out, n, &m);
    FZ_CHECK(again != NULL && m == n && memcmp(again, out, n) == 0);

    free(again);
    free(out);
}


/* one string as each kind of identity; the normalised form is returned */
static char *
fz_check_identity(const char *in, size_t len, ssize_t *out_n)
{
    char      *dom, *mail, *again, *dup;
    size_t     dlen;
    ssize_t    n, m;
    const char *d;

    *out_n = -1;

    dom = fz_normalize(sd_domain_normalize, in, len, &n);

    if (dom != NULL) {
        FZ_CHECK(n > 0 && n <= SD_DOMAIN_MAX);
        FZ_CHECK(strlen(dom) == (size_t) n);
        FZ_CHECK(sd_identity_kind(dom, n) == SD_KIND_DOMAIN);
        FZ_CHECK(sd_domain_is_within(dom, n, dom, n) == 1);
        FZ_CHECK(sd_identities_conflict(dom, n, dom, n) == 1);

        dup = fz_dup(dom, n);
        again = fz_normalize(sd_domain_normalize, dup, n, &m);
        FZ_CHECK(again != NULL && m == n && memcmp(again, dom, n) == 0);
        free(again);
        free(dup);

        /* as an address it must be refused: there is no '@' */
        mail = fz_normalize(sd_email_normalize, in, len, &m);
        FZ_CHECK(mail == NULL);

        *out_n = n;
        return dom;
    }

    mail = fz_normalize(sd_email_normalize, in, len, &n);

    if (mail != NULL) {
        FZ_CHECK(n >= 3 && n <= SD_EMAIL_MAX);
        FZ_CHECK(strlen(mail) == (size_t) n);
        FZ_CHECK(sd_identity_kind(mail, n) == SD_KIND_EMAIL);
        FZ_CHECK(sd_identities_conflict(mail, n, mail, n) == 1);

        dup = fz_dup(mail, n);
        again = fz_normalize(sd_email_normalize, dup, n, &m);
        FZ_CHECK(again != NULL && m == n && memcmp(again, mail, n) == 0);
        free(again);
        free(dup);

        d = sd_identity_domain_part(mail, n, &dlen);
        FZ_CHECK(d > mail && d[-1] == '@' && dlen > 0);
        FZ_CHECK(sd_address_domain_match(mail, n, d, dlen));

        *out_n = n;
        return mail;
    }

    return NULL;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t         fz = { data, size };
    char        *a, *b, *na, *nb, *ka, *kb, *lbl, *mf, *again;
    size_t       alen, blen, i, adlen, bdlen;
    ssize_t      nalen, nblen, kalen, kblen, n, m;
    uint32_t     cp;
    const char  *msg, *ad, *bd;
    int          c1, c2, b_under_a;

    a = fz_take(&fz, fz_u8(&fz), &alen);
    b = fz_rest(&fz, &blen);

    /* raw bytes through the helpers that take unvalidated input */

    for (i = 0; i < alen; i += (n > 0 ? n : 1)) {
        n = sd_utf8_decode((unsigned char *) a + i,
                           (unsigned char *) a + alen, &cp);
        FZ_CHECK(n == -1 || (n >= 1 && n <= 4 && i + n <= alen));
        FZ_CHECK(n == -1 || cp <= 0x10ffff);
    }

    (void) sd_identity_kind(a, alen);
    (void) sd_domain_is_within(a, alen, b, blen);
    (void) sd_identities_conflict(a, alen, b, blen);
    ka = fz_tree_key(a, alen, &kalen);
    free(ka);

    fz_check_name(a, alen);
    fz_check_name(b, blen);

    na = fz_check_identity(a, alen, &nalen);
    nb = fz_check_identity(b, blen, &nblen);

    /* the MAIL FROM label: a is the label, b the domain */

    msg = NULL;
    lbl = fz_normalize(fz_label, a, alen, &n);

    if (lbl != NULL) {
        FZ_CHECK(n >= 1 && n <= SD_LABEL_MAX);

        for (i = 0; i < (size_t) n; i++) {
            FZ_CHECK((lbl[i] >= 'a' && lbl[i] <= 'z')
                     || (lbl[i] >= '0' && lbl[i] <= '9') || lbl[i] == '-');
        }

        if (nb != NULL && sd_identity_kind(nb, nblen) == SD_KIND_DOMAIN) {
            mf = malloc(SD_DOMAIN_BUFSZ);
            m = sd_mail_from_domain(a, alen, nb, nblen, mf,
                                    SD_DOMAIN_BUFSZ, &msg);

            if (m >= 0) {
                FZ_CHECK(m == n + 1 + nblen && mf[m] == '\0');

                /* SES gets it as a domain: it must be one */
                again = fz_normalize(sd_domain_normalize, mf, m, &n);
                FZ_CHECK(again != NULL && n == m
                         && memcmp(again, mf, m) == 0);
                FZ_CHECK(sd_domain_is_within(mf, m, nb, nblen));
                free(again);

                free(mf);
                mf = malloc(m);
                FZ_CHECK(sd_mail_from_domain(a, alen, nb, nblen, mf, m, &msg)
                         == SD_ERR_NOSPACE);

            } else {
                FZ_CHECK(m == SD_ERR_LABEL_MAIL_FROM_LONG);
            }

            free(mf);
        }

        free(lbl);
    }

    /* the ownership tree of two valid names */

    if (na != NULL && nb != NULL) {
        c1 = sd_identities_conflict(na, nalen, nb, nblen);
        c2 = sd_identities_conflict(nb, nblen, na, nalen);
        FZ_CHECK(c1 == c2);

        ka = fz_tree_key(na, nalen, &kalen);
        kb = fz_tree_key(nb, nblen, &kblen);
        FZ_CHECK(ka != NULL && kb != NULL);

        if (sd_identity_kind(na, nalen) == SD_KIND_DOMAIN) {
            bd = sd_identity_domain_part(nb, nblen, &bdlen);
            b_under_a = sd_domain_is_within(bd, bdlen, na, nalen);

            FZ_CHECK(fz_is_prefix(ka, kalen, kb, kblen) == b_under_a);
            FZ_CHECK(c1 >= b_under_a);

        } else if (sd_identity_kind(nb, nblen) == SD_KIND_EMAIL) {
            FZ_CHECK((kalen == kblen && memcmp(ka, kb, kalen) == 0) == c1);

        } else {
            ad = sd_identity_domain_part(na, nalen, &adlen);
            FZ_CHECK(c1 == sd_domain_is_within(ad, adlen, nb, nblen));
        }

        free(ka);
        free(kb);
    }

    free(na);
    free(nb);
    free(a);
    free(b);

    return 0;
}
