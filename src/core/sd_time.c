/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: timestamps (pure C).
 *
 * Plan trial ends and row timestamps travel as RFC 3339 UTC strings.  The
 * conversion is done by hand (days from civil date) rather than with
 * timegm()/gmtime_r() so it does not depend on the process's TZ and has
 * no hidden state.
 */

#include "sd_time.h"


static int64_t
sd_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t   era;
    unsigned  yoe, doy, doe;

    /* Howard Hinnant's algorithm, valid for the proleptic Gregorian calendar */
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t) doe - 719468;
}


static int
sd_digits(const char *p, size_t n, unsigned *out)
{
    size_t    i;
    unsigned  v = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        v = v * 10 + (p[i] - '0');
    }

    *out = v;
    return 0;
}


int
sd_time_parse(const char *p, size_t len, int64_t *out)
{
    size_t    i;
    int64_t   t, offset;
    unsigned  y, mo, d, h, mi, s, oh, om;
    static const unsigned char  mdays[] = {
        31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (len == 0 || len > 40) {
        return -1;
    }

    /* epoch seconds */
    if (p[0] >= '0' && p[0] <= '9' && len <= 12) {
        t = 0;

        for (i = 0; i < len; i++) {
            if (p[i] < '0' || p[i] > '9') {
                break;
            }

            t = t * 10 + (p[i] - '0');
        }

        if (i == len) {
            *out = t;
            return 0;
        }
    }

    if (len < 20
        || sd_digits(p, 4, &y) || p[4] != '-'
        || sd_digits(p + 5, 2, &mo) || p[7] != '-'
        || sd_digits(p + 8, 2, &d)
        || (p[10] != 'T' && p[10] != 't' && p[10] != ' ')
        || sd_digits(p + 11, 2, &h) || p[13] != ':'
        || sd_digits(p + 14, 2, &mi) || p[16] != ':'
        || sd_digits(p + 17, 2, &s))
    {
        return -1;
    }

    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23
        || mi > 59 || s > 60)
    {
        return -1;
    }

    /* February 29 exists in leap years only */
    if (mo == 2 && d == 29
        && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
    {
        return -1;
    }

    i = 19;

    if (p[i] == '.') {
        for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
            /* fractions of a second do not matter here */
        }

        if (i == 20) {
            return -1;      /* RFC 3339: a dot needs at least one digit */
        }
    }

    offset = 0;

    if (i + 1 == len && (p[i] == 'Z' || p[i] == 'z')) {
        /* UTC */

    } else if (i + 6 == len && (p[i] == '+' || p[i] == '-')
               && sd_digits(p + i + 1, 2, &oh) == 0 && p[i + 3] == ':'
               && sd_digits(p + i + 4, 2, &om) == 0 && oh < 24 && om < 60)
    {
        offset = (int64_t) (oh * 3600 + om * 60);
        if (p[i] == '-') {
            offset = -offset;
        }

    } else {
        return -1;
    }

    t = sd_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    *out = t - offset;

    return 0;
}


void
sd_time_format(int64_t t, char *out)
{
    int64_t   days, z, era, y;
    unsigned  doe, yoe, doy, mp, d, m, sec;
    int       i;
    unsigned  v[6];

    days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    sec = (unsigned) (t - days * 86400);

    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned) (z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t) yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;

    v[0] = (unsigned) y;
    v[1] = m;
    v[2] = d;
    v[3] = sec / 3600;
    v[4] = sec / 60 % 60;
    v[5] = sec % 60;

    out[0] = '0' + v[0] / 1000 % 10;
    out[1] = '0' + v[0] / 100 % 10;
    out[2] = '0' + v[0] / 10 % 10;
    out[3] = '0' + v[0] % 10;

    for (i = 1; i < 6; i++) {
        out[1 + 3 * i] = "--T::"[i - 1];
        out[2 + 3 * i] = '0' + v[i] / 10;
        out[3 + 3 * i] = '0' + v[i] % 10;
    }

    out[19] = 'Z';
}
