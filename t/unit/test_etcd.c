/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: cluster mode over etcd, the pure part (src/core/sd_etcd.c):
 * the keys, base64, range ends, the claim Txn's JSON, the parsers of the
 * gateway's answers (captured from Debian's etcd 3.4.23) and the rule that
 * a late event never moves a row backwards.  t/cluster/claims.sh sends the
 * same Txn to a real etcd.
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
#include "sd_events.h"
#include "sd_row.h"


#define P  SD_ETCD_PREFIX_DEFAULT
#define NOW  1767225600     /* 2026-01-01 00:00:00Z */


static void
test_prefix(void **state)
{
    (void) state;

    assert_true(sd_etcd_prefix_ok(P, strlen(P)));
    assert_true(sd_etcd_prefix_ok("/x/", 3));
    assert_false(sd_etcd_prefix_ok("x/", 2));
    assert_false(sd_etcd_prefix_ok("/x", 2));
    assert_false(sd_etcd_prefix_ok("/a b/", 5));
    assert_false(sd_etcd_prefix_ok("/", 1));
}


static void
test_claim_keys(void **state)
{
    char    k[SD_ETCD_KEY_MAX], name[SD_ETCD_KEY_MAX];
    size_t  n, len;

    (void) state;

    n = sd_etcd_claim_key(P, "mail.acme.com", 13, k, sizeof(k));
    assert_string_equal(k, "/sender-domains/v1/claims/com.acme.mail.");
    assert_int_equal(n, strlen(k));

    n = sd_etcd_claim_key(P, "Mail.ACME.com", 13, k, sizeof(k));
    assert_string_equal(k, "/sender-domains/v1/claims/com.acme.mail.");

    /* an address sorts under its domain: the domain's range holds it */
    n = sd_etcd_claim_key(P, "Reports@Acme.com", 16, k, sizeof(k));
    assert_string_equal(k, "/sender-domains/v1/claims/com.acme.@reports");

    assert_int_equal(sd_etcd_claim_name(P, k, n, name, sizeof(name), &len),
                     0);
    assert_string_equal(name, "reports@acme.com");

    n = sd_etcd_claim_key(P, "mail.acme.com", 13, k, sizeof(k));
    assert_int_equal(sd_etcd_claim_name(P, k, n, name, sizeof(name), &len),
                     0);
    assert_string_equal(name, "mail.acme.com");
    assert_int_equal(len, 13);

    /* not a claim key */
    assert_int_equal(sd_etcd_claim_name(P, "/x/claims/com.", 14, name,
                                        sizeof(name), &len), -1);

    /* does not fit */
    assert_int_equal(sd_etcd_claim_key(P, "acme.com", 8, k, 30), 0);
    assert_int_equal(sd_etcd_claim_key(P, "", 0, k, sizeof(k)), 0);
}


static void
test_row_keys(void **state)
{
    char         k[SD_ETCD_KEY_MAX], ws[256];
    size_t       n, ws_len, id_len;
    const char  *id;

    (void) state;

    n = sd_etcd_row_key(P, "w1", 2, "acme.com", 8, k, sizeof(k));
    assert_string_equal(k, "/sender-domains/v1/rows/w1/acme.com");
    assert_int_equal(n, strlen(k));

    /* a workspace id is any bytes but NUL: '/', '%', blanks escaped */
    n = sd_etcd_row_key(P, "a/b%c d\xc3\xa9", 9, "x/y@acme.com", 12, k,
                        sizeof(k));
    assert_string_equal(k,
        "/sender-domains/v1/rows/a%2Fb%25c%20d%C3%A9/x/y@acme.com");

    assert_int_equal(sd_etcd_parse_row_key(P, k, n, ws, sizeof(ws), &ws_len,
                                           &id, &id_len), 0);
    assert_int_equal(ws_len, 9);
    assert_memory_equal(ws, "a/b%c d\xc3\xa9", 9);
    assert_int_equal(id_len, 12);
    assert_memory_equal(id, "x/y@acme.com", 12);

    n = sd_etcd_rows_prefix(P, "w1", 2, k, sizeof(k));
    assert_string_equal(k, "/sender-domains/v1/rows/w1/");

    /* not row keys */
    assert_int_equal(sd_etcd_parse_row_key(P, "/sender-domains/v1/rows/w1/",
                                           27, ws, sizeof(ws), &ws_len, &id,
                                           &id_len), -1);
    assert_int_equal(sd_etcd_parse_row_key(P, "/sender-domains/v1/rows/%zz/a",
                                           29, ws, sizeof(ws), &ws_len, &id,
                                           &id_len), -1);
    assert_int_equal(sd_etcd_parse_row_key(P, "/other/rows/w1/a", 16, ws,
                                           sizeof(ws), &ws_len, &id,
                                           &id_len), -1);
    assert_int_equal(sd_etcd_row_key(P, "", 0, "a", 1, k, sizeof(k)), 0);
    assert_int_equal(sd_etcd_row_key(P, "w", 1, "acme.com", 8, k, 30), 0);
}


static void
test_range_end(void **state)
{
    char    out[64];
    size_t  n;

    (void) state;

    n = sd_etcd_range_end("abc", 3, out);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "abd", 3);

    n = sd_etcd_range_end(P, strlen(P), out);
    assert_int_equal(n, strlen(P));
    assert_memory_equal(out, "/sender-domains/v10", n);

    /* the subtree of com.acme.: '.' + 1 is '/' */
    n = sd_etcd_range_end("claims/com.acme.", 16, out);
    assert_memory_equal(out, "claims/com.acme/", 16);

    n = sd_etcd_range_end("a\xff\xff", 3, out);
    assert_int_equal(n, 1);
    assert_memory_equal(out, "b", 1);

    n = sd_etcd_range_end("\xff\xff", 2, out);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], '\0');
}


static void
test_base64(void **state)
{
    char         out[64], back[64];
    size_t       i, len;
    static const char  *plain[] = { "", "f", "fo", "foo", "foob", "fooba",
                                    "foobar" };
    static const char  *b64[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
                                  "Zm9vYmE=", "Zm9vYmFy" };

    (void) state;

    /* RFC 4648 section 10 */
    for (i = 0; i < 7; i++) {
        len = sd_etcd_b64(plain[i], strlen(plain[i]), out, sizeof(out));
        assert_int_equal(len, strlen(b64[i]));
        assert_string_equal(out, b64[i]);

        assert_int_equal(sd_etcd_unb64(out, len, back, sizeof(back), &len), 0);
        assert_int_equal(len, strlen(plain[i]));
        assert_memory_equal(back, plain[i], len);
    }

    /* bytes, NUL included */
    len = sd_etcd_b64("\x00\xff\x80", 3, out, sizeof(out));
    assert_string_equal(out, "AP+A");
    assert_int_equal(sd_etcd_unb64(out, len, back, sizeof(back), &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(back, "\x00\xff\x80", 3);

    assert_int_equal(sd_etcd_unb64("Zm9", 3, back, sizeof(back), &len), -1);
    assert_int_equal(sd_etcd_unb64("Zm9!", 4, back, sizeof(back), &len), -1);
    assert_int_equal(sd_etcd_unb64("Zm 9", 4, back, sizeof(back), &len), -1);
    assert_int_equal(sd_etcd_unb64("Zm9v", 4, back, 3, &len), -1);
    assert_int_equal(sd_etcd_b64("foo", 3, out, 4), 0);
}


/* the decoded bytes of a base64 string member */
static const char *
dec(json_t *o, const char *name)
{
    static char   buf[4][SD_ETCD_KEY_MAX];
    static int    turn;
    size_t        len;
    json_t       *j;
    char         *b;

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
load(const char *s)
{
    json_t  *j;

    j = json_loads(s, 0, NULL);
    assert_non_null(j);

    return j;
}


/* parses a body the core built, and frees it */
static json_t *
load_owned(char *s)
{
    json_t  *j;

    assert_non_null(s);
    j = load(s);
    free(s);

    return j;
}


static void
check_version0(json_t *c, const char *key, const char *range_end)
{
    assert_string_equal(dec(c, "key"), key);

    if (range_end) {
        assert_string_equal(dec(c, "range_end"), range_end);
    } else {
        assert_null(json_object_get(c, "range_end"));
    }

    assert_string_equal(json_string_value(json_object_get(c, "result")),
                        "EQUAL");
    assert_string_equal(json_string_value(json_object_get(c, "target")),
                        "VERSION");
    assert_string_equal(json_string_value(json_object_get(c, "version")),
                        "0");
}


static void
test_claim_txn_domain(void **state)
{
    json_t           *t, *cmp, *ok, *f, *op;
    sd_etcd_claim_t   c = { P, "w1", 2, "mail.acme.com", 13, "{\"row\":1}", 9,
                            0, 0 };

    (void) state;

    t = load_owned(sd_etcd_claim_txn(&c));

    cmp = json_object_get(t, "compare");
    assert_int_equal(json_array_size(cmp), 4);

    check_version0(json_array_get(cmp, 0),
                   P "rows/w1/mail.acme.com", NULL);
    /* no ancestor claim: com., com.acme. */
    check_version0(json_array_get(cmp, 1), P "claims/com.", NULL);
    check_version0(json_array_get(cmp, 2), P "claims/com.acme.", NULL);
    /* nothing at the name or under it: one range */
    check_version0(json_array_get(cmp, 3), P "claims/com.acme.mail.",
                   P "claims/com.acme.mail/");

    ok = json_object_get(t, "success");
    assert_int_equal(json_array_size(ok), 2);
    op = json_object_get(json_array_get(ok, 0), "request_put");
    assert_string_equal(dec(op, "key"), P "claims/com.acme.mail.");
    assert_string_equal(dec(op, "value"), "w1");
    op = json_object_get(json_array_get(ok, 1), "request_put");
    assert_string_equal(dec(op, "key"), P "rows/w1/mail.acme.com");
    assert_string_equal(dec(op, "value"), "{\"row\":1}");

    /* failure: read what is in the way */
    f = json_object_get(t, "failure");
    assert_int_equal(json_array_size(f), 4);
    op = json_object_get(json_array_get(f, 0), "request_range");
    assert_string_equal(dec(op, "key"), P "rows/w1/mail.acme.com");
    op = json_object_get(json_array_get(f, 2), "request_range");
    assert_string_equal(dec(op, "key"), P "claims/com.acme.");
    assert_null(json_object_get(op, "range_end"));
    op = json_object_get(json_array_get(f, 3), "request_range");
    assert_string_equal(dec(op, "key"), P "claims/com.acme.mail.");
    assert_string_equal(dec(op, "range_end"), P "claims/com.acme.mail/");
    assert_string_equal(json_string_value(json_object_get(op, "limit")),
                        "16");

    json_decref(t);
}


static void
test_claim_txn_address(void **state)
{
    json_t           *t, *cmp, *f, *op;
    sd_etcd_claim_t   c = { P, "w1", 2, "reports@acme.com", 16, "r", 1, 0, 0 };

    (void) state;

    t = load_owned(sd_etcd_claim_txn(&c));

    cmp = json_object_get(t, "compare");
    assert_int_equal(json_array_size(cmp), 4);
    check_version0(json_array_get(cmp, 1), P "claims/com.", NULL);
    check_version0(json_array_get(cmp, 2), P "claims/com.acme.", NULL);
    /* an address has nothing under it: the key alone, no range */
    check_version0(json_array_get(cmp, 3), P "claims/com.acme.@reports",
                   NULL);

    f = json_object_get(t, "failure");
    op = json_object_get(json_array_get(f, 3), "request_range");
    assert_null(json_object_get(op, "range_end"));

    json_decref(t);
}


static void
test_claim_txn_limits(void **state)
{
    char             *s, name[300];
    size_t            i, n;
    json_t           *t;
    sd_etcd_claim_t   c = { P, "w1", 2, name, 0, "r", 1, 0, 0 };

    (void) state;

    /* 127 labels (253 characters, DNS's maximum): 126 ancestors, 128
     * compares and 128 failure reads, etcd's default --max-txn-ops */
    n = 0;
    for (i = 0; i < 126; i++) {
        name[n++] = 'a';
        name[n++] = '.';
    }
    name[n++] = 'b';
    name[n] = '\0';
    c.id_len = n;

    t = load_owned(sd_etcd_claim_txn(&c));
    assert_int_equal(json_array_size(json_object_get(t, "compare")), 128);
    assert_int_equal(json_array_size(json_object_get(t, "failure")), 128);
    json_decref(t);

    /* one label more does not fit in one Txn */
    memmove(name + 2, name, n + 1);
    name[0] = 'c';
    name[1] = '.';
    c.id_len = n + 2;
    assert_null(sd_etcd_claim_txn(&c));

    /* a key longer than SD_ETCD_KEY_MAX */
    memset(name, 'a', 299);
    name[299] = '\0';
    c.id = name;
    c.id_len = 299;
    c.prefix = "/a-very-long-prefix-that-is-long-enough-to-push-the-key-"
               "past-its-limit-with-an-identity-of-three-hundred-bytes-"
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/";
    c.ws = "w";
    c.ws_len = 1;
    s = sd_etcd_claim_txn(&c);                  /* fits: ~480 bytes */
    assert_non_null(s);
    free(s);
}


/* answers captured from etcd 3.4.23 through /v3/kv/txn */
#define TXN_OK \
    "{\"header\":{\"cluster_id\":\"441544759699424915\",\"member_id\":" \
    "\"1818273078719004976\",\"revision\":\"3\",\"raft_term\":\"2\"}," \
    "\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":" \
    "{\"revision\":\"3\"}}}]}"

static const char *
b64(const char *s)
{
    static char   buf[8][1024];
    static int    turn;
    char         *b = buf[turn++ % 8];

    sd_etcd_b64(s, strlen(s), b, 1024);
    return b;
}


/* a failed claim's answer: row, ancestors, subtree; kv "key=ws" or "" */
static char *
failed_answer(int64_t rev, const char *row, const char **anc, size_t nanc,
    const char **sub, size_t nsub, int more)
{
    char    *s;
    size_t   i;
    json_t  *t, *resps, *r, *kvs, *kv;

    t = json_pack("{s:{s:s},s:[]}", "header", "revision", "0",
                  "responses");
    json_object_set_new(json_object_get(t, "header"), "revision",
                        json_integer(rev));
    resps = json_object_get(t, "responses");

    for (i = 0; i < nanc + 2; i++) {
        const char  *one = NULL, **list = NULL;
        size_t       j, n = 0;

        if (i == 0) {
            one = row;
        } else if (i <= nanc) {
            one = anc[i - 1];
        } else {
            list = sub;
            n = nsub;
        }

        r = json_object();
        kvs = json_array();

        if (one && *one) {
            list = &one;
            n = 1;
        }

        for (j = 0; list && j < n; j++) {
            char  key[512];
            const char *eq = strchr(list[j], '=');

            memcpy(key, list[j], eq - list[j]);
            key[eq - list[j]] = '\0';
            kv = json_pack("{s:s,s:s,s:s,s:s,s:s}", "key", b64(key),
                           "value", b64(eq + 1), "create_revision", "2",
                           "mod_revision", "2", "version", "1");
            json_array_append_new(kvs, kv);
        }

        if (json_array_size(kvs)) {
            json_object_set_new(r, "kvs", kvs);
            json_object_set_new(r, "count", json_string("1"));
        } else {
            json_decref(kvs);
        }

        if (i == nanc + 1 && more) {
            json_object_set_new(r, "more", json_true());
        }

        json_array_append_new(resps, json_pack("{s:o}", "response_range", r));
    }

    s = json_dumps(t, JSON_COMPACT);
    json_decref(t);

    return s;
}


static sd_etcd_claim_e
verdict(const sd_etcd_claim_t *c, const char *body, const char *prev_body,
    char *holder, size_t size)
{
    sd_etcd_txn_t          txn, prev;
    sd_etcd_claim_e        v;
    const sd_etcd_kv_t    *h;

    assert_int_equal(sd_etcd_parse_txn(body, strlen(body), &txn), SD_ETCD_OK);

    if (prev_body) {
        assert_int_equal(sd_etcd_parse_txn(prev_body, strlen(prev_body),
                                           &prev), SD_ETCD_OK);
    }

    v = sd_etcd_claim_verdict(c, &txn, prev_body ? &prev : NULL, &h);

    holder[0] = '\0';
    if (h) {
        snprintf(holder, size, "%s=%s", h->key, h->value);
    }

    sd_etcd_txn_free(&txn);
    if (prev_body) {
        sd_etcd_txn_free(&prev);
    }

    return v;
}


/* a failed claim's answer with the limit's count of the workspace's rows */
static char *
with_count(char *body, int64_t count)
{
    char    *s;
    json_t  *t, *r;

    t = load(body);
    free(body);
    r = json_object();

    if (count) {
        /* proto3 leaves a zero count out */
        json_object_set_new(r, "count", json_integer(count));
    }

    json_array_append_new(json_object_get(t, "responses"),
                          json_pack("{s:o}", "response_range", r));
    s = json_dumps(t, JSON_COMPACT);
    json_decref(t);

    return s;
}


static void
test_claim_limit(void **state)
{
    char             *s, h[256];
    json_t           *t, *cmp, *c0, *f;
    size_t            n;
    sd_etcd_txn_t     seen;
    sd_etcd_claim_t   c = { P, "w1", 2, "mail.acme.com", 13, "r", 1, 3, 7 };
    const char       *anc_none[] = { "", "" };
    const char       *anc_other[] = { "", P "claims/com.acme.=w2" };
    const char       *anc_own[] = { "", P "claims/com.acme.=w1" };

    (void) state;

    /* the Txn: no row of the workspace put after revision 7 */
    t = load_owned(sd_etcd_claim_txn(&c));
    cmp = json_object_get(t, "compare");
    n = json_array_size(cmp);
    c0 = json_array_get(cmp, n - 1);
    assert_string_equal(dec(c0, "key"), P "rows/w1/");
    assert_string_equal(dec(c0, "range_end"), P "rows/w10");
    assert_string_equal(json_string_value(json_object_get(c0, "target")),
                        "MOD");
    assert_string_equal(json_string_value(json_object_get(c0, "result")),
                        "LESS");
    assert_string_equal(json_string_value(json_object_get(c0,
                                                          "mod_revision")),
                        "8");

    /* its failure reads the row, 2 ancestors, the subtree, then counts */
    f = json_object_get(t, "failure");
    assert_int_equal(json_array_size(f), 5);
    assert_string_equal(dec(json_object_get(json_array_get(f, 4),
                                            "request_range"), "key"),
                        P "rows/w1/");
    json_decref(t);

    /* without a limit: neither */
    c.limit = 0;
    t = load_owned(sd_etcd_claim_txn(&c));
    assert_int_equal(json_array_size(json_object_get(t, "compare")), n - 1);
    assert_int_equal(json_array_size(json_object_get(t, "failure")), 4);
    json_decref(t);
    c.limit = 3;

    /* 3 rows: the limit */
    s = with_count(failed_answer(9, "", anc_none, 2, NULL, 0, 0), 3);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)), SD_ETCD_CLAIM_LIMIT);
    free(s);

    /* 2 rows, nothing in the way: another of the workspace's came first */
    s = with_count(failed_answer(9, "", anc_none, 2, NULL, 0, 0), 2);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)), SD_ETCD_CLAIM_RETRY);
    free(s);

    /* none at all (count left out) */
    s = with_count(failed_answer(9, "", anc_none, 2, NULL, 0, 0), 0);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)), SD_ETCD_CLAIM_RETRY);
    free(s);

    /* another workspace's name says more than the limit: 409 */
    s = with_count(failed_answer(9, "", anc_other, 2, NULL, 0, 0), 5);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)),
                     SD_ETCD_CLAIM_CONFLICT);
    free(s);

    /* the workspace has the row: no new row, no limit */
    s = with_count(failed_answer(9, P "rows/w1/mail.acme.com=r", anc_none, 2,
                                 NULL, 0, 0), 3);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)), SD_ETCD_CLAIM_EXISTS);
    free(s);

    /* below the limit with its own parent: the nested shape keeps the guard */
    s = with_count(failed_answer(9, "", anc_own, 2, NULL, 0, 0), 1);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)), SD_ETCD_CLAIM_NESTED);
    assert_int_equal(sd_etcd_parse_txn(s, strlen(s), &seen), SD_ETCD_OK);
    c.limit_rev = seen.revision;
    t = load_owned(sd_etcd_claim_nested_txn(&c, &seen));
    cmp = json_object_get(t, "compare");
    c0 = json_array_get(cmp, json_array_size(cmp) - 1);
    assert_string_equal(dec(c0, "key"), P "rows/w1/");
    assert_string_equal(json_string_value(json_object_get(c0,
                                                          "mod_revision")),
                        "10");
    json_decref(t);
    sd_etcd_txn_free(&seen);
    free(s);

    /* an answer without the count is not one to this Txn */
    s = failed_answer(9, "", anc_none, 2, NULL, 0, 0);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)),
                     SD_ETCD_CLAIM_INVALID);
    free(s);
}


static void
test_claim_verdicts(void **state)
{
    char             *s, *s2, h[256];
    sd_etcd_claim_t   c = { P, "w1", 2, "mail.acme.com", 13, "r", 1, 0, 0 };
    const char       *anc_none[] = { "", "" };
    const char       *anc_other[] = { "", P "claims/com.acme.=w2" };
    const char       *anc_own[] = { "", P "claims/com.acme.=w1" };
    const char       *sub_other[] = { P "claims/com.acme.mail.x.=w1",
                                      P "claims/com.acme.mail.y.=w2" };
    const char       *sub_own[] = { P "claims/com.acme.mail.@a=w1" };
    const char       *sub_same[] = { P "claims/com.acme.mail.=w1" };

    (void) state;

    assert_int_equal(verdict(&c, TXN_OK, NULL, h, sizeof(h)),
                     SD_ETCD_CLAIM_DONE);

    /* the workspace has the row */
    s = failed_answer(5, P "rows/w1/mail.acme.com=r", anc_none, 2, NULL, 0, 0);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)), SD_ETCD_CLAIM_EXISTS);
    free(s);

    /* another workspace holds the parent */
    s = failed_answer(5, "", anc_other, 2, NULL, 0, 0);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)),
                     SD_ETCD_CLAIM_CONFLICT);
    assert_string_equal(h, P "claims/com.acme.=w2");
    free(s);

    /* another workspace holds a name under it (after one of its own) */
    s = failed_answer(5, "", anc_none, 2, sub_other, 2, 0);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)),
                     SD_ETCD_CLAIM_CONFLICT);
    assert_string_equal(h, P "claims/com.acme.mail.y.=w2");
    free(s);

    /* the name itself, the workspace's own (a legacy row, say) */
    s = failed_answer(5, "", anc_none, 2, sub_same, 1, 0);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)), SD_ETCD_CLAIM_EXISTS);
    free(s);

    /* only the workspace's own names in the way: the nested shape */
    s = failed_answer(5, "", anc_own, 2, NULL, 0, 0);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)), SD_ETCD_CLAIM_NESTED);
    free(s);
    s = failed_answer(5, "", anc_none, 2, sub_own, 1, 0);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)), SD_ETCD_CLAIM_NESTED);

    /* the nested Txn failed, nothing moved, the subtree read in part:
     * a key of another workspace beyond what was read */
    s2 = failed_answer(6, "", anc_none, 2, sub_own, 1, 1);
    assert_int_equal(verdict(&c, s2, s, h, sizeof(h)),
                     SD_ETCD_CLAIM_CONFLICT);
    assert_string_equal(h, "");
    free(s2);

    /* ... or the parent was claimed by the workspace meanwhile: again */
    s2 = failed_answer(6, "", anc_own, 2, sub_own, 1, 1);
    assert_int_equal(verdict(&c, s2, s, h, sizeof(h)), SD_ETCD_CLAIM_NESTED);
    free(s2);

    /* ... or its names under it went away: start again */
    s2 = failed_answer(6, "", anc_none, 2, NULL, 0, 0);
    assert_int_equal(verdict(&c, s2, s, h, sizeof(h)), SD_ETCD_CLAIM_RETRY);
    free(s2);
    free(s);

    /* failed with nothing in the way (cannot happen in one Txn) */
    s = failed_answer(5, "", anc_none, 2, NULL, 0, 0);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)), SD_ETCD_CLAIM_RETRY);
    free(s);

    /* an answer of another shape */
    s = failed_answer(5, "", anc_none, 1, NULL, 0, 0);
    assert_int_equal(verdict(&c, s, NULL, h, sizeof(h)),
                     SD_ETCD_CLAIM_INVALID);
    free(s);
}


/* the answer of sd_etcd_owners_txn(): per claim "key=value" or "" */
static char *
owners_answer(int succeeded, const char **kvs, size_t n)
{
    char    *s, key[512];
    size_t   i;
    json_t  *t, *resps, *r, *arr;

    t = json_pack("{s:{s:s},s:[]}", "header", "revision", "40",
                  "responses");
    if (succeeded) {
        json_object_set_new(t, "succeeded", json_true());
    }

    resps = json_object_get(t, "responses");

    for (i = 0; i < n; i++) {
        const char  *eq;

        r = json_object();

        if (*kvs[i]) {
            eq = strchr(kvs[i], '=');
            memcpy(key, kvs[i], eq - kvs[i]);
            key[eq - kvs[i]] = '\0';
            arr = json_pack("[{s:s,s:s,s:s,s:s,s:s}]", "key", b64(key),
                            "value", b64(eq + 1), "create_revision", "7",
                            "mod_revision", i % 3 ? "9" : "8",
                            "version", "1");
            json_object_set_new(r, "kvs", arr);
            json_object_set_new(r, "count", json_string("1"));
        }

        json_array_append_new(resps, json_pack("{s:o}", "response_range", r));
    }

    s = json_dumps(t, JSON_COMPACT);
    json_decref(t);

    return s;
}


static sd_etcd_claim_e
takeover(const char *body, int64_t now, char **txn_out, char *holder,
    size_t size)
{
    sd_etcd_txn_t        txn;
    sd_etcd_claim_e      v;
    const sd_etcd_kv_t  *h;

    assert_int_equal(sd_etcd_parse_txn(body, strlen(body), &txn), SD_ETCD_OK);
    *txn_out = sd_etcd_takeover_txn(P, &txn, now, 3600, &v, &h);

    holder[0] = '\0';
    if (h) {
        snprintf(holder, size, "%s=%s", h->key, h->value);
    }

    sd_etcd_txn_free(&txn);

    return v;
}


/* a new row of id, unverified, whose claim ended at NOW - 1 (JSON text) */
static void
expired_row(const char *id, int domain, char *out, size_t size)
{
    char    *s;
    json_t  *j;

    j = sd_row_new(id, strlen(id), domain, "", 0, NULL, 0, NOW - 3600);
    assert_non_null(j);
    sd_row_set_time(j, "claim_expires_at", NOW - 1);
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_non_null(s);
    snprintf(out, size, "%s", s);
    free(s);
}


static int64_t
events_now(void)
{
    return NOW;
}


static void *
events_alloc(void *ctx, size_t size)
{
    (void) ctx;
    return malloc(size);
}


/*
 * The owner's events of a takeover: the row the Txn marked failed reaches
 * the nodes through the watch, which makes none, so the taking node
 * queues them (identity.state_changed and identity.failed, as the single
 * node's store makes when an add expires a claim); a claim that still
 * held makes none.
 */
static void
test_takeover_events(void **state)
{
    char              dir[64], path[128], lock[160], err[256], *s;
    char              row[2048], rowkv[2100];
    size_t            n;
    sd_store_t       *st;
    const char       *kvs[3];
    sd_etcd_txn_t     txn;
    sd_store_event_t  ev;
    sd_events_conf_t  conf = { "us-east-1", events_now, NULL };
    const uint32_t    targets[1] = { 7 };

    (void) state;

    strcpy(dir, "/tmp/sd-etcd-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sd.mdb", dir);
    snprintf(lock, sizeof(lock), "%s-lock", path);
    assert_int_equal(sd_store_open(path, 4 * 1024 * 1024, &st, err,
                                   sizeof(err)), SD_STORE_OK);
    sd_store_set_events(st, sd_events_build, &conf, targets, 1, 100);

    expired_row("acme.com", 1, row, sizeof(row));
    snprintf(rowkv, sizeof(rowkv), P "rows/w2/acme.com=%s", row);

    kvs[0] = P "claims/com.acme.=w2";
    kvs[1] = rowkv;
    kvs[2] = "";
    s = owners_answer(1, kvs, 3);
    assert_int_equal(sd_etcd_parse_txn(s, strlen(s), &txn), SD_ETCD_OK);

    /* still held at NOW - 2: nothing was taken, no event */
    assert_int_equal(sd_etcd_takeover_events(st, P, &txn, NOW - 2, 3600), 0);
    assert_int_equal(sd_store_event_next(st, 7, NULL, 0, events_alloc, NULL,
                                         &ev), SD_STORE_NOT_FOUND);

    /* taken over at NOW: w2's acme.com turned failed, for w2's receiver */
    assert_int_equal(sd_etcd_takeover_events(st, P, &txn, NOW, 3600), 1);
    assert_int_equal(sd_store_event_next(st, 7, NULL, 0, events_alloc, NULL,
                                         &ev), SD_STORE_OK);
    assert_non_null(strstr(ev.body, "\"workspace\":\"w2\""));
    assert_non_null(strstr(ev.body, "\"identity\":\"acme.com\""));
    assert_non_null(strstr(ev.body, "\"type\":\"identity."));
    assert_non_null(strstr(ev.body, "claim_expired"));
    free(ev.body);

    n = 0;
    while (sd_store_event_next(st, 7, NULL, 0, events_alloc, NULL, &ev)
           == SD_STORE_OK)
    {
        if (strstr(ev.body, "\"type\":\"identity.failed\"")) {
            n++;
        }

        assert_int_equal(sd_store_event_done(st, 7, ev.seq, 1, 0),
                         SD_STORE_OK);
        free(ev.body);
    }

    assert_int_equal(n, 1);

    sd_etcd_txn_free(&txn);
    free(s);
    sd_store_close(st);
    (void) unlink(path);
    (void) unlink(lock);
    (void) rmdir(dir);
}


/*
 * An address claimed as "ceo@acme.com" whose owner's row is keyed as
 * written, "CEO@acme.com": the owners' read finds no row, the search
 * finds its spelling among the owner's keys, and the read under it lets
 * the takeover judge (and guard) the row itself.
 */
static void
test_takeover_spelling(void **state)
{
    char                 *s, *search, *body, h[256], row[2048], rowkv[2100];
    char                 *names[2];
    size_t                n;
    json_t               *j, *r, *e;
    const char           *kvs[6];
    unsigned char         missing[2];
    sd_etcd_txn_t         owners, found;
    const sd_etcd_kv_t   *claims[SD_ETCD_TAKEOVER_MAX];

    (void) state;

    /* the address's claim with no row under its spelling; a domain's too */
    kvs[0] = P "claims/com.acme.@ceo=w2";
    kvs[1] = "";
    kvs[2] = "";
    kvs[3] = P "claims/org.acme.=w3";
    kvs[4] = "";
    kvs[5] = "";
    s = owners_answer(1, kvs, 6);
    assert_int_equal(sd_etcd_parse_txn(s, strlen(s), &owners), SD_ETCD_OK);
    free(s);

    assert_int_equal(sd_etcd_owners_unfound(&owners, missing, 2), 1);
    assert_int_equal(missing[0], 1);
    assert_int_equal(missing[1], 0);     /* a domain's name is lower case */
    assert_int_equal(sd_etcd_owners_unfound(&owners, missing, 1), 0);

    /* the owner's keys, managed and legacy, keys only */
    search = sd_etcd_owners_search_txn(P, &owners, missing);
    j = load_owned(search);
    e = json_object_get(j, "success");
    assert_int_equal(json_array_size(e), 2);
    r = json_object_get(json_array_get(e, 0), "request_range");
    assert_string_equal(dec(r, "key"), P "rows/w2/");
    assert_string_equal(dec(r, "range_end"), P "rows/w20");
    assert_true(json_is_true(json_object_get(r, "keys_only")));
    r = json_object_get(json_array_get(e, 1), "request_range");
    assert_string_equal(dec(r, "key"), P "legacy/rows/w2/");
    json_decref(j);

    /* another domain's address is not it */
    kvs[0] = P "rows/w2/CEO@acme.org=";
    kvs[1] = "";
    s = owners_answer(1, kvs, 2);
    assert_int_equal(sd_etcd_parse_txn(s, strlen(s), &found), SD_ETCD_OK);
    free(s);
    assert_int_equal(sd_etcd_owners_found(P, &owners, missing, &found, names),
                     0);
    assert_null(names[0]);
    sd_etcd_txn_free(&found);

    /* its spelling as written */
    kvs[0] = P "rows/w2/CEO@acme.com=";
    s = owners_answer(1, kvs, 2);
    assert_int_equal(sd_etcd_parse_txn(s, strlen(s), &found), SD_ETCD_OK);
    free(s);
    assert_int_equal(sd_etcd_owners_found(P, &owners, missing, &found, names),
                     1);
    assert_string_equal(names[0], "CEO@acme.com");
    assert_null(names[1]);
    sd_etcd_txn_free(&found);

    /* read again under it; the other claim as before */
    n = sd_etcd_owners_claims(&owners, claims, SD_ETCD_TAKEOVER_MAX);
    assert_int_equal(n, 2);
    j = load_owned(sd_etcd_owners_named_txn(P, claims, names, n));
    e = json_object_get(j, "success");
    assert_int_equal(json_array_size(e), 6);
    r = json_object_get(json_array_get(e, 1), "request_range");
    assert_string_equal(dec(r, "key"), P "rows/w2/CEO@acme.com");
    r = json_object_get(json_array_get(e, 2), "request_range");
    assert_string_equal(dec(r, "key"), P "legacy/rows/w2/CEO@acme.com");
    r = json_object_get(json_array_get(e, 4), "request_range");
    assert_string_equal(dec(r, "key"), P "rows/w3/acme.org");
    json_decref(j);
    free(names[0]);
    sd_etcd_txn_free(&owners);

    /* the row found: expired, taken over, its legacy twin's key guarded */
    expired_row("CEO@acme.com", 0, row, sizeof(row));
    snprintf(rowkv, sizeof(rowkv), P "rows/w2/CEO@acme.com=%s", row);

    kvs[0] = P "claims/com.acme.@ceo=w2";
    kvs[1] = rowkv;
    kvs[2] = "";
    s = owners_answer(1, kvs, 3);
    assert_int_equal(takeover(s, NOW, &body, h, sizeof(h)),
                     SD_ETCD_CLAIM_DONE);
    j = load_owned(body);
    e = json_array_get(json_object_get(j, "compare"), 3);
    assert_string_equal(dec(e, "key"), P "legacy/rows/w2/CEO@acme.com");
    json_decref(j);
    free(s);
}


static void
test_takeover(void **state)
{
    char                 *s, *body, h[256], row[2048], rowkv[2100];
    const char           *kvs[3];
    size_t                n;
    json_t               *j, *r, *t, *e;
    sd_etcd_txn_t         txn;
    sd_etcd_claim_t       c = { P, "w1", 2, "mail.acme.com", 13, "r", 1,
                                0, 0 };
    const sd_etcd_kv_t   *others[SD_ETCD_TAKEOVER_MAX];
    const char           *anc_other[] = { "", P "claims/com.acme.=w2" };
    const char           *sub_other[] = { P "claims/com.acme.mail.@a=w1",
                                          P "claims/com.acme.mail.@b=w3" };

    (void) state;

    /* the other workspaces' claims a failed claim read back */
    s = failed_answer(5, "", anc_other, 2, sub_other, 2, 0);
    assert_int_equal(sd_etcd_parse_txn(s, strlen(s), &txn), SD_ETCD_OK);
    n = sd_etcd_claim_others(&c, &txn, others, SD_ETCD_TAKEOVER_MAX);
    assert_int_equal(n, 2);
    assert_string_equal(others[0]->key, P "claims/com.acme.");
    assert_string_equal(others[1]->key, P "claims/com.acme.mail.@b");
    assert_int_equal(sd_etcd_claim_others(&c, &txn, others, 1), 1);

    /* their owners' rows are read while the claims are still theirs */
    n = sd_etcd_claim_others(&c, &txn, others, SD_ETCD_TAKEOVER_MAX);
    j = load_owned(sd_etcd_owners_txn(P, others, n));
    assert_int_equal(json_array_size(json_object_get(j, "compare")), 2);
    t = json_array_get(json_object_get(j, "compare"), 0);
    assert_string_equal(dec(t, "key"), P "claims/com.acme.");
    assert_string_equal(json_string_value(json_object_get(t, "target")),
                        "VALUE");
    assert_string_equal(dec(t, "value"), "w2");
    assert_int_equal(json_array_size(json_object_get(j, "success")), 6);
    r = json_object_get(json_array_get(json_object_get(j, "success"), 1),
                        "request_range");
    assert_string_equal(dec(r, "key"), P "rows/w2/acme.com");
    r = json_object_get(json_array_get(json_object_get(j, "success"), 2),
                        "request_range");
    assert_string_equal(dec(r, "key"), P "legacy/rows/w2/acme.com");
    r = json_object_get(json_array_get(json_object_get(j, "success"), 4),
                        "request_range");
    assert_string_equal(dec(r, "key"), P "rows/w3/b@mail.acme.com");
    json_decref(j);
    assert_null(sd_etcd_owners_txn(P, others, 0));
    sd_etcd_txn_free(&txn);
    free(s);

    /* w2's acme.com: unverified, its claim ended at NOW - 1 */
    expired_row("acme.com", 1, row, sizeof(row));
    snprintf(rowkv, sizeof(rowkv), P "rows/w2/acme.com=%s", row);

    kvs[0] = P "claims/com.acme.=w2";
    kvs[1] = rowkv;
    kvs[2] = "";
    s = owners_answer(1, kvs, 3);

    /* not expired yet at NOW - 2: it still holds */
    assert_int_equal(takeover(s, NOW - 2, &body, h, sizeof(h)),
                     SD_ETCD_CLAIM_CONFLICT);
    assert_null(body);
    assert_string_equal(h, P "claims/com.acme.=w2");

    /* expired at NOW: deleted with its row marked failed, if unchanged */
    assert_int_equal(takeover(s, NOW, &body, h, sizeof(h)),
                     SD_ETCD_CLAIM_DONE);
    j = load_owned(body);
    t = json_object_get(j, "compare");
    assert_int_equal(json_array_size(t), 4);
    e = json_array_get(t, 0);
    assert_string_equal(dec(e, "key"), P "claims/com.acme.");
    assert_string_equal(json_string_value(json_object_get(e, "target")),
                        "MOD");
    assert_string_equal(json_string_value(json_object_get(e, "mod_revision")),
                        "8");
    e = json_array_get(t, 1);
    assert_string_equal(dec(e, "value"), "w2");
    e = json_array_get(t, 2);
    assert_string_equal(dec(e, "key"), P "rows/w2/acme.com");
    assert_string_equal(json_string_value(json_object_get(e, "mod_revision")),
                        "9");
    check_version0(json_array_get(t, 3), P "legacy/rows/w2/acme.com", NULL);
    t = json_object_get(j, "success");
    assert_int_equal(json_array_size(t), 2);
    e = json_object_get(json_array_get(t, 0), "request_delete_range");
    assert_string_equal(dec(e, "key"), P "claims/com.acme.");
    e = json_object_get(json_array_get(t, 1), "request_put");
    assert_string_equal(dec(e, "key"), P "rows/w2/acme.com");
    r = load(dec(e, "value"));
    assert_true(sd_row_in_state(r, SD_STATE_FAILED));
    assert_string_equal(sd_row_str(json_object_get(r, "last_error"), "code"),
                        "claim_expired");
    assert_non_null(json_object_get(r, "purge_at"));
    json_decref(r);
    json_decref(j);
    free(s);

    /* a legacy sender of w2 holds it for good */
    kvs[2] = P "legacy/rows/w2/acme.com={}";
    s = owners_answer(1, kvs, 3);
    assert_int_equal(takeover(s, NOW, &body, h, sizeof(h)),
                     SD_ETCD_CLAIM_CONFLICT);
    assert_null(body);
    free(s);

    /* a claim with no row blocks, as in the single-node store */
    kvs[1] = "";
    kvs[2] = "";
    s = owners_answer(1, kvs, 3);
    assert_int_equal(takeover(s, NOW, &body, h, sizeof(h)),
                     SD_ETCD_CLAIM_CONFLICT);
    free(s);

    /* verified: never expires */
    json_object_set_new(j = load(row), "verified_for_sending", json_true());
    sd_row_set_state(j, SD_STATE_READY);
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    snprintf(rowkv, sizeof(rowkv), P "rows/w2/acme.com=%s", s);
    free(s);
    kvs[1] = rowkv;
    s = owners_answer(1, kvs, 3);
    assert_int_equal(takeover(s, NOW + 86400, &body, h, sizeof(h)),
                     SD_ETCD_CLAIM_CONFLICT);
    free(s);

    /* already failed: the claim goes, the row stays as it is */
    j = load(row);
    sd_row_set_state(j, SD_STATE_FAILED);
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    snprintf(rowkv, sizeof(rowkv), P "rows/w2/acme.com=%s", s);
    free(s);
    s = owners_answer(1, kvs, 3);
    assert_int_equal(takeover(s, NOW, &body, h, sizeof(h)),
                     SD_ETCD_CLAIM_DONE);
    j = load_owned(body);
    assert_int_equal(json_array_size(json_object_get(j, "success")), 1);
    json_decref(j);
    free(s);

    /* the claim changed owner or went since it was read: claim again */
    s = owners_answer(0, kvs, 0);
    assert_int_equal(takeover(s, NOW, &body, h, sizeof(h)),
                     SD_ETCD_CLAIM_RETRY);
    free(s);

    /* an answer of another shape */
    s = owners_answer(1, kvs, 2);
    assert_int_equal(takeover(s, NOW, &body, h, sizeof(h)),
                     SD_ETCD_CLAIM_INVALID);
    free(s);
}


static void
test_legacy_txns(void **state)
{
    char              key[SD_ETCD_KEY_MAX];
    size_t            len, anc[SD_ETCD_MAX_TXN_OPS], nanc;
    json_t           *j, *c;
    sd_etcd_guard_t   g[SD_ETCD_MAX_TXN_OPS + 1];

    (void) state;

    /* an address's claim key and its ancestors' */
    assert_int_equal(sd_etcd_claim_path(P, "ops@mail.acme.com", 17, key,
                                        sizeof(key), &len, anc, &nanc), 0);
    assert_string_equal(key, P "claims/com.acme.mail.@ops");
    assert_int_equal(nanc, 3);
    assert_int_equal(anc[0], strlen(P "claims/com."));
    assert_int_equal(anc[2], strlen(P "claims/com.acme.mail."));

    memset(g, 0, sizeof(g));
    g[0].key = key;
    g[0].len = len;
    g[0].put = 1;
    g[1].key = key;
    g[1].len = anc[1];
    g[1].own = 1;
    g[2].key = key;
    g[2].len = anc[0];

    /* reads */
    j = load_owned(sd_etcd_read_txn(g, 3));
    assert_null(json_object_get(j, "compare"));
    assert_int_equal(json_array_size(json_object_get(j, "success")), 3);
    c = json_object_get(json_array_get(json_object_get(j, "success"), 1),
                        "request_range");
    assert_string_equal(dec(c, "key"), P "claims/com.acme.");
    json_decref(j);

    /* the claim: absent or own, and the put */
    j = load_owned(sd_etcd_guard_txn(g, 3, "w1", 2));
    c = json_object_get(j, "compare");
    assert_int_equal(json_array_size(c), 3);
    check_version0(json_array_get(c, 0), P "claims/com.acme.mail.@ops",
                   NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(c, 1), "target")), "VALUE");
    assert_string_equal(dec(json_array_get(c, 1), "value"), "w1");
    check_version0(json_array_get(c, 2), P "claims/com.", NULL);
    c = json_object_get(j, "success");
    assert_int_equal(json_array_size(c), 1);
    c = json_object_get(json_array_get(c, 0), "request_put");
    assert_string_equal(dec(c, "key"), P "claims/com.acme.mail.@ops");
    assert_string_equal(dec(c, "value"), "w1");
    assert_null(json_object_get(j, "failure"));
    json_decref(j);

    /* the release of what a refused PUT created */
    g[0].rev = 42;
    j = load_owned(sd_etcd_release_txn(g, 1, "w1", 2));
    c = json_object_get(j, "compare");
    assert_int_equal(json_array_size(c), 2);
    assert_string_equal(dec(json_array_get(c, 0), "value"), "w1");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(c, 1), "mod_revision")), "42");
    c = json_object_get(json_array_get(json_object_get(j, "success"), 0),
                        "request_delete_range");
    assert_string_equal(dec(c, "key"), P "claims/com.acme.mail.@ops");
    json_decref(j);

    /* etcd's --max-txn-ops: 128 */
    for (len = 0; len <= SD_ETCD_MAX_TXN_OPS; len++) {
        g[len] = g[2];
    }
    assert_non_null(j = load_owned(sd_etcd_guard_txn(g, SD_ETCD_MAX_TXN_OPS,
                                                     "w1", 2)));
    json_decref(j);
    assert_null(sd_etcd_guard_txn(g, SD_ETCD_MAX_TXN_OPS + 1, "w1", 2));
    assert_null(sd_etcd_read_txn(g, SD_ETCD_MAX_TXN_OPS + 1));
    assert_null(sd_etcd_release_txn(g, SD_ETCD_MAX_TXN_OPS / 2 + 1, "w1", 2));
    assert_null(sd_etcd_read_txn(g, 0));
}


static void
test_claim_nested_txn(void **state)
{
    char             *body;
    json_t           *t, *cmp, *c3;
    sd_etcd_txn_t     seen;
    sd_etcd_claim_t   c = { P, "w1", 2, "acme.com", 8, "r", 1, 0, 0 };
    const char       *anc[] = { "" };
    const char       *sub[] = { P "claims/com.acme.@reports=w1" };

    (void) state;

    /* acme.com when the workspace has reports@acme.com */
    body = failed_answer(7, "", anc, 1, sub, 1, 0);
    assert_int_equal(sd_etcd_parse_txn(body, strlen(body), &seen), SD_ETCD_OK);
    free(body);

    assert_null(sd_etcd_claim_nested_txn(&c, NULL));
    t = load_owned(sd_etcd_claim_nested_txn(&c, &seen));

    cmp = json_object_get(t, "compare");
    assert_int_equal(json_array_size(cmp), 4);
    check_version0(json_array_get(cmp, 0), P "rows/w1/acme.com", NULL);
    check_version0(json_array_get(cmp, 1), P "claims/com.", NULL);
    /* the name itself is still free ... */
    check_version0(json_array_get(cmp, 2), P "claims/com.acme.", NULL);
    /* ... and every key under it is this workspace's */
    c3 = json_array_get(cmp, 3);
    assert_string_equal(dec(c3, "key"), P "claims/com.acme.");
    assert_string_equal(dec(c3, "range_end"), P "claims/com.acme/");
    assert_string_equal(json_string_value(json_object_get(c3, "target")),
                        "VALUE");
    assert_string_equal(dec(c3, "value"), "w1");
    json_decref(t);
    sd_etcd_txn_free(&seen);

    /* reports@acme.com when the workspace has acme.com: VALUE on com.acme. */
    {
        sd_etcd_claim_t   a = { P, "w1", 2, "reports@acme.com", 16, "r", 1,
                                0, 0 };
        const char       *anc2[] = { "", P "claims/com.acme.=w1" };

        body = failed_answer(7, "", anc2, 2, NULL, 0, 0);
        assert_int_equal(sd_etcd_parse_txn(body, strlen(body), &seen),
                         SD_ETCD_OK);
        free(body);
        t = load_owned(sd_etcd_claim_nested_txn(&a, &seen));
        cmp = json_object_get(t, "compare");
        assert_int_equal(json_array_size(cmp), 4);
        c3 = json_array_get(cmp, 2);
        assert_string_equal(dec(c3, "key"), P "claims/com.acme.");
        assert_string_equal(json_string_value(json_object_get(c3, "target")),
                            "VALUE");
        assert_string_equal(dec(c3, "value"), "w1");
        check_version0(json_array_get(cmp, 3), P "claims/com.acme.@reports",
                       NULL);
        json_decref(t);
        sd_etcd_txn_free(&seen);
    }
}


static void
test_parse_txn(void **state)
{
    sd_etcd_txn_t  t;
    const char    *failed =
        "{\"header\":{\"cluster_id\":\"441544759699424915\",\"member_id\":"
        "\"1818273078719004976\",\"revision\":\"2\",\"raft_term\":\"2\"},"
        "\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"2\"},"
        "\"kvs\":[{\"key\":\"L3AvY2xhaW1zL2NvbS5hY21lLm1haWwu\","
        "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\","
        "\"value\":\"dzI=\"}],\"count\":\"1\"}}]}";
    const char    *too_many =
        "{\"error\":\"etcdserver: too many operations in txn request\","
        "\"message\":\"etcdserver: too many operations in txn request\","
        "\"code\":3}";
    const char    *compacted =
        "{\"error\":\"etcdserver: mvcc: required revision has been "
        "compacted\",\"message\":\"etcdserver: mvcc: required revision has "
        "been compacted\",\"code\":11}";
    const char    *range =
        "{\"header\":{\"revision\":\"9\"},\"kvs\":[{\"key\":\"YQ==\","
        "\"create_revision\":\"4\",\"mod_revision\":\"8\",\"version\":\"3\","
        "\"value\":\"\"},{\"key\":\"Yg==\",\"mod_revision\":\"9\","
        "\"value\":\"eA==\"}],\"more\":true,\"count\":\"5\"}";

    (void) state;

    assert_int_equal(sd_etcd_parse_txn(TXN_OK, strlen(TXN_OK), &t),
                     SD_ETCD_OK);
    assert_int_equal(t.revision, 3);
    assert_true(t.succeeded);
    assert_int_equal(t.nresponses, 1);
    assert_int_equal(t.responses[0].type, SD_ETCD_RESP_PUT);
    sd_etcd_txn_free(&t);

    /* "succeeded":false is proto3's default: the gateway leaves it out */
    assert_int_equal(sd_etcd_parse_txn(failed, strlen(failed), &t),
                     SD_ETCD_OK);
    assert_int_equal(t.revision, 2);
    assert_false(t.succeeded);
    assert_int_equal(t.responses[0].type, SD_ETCD_RESP_RANGE);
    assert_int_equal(t.responses[0].nkvs, 1);
    assert_int_equal(t.responses[0].count, 1);
    assert_string_equal(t.responses[0].kvs[0].key, "/p/claims/com.acme.mail.");
    assert_string_equal(t.responses[0].kvs[0].value, "w2");
    assert_int_equal(t.responses[0].kvs[0].mod_revision, 2);
    assert_int_equal(t.responses[0].kvs[0].version, 1);
    sd_etcd_txn_free(&t);

    assert_int_equal(sd_etcd_parse_txn(too_many, strlen(too_many), &t),
                     SD_ETCD_SERVER_ERROR);
    assert_int_equal(t.code, 3);
    assert_string_equal(t.message,
                        "etcdserver: too many operations in txn request");
    sd_etcd_txn_free(&t);

    assert_int_equal(sd_etcd_parse_range(compacted, strlen(compacted), &t),
                     SD_ETCD_COMPACTED);
    assert_int_equal(t.code, 11);
    sd_etcd_txn_free(&t);

    assert_int_equal(sd_etcd_parse_range(range, strlen(range), &t),
                     SD_ETCD_OK);
    assert_int_equal(t.revision, 9);
    assert_int_equal(t.responses[0].nkvs, 2);
    assert_true(t.responses[0].more);
    assert_int_equal(t.responses[0].count, 5);
    assert_string_equal(t.responses[0].kvs[0].key, "a");
    assert_int_equal(t.responses[0].kvs[0].value_len, 0);
    assert_int_equal(t.responses[0].kvs[0].create_revision, 4);
    assert_int_equal(t.responses[0].kvs[1].mod_revision, 9);
    assert_string_equal(t.responses[0].kvs[1].value, "x");
    sd_etcd_txn_free(&t);

    /* not an answer */
    assert_int_equal(sd_etcd_parse_txn("[]", 2, &t), SD_ETCD_BAD_JSON);
    sd_etcd_txn_free(&t);
    assert_int_equal(sd_etcd_parse_txn("{\"succeeded\":true}", 18, &t),
                     SD_ETCD_BAD_JSON);
    sd_etcd_txn_free(&t);
    assert_int_equal(sd_etcd_parse_txn("{\"header\":{\"revision\":\"x\"}}",
                                       27, &t), SD_ETCD_BAD_JSON);
    sd_etcd_txn_free(&t);
    assert_int_equal(sd_etcd_parse_txn("{\"header\":{\"revision\":\"2\"},"
                                       "\"responses\":[{\"response_range\":"
                                       "{\"kvs\":[{\"key\":\"!!\"}]}}]}",
                                       83, &t), SD_ETCD_BAD_JSON);
    sd_etcd_txn_free(&t);
    assert_int_equal(sd_etcd_parse_txn("{\"header\"", 9, &t),
                     SD_ETCD_BAD_JSON);
    sd_etcd_txn_free(&t);
}


static void
test_parse_watch(void **state)
{
    sd_etcd_watch_t  w;
    const char      *created =
        "{\"result\":{\"header\":{\"cluster_id\":\"441544759699424915\","
        "\"member_id\":\"1818273078719004976\",\"revision\":\"4\","
        "\"raft_term\":\"2\"},\"created\":true}}";
    const char      *events =
        "{\"result\":{\"header\":{\"revision\":\"4\"},\"events\":[{\"kv\":"
        "{\"key\":\"L3AvY2xhaW1zL29yZy54Lg==\",\"create_revision\":\"3\","
        "\"mod_revision\":\"3\",\"version\":\"1\",\"value\":\"dzE=\"}},"
        "{\"type\":\"DELETE\",\"kv\":{\"key\":\"L3AvY2xhaW1zL29yZy54Lg==\","
        "\"mod_revision\":\"4\"}}]}}";
    const char      *compacted =
        "{\"result\":{\"header\":{\"cluster_id\":\"441544759699424915\","
        "\"member_id\":\"1818273078719004976\",\"raft_term\":\"2\"},"
        "\"canceled\":true,\"compact_revision\":\"3\"}}";
    const char      *progress =
        "{\"result\":{\"header\":{\"revision\":\"40\"},\"watch_id\":\"0\"}}";
    const char      *error =
        "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
        "\"transport is closing\",\"http_status\":\"Service Unavailable\"}}";
    const char      *ahead =
        "{\"result\":{\"header\":{\"revision\":\"2\"},\"events\":[{\"kv\":"
        "{\"key\":\"YQ==\",\"mod_revision\":\"3\"}}]}}";

    (void) state;

    assert_int_equal(sd_etcd_parse_watch(created, strlen(created), &w),
                     SD_ETCD_OK);
    assert_true(w.created);
    assert_int_equal(w.revision, 4);
    assert_int_equal(w.nevents, 0);
    sd_etcd_watch_free(&w);

    assert_int_equal(sd_etcd_parse_watch(events, strlen(events), &w),
                     SD_ETCD_OK);
    assert_int_equal(w.nevents, 2);
    assert_int_equal(w.events[0].type, SD_ETCD_EVENT_PUT);
    assert_string_equal(w.events[0].kv.key, "/p/claims/org.x.");
    assert_string_equal(w.events[0].kv.value, "w1");
    assert_int_equal(w.events[0].kv.mod_revision, 3);
    assert_int_equal(w.events[1].type, SD_ETCD_EVENT_DELETE);
    assert_int_equal(w.events[1].kv.mod_revision, 4);
    assert_int_equal(w.events[1].kv.value_len, 0);
    sd_etcd_watch_free(&w);

    assert_int_equal(sd_etcd_parse_watch(compacted, strlen(compacted), &w),
                     SD_ETCD_OK);
    assert_true(w.canceled);
    assert_int_equal(w.compact_revision, 3);
    sd_etcd_watch_free(&w);

    assert_int_equal(sd_etcd_parse_watch(progress, strlen(progress), &w),
                     SD_ETCD_OK);
    assert_int_equal(w.revision, 40);
    assert_int_equal(w.nevents, 0);
    sd_etcd_watch_free(&w);

    assert_int_equal(sd_etcd_parse_watch(error, strlen(error), &w),
                     SD_ETCD_SERVER_ERROR);
    assert_int_equal(w.code, 14);
    assert_string_equal(w.message, "transport is closing");
    sd_etcd_watch_free(&w);

    /* an event without a revision (its decoded key is freed, too) */
    assert_int_equal(sd_etcd_parse_watch("{\"result\":{\"events\":[{\"kv\":"
                                         "{\"key\":\"YQ==\",\"value\":"
                                         "\"dzE=\"}}]}}", 60, &w),
                     SD_ETCD_BAD_JSON);
    sd_etcd_watch_free(&w);

    /* an event newer than its message's revision is not etcd's */
    assert_int_equal(sd_etcd_parse_watch(ahead, strlen(ahead), &w),
                     SD_ETCD_BAD_JSON);
    sd_etcd_watch_free(&w);

    assert_int_equal(sd_etcd_parse_watch("{\"result\":{\"events\":[{\"type\":"
                                         "\"NOPE\",\"kv\":{\"key\":\"YQ==\","
                                         "\"mod_revision\":\"1\"}}]}}", 78,
                                         &w), SD_ETCD_BAD_JSON);
    sd_etcd_watch_free(&w);
}


static void
test_bodies(void **state)
{
    char    *s;
    json_t  *t, *cr;

    (void) state;

    t = load_owned(sd_etcd_watch_body(P, 42));
    cr = json_object_get(t, "create_request");
    assert_string_equal(dec(cr, "key"), P);
    assert_string_equal(dec(cr, "range_end"), "/sender-domains/v10");
    assert_string_equal(json_string_value(json_object_get(cr,
                                                          "start_revision")),
                        "42");
    assert_true(json_is_true(json_object_get(cr, "progress_notify")));
    json_decref(t);

    s = sd_etcd_range_body("a", 1, "b", 1, 7, 100);
    assert_string_equal(s, "{\"key\":\"YQ==\",\"range_end\":\"Yg==\","
                           "\"revision\":\"7\",\"limit\":\"100\"}");
    free(s);

    s = sd_etcd_range_body("a", 1, NULL, 0, 0, 0);
    assert_string_equal(s, "{\"key\":\"YQ==\"}");
    free(s);
}

static void
test_node_names(void **state)
{
    (void) state;

    assert_true(sd_etcd_node_ok("nodeA", 5));
    assert_true(sd_etcd_node_ok("eu-1.mx_2", 9));
    assert_true(sd_etcd_node_ok("host:8080", 9));
    assert_false(sd_etcd_node_ok("", 0));
    assert_false(sd_etcd_node_ok("a/b", 3));
    assert_false(sd_etcd_node_ok("a b", 3));
    assert_false(sd_etcd_node_ok(
        "x123456789012345678901234567890123456789012345678901234567890123",
        65));
}


/* answers of Debian's etcd 3.4.23 (captured with curl, see test_bodies) */

#define HDR  "\"header\":{\"cluster_id\":\"9680257341950554425\"," \
             "\"member_id\":\"10423610254486707602\",\"revision\":\"2\"," \
             "\"raft_term\":\"2\"}"

static void
test_lease(void **state)
{
    char     *s;
    int64_t   id, ttl;

    (void) state;

    s = sd_etcd_lease_grant_body(10);
    assert_string_equal(s, "{\"TTL\":\"10\"}");
    free(s);

    s = sd_etcd_lease_id_body(2130944015696020230LL);
    assert_string_equal(s, "{\"ID\":\"2130944015696020230\"}");
    free(s);

    /* grant */
    s = "{" HDR ",\"ID\":\"2130944015696020230\",\"TTL\":\"10\"}";
    assert_int_equal(sd_etcd_parse_lease(s, strlen(s), &id, &ttl),
                     SD_ETCD_OK);
    assert_true(id == 2130944015696020230LL);
    assert_int_equal(ttl, 10);

    /* one keepalive: a message of a stream */
    s = "{\"result\":{" HDR ",\"ID\":\"2130944015696020232\",\"TTL\":\"9\"}}";
    assert_int_equal(sd_etcd_parse_lease(s, strlen(s), &id, &ttl),
                     SD_ETCD_OK);
    assert_true(id == 2130944015696020232LL);
    assert_int_equal(ttl, 9);

    /* the keepalive of a lease that is gone: no TTL (proto3's 0) */
    s = "{\"result\":{" HDR ",\"ID\":\"12345\"}}";
    assert_int_equal(sd_etcd_parse_lease(s, strlen(s), &id, &ttl),
                     SD_ETCD_OK);
    assert_int_equal(id, 12345);
    assert_int_equal(ttl, 0);

    /* revoke of a lease that is gone (HTTP 404) */
    s = "{\"error\":\"etcdserver: requested lease not found\",\"message\":"
        "\"etcdserver: requested lease not found\",\"code\":5}";
    assert_int_equal(sd_etcd_parse_lease(s, strlen(s), &id, &ttl),
                     SD_ETCD_SERVER_ERROR);

    s = "{" HDR ",\"TTL\":\"10\"}";
    assert_int_equal(sd_etcd_parse_lease(s, strlen(s), &id, &ttl),
                     SD_ETCD_BAD_JSON);
    s = "not json";
    assert_int_equal(sd_etcd_parse_lease(s, strlen(s), &id, &ttl),
                     SD_ETCD_BAD_JSON);
}


static void
test_leader_txn(void **state)
{
    json_t       *t, *a, *op;
    const char   *s;

    (void) state;

    assert_null(sd_etcd_leader_txn(P, "a/b", 3, 7, 0));
    assert_null(sd_etcd_leader_txn(P, "nodeA", 5, 0, 0));
    assert_null(sd_etcd_leader_txn("nope", "nodeA", 5, 7, 0));

    t = load_owned(sd_etcd_leader_txn(P, "nodeA", 5, 7, 1));

    a = json_object_get(t, "compare");
    assert_int_equal(json_array_size(a), 1);
    op = json_array_get(a, 0);
    assert_string_equal(dec(op, "key"), P "leader");
    assert_string_equal(json_string_value(json_object_get(op, "target")),
                        "VERSION");
    assert_string_equal(json_string_value(json_object_get(op, "version")),
                        "0");

    a = json_object_get(t, "success");
    assert_int_equal(json_array_size(a), 3);
    op = json_object_get(json_array_get(a, 0), "request_put");
    assert_string_equal(dec(op, "key"), P "nodes/nodeA");
    assert_string_equal(dec(op, "value"), "nodeA");
    assert_string_equal(json_string_value(json_object_get(op, "lease")), "7");
    op = json_object_get(json_array_get(a, 1), "request_put");
    assert_string_equal(dec(op, "key"), P "leader");
    assert_string_equal(dec(op, "value"), "nodeA");
    assert_string_equal(json_string_value(json_object_get(op, "lease")), "7");
    op = json_object_get(json_array_get(a, 2), "request_range");
    assert_string_equal(dec(op, "key"), P "nodes/");
    assert_string_equal(dec(op, "range_end"), P "nodes0");
    assert_true(json_is_true(json_object_get(op, "count_only")));

    a = json_object_get(t, "failure");
    assert_int_equal(json_array_size(a), 3);
    op = json_object_get(json_array_get(a, 0), "request_put");
    assert_string_equal(dec(op, "key"), P "nodes/nodeA");
    op = json_object_get(json_array_get(a, 1), "request_range");
    assert_string_equal(dec(op, "key"), P "leader");
    assert_null(json_object_get(op, "range_end"));
    op = json_object_get(json_array_get(a, 2), "request_range");
    assert_true(json_is_true(json_object_get(op, "count_only")));
    json_decref(t);

    /* without the node's put */
    t = load_owned(sd_etcd_leader_txn(P, "nodeA", 5, 7, 0));
    assert_int_equal(json_array_size(json_object_get(t, "success")), 2);
    assert_int_equal(json_array_size(json_object_get(t, "failure")), 2);
    s = json_string_value(json_object_get(json_object_get(
            json_array_get(json_object_get(t, "success"), 0), "request_put"),
            "lease"));
    assert_string_equal(s, "7");
    json_decref(t);
}


static void
leader_case(const char *body, int64_t lease, int rc, int leader,
    int64_t nodes, const char *holder)
{
    sd_etcd_txn_t     txn;
    sd_etcd_leader_t  v;

    assert_int_equal(sd_etcd_parse_txn(body, strlen(body), &txn), SD_ETCD_OK);
    assert_int_equal(sd_etcd_leader_verdict(&txn, "nodeA", 5, lease, &v), rc);

    if (rc == 0) {
        assert_int_equal(v.leader, leader);
        assert_int_equal(v.nodes, nodes);
        assert_int_equal(v.revision, 2);

        if (holder) {
            assert_int_equal(v.holder_len, strlen(holder));
            assert_memory_equal(v.holder, holder, strlen(holder));

        } else {
            assert_null(v.holder);
        }
    }

    sd_etcd_txn_free(&txn);
}


static void
test_leader_verdict(void **state)
{
    (void) state;

    /* taken, with the node's put first (the answer etcd 3.4 gave) */
    leader_case("{" HDR ",\"succeeded\":true,\"responses\":["
                "{\"response_put\":{\"header\":{\"revision\":\"2\"}}},"
                "{\"response_put\":{\"header\":{\"revision\":\"2\"}}},"
                "{\"response_range\":{\"header\":{\"revision\":\"2\"},"
                "\"count\":\"1\"}}]}", 7, 0, 1, 1, "nodeA");

    /* held by this node with this lease (bm9kZUE= is "nodeA") */
    leader_case("{" HDR ",\"responses\":[{\"response_range\":{\"header\":"
                "{\"revision\":\"2\"},\"kvs\":[{\"key\":\"L3AvbGVhZGVy\","
                "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":"
                "\"1\",\"value\":\"bm9kZUE=\",\"lease\":\"7\"}],\"count\":"
                "\"1\"}},{\"response_range\":{\"header\":{\"revision\":\"2\"},"
                "\"count\":\"3\"}}]}", 7, 0, 1, 3, "nodeA");

    /* the same name with another lease: this node's previous worker */
    leader_case("{" HDR ",\"responses\":[{\"response_range\":{\"header\":"
                "{\"revision\":\"2\"},\"kvs\":[{\"key\":\"L3AvbGVhZGVy\","
                "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":"
                "\"1\",\"value\":\"bm9kZUE=\",\"lease\":\"8\"}],\"count\":"
                "\"1\"}},{\"response_range\":{\"header\":{\"revision\":\"2\"},"
                "\"count\":\"3\"}}]}", 7, 0, 0, 3, "nodeA");

    /* another node leads ("nodeB"), the node's put first */
    leader_case("{" HDR ",\"responses\":["
                "{\"response_put\":{\"header\":{\"revision\":\"2\"}}},"
                "{\"response_range\":{\"header\":"
                "{\"revision\":\"2\"},\"kvs\":[{\"key\":\"L3AvbGVhZGVy\","
                "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":"
                "\"1\",\"value\":\"bm9kZUI=\",\"lease\":\"9\"}],\"count\":"
                "\"1\"}},{\"response_range\":{\"header\":{\"revision\":\"2\"},"
                "\"count\":\"2\"}}]}", 7, 0, 0, 2, "nodeB");

    /* other shapes */
    leader_case("{" HDR ",\"succeeded\":true,\"responses\":["
                "{\"response_put\":{\"header\":{\"revision\":\"2\"}}}]}",
                7, -1, 0, 0, NULL);
    leader_case("{" HDR ",\"responses\":[{\"response_put\":{}},"
                "{\"response_put\":{}}]}", 7, -1, 0, 0, NULL);
}


typedef struct {
    int64_t                have, applied;
    sd_etcd_event_type_e   type;
    int64_t                rev;
    int                    from_watch;
    sd_etcd_apply_e        want;
} apply_case_t;


static void
test_apply(void **state)
{
    size_t                     i;
    static const apply_case_t  cases[] = {
        /* nothing cached: a put applies, a delete leaves a tombstone */
        { 0, 0, SD_ETCD_EVENT_PUT, 5, 1, SD_ETCD_APPLY_PUT },
        { 0, 0, SD_ETCD_EVENT_DELETE, 5, 1, SD_ETCD_APPLY_DELETE },
        /* newer than the row: applies */
        { 5, 5, SD_ETCD_EVENT_PUT, 6, 1, SD_ETCD_APPLY_PUT },
        /* the row was written from the Txn's answer at 9: the watch's
         * event of the same change (9), or of an older one, moves nothing */
        { 9, 6, SD_ETCD_EVENT_PUT, 9, 1, SD_ETCD_SKIP },
        { 9, 6, SD_ETCD_EVENT_PUT, 7, 1, SD_ETCD_SKIP },
        { 9, 6, SD_ETCD_EVENT_DELETE, 8, 1, SD_ETCD_SKIP },
        /* a tombstone at 10: a late put at 9 does not bring the row back */
        { 10, 6, SD_ETCD_EVENT_PUT, 9, 0, SD_ETCD_SKIP },
        { 10, 6, SD_ETCD_EVENT_PUT, 11, 1, SD_ETCD_APPLY_PUT },
        /* the tombstone went once the watch passed 10 (below): a Txn
         * answer at 9 that arrives later still does not apply */
        { 0, 12, SD_ETCD_EVENT_PUT, 9, 0, SD_ETCD_SKIP },
        { 0, 12, SD_ETCD_EVENT_PUT, 13, 0, SD_ETCD_APPLY_PUT },
        { 0, 0, SD_ETCD_EVENT_PUT, 0, 1, SD_ETCD_SKIP },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (sd_etcd_apply(cases[i].have, cases[i].applied, cases[i].type,
                          cases[i].rev, cases[i].from_watch)
            != cases[i].want)
        {
            fail_msg("case %zu: have %lld applied %lld rev %lld", i,
                     (long long) cases[i].have, (long long) cases[i].applied,
                     (long long) cases[i].rev);
        }
    }

    assert_true(sd_etcd_tombstone_done(10, 10));
    assert_false(sd_etcd_tombstone_done(10, 9));
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_claim_keys),
        cmocka_unit_test(test_row_keys),
        cmocka_unit_test(test_range_end),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_claim_txn_domain),
        cmocka_unit_test(test_claim_txn_address),
        cmocka_unit_test(test_claim_txn_limits),
        cmocka_unit_test(test_claim_verdicts),
        cmocka_unit_test(test_claim_limit),
        cmocka_unit_test(test_claim_nested_txn),
        cmocka_unit_test(test_takeover),
        cmocka_unit_test(test_takeover_events),
        cmocka_unit_test(test_takeover_spelling),
        cmocka_unit_test(test_legacy_txns),
        cmocka_unit_test(test_parse_txn),
        cmocka_unit_test(test_parse_watch),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_node_names),
        cmocka_unit_test(test_lease),
        cmocka_unit_test(test_leader_txn),
        cmocka_unit_test(test_leader_verdict),
    };

    (void) argc;
    (void) argv;

    return cmocka_run_group_tests(tests, NULL, NULL);
}
