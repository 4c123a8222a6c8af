/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests for the SigV4 signer (src/core/sd_sigv4.c).
 *
 * Build and run from the repository root:
 *
 *   cc -Wall -Wextra -Werror -std=c99 -D_POSIX_C_SOURCE=200809L -Isrc \
 *       t/unit/test_sigv4.c src/core/sd_sigv4.c \
 *       -lcrypto -lcmocka -o /tmp/test_sigv4
 *   /tmp/test_sigv4 [SUITE_DIR]
 *   valgrind --leak-check=full --error-exitcode=1 /tmp/test_sigv4
 *
 * SUITE_DIR is the AWS SigV4 test suite (one folder per case holding
 * <case>.req, .creq, .sts, .authz).  Without the argument the environment
 * variable SD_SIGV4_SUITE is used, then t/unit/sigv4-testsuite (run from
 * the repository root) and sigv4-testsuite (run from t/unit): the suite is
 * kept in the repository (Apache 2.0, its LICENSE and NOTICE beside it).
 * A missing suite is a failure, never a silent skip.
 *
 * Every case folder becomes one cmocka test that checks
 * request -> canonical request (.creq) -> string to sign (.sts) ->
 * Authorization (.authz); a mismatch prints a line diff of that stage.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sd_sigv4.h"


#define T_ACCESS_KEY    "AKIDEXAMPLE"
#define T_SECRET_KEY    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T_AMZ_DATE      "20150830T123600Z"
#define T_REGION        "us-east-1"
#define T_SERVICE       "service"
#define T_SIGNING_KEY   \
    "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75"
#define T_EMPTY_SHA256  \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#define T_MAX_HEADERS   64


typedef struct {
    char                name[256];
    char                dir[PATH_MAX];
} t_case_t;


/* a parsed .req; names and values point into buf or into owned copies */
typedef struct {
    char               *buf;
    char               *method;
    char               *path;
    size_t              path_len;
    char               *query;
    size_t              query_len;
    sd_sigv4_header_t   headers[T_MAX_HEADERS];
    char               *owned[T_MAX_HEADERS];  /* unfolded values */
    size_t              nheaders;
    const char         *body;
    size_t              body_len;
} t_http_req_t;


/*
 * The suite's per-case inputs that are not in the .req file: the
 * session-token case signs a token passed as a credential (botocore adds
 * the header itself), see the suite's README.
 */
static const struct {
    const char  *name;
    const char  *token;
} t_case_tokens[] = {
    { "get-vanilla-with-session-token",
      "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267" },
};


static char *
t_read_file(const char *dir, const char *name, const char *ext,
    size_t *len)
{
    char    path[PATH_MAX + 300];
    char   *buf;
    long    size;
    FILE   *f;

    snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);

    f = fopen(path, "rb");
    if (f == NULL) {
        print_error("cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    buf = malloc((size_t) size + 1);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }

    if (fread(buf, 1, (size_t) size, f) != (size_t) size) {
        free(buf);
        fclose(f);
        return NULL;
    }

    fclose(f);

    buf[size] = '\0';
    *len = (size_t) size;

    return buf;
}


/* the next line of [*p, end): returns its start, sets its length */
static char *
t_next_line(char **p, char *end, size_t *len)
{
    char  *line, *nl;

    line = *p;
    nl = memchr(line, '\n', (size_t) (end - line));

    if (nl == NULL) {
        *len = (size_t) (end - line);
        *p = end;

    } else {
        *len = (size_t) (nl - line);
        *p = nl + 1;
    }

    if (*len > 0 && line[*len - 1] == '\r') {
        (*len)--;
    }

    return line;
}


/* appends " " and a continuation line to the last header's value */
static int
t_unfold(t_http_req_t *r, const char *line, size_t len)
{
    char               *v;
    size_t              i;
    sd_sigv4_header_t  *h;

    if (r->nheaders == 0) {
        return -1;
    }

    i = r->nheaders - 1;
    h = &r->headers[i];

    while (len > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }

    v = malloc(h->value_len + 1 + len);
    if (v == NULL) {
        return -1;
    }

    memcpy(v, h->value, h->value_len);
    v[h->value_len] = ' ';
    memcpy(v + h->value_len + 1, line, len);

    free(r->owned[i]);
    r->owned[i] = v;
    h->value = v;
    h->value_len += 1 + len;

    return 0;
}


/*
 * "METHOD TARGET HTTP/1.1", where the target may hold a space (get-space),
 * so it ends at the last space; then headers with continuation lines, a
 * blank line and the body.
 */
static int
t_parse_req(t_http_req_t *r, char *buf, size_t size)
{
    char    *p, *end, *line, *sp1, *sp2, *colon, *q;
    size_t   len;

    memset(r, 0, sizeof(*r));
    r->buf = buf;

    p = buf;
    end = buf + size;

    line = t_next_line(&p, end, &len);
    line[len] = '\0';

    sp1 = strchr(line, ' ');
    sp2 = strrchr(line, ' ');

    if (sp1 == NULL || sp2 == sp1 || strcmp(sp2 + 1, "HTTP/1.1") != 0) {
        print_error("bad request line: %s\n", line);
        return -1;
    }

    *sp1 = '\0';
    *sp2 = '\0';
    r->method = line;
    r->path = sp1 + 1;

    q = strchr(r->path, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
        r->query_len = strlen(r->query);
    }

    r->path_len = strlen(r->path);

    while (p < end) {
        line = t_next_line(&p, end, &len);

        if (len == 0) {
            break;                              /* the blank line */
        }

        if (line[0] == ' ' || line[0] == '\t') {
            if (t_unfold(r, line, len) != 0) {
                return -1;
            }

            continue;
        }

        colon = memchr(line, ':', len);

        if (colon == NULL || r->nheaders == T_MAX_HEADERS) {
            print_error("bad header line: %.*s\n", (int) len, line);
            return -1;
        }

        r->headers[r->nheaders].name = line;
        r->headers[r->nheaders].name_len = (size_t) (colon - line);
        r->headers[r->nheaders].value = colon + 1;
        r->headers[r->nheaders].value_len = len - (size_t) (colon + 1 - line);
        r->nheaders++;
    }

    r->body = p;
    r->body_len = (size_t) (end - p);

    return 0;
}


static void
t_free_req(t_http_req_t *r)
{
    size_t  i;

    for (i = 0; i < T_MAX_HEADERS; i++) {
        free(r->owned[i]);
    }

    free(r->buf);
}


/* prints a minimal line-by-line diff between two texts */
static void
t_print_diff(const char *exp, size_t exp_len, const char *act,
    size_t act_len)
{
    size_t       el, al;
    const char  *e, *a, *ee, *ae, *en, *an;

    e = exp;
    a = act;
    ee = exp + exp_len;
    ae = act + act_len;

    print_error("--- expected\n+++ actual\n");

    while (e < ee || a < ae) {
        en = e < ee ? memchr(e, '\n', (size_t) (ee - e)) : NULL;
        an = a < ae ? memchr(a, '\n', (size_t) (ae - a)) : NULL;
        el = e < ee ? (size_t) ((en ? en : ee) - e) : 0;
        al = a < ae ? (size_t) ((an ? an : ae) - a) : 0;

        if (e < ee && a < ae && el == al && memcmp(e, a, el) == 0) {
            print_error(" %.*s\n", (int) el, e);

        } else {
            if (e < ee) {
                print_error("-%.*s\n", (int) el, e);
            }

            if (a < ae) {
                print_error("+%.*s\n", (int) al, a);
            }
        }

        e = e < ee ? (en ? en + 1 : ee) : ee;
        a = a < ae ? (an ? an + 1 : ae) : ae;
    }

    if (exp_len > 0 && act_len > 0
        && (exp[exp_len - 1] == '\n') != (act[act_len - 1] == '\n'))
    {
        print_error("(trailing newline differs)\n");
    }
}


/* 0 if equal; otherwise prints the case, the stage and a diff */
static int
t_check(const char *name, const char *stage, const char *exp, size_t exp_len,
    const char *act, size_t act_len)
{
    if (act == NULL) {
        print_error("[%s] %s: not produced\n", name, stage);
        return 1;
    }

    if (exp_len == act_len && memcmp(exp, act, exp_len) == 0) {
        return 0;
    }

    print_error("[%s] %s differs:\n", name, stage);
    t_print_diff(exp, exp_len, act, act_len);

    return 1;
}


static void
t_suite_request(sd_sigv4_request_t *req, const t_http_req_t *r,
    const char *name)
{
    size_t  i;

    memset(req, 0, sizeof(*req));

    req->method = r->method;
    req->path = r->path;
    req->path_len = r->path_len;
    req->query = r->query;
    req->query_len = r->query_len;
    req->headers = r->headers;
    req->nheaders = r->nheaders;
    req->body = (const unsigned char *) r->body;
    req->body_len = r->body_len;
    req->access_key = T_ACCESS_KEY;
    req->secret_key = T_SECRET_KEY;
    req->region = T_REGION;
    req->service = T_SERVICE;
    req->amz_date = T_AMZ_DATE;
    req->double_encode_path = 1;
    req->normalize_path = 1;

    for (i = 0; i < sizeof(t_case_tokens) / sizeof(t_case_tokens[0]); i++) {
        if (strcmp(name, t_case_tokens[i].name) == 0) {
            req->session_token = t_case_tokens[i].token;
        }
    }
}


/*
 * Runs one request through every stage and compares each with the
 * expected text; returns the number of mismatching stages.
 */
static int
t_run_chain(const char *name, const sd_sigv4_request_t *req,
    const char *creq_exp, size_t creq_exp_len,
    const char *sts_exp, size_t sts_exp_len,
    const char *authz_exp, size_t authz_exp_len)
{
    int             failed;
    char           *creq, *sts, *authz;
    char            sig[SD_SHA256_HEX_LEN + 1];
    size_t          creq_len, sts_len, authz_len;
    sd_sigv4_rc_e   rc;
    unsigned char   key[SD_SHA256_LEN];

    failed = 0;
    creq = NULL;
    sts = NULL;
    authz = NULL;
    creq_len = 0;
    sts_len = 0;
    authz_len = 0;

    rc = sd_sigv4_canonical_request(req, &creq, &creq_len);
    if (rc != SD_SIGV4_OK) {
        print_error("[%s] canonical request: %s\n", name,
                    sd_sigv4_strerror(rc));
    }

    if (creq_exp) {
        failed += t_check(name, "canonical request", creq_exp, creq_exp_len,
                          creq, creq_len);
    }

    /* the string to sign is checked from the expected canonical request */
    if (creq_exp) {
        rc = sd_sigv4_string_to_sign(req, creq_exp, creq_exp_len, &sts,
                                     &sts_len);

    } else if (creq) {
        rc = sd_sigv4_string_to_sign(req, creq, creq_len, &sts, &sts_len);
    }

    if (rc != SD_SIGV4_OK) {
        print_error("[%s] string to sign: %s\n", name, sd_sigv4_strerror(rc));
    }

    if (sts_exp) {
        failed += t_check(name, "string to sign", sts_exp, sts_exp_len,
                          sts, sts_len);
    }

    if (sd_sigv4_signing_key(req->secret_key, req->amz_date, req->region,
                             req->service, key) != SD_SIGV4_OK
        || sd_sigv4_signature(key, sts_exp ? sts_exp : (sts ? sts : ""),
                              sts_exp ? sts_exp_len : sts_len, sig)
           != SD_SIGV4_OK)
    {
        print_error("[%s] signature: failed\n", name);
        failed++;

    } else if (strstr(authz_exp, sig) == NULL) {
        print_error("[%s] signature %s not in the expected %s\n", name, sig,
                    authz_exp);
        failed++;
    }

    rc = sd_sigv4_authorization(req, &authz, &authz_len);
    if (rc != SD_SIGV4_OK) {
        print_error("[%s] authorization: %s\n", name, sd_sigv4_strerror(rc));
    }

    failed += t_check(name, "Authorization", authz_exp, authz_exp_len,
                      authz, authz_len);

    sd_sigv4_free(creq);
    sd_sigv4_free(sts);
    sd_sigv4_free(authz);

    return failed;
}


static void
test_suite_case(void **state)
{
    int                  failed;
    char                *raw, *creq, *sts, *authz;
    size_t               raw_len, creq_len, sts_len, authz_len;
    t_case_t            *c;
    t_http_req_t         r;
    sd_sigv4_request_t   req;

    c = *state;

    raw = t_read_file(c->dir, c->name, "req", &raw_len);
    creq = t_read_file(c->dir, c->name, "creq", &creq_len);
    sts = t_read_file(c->dir, c->name, "sts", &sts_len);
    authz = t_read_file(c->dir, c->name, "authz", &authz_len);

    if (raw == NULL || creq == NULL || sts == NULL || authz == NULL) {
        free(raw);
        free(creq);
        free(sts);
        free(authz);
        fail_msg("[%s] incomplete case folder %s", c->name, c->dir);
        return;
    }

    if (t_parse_req(&r, raw, raw_len) != 0) {
        t_free_req(&r);
        free(creq);
        free(sts);
        free(authz);
        fail_msg("[%s] cannot parse %s.req", c->name, c->name);
        return;
    }

    t_suite_request(&req, &r, c->name);

    failed = t_run_chain(c->name, &req, creq, creq_len, sts, sts_len,
                         authz, authz_len);

    t_free_req(&r);
    free(creq);
    free(sts);
    free(authz);

    if (failed) {
        fail_msg("[%s] %d stage(s) differ", c->name, failed);
    }
}


/* ---- derived SES vectors (computed with botocore 1.29.27 from the ----
 * suite's credentials and date, service "ses", us-east-1; not official) */

typedef struct {
    const char  *name;
    const char  *method;
    const char  *path;
    const char  *query;
    const char  *content_type;
    const char  *body;
    const char  *creq;
    const char  *signature;
} t_ses_vector_t;


static const t_ses_vector_t  t_ses_vectors[] = {
    { "ses GetEmailIdentity user+tag@example.com", "GET",
      "/v2/email/identities/user%2Btag%40example.com", "", NULL, "",
      "GET\n/v2/email/identities/user%252Btag%2540example.com\n\n"
      "host:email.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
      "host;x-amz-date\n" T_EMPTY_SHA256,
      "301b1a14b79a3b889240f943f0daba12b92e0e5f73af9df6995d6df8506b1656" },

    { "ses CreateEmailIdentity", "POST", "/v2/email/identities", "",
      "application/json", "{\"EmailIdentity\": \"example.com\"}",
      "POST\n/v2/email/identities\n\ncontent-type:application/json\n"
      "host:email.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
      "content-type;host;x-amz-date\n"
      "57d3d6b0efcc646fb3ac8d8c5b12cf791258034d5dc4704d92a40e6f31aee0a6",
      "300a8c6cd93fcab232feff905095ed0e10b7c4ca1421890ec37dc3229bd61ef4" },

    { "ses PutEmailIdentityMailFromAttributes", "PUT",
      "/v2/email/identities/example.com/mail-from", "", "application/json",
      "{\"MailFromDomain\": \"mail.example.com\", "
      "\"BehaviorOnMxFailure\": \"USE_DEFAULT_VALUE\"}",
      "PUT\n/v2/email/identities/example.com/mail-from\n\n"
      "content-type:application/json\n"
      "host:email.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
      "content-type;host;x-amz-date\n"
      "85c9b850f5e1794a5f6f1dbbcb81907ab06ff4d8c01645eaaa262852217fe5a3",
      "74fdfc9d048dc4c4c3f9fd36eea092df884dae0fa1f8d41a9070221160e67834" },

    { "ses ListEmailIdentities", "GET", "/v2/email/identities",
      "PageSize=100&NextToken=abc%2F%2B%3D", NULL, "",
      "GET\n/v2/email/identities\nNextToken=abc%2F%2B%3D&PageSize=100\n"
      "host:email.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
      "host;x-amz-date\n" T_EMPTY_SHA256,
      "cc89c5649c9219497f45952d05346e7a5da1e08089702cdca40f5f24e75acfea" },

    { "ses v1 VerifyEmailIdentity", "POST", "/", "",
      "application/x-www-form-urlencoded; charset=utf-8",
      "Action=VerifyEmailIdentity&Version=2010-12-01"
      "&EmailAddress=user%40example.com",
      "POST\n/\n\n"
      "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
      "host:email.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
      "content-type;host;x-amz-date\n"
      "088eef5fe3ae4bd387ac92f21bd0d5f827e0c9c239dd74dc2c7a09de8d9987a6",
      "2a065cb1946370855888e819eb8cc0a0cae22927b19668c6d5ea81358af5ef98" },
};


static size_t
t_ses_headers(const t_ses_vector_t *v, sd_sigv4_header_t *h)
{
    size_t  n;

    n = 0;

    /* the order the glue sends them in; the signer sorts */
    h[n].name = "Host";
    h[n].value = "email.us-east-1.amazonaws.com";
    n++;

    h[n].name = "X-Amz-Date";
    h[n].value = T_AMZ_DATE;
    n++;

    if (v->content_type) {
        h[n].name = "Content-Type";
        h[n].value = v->content_type;
        n++;
    }

    for (size_t i = 0; i < n; i++) {
        h[i].name_len = strlen(h[i].name);
        h[i].value_len = strlen(h[i].value);
    }

    return n;
}


static void
test_ses_vector(void **state)
{
    int                     failed;
    char                    sts[256], authz[512];
    const t_ses_vector_t   *v;
    sd_sigv4_header_t       h[3];
    sd_sigv4_request_t      req;

    v = *state;

    memset(&req, 0, sizeof(req));
    req.method = v->method;
    req.path = v->path;
    req.path_len = strlen(v->path);
    req.query = v->query;
    req.query_len = strlen(v->query);
    req.headers = h;
    req.nheaders = t_ses_headers(v, h);
    req.body = (const unsigned char *) v->body;
    req.body_len = strlen(v->body);
    req.access_key = T_ACCESS_KEY;
    req.secret_key = T_SECRET_KEY;
    req.region = T_REGION;
    req.service = "ses";
    req.amz_date = T_AMZ_DATE;
    req.double_encode_path = 1;
    req.normalize_path = 1;

    /* no .sts file: the expected one is rebuilt from the expected creq */
    {
        char  hash[SD_SHA256_HEX_LEN + 1];

        assert_int_equal(sd_sha256_hex(v->creq, strlen(v->creq), hash), 0);
        snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n"
                 "20150830/us-east-1/ses/aws4_request\n%s", T_AMZ_DATE, hash);
    }

    snprintf(authz, sizeof(authz), "AWS4-HMAC-SHA256 Credential="
             T_ACCESS_KEY "/20150830/us-east-1/ses/aws4_request, "
             "SignedHeaders=%s, Signature=%s",
             v->content_type ? "content-type;host;x-amz-date"
                             : "host;x-amz-date",
             v->signature);

    failed = t_run_chain(v->name, &req, v->creq, strlen(v->creq),
                         sts, strlen(sts), authz, strlen(authz));

    if (failed) {
        fail_msg("[%s] %d stage(s) differ", v->name, failed);
    }
}


/* ---- helpers and edge cases ---- */

static void
test_signing_key(void **state)
{
    char           hex[SD_SHA256_HEX_LEN + 1];
    unsigned char  key[SD_SHA256_LEN];

    (void) state;

    assert_int_equal(sd_sigv4_signing_key(T_SECRET_KEY, T_AMZ_DATE,
                                          T_REGION, T_SERVICE, key),
                     SD_SIGV4_OK);

    for (size_t i = 0; i < SD_SHA256_LEN; i++) {
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    }

    assert_string_equal(hex, T_SIGNING_KEY);

    assert_int_equal(sd_sigv4_signing_key("", T_AMZ_DATE, T_REGION,
                                          T_SERVICE, key),
                     SD_SIGV4_EINVAL);
    assert_int_equal(sd_sigv4_signing_key(T_SECRET_KEY, "20150830",
                                          T_REGION, T_SERVICE, key),
                     SD_SIGV4_EINVAL);
    assert_int_equal(sd_sigv4_signing_key(T_SECRET_KEY, T_AMZ_DATE,
                                          "us/east", T_SERVICE, key),
                     SD_SIGV4_EINVAL);
}


static void
test_hashes(void **state)
{
    char           hex[SD_SHA256_HEX_LEN + 1];
    unsigned char  mac[SD_SHA256_LEN];

    (void) state;

    assert_int_equal(sd_sha256_hex("", 0, hex), 0);
    assert_string_equal(hex, T_EMPTY_SHA256);

    assert_int_equal(sd_sha256_hex(NULL, 0, hex), 0);
    assert_string_equal(hex, T_EMPTY_SHA256);

    assert_int_equal(sd_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");

    /* RFC 4231 test case 2 */
    assert_int_equal(sd_hmac_sha256("Jefe", 4,
                                    "what do ya want for nothing?", 28, mac),
                     0);

    for (size_t i = 0; i < SD_SHA256_LEN; i++) {
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    }

    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
                             "5a003f089d2739839dec58b964ec3843");
}


static void
test_amz_date(void **state)
{
    char  d[SD_SIGV4_AMZ_DATE_LEN + 1];

    (void) state;

    assert_int_equal(sd_sigv4_amz_date((time_t) 1440938160, d), 0);
    assert_string_equal(d, T_AMZ_DATE);

    assert_int_equal(sd_sigv4_amz_date((time_t) 0, d), 0);
    assert_string_equal(d, "19700101T000000Z");

    /* a leap day, one second before midnight */
    assert_int_equal(sd_sigv4_amz_date((time_t) 1709251199, d), 0);
    assert_string_equal(d, "20240229T235959Z");
}


static void
test_uri_encode(void **state)
{
    char         buf[64];
    size_t       n;
    const char  *in;

    (void) state;

    in = "a-b._~Z9/ +@%\xe1\x88\xb4";

    n = sd_sigv4_uri_encode(buf, in, strlen(in), 1);
    buf[n] = '\0';
    assert_string_equal(buf, "a-b._~Z9/%20%2B%40%25%E1%88%B4");
    assert_int_equal(sd_sigv4_uri_encode(NULL, in, strlen(in), 1), n);

    n = sd_sigv4_uri_encode(buf, in, strlen(in), 0);
    buf[n] = '\0';
    assert_string_equal(buf, "a-b._~Z9%2F%20%2B%40%25%E1%88%B4");

    assert_int_equal(sd_sigv4_uri_encode(buf, "", 0, 0), 0);
}


/* fills req with a minimal GET so edge cases change one field at a time */
static void
t_min_request(sd_sigv4_request_t *req, sd_sigv4_header_t *h)
{
    h[0].name = "Host";
    h[0].name_len = 4;
    h[0].value = "example.amazonaws.com";
    h[0].value_len = strlen(h[0].value);

    memset(req, 0, sizeof(*req));
    req->method = "GET";
    req->path = "/";
    req->path_len = 1;
    req->headers = h;
    req->nheaders = 1;
    req->access_key = T_ACCESS_KEY;
    req->secret_key = T_SECRET_KEY;
    req->region = T_REGION;
    req->service = T_SERVICE;
    req->amz_date = T_AMZ_DATE;
    req->double_encode_path = 1;
    req->normalize_path = 1;
}


/* the canonical request's line n (0-based), copied into out */
static void
t_creq_line(const sd_sigv4_request_t *req, int n, char *out, size_t size)
{
    char        *creq, *p, *nl;
    size_t       len;

    assert_int_equal(sd_sigv4_canonical_request(req, &creq, NULL),
                     SD_SIGV4_OK);

    p = creq;

    while (n-- > 0) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }

    nl = strchr(p, '\n');
    len = nl ? (size_t) (nl - p) : strlen(p);
    assert_true(len < size);
    memcpy(out, p, len);
    out[len] = '\0';

    sd_sigv4_free(creq);
}


static void
test_query_edges(void **state)
{
    char                line[256];
    sd_sigv4_header_t   h[1];
    sd_sigv4_request_t  req;

    (void) state;

    t_min_request(&req, h);

    /* empty pairs dropped, bare key gets "=", lower-case hex upper-cased */
    req.query = "b&&a=%2f%7e&c=x%zz+y";
    req.query_len = strlen(req.query);
    t_creq_line(&req, 2, line, sizeof(line));
    assert_string_equal(line, "a=%2F~&b=&c=x%25zz%2By");

    /* sorted by key then value, not by the joined "key=value" */
    req.query = "Param-3=1&Param=2&Param=1";
    req.query_len = strlen(req.query);
    t_creq_line(&req, 2, line, sizeof(line));
    assert_string_equal(line, "Param=1&Param=2&Param-3=1");

    /* a trailing '%' is literal */
    req.query = "k=%";
    req.query_len = strlen(req.query);
    t_creq_line(&req, 2, line, sizeof(line));
    assert_string_equal(line, "k=%25");
}


static void
test_path_modes(void **state)
{
    char                line[256];
    sd_sigv4_header_t   h[1];
    sd_sigv4_request_t  req;

    (void) state;

    t_min_request(&req, h);

    req.path = "/a/./b/../c//d%40e/";
    req.path_len = strlen(req.path);
    t_creq_line(&req, 1, line, sizeof(line));
    assert_string_equal(line, "/a/c/d%2540e/");

    /* S3: neither normalised nor encoded again */
    req.normalize_path = 0;
    req.double_encode_path = 0;
    t_creq_line(&req, 1, line, sizeof(line));
    assert_string_equal(line, "/a/./b/../c//d%40e/");

    req.normalize_path = 1;
    req.double_encode_path = 1;

    /* ".." never climbs above the root; "/." loses the dot only */
    req.path = "/../../x/.";
    req.path_len = strlen(req.path);
    t_creq_line(&req, 1, line, sizeof(line));
    assert_string_equal(line, "/x");

    req.path = "";
    req.path_len = 0;
    t_creq_line(&req, 1, line, sizeof(line));
    assert_string_equal(line, "/");
}


static void
test_session_token(void **state)
{
    char                *sh;
    sd_sigv4_header_t    h[2];
    sd_sigv4_request_t   req;

    (void) state;

    t_min_request(&req, h);
    req.session_token = "tok";

    assert_int_equal(sd_sigv4_signed_headers(&req, &sh, NULL), SD_SIGV4_OK);
    assert_string_equal(sh, "host;x-amz-security-token");
    sd_sigv4_free(sh);

    /* an explicit header wins and is not doubled */
    h[1].name = "X-Amz-Security-Token";
    h[1].name_len = strlen(h[1].name);
    h[1].value = "other";
    h[1].value_len = 5;
    req.nheaders = 2;

    assert_int_equal(sd_sigv4_signed_headers(&req, &sh, NULL), SD_SIGV4_OK);
    assert_string_equal(sh, "host;x-amz-security-token");
    sd_sigv4_free(sh);

    {
        char  line[64];

        t_creq_line(&req, 4, line, sizeof(line));
        assert_string_equal(line, "x-amz-security-token:other");
    }

    /* an empty token is no token */
    req.nheaders = 1;
    req.session_token = "";
    assert_int_equal(sd_sigv4_signed_headers(&req, &sh, NULL), SD_SIGV4_OK);
    assert_string_equal(sh, "host");
    sd_sigv4_free(sh);
}


static void
test_payload_hash_override(void **state)
{
    char                line[128];
    sd_sigv4_header_t   h[1];
    sd_sigv4_request_t  req;

    (void) state;

    t_min_request(&req, h);
    req.body = (const unsigned char *) "abc";
    req.body_len = 3;
    t_creq_line(&req, 6, line, sizeof(line));
    assert_string_equal(line, "ba7816bf8f01cfea414140de5dae2223"
                              "b00361a396177a9cb410ff61f20015ad");

    req.payload_hash = "UNSIGNED-PAYLOAD";
    t_creq_line(&req, 6, line, sizeof(line));
    assert_string_equal(line, "UNSIGNED-PAYLOAD");
}


static void
test_invalid_input(void **state)
{
    char                *out;
    sd_sigv4_header_t    h[2];
    sd_sigv4_request_t   req;

    (void) state;

    t_min_request(&req, h);
    req.path = "relative";
    req.path_len = 8;
    assert_int_equal(sd_sigv4_canonical_request(&req, &out, NULL),
                     SD_SIGV4_EINVAL);
    assert_null(out);

    t_min_request(&req, h);
    req.nheaders = 0;
    assert_int_equal(sd_sigv4_canonical_request(&req, &out, NULL),
                     SD_SIGV4_EINVAL);

    t_min_request(&req, h);
    h[1].name = "Bad Name";
    h[1].name_len = 8;
    h[1].value = "v";
    h[1].value_len = 1;
    req.nheaders = 2;
    assert_int_equal(sd_sigv4_canonical_request(&req, &out, NULL),
                     SD_SIGV4_EINVAL);

    t_min_request(&req, h);
    req.amz_date = "2015-08-30T12:36:00Z";
    assert_int_equal(sd_sigv4_authorization(&req, &out, NULL),
                     SD_SIGV4_EINVAL);
    assert_null(out);

    t_min_request(&req, h);
    req.access_key = "";
    assert_int_equal(sd_sigv4_authorization(&req, &out, NULL),
                     SD_SIGV4_EINVAL);

    t_min_request(&req, h);
    req.method = NULL;
    assert_int_equal(sd_sigv4_authorization(&req, &out, NULL),
                     SD_SIGV4_EINVAL);

    assert_string_equal(sd_sigv4_strerror(SD_SIGV4_EINVAL),
                        "invalid signing input");
}


/* ---- suite discovery and main ---- */

static int
t_case_cmp(const void *a, const void *b)
{
    return strcmp(((const t_case_t *) a)->name, ((const t_case_t *) b)->name);
}


static int
t_is_dir(const char *path)
{
    struct stat  st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}


static const char *
t_suite_dir(int argc, char **argv)
{
    size_t       i;
    const char  *env;
    static const char  *candidates[] = {
        "t/unit/sigv4-testsuite",               /* from the repo root */
        "sigv4-testsuite",                      /* from t/unit */
    };

    if (argc > 1) {
        return argv[1];
    }

    env = getenv("SD_SIGV4_SUITE");
    if (env && *env) {
        return env;
    }

    for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        if (t_is_dir(candidates[i])) {
            return candidates[i];
        }
    }

    return candidates[0];
}


/* every sub-folder of the suite is a case; sorted for a stable order */
static t_case_t *
t_load_cases(const char *suite, size_t *count)
{
    DIR            *d;
    size_t          n, cap;
    t_case_t       *cases, *tmp;
    struct dirent  *de;

    d = opendir(suite);
    if (d == NULL) {
        fprintf(stderr, "test_sigv4: cannot open the SigV4 test suite %s: "
                "%s (pass its folder as the first argument)\n", suite,
                strerror(errno));
        return NULL;
    }

    n = 0;
    cap = 0;
    cases = NULL;

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            tmp = realloc(cases, cap * sizeof(t_case_t));
            if (tmp == NULL) {
                free(cases);
                closedir(d);
                return NULL;
            }

            cases = tmp;
        }

        if (strlen(de->d_name) >= sizeof(cases[n].name)) {
            continue;
        }

        snprintf(cases[n].name, sizeof(cases[n].name), "%s", de->d_name);
        snprintf(cases[n].dir, sizeof(cases[n].dir), "%s/%s", suite,
                 de->d_name);

        if (t_is_dir(cases[n].dir)) {
            n++;
        }
    }

    closedir(d);

    if (n == 0) {
        fprintf(stderr, "test_sigv4: no case folders in %s\n", suite);
        free(cases);
        return NULL;
    }

    qsort(cases, n, sizeof(t_case_t), t_case_cmp);

    *count = n;

    return cases;
}


int
main(int argc, char **argv)
{
    int                 rc;
    size_t              i, n, ncases, nses;
    t_case_t           *cases;
    const char         *suite;
    struct CMUnitTest  *tests;
    static const struct CMUnitTest  fixed[] = {
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_amz_date),
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_signing_key),
        cmocka_unit_test(test_query_edges),
        cmocka_unit_test(test_path_modes),
        cmocka_unit_test(test_session_token),
        cmocka_unit_test(test_payload_hash_override),
        cmocka_unit_test(test_invalid_input),
    };

    suite = t_suite_dir(argc, argv);

    cases = t_load_cases(suite, &ncases);
    if (cases == NULL) {
        return 1;
    }

    printf("SigV4 test suite: %s (%zu cases)\n", suite, ncases);

    nses = sizeof(t_ses_vectors) / sizeof(t_ses_vectors[0]);
    n = sizeof(fixed) / sizeof(fixed[0]);

    tests = calloc(n + nses + ncases, sizeof(struct CMUnitTest));
    if (tests == NULL) {
        free(cases);
        return 1;
    }

    memcpy(tests, fixed, sizeof(fixed));

    for (i = 0; i < nses; i++, n++) {
        tests[n].name = t_ses_vectors[i].name;
        tests[n].test_func = test_ses_vector;
        tests[n].initial_state = (void *) &t_ses_vectors[i];
    }

    for (i = 0; i < ncases; i++, n++) {
        tests[n].name = cases[i].name;
        tests[n].test_func = test_suite_case;
        tests[n].initial_state = &cases[i];
    }

    rc = _cmocka_run_group_tests("sigv4", tests, n, NULL, NULL);

    free(tests);
    free(cases);

    return rc;
}
