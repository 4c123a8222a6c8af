/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Writes the seeds of fuzz_row_view into t/fuzz/corpus/row_view/seed-*:
 * stored rows made by the module's own functions (sd_row_new(),
 * sd_row_apply_ses(), sd_row_schedule(), sd_row_set_error(),
 * sd_row_legacy(), dumped with json_dumps(JSON_COMPACT) as the store
 * does), then hand-made odd shapes (escapes, duplicate keys, nesting,
 * whitespace, numbers, too many members...).
 *
 *   cc -std=gnu99 -D_GNU_SOURCE -Isrc t/fuzz/make_row_seeds.c \
 *       src/ngx_http_sender_domains_{row,dns,jsonw,identity,time,backoff,sesparse,store}.c \
 *       -ljansson -llmdb -o /tmp/make_row_seeds \
 *   && /tmp/make_row_seeds t/fuzz/corpus/row_view
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "sd_row.h"


#define NOW  1795687200                 /* 2026-11-26T10:00:00Z */


static const char  *dir;


static void
put(const char *name, const char *data, size_t len)
{
    char   path[512];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/seed-%s", dir, name);

    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}


static void
put_str(const char *name, const char *s)
{
    put(name, s, strlen(s));
}


static void
put_row(const char *name, json_t *row, size_t flags)
{
    char  *text;

    text = json_dumps(row, flags);
    if (text == NULL) {
        fprintf(stderr, "%s: cannot dump\n", name);
        exit(1);
    }

    put_str(name, text);
    free(text);
}


static void
ses(sd_ses_identity_t *si, size_t ntokens, const char *zone,
    const char *mail_from)
{
    size_t  i;

    memset(si, 0, sizeof(*si));
    si->identity_type = SD_SES_IDENTITY_DOMAIN;
    si->verified_for_sending = 1;
    si->verification_status = SD_SES_VS_SUCCESS;
    si->dkim.present = 1;
    si->dkim.signing_enabled = 1;
    si->dkim.status = SD_SES_VS_SUCCESS;
    si->dkim.ntokens = ntokens;

    for (i = 0; i < ntokens; i++) {
        snprintf(si->dkim.tokens[i], sizeof(si->dkim.tokens[i]),
                 "tok%zuabcdefghijklmnopqrstuvwxyz234567", i);
    }

    snprintf(si->dkim.signing_hosted_zone,
             sizeof(si->dkim.signing_hosted_zone), "%s", zone);
    snprintf(si->mail_from.domain, sizeof(si->mail_from.domain), "%s",
             mail_from);
    si->mail_from.status = SD_SES_VS_PENDING;
    strcpy(si->verification_info.error_type, "DNS_SERVER_ERROR");
    si->verification_info.last_checked = NOW - 60;
    si->verification_info.last_success = NOW - 3600;
}


static void
generated(void)
{
    json_t             *row, *tok;
    sd_ses_identity_t   si;

    /* a domain just added, then as SES reports it, ready and polled */
    row = sd_row_new("acme.com", 8, 1, "Acme Reports", 12, "pmail", 5, NOW);
    put_row("domain-creating", row, JSON_COMPACT);

    ses(&si, 3, "", "pmail.acme.com");
    sd_row_apply_ses(row, &si, NOW);
    sd_row_set_state(row, SD_STATE_MAIL_FROM);
    put_row("domain-mail-from", row, JSON_COMPACT);

    sd_row_set_state(row, SD_STATE_READY);
    (void) sd_row_schedule(row, NOW, 60, 3600, 1);
    put_row("domain-ready", row, JSON_COMPACT);

    /* the same row as an older writer may have left it */
    put_row("domain-ready-indented", row, JSON_INDENT(2));
    put_row("domain-ready-sorted", row, JSON_COMPACT | JSON_SORT_KEYS);
    put_row("domain-ready-ascii", row, JSON_COMPACT | JSON_ENSURE_ASCII);
    put_row("domain-ready-spaced", row, 0);

    sd_row_set_error(row, "ses_throttled",
                     "SES said \"slow down\"\\ \t\x01 \xc3\xa9 \xf0\x9f\x98\x80");
    put_row("domain-error", row, JSON_COMPACT);
    put_row("domain-error-ascii", row, JSON_COMPACT | JSON_ENSURE_ASCII
                                       | JSON_ESCAPE_SLASH);
    json_decref(row);

    /* a signing zone and the full ten tokens, a bad token among them */
    row = sd_row_new("mail.example.org", 16, 1, "", 0, NULL, 0, NOW);
    ses(&si, 10, "dkim.example.net", "");
    sd_row_apply_ses(row, &si, NOW);
    sd_row_set_state(row, SD_STATE_READY);
    (void) sd_row_schedule(row, NOW, 60, 3600, 0);
    put_row("domain-zone-10-tokens", row, JSON_COMPACT);

    tok = json_object_get(row, "_tokens");
    json_array_append_new(tok, json_string("eleventh"));
    json_array_insert_new(tok, 1, json_integer(7));
    json_array_insert_new(tok, 2, json_pack("[s,{s:s}]", "x", "y", "z"));
    put_row("domain-odd-tokens", row, JSON_COMPACT);
    json_decref(row);

    /* names with characters that need escapes: the fallback's business */
    row = sd_row_new("ac\"me\\.com", 10, 1, "\xe5\x90\x8d\xe5\x89\x8d", 6,
                     "p\tm", 3, NOW);
    ses(&si, 2, "dkim.\"zone\\", "p\nmail.ac\"me");
    sd_row_apply_ses(row, &si, NOW);
    put_row("domain-escaped-names", row, JSON_COMPACT);
    json_decref(row);

    /* an address, before and after SES */
    row = sd_row_new("Reports@acme.com", 16, 0, "Reports \xe2\x80\xa8 Team",
                     16, NULL, 0, NOW);
    put_row("address-creating", row, JSON_COMPACT);
    ses(&si, 0, "", "");
    si.identity_type = SD_SES_IDENTITY_EMAIL_ADDRESS;
    sd_row_apply_ses(row, &si, NOW);
    sd_row_set_state(row, SD_STATE_READY);
    (void) sd_row_schedule(row, NOW, 60, 3600, 1);
    put_row("address-ready", row, JSON_COMPACT);
    json_decref(row);

    /* legacy rows (PUT /legacy) */
    row = sd_row_legacy("old@acme.com", 12, "Old \"Sender\" \xc3\xa9", 15);
    put_row("legacy", row, JSON_COMPACT);
    json_object_set_new(row, "_note", json_string("internal"));
    put_row("legacy-internal", row, JSON_COMPACT);
    json_decref(row);
}


static void
handmade(void)
{
    int     i;
    char    buf[4096];
    size_t  n;

    put_str("empty-object", "{}");
    put_str("empty", "");
    put_str("array", "[1,2]");

    /* duplicate keys: at the top, inside a value, spelled with escapes */
    put_str("dup-top", "{\"identity\":\"a.com\",\"type\":\"domain\","
            "\"identity\":\"b.com\"}");
    put_str("dup-nested", "{\"identity\":\"a.com\",\"type\":\"domain\","
            "\"verification_info\":{\"error_type\":null,"
            "\"error_type\":\"X\"}}");
    put_str("dup-nested-escaped", "{\"identity\":\"a.com\","
            "\"last_error\":{\"code\":\"x\",\"\\u0063ode\":\"y\"}}");
    put_str("dup-tokens", "{\"identity\":\"a.com\",\"type\":\"domain\","
            "\"_tokens\":[\"a\"],\"_tokens\":[\"b\"]}");

    /* escapes in values jansson writes differently */
    put_str("escapes", "{\"identity\":\"a.com\",\"type\":\"domain\","
            "\"sender_name\":\"\\/\\u0041\\u00e9\\ud83d\\ude00\\u001f"
            "\\u001F\\u007f\\b\\f\\n\\r\\t\\\"\\\\\","
            "\"origin\":\"\\u2028\"}");
    put_str("escape-nul", "{\"identity\":\"a.com\",\"x\":\"a\\u0000b\"}");
    put_str("lone-surrogate", "{\"identity\":\"a.com\",\"x\":\"\\ud800\"}");
    put_str("escaped-key", "{\"ident\\u0069ty\":\"a.com\"}");
    put_str("escaped-identity", "{\"identity\":\"a\\u002ecom\","
            "\"type\":\"domain\",\"_tokens\":[\"t\"]}");

    /* numbers */
    put_str("numbers", "{\"identity\":\"a.com\",\"_attempt\":3,"
            "\"n\":[0,-0,1.0,-2500.0,1e2,1E+2,0.1,1.5e-7,"
            "9223372036854775807,-9223372036854775808]}");
    put_str("number-big", "{\"n\":9223372036854775808}");
    put_str("number-huge-real", "{\"n\":1e400}");
    put_str("number-neg-zero", "{\"n\":-0}");

    /* whitespace inside values */
    put_str("nested-ws", "{\"identity\":\"a.com\",\"last_error\":"
            "{ \"code\" : \"x\" ,\n\"message\":[ 1 , 2 ] }}");

    /* state and the members the public form replaces */
    put_str("ready-replaced", "{\"identity\":\"a.com\",\"type\":\"domain\","
            "\"kind\":\"managed\",\"state\":\"ready\","
            "\"next_check_at\":\"2026-01-01T00:00:00Z\","
            "\"dkim_inherited_from\":\"old.com\",\"dns_records\":{}}");
    put_str("non-string-fields", "{\"identity\":1,\"type\":[\"domain\"],"
            "\"kind\":null,\"state\":{},\"mail_from_domain\":true,"
            "\"_zone\":2,\"_tokens\":\"t\"}");
    put_str("legacy-with-dns", "{\"identity\":\"o@a.com\",\"kind\":\"legacy\","
            "\"dns_records\":[],\"_x\":1,\"\":0}");

    /* deep nesting: 31 and 40 levels under a member */
    n = snprintf(buf, sizeof(buf), "{\"identity\":\"a.com\",\"deep\":");
    for (i = 0; i < 31; i++) {
        buf[n++] = (i & 1) ? '[' : '{';
        if (!(i & 1)) {
            n += snprintf(buf + n, sizeof(buf) - n, "\"k\":");
        }
    }
    buf[n++] = '1';
    for (i = 30; i >= 0; i--) {
        buf[n++] = (i & 1) ? ']' : '}';
    }
    buf[n++] = '}';
    put("deep-31", buf, n);

    n = snprintf(buf, sizeof(buf), "{\"identity\":\"a.com\",\"deep\":");
    for (i = 0; i < 40; i++) {
        buf[n++] = '[';
    }
    for (i = 0; i < 40; i++) {
        buf[n++] = ']';
    }
    buf[n++] = '}';
    put("deep-40", buf, n);

    /* 64 members (a view holds that many), then 65 */
    n = snprintf(buf, sizeof(buf), "{\"identity\":\"a.com\"");
    for (i = 1; i < 64; i++) {
        n += snprintf(buf + n, sizeof(buf) - n, ",\"m%d\":%d", i, i);
    }
    buf[n++] = '}';
    put("members-64", buf, n);

    n = snprintf(buf, sizeof(buf), "{\"identity\":\"a.com\"");
    for (i = 1; i < 65; i++) {
        n += snprintf(buf + n, sizeof(buf) - n, ",\"m%d\":null", i);
    }
    buf[n++] = '}';
    put("members-65", buf, n);
}


int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }

    dir = argv[1];

    generated();
    handmade();

    return 0;
}
