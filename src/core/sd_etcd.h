/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: cluster mode over etcd, the pure part
 * (issue 18, docs/cluster.md).
 *
 * The keys under a prefix (default "/sender-domains/v1/"):
 *
 *   <prefix>claims/<tree key>          -> the owning workspace's id (bytes)
 *   <prefix>rows/<workspace %-escaped>/<identity>
 *                                      -> the row (the store's record)
 *
 * The tree key is the store's (sd_store_tree_key): the domain's labels
 * reversed, each followed by '.', and "@<local part>" for an address, all
 * lower case: "com.acme.mail." for mail.acme.com, "com.acme.@reports" for
 * reports@acme.com.  So the ancestors of a name are the prefixes of its key
 * that end a label, and the name with everything under it (subdomains and
 * addresses) is the one key range [key, range_end(key)).
 *
 * Everything here builds or reads the JSON of etcd's gRPC gateway (v3.4:
 * POST /v3/kv/txn, /v3/kv/range, /v3/watch; keys and values base64, 64-bit
 * numbers as strings).  No I/O: the nginx glue sends the bodies through its
 * libcurl client and hands the answers back.
 */

#ifndef SD_ETCD_H
#define SD_ETCD_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sd_store.h"


#define SD_ETCD_PREFIX_DEFAULT  "/sender-domains/v1/"
#define SD_ETCD_PREFIX_MAX      128
#define SD_ETCD_KEY_MAX         1024     /* prefix + escaped ws + identity */

/* etcd's default --max-txn-ops: compares, and each branch's operations */
#define SD_ETCD_MAX_TXN_OPS     128
/* keys of the subtree read back by a failed claim (the conflict report) */
#define SD_ETCD_CONFLICT_READ   16


typedef enum {
    SD_ETCD_OK = 0,
    SD_ETCD_BAD_JSON,           /* not the JSON of a gateway answer */
    SD_ETCD_SERVER_ERROR,       /* {"error":…,"code":N}: etcd said no */
    SD_ETCD_COMPACTED,          /* the revision asked for was compacted */
    SD_ETCD_NOMEM,
    SD_ETCD_TOO_LONG            /* a key does not fit */
} sd_etcd_rc_e;


/* one key-value, decoded from base64; key and value NUL-terminated */
typedef struct {
    char                   *key;
    size_t                  key_len;
    char                   *value;
    size_t                  value_len;
    int64_t                 create_revision;
    int64_t                 mod_revision;
    int64_t                 version;
    int64_t                 lease;          /* the key's lease, 0: none */
} sd_etcd_kv_t;


typedef enum {
    SD_ETCD_RESP_PUT = 1,
    SD_ETCD_RESP_RANGE,
    SD_ETCD_RESP_DELETE,
    SD_ETCD_RESP_TXN
} sd_etcd_resp_e;


typedef struct {
    sd_etcd_resp_e          type;
    sd_etcd_kv_t           *kvs;            /* RANGE */
    size_t                  nkvs;
    int64_t                 count;          /* RANGE: keys in the range */
    int                     more;           /* RANGE: more than returned */
    int64_t                 deleted;        /* DELETE */
} sd_etcd_resp_t;


/* the answer of /v3/kv/txn, or of /v3/kv/range (one RANGE response) */
typedef struct {
    int64_t                 revision;       /* header.revision */
    int                     succeeded;
    sd_etcd_resp_t         *responses;
    size_t                  nresponses;
    /* SD_ETCD_SERVER_ERROR, SD_ETCD_COMPACTED */
    int                     code;           /* the gRPC code */
    char                   *message;
} sd_etcd_txn_t;


typedef enum {
    SD_ETCD_EVENT_PUT = 0,
    SD_ETCD_EVENT_DELETE = 1
} sd_etcd_event_type_e;


typedef struct {
    sd_etcd_event_type_e    type;
    sd_etcd_kv_t            kv;     /* DELETE: key and mod_revision only */
} sd_etcd_event_t;


/* one message of the /v3/watch stream ({"result":{…}}) */
typedef struct {
    int64_t                 revision;       /* header.revision, 0 if none */
    int64_t                 watch_id;
    int                     created;
    int                     canceled;
    int64_t                 compact_revision;   /* > 0: resync needed */
    sd_etcd_event_t        *events;
    size_t                  nevents;
    int                     code;           /* an {"error":…} message */
    char                   *message;        /* or the cancel reason */
} sd_etcd_watch_t;


/* ---- keys ---- */

/* a usable prefix: starts and ends with '/', printable, <= PREFIX_MAX */
int sd_etcd_prefix_ok(const char *prefix, size_t len);

/* "<prefix>claims/<tree key>"; 0 when it does not fit */
size_t sd_etcd_claim_key(const char *prefix, const char *id, size_t id_len,
    char *out, size_t size);
/* "<prefix>rows/<escaped ws>/" and with the identity after it */
size_t sd_etcd_rows_prefix(const char *prefix, const char *ws, size_t ws_len,
    char *out, size_t size);
size_t sd_etcd_row_key(const char *prefix, const char *ws, size_t ws_len,
    const char *id, size_t id_len, char *out, size_t size);

/*
 * A row key back into the workspace (unescaped) and the identity: 0, or -1
 * when the key is not a row key under the prefix.  ws and id point into
 * ws_buf (ws_size bytes) and into the key.
 */
int sd_etcd_parse_row_key(const char *prefix, const char *key, size_t len,
    char *ws_buf, size_t ws_size, size_t *ws_len, const char **id,
    size_t *id_len);

/* a claim key back into the name it claims (lower case): 0, or -1 */
int sd_etcd_claim_name(const char *prefix, const char *key, size_t len,
    char *out, size_t size, size_t *out_len);

/*
 * The end of the range of every key that starts with key[0..len): the
 * prefix with its last byte below 0xff incremented and what follows cut.
 * A key of 0xff bytes only has no end: "\0" (etcd: to the end of the key
 * space).  Returns the length written (<= len, >= 1).
 */
size_t sd_etcd_range_end(const char *key, size_t len, char *out);

/* base64 (RFC 4648, padded) of in, NUL-terminated; the length written */
size_t sd_etcd_b64(const void *in, size_t len, char *out, size_t size);
/* strict decoding: -1 for anything but padded base64 */
int sd_etcd_unb64(const char *in, size_t len, char *out, size_t size,
    size_t *out_len);
/* the base64 of s[0..len) as a JSON string (new reference), NULL: no memory */
json_t *sd_etcd_jb64(const char *s, size_t len);


/* ---- request bodies (malloc'd NUL-terminated JSON; NULL: no memory or
 *      a key that does not fit) ---- */

typedef struct {
    const char             *prefix;
    const char             *ws;
    size_t                  ws_len;
    const char             *id;             /* normalised identity */
    size_t                  id_len;
    const char             *row;            /* the row's stored value */
    size_t                  row_len;
    /*
     * The workspace's limit of rows (0: none).  With one, the claim Txn
     * also compares that no row of the workspace changed after limit_rev
     * (the revision its count was taken at), and a failed one reads how
     * many rows the workspace has: adds raced through several nodes
     * cannot pass the limit together.
     */
    size_t                  limit;
    int64_t                 limit_rev;
} sd_etcd_claim_t;

/*
 * The claim, one Txn (docs/cluster.md, "Claim"):
 *   compare  version(row key) == 0
 *            version(ancestor claim key) == 0, for each ancestor
 *            version([claim key, range_end)) == 0   (an address: the key)
 *   success  put claim key = workspace, put row key = row
 *   failure  range row key; range each ancestor; range the subtree
 *            (SD_ETCD_CONFLICT_READ keys at most)
 */
char *sd_etcd_claim_txn(const sd_etcd_claim_t *c);

/*
 * The second shape, after sd_etcd_claim_verdict() said NESTED: the names in
 * the way are all this workspace's own.  Each ancestor seen is compared
 * with VALUE == workspace (absent ones: version 0), the subtree with VALUE
 * == workspace over the range when it was not empty (every key in it is
 * this workspace's), the claim key and the row key with version 0; the
 * same puts and failure reads.  "seen" is the failed claim's answer.
 */
char *sd_etcd_claim_nested_txn(const sd_etcd_claim_t *c,
    const sd_etcd_txn_t *seen);

/*
 * The row keys of both kinds: an identity row "<prefix>rows/<ws>/<id>", a
 * legacy sender "<prefix>legacy/rows/<ws>/<address>".  kind is
 * SD_ETCD_KIND_ROW or SD_ETCD_KIND_LEGACY; the parser returns the kind, or
 * 0 for a key that is neither (a claim, the leader, a node).
 */
#define SD_ETCD_KIND_ROW        'r'
#define SD_ETCD_KIND_LEGACY     'l'

size_t sd_etcd_any_row_key(const char *prefix, char kind, const char *ws,
    size_t ws_len, const char *id, size_t id_len, char *out, size_t size);
char sd_etcd_parse_any_row_key(const char *prefix, const char *key,
    size_t len, char *ws_buf, size_t ws_size, size_t *ws_len,
    const char **id, size_t *id_len);

/* one change of a node's outbox, published as one Txn */
typedef struct {
    const char             *prefix;
    char                    kind;           /* SD_ETCD_KIND_* */
    int                     delete;
    int                     release_claim;  /* failed, expired, unproven */
    const char             *ws;
    size_t                  ws_len;
    const char             *id;
    size_t                  id_len;
    const char             *json;           /* the row (put) */
    size_t                  json_len;
    int                     guard;          /* a redoable change (a poll's) */
    int64_t                 guard_rev;      /* the row's mod_revision it was
                                               made from (0: absent) */
} sd_etcd_publish_t;

/*
 * The row always lands (put or delete); the claim is created only where
 * there is none and removed only when it is this workspace's.  With
 * guard, all that is nested in an outer Txn that compares the row's
 * mod_revision with guard_rev and, when it differs, only reads the row
 * (succeeded false, responses[0] its range): the change is then not made.
 */
char *sd_etcd_publish_txn(const sd_etcd_publish_t *p);

typedef enum {
    SD_ETCD_CLAIM_DONE = 0,     /* committed at seen->revision */
    SD_ETCD_CLAIM_EXISTS,       /* the workspace has this row already */
    SD_ETCD_CLAIM_CONFLICT,     /* another workspace holds the tree */
    SD_ETCD_CLAIM_NESTED,       /* only the workspace's own names: send
                                   sd_etcd_claim_nested_txn() */
    SD_ETCD_CLAIM_RETRY,        /* changed meanwhile: start again */
    SD_ETCD_CLAIM_LIMIT,        /* the workspace holds its limit of rows */
    SD_ETCD_CLAIM_INVALID       /* an answer of another shape */
} sd_etcd_claim_e;

/*
 * The outcome of a claim Txn's answer.  prev: NULL for the answer of
 * sd_etcd_claim_txn(); for the answer of sd_etcd_claim_nested_txn(), the
 * answer that nested Txn was built from.  On CONFLICT, *holder (when not
 * NULL) is the conflicting key-value inside txn, or NULL when the proof is
 * that the nested compare failed over a subtree read only in part (more
 * than SD_ETCD_CONFLICT_READ keys, all seen ones the workspace's own, and
 * nothing else changed).
 */
sd_etcd_claim_e sd_etcd_claim_verdict(const sd_etcd_claim_t *c,
    const sd_etcd_txn_t *txn, const sd_etcd_txn_t *prev,
    const sd_etcd_kv_t **holder);

/*
 * Taking over an expired claim (docs/cluster.md, "Taking over an expired
 * claim"), as the single-node store's claim check lets an unverified claim
 * stop blocking at its claim_expires_at second:
 *
 *   sd_etcd_claim_others   the other workspaces' claim keys a failed claim
 *                          Txn read back (ancestors, the name, its
 *                          subtree), at most max, in the answer's order
 *   sd_etcd_owners_txn     reads each claim with its owner's rows: no
 *                          compare; success, for each claim: range the
 *                          claim key, range rows/<owner>/<name>, range
 *                          legacy/rows/<owner>/<name>
 *   sd_etcd_takeover_txn   from that answer, when every claim read is free
 *                          to take at "now" (its owner's row unverified
 *                          and past claim_expires_at, failed, or unproven;
 *                          no legacy row): *verdict DONE and the Txn
 *                            compare  mod(claim) == seen, value(claim) ==
 *                                     owner, mod(row) == seen,
 *                                     version(legacy row) == 0, each
 *                            success  delete the claim, put the row marked
 *                                     failed (claim_expired, as
 *                                     sd_row_expire() and sd_row_abandon()
 *                                     with grace write it) when it was not
 *                          else NULL and *verdict CONFLICT (*holder: the
 *                          claim that holds: verified, not expired yet, a
 *                          legacy sender's, or with no row), RETRY (a
 *                          claim is gone or changed owner: claim again) or
 *                          INVALID.  After the takeover, whether it
 *                          committed or not, the claim is sent again.
 */
#define SD_ETCD_TAKEOVER_MAX    32      /* 4 compares a claim */

/*
 * After a takeover Txn built from "owners" at "now" committed: queues in
 * the store the webhook events of each owner's row it marked failed (the
 * row read, then the row written; the same events the single-node store
 * makes when an add expires a claim), since those rows reach every node
 * through the watch, which makes none.  Returns how many rows had events
 * queued.
 */
size_t sd_etcd_takeover_events(sd_store_t *store, const char *prefix,
    const sd_etcd_txn_t *owners, int64_t now, int64_t grace);

size_t sd_etcd_claim_others(const sd_etcd_claim_t *c,
    const sd_etcd_txn_t *txn, const sd_etcd_kv_t **out, size_t max);
char *sd_etcd_owners_txn(const char *prefix, const sd_etcd_kv_t *const *claims,
    size_t n);

/*
 * An address's claim key is lower case, its owner's row key keeps the
 * local part as written ("CEO@acme.com"), so the owners' read can miss
 * the row.  sd_etcd_owners_unfound() marks in missing[] (max entries) the
 * address claims whose owner has no row under the claim's spelling and
 * counts them; sd_etcd_owners_search_txn() reads those owners' row keys
 * (managed and legacy, keys only); sd_etcd_owners_found() sets names[i]
 * (malloc'd, NULL: none) to the row's name whose tree key is claim i's;
 * sd_etcd_owners_claims() gives back the claims of an owners' read (0
 * when one went), and sd_etcd_owners_named_txn() reads them again with
 * names[i] where given (names NULL: sd_etcd_owners_txn()).
 */
size_t sd_etcd_owners_unfound(const sd_etcd_txn_t *owners,
    unsigned char *missing, size_t max);
char *sd_etcd_owners_search_txn(const char *prefix,
    const sd_etcd_txn_t *owners, const unsigned char *missing);
size_t sd_etcd_owners_found(const char *prefix, const sd_etcd_txn_t *owners,
    const unsigned char *missing, const sd_etcd_txn_t *search, char **names);
size_t sd_etcd_owners_claims(const sd_etcd_txn_t *owners,
    const sd_etcd_kv_t **out, size_t max);
char *sd_etcd_owners_named_txn(const char *prefix,
    const sd_etcd_kv_t *const *claims, char *const *names, size_t n);
char *sd_etcd_takeover_txn(const char *prefix, const sd_etcd_txn_t *owners,
    int64_t now, int64_t grace, sd_etcd_claim_e *verdict,
    const sd_etcd_kv_t **holder);

/*
 * PUT /legacy's claims (docs/cluster.md, "PUT /legacy's claims"), in Txns
 * of at most SD_ETCD_MAX_TXN_OPS compares and operations each:
 *
 *   sd_etcd_claim_path   the claim key of a name and where its ancestors
 *                        end (key[0..anc[i]) is the i-th ancestor's key):
 *                        0, or -1 when it does not fit
 *   sd_etcd_read_txn     no compare; success: range each key
 *   sd_etcd_guard_txn    compare each key: VALUE == ws (own) or version
 *                        0 (absent); success: put key = ws where put is
 *                        set; failure: nothing.  NULL beyond the limit.
 *   sd_etcd_release_txn  compare VALUE == ws and mod == rev for each key;
 *                        success: delete each (the claims a refused PUT
 *                        had created go again)
 */
typedef struct {
    const char             *key;
    size_t                  len;
    int64_t                 rev;        /* sd_etcd_release_txn */
    unsigned                own:1;      /* sd_etcd_guard_txn */
    unsigned                put:1;
} sd_etcd_guard_t;

int sd_etcd_claim_path(const char *prefix, const char *id, size_t id_len,
    char *key, size_t size, size_t *key_len, size_t *anc, size_t *nanc);
char *sd_etcd_read_txn(const sd_etcd_guard_t *keys, size_t n);
char *sd_etcd_guard_txn(const sd_etcd_guard_t *g, size_t n, const char *ws,
    size_t ws_len);
char *sd_etcd_release_txn(const sd_etcd_guard_t *g, size_t n,
    const char *ws, size_t ws_len);

/*
 * The import of a single-node store into etcd (sender-domains-cluster-import,
 * docs/cluster.md "Migration and backup"); kind is SD_ETCD_KIND_ROW or
 * SD_ETCD_KIND_LEGACY:
 *   sd_etcd_import_claim_txn   the claim Txn (seen NULL) or its nested
 *                              shape, with the row of that kind; for
 *                              SD_ETCD_KIND_ROW, sd_etcd_claim_txn() and
 *                              sd_etcd_claim_nested_txn()
 *   sd_etcd_import_verdict     its answer, as sd_etcd_claim_verdict()
 *   sd_etcd_import_row_txn     the row alone, when etcd has none: a row
 *                              that holds no claim (failed, unproven, or
 *                              another workspace's name), or, own_claim,
 *                              one whose name this workspace already
 *                              holds (compare VALUE(claim) == ws)
 *   sd_etcd_import_row_verdict DONE, EXISTS (etcd has the row) or RETRY
 *                              (own_claim: the claim is not ws's now)
 */
char *sd_etcd_import_claim_txn(const sd_etcd_claim_t *c, char kind,
    const sd_etcd_txn_t *seen);
sd_etcd_claim_e sd_etcd_import_verdict(const sd_etcd_claim_t *c, char kind,
    const sd_etcd_txn_t *txn, const sd_etcd_txn_t *prev,
    const sd_etcd_kv_t **holder);
char *sd_etcd_import_row_txn(const sd_etcd_claim_t *c, char kind,
    int own_claim);
sd_etcd_claim_e sd_etcd_import_row_verdict(const sd_etcd_txn_t *txn);

/* a range read of [key, range_end) (range_end NULL: the key alone) at
 * revision (0: the newest), limit 0: all */
char *sd_etcd_range_body(const char *key, size_t key_len,
    const char *range_end, size_t range_end_len, int64_t revision,
    int64_t limit);

/* the watch of everything under the prefix from start_revision, with
 * progress notifications (the node's applied revision moves when idle) */
char *sd_etcd_watch_body(const char *prefix, int64_t start_revision);


/* ---- answers ---- */

/* /v3/kv/txn or /v3/kv/range; sd_etcd_txn_free() in every case */
sd_etcd_rc_e sd_etcd_parse_txn(const char *body, size_t len,
    sd_etcd_txn_t *txn);
sd_etcd_rc_e sd_etcd_parse_range(const char *body, size_t len,
    sd_etcd_txn_t *txn);
void sd_etcd_txn_free(sd_etcd_txn_t *txn);

/* one line of the watch stream; sd_etcd_watch_free() in every case */
sd_etcd_rc_e sd_etcd_parse_watch(const char *line, size_t len,
    sd_etcd_watch_t *w);
void sd_etcd_watch_free(sd_etcd_watch_t *w);


/* ---- the node's lease, its key and the refresher's leader ---- */

#define SD_ETCD_NODE_MAX        64

/*
 * The other keys under the prefix:
 *   <prefix>leader             -> the leading node's name, with its lease
 *   <prefix>nodes/<node name>  -> the node's name, with its lease
 */

/* a usable node name: 1..SD_ETCD_NODE_MAX of [A-Za-z0-9._:-] (the
 * directive's rule: a key part and a log value) */
int sd_etcd_node_ok(const char *name, size_t len);

/* {"TTL":"<ttl>"} for /v3/lease/grant */
char *sd_etcd_lease_grant_body(int64_t ttl);
/* {"ID":"<id>"} for /v3/lease/keepalive and /v3/lease/revoke */
char *sd_etcd_lease_id_body(int64_t id);

/*
 * The answer of /v3/lease/grant ({"header":…,"ID":…,"TTL":…}) or of one
 * /v3/lease/keepalive ({"result":{…}}): the lease and the TTL it has left.
 * *ttl == 0 with SD_ETCD_OK: the lease is gone (expired or revoked).
 */
sd_etcd_rc_e sd_etcd_parse_lease(const char *body, size_t len, int64_t *id,
    int64_t *ttl);

/*
 * The node's periodic Txn: take the leader key when nobody holds it, else
 * read it; count the live nodes; with put_node, (re)write the node's own
 * key with the lease first (after a grant):
 *   compare  version(<prefix>leader) == 0
 *   success  [put nodes/<node> lease], put leader = node lease,
 *            range nodes/ count_only
 *   failure  [put nodes/<node> lease], range leader,
 *            range nodes/ count_only
 */
char *sd_etcd_leader_txn(const char *prefix, const char *node,
    size_t node_len, int64_t lease, int put_node);

typedef struct {
    int                     leader;     /* this node, with this lease */
    int64_t                 nodes;      /* keys under <prefix>nodes/ */
    int64_t                 revision;
    const char             *holder;     /* the leader's name (in txn), */
    size_t                  holder_len; /* NULL when nobody leads */
} sd_etcd_leader_t;

/* the answer of sd_etcd_leader_txn(): 0, or -1 for another shape */
int sd_etcd_leader_verdict(const sd_etcd_txn_t *txn, const char *node,
    size_t node_len, int64_t lease, sd_etcd_leader_t *out);


/* ---- applying to the node's cache ---- */

typedef enum {
    SD_ETCD_SKIP = 0,           /* older than what the cache has */
    SD_ETCD_APPLY_PUT,
    SD_ETCD_APPLY_DELETE        /* remove; keep a tombstone at ev_rev */
} sd_etcd_apply_e;

/*
 * Whether a change of one key applies to the node's cache, so a late
 * event never moves a row backwards.
 *   have_rev     the revision the cached row (or its tombstone) was
 *                written from; 0 when the cache has nothing for the key
 *   applied_rev  the highest revision the node's watch has applied
 *   ev_rev       the change's mod_revision (a delete: the deletion's)
 *   from_watch   1 for a watch event, 0 for a Txn's own answer applied
 *                directly (which the watch may already have overtaken)
 */
sd_etcd_apply_e sd_etcd_apply(int64_t have_rev, int64_t applied_rev,
    sd_etcd_event_type_e type, int64_t ev_rev, int from_watch);

/* a tombstone at tomb_rev can go once the watch has applied past it */
int sd_etcd_tombstone_done(int64_t tomb_rev, int64_t applied_rev);

#endif /* SD_ETCD_H */
