/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: cluster mode, the node's side of the
 * replication (docs/cluster.md).  One worker per node, the one that holds
 * the store's refresher lease, runs it:
 *
 *   publish   every row write of this node's store left an entry in its
 *             outbox (in the write's own LMDB transaction); they go to etcd
 *             one Txn each, in turns of the workspaces that have entries
 *             and in order within each, and leave the outbox once
 *             committed;
 *   watch     etcd's changes under the prefix, from the revision the store
 *             applied last, are applied to the store (a late change never
 *             moves a row backwards; sd_etcd_apply);
 *   resync    at the first start, and when the revision to watch from was
 *             compacted, the whole prefix is read at one revision and
 *             replaces the store's rows;
 *   lease     the node's key and the cluster's refresher leadership
 *             (ngx_http_sender_domains_etcd.c).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_cluster.h"
#include "ngx_http_sender_domains_etcd.h"
#include "sd_etcd.h"
#include "sd_row.h"


/* an empty outbox: the shared kick looked at this often, the store
 * itself at least every SYNC_LOOK (writes of this worker, or one that
 * held no answer, kick nobody) */
#define NGX_HTTP_SENDER_DOMAINS_SYNC_IDLE        2       /* ms */
#define NGX_HTTP_SENDER_DOMAINS_SYNC_LOOK        50      /* ms */
#define NGX_HTTP_SENDER_DOMAINS_SYNC_BACKOFF_MAX 2000    /* ms */
#define NGX_HTTP_SENDER_DOMAINS_SYNC_PAGE        500     /* keys */
#define NGX_HTTP_SENDER_DOMAINS_SYNC_STATE       500     /* ms */
/* etcd is reachable when a call succeeded this recently (keep-alives
 * come every lease TTL / 3) */
#define NGX_HTTP_SENDER_DOMAINS_SYNC_REACH       10000   /* ms */
/* a new cluster worker's time to reach etcd before it judges */
#define NGX_HTTP_SENDER_DOMAINS_SYNC_GRACE       2000    /* ms */
/* a single-node store not imported yet: checked again this often */
#define NGX_HTTP_SENDER_DOMAINS_SYNC_GUARD       5000    /* ms */


typedef struct {
    ngx_uint_t                          active;
    ngx_uint_t                          joined;     /* lease, publish */
    ngx_uint_t                          guard_logged;
    ngx_msec_t                          started;
    ngx_log_t                          *log;

    ngx_event_t                         publish_ev;
    ngx_pool_t                         *publish_pool;   /* a Txn in flight */
    ngx_atomic_uint_t                   kick;           /* the last seen */
    ngx_msec_t                          looked;         /* empty at */
    sd_store_out_t                      out;
    ngx_msec_t                          backoff;
    /* the workspace of the last entry published: the next turn's after */
    u_char                              turn[SD_STORE_MAX_KEY];
    size_t                              turn_len;
    ngx_uint_t                          turn_set;

    ngx_event_t                         watch_ev;       /* (re)start */
    ngx_http_sender_domains_etcd_watch_t  *watch;
    int64_t                             applied;

    ngx_uint_t                          resyncing;
    ngx_uint_t                          resync_needed;  /* compacted */
    ngx_pool_t                         *resync_pool;
    int64_t                             resync_rev;
    u_char                              resync_key[SD_ETCD_KEY_MAX];
    size_t                              resync_key_len;

    ngx_event_t                         state_ev;
    ngx_connection_t                    conn;           /* for the events */
} ngx_http_sender_domains_sync_t;


/* changes from etcd, turned into records for one store transaction */
typedef struct {
    sd_store_remote_t                  *changes;
    sd_record_t                        *recs;
    json_t                            **rows;
    char                              **texts;
    char                               *ws;         /* n * SD_WORKSPACE_MAX */
    size_t                              n;
} ngx_http_sender_domains_sync_batch_t;


/* one more in a counter of the node's shared state (for the metrics) */
#define ngx_http_sender_domains_sync_count(field)                          \
    do {                                                                   \
        ngx_http_sender_domains_cluster_sh_t  *sh_;                        \
                                                                           \
        sh_ = ngx_http_sender_domains_cluster_sh();                        \
        if (sh_) {                                                         \
            (void) ngx_atomic_fetch_add(&sh_->field, 1);                   \
        }                                                                  \
    } while (0)


static void ngx_http_sender_domains_sync_start(void);
static void ngx_http_sender_domains_sync_stop(void);
static ngx_uint_t ngx_http_sender_domains_sync_idle(void);
static void ngx_http_sender_domains_sync_publish(ngx_event_t *ev);
static void ngx_http_sender_domains_sync_published(
    ngx_http_sender_domains_etcd_call_t *call);
static void ngx_http_sender_domains_sync_publish_later(ngx_uint_t failed);
static ngx_int_t ngx_http_sender_domains_sync_guard_rev(
    sd_etcd_publish_t *p);
static void ngx_http_sender_domains_sync_overtaken(sd_etcd_txn_t *txn);
static void ngx_http_sender_domains_sync_drop(ngx_event_t *ev);
static void ngx_http_sender_domains_sync_turn(void);
static void ngx_http_sender_domains_sync_join(void);
static ngx_int_t ngx_http_sender_domains_sync_guard(void);
static void ngx_http_sender_domains_sync_watch(ngx_event_t *ev);
static void ngx_http_sender_domains_sync_line(void *data, const char *line,
    size_t len);
static void ngx_http_sender_domains_sync_ended(void *data,
    ngx_http_sender_domains_etcd_watch_end_e reason);
static ngx_int_t ngx_http_sender_domains_sync_events(sd_etcd_watch_t *w);
static ngx_int_t ngx_http_sender_domains_sync_batch_init(
    ngx_http_sender_domains_sync_batch_t *b, ngx_pool_t *pool, size_t max);
static void ngx_http_sender_domains_sync_batch_add(
    ngx_http_sender_domains_sync_batch_t *b, const sd_etcd_kv_t *kv,
    ngx_uint_t delete, ngx_uint_t from_watch);
static void ngx_http_sender_domains_sync_batch_free(
    ngx_http_sender_domains_sync_batch_t *b);
static void ngx_http_sender_domains_sync_resync(void);
static void ngx_http_sender_domains_sync_page(void);
static void ngx_http_sender_domains_sync_paged(
    ngx_http_sender_domains_etcd_call_t *call);
static ngx_int_t ngx_http_sender_domains_sync_page_apply(sd_etcd_txn_t *txn);
static void ngx_http_sender_domains_sync_state(ngx_event_t *ev);


static ngx_http_sender_domains_sync_t  ngx_http_sender_domains_sync;


static ngx_http_sender_domains_cluster_conf_t *
ngx_http_sender_domains_sync_conf(void)
{
    return ngx_http_sender_domains_cluster_conf((ngx_cycle_t *) ngx_cycle);
}


/* in every worker: this node's writes go to the outbox from now on */

ngx_int_t
ngx_http_sender_domains_cluster_init_process(ngx_cycle_t *cycle)
{
    ngx_http_sender_domains_sync_t          *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    cc = ngx_http_sender_domains_cluster_conf(cycle);
    if (cc == NULL || ngx_http_sender_domains_store() == NULL) {
        return NGX_OK;
    }

    sd_store_set_outbox(ngx_http_sender_domains_store(), 1);

    ngx_memzero(s, sizeof(ngx_http_sender_domains_sync_t));
    s->log = cycle->log;
    s->conn.fd = (ngx_socket_t) -1;

    s->publish_ev.handler = ngx_http_sender_domains_sync_publish;
    s->watch_ev.handler = ngx_http_sender_domains_sync_watch;
    s->state_ev.handler = ngx_http_sender_domains_sync_state;
    s->publish_ev.data = &s->conn;
    s->watch_ev.data = &s->conn;
    s->state_ev.data = &s->conn;
    s->publish_ev.log = cycle->log;
    s->watch_ev.log = cycle->log;
    s->state_ev.log = cycle->log;
    s->publish_ev.cancelable = 1;
    s->watch_ev.cancelable = 1;
    s->state_ev.cancelable = 1;

    return NGX_OK;
}


void
ngx_http_sender_domains_cluster_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_sender_domains_sync_conf() == NULL) {
        return;
    }

    ngx_http_sender_domains_sync_stop();
    ngx_http_sender_domains_etcd_exit(cycle);
}


/*
 * The refresher's tick, in every worker: the worker that holds the store's
 * lease runs the node's side of the cluster; one that lost it stops.
 */

void
ngx_http_sender_domains_cluster_tick(ngx_uint_t holds_lease)
{
    ngx_http_sender_domains_sync_t  *s = &ngx_http_sender_domains_sync;

    if (ngx_http_sender_domains_sync_conf() == NULL
        || ngx_http_sender_domains_store() == NULL)
    {
        return;
    }

    if (holds_lease && !s->active) {
        ngx_http_sender_domains_sync_start();

    } else if (!holds_lease && s->active) {
        ngx_http_sender_domains_sync_stop();
    }
}


/* whether this node's refresher may poll SES: the cluster's leader only */

ngx_uint_t
ngx_http_sender_domains_cluster_refresher_runs(void)
{
    if (ngx_http_sender_domains_sync_conf() == NULL) {
        return 1;
    }

    return ngx_http_sender_domains_sync.active
           && ngx_http_sender_domains_etcd_is_leader();
}


static void
ngx_http_sender_domains_sync_start(void)
{
    ngx_http_sender_domains_sync_t          *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    cc = ngx_http_sender_domains_sync_conf();

    ngx_log_error(NGX_LOG_INFO, s->log, 0,
                  "sender_domains: worker %P runs node \"%V\"'s side of the "
                  "cluster (publish, watch, lease)", ngx_pid, &cc->node);

    s->active = 1;
    s->started = ngx_current_msec;
    s->joined = 0;
    s->backoff = 0;

    /* the lease and the publisher start once the store may join (watch) */
    ngx_add_timer(&s->watch_ev, 1);
    ngx_add_timer(&s->state_ev, 1);
}


/*
 * The node joins the cluster: its lease (node key, leadership) and the
 * publisher.  Not before its store may be resynced: a node that is not in
 * the cluster holds no lease, so it neither leads the refresher nor takes
 * writes (they answer 503 while etcd is not reached through the lease).
 */

static void
ngx_http_sender_domains_sync_join(void)
{
    ngx_http_sender_domains_sync_t          *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    cc = ngx_http_sender_domains_sync_conf();

    s->joined = 1;

    if (ngx_http_sender_domains_etcd_lease_start(s->log, &cc->etcd,
                                      (char *) cc->prefix.data,
                                      (char *) cc->node.data, cc->lease_ttl)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "sender_domains: node \"%V\" could not start its "
                      "cluster lease", &cc->node);
    }

    ngx_add_timer(&s->publish_ev, 1);
}


static void
ngx_http_sender_domains_sync_stop(void)
{
    ngx_http_sender_domains_sync_t  *s = &ngx_http_sender_domains_sync;

    if (!s->active) {
        return;
    }

    s->active = 0;
    s->joined = 0;

    if (s->publish_ev.timer_set) {
        ngx_del_timer(&s->publish_ev);
    }

    if (s->watch_ev.timer_set) {
        ngx_del_timer(&s->watch_ev);
    }

    if (s->state_ev.timer_set) {
        ngx_del_timer(&s->state_ev);
    }

    if (s->watch) {
        ngx_http_sender_domains_etcd_watch_stop(s->watch);
        s->watch = NULL;
    }

    /* a call in flight is cancelled with its pool */
    if (s->publish_pool) {
        ngx_destroy_pool(s->publish_pool);
        s->publish_pool = NULL;
    }

    if (s->resync_pool) {
        ngx_destroy_pool(s->resync_pool);
        s->resync_pool = NULL;
    }

    s->resyncing = 0;

    ngx_http_sender_domains_etcd_lease_stop();
}


/* ---- the node's shared state, seen by every worker ---- */

static void
ngx_http_sender_domains_sync_state(ngx_event_t *ev)
{
    ngx_uint_t                             reachable;
    ngx_http_sender_domains_sync_t        *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_cluster_sh_t  *sh;

    sh = ngx_http_sender_domains_cluster_sh();

    if (sh == NULL || !s->active) {
        return;
    }

    reachable = ngx_http_sender_domains_etcd_reachable(
                    NGX_HTTP_SENDER_DOMAINS_SYNC_REACH);

    /*
     * A worker that just took over (a reload, a crash) has not called
     * etcd yet: the node's state stays what the last one saw until this
     * one had time to, so a reload does not refuse writes for a moment.
     */
    if (!reachable
        && ngx_current_msec - s->started < NGX_HTTP_SENDER_DOMAINS_SYNC_GRACE)
    {
        reachable = sh->reachable;
    }

    if (sh->reachable && !reachable) {
        ngx_log_error(NGX_LOG_WARN, s->log, 0,
                      "sender_domains: the cluster (etcd) is out of reach "
                      "of node \"%V\"; writes answer 503 until it is back",
                      &ngx_http_sender_domains_sync_conf()->node);

    } else if (!sh->reachable && reachable) {
        ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                      "sender_domains: node \"%V\" reaches the cluster "
                      "(etcd)", &ngx_http_sender_domains_sync_conf()->node);
    }

    sh->reachable = reachable;
    sh->leader = ngx_http_sender_domains_etcd_is_leader();
    sh->live_nodes = ngx_http_sender_domains_etcd_live_nodes();
    sh->revision = (ngx_atomic_uint_t) s->applied;

    ngx_add_timer(ev, NGX_HTTP_SENDER_DOMAINS_SYNC_STATE);
}


/*
 * ---- publish: the outbox, in turns of workspaces ----
 *
 * One workspace flooding writes must not hold back another's
 * acknowledgements (a held answer waits for its own workspace's entries
 * only): each Txn goes to the next workspace after the last one served
 * that has entries, in seq order within a workspace (its rows are
 * last-writer-wins in etcd's order).  docs/cluster.md, "Publishing".
 */

/*
 * 1: nothing new to publish since the outbox was found empty: no write
 * kicked (a held answer) and the last look at the store is recent.
 */

static ngx_uint_t
ngx_http_sender_domains_sync_idle(void)
{
    ngx_atomic_uint_t                      kick;
    ngx_http_sender_domains_sync_t        *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_cluster_sh_t  *sh;

    sh = ngx_http_sender_domains_cluster_sh();
    kick = sh->kick;

    if (kick != s->kick
        || ngx_current_msec - s->looked >= NGX_HTTP_SENDER_DOMAINS_SYNC_LOOK)
    {
        s->kick = kick;
        return 0;
    }

    return 1;
}


static void
ngx_http_sender_domains_sync_publish(ngx_event_t *ev)
{
    char                                    *body;
    sd_store_rc_e                            rc;
    sd_etcd_publish_t                        p;
    ngx_http_sender_domains_sync_t          *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    if (!s->active || s->publish_pool) {
        return;
    }

    if (ngx_http_sender_domains_sync_idle()) {
        ngx_add_timer(ev, NGX_HTTP_SENDER_DOMAINS_SYNC_IDLE);
        return;
    }

    cc = ngx_http_sender_domains_sync_conf();

    s->publish_pool = ngx_create_pool(4096, s->log);
    if (s->publish_pool == NULL) {
        ngx_http_sender_domains_sync_publish_later(1);
        return;
    }

    rc = sd_store_outbox_next_fair(ngx_http_sender_domains_store(),
                                   s->turn_set ? (char *) s->turn : NULL,
                                   s->turn_len,
                                   ngx_http_sender_domains_palloc,
                                   s->publish_pool, &s->out);

    if (rc != SD_STORE_OK) {
        ngx_destroy_pool(s->publish_pool);
        s->publish_pool = NULL;
        s->looked = ngx_current_msec;
        ngx_add_timer(ev, NGX_HTTP_SENDER_DOMAINS_SYNC_IDLE);
        return;
    }

    ngx_memzero(&p, sizeof(sd_etcd_publish_t));
    p.prefix = (char *) cc->prefix.data;
    p.kind = s->out.kind;
    p.delete = (s->out.op == SD_STORE_OP_DELETE);
    p.release_claim = (s->out.kind == SD_ETCD_KIND_ROW
                       && (s->out.flags & (SD_REC_FAILED|SD_REC_UNPROVEN)));
    p.ws = s->out.ws;
    p.ws_len = s->out.ws_len;
    p.id = s->out.id;
    p.id_len = s->out.id_len;
    p.json = s->out.json;
    p.json_len = s->out.json_len;

    if (s->out.redoable
        && ngx_http_sender_domains_sync_guard_rev(&p) != NGX_OK)
    {
        /* a poll of a row this node saw deleted: nothing to publish */
        ngx_http_sender_domains_sync_drop(ev);
        return;
    }

    body = sd_etcd_publish_txn(&p);

    if (body == NULL) {
        /* a key that cannot be written: it would block the outbox */
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "sender_domains: outbox entry %uL of workspace \"%V\" "
                      "cannot be published (key too long); dropped",
                      s->out.seq, ngx_http_sender_domains_log_esc(
                          &(ngx_str_t) { s->out.ws_len,
                                         (u_char *) s->out.ws }));
        ngx_http_sender_domains_sync_drop(ev);
        return;
    }

    if (ngx_http_sender_domains_cluster_post(s->publish_pool, s->log,
                                             "/v3/kv/txn", body,
                                   ngx_http_sender_domains_sync_published, s)
        != NGX_OK)
    {
        ngx_destroy_pool(s->publish_pool);
        s->publish_pool = NULL;
        ngx_http_sender_domains_sync_publish_later(1);
    }
}


static void
ngx_http_sender_domains_sync_published(
    ngx_http_sender_domains_etcd_call_t *call)
{
    sd_etcd_txn_t                    txn;
    sd_store_t                      *st;
    ngx_http_sender_domains_sync_t  *s = call->data;

    st = ngx_http_sender_domains_store();
    ngx_memzero(&txn, sizeof(sd_etcd_txn_t));

    if (!ngx_http_sender_domains_etcd_ok(call)
        || sd_etcd_parse_txn((char *) call->body.data, call->body.len, &txn)
           != SD_ETCD_OK)
    {
        sd_etcd_txn_free(&txn);
        ngx_destroy_pool(s->publish_pool);
        s->publish_pool = NULL;
        ngx_http_sender_domains_sync_publish_later(1);
        return;
    }

    if (s->out.redoable && !txn.succeeded) {
        ngx_http_sender_domains_sync_overtaken(&txn);

    } else {
        /* its own echo from the watch is then skipped */
        (void) sd_store_set_rev(st, s->out.kind, s->out.ws, s->out.ws_len,
                                s->out.id, s->out.id_len, txn.revision);
        (void) sd_store_outbox_done(st, s->out.seq);
    }

    ngx_http_sender_domains_sync_turn();

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, s->log, 0,
                   "sender_domains: outbox entry %uL (%c%c) published at "
                   "revision %L", s->out.seq, s->out.kind, s->out.op,
                   txn.revision);

    sd_etcd_txn_free(&txn);
    ngx_destroy_pool(s->publish_pool);
    s->publish_pool = NULL;

    ngx_http_sender_domains_sync_publish_later(0);
}


/*
 * A redoable entry (a poll's, worked out from this node's copy of the
 * row) is published only over the revision of that copy: the key's
 * revision as this node knows it, which the watch leaves as it is while
 * the node has a write of the key unpublished.  NGX_DECLINED: the node
 * saw the row deleted since.
 */

static ngx_int_t
ngx_http_sender_domains_sync_guard_rev(sd_etcd_publish_t *p)
{
    int                              tomb;
    int64_t                          rev;
    ngx_http_sender_domains_sync_t  *s = &ngx_http_sender_domains_sync;

    if (sd_store_get_rev(ngx_http_sender_domains_store(), s->out.kind,
                         s->out.ws, s->out.ws_len, s->out.id, s->out.id_len,
                         &rev, &tomb)
        != SD_STORE_OK)
    {
        rev = 0;
        tomb = 0;
    }

    if (tomb) {
        return NGX_DECLINED;
    }

    p->guard = 1;
    p->guard_rev = rev;

    return NGX_OK;
}


/*
 * The guard failed: the row changed in etcd after this node's copy (a
 * person's write through another node, a delete).  The poll's entry is
 * dropped and etcd's row, read by the same Txn, written to the store in
 * its place; the row stays due and is polled again, from that row.
 */

static void
ngx_http_sender_domains_sync_overtaken(sd_etcd_txn_t *txn)
{
    char                                   key[SD_ETCD_KEY_MAX];
    ngx_int_t                              rc;
    sd_etcd_kv_t                           gone;
    sd_store_rc_e                          src;
    sd_etcd_resp_t                        *r;
    ngx_http_sender_domains_sync_t        *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_sync_batch_t   b;

    (void) sd_store_outbox_overtaken(ngx_http_sender_domains_store(),
                                     s->out.seq);

    ngx_log_error(NGX_LOG_INFO, s->log, 0,
                  "sender_domains: workspace \"%V\" identity \"%V\": a "
                  "poll's result was made from an older copy of the row, "
                  "which changed in the cluster meanwhile; the cluster's row "
                  "is kept and polled again",
                  ngx_http_sender_domains_log_esc(
                      &(ngx_str_t) { s->out.ws_len, (u_char *) s->out.ws }),
                  ngx_http_sender_domains_log_esc(
                      &(ngx_str_t) { s->out.id_len, (u_char *) s->out.id }));

    r = txn->nresponses ? &txn->responses[0] : NULL;

    if (r == NULL || r->type != SD_ETCD_RESP_RANGE) {
        return;         /* the watch brings the row */
    }

    rc = ngx_http_sender_domains_sync_batch_init(&b, s->publish_pool, 1);
    if (rc != NGX_OK) {
        return;
    }

    /*
     * Applied as a read of etcd (a watch event, a resync's key), not as a
     * Txn's own answer: the watch has most likely passed this revision
     * already, with the row's event held back by the poll's entry; and a
     * person's write of the key still waiting in the outbox stays (it is
     * published next and is the newer row).
     */
    if (r->nkvs) {
        ngx_http_sender_domains_sync_batch_add(&b, &r->kvs[0], 0, 1);

    } else {
        /* deleted: a tombstone at the answer's revision, after the delete */
        ngx_memzero(&gone, sizeof(sd_etcd_kv_t));
        gone.key = key;
        gone.key_len = sd_etcd_any_row_key(
                           (char *) ngx_http_sender_domains_sync_conf()
                               ->prefix.data,
                           s->out.kind, s->out.ws, s->out.ws_len, s->out.id,
                           s->out.id_len, key, sizeof(key));
        gone.mod_revision = txn->revision;

        if (gone.key_len) {
            ngx_http_sender_domains_sync_batch_add(&b, &gone, 1, 1);
        }
    }

    src = sd_store_apply_remote(ngx_http_sender_domains_store(), b.changes,
                                b.n, 0, NULL);
    ngx_http_sender_domains_sync_batch_free(&b);

    if (src != SD_STORE_OK) {
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "sender_domains: the cluster's row \"%V\" of "
                      "workspace \"%V\" could not be written to the store: "
                      "%s; the watch brings it",
                      ngx_http_sender_domains_log_esc(
                          &(ngx_str_t) { s->out.id_len,
                                         (u_char *) s->out.id }),
                      ngx_http_sender_domains_log_esc(
                          &(ngx_str_t) { s->out.ws_len,
                                         (u_char *) s->out.ws }),
                      sd_store_strerror(ngx_http_sender_domains_store()));
    }
}


/* the entry taken is not published: it goes, and the next one at once */

static void
ngx_http_sender_domains_sync_drop(ngx_event_t *ev)
{
    ngx_http_sender_domains_sync_t  *s = &ngx_http_sender_domains_sync;

    (void) sd_store_outbox_done(ngx_http_sender_domains_store(), s->out.seq);
    ngx_http_sender_domains_sync_turn();
    ngx_destroy_pool(s->publish_pool);
    s->publish_pool = NULL;
    ngx_add_timer(ev, 1);
}


/* the entry just published took its workspace's turn */

static void
ngx_http_sender_domains_sync_turn(void)
{
    ngx_http_sender_domains_sync_t  *s = &ngx_http_sender_domains_sync;

    s->turn_set = (s->out.ws_len <= sizeof(s->turn));

    if (s->turn_set) {
        ngx_memcpy(s->turn, s->out.ws, s->out.ws_len);
        s->turn_len = s->out.ws_len;
    }
}


static void
ngx_http_sender_domains_sync_publish_later(ngx_uint_t failed)
{
    ngx_http_sender_domains_sync_t  *s = &ngx_http_sender_domains_sync;

    if (!s->active) {
        return;
    }

    if (!failed) {
        s->backoff = 0;
        ngx_add_timer(&s->publish_ev, 1);
        return;
    }

    ngx_http_sender_domains_sync_count(publish_failures);

    s->backoff = s->backoff ? ngx_min(s->backoff * 2,
                                      NGX_HTTP_SENDER_DOMAINS_SYNC_BACKOFF_MAX)
                            : 50;

    ngx_add_timer(&s->publish_ev, s->backoff);
}


/* ---- the guard: a single-node store is imported before any resync ---- */

/*
 * A resync removes every row etcd does not hold: a store that holds a
 * single node's rows (never synced, never imported) must not be resynced,
 * or its rows would be lost.  NGX_OK: it may; NGX_DECLINED: not yet (said
 * once at error level, with the command that imports it).
 */

static ngx_int_t
ngx_http_sender_domains_sync_guard(void)
{
    u_char                                   eps[1024], *p;
    ngx_str_t                               *ep;
    ngx_uint_t                               i;
    sd_store_cluster_e                       state;
    ngx_http_sender_domains_sync_t          *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_main_conf_t     *smcf;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    if (sd_store_cluster_state(ngx_http_sender_domains_store(), &state)
        != SD_STORE_OK)
    {
        return NGX_DECLINED;
    }

    if (state != SD_STORE_CLUSTER_LOCAL) {
        if (s->guard_logged) {
            ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                          "sender_domains: the store was imported into the "
                          "cluster; node \"%V\" reads the cluster now",
                          &ngx_http_sender_domains_sync_conf()->node);
            s->guard_logged = 0;
        }

        return NGX_OK;
    }

    if (s->guard_logged) {
        return NGX_DECLINED;
    }

    s->guard_logged = 1;

    cc = ngx_http_sender_domains_sync_conf();
    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    p = eps;
    ep = cc->etcd.endpoints->elts;

    for (i = 0; i < cc->etcd.endpoints->nelts; i++) {
        p = ngx_slprintf(p, eps + sizeof(eps) - 1, "%s%V", i ? "," : "",
                         &ep[i]);
    }

    ngx_log_error(NGX_LOG_ERR, s->log, 0,
                  "sender_domains: node \"%V\" does not join the cluster: "
                  "its store \"%V\" holds the rows of a single node that "
                  "were never imported into etcd, and reading the cluster "
                  "would remove them: import them with "
                  "\"sender-domains-cluster-import --db %V --endpoints %*s "
                  "--prefix %V\" "
                  "(this node may stay up: it writes no rows meanwhile), or "
                  "start the node on an empty sender_domains_db; until then "
                  "reads are served from the store, writes answer 503, and "
                  "the store is checked again every %d s",
                  &cc->node, &smcf->db_path, &smcf->db_path, p - eps, eps,
                  &cc->prefix, NGX_HTTP_SENDER_DOMAINS_SYNC_GUARD / 1000);

    return NGX_DECLINED;
}


/* ---- watch ---- */

static void
ngx_http_sender_domains_sync_watch(ngx_event_t *ev)
{
    int64_t                                  applied;
    ngx_http_sender_domains_sync_t          *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    if (!s->active || s->watch || s->resyncing) {
        return;
    }

    cc = ngx_http_sender_domains_sync_conf();

    if (sd_store_applied_rev(ngx_http_sender_domains_store(), &applied)
        != SD_STORE_OK)
    {
        ngx_add_timer(ev, 1000);
        return;
    }

    s->applied = applied;

    if (!s->joined) {
        if (applied == 0 && ngx_http_sender_domains_sync_guard() != NGX_OK) {
            ngx_add_timer(ev, NGX_HTTP_SENDER_DOMAINS_SYNC_GUARD);
            return;
        }

        ngx_http_sender_domains_sync_join();
    }

    if (applied == 0 || s->resync_needed) {
        s->resync_needed = 0;
        ngx_http_sender_domains_sync_resync();
        return;
    }

    s->watch = ngx_http_sender_domains_etcd_watch_start(s->log, &cc->etcd,
                   (char *) cc->prefix.data, applied + 1,
                   ngx_http_sender_domains_sync_line,
                   ngx_http_sender_domains_sync_ended, s);

    if (s->watch == NULL) {
        ngx_add_timer(ev, 1000);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, s->log, 0,
                  "sender_domains: watching the cluster from revision %L",
                  applied + 1);
}


static void
ngx_http_sender_domains_sync_ended(void *data,
    ngx_http_sender_domains_etcd_watch_end_e reason)
{
    ngx_http_sender_domains_sync_t  *s = data;

    s->watch = NULL;

    if (s->active && !s->watch_ev.timer_set) {
        ngx_add_timer(&s->watch_ev, 1000);
    }
}


static void
ngx_http_sender_domains_sync_line(void *data, const char *line, size_t len)
{
    sd_etcd_rc_e                     rc;
    sd_etcd_watch_t                  w;
    ngx_http_sender_domains_sync_t  *s = data;

    rc = sd_etcd_parse_watch(line, len, &w);

    if (rc == SD_ETCD_COMPACTED || (rc == SD_ETCD_OK && w.compact_revision)) {
        ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                      "sender_domains: the revision to watch from was "
                      "compacted; reading the whole cluster again");
        sd_etcd_watch_free(&w);

        if (s->watch) {
            ngx_http_sender_domains_etcd_watch_stop(s->watch);
            s->watch = NULL;
        }

        /* from the watch timer: no call may start inside curl's callback */
        s->resync_needed = 1;

        if (!s->watch_ev.timer_set) {
            ngx_add_timer(&s->watch_ev, 1);
        }

        return;
    }

    if (rc != SD_ETCD_OK) {
        ngx_log_error(NGX_LOG_WARN, s->log, 0,
                      "sender_domains: a watch message from the cluster "
                      "could not be read: %*s", ngx_min(len, 200), line);
        sd_etcd_watch_free(&w);
        return;
    }

    if (w.nevents || (!w.created && w.revision > 0)) {
        if (ngx_http_sender_domains_sync_events(&w) != NGX_OK) {
            /* not applied: watched again from the last applied revision */
            if (s->watch) {
                ngx_http_sender_domains_etcd_watch_stop(s->watch);
                s->watch = NULL;
            }

            if (!s->watch_ev.timer_set) {
                ngx_add_timer(&s->watch_ev, 1000);
            }
        }
    }

    sd_etcd_watch_free(&w);
}


/*
 * A JSON row from etcd into a record for the store; *row must be
 * json_decref()ed and *text free()d after the record was written.
 */

static ngx_int_t
ngx_http_sender_domains_sync_record(const char *json, size_t len,
    json_t **row, char **text, sd_record_t *rec)
{
    *text = NULL;
    *row = json_loadb(json, len, 0, NULL);

    if (*row == NULL || !json_is_object(*row)
        || sd_row_to_record(*row, rec, text) != 0)
    {
        json_decref(*row);
        *row = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sender_domains_sync_batch_init(
    ngx_http_sender_domains_sync_batch_t *b, ngx_pool_t *pool, size_t max)
{
    b->n = 0;
    b->changes = ngx_pcalloc(pool, max * sizeof(sd_store_remote_t));
    b->recs = ngx_pcalloc(pool, max * sizeof(sd_record_t));
    b->rows = ngx_pcalloc(pool, max * sizeof(json_t *));
    b->texts = ngx_pcalloc(pool, max * sizeof(char *));
    b->ws = ngx_pnalloc(pool, max * (SD_WORKSPACE_MAX + 1));

    return (b->changes && b->recs && b->rows && b->texts && b->ws)
           ? NGX_OK : NGX_ERROR;
}


/* one key's change into the batch; keys that are not rows are passed */

static void
ngx_http_sender_domains_sync_batch_add(
    ngx_http_sender_domains_sync_batch_t *b, const sd_etcd_kv_t *kv,
    ngx_uint_t delete, ngx_uint_t from_watch)
{
    char                                    *ws, kind;
    size_t                                   ws_len, id_len;
    const char                              *id;
    sd_store_remote_t                       *c;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    cc = ngx_http_sender_domains_sync_conf();
    ws = b->ws + b->n * (SD_WORKSPACE_MAX + 1);

    kind = sd_etcd_parse_any_row_key((char *) cc->prefix.data, kv->key,
                                     kv->key_len, ws, SD_WORKSPACE_MAX + 1,
                                     &ws_len, &id, &id_len);
    if (kind == 0) {
        return;
    }

    c = &b->changes[b->n];

    if (!delete
        && ngx_http_sender_domains_sync_record(kv->value, kv->value_len,
                                               &b->rows[b->n],
                                               &b->texts[b->n],
                                               &b->recs[b->n])
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "sender_domains: the cluster's row \"%*s\" is not a "
                      "row; passed over", ngx_min(kv->key_len, 300),
                      kv->key);
        return;
    }

    c->kind = kind;
    c->op = delete ? SD_STORE_OP_DELETE : SD_STORE_OP_PUT;
    c->ws = ws;
    c->ws_len = ws_len;
    c->id = id;
    c->id_len = id_len;
    c->rec = delete ? NULL : &b->recs[b->n];
    c->rev = kv->mod_revision;
    c->from_watch = from_watch;

    b->n++;
}


static void
ngx_http_sender_domains_sync_batch_free(
    ngx_http_sender_domains_sync_batch_t *b)
{
    size_t  i;

    for (i = 0; i < b->n; i++) {
        json_decref(b->rows[i]);
        free(b->texts[i]);
    }

    b->n = 0;
}


static ngx_int_t
ngx_http_sender_domains_sync_events(sd_etcd_watch_t *w)
{
    size_t                                 i;
    int64_t                                top;
    ngx_int_t                              rc;
    ngx_pool_t                            *pool;
    sd_store_rc_e                          src;
    ngx_http_sender_domains_sync_t        *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_sync_batch_t   b;

    pool = ngx_create_pool(4096, s->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_http_sender_domains_sync_batch_init(&b, pool,
                                                ngx_max(w->nevents, 1))
        != NGX_OK)
    {
        goto done;
    }

    /* with events: the newest of them; none: a progress notification */
    top = w->nevents ? 0 : w->revision;

    for (i = 0; i < w->nevents; i++) {
        ngx_http_sender_domains_sync_batch_add(&b, &w->events[i].kv,
                               w->events[i].type == SD_ETCD_EVENT_DELETE, 1);
        top = ngx_max(top, w->events[i].kv.mod_revision);
    }

    src = sd_store_apply_remote(ngx_http_sender_domains_store(), b.changes,
                                b.n, top, NULL);
    ngx_http_sender_domains_sync_batch_free(&b);

    if (src != SD_STORE_OK) {
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "sender_domains: %uz changes from the cluster could "
                      "not be applied to the store: %s", w->nevents,
                      sd_store_strerror(ngx_http_sender_domains_store()));
        goto done;
    }

    s->applied = ngx_max(s->applied, top);
    rc = NGX_OK;

done:

    ngx_destroy_pool(pool);
    return rc;
}


/*
 * One row etcd holds, written to this node's store now (an add's claim):
 * a change made on this node, so it makes its webhook events here
 * (identity.added), as a single node's add does.
 */

ngx_int_t
ngx_http_sender_domains_cluster_apply_row(ngx_log_t *log, char kind,
    ngx_str_t *ws, ngx_str_t *id, ngx_str_t *json, int64_t rev)
{
    char               *text;
    json_t             *row;
    sd_record_t         rec;
    sd_store_rc_e       rc;
    sd_store_remote_t   c;

    if (ngx_http_sender_domains_sync_record((char *) json->data, json->len,
                                            &row, &text, &rec)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&c, sizeof(sd_store_remote_t));
    c.kind = kind;
    c.op = SD_STORE_OP_PUT;
    c.ws = (char *) ws->data;
    c.ws_len = ws->len;
    c.id = (char *) id->data;
    c.id_len = id->len;
    c.rec = &rec;
    c.rev = rev;
    c.from_watch = 0;
    c.events = 1;       /* the add was made here: identity.added */

    rc = sd_store_apply_remote(ngx_http_sender_domains_store(), &c, 1, 0,
                               NULL);

    json_decref(row);
    free(text);

    if (rc != SD_STORE_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "sender_domains: the cluster's row \"%V\" of "
                      "workspace \"%V\" could not be written to the store: "
                      "%s", ngx_http_sender_domains_log_esc(id),
                      ngx_http_sender_domains_log_esc(ws),
                      sd_store_strerror(ngx_http_sender_domains_store()));
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* ---- resync: the whole prefix at one revision ---- */

static void
ngx_http_sender_domains_sync_resync(void)
{
    ngx_http_sender_domains_sync_t          *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    cc = ngx_http_sender_domains_sync_conf();

    if (s->resync_pool) {
        ngx_destroy_pool(s->resync_pool);
        s->resync_pool = NULL;
    }

    if (sd_store_resync_begin(ngx_http_sender_domains_store())
        != SD_STORE_OK)
    {
        ngx_add_timer(&s->watch_ev, 1000);
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                  "sender_domains: reading the cluster's rows under \"%V\"",
                  &cc->prefix);

    ngx_http_sender_domains_sync_count(resyncs);

    s->resyncing = 1;
    s->resync_rev = 0;
    s->resync_key_len = cc->prefix.len;
    ngx_memcpy(s->resync_key, cc->prefix.data, cc->prefix.len);

    ngx_http_sender_domains_sync_page();
}


static void
ngx_http_sender_domains_sync_page(void)
{
    char                                    *body, end[SD_ETCD_KEY_MAX];
    size_t                                   end_len;
    ngx_http_sender_domains_sync_t          *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    cc = ngx_http_sender_domains_sync_conf();

    s->resync_pool = ngx_create_pool(4096, s->log);
    if (s->resync_pool == NULL) {
        goto failed;
    }

    end_len = sd_etcd_range_end((char *) cc->prefix.data, cc->prefix.len,
                                end);

    body = sd_etcd_range_body((char *) s->resync_key, s->resync_key_len, end,
                              end_len, s->resync_rev,
                              NGX_HTTP_SENDER_DOMAINS_SYNC_PAGE);
    if (body == NULL) {
        goto failed;
    }

    if (ngx_http_sender_domains_cluster_post(s->resync_pool, s->log,
                                             "/v3/kv/range", body,
                                    ngx_http_sender_domains_sync_paged, s)
        == NGX_OK)
    {
        return;
    }

failed:

    if (s->resync_pool) {
        ngx_destroy_pool(s->resync_pool);
        s->resync_pool = NULL;
    }

    s->resyncing = 0;
    ngx_add_timer(&s->watch_ev, 1000);
}


static void
ngx_http_sender_domains_sync_paged(ngx_http_sender_domains_etcd_call_t *call)
{
    ngx_int_t                        rc;
    sd_etcd_rc_e                     erc;
    sd_etcd_txn_t                    txn;
    ngx_http_sender_domains_sync_t  *s = call->data;

    ngx_memzero(&txn, sizeof(sd_etcd_txn_t));

    erc = ngx_http_sender_domains_etcd_ok(call)
          ? sd_etcd_parse_range((char *) call->body.data, call->body.len,
                                &txn)
          : SD_ETCD_SERVER_ERROR;

    ngx_destroy_pool(s->resync_pool);
    s->resync_pool = NULL;

    if (erc == SD_ETCD_COMPACTED) {
        /* the revision read at was compacted meanwhile: from the start */
        sd_etcd_txn_free(&txn);
        ngx_http_sender_domains_sync_resync();
        return;
    }

    rc = (erc == SD_ETCD_OK) ? ngx_http_sender_domains_sync_page_apply(&txn)
                             : NGX_ERROR;
    sd_etcd_txn_free(&txn);

    if (rc == NGX_AGAIN) {
        ngx_http_sender_domains_sync_page();
        return;
    }

    s->resyncing = 0;

    if (rc == NGX_OK) {
        ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                      "sender_domains: the store holds the cluster's rows "
                      "as of revision %L", s->resync_rev);
        s->applied = s->resync_rev;
    }

    /* the watch goes on from the store's applied revision */
    ngx_add_timer(&s->watch_ev, rc == NGX_OK ? 1 : 1000);
}


/* NGX_AGAIN: more pages; NGX_OK: the last one was applied */

static ngx_int_t
ngx_http_sender_domains_sync_page_apply(sd_etcd_txn_t *txn)
{
    size_t                                 i;
    ngx_int_t                              rc;
    ngx_pool_t                            *pool;
    sd_etcd_resp_t                        *resp;
    sd_store_rc_e                          src;
    ngx_http_sender_domains_sync_t        *s = &ngx_http_sender_domains_sync;
    ngx_http_sender_domains_sync_batch_t   b;

    if (txn->nresponses != 1) {
        return NGX_ERROR;
    }

    resp = &txn->responses[0];

    if (s->resync_rev == 0) {
        s->resync_rev = txn->revision;
    }

    pool = ngx_create_pool(4096, s->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_http_sender_domains_sync_batch_init(&b, pool,
                                                ngx_max(resp->nkvs, 1))
        != NGX_OK)
    {
        goto done;
    }

    for (i = 0; i < resp->nkvs; i++) {
        ngx_http_sender_domains_sync_batch_add(&b, &resp->kvs[i], 0, 1);
    }

    for (i = 0; i < b.n; i++) {
        b.changes[i].resync = 1;
    }

    src = sd_store_apply_remote(ngx_http_sender_domains_store(), b.changes,
                                b.n, 0, NULL);
    ngx_http_sender_domains_sync_batch_free(&b);

    if (src != SD_STORE_OK) {
        goto done;
    }

    if (resp->more && resp->nkvs) {
        /* the next page starts just after the last key */
        i = resp->nkvs - 1;

        if (resp->kvs[i].key_len + 1 > SD_ETCD_KEY_MAX) {
            goto done;
        }

        ngx_memcpy(s->resync_key, resp->kvs[i].key, resp->kvs[i].key_len);
        s->resync_key[resp->kvs[i].key_len] = '\0';
        s->resync_key_len = resp->kvs[i].key_len + 1;
        rc = NGX_AGAIN;
        goto done;
    }

    rc = (sd_store_resync_end(ngx_http_sender_domains_store(), s->resync_rev,
                              NULL)
          == SD_STORE_OK) ? NGX_OK : NGX_ERROR;

done:

    ngx_destroy_pool(pool);
    return rc;
}


/* a body from sd_etcd_*() (malloc'd, freed here) POSTed to etcd */

ngx_int_t
ngx_http_sender_domains_cluster_post(ngx_pool_t *pool, ngx_log_t *log,
    const char *path, char *body, ngx_http_sender_domains_etcd_handler_pt handler,
    void *data)
{
    ngx_str_t                               *b;
    ngx_http_sender_domains_cluster_conf_t  *cc;

    b = ngx_palloc(pool, sizeof(ngx_str_t));
    if (b == NULL) {
        free(body);
        return NGX_ERROR;
    }

    b->len = ngx_strlen(body);
    b->data = ngx_pnalloc(pool, b->len + 1);
    if (b->data == NULL) {
        free(body);
        return NGX_ERROR;
    }

    ngx_memcpy(b->data, body, b->len + 1);
    free(body);

    cc = ngx_http_sender_domains_cluster_conf((ngx_cycle_t *) ngx_cycle);

    return ngx_http_sender_domains_etcd_call(pool, log, &cc->etcd, path, b,
                                             handler, data)
           ? NGX_OK : NGX_ERROR;
}
