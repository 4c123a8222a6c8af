/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Fuzz target: AWS Signature Version 4 over SES-controlled and
 * caller-controlled text (src/core/sd_sigv4.c).
 *
 * Not a parser of a document, but the signer re-parses what goes on the
 * wire: the path (normalised, encoded again), the query (split, decoded,
 * re-encoded, sorted) and header values (trimmed, folded).  Two of them
 * carry outside input: the NextToken that SES returned, sent back as
 * "PageSize=1000&NextToken=<token>", and the identity in the path.
 *
 * Input: [mode] [path length] [query length] [token length] [header value
 * length] [path] [query] [token] [header value] [body].
 *
 * Properties: sd_sigv4_authorization() and the canonical request either
 * succeed with NUL-terminated text of the returned length or fail with
 * EINVAL (never a crash); a NextToken sent the way ngx_http_sender_
 * domains_ses.c sends it (sd_sigv4_uri_encode, strict) is signed exactly
 * as it is on the wire, so SES computes the same signature; the
 * Authorization value has the documented shape.
 */

#include "fuzz_common.h"

#include "sd_sigv4.h"


#define FZ_AUTHZ_START                                                     \
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ses/"      \
    "aws4_request, SignedHeaders="


static void
fz_sign(sd_sigv4_request_t *req, const char *expect_query, size_t eq_len)
{
    char          *creq, *authz, *q, *nl;
    size_t         creq_len, authz_len;
    sd_sigv4_rc_e  rc;

    creq = NULL;
    rc = sd_sigv4_canonical_request(req, &creq, &creq_len);

    if (rc != SD_SIGV4_OK) {
        FZ_CHECK(rc == SD_SIGV4_EINVAL && creq == NULL);
        return;
    }

    /* header values are copied as they are, NUL bytes included */
    FZ_CHECK(creq[creq_len] == '\0');

    if (expect_query != NULL) {
        /* method \n uri \n query \n ... */
        q = strchr(creq, '\n');
        FZ_CHECK(q != NULL);
        q = strchr(q + 1, '\n');
        FZ_CHECK(q != NULL);
        q++;
        nl = strchr(q, '\n');
        FZ_CHECK(nl != NULL);
        FZ_CHECK((size_t) (nl - q) == eq_len
                 && memcmp(q, expect_query, eq_len) == 0);
    }

    sd_sigv4_free(creq);

    authz = NULL;
    rc = sd_sigv4_authorization(req, &authz, &authz_len);
    FZ_CHECK(rc == SD_SIGV4_OK);
    FZ_CHECK(strlen(authz) == authz_len);
    FZ_CHECK(strncmp(authz, FZ_AUTHZ_START, sizeof(FZ_AUTHZ_START) - 1)
             == 0);
    FZ_CHECK(authz_len > 64 && memcmp(authz + authz_len - 64 - 10,
                                      "Signature=", 10) == 0);
    FZ_CHECK(!fz_has_ctl((unsigned char *) authz, authz_len));

    sd_sigv4_free(authz);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t                fz = { data, size };
    char               *path, *query, *token, *hval, *body, *wire, *p;
    char               *expect;
    size_t              plen, qlen, tlen, hlen, blen, n;
    uint8_t             mode;
    sd_sigv4_header_t   h[4];
    sd_sigv4_request_t  req;

    mode = fz_u8(&fz);
    plen = fz_u8(&fz);
    qlen = fz_u8(&fz);
    tlen = fz_u8(&fz);
    hlen = fz_u8(&fz);
    path = fz_take(&fz, plen, &plen);
    query = fz_take(&fz, qlen, &qlen);
    token = fz_take(&fz, tlen, &tlen);
    hval = fz_take(&fz, hlen, &hlen);
    body = fz_rest(&fz, &blen);

    h[0].name = "Host";
    h[0].name_len = 4;
    h[0].value = "email.us-east-1.amazonaws.com";
    h[0].value_len = strlen(h[0].value);
    h[1].name = "X-Amz-Date";
    h[1].name_len = 10;
    h[1].value = "20150830T123600Z";
    h[1].value_len = 16;
    h[2].name = "Content-Type";
    h[2].name_len = 12;
    h[2].value = hval;
    h[2].value_len = hlen;
    h[3].name = "content-type";           /* a duplicate: joined with ',' */
    h[3].name_len = 12;
    h[3].value = hval;
    h[3].value_len = hlen;

    memset(&req, 0, sizeof(req));
    req.method = (mode & 1) ? "POST" : "GET";
    req.path = path;
    req.path_len = plen;
    req.query = query;
    req.query_len = qlen;
    req.headers = h;
    req.nheaders = (mode & 2) ? 4 : 3;
    req.body = (const unsigned char *) body;
    req.body_len = blen;
    req.payload_hash = (mode & 4) ? "UNSIGNED-PAYLOAD" : NULL;
    req.access_key = "AKIDEXAMPLE";
    req.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    req.session_token = (mode & 8) ? "FwoGZXIvYXdzEJr" : NULL;
    req.region = "us-east-1";
    req.service = "ses";
    req.amz_date = "20150830T123600Z";
    req.double_encode_path = !(mode & 16);
    req.normalize_path = !(mode & 32);

    /* 1. whatever the caller passes */
    fz_sign(&req, NULL, 0);

    /* 2. ListEmailIdentities with SES's NextToken, as ses.c sends it */
    n = sd_sigv4_uri_encode(NULL, token, tlen, 0);
    FZ_CHECK(n >= tlen && n <= 3 * tlen);

    wire = malloc(sizeof("PageSize=1000&NextToken=") + n);
    p = wire;
    memcpy(p, "PageSize=1000", 13);
    p += 13;

    if (tlen) {
        memcpy(p, "&NextToken=", 11);
        p += 11;
        FZ_CHECK(sd_sigv4_uri_encode(p, token, tlen, 0) == n);
        p += n;
    }

    expect = malloc(sizeof("NextToken=&PageSize=1000") + n);

    if (tlen) {
        memcpy(expect, "NextToken=", 10);
        memcpy(expect + 10, wire + 24, n);
        memcpy(expect + 10 + n, "&PageSize=1000", 14);
        n += 24;

    } else {
        memcpy(expect, "PageSize=1000", 13);
        n = 13;
    }

    req.method = "GET";
    req.path = "/v2/email/identities";
    req.path_len = 20;
    req.query = wire;
    req.query_len = (size_t) (p - wire);
    req.double_encode_path = 1;
    req.normalize_path = 1;
    fz_sign(&req, expect, n);

    /* 3. an identity in the path, encoded as ses.c encodes it */
    free(wire);
    n = sd_sigv4_uri_encode(NULL, token, tlen, 0);
    wire = malloc(21 + n);
    memcpy(wire, "/v2/email/identities/", 21);
    sd_sigv4_uri_encode(wire + 21, token, tlen, 0);
    req.path = wire;
    req.path_len = 21 + n;
    req.query = NULL;
    req.query_len = 0;
    fz_sign(&req, NULL, 0);

    free(expect);
    free(wire);
    free(path);
    free(query);
    free(token);
    free(hval);
    free(body);

    return 0;
}
