/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the Prometheus text exposition format
 * (see the header).
 */

#include <stdio.h>
#include <string.h>
#include <math.h>

#include "sd_prom.h"


static void sd_prom_put(sd_prom_t *w, const char *s, size_t len);
static void sd_prom_str(sd_prom_t *w, const char *s);
static void sd_prom_escaped(sd_prom_t *w, const char *s, int quote);
static void sd_prom_head(sd_prom_t *w, const char *name, const char *suffix,
    const char *const *labels, const char *le);


void
sd_prom_init(sd_prom_t *w, char *buf, size_t size)
{
    w->start = buf;
    w->pos = buf;
    w->end = buf + size;
    w->overflow = 0;
}


size_t
sd_prom_len(const sd_prom_t *w)
{
    return (size_t) (w->pos - w->start);
}


static void
sd_prom_put(sd_prom_t *w, const char *s, size_t len)
{
    if (w->overflow || (size_t) (w->end - w->pos) < len) {
        w->overflow = 1;
        return;
    }

    memcpy(w->pos, s, len);
    w->pos += len;
}


static void
sd_prom_str(sd_prom_t *w, const char *s)
{
    sd_prom_put(w, s, strlen(s));
}


/* HELP text escapes \ and LF; label values also " */

static void
sd_prom_escaped(sd_prom_t *w, const char *s, int quote)
{
    const char  *p;

    for (p = s; *p; p++) {
        switch (*p) {
        case '\\':
            sd_prom_put(w, "\\\\", 2);
            break;
        case '\n':
            sd_prom_put(w, "\\n", 2);
            break;
        case '"':
            if (quote) {
                sd_prom_put(w, "\\\"", 2);
                break;
            }
            /* fall through */
        default:
            sd_prom_put(w, p, 1);
        }
    }
}


void
sd_prom_family(sd_prom_t *w, const char *name, const char *type,
    const char *help)
{
    sd_prom_str(w, "# HELP ");
    sd_prom_str(w, name);
    sd_prom_put(w, " ", 1);
    sd_prom_escaped(w, help, 0);
    sd_prom_str(w, "\n# TYPE ");
    sd_prom_str(w, name);
    sd_prom_put(w, " ", 1);
    sd_prom_str(w, type);
    sd_prom_put(w, "\n", 1);
}


static void
sd_prom_head(sd_prom_t *w, const char *name, const char *suffix,
    const char *const *labels, const char *le)
{
    int  first;

    sd_prom_str(w, name);

    if (suffix) {
        sd_prom_str(w, suffix);
    }

    first = 1;

    for ( /* void */ ; labels && labels[0]; labels += 2) {
        sd_prom_put(w, first ? "{" : ",", 1);
        sd_prom_str(w, labels[0]);
        sd_prom_put(w, "=\"", 2);
        sd_prom_escaped(w, labels[1] ? labels[1] : "", 1);
        sd_prom_put(w, "\"", 1);
        first = 0;
    }

    if (le) {
        sd_prom_put(w, first ? "{" : ",", 1);
        sd_prom_str(w, "le=\"");
        sd_prom_str(w, le);
        sd_prom_put(w, "\"", 1);
        first = 0;
    }

    if (!first) {
        sd_prom_put(w, "}", 1);
    }

    sd_prom_put(w, " ", 1);
}


void
sd_prom_int(sd_prom_t *w, const char *name, const char *const *labels,
    int64_t value)
{
    char  buf[32];
    int   n;

    sd_prom_head(w, name, NULL, labels, NULL);
    n = snprintf(buf, sizeof(buf), "%lld\n", (long long) value);
    sd_prom_put(w, buf, (size_t) n);
}


static void
sd_prom_value(sd_prom_t *w, double value)
{
    char    buf[40];
    int     n;
    double  back;

    if (isnan(value)) {
        sd_prom_str(w, "NaN\n");
        return;
    }

    if (isinf(value)) {
        sd_prom_str(w, value > 0 ? "+Inf\n" : "-Inf\n");
        return;
    }

    /* the short form when it reads back the same (0.1, not 0.1000...01) */
    n = snprintf(buf, sizeof(buf), "%.15g\n", value);

    if (sscanf(buf, "%lf", &back) != 1 || back != value) {
        n = snprintf(buf, sizeof(buf), "%.17g\n", value);
    }

    sd_prom_put(w, buf, (size_t) n);
}


void
sd_prom_double(sd_prom_t *w, const char *name, const char *const *labels,
    double value)
{
    sd_prom_head(w, name, NULL, labels, NULL);
    sd_prom_value(w, value);
}


void
sd_prom_histogram(sd_prom_t *w, const char *name, const char *const *labels,
    const char *const *bounds, const uint64_t *counts, size_t n, double sum)
{
    char      buf[32];
    size_t    i;
    uint64_t  total;
    int       len;

    total = 0;

    for (i = 0; i <= n; i++) {
        total += counts[i];
        sd_prom_head(w, name, "_bucket", labels, i < n ? bounds[i] : "+Inf");
        len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long) total);
        sd_prom_put(w, buf, (size_t) len);
    }

    sd_prom_head(w, name, "_sum", labels, NULL);
    sd_prom_value(w, sum);

    sd_prom_head(w, name, "_count", labels, NULL);
    len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long) total);
    sd_prom_put(w, buf, (size_t) len);
}
