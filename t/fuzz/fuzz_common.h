/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: helpers shared by the libFuzzer targets.
 *
 * Every target is one fuzz_<name>.c with LLVMFuzzerTestOneInput(); it is
 * linked with the whole pure core (src/, no nginx) by t/fuzz/run.sh:
 *
 *     clang-14 -fsanitize=fuzzer,address,undefined ...
 *
 * The rules the targets follow:
 *
 *   - inputs are handed to the code under test in heap buffers of their
 *     exact length (never NUL-terminated), as nginx strings are, so that
 *     ASan sees a read one byte too far;
 *   - output buffers are heap buffers of exactly the size the caller
 *     claims, so a write one byte too far is caught too;
 *   - FZ_CHECK() states a property the API documents (NUL-terminated
 *     output, idempotent normalisation, no CR/LF in a header value...).
 *     A failed check aborts, which libFuzzer reports as a crash, like a
 *     sanitizer finding.
 */

#ifndef SD_FUZZ_COMMON_H
#define SD_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define FZ_CHECK(cond)                                                       \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: property violated: %s\n",               \
                    __FILE__, __LINE__, #cond);                              \
            abort();                                                         \
        }                                                                    \
    } while (0)


/* a reader over the fuzzer's bytes: leading bytes choose modes/lengths */

typedef struct {
    const uint8_t  *p;
    size_t          len;
} fz_t;


static inline uint8_t
fz_u8(fz_t *fz)
{
    uint8_t  c;

    if (fz->len == 0) {
        return 0;
    }

    c = fz->p[0];
    fz->p++;
    fz->len--;

    return c;
}


static inline uint16_t
fz_u16(fz_t *fz)
{
    uint16_t  hi = fz_u8(fz);

    return (uint16_t) ((hi << 8) | fz_u8(fz));
}


/*
 * The next n bytes (at most what is left) copied into a fresh heap
 * buffer of exactly that size: malloc(0) is avoided by allocating one
 * byte that is never part of the string.  Release with free().
 */
static inline char *
fz_take(fz_t *fz, size_t n, size_t *out_len)
{
    char  *s;

    if (n > fz->len) {
        n = fz->len;
    }

    s = malloc(n ? n : 1);
    if (s == NULL) {
        abort();
    }

    memcpy(s, fz->p, n);
    fz->p += n;
    fz->len -= n;
    *out_len = n;

    return s;
}


/* the rest of the input */
static inline char *
fz_rest(fz_t *fz, size_t *out_len)
{
    return fz_take(fz, fz->len, out_len);
}


/* a copy of (p, n) in a heap buffer of exactly n bytes */
static inline char *
fz_dup(const void *p, size_t n)
{
    char  *s;

    s = malloc(n ? n : 1);
    if (s == NULL) {
        abort();
    }

    if (n) {
        memcpy(s, p, n);
    }

    return s;
}


/* strict UTF-8 check for properties (independent of the code under test) */
static inline int
fz_valid_utf8(const unsigned char *p, size_t len)
{
    size_t    i, n, k;
    uint32_t  cp, min;

    for (i = 0; i < len; i += n) {
        if (p[i] < 0x80) {
            n = 1;
            continue;
        }

        if ((p[i] & 0xe0) == 0xc0) {
            n = 2; cp = p[i] & 0x1f; min = 0x80;
        } else if ((p[i] & 0xf0) == 0xe0) {
            n = 3; cp = p[i] & 0x0f; min = 0x800;
        } else if ((p[i] & 0xf8) == 0xf0) {
            n = 4; cp = p[i] & 0x07; min = 0x10000;
        } else {
            return 0;
        }

        if (i + n > len) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            cp = (cp << 6) | (p[i + k] & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


/* 1 if the bytes hold an ASCII control (< 0x20 or DEL) */
static inline int
fz_has_ctl(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            return 1;
        }
    }

    return 0;
}


/* a NUL somewhere in the first size bytes */
static inline int
fz_terminated(const char *p, size_t size)
{
    return memchr(p, '\0', size) != NULL;
}


#endif /* SD_FUZZ_COMMON_H */
