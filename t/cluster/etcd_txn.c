/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * t/cluster/etcd_txn.c: a small driver of the pure core's etcd part
 * (src/core/sd_etcd.c) for t/cluster/claims.sh, which sends what it prints
 * to a real etcd with curl and hands the answers back:
 *
 *   etcd_txn claim   PREFIX WS ID ROW          the claim Txn's JSON
 *   etcd_txn nested  PREFIX WS ID ROW SEEN     the nested shape, from the
 *                                              failed answer in file SEEN
 *   etcd_txn verdict PREFIX WS ID ANSWER [PREV]
 *       DONE <rev> | EXISTS | CONFLICT <name> <holder ws> | NESTED |
 *       RETRY | INVALID | ERROR <code> <message>
 *   etcd_txn watch   PREFIX REV                the watch request's JSON
 *   etcd_txn publish PREFIX WS ID ROW GUARD    an outbox entry's Txn (a row
 *                                              put; GUARD: a poll's guard
 *                                              revision, or "-": none)
 *   etcd_txn published ANSWER                  "DONE <rev>" or "OVERTAKEN
 *                                              <value>|-" (the row read)
 *   etcd_txn replay  PREFIX < script           a node's cache fed in order:
 *       "direct KEY VALUE REV"  a Txn's own answer applied directly
 *       "watch JSON"            one message of the watch stream
 *       "dump"                  the cache
 *     prints one line per change: "APPLY|SKIP PUT|DELETE KEY REV", and
 *     "RESYNC <compact revision>" for a compacted watch.
 *
 * Built with the core (make -f Makefile.dev cluster-core).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_etcd.h"


static char *
slurp(const char *path, size_t *len)
{
    char    *buf;
    long     n;
    FILE    *f;

    f = fopen(path, "r");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
        perror(path);
        exit(2);
    }

    rewind(f);
    buf = malloc(n + 1);

    if (buf == NULL || fread(buf, 1, n, f) != (size_t) n) {
        perror(path);
        exit(2);
    }

    fclose(f);
    buf[n] = '\0';
    *len = n;

    return buf;
}


static void
claim_from(char **argv, sd_etcd_claim_t *c)
{
    memset(c, 0, sizeof(sd_etcd_claim_t));
    c->prefix = argv[2];
    c->ws = argv[3];
    c->ws_len = strlen(argv[3]);
    c->id = argv[4];
    c->id_len = strlen(argv[4]);
}


static void
load_txn(const char *path, sd_etcd_txn_t *t, int errors_ok)
{
    char          *body;
    size_t         len;
    sd_etcd_rc_e   rc;

    body = slurp(path, &len);
    rc = sd_etcd_parse_txn(body, len, t);
    free(body);

    if (rc == SD_ETCD_SERVER_ERROR || rc == SD_ETCD_COMPACTED) {
        if (errors_ok) {
            printf("ERROR %d %s\n", t->code, t->message);
            exit(0);
        }
    }

    if (rc != SD_ETCD_OK) {
        fprintf(stderr, "%s: not a Txn answer (%d)\n", path, rc);
        exit(2);
    }
}


static int
verdict(int argc, char **argv)
{
    char                 name[SD_ETCD_KEY_MAX];
    size_t               len;
    sd_etcd_txn_t        t, prev;
    sd_etcd_claim_t      c;
    sd_etcd_claim_e      v;
    const sd_etcd_kv_t  *h;

    claim_from(argv, &c);
    load_txn(argv[5], &t, 1);

    if (argc > 6) {
        load_txn(argv[6], &prev, 0);
    }

    v = sd_etcd_claim_verdict(&c, &t, argc > 6 ? &prev : NULL, &h);

    switch (v) {
    case SD_ETCD_CLAIM_DONE:
        printf("DONE %lld\n", (long long) t.revision);
        break;
    case SD_ETCD_CLAIM_EXISTS:
        printf("EXISTS\n");
        break;
    case SD_ETCD_CLAIM_CONFLICT:
        if (h && sd_etcd_claim_name(c.prefix, h->key, h->key_len, name,
                                    sizeof(name), &len) == 0)
        {
            printf("CONFLICT %s %s\n", name, h->value);
        } else {
            printf("CONFLICT - -\n");
        }
        break;
    case SD_ETCD_CLAIM_NESTED:
        printf("NESTED\n");
        break;
    case SD_ETCD_CLAIM_RETRY:
        printf("RETRY\n");
        break;
    default:
        printf("INVALID\n");
    }

    sd_etcd_txn_free(&t);
    if (argc > 6) {
        sd_etcd_txn_free(&prev);
    }

    return 0;
}


/* ---- replay: a node's cache (key -> revision, value, tombstone) ---- */

typedef struct {
    char     *key;
    char     *value;
    int64_t   rev;
    int       deleted;
} entry_t;

static entry_t  cache[1024];
static size_t   ncache;
static int64_t  applied;


static entry_t *
find(const char *key)
{
    size_t  i;

    for (i = 0; i < ncache; i++) {
        if (strcmp(cache[i].key, key) == 0) {
            return &cache[i];
        }
    }

    if (ncache == sizeof(cache) / sizeof(cache[0])) {
        fprintf(stderr, "replay: cache full\n");
        exit(2);
    }

    cache[ncache].key = strdup(key);
    cache[ncache].value = NULL;
    cache[ncache].rev = 0;
    cache[ncache].deleted = 0;

    return &cache[ncache++];
}


static void
change(const char *key, const char *value, sd_etcd_event_type_e type,
    int64_t rev, int from_watch)
{
    entry_t          *e;
    sd_etcd_apply_e   a;

    e = find(key);
    a = sd_etcd_apply(e->rev, applied, type, rev, from_watch);

    printf("%s %s %s %lld\n", a == SD_ETCD_SKIP ? "SKIP" : "APPLY",
           type == SD_ETCD_EVENT_DELETE ? "DELETE" : "PUT", key,
           (long long) rev);

    if (a == SD_ETCD_SKIP) {
        return;
    }

    free(e->value);
    e->value = (a == SD_ETCD_APPLY_PUT) ? strdup(value) : NULL;
    e->deleted = (a == SD_ETCD_APPLY_DELETE);
    e->rev = rev;
}


static int
replay(void)
{
    char             *line, *p, *key, *value;
    size_t            i, cap;
    ssize_t           n;
    sd_etcd_rc_e      rc;
    sd_etcd_watch_t   w;

    line = NULL;
    cap = 0;

    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }

        if (strncmp(line, "direct ", 7) == 0) {
            key = strtok(line + 7, " ");
            value = strtok(NULL, " ");
            p = strtok(NULL, " ");

            if (key == NULL || value == NULL || p == NULL) {
                fprintf(stderr, "replay: direct KEY VALUE REV\n");
                return 2;
            }

            change(key, value, SD_ETCD_EVENT_PUT, strtoll(p, NULL, 10), 0);

        } else if (strncmp(line, "watch ", 6) == 0) {
            rc = sd_etcd_parse_watch(line + 6, n - 6, &w);

            if (rc != SD_ETCD_OK) {
                printf("WATCH-ERROR %d\n", rc);
                sd_etcd_watch_free(&w);
                continue;
            }

            if (w.canceled && w.compact_revision > 0) {
                /* the node must resync from a range read */
                printf("RESYNC %lld\n", (long long) w.compact_revision);
            }

            for (i = 0; i < w.nevents; i++) {
                change(w.events[i].kv.key, w.events[i].kv.value,
                       w.events[i].type, w.events[i].kv.mod_revision, 1);
            }

            /* everything up to the message's revision is applied now */
            if (w.revision > applied) {
                applied = w.revision;
            }

            for (i = 0; i < ncache; i++) {
                if (cache[i].deleted
                    && sd_etcd_tombstone_done(cache[i].rev, applied))
                {
                    cache[i].rev = 0;   /* the tombstone is gone */
                    cache[i].deleted = 0;
                }
            }

            sd_etcd_watch_free(&w);

        } else if (strcmp(line, "dump") == 0) {
            for (i = 0; i < ncache; i++) {
                if (cache[i].value) {
                    printf("ROW %s %s %lld\n", cache[i].key, cache[i].value,
                           (long long) cache[i].rev);
                } else {
                    printf("NONE %s\n", cache[i].key);
                }
            }

            printf("APPLIED %lld\n", (long long) applied);

        } else if (n > 0) {
            fprintf(stderr, "replay: what is \"%s\"?\n", line);
            return 2;
        }

        fflush(stdout);
    }

    free(line);

    return 0;
}


int
main(int argc, char **argv)
{
    char              *s;
    size_t             len;
    sd_etcd_txn_t      seen;
    sd_etcd_claim_t    c;

    if (argc >= 6 && strcmp(argv[1], "claim") == 0) {
        claim_from(argv, &c);
        c.row = argv[5];
        c.row_len = strlen(argv[5]);
        s = sd_etcd_claim_txn(&c);

    } else if (argc >= 7 && strcmp(argv[1], "nested") == 0) {
        claim_from(argv, &c);
        c.row = argv[5];
        c.row_len = strlen(argv[5]);
        load_txn(argv[6], &seen, 0);
        s = sd_etcd_claim_nested_txn(&c, &seen);
        sd_etcd_txn_free(&seen);

    } else if (argc >= 6 && strcmp(argv[1], "verdict") == 0) {
        return verdict(argc, argv);

    } else if (argc >= 6 && strcmp(argv[1], "owners") == 0) {
        /* owners PREFIX WS ID ANSWER: the owners' read after a CONFLICT */
        const sd_etcd_kv_t  *others[SD_ETCD_TAKEOVER_MAX];

        claim_from(argv, &c);
        load_txn(argv[5], &seen, 0);
        len = sd_etcd_claim_others(&c, &seen, others, SD_ETCD_TAKEOVER_MAX);
        s = sd_etcd_owners_txn(c.prefix, others, len);
        sd_etcd_txn_free(&seen);

    } else if (argc >= 5 && strcmp(argv[1], "takeover") == 0) {
        /* takeover PREFIX OWNERS_ANSWER NOW: the takeover Txn, or the
         * verdict (CONFLICT, RETRY, INVALID) on stderr, exit 3 */
        sd_etcd_claim_e  v;

        load_txn(argv[3], &seen, 0);
        s = sd_etcd_takeover_txn(argv[2], &seen, strtoll(argv[4], NULL, 10),
                                 86400, &v, NULL);
        sd_etcd_txn_free(&seen);

        if (s == NULL) {
            printf("%s\n", v == SD_ETCD_CLAIM_CONFLICT ? "CONFLICT"
                            : v == SD_ETCD_CLAIM_RETRY ? "RETRY" : "INVALID");
            return 3;
        }

    } else if (argc >= 7 && strcmp(argv[1], "publish") == 0) {
        sd_etcd_publish_t  p;

        memset(&p, 0, sizeof(sd_etcd_publish_t));
        p.prefix = argv[2];
        p.kind = SD_ETCD_KIND_ROW;
        p.ws = argv[3];
        p.ws_len = strlen(argv[3]);
        p.id = argv[4];
        p.id_len = strlen(argv[4]);
        p.json = argv[5];
        p.json_len = strlen(argv[5]);
        p.guard = strcmp(argv[6], "-") != 0;
        p.guard_rev = p.guard ? strtoll(argv[6], NULL, 10) : 0;
        s = sd_etcd_publish_txn(&p);

    } else if (argc >= 3 && strcmp(argv[1], "published") == 0) {
        load_txn(argv[2], &seen, 0);

        /* an unguarded Txn's failure branch puts the row too: DONE */
        if (!seen.succeeded && seen.nresponses == 1
            && seen.responses[0].type == SD_ETCD_RESP_RANGE)
        {
            printf("OVERTAKEN %s\n", seen.responses[0].nkvs
                                     ? seen.responses[0].kvs[0].value : "-");

        } else if (seen.nresponses > 0) {
            printf("DONE %lld\n", (long long) seen.revision);

        } else {
            printf("INVALID\n");
        }

        sd_etcd_txn_free(&seen);
        return 0;

    } else if (argc >= 4 && strcmp(argv[1], "watch") == 0) {
        s = sd_etcd_watch_body(argv[2], strtoll(argv[3], NULL, 10));

    } else if (argc >= 3 && strcmp(argv[1], "replay") == 0) {
        return replay();

    } else {
        fprintf(stderr, "usage: etcd_txn claim|nested|verdict|owners|takeover|publish|published|watch|replay"
                        " ... (see the source)\n");
        return 2;
    }

    if (s == NULL) {
        fprintf(stderr, "etcd_txn: no body (a key too long?)\n");
        return 1;
    }

    len = strlen(s);
    fwrite(s, 1, len, stdout);
    putchar('\n');
    free(s);

    return 0;
}
