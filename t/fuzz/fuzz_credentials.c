/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: the AWS shared-credentials file
 * (sd_credentials_parse() in src/core/sd_credentials.c).
 *
 * Input: [profile length] [err_size] [profile name] [file contents].
 * The profile name comes from nginx.conf in real life and is passed
 * NUL-terminated (empty: "default"); the file is an exact-size heap
 * buffer as the module reads it.  The error buffer is an exact-size heap
 * buffer of err_size bytes (0..255; 0: no buffer).
 *
 * Properties (credentials.h): on SD_CRED_OK the access key and secret
 * are non-empty, NUL-terminated within their arrays and printable ASCII
 * without spaces, and so is the optional session token; on an error the
 * struct is wiped (all zero); the message is NUL-terminated within
 * err_size, has no control characters (it goes to the error log) and
 * never contains the secret key value.
 */

#include "fuzz_common.h"

#include "sd_credentials.h"


static void
fz_printable(const char *s, size_t size, int may_be_empty)
{
    size_t  i, n;

    FZ_CHECK(fz_terminated(s, size));
    n = strlen(s);
    FZ_CHECK(may_be_empty || n > 0);

    for (i = 0; i < n; i++) {
        FZ_CHECK((unsigned char) s[i] > ' ' && (unsigned char) s[i] < 0x7f);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t               fz = { data, size };
    char              *profile, *prof, *file, *err;
    size_t             plen, flen, err_size, i;
    sd_cred_rc_e       rc;
    sd_credentials_t  *cred;
    static const sd_credentials_t  zero;

    plen = fz_u8(&fz) % 80;
    err_size = fz_u8(&fz);
    prof = fz_take(&fz, plen, &plen);
    file = fz_rest(&fz, &flen);

    /* nginx.conf strings hold no NUL: cut there, then terminate */
    profile = malloc(plen + 1);
    memcpy(profile, prof, plen);
    profile[plen] = '\0';

    err = malloc(err_size ? err_size : 1);
    cred = malloc(sizeof(*cred));
    memset(cred, 0x5a, sizeof(*cred));

    rc = sd_credentials_parse(file, flen, profile, cred,
                              err_size ? err : NULL, err_size);

    FZ_CHECK(sd_credentials_strerror(rc) != NULL);

    if (err_size) {
        FZ_CHECK(fz_terminated(err, err_size));
        FZ_CHECK(!fz_has_ctl((unsigned char *) err, strlen(err)));
    }

    if (rc == SD_CRED_OK) {
        fz_printable(cred->access_key, sizeof(cred->access_key), 0);
        fz_printable(cred->secret_key, sizeof(cred->secret_key), 0);
        fz_printable(cred->session_token, sizeof(cred->session_token), 1);

        if (err_size) {
            FZ_CHECK(err[0] == '\0');
        }

    } else {
        FZ_CHECK(memcmp(cred, &zero, sizeof(zero)) == 0);

        if (err_size > 1) {
            FZ_CHECK(err[0] != '\0');
        }
    }

    /*
     * A secret never reaches a message: take the value of each
     * "aws_secret_access_key = value" line (at a line start, as the
     * parser reads it) and look for it in the message, unless the value
     * is a word the messages legitimately hold (a key or profile name).
     */
    if (rc != SD_CRED_OK && err_size > 8) {
        const char  *k = "aws_secret_access_key";
        const char  *words = "aws_access_key_id aws_secret_access_key "
                             "aws_session_token aws_security_token";
        char        *v, *stop = file + flen, *line = file;

        while (line < stop) {
            char  *nl = memchr(line, '\n', stop - line);
            char  *end = nl ? nl : stop;

            v = line;
            while (v < end && (*v == ' ' || *v == '\t')) {
                v++;
            }

            if ((size_t) (end - v) > strlen(k)
                && memcmp(v, k, strlen(k)) == 0)
            {
                v += strlen(k);
                while (v < end && (*v == ' ' || *v == '\t')) {
                    v++;
                }

                if (v < end && (*v == '=' || *v == ':')) {
                    v++;
                    while (v < end && (*v == ' ' || *v == '\t')) {
                        v++;
                    }

                    for (i = 0; v + i < end && v[i] > ' ' && v[i] < 0x7f;
                         i++)
                    {
                        /* the value's extent */
                    }

                    if (i >= 8 && memmem(words, strlen(words), v, i) == NULL
                        && memmem(profile, plen, v, i) == NULL)
                    {
                        FZ_CHECK(memmem(err, strlen(err), v, i) == NULL);
                    }
                }
            }

            line = nl ? nl + 1 : stop;
        }
    }

    sd_credentials_wipe(cred);
    FZ_CHECK(memcmp(cred, &zero, sizeof(zero)) == 0);

    free(cred);
    free(err);
    free(profile);
    free(prof);
    free(file);

    return 0;
}
