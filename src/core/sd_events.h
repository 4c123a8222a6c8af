/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the status-change events sent as
 * webhooks, worked out from a row's JSON before and after a write.
 *
 * Pure C (jansson, no nginx types); called by the store inside the write
 * transaction (sd_store_set_events()), unit-tested in t/unit/test_events.c.
 */

#ifndef SD_EVENTS_H
#define SD_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "sd_store.h"


typedef struct {
    const char             *region;         /* for the records' view */
    int64_t               (*now)(void);     /* NULL: time() */
} sd_events_conf_t;


/* an sd_store_events_pt; ctx is an sd_events_conf_t */
void sd_events_build(void *ctx, const sd_store_event_src_t *src,
    uint64_t (*seq)(void *q),
    void (*emit)(void *q, uint64_t seq, int64_t now, const char *body,
                 size_t len),
    void *q);

#endif /* SD_EVENTS_H */
