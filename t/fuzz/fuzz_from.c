/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: From values, as the send-time resolver handles them
 * (src/core/sd_from.c, _resolve.c).
 *
 * Input: [mode] [the From value].  The chain of GET /resolve?from=...:
 * sd_from_parse() -> sd_email_normalize() on the address -> a stored
 * sender name -> sd_from_format() into an SD_FROM_BUFSZ buffer.  The
 * stored name is either the parsed display name validated by
 * sd_sender_name_validate() (what the API stores) or, for mode & 1, the
 * raw parsed name (the resolver must also survive a bad stored value:
 * sd_from_format() re-checks it).
 *
 * Properties: the header value never holds CR, LF or another control
 * byte and is valid UTF-8 (RFC 2047 words are ASCII); any validated name
 * fits SD_FROM_BUFSZ (documented in from.h); the output parses back to
 * the same address; output buffers are never overrun (exact-size heap
 * buffers, and a one-byte-short buffer gives SD_ERR_NOSPACE).
 */

#include "fuzz_common.h"

#include "sd_identity.h"
#include "sd_from.h"


static void
fz_format(const char *name, size_t name_len, const char *addr,
    size_t addr_len, int validated)
{
    char        *out, *exact, *hname;
    size_t       paddr_len;
    ssize_t      n, m;
    const char  *paddr, *msg;

    out = malloc(SD_FROM_BUFSZ);
    n = sd_from_format(name, name_len, addr, addr_len, out, SD_FROM_BUFSZ);

    if (validated) {
        /* from.h: SD_FROM_BUFSZ is large enough for any validated name */
        FZ_CHECK(n >= 0);
    }

    if (n < 0) {
        free(out);
        return;
    }

    FZ_CHECK((size_t) n < SD_FROM_BUFSZ && out[n] == '\0');
    FZ_CHECK(!fz_has_ctl((unsigned char *) out, n));
    FZ_CHECK(fz_valid_utf8((unsigned char *) out, n));

    /* the exact size works, one byte less does not (and does not spill) */
    exact = malloc(n + 1);
    FZ_CHECK(sd_from_format(name, name_len, addr, addr_len, exact, n + 1)
             == n);
    FZ_CHECK(memcmp(exact, out, n + 1) == 0);
    free(exact);

    exact = malloc(n ? n : 1);
    FZ_CHECK(sd_from_format(name, name_len, addr, addr_len, exact, n)
             == SD_ERR_NOSPACE);
    free(exact);

    /*
     * What a mail library reads back: the same address.  Without a name
     * buffer, so that the display name, which this parser does not
     * decode (several encoded-words can be longer than 100 characters),
     * is not held to the sender-name rules.
     */
    hname = fz_dup(out, n);
    m = sd_from_parse(hname, n, NULL, 0, NULL, &paddr, &paddr_len, &msg);
    FZ_CHECK(m == 0);
    FZ_CHECK(paddr_len == addr_len && memcmp(paddr, addr, addr_len) == 0);

    free(hname);
    free(out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t         fz = { data, size };
    char        *in, *name, *abuf, *vname, *nb;
    size_t       len, name_len, addr_len;
    ssize_t      rc, n, vn;
    uint8_t      mode;
    const char  *addr, *msg;

    mode = fz_u8(&fz);
    in = fz_rest(&fz, &len);

    name = malloc(SD_SENDER_NAME_BUFSZ);
    addr = NULL;
    addr_len = 0;
    msg = NULL;

    rc = sd_from_parse(in, len, name, SD_SENDER_NAME_BUFSZ, &name_len, &addr,
                       &addr_len, &msg);

    if (rc != 0) {
        FZ_CHECK(rc < 0 && msg != NULL);
        goto done;
    }

    FZ_CHECK(name_len < SD_SENDER_NAME_BUFSZ && name[name_len] == '\0');
    FZ_CHECK(addr >= in && addr + addr_len <= in + len);

    /* a short name buffer: an error, never an overflow */
    nb = malloc(name_len ? name_len : 1);
    (void) sd_from_parse(in, len, nb, name_len, &name_len, &addr, &addr_len,
                         &msg);
    free(nb);

    rc = sd_from_parse(in, len, name, SD_SENDER_NAME_BUFSZ, &name_len, &addr,
                       &addr_len, &msg);
    FZ_CHECK(rc == 0);

    abuf = malloc(SD_EMAIL_BUFSZ);
    n = sd_email_normalize(addr, addr_len, abuf, SD_EMAIL_BUFSZ, &msg);

    if (n > 0) {
        FZ_CHECK(sd_address_domain_match(abuf, n,
                     memchr(abuf, '@', n) + 1,
                     n - ((char *) memchr(abuf, '@', n) + 1 - abuf)));

        vname = malloc(SD_SENDER_NAME_BUFSZ);
        vn = sd_sender_name_validate(name, name_len, vname,
                                     SD_SENDER_NAME_BUFSZ, &msg);
        if (vn >= 0) {
            fz_format(vname, vn, abuf, n, 1);
        }

        if (mode & 1) {
            fz_format(name, name_len, abuf, n, 0);
        }

        /* the fallback: the bare address */
        fz_format(NULL, 0, abuf, n, 1);

        free(vname);
    }

    free(abuf);

done:

    free(name);
    free(in);

    return 0;
}
