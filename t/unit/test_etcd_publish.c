/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: cluster mode over etcd, publishing a node's outbox
 * (sd_etcd_publish_txn, sd_etcd_any_row_key; docs/cluster.md,
 * "Publishing"): the row always lands, a claim is created only where none
 * is and removed only when it is the writing workspace's.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "sd_etcd.h"


#define P  SD_ETCD_PREFIX_DEFAULT


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
    if (j == NULL) {
        return NULL;
    }

    b = buf[turn++ % 4];
    assert_int_equal(sd_etcd_unb64(json_string_value(j),
                                   json_string_length(j), b,
                                   SD_ETCD_KEY_MAX, &len), 0);
    return b;
}


static json_t *
publish(const sd_etcd_publish_t *p)
{
    char    *s;
    json_t  *j;

    s = sd_etcd_publish_txn(p);
    assert_non_null(s);
    j = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(j);

    return j;
}


static json_t *
op(json_t *t, const char *branch, size_t i, const char *kind)
{
    json_t  *o;

    o = json_object_get(json_array_get(json_object_get(t, branch), i), kind);
    assert_non_null(o);

    return o;
}


static void
test_put_keeps_claim(void **state)
{
    json_t             *t, *c;
    sd_etcd_publish_t   p = { P, SD_ETCD_KIND_ROW, 0, 0, "w1", 2,
                              "acme.com", 8, "{\"a\":1}", 7, 0, 0 };

    (void) state;

    t = publish(&p);

    /* the claim is created only where there is none */
    c = json_array_get(json_object_get(t, "compare"), 0);
    assert_string_equal(dec(c, "key"), P "claims/com.acme.");
    assert_string_equal(json_string_value(json_object_get(c, "target")),
                        "VERSION");
    assert_string_equal(dec(op(t, "success", 0, "request_put"), "key"),
                        P "claims/com.acme.");
    assert_string_equal(dec(op(t, "success", 0, "request_put"), "value"),
                        "w1");
    assert_string_equal(dec(op(t, "success", 1, "request_put"), "key"),
                        P "rows/w1/acme.com");
    assert_string_equal(dec(op(t, "success", 1, "request_put"), "value"),
                        "{\"a\":1}");

    /* the row lands either way, the claim is never touched on failure */
    assert_int_equal(json_array_size(json_object_get(t, "failure")), 1);
    assert_string_equal(dec(op(t, "failure", 0, "request_put"), "key"),
                        P "rows/w1/acme.com");

    json_decref(t);
}


static void
test_release_and_delete(void **state)
{
    json_t             *t, *c;
    sd_etcd_publish_t   p = { P, SD_ETCD_KIND_ROW, 0, 1, "w1", 2,
                              "r@acme.com", 10, "{}", 2, 0, 0 };

    (void) state;

    /* a failed row: its claim goes only when it is this workspace's */
    t = publish(&p);
    c = json_array_get(json_object_get(t, "compare"), 0);
    assert_string_equal(dec(c, "key"), P "claims/com.acme.@r");
    assert_string_equal(json_string_value(json_object_get(c, "target")),
                        "VALUE");
    assert_string_equal(dec(c, "value"), "w1");
    /* ... and no legacy twin (a migrated address) still holds it */
    c = json_array_get(json_object_get(t, "compare"), 1);
    assert_non_null(c);
    assert_string_equal(dec(c, "key"), P "legacy/rows/w1/r@acme.com");
    assert_string_equal(json_string_value(json_object_get(c, "target")),
                        "VERSION");
    assert_string_equal(dec(op(t, "success", 0, "request_delete_range"),
                            "key"), P "claims/com.acme.@r");
    assert_string_equal(dec(op(t, "success", 1, "request_put"), "key"),
                        P "rows/w1/r@acme.com");
    assert_string_equal(dec(op(t, "failure", 0, "request_put"), "key"),
                        P "rows/w1/r@acme.com");
    json_decref(t);

    /* a delete: the row goes either way, the claim only when it is ours */
    p.delete = 1;
    p.release_claim = 0;
    t = publish(&p);
    assert_string_equal(dec(op(t, "success", 0, "request_delete_range"),
                            "key"), P "claims/com.acme.@r");
    assert_string_equal(dec(op(t, "success", 1, "request_delete_range"),
                            "key"), P "rows/w1/r@acme.com");
    assert_int_equal(json_array_size(json_object_get(t, "failure")), 1);
    assert_string_equal(dec(op(t, "failure", 0, "request_delete_range"),
                            "key"), P "rows/w1/r@acme.com");
    json_decref(t);
}


static void
test_legacy_keys(void **state)
{
    char                key[SD_ETCD_KEY_MAX], ws[SD_ETCD_KEY_MAX];
    size_t              n, ws_len, id_len;
    json_t             *t;
    const char         *id;
    sd_etcd_publish_t   p = { P, SD_ETCD_KIND_LEGACY, 0, 0, "w/1", 3,
                              "r@acme.com", 10, "{}", 2, 0, 0 };

    (void) state;

    n = sd_etcd_any_row_key(P, SD_ETCD_KIND_LEGACY, "w/1", 3, "r@acme.com",
                            10, key, sizeof(key));
    assert_string_equal(key, P "legacy/rows/w%2F1/r@acme.com");

    assert_int_equal(sd_etcd_parse_any_row_key(P, key, n, ws, sizeof(ws),
                                               &ws_len, &id, &id_len),
                     SD_ETCD_KIND_LEGACY);
    assert_int_equal(ws_len, 3);
    assert_memory_equal(ws, "w/1", 3);
    assert_int_equal(id_len, 10);
    assert_memory_equal(id, "r@acme.com", 10);

    n = sd_etcd_any_row_key(P, SD_ETCD_KIND_ROW, "w1", 2, "acme.com", 8,
                            key, sizeof(key));
    assert_int_equal(sd_etcd_parse_any_row_key(P, key, n, ws, sizeof(ws),
                                               &ws_len, &id, &id_len),
                     SD_ETCD_KIND_ROW);

    /* claims, the leader and the nodes are no rows */
    assert_int_equal(sd_etcd_parse_any_row_key(P, P "claims/com.acme.",
                                               sizeof(P "claims/com.acme.")
                                               - 1, ws, sizeof(ws), &ws_len,
                                               &id, &id_len), 0);
    assert_int_equal(sd_etcd_parse_any_row_key(P, P "leader",
                                               sizeof(P "leader") - 1, ws,
                                               sizeof(ws), &ws_len, &id,
                                               &id_len), 0);

    /* a legacy row's claim is the address's, under the common prefix */
    t = publish(&p);
    assert_string_equal(dec(op(t, "success", 0, "request_put"), "key"),
                        P "claims/com.acme.@r");
    assert_string_equal(dec(op(t, "success", 1, "request_put"), "key"),
                        P "legacy/rows/w%2F1/r@acme.com");
    json_decref(t);
}


/*
 * A poll's change (guard): lands only over the row's revision it was made
 * from; otherwise the Txn only reads the row (the node then keeps etcd's).
 */
static void
test_guarded_poll(void **state)
{
    json_t             *t, *c, *in;
    sd_etcd_publish_t   p = { P, SD_ETCD_KIND_ROW, 0, 0, "w1", 2,
                              "acme.com", 8, "{\"a\":2}", 7, 1, 42 };

    (void) state;

    t = publish(&p);

    assert_int_equal(json_array_size(json_object_get(t, "compare")), 1);
    c = json_array_get(json_object_get(t, "compare"), 0);
    assert_string_equal(dec(c, "key"), P "rows/w1/acme.com");
    assert_string_equal(json_string_value(json_object_get(c, "target")),
                        "MOD");
    /* int64 as a string, as the gateway's JSON has it */
    assert_string_equal(json_string_value(json_object_get(c,
                                                          "mod_revision")),
                        "42");

    /* the change itself, unchanged, nested */
    assert_int_equal(json_array_size(json_object_get(t, "success")), 1);
    in = op(t, "success", 0, "request_txn");
    assert_string_equal(dec(op(in, "success", 1, "request_put"), "key"),
                        P "rows/w1/acme.com");
    assert_string_equal(dec(op(in, "success", 1, "request_put"), "value"),
                        "{\"a\":2}");
    assert_string_equal(dec(op(in, "failure", 0, "request_put"), "key"),
                        P "rows/w1/acme.com");

    /* overtaken: nothing written, the row read */
    assert_int_equal(json_array_size(json_object_get(t, "failure")), 1);
    assert_string_equal(dec(op(t, "failure", 0, "request_range"), "key"),
                        P "rows/w1/acme.com");
    assert_null(json_object_get(op(t, "failure", 0, "request_range"),
                                "range_end"));

    json_decref(t);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_put_keeps_claim),
        cmocka_unit_test(test_release_and_delete),
        cmocka_unit_test(test_legacy_keys),
        cmocka_unit_test(test_guarded_poll),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
