/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * What counting a workspace's rows costs an add (docs/performance.md,
 * "Fair shares of SES"): sd_store_claim_max() counts the rows with a
 * cursor inside the claim's write transaction.  This times claims into a
 * workspace that already holds N rows, with and without the count, the
 * disk sync left out (MDB_NOSYNC is not used by the module: here it
 * isolates the CPU cost the count adds).
 *
 *   make -f Makefile.dev bench-fairness     (builds and runs it)
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sd_store.h"


static double
now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}


static void
fill(sd_store_t *st, const char *ws, int n, const sd_record_t *rec)
{
    int   i;
    char  id[64];

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "seed%06d@fill.example", i);
        (void) sd_store_claim(st, ws, strlen(ws), id, strlen(id), rec);
    }
}


int
main(void)
{
    int          i, k, n, sizes[] = { 100, 1000, 10000 };
    char         dir[64], path[128], lock[160], id[64], json[900];
    double       t0, t[2];
    sd_store_t  *st;
    sd_record_t  rec;
    const int    rounds = 200;

    memset(json, 'x', sizeof(json) - 1);
    json[0] = '{';
    json[sizeof(json) - 2] = '}';
    json[sizeof(json) - 1] = '\0';

    memset(&rec, 0, sizeof(rec));
    rec.sender_name = "Acme Reports";
    rec.sender_name_len = 12;
    rec.json = json;                    /* about a real row's size */
    rec.json_len = strlen(json);

    printf("rows held  claim (us)  claim + count (us)  count alone (us)\n");

    for (k = 0; k < 3; k++) {
        n = sizes[k];

        strcpy(dir, "/tmp/sd-claim-count-XXXXXX");
        if (mkdtemp(dir) == NULL) {
            return 1;
        }

        snprintf(path, sizeof(path), "%s/s.mdb", dir);
        snprintf(lock, sizeof(lock), "%s-lock", path);

        if (sd_store_open(path, (size_t) 512 << 20, &st, NULL, 0)
            != SD_STORE_OK)
        {
            return 1;
        }

        fill(st, "ws", n, &rec);

        for (i = 0; i < 2; i++) {
            t0 = now_us();

            /* each claim is new; the store grows by "rounds" rows */
            for (int j = 0; j < rounds; j++) {
                snprintf(id, sizeof(id), "new%d-%06d@timed.example", i, j);
                (void) sd_store_claim_max(st, "ws", 2, id, strlen(id), &rec,
                                          i ? (size_t) n * 10 : 0);
            }

            t[i] = (now_us() - t0) / rounds;
        }

        {
            size_t  cnt;

            t0 = now_us();
            for (i = 0; i < rounds; i++) {
                (void) sd_store_count_ws(st, "ws", 2, (size_t) n * 10, &cnt);
            }

            printf("%9d  %10.1f  %18.1f  %16.1f\n", n, t[0], t[1],
                   (now_us() - t0) / rounds);
        }

        sd_store_close(st);
        unlink(path);
        unlink(lock);
        rmdir(dir);
    }

    return 0;
}
