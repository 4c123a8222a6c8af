/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the background refresher.
 *
 * The refresher is a timer in every worker, but only the worker holding
 * the LMDB lease polls.  The lease names the owner pid and an expiry; it
 * is renewed on every tick and released on graceful exit, so when its
 * owner dies or nginx reloads another worker takes over within one
 * refresh interval.  It polls only rows that are due (the store keeps a
 * schedule index), asks ListEmailIdentities first when that costs fewer
 * calls than it saves (one page answers for up to 1,000 identities of the
 * account, but only for rows whose MAIL FROM is settled), and
 * GetEmailIdentity for the rest.
 *
 * Each commit waits for the disk (0.3-5 ms), in the event loop of the
 * worker that polls: so what SES said is worked out row by row as the
 * answers come in, outside any transaction, and saved in batches, one
 * write transaction per batch.  A row not saved yet is still due, so
 * after a crash it is simply polled again.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_module.h"
#include "ngx_http_sender_domains_refresh.h"
#include "ngx_http_sender_domains_budget.h"
#include "ngx_http_sender_domains_api.h"
#include "ngx_http_sender_domains_ses.h"
#include "ngx_http_sender_domains_ownership.h"
#include "ngx_http_sender_domains_cluster.h"
#include "sd_row.h"
#include "ngx_http_sender_domains_metrics.h"
#include "ngx_http_sender_domains_webhook.h"
#include "sd_time.h"


#define NGX_HTTP_SENDER_DOMAINS_BATCH          1000   /* rows per cycle */
#define NGX_HTTP_SENDER_DOMAINS_CONCURRENCY    4

/* List when at least this many due rows, and this many per page, gain */
#define NGX_HTTP_SENDER_DOMAINS_LIST_FROM      10
#define NGX_HTTP_SENDER_DOMAINS_LIST_GAIN      2
#define NGX_HTTP_SENDER_DOMAINS_LIST_PAGE      1000   /* SES's page size */

/* saving: rows per write transaction, and how long a row may wait */
#define NGX_HTTP_SENDER_DOMAINS_SAVE_ROWS      256
#define NGX_HTTP_SENDER_DOMAINS_SAVE_DELAY     1000   /* ms: see docs/decisions.md */

/* rows a List answer settles per event loop turn */
#define NGX_HTTP_SENDER_DOMAINS_TURN_ROWS      8




typedef struct {
    ngx_str_t                   ws;
    ngx_str_t                   id;
    unsigned                    flags;            /* SD_REC_* when due */
} ngx_http_sender_domains_due_t;

/* in a due row's flags: its ownership lookup went out this turn */
#define SD_REC_OWN_CHECKED      0x10000


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
    ngx_uint_t                  pages;            /* List pages asked */
    ngx_uint_t                  max_pages;        /* what the rows justify */
    ngx_event_t                 resume;           /* the next turn's rows */
} ngx_http_sender_domains_poll_t;


typedef struct {
    ngx_http_sender_domains_poll_t  *poll;
    ngx_http_sender_domains_due_t   *row;
    ngx_pool_t                      *pool;
} ngx_http_sender_domains_get_t;


/* what the poll learnt about a row */
typedef enum {
    NGX_HTTP_SENDER_DOMAINS_GOT = 0,    /* GetEmailIdentity answered */
    NGX_HTTP_SENDER_DOMAINS_GONE,       /* SES no longer has it */
    NGX_HTTP_SENDER_DOMAINS_LISTED,     /* the List shows nothing new */
    NGX_HTTP_SENDER_DOMAINS_FAILED      /* no answer: back off */
} ngx_http_sender_domains_outcome_e;


/* one row's new version, waiting in the batch to be saved */
typedef struct {
    ngx_http_sender_domains_due_t      *row;
    ngx_http_sender_domains_outcome_e   outcome;
    unsigned                            listed;   /* SD_REC_DKIM_* */
    sd_ses_identity_t                  *si;       /* _GOT */
    sd_record_t                         seen;     /* computed from this */
    sd_record_t                         out;
    char                               *text;     /* out.json (jansson) */
    ngx_uint_t                          skip;     /* leave the row alone */
    ngx_uint_t                          declared; /* in the legacy list */
    char                                dkim[2][16];  /* before, after */
    char                                mf[2][16];
} ngx_http_sender_domains_change_t;


typedef struct {
    ngx_pool_t                 *pool;
    ngx_array_t                 changes;          /* _change_t */
} ngx_http_sender_domains_batch_t;


static void ngx_http_sender_domains_timer_init(ngx_event_t *ev,
    ngx_event_handler_pt handler, ngx_log_t *log);
static void ngx_http_sender_domains_refresh_tick(ngx_event_t *ev);
static void ngx_http_sender_domains_poll_start(ngx_cycle_t *cycle);
static void ngx_http_sender_domains_poll_plan(
    ngx_http_sender_domains_poll_t *poll);
static int ngx_http_sender_domains_poll_collect(void *data, const char *ws,
    size_t ws_len, const char *id, size_t id_len, unsigned flags);
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
static void ngx_http_sender_domains_poll_resume(ngx_event_t *ev);
static void ngx_http_sender_domains_poll_end(
    ngx_http_sender_domains_poll_t *poll);
static void ngx_http_sender_domains_result(
    ngx_http_sender_domains_due_t *row,
    ngx_http_sender_domains_outcome_e outcome, const sd_ses_identity_t *si,
    unsigned listed);
static void ngx_http_sender_domains_change_compute(
    ngx_http_sender_domains_change_t *ch, const sd_record_t *cur);
static ngx_uint_t ngx_http_sender_domains_change_applies(
    ngx_http_sender_domains_change_t *ch, json_t *row);
static void ngx_http_sender_domains_change_apply(
    ngx_http_sender_domains_change_t *ch, json_t *row, int64_t now);
static void ngx_http_sender_domains_change_schedule(
    ngx_http_sender_domains_change_t *ch, json_t *row, int64_t now);
static int ngx_http_sender_domains_save_cb(void *data,
    const sd_record_t *cur, sd_record_t *out);
static void ngx_http_sender_domains_save_timer(ngx_event_t *ev);
static void ngx_http_sender_domains_save(void);
static void ngx_http_sender_domains_purge(ngx_http_sender_domains_due_t *d);
static ngx_int_t ngx_http_sender_domains_resume_run(
    ngx_http_sender_domains_poll_t *poll, ngx_http_sender_domains_due_t *d,
    ngx_pool_t *pool);
static ngx_int_t ngx_http_sender_domains_resume(
    ngx_http_sender_domains_poll_t *poll, ngx_http_sender_domains_due_t *d);


static ngx_event_t                       ngx_http_sender_domains_tick_ev;
static ngx_connection_t                  ngx_http_sender_domains_tick_conn;
static ngx_http_sender_domains_poll_t   *ngx_http_sender_domains_poll;
static ngx_msec_t                        ngx_http_sender_domains_tick;
static time_t                            ngx_http_sender_domains_checked;
static ngx_uint_t                        ngx_http_sender_domains_leader;
static ngx_uint_t                        ngx_http_sender_domains_error_logged;
static ngx_http_sender_domains_batch_t  *ngx_http_sender_domains_batch;
static ngx_event_t                       ngx_http_sender_domains_save_ev;


/* ---- the refresher ------------------------------------------------------ */


/*
 * The refresher's timers are cancelable: a gracefully exiting worker does
 * not wait for them.  Their data is a dummy connection (fd -1), which
 * nginx's debug log reads when a timer is added or deleted.
 */

static void
ngx_http_sender_domains_timer_init(ngx_event_t *ev,
    ngx_event_handler_pt handler, ngx_log_t *log)
{
    ngx_memzero(ev, sizeof(ngx_event_t));
    ev->handler = handler;
    ev->data = &ngx_http_sender_domains_tick_conn;
    ev->log = log;
    ev->cancelable = 1;
}


ngx_int_t
ngx_http_sender_domains_refresh_init(ngx_cycle_t *cycle)
{
    ngx_event_t                          *ev;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_sender_domains_module);

    smcf->resume = ngx_http_sender_domains_refresh_resume;

    /* renew the lease several times per interval, at most every 15 s */
    ngx_http_sender_domains_tick = smcf->refresh_interval / 4;
    ngx_http_sender_domains_tick = ngx_max(ngx_http_sender_domains_tick, 250);
    ngx_http_sender_domains_tick = ngx_min(ngx_http_sender_domains_tick,
                                           15000);

    /* a cluster node's publisher and watch start within a second */
    if (smcf->cluster) {
        ngx_http_sender_domains_tick = ngx_min(ngx_http_sender_domains_tick,
                                               1000);
    }

    ngx_memzero(&ngx_http_sender_domains_tick_conn, sizeof(ngx_connection_t));
    ngx_http_sender_domains_tick_conn.fd = (ngx_socket_t) -1;

    /* an exiting worker saves what is left in refresh_exit */
    ngx_http_sender_domains_timer_init(&ngx_http_sender_domains_save_ev,
                                       ngx_http_sender_domains_save_timer,
                                       cycle->log);

    ev = &ngx_http_sender_domains_tick_ev;
    ngx_http_sender_domains_timer_init(ev,
                                       ngx_http_sender_domains_refresh_tick,
                                       cycle->log);

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

    if (ngx_http_sender_domains_poll
        && ngx_http_sender_domains_poll->resume.timer_set)
    {
        ngx_del_timer(&ngx_http_sender_domains_poll->resume);
    }

    /* what was polled but not saved yet: otherwise polled again */
    ngx_http_sender_domains_save();

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
    ngx_http_sender_domains_metric_tick(st, acquired);
    ngx_http_sender_domains_webhook_leader(acquired);
    ngx_http_sender_domains_cluster_tick(acquired);

    /* in a cluster, the leader node's alone (docs/cluster.md) */
    if (acquired && ngx_http_sender_domains_poll == NULL
        && ngx_http_sender_domains_cluster_refresher_runs())
    {
        ngx_http_sender_domains_poll_start((ngx_cycle_t *) ngx_cycle);
    }

next:

    ngx_add_timer(ev, ngx_http_sender_domains_tick);
}


/* 1: a List answer can settle this row (its DKIM status is all it needs) */

static ngx_uint_t
ngx_http_sender_domains_listable(unsigned flags)
{
    return (flags & SD_REC_DKIM_MASK)
           && !(flags & (SD_REC_MAIL_FROM_PENDING | SD_REC_UNFINISHED
                         | SD_REC_FAILED));
}


/*
 * A List page costs one call and answers for up to 1,000 identities of
 * the whole account, but only rows whose MAIL FROM is settled can do with
 * it; the others need GetEmailIdentity anyway.  So List only when it pays
 * off: when every page the account needs (its size taken from the store)
 * settles at least LIST_GAIN due rows, and never ask for more pages than
 * that (an account larger than the store thinks is cut short: rows not
 * seen are asked one by one).
 */

static void
ngx_http_sender_domains_poll_plan(ngx_http_sender_domains_poll_t *poll)
{
    size_t                          total;
    ngx_uint_t                      i, listable, pages;
    ngx_http_sender_domains_due_t  *d;

    d = poll->due.elts;
    listable = 0;

    for (i = 0; i < poll->due.nelts; i++) {
        listable += ngx_http_sender_domains_listable(d[i].flags);
    }

    if (listable < NGX_HTTP_SENDER_DOMAINS_LIST_FROM
        || sd_store_count(ngx_http_sender_domains_store(), &total)
           != SD_STORE_OK)
    {
        return;
    }

    pages = (total + NGX_HTTP_SENDER_DOMAINS_LIST_PAGE - 1)
            / NGX_HTTP_SENDER_DOMAINS_LIST_PAGE;
    pages = ngx_max(pages, 1);

    if (listable < pages * NGX_HTTP_SENDER_DOMAINS_LIST_GAIN) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "sender_domains: no List: %ui rows it could settle, "
                       "%uz identities, %ui pages", listable, total, pages);
        return;
    }

    poll->use_list = 1;
    poll->max_pages = listable / NGX_HTTP_SENDER_DOMAINS_LIST_GAIN;
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
    ngx_http_sender_domains_timer_init(&poll->resume,
                                       ngx_http_sender_domains_poll_resume,
                                       cycle->log);

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
    ngx_http_sender_domains_metric_cycle(0);

    ngx_http_sender_domains_poll_plan(poll);

    if (poll->use_list) {
        ngx_http_sender_domains_poll_list(poll, NULL);
        return;
    }

    ngx_http_sender_domains_poll_run(poll);
}


static int
ngx_http_sender_domains_poll_collect(void *data, const char *ws,
    size_t ws_len, const char *id, size_t id_len, unsigned flags)
{
    ngx_http_sender_domains_poll_t  *poll = data;

    ngx_http_sender_domains_due_t  *d;

    d = ngx_array_push(&poll->due);
    if (d == NULL) {
        return 1;
    }

    d->ws.data = ngx_pnalloc(poll->pool, ws_len + id_len);
    if (d->ws.data == NULL) {
        poll->due.nelts--;          /* no half-filled entry */
        return 1;
    }

    ngx_memcpy(d->ws.data, ws, ws_len);
    d->ws.len = ws_len;
    d->id.data = d->ws.data + ws_len;
    ngx_memcpy(d->id.data, id, id_len);
    d->id.len = id_len;
    d->flags = flags;

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
        return;
    }

    ses->handler_parses = 1;

    poll->pages++;
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
        if (st != SD_SES_OK) {
            ngx_http_sender_domains_ses_refused(ses, st);
        }

        /* more pages than the due rows justify: the rest is asked by Get */
        if (st == SD_SES_OK && token[0] && poll->pages < poll->max_pages) {
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


/* ---- what SES said, applied to a row ------------------------------------ */


static void
ngx_http_sender_domains_status_copy(char *to, const char *s)
{
    ngx_cpystrn((u_char *) to, (u_char *) (s ? s : ""), 16);
}


/*
 * Works out a row's new version from "cur": pure work on the JSON, no
 * I/O, so it runs once when the answer comes in, and again inside the
 * write transaction only if somebody changed the row meanwhile.
 */

static void
ngx_http_sender_domains_change_compute(ngx_http_sender_domains_change_t *ch,
    const sd_record_t *cur)
{
    json_t   *row;
    int64_t   now;

    free(ch->text);
    ch->text = NULL;
    ch->skip = 1;

    row = json_loadb(cur->json, cur->json_len, 0, NULL);
    if (row == NULL) {
        return;
    }

    if (!ngx_http_sender_domains_change_applies(ch, row)) {
        json_decref(row);
        return;
    }

    now = ngx_time();

    ngx_http_sender_domains_change_apply(ch, row, now);
    ngx_http_sender_domains_change_schedule(ch, row, now);

    if (sd_row_to_record(row, &ch->out, &ch->text) == 0) {
        /* the name as stored: the row is freed before the batch is written */
        ch->out.sender_name = cur->sender_name;
        ch->out.sender_name_len = cur->sender_name_len;
        ch->skip = 0;
    }

    json_decref(row);
}


/* whether the row is still what was polled, so that the answer applies */

static ngx_uint_t
ngx_http_sender_domains_change_applies(ngx_http_sender_domains_change_t *ch,
    json_t *row)
{
    /* a person may have finished or changed it meanwhile: still ready? */
    if (!sd_row_in_state(row, SD_STATE_READY)) {
        return 0;
    }

    /* the List said "no news" of what the row was when polled: still so? */
    if (ch->outcome == NGX_HTTP_SENDER_DOMAINS_LISTED
        && (sd_row_dkim_flag(sd_row_str(row, "dkim_status")) != ch->listed
            || (sd_row_flags(row) & SD_REC_MAIL_FROM_PENDING)))
    {
        return 0;
    }

    return 1;
}


/* what SES said, into the row; the statuses before and after kept in ch */

static void
ngx_http_sender_domains_change_apply(ngx_http_sender_domains_change_t *ch,
    json_t *row, int64_t now)
{
    ngx_http_sender_domains_status_copy(ch->dkim[0],
                                        sd_row_str(row, "dkim_status"));
    ngx_http_sender_domains_status_copy(ch->mf[0],
                                        sd_row_str(row, "mail_from_status"));

    /*
     * A row an older version adopted: an address of the workspace's legacy
     * list was the platform's declaration (a migration); anything else is
     * unproven (sd_row_apply_ses() says so).
     */
    if (ch->declared && json_object_get(row, "ownership") == NULL
        && sd_row_str(row, "origin")
        && ngx_strcmp(sd_row_str(row, "origin"), "adopted") == 0)
    {
        json_object_set_new(row, "ownership",
                            json_string(SD_OWNERSHIP_DECLARED));
    }

    switch (ch->outcome) {

    case NGX_HTTP_SENDER_DOMAINS_GOT:
        sd_row_apply_ses(row, ch->si, now);
        sd_row_clear_error(row);
        break;

    case NGX_HTTP_SENDER_DOMAINS_GONE:
        /* deleted in SES behind our back: a refresh will re-create it */
        sd_row_set_gone(row);
        sd_row_set_error(row, "ses_error", SD_ROW_GONE_MESSAGE);
        break;

    default:
        sd_row_set_time(row, "last_checked_at", now);
    }

    ngx_http_sender_domains_status_copy(ch->dkim[1],
                                        sd_row_str(row, "dkim_status"));
    ngx_http_sender_domains_status_copy(ch->mf[1],
                                        sd_row_str(row, "mail_from_status"));
}


/*
 * The row's next check (sooner when its statuses moved), the end of an
 * unverified claim, and the purge of an abandoned row.
 */

static void
ngx_http_sender_domains_change_schedule(ngx_http_sender_domains_change_t *ch,
    json_t *row, int64_t now)
{
    int                                   changed;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    changed = 0;

    if (ch->outcome == NGX_HTTP_SENDER_DOMAINS_GOT) {
        changed = ngx_strcmp(ch->dkim[0], ch->dkim[1]) != 0
                  || ngx_strcmp(ch->mf[0], ch->mf[1]) != 0;
    }

    (void) sd_row_schedule(row, now, smcf->refresh_interval / 1000, 3600,
                           changed);

    /* not verified in time: the claim stops blocking others (issue 13) */
    if (sd_row_expire(row, now)) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "sender_domains: workspace \"%V\" identity \"%V\": "
                      "claim expired unverified",
                      ngx_http_sender_domains_log_esc(&ch->row->ws),
                      &ch->row->id);
    }

    sd_row_abandon(row, now, smcf->purge_after);
}


/* what SES said about a row: worked out now, saved with the next batch */

static void
ngx_http_sender_domains_result(ngx_http_sender_domains_due_t *row,
    ngx_http_sender_domains_outcome_e outcome, const sd_ses_identity_t *si,
    unsigned listed)
{
    sd_record_t                        lrec;
    sd_store_rc_e                      rc;
    ngx_pool_t                        *pool;
    ngx_http_sender_domains_batch_t   *b;
    ngx_http_sender_domains_change_t  *ch;

    ngx_http_sender_domains_metric_poll(outcome);

    b = ngx_http_sender_domains_batch;

    if (b == NULL) {
        pool = ngx_create_pool(16384, ngx_cycle->log);
        if (pool == NULL) {
            return;
        }

        b = ngx_palloc(pool, sizeof(ngx_http_sender_domains_batch_t));
        if (b == NULL
            || ngx_array_init(&b->changes, pool,
                              NGX_HTTP_SENDER_DOMAINS_SAVE_ROWS,
                              sizeof(ngx_http_sender_domains_change_t))
               != NGX_OK)
        {
            ngx_destroy_pool(pool);
            return;
        }

        b->pool = pool;
        ngx_http_sender_domains_batch = b;
    }

    ch = ngx_array_push(&b->changes);
    if (ch == NULL) {
        return;                     /* it stays due */
    }

    ngx_memzero(ch, sizeof(ngx_http_sender_domains_change_t));
    ch->row = row;
    ch->outcome = outcome;
    ch->listed = listed;

    if (si) {
        ch->si = ngx_palloc(b->pool, sizeof(sd_ses_identity_t));
        if (ch->si == NULL) {
            b->changes.nelts--;
            return;
        }

        ngx_memcpy(ch->si, si, sizeof(sd_ses_identity_t));
    }

    /* the row as it is now; removed meanwhile: nothing to save */
    rc = sd_store_get(ngx_http_sender_domains_store(), (char *) row->ws.data,
                      row->ws.len, (char *) row->id.data, row->id.len,
                      ngx_http_sender_domains_palloc, b->pool, &ch->seen);

    if (rc == SD_STORE_OK) {
        /* read here: the computation may run inside a write transaction */
        ch->declared = !(row->flags & SD_REC_DOMAIN)
                       && sd_store_legacy_get(ngx_http_sender_domains_store(),
                              (char *) row->ws.data, row->ws.len,
                              (char *) row->id.data, row->id.len,
                              ngx_http_sender_domains_palloc, b->pool, &lrec)
                          == SD_STORE_OK;

        ngx_http_sender_domains_change_compute(ch, &ch->seen);

        /* still pending an hour after the add: why, from DNS (issue 17) */
        ngx_http_sender_domains_dns_hint(&row->ws, &row->id,
                                         ch->skip ? &ch->seen : &ch->out);
    }

    if (rc != SD_STORE_OK || ch->skip) {
        free(ch->text);
        b->changes.nelts--;
        return;
    }

    if (b->changes.nelts >= NGX_HTTP_SENDER_DOMAINS_SAVE_ROWS) {
        ngx_http_sender_domains_save();
        return;
    }

    if (!ngx_http_sender_domains_save_ev.timer_set) {
        ngx_add_timer(&ngx_http_sender_domains_save_ev,
                      NGX_HTTP_SENDER_DOMAINS_SAVE_DELAY);
    }
}


static ngx_uint_t
ngx_http_sender_domains_record_eq(const sd_record_t *a, const sd_record_t *b)
{
    return a->flags == b->flags && a->next_check == b->next_check
           && a->sender_name_len == b->sender_name_len
           && a->json_len == b->json_len
           && ngx_memcmp(a->sender_name, b->sender_name,
                         a->sender_name_len) == 0
           && ngx_memcmp(a->json, b->json, a->json_len) == 0;
}


/* inside the write transaction: the row as worked out, if still current */

static int
ngx_http_sender_domains_save_cb(void *data, const sd_record_t *cur,
    sd_record_t *out)
{
    ngx_http_sender_domains_change_t  *ch = data;

    if (!ngx_http_sender_domains_record_eq(cur, &ch->seen)) {
        ngx_http_sender_domains_change_compute(ch, cur);
    }

    if (ch->skip) {
        return 1;
    }

    *out = ch->out;

    return 0;
}


static void
ngx_http_sender_domains_log_change(ngx_http_sender_domains_change_t *ch,
    const char *what, const char *before, const char *after)
{
    if (before[0] == '\0' || after[0] == '\0'
        || ngx_strcmp(before, after) == 0)
    {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "sender_domains: workspace \"%V\" identity \"%V\": %s %s "
                  "-> %s", ngx_http_sender_domains_log_esc(&ch->row->ws),
                  &ch->row->id, what, before, after);
}


static void
ngx_http_sender_domains_save_timer(ngx_event_t *ev)
{
    ngx_http_sender_domains_save();
}


/* one write transaction, one commit, for every row worked out so far */

static void
ngx_http_sender_domains_save(void)
{
    sd_store_t                        *st;
    ngx_uint_t                         i, n;
    sd_store_rc_e                      rc;
    sd_store_change_t                 *sc;
    ngx_http_sender_domains_batch_t   *b;
    ngx_http_sender_domains_change_t  *ch;

    b = ngx_http_sender_domains_batch;

    if (ngx_http_sender_domains_save_ev.timer_set) {
        ngx_del_timer(&ngx_http_sender_domains_save_ev);
    }

    if (b == NULL) {
        return;
    }

    ngx_http_sender_domains_batch = NULL;

    st = ngx_http_sender_domains_store();
    ch = b->changes.elts;
    n = b->changes.nelts;

    sc = ngx_palloc(b->pool, n * sizeof(sd_store_change_t));

    if (st == NULL || sc == NULL) {
        goto done;
    }

    for (i = 0; i < n; i++) {
        sc[i].ws = (char *) ch[i].row->ws.data;
        sc[i].ws_len = ch[i].row->ws.len;
        sc[i].id = (char *) ch[i].row->id.data;
        sc[i].id_len = ch[i].row->id.len;
        sc[i].ctx = &ch[i];
    }

    /* a batch lost in a power cut is polled again: no meta-page sync */
    rc = sd_store_modify_many(st, sc, n, ngx_http_sender_domains_save_cb,
                              NULL, SD_STORE_REDOABLE);

    if (rc != SD_STORE_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "sender_domains: refresher cannot save %ui rows: %s; "
                      "they stay due", n, sd_store_strerror(st));
        goto done;
    }

    for (i = 0; i < n; i++) {
        if (sc[i].rc == SD_STORE_CONFLICT) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "sender_domains: refresher cannot save \"%V\" "
                          "(workspace \"%V\"): another workspace holds the "
                          "name", &ch[i].row->id,
                          ngx_http_sender_domains_log_esc(&ch[i].row->ws));
        }

        if (sc[i].rc != SD_STORE_OK || sc[i].skipped) {
            continue;
        }

        if (ch[i].outcome == NGX_HTTP_SENDER_DOMAINS_GONE) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "sender_domains: workspace \"%V\" identity \"%V\" "
                          "is gone from SES",
                          ngx_http_sender_domains_log_esc(&ch[i].row->ws),
                          &ch[i].row->id);
            continue;
        }

        ngx_http_sender_domains_log_change(&ch[i], "DKIM", ch[i].dkim[0],
                                           ch[i].dkim[1]);
        ngx_http_sender_domains_log_change(&ch[i], "MAIL FROM", ch[i].mf[0],
                                           ch[i].mf[1]);
    }

done:

    for (i = 0; i < n; i++) {
        free(ch[i].text);
    }

    ngx_destroy_pool(b->pool);
}


/* ---- polling ------------------------------------------------------------ */


/* the List shows nothing new for this row: its DKIM status, as SES has it */

static ngx_uint_t
ngx_http_sender_domains_poll_unchanged(ngx_http_sender_domains_poll_t *poll,
    ngx_http_sender_domains_due_t *d, unsigned *listed)
{
    ngx_http_sender_domains_listed_t  *l;

    if (!poll->use_list || !ngx_http_sender_domains_listable(d->flags)) {
        return 0;
    }

    l = ngx_http_sender_domains_poll_find(poll, &d->id);
    if (l == NULL) {
        return 0;       /* not listed: Get says whether it is gone */
    }

    *listed = sd_row_dkim_flag(sd_ses_dkim_status_name(l->status));

    return (d->flags & SD_REC_DKIM_MASK) == *listed;
}


static void
ngx_http_sender_domains_poll_run(ngx_http_sender_domains_poll_t *poll)
{
    unsigned                        listed;
    ngx_uint_t                      settled;
    ngx_pool_t                     *pool;
    ngx_http_sender_domains_due_t  *d;
    ngx_http_sender_domains_get_t  *g;
    ngx_http_sender_domains_ses_t  *ses;

    d = poll->due.elts;
    settled = 0;

    while (poll->next < poll->due.nelts
           && poll->in_flight < NGX_HTTP_SENDER_DOMAINS_CONCURRENCY
           && !ngx_exiting)
    {
        if (d[poll->next].flags & SD_REC_FAILED) {
            /* a released claim, due: its grace period is over */
            ngx_http_sender_domains_purge(&d[poll->next]);
            poll->next++;
            continue;
        }

        if (d[poll->next].flags & SD_REC_UNFINISHED) {
            /* an add that stopped half-way: finish it (issue 13) */
            if (ngx_http_sender_domains_resume(poll, &d[poll->next])
                != NGX_OK)
            {
                break;      /* no budget: it stays due */
            }

            poll->next++;
            continue;
        }

        if ((d[poll->next].flags & SD_REC_UNPROVEN)
            && !(d[poll->next].flags & SD_REC_OWN_CHECKED))
        {
            /* a domain waiting for its DNS ownership proof (issue 13) */
            d[poll->next].flags |= SD_REC_OWN_CHECKED;
            ngx_http_sender_domains_ownership_background(&d[poll->next].ws,
                                                         &d[poll->next].id);
        }

        if (ngx_http_sender_domains_poll_unchanged(poll, &d[poll->next],
                                                   &listed))
        {
            /* a List settles many rows at once: let requests in between */
            if (settled++ == NGX_HTTP_SENDER_DOMAINS_TURN_ROWS) {
                if (!poll->resume.timer_set) {
                    ngx_add_timer(&poll->resume, 1);
                }

                return;
            }

            ngx_http_sender_domains_result(&d[poll->next],
                                           NGX_HTTP_SENDER_DOMAINS_LISTED,
                                           NULL, listed);
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

        ses->handler_parses = 1;

        poll->next++;
        poll->in_flight++;
    }

    if (poll->in_flight == 0 && !poll->resume.timer_set) {
        ngx_http_sender_domains_poll_end(poll);
    }
}


static void
ngx_http_sender_domains_poll_resume(ngx_event_t *ev)
{
    ngx_http_sender_domains_poll_run(ngx_http_sender_domains_poll);
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
        if (st != SD_SES_OK) {
            ngx_http_sender_domains_ses_refused(ses, st);
        }
    }

    switch (st) {

    case SD_SES_OK:
        ngx_http_sender_domains_rate_recovered(ngx_cycle->log);
        ngx_http_sender_domains_error_logged = 0;
        ngx_http_sender_domains_result(g->row, NGX_HTTP_SENDER_DOMAINS_GOT,
                                       &si, 0);
        break;

    case SD_SES_NOT_FOUND:
        ngx_http_sender_domains_result(g->row, NGX_HTTP_SENDER_DOMAINS_GONE,
                                       NULL, 0);
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

        ngx_http_sender_domains_result(g->row,
                                       NGX_HTTP_SENDER_DOMAINS_FAILED,
                                       NULL, 0);
    }

    poll->in_flight--;

    ngx_destroy_pool(g->pool);

    ngx_http_sender_domains_poll_run(poll);
}


static void
ngx_http_sender_domains_poll_end(ngx_http_sender_domains_poll_t *poll)
{
    if (poll->resume.timer_set) {
        ngx_del_timer(&poll->resume);
    }

    /* the batch points at this cycle's rows: save it before they go */
    ngx_http_sender_domains_save();
    ngx_http_sender_domains_metric_cycle(1);

    if (ngx_http_sender_domains_poll == poll) {
        ngx_http_sender_domains_poll = NULL;
    }

    ngx_destroy_pool(poll->pool);
}


/* ---- abandoned rows, half-added rows (issue 13) -------------------------- */


/* deletes a row whose claim was released, once its grace period is over */

static void
ngx_http_sender_domains_purge(ngx_http_sender_domains_due_t *d)
{
    json_t         *row;
    int64_t         t;
    ngx_uint_t      level;
    ngx_pool_t     *pool;
    const char     *purge;
    sd_record_t     rec;
    sd_store_rc_e   rc;

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    rc = sd_store_get(ngx_http_sender_domains_store(), (char *) d->ws.data,
                      d->ws.len, (char *) d->id.data, d->id.len,
                      ngx_http_sender_domains_palloc, pool, &rec);

    row = (rc == SD_STORE_OK) ? json_loadb(rec.json, rec.json_len, 0, NULL)
                              : NULL;

    purge = row ? sd_row_str(row, "purge_at") : NULL;

    if (row && (sd_row_flags(row) & SD_REC_FAILED) && purge
        && sd_time_parse(purge, ngx_strlen(purge), &t) == 0
        && t <= ngx_time())
    {
        rc = sd_store_delete(ngx_http_sender_domains_store(),
                             (char *) d->ws.data, d->ws.len,
                             (char *) d->id.data, d->id.len);

        level = (rc == SD_STORE_OK) ? NGX_LOG_INFO : NGX_LOG_ERR;

        if (rc == SD_STORE_OK) {
            /* its identity.removed event went with the delete */
            ngx_http_sender_domains_metric_poll(SD_M_POLL_PURGED);
        }

        ngx_log_error(level, ngx_cycle->log, 0,
                      "sender_domains: workspace \"%V\" identity \"%V\": "
                      "abandoned row %s",
                      ngx_http_sender_domains_log_esc(&d->ws), &d->id,
                      rc == SD_STORE_OK ? "purged" : "cannot be purged");
    }

    json_decref(row);
    ngx_destroy_pool(pool);
}


/*
 * The refresher finishes an add that stopped half-way (a client gone, an
 * SES error, no credentials): CreateEmailIdentity with the row's claim
 * tag, or its MAIL FROM.  An identity SES has that this claim did not
 * create is never adopted here: the row fails with registered_outside.
 */

typedef struct {
    ngx_http_sender_domains_poll_t  *poll;
    ngx_http_sender_domains_due_t   *due;
    ngx_pool_t                      *pool;
    json_t                          *row;
    ngx_str_t                        state;     /* when loaded */
    ngx_uint_t                       step;      /* SD_SES_OP_* */
    char                            *text;
} ngx_http_sender_domains_resume_t;


static void ngx_http_sender_domains_resume_done(
    ngx_http_sender_domains_ses_t *ses);
static ngx_uint_t ngx_http_sender_domains_resume_ours(
    ngx_http_sender_domains_resume_t *rs, ngx_http_sender_domains_ses_t *ses);
static void ngx_http_sender_domains_resume_mail_from(
    ngx_http_sender_domains_resume_t *rs);
static void ngx_http_sender_domains_resume_created(
    ngx_http_sender_domains_resume_t *rs, ngx_http_sender_domains_ses_t *ses);
static void ngx_http_sender_domains_resume_failed(
    ngx_http_sender_domains_resume_t *rs, ngx_http_sender_domains_ses_t *ses);


static void
ngx_http_sender_domains_resume_end(ngx_http_sender_domains_resume_t *rs)
{
    ngx_http_sender_domains_poll_t  *poll = rs->poll;

    json_decref(rs->row);
    ngx_destroy_pool(rs->pool);

    /* none for a resume an add handed over */
    if (poll) {
        poll->in_flight--;
        ngx_http_sender_domains_poll_run(poll);
    }
}


static int
ngx_http_sender_domains_resume_save_cb(void *data, const sd_record_t *cur,
    sd_record_t *out)
{
    ngx_http_sender_domains_resume_t  *rs = data;

    json_t      *now;
    const char  *state;

    /* a person finished or removed it meanwhile: theirs wins */
    now = json_loadb(cur->json, cur->json_len, 0, NULL);
    state = now ? sd_row_str(now, "state") : NULL;

    if (state == NULL || ngx_strlen(state) != rs->state.len
        || ngx_strncmp(state, rs->state.data, rs->state.len) != 0)
    {
        json_decref(now);
        return 1;
    }

    json_decref(now);

    sd_row_set_str(rs->row, "sender_name", cur->sender_name,
                   cur->sender_name_len);

    return sd_row_to_record(rs->row, out, &rs->text) == 0 ? 0 : 1;
}


static void
ngx_http_sender_domains_resume_save(ngx_http_sender_domains_resume_t *rs)
{
    sd_store_rc_e                         rc;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);

    (void) sd_row_expire(rs->row, ngx_time());
    sd_row_abandon(rs->row, ngx_time(), smcf->purge_after);

    rc = sd_store_modify(ngx_http_sender_domains_store(),
                         (char *) rs->due->ws.data, rs->due->ws.len,
                         (char *) rs->due->id.data, rs->due->id.len,
                         ngx_http_sender_domains_resume_save_cb, NULL, rs);

    if (rc != SD_STORE_OK && rc != SD_STORE_NOT_FOUND) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "sender_domains: refresher cannot save \"%V\" "
                      "(workspace \"%V\"): %s", &rs->due->id,
                      ngx_http_sender_domains_log_esc(&rs->due->ws),
                      sd_store_strerror(ngx_http_sender_domains_store()));

    } else if (rc == SD_STORE_OK && rs->text) {
        /* written, with its events (state, failed): counted like a poll */
        ngx_http_sender_domains_metric_poll(SD_M_POLL_RESUMED);
    }

    free(rs->text);
    rs->text = NULL;
}


static ngx_int_t
ngx_http_sender_domains_resume_call(ngx_http_sender_domains_resume_t *rs,
    ngx_uint_t op, ngx_str_t *arg)
{
    ngx_http_sender_domains_ses_t  *ses;

    /*
     * In the row's workspace's turn, after its people's calls: a flood
     * of other workspaces' calls does not hold it back, and a workspace's
     * own half-added rows cost its own share.
     */
    ses = ngx_http_sender_domains_ses_start_deferred(rs->pool, ngx_cycle->log,
              op, &rs->due->id, arg, &rs->due->ws,
              ngx_http_sender_domains_resume_done, rs);
    if (ses == NULL) {
        return NGX_ERROR;
    }

    rs->step = op;

    return NGX_OK;
}


/* the next SES call the row's state asks for; NGX_DECLINED: none */

static ngx_int_t
ngx_http_sender_domains_resume_next(ngx_http_sender_domains_resume_t *rs)
{
    u_char      *p;
    ngx_str_t    arg;
    const char  *label;

    if (sd_row_in_state(rs->row, SD_STATE_CREATING)) {
        arg.data = (u_char *) sd_row_str(rs->row, "_claim");
        if (arg.data == NULL) {
            return NGX_DECLINED;    /* a person's refresh gives it one */
        }

        arg.len = ngx_strlen(arg.data);

        return ngx_http_sender_domains_resume_call(rs, SD_SES_OP_CREATE,
                                                   &arg);
    }

    if (sd_row_in_state(rs->row, SD_STATE_MAIL_FROM)) {
        label = sd_row_mail_from_label(rs->row);

        arg.len = ngx_strlen(label) + 1 + rs->due->id.len;
        arg.data = ngx_pnalloc(rs->pool, arg.len);
        if (arg.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_sprintf(arg.data, "%s.%V", label, &rs->due->id);
        arg.len = p - arg.data;

        return ngx_http_sender_domains_resume_call(rs,
                                                   SD_SES_OP_PUT_MAIL_FROM,
                                                   &arg);
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_sender_domains_resume(ngx_http_sender_domains_poll_t *poll,
    ngx_http_sender_domains_due_t *d)
{
    ngx_pool_t  *pool;

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_sender_domains_resume_run(poll, d, pool);
}


ngx_int_t
ngx_http_sender_domains_refresh_resume(ngx_str_t *ws, ngx_str_t *id)
{
    u_char                         *p;
    ngx_pool_t                     *pool;
    ngx_http_sender_domains_due_t  *d;

    if (ngx_exiting || ngx_http_sender_domains_store() == NULL) {
        return NGX_DECLINED;
    }

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    /* the request's pool goes with its answer: a copy of the names */
    d = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_due_t)
                          + ws->len + id->len);
    if (d == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    p = (u_char *) (d + 1);
    d->ws.data = p;
    d->ws.len = ws->len;
    p = ngx_cpymem(p, ws->data, ws->len);
    d->id.data = p;
    d->id.len = id->len;
    ngx_memcpy(p, id->data, id->len);
    d->flags = SD_REC_UNFINISHED;

    return ngx_http_sender_domains_resume_run(NULL, d, pool);
}


/* "poll": NULL for a resume an add handed over; the pool is the resume's */

static ngx_int_t
ngx_http_sender_domains_resume_run(ngx_http_sender_domains_poll_t *poll,
    ngx_http_sender_domains_due_t *d, ngx_pool_t *pool)
{
    ngx_int_t                          rc;
    const char                        *state;
    sd_record_t                        rec;
    ngx_http_sender_domains_resume_t  *rs;

    rs = ngx_pcalloc(pool, sizeof(ngx_http_sender_domains_resume_t));
    if (rs == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    rs->poll = poll;
    rs->due = d;
    rs->pool = pool;

    if (sd_store_get(ngx_http_sender_domains_store(), (char *) d->ws.data,
                     d->ws.len, (char *) d->id.data, d->id.len,
                     ngx_http_sender_domains_palloc, pool, &rec)
        != SD_STORE_OK
        || (rs->row = json_loadb(rec.json, rec.json_len, 0, NULL)) == NULL)
    {
        ngx_destroy_pool(pool);
        return NGX_OK;              /* removed meanwhile */
    }

    state = sd_row_str(rs->row, "state");
    rs->state.len = state ? ngx_strlen(state) : 0;
    rs->state.data = ngx_pnalloc(pool, rs->state.len + 1);
    if (rs->state.data == NULL) {
        json_decref(rs->row);
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ngx_memcpy(rs->state.data, state ? state : "", rs->state.len);

    /* past its claim's time: it fails now, nothing to ask SES */
    if (sd_row_expire(rs->row, ngx_time())) {
        ngx_http_sender_domains_resume_save(rs);
        json_decref(rs->row);
        ngx_destroy_pool(pool);
        return NGX_OK;
    }

    rc = ngx_http_sender_domains_resume_next(rs);

    if (rc == NGX_DECLINED) {
        /* nothing the refresher can do (no claim tag): ask again later */
        ngx_http_sender_domains_main_conf_t  *smcf;

        smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);
        (void) sd_row_schedule(rs->row, ngx_time(),
                               smcf->refresh_interval / 1000, 3600, 0);
        ngx_http_sender_domains_resume_save(rs);
    }

    if (rc != NGX_OK) {
        json_decref(rs->row);
        ngx_destroy_pool(pool);
        return (rc == NGX_DECLINED) ? NGX_OK : NGX_ERROR;
    }

    if (poll) {
        poll->in_flight++;
    }

    return NGX_OK;
}


static void
ngx_http_sender_domains_resume_done(ngx_http_sender_domains_ses_t *ses)
{
    ngx_http_sender_domains_resume_t  *rs = ses->data;

    sd_ses_status_e  st;

    st = ses->result.status;

    if (st == SD_SES_THROTTLED && ses->call == NULL) {
        /*
         * Never sent: its workspace's turn did not come within a minute
         * (its own people's calls go first).  Not an SES failure: the
         * row stays as it is, due, and the refresher tries again.
         */
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "sender_domains: workspace \"%V\" identity \"%V\": "
                      "its next step waits for the workspace's turn",
                      ngx_http_sender_domains_log_esc(&rs->due->ws),
                      &rs->due->id);
        ngx_http_sender_domains_resume_end(rs);
        return;
    }

    switch (rs->step) {

    case SD_SES_OP_CREATE:

        if (st == SD_SES_ALREADY_EXISTS) {
            /* created for this claim, its answer lost? the tag says */
            if (ngx_http_sender_domains_resume_call(rs, SD_SES_OP_GET, NULL)
                != NGX_OK)
            {
                break;
            }

            return;
        }

        if (st != SD_SES_OK) {
            ngx_http_sender_domains_resume_failed(rs, ses);
            return;
        }

        sd_row_set_origin(rs->row, SD_ORIGIN_CREATED, SD_OWNERSHIP_PROVEN);
        ngx_http_sender_domains_resume_created(rs, ses);
        return;

    case SD_SES_OP_GET:

        if (st != SD_SES_OK) {
            ngx_http_sender_domains_resume_failed(rs, ses);
            return;
        }

        if (!ngx_http_sender_domains_resume_ours(rs, ses)) {
            /* not ours to adopt in the background: the person decides */
            sd_row_set_outside(rs->row,
                             "This name already exists in the platform's "
                             "Amazon SES account, not created for your "
                             "workspace. Remove it and add it again; if "
                             "that is refused, contact support.");
            ngx_http_sender_domains_resume_save(rs);
            break;
        }

        sd_row_set_origin(rs->row, SD_ORIGIN_CREATED, SD_OWNERSHIP_PROVEN);
        ngx_http_sender_domains_resume_created(rs, ses);
        return;

    case SD_SES_OP_PUT_MAIL_FROM:

        if (st != SD_SES_OK) {
            ngx_http_sender_domains_resume_failed(rs, ses);
            return;
        }

        ngx_http_sender_domains_resume_mail_from(rs);
        break;

    default:
        break;
    }

    ngx_http_sender_domains_resume_end(rs);
}


/* GetEmailIdentity's answer carries this row's claim tag */

static ngx_uint_t
ngx_http_sender_domains_resume_ours(ngx_http_sender_domains_resume_t *rs,
    ngx_http_sender_domains_ses_t *ses)
{
    sd_ses_identity_t  si;

    return sd_ses_parse_identity((char *) ses->body.data, ses->body.len, &si)
           == SD_SES_OK
           && sd_row_claim_tag(rs->row, &si) == SD_ROW_TAG_OURS;
}


static void
ngx_http_sender_domains_resume_mail_from(ngx_http_sender_domains_resume_t *rs)
{
    int64_t                               now;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);
    now = ngx_time();

    (void) sd_row_set_mail_from(rs->row, (char *) rs->due->id.data,
                                rs->due->id.len);

    sd_row_set_state(rs->row, SD_STATE_READY);
    sd_row_clear_error(rs->row);
    (void) sd_row_schedule(rs->row, now, smcf->refresh_interval / 1000,
                           3600, 1);
    ngx_http_sender_domains_resume_save(rs);
}


/* the identity exists in SES for this claim: on to its MAIL FROM */

static void
ngx_http_sender_domains_resume_created(ngx_http_sender_domains_resume_t *rs,
    ngx_http_sender_domains_ses_t *ses)
{
    int64_t                               now;
    ngx_int_t                             rc;
    sd_ses_identity_t                     si;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);
    now = ngx_time();

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "sender_domains: workspace \"%V\" identity \"%V\": the "
                  "refresher finished its creation",
                  ngx_http_sender_domains_log_esc(&rs->due->ws),
                  &rs->due->id);

    /* SES's search (or the link's life) starts now */
    sd_row_set_claim_expiry(rs->row, now, smcf->claim_domain,
                            smcf->claim_address);

    if (!sd_row_is_domain(rs->row)) {
        sd_row_set_link_sent(rs->row, now);
    }

    if (sd_ses_parse_identity((char *) ses->body.data, ses->body.len, &si)
        == SD_SES_OK)
    {
        sd_row_apply_ses(rs->row, &si, now);
    }

    sd_row_settle(rs->row);
    (void) sd_row_schedule(rs->row, now, smcf->refresh_interval / 1000,
                           3600, 1);
    ngx_http_sender_domains_resume_save(rs);

    /* the MAIL FROM at once, in the same turn */
    if (sd_row_in_state(rs->row, SD_STATE_MAIL_FROM)) {
        rs->state.len = sizeof(SD_STATE_MAIL_FROM) - 1;
        rs->state.data = (u_char *) SD_STATE_MAIL_FROM;

        rc = ngx_http_sender_domains_resume_next(rs);
        if (rc == NGX_OK) {
            return;
        }
    }

    ngx_http_sender_domains_resume_end(rs);
}


/* say why on the row, back off, try again later */

static void
ngx_http_sender_domains_resume_failed(ngx_http_sender_domains_resume_t *rs,
    ngx_http_sender_domains_ses_t *ses)
{
    int64_t                               now;
    const char                           *code;
    sd_ses_status_e                       st;
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_sender_domains_module);
    now = ngx_time();
    st = ses->result.status;

    code = sd_ses_error_code(st);
    sd_row_set_error(rs->row, code, ses->result.message);
    (void) sd_row_schedule(rs->row, now, smcf->refresh_interval / 1000, 3600,
                           0);
    ngx_http_sender_domains_resume_save(rs);

    if (st == SD_SES_THROTTLED) {
        ngx_http_sender_domains_rate_throttled(ngx_cycle->log);
    }

    ngx_http_sender_domains_resume_end(rs);
}
