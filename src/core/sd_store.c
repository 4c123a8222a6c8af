/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the LMDB store (pure C, see store.h).
 *
 * Rules that keep the store safe with many worker processes:
 *   - one environment per process, opened after fork, MDB_NOTLS because one
 *     thread interleaves many requests;
 *   - write transactions are tiny and never span an SES call;
 *   - MDB_READERS_FULL is answered with mdb_reader_check and one retry,
 *     MDB_MAP_RESIZED with mdb_env_set_mapsize(0) and one retry;
 *   - MDB_MAP_FULL aborts the transaction and becomes SD_STORE_FULL.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lmdb.h>

#include "sd_store.h"
#include "sd_etcd.h"
#include "sd_time.h"


#define SD_REC_VERSION      2       /* 1 was a development format */
#define SD_REC_HEADER       12      /* version, flags, name length (LE16),
                                       next check (LE64) */

#define SD_CLAIM_ACTIVE     'a'
#define SD_CLAIM_FAILED     'f'
#define SD_CLAIM_LEGACY     'l'     /* a legacy sender the platform declared */

#define SD_STORE_CLAIM_MAX  (72 * 3600) /* SES's DNS search: issue 13 */

/* identities, claims, legacy, due, meta, evq, evid, evdue; cout, coutix,
 * crev, ctomb, cseen (cluster mode); and "events", the queue of the version
 * before, while it is moved (see below) */
#define SD_STORE_MAXDBS     16


struct sd_store_s {
    MDB_env                *env;
    MDB_dbi                 identities;
    MDB_dbi                 claims;
    MDB_dbi                 legacy;
    MDB_dbi                 due;
    MDB_dbi                 meta;
    MDB_txn                *rtxn;       /* a reset read txn, kept for reuse */
    int                     last_rc;

    /* the write transaction's changes to the tally, told on commit */
    sd_store_tally_t        delta;
    sd_store_tally_pt       tally;
    void                   *tally_ctx;

    /* status-change events, queued in the same transaction */
    MDB_dbi                 evq;
    MDB_dbi                 evid;
    MDB_dbi                 evdue;
    sd_store_events_pt      ev_build;
    void                   *ev_ctx;
    uint32_t                ev_targets[SD_EVENT_TARGETS_MAX];
    size_t                  ev_ntargets;
    size_t                  ev_limit;
    MDB_txn                *ev_txn;
    int                     ev_rc;
    uint64_t                ev_seq;
    uint64_t                ev_first_seq;   /* the write's first event */
    const char             *ev_ident;       /* the row's key */
    size_t                  ev_ident_len;
    size_t                  ev_ws_len;

    /* cluster mode: the outbox, rows' etcd revisions, the resync's marks */
    MDB_dbi                 cout;
    MDB_dbi                 coutix;         /* cout by workspace, by name */
    MDB_dbi                 crev;
    MDB_dbi                 ctomb;
    MDB_dbi                 cseen;
    int                     outbox;         /* sd_store_set_outbox() */
    int                     applying;       /* no outbox entry, no event */
    int                     redoable;       /* the writes being made can be
                                               made again (the refresher's):
                                               their entries say so */
    int                     apply_events;   /* applying a change made on
                                               this node: its events */
};


static sd_store_rc_e sd_store_map(sd_store_t *st, int rc);
static int sd_store_begin(sd_store_t *st, unsigned flags, MDB_txn **txn);
static int sd_store_read_begin(sd_store_t *st, MDB_txn **txn);
static void sd_store_read_end(sd_store_t *st, MDB_txn *txn);
static size_t sd_store_key(const char *ws, size_t ws_len, const char *id,
    size_t id_len, char *out);
static int sd_store_put_record(MDB_txn *txn, MDB_dbi dbi, MDB_val *key,
    const sd_record_t *rec);
static int sd_store_put_identity(sd_store_t *st, MDB_txn *txn, MDB_val *key,
    const sd_record_t *rec);
static int sd_store_reschedule(sd_store_t *st, MDB_txn *txn,
    const MDB_val *id_key, int64_t old, int64_t next);
static void sd_store_decode(const MDB_val *v, sd_record_t *rec);
static int sd_store_copy(const sd_record_t *src, sd_store_alloc_pt alloc,
    void *ctx, sd_record_t *dst);
static int sd_store_claim_owner(const MDB_val *v, const char *ws,
    size_t ws_len, const char *id, size_t id_len);
static int sd_store_json_has(const char *json, size_t len,
    const char *needle);
static int sd_store_rec_unproven(const sd_record_t *rec);
static int sd_store_claim_blocks(sd_store_t *st, MDB_txn *txn,
    const MDB_val *v, const char *ws, size_t ws_len);
static int sd_store_release_claim(sd_store_t *st, MDB_txn *txn,
    const char *ws, size_t ws_len, const char *id, size_t id_len,
    const MDB_val *ck, int failed);
static int sd_store_check_tree_by(sd_store_t *st, MDB_txn *txn,
    const char *ws, size_t ws_len, const char *tk, size_t tk_len,
    int (*blocks)(sd_store_t *st, MDB_txn *txn, const MDB_val *v,
                  const char *ws, size_t ws_len));
static int sd_store_claim_strong(sd_store_t *st, MDB_txn *txn,
    const MDB_val *v, const char *ws, size_t ws_len);
static int sd_store_check_tree(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, const char *id, size_t id_len, const char *tk,
    size_t tk_len);
static int sd_store_claim_value(char *out, const char *ws, size_t ws_len,
    const char *id, size_t id_len, int failed);
static int sd_store_format(MDB_txn *txn, MDB_dbi meta, unsigned *format);
static int sd_store_format_set(MDB_txn *txn, MDB_dbi meta, char *err,
    size_t err_size);
static void sd_store_tally_note(sd_store_t *st, int legacy, int had,
    unsigned old, const sd_record_t *rec);
static int sd_store_events_note(sd_store_t *st, MDB_txn *txn,
    const MDB_val *key, const sd_record_t *old, const sd_record_t *rec);
static int sd_store_ev_migrate(sd_store_t *st, MDB_txn *txn);
static void sd_store_put_le32(unsigned char *p, unsigned v);
static unsigned sd_store_get_le32(const unsigned char *p);
static int sd_store_outix_check(sd_store_t *st, MDB_txn *txn);
static int sd_store_outbox_holds(sd_store_t *st, MDB_txn *txn, char kind,
    const MDB_val *key);
static int sd_store_outbox_note(sd_store_t *st, MDB_txn *txn, char kind,
    char op, const MDB_val *key, const sd_record_t *rec);


#define SD_STORE_FORMAT_KEY  "format"


sd_store_rc_e
sd_store_open(const char *path, size_t map_size, sd_store_t **store,
    char *err, size_t err_size)
{
    int          rc;
    size_t       i;
    MDB_txn     *txn;
    sd_store_t  *st;

    /* the databases, each created on first use */
    static const struct {
        const char  *name;
        size_t       offset;
    } dbs[] = {
        { "identities", offsetof(sd_store_t, identities) },
        { "claims", offsetof(sd_store_t, claims) },
        { "legacy", offsetof(sd_store_t, legacy) },
        { "due", offsetof(sd_store_t, due) },
        { "meta", offsetof(sd_store_t, meta) },
        { "evq", offsetof(sd_store_t, evq) },
        { "evid", offsetof(sd_store_t, evid) },
        { "evdue", offsetof(sd_store_t, evdue) },
        { "cout", offsetof(sd_store_t, cout) },
        { "coutix", offsetof(sd_store_t, coutix) },
        { "crev", offsetof(sd_store_t, crev) },
        { "ctomb", offsetof(sd_store_t, ctomb) },
        { "cseen", offsetof(sd_store_t, cseen) },
    };

    st = calloc(1, sizeof(sd_store_t));
    if (st == NULL) {
        snprintf(err, err_size, "out of memory");
        return SD_STORE_ERROR;
    }

    rc = mdb_env_create(&st->env);
    if (rc == 0) {
        rc = mdb_env_set_mapsize(st->env, map_size);
    }

    if (rc == 0) {
        rc = mdb_env_set_maxdbs(st->env, SD_STORE_MAXDBS);
    }

    if (rc == 0) {
        rc = mdb_env_set_maxreaders(st->env, 1024);
    }

    if (rc == 0) {
        /* durable: no MDB_NOSYNC; NOTLS for one thread with many txns */
        rc = mdb_env_open(st->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
    }

    if (rc != 0) {
        snprintf(err, err_size, "cannot open \"%s\": %s", path,
                 mdb_strerror(rc));
        goto failed;
    }

    (void) mdb_reader_check(st->env, NULL);

    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc != 0) {
        snprintf(err, err_size, "cannot begin: %s", mdb_strerror(rc));
        goto failed;
    }

    for (i = 0; rc == 0 && i < sizeof(dbs) / sizeof(dbs[0]); i++) {
        rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE,
                          (MDB_dbi *) ((char *) st + dbs[i].offset));
    }

    if (rc == 0) {
        rc = sd_store_ev_migrate(st, txn);
    }


    if (rc == 0) {
        rc = sd_store_format_set(txn, st->meta, err, err_size);
        if (rc == -1) {
            mdb_txn_abort(txn);
            goto failed;
        }
    }

    if (rc == 0) {
        rc = mdb_txn_commit(txn);

    } else {
        mdb_txn_abort(txn);
    }

    if (rc != 0) {
        snprintf(err, err_size, "cannot open databases in \"%s\": %s", path,
                 mdb_strerror(rc));
        goto failed;
    }

    /*
     * the outbox's index, when a module before it wrote the outbox; in a
     * transaction of its own: a full map must not keep the store shut
     * (the publisher tries again before its next turn)
     */
    if (mdb_txn_begin(st->env, NULL, 0, &txn) == 0) {
        if (sd_store_outix_check(st, txn) == 0) {
            (void) mdb_txn_commit(txn);

        } else {
            mdb_txn_abort(txn);
        }
    }

    *store = st;
    return SD_STORE_OK;

failed:

    if (st->env) {
        mdb_env_close(st->env);
    }

    free(st);
    return (rc == MDB_MAP_FULL) ? SD_STORE_FULL : SD_STORE_ERROR;
}


/* reads meta "format": 0 and *format set, MDB_NOTFOUND, or an LMDB error */

static int
sd_store_format(MDB_txn *txn, MDB_dbi meta, unsigned *format)
{
    int            rc;
    MDB_val        k, v;
    unsigned char  *p;

    k.mv_data = SD_STORE_FORMAT_KEY;
    k.mv_size = sizeof(SD_STORE_FORMAT_KEY) - 1;

    rc = mdb_get(txn, meta, &k, &v);
    if (rc != 0) {
        return rc;
    }

    if (v.mv_size != 4) {
        *format = (unsigned) -1;        /* not ours to read */
        return 0;
    }

    p = v.mv_data;
    *format = sd_store_get_le32(p);

    return 0;
}


/*
 * In the open transaction: a newer format is refused (-1, err set), a
 * store without the key gets SD_STORE_FORMAT.  0 or an LMDB error.
 */

static int
sd_store_format_set(MDB_txn *txn, MDB_dbi meta, char *err, size_t err_size)
{
    int            rc;
    unsigned       format;
    MDB_val        k, v;
    unsigned char  buf[4];

    rc = sd_store_format(txn, meta, &format);

    if (rc == 0) {
        if (format <= SD_STORE_FORMAT) {
            return 0;
        }

        snprintf(err, err_size, "the store is of format %u, newer than this "
                 "module's %u: it was written by a newer version of the "
                 "module; run that version, or restore a backup made for "
                 "this one", format, SD_STORE_FORMAT);
        return -1;
    }

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    sd_store_put_le32(buf, SD_STORE_FORMAT);

    k.mv_data = SD_STORE_FORMAT_KEY;
    k.mv_size = sizeof(SD_STORE_FORMAT_KEY) - 1;
    v.mv_data = buf;
    v.mv_size = sizeof(buf);

    return mdb_put(txn, meta, &k, &v, 0);
}


sd_store_rc_e
sd_store_check_format(const char *path, size_t map_size, char *err,
    size_t err_size)
{
    int        rc;
    FILE      *f;
    MDB_dbi    meta;
    MDB_env   *env;
    MDB_txn   *txn;
    unsigned   format;

    format = 0;

    /* a file that has never been opened by a worker has nothing to check */
    f = fopen(path, "r");
    if (f == NULL) {
        return SD_STORE_OK;
    }

    rc = fseek(f, 0, SEEK_END) == 0 && ftell(f) > 0;
    fclose(f);

    if (!rc) {
        return SD_STORE_OK;
    }

    rc = mdb_env_create(&env);
    if (rc != 0) {
        snprintf(err, err_size, "%s", mdb_strerror(rc));
        return SD_STORE_ERROR;
    }

    (void) mdb_env_set_mapsize(env, map_size);
    (void) mdb_env_set_maxdbs(env, SD_STORE_MAXDBS);

    /* no lock file: the workers of the running configuration may write */
    rc = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0600);

    if (rc == 0) {
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);

        if (rc == 0) {
            rc = mdb_dbi_open(txn, "meta", 0, &meta);

            if (rc == 0) {
                rc = sd_store_format(txn, meta, &format);
            }

            mdb_txn_abort(txn);
        }
    }

    mdb_env_close(env);

    if (rc == MDB_NOTFOUND) {
        return SD_STORE_OK;             /* format 1, from before the key */
    }

    if (rc != 0) {
        snprintf(err, err_size, "cannot read \"%s\": %s", path,
                 mdb_strerror(rc));
        return SD_STORE_ERROR;
    }

    if (format > SD_STORE_FORMAT) {
        snprintf(err, err_size, "\"%s\" is of format %u, newer than this "
                 "module's %u: it was written by a newer version of the "
                 "module; run that version, or restore a backup made for "
                 "this one", path, format, SD_STORE_FORMAT);
        return SD_STORE_ERROR;
    }

    return SD_STORE_OK;
}


void
sd_store_close(sd_store_t *st)
{
    if (st == NULL) {
        return;
    }

    if (st->rtxn != NULL) {
        mdb_txn_abort(st->rtxn);
    }

    mdb_env_close(st->env);
    free(st);
}


int
sd_store_reader_check(sd_store_t *st)
{
    int  dead = 0;

    (void) mdb_reader_check(st->env, &dead);
    return dead;
}


const char *
sd_store_strerror(sd_store_t *st)
{
    return mdb_strerror(st->last_rc);
}


static sd_store_rc_e
sd_store_map(sd_store_t *st, int rc)
{
    st->last_rc = rc;

    switch (rc) {
    case 0:
        return SD_STORE_OK;
    case MDB_NOTFOUND:
        return SD_STORE_NOT_FOUND;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        return SD_STORE_FULL;
    default:
        return SD_STORE_ERROR;
    }
}


static int
sd_store_begin(sd_store_t *st, unsigned flags, MDB_txn **txn)
{
    int  rc, tries;

    rc = MDB_PANIC;  /* always set below; clang cannot tell */

    if (!(flags & MDB_RDONLY)) {
        memset(&st->delta, 0, sizeof(sd_store_tally_t));
    }

    for (tries = 0; tries < 3; tries++) {
        rc = mdb_txn_begin(st->env, NULL, flags, txn);

        if (rc == MDB_READERS_FULL) {
            /* a crashed worker left reader slots behind */
            (void) mdb_reader_check(st->env, NULL);
            continue;
        }

        if (rc == MDB_MAP_RESIZED) {
            /* another process grew the map: adopt its size */
            (void) mdb_env_set_mapsize(st->env, 0);
            continue;
        }

        break;
    }

    return rc;
}


/*
 * The resolver's read transactions: a reset transaction is renewed rather
 * than a new one begun, which saves a malloc/free of the handle and the
 * reader-slot search under the lock file's mutex on every resolve.  With
 * MDB_NOTLS a reset transaction keeps its slot, marked unused, so writers
 * are never held back by it.
 */

static int
sd_store_read_begin(sd_store_t *st, MDB_txn **txn)
{
    if (st->rtxn != NULL) {
        *txn = st->rtxn;
        st->rtxn = NULL;

        if (mdb_txn_renew(*txn) == 0) {
            return 0;
        }

        mdb_txn_abort(*txn);
    }

    return sd_store_begin(st, MDB_RDONLY, txn);
}


static void
sd_store_read_end(sd_store_t *st, MDB_txn *txn)
{
    if (st->rtxn == NULL) {
        mdb_txn_reset(txn);
        st->rtxn = txn;
        return;
    }

    mdb_txn_abort(txn);
}


/*
 * A redoable write (one that is simply done again if a power cut loses
 * it) commits without the meta page's own synchronous write: the data
 * pages are still synced first, so a crash keeps either this or the
 * previous state, never a torn one.  LMDB 0.9.24 ignores MDB_NOMETASYNC
 * as a flag of mdb_txn_begin(), so it is the environment's flag (this
 * process's alone) that is set for the commit.
 */

static int
sd_store_commit(sd_store_t *st, MDB_txn *txn, int redoable)
{
    int               rc;
    size_t            k, s;
    sd_store_tally_t  undo;

    /*
     * The tally is told while this process still holds the write lock,
     * so a count taken by another process under the lock never misses
     * or doubles it; a failed commit takes it back.
     */
    if (st->tally) {
        st->tally(st->tally_ctx, &st->delta);
    }

    if (redoable) {
        (void) mdb_env_set_flags(st->env, MDB_NOMETASYNC, 1);
    }

    rc = mdb_txn_commit(txn);

    if (redoable) {
        (void) mdb_env_set_flags(st->env, MDB_NOMETASYNC, 0);
    }

    if (rc != 0 && st->tally) {
        for (k = 0; k < SD_TALLY_KINDS; k++) {
            for (s = 0; s < SD_TALLY_STATES; s++) {
                undo.n[k][s] = -st->delta.n[k][s];
            }
        }

        undo.lost = -st->delta.lost;
        undo.events_dropped = -st->delta.events_dropped;
        st->tally(st->tally_ctx, &undo);
    }

    memset(&st->delta, 0, sizeof(sd_store_tally_t));

    return rc;
}


static size_t
sd_store_key(const char *ws, size_t ws_len, const char *id, size_t id_len,
    char *out)
{
    memcpy(out, ws, ws_len);
    out[ws_len] = '\0';
    memcpy(out + ws_len + 1, id, id_len);

    return ws_len + 1 + id_len;
}


/*
 * The tree key orders names so that a domain and everything under it form
 * one contiguous range: reversed lower-case labels, each followed by '.',
 * then "@local" for an address.  "acme.com" -> "com.acme.",
 * "mail.acme.com" -> "com.acme.mail.", "Rep@acme.com" -> "com.acme.@rep".
 * Conflicts are checked case-insensitively, so the local part is folded.
 */

size_t
sd_store_tree_key(const char *id, size_t id_len, char *out, size_t out_size)
{
    size_t       n, dlen, llen;
    const char  *at, *dom, *end, *label, *p;

    at = memchr(id, '@', id_len);
    dom = at ? at + 1 : id;
    end = id + id_len;
    dlen = end - dom;
    llen = at ? (size_t) (at - id) : 0;

    if (dlen + llen + 3 > out_size) {
        return 0;
    }

    n = 0;
    p = end;

    while (p > dom) {
        const char  *q = p;

        while (q > dom && q[-1] != '.') {
            q--;
        }

        for (label = q; label < p; label++) {
            char c = *label;
            out[n++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        }

        out[n++] = '.';
        p = (q > dom) ? q - 1 : dom;
    }

    if (at) {
        out[n++] = '@';

        for (p = id; p < at; p++) {
            out[n++] = (*p >= 'A' && *p <= 'Z') ? *p + 32 : *p;
        }
    }

    return n;
}


static void
sd_store_put_le32(unsigned char *p, unsigned v)
{
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
    p[2] = (v >> 16) & 0xff;
    p[3] = (v >> 24) & 0xff;
}


static unsigned
sd_store_get_le32(const unsigned char *p)
{
    return (unsigned) p[0] | ((unsigned) p[1] << 8) | ((unsigned) p[2] << 16)
           | ((unsigned) p[3] << 24);
}


static void
sd_store_put_le64(unsigned char *p, uint64_t v)
{
    int  i;

    for (i = 0; i < 8; i++) {
        p[i] = (unsigned char) (v >> (8 * i));
    }
}


static uint64_t
sd_store_get_le64(const unsigned char *p)
{
    int       i;
    uint64_t  v = 0;

    for (i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }

    return v;
}


/* the schedule index: big-endian time first, so keys sort by time */

static int
sd_store_due_key(int64_t t, const MDB_val *id_key, char *out)
{
    int       i;
    uint64_t  v = (uint64_t) t;

    for (i = 0; i < 8; i++) {
        out[i] = (char) (v >> (8 * (7 - i)));
    }

    memcpy(out + 8, id_key->mv_data, id_key->mv_size);

    return 8 + (int) id_key->mv_size;
}


/* moves a row's entry in the schedule from "old" to "next" */

static int
sd_store_reschedule(sd_store_t *st, MDB_txn *txn, const MDB_val *id_key,
    int64_t old, int64_t next)
{
    int      rc;
    char     buf[SD_STORE_MAX_KEY + 9];
    MDB_val  k, v;

    if (old == next) {
        return 0;
    }

    if (id_key->mv_size + 8 > SD_STORE_MAX_KEY) {
        return 0;
    }

    k.mv_data = buf;

    if (old > 0) {
        k.mv_size = sd_store_due_key(old, id_key, buf);
        rc = mdb_del(txn, st->due, &k, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }
    }

    if (next > 0) {
        k.mv_size = sd_store_due_key(next, id_key, buf);
        v.mv_data = "";
        v.mv_size = 0;
        return mdb_put(txn, st->due, &k, &v, 0);
    }

    return 0;
}


/* writes an identity row and keeps the schedule index in step */

static int
sd_store_put_identity(sd_store_t *st, MDB_txn *txn, MDB_val *key,
    const sd_record_t *rec)
{
    int          rc, had;
    int64_t      old;
    MDB_val      v;
    sd_record_t  cur;

    old = 0;
    had = 0;

    if (mdb_get(txn, st->identities, key, &v) == 0) {
        sd_store_decode(&v, &cur);
        old = cur.next_check;
        had = 1;
    }

    /* before any other write: cur points into the map */
    rc = sd_store_events_note(st, txn, key, had ? &cur : NULL, rec);
    if (rc != 0) {
        return rc;
    }

    rc = sd_store_reschedule(st, txn, key, old, rec->next_check);
    if (rc != 0) {
        return rc;
    }

    rc = sd_store_put_record(txn, st->identities, key, rec);
    if (rc != 0) {
        return rc;
    }

    sd_store_tally_note(st, 0, had, had ? cur.flags : 0, rec);

    return sd_store_outbox_note(st, txn, SD_STORE_KIND_ROW, SD_STORE_OP_PUT,
                                key, rec);
}


static int
sd_store_put_record(MDB_txn *txn, MDB_dbi dbi, MDB_val *key,
    const sd_record_t *rec)
{
    int             rc;
    MDB_val         v;
    unsigned char  *p;

    if (rec->sender_name_len > 0xffff) {
        return EINVAL;
    }

    v.mv_size = SD_REC_HEADER + rec->sender_name_len + rec->json_len;
    v.mv_data = NULL;

    /* MDB_RESERVE: write straight into the map, no temporary buffer */
    rc = mdb_put(txn, dbi, key, &v, MDB_RESERVE);
    if (rc != 0) {
        return rc;
    }

    p = v.mv_data;
    p[0] = SD_REC_VERSION;
    p[1] = (unsigned char) rec->flags;
    p[2] = rec->sender_name_len & 0xff;
    p[3] = (rec->sender_name_len >> 8) & 0xff;
    sd_store_put_le64(p + 4, (uint64_t) rec->next_check);
    memcpy(p + SD_REC_HEADER, rec->sender_name, rec->sender_name_len);
    memcpy(p + SD_REC_HEADER + rec->sender_name_len, rec->json,
           rec->json_len);

    return 0;
}


static void
sd_store_decode(const MDB_val *v, sd_record_t *rec)
{
    size_t                nlen;
    const unsigned char  *p = v->mv_data;

    memset(rec, 0, sizeof(sd_record_t));

    if (v->mv_size < SD_REC_HEADER || p[0] != SD_REC_VERSION) {
        return;
    }

    nlen = p[2] | (p[3] << 8);
    if (SD_REC_HEADER + nlen > v->mv_size) {
        return;
    }

    rec->flags = p[1];
    rec->next_check = (int64_t) sd_store_get_le64(p + 4);
    rec->sender_name = (const char *) p + SD_REC_HEADER;
    rec->sender_name_len = nlen;
    rec->json = rec->sender_name + nlen;
    rec->json_len = v->mv_size - SD_REC_HEADER - nlen;
}


static int
sd_store_copy(const sd_record_t *src, sd_store_alloc_pt alloc, void *ctx,
    sd_record_t *dst)
{
    char  *p;

    p = alloc(ctx, src->sender_name_len + src->json_len + 1);
    if (p == NULL) {
        return ENOMEM;
    }

    *dst = *src;
    memcpy(p, src->sender_name, src->sender_name_len);
    dst->sender_name = p;
    p += src->sender_name_len;
    memcpy(p, src->json, src->json_len);
    p[src->json_len] = '\0';
    dst->json = p;

    return 0;
}


static sd_store_rc_e
sd_store_get_from(sd_store_t *st, MDB_dbi dbi, const char *ws, size_t ws_len,
    const char *id, size_t id_len, sd_store_alloc_pt alloc, void *alloc_ctx,
    sd_record_t *rec)
{
    int          rc;
    char         kbuf[SD_STORE_MAX_KEY + 1];
    MDB_txn     *txn;
    MDB_val      k, v;
    sd_record_t  tmp;

    if (ws_len + 1 + id_len > SD_STORE_MAX_KEY) {
        return SD_STORE_NOT_FOUND;
    }

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    k.mv_data = kbuf;
    k.mv_size = sd_store_key(ws, ws_len, id, id_len, kbuf);

    rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0) {
        sd_store_decode(&v, &tmp);
        rc = sd_store_copy(&tmp, alloc, alloc_ctx, rec);
    }

    mdb_txn_abort(txn);

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_get(sd_store_t *st, const char *ws, size_t ws_len, const char *id,
    size_t id_len, sd_store_alloc_pt alloc, void *alloc_ctx,
    sd_record_t *rec)
{
    return sd_store_get_from(st, st->identities, ws, ws_len, id, id_len,
                             alloc, alloc_ctx, rec);
}


sd_store_rc_e
sd_store_legacy_get(sd_store_t *st, const char *ws, size_t ws_len,
    const char *id, size_t id_len, sd_store_alloc_pt alloc, void *alloc_ctx,
    sd_record_t *rec)
{
    return sd_store_get_from(st, st->legacy, ws, ws_len, id, id_len,
                             alloc, alloc_ctx, rec);
}


/*
 * The rows of one workspace in name order (LMDB's byte order of the key),
 * those after the name "after" only when it is given: a page of a list
 * starts where the previous one stopped, even if that row has gone since.
 */

static sd_store_rc_e
sd_store_list_from(sd_store_t *st, MDB_dbi dbi, const char *ws,
    size_t ws_len, const char *after, size_t after_len,
    sd_store_each_pt each, void *ctx)
{
    int          rc;
    char         kbuf[SD_STORE_MAX_KEY + 1];
    MDB_txn     *txn;
    MDB_val      k, v;
    MDB_cursor  *cur;
    sd_record_t  rec;

    if (after == NULL) {
        after_len = 0;
    }

    if (ws_len + 1 + after_len > SD_STORE_MAX_KEY) {
        /* no key is that long: nothing sorts after it within reach */
        return SD_STORE_OK;
    }

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return sd_store_map(st, rc);
    }

    k.mv_data = kbuf;
    k.mv_size = sd_store_key(ws, ws_len, after ? after : "", after_len,
                             kbuf);

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

    if (rc == 0 && after != NULL && k.mv_size == ws_len + 1 + after_len
        && memcmp(k.mv_data, kbuf, k.mv_size) == 0)
    {
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    while (rc == 0) {
        if (k.mv_size < ws_len + 1
            || memcmp(k.mv_data, kbuf, ws_len + 1) != 0)
        {
            break;
        }

        sd_store_decode(&v, &rec);

        if (each(ctx, (char *) k.mv_data + ws_len + 1,
                 k.mv_size - ws_len - 1, &rec) != 0)
        {
            rc = ECANCELED;
            break;
        }

        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    /* a callback that stops the walk is not a store error */
    return sd_store_map(st, (rc == MDB_NOTFOUND || rc == ECANCELED) ? 0 : rc);
}


sd_store_rc_e
sd_store_list(sd_store_t *st, const char *ws, size_t ws_len,
    sd_store_each_pt each, void *ctx)
{
    return sd_store_list_from(st, st->identities, ws, ws_len, NULL, 0,
                              each, ctx);
}


sd_store_rc_e
sd_store_list_after(sd_store_t *st, const char *ws, size_t ws_len,
    const char *after, size_t after_len, sd_store_each_pt each, void *ctx)
{
    return sd_store_list_from(st, st->identities, ws, ws_len, after,
                              after_len, each, ctx);
}


sd_store_rc_e
sd_store_legacy_list(sd_store_t *st, const char *ws, size_t ws_len,
    sd_store_each_pt each, void *ctx)
{
    return sd_store_list_from(st, st->legacy, ws, ws_len, NULL, 0, each,
                              ctx);
}


sd_store_rc_e
sd_store_legacy_list_after(sd_store_t *st, const char *ws, size_t ws_len,
    const char *after, size_t after_len, sd_store_each_pt each, void *ctx)
{
    return sd_store_list_from(st, st->legacy, ws, ws_len, after, after_len,
                              each, ctx);
}


static sd_store_rc_e
sd_store_each_in(sd_store_t *st, MDB_dbi dbi,
    int (*each)(void *ctx, const char *ws, size_t ws_len, const char *id,
                size_t id_len, const sd_record_t *rec), void *ctx)
{
    int          rc;
    char        *sep;
    MDB_txn     *txn;
    MDB_val      k, v;
    MDB_cursor  *cur;
    sd_record_t  rec;

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return sd_store_map(st, rc);
    }

    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);

    while (rc == 0) {
        sep = memchr(k.mv_data, '\0', k.mv_size);

        if (sep != NULL) {
            sd_store_decode(&v, &rec);

            if (each(ctx, k.mv_data, sep - (char *) k.mv_data, sep + 1,
                     (char *) k.mv_data + k.mv_size - sep - 1, &rec) != 0)
            {
                break;
            }
        }

        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    return sd_store_map(st, (rc == MDB_NOTFOUND) ? 0 : rc);
}


sd_store_rc_e
sd_store_each_all(sd_store_t *st,
    int (*each)(void *ctx, const char *ws, size_t ws_len, const char *id,
                size_t id_len, const sd_record_t *rec), void *ctx)
{
    return sd_store_each_in(st, st->identities, each, ctx);
}


sd_store_rc_e
sd_store_legacy_each_all(sd_store_t *st,
    int (*each)(void *ctx, const char *ws, size_t ws_len, const char *id,
                size_t id_len, const sd_record_t *rec), void *ctx)
{
    return sd_store_each_in(st, st->legacy, each, ctx);
}


static int
sd_store_claim_value(char *out, const char *ws, size_t ws_len,
    const char *id, size_t id_len, int state)
{
    size_t  n;

    n = sd_store_key(ws, ws_len, id, id_len, out);
    out[n++] = '\0';
    out[n++] = (state == 1) ? SD_CLAIM_FAILED
               : (state == SD_CLAIM_LEGACY) ? SD_CLAIM_LEGACY
               : SD_CLAIM_ACTIVE;

    return (int) n;
}


/*
 * The claim_expires_at of a row's text (0: none).  The key cannot occur
 * inside a string value: json_dumps() escapes the quote before ":".
 */

static int64_t
sd_store_json_time(const char *json, size_t len, const char *key)
{
    int64_t      t;
    size_t       klen;
    const char  *p, *end, *q;

    klen = strlen(key);
    end = json + len;

    for (p = json; p + klen + 4 < end; p++) {
        p = memchr(p, '"', end - p);
        if (p == NULL || p + klen + 4 >= end) {
            return 0;
        }

        if (memcmp(p + 1, key, klen) == 0 && p[klen + 1] == '"'
            && p[klen + 2] == ':' && p[klen + 3] == '"')
        {
            p += klen + 4;
            q = memchr(p, '"', end - p);

            if (q == NULL || sd_time_parse(p, q - p, &t) != 0) {
                return 0;
            }

            return t;
        }
    }

    return 0;
}


/* 1: the claim value belongs to this workspace and identity */

static int
sd_store_claim_owner(const MDB_val *v, const char *ws, size_t ws_len,
    const char *id, size_t id_len)
{
    const char  *p = v->mv_data;

    if (v->mv_size != ws_len + id_len + 3) {
        return 0;
    }

    return memcmp(p, ws, ws_len) == 0 && p[ws_len] == '\0'
           && memcmp(p + ws_len + 1, id, id_len) == 0;
}


static int
sd_store_claim_blocks(sd_store_t *st, MDB_txn *txn, const MDB_val *v,
    const char *ws, size_t ws_len)
{
    int64_t       t;
    MDB_val       k, rv;
    sd_record_t   rec;
    const char   *p = v->mv_data;

    if (v->mv_size < 2 || p[v->mv_size - 1] == SD_CLAIM_FAILED) {
        /* SES gave up on it: nobody can squat what they cannot verify */
        return 0;
    }

    if (v->mv_size > ws_len && memcmp(p, ws, ws_len) == 0
        && p[ws_len] == '\0')
    {
        return 0;       /* this workspace's own */
    }

    if (p[v->mv_size - 1] == SD_CLAIM_LEGACY) {
        return 1;
    }

    /*
     * A claim that is not verified stops blocking once its time is up
     * (SES's own limits, issue 13), even before the refresher marks the
     * row failed.
     */
    k.mv_data = (void *) p;
    k.mv_size = v->mv_size - 2;

    if (mdb_get(txn, st->identities, &k, &rv) != 0) {
        return 1;
    }

    sd_store_decode(&rv, &rec);

    /* adopted without proof (an older version's row): holds nothing */
    if (sd_store_rec_unproven(&rec)) {
        return 0;
    }

    if (rec.flags & SD_REC_VERIFIED) {
        return 1;
    }

    if (rec.flags & SD_REC_FAILED) {
        return 0;
    }

    t = sd_store_json_time(rec.json, rec.json_len, "claim_expires_at");

    if (t == 0
        && !sd_store_json_has(rec.json, rec.json_len, "\"claim_expires_at\":"))
    {
        /* a row of an older store: SES's longest limit from the add */
        t = sd_store_json_time(rec.json, rec.json_len, "created_at");
        t = t ? t + SD_STORE_CLAIM_MAX : 0;
    }

    return !(t > 0 && t <= (int64_t) time(NULL));
}


/*
 * Lets go of this row's claim: a legacy sender of the same workspace
 * keeps holding the name, otherwise the claim goes (failed: kept, marked
 * failed, so a row that comes back can take it again).
 */

static int
sd_store_release_claim(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, const char *id, size_t id_len, const MDB_val *ck,
    int failed)
{
    int      n;
    char     kbuf[SD_STORE_MAX_KEY + 1], cv[SD_STORE_MAX_KEY + 3];
    MDB_val  k, v, cval;

    k.mv_data = kbuf;
    k.mv_size = sd_store_key(ws, ws_len, id, id_len, kbuf);

    if (mdb_get(txn, st->legacy, &k, &v) == 0) {
        n = sd_store_claim_value(cv, ws, ws_len, id, id_len, SD_CLAIM_LEGACY);

    } else if (failed) {
        n = sd_store_claim_value(cv, ws, ws_len, id, id_len, 1);

    } else {
        return mdb_del(txn, st->claims, (MDB_val *) ck, NULL);
    }

    cval.mv_data = cv;
    cval.mv_size = n;

    return mdb_put(txn, st->claims, (MDB_val *) ck, &cval, 0);
}


/*
 * Returns 0 when the tree is free for this workspace, SD_STORE_CONFLICT
 * when another workspace holds the name, a parent or anything under it,
 * or an LMDB error.
 */

static int
sd_store_check_tree(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, const char *id, size_t id_len, const char *tk,
    size_t tk_len)
{
    (void) id;
    (void) id_len;

    return sd_store_check_tree_by(st, txn, ws, ws_len, tk, tk_len,
                                  sd_store_claim_blocks);
}


/*
 * A claim held for good: a legacy sender, or a row verified for sending
 * (a proven one).  An unverified claim blocks only until it expires.
 */

static int
sd_store_claim_strong(sd_store_t *st, MDB_txn *txn, const MDB_val *v,
    const char *ws, size_t ws_len)
{
    MDB_val       k, rv;
    sd_record_t   rec;
    const char   *p = v->mv_data;

    if (!sd_store_claim_blocks(st, txn, v, ws, ws_len)) {
        return 0;
    }

    if (p[v->mv_size - 1] == SD_CLAIM_LEGACY) {
        return 1;
    }

    k.mv_data = (void *) p;
    k.mv_size = v->mv_size - 2;

    if (mdb_get(txn, st->identities, &k, &rv) != 0) {
        return 0;
    }

    sd_store_decode(&rv, &rec);

    return (rec.flags & SD_REC_VERIFIED) != 0;
}


static int
sd_store_check_tree_by(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, const char *tk, size_t tk_len,
    int (*blocks)(sd_store_t *st, MDB_txn *txn, const MDB_val *v,
                  const char *ws, size_t ws_len))
{
    int          rc;
    size_t       i;
    MDB_val      k, v;
    MDB_cursor  *cur;

    /* parents: every prefix of the tree key that ends a label */

    for (i = 0; i < tk_len; i++) {
        if (tk[i] != '.' || i + 1 == tk_len) {
            continue;
        }

        k.mv_data = (void *) tk;
        k.mv_size = i + 1;

        rc = mdb_get(txn, st->claims, &k, &v);
        if (rc == 0 && blocks(st, txn, &v, ws, ws_len)) {
            return SD_STORE_CONFLICT;
        }

        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }
    }

    /* the name itself and everything under it: one range */

    rc = mdb_cursor_open(txn, st->claims, &cur);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = (void *) tk;
    k.mv_size = tk_len;

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

    while (rc == 0) {
        if (k.mv_size < tk_len || memcmp(k.mv_data, tk, tk_len) != 0) {
            break;
        }

        /* an address key must match exactly, not as a prefix */
        if (memchr(tk, '@', tk_len) && k.mv_size != tk_len) {
            break;
        }

        if (blocks(st, txn, &v, ws, ws_len)) {
            mdb_cursor_close(cur);
            return SD_STORE_CONFLICT;
        }

        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


sd_store_rc_e
sd_store_claim(sd_store_t *st, const char *ws, size_t ws_len, const char *id,
    size_t id_len, const sd_record_t *rec)
{
    return sd_store_claim_max(st, ws, ws_len, id, id_len, rec, 0);
}


/*
 * Counts the keys "<ws>\0..." of one database with a cursor, stopping at
 * "max" (0: all): the cost is one B-tree descent and then one step per
 * row, bounded by the limit (docs/performance.md has the figures).
 */

static int
sd_store_count_range(MDB_txn *txn, MDB_dbi dbi, const char *ws,
    size_t ws_len, size_t max, size_t *n)
{
    int          rc;
    char         kbuf[SD_WORKSPACE_MAX + 2];
    MDB_val      k, v;
    MDB_cursor  *cur;

    *n = 0;

    if (ws_len > SD_WORKSPACE_MAX) {
        return 0;
    }

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }

    memcpy(kbuf, ws, ws_len);
    kbuf[ws_len] = '\0';
    k.mv_data = kbuf;
    k.mv_size = ws_len + 1;

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

    while (rc == 0) {
        if (k.mv_size < ws_len + 1 || memcmp(k.mv_data, kbuf, ws_len + 1) != 0)
        {
            break;
        }

        if (++*n == max) {
            break;
        }

        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


sd_store_rc_e
sd_store_count_ws(sd_store_t *st, const char *ws, size_t ws_len, size_t max,
    size_t *n)
{
    int       rc;
    MDB_txn  *txn;

    rc = sd_store_read_begin(st, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_count_range(txn, st->identities, ws, ws_len, max, n);

    sd_store_read_end(st, txn);

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_claim_max(sd_store_t *st, const char *ws, size_t ws_len,
    const char *id, size_t id_len, const sd_record_t *rec, size_t max)
{
    int       rc, n;
    char      kbuf[SD_STORE_MAX_KEY + 1], tk[SD_STORE_MAX_KEY + 1];
    char      cv[SD_STORE_MAX_KEY + 3];
    size_t    tk_len, count;
    MDB_txn  *txn;
    MDB_val   k, v, ck, cval;

    if (ws_len + 1 + id_len > SD_STORE_MAX_KEY) {
        return SD_STORE_ERROR;
    }

    tk_len = sd_store_tree_key(id, id_len, tk, sizeof(tk));
    if (tk_len == 0) {
        return SD_STORE_ERROR;
    }

    /* LMDB's single writer lock makes check-then-claim atomic */
    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    k.mv_data = kbuf;
    k.mv_size = sd_store_key(ws, ws_len, id, id_len, kbuf);

    rc = mdb_get(txn, st->identities, &k, &v);
    if (rc == 0) {
        mdb_txn_abort(txn);
        return SD_STORE_EXISTS;
    }

    ck.mv_data = tk;
    ck.mv_size = tk_len;

    /* the same tree key already held by this workspace (another case) */
    rc = mdb_get(txn, st->claims, &ck, &cval);
    if (rc == 0 && !sd_store_claim_blocks(st, txn, &cval, ws, ws_len)
        && cval.mv_size > ws_len && memcmp(cval.mv_data, ws, ws_len) == 0
        && ((char *) cval.mv_data)[cval.mv_size - 1] == SD_CLAIM_ACTIVE)
    {
        mdb_txn_abort(txn);
        return SD_STORE_EXISTS;
    }

    rc = sd_store_check_tree(st, txn, ws, ws_len, id, id_len, tk, tk_len);
    if (rc == SD_STORE_CONFLICT) {
        mdb_txn_abort(txn);
        return SD_STORE_CONFLICT;
    }

    if (rc == 0 && max) {
        /* in the write transaction: no other add can slip in between */
        rc = sd_store_count_range(txn, st->identities, ws, ws_len, max,
                                  &count);
        if (rc == 0 && count >= max) {
            mdb_txn_abort(txn);
            return SD_STORE_LIMIT;
        }
    }

    if (rc == 0) {
        n = sd_store_claim_value(cv, ws, ws_len, id, id_len, 0);
        cval.mv_data = cv;
        cval.mv_size = n;
        rc = mdb_put(txn, st->claims, &ck, &cval, 0);
    }

    if (rc == 0) {
        rc = sd_store_put_identity(st, txn, &k, rec);
    }

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

    return sd_store_map(st, rc);
}


/*
 * Updates a row.  A row SES marked failed releases its claim; a row that
 * comes back from failed re-takes it, but only if nobody else took the tree
 * meanwhile (SD_STORE_CONFLICT).
 */

static int
sd_store_put_claimed(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, const char *id, size_t id_len, MDB_val *k,
    const sd_record_t *rec)
{
    int       rc, n, failed;
    char      tk[SD_STORE_MAX_KEY + 1], cv[SD_STORE_MAX_KEY + 3];
    size_t    tk_len;
    MDB_val   ck, cval;

    tk_len = sd_store_tree_key(id, id_len, tk, sizeof(tk));
    failed = (rec->flags & SD_REC_FAILED) != 0;

    ck.mv_data = tk;
    ck.mv_size = tk_len;

    rc = mdb_get(txn, st->claims, &ck, &cval);

    if (rc == 0 && !sd_store_claim_owner(&cval, ws, ws_len, id, id_len)) {
        if (failed) {
            /* someone else holds the name now: leave their claim alone */
            return sd_store_put_identity(st, txn, k, rec);
        }

        if (sd_store_claim_blocks(st, txn, &cval, ws, ws_len)) {
            return SD_STORE_CONFLICT;
        }
    }

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    if (failed) {
        rc = sd_store_release_claim(st, txn, ws, ws_len, id, id_len, &ck, 1);
        if (rc != 0) {
            return rc;
        }

        return sd_store_put_identity(st, txn, k, rec);
    }

    rc = sd_store_check_tree(st, txn, ws, ws_len, id, id_len, tk, tk_len);
    if (rc != 0) {
        return rc;
    }

    n = sd_store_claim_value(cv, ws, ws_len, id, id_len, 0);
    cval.mv_data = cv;
    cval.mv_size = n;

    rc = mdb_put(txn, st->claims, &ck, &cval, 0);
    if (rc != 0) {
        return rc;
    }

    return sd_store_put_identity(st, txn, k, rec);
}


static int
sd_store_replace_cb(void *ctx, const sd_record_t *cur, sd_record_t *out)
{
    (void) cur;

    *out = *(const sd_record_t *) ctx;

    return 0;
}


sd_store_rc_e
sd_store_update(sd_store_t *st, const char *ws, size_t ws_len,
    const char *id, size_t id_len, const sd_record_t *rec)
{
    return sd_store_modify(st, ws, ws_len, id, id_len, sd_store_replace_cb,
                           NULL, (void *) rec);
}


/*
 * "modify" may hand back pointers into the current value, which lives in
 * the map: writing (the claim, the schedule, the row itself) can move or
 * reuse the page it sits on, so such parts are copied out first.
 */

static int
sd_store_detach(const MDB_val *v, sd_record_t *out, char **copy)
{
    char       *p;
    uintptr_t   lo, hi, name, json;

    *copy = NULL;

    lo = (uintptr_t) v->mv_data;
    hi = lo + v->mv_size;
    name = (uintptr_t) out->sender_name;
    json = (uintptr_t) out->json;

    if (!(name >= lo && name < hi) && !(json >= lo && json < hi)) {
        return 0;
    }

    p = malloc(out->sender_name_len + out->json_len + 1);
    if (p == NULL) {
        return ENOMEM;
    }

    memcpy(p, out->sender_name, out->sender_name_len);
    memcpy(p + out->sender_name_len, out->json, out->json_len);
    out->sender_name = p;
    out->json = p + out->sender_name_len;
    *copy = p;

    return 0;
}


/*
 * One row's read-modify-write inside an open write transaction: 0 when
 * written or left alone (*skipped), MDB_NOTFOUND when the row is gone,
 * SD_STORE_CONFLICT (nothing written), or an LMDB error that dooms the
 * transaction.
 */

static int
sd_store_modify_row(sd_store_t *st, MDB_txn *txn, sd_store_change_t *ch,
    sd_store_modify_pt modify, void (*done)(void *ctx))
{
    int           rc;
    char          kbuf[SD_STORE_MAX_KEY + 1], *copy;
    MDB_val       k, v;
    sd_record_t   cur, out;

    ch->skipped = 0;

    if (ch->ws_len + 1 + ch->id_len > SD_STORE_MAX_KEY) {
        rc = MDB_NOTFOUND;
        goto finish;
    }

    k.mv_data = kbuf;
    k.mv_size = sd_store_key(ch->ws, ch->ws_len, ch->id, ch->id_len, kbuf);

    /* a row deleted meanwhile is not brought back */
    rc = mdb_get(txn, st->identities, &k, &v);
    if (rc != 0) {
        goto finish;
    }

    sd_store_decode(&v, &cur);

    if (modify(ch->ctx, &cur, &out) != 0) {
        ch->skipped = 1;
        goto finish;
    }

    rc = sd_store_detach(&v, &out, &copy);

    if (rc == 0) {
        rc = sd_store_put_claimed(st, txn, ch->ws, ch->ws_len, ch->id,
                                  ch->id_len, &k, &out);
        free(copy);
    }

finish:

    if (done) {
        done(ch->ctx);
    }

    return rc;
}


sd_store_rc_e
sd_store_modify(sd_store_t *st, const char *ws, size_t ws_len,
    const char *id, size_t id_len, sd_store_modify_pt modify,
    void (*done)(void *ctx), void *ctx)
{
    int                 rc;
    MDB_txn            *txn;
    sd_store_change_t   ch;

    ch.ws = ws;
    ch.ws_len = ws_len;
    ch.id = id;
    ch.id_len = id_len;
    ch.ctx = ctx;

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_modify_row(st, txn, &ch, modify, done);

    if (rc == 0 && !ch.skipped) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

    if (rc == SD_STORE_CONFLICT) {
        return SD_STORE_CONFLICT;
    }

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_modify_many(sd_store_t *st, sd_store_change_t *changes, size_t n,
    sd_store_modify_pt modify, void (*done)(void *ctx), unsigned flags)
{
    int      rc;
    size_t   i, written;
    MDB_txn *txn;

    if (n == 0) {
        return SD_STORE_OK;
    }

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    written = 0;
    st->redoable = (flags & SD_STORE_REDOABLE) != 0;

    for (i = 0; i < n; i++) {
        rc = sd_store_modify_row(st, txn, &changes[i], modify, done);

        switch (rc) {

        case 0:
            changes[i].rc = SD_STORE_OK;
            written += !changes[i].skipped;
            continue;

        case MDB_NOTFOUND:
            changes[i].rc = SD_STORE_NOT_FOUND;
            continue;

        case SD_STORE_CONFLICT:
            changes[i].rc = SD_STORE_CONFLICT;
            continue;
        }

        /* the transaction is unusable: nothing of this batch is kept */
        st->redoable = 0;
        mdb_txn_abort(txn);
        goto failed;
    }

    st->redoable = 0;

    if (written == 0) {
        mdb_txn_abort(txn);
        return SD_STORE_OK;
    }

    rc = sd_store_commit(st, txn, flags & SD_STORE_REDOABLE);

    if (rc == 0) {
        return SD_STORE_OK;
    }

failed:

    for (i = 0; i < n; i++) {
        changes[i].rc = sd_store_map(st, rc);
    }

    return sd_store_map(st, rc);
}


/*
 * The name's claim against this workspace and identity: "held" 1: 1 when
 * the claim is theirs and not a failed one; "held" 0: 1 when another
 * holds it (failed or not: the identity in SES is what their row points
 * at).  0 when there is no claim, or on an error.
 */

static int
sd_store_claim_is(sd_store_t *st, const char *ws, size_t ws_len,
    const char *id, size_t id_len, int held)
{
    int       rc, owner, yes;
    char      tk[SD_STORE_MAX_KEY + 1];
    size_t    tk_len;
    MDB_txn  *txn;
    MDB_val   k, v;

    tk_len = sd_store_tree_key(id, id_len, tk, sizeof(tk));
    if (tk_len == 0 || sd_store_begin(st, MDB_RDONLY, &txn) != 0) {
        return 0;
    }

    k.mv_data = tk;
    k.mv_size = tk_len;

    rc = mdb_get(txn, st->claims, &k, &v);
    yes = 0;

    if (rc == 0) {
        owner = sd_store_claim_owner(&v, ws, ws_len, id, id_len);
        yes = held ? (owner
                      && ((char *) v.mv_data)[v.mv_size - 1]
                         != SD_CLAIM_FAILED)
                   : !owner;
    }

    mdb_txn_abort(txn);

    return yes;
}


int
sd_store_claimed_by_other(sd_store_t *st, const char *ws, size_t ws_len,
    const char *id, size_t id_len)
{
    return sd_store_claim_is(st, ws, ws_len, id, id_len, 0);
}


int
sd_store_tree_held(sd_store_t *st, const char *ws, size_t ws_len,
    const char *id, size_t id_len)
{
    int       rc;
    char      tk[SD_STORE_MAX_KEY + 1];
    size_t    tk_len;
    MDB_txn  *txn;

    tk_len = sd_store_tree_key(id, id_len, tk, sizeof(tk));
    if (tk_len == 0 || sd_store_begin(st, MDB_RDONLY, &txn) != 0) {
        return 0;
    }

    /* the add's own check, without writing anything */
    rc = sd_store_check_tree(st, txn, ws, ws_len, id, id_len, tk, tk_len);

    if (rc == SD_STORE_CONFLICT) {
        rc = sd_store_check_tree_by(st, txn, ws, ws_len, tk, tk_len,
                                    sd_store_claim_strong);
        rc = (rc == SD_STORE_CONFLICT) ? 2 : 1;

    } else {
        rc = 0;
    }

    mdb_txn_abort(txn);

    return rc;
}


/*
 * Removes an identity row inside an open write transaction with its
 * schedule entry and its claim (when this row's, and not held by the
 * workspace's legacy sender): 0, MDB_NOTFOUND, or an LMDB error.
 */

static int
sd_store_delete_row(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, const char *id, size_t id_len)
{
    int          rc;
    char         kbuf[SD_STORE_MAX_KEY + 1], tk[SD_STORE_MAX_KEY + 1];
    size_t       tk_len;
    MDB_val      k, ck, cval;
    sd_record_t  cur;

    tk_len = sd_store_tree_key(id, id_len, tk, sizeof(tk));

    k.mv_data = kbuf;
    k.mv_size = sd_store_key(ws, ws_len, id, id_len, kbuf);

    rc = mdb_get(txn, st->identities, &k, &cval);
    if (rc != 0) {
        return rc;
    }

    sd_store_decode(&cval, &cur);
    sd_store_tally_note(st, 0, 1, cur.flags, NULL);
    rc = sd_store_events_note(st, txn, &k, &cur, NULL);

    if (rc == 0) {
        rc = sd_store_reschedule(st, txn, &k, cur.next_check, 0);
    }

    if (rc == 0) {
        rc = mdb_del(txn, st->identities, &k, NULL);
    }

    if (rc == 0) {
        rc = sd_store_outbox_note(st, txn, SD_STORE_KIND_ROW,
                                  SD_STORE_OP_DELETE, &k, NULL);
    }

    if (rc == 0 && tk_len) {
        ck.mv_data = tk;
        ck.mv_size = tk_len;

        if (mdb_get(txn, st->claims, &ck, &cval) == 0
            && sd_store_claim_owner(&cval, ws, ws_len, id, id_len)
            && ((char *) cval.mv_data)[cval.mv_size - 1] != SD_CLAIM_LEGACY)
        {
            rc = sd_store_release_claim(st, txn, ws, ws_len, id, id_len,
                                        &ck, 0);
        }
    }

    return rc;
}


sd_store_rc_e
sd_store_delete(sd_store_t *st, const char *ws, size_t ws_len,
    const char *id, size_t id_len)
{
    int       rc;
    MDB_txn  *txn;

    if (ws_len + 1 + id_len > SD_STORE_MAX_KEY) {
        return SD_STORE_NOT_FOUND;
    }

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_delete_row(st, txn, ws, ws_len, id, id_len);

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

    return sd_store_map(st, rc);
}


/*
 * PUT /legacy, first: every entry against the other workspaces' claims;
 * *conflicts counts the entries that lie under one (conflict[i] set).
 * -1: an entry cannot be a key.
 */
static int
sd_store_legacy_check(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, size_t n, const char **ids, const size_t *id_lens,
    int *conflict, size_t *conflicts)
{
    int      rc;
    char     tk[SD_STORE_MAX_KEY + 1];
    size_t   i, tk_len;

    *conflicts = 0;

    for (i = 0; i < n; i++) {
        tk_len = sd_store_tree_key(ids[i], id_lens[i], tk, sizeof(tk));
        if (tk_len == 0) {
            return -1;
        }

        rc = sd_store_check_tree(st, txn, ws, ws_len, ids[i], id_lens[i],
                                 tk, tk_len);
        if (rc == SD_STORE_CONFLICT) {
            (*conflicts)++;

            if (conflict) {
                conflict[i] = 1;
            }

        } else if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


/*
 * In cluster mode PUT /legacy tells etcd only what changed: the new list
 * sorted by address, so each old entry is looked up in it (gone: a
 * delete in the outbox; the same record: no entry at all).
 */

typedef struct {
    const char             *id;
    size_t                  len;
    size_t                  i;
} sd_store_lent_t;

typedef struct {
    sd_store_lent_t        *sorted;
    size_t                  n;
    const sd_record_t      *recs;
    unsigned char          *same;       /* per new entry */
} sd_store_lplan_t;


static int
sd_store_lent_cmp(const void *a, const void *b)
{
    int                     c;
    const sd_store_lent_t  *x = a, *y = b;

    c = memcmp(x->id, y->id, x->len < y->len ? x->len : y->len);

    return c ? c : (x->len > y->len) - (x->len < y->len);
}


/* 1: the stored value v is exactly what rec would write */

static int
sd_store_rec_same(const MDB_val *v, const sd_record_t *rec)
{
    sd_record_t  cur;

    if (v->mv_size != SD_REC_HEADER + rec->sender_name_len + rec->json_len) {
        return 0;
    }

    sd_store_decode(v, &cur);

    return cur.json != NULL && cur.flags == (rec->flags & 0xff)
           && cur.next_check == rec->next_check
           && cur.sender_name_len == rec->sender_name_len
           && memcmp(cur.sender_name, rec->sender_name,
                     rec->sender_name_len) == 0
           && memcmp(cur.json, rec->json, rec->json_len) == 0;
}


/* 0, ENOMEM; plan->sorted stays NULL when no outbox entry is written */

static int
sd_store_lplan_init(sd_store_t *st, sd_store_lplan_t *plan, size_t n,
    const char **ids, const size_t *id_lens, const sd_record_t *recs)
{
    size_t  i;

    memset(plan, 0, sizeof(sd_store_lplan_t));

    if (!st->outbox || st->applying || n == 0) {
        return 0;
    }

    plan->sorted = malloc(n * sizeof(sd_store_lent_t));
    plan->same = calloc(n, 1);

    if (plan->sorted == NULL || plan->same == NULL) {
        free(plan->sorted);
        free(plan->same);
        plan->sorted = NULL;
        return ENOMEM;
    }

    for (i = 0; i < n; i++) {
        plan->sorted[i].id = ids[i];
        plan->sorted[i].len = id_lens[i];
        plan->sorted[i].i = i;
    }

    qsort(plan->sorted, n, sizeof(sd_store_lent_t), sd_store_lent_cmp);
    plan->n = n;
    plan->recs = recs;

    return 0;
}


/*
 * An old entry (key k = "<ws>\0<address>", a copy; value v, read before
 * any write) about to go: kept in the new list (marked same when
 * unchanged) or a delete in the outbox.
 */

static int
sd_store_lplan_old(sd_store_t *st, MDB_txn *txn, sd_store_lplan_t *plan,
    size_t ws_len, const MDB_val *k, const MDB_val *v)
{
    sd_store_lent_t   want, *found;

    if (plan == NULL || plan->sorted == NULL) {
        return sd_store_outbox_note(st, txn, SD_STORE_KIND_LEGACY,
                                    SD_STORE_OP_DELETE, k, NULL);
    }

    want.id = (const char *) k->mv_data + ws_len + 1;
    want.len = k->mv_size - ws_len - 1;

    found = bsearch(&want, plan->sorted, plan->n, sizeof(sd_store_lent_t),
                    sd_store_lent_cmp);

    if (found) {
        plan->same[found->i] = sd_store_rec_same(v, &plan->recs[found->i]);
        return 0;
    }

    return sd_store_outbox_note(st, txn, SD_STORE_KIND_LEGACY,
                                SD_STORE_OP_DELETE, k, NULL);
}


/* a legacy row's claim goes with it, if a legacy one of this workspace */

static int
sd_store_legacy_unclaim(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, const char *id, size_t id_len)
{
    int      rc;
    char     tk[SD_STORE_MAX_KEY + 1];
    size_t   tk_len;
    MDB_val  ck, cval;

    tk_len = sd_store_tree_key(id, id_len, tk, sizeof(tk));
    if (tk_len == 0) {
        return 0;
    }

    ck.mv_data = tk;
    ck.mv_size = tk_len;

    rc = mdb_get(txn, st->claims, &ck, &cval);

    if (rc == 0 && sd_store_claim_owner(&cval, ws, ws_len, id, id_len)
        && ((char *) cval.mv_data)[cval.mv_size - 1] == SD_CLAIM_LEGACY)
    {
        return mdb_del(txn, st->claims, &ck, NULL);
    }

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


/* then the workspace's old list goes, with its legacy claims */
static int
sd_store_legacy_drop(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, sd_store_lplan_t *plan)
{
    int          rc;
    char         kbuf[SD_STORE_MAX_KEY + 1];
    MDB_val      k, kc, v;
    MDB_cursor  *cur;

    rc = mdb_cursor_open(txn, st->legacy, &cur);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = kbuf;
    k.mv_size = sd_store_key(ws, ws_len, "", 0, kbuf);

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

    while (rc == 0) {
        if (k.mv_size < ws_len + 1
            || memcmp(k.mv_data, ws, ws_len) != 0
            || ((char *) k.mv_data)[ws_len] != '\0')
        {
            break;
        }

        if (v.mv_size > 1) {
            sd_store_tally_note(st, 1, 1, ((unsigned char *) v.mv_data)[1],
                                NULL);
        }

        /* a copy: the key lives in a page the writes below may change */
        memcpy(kbuf, k.mv_data, k.mv_size);
        kc.mv_data = kbuf;
        kc.mv_size = k.mv_size;

        rc = sd_store_lplan_old(st, txn, plan, ws_len, &kc, &v);
        if (rc != 0) {
            break;
        }

        /* its claim, if a legacy one (a migrated row keeps its own) */
        rc = sd_store_legacy_unclaim(st, txn, ws, ws_len, kbuf + ws_len + 1,
                                     kc.mv_size - ws_len - 1);
        if (rc != 0) {
            break;
        }

        rc = mdb_cursor_del(cur, 0);
        if (rc != 0) {
            break;
        }

        rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
    }

    mdb_cursor_close(cur);

    if (rc != 0 && rc != MDB_NOTFOUND && rc != EINVAL) {
        return rc;
    }

    return 0;
}


/*
 * A legacy row's claim, kept if this workspace's managed row holds it:
 * another workspace's is replaced (*replaced set; PUT /legacy checked
 * the tree before, a row applied from etcd is the truth).
 */

static int
sd_store_legacy_claim(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, const char *id, size_t id_len, int *replaced)
{
    int       rc;
    char      tk[SD_STORE_MAX_KEY + 1], cv[SD_STORE_MAX_KEY + 3];
    size_t    tk_len;
    MDB_val   ck, cval;

    tk_len = sd_store_tree_key(id, id_len, tk, sizeof(tk));
    if (tk_len == 0) {
        return 0;
    }

    ck.mv_data = tk;
    ck.mv_size = tk_len;

    rc = mdb_get(txn, st->claims, &ck, &cval);

    if (rc == 0 && cval.mv_size > ws_len
        && memcmp(cval.mv_data, ws, ws_len) == 0
        && ((char *) cval.mv_data)[ws_len] == '\0')
    {
        if (((char *) cval.mv_data)[cval.mv_size - 1] == SD_CLAIM_ACTIVE) {
            return 0;
        }

    } else if (rc == 0 && replaced
               && ((char *) cval.mv_data)[cval.mv_size - 1] != SD_CLAIM_FAILED)
    {
        *replaced = 1;
    }

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    cval.mv_data = cv;
    cval.mv_size = sd_store_claim_value(cv, ws, ws_len, id, id_len,
                                        SD_CLAIM_LEGACY);

    return mdb_put(txn, st->claims, &ck, &cval, 0);
}


/* and the new list is written, each entry with a claim of its own */
static int
sd_store_legacy_write(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, size_t n, const char **ids, const size_t *id_lens,
    const sd_record_t *recs, const sd_store_lplan_t *plan)
{
    int       rc;
    char      kbuf[SD_STORE_MAX_KEY + 1];
    size_t    i;
    MDB_val   k;

    for (i = 0; i < n; i++) {
        k.mv_data = kbuf;
        k.mv_size = sd_store_key(ws, ws_len, ids[i], id_lens[i], kbuf);
        rc = sd_store_put_record(txn, st->legacy, &k, &recs[i]);

        if (rc != 0) {
            return rc;
        }

        sd_store_tally_note(st, 1, 0, 0, &recs[i]);

        if (plan->same == NULL || !plan->same[i]) {
            rc = sd_store_outbox_note(st, txn, SD_STORE_KIND_LEGACY,
                                      SD_STORE_OP_PUT, &k, &recs[i]);
            if (rc != 0) {
                return rc;
            }
        }

        rc = sd_store_legacy_claim(st, txn, ws, ws_len, ids[i], id_lens[i],
                                   NULL);
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


sd_store_rc_e
sd_store_legacy_replace(sd_store_t *st, const char *ws, size_t ws_len,
    size_t n, const char **ids, const size_t *id_lens,
    const sd_record_t *recs, int *conflict)
{
    return sd_store_legacy_replace_as(st, ws, ws_len, n, ids, id_lens, recs,
                                      conflict, 1);
}


sd_store_rc_e
sd_store_legacy_replace_as(sd_store_t *st, const char *ws, size_t ws_len,
    size_t n, const char **ids, const size_t *id_lens,
    const sd_record_t *recs, int *conflict, int check)
{
    int               rc;
    size_t            i, conflicts;
    MDB_txn          *txn;
    sd_store_lplan_t  plan;

    if (ws_len + 1 > SD_STORE_MAX_KEY) {
        return SD_STORE_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (ws_len + 1 + id_lens[i] > SD_STORE_MAX_KEY) {
            return SD_STORE_ERROR;
        }
    }

    if (sd_store_lplan_init(st, &plan, n, ids, id_lens, recs) != 0) {
        return SD_STORE_ERROR;
    }

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        goto done;
    }

    /* nothing is changed when one entry lies under another's claim */
    conflicts = 0;
    rc = check ? sd_store_legacy_check(st, txn, ws, ws_len, n, ids, id_lens,
                                       conflict, &conflicts)
               : 0;

    if (rc == 0 && conflicts) {
        mdb_txn_abort(txn);
        free(plan.sorted);
        free(plan.same);
        return SD_STORE_CONFLICT;
    }

    if (rc == 0) {
        rc = sd_store_legacy_drop(st, txn, ws, ws_len, &plan);
    }

    if (rc == 0) {
        rc = sd_store_legacy_write(st, txn, ws, ws_len, n, ids, id_lens,
                                   recs, &plan);
    }

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

done:

    free(plan.sorted);
    free(plan.same);

    if (rc == -1) {
        return SD_STORE_ERROR;
    }

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_due(sd_store_t *st, int64_t now, size_t max,
    int (*each)(void *ctx, const char *ws, size_t ws_len, const char *id,
                size_t id_len, unsigned flags), void *ctx)
{
    int          rc, i;
    size_t       n;
    uint64_t     t;
    MDB_txn     *txn;
    MDB_val      k, v, rk, rv;
    const char  *key, *sep;
    MDB_cursor  *cur;
    sd_record_t  rec;

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = mdb_cursor_open(txn, st->due, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return sd_store_map(st, rc);
    }

    n = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);

    while (rc == 0 && n < max) {
        key = k.mv_data;

        if (k.mv_size < 10) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }

        for (t = 0, i = 0; i < 8; i++) {
            t = (t << 8) | (unsigned char) key[i];
        }

        if ((int64_t) t > now) {
            break;
        }

        sep = memchr(key + 8, '\0', k.mv_size - 8);

        if (sep != NULL) {
            n++;

            /* the row's header says what a List answer could settle */
            rk.mv_data = (char *) key + 8;
            rk.mv_size = k.mv_size - 8;
            rec.flags = 0;

            if (mdb_get(txn, st->identities, &rk, &rv) == 0) {
                sd_store_decode(&rv, &rec);
            }

            if (each(ctx, key + 8, sep - key - 8, sep + 1,
                     key + k.mv_size - sep - 1, rec.flags) != 0)
            {
                break;
            }
        }

        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    return sd_store_map(st, (rc == MDB_NOTFOUND) ? 0 : rc);
}


/* the number of entries of one database, in a read transaction */

static sd_store_rc_e
sd_store_entries(sd_store_t *st, MDB_dbi dbi, size_t *n)
{
    int       rc;
    MDB_txn  *txn;
    MDB_stat  stat;

    *n = 0;

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = mdb_stat(txn, dbi, &stat);
    if (rc == 0) {
        *n = stat.ms_entries;
    }

    mdb_txn_abort(txn);

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_count(sd_store_t *st, size_t *n)
{
    return sd_store_entries(st, st->identities, n);
}


/*
 * Every worker asks for the lease on every tick, but most ticks change
 * nothing: another worker holds it, or it is ours with time to spare.
 * Those are answered from a read transaction, without the write lock
 * (which may be held through a commit's disk sync by another process).
 * The owner renews when half of "ttl" is left.  A renewal lost in a power
 * cut names a pid and an expiry that mean nothing after a restart, so it
 * commits without the meta-page sync.
 */

#define SD_STORE_LEASE_KEY  "refresher_lease"


static int
sd_store_lease_read(MDB_txn *txn, MDB_dbi meta, int64_t val[2])
{
    MDB_val  k, v;

    k.mv_data = SD_STORE_LEASE_KEY;
    k.mv_size = sizeof(SD_STORE_LEASE_KEY) - 1;

    if (mdb_get(txn, meta, &k, &v) != 0 || v.mv_size != 2 * sizeof(int64_t)) {
        return 0;
    }

    memcpy(val, v.mv_data, 2 * sizeof(int64_t));

    return 1;
}


sd_store_rc_e
sd_store_lease(sd_store_t *st, int64_t owner, int64_t now, int64_t ttl,
    int *acquired)
{
    int       rc, held;
    int64_t   val[2];
    MDB_txn  *txn;
    MDB_val   k, v;

    *acquired = 0;

    rc = sd_store_read_begin(st, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    held = sd_store_lease_read(txn, st->meta, val);
    sd_store_read_end(st, txn);

    if (held && val[0] != owner && val[1] > now) {
        return SD_STORE_OK;             /* another worker's */
    }

    if (held && val[0] == owner && ttl > 0 && val[1] - now > ttl / 2) {
        *acquired = 1;                  /* ours, no need to renew yet */
        return SD_STORE_OK;
    }

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    /* again under the write lock: another worker may have been quicker */
    if (sd_store_lease_read(txn, st->meta, val)
        && val[0] != owner && val[1] > now)
    {
        mdb_txn_abort(txn);
        return SD_STORE_OK;
    }

    val[0] = owner;
    val[1] = now + ttl;

    k.mv_data = SD_STORE_LEASE_KEY;
    k.mv_size = sizeof(SD_STORE_LEASE_KEY) - 1;
    v.mv_data = val;
    v.mv_size = sizeof(val);

    rc = mdb_put(txn, st->meta, &k, &v, 0);

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 1);

    } else {
        mdb_txn_abort(txn);
    }

    if (rc == 0) {
        *acquired = 1;
    }

    return sd_store_map(st, rc);
}


/* the id of the last committed write transaction: how many commits */

sd_store_rc_e
sd_store_last_txn(sd_store_t *st, size_t *id)
{
    int           rc;
    MDB_envinfo   info;

    rc = mdb_env_info(st->env, &info);
    *id = (rc == 0) ? info.me_last_txnid : 0;

    return sd_store_map(st, rc);
}


static void
sd_store_resolve_name(sd_resolve_t *res, const sd_record_t *rec)
{
    size_t  n;

    n = rec->sender_name_len;
    if (n > sizeof(res->sender_name)) {
        n = 0;
    }

    memcpy(res->sender_name, rec->sender_name, n);
    res->sender_name_len = n;
}


static int
sd_store_json_has(const char *json, size_t len, const char *needle)
{
    size_t       n;
    const char  *p, *end;

    n = strlen(needle);
    end = json + len;

    for (p = json; (size_t) (end - p) >= n; p++) {
        p = memchr(p, needle[0], end - p);
        if (p == NULL || (size_t) (end - p) < n) {
            return 0;
        }

        if (memcmp(p, needle, n) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * Verified for this workspace: SES's status, and a proof of ownership.
 * A row an older module adopted has the verified flag in its header but
 * "origin":"adopted" and no "ownership" in its text: it never counts.
 */

static int
sd_store_rec_unproven(const sd_record_t *rec)
{
    if (rec->flags & SD_REC_UNPROVEN) {
        return 1;
    }

    return (rec->flags & SD_REC_VERIFIED)
           && sd_store_json_has(rec->json, rec->json_len,
                                "\"origin\":\"adopted\"")
           && !sd_store_json_has(rec->json, rec->json_len,
                                 "\"ownership\":\"");
}


/*
 * One read transaction, no allocation: a verified address of the
 * workspace, then a verified domain of it covering the address (its own
 * domain or a parent, as SES lets a verified domain send from every
 * subdomain), then a grandfathered legacy sender.
 */

sd_store_rc_e
sd_store_resolve(sd_store_t *st, const char *ws, size_t ws_len,
    const char *addr, size_t addr_len, int managed_allowed, sd_resolve_t *res)
{
    int           rc, registered, unproven;
    char          kbuf[SD_STORE_MAX_KEY + 1];
    size_t        klen;
    MDB_txn      *txn;
    MDB_val       k, v;
    const char   *at, *dom, *end;
    sd_record_t   rec;

    res->source = SD_RESOLVE_NONE;
    res->sender_name_len = 0;

    if (ws_len + 1 + addr_len > SD_STORE_MAX_KEY) {
        return SD_STORE_OK;
    }

    at = memchr(addr, '@', addr_len);
    if (at == NULL) {
        return SD_STORE_OK;
    }

    rc = sd_store_read_begin(st, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    registered = 0;
    unproven = 0;
    k.mv_data = kbuf;
    k.mv_size = sd_store_key(ws, ws_len, addr, addr_len, kbuf);

    rc = mdb_get(txn, st->identities, &k, &v);
    if (rc == 0) {
        registered = 1;
        sd_store_decode(&v, &rec);

        if (sd_store_rec_unproven(&rec)) {
            unproven = 1;

        } else if (managed_allowed && (rec.flags & SD_REC_VERIFIED)) {
            res->source = SD_RESOLVE_ADDRESS;
            sd_store_resolve_name(res, &rec);
            goto done;
        }
    }

    end = addr + addr_len;

    for (dom = at + 1; dom < end; ) {
        const char  *dot;

        dot = memchr(dom, '.', end - dom);
        if (dot == NULL) {
            break;      /* a single label is a TLD, never an identity */
        }

        klen = sd_store_key(ws, ws_len, dom, end - dom, kbuf);
        k.mv_size = klen;

        rc = mdb_get(txn, st->identities, &k, &v);
        if (rc == 0) {
            sd_store_decode(&v, &rec);

            if (rec.flags & SD_REC_DOMAIN) {
                registered = 1;

                if (sd_store_rec_unproven(&rec)) {
                    unproven = 1;

                } else if (managed_allowed
                           && (rec.flags & SD_REC_VERIFIED))
                {
                    res->source = SD_RESOLVE_DOMAIN;
                    sd_store_resolve_name(res, &rec);
                    goto done;
                }
            }
        }

        dom = dot + 1;
    }

    k.mv_size = sd_store_key(ws, ws_len, addr, addr_len, kbuf);

    rc = mdb_get(txn, st->legacy, &k, &v);
    if (rc == 0) {
        sd_store_decode(&v, &rec);
        res->source = SD_RESOLVE_LEGACY;
        sd_store_resolve_name(res, &rec);
        goto done;
    }

    if (unproven) {
        res->source = SD_RESOLVE_UNPROVEN;

    } else if (registered) {
        res->source = SD_RESOLVE_UNVERIFIED;
    }

done:

    sd_store_read_end(st, txn);
    return SD_STORE_OK;
}


/* ---- the tally: identities by kind and state ---------------------------- */


static void
sd_store_tally_slot(int legacy, unsigned flags, size_t *kind, size_t *state)
{
    *kind = legacy ? SD_TALLY_LEGACY
                   : (flags & SD_REC_DOMAIN) ? SD_TALLY_DOMAIN
                                             : SD_TALLY_EMAIL;

    *state = (flags & SD_REC_FAILED) ? SD_TALLY_FAILED
             : (flags & SD_REC_VERIFIED) ? SD_TALLY_VERIFIED
                                         : SD_TALLY_PENDING;
}


static void
sd_store_tally_note(sd_store_t *st, int legacy, int had, unsigned old,
    const sd_record_t *rec)
{
    size_t  k, s;

    if (had) {
        sd_store_tally_slot(legacy, old, &k, &s);
        st->delta.n[k][s]--;
    }

    if (rec) {
        sd_store_tally_slot(legacy, rec->flags, &k, &s);
        st->delta.n[k][s]++;

        if (had && (old & SD_REC_VERIFIED) && !(rec->flags & SD_REC_VERIFIED))
        {
            st->delta.lost++;
        }
    }
}


void
sd_store_set_tally(sd_store_t *st, sd_store_tally_pt tally, void *ctx)
{
    st->tally = tally;
    st->tally_ctx = ctx;
}


static int
sd_store_tally_db(MDB_txn *txn, MDB_dbi dbi, int legacy, sd_store_tally_t *t)
{
    int          rc;
    size_t       k, s;
    MDB_val      key, v;
    MDB_cursor  *cur;

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_get(cur, &key, &v, MDB_FIRST);

    while (rc == 0) {
        if (v.mv_size > 1) {
            sd_store_tally_slot(legacy, ((unsigned char *) v.mv_data)[1],
                                &k, &s);
            t->n[k][s]++;
        }

        rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


sd_store_rc_e
sd_store_tally_count(sd_store_t *st, sd_store_tally_pt set, void *ctx)
{
    int               rc;
    MDB_txn          *txn;
    sd_store_tally_t  t;

    memset(&t, 0, sizeof(sd_store_tally_t));

    /* the write lock: no other process commits (and tells) meanwhile */
    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_tally_db(txn, st->identities, 0, &t);

    if (rc == 0) {
        rc = sd_store_tally_db(txn, st->legacy, 1, &t);
    }

    if (rc == 0) {
        set(ctx, &t);
    }

    mdb_txn_abort(txn);

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_usage(sd_store_t *st, sd_store_usage_t *u)
{
    int          rc;
    MDB_stat     stat;
    MDB_envinfo  info;

    rc = mdb_env_info(st->env, &info);
    if (rc == 0) {
        rc = mdb_env_stat(st->env, &stat);
    }

    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    u->map_size = info.me_mapsize;
    u->page_size = stat.ms_psize;
    u->pages_used = info.me_last_pgno + 1;

    return SD_STORE_OK;
}


sd_store_rc_e
sd_store_due_stats(sd_store_t *st, int64_t now, size_t max, size_t *due,
    int64_t *oldest)
{
    int          rc;
    size_t       n;
    MDB_txn     *txn;
    MDB_val      k, v;
    MDB_cursor  *cur;

    *due = 0;
    *oldest = 0;

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = mdb_cursor_open(txn, st->due, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return sd_store_map(st, rc);
    }

    n = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);

    /* keys start with the due time, big-endian: oldest first */
    while (rc == 0 && n < max && k.mv_size >= 8) {
        int64_t  t = 0;
        size_t   i;

        for (i = 0; i < 8; i++) {
            t = (t << 8) | ((unsigned char *) k.mv_data)[i];
        }

        if (t > now) {
            break;
        }

        if (n == 0) {
            *oldest = t;
        }

        n++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    *due = n;

    return SD_STORE_OK;
}


/* ---- status-change events ---------------------------------------------- */

/*
 * The queue, three databases kept in step by every write:
 *
 *   "evq"    BE32 target, BE64 event number -> LE64 next attempt, LE64
 *            created, LE32 attempts, LE16 length of the identity key, the
 *            identity key (workspace NUL identity), the body;
 *   "evid"   BE32 target, identity key, NUL, BE64 event number -> nothing:
 *            each identity's events in the order they were made;
 *   "evdue"  BE32 target, BE64 next attempt, BE64 event number -> the
 *            identity key: one entry per identity with events queued, its
 *            oldest, the only one that may go, sorted by when it is due.
 *
 * So a target's events go out in order per identity, and an event that
 * keeps failing (a receiver refusing one workspace's events) holds back
 * only the later events of its own identity, never another workspace's.
 * The event counter is meta "event_seq".  The queue of the version before
 * (one "events" database, in order per target) is moved into these at
 * every open, under one empty identity key, so its events keep their
 * order; the database stays, empty, for old workers still running.
 */

#define SD_EV_HEADER       22
#define SD_EV_OLD_HEADER   20
#define SD_EV_KEY          12
#define SD_EV_DUE_KEY      20
#define SD_EV_IDENT_MAX    400
#define SD_EV_ID_KEY_MAX   (4 + SD_EV_IDENT_MAX + 1 + 8)
#define SD_EV_SEQ_KEY      "event_seq"


/* an event as stored; the pointers point into the database's pages */
typedef struct {
    int64_t                 next;
    int64_t                 created;
    unsigned                attempts;
    const char             *ident;
    size_t                  ident_len;
    const char             *body;
    size_t                  body_len;
} sd_store_ev_t;


static void
sd_store_put_be(unsigned char *p, uint64_t v, int n)
{
    int  i;

    for (i = n - 1; i >= 0; i--) {
        p[i] = (unsigned char) (v & 0xff);
        v >>= 8;
    }
}


static uint64_t
sd_store_get_be(const unsigned char *p, int n)
{
    int       i;
    uint64_t  v = 0;

    for (i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }

    return v;
}


static void
sd_store_ev_key(MDB_val *k, unsigned char *kb, uint32_t target, uint64_t seq)
{
    sd_store_put_be(kb, target, 4);
    sd_store_put_be(kb + 4, seq, 8);
    k->mv_data = kb;
    k->mv_size = SD_EV_KEY;
}


static void
sd_store_ev_due_key(MDB_val *k, unsigned char *kb, uint32_t target,
    int64_t next, uint64_t seq)
{
    sd_store_put_be(kb, target, 4);
    sd_store_put_be(kb + 4, (uint64_t) (next < 0 ? 0 : next), 8);
    sd_store_put_be(kb + 12, seq, 8);
    k->mv_data = kb;
    k->mv_size = SD_EV_DUE_KEY;
}


/* the "evid" key; without a seq (has_seq 0) the identity's prefix */
static void
sd_store_ev_id_key(MDB_val *k, unsigned char *kb, uint32_t target,
    const char *ident, size_t ident_len, int has_seq, uint64_t seq)
{
    sd_store_put_be(kb, target, 4);
    memcpy(kb + 4, ident, ident_len);
    kb[4 + ident_len] = '\0';
    k->mv_data = kb;
    k->mv_size = 4 + ident_len + 1;

    if (has_seq) {
        sd_store_put_be(kb + k->mv_size, seq, 8);
        k->mv_size += 8;
    }
}


static int
sd_store_ev_decode(const MDB_val *v, sd_store_ev_t *ev)
{
    const unsigned char  *p = v->mv_data;

    if (v->mv_size < SD_EV_HEADER) {
        return MDB_CORRUPTED;
    }

    ev->next = (int64_t) sd_store_get_le64(p);
    ev->created = (int64_t) sd_store_get_le64(p + 8);
    ev->attempts = sd_store_get_le32(p + 16);
    ev->ident_len = (size_t) (p[20] | (p[21] << 8));

    if (v->mv_size < SD_EV_HEADER + ev->ident_len
        || ev->ident_len > SD_EV_IDENT_MAX)
    {
        return MDB_CORRUPTED;
    }

    ev->ident = (const char *) p + SD_EV_HEADER;
    ev->body = ev->ident + ev->ident_len;
    ev->body_len = v->mv_size - SD_EV_HEADER - ev->ident_len;

    return 0;
}


static int
sd_store_ev_get(sd_store_t *st, MDB_txn *txn, uint32_t target, uint64_t seq,
    sd_store_ev_t *ev)
{
    int             rc;
    MDB_val         k, v;
    unsigned char   kb[SD_EV_KEY];

    sd_store_ev_key(&k, kb, target, seq);

    rc = mdb_get(txn, st->evq, &k, &v);
    if (rc != 0) {
        return rc;
    }

    return sd_store_ev_decode(&v, ev);
}


/* writes the event's "evq" value (a new event, or one tried again) */
static int
sd_store_ev_put(sd_store_t *st, MDB_txn *txn, uint32_t target, uint64_t seq,
    const sd_store_ev_t *ev)
{
    int             rc;
    MDB_val         k, v;
    unsigned char  *p, kb[SD_EV_KEY];

    sd_store_ev_key(&k, kb, target, seq);
    v.mv_data = NULL;
    v.mv_size = SD_EV_HEADER + ev->ident_len + ev->body_len;

    rc = mdb_put(txn, st->evq, &k, &v, MDB_RESERVE);
    if (rc != 0) {
        return rc;
    }

    p = v.mv_data;
    sd_store_put_le64(p, (uint64_t) ev->next);
    sd_store_put_le64(p + 8, (uint64_t) ev->created);
    sd_store_put_le32(p + 16, ev->attempts);
    p[20] = ev->ident_len & 0xff;
    p[21] = (ev->ident_len >> 8) & 0xff;
    memcpy(p + SD_EV_HEADER, ev->ident, ev->ident_len);
    memcpy(p + SD_EV_HEADER + ev->ident_len, ev->body, ev->body_len);

    return 0;
}


static int
sd_store_ev_due_put(sd_store_t *st, MDB_txn *txn, uint32_t target,
    int64_t next, uint64_t seq, const char *ident, size_t ident_len)
{
    MDB_val         k, v;
    unsigned char   kb[SD_EV_DUE_KEY];

    sd_store_ev_due_key(&k, kb, target, next, seq);
    v.mv_data = (void *) ident;
    v.mv_size = ident_len;

    return mdb_put(txn, st->evdue, &k, &v, 0);
}


/* the oldest queued event of an identity (MDB_NOTFOUND: none) */
static int
sd_store_ev_ident_first(sd_store_t *st, MDB_txn *txn, uint32_t target,
    const char *ident, size_t ident_len, uint64_t *seq)
{
    int             rc;
    size_t          plen;
    MDB_val         k, v;
    MDB_cursor     *cur;
    unsigned char   kb[SD_EV_ID_KEY_MAX];

    sd_store_ev_id_key(&k, kb, target, ident, ident_len, 0, 0);
    plen = k.mv_size;

    rc = mdb_cursor_open(txn, st->evid, &cur);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

    if (rc == 0) {
        if (k.mv_size == plen + 8 && memcmp(k.mv_data, kb, plen) == 0) {
            *seq = sd_store_get_be((unsigned char *) k.mv_data + plen, 8);

        } else {
            rc = MDB_NOTFOUND;
        }
    }

    mdb_cursor_close(cur);

    return rc;
}


/*
 * Queues one event for a target: its value, its place among its
 * identity's events, and, when the identity has no older event queued, its
 * place among the events that may go.
 */
static int
sd_store_ev_enqueue(sd_store_t *st, MDB_txn *txn, uint32_t target,
    uint64_t seq, const sd_store_ev_t *ev)
{
    int             rc;
    uint64_t        first;
    MDB_val         k, v;
    unsigned char   kb[SD_EV_ID_KEY_MAX];

    if (ev->ident_len > SD_EV_IDENT_MAX) {
        return MDB_BAD_VALSIZE;
    }

    rc = sd_store_ev_put(st, txn, target, seq, ev);
    if (rc != 0) {
        return rc;
    }

    sd_store_ev_id_key(&k, kb, target, ev->ident, ev->ident_len, 1, seq);
    v.mv_data = NULL;
    v.mv_size = 0;

    rc = mdb_put(txn, st->evid, &k, &v, 0);
    if (rc != 0) {
        return rc;
    }

    rc = sd_store_ev_ident_first(st, txn, target, ev->ident, ev->ident_len,
                                 &first);
    if (rc != 0) {
        return rc;
    }

    if (first != seq) {
        return 0;       /* behind an older event of the same identity */
    }

    return sd_store_ev_due_put(st, txn, target, ev->next, seq, ev->ident,
                               ev->ident_len);
}


/*
 * Removes one event (delivered, given up, or dropped from a full queue);
 * when it was its identity's oldest, the identity's next event may go.
 */
static int
sd_store_ev_remove(sd_store_t *st, MDB_txn *txn, uint32_t target,
    uint64_t seq)
{
    int             rc, was_first;
    char            ident[SD_EV_IDENT_MAX];
    size_t          ident_len;
    int64_t         next;
    uint64_t        after;
    MDB_val         k;
    sd_store_ev_t   ev;
    unsigned char   kb[SD_EV_ID_KEY_MAX];

    rc = sd_store_ev_get(st, txn, target, seq, &ev);
    if (rc != 0) {
        return rc;
    }

    /* the value's pages change under the deletes below: copy first */
    ident_len = ev.ident_len;
    memcpy(ident, ev.ident, ident_len);
    next = ev.next;

    sd_store_ev_key(&k, kb, target, seq);
    rc = mdb_del(txn, st->evq, &k, NULL);
    if (rc != 0) {
        return rc;
    }

    sd_store_ev_id_key(&k, kb, target, ident, ident_len, 1, seq);
    rc = mdb_del(txn, st->evid, &k, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    sd_store_ev_due_key(&k, kb, target, next, seq);
    rc = mdb_del(txn, st->evdue, &k, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    was_first = (rc == 0);

    if (!was_first) {
        return 0;
    }

    rc = sd_store_ev_ident_first(st, txn, target, ident, ident_len, &after);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }

    if (rc == 0) {
        rc = sd_store_ev_get(st, txn, target, after, &ev);
    }

    if (rc != 0) {
        return rc;
    }

    return sd_store_ev_due_put(st, txn, target, ev.next, after, ident,
                               ident_len);
}


/* a failed attempt: counted, and the event waits until next */
static int
sd_store_ev_reschedule(sd_store_t *st, MDB_txn *txn, uint32_t target,
    uint64_t seq, int64_t next)
{
    int             rc;
    int64_t         old;
    MDB_val         k;
    sd_store_ev_t   ev;
    unsigned char  *copy, kb[SD_EV_DUE_KEY];

    rc = sd_store_ev_get(st, txn, target, seq, &ev);
    if (rc != 0) {
        return rc;
    }

    copy = malloc(ev.ident_len + ev.body_len + 1);
    if (copy == NULL) {
        return ENOMEM;
    }

    memcpy(copy, ev.ident, ev.ident_len);
    memcpy(copy + ev.ident_len, ev.body, ev.body_len);
    ev.ident = (const char *) copy;
    ev.body = (const char *) copy + ev.ident_len;

    old = ev.next;
    ev.next = next;
    ev.attempts++;

    rc = sd_store_ev_put(st, txn, target, seq, &ev);

    if (rc == 0) {
        sd_store_ev_due_key(&k, kb, target, old, seq);
        rc = mdb_del(txn, st->evdue, &k, NULL);

        if (rc == 0) {
            rc = sd_store_ev_due_put(st, txn, target, next, seq, ev.ident,
                                     ev.ident_len);

        } else if (rc == MDB_NOTFOUND) {
            rc = 0;     /* not its identity's oldest: it was not sent */
        }
    }

    free(copy);

    return rc;
}


/* the queue of the version before, moved at open (see above) */
static int
sd_store_ev_migrate(sd_store_t *st, MDB_txn *txn)
{
    int             rc;
    MDB_dbi         old;
    MDB_val         k, v;
    MDB_cursor     *cur;
    sd_store_ev_t   ev;
    const unsigned char  *p;

    rc = mdb_dbi_open(txn, "events", 0, &old);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_open(txn, old, &cur);
    if (rc != 0) {
        return rc;
    }

    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        if (k.mv_size != SD_EV_KEY || v.mv_size < SD_EV_OLD_HEADER) {
            continue;
        }

        p = v.mv_data;
        ev.next = (int64_t) sd_store_get_le64(p);
        ev.created = (int64_t) sd_store_get_le64(p + 8);
        ev.attempts = sd_store_get_le32(p + 16);
        ev.ident = "";
        ev.ident_len = 0;
        ev.body = (const char *) p + SD_EV_OLD_HEADER;
        ev.body_len = v.mv_size - SD_EV_OLD_HEADER;

        rc = sd_store_ev_enqueue(st, txn,
                 (uint32_t) sd_store_get_be(k.mv_data, 4),
                 sd_store_get_be((unsigned char *) k.mv_data + 4, 8), &ev);
        if (rc != 0) {
            break;
        }
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    /*
     * Emptied, not deleted: during a binary upgrade the old workers still
     * hold its handle and write their events there (a deleted database
     * would fail their writes with MDB_BAD_DBI); the next open moves them.
     */
    return mdb_drop(txn, old, 0);
}


void
sd_store_set_events(sd_store_t *st, sd_store_events_pt build, void *ctx,
    const uint32_t *targets, size_t ntargets, size_t limit)
{
    if (ntargets > SD_EVENT_TARGETS_MAX) {
        ntargets = SD_EVENT_TARGETS_MAX;
    }

    st->ev_build = ntargets ? build : NULL;
    st->ev_ctx = ctx;
    memcpy(st->ev_targets, targets, ntargets * sizeof(uint32_t));
    st->ev_ntargets = ntargets;
    st->ev_limit = limit ? limit : 1;
}


/* one event, for every target, in the open write transaction */

static void
sd_store_event_emit(void *q, uint64_t seq, int64_t now, const char *body,
    size_t len)
{
    size_t          i;
    sd_store_ev_t   ev;
    sd_store_t     *st = q;

    if (st->ev_rc != 0) {
        return;
    }

    ev.next = now;
    ev.created = now;
    ev.attempts = 0;
    ev.ident = st->ev_ident;
    ev.ident_len = st->ev_ident_len;
    ev.body = body;
    ev.body_len = len;

    for (i = 0; i < st->ev_ntargets; i++) {
        st->ev_rc = sd_store_ev_enqueue(st, st->ev_txn, st->ev_targets[i],
                                        seq, &ev);
        if (st->ev_rc != 0) {
            return;
        }
    }
}


static uint64_t
sd_store_event_seq(void *q)
{
    sd_store_t  *st = q;

    return ++st->ev_seq;
}


/*
 * The writing workspace's oldest event made before this write, over the
 * targets (0: none).  Its identities are walked one jump each in "evid":
 * an identity's first key is its oldest event.
 */
static int
sd_store_ev_writer_oldest(sd_store_t *st, MDB_txn *txn, uint32_t *target,
    uint64_t *seq)
{
    int             rc;
    size_t          i, plen, ilen;
    uint64_t        s;
    MDB_val         k, v;
    MDB_cursor     *cur;
    unsigned char   kb[SD_EV_ID_KEY_MAX], pb[4 + SD_EV_IDENT_MAX + 1];

    *seq = 0;

    if (st->ev_ws_len == 0 || st->ev_ws_len >= SD_EV_IDENT_MAX) {
        return 0;
    }

    rc = mdb_cursor_open(txn, st->evid, &cur);
    if (rc != 0) {
        return rc;
    }

    for (i = 0; i < st->ev_ntargets; i++) {
        /* the prefix: target, workspace, NUL */
        sd_store_ev_id_key(&k, pb, st->ev_targets[i], st->ev_ident,
                           st->ev_ws_len, 0, 0);
        plen = k.mv_size;
        memcpy(kb, pb, plen);

        while (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0
               && k.mv_size > plen + 9
               && memcmp(k.mv_data, pb, plen) == 0)
        {
            s = sd_store_get_be((unsigned char *) k.mv_data + k.mv_size - 8,
                                8);

            if (s < st->ev_first_seq && (*seq == 0 || s < *seq)) {
                *seq = s;
                *target = st->ev_targets[i];
            }

            /* past this identity: its key with NUL raised to 0x01 */
            ilen = k.mv_size - 9;
            if (ilen + 1 > sizeof(kb)) {
                break;
            }

            memcpy(kb, k.mv_data, ilen);
            kb[ilen] = 0x01;
            k.mv_data = kb;
            k.mv_size = ilen + 1;
        }
    }

    mdb_cursor_close(cur);

    return 0;
}


/* the oldest event over the targets (0: none configured has one) */
static int
sd_store_ev_oldest(sd_store_t *st, MDB_txn *txn, uint32_t *target,
    uint64_t *seq)
{
    int             rc;
    size_t          i;
    uint64_t        s;
    MDB_val         k, v;
    MDB_cursor     *cur;
    unsigned char   kb[SD_EV_KEY];

    *seq = 0;

    rc = mdb_cursor_open(txn, st->evq, &cur);
    if (rc != 0) {
        return rc;
    }

    for (i = 0; i < st->ev_ntargets; i++) {
        sd_store_ev_key(&k, kb, st->ev_targets[i], 0);

        if (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0
            && k.mv_size == SD_EV_KEY
            && sd_store_get_be(k.mv_data, 4) == st->ev_targets[i])
        {
            s = sd_store_get_be((unsigned char *) k.mv_data + 4, 8);

            if (*seq == 0 || s < *seq) {
                *seq = s;
                *target = st->ev_targets[i];
            }
        }
    }

    if (*seq == 0 && mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0
        && k.mv_size == SD_EV_KEY)
    {
        /* only targets no longer configured */
        *target = (uint32_t) sd_store_get_be(k.mv_data, 4);
        *seq = sd_store_get_be((unsigned char *) k.mv_data + 4, 8);
    }

    mdb_cursor_close(cur);

    return 0;
}


/*
 * The queue over its limit.  Each dropped event is the writing
 * workspace's own oldest when it has one from before this write, else the
 * oldest of all: a workspace that makes events fast, while the receiver
 * is away, pushes out its own events, not another workspace's.
 */
static int
sd_store_events_trim(sd_store_t *st, MDB_txn *txn)
{
    int        rc;
    size_t     over;
    uint32_t   target;
    uint64_t   seq;
    MDB_stat   stat;

    rc = mdb_stat(txn, st->evq, &stat);
    if (rc != 0 || stat.ms_entries <= st->ev_limit) {
        return rc;
    }

    for (over = stat.ms_entries - st->ev_limit; over > 0; over--) {
        rc = sd_store_ev_writer_oldest(st, txn, &target, &seq);

        if (rc == 0 && seq == 0) {
            rc = sd_store_ev_oldest(st, txn, &target, &seq);
        }

        if (rc != 0 || seq == 0) {
            break;
        }

        rc = sd_store_ev_remove(st, txn, target, seq);
        if (rc != 0) {
            break;
        }

        st->delta.events_dropped++;
    }

    return rc;
}


static int
sd_store_ev_seq_load(sd_store_t *st, MDB_txn *txn)
{
    int       rc;
    MDB_val   k, v;

    k.mv_data = SD_EV_SEQ_KEY;
    k.mv_size = sizeof(SD_EV_SEQ_KEY) - 1;

    rc = mdb_get(txn, st->meta, &k, &v);
    if (rc == 0 && v.mv_size == 8) {
        st->ev_seq = sd_store_get_le64(v.mv_data);
        return 0;
    }

    if (rc == MDB_NOTFOUND) {
        st->ev_seq = 0;
        return 0;
    }

    return rc ? rc : MDB_CORRUPTED;
}


static int
sd_store_ev_seq_save(sd_store_t *st, MDB_txn *txn)
{
    MDB_val         k, v;
    unsigned char   sb[8];

    k.mv_data = SD_EV_SEQ_KEY;
    k.mv_size = sizeof(SD_EV_SEQ_KEY) - 1;
    sd_store_put_le64(sb, st->ev_seq);
    v.mv_data = sb;
    v.mv_size = 8;

    return mdb_put(txn, st->meta, &k, &v, 0);
}


static int
sd_store_events_note(sd_store_t *st, MDB_txn *txn, const MDB_val *key,
    const sd_record_t *old, const sd_record_t *rec)
{
    int                   rc;
    size_t                ws_len;
    const char           *p;
    sd_store_event_src_t  src;

    /*
     * A change applied from etcd: its events were made where it was made
     * (the add's own row, applied by the node that took the add, is made
     * here: c.events).
     */
    if (st->ev_build == NULL || (st->applying && !st->apply_events)) {
        return 0;
    }

    p = memchr(key->mv_data, '\0', key->mv_size);
    if (p == NULL || key->mv_size > SD_EV_IDENT_MAX) {
        return 0;
    }

    ws_len = (size_t) (p - (const char *) key->mv_data);

    rc = sd_store_ev_seq_load(st, txn);
    if (rc != 0) {
        return rc;
    }

    src.ws = key->mv_data;
    src.ws_len = ws_len;
    src.id = p + 1;
    src.id_len = key->mv_size - ws_len - 1;
    src.old = old;
    src.rec = rec;

    st->ev_txn = txn;
    st->ev_rc = 0;
    st->ev_ident = key->mv_data;
    st->ev_ident_len = key->mv_size;
    st->ev_ws_len = ws_len;
    st->ev_first_seq = st->ev_seq + 1;

    st->ev_build(st->ev_ctx, &src, sd_store_event_seq, sd_store_event_emit,
                 st);

    if (st->ev_rc != 0) {
        return st->ev_rc;
    }

    rc = sd_store_ev_seq_save(st, txn);
    if (rc != 0) {
        return rc;
    }

    return sd_store_events_trim(st, txn);
}


static int
sd_store_ev_skipped(uint64_t seq, const uint64_t *skip, size_t nskip)
{
    size_t  i;

    for (i = 0; i < nskip; i++) {
        if (skip[i] == seq) {
            return 1;
        }
    }

    return 0;
}


sd_store_rc_e
sd_store_event_next(sd_store_t *st, uint32_t target, const uint64_t *skip,
    size_t nskip, sd_store_alloc_pt alloc, void *alloc_ctx,
    sd_store_event_t *ev)
{
    int             rc;
    MDB_txn        *txn;
    MDB_val         k, v;
    MDB_cursor     *cur;
    sd_store_ev_t   e;
    unsigned char   kb[SD_EV_DUE_KEY];

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = mdb_cursor_open(txn, st->evdue, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return sd_store_map(st, rc);
    }

    /* the identities' oldest events sort by when they are due */
    sd_store_ev_due_key(&k, kb, target, 0, 0);

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != SD_EV_DUE_KEY
            || sd_store_get_be(k.mv_data, 4) != target)
        {
            rc = MDB_NOTFOUND;
            break;
        }

        ev->seq = sd_store_get_be((unsigned char *) k.mv_data + 12, 8);

        if (!sd_store_ev_skipped(ev->seq, skip, nskip)) {
            break;
        }
    }

    if (rc == 0) {
        rc = sd_store_ev_get(st, txn, target, ev->seq, &e);
    }

    if (rc == 0) {
        ev->next_attempt = e.next;
        ev->created = e.created;
        ev->attempts = e.attempts;
        ev->body_len = e.body_len;
        ev->body = alloc(alloc_ctx, e.body_len + 1);

        if (ev->body == NULL) {
            rc = ENOMEM;

        } else {
            memcpy(ev->body, e.body, e.body_len);
            ev->body[e.body_len] = '\0';
        }
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    if (rc == MDB_NOTFOUND) {
        return SD_STORE_NOT_FOUND;
    }

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_event_done(sd_store_t *st, uint32_t target, uint64_t seq,
    int remove, int64_t next_attempt)
{
    int       rc;
    MDB_txn  *txn;

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    if (remove) {
        rc = sd_store_ev_remove(st, txn, target, seq);

    } else {
        rc = sd_store_ev_reschedule(st, txn, target, seq, next_attempt);
    }

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

    if (rc == MDB_NOTFOUND) {
        return SD_STORE_NOT_FOUND;
    }

    return sd_store_map(st, rc);
}


/*
 * The events of a change this store does not write itself: in cluster
 * mode, an expired claim taken over from another node's workspace (the
 * row reaches this store through the watch, which makes no event).
 */
sd_store_rc_e
sd_store_events_of(sd_store_t *st, const char *ws, size_t ws_len,
    const char *id, size_t id_len, const sd_record_t *old,
    const sd_record_t *rec)
{
    int       rc;
    char      kb[SD_EV_IDENT_MAX];
    MDB_val   key;
    MDB_txn  *txn;

    if (st->ev_build == NULL) {
        return SD_STORE_OK;
    }

    if (ws_len == 0 || id_len == 0 || ws_len + 1 + id_len > sizeof(kb)) {
        return SD_STORE_ERROR;
    }

    key.mv_data = kb;
    key.mv_size = sd_store_key(ws, ws_len, id, id_len, kb);

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_events_note(st, txn, &key, old, rec);

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_events_count(sd_store_t *st, size_t *n)
{
    return sd_store_entries(st, st->evq, n);
}


/* ---- cluster mode: outbox, revisions, apply, resync (issue 18) ---------- */


#define SD_STORE_REDOS_MAX  64      /* later polls of a key dropped at once */
#define SD_OUT_HEADER       6       /* kind, op, flags, entry flags, key
                                       length LE16 (an older module wrote
                                       entry flags 0) */
#define SD_OUT_SEQ_KEY      "outbox_seq"
#define SD_APPLIED_KEY      "applied_rev"
#define SD_CREV_LIVE        'l'
#define SD_CREV_TOMB        't'


void
sd_store_set_outbox(sd_store_t *st, int on)
{
    st->outbox = on ? 1 : 0;
}


/* a 64-bit value of meta (0 when absent): 0 or an LMDB error */

static int
sd_store_meta_get64(sd_store_t *st, MDB_txn *txn, const char *name,
    uint64_t *val)
{
    int      rc;
    MDB_val  k, v;

    k.mv_data = (void *) name;
    k.mv_size = strlen(name);

    rc = mdb_get(txn, st->meta, &k, &v);

    if (rc == MDB_NOTFOUND) {
        *val = 0;
        return 0;
    }

    if (rc == 0 && v.mv_size != 8) {
        return MDB_CORRUPTED;
    }

    if (rc == 0) {
        *val = sd_store_get_le64(v.mv_data);
    }

    return rc;
}


static int
sd_store_meta_put64(sd_store_t *st, MDB_txn *txn, const char *name,
    uint64_t val)
{
    MDB_val        k, v;
    unsigned char  b[8];

    k.mv_data = (void *) name;
    k.mv_size = strlen(name);
    sd_store_put_le64(b, val);
    v.mv_data = b;
    v.mv_size = 8;

    return mdb_put(txn, st->meta, &k, &v, 0);
}


/*
 * coutix, the outbox by workspace and by name (fair turns, issue 18):
 *   'w' <ws> NUL BE64(seq) -> ""
 *   'n' <name> NUL BE64(seq) -> kind "<ws>\0<id>"
 * where <name> is the id's tree key (its etcd claim key), cut to fit.
 * Written and removed in the same transaction as the cout entry; meta
 * "outbox_ix" is the outbox_seq the index has seen (an older module
 * appends without it, see sd_store_outix_check).
 */
#define SD_OUTIX_WS         'w'
#define SD_OUTIX_NAME       'n'
#define SD_OUTIX_SEQ_KEY    "outbox_ix"
#define SD_OUTIX_NAME_MAX   (SD_STORE_MAX_KEY - 10)


/* the index keys of an entry's "<ws>\0<id>"; out of SD_STORE_MAX_KEY + 1 */

static void
sd_store_outix_key(char type, const MDB_val *key, uint64_t seq,
    unsigned char *buf, MDB_val *out)
{
    char                  tk[SD_STORE_MAX_KEY + 1];
    size_t                len, id_len;
    const char           *nul, *id;
    const unsigned char  *src;

    nul = memchr(key->mv_data, '\0', key->mv_size);
    if (nul == NULL) {
        nul = (const char *) key->mv_data + key->mv_size;
    }

    if (type == SD_OUTIX_WS) {
        src = key->mv_data;
        len = (size_t) (nul - (const char *) key->mv_data);

    } else {
        id = nul + 1;
        id_len = key->mv_size - (size_t) (id - (const char *) key->mv_data);
        len = sd_store_tree_key(id, id_len, tk, sizeof(tk));
        src = (const unsigned char *) tk;

        if (len == 0) {
            src = (const unsigned char *) id;
            len = id_len;
        }
    }

    /* a name cut short only makes an entry wait for a few more */
    len = (len > SD_OUTIX_NAME_MAX) ? SD_OUTIX_NAME_MAX : len;

    buf[0] = (unsigned char) type;
    memcpy(buf + 1, src, len);
    buf[1 + len] = '\0';
    sd_store_put_be(buf + 2 + len, seq, 8);

    out->mv_data = buf;
    out->mv_size = len + 10;
}


/* both index entries of the outbox entry "seq" (kind, "<ws>\0<id>") */

static int
sd_store_outix_put(sd_store_t *st, MDB_txn *txn, uint64_t seq, char kind,
    const MDB_val *key)
{
    int             rc;
    MDB_val         k, v;
    unsigned char   kb[SD_STORE_MAX_KEY + 1];

    sd_store_outix_key(SD_OUTIX_WS, key, seq, kb, &k);
    v.mv_data = (void *) "";
    v.mv_size = 0;

    rc = mdb_put(txn, st->coutix, &k, &v, 0);
    if (rc != 0) {
        return rc;
    }

    sd_store_outix_key(SD_OUTIX_NAME, key, seq, kb, &k);
    v.mv_data = NULL;
    v.mv_size = 1 + key->mv_size;

    rc = mdb_put(txn, st->coutix, &k, &v, MDB_RESERVE);
    if (rc != 0) {
        return rc;
    }

    ((unsigned char *) v.mv_data)[0] = (unsigned char) kind;
    memcpy((unsigned char *) v.mv_data + 1, key->mv_data, key->mv_size);

    return 0;
}


/*
 * 0 when the outbox has an entry for this key (a local write of it waits
 * to be published), MDB_NOTFOUND when not, or an LMDB error.  A walk over
 * the entries of the key's name alone (coutix), whoever else floods.
 */

static int
sd_store_outbox_holds(sd_store_t *st, MDB_txn *txn, char kind,
    const MDB_val *key)
{
    int             rc;
    MDB_val         k, v, start;
    MDB_cursor     *cur;
    unsigned char   kb[SD_STORE_MAX_KEY + 1];

    sd_store_outix_key(SD_OUTIX_NAME, key, 0, kb, &start);
    start.mv_size -= 8;                 /* 'n' <name> NUL: the prefix */

    rc = mdb_cursor_open(txn, st->coutix, &cur);
    if (rc != 0) {
        return rc;
    }

    k = start;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != start.mv_size + 8
            || memcmp(k.mv_data, start.mv_data, start.mv_size) != 0)
        {
            rc = MDB_NOTFOUND;
            break;
        }

        if (v.mv_size == 1 + key->mv_size
            && ((unsigned char *) v.mv_data)[0] == (unsigned char) kind
            && memcmp((unsigned char *) v.mv_data + 1, key->mv_data,
                      key->mv_size) == 0)
        {
            break;
        }
    }

    mdb_cursor_close(cur);

    return rc;
}


/*
 * Appends one outbox entry for a row just written (rec) or removed (rec
 * NULL) under key "<ws>\0<id>", when the outbox is on and the write is
 * not an applied etcd change.  0 or an LMDB error.
 */

static int
sd_store_outbox_note(sd_store_t *st, MDB_txn *txn, char kind, char op,
    const MDB_val *key, const sd_record_t *rec)
{
    int             rc;
    size_t          json_len;
    uint64_t        seq;
    MDB_val         k, v;
    unsigned char   kb[8], *p;

    if (!st->outbox || st->applying) {
        return 0;
    }

    rc = sd_store_meta_get64(st, txn, SD_OUT_SEQ_KEY, &seq);
    if (rc != 0) {
        return rc;
    }

    seq++;
    json_len = rec ? rec->json_len : 0;

    sd_store_put_be(kb, seq, 8);
    k.mv_data = kb;
    k.mv_size = 8;
    v.mv_data = NULL;
    v.mv_size = SD_OUT_HEADER + key->mv_size + json_len;

    rc = mdb_put(txn, st->cout, &k, &v, MDB_RESERVE);
    if (rc != 0) {
        return rc;
    }

    p = v.mv_data;
    p[0] = (unsigned char) kind;
    p[1] = (unsigned char) op;
    p[2] = rec ? (unsigned char) rec->flags : 0;
    p[3] = st->redoable ? SD_STORE_OUT_REDOABLE : 0;
    p[4] = key->mv_size & 0xff;
    p[5] = (key->mv_size >> 8) & 0xff;
    memcpy(p + SD_OUT_HEADER, key->mv_data, key->mv_size);

    if (json_len) {
        memcpy(p + SD_OUT_HEADER + key->mv_size, rec->json, json_len);
    }

    rc = sd_store_outix_put(st, txn, seq, kind, key);

    if (rc == 0) {
        rc = sd_store_meta_put64(st, txn, SD_OUT_SEQ_KEY, seq);
    }

    if (rc == 0) {
        rc = sd_store_meta_put64(st, txn, SD_OUTIX_SEQ_KEY, seq);
    }

    return rc;
}


/* an entry's kind byte and "<ws>\0<id>" key: 0, or -1 when unreadable */

static int
sd_store_out_key(const MDB_val *v, MDB_val *key)
{
    const unsigned char  *p = v->mv_data;

    if (v->mv_size < SD_OUT_HEADER) {
        return -1;
    }

    key->mv_size = p[4] | (p[5] << 8);
    key->mv_data = (void *) (p + SD_OUT_HEADER);

    if (SD_OUT_HEADER + key->mv_size > v->mv_size
        || memchr(key->mv_data, '\0', key->mv_size) == NULL)
    {
        return -1;
    }

    return 0;
}


static int
sd_store_out_decode(const MDB_val *k, const MDB_val *v,
    sd_store_alloc_pt alloc, void *alloc_ctx, sd_store_out_t *o)
{
    char                 *buf;
    size_t                json_len;
    MDB_val               key;
    const char           *nul;
    const unsigned char  *p = v->mv_data;

    if (k->mv_size != 8 || sd_store_out_key(v, &key) != 0) {
        return MDB_CORRUPTED;
    }

    json_len = v->mv_size - SD_OUT_HEADER - key.mv_size;

    /* "<ws>\0<id>\0<json>\0" */
    buf = alloc(alloc_ctx, key.mv_size + json_len + 2);
    if (buf == NULL) {
        return ENOMEM;
    }

    memcpy(buf, key.mv_data, key.mv_size);
    buf[key.mv_size] = '\0';
    memcpy(buf + key.mv_size + 1, p + SD_OUT_HEADER + key.mv_size, json_len);
    buf[key.mv_size + 1 + json_len] = '\0';

    nul = memchr(buf, '\0', key.mv_size);

    o->seq = sd_store_get_be(k->mv_data, 8);
    o->kind = (char) p[0];
    o->op = (char) p[1];
    o->flags = p[2];
    o->redoable = (p[3] & SD_STORE_OUT_REDOABLE) != 0;
    o->ws = buf;
    o->ws_len = (size_t) (nul - buf);
    o->id = buf + o->ws_len + 1;
    o->id_len = key.mv_size - o->ws_len - 1;
    o->json = buf + key.mv_size + 1;
    o->json_len = json_len;

    return 0;
}


/*
 * The end of an outbox read: the read transaction goes; an entry that
 * could not be copied (no memory) or read is an error, not "none".
 */

static sd_store_rc_e
sd_store_out_read_end(sd_store_t *st, MDB_txn *txn, int rc)
{
    mdb_txn_abort(txn);

    if (rc == ENOMEM || rc == MDB_CORRUPTED) {
        st->last_rc = rc;
        return SD_STORE_ERROR;
    }

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_outbox_next(sd_store_t *st, uint64_t after, sd_store_alloc_pt alloc,
    void *alloc_ctx, sd_store_out_t *o)
{
    int             rc;
    MDB_txn        *txn;
    MDB_val         k, v;
    MDB_cursor     *cur;
    unsigned char   kb[8];

    if (after == UINT64_MAX) {
        return SD_STORE_NOT_FOUND;
    }

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = mdb_cursor_open(txn, st->cout, &cur);

    if (rc == 0) {
        sd_store_put_be(kb, after + 1, 8);
        k.mv_data = kb;
        k.mv_size = 8;

        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

        if (rc == 0) {
            rc = sd_store_out_decode(&k, &v, alloc, alloc_ctx, o);
        }

        mdb_cursor_close(cur);
    }

    return sd_store_out_read_end(st, txn, rc);
}


/* removes the entry "seq" and its index entries: 0, MDB_NOTFOUND, error */

static int
sd_store_outbox_del(sd_store_t *st, MDB_txn *txn, uint64_t seq)
{
    int             rc;
    MDB_val         k, v, key, ik;
    unsigned char   kb[8], ib[SD_STORE_MAX_KEY + 1];

    sd_store_put_be(kb, seq, 8);
    k.mv_data = kb;
    k.mv_size = 8;

    rc = mdb_get(txn, st->cout, &k, &v);
    if (rc != 0) {
        return rc;
    }

    if (sd_store_out_key(&v, &key) == 0) {
        /* absent from an index an older module left behind: no matter */
        sd_store_outix_key(SD_OUTIX_WS, &key, seq, ib, &ik);
        rc = mdb_del(txn, st->coutix, &ik, NULL);

        if (rc == 0 || rc == MDB_NOTFOUND) {
            sd_store_outix_key(SD_OUTIX_NAME, &key, seq, ib, &ik);
            rc = mdb_del(txn, st->coutix, &ik, NULL);
        }

        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }
    }

    return mdb_del(txn, st->cout, &k, NULL);
}


sd_store_rc_e
sd_store_outbox_done(sd_store_t *st, uint64_t seq)
{
    int       rc;
    MDB_txn  *txn;

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_outbox_del(st, txn, seq);

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

    return sd_store_map(st, rc);
}


/*
 * The later redoable entries of the same key as entry "seq" (kind and
 * key given), up to max of them: their seqs into out, the count into *n.
 */

static int
sd_store_outbox_redos(sd_store_t *st, MDB_txn *txn, uint64_t seq,
    const unsigned char *p, const MDB_val *key, uint64_t *out, size_t max,
    size_t *n)
{
    int                   rc;
    MDB_val               k, v, other;
    MDB_cursor           *cur;
    unsigned char         kb[8];
    const unsigned char  *q;

    *n = 0;

    rc = mdb_cursor_open(txn, st->cout, &cur);
    if (rc != 0) {
        return rc;
    }

    sd_store_put_be(kb, seq + 1, 8);
    k.mv_data = kb;
    k.mv_size = 8;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && *n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        q = v.mv_data;

        if (sd_store_out_key(&v, &other) == 0 && q[0] == p[0]
            && (q[3] & SD_STORE_OUT_REDOABLE)
            && other.mv_size == key->mv_size
            && memcmp(other.mv_data, key->mv_data, key->mv_size) == 0)
        {
            out[(*n)++] = sd_store_get_be(k.mv_data, 8);
        }
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND || rc == 0) ? 0 : rc;
}


sd_store_rc_e
sd_store_outbox_overtaken(sd_store_t *st, uint64_t seq)
{
    int             rc;
    size_t          i, n;
    MDB_txn        *txn;
    MDB_val         k, v, key;
    uint64_t        later[SD_STORE_REDOS_MAX];
    unsigned char   kb[8], head[SD_OUT_HEADER], kbuf[SD_STORE_MAX_KEY + 1];

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    sd_store_put_be(kb, seq, 8);
    k.mv_data = kb;
    k.mv_size = 8;
    n = 0;

    rc = mdb_get(txn, st->cout, &k, &v);

    if (rc == 0 && sd_store_out_key(&v, &key) == 0
        && key.mv_size <= sizeof(kbuf))
    {
        /* copies: the values' pages change under the deletes */
        memcpy(head, v.mv_data, SD_OUT_HEADER);
        memcpy(kbuf, key.mv_data, key.mv_size);
        key.mv_data = kbuf;

        rc = sd_store_outbox_redos(st, txn, seq, head, &key, later,
                                   SD_STORE_REDOS_MAX, &n);
    }

    if (rc == 0) {
        rc = sd_store_outbox_del(st, txn, seq);
    }

    for (i = 0; rc == 0 && i < n; i++) {
        rc = sd_store_outbox_del(st, txn, later[i]);
    }

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_outbox_last(sd_store_t *st, uint64_t *seq)
{
    int       rc;
    MDB_txn  *txn;

    *seq = 0;

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_meta_get64(st, txn, SD_OUT_SEQ_KEY, seq);
    mdb_txn_abort(txn);

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_outbox_first(sd_store_t *st, uint64_t *seq)
{
    int          rc;
    MDB_txn     *txn;
    MDB_val      k, v;
    MDB_cursor  *cur;

    *seq = 0;

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = mdb_cursor_open(txn, st->cout, &cur);

    if (rc == 0) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        mdb_cursor_close(cur);
    }

    if (rc == 0 && k.mv_size == 8) {
        *seq = sd_store_get_be(k.mv_data, 8);
    }

    mdb_txn_abort(txn);

    return (rc == MDB_NOTFOUND) ? SD_STORE_OK : sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_outbox_count(sd_store_t *st, size_t *n)
{
    return sd_store_entries(st, st->cout, n);
}


/*
 * 0 when coutix indexes every outbox entry and nothing else: two index
 * entries an entry, and every append seen (outbox_ix == outbox_seq);
 * 1 when not (a store an older module wrote: an upgrade, or one of its
 * workers still finishing requests after a reload); an LMDB error.
 */

static int
sd_store_outix_stale(sd_store_t *st, MDB_txn *txn)
{
    int        rc;
    uint64_t   seq, ix;
    MDB_stat   out, idx;

    seq = 0;
    ix = 0;

    rc = mdb_stat(txn, st->cout, &out);

    if (rc == 0) {
        rc = mdb_stat(txn, st->coutix, &idx);
    }

    if (rc == 0) {
        rc = sd_store_meta_get64(st, txn, SD_OUT_SEQ_KEY, &seq);
    }

    if (rc == 0) {
        rc = sd_store_meta_get64(st, txn, SD_OUTIX_SEQ_KEY, &ix);
    }

    if (rc != 0) {
        return rc;
    }

    return (idx.ms_entries != 2 * out.ms_entries || ix != seq) ? 1 : 0;
}


/* in a write transaction: coutix made again from cout when stale */

static int
sd_store_outix_check(sd_store_t *st, MDB_txn *txn)
{
    int          rc;
    uint64_t     seq;
    MDB_val      k, v, key;
    MDB_cursor  *cur;

    rc = sd_store_outix_stale(st, txn);
    if (rc != 1) {
        return rc;
    }

    rc = mdb_drop(txn, st->coutix, 0);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_open(txn, st->cout, &cur);
    if (rc != 0) {
        return rc;
    }

    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        if (k.mv_size != 8 || sd_store_out_key(&v, &key) != 0) {
            continue;       /* unreadable: outbox_next_fair's fallback */
        }

        rc = sd_store_outix_put(st, txn, sd_store_get_be(k.mv_data, 8),
                                ((char *) v.mv_data)[0], &key);
        if (rc != 0) {
            break;
        }
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    rc = sd_store_meta_get64(st, txn, SD_OUT_SEQ_KEY, &seq);

    if (rc == 0) {
        rc = sd_store_meta_put64(st, txn, SD_OUTIX_SEQ_KEY, seq);
    }

    return rc;
}


/* a 'w' key's workspace and seq: 0, or -1 when the key is not one */

static int
sd_store_outix_ws(const MDB_val *k, MDB_val *ws, uint64_t *seq)
{
    const unsigned char  *p = k->mv_data;

    if (k->mv_size < 10 || p[0] != SD_OUTIX_WS || p[k->mv_size - 9] != '\0') {
        return -1;
    }

    ws->mv_data = (void *) (p + 1);
    ws->mv_size = k->mv_size - 10;
    *seq = sd_store_get_be(p + k->mv_size - 8, 8);

    return 0;
}


/*
 * 0 when the entry seq may go now: no older entry of its name waits (of
 * another workspace: it is its own workspace's oldest).  Two entries of
 * different workspaces and names touch different etcd keys (rows/<ws>/…,
 * claims/<name>), so only these keep the order in which they were made:
 * a workspace's release of a name before another's claim of it (PUT
 * /legacy) must reach etcd in that order.  1: it waits; an LMDB error.
 */

static int
sd_store_outix_waits(sd_store_t *st, MDB_txn *txn, MDB_cursor *cur,
    uint64_t seq)
{
    int             rc;
    MDB_val         k, v, key, ik, start;
    unsigned char   kb[8], ib[SD_STORE_MAX_KEY + 1];

    sd_store_put_be(kb, seq, 8);
    k.mv_data = kb;
    k.mv_size = 8;

    rc = mdb_get(txn, st->cout, &k, &v);
    if (rc != 0) {
        return rc;
    }

    if (sd_store_out_key(&v, &key) != 0) {
        return 0;           /* decoded (and refused) by the caller */
    }

    sd_store_outix_key(SD_OUTIX_NAME, &key, 0, ib, &start);
    ik = start;

    /* the name's oldest entry */
    rc = mdb_cursor_get(cur, &ik, &v, MDB_SET_RANGE);

    if (rc == MDB_NOTFOUND
        || (rc == 0 && (ik.mv_size != start.mv_size
                        || memcmp(ik.mv_data, start.mv_data,
                                  start.mv_size - 8) != 0)))
    {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    return sd_store_get_be((unsigned char *) ik.mv_data + ik.mv_size - 8, 8)
           < seq;
}


sd_store_rc_e
sd_store_outbox_next_fair(sd_store_t *st, const char *after_ws,
    size_t after_len, sd_store_alloc_pt alloc, void *alloc_ctx,
    sd_store_out_t *o)
{
    int             rc, wrapped;
    uint64_t        seq;
    MDB_txn        *txn;
    MDB_val         k, v, ws;
    MDB_cursor     *cur, *ncur;
    unsigned char   kb[SD_STORE_MAX_KEY + 1];

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_outix_stale(st, txn);

    if (rc == 1) {
        /* made again once; the read starts over on the new index */
        mdb_txn_abort(txn);

        rc = sd_store_begin(st, 0, &txn);
        if (rc != 0) {
            return sd_store_map(st, rc);
        }

        rc = sd_store_outix_check(st, txn);

        if (rc == 0) {
            rc = sd_store_commit(st, txn, 0);

        } else {
            mdb_txn_abort(txn);
        }

        if (rc != 0) {
            return sd_store_map(st, rc);
        }

        rc = sd_store_begin(st, MDB_RDONLY, &txn);
        if (rc != 0) {
            return sd_store_map(st, rc);
        }
    }

    cur = NULL;
    ncur = NULL;

    if (rc == 0) {
        rc = mdb_cursor_open(txn, st->coutix, &cur);
    }

    if (rc == 0) {
        rc = mdb_cursor_open(txn, st->coutix, &ncur);
    }

    /* the first workspace after after_ws: past its 'w' <ws> NUL keys */
    kb[0] = SD_OUTIX_WS;
    k.mv_data = kb;
    k.mv_size = 1;

    if (after_ws && after_len + 2 <= sizeof(kb)) {
        memcpy(kb + 1, after_ws, after_len);
        kb[1 + after_len] = '\1';
        k.mv_size = after_len + 2;
    }

    wrapped = (k.mv_size == 1);
    seq = 0;

    /* each workspace once, the one after after_ws first, then around */
    while (rc == 0) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

        if (rc == MDB_NOTFOUND
            || (rc == 0 && sd_store_outix_ws(&k, &ws, &seq) != 0))
        {
            if (wrapped) {
                rc = MDB_NOTFOUND;
                break;
            }

            wrapped = 1;
            kb[0] = SD_OUTIX_WS;
            k.mv_data = kb;
            k.mv_size = 1;
            rc = 0;
            continue;
        }

        if (rc != 0) {
            break;
        }

        rc = sd_store_outix_waits(st, txn, ncur, seq);

        if (rc == 0) {
            break;
        }

        if (rc != 1) {
            break;
        }

        /* this workspace waits for another's older entry of a name */
        if (ws.mv_size + 2 > sizeof(kb)) {
            rc = MDB_NOTFOUND;
            break;
        }

        memcpy(kb + 1, ws.mv_data, ws.mv_size);
        kb[0] = SD_OUTIX_WS;
        kb[1 + ws.mv_size] = '\1';
        k.mv_data = kb;
        k.mv_size = ws.mv_size + 2;
        rc = 0;
    }

    if (ncur) {
        mdb_cursor_close(ncur);
    }

    if (cur) {
        mdb_cursor_close(cur);
    }

    if (rc == MDB_NOTFOUND) {
        /* nothing indexed, or every turn waits (cannot be): the oldest */
        mdb_txn_abort(txn);
        return sd_store_outbox_next(st, 0, alloc, alloc_ctx, o);
    }

    if (rc == 0) {
        sd_store_put_be(kb, seq, 8);
        k.mv_data = kb;
        k.mv_size = 8;

        rc = mdb_get(txn, st->cout, &k, &v);

        if (rc == 0) {
            rc = sd_store_out_decode(&k, &v, alloc, alloc_ctx, o);
        }
    }

    return sd_store_out_read_end(st, txn, rc);
}


/* a workspace's entries: the oldest one's seq (0: none), counted to max */

static sd_store_rc_e
sd_store_outbox_ws(sd_store_t *st, const char *ws, size_t ws_len,
    size_t max, size_t *n, uint64_t *first)
{
    int             rc;
    uint64_t        seq;
    MDB_txn        *txn;
    MDB_val         k, v, kws;
    MDB_cursor     *cur;
    unsigned char   kb[SD_STORE_MAX_KEY + 1];

    *n = 0;
    *first = 0;

    if (ws_len + 2 > sizeof(kb)) {
        return SD_STORE_ERROR;
    }

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = mdb_cursor_open(txn, st->coutix, &cur);

    if (rc == 0) {
        kb[0] = SD_OUTIX_WS;
        memcpy(kb + 1, ws, ws_len);
        kb[1 + ws_len] = '\0';
        k.mv_data = kb;
        k.mv_size = ws_len + 2;

        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
             rc == 0 && *n < max;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        {
            if (sd_store_outix_ws(&k, &kws, &seq) != 0
                || kws.mv_size != ws_len
                || memcmp(kws.mv_data, ws, ws_len) != 0)
            {
                break;
            }

            if ((*n)++ == 0) {
                *first = seq;
            }
        }

        mdb_cursor_close(cur);
    }

    mdb_txn_abort(txn);

    return (rc == 0 || rc == MDB_NOTFOUND) ? SD_STORE_OK
                                           : sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_outbox_first_ws(sd_store_t *st, const char *ws, size_t ws_len,
    uint64_t *seq)
{
    size_t  n;

    return sd_store_outbox_ws(st, ws, ws_len, 1, &n, seq);
}


sd_store_rc_e
sd_store_outbox_backlog(sd_store_t *st, const char *ws, size_t ws_len,
    size_t max, size_t *n)
{
    uint64_t  first;

    return sd_store_outbox_ws(st, ws, ws_len, max, n, &first);
}


/* crev's key: the kind byte, then "<ws>\0<id>"; 0 when it does not fit */

static size_t
sd_store_crev_key(char kind, const char *ws, size_t ws_len, const char *id,
    size_t id_len, char *out)
{
    if (1 + ws_len + 1 + id_len > SD_STORE_MAX_KEY) {
        return 0;
    }

    out[0] = kind;

    return 1 + sd_store_key(ws, ws_len, id, id_len, out + 1);
}


/* the key's revision and marker (0 and SD_CREV_LIVE when none) */

static int
sd_store_crev_get(sd_store_t *st, MDB_txn *txn, const MDB_val *ck,
    int64_t *rev, char *mark)
{
    int      rc;
    MDB_val  v;

    *rev = 0;
    *mark = SD_CREV_LIVE;

    rc = mdb_get(txn, st->crev, (MDB_val *) ck, &v);

    if (rc == MDB_NOTFOUND) {
        return 0;
    }

    if (rc == 0 && v.mv_size != 9) {
        return MDB_CORRUPTED;
    }

    if (rc == 0) {
        *rev = (int64_t) sd_store_get_be(v.mv_data, 8);
        *mark = ((char *) v.mv_data)[8];
    }

    return rc;
}


/* the tombstone index entry of a crev key at rev: put or removed */

static int
sd_store_ctomb(sd_store_t *st, MDB_txn *txn, const MDB_val *ck, int64_t rev,
    int put)
{
    int            rc;
    char           buf[8 + SD_STORE_MAX_KEY];
    MDB_val        k, v;

    sd_store_put_be((unsigned char *) buf, (uint64_t) rev, 8);
    memcpy(buf + 8, ck->mv_data, ck->mv_size);
    k.mv_data = buf;
    k.mv_size = 8 + ck->mv_size;

    if (k.mv_size > SD_STORE_MAX_KEY) {
        return 0;       /* too long to index: dropped with the key's row */
    }

    if (put) {
        v.mv_data = "";
        v.mv_size = 0;
        return mdb_put(txn, st->ctomb, &k, &v, 0);
    }

    rc = mdb_del(txn, st->ctomb, &k, NULL);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


/* sets (rev > 0) or removes (rev 0) a key's revision, with its index */

static int
sd_store_crev_set(sd_store_t *st, MDB_txn *txn, const MDB_val *ck,
    int64_t rev, char mark)
{
    int            rc;
    char           old_mark;
    int64_t        old;
    MDB_val        v;
    unsigned char  b[9];

    rc = sd_store_crev_get(st, txn, ck, &old, &old_mark);
    if (rc != 0) {
        return rc;
    }

    if (old == rev && old_mark == mark) {
        return 0;
    }

    if (old && old_mark == SD_CREV_TOMB) {
        rc = sd_store_ctomb(st, txn, ck, old, 0);
        if (rc != 0) {
            return rc;
        }
    }

    if (rev == 0) {
        rc = mdb_del(txn, st->crev, (MDB_val *) ck, NULL);
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    sd_store_put_be(b, (uint64_t) rev, 8);
    b[8] = (unsigned char) mark;
    v.mv_data = b;
    v.mv_size = 9;

    rc = mdb_put(txn, st->crev, (MDB_val *) ck, &v, 0);

    if (rc == 0 && mark == SD_CREV_TOMB) {
        rc = sd_store_ctomb(st, txn, ck, rev, 1);
    }

    return rc;
}


/* drops the tombstones the watch has applied past (applied_rev) */

static int
sd_store_tombs_drop(sd_store_t *st, MDB_txn *txn, int64_t applied)
{
    int          rc;
    char         buf[SD_STORE_MAX_KEY];
    char         mark;
    int64_t      t, rev;
    MDB_val      k, v, ck;
    MDB_cursor  *cur;

    mark = 0;
    rev = 0;

    rc = mdb_cursor_open(txn, st->ctomb, &cur);
    if (rc != 0) {
        return rc;
    }

    for ( ;; ) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc != 0) {
            break;
        }

        t = (int64_t) sd_store_get_be(k.mv_data, 8);
        if (k.mv_size <= 8 || !sd_etcd_tombstone_done(t, applied)) {
            break;
        }

        memcpy(buf, (char *) k.mv_data + 8, k.mv_size - 8);
        ck.mv_data = buf;
        ck.mv_size = k.mv_size - 8;

        rc = mdb_cursor_del(cur, 0);

        /* the key's crev entry, if still this tombstone */
        if (rc == 0) {
            rc = sd_store_crev_get(st, txn, &ck, &rev, &mark);
        }

        if (rc == 0 && rev == t && mark == SD_CREV_TOMB) {
            rc = mdb_del(txn, st->crev, &ck, NULL);
        }

        if (rc != 0) {
            break;
        }
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


sd_store_rc_e
sd_store_set_rev(sd_store_t *st, char kind, const char *ws, size_t ws_len,
    const char *id, size_t id_len, int64_t rev)
{
    int       rc;
    char      buf[SD_STORE_MAX_KEY + 1], mark;
    int64_t   old;
    MDB_txn  *txn;
    MDB_val   ck, k, v;

    ck.mv_data = buf;
    ck.mv_size = sd_store_crev_key(kind, ws, ws_len, id, id_len, buf);

    if (ck.mv_size == 0 || rev <= 0) {
        return SD_STORE_ERROR;
    }

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_crev_get(st, txn, &ck, &old, &mark);

    if (rc == 0 && old < rev) {
        k.mv_data = buf + 1;
        k.mv_size = ck.mv_size - 1;

        rc = mdb_get(txn, kind == SD_STORE_KIND_LEGACY ? st->legacy
                                                       : st->identities,
                     &k, &v);
        mark = (rc == 0) ? SD_CREV_LIVE : SD_CREV_TOMB;

        rc = (rc == MDB_NOTFOUND) ? 0 : rc;

        if (rc == 0) {
            rc = sd_store_crev_set(st, txn, &ck, rev, mark);
        }
    }

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_get_rev(sd_store_t *st, char kind, const char *ws, size_t ws_len,
    const char *id, size_t id_len, int64_t *rev, int *tombstone)
{
    int       rc;
    char      buf[SD_STORE_MAX_KEY + 1], mark;
    MDB_txn  *txn;
    MDB_val   ck;

    *rev = 0;
    *tombstone = 0;

    ck.mv_data = buf;
    ck.mv_size = sd_store_crev_key(kind, ws, ws_len, id, id_len, buf);

    if (ck.mv_size == 0) {
        return SD_STORE_OK;
    }

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_crev_get(st, txn, &ck, rev, &mark);
    *tombstone = (rc == 0 && *rev && mark == SD_CREV_TOMB);

    mdb_txn_abort(txn);

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_applied_rev(sd_store_t *st, int64_t *rev)
{
    int       rc;
    uint64_t  v;
    MDB_txn  *txn;

    *rev = 0;

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_meta_get64(st, txn, SD_APPLIED_KEY, &v);
    *rev = (rc == 0) ? (int64_t) v : 0;

    mdb_txn_abort(txn);

    return sd_store_map(st, rc);
}


/*
 * A remote identity row's claim, from its flags as sd_store_update()
 * writes it, with no tree check: etcd decided.  Another workspace's claim
 * on the name is replaced (*replaced = 1 when it was not a failed one).
 */

static int
sd_store_apply_claim(sd_store_t *st, MDB_txn *txn, const char *ws,
    size_t ws_len, const char *id, size_t id_len, const sd_record_t *rec,
    int *replaced)
{
    int       rc, owner;
    char      tk[SD_STORE_MAX_KEY + 1], cv[SD_STORE_MAX_KEY + 3];
    size_t    tk_len;
    MDB_val   ck, cval;

    tk_len = sd_store_tree_key(id, id_len, tk, sizeof(tk));
    if (tk_len == 0) {
        return 0;
    }

    ck.mv_data = tk;
    ck.mv_size = tk_len;

    rc = mdb_get(txn, st->claims, &ck, &cval);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    owner = (rc == 0 && sd_store_claim_owner(&cval, ws, ws_len, id, id_len));

    if (rec->flags & SD_REC_FAILED) {
        /* released (kept marked failed); another's claim is theirs */
        return owner ? sd_store_release_claim(st, txn, ws, ws_len, id,
                                              id_len, &ck, 1)
                     : 0;
    }

    if (rc == 0 && !owner
        && !(cval.mv_size > ws_len && memcmp(cval.mv_data, ws, ws_len) == 0
             && ((char *) cval.mv_data)[ws_len] == '\0')
        && ((char *) cval.mv_data)[cval.mv_size - 1] != SD_CLAIM_FAILED)
    {
        *replaced = 1;
    }

    cval.mv_data = cv;
    cval.mv_size = sd_store_claim_value(cv, ws, ws_len, id, id_len, 0);

    return mdb_put(txn, st->claims, &ck, &cval, 0);
}


/* removes a legacy row with its legacy claim: 0, MDB_NOTFOUND or error */

static int
sd_store_legacy_remove(sd_store_t *st, MDB_txn *txn, const MDB_val *k,
    size_t ws_len)
{
    int          rc;
    MDB_val      v;
    const char  *ws = k->mv_data;

    rc = mdb_get(txn, st->legacy, (MDB_val *) k, &v);
    if (rc != 0) {
        return rc;
    }

    if (v.mv_size > 1) {
        sd_store_tally_note(st, 1, 1, ((unsigned char *) v.mv_data)[1], NULL);
    }

    rc = mdb_del(txn, st->legacy, (MDB_val *) k, NULL);
    if (rc != 0) {
        return rc;
    }

    return sd_store_legacy_unclaim(st, txn, ws, ws_len, ws + ws_len + 1,
                                   k->mv_size - ws_len - 1);
}


/* writes one applied change (the decision is made): 0 or an LMDB error */

static int
sd_store_apply_write(sd_store_t *st, MDB_txn *txn, sd_store_remote_t *ch,
    MDB_val *k)
{
    int          rc, had;
    unsigned     old;
    MDB_val      v;

    if (ch->kind == SD_STORE_KIND_ROW) {
        if (ch->op == SD_STORE_OP_DELETE) {
            rc = sd_store_delete_row(st, txn, ch->ws, ch->ws_len, ch->id,
                                     ch->id_len);
            return (rc == MDB_NOTFOUND) ? 0 : rc;
        }

        rc = sd_store_apply_claim(st, txn, ch->ws, ch->ws_len, ch->id,
                                  ch->id_len, ch->rec, &ch->replaced);
        if (rc != 0) {
            return rc;
        }

        return sd_store_put_identity(st, txn, k, ch->rec);
    }

    if (ch->op == SD_STORE_OP_DELETE) {
        rc = sd_store_legacy_remove(st, txn, k, ch->ws_len);
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    rc = mdb_get(txn, st->legacy, k, &v);
    had = (rc == 0 && v.mv_size > 1);
    old = had ? ((unsigned char *) v.mv_data)[1] : 0;

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    rc = sd_store_put_record(txn, st->legacy, k, ch->rec);
    if (rc != 0) {
        return rc;
    }

    sd_store_tally_note(st, 1, had, old, ch->rec);

    return sd_store_legacy_claim(st, txn, ch->ws, ch->ws_len, ch->id,
                                 ch->id_len, &ch->replaced);
}


/*
 * One change of sd_store_apply_remote(), in its transaction: 0 (applied
 * 1 written, 0 skipped, -1 refused: a key too long, a put without a
 * record, an unknown kind or op) or an LMDB error.
 */

static int
sd_store_apply_one(sd_store_t *st, MDB_txn *txn, sd_store_remote_t *ch,
    int64_t applied)
{
    int               rc;
    char              cbuf[SD_STORE_MAX_KEY + 1], mark;
    int64_t           have;
    MDB_val           ck, k, v;
    sd_etcd_apply_e   verdict;

    ch->applied = 0;
    ch->replaced = 0;

    ck.mv_data = cbuf;
    ck.mv_size = sd_store_crev_key(ch->kind, ch->ws, ch->ws_len, ch->id,
                                   ch->id_len, cbuf);

    if (ck.mv_size == 0
        || (ch->kind != SD_STORE_KIND_ROW && ch->kind != SD_STORE_KIND_LEGACY)
        || (ch->op != SD_STORE_OP_PUT && ch->op != SD_STORE_OP_DELETE)
        || (ch->op == SD_STORE_OP_PUT && ch->rec == NULL)
        || memchr(ch->ws, '\0', ch->ws_len) != NULL)
    {
        ch->applied = -1;
        return 0;
    }

    k.mv_data = cbuf + 1;
    k.mv_size = ck.mv_size - 1;

    if (ch->resync) {
        v.mv_data = "";
        v.mv_size = 0;

        rc = mdb_put(txn, st->cseen, &ck, &v, 0);
        if (rc != 0) {
            return rc;
        }
    }

    rc = sd_store_crev_get(st, txn, &ck, &have, &mark);
    if (rc != 0) {
        return rc;
    }

    verdict = sd_etcd_apply(have, applied,
                            ch->op == SD_STORE_OP_DELETE
                                ? SD_ETCD_EVENT_DELETE : SD_ETCD_EVENT_PUT,
                            ch->rev, ch->from_watch);

    if (verdict == SD_ETCD_SKIP) {
        /*
         * This node's own add, which its watch applied first (with no
         * event, as every watched change): its events are made now.
         */
        if (ch->events && ch->kind == SD_STORE_KIND_ROW
            && ch->op == SD_STORE_OP_PUT)
        {
            return sd_store_events_note(st, txn, &k, NULL, ch->rec);
        }

        return 0;
    }

    /*
     * A local write of the key not published yet is newer than anything
     * etcd sends now (its publish follows and wins): the watch must not
     * put an older row back under it, or a read-modify-write on this node
     * would build on it.
     */
    if (ch->from_watch) {
        rc = sd_store_outbox_holds(st, txn, ch->kind, &k);
        if (rc != MDB_NOTFOUND) {
            return rc;
        }
    }

    rc = sd_store_apply_write(st, txn, ch, &k);
    if (rc != 0) {
        return rc;
    }

    ch->applied = 1;

    return sd_store_crev_set(st, txn, &ck, ch->rev,
                             verdict == SD_ETCD_APPLY_DELETE ? SD_CREV_TOMB
                                                             : SD_CREV_LIVE);
}


/* meta applied_rev = max(stored, rev) (rev 0: as is), tombstones dropped */

static int
sd_store_applied_set(sd_store_t *st, MDB_txn *txn, int64_t rev, int force)
{
    int       rc;
    uint64_t  old;

    rc = sd_store_meta_get64(st, txn, SD_APPLIED_KEY, &old);
    if (rc != 0) {
        return rc;
    }

    if (force || (rev > 0 && (uint64_t) rev > old)) {
        rc = sd_store_meta_put64(st, txn, SD_APPLIED_KEY, (uint64_t) rev);
        old = (uint64_t) rev;
    }

    if (rc != 0) {
        return rc;
    }

    return sd_store_tombs_drop(st, txn, (int64_t) old);
}


sd_store_rc_e
sd_store_apply_remote(sd_store_t *st, sd_store_remote_t *changes, size_t n,
    int64_t applied_rev, size_t *replaced)
{
    int        rc;
    size_t     i, count;
    uint64_t   applied;
    MDB_txn   *txn;

    count = 0;

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    st->applying = 1;

    rc = sd_store_meta_get64(st, txn, SD_APPLIED_KEY, &applied);

    for (i = 0; rc == 0 && i < n; i++) {
        st->apply_events = changes[i].events;
        rc = sd_store_apply_one(st, txn, &changes[i], (int64_t) applied);
        count += changes[i].replaced;
    }

    st->apply_events = 0;

    if (rc == 0) {
        rc = sd_store_applied_set(st, txn, applied_rev, 0);
    }

    st->applying = 0;

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
        memset(&st->delta, 0, sizeof(sd_store_tally_t));
        count = 0;

        for (i = 0; i < n; i++) {
            changes[i].applied = 0;
            changes[i].replaced = 0;
        }
    }

    if (replaced) {
        *replaced = count;
    }

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_resync_begin(sd_store_t *st)
{
    int       rc;
    MDB_txn  *txn;

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = mdb_drop(txn, st->cseen, 0);

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

    return sd_store_map(st, rc);
}


/* every key with an outbox entry counts as seen: it is published later */

static int
sd_store_resync_keep_outbox(sd_store_t *st, MDB_txn *txn)
{
    int          rc;
    char         buf[SD_STORE_MAX_KEY + 1];
    MDB_val      k, v, key, ck, e;
    MDB_cursor  *cur;

    rc = mdb_cursor_open(txn, st->cout, &cur);
    if (rc != 0) {
        return rc;
    }

    e.mv_data = "";
    e.mv_size = 0;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (sd_store_out_key(&v, &key) != 0
            || key.mv_size + 1 > SD_STORE_MAX_KEY)
        {
            continue;
        }

        buf[0] = ((char *) v.mv_data)[0];
        memcpy(buf + 1, key.mv_data, key.mv_size);
        ck.mv_data = buf;
        ck.mv_size = key.mv_size + 1;

        rc = mdb_put(txn, st->cseen, &ck, &e, 0);
        if (rc != 0) {
            break;
        }
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


/* removes the rows of one kind that the resync did not see */

static int
sd_store_resync_sweep(sd_store_t *st, MDB_txn *txn, char kind,
    size_t *removed)
{
    int          rc;
    char         buf[SD_STORE_MAX_KEY + 1];
    size_t       ws_len;
    MDB_dbi      dbi;
    MDB_val      k, v, ck;
    const char  *nul;
    MDB_cursor  *cur;

    dbi = (kind == SD_STORE_KIND_ROW) ? st->identities : st->legacy;

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; ) {
        nul = memchr(k.mv_data, '\0', k.mv_size);

        if (nul == NULL || k.mv_size + 1 > SD_STORE_MAX_KEY) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }

        buf[0] = kind;
        memcpy(buf + 1, k.mv_data, k.mv_size);
        ck.mv_data = buf;
        ck.mv_size = k.mv_size + 1;

        rc = mdb_get(txn, st->cseen, &ck, &v);

        if (rc == 0) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }

        if (rc != MDB_NOTFOUND) {
            break;
        }

        /* gone from etcd: removed with no tombstone (applied_rev is R) */
        ws_len = (size_t) (nul - (const char *) k.mv_data);
        k.mv_data = buf + 1;

        rc = (kind == SD_STORE_KIND_ROW)
             ? sd_store_delete_row(st, txn, buf + 1, ws_len,
                                   buf + 1 + ws_len + 1,
                                   k.mv_size - ws_len - 1)
             : sd_store_legacy_remove(st, txn, &k, ws_len);

        if (rc == 0) {
            rc = sd_store_crev_set(st, txn, &ck, 0, SD_CREV_LIVE);
        }

        if (rc != 0) {
            break;
        }

        (*removed)++;

        /* the next key after the removed one */
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


sd_store_rc_e
sd_store_resync_end(sd_store_t *st, int64_t rev, size_t *removed)
{
    int       rc;
    size_t    count;
    MDB_txn  *txn;

    count = 0;

    if (rev <= 0) {
        return SD_STORE_ERROR;
    }

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    st->applying = 1;

    rc = sd_store_resync_keep_outbox(st, txn);

    if (rc == 0) {
        rc = sd_store_resync_sweep(st, txn, SD_STORE_KIND_ROW, &count);
    }

    if (rc == 0) {
        rc = sd_store_resync_sweep(st, txn, SD_STORE_KIND_LEGACY, &count);
    }

    if (rc == 0) {
        rc = sd_store_applied_set(st, txn, rev, 1);
    }

    if (rc == 0) {
        rc = mdb_drop(txn, st->cseen, 0);
    }

    st->applying = 0;

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
        count = 0;
    }

    if (removed) {
        *removed = count;
    }

    return sd_store_map(st, rc);
}


/* ---- cluster mode: may this store resync? (the import, issue 18) ------- */


#define SD_IMPORTED_KEY     "cluster_imported"


sd_store_rc_e
sd_store_set_cluster_imported(sd_store_t *st)
{
    int       rc;
    MDB_txn  *txn;

    rc = sd_store_begin(st, 0, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_meta_put64(st, txn, SD_IMPORTED_KEY, 1);

    if (rc == 0) {
        rc = sd_store_commit(st, txn, 0);

    } else {
        mdb_txn_abort(txn);
    }

    return sd_store_map(st, rc);
}


sd_store_rc_e
sd_store_cluster_state(sd_store_t *st, sd_store_cluster_e *state)
{
    int       rc;
    uint64_t  applied, imported, seq;
    MDB_txn  *txn;
    MDB_stat  rows, legacy;

    *state = SD_STORE_CLUSTER_LOCAL;
    applied = 0;
    imported = 0;
    seq = 0;

    rc = sd_store_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return sd_store_map(st, rc);
    }

    rc = sd_store_meta_get64(st, txn, SD_APPLIED_KEY, &applied);

    if (rc == 0) {
        rc = sd_store_meta_get64(st, txn, SD_IMPORTED_KEY, &imported);
    }

    if (rc == 0) {
        rc = sd_store_meta_get64(st, txn, SD_OUT_SEQ_KEY, &seq);
    }

    if (rc == 0) {
        rc = mdb_stat(txn, st->identities, &rows);
    }

    if (rc == 0) {
        rc = mdb_stat(txn, st->legacy, &legacy);
    }

    mdb_txn_abort(txn);

    if (rc == 0) {
        *state = applied ? SD_STORE_CLUSTER_SYNCED
                 : imported ? SD_STORE_CLUSTER_IMPORTED
                 : seq ? SD_STORE_CLUSTER_JOINED
                 : (rows.ms_entries || legacy.ms_entries)
                   ? SD_STORE_CLUSTER_LOCAL : SD_STORE_CLUSTER_EMPTY;
    }

    return sd_store_map(st, rc);
}


int
sd_store_claim_held(sd_store_t *st, const char *ws, size_t ws_len,
    const char *id, size_t id_len)
{
    return sd_store_claim_is(st, ws, ws_len, id, id_len, 1);
}
