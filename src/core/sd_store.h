/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the store.
 *
 * One LMDB environment file shared by every worker.  This interface is pure
 * C (no nginx types) so it is unit-tested directly and so another backend
 * can later sit behind it for multi-node deployments.
 *
 * Databases inside the environment:
 *   identities  "<workspace>\0<identity>"  -> record (header + JSON)
 *   claims      tree key of the identity   -> "<workspace>\0<identity>\0<s>"
 *   legacy      "<workspace>\0<address>"   -> record (header + JSON)
 *   due         BE64(next check) "<ws>\0<identity>" -> "" (the schedule)
 *   meta        "lease", "format" etc.     -> small values
 *   cout, crev, ctomb, cseen                   cluster mode, see below
 *
 * Records start with a fixed header so the send-time resolver can read the
 * verification flag and the sender name without parsing JSON.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_STORE_H
#define NGX_HTTP_SENDER_DOMAINS_STORE_H

#include <stddef.h>
#include <stdint.h>


#define SD_STORE_MAX_KEY        511      /* LMDB's default key limit */

/*
 * The store's layout, kept in meta "format" (LE32).  A store written by a
 * newer module (a higher number) is refused at open instead of misread;
 * a store without the key is format 1 (it predates the key) and gets it.
 */
#define SD_STORE_FORMAT         1
#define SD_WORKSPACE_MAX        128

/* record flags */
#define SD_REC_VERIFIED         0x01     /* SES: VerifiedForSendingStatus */
#define SD_REC_FAILED           0x02     /* SES gave up: claim released */
#define SD_REC_DOMAIN           0x04     /* a domain, else an address */
/*
 * What a ListEmailIdentities answer can settle without reading the JSON:
 * the DKIM status (0: not recorded, a row written before these bits)
 * and whether the MAIL FROM is pending (only GetEmailIdentity shows it).
 */
#define SD_REC_DKIM_MASK        0x18
#define SD_REC_DKIM_PENDING     0x08
#define SD_REC_DKIM_VERIFIED    0x10
#define SD_REC_DKIM_FAILED      0x18
#define SD_REC_MAIL_FROM_PENDING  0x20
/* adopted from SES without proof of ownership: never verified (issue 13) */
#define SD_REC_UNPROVEN         0x40
/* the add flow stopped half-way: the refresher resumes it */
#define SD_REC_UNFINISHED       0x80


typedef enum {
    SD_STORE_OK = 0,
    SD_STORE_NOT_FOUND,
    SD_STORE_EXISTS,            /* same workspace already has it */
    SD_STORE_CONFLICT,          /* another workspace owns the tree */
    SD_STORE_FULL,              /* the LMDB map is full */
    SD_STORE_ERROR,
    SD_STORE_LIMIT              /* the workspace holds its maximum of rows */
} sd_store_rc_e;


typedef struct sd_store_s  sd_store_t;


typedef struct {
    unsigned                flags;
    int64_t                 next_check;     /* epoch s; 0: not scheduled */
    const char             *sender_name;
    size_t                  sender_name_len;
    const char             *json;
    size_t                  json_len;
} sd_record_t;


/* allocator used to copy data out of a read transaction */
typedef void *(*sd_store_alloc_pt)(void *ctx, size_t size);

/* list callback: the record is valid only during the call */
typedef int (*sd_store_each_pt)(void *ctx, const char *id, size_t id_len,
    const sd_record_t *rec);


sd_store_rc_e sd_store_open(const char *path, size_t map_size,
    sd_store_t **store, char *err, size_t err_size);
void sd_store_close(sd_store_t *store);

/*
 * Checks, without writing or taking LMDB's locks, that an existing store
 * file is of a format this module reads (an empty or new file is fine).
 * For the master's configuration test, before any worker opens the store.
 */
sd_store_rc_e sd_store_check_format(const char *path, size_t map_size,
    char *err, size_t err_size);
int sd_store_reader_check(sd_store_t *store);
const char *sd_store_strerror(sd_store_t *store);

sd_store_rc_e sd_store_get(sd_store_t *store, const char *ws, size_t ws_len,
    const char *id, size_t id_len, sd_store_alloc_pt alloc, void *alloc_ctx,
    sd_record_t *rec);
sd_store_rc_e sd_store_list(sd_store_t *store, const char *ws, size_t ws_len,
    sd_store_each_pt each, void *ctx);
/* the rows whose names sort after "after" (byte order), for paging */
sd_store_rc_e sd_store_list_after(sd_store_t *store, const char *ws,
    size_t ws_len, const char *after, size_t after_len,
    sd_store_each_pt each, void *ctx);
sd_store_rc_e sd_store_each_all(sd_store_t *store,
    int (*each)(void *ctx, const char *ws, size_t ws_len, const char *id,
                size_t id_len, const sd_record_t *rec), void *ctx);

sd_store_rc_e sd_store_claim(sd_store_t *store, const char *ws, size_t ws_len,
    const char *id, size_t id_len, const sd_record_t *rec);
/*
 * sd_store_claim() that first counts the workspace's rows in the same
 * write transaction (LMDB has one writer across all workers, so two adds
 * at once cannot both take the last place): SD_STORE_LIMIT when it holds
 * "max" rows already; max 0 is no limit.  A row the workspace has already
 * (SD_STORE_EXISTS) is not counted again.
 */
sd_store_rc_e sd_store_claim_max(sd_store_t *store, const char *ws,
    size_t ws_len, const char *id, size_t id_len, const sd_record_t *rec,
    size_t max);
/* how many rows one workspace holds, counting no further than "max" */
sd_store_rc_e sd_store_count_ws(sd_store_t *store, const char *ws,
    size_t ws_len, size_t max, size_t *n);
sd_store_rc_e sd_store_update(sd_store_t *store, const char *ws,
    size_t ws_len, const char *id, size_t id_len, const sd_record_t *rec);
/*
 * Read-modify-write in one write transaction: "modify" gets the current
 * record and fills "out" (whose memory must stay valid until it returns
 * and is released by "done"), or returns non-zero to leave the row as is.
 * No I/O may happen inside: LMDB has one writer across all workers.
 */
typedef int (*sd_store_modify_pt)(void *ctx, const sd_record_t *cur,
    sd_record_t *out);

sd_store_rc_e sd_store_modify(sd_store_t *store, const char *ws,
    size_t ws_len, const char *id, size_t id_len, sd_store_modify_pt modify,
    void (*done)(void *ctx), void *ctx);

/*
 * Several read-modify-writes in one write transaction: one commit, so
 * one wait for the disk instead of one per row (the refresher saves a
 * poll's results this way).  "modify" runs for each row as in
 * sd_store_modify, with that change's ctx; "done", if set, after each
 * row is written or skipped.  A row that is gone (rc SD_STORE_NOT_FOUND),
 * that "modify" leaves alone (rc SD_STORE_OK, skipped 1) or whose claim
 * conflicts (SD_STORE_CONFLICT) does not stop the others; any other error
 * aborts the transaction and nothing is written.
 *
 * SD_STORE_REDOABLE: the caller can redo the batch (the refresher's rows
 * stay due until saved), so the commit skips the synchronous write of
 * LMDB's meta page (MDB_NOMETASYNC for this commit only): a power cut may
 * undo this last transaction, never corrupt the file, and the next commit
 * by anyone makes it durable.  People's writes never use it.
 */
#define SD_STORE_REDOABLE       0x01

typedef struct {
    const char             *ws;
    size_t                  ws_len;
    const char             *id;
    size_t                  id_len;
    void                   *ctx;
    sd_store_rc_e           rc;             /* set by the call */
    int                     skipped;        /* set by the call */
} sd_store_change_t;

sd_store_rc_e sd_store_modify_many(sd_store_t *store,
    sd_store_change_t *changes, size_t n, sd_store_modify_pt modify,
    void (*done)(void *ctx), unsigned flags);

/* 1 when another workspace holds the claim on exactly this name */
int sd_store_claimed_by_other(sd_store_t *store, const char *ws,
    size_t ws_len, const char *id, size_t id_len);

/*
 * Whether another workspace's claim holds the name, a parent or a child:
 * 0 no; 1 one that blocks for now (not verified, not expired yet); 2 one
 * held for good (verified for sending, or a legacy sender).  An unproven
 * row's claim never holds anything.
 */
int sd_store_tree_held(sd_store_t *store, const char *ws, size_t ws_len,
    const char *id, size_t id_len);

sd_store_rc_e sd_store_delete(sd_store_t *store, const char *ws,
    size_t ws_len, const char *id, size_t id_len);

/*
 * Legacy senders hold claims like any other row: an address under another
 * workspace's claim is SD_STORE_CONFLICT, with conflict[i] set for each
 * such entry (conflict may be NULL), and nothing is written.
 */
sd_store_rc_e sd_store_legacy_replace(sd_store_t *store, const char *ws,
    size_t ws_len, size_t n, const char **ids, const size_t *id_lens,
    const sd_record_t *recs, int *conflict);
/* check 0: the claims were decided elsewhere (cluster mode: by etcd), the
 * store's own check is skipped and the list takes its claims */
sd_store_rc_e sd_store_legacy_replace_as(sd_store_t *store, const char *ws,
    size_t ws_len, size_t n, const char **ids, const size_t *id_lens,
    const sd_record_t *recs, int *conflict, int check);
sd_store_rc_e sd_store_legacy_get(sd_store_t *store, const char *ws,
    size_t ws_len, const char *id, size_t id_len, sd_store_alloc_pt alloc,
    void *alloc_ctx, sd_record_t *rec);
sd_store_rc_e sd_store_legacy_list(sd_store_t *store, const char *ws,
    size_t ws_len, sd_store_each_pt each, void *ctx);
sd_store_rc_e sd_store_legacy_list_after(sd_store_t *store, const char *ws,
    size_t ws_len, const char *after, size_t after_len,
    sd_store_each_pt each, void *ctx);

/* rows whose next check is due, oldest first, at most "max" */
sd_store_rc_e sd_store_due(sd_store_t *store, int64_t now, size_t max,
    int (*each)(void *ctx, const char *ws, size_t ws_len, const char *id,
                size_t id_len, unsigned flags), void *ctx);

/* how many identity rows the store holds, all workspaces together */
sd_store_rc_e sd_store_count(sd_store_t *store, size_t *n);

/*
 * The refresher's lease: *acquired = 1 when "owner" holds it until at
 * least now + ttl / 2 (taken or renewed for ttl seconds when needed); ttl
 * 0 releases it.  Only a change is written.
 */
sd_store_rc_e sd_store_lease(sd_store_t *store, int64_t owner, int64_t now,
    int64_t ttl, int *acquired);

/* the id of the last committed write transaction (of any process) */
sd_store_rc_e sd_store_last_txn(sd_store_t *store, size_t *id);


/* the resolver's single read transaction */

typedef enum {
    SD_RESOLVE_NONE = 0,        /* nothing of this workspace covers it */
    SD_RESOLVE_ADDRESS,
    SD_RESOLVE_DOMAIN,
    SD_RESOLVE_LEGACY,
    SD_RESOLVE_UNVERIFIED,      /* registered here, not verified */
    SD_RESOLVE_UNPROVEN         /* verified in SES, ownership unproven */
} sd_resolve_source_e;


typedef struct {
    sd_resolve_source_e     source;
    size_t                  sender_name_len;
    char                    sender_name[512];
    int                     managed_blocked;  /* set by the caller: plan */
} sd_resolve_t;

sd_store_rc_e sd_store_resolve(sd_store_t *store, const char *ws,
    size_t ws_len, const char *addr, size_t addr_len, int managed_allowed,
    sd_resolve_t *res);


/*
 * The tally: identity rows by kind and state (from the header's flags),
 * for the metrics.  Each write transaction's changes are told to "tally"
 * just before it commits, while the process holds LMDB's write lock (and
 * taken back, negated, if the commit fails); sd_store_tally_count()
 * counts everything under the same lock and hands the totals to "set".
 * "lost" counts rows that were verified for sending and no longer are.
 */
enum { SD_TALLY_DOMAIN = 0, SD_TALLY_EMAIL, SD_TALLY_LEGACY, SD_TALLY_KINDS };
enum { SD_TALLY_PENDING = 0, SD_TALLY_VERIFIED, SD_TALLY_FAILED,
       SD_TALLY_STATES };

typedef struct {
    int64_t                 n[SD_TALLY_KINDS][SD_TALLY_STATES];
    int64_t                 lost;
    int64_t                 events_dropped;     /* the event queue was full */
} sd_store_tally_t;

typedef void (*sd_store_tally_pt)(void *ctx, const sd_store_tally_t *t);

void sd_store_set_tally(sd_store_t *store, sd_store_tally_pt tally,
    void *ctx);
sd_store_rc_e sd_store_tally_count(sd_store_t *store, sd_store_tally_pt set,
    void *ctx);

/* the map's size and how much of it is used */
typedef struct {
    size_t                  map_size;
    size_t                  page_size;
    size_t                  pages_used;
} sd_store_usage_t;

sd_store_rc_e sd_store_usage(sd_store_t *store, sd_store_usage_t *u);

/* how many rows are due now (at most "max" looked at), the oldest's time */
sd_store_rc_e sd_store_due_stats(sd_store_t *store, int64_t now, size_t max,
    size_t *due, int64_t *oldest);


/*
 * Status-change events (webhooks), queued in the "events" database in the
 * same write transaction as the change that caused them.  Every write of
 * an identity row calls "build" with the row before (NULL: added) and
 * after (NULL: removed); it may make events, each numbered with seq() and
 * queued with emit() for every target (a configured webhook URL, by a
 * hash of it).  The queue holds at most "limit" events: past it the
 * writing workspace's oldest are dropped (or, when it has none from before
 * this write, the oldest of all), counted in the tally's events_dropped.
 */
#define SD_EVENT_TARGETS_MAX    16

typedef struct {
    const char             *ws;
    size_t                  ws_len;
    const char             *id;
    size_t                  id_len;
    const sd_record_t      *old;
    const sd_record_t      *rec;
} sd_store_event_src_t;

typedef void (*sd_store_events_pt)(void *ctx, const sd_store_event_src_t *src,
    uint64_t (*seq)(void *q),
    void (*emit)(void *q, uint64_t seq, int64_t now, const char *body,
                 size_t len),
    void *q);

void sd_store_set_events(sd_store_t *store, sd_store_events_pt build,
    void *ctx, const uint32_t *targets, size_t ntargets, size_t limit);

typedef struct {
    uint64_t                seq;
    int64_t                 created;
    int64_t                 next_attempt;
    unsigned                attempts;
    char                   *body;
    size_t                  body_len;
} sd_store_event_t;

/*
 * The target's event to send next, passing over the events numbered in
 * skip (those in flight): of each identity's oldest event, the one due
 * first (it may not be due yet: see next_attempt); an identity's later
 * events wait behind its oldest (SD_STORE_NOT_FOUND: none).
 */
sd_store_rc_e sd_store_event_next(sd_store_t *store, uint32_t target,
    const uint64_t *skip, size_t nskip, sd_store_alloc_pt alloc,
    void *alloc_ctx, sd_store_event_t *ev);
/* delivered (remove) or to be tried again at next_attempt */
sd_store_rc_e sd_store_event_done(sd_store_t *store, uint32_t target,
    uint64_t seq, int remove, int64_t next_attempt);
sd_store_rc_e sd_store_events_count(sd_store_t *store, size_t *n);
/*
 * Queues the events of a change of the row "<ws>\0<id>" from old to rec
 * (NULL: added / removed) that this store does not write itself (in
 * cluster mode, another node's row whose expired claim this node took
 * over).  Nothing to do without set_events; SD_STORE_ERROR: a name too
 * long for the queue.
 */
sd_store_rc_e sd_store_events_of(sd_store_t *store, const char *ws,
    size_t ws_len, const char *id, size_t id_len, const sd_record_t *old,
    const sd_record_t *rec);


/*
 * Cluster mode (issue 18, docs/cluster.md "The store in cluster mode").
 * Five databases, created at open in every store (empty and unused
 * without cluster mode, so no format bump):
 *   cout   BE64(seq) -> outbox entry: kind, op, flags, "<ws>\0<id>", JSON
 *   coutix the outbox by workspace, 'w' <ws> NUL BE64(seq) -> "", and by
 *          name, 'n' <tree key> NUL BE64(seq) -> kind "<ws>\0<id>";
 *          written with cout; made again from cout at open and by
 *          outbox_next_fair when a module before it wrote the outbox
 *   crev   kind "<ws>\0<id>" -> BE64(etcd mod_revision) + 'l' live or
 *          't' tombstone (the revision of the key's delete)
 *   ctomb  BE64(tombstone revision) kind "<ws>\0<id>" -> "" (to drop them)
 *   cseen  kind "<ws>\0<id>" -> "" (the keys a resync's range read holds)
 * and meta "outbox_seq" (LE64, the highest seq ever appended) and
 * "applied_rev" (LE64, the revision the node's watch has applied up to).
 */
#define SD_STORE_KIND_ROW       'r'     /* identities: rows/<ws>/<id> */
#define SD_STORE_KIND_LEGACY    'l'     /* legacy: legacy/<ws>/<address> */
#define SD_STORE_OP_PUT         'p'
#define SD_STORE_OP_DELETE      'd'

/*
 * on 1: from now on every write of an identity row or legacy row made by
 * this process's store handle (sd_store_claim*, update, modify*, delete,
 * legacy_replace) appends one entry per row written to the outbox, in
 * the same transaction (several writes of a row each append one).  An
 * unchanged legacy row that PUT /legacy rewrites appends nothing.  The
 * setting belongs to the handle: set it in every worker.  Default 0.
 */
void sd_store_set_outbox(sd_store_t *store, int on);

typedef struct {
    uint64_t                seq;
    char                    kind;       /* SD_STORE_KIND_* */
    char                    op;         /* SD_STORE_OP_* */
    unsigned                flags;      /* the record's flags after the
                                           write; 0 for a delete */
    char                   *ws;         /* NUL-terminated copies, made */
    size_t                  ws_len;     /* with "alloc" in one block */
    char                   *id;         /* starting at ws: the caller */
    size_t                  id_len;     /* frees ws alone (if at all) */
    char                   *json;       /* the record's JSON part; ""
                                           (json_len 0) for a delete */
    size_t                  json_len;
    int                     redoable;   /* written by sd_store_modify_many
                                           with SD_STORE_REDOABLE (the
                                           refresher's polls): published
                                           only over the row it was made
                                           from, else dropped (docs/
                                           cluster.md, "A poll never
                                           overwrites a newer row") */
} sd_store_out_t;

#define SD_STORE_OUT_REDOABLE   0x01    /* an entry's flag byte */

/*
 * The first outbox entry with a seq > after, copied out with alloc (one
 * call, see sd_store_out_t).  SD_STORE_OK, SD_STORE_NOT_FOUND when there
 * is none, SD_STORE_ERROR (alloc failed, an unreadable entry, LMDB).
 */
sd_store_rc_e sd_store_outbox_next(sd_store_t *store, uint64_t after,
    sd_store_alloc_pt alloc, void *alloc_ctx, sd_store_out_t *o);
/* removes the entry (published): SD_STORE_OK, NOT_FOUND when not there */
sd_store_rc_e sd_store_outbox_done(sd_store_t *store, uint64_t seq);
/*
 * A redoable entry whose guard failed (the row changed in etcd since the
 * copy it was made from): removes it and the later redoable entries of
 * the same key, which were made on top of it (a backlog of polls while
 * etcd was away), up to 64 of them.  As outbox_done.
 */
sd_store_rc_e sd_store_outbox_overtaken(sd_store_t *store, uint64_t seq);
/* the highest seq ever appended (0: none), even once the outbox is empty */
sd_store_rc_e sd_store_outbox_last(sd_store_t *store, uint64_t *seq);
/* the oldest entry's seq (0: the outbox is empty), without copying it */
sd_store_rc_e sd_store_outbox_first(sd_store_t *store, uint64_t *seq);
sd_store_rc_e sd_store_outbox_count(sd_store_t *store, size_t *n);
/*
 * Fair turns (docs/cluster.md, "Publishing"): the oldest entry of the
 * first workspace after after_ws (byte order; NULL: from the first) that
 * has one, around to the first.  A workspace whose oldest entry names
 * what an older entry of another workspace names waits for it (the two
 * touch one claim key in etcd); the outbox's oldest entry never waits.
 * Within a workspace, seq order.  As outbox_next otherwise.
 */
sd_store_rc_e sd_store_outbox_next_fair(sd_store_t *store,
    const char *after_ws, size_t after_len, sd_store_alloc_pt alloc,
    void *alloc_ctx, sd_store_out_t *o);
/* the workspace's oldest entry's seq (0: it has none) */
sd_store_rc_e sd_store_outbox_first_ws(sd_store_t *store, const char *ws,
    size_t ws_len, uint64_t *seq);
/* the workspace's entries, counted up to max */
sd_store_rc_e sd_store_outbox_backlog(sd_store_t *store, const char *ws,
    size_t ws_len, size_t max, size_t *n);

/*
 * After a publish: the key's etcd revision is rev (never lowered).  A key
 * whose row is absent from the store gets a tombstone at rev (a published
 * delete), otherwise a live revision.  SD_STORE_OK or an error.
 */
sd_store_rc_e sd_store_set_rev(sd_store_t *store, char kind, const char *ws,
    size_t ws_len, const char *id, size_t id_len, int64_t rev);
/*
 * The key's revision (0: none known) and whether it is a tombstone: the
 * "seen" mod_revision of a guarded etcd write.  SD_STORE_OK (also for 0).
 */
sd_store_rc_e sd_store_get_rev(sd_store_t *store, char kind, const char *ws,
    size_t ws_len, const char *id, size_t id_len, int64_t *rev,
    int *tombstone);
/* meta "applied_rev" (0: never set) */
sd_store_rc_e sd_store_applied_rev(sd_store_t *store, int64_t *rev);

/* one change from etcd: a watch event, a Txn's answer or a range read */
typedef struct {
    char                    kind;       /* SD_STORE_KIND_* */
    char                    op;         /* SD_STORE_OP_* */
    const char             *ws;
    size_t                  ws_len;
    const char             *id;
    size_t                  id_len;
    const sd_record_t      *rec;        /* put: sd_row_to_record()'s */
    int64_t                 rev;        /* mod_revision; delete: its own */
    int                     from_watch; /* 1: a watch event or a resync's
                                           range read; 0: a Txn's answer */
    int                     resync;     /* 1: a key of the resync's range
                                           read (recorded as seen) */
    int                     events;     /* 1: a change this node made (an
                                           add's claim granted by etcd):
                                           it makes its webhook events */
    /* set by the call */
    int                     applied;    /* 1 written, 0 skipped (older),
                                           -1 refused: a key too long, a
                                           put without rec, a bad kind/op */
    int                     replaced;   /* 1: another workspace's claim on
                                           the name was replaced */
} sd_store_remote_t;

/*
 * Applies changes from etcd in ONE write transaction, each only when
 * sd_etcd_apply() says so (against the key's crev revision and the
 * stored applied_rev): a put writes the row (identities or legacy), its
 * claim (from the flags as sd_store_update does; another workspace's
 * claim on the same name is replaced: etcd is the truth), its schedule
 * entry and the tally; a delete removes the row, its claim (when this
 * row's), its schedule entry, and leaves a tombstone at rev.  No outbox
 * entry, no event.  Then applied_rev = max(stored, applied_rev) (0:
 * unchanged) and the tombstones at or below it are dropped; n may be 0
 * (a watch's progress notification only moves applied_rev).
 * *replaced (may be NULL) counts the replaced claims.  A change that
 * cannot be applied is passed over (applied -1), the others go on.
 * SD_STORE_OK; SD_STORE_FULL or SD_STORE_ERROR (LMDB): nothing written,
 * every applied and replaced 0.  The changes' memory is only read.
 */
sd_store_rc_e sd_store_apply_remote(sd_store_t *store,
    sd_store_remote_t *changes, size_t n, int64_t applied_rev,
    size_t *replaced);

/*
 * A resync from a range read at revision R: sd_store_resync_begin()
 * forgets the marks of a previous one; each key read is applied with
 * resync = 1 (several sd_store_apply_remote() calls as the pages come,
 * applied_rev 0); sd_store_resync_end(R) then removes every identity and
 * legacy row not marked and with no entry in the outbox (an unpublished
 * local write survives), with its claim and schedule entry and no
 * tombstone, drops the tombstones at or below R and sets applied_rev = R.
 * *removed (may be NULL) counts the rows removed.
 */
sd_store_rc_e sd_store_resync_begin(sd_store_t *store);
sd_store_rc_e sd_store_resync_end(sd_store_t *store, int64_t rev,
    size_t *removed);


/*
 * Whether a node in cluster mode may resync this store from etcd (a
 * resync removes every row etcd does not hold):
 *   SYNCED     it applied a cluster revision (applied_rev > 0)
 *   IMPORTED   sender-domains-cluster-import sent its rows to etcd (meta
 *              "cluster_imported", sd_store_set_cluster_imported())
 *   JOINED     rows were written in cluster mode (the outbox was used)
 *   EMPTY      no identity row, no legacy row
 *   LOCAL      a single-node store's rows: NOT to be resynced before
 *              they were imported
 */
typedef enum {
    SD_STORE_CLUSTER_SYNCED = 0,
    SD_STORE_CLUSTER_IMPORTED,
    SD_STORE_CLUSTER_JOINED,
    SD_STORE_CLUSTER_EMPTY,
    SD_STORE_CLUSTER_LOCAL
} sd_store_cluster_e;

sd_store_rc_e sd_store_cluster_state(sd_store_t *store,
    sd_store_cluster_e *state);
sd_store_rc_e sd_store_set_cluster_imported(sd_store_t *store);

/* for the import: every legacy row of every workspace, as each_all */
sd_store_rc_e sd_store_legacy_each_all(sd_store_t *store,
    int (*each)(void *ctx, const char *ws, size_t ws_len, const char *id,
                size_t id_len, const sd_record_t *rec), void *ctx);
/*
 * 1 when the name's claim in this store is this row's (workspace and
 * name; managed or legacy) and not a failed one: the import claims it in
 * etcd; 0 otherwise (the row goes to etcd without a claim).
 */
int sd_store_claim_held(sd_store_t *store, const char *ws, size_t ws_len,
    const char *id, size_t id_len);

/* helpers shared with tests */
size_t sd_store_tree_key(const char *id, size_t id_len, char *out,
    size_t out_size);

#endif /* NGX_HTTP_SENDER_DOMAINS_STORE_H */
