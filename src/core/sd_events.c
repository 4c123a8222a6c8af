/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: status-change events (see the header).
 *
 * One write can make several events, in this order: added; state,
 * DKIM and MAIL FROM status changed; migrated (kind changed); ownership
 * proven (an unproven row's DNS proof was found); verified or unverified
 * (verified_for_sending); failed; removed.  Each is
 *
 *   {"type":"identity.verified","id":"evt_42","created_at":"…Z",
 *    "workspace":"acme","identity":{…as GET /{identity} shows it…}}
 *
 * numbered by the store (the id stays the same through every retry).
 */

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "sd_events.h"
#include "sd_row.h"


size_t
sd_events_id(const sd_events_conf_t *conf, uint64_t seq, char *buf,
    size_t size)
{
    int  n;

    if (conf != NULL && conf->node != NULL && conf->node[0] != '\0') {
        n = snprintf(buf, size, "evt_%s_%llu", conf->node,
                     (unsigned long long) seq);

    } else {
        n = snprintf(buf, size, "evt_%llu", (unsigned long long) seq);
    }

    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }

    return (size_t) n < size ? (size_t) n : size - 1;
}


static json_t *
sd_events_parse(const sd_record_t *rec)
{
    if (rec == NULL || rec->json_len == 0) {
        return NULL;
    }

    return json_loadb(rec->json, rec->json_len, 0, NULL);
}


static int
sd_events_changed(const json_t *a, const json_t *b, const char *key)
{
    const json_t  *x, *y;

    x = json_object_get(a, key);
    y = json_object_get(b, key);

    if (x == NULL && y == NULL) {
        return 0;
    }

    if (x == NULL || y == NULL) {
        return 1;
    }

    return !json_equal((json_t *) x, (json_t *) y);
}


static int
sd_events_is(const json_t *row, const char *key, const char *value)
{
    const char  *v;

    v = json_string_value(json_object_get(row, key));

    return v != NULL && strcmp(v, value) == 0;
}


static void
sd_events_one(const sd_events_conf_t *conf, const sd_store_event_src_t *src,
    const char *type, const json_t *row, int64_t now,
    uint64_t (*seq)(void *q),
    void (*emit)(void *q, uint64_t seq, int64_t now, const char *body,
                 size_t len),
    void *q)
{
    char        id[SD_EVENTS_ID_MAX], when[32];
    char       *text;
    json_t     *ev, *pub;
    uint64_t    n;
    time_t      t;
    struct tm   tm;

    n = seq(q);
    (void) sd_events_id(conf, n, id, sizeof(id));

    t = (time_t) now;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

    pub = sd_row_public(row, conf->region, NULL);
    if (pub == NULL) {
        return;
    }

    ev = json_pack("{s:s,s:s,s:s,s:s%,s:o}", "type", type, "id", id,
                   "created_at", when, "workspace", src->ws, src->ws_len,
                   "identity", pub);
    if (ev == NULL) {
        return;
    }

    text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev);

    if (text) {
        emit(q, n, now, text, strlen(text));
        free(text);
    }
}


void
sd_events_build(void *ctx, const sd_store_event_src_t *src,
    uint64_t (*seq)(void *q),
    void (*emit)(void *q, uint64_t seq, int64_t now, const char *body,
                 size_t len),
    void *q)
{
    int                      was, is;
    json_t                  *old, *cur;
    int64_t                  now;
    const sd_events_conf_t  *conf = ctx;

#define SD_EVENT(type, row)                                                   \
    sd_events_one(conf, src, type, row, now, seq, emit, q)

    now = conf->now ? conf->now() : (int64_t) time(NULL);

    old = sd_events_parse(src->old);
    cur = sd_events_parse(src->rec);

    if (old == NULL && cur != NULL) {
        SD_EVENT("identity.added", cur);

    } else if (old != NULL && cur != NULL) {

        if (sd_events_changed(old, cur, "state")) {
            SD_EVENT("identity.state_changed", cur);
        }

        if (sd_events_changed(old, cur, "dkim_status")) {
            SD_EVENT("identity.dkim_status_changed", cur);
        }

        if (sd_events_changed(old, cur, "mail_from_status")) {
            SD_EVENT("identity.mail_from_status_changed", cur);
        }

        if (sd_events_changed(old, cur, "kind")) {
            SD_EVENT("identity.migrated", cur);
        }

        if (sd_events_is(old, "ownership", "unproven")
            && sd_events_is(cur, "ownership", "proven"))
        {
            SD_EVENT("identity.ownership_proven", cur);
        }

        was = json_is_true(json_object_get(old, "verified_for_sending"));
        is = json_is_true(json_object_get(cur, "verified_for_sending"));

        if (!was && is) {
            SD_EVENT("identity.verified", cur);

        } else if (was && !is) {
            SD_EVENT("identity.unverified", cur);
        }

        if (!(src->old->flags & SD_REC_FAILED)
            && (src->rec->flags & SD_REC_FAILED))
        {
            SD_EVENT("identity.failed", cur);
        }

    } else if (old != NULL && cur == NULL) {
        SD_EVENT("identity.removed", old);
    }

#undef SD_EVENT

    json_decref(old);
    json_decref(cur);
}


int
sd_events_retry(const sd_events_retry_t *r, unsigned failures,
    int64_t created, int64_t now, int64_t *next)
{
    int64_t                   wait, end;
    unsigned                  i;
    static sd_events_retry_t  defaults = {
        SD_EVENTS_RETRY_INITIAL, SD_EVENTS_RETRY_CAP, SD_EVENTS_RETRY_GIVE_UP
    };

    if (r == NULL) {
        r = &defaults;
    }

    end = created + r->give_up;

    if (now >= end) {
        return 0;
    }

    wait = r->initial > 0 ? r->initial : 1;

    for (i = 1; i < failures && wait < r->cap; i++) {
        wait *= 2;
    }

    if (wait > r->cap) {
        wait = r->cap;
    }

    *next = now + wait < end ? now + wait : end;

    return 1;
}
