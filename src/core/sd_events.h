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
    const char             *node;           /* cluster mode: this node's
                                               name; NULL: a single node */
} sd_events_conf_t;


/*
 * An event's id, the body's "id" and the webhook-id header: "evt_<seq>" on
 * a single node; in cluster mode "evt_<node>_<seq>", unique in the cluster
 * (each node numbers its own events) and the same through every resend.
 * Returns its length (it always fits SD_EVENTS_ID_MAX with a node name of
 * at most 64 bytes), NUL-terminated.
 */
#define SD_EVENTS_ID_MAX         96

size_t sd_events_id(const sd_events_conf_t *conf, uint64_t seq, char *buf,
    size_t size);


/*
 * The retry schedule of an event whose delivery failed (the directive
 * sender_domains_webhook_retry; seconds).
 */
#define SD_EVENTS_RETRY_INITIAL  5
#define SD_EVENTS_RETRY_CAP      3600
#define SD_EVENTS_RETRY_GIVE_UP  (72 * 3600)

typedef struct {
    int64_t                 initial;        /* after the first failure */
    int64_t                 cap;            /* the longest wait */
    int64_t                 give_up;        /* from the event's creation */
} sd_events_retry_t;


/*
 * After the failures-th failed attempt (1 for the first), made at now, of
 * an event created at created: returns 1 and sets *next to when to try
 * again, initial * 2^(failures - 1) seconds later, at most cap, and never
 * later than created + give_up (so the last attempt is made at the give-up
 * time); returns 0 when the event is to be given up (the attempt was made
 * at or after created + give_up).  A NULL r means the defaults above.
 */
int sd_events_retry(const sd_events_retry_t *r, unsigned failures,
    int64_t created, int64_t now, int64_t *next);


/* an sd_store_events_pt; ctx is an sd_events_conf_t */
void sd_events_build(void *ctx, const sd_store_event_src_t *src,
    uint64_t (*seq)(void *q),
    void (*emit)(void *q, uint64_t seq, int64_t now, const char *body,
                 size_t len),
    void *q);

#endif /* SD_EVENTS_H */
