/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the Prometheus text exposition format
 * (version 0.0.4), written into a caller's buffer.
 *
 * Pure C (no nginx types), unit-tested directly.  A family is announced
 * once with sd_prom_family() ("# HELP" and "# TYPE"), then its samples
 * follow.  Labels are a NULL-terminated list of name, value pairs; values
 * are escaped as the format asks (backslash, double quote, line feed).
 * A buffer too small sets "overflow" and the caller retries larger.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_PROM_H
#define NGX_HTTP_SENDER_DOMAINS_PROM_H

#include <stddef.h>
#include <stdint.h>


#define SD_PROM_CONTENT_TYPE  "text/plain; version=0.0.4"


typedef struct {
    char                   *start;
    char                   *pos;
    char                   *end;
    int                     overflow;
} sd_prom_t;


void sd_prom_init(sd_prom_t *w, char *buf, size_t size);
size_t sd_prom_len(const sd_prom_t *w);

/* type: "counter", "gauge" or "histogram" */
void sd_prom_family(sd_prom_t *w, const char *name, const char *type,
    const char *help);

void sd_prom_int(sd_prom_t *w, const char *name, const char *const *labels,
    int64_t value);
void sd_prom_double(sd_prom_t *w, const char *name,
    const char *const *labels, double value);

/*
 * A histogram from per-bucket (not cumulative) counts: "bounds" holds n
 * upper bounds as written in "le" ("0.005", ...), "counts" n + 1 counts,
 * the last for values above every bound.  Writes _bucket (cumulative,
 * with le="+Inf"), _sum and _count.
 */
void sd_prom_histogram(sd_prom_t *w, const char *name,
    const char *const *labels, const char *const *bounds,
    const uint64_t *counts, size_t n, double sum);

#endif /* NGX_HTTP_SENDER_DOMAINS_PROM_H */
