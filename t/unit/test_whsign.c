/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests: Standard Webhooks signatures
 * (src/core/sd_whsign.c).  The expected signatures come
 * from the reference implementation (t/webhooks/vectors.mjs, npm
 * "standardwebhooks"); the first is the specification's own example.
 *
 * With SD_WHSIGN_PRINT=1 in the environment the binary instead signs a
 * few bodies and prints them as JSON lines, which t/webhooks/crosscheck.mjs
 * verifies with the reference implementation's Webhook.verify().
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sd_whsign.h"


typedef struct {
    const char  *secret;
    const char  *id;
    int64_t      ts;
    const char  *body;
    const char  *sig;
} vector_t;


static const vector_t  vectors[] = {
    /* produced by t/webhooks/vectors.mjs */
    { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}",
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
    { "whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw==", "evt_1", 1796515200, "{\"type\":\"identity.verified\",\"workspace\":\"acme\"}",
      "v1,xhZZHsS7yTIRrALpvv+2ruoNKw/UBSgLnOrG1kn3RuY=" },
    { "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3", "evt_2", 0, "",
      "v1,ieyjI3sN3fr8EUA8mbFjFOoA5Bft7UMd4YbONLWvTp4=" },
};


static void
test_reference_vectors(void **state)
{
    int               n;
    char              sig[SD_WHSIGN_SIG_LEN + 1];
    size_t            i;
    const char       *err;
    sd_whsign_key_t   key;

    (void) state;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        err = NULL;
        assert_int_equal(sd_whsign_key(vectors[i].secret,
                                       strlen(vectors[i].secret), &key, &err),
                         0);

        n = sd_whsign_sign(&key, vectors[i].id, strlen(vectors[i].id),
                           vectors[i].ts, vectors[i].body,
                           strlen(vectors[i].body), sig, sizeof(sig));

        assert_int_equal(n, SD_WHSIGN_SIG_LEN);
        assert_string_equal(sig, vectors[i].sig);
    }
}


static void
test_secret_file_text(void **state)
{
    const char       *err;
    sd_whsign_key_t   key;

    (void) state;

    /* a secret file's trailing line feed and spaces */
    assert_int_equal(sd_whsign_key("  whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
                                   41, &key, &err), 0);
    assert_int_equal(key.len, 24);

    /* refused, with a sentence */
    err = NULL;
    assert_int_equal(sd_whsign_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 32,
                                   &key, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, "whsec_"));

    assert_int_equal(sd_whsign_key("whsec_c2hvcnQ=", 14, &key, &err), -1);
    assert_int_equal(sd_whsign_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", 38,
                                   &key, &err), -1);
    assert_int_equal(sd_whsign_key("whsec_", 6, &key, &err), -1);
}


static void
test_small_buffer(void **state)
{
    char              sig[SD_WHSIGN_SIG_LEN];
    const char       *err;
    sd_whsign_key_t   key;

    (void) state;

    assert_int_equal(sd_whsign_key(vectors[0].secret,
                                   strlen(vectors[0].secret), &key, &err), 0);
    assert_int_equal(sd_whsign_sign(&key, "a", 1, 1, "b", 1, sig,
                                    sizeof(sig)), -1);
}


/* signatures for t/webhooks/crosscheck.mjs to verify */
static int
print_signed(void)
{
    static const char  *secret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3";
    static const char  *bodies[] = {
        "{\"type\":\"identity.added\",\"identity\":{\"identity\":\"acme.com\"}}",
        "{\"a\":\"\\u00e9 \\\"quoted\\\" \\\\ slash\"}",
        "[]",
    };

    char              sig[SD_WHSIGN_SIG_LEN + 1], id[32];
    size_t            i;
    const char       *err;
    sd_whsign_key_t   key;

    if (sd_whsign_key(secret, strlen(secret), &key, &err) != 0) {
        return 1;
    }

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        snprintf(id, sizeof(id), "evt_%zu", i);

        if (sd_whsign_sign(&key, id, strlen(id), 1796515200 + (int64_t) i,
                           bodies[i], strlen(bodies[i]), sig, sizeof(sig))
            < 0)
        {
            return 1;
        }

        /* the bodies hold no character JSON needs escaped but " and \ */
        printf("{\"secret\":\"%s\",\"id\":\"%s\",\"timestamp\":%lld,"
               "\"signature\":\"%s\",\"body\":\"", secret, id,
               (long long) (1796515200 + (int64_t) i), sig);

        for (const char *p = bodies[i]; *p; p++) {
            if (*p == '"' || *p == '\\') {
                putchar('\\');
            }
            putchar(*p);
        }

        printf("\"}\n");
    }

    return 0;
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_secret_file_text),
        cmocka_unit_test(test_small_buffer),
    };

    if (getenv("SD_WHSIGN_PRINT")) {
        return print_signed();
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
