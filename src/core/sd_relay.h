/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: webhook events in cluster mode, relayed
 * through etcd so the cluster's leader sends them (docs/cluster.md,
 * "Webhook events: relayed through etcd, sent by the leader").
 *
 *   <prefix>events/<target, 8 hex>/<created, 12 digits>-<node>-<seq, 20
 *   digits>  -> {"id":"evt_<node>_<seq>","target":N,"created":T,
 *                "workspace":"…","identity":"…","body":"<the event>"}
 *
 * The key order is the send order: by creation second, then node, then
 * the node's own numbering, so one node's events of an identity stay in
 * the order they were made.  Pure C (jansson, no nginx types), unit-tested
 * in t/unit/test_relay.c.
 */

#ifndef SD_RELAY_H
#define SD_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "sd_etcd.h"


#define SD_RELAY_BATCH          64          /* events in one relay Txn */
/* key and value bytes in one relay Txn: base64 makes them 4/3, under
 * etcd's default request limit of 1.5 MiB with the JSON around them */
#define SD_RELAY_TXN_BYTES      (768 * 1024)
#define SD_RELAY_KEY_MAX        (SD_ETCD_PREFIX_MAX + 8 + SD_ETCD_NODE_MAX + 48)


/* "<prefix>events/": the length written, 0 when it does not fit */
size_t sd_relay_prefix(const char *prefix, char *out, size_t size);

/* one event's key: the length written, 0 when it does not fit */
size_t sd_relay_key(const char *prefix, uint32_t target, int64_t created,
    const char *node, uint64_t seq, char *out, size_t size);

/*
 * The key's value for an event body as the store keeps it (sd_events_build's
 * JSON): malloc'd, or NULL when the body is not an event (no "id",
 * "workspace" or "identity").
 */
char *sd_relay_value(uint32_t target, int64_t created, const char *body,
    size_t len);


typedef struct {
    const char             *key;
    size_t                  key_len;
    const char             *value;
    size_t                  value_len;
} sd_relay_put_t;

/* one Txn putting each key (no compare): malloc'd, NULL past
 * SD_ETCD_MAX_TXN_OPS or with no memory */
char *sd_relay_put_txn(const sd_relay_put_t *puts, size_t n);

/*
 * The same, then a count of <prefix>events/ (its last response's count:
 * the events waiting in etcd after the puts, sd_relay_count()); n may be
 * 0, a count alone.
 */
char *sd_relay_put_count_txn(const char *prefix, const sd_relay_put_t *puts,
    size_t n);
/* that count from the Txn's answer; -1 when the answer has none */
int64_t sd_relay_count(const sd_etcd_txn_t *txn);

/* one Txn deleting the key */
char *sd_relay_delete_txn(const char *key, size_t len);

/* a range read of the first "limit" event keys from "from" (NULL: the
 * first) to the end of <prefix>events/, in key order */
char *sd_relay_range_body(const char *prefix, const char *from,
    size_t from_len, int64_t limit);


/* an event read back from etcd */
typedef struct {
    const char             *key;            /* the kv's */
    size_t                  key_len;
    uint32_t                target;
    int64_t                 created;
    const char             *id;             /* into the value's JSON */
    const char             *ws;
    const char             *identity;
    const char             *body;
    size_t                  body_len;
    void                   *json;           /* sd_relay_event_free() */
} sd_relay_event_t;

/* 0, or -1 when the kv is not an event key of the prefix with a value of
 * sd_relay_value()'s shape (the caller passes it over) */
int sd_relay_parse(const char *prefix, const sd_etcd_kv_t *kv,
    sd_relay_event_t *ev);
void sd_relay_event_free(sd_relay_event_t *ev);

/*
 * The leader holds an identity's later events back while one of its events
 * is in flight or waits for a retry; identities are told apart by this
 * 64-bit tag of "<workspace>\0<identity>", an HMAC-SHA256 under the
 * worker's random key (key_len bytes).  A workspace cannot choose a name
 * whose tag is another workspace's identity's and so hold that one's
 * events back, as it could with a CRC, whose collisions are made at will.
 */
uint64_t sd_relay_ident(const unsigned char *key, size_t key_len,
    const char *ws, const char *identity);

#endif /* SD_RELAY_H */
