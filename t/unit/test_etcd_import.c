/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: the import of a single-node store into etcd (issue 18,
 * tools/sender-domains-cluster-import.c, docs/cluster.md "Migration and
 * backup"): the claim Txn of a legacy row and its verdict, the row-alone Txn and its
 * verdict (src/core/sd_etcd.c), and the store's side (src/core/sd_store.c):
 * the cluster state that guards a node's resync, the imported mark, the
 * walk over every legacy row, whether a row holds its claim.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "sd_etcd.h"
#include "sd_store.h"


#define P       SD_ETCD_PREFIX_DEFAULT
#define LEGACY  "news@legacy.example"


static const sd_etcd_claim_t  claim_l = {
    P, "w1", 2, LEGACY, sizeof(LEGACY) - 1, "{\"row\":1}", 9
};


/* a base64 field of o, decoded (a ring of buffers: up to 4 at a time) */
static const char *
dec(json_t *o, const char *name)
{
    static char   buf[4][SD_ETCD_KEY_MAX];
    static int    turn;
    size_t        len;
    char         *b;
    json_t       *j;

    j = json_object_get(o, name);
    assert_non_null(j);

    b = buf[turn++ % 4];
    assert_int_equal(sd_etcd_unb64(json_string_value(j),
                                   json_string_length(j), b,
                                   SD_ETCD_KEY_MAX - 1, &len), 0);
    b[len] = '\0';

    return b;
}


static json_t *
load(char *s)
{
    json_t  *j;

    assert_non_null(s);
    j = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(j);

    return j;
}


static json_t *
at(json_t *t, const char *branch, size_t i)
{
    json_t  *o;

    o = json_array_get(json_object_get(t, branch), i);
    assert_non_null(o);

    return o;
}


/* an etcd Txn answer: "r" a range with nothing, or "key=value" one kv */
static void
answer(sd_etcd_txn_t *txn, int succeeded, size_t n, ...)
{
    char        *s, *eq, k[256], v[256];
    size_t       i;
    va_list      ap;
    json_t      *root, *resps, *kvs, *kv;
    const char  *spec;

    root = json_pack("{s:{s:s}}", "header", "revision", "9");
    resps = json_array();
    va_start(ap, n);

    for (i = 0; i < n; i++) {
        spec = va_arg(ap, const char *);
        kvs = json_array();
        eq = strchr(spec, '=');

        if (eq) {
            assert_true(sd_etcd_b64(spec, eq - spec, k, sizeof(k)) > 0);
            assert_true(sd_etcd_b64(eq + 1, strlen(eq + 1), v, sizeof(v))
                        > 0);
            kv = json_pack("{s:s,s:s,s:s}", "key", k, "value", v,
                           "mod_revision", "4");
            json_array_append_new(kvs, kv);
        }

        json_array_append_new(resps, json_pack("{s:{s:o,s:s}}",
                              "response_range", "kvs", kvs, "count",
                              eq ? "1" : "0"));
    }

    va_end(ap);

    json_object_set_new(root, "responses", resps);
    if (succeeded) {
        json_object_set_new(root, "succeeded", json_true());
    }

    s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    memset(txn, 0, sizeof(sd_etcd_txn_t));
    assert_int_equal(sd_etcd_parse_txn(s, strlen(s), txn), SD_ETCD_OK);
    free(s);
}


/* the identity kind is the API's claim Txn; the legacy kind its row key */
static void
test_claim_kinds(void **state)
{
    char    *a, *b;
    json_t  *t;
    sd_etcd_claim_t  c = { P, "w1", 2, "mail.acme.com", 13, "r", 1 };

    (void) state;

    a = sd_etcd_import_claim_txn(&c, SD_ETCD_KIND_ROW, NULL);
    b = sd_etcd_claim_txn(&c);
    assert_non_null(a);
    assert_string_equal(a, b);
    free(a);
    free(b);

    t = load(sd_etcd_import_claim_txn(&claim_l, SD_ETCD_KIND_LEGACY, NULL));

    /* row new, 2 ancestors free, the address free */
    assert_int_equal(json_array_size(json_object_get(t, "compare")), 4);
    assert_string_equal(dec(at(t, "compare", 0), "key"),
                        P "legacy/rows/w1/" LEGACY);
    assert_string_equal(dec(at(t, "compare", 3), "key"),
                        P "claims/example.legacy.@news");
    assert_null(json_object_get(at(t, "compare", 3), "range_end"));

    assert_string_equal(dec(json_object_get(at(t, "success", 0),
                                            "request_put"), "key"),
                        P "claims/example.legacy.@news");
    assert_string_equal(dec(json_object_get(at(t, "success", 0),
                                            "request_put"), "value"), "w1");
    assert_string_equal(dec(json_object_get(at(t, "success", 1),
                                            "request_put"), "key"),
                        P "legacy/rows/w1/" LEGACY);
    assert_string_equal(dec(json_object_get(at(t, "success", 1),
                                            "request_put"), "value"),
                        "{\"row\":1}");
    assert_string_equal(dec(json_object_get(at(t, "failure", 0),
                                            "request_range"), "key"),
                        P "legacy/rows/w1/" LEGACY);
    json_decref(t);
}


static void
test_legacy_verdict(void **state)
{
    sd_etcd_txn_t        txn;
    const sd_etcd_kv_t  *holder;

    (void) state;

    answer(&txn, 1, 2, "", "");
    assert_int_equal(sd_etcd_import_verdict(&claim_l, SD_ETCD_KIND_LEGACY,
                                            &txn, NULL, &holder),
                     SD_ETCD_CLAIM_DONE);
    sd_etcd_txn_free(&txn);

    /* the legacy row is in etcd already */
    answer(&txn, 0, 4, P "legacy/rows/w1/" LEGACY "={}", "", "",
           P "claims/example.legacy.@news=w1");
    assert_int_equal(sd_etcd_import_verdict(&claim_l, SD_ETCD_KIND_LEGACY,
                                            &txn, NULL, &holder),
                     SD_ETCD_CLAIM_EXISTS);
    assert_int_equal(txn.responses[0].nkvs, 1);
    sd_etcd_txn_free(&txn);

    /* no row, the name the workspace's through its managed row */
    answer(&txn, 0, 4, "", "", "", P "claims/example.legacy.@news=w1");
    assert_int_equal(sd_etcd_import_verdict(&claim_l, SD_ETCD_KIND_LEGACY,
                                            &txn, NULL, &holder),
                     SD_ETCD_CLAIM_EXISTS);
    assert_int_equal(txn.responses[0].nkvs, 0);
    sd_etcd_txn_free(&txn);

    /* another workspace's domain above it */
    answer(&txn, 0, 4, "", "", P "claims/example.legacy.=w2", "");
    assert_int_equal(sd_etcd_import_verdict(&claim_l, SD_ETCD_KIND_LEGACY,
                                            &txn, NULL, &holder),
                     SD_ETCD_CLAIM_CONFLICT);
    assert_non_null(holder);
    assert_memory_equal(holder->value, "w2", 2);
    sd_etcd_txn_free(&txn);

    /* the workspace's own domain above it: the nested shape */
    answer(&txn, 0, 4, "", "", P "claims/example.legacy.=w1", "");
    assert_int_equal(sd_etcd_import_verdict(&claim_l, SD_ETCD_KIND_LEGACY,
                                            &txn, NULL, &holder),
                     SD_ETCD_CLAIM_NESTED);
    sd_etcd_txn_free(&txn);
}


static void
test_row_txn(void **state)
{
    json_t  *t, *c;

    (void) state;

    /* a row that holds no claim: the row alone, if etcd has none */
    t = load(sd_etcd_import_row_txn(&claim_l, SD_ETCD_KIND_LEGACY, 0));
    assert_int_equal(json_array_size(json_object_get(t, "compare")), 1);
    assert_string_equal(dec(at(t, "compare", 0), "key"),
                        P "legacy/rows/w1/" LEGACY);
    assert_string_equal(json_string_value(json_object_get(
                            at(t, "compare", 0), "target")), "VERSION");
    assert_int_equal(json_array_size(json_object_get(t, "success")), 1);
    assert_string_equal(dec(json_object_get(at(t, "success", 0),
                                            "request_put"), "key"),
                        P "legacy/rows/w1/" LEGACY);
    assert_int_equal(json_array_size(json_object_get(t, "failure")), 1);
    json_decref(t);

    /* own_claim: and the name still the workspace's */
    t = load(sd_etcd_import_row_txn(&claim_l, SD_ETCD_KIND_ROW, 1));
    assert_int_equal(json_array_size(json_object_get(t, "compare")), 2);
    assert_string_equal(dec(at(t, "compare", 0), "key"),
                        P "rows/w1/" LEGACY);
    c = at(t, "compare", 1);
    assert_string_equal(dec(c, "key"), P "claims/example.legacy.@news");
    assert_string_equal(json_string_value(json_object_get(c, "target")),
                        "VALUE");
    assert_string_equal(dec(c, "value"), "w1");
    assert_int_equal(json_array_size(json_object_get(t, "success")), 1);
    assert_int_equal(json_array_size(json_object_get(t, "failure")), 2);
    json_decref(t);
}


static void
test_row_verdict(void **state)
{
    sd_etcd_txn_t  txn;

    (void) state;

    answer(&txn, 1, 1, "");
    assert_int_equal(sd_etcd_import_row_verdict(&txn), SD_ETCD_CLAIM_DONE);
    sd_etcd_txn_free(&txn);

    answer(&txn, 0, 2, P "rows/w1/x={}", "");
    assert_int_equal(sd_etcd_import_row_verdict(&txn), SD_ETCD_CLAIM_EXISTS);
    sd_etcd_txn_free(&txn);

    /* the claim is no longer the workspace's: start again */
    answer(&txn, 0, 2, "", P "claims/x=w2");
    assert_int_equal(sd_etcd_import_row_verdict(&txn), SD_ETCD_CLAIM_RETRY);
    sd_etcd_txn_free(&txn);

    answer(&txn, 0, 0);
    assert_int_equal(sd_etcd_import_row_verdict(&txn),
                     SD_ETCD_CLAIM_INVALID);
    sd_etcd_txn_free(&txn);
}


/* ---- the store ---- */

typedef struct {
    char         dir[64];
    char         path[128];
    char         lock[160];
    sd_store_t  *st;
} fx_t;


static int
setup(void **state)
{
    char   err[256];
    fx_t  *fx;

    fx = calloc(1, sizeof(fx_t));
    if (fx == NULL) {
        return -1;
    }

    strcpy(fx->dir, "/tmp/sd-import-test-XXXXXX");

    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }

    snprintf(fx->path, sizeof(fx->path), "%s/sd.mdb", fx->dir);
    snprintf(fx->lock, sizeof(fx->lock), "%s-lock", fx->path);

    if (sd_store_open(fx->path, 4 * 1024 * 1024, &fx->st, err, sizeof(err))
        != SD_STORE_OK)
    {
        print_error("sd_store_open: %s\n", err);
        return -1;
    }

    *state = fx;
    return 0;
}


static int
teardown(void **state)
{
    fx_t  *fx = *state;

    sd_store_close(fx->st);
    (void) unlink(fx->path);
    (void) unlink(fx->lock);
    (void) rmdir(fx->dir);
    free(fx);

    return 0;
}


static sd_record_t
mkrec(unsigned flags)
{
    sd_record_t  r;

    memset(&r, 0, sizeof(r));
    r.flags = flags;
    r.sender_name = "";
    r.json = "{}";
    r.json_len = 2;

    return r;
}


static sd_store_rc_e
claim(sd_store_t *st, const char *ws, const char *id, unsigned flags)
{
    sd_record_t  r = mkrec(flags);

    return sd_store_claim(st, ws, strlen(ws), id, strlen(id), &r);
}


static sd_store_rc_e
legacy(sd_store_t *st, const char *ws, const char *id)
{
    size_t        len = strlen(id);
    sd_record_t   r = mkrec(0);

    return sd_store_legacy_replace(st, ws, strlen(ws), 1, &id, &len, &r,
                                   NULL);
}


static sd_store_cluster_e
state_of(sd_store_t *st)
{
    sd_store_cluster_e  s;

    assert_int_equal(sd_store_cluster_state(st, &s), SD_STORE_OK);

    return s;
}


static void
test_cluster_state(void **state)
{
    fx_t  *fx = *state;

    assert_int_equal(state_of(fx->st), SD_STORE_CLUSTER_EMPTY);

    /* a single node's legacy row alone is a row to lose */
    assert_int_equal(legacy(fx->st, "w1", LEGACY), SD_STORE_OK);
    assert_int_equal(state_of(fx->st), SD_STORE_CLUSTER_LOCAL);

    assert_int_equal(claim(fx->st, "w1", "acme.com", SD_REC_DOMAIN),
                     SD_STORE_OK);
    assert_int_equal(state_of(fx->st), SD_STORE_CLUSTER_LOCAL);

    assert_int_equal(sd_store_set_cluster_imported(fx->st), SD_STORE_OK);
    assert_int_equal(state_of(fx->st), SD_STORE_CLUSTER_IMPORTED);

    /* a revision applied wins over everything */
    assert_int_equal(sd_store_apply_remote(fx->st, NULL, 0, 7, NULL),
                     SD_STORE_OK);
    assert_int_equal(state_of(fx->st), SD_STORE_CLUSTER_SYNCED);
}


static void
test_cluster_state_joined(void **state)
{
    fx_t  *fx = *state;

    /* rows written in cluster mode (the outbox used): not a single node's */
    sd_store_set_outbox(fx->st, 1);
    assert_int_equal(claim(fx->st, "w1", "acme.com", SD_REC_DOMAIN),
                     SD_STORE_OK);
    assert_int_equal(state_of(fx->st), SD_STORE_CLUSTER_JOINED);
}


static void
test_claim_held(void **state)
{
    fx_t         *fx = *state;
    sd_record_t   r;

    assert_int_equal(claim(fx->st, "w1", "acme.com", SD_REC_DOMAIN),
                     SD_STORE_OK);
    assert_int_equal(legacy(fx->st, "w2", LEGACY), SD_STORE_OK);

    assert_true(sd_store_claim_held(fx->st, "w1", 2, "acme.com", 8));
    assert_false(sd_store_claim_held(fx->st, "w2", 2, "acme.com", 8));
    assert_false(sd_store_claim_held(fx->st, "w1", 2, "other.com", 9));
    assert_true(sd_store_claim_held(fx->st, "w2", 2, LEGACY,
                                    sizeof(LEGACY) - 1));

    /* failed: the claim is kept in the store, but holds nothing */
    r = mkrec(SD_REC_DOMAIN | SD_REC_FAILED);
    assert_int_equal(sd_store_update(fx->st, "w1", 2, "acme.com", 8, &r),
                     SD_STORE_OK);
    assert_false(sd_store_claim_held(fx->st, "w1", 2, "acme.com", 8));
}


typedef struct {
    char    seen[8][64];
    size_t  n;
} walk_t;


static int
walk(void *ctx, const char *ws, size_t ws_len, const char *id, size_t id_len,
    const sd_record_t *rec)
{
    walk_t  *w = ctx;

    (void) rec;
    assert_true(w->n < 8);
    snprintf(w->seen[w->n++], 64, "%.*s/%.*s", (int) ws_len, ws,
             (int) id_len, id);

    return 0;
}


static void
test_legacy_each_all(void **state)
{
    fx_t    *fx = *state;
    walk_t   w;

    memset(&w, 0, sizeof(w));

    assert_int_equal(legacy(fx->st, "w2", "b@x.example"), SD_STORE_OK);
    assert_int_equal(legacy(fx->st, "w1", "a@x.example"), SD_STORE_OK);
    assert_int_equal(claim(fx->st, "w1", "acme.com", SD_REC_DOMAIN),
                     SD_STORE_OK);

    assert_int_equal(sd_store_legacy_each_all(fx->st, walk, &w), SD_STORE_OK);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.seen[0], "w1/a@x.example");
    assert_string_equal(w.seen[1], "w2/b@x.example");
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_kinds),
        cmocka_unit_test(test_legacy_verdict),
        cmocka_unit_test(test_row_txn),
        cmocka_unit_test(test_row_verdict),
        cmocka_unit_test_setup_teardown(test_cluster_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_state_joined, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_claim_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_each_all, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
