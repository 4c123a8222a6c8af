/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: a streaming JSON writer (pure C).
 */

#include <stdlib.h>
#include <string.h>

#include "sd_jsonw.h"
#include "sd_identity.h"


void
sd_jsonw_raw(sd_jsonw_t *w, const char *s, size_t len)
{
    if (w->failed || len == 0) {
        return;
    }

    if (w->emit(s, len, w->data) != 0) {
        w->failed = 1;
    }
}


/*
 * jansson's dump_string() without flags: '"', '\\' and control characters
 * are escaped (short forms where JSON has them, else \u00XX in upper
 * case), everything else is copied as is, and text that is not valid
 * UTF-8 fails.  Runs of plain characters go out in one piece.
 */

void
sd_jsonw_chars(sd_jsonw_t *w, const char *s, size_t len)
{
    int                   n;
    uint32_t              cp;
    const char           *esc;
    const unsigned char  *p, *run, *end;
    char                  seq[7];

    static const char     hex[] = "0123456789ABCDEF";

    p = (const unsigned char *) s;
    end = p + len;
    run = p;

    while (p < end && !w->failed) {

        if (*p >= 0x80) {
            /* strict UTF-8, as jansson's utf8_check_full() is */
            n = sd_utf8_decode(p, end, &cp);
            if (n < 0) {
                w->failed = 1;
                return;
            }

            p += n;
            continue;
        }

        if (*p >= 0x20 && *p != '"' && *p != '\\') {
            p++;
            continue;
        }

        sd_jsonw_raw(w, (const char *) run, p - run);

        switch (*p) {
        case '"':  esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:   esc = NULL;
        }

        if (esc) {
            sd_jsonw_raw(w, esc, 2);

        } else {
            memcpy(seq, "\\u00", 4);
            seq[4] = hex[*p >> 4];
            seq[5] = hex[*p & 0xf];
            sd_jsonw_raw(w, seq, 6);
        }

        p++;
        run = p;
    }

    sd_jsonw_raw(w, (const char *) run, p - run);
}


void
sd_jsonw_str(sd_jsonw_t *w, const char *s, size_t len)
{
    if (s == NULL) {
        sd_jsonw_lit(w, "null");
        return;
    }

    sd_jsonw_lit(w, "\"");
    sd_jsonw_chars(w, s, len);
    sd_jsonw_lit(w, "\"");
}


void
sd_jsonw_value(sd_jsonw_t *w, const json_t *v)
{
    if (w->failed) {
        return;
    }

    if (v == NULL) {
        sd_jsonw_lit(w, "null");
        return;
    }

    if (json_dump_callback(v, w->emit, w->data,
                           JSON_COMPACT | JSON_ENCODE_ANY)
        != 0)
    {
        w->failed = 1;
    }
}


int
sd_jsonw_utf8_valid(const char *s, size_t len)
{
    int                   n;
    uint32_t              cp;
    const unsigned char  *p, *end;

    p = (const unsigned char *) s;
    end = p + len;

    while (p < end) {
        n = sd_utf8_decode(p, end, &cp);
        if (n < 0) {
            return 0;
        }

        p += n;
    }

    return 1;
}


int
sd_jsonw_mem_emit(const char *buf, size_t size, void *data)
{
    sd_jsonw_mem_t  *mem = data;

    char    *p;
    size_t   want;

    if (mem->len + size > mem->size) {
        want = mem->size ? mem->size * 2 : 1024;

        while (want < mem->len + size) {
            want *= 2;
        }

        p = realloc(mem->data, want);
        if (p == NULL) {
            return -1;
        }

        mem->data = p;
        mem->size = want;
    }

    memcpy(mem->data + mem->len, buf, size);
    mem->len += size;

    return 0;
}


json_t *
sd_jsonw_mem_load(sd_jsonw_t *w, sd_jsonw_mem_t *mem)
{
    json_t  *j;

    j = NULL;

    if (!w->failed && mem->data) {
        j = json_loadb(mem->data, mem->len, 0, NULL);
    }

    free(mem->data);
    mem->data = NULL;
    mem->len = 0;
    mem->size = 0;

    return j;
}
