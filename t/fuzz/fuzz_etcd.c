/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: etcd's gRPC gateway answers (sd_etcd_parse_txn(),
 * sd_etcd_parse_range(), sd_etcd_parse_watch() in src/core/sd_etcd.c),
 * as a cluster node reads them, and the claim verdict over a parsed Txn.
 *
 * Input: [mode] [body].  mode % 3: 0 a Txn answer, 1 a range answer,
 * 2 one line of the watch stream.
 *
 * Properties: on SD_ETCD_OK every key-value has a key of at least one
 * byte, key and value NUL-terminated at their lengths; a Txn or range
 * answer has a revision above 0; a watch event is PUT or DELETE with a
 * mod_revision above 0 and not above its message's revision; the claim
 * verdict is one of its values, and NESTED means the nested Txn can be
 * built; the apply rule never applies a change that is not newer.
 */

#include "fuzz_common.h"

#include "sd_etcd.h"


static void
fz_kv(const sd_etcd_kv_t *kv)
{
    FZ_CHECK(kv->key != NULL && kv->key_len > 0);
    FZ_CHECK(kv->key[kv->key_len] == '\0');
    FZ_CHECK(kv->value != NULL && kv->value[kv->value_len] == '\0');
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t                  fz = { data, size };
    char                 *body, *s;
    size_t                len, i, j;
    uint8_t               mode;
    sd_etcd_rc_e          rc;
    sd_etcd_txn_t         t;
    sd_etcd_watch_t       w;
    sd_etcd_claim_e       v;
    sd_etcd_apply_e       a;
    const sd_etcd_kv_t   *h;
    sd_etcd_claim_t       c = { SD_ETCD_PREFIX_DEFAULT, "w1", 2,
                                "mail.acme.com", 13, "{}", 2, 0, 0 };

    mode = fz_u8(&fz) % 3;
    body = fz_rest(&fz, &len);

    if (mode == 2) {
        rc = sd_etcd_parse_watch(body, len, &w);

        if (rc == SD_ETCD_OK) {
            for (i = 0; i < w.nevents; i++) {
                FZ_CHECK(w.events[i].type == SD_ETCD_EVENT_PUT
                         || w.events[i].type == SD_ETCD_EVENT_DELETE);
                FZ_CHECK(w.events[i].kv.mod_revision > 0);
                FZ_CHECK(w.revision == 0
                         || w.events[i].kv.mod_revision <= w.revision);
                fz_kv(&w.events[i].kv);

                a = sd_etcd_apply(w.revision / 2, w.revision / 3,
                                  w.events[i].type,
                                  w.events[i].kv.mod_revision, i & 1);
                FZ_CHECK(a == SD_ETCD_SKIP
                         || w.events[i].kv.mod_revision > w.revision / 2);
            }
        }

        sd_etcd_watch_free(&w);
        free(body);
        return 0;
    }

    rc = (mode == 0) ? sd_etcd_parse_txn(body, len, &t)
                     : sd_etcd_parse_range(body, len, &t);

    if (rc == SD_ETCD_OK) {
        FZ_CHECK(t.revision > 0);

        for (i = 0; i < t.nresponses; i++) {
            for (j = 0; j < t.responses[i].nkvs; j++) {
                fz_kv(&t.responses[i].kvs[j]);
            }
        }

        v = sd_etcd_claim_verdict(&c, &t, NULL, &h);
        FZ_CHECK(v >= SD_ETCD_CLAIM_DONE && v <= SD_ETCD_CLAIM_INVALID);
        FZ_CHECK(v == SD_ETCD_CLAIM_CONFLICT || h == NULL);

        if (v == SD_ETCD_CLAIM_NESTED) {
            s = sd_etcd_claim_nested_txn(&c, &t);
            FZ_CHECK(s != NULL);
            free(s);

            v = sd_etcd_claim_verdict(&c, &t, &t, &h);
            FZ_CHECK(v >= SD_ETCD_CLAIM_DONE && v <= SD_ETCD_CLAIM_INVALID);
        }

    } else if (rc == SD_ETCD_SERVER_ERROR || rc == SD_ETCD_COMPACTED) {
        FZ_CHECK(t.message != NULL);
    }

    sd_etcd_txn_free(&t);
    free(body);

    return 0;
}
