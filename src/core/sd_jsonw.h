/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: a streaming JSON writer (pure C).
 *
 * Answers are written piece by piece through a callback of jansson's
 * json_dump_callback_t shape, so the nginx side can append them straight
 * to pool buffers and jansson values can be dumped into the same stream.
 * Nothing here builds a tree: a 1,000-row list costs one pass over the
 * bytes it sends, not a tree of objects, a dump and a copy.
 *
 * Strings are escaped exactly as jansson escapes them without flags, so
 * a written document is byte for byte what json_dumps(JSON_COMPACT) of
 * the same value gives.
 *
 * Errors are sticky: after the first failure (the callback said no, or a
 * string was not valid UTF-8) every call does nothing and sd_jsonw_failed()
 * is true, so writers need not check every call.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_JSONW_H
#define NGX_HTTP_SENDER_DOMAINS_JSONW_H

#include <stddef.h>
#include <jansson.h>


typedef struct {
    json_dump_callback_t    emit;
    void                   *data;
    int                     failed;
} sd_jsonw_t;


#define sd_jsonw_init(w, cb, d)                                               \
    do { (w)->emit = (cb); (w)->data = (d); (w)->failed = 0; } while (0)

#define sd_jsonw_failed(w)      ((w)->failed)

/* text that is already JSON (a literal: its size is known at compile time) */
#define sd_jsonw_lit(w, s)      sd_jsonw_raw(w, s, sizeof(s) - 1)

void sd_jsonw_raw(sd_jsonw_t *w, const char *s, size_t len);

/* the characters of a JSON string, escaped, without the quotes */
void sd_jsonw_chars(sd_jsonw_t *w, const char *s, size_t len);

/* 1 when jansson would take the text as a string (valid UTF-8) */
int sd_jsonw_utf8_valid(const char *s, size_t len);

/* a JSON string, quotes included; NULL writes null */
void sd_jsonw_str(sd_jsonw_t *w, const char *s, size_t len);

/* any jansson value, compact */
void sd_jsonw_value(sd_jsonw_t *w, const json_t *v);


/* a growing malloc()ed buffer as a destination (tests, small documents) */

typedef struct {
    char                   *data;
    size_t                  len;
    size_t                  size;
} sd_jsonw_mem_t;

int sd_jsonw_mem_emit(const char *buf, size_t size, void *data);

/* parses what was written into a mem buffer and frees the buffer */
json_t *sd_jsonw_mem_load(sd_jsonw_t *w, sd_jsonw_mem_t *mem);

#endif /* NGX_HTTP_SENDER_DOMAINS_JSONW_H */
