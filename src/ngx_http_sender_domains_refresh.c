/*
 * Custom Sender Domains for nginx: the shared SES call budget and the
 * background refresher.
 *
 * The budget is a token bucket in an nginx shared zone, so all workers
 * together respect sender_domains_ses_rate (SES throttles every API call
 * but sending at one per second per account).  Background polls never take
 * the last token: a person waiting on add, refresh or resend goes first.
 *
 * The refresher is a timer in every worker, but only the worker holding
 * the LMDB lease polls.  The lease names the owner pid and an expiry; it
 * is renewed on every tick and released on graceful exit, so when its
 * owner dies or nginx reloads another worker takes over within one
 * refresh interval.  It polls only rows that are due (the store keeps a
 * schedule index), asks ListEmailIdentities first when many are due (one
 * call answers up to 1,000 rows) and GetEmailIdentity only for rows whose
 * status changed or whose details are unsettled.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_refresh.h"
#include "ngx_http_sender_domains_ses.h"
#include "ngx_http_sender_domains_row.h"


#define NGX_HTTP_SENDER_DOMAINS_BATCH          1000
#define NGX_HTTP_SENDER_DOMAINS_CONCURRENCY    4
#define NGX_HTTP_SENDER_DOMAINS_LIST_FROM      10     /* due rows */
#define NGX_HTTP_SENDER_DOMAINS_THROTTLE_PAUSE 30     /* seconds */


typedef struct {
    int64_t                     millitokens;
    int64_t                     last_ms;
    time_t                      paused_until;
    ngx_uint_t                  incident;         /* throttling logged */
} ngx_http_sender_domains_shctx_t;


typedef struct {
    ngx_str_t                   ws;
    ngx_str_t                   id;
} ngx_http_sender_domains_due_t;


typedef struct {
    ngx_str_t                   name;
    sd_ses_vstatus_e            status;
} ngx_http_sender_domains_listed_t;


/* one poll cycle: its own pool, destroyed when the cycle ends */
typedef struct {
    ngx_pool_t                 *pool;
    ngx_array_t                 due;              /* _due_t */
    ngx_uint_t                  next;             /* next row to look at */
    ngx_uint_t                  in_flight;
    ngx_array_t                 listed;           /* _listed_t, sorted */
    ngx_uint_t                  use_list;
    ngx_uint_t                  list_failed;
} ngx_http_sender_domains_poll_t;


typedef struct {
    ngx_http_sender_domains_poll_t  *poll;
    ngx_http_sender_domains_due_t   *row;
    ngx_pool_t                      *pool;
} ngx_http_sender_domains_get_t;


static ngx_int_t ngx_http_sender_domains_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_sender_domains_refresh_tick(ngx_event_t *ev);
static void ngx_http_sender_domains_poll_start(ngx_cycle_t *cycle);
static int ngx_http_sender_domains_poll_collect(void *data, const char *ws,
    size_t ws_len, const char *id, size_t id_len);
static void ngx_http_sender_domains_poll_list(
    ngx_http_sender_domains_poll_t *poll, ngx_str_t *token);
static void ngx_http_sender_domains_poll_listed(
    ngx_http_sender_domains_ses_t *ses);
static int ngx_http_sender_domains_poll_list_item(void *data,
    const sd_ses_list_item_t *item);
static void ngx_http_sender_domains_poll_run(
    ngx_http_sender_domains_poll_t *poll);
static void ngx_http_sender_domains_poll_got(
    ngx_http_sender_domains_ses_t *ses);
static void ngx_http_sender_domains_poll_end(
    ngx_http_sender_domains_poll_t *poll);


static ngx_shm_zone_t                  *ngx_http_sender_domains_zone;
static ngx_event_t                      ngx_http_sender_domains_tick_ev;
static ngx_connection_t                 ngx_http_sender_domains_tick_conn;
static ngx_http_sender_domains_poll_t  *ngx_http_sender_domains_poll;
static ngx_msec_t                       ngx_http_sender_domains_tick;
static time_t                           ngx_http_sender_domains_checked;
static ngx_uint_t                       ngx_http_sender_domains_leader;
static ngx_uint_t                       ngx_http_sender_domains_error_logged;


/* ---- the shared call budget -------------------------------------------- */


ngx_int_t
ngx_http_sender_domains_zone_add(ngx_conf_t *cf)
{
    ngx_str_t        name = ngx_string("sender_domains");
    ngx_shm_zone_t  *zone;

    zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                 &ngx_http_sender_domains_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_sender_domains_init_zone;
    ngx_http_sender_domains_zone = zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sender_domains_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t                  *shpool;
    ngx_http_sender_domains_shctx_t  *sh;

    if (data) {
        /* a reload keeps the bucket and the throttling state */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_sender_domains_shctx_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


ngx_msec_t
ngx_http_sender_domains_rate_take(ngx_uint_t background)
{
    int64_t                               now, rate, cap, need, wait;
    ngx_slab_pool_t                      *shpool;
    ngx_http_sender_domains_shctx_t      *sh;
    ngx_http_sender_domains_main_conf_t  *smcf;

    if (ngx_http_sender_domains_zone == NULL
        || ngx_http_sender_domains_zone->data == NULL)
    {
        return 0;
    }

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);
    shpool = (ngx_slab_pool_t *) ngx_http_sender_domains_zone->shm.addr;
    sh = ngx_http_sender_domains_zone->data;

    /*
     * The monotonic clock is the same in every worker and never steps
     * back with the wall clock; each worker's copy is cached, though, and
     * refreshed once per event loop turn, so the workers' "now" differ by
     * a few milliseconds: see the refill below.
     */
    now = (int64_t) ngx_current_msec;
    rate = smcf->ses_rate;

    /* one second's worth, plus one call kept for people */
    cap = (rate + 1) * 1000;

    /* background calls leave one call's worth in the bucket */
    need = background ? 2000 : 1000;

    ngx_shmtx_lock(&shpool->mutex);

    /*
     * Refill only for time no worker has credited yet: a worker whose
     * cached clock lags behind must not move last_ms back, or the next
     * take would credit the same interval twice (two workers at rate 100
     * then made up to 150 calls a second).
     */

    if (sh->last_ms == 0) {
        sh->millitokens = cap;
        sh->last_ms = now;

    } else if (now > sh->last_ms) {
        sh->millitokens += (now - sh->last_ms) * rate;
        sh->last_ms = now;
    }

    if (sh->millitokens > cap) {
        sh->millitokens = cap;
    }

    if (background && sh->paused_until > ngx_time()) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_MAX_INT32_VALUE;
    }

    if (sh->millitokens >= need) {
        sh->millitokens -= 1000;
        wait = 0;

    } else {
        wait = (need - sh->millitokens + rate - 1) / rate;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return (ngx_msec_t) wait;
}


void
ngx_http_sender_domains_rate_throttled(ngx_log_t *log)
{
    ngx_uint_t                        first;
    ngx_slab_pool_t                  *shpool;
    ngx_http_sender_domains_shctx_t  *sh;

    if (ngx_http_sender_domains_zone == NULL
        || ngx_http_sender_domains_zone->data == NULL)
    {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_sender_domains_zone->shm.addr;
    sh = ngx_http_sender_domains_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    first = !sh->incident;
    sh->incident = 1;
    sh->paused_until = ngx_time() + NGX_HTTP_SENDER_DOMAINS_THROTTLE_PAUSE;
    sh->millitokens = 0;

    ngx_shmtx_unlock(&shpool->mutex);

    if (first) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "sender_domains: SES is throttling calls; background "
                      "polling pauses for %d s at a time until it stops",
                      NGX_HTTP_SENDER_DOMAINS_THROTTLE_PAUSE);
    }
}


void
ngx_http_sender_domains_rate_recovered(ngx_log_t *log)
{
    ngx_uint_t                        was;
    ngx_slab_pool_t                  *shpool;
    ngx_http_sender_domains_shctx_t  *sh;

    if (ngx_http_sender_domains_zone == NULL
        || ngx_http_sender_domains_zone->data == NULL)
    {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_sender_domains_zone->shm.addr;
    sh = ngx_http_sender_domains_zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    was = sh->incident;
    sh->incident = 0;
    ngx_shmtx_unlock(&shpool->mutex);

    if (was) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "sender_domains: SES stopped throttling calls");
    }
}


/* ---- the refresher ------------------------------------------------------ */


ngx_int_t
ngx_http_sender_domains_refresh_init(ngx_cycle_t *cycle)
{
    ngx_event_t                          *ev;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_sender_domains_module);

    /* renew the lease several times per interval, at most every 15 s */
    ngx_http_sender_domains_tick = smcf->refresh_interval / 4;
    ngx_http_sender_domains_tick = ngx_max(ngx_http_sender_domains_tick, 250);
    ngx_http_sender_domains_tick = ngx_min(ngx_http_sender_domains_tick,
                                           15000);

    ngx_memzero(&ngx_http_sender_domains_tick_conn, sizeof(ngx_connection_t));
    ngx_http_sender_domains_tick_conn.fd = (ngx_socket_t) -1;

    ev = &ngx_http_sender_domains_tick_ev;
    ngx_memzero(ev, sizeof(ngx_event_t));
    ev->handler = ngx_http_sender_domains_refresh_tick;
    ev->data = &ngx_http_sender_domains_tick_conn;
    ev->log = cycle->log;

    /* cancelable: a gracefully exiting worker does not wait for it */
    ev->cancelable = 1;

    /* workers start at different times: spread the first ticks */
    ngx_add_timer(ev, ngx_random() % ngx_http_sender_domains_tick + 1);

    return NGX_OK;
}


void
ngx_http_sender_domains_refresh_exit(ngx_cycle_t *cycle)
{
    int          acquired;
    sd_store_t  *st;

    if (ngx_http_sender_domains_tick_ev.timer_set) {
        ngx_del_timer(&ngx_http_sender_domains_tick_ev);
    }

    st = ngx_http_sender_domains_store();

    /* hand the lease over at once instead of letting it expire */
    if (st && ngx_http_sender_domains_leader) {
        (void) sd_store_lease(st, ngx_pid, ngx_time(), 0, &acquired);
        ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                      "sender_domains: refresher lease released by %P",
                      ngx_pid);
    }

    ngx_http_sender_domains_leader = 0;
}


static void
ngx_http_sender_domains_refresh_tick(ngx_event_t *ev)
{
    int                                   acquired;
    int64_t                               ttl;
    sd_store_t                           *st;
    ngx_http_sender_domains_main_conf_t  *smcf;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    st = ngx_http_sender_domains_store();
    if (st == NULL) {
        goto next;
    }

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    /* a crashed worker leaves reader slots behind */
    if (ngx_time() - ngx_http_sender_domains_checked >= 60) {
        ngx_http_sender_domains_checked = ngx_time();

        if (sd_store_reader_check(st) > 0) {
            ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                          "sender_domains: cleared stale LMDB readers");
        }
    }

    ttl = (smcf->refresh_interval + 999) / 1000;
    ttl = ngx_max(ttl, 2);

    if (sd_store_lease(st, ngx_pid, ngx_time(), ttl, &acquired)
        != SD_STORE_OK)
    {
        goto next;
    }

    if (acquired && !ngx_http_sender_domains_leader) {
        ngx_log_error(NGX_LOG_INFO, ev->log, 0,
                      "sender_domains: worker %P runs the refresher",
                      ngx_pid);
    }

    ngx_http_sender_domains_leader = acquired;

    if (acquired && ngx_http_sender_domains_poll == NULL) {
        ngx_http_sender_domains_poll_start((ngx_cycle_t *) ngx_cycle);
    }

next:

    ngx_add_timer(ev, ngx_http_sender_domains_tick);
}


static void
ngx_http_sender_domains_poll_start(ngx_cycle_t *cycle)
{
    ngx_pool_t                      *pool;
    ngx_http_sender_domains_poll_t  *poll;

    pool = ngx_create_pool(16384, cycle->log);
    if (pool == NULL) {
        return;
    }

    poll = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_poll_t));
    if (poll == NULL
        || ngx_array_init(&poll->due, pool, 64,
                          sizeof(ngx_http_sender_domains_due_t)) != NGX_OK
        || ngx_array_init(&poll->listed, pool, 64,
                          sizeof(ngx_http_sender_domains_listed_t)) != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return;
    }

    poll->pool = pool;

    if (sd_store_due(ngx_http_sender_domains_store(), ngx_time(),
                     NGX_HTTP_SENDER_DOMAINS_BATCH,
                     ngx_http_sender_domains_poll_collect, poll)
        != SD_STORE_OK
        || poll->due.nelts == 0)
    {
        ngx_destroy_pool(pool);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, cycle->log, 0,
                   "sender_domains: %ui rows due", poll->due.nelts);

    ngx_http_sender_domains_poll = poll;

    if (poll->due.nelts >= NGX_HTTP_SENDER_DOMAINS_LIST_FROM) {
        /* one List call answers for up to 1,000 rows */
        poll->use_list = 1;
        ngx_http_sender_domains_poll_list(poll, NULL);
        return;
    }

    ngx_http_sender_domains_poll_run(poll);
}


static int
ngx_http_sender_domains_poll_collect(void *data, const char *ws,
    size_t ws_len, const char *id, size_t id_len)
{
    ngx_http_sender_domains_poll_t  *poll = data;

    ngx_http_sender_domains_due_t  *d;

    d = ngx_array_push(&poll->due);
    if (d == NULL) {
        return 1;
    }

    d->ws.data = ngx_pnalloc(poll->pool, ws_len + id_len);
    if (d->ws.data == NULL) {
        return 1;
    }

    ngx_memcpy(d->ws.data, ws, ws_len);
    d->ws.len = ws_len;
    d->id.data = d->ws.data + ws_len;
    ngx_memcpy(d->id.data, id, id_len);
    d->id.len = id_len;

    return 0;
}


static void
ngx_http_sender_domains_poll_list(ngx_http_sender_domains_poll_t *poll,
    ngx_str_t *token)
{
    ngx_http_sender_domains_ses_t  *ses;

    ses = ngx_http_sender_domains_ses_start(poll->pool, ngx_cycle->log,
                                            SD_SES_OP_LIST, NULL, token, 1,
                                            ngx_http_sender_domains_poll_listed,
                                            poll);
    if (ses == NULL) {
        /* no budget now: the rows stay due for the next tick */
        ngx_http_sender_domains_poll_end(poll);
    }
}


static int
ngx_http_sender_domains_poll_list_item(void *data,
    const sd_ses_list_item_t *item)
{
    ngx_http_sender_domains_poll_t  *poll = data;

    ngx_http_sender_domains_listed_t  *l;

    l = ngx_array_push(&poll->listed);
    if (l == NULL) {
        return 1;
    }

    l->name.data = ngx_pnalloc(poll->pool, item->name_len);
    if (l->name.data == NULL) {
        poll->listed.nelts--;       /* no half-filled entry */
        return 1;
    }

    ngx_memcpy(l->name.data, item->name, item->name_len);
    l->name.len = item->name_len;
    l->status = item->verification_status;

    return 0;
}


static ngx_int_t
ngx_http_sender_domains_listed_cmp(const void *one, const void *two)
{
    const ngx_http_sender_domains_listed_t  *a = one, *b = two;

    return ngx_memn2cmp(a->name.data, b->name.data, a->name.len, b->name.len);
}


static void
ngx_http_sender_domains_poll_listed(ngx_http_sender_domains_ses_t *ses)
{
    char                             token[1024];
    ngx_str_t                        next;
    sd_ses_status_e                  st;
    ngx_http_sender_domains_poll_t  *poll = ses->data;

    st = ses->result.status;

    if (st == SD_SES_OK) {
        token[0] = '\0';
        st = sd_ses_parse_list((char *) ses->body.data, ses->body.len,
                               ngx_http_sender_domains_poll_list_item, poll,
                               token, sizeof(token));

        if (st == SD_SES_OK && token[0]) {
            next.len = ngx_strlen(token);
            next.data = ngx_pnalloc(poll->pool, next.len);

            if (next.data) {
                ngx_memcpy(next.data, token, next.len);
                ngx_http_sender_domains_poll_list(poll, &next);
                return;
            }
        }
    }

    if (st == SD_SES_THROTTLED) {
        ngx_http_sender_domains_rate_throttled(ngx_cycle->log);
        ngx_http_sender_domains_poll_end(poll);
        return;
    }

    if (st != SD_SES_OK) {
        /* without the list, ask row by row */
        poll->list_failed = 1;
        poll->use_list = 0;

    } else {
        ngx_sort(poll->listed.elts, poll->listed.nelts,
                 sizeof(ngx_http_sender_domains_listed_t),
                 ngx_http_sender_domains_listed_cmp);
    }

    ngx_http_sender_domains_poll_run(poll);
}


static ngx_http_sender_domains_listed_t *
ngx_http_sender_domains_poll_find(ngx_http_sender_domains_poll_t *poll,
    ngx_str_t *name)
{
    ngx_int_t                          c;
    ngx_uint_t                         lo, hi, mid;
    ngx_http_sender_domains_listed_t  *l = poll->listed.elts;

    lo = 0;
    hi = poll->listed.nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = ngx_memn2cmp(name->data, l[mid].name.data, name->len,
                         l[mid].name.len);

        if (c == 0) {
            return &l[mid];
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


/* ---- applying what SES said to a row ------------------------------------ */


typedef struct {
    ngx_http_sender_domains_due_t   *row;
    const sd_ses_identity_t         *si;        /* NULL: reschedule only */
    sd_ses_result_t                 *failure;   /* non-NULL: a failed call */
    ngx_uint_t                       not_found;
    char                            *text;
    ngx_log_t                       *log;
} ngx_http_sender_domains_apply_t;


static void
ngx_http_sender_domains_log_change(ngx_http_sender_domains_apply_t *ap,
    const char *what, const char *before, const char *after)
{
    if (before == NULL || after == NULL || ngx_strcmp(before, after) == 0) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ap->log, 0,
                  "sender_domains: workspace \"%V\" identity \"%V\": %s %s "
                  "-> %s", &ap->row->ws, &ap->row->id, what, before, after);
}


static int
ngx_http_sender_domains_apply_cb(void *data, const sd_record_t *cur,
    sd_record_t *out)
{
    ngx_http_sender_domains_apply_t  *ap = data;

    int                                   changed;
    char                                 *dkim, *mf;
    json_t                               *row;
    int64_t                               now;
    const char                           *name;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    row = json_loadb(cur->json, cur->json_len, 0, NULL);
    if (row == NULL) {
        return 1;
    }

    /* a person may have finished or changed it meanwhile: still ready? */
    if (!sd_row_in_state(row, SD_STATE_READY)) {
        json_decref(row);
        return 1;
    }

    now = ngx_time();
    changed = 0;
    dkim = strdup(sd_row_str(row, "dkim_status") ? : "");
    mf = strdup(sd_row_str(row, "mail_from_status") ? : "");

    if (ap->si) {
        sd_row_apply_ses(row, ap->si, now);
        sd_row_clear_error(row);

        changed = ngx_strcmp(dkim, sd_row_str(row, "dkim_status")) != 0
                  || ngx_strcmp(mf, sd_row_str(row, "mail_from_status")) != 0;

        ngx_http_sender_domains_log_change(ap, "DKIM", dkim,
                                           sd_row_str(row, "dkim_status"));
        ngx_http_sender_domains_log_change(ap, "MAIL FROM", mf,
                                           sd_row_str(row,
                                                      "mail_from_status"));

    } else if (ap->not_found) {
        /* deleted in SES behind our back: a refresh will re-create it */
        sd_row_set_state(row, SD_STATE_CREATING);
        json_object_set_new(row, "verified_for_sending", json_false());
        sd_row_set_error(row, "ses_error", "Amazon SES no longer has this "
                         "identity; refresh it to add it again.");

        ngx_log_error(NGX_LOG_WARN, ap->log, 0,
                      "sender_domains: workspace \"%V\" identity \"%V\" is "
                      "gone from SES", &ap->row->ws, &ap->row->id);

    } else {
        sd_row_set_time(row, "last_checked_at", now);
    }

    free(dkim);
    free(mf);

    (void) sd_row_schedule(row, now, smcf->refresh_interval / 1000, 3600,
                           changed);

    ap->text = json_dumps(row, JSON_COMPACT);
    name = sd_row_str(row, "sender_name");

    out->flags = sd_row_flags(row);
    out->next_check = sd_row_next_check(row);
    out->sender_name = cur->sender_name;
    out->sender_name_len = cur->sender_name_len;
    out->json = ap->text;
    out->json_len = ap->text ? ngx_strlen(ap->text) : 0;

    (void) name;
    json_decref(row);

    return ap->text == NULL;
}


static void
ngx_http_sender_domains_apply_done(void *data)
{
    ngx_http_sender_domains_apply_t  *ap = data;

    free(ap->text);
    ap->text = NULL;
}


static void
ngx_http_sender_domains_apply(ngx_http_sender_domains_due_t *row,
    const sd_ses_identity_t *si, ngx_uint_t not_found)
{
    sd_store_rc_e                     rc;
    ngx_http_sender_domains_apply_t   ap;

    ngx_memzero(&ap, sizeof(ngx_http_sender_domains_apply_t));
    ap.row = row;
    ap.si = si;
    ap.not_found = not_found;
    ap.log = ngx_cycle->log;

    rc = sd_store_modify(ngx_http_sender_domains_store(),
                         (char *) row->ws.data, row->ws.len,
                         (char *) row->id.data, row->id.len,
                         ngx_http_sender_domains_apply_cb,
                         ngx_http_sender_domains_apply_done, &ap);

    if (rc != SD_STORE_OK && rc != SD_STORE_NOT_FOUND) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "sender_domains: refresher cannot save \"%V\" "
                      "(workspace \"%V\"): %s", &row->id, &row->ws,
                      sd_store_strerror(ngx_http_sender_domains_store()));
    }
}


/* ---- polling ------------------------------------------------------------ */


/* 1: the List answer shows nothing new for this row */

static ngx_uint_t
ngx_http_sender_domains_poll_unchanged(ngx_http_sender_domains_poll_t *poll,
    ngx_http_sender_domains_due_t *d)
{
    json_t                            *row;
    ngx_uint_t                         same;
    sd_record_t                        rec;
    const char                        *mf, *dkim;
    ngx_http_sender_domains_listed_t  *l;

    if (!poll->use_list) {
        return 0;
    }

    l = ngx_http_sender_domains_poll_find(poll, &d->id);
    if (l == NULL) {
        return 0;       /* not listed: Get says whether it is gone */
    }

    if (sd_store_get(ngx_http_sender_domains_store(), (char *) d->ws.data,
                     d->ws.len, (char *) d->id.data, d->id.len,
                     (sd_store_alloc_pt) ngx_pnalloc, poll->pool, &rec)
        != SD_STORE_OK)
    {
        return 1;       /* removed meanwhile: nothing to do */
    }

    row = json_loadb(rec.json, rec.json_len, 0, NULL);
    if (row == NULL) {
        return 0;
    }

    dkim = sd_row_str(row, "dkim_status");
    mf = sd_row_str(row, "mail_from_status");

    /* a pending MAIL FROM is a detail only GetEmailIdentity shows */
    same = dkim && ngx_strcmp(dkim, sd_ses_dkim_status_name(l->status)) == 0
           && !(mf && ngx_strcmp(mf, "pending") == 0);

    json_decref(row);

    return same;
}


static void
ngx_http_sender_domains_poll_run(ngx_http_sender_domains_poll_t *poll)
{
    ngx_pool_t                     *pool;
    ngx_http_sender_domains_due_t  *d;
    ngx_http_sender_domains_get_t  *g;
    ngx_http_sender_domains_ses_t  *ses;

    d = poll->due.elts;

    while (poll->next < poll->due.nelts
           && poll->in_flight < NGX_HTTP_SENDER_DOMAINS_CONCURRENCY
           && !ngx_exiting)
    {
        if (ngx_http_sender_domains_poll_unchanged(poll, &d[poll->next])) {
            ngx_http_sender_domains_apply(&d[poll->next], NULL, 0);
            poll->next++;
            continue;
        }

        /* each call its own small pool: a long poll does not pile up */
        pool = ngx_create_pool(4096, ngx_cycle->log);
        if (pool == NULL) {
            break;
        }

        g = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_get_t));
        if (g == NULL) {
            ngx_destroy_pool(pool);
            break;
        }

        g->poll = poll;
        g->row = &d[poll->next];
        g->pool = pool;

        ses = ngx_http_sender_domains_ses_start(pool, ngx_cycle->log,
                                                SD_SES_OP_GET, &g->row->id,
                                                NULL, 1,
                                                ngx_http_sender_domains_poll_got,
                                                g);
        if (ses == NULL) {
            /* the budget is spent: the rest stays due for the next tick */
            ngx_destroy_pool(pool);
            break;
        }

        poll->next++;
        poll->in_flight++;
    }

    if (poll->in_flight == 0) {
        ngx_http_sender_domains_poll_end(poll);
    }
}


static void
ngx_http_sender_domains_poll_got(ngx_http_sender_domains_ses_t *ses)
{
    ngx_http_sender_domains_get_t   *g = ses->data;
    ngx_http_sender_domains_poll_t  *poll = g->poll;

    sd_ses_status_e    st;
    sd_ses_identity_t  si;

    st = ses->result.status;

    if (st == SD_SES_OK) {
        st = sd_ses_parse_identity((char *) ses->body.data, ses->body.len,
                                   &si);
    }

    switch (st) {

    case SD_SES_OK:
        ngx_http_sender_domains_rate_recovered(ngx_cycle->log);
        ngx_http_sender_domains_error_logged = 0;
        ngx_http_sender_domains_apply(g->row, &si, 0);
        break;

    case SD_SES_NOT_FOUND:
        ngx_http_sender_domains_apply(g->row, NULL, 1);
        break;

    case SD_SES_THROTTLED:
        ngx_http_sender_domains_rate_throttled(ngx_cycle->log);
        /* stop this cycle: what is left stays due */
        poll->next = poll->due.nelts;
        break;

    default:
        /* back off this row; say it once per incident, not per row */
        if (!ngx_http_sender_domains_error_logged) {
            ngx_http_sender_domains_error_logged = 1;
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "sender_domains: background refresh failing: %s; "
                          "rows back off until SES answers",
                          ses->result.message);
        }

        ngx_http_sender_domains_apply(g->row, NULL, 0);
    }

    poll->in_flight--;

    ngx_destroy_pool(g->pool);

    ngx_http_sender_domains_poll_run(poll);
}


static void
ngx_http_sender_domains_poll_end(ngx_http_sender_domains_poll_t *poll)
{
    if (ngx_http_sender_domains_poll == poll) {
        ngx_http_sender_domains_poll = NULL;
    }

    ngx_destroy_pool(poll->pool);
}
