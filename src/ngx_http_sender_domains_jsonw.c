/*
 * Custom Sender Domains for nginx: a streaming JSON writer (pure C).
 */

#include <stdlib.h>
#include <string.h>

#include "ngx_http_sender_domains_jsonw.h"


static size_t sd_jsonw_utf8_len(const unsigned char *p, size_t left);


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
    size_t                n;
    const char           *esc;
    const unsigned char  *p, *run, *end;
    char                  seq[7];

    static const char     hex[] = "0123456789ABCDEF";

    p = (const unsigned char *) s;
    end = p + len;
    run = p;

    while (p < end && !w->failed) {

        if (*p >= 0x80) {
            n = sd_jsonw_utf8_len(p, end - p);
            if (n == 0) {
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


/*
 * The length of the UTF-8 sequence at p, or 0 when it is not one that
 * jansson accepts (overlong forms, surrogates and code points above
 * U+10FFFF are refused, as jansson's utf8_check_full() refuses them).
 */

static size_t
sd_jsonw_utf8_len(const unsigned char *p, size_t left)
{
    size_t    n, i;
    unsigned  cp, min;

    if (*p >= 0xc2 && *p <= 0xdf) {
        n = 2; cp = *p & 0x1f; min = 0x80;

    } else if (*p >= 0xe0 && *p <= 0xef) {
        n = 3; cp = *p & 0x0f; min = 0x800;

    } else if (*p >= 0xf0 && *p <= 0xf4) {
        n = 4; cp = *p & 0x07; min = 0x10000;

    } else {
        return 0;
    }

    if (n > left) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        cp = (cp << 6) | (p[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }

    return n;
}


int
sd_jsonw_utf8_valid(const char *s, size_t len)
{
    size_t                n;
    const unsigned char  *p, *end;

    p = (const unsigned char *) s;
    end = p + len;

    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }

        n = sd_jsonw_utf8_len(p, end - p);
        if (n == 0) {
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
