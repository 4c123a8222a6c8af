/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Unit tests: SES response parsing (src/core/sd_sesparse.c).
 *
 * cc -std=gnu99 -Wall -Wextra -Werror -Isrc t/unit/test_sesparse.c \
 *     src/core/sd_sesparse.c -ljansson -lcmocka \
 *     -o /tmp/test_sesparse && valgrind --leak-check=full \
 *     --error-exitcode=1 /tmp/test_sesparse
 *
 * Samples are what live AWS SES sent (messages, headers and bodies as
 * captured) and what the SESv2 / SESv1 service models define.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sd_sesparse.h"


#define S(s)  (s), (sizeof(s) - 1)


/* live AWS: GetEmailIdentity of an email address */
static const char  live_email_get[] =
    "{\"IdentityType\":\"EMAIL_ADDRESS\",\"FeedbackForwardingStatus\":true,"
    "\"VerifiedForSendingStatus\":false,\"DkimAttributes\":{"
    "\"SigningEnabled\":false,\"Status\":\"NOT_STARTED\","
    "\"SigningAttributesOrigin\":\"AWS_SES\","
    "\"NextSigningKeyLength\":\"RSA_1024_BIT\"},\"MailFromAttributes\":{"
    "\"BehaviorOnMxFailure\":\"USE_DEFAULT_VALUE\"},\"Policies\":{},"
    "\"Tags\":[],\"VerificationStatus\":\"PENDING\","
    "\"VerificationInfo\":{}}";

/* a domain with Easy DKIM, a custom MAIL FROM and VerificationInfo */
static const char  domain_get[] =
    "{\"IdentityType\":\"DOMAIN\",\"FeedbackForwardingStatus\":true,"
    "\"VerifiedForSendingStatus\":true,"
    "\"DkimAttributes\":{\"SigningEnabled\":true,\"Status\":\"SUCCESS\","
    "\"Tokens\":[\"abcdefghijklmnopqrstuvwxyz012345\","
    "\"bcdefghijklmnopqrstuvwxyz0123456\","
    "\"cdefghijklmnopqrstuvwxyz01234567\"],"
    "\"SigningHostedZone\":\"dkim.eu-west-1.amazonses.com\","
    "\"SigningAttributesOrigin\":\"AWS_SES_EU_WEST_1\","
    "\"NextSigningKeyLength\":\"RSA_2048_BIT\","
    "\"CurrentSigningKeyLength\":\"RSA_2048_BIT\","
    "\"LastKeyGenerationTimestamp\":1764151200.125},"
    "\"MailFromAttributes\":{\"MailFromDomain\":\"pmail.acme.com\","
    "\"MailFromDomainStatus\":\"TEMPORARY_FAILURE\","
    "\"BehaviorOnMxFailure\":\"USE_DEFAULT_VALUE\"},"
    "\"Policies\":{},\"Tags\":[{\"Key\":\"ws\",\"Value\":\"42\"}],"
    "\"ConfigurationSetName\":null,"
    "\"VerificationStatus\":\"SUCCESS\","
    "\"VerificationInfo\":{\"LastCheckedTimestamp\":1764151260.734,"
    "\"LastSuccessTimestamp\":1764151200,\"ErrorType\":\"TYPE_NOT_FOUND\","
    "\"SOARecord\":{\"PrimaryNameServer\":\"ns1.acme.com\","
    "\"AdminEmail\":\"hostmaster.acme.com\",\"SerialNumber\":7}},"
    "\"SomeFutureField\":{\"x\":[1,2,3]}}";

static const char  v1_success[] =
    "<VerifyEmailIdentityResponse xmlns=\"http://ses.amazonaws.com/doc/"
    "2010-12-01/\"><VerifyEmailIdentityResult/><ResponseMetadata>"
    "<RequestId>47e0ef1a-9bf2-11e1-9279-0100e8cf109a</RequestId>"
    "</ResponseMetadata></VerifyEmailIdentityResponse>";


/* v2 classification */

typedef struct {
    const char       *type;
    int               http;
    sd_ses_status_e   want;
} error_case_t;

/* the SESv2 model's errors, with their modeled HTTP statuses */
static const error_case_t  v2_errors[] = {
    { "AlreadyExistsException", 400, SD_SES_ALREADY_EXISTS },
    { "NotFoundException", 404, SD_SES_NOT_FOUND },
    { "TooManyRequestsException", 429, SD_SES_THROTTLED },
    { "Throttling", 400, SD_SES_THROTTLED },
    { "ThrottlingException", 400, SD_SES_THROTTLED },
    { "LimitExceededException", 400, SD_SES_LIMIT_EXCEEDED },
    { "BadRequestException", 400, SD_SES_BAD_REQUEST },
    { "ConcurrentModificationException", 500,
      SD_SES_CONCURRENT_MODIFICATION },
    { "InternalServiceErrorException", 500, SD_SES_SERVER_ERROR },
    { "UnrecognizedClientException", 400, SD_SES_ACCESS_DENIED },
    { "InvalidSignatureException", 400, SD_SES_ACCESS_DENIED },
    { "SignatureDoesNotMatch", 400, SD_SES_ACCESS_DENIED },
    { "AccessDeniedException", 400, SD_SES_ACCESS_DENIED },
    { "ExpiredTokenException", 400, SD_SES_ACCESS_DENIED },
    { "AccessDeniedException", 403, SD_SES_ACCESS_DENIED },
    { "SomethingNewException", 400, SD_SES_BAD_REQUEST },
    { "SomethingNewException", 503, SD_SES_SERVER_ERROR },
    { NULL, 0, SD_SES_OK }
};


static void
test_v2_error_forms(void **state)
{
    int                  form;
    char                 body[256];
    sd_ses_result_t      res;
    const error_case_t  *c;

    (void) state;

    for (c = v2_errors; c->type != NULL; c++) {
        for (form = 0; form < 4; form++) {

            switch (form) {

            case 0:     /* header, message in "message" */
                snprintf(body, sizeof(body), "{\"message\":\"m %s\"}",
                         c->type);
                sd_ses_classify(c->http, c->type, strlen(c->type), body,
                                strlen(body), 1, &res);
                break;

            case 1:     /* body __type, with botocore's long form */
                snprintf(body, sizeof(body),
                         "{\"__type\":\"com.amazonaws.ses#%s:http://"
                         "internal.amazon.com/coral/com.amazon.ses/\","
                         "\"Message\":\"m %s\"}", c->type, c->type);
                sd_ses_classify(c->http, NULL, 0, body, strlen(body), 1,
                                &res);
                break;

            case 2:     /* body code */
                snprintf(body, sizeof(body),
                         "{\"code\":\"%s\",\"message\":\"m %s\"}",
                         c->type, c->type);
                sd_ses_classify(c->http, "", 0, body, strlen(body), 1,
                                &res);
                break;

            default:    /* header with the ":http://..." suffix */
                snprintf(body, sizeof(body), "%s:http://internal.amazon."
                         "com/coral/com.amazon.coral.service/", c->type);
                sd_ses_classify(c->http, body, strlen(body),
                                S("{\"message\":\"m x\"}"), 1, &res);
                break;
            }

            if (res.status != c->want) {
                print_error("%s form %d: got %s\n", c->type, form,
                            sd_ses_status_name(res.status));
            }

            assert_int_equal(res.status, c->want);
            assert_int_equal(res.http_status, c->http);
            assert_string_equal(res.error_type, c->type);
            assert_int_equal(res.ses_message, 1);

            if (form < 3) {
                assert_string_equal(res.message + 2, c->type);
            }
        }
    }
}


static void
test_v2_sanitize_type(void **state)
{
    sd_ses_result_t  res;

    (void) state;

    sd_ses_classify(400, S("FooError:http://internal.amazon.com/coral/x/"),
                    S("{}"), 1, &res);
    assert_string_equal(res.error_type, "FooError");
    assert_int_equal(res.status, SD_SES_BAD_REQUEST);

    sd_ses_classify(404, S("aws.protocols#NotFoundException"), S("{}"), 1,
                    &res);
    assert_string_equal(res.error_type, "NotFoundException");
    assert_int_equal(res.status, SD_SES_NOT_FOUND);

    /* '#' after the ':' is part of the URL, not of the name */
    sd_ses_classify(400, S("BadRequestException:http://x/#frag"), S("{}"),
                    1, &res);
    assert_string_equal(res.error_type, "BadRequestException");

    /* the header wins over the body */
    sd_ses_classify(400, S("AlreadyExistsException"),
                    S("{\"__type\":\"BadRequestException\"}"), 1, &res);
    assert_int_equal(res.status, SD_SES_ALREADY_EXISTS);

    /* "code" wins over "__type" (Smithy rest-json1) */
    sd_ses_classify(400, NULL, 0,
                    S("{\"__type\":\"BadRequestException\","
                      "\"code\":\"AlreadyExistsException\"}"), 1, &res);
    assert_int_equal(res.status, SD_SES_ALREADY_EXISTS);

    /* spaces trimmed, odd characters neutralized, length capped */
    sd_ses_classify(400, S("  NotFoundException  "), S("{}"), 1, &res);
    assert_string_equal(res.error_type, "NotFoundException");
    sd_ses_classify(400, S("Bad<script>"), S("{}"), 1, &res);
    assert_string_equal(res.error_type, "Bad_script_");
    sd_ses_classify(400, S("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                    S("{}"), 1, &res);
    assert_int_equal(strlen(res.error_type), SD_SES_ERROR_TYPE_LEN - 1);
    assert_int_equal(res.status, SD_SES_BAD_REQUEST);

    /* a non-string type in the body is no type */
    sd_ses_classify(404, NULL, 0, S("{\"__type\":42}"), 1, &res);
    assert_string_equal(res.error_type, "");
    assert_int_equal(res.status, SD_SES_BAD_REQUEST);
}


static void
test_v2_messages(void **state)
{
    int              i;
    char             body[2048];
    size_t           n;
    sd_ses_result_t  res;

    (void) state;

    /* live AWS: the AlreadyExists message */
    sd_ses_classify(400, S("AlreadyExistsException"),
                    S("{\"message\":\"Email identity example.com already "
                      "exist.\"}"), 1, &res);
    assert_string_equal(res.message,
                        "Email identity example.com already exist.");

    /* {"message":null}: our sentence, flagged as ours */
    sd_ses_classify(404, S("NotFoundException"), S("{\"message\":null}"), 1,
                    &res);
    assert_int_equal(res.status, SD_SES_NOT_FOUND);
    assert_int_equal(res.ses_message, 0);
    assert_string_equal(res.message,
                        "The identity does not exist in Amazon SES.");

    /* null "message" falls back to "Message" */
    sd_ses_classify(400, S("BadRequestException"),
                    S("{\"message\":null,\"Message\":\"Domain x.com is not "
                      "verified for DKIM signing.\"}"), 1, &res);
    assert_string_equal(res.message,
                        "Domain x.com is not verified for DKIM signing.");

    /* empty and whitespace-only messages count as none */
    sd_ses_classify(400, S("BadRequestException"),
                    S("{\"message\":\"  \\t \"}"), 1, &res);
    assert_int_equal(res.ses_message, 0);
    assert_string_equal(res.message, "Amazon SES rejected the request.");

    /* only the first line: AWS appends the canonical request */
    sd_ses_classify(403, S("SignatureDoesNotMatch"),
                    S("{\"message\":\"The request signature we calculated "
                      "does not match.\\n\\nThe Canonical String for this "
                      "request should have been\\n'GET\\n/v2/...'\"}"), 1,
                    &res);
    assert_int_equal(res.status, SD_SES_ACCESS_DENIED);
    assert_string_equal(res.message,
                        "The request signature we calculated does not "
                        "match.");

    /* control characters become spaces, C1 too, edges trimmed */
    sd_ses_classify(400, S("BadRequestException"),
                    S("{\"message\":\"\\ta\\u0007b\\u0085c\\u2028d \"}"),
                    1, &res);
    assert_string_equal(res.message, "a b c d");

    /*
     * truncation never splits a UTF-8 character: "xy" and 2-byte
     * characters reach 510 bytes, and the next one would need 512
     */
    n = (size_t) snprintf(body, sizeof(body), "{\"message\":\"xy");
    for (i = 0; i < 300; i++) {
        memcpy(body + n, "\xc3\xa9", 2);
        n += 2;
    }
    memcpy(body + n, "\"}", 3);
    n += 2;

    sd_ses_classify(400, S("BadRequestException"), body, n, 1, &res);
    assert_int_equal(res.ses_message, 1);
    n = strlen(res.message);
    assert_int_equal(n, SD_SES_MESSAGE_LEN - 2);
    assert_int_equal((unsigned char) res.message[n - 1], 0xa9);
}


static void
test_v2_status_only(void **state)
{
    sd_ses_result_t  res;

    (void) state;

    /* throttling as live AWS sends it */
    sd_ses_classify(429, S("TooManyRequestsException"),
                    S("{\"message\":\"Maximum sending rate exceeded.\"}"), 1,
                    &res);
    assert_int_equal(res.status, SD_SES_THROTTLED);
    assert_string_equal(res.message, "Maximum sending rate exceeded.");

    /* any 429, typed or not */
    sd_ses_classify(429, NULL, 0, NULL, 0, 1, &res);
    assert_int_equal(res.status, SD_SES_THROTTLED);
    assert_int_equal(res.ses_message, 0);
    assert_string_equal(res.message,
                        "Amazon SES is throttling requests; try again "
                        "shortly.");
    sd_ses_classify(429, S("LimitExceededException"), S("{}"), 1, &res);
    assert_int_equal(res.status, SD_SES_THROTTLED);

    /* 500 with garbage, 502 from a proxy: HTML never becomes a message */
    sd_ses_classify(500, NULL, 0, S("<html><body>oops</body></html>"), 1,
                    &res);
    assert_int_equal(res.status, SD_SES_SERVER_ERROR);
    assert_int_equal(res.ses_message, 0);
    sd_ses_classify(502, NULL, 0, S("Bad Gateway"), 1, &res);
    assert_int_equal(res.status, SD_SES_SERVER_ERROR);
    sd_ses_classify(503, NULL, 0, S("{\"message\":\"Service Unavailable\"}"),
                    1, &res);
    assert_int_equal(res.status, SD_SES_SERVER_ERROR);
    assert_string_equal(res.message, "Service Unavailable");

    /* 403 without a body */
    sd_ses_classify(403, NULL, 0, NULL, 0, 1, &res);
    assert_int_equal(res.status, SD_SES_ACCESS_DENIED);

    /* untyped 404 is not "identity not found" */
    sd_ses_classify(404, NULL, 0, S("Not Found"), 1, &res);
    assert_int_equal(res.status, SD_SES_BAD_REQUEST);

    /* a redirect, or no status at all */
    sd_ses_classify(302, NULL, 0, NULL, 0, 1, &res);
    assert_int_equal(res.status, SD_SES_MALFORMED);
    sd_ses_classify(0, NULL, 0, NULL, 0, 1, &res);
    assert_int_equal(res.status, SD_SES_MALFORMED);
}


static void
test_v2_success(void **state)
{
    sd_ses_result_t  res;

    (void) state;

    assert_int_equal(sd_ses_classify(200, NULL, 0, S("{}"), 1, &res),
                     SD_SES_OK);
    assert_string_equal(res.message, "");
    assert_string_equal(res.error_type, "");

    assert_int_equal(sd_ses_classify(200, NULL, 0, live_email_get,
                                     strlen(live_email_get), 1, &res),
                     SD_SES_OK);

    /* a 2xx that should carry an object and does not */
    assert_int_equal(sd_ses_classify(200, NULL, 0, NULL, 0, 1, &res),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_classify(200, NULL, 0, S("[]"), 1, &res),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_classify(200, NULL, 0, S("{\"a\":"), 1, &res),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_classify(200, NULL, 0, S("<html/>"), 1, &res),
                     SD_SES_MALFORMED);
    assert_string_equal(res.message,
                        "Amazon SES sent an answer that could not be read.");

    /* when no body is expected (or the caller parses it), anything goes */
    assert_int_equal(sd_ses_classify(204, NULL, 0, NULL, 0, 0, &res),
                     SD_SES_OK);
    assert_int_equal(sd_ses_classify(200, NULL, 0, S("junk"), 0, &res),
                     SD_SES_OK);

    /* ... but an error's body is still read for its type and message */
    assert_int_equal(sd_ses_classify(404, NULL, 0,
                                     S("{\"__type\":\"NotFoundException\","
                                       "\"message\":\"gone\"}"), 0, &res),
                     SD_SES_NOT_FOUND);
    assert_string_equal(res.error_type, "NotFoundException");
    assert_string_equal(res.message, "gone");
}


static void
test_result_set(void **state)
{
    sd_ses_result_t   res;

    (void) state;

    sd_ses_result_set(&res, SD_SES_TIMEOUT);
    assert_int_equal(res.status, SD_SES_TIMEOUT);
    assert_int_equal(res.http_status, 0);
    assert_string_equal(res.message, "Amazon SES did not answer in time.");

    sd_ses_result_set(&res, SD_SES_CONNECT_FAILED);
    assert_string_equal(res.message, "Amazon SES could not be reached.");

    assert_string_equal(sd_ses_error_code(SD_SES_THROTTLED),
                        "ses_unavailable");
    assert_string_equal(sd_ses_error_code(SD_SES_SERVER_ERROR),
                        "ses_unavailable");
    assert_string_equal(sd_ses_error_code(SD_SES_CONNECT_FAILED),
                        "ses_unavailable");
    assert_string_equal(sd_ses_error_code(SD_SES_CONCURRENT_MODIFICATION),
                        "ses_unavailable");
    assert_string_equal(sd_ses_error_code(SD_SES_TIMEOUT), "ses_timeout");
    assert_string_equal(sd_ses_error_code(SD_SES_BAD_REQUEST), "ses_error");
    assert_string_equal(sd_ses_error_code(SD_SES_LIMIT_EXCEEDED),
                        "ses_error");
    assert_string_equal(sd_ses_error_code(SD_SES_ACCESS_DENIED), "ses_error");
    assert_string_equal(sd_ses_error_code(SD_SES_MALFORMED), "ses_error");
    assert_string_equal(sd_ses_error_code(SD_SES_NOT_FOUND), "ses_error");
    assert_null(sd_ses_error_code(SD_SES_OK));

    assert_true(sd_ses_status_retryable(SD_SES_THROTTLED));
    assert_true(sd_ses_status_retryable(SD_SES_TIMEOUT));
    assert_false(sd_ses_status_retryable(SD_SES_LIMIT_EXCEEDED));
    assert_false(sd_ses_status_retryable(SD_SES_ACCESS_DENIED));
    assert_string_equal(sd_ses_status_name(SD_SES_ACCESS_DENIED),
                        "access_denied");
}


/* v1 Query XML */

static void
test_v1_success(void **state)
{
    sd_ses_result_t  res;

    (void) state;

    assert_int_equal(sd_ses_classify_query_xml(200, S(v1_success), &res),
                     SD_SES_OK);

    assert_int_equal(sd_ses_classify_query_xml(200,
                         S("\xEF\xBB\xBF<?xml version=\"1.0\"?>\n"
                           "<!-- a > comment -->\n"
                           "<ses:VerifyEmailIdentityResponse xmlns:ses=\"x\">"
                           "</ses:VerifyEmailIdentityResponse>"), &res),
                     SD_SES_OK);

    /* 2xx that is not an answer */
    assert_int_equal(sd_ses_classify_query_xml(200, NULL, 0, &res),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_classify_query_xml(200, S("OK"), &res),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_classify_query_xml(200, S("<html><body>"),
                                               &res),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_classify_query_xml(200, S("<Response"), &res),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_classify_query_xml(200, S("{\"ok\":true}"),
                                               &res),
                     SD_SES_MALFORMED);
}


static void
v1_error(int http, const char *code, sd_ses_status_e want)
{
    char             body[512];
    sd_ses_result_t  res;

    snprintf(body, sizeof(body),
             "<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/"
             "2010-12-01/\"><Error><Type>Sender</Type><Code>%s</Code>"
             "<Message>m</Message></Error><RequestId>r</RequestId>"
             "</ErrorResponse>", code);

    sd_ses_classify_query_xml(http, body, strlen(body), &res);

    if (res.status != want) {
        print_error("%s: got %s\n", code, sd_ses_status_name(res.status));
    }

    assert_int_equal(res.status, want);
    assert_string_equal(res.error_type, code);
    assert_string_equal(res.message, "m");
}


static void
test_v1_errors(void **state)
{
    sd_ses_result_t  res;

    (void) state;

    /* SESv1 Query VerifyEmailIdentity: the live sample */
    assert_int_equal(sd_ses_classify_query_xml(400,
        S("<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">"
          "<Error><Type>Sender</Type><Code>Throttling</Code>"
          "<Message>Maximum sending rate exceeded.</Message></Error>"
          "<RequestId>e0abcdfa-0000-11e1-0000-000000000000</RequestId>"
          "</ErrorResponse>"), &res),
        SD_SES_THROTTLED);
    assert_string_equal(res.message, "Maximum sending rate exceeded.");
    assert_string_equal(res.error_type, "Throttling");

    v1_error(400, "Throttling", SD_SES_THROTTLED);
    v1_error(403, "InvalidClientTokenId", SD_SES_ACCESS_DENIED);
    v1_error(403, "MissingAuthenticationToken", SD_SES_ACCESS_DENIED);
    v1_error(400, "SignatureDoesNotMatch", SD_SES_ACCESS_DENIED);
    v1_error(400, "IncompleteSignature", SD_SES_ACCESS_DENIED);
    v1_error(400, "RequestExpired", SD_SES_ACCESS_DENIED);
    v1_error(400, "InvalidParameterValue", SD_SES_BAD_REQUEST);
    v1_error(400, "MissingParameter", SD_SES_BAD_REQUEST);
    v1_error(404, "MalformedQueryString", SD_SES_BAD_REQUEST);
    v1_error(400, "LimitExceeded", SD_SES_LIMIT_EXCEEDED);
    v1_error(500, "InternalFailure", SD_SES_SERVER_ERROR);
    v1_error(503, "ServiceUnavailable", SD_SES_SERVER_ERROR);
    v1_error(400, "SomethingNew", SD_SES_BAD_REQUEST);

    /* an ErrorResponse with status 200 is still an error */
    v1_error(200, "InternalFailure", SD_SES_SERVER_ERROR);

    /* unparseable errors */
    assert_int_equal(sd_ses_classify_query_xml(400, S("garbage"), &res),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_classify_query_xml(400,
                         S("<ErrorResponse><Error><Code>Throttl"), &res),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_classify_query_xml(400,
                         S("<ErrorResponse><Error><Type>Sender</Type>"
                           "</Error></ErrorResponse>"), &res),
                     SD_SES_MALFORMED);

    /* but a status that speaks for itself still counts */
    assert_int_equal(sd_ses_classify_query_xml(503, NULL, 0, &res),
                     SD_SES_SERVER_ERROR);
    assert_int_equal(sd_ses_classify_query_xml(502, S("<html>Bad Gateway"),
                                               &res),
                     SD_SES_SERVER_ERROR);
    assert_int_equal(sd_ses_classify_query_xml(429, S(""), &res),
                     SD_SES_THROTTLED);
    assert_int_equal(sd_ses_classify_query_xml(403, S("Forbidden"), &res),
                     SD_SES_ACCESS_DENIED);
}


static void
test_v1_entities(void **state)
{
    sd_ses_result_t  res;

    (void) state;

    /* live AWS: InvalidParameterValue for this operation */
    sd_ses_classify_query_xml(400,
        S("<ErrorResponse><Error><Type>Sender</Type>"
          "<Code>InvalidParameterValue</Code>"
          "<Message>Invalid email address&lt;STUB&gt;.</Message>"
          "</Error></ErrorResponse>"), &res);
    assert_int_equal(res.status, SD_SES_BAD_REQUEST);
    assert_string_equal(res.message, "Invalid email address<STUB>.");

    /* all five, numeric references, no double decoding, unknown kept */
    sd_ses_classify_query_xml(400,
        S("<ErrorResponse><Error><Code>MissingParameter</Code>"
          "<Message>&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#xe9; &amp;lt; "
          "&nbsp; &#xD800; &#0; &#12x; &</Message>"
          "</Error></ErrorResponse>"), &res);
    assert_string_equal(res.message,
                        "<>&\"' AB\xc3\xa9 &lt; &nbsp; &#xD800; &#0; "
                        "&#12x; &");

    /* CDATA, attributes, a self-closing Type, a control reference */
    sd_ses_classify_query_xml(400,
        S("<ErrorResponse><Error><Type/><Code a=\"1\">Throttling</Code>"
          "<Message><![CDATA[a <b> & c]]>&#10;second line</Message>"
          "</Error></ErrorResponse>"), &res);
    assert_int_equal(res.status, SD_SES_THROTTLED);
    assert_string_equal(res.message, "a <b> & c");

    /* invalid UTF-8 becomes '?' */
    sd_ses_classify_query_xml(400,
        S("<ErrorResponse><Error><Code>Throttling</Code>"
          "<Message>bad \xff\xc3( \xed\xa0\x80 ok \xc3\xa9</Message>"
          "</Error></ErrorResponse>"), &res);
    assert_string_equal(res.message, "bad ?" "?( ?" "?? ok \xc3\xa9");

    /* <ErrorResponse> must not be mistaken for <Error> */
    sd_ses_classify_query_xml(400,
        S("<ErrorResponse x=\"<Code>NotThis</Code>\"><Error>"
          "<Code>Throttling</Code></Error></ErrorResponse>"), &res);
    assert_string_equal(res.error_type, "Throttling");
}


/* identities */

static void
test_identity_live_email(void **state)
{
    sd_ses_identity_t  id;

    (void) state;

    assert_int_equal(sd_ses_parse_identity(S(live_email_get), &id),
                     SD_SES_OK);
    assert_null(id.malformed_field);
    assert_int_equal(id.identity_type, SD_SES_IDENTITY_EMAIL_ADDRESS);
    assert_false(id.verified_for_sending);
    assert_int_equal(id.verification_status, SD_SES_VS_PENDING);
    assert_true(id.dkim.present);
    assert_false(id.dkim.signing_enabled);
    assert_int_equal(id.dkim.status, SD_SES_VS_NOT_STARTED);
    assert_string_equal(sd_ses_dkim_status_name(id.dkim.status), "pending");
    assert_int_equal(id.dkim.ntokens, 0);
    assert_string_equal(id.dkim.signing_origin, "AWS_SES");
    assert_string_equal(id.dkim.signing_hosted_zone, "");

    /* MailFromAttributes with only BehaviorOnMxFailure */
    assert_string_equal(id.mail_from.domain, "");
    assert_int_equal(id.mail_from.status, SD_SES_VS_NONE);
    assert_int_equal(id.mail_from.behavior, SD_SES_MX_USE_DEFAULT_VALUE);
    assert_string_equal(sd_ses_mail_from_status_name(id.mail_from.status),
                        "not_configured");

    /* "VerificationInfo":{} */
    assert_string_equal(id.verification_info.error_type, "");
    assert_int_equal(id.verification_info.last_checked, 0);
    assert_int_equal(id.verification_info.last_success, 0);
}


static void
test_identity_live_create(void **state)
{
    sd_ses_identity_t  id;

    (void) state;

    /* live create of an address: no DkimAttributes at all */
    assert_int_equal(sd_ses_parse_identity(
                         S("{\"IdentityType\":\"EMAIL_ADDRESS\","
                           "\"VerifiedForSendingStatus\":false}"), &id),
                     SD_SES_OK);
    assert_int_equal(id.identity_type, SD_SES_IDENTITY_EMAIL_ADDRESS);
    assert_false(id.dkim.present);
    assert_int_equal(id.dkim.status, SD_SES_VS_NONE);
    assert_int_equal(id.verification_status, SD_SES_VS_NONE);
    assert_int_equal(id.mail_from.status, SD_SES_VS_NONE);
    assert_int_equal(id.mail_from.behavior, SD_SES_MX_NONE);

    /* create of a domain: PENDING with 3 tokens */
    assert_int_equal(sd_ses_parse_identity(
                         S("{\"IdentityType\":\"DOMAIN\","
                           "\"VerifiedForSendingStatus\":false,"
                           "\"DkimAttributes\":{\"SigningEnabled\":true,"
                           "\"Status\":\"PENDING\",\"Tokens\":[\"t1\","
                           "\"t2\",\"t3\"]}}"), &id),
                     SD_SES_OK);
    assert_int_equal(id.identity_type, SD_SES_IDENTITY_DOMAIN);
    assert_int_equal(id.dkim.status, SD_SES_VS_PENDING);
    assert_int_equal(id.dkim.ntokens, 3);
    assert_string_equal(id.dkim.tokens[2], "t3");

    /* the smallest body SES could send */
    assert_int_equal(sd_ses_parse_identity(S("{}"), &id), SD_SES_OK);
    assert_int_equal(id.identity_type, SD_SES_IDENTITY_UNKNOWN);
}


static void
test_identity_domain(void **state)
{
    sd_ses_identity_t  id;

    (void) state;

    assert_int_equal(sd_ses_parse_identity(S(domain_get), &id), SD_SES_OK);
    assert_int_equal(id.identity_type, SD_SES_IDENTITY_DOMAIN);
    assert_true(id.verified_for_sending);
    assert_int_equal(id.verification_status, SD_SES_VS_SUCCESS);

    assert_true(id.dkim.signing_enabled);
    assert_int_equal(id.dkim.status, SD_SES_VS_SUCCESS);
    assert_string_equal(sd_ses_dkim_status_name(id.dkim.status), "verified");
    assert_int_equal(id.dkim.ntokens, 3);
    assert_string_equal(id.dkim.tokens[0],
                        "abcdefghijklmnopqrstuvwxyz012345");
    assert_string_equal(id.dkim.tokens[1],
                        "bcdefghijklmnopqrstuvwxyz0123456");
    assert_string_equal(id.dkim.tokens[2],
                        "cdefghijklmnopqrstuvwxyz01234567");
    assert_string_equal(id.dkim.signing_hosted_zone,
                        "dkim.eu-west-1.amazonses.com");
    assert_string_equal(id.dkim.signing_origin, "AWS_SES_EU_WEST_1");

    assert_string_equal(id.mail_from.domain, "pmail.acme.com");
    assert_int_equal(id.mail_from.status, SD_SES_VS_TEMPORARY_FAILURE);
    assert_string_equal(sd_ses_mail_from_status_name(id.mail_from.status),
                        "pending");
    assert_int_equal(id.mail_from.behavior, SD_SES_MX_USE_DEFAULT_VALUE);

    /* fractional timestamps are floored to whole seconds */
    assert_string_equal(id.verification_info.error_type, "TYPE_NOT_FOUND");
    assert_int_equal(id.verification_info.last_checked, 1764151260);
    assert_int_equal(id.verification_info.last_success, 1764151200);
}


static void
test_identity_tolerant(void **state)
{
    sd_ses_identity_t  id;

    (void) state;

    /* unknown enum values, nulls, v1 spellings, a status-less MAIL FROM */
    assert_int_equal(sd_ses_parse_identity(
                         S("{\"IdentityType\":\"QUANTUM_DOMAIN\","
                           "\"VerifiedForSendingStatus\":null,"
                           "\"VerificationStatus\":\"REVOKED\","
                           "\"DkimAttributes\":{\"Status\":\"Success\","
                           "\"Tokens\":null,\"SigningHostedZone\":null},"
                           "\"MailFromAttributes\":{\"MailFromDomain\":"
                           "\"m.acme.com\",\"BehaviorOnMxFailure\":"
                           "\"RejectMessage\"},"
                           "\"VerificationInfo\":null}"), &id),
                     SD_SES_OK);
    assert_int_equal(id.identity_type, SD_SES_IDENTITY_UNKNOWN);
    assert_false(id.verified_for_sending);
    assert_int_equal(id.verification_status, SD_SES_VS_UNKNOWN);
    assert_int_equal(id.dkim.status, SD_SES_VS_SUCCESS);
    assert_int_equal(id.mail_from.status, SD_SES_VS_PENDING);
    assert_int_equal(id.mail_from.behavior, SD_SES_MX_REJECT_MESSAGE);

    /* an empty MAIL FROM domain is no MAIL FROM, whatever the status */
    assert_int_equal(sd_ses_parse_identity(
                         S("{\"MailFromAttributes\":{\"MailFromDomain\":\"\","
                           "\"MailFromDomainStatus\":\"FAILED\"}}"), &id),
                     SD_SES_OK);
    assert_int_equal(id.mail_from.status, SD_SES_VS_NONE);

    /* more tokens than we keep */
    assert_int_equal(sd_ses_parse_identity(
                         S("{\"DkimAttributes\":{\"Tokens\":[\"a\",\"b\","
                           "\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\","
                           "\"k\",\"l\"]}}"), &id),
                     SD_SES_OK);
    assert_int_equal(id.dkim.ntokens, SD_SES_MAX_DKIM_TOKENS);
    assert_string_equal(id.dkim.tokens[9], "j");

    /* negative time is "never"; an integer time as is */
    assert_int_equal(sd_ses_parse_identity(
                         S("{\"VerificationInfo\":{\"LastCheckedTimestamp\":"
                           "-5,\"LastSuccessTimestamp\":1764151200}}"), &id),
                     SD_SES_OK);
    assert_int_equal(id.verification_info.last_checked, 0);
    assert_int_equal(id.verification_info.last_success, 1764151200);
}


static void
expect_malformed(const char *body, const char *field)
{
    sd_ses_identity_t  id;

    assert_int_equal(sd_ses_parse_identity(body, strlen(body), &id),
                     SD_SES_MALFORMED);
    assert_non_null(id.malformed_field);
    assert_string_equal(id.malformed_field, field);
}


static void
test_identity_malformed(void **state)
{
    (void) state;

    expect_malformed("", "(body)");
    expect_malformed("[]", "(body)");
    expect_malformed("{\"IdentityType\":\"DOMAIN\"", "(body)");
    expect_malformed("{\"IdentityType\":1}", "IdentityType");
    expect_malformed("{\"VerifiedForSendingStatus\":\"false\"}",
                     "VerifiedForSendingStatus");
    expect_malformed("{\"VerificationStatus\":true}", "VerificationStatus");
    expect_malformed("{\"DkimAttributes\":[]}", "DkimAttributes");
    expect_malformed("{\"MailFromAttributes\":\"x\"}", "MailFromAttributes");
    expect_malformed("{\"VerificationInfo\":1}", "VerificationInfo");
    expect_malformed("{\"DkimAttributes\":{\"SigningEnabled\":1}}",
                     "DkimAttributes.SigningEnabled");
    expect_malformed("{\"DkimAttributes\":{\"Status\":{}}}",
                     "DkimAttributes.Status");
    expect_malformed("{\"DkimAttributes\":{\"Tokens\":\"abc\"}}",
                     "DkimAttributes.Tokens");
    expect_malformed("{\"DkimAttributes\":{\"Tokens\":[\"a\",2]}}",
                     "DkimAttributes.Tokens");

    /* tokens become DNS names: one label, plain characters, <= 64 */
    expect_malformed("{\"DkimAttributes\":{\"Tokens\":[\"a.evil.com\"]}}",
                     "DkimAttributes.Tokens");
    expect_malformed("{\"DkimAttributes\":{\"Tokens\":[\"a b\"]}}",
                     "DkimAttributes.Tokens");
    expect_malformed("{\"DkimAttributes\":{\"Tokens\":[\"\"]}}",
                     "DkimAttributes.Tokens");
    expect_malformed("{\"DkimAttributes\":{\"Tokens\":[\"aaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}}",
                     "DkimAttributes.Tokens");
    expect_malformed("{\"DkimAttributes\":{\"SigningHostedZone\":"
                     "\"x.com\\nEvil\"}}",
                     "DkimAttributes.SigningHostedZone");
    expect_malformed("{\"MailFromAttributes\":{\"MailFromDomain\":7}}",
                     "MailFromAttributes.MailFromDomain");
    expect_malformed("{\"MailFromAttributes\":{\"MailFromDomain\":"
                     "\"a\\\"b.com\"}}",
                     "MailFromAttributes.MailFromDomain");
    expect_malformed("{\"MailFromAttributes\":{\"MailFromDomainStatus\":1}}",
                     "MailFromAttributes.MailFromDomainStatus");
    expect_malformed("{\"MailFromAttributes\":{\"BehaviorOnMxFailure\":[]}}",
                     "MailFromAttributes.BehaviorOnMxFailure");
    expect_malformed("{\"VerificationInfo\":{\"ErrorType\":false}}",
                     "VerificationInfo.ErrorType");
    expect_malformed("{\"VerificationInfo\":{\"LastCheckedTimestamp\":"
                     "\"2026-11-26T10:00:00Z\"}}",
                     "VerificationInfo.LastCheckedTimestamp");
    expect_malformed("{\"VerificationInfo\":{\"LastSuccessTimestamp\":"
                     "1764151200000}}",
                     "VerificationInfo.LastSuccessTimestamp");
}


/* Tags: only the claim tag is kept; a list of another shape is malformed */

static void
expect_claim(const char *body, const char *claim)
{
    sd_ses_identity_t  id;

    assert_int_equal(sd_ses_parse_identity(body, strlen(body), &id),
                     SD_SES_OK);
    assert_string_equal(id.claim, claim);
}


static void
test_identity_tags(void **state)
{
    (void) state;

    expect_claim(live_email_get, "");
    expect_claim(domain_get, "");
    expect_claim("{}", "");
    expect_claim("{\"Tags\":null}", "");
    expect_claim("{\"Tags\":[{\"Key\":\"sender-domains:claim\","
                 "\"Value\":\"0123456789abcdef01234567\"}]}",
                 "0123456789abcdef01234567");
    expect_claim("{\"Tags\":[{\"Key\":\"ws\",\"Value\":\"42\"},"
                 "{\"Value\":\"c1\",\"Key\":\"sender-domains:claim\"},"
                 "{\"Key\":\"sender-domains:claim\",\"Value\":\"c2\"}]}",
                 "c1");

    /* not our key: a prefix, a longer key, another case */
    expect_claim("{\"Tags\":[{\"Key\":\"sender-domains:clai\","
                 "\"Value\":\"x\"}]}", "");
    expect_claim("{\"Tags\":[{\"Key\":\"sender-domains:claims\","
                 "\"Value\":\"x\"}]}", "");
    expect_claim("{\"Tags\":[{\"Key\":\"Sender-Domains:Claim\","
                 "\"Value\":\"x\"}]}", "");

    /* a NUL inside a string: the whole answer is refused (jansson) */
    expect_malformed("{\"Tags\":[{\"Key\":\"sender-domains:claim\","
                     "\"Value\":\"ab\\u0000\"}]}", "(body)");

    /* a value no claim of ours can be: empty, too long, control bytes */
    expect_claim("{\"Tags\":[{\"Key\":\"sender-domains:claim\","
                 "\"Value\":\"\"}]}", "");
    expect_claim("{\"Tags\":[{\"Key\":\"sender-domains:claim\",\"Value\":"
                 "\"0123456789012345678901234567890123456789012345678901234567"
                 "890123456789\"}]}", "");
    expect_claim("{\"Tags\":[{\"Key\":\"sender-domains:claim\","
                 "\"Value\":\"ab\\ncd\"}]}", "");

    expect_malformed("{\"Tags\":{}}", "Tags");
    expect_malformed("{\"Tags\":\"sender-domains:claim\"}", "Tags");
    expect_malformed("{\"Tags\":[1]}", "Tags");
    expect_malformed("{\"Tags\":[{\"Key\":\"ws\"}]}", "Tags");
    expect_malformed("{\"Tags\":[{\"Value\":\"x\"}]}", "Tags");
    expect_malformed("{\"Tags\":[{\"Key\":1,\"Value\":\"x\"}]}", "Tags");
    expect_malformed("{\"Tags\":[{\"Key\":\"sender-domains:claim\","
                     "\"Value\":[\"c1\"]}]}", "Tags");
}


static void
test_status_names(void **state)
{
    (void) state;

    assert_string_equal(sd_ses_dkim_status_name(SD_SES_VS_PENDING),
                        "pending");
    assert_string_equal(sd_ses_dkim_status_name(SD_SES_VS_SUCCESS),
                        "verified");
    assert_string_equal(sd_ses_dkim_status_name(SD_SES_VS_FAILED), "failed");
    assert_string_equal(sd_ses_dkim_status_name(SD_SES_VS_TEMPORARY_FAILURE),
                        "pending");
    assert_string_equal(sd_ses_dkim_status_name(SD_SES_VS_NOT_STARTED),
                        "pending");
    assert_string_equal(sd_ses_dkim_status_name(SD_SES_VS_NONE), "pending");
    assert_string_equal(sd_ses_dkim_status_name(SD_SES_VS_UNKNOWN),
                        "pending");

    assert_string_equal(sd_ses_mail_from_status_name(SD_SES_VS_NONE),
                        "not_configured");
    assert_string_equal(sd_ses_mail_from_status_name(SD_SES_VS_PENDING),
                        "pending");
    assert_string_equal(sd_ses_mail_from_status_name(SD_SES_VS_SUCCESS),
                        "verified");
    assert_string_equal(sd_ses_mail_from_status_name(SD_SES_VS_FAILED),
                        "failed");
    assert_string_equal(
        sd_ses_mail_from_status_name(SD_SES_VS_TEMPORARY_FAILURE),
        "pending");
    assert_string_equal(sd_ses_mail_from_status_name(SD_SES_VS_UNKNOWN),
                        "pending");

    assert_string_equal(sd_ses_vstatus_name(SD_SES_VS_TEMPORARY_FAILURE),
                        "TEMPORARY_FAILURE");
    assert_string_equal(sd_ses_vstatus_name(SD_SES_VS_NONE), "NONE");
}


/* ListEmailIdentities */

typedef struct {
    int     calls;
    int     stop_after;
    char    names[8][64];
    int     types[8];
    int     sending[8];
    int     status[8];
} list_ctx_t;


static int
list_cb(void *data, const sd_ses_list_item_t *it)
{
    list_ctx_t  *ctx;

    ctx = data;

    assert_true(ctx->calls < 8);
    assert_true(it->name_len < 64);
    memcpy(ctx->names[ctx->calls], it->name, it->name_len);
    ctx->names[ctx->calls][it->name_len] = '\0';
    ctx->types[ctx->calls] = it->identity_type;
    ctx->sending[ctx->calls] = it->sending_enabled;
    ctx->status[ctx->calls] = it->verification_status;
    ctx->calls++;

    return (ctx->stop_after != 0 && ctx->calls == ctx->stop_after);
}


static void
test_list_pages(void **state)
{
    char        next[64];
    list_ctx_t  ctx;

    (void) state;

    /* page 1: the live item shape, and a NextToken to follow */
    memset(&ctx, 0, sizeof(ctx));
    assert_int_equal(sd_ses_parse_list(
        S("{\"EmailIdentities\":[{\"IdentityType\":\"EMAIL_ADDRESS\","
          "\"IdentityName\":\"reports@acme.com\",\"SendingEnabled\":false,"
          "\"VerificationStatus\":\"PENDING\"},{\"IdentityType\":\"DOMAIN\","
          "\"IdentityName\":\"acme.com\",\"SendingEnabled\":true,"
          "\"VerificationStatus\":\"SUCCESS\",\"New\":1}],"
          "\"NextToken\":\"abc/+=\"}"),
        list_cb, &ctx, next, sizeof(next)), SD_SES_OK);
    assert_int_equal(ctx.calls, 2);
    assert_string_equal(ctx.names[0], "reports@acme.com");
    assert_int_equal(ctx.types[0], SD_SES_IDENTITY_EMAIL_ADDRESS);
    assert_false(ctx.sending[0]);
    assert_int_equal(ctx.status[0], SD_SES_VS_PENDING);
    assert_string_equal(ctx.names[1], "acme.com");
    assert_int_equal(ctx.types[1], SD_SES_IDENTITY_DOMAIN);
    assert_true(ctx.sending[1]);
    assert_int_equal(ctx.status[1], SD_SES_VS_SUCCESS);
    assert_string_equal(next, "abc/+=");

    /* page 2: the last one, no NextToken */
    memset(&ctx, 0, sizeof(ctx));
    strcpy(next, "stale");
    assert_int_equal(sd_ses_parse_list(
        S("{\"EmailIdentities\":[{\"IdentityType\":\"MANAGED_DOMAIN\","
          "\"IdentityName\":\"b.com\"}]}"),
        list_cb, &ctx, next, sizeof(next)), SD_SES_OK);
    assert_int_equal(ctx.calls, 1);
    assert_int_equal(ctx.types[0], SD_SES_IDENTITY_MANAGED_DOMAIN);
    assert_int_equal(ctx.status[0], SD_SES_VS_NONE);
    assert_string_equal(next, "");

    /* null or empty NextToken, no or null list, nameless entries */
    memset(&ctx, 0, sizeof(ctx));
    assert_int_equal(sd_ses_parse_list(
        S("{\"EmailIdentities\":[{\"IdentityType\":\"DOMAIN\"},"
          "{\"IdentityName\":\"\"},{\"IdentityName\":\"c.com\"}],"
          "\"NextToken\":null}"),
        list_cb, &ctx, next, sizeof(next)), SD_SES_OK);
    assert_int_equal(ctx.calls, 1);
    assert_string_equal(ctx.names[0], "c.com");
    assert_string_equal(next, "");

    assert_int_equal(sd_ses_parse_list(S("{\"NextToken\":\"\"}"), list_cb,
                                       &ctx, next, sizeof(next)),
                     SD_SES_OK);
    assert_string_equal(next, "");
    assert_int_equal(sd_ses_parse_list(S("{\"EmailIdentities\":null}"),
                                       list_cb, &ctx, next, sizeof(next)),
                     SD_SES_OK);

    /* the callback may stop the walk; the token is still given */
    memset(&ctx, 0, sizeof(ctx));
    ctx.stop_after = 1;
    assert_int_equal(sd_ses_parse_list(
        S("{\"EmailIdentities\":[{\"IdentityName\":\"a.com\"},"
          "{\"IdentityName\":\"b.com\"}],\"NextToken\":\"t2\"}"),
        list_cb, &ctx, next, sizeof(next)), SD_SES_OK);
    assert_int_equal(ctx.calls, 1);
    assert_string_equal(next, "t2");

    /* no callback, no token buffer: validation only */
    assert_int_equal(sd_ses_parse_list(
        S("{\"EmailIdentities\":[],\"NextToken\":\"t3\"}"), NULL, NULL,
        NULL, 0), SD_SES_OK);
}


static void
test_list_malformed(void **state)
{
    char        next[8];
    list_ctx_t  ctx;

    (void) state;

    memset(&ctx, 0, sizeof(ctx));

    /* a bad entry late in the page: no callback at all */
    assert_int_equal(sd_ses_parse_list(
        S("{\"EmailIdentities\":[{\"IdentityName\":\"a.com\"},"
          "{\"IdentityName\":5}]}"),
        list_cb, &ctx, next, sizeof(next)), SD_SES_MALFORMED);
    assert_int_equal(ctx.calls, 0);

    assert_int_equal(sd_ses_parse_list(
        S("{\"EmailIdentities\":[{\"IdentityName\":\"a.com\","
          "\"SendingEnabled\":\"yes\"}]}"),
        list_cb, &ctx, next, sizeof(next)), SD_SES_MALFORMED);
    assert_int_equal(sd_ses_parse_list(
        S("{\"EmailIdentities\":[{\"IdentityName\":\"a.com\","
          "\"VerificationStatus\":0}]}"),
        list_cb, &ctx, next, sizeof(next)), SD_SES_MALFORMED);
    assert_int_equal(sd_ses_parse_list(
        S("{\"EmailIdentities\":[{\"IdentityName\":\"a\\nb.com\"}]}"),
        list_cb, &ctx, next, sizeof(next)), SD_SES_MALFORMED);
    assert_int_equal(sd_ses_parse_list(S("{\"EmailIdentities\":[\"a.com\"]}"),
                                       list_cb, &ctx, next, sizeof(next)),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_parse_list(S("{\"EmailIdentities\":{}}"),
                                       list_cb, &ctx, next, sizeof(next)),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_parse_list(S("{\"NextToken\":5}"), list_cb,
                                       &ctx, next, sizeof(next)),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_parse_list(S("[]"), list_cb, &ctx, next,
                                       sizeof(next)),
                     SD_SES_MALFORMED);
    assert_int_equal(sd_ses_parse_list(NULL, 0, list_cb, &ctx, next,
                                       sizeof(next)),
                     SD_SES_MALFORMED);

    /* a token that does not fit is refused, never cut */
    assert_int_equal(sd_ses_parse_list(S("{\"NextToken\":\"12345678\"}"),
                                       list_cb, &ctx, next, sizeof(next)),
                     SD_SES_MALFORMED);
    assert_string_equal(next, "");
    assert_int_equal(sd_ses_parse_list(S("{\"NextToken\":\"1234567\"}"),
                                       list_cb, &ctx, next, sizeof(next)),
                     SD_SES_OK);
    assert_string_equal(next, "1234567");

    assert_int_equal(ctx.calls, 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_v2_error_forms),
        cmocka_unit_test(test_v2_sanitize_type),
        cmocka_unit_test(test_v2_messages),
        cmocka_unit_test(test_v2_status_only),
        cmocka_unit_test(test_v2_success),
        cmocka_unit_test(test_result_set),
        cmocka_unit_test(test_v1_success),
        cmocka_unit_test(test_v1_errors),
        cmocka_unit_test(test_v1_entities),
        cmocka_unit_test(test_identity_live_email),
        cmocka_unit_test(test_identity_live_create),
        cmocka_unit_test(test_identity_domain),
        cmocka_unit_test(test_identity_tolerant),
        cmocka_unit_test(test_identity_malformed),
        cmocka_unit_test(test_identity_tags),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_list_pages),
        cmocka_unit_test(test_list_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
