/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: timestamps (src/core/sd_time.c).
 *
 * sd_time_parse() reads the plan's trial end (a request value wired from
 * a header or a JWT claim: RFC 3339 or epoch seconds) and stored row
 * times; sd_time_format() writes row times, including times SES sent.
 *
 * Input: [mode] [text].  The text goes to sd_time_parse() in an
 * exact-size heap buffer; for mode & 1 the first 8 bytes are also taken
 * as an int64 for sd_time_format() on its own.
 *
 * Properties: sd_time_format() writes exactly SD_TIME_RFC3339_LEN bytes
 * (an exact-size heap buffer) of the fixed shape "dddd-dd-ddTdd:dd:ddZ";
 * for a time in years 0001-9999 formatting then parsing gives the same
 * time; a parsed RFC 3339 Z time within those years formats back to the
 * same text (seconds 60 aside), which also means no impossible date
 * ("2025-02-29", "2026-04-31") is read as another day.
 */

#include "fuzz_common.h"

#include "sd_time.h"


#define FZ_MIN_T  (-62135596800LL)      /* 0001-01-01T00:00:00Z */
#define FZ_MAX_T  253402300799LL        /* 9999-12-31T23:59:59Z */


static void
fz_format(int64_t t)
{
    char     *out;
    int       i;
    int64_t   back;

    out = malloc(SD_TIME_RFC3339_LEN);
    sd_time_format(t, out);

    for (i = 0; i < SD_TIME_RFC3339_LEN; i++) {
        switch (i) {
        case 4: case 7:   FZ_CHECK(out[i] == '-'); break;
        case 10:          FZ_CHECK(out[i] == 'T'); break;
        case 13: case 16: FZ_CHECK(out[i] == ':'); break;
        case 19:          FZ_CHECK(out[i] == 'Z'); break;
        default:          FZ_CHECK(out[i] >= '0' && out[i] <= '9');
        }
    }

    if (t >= FZ_MIN_T && t <= FZ_MAX_T) {
        FZ_CHECK(sd_time_parse(out, SD_TIME_RFC3339_LEN, &back) == 0);
        FZ_CHECK(back == t);
    }

    free(out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t      fz = { data, size };
    char     *in, *out;
    size_t    len;
    uint8_t   mode;
    int64_t   t, raw;

    mode = fz_u8(&fz);

    if ((mode & 1) && fz.len >= 8) {
        memcpy(&raw, fz.p, 8);

        /*
         * The module formats only times it made or parsed: epoch
         * seconds of at most 12 digits, SES times below year 10000, now
         * plus a backoff.  Keep the domain well inside int64_t (at the
         * extremes "t - 86399" in sd_time_format() would overflow).
         */
        raw %= (int64_t) 1 << 60;
        fz_format(raw);
    }

    in = fz_rest(&fz, &len);

    if (sd_time_parse(in, len, &t) == 0) {
        fz_format(t);

        /* "YYYY-MM-DDTHH:MM:SSZ" exactly, no leap second: same text */
        if (len == SD_TIME_RFC3339_LEN && in[19] == 'Z' && in[10] == 'T'
            && !(in[17] == '6' && in[18] == '0') && t >= FZ_MIN_T
            && t <= FZ_MAX_T)
        {
            out = malloc(SD_TIME_RFC3339_LEN);
            sd_time_format(t, out);
            FZ_CHECK(memcmp(out, in, SD_TIME_RFC3339_LEN) == 0);
            free(out);
        }
    }

    free(in);

    return 0;
}
