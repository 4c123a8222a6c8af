/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the shared SES call budget.
 *
 * The budget is a token bucket in an nginx shared zone, so all workers
 * together respect sender_domains_ses_rate (SES throttles every API call
 * but sending at one per second per account).  Background polls never take
 * the last token: a person waiting on add, refresh or resend goes first.
 * People's calls take it in fair turns of their workspaces.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_budget.h"
#include "ngx_http_sender_domains_cluster.h"
#include "ngx_http_sender_domains_metrics.h"


#define NGX_HTTP_SENDER_DOMAINS_THROTTLE_PAUSE 30     /* seconds */


/*
 * Fair shares of the budget: one slot per workspace with people's calls
 * waiting, found by a hash of its name.  The call budget goes round the
 * workspaces that wait: the one whose last call was served longest ago
 * goes first, so a workspace that floods waits behind everyone else and
 * slows only itself.  Two more rules keep another workspace's add quick
 * while one floods (docs/decisions.md):
 *   - the workspace served last leaves one call in the bucket, as
 *     background polls do: a newcomer finds it there and goes at once;
 *   - the one call that directly follows a request's first served call
 *     (an add's MAIL FROM after its create) goes before every first
 *     step; the request's further calls take turns like first steps, so
 *     no request jumps the queue more than once;
 *   - a workspace's deferred steps (the MAIL FROM of an add that
 *     answered before it) take that workspace's turns, after its
 *     people's calls: its own adds go first, nobody else's wait longer.
 * A slot no waiting call has looked at for
 * NGX_HTTP_SENDER_DOMAINS_FAIR_STALE ms (its worker died) waits no more.
 */
#define NGX_HTTP_SENDER_DOMAINS_FAIR_SLOTS     256
#define NGX_HTTP_SENDER_DOMAINS_FAIR_STALE     10000

typedef struct {
    uint32_t                    hash;             /* 0: free */
    uint32_t                    waiting;          /* calls waiting */
    uint32_t                    follow;           /* of them, later steps */
    uint32_t                    deferred;         /* of them, deferred */
    uint64_t                    served;           /* turn of its last call */
    int64_t                     seen;             /* ms, a waiter looked */
} ngx_http_sender_domains_fair_t;


typedef struct {
    int64_t                     millitokens;
    int64_t                     unit;           /* a call's millitokens */
    int64_t                     last_ms;
    time_t                      paused_until;
    ngx_uint_t                  incident;         /* throttling logged */
    uint64_t                    turn;             /* calls served */
    uint32_t                    last_hash;        /* served last */
    ngx_http_sender_domains_fair_t  fair[NGX_HTTP_SENDER_DOMAINS_FAIR_SLOTS];
} ngx_http_sender_domains_shctx_t;


static ngx_int_t ngx_http_sender_domains_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_sender_domains_refill(ngx_http_sender_domains_shctx_t *sh,
    int64_t now, int64_t rate, int64_t cap);
static void ngx_http_sender_domains_serve(ngx_http_sender_domains_shctx_t *sh,
    ngx_http_sender_domains_fair_t *me, ngx_uint_t *queued);
static int64_t ngx_http_sender_domains_wait(
    ngx_http_sender_domains_shctx_t *sh, ngx_http_sender_domains_fair_t *me,
    int64_t need, int64_t rate, int64_t now, ngx_uint_t follow,
    ngx_uint_t deferred, ngx_uint_t *queued);


static ngx_shm_zone_t  *ngx_http_sender_domains_zone;


ngx_int_t
ngx_http_sender_domains_zone_add(ngx_conf_t *cf)
{
    ngx_str_t                             name = ngx_string("sender_domains");
    ngx_shm_zone_t                       *zone;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_sender_domains_module);

    zone = ngx_shared_memory_add(cf, &name, 16 * ngx_pagesize,
                                 &ngx_http_sender_domains_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    /* until the zone's init replaces it, data is this configuration */
    zone->init = ngx_http_sender_domains_init_zone;
    zone->data = smcf;
    smcf->shm_zone = zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sender_domains_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    /* the store's files, checked for every test, start and reload */
    if (ngx_http_sender_domains_prepare_store(shm_zone->shm.log,
                                              shm_zone->data)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a reload keeps the bucket and the throttling state */
    return ngx_http_sender_domains_shm_init(shm_zone, data,
                                     sizeof(ngx_http_sender_domains_shctx_t));
}


/* this cycle's zone: a configuration that failed to load left none */

void
ngx_http_sender_domains_budget_init(ngx_cycle_t *cycle)
{
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_sender_domains_module);

    ngx_http_sender_domains_zone = smcf->shm_zone;
}


ngx_msec_t
ngx_http_sender_domains_rate_take(ngx_uint_t background)
{
    ngx_uint_t  queued = 0;

    return ngx_http_sender_domains_rate_take_fair(0, 0, background, &queued);
}


/* the slot of a workspace, taken when "add" and one is free or stale */

static ngx_http_sender_domains_fair_t *
ngx_http_sender_domains_fair_slot(ngx_http_sender_domains_shctx_t *sh,
    uint32_t hash, int64_t now, ngx_uint_t add)
{
    ngx_uint_t                       i, n;
    ngx_http_sender_domains_fair_t  *f, *free;

    free = NULL;

    for (n = 0; n < NGX_HTTP_SENDER_DOMAINS_FAIR_SLOTS; n++) {
        i = (hash + n) % NGX_HTTP_SENDER_DOMAINS_FAIR_SLOTS;
        f = &sh->fair[i];

        if (f->hash == hash) {
            return f;
        }

        if (f->hash == 0) {
            /* the probe for this hash ends here */
            if (free == NULL) {
                free = f;
            }

            break;
        }

        if (free == NULL
            && (f->waiting == 0
                || now - f->seen > NGX_HTTP_SENDER_DOMAINS_FAIR_STALE))
        {
            free = f;
        }
    }

    if (!add || free == NULL) {
        return NULL;
    }

    /*
     * A reused slot forgets its old workspace's turn: a newcomer goes
     * before workspaces that have been served already.
     */
    free->hash = hash;
    free->waiting = 0;
    free->follow = 0;
    free->deferred = 0;
    free->served = 0;
    free->seen = now;

    return free;
}


/* 1 when a workspace other than "me" with an older turn has calls waiting */

static ngx_uint_t
ngx_http_sender_domains_fair_behind(ngx_http_sender_domains_shctx_t *sh,
    ngx_http_sender_domains_fair_t *me, int64_t now)
{
    ngx_uint_t                       i;
    ngx_http_sender_domains_fair_t  *f;

    for (i = 0; i < NGX_HTTP_SENDER_DOMAINS_FAIR_SLOTS; i++) {
        f = &sh->fair[i];

        if (f == me || f->hash == 0 || f->waiting == 0
            || now - f->seen > NGX_HTTP_SENDER_DOMAINS_FAIR_STALE)
        {
            continue;
        }

        if (me == NULL || f->follow || f->served < me->served) {
            return 1;
        }
    }

    return 0;
}


/*
 * Refill only for time no worker has credited yet: a worker whose cached
 * clock lags behind must not move last_ms back, or the next take would
 * credit the same interval twice (two workers at rate 100 then made up to
 * 150 calls a second).
 */

static void
ngx_http_sender_domains_refill(ngx_http_sender_domains_shctx_t *sh,
    int64_t now, int64_t rate, int64_t cap)
{
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
}


/* the call goes: one token, one turn, and it no longer waits */

static void
ngx_http_sender_domains_serve(ngx_http_sender_domains_shctx_t *sh,
    ngx_http_sender_domains_fair_t *me, ngx_uint_t *queued)
{
    sh->millitokens -= sh->unit;
    sh->turn++;
    sh->last_hash = me ? me->hash : 0;

    if (me == NULL) {
        return;
    }

    me->served = sh->turn;

    if (*queued) {
        me->waiting--;
        me->follow -= (*queued == 2);
        me->deferred -= (*queued == 3);
        *queued = 0;
    }
}


/* the call waits: counted as waiting once; how long until it looks again */

static int64_t
ngx_http_sender_domains_wait(ngx_http_sender_domains_shctx_t *sh,
    ngx_http_sender_domains_fair_t *me, int64_t need, int64_t rate,
    int64_t now, ngx_uint_t follow, ngx_uint_t deferred, ngx_uint_t *queued)
{
    int64_t  wait;

    if (sh->millitokens >= need) {
        /*
         * Another workspace's turn (or, for a deferred step, its own
         * workspace's people's): the waiting call wakes when the call is
         * there; look again a little after it.
         */
        wait = sh->unit / rate / 2 + 10;

    } else {
        wait = (need - sh->millitokens + rate - 1) / rate;
    }

    if (me) {
        if (!*queued) {
            me->waiting++;
            me->follow += (follow != 0);
            me->deferred += (deferred != 0);
            *queued = deferred ? 3 : (follow ? 2 : 1);
        }

        me->seen = now;
    }

    return wait;
}


/*
 * What one call costs in millitokens: 1000, and in a cluster 1000 times
 * the live nodes, so each node's bucket fills at sender_domains_ses_rate
 * divided by the nodes and the cluster keeps to the account's rate
 * (docs/cluster.md, "The SES budget across nodes").
 */

static int64_t
ngx_http_sender_domains_call_unit(void)
{
    ngx_uint_t                             nodes;
    ngx_http_sender_domains_cluster_sh_t  *csh;

    csh = ngx_http_sender_domains_cluster_sh();
    nodes = csh ? csh->live_nodes : 1;

    return 1000 * (int64_t) ngx_max(nodes, 1);
}


ngx_msec_t
ngx_http_sender_domains_rate_take_fair(uint32_t hash, ngx_uint_t follow,
    ngx_uint_t background, ngx_uint_t *queued)
{
    int64_t                               now, rate, cap, need, wait, unit;
    ngx_uint_t                            deferred, go;
    ngx_slab_pool_t                      *shpool;
    ngx_http_sender_domains_fair_t       *me;
    ngx_http_sender_domains_shctx_t      *sh;
    ngx_http_sender_domains_main_conf_t  *smcf;

    if (ngx_http_sender_domains_zone == NULL
        || ngx_http_sender_domains_zone->data == NULL)
    {
        return 0;
    }

    /* a workspace's deferred step waits in its turn, as a person's call */
    deferred = (background == NGX_HTTP_SENDER_DOMAINS_CALL_DEFERRED && hash);
    if (deferred) {
        background = 0;
        follow = 0;
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
    unit = ngx_http_sender_domains_call_unit();

    /* one second's worth, plus one call kept for people */
    cap = ngx_max((rate + 1) * 1000, 2 * unit);

    ngx_shmtx_lock(&shpool->mutex);

    sh->unit = unit;

    ngx_http_sender_domains_refill(sh, now, rate, cap);

    if (background) {
        if (sh->paused_until > ngx_time()) {
            ngx_shmtx_unlock(&shpool->mutex);
            return NGX_MAX_INT32_VALUE;
        }

        /* a person waiting goes first */
        if (ngx_http_sender_domains_fair_behind(sh, NULL, now)) {
            ngx_shmtx_unlock(&shpool->mutex);
            return unit / rate + 1;
        }
    }

    me = hash ? ngx_http_sender_domains_fair_slot(sh, hash, now, 1) : NULL;

    /*
     * Background calls, and the workspace that had the last call, leave
     * one call's worth in the bucket for someone else.
     */
    need = (background || (me && !follow && me->hash == sh->last_hash))
           ? 2 * unit : unit;

    /* a call without a slot (none named, or all taken) takes the bucket */
    go = sh->millitokens >= need
         && (background || follow || me == NULL
             || !ngx_http_sender_domains_fair_behind(sh, me, now));

    /* a deferred step goes after its own workspace's people's calls */
    if (go && deferred && me && me->waiting > me->deferred) {
        go = 0;
    }

    if (go) {
        ngx_http_sender_domains_serve(sh, me, queued);
        wait = 0;

    } else {
        wait = ngx_http_sender_domains_wait(sh, me, need, rate, now,
                                            follow, deferred, queued);
    }

    ngx_http_sender_domains_metric_budget(sh->millitokens * 1000 / unit);

    ngx_shmtx_unlock(&shpool->mutex);

    return (ngx_msec_t) wait;
}


/* a waiting call gave up or its request went away */

void
ngx_http_sender_domains_rate_leave(uint32_t hash, ngx_uint_t *queued)
{
    int64_t                           now;
    ngx_slab_pool_t                  *shpool;
    ngx_http_sender_domains_fair_t   *me;
    ngx_http_sender_domains_shctx_t  *sh;

    if (!*queued || ngx_http_sender_domains_zone == NULL
        || ngx_http_sender_domains_zone->data == NULL)
    {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_sender_domains_zone->shm.addr;
    sh = ngx_http_sender_domains_zone->data;
    now = (int64_t) ngx_current_msec;

    ngx_shmtx_lock(&shpool->mutex);

    me = ngx_http_sender_domains_fair_slot(sh, hash, now, 0);
    if (me && me->waiting) {
        me->waiting--;

        if (*queued == 2 && me->follow) {
            me->follow--;
        }

        if (*queued == 3 && me->deferred) {
            me->deferred--;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    *queued = 0;
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
