/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: webhook events relayed through etcd in cluster mode
 * (src/core/sd_relay.c): the keys sort in send order, a value carries what
 * the leader needs and reads back, the Txns and the range read are the
 * gateway's JSON, and keys that are not events are passed over.
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

#include "sd_relay.h"


#define P  SD_ETCD_PREFIX_DEFAULT

static const char  *body =
    "{\"type\":\"identity.added\",\"id\":\"evt_nodeA_7\","
    "\"created_at\":\"2026-12-06T00:00:00Z\",\"workspace\":\"acme\","
    "\"identity\":{\"identity\":\"acme.com\",\"type\":\"domain\"}}";


static char *
unb64(const char *s)
{
    char    *out;
    size_t   len, n;

    len = strlen(s);
    out = malloc(len + 1);
    assert_non_null(out);
    assert_int_equal(sd_etcd_unb64(s, len, out, len + 1, &n), 0);
    out[n] = '\0';

    return out;
}


static void
test_keys_sort_in_send_order(void **state)
{
    char    a[SD_RELAY_KEY_MAX], b[SD_RELAY_KEY_MAX], c[SD_RELAY_KEY_MAX];
    size_t  n;

    (void) state;

    n = sd_relay_prefix(P, a, sizeof(a));
    assert_int_equal(n, strlen(P "events/"));
    assert_string_equal(a, P "events/");

    n = sd_relay_key(P, 0xdeadbeef, 1796515200, "nodeA", 7, a, sizeof(a));
    assert_int_equal(n, strlen(a));
    assert_string_equal(a, P "events/deadbeef/001796515200-nodeA-"
                        "00000000000000000007");

    /* seq 10 after seq 9 (fixed width), a later second after both */
    sd_relay_key(P, 0xdeadbeef, 1796515200, "nodeA", 9, a, sizeof(a));
    sd_relay_key(P, 0xdeadbeef, 1796515200, "nodeA", 10, b, sizeof(b));
    sd_relay_key(P, 0xdeadbeef, 1796515201, "nodeA", 1, c, sizeof(c));
    assert_true(strcmp(a, b) < 0);
    assert_true(strcmp(b, c) < 0);

    /* a key that does not fit */
    assert_int_equal(sd_relay_key(P, 1, 1, "nodeA", 1, a, 20), 0);
}


static void
test_value_round_trip(void **state)
{
    char              key[SD_RELAY_KEY_MAX], *v;
    sd_etcd_kv_t      kv;
    sd_relay_event_t  ev;

    (void) state;

    v = sd_relay_value(0xdeadbeef, 1796515200, body, strlen(body));
    assert_non_null(v);

    memset(&kv, 0, sizeof(kv));
    kv.key_len = sd_relay_key(P, 0xdeadbeef, 1796515200, "nodeA", 7, key,
                              sizeof(key));
    kv.key = key;
    kv.value = v;
    kv.value_len = strlen(v);

    assert_int_equal(sd_relay_parse(P, &kv, &ev), 0);
    assert_string_equal(ev.id, "evt_nodeA_7");
    assert_string_equal(ev.ws, "acme");
    assert_string_equal(ev.identity, "acme.com");
    assert_int_equal(ev.target, 0xdeadbeef);
    assert_int_equal(ev.created, 1796515200);
    assert_int_equal(ev.body_len, strlen(body));
    assert_memory_equal(ev.body, body, strlen(body));
    assert_ptr_equal(ev.key, key);
    sd_relay_event_free(&ev);

    /* another prefix's key, a row, a value of another shape: passed over */
    assert_int_equal(sd_relay_parse("/other/", &kv, &ev), -1);

    kv.key = P "rows/acme/acme.com";
    kv.key_len = strlen(kv.key);
    assert_int_equal(sd_relay_parse(P, &kv, &ev), -1);

    kv.key = key;
    kv.key_len = strlen(key);
    kv.value = "{\"id\":\"evt_1\"}";
    kv.value_len = strlen(kv.value);
    assert_int_equal(sd_relay_parse(P, &kv, &ev), -1);
    kv.value = "not json";
    kv.value_len = strlen(kv.value);
    assert_int_equal(sd_relay_parse(P, &kv, &ev), -1);

    free(v);

    /* a body that is not an event */
    assert_null(sd_relay_value(1, 1, "{\"id\":\"x\"}", 10));
    assert_null(sd_relay_value(1, 1, "[", 1));
}


static void
test_txns(void **state)
{
    char            *t, *k, *v;
    json_t          *j, *ops, *put;
    sd_relay_put_t   puts[SD_ETCD_MAX_TXN_OPS + 1];
    size_t           i;

    (void) state;

    for (i = 0; i < SD_ETCD_MAX_TXN_OPS + 1; i++) {
        puts[i].key = "k";
        puts[i].key_len = 1;
        puts[i].value = "value";
        puts[i].value_len = 5;
    }

    puts[1].key = "k2";
    puts[1].key_len = 2;

    t = sd_relay_put_txn(puts, 2);
    assert_non_null(t);
    j = json_loads(t, 0, NULL);
    assert_non_null(j);
    assert_null(json_object_get(j, "compare"));
    ops = json_object_get(j, "success");
    assert_int_equal(json_array_size(ops), 2);
    put = json_object_get(json_array_get(ops, 1), "request_put");
    k = unb64(json_string_value(json_object_get(put, "key")));
    v = unb64(json_string_value(json_object_get(put, "value")));
    assert_string_equal(k, "k2");
    assert_string_equal(v, "value");
    free(k);
    free(v);
    json_decref(j);
    free(t);

    assert_non_null(t = sd_relay_put_txn(puts, SD_ETCD_MAX_TXN_OPS));
    free(t);
    assert_null(sd_relay_put_txn(puts, SD_ETCD_MAX_TXN_OPS + 1));
    assert_null(sd_relay_put_txn(puts, 0));

    /* the puts, then a count of what waits in etcd after them */
    t = sd_relay_put_count_txn("/sd/", puts, 2);
    j = json_loads(t, 0, NULL);
    ops = json_object_get(j, "success");
    assert_int_equal(json_array_size(ops), 3);
    put = json_object_get(json_array_get(ops, 2), "request_range");
    assert_true(json_is_true(json_object_get(put, "count_only")));
    k = unb64(json_string_value(json_object_get(put, "key")));
    v = unb64(json_string_value(json_object_get(put, "range_end")));
    assert_string_equal(k, "/sd/events/");
    assert_string_equal(v, "/sd/events0");
    free(k);
    free(v);
    json_decref(j);
    free(t);

    /* a count alone; never past etcd's operations per Txn */
    t = sd_relay_put_count_txn("/sd/", puts, 0);
    j = json_loads(t, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "success")), 1);
    json_decref(j);
    free(t);
    assert_null(sd_relay_put_count_txn("/sd/", puts, SD_ETCD_MAX_TXN_OPS));
    assert_null(sd_relay_put_count_txn(NULL, puts, 0));

    /* the count read back: 3 waiting; none when the Txn failed */
    {
        sd_etcd_txn_t  txn;
        const char    *answer = "{\"header\":{\"revision\":\"9\"},"
            "\"succeeded\":true,\"responses\":[{\"response_put\":"
            "{\"header\":{}}},{\"response_range\":{\"header\":{},"
            "\"count\":\"3\"}}]}";

        assert_int_equal(sd_etcd_parse_txn(answer, strlen(answer), &txn),
                         SD_ETCD_OK);
        assert_int_equal(sd_relay_count(&txn), 3);
        txn.succeeded = 0;
        assert_int_equal(sd_relay_count(&txn), -1);
        sd_etcd_txn_free(&txn);
    }

    t = sd_relay_delete_txn("abc", 3);
    assert_non_null(t);
    j = json_loads(t, 0, NULL);
    k = unb64(json_string_value(json_object_get(json_object_get(
            json_array_get(json_object_get(j, "success"), 0),
            "request_delete_range"), "key")));
    assert_string_equal(k, "abc");
    free(k);
    json_decref(j);
    free(t);
}


/*
 * The leader's identity tags: one per workspace and name, the boundary
 * between the two counted, and under another worker's key other tags (a
 * workspace cannot work out a name that shares another's tag).
 */
static void
test_ident(void **state)
{
    const unsigned char  k1[32] = "0123456789abcdef0123456789abcdef";
    const unsigned char  k2[32] = "fedcba9876543210fedcba9876543210";

    (void) state;

    assert_int_equal(sd_relay_ident(k1, 32, "acme", "acme.com"),
                     sd_relay_ident(k1, 32, "acme", "acme.com"));
    assert_int_not_equal(sd_relay_ident(k1, 32, "acme", "acme.com"),
                         sd_relay_ident(k1, 32, "acme", "acme.org"));
    assert_int_not_equal(sd_relay_ident(k1, 32, "acme", "acme.com"),
                         sd_relay_ident(k1, 32, "other", "acme.com"));
    assert_int_not_equal(sd_relay_ident(k1, 32, "ab", "c.com"),
                         sd_relay_ident(k1, 32, "a", "bc.com"));
    assert_int_not_equal(sd_relay_ident(k1, 32, "acme", "acme.com"),
                         sd_relay_ident(k2, 32, "acme", "acme.com"));
}


static void
test_range(void **state)
{
    char    *t, *k, *e;
    json_t  *j;

    (void) state;

    t = sd_relay_range_body(P, NULL, 0, 64);
    assert_non_null(t);
    j = json_loads(t, 0, NULL);
    k = unb64(json_string_value(json_object_get(j, "key")));
    e = unb64(json_string_value(json_object_get(j, "range_end")));
    assert_string_equal(k, P "events/");
    assert_string_equal(e, P "events0");
    assert_string_equal(json_string_value(json_object_get(j, "limit")), "64");
    free(k);
    free(e);
    json_decref(j);
    free(t);

    /* from after a key: the key and a NUL byte (the next possible key) */
    t = sd_relay_range_body(P, P "events/x", strlen(P "events/x"), 64);
    assert_non_null(t);
    j = json_loads(t, 0, NULL);
    {
        size_t  n, len;
        char    buf[64];
        const char *s = json_string_value(json_object_get(j, "key"));

        len = strlen(s);
        assert_int_equal(sd_etcd_unb64(s, len, buf, sizeof(buf), &n), 0);
        assert_int_equal(n, strlen(P "events/x") + 1);
        assert_memory_equal(buf, P "events/x", n);
    }
    json_decref(j);
    free(t);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_keys_sort_in_send_order),
        cmocka_unit_test(test_value_round_trip),
        cmocka_unit_test(test_txns),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_ident),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
