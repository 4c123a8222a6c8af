/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: SES response parsing (pure core).
 *
 * Sources for the wire facts: the official SESv2 service model (botocore's
 * data/sesv2/2019-09-27/service-2.json: field names, enums, paths and
 * statuses), botocore's response parsers, Smithy's aws-restjson1 error
 * rules (the error type is the X-Amzn-ErrorType header, else the body's
 * "code", "Code" or "__type", cut at ':' and after '#'), the SESv1 Query
 * error codes, and what live AWS was seen to send (the samples in
 * t/unit/test_sesparse.c).
 */


#include <string.h>

#include <jansson.h>

#include "sd_sesparse.h"


/* the decoded text of an XML element that is kept before sanitizing */
#define SD_SES_XML_TEXT_LEN  2048

/* 10000-01-01T00:00:00Z: a larger "epoch seconds" is not seconds */
#define SD_SES_MAX_EPOCH     253402300800.0


typedef struct {
    const char       *name;
    sd_ses_status_e   status;
} sd_ses_error_map_t;

typedef struct {
    const char       *name;
    int               value;
} sd_ses_enum_t;


static void sd_ses_result_clear(sd_ses_result_t *res, int http_status);
static void sd_ses_finish(sd_ses_result_t *res, sd_ses_status_e status);
static sd_ses_status_e sd_ses_map_error(const char *type, int http_status);
static void sd_ses_set_error_type(sd_ses_result_t *res, const char *p,
    size_t len);
static void sd_ses_set_message(sd_ses_result_t *res, const char *p,
    size_t len);
static size_t sd_ses_utf8_seq(const unsigned char *p, size_t len);
static const char *sd_ses_default_message(sd_ses_status_e status);
static json_t *sd_ses_json_object(const char *body, size_t len);
static const char *sd_ses_json_str(const json_t *obj, const char *key,
    size_t *len);
static void sd_ses_json_error(sd_ses_result_t *res, const json_t *body);

static int sd_ses_xml_root(const char *p, size_t len, const char **name,
    size_t *name_len);
static int sd_ses_xml_find(const char *p, size_t len, const char *name,
    const char **text, size_t *text_len);
static size_t sd_ses_xml_decode(const char *p, size_t len, char *out,
    size_t outsz);
static size_t sd_ses_xml_entity(const char *p, size_t len, char *out,
    size_t *consumed);
static int sd_ses_digit(char c, int base);
static size_t sd_ses_utf8_encode(unsigned long cp, char *out);
static const char *sd_ses_memmem(const char *p, size_t len, const char *n,
    size_t nlen);
static void sd_ses_xml_error(sd_ses_result_t *res, const char *p,
    size_t len);

static int sd_ses_parse_dkim(const json_t *dkim, sd_ses_identity_t *ident);
static int sd_ses_parse_tokens(const json_t *tokens,
    sd_ses_identity_t *ident);
static int sd_ses_parse_mail_from(const json_t *mf,
    sd_ses_identity_t *ident);
static int sd_ses_parse_tags(const json_t *tags, sd_ses_identity_t *ident);
static int sd_ses_parse_verif_info(const json_t *vi,
    sd_ses_identity_t *ident);
static int sd_ses_field_str(const json_t *obj, const char *key,
    const char **s, size_t *len);
static int sd_ses_field_bool(const json_t *obj, const char *key, int *out);
static int sd_ses_field_object(const json_t *obj, const char *key,
    const json_t **out);
static int sd_ses_field_time(const json_t *obj, const char *key,
    int64_t *out);
static int sd_ses_field_enum(const json_t *obj, const char *key,
    const sd_ses_enum_t *table, int unknown, int *out);
static int sd_ses_copy_domain(const char *s, size_t len, char *dst,
    size_t dstsz);
static int sd_ses_copy_token(const char *s, size_t len, char *dst,
    size_t dstsz);
static void sd_ses_copy_word(const char *s, size_t len, char *dst,
    size_t dstsz);
static int sd_ses_has_ctl(const char *s, size_t len);
static int sd_ses_list_item(const json_t *item, sd_ses_list_item_t *out);


/*
 * Error type -> status.  SESv2 names come from the model [M2], SESv1
 * (Query) codes from the developer guide [DG22], the rest from
 * botocore's retry and auth handling: these services share a front end.
 * HTTP 429 and 403 are decided before this table, 5xx and 4xx after.
 */
static const sd_ses_error_map_t  sd_ses_errors[] = {
    { "AlreadyExistsException", SD_SES_ALREADY_EXISTS },
    { "AlreadyExists", SD_SES_ALREADY_EXISTS },
    { "NotFoundException", SD_SES_NOT_FOUND },

    { "TooManyRequestsException", SD_SES_THROTTLED },
    { "Throttling", SD_SES_THROTTLED },
    { "ThrottlingException", SD_SES_THROTTLED },
    { "ThrottledException", SD_SES_THROTTLED },
    { "RequestThrottledException", SD_SES_THROTTLED },
    { "RequestThrottled", SD_SES_THROTTLED },
    { "RequestLimitExceeded", SD_SES_THROTTLED },
    { "SlowDown", SD_SES_THROTTLED },

    /* the identity quota is full: retrying does not help */
    { "LimitExceededException", SD_SES_LIMIT_EXCEEDED },
    { "LimitExceeded", SD_SES_LIMIT_EXCEEDED },

    { "BadRequestException", SD_SES_BAD_REQUEST },
    { "ValidationException", SD_SES_BAD_REQUEST },
    { "SerializationException", SD_SES_BAD_REQUEST },
    { "InvalidParameterValue", SD_SES_BAD_REQUEST },
    { "InvalidParameterCombination", SD_SES_BAD_REQUEST },
    { "MissingParameter", SD_SES_BAD_REQUEST },
    { "MalformedQueryString", SD_SES_BAD_REQUEST },
    { "InvalidAction", SD_SES_BAD_REQUEST },

    { "UnrecognizedClientException", SD_SES_ACCESS_DENIED },
    { "InvalidSignatureException", SD_SES_ACCESS_DENIED },
    { "SignatureDoesNotMatch", SD_SES_ACCESS_DENIED },
    { "AccessDeniedException", SD_SES_ACCESS_DENIED },
    { "AccessDenied", SD_SES_ACCESS_DENIED },
    { "ExpiredTokenException", SD_SES_ACCESS_DENIED },
    { "ExpiredToken", SD_SES_ACCESS_DENIED },
    { "InvalidClientTokenId", SD_SES_ACCESS_DENIED },
    { "MissingAuthenticationToken", SD_SES_ACCESS_DENIED },
    { "MissingAuthenticationTokenException", SD_SES_ACCESS_DENIED },
    { "IncompleteSignature", SD_SES_ACCESS_DENIED },
    { "IncompleteSignatureException", SD_SES_ACCESS_DENIED },
    { "RequestExpired", SD_SES_ACCESS_DENIED },
    { "InvalidAccessKeyId", SD_SES_ACCESS_DENIED },

    /* modeled as 500, but it is a conflict that a retry resolves */
    { "ConcurrentModificationException", SD_SES_CONCURRENT_MODIFICATION },

    { "InternalServiceErrorException", SD_SES_SERVER_ERROR },
    { "InternalFailure", SD_SES_SERVER_ERROR },
    { "InternalError", SD_SES_SERVER_ERROR },
    { "ServiceUnavailable", SD_SES_SERVER_ERROR },
    { "ServiceUnavailableException", SD_SES_SERVER_ERROR },

    { NULL, SD_SES_OK }
};


/* SESv2 spells these in capitals; SESv1 in CamelCase [M1] */
static const sd_ses_enum_t  sd_ses_vstatus_names[] = {
    { "PENDING", SD_SES_VS_PENDING },
    { "SUCCESS", SD_SES_VS_SUCCESS },
    { "FAILED", SD_SES_VS_FAILED },
    { "TEMPORARY_FAILURE", SD_SES_VS_TEMPORARY_FAILURE },
    { "NOT_STARTED", SD_SES_VS_NOT_STARTED },
    { "Pending", SD_SES_VS_PENDING },
    { "Success", SD_SES_VS_SUCCESS },
    { "Failed", SD_SES_VS_FAILED },
    { "TemporaryFailure", SD_SES_VS_TEMPORARY_FAILURE },
    { "NotStarted", SD_SES_VS_NOT_STARTED },
    { NULL, 0 }
};

static const sd_ses_enum_t  sd_ses_identity_types[] = {
    { "EMAIL_ADDRESS", SD_SES_IDENTITY_EMAIL_ADDRESS },
    { "DOMAIN", SD_SES_IDENTITY_DOMAIN },
    { "MANAGED_DOMAIN", SD_SES_IDENTITY_MANAGED_DOMAIN },
    { NULL, 0 }
};

static const sd_ses_enum_t  sd_ses_mx_behaviors[] = {
    { "USE_DEFAULT_VALUE", SD_SES_MX_USE_DEFAULT_VALUE },
    { "REJECT_MESSAGE", SD_SES_MX_REJECT_MESSAGE },
    { "UseDefaultValue", SD_SES_MX_USE_DEFAULT_VALUE },
    { "RejectMessage", SD_SES_MX_REJECT_MESSAGE },
    { NULL, 0 }
};


/* v2 classification */

sd_ses_status_e
sd_ses_classify(int http_status, const char *error_type,
    size_t error_type_len, const char *body, size_t body_len,
    int expect_object, sd_ses_result_t *res)
{
    json_t  *json;

    sd_ses_result_clear(res, http_status);

    if (http_status >= 200 && http_status < 300) {
        if (!expect_object) {
            /* the caller parses the answer itself: no second parse here */
            sd_ses_finish(res, SD_SES_OK);
            return res->status;
        }

        json = sd_ses_json_object(body, body_len);
        sd_ses_finish(res, (json == NULL) ? SD_SES_MALFORMED : SD_SES_OK);
        json_decref(json);
        return res->status;
    }

    json = sd_ses_json_object(body, body_len);

    /* Smithy rest-json1: the header first, then the body */
    if (error_type != NULL) {
        sd_ses_set_error_type(res, error_type, error_type_len);
    }

    sd_ses_json_error(res, json);
    json_decref(json);

    sd_ses_finish(res, sd_ses_map_error(res->error_type, http_status));

    return res->status;
}


/* the body's error type (unless the header gave one) and message */
static void
sd_ses_json_error(sd_ses_result_t *res, const json_t *body)
{
    size_t       len;
    const char  *s;

    if (body == NULL) {
        return;
    }

    if (res->error_type[0] == '\0') {
        s = sd_ses_json_str(body, "code", &len);
        if (s == NULL) {
            s = sd_ses_json_str(body, "Code", &len);
        }
        if (s == NULL) {
            s = sd_ses_json_str(body, "__type", &len);
        }
        if (s != NULL) {
            sd_ses_set_error_type(res, s, len);
        }
    }

    /* botocore: "message", then "Message"; {"message":null} is "none" */
    s = sd_ses_json_str(body, "message", &len);
    if (s == NULL) {
        s = sd_ses_json_str(body, "Message", &len);
    }

    if (s != NULL) {
        sd_ses_set_message(res, s, len);
    }
}


static sd_ses_status_e
sd_ses_map_error(const char *type, int http_status)
{
    const sd_ses_error_map_t  *e;

    /*
     * botocore treats any 429 as throttling whatever its type; SES
     * answers 403 only for credentials and signatures
     */
    if (http_status == 429) {
        return SD_SES_THROTTLED;
    }

    if (http_status == 401 || http_status == 403) {
        return SD_SES_ACCESS_DENIED;
    }

    if (type[0] != '\0') {
        for (e = sd_ses_errors; e->name != NULL; e++) {
            if (strcmp(e->name, type) == 0) {
                return e->status;
            }
        }
    }

    if (http_status >= 500 && http_status < 600) {
        return SD_SES_SERVER_ERROR;
    }

    /*
     * An untyped or unknown 4xx is "SES said no".  An untyped 404 is
     * deliberately not NOT_FOUND: a wrong endpoint or a proxy answers 404
     * too, and "not found" makes callers re-create or release identities.
     */
    if (http_status >= 400 && http_status < 500) {
        return SD_SES_BAD_REQUEST;
    }

    return SD_SES_MALFORMED;
}


/* v1 (Query API, XML) classification */

sd_ses_status_e
sd_ses_classify_query_xml(int http_status, const char *body,
    size_t body_len, sd_ses_result_t *res)
{
    int          ok, root;
    size_t       rlen;
    const char  *rname;

    sd_ses_result_clear(res, http_status);

    ok = (http_status >= 200 && http_status < 300);

    rname = NULL;
    rlen = 0;

    root = (body != NULL)
           && sd_ses_xml_root(body, body_len, &rname, &rlen) == 0;

    if (ok && root && rlen > 8
        && memcmp(rname + rlen - 8, "Response", 8) == 0
        && !(rlen == 13 && memcmp(rname, "ErrorResponse", 13) == 0))
    {
        /* <VerifyEmailIdentityResponse xmlns=...>, any action's answer */
        sd_ses_finish(res, SD_SES_OK);
        return SD_SES_OK;
    }

    if (root) {
        sd_ses_xml_error(res, body, body_len);
    }

    if (res->error_type[0] == '\0'
        && (ok || !(http_status == 429 || http_status == 401
                    || http_status == 403 || http_status >= 500)))
    {
        /* neither a success nor an error document we can read */
        sd_ses_finish(res, SD_SES_MALFORMED);
        return SD_SES_MALFORMED;
    }

    sd_ses_finish(res, sd_ses_map_error(res->error_type, http_status));

    return res->status;
}


/* <ErrorResponse><Error><Type/><Code/><Message/></Error>... */
static void
sd_ses_xml_error(sd_ses_result_t *res, const char *p, size_t len)
{
    size_t       elen, tlen, n;
    const char  *err, *text;
    char         buf[SD_SES_XML_TEXT_LEN];

    if (sd_ses_xml_find(p, len, "Error", &err, &elen) != 0) {
        return;
    }

    if (sd_ses_xml_find(err, elen, "Code", &text, &tlen) == 0) {
        n = sd_ses_xml_decode(text, tlen, buf, sizeof(buf));
        sd_ses_set_error_type(res, buf, n);
    }

    if (sd_ses_xml_find(err, elen, "Message", &text, &tlen) == 0) {
        n = sd_ses_xml_decode(text, tlen, buf, sizeof(buf));
        sd_ses_set_message(res, buf, n);
    }
}


static int
sd_ses_xml_name_end(char c)
{
    return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r'
           || c == '\n';
}


/*
 * The local name of the first element, past a BOM, the XML declaration,
 * processing instructions, comments, a DOCTYPE and whitespace.
 */
static int
sd_ses_xml_root(const char *p, size_t len, const char **name,
    size_t *name_len)
{
    size_t       i, start;
    const char  *end, *colon;

    i = 0;

    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        i = 3;
    }

    for ( ;; ) {
        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'
                           || p[i] == '\n'))
        {
            i++;
        }

        if (i + 1 >= len || p[i] != '<') {
            return -1;
        }

        if (p[i + 1] != '?' && p[i + 1] != '!') {
            break;
        }

        if (len - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
            /* a comment may hold '>': it ends at "-->" */
            end = sd_ses_memmem(p + i + 4, len - i - 4, "-->", 3);
            end = (end != NULL) ? end + 2 : NULL;

        } else {
            end = memchr(p + i, '>', len - i);
        }

        if (end == NULL) {
            return -1;
        }

        i = (size_t) (end - p) + 1;
    }

    start = ++i;

    while (i < len && !sd_ses_xml_name_end(p[i])) {
        i++;
    }

    if (i == start || i == len) {
        return -1;
    }

    /* xmlns prefixes ("ses:VerifyEmailIdentityResponse") are ignored */
    for (colon = p + i; colon > p + start; colon--) {
        if (colon[-1] == ':') {
            start = (size_t) (colon - p);
            break;
        }
    }

    *name = p + start;
    *name_len = i - start;

    return (*name_len > 0) ? 0 : -1;
}


/*
 * The raw content of the first <name>...</name> (attributes allowed on
 * the start tag; <name/> is empty).  Not a general XML parser: enough
 * for the flat, machine-written documents of the Query API.
 */
static int
sd_ses_xml_find(const char *p, size_t len, const char *name,
    const char **text, size_t *text_len)
{
    size_t       nlen, i, j;
    const char  *gt, *end;

    nlen = strlen(name);

    for (i = 0; i + nlen + 2 <= len; i++) {

        if (p[i] != '<' || memcmp(p + i + 1, name, nlen) != 0
            || !sd_ses_xml_name_end(p[i + 1 + nlen]))
        {
            continue;
        }

        gt = memchr(p + i, '>', len - i);
        if (gt == NULL) {
            return -1;
        }

        if (gt[-1] == '/') {
            *text = gt;
            *text_len = 0;
            return 0;
        }

        j = (size_t) (gt - p) + 1;

        for (end = p + j; ; end++) {
            end = sd_ses_memmem(end, len - (size_t) (end - p), "</", 2);

            if (end == NULL) {
                return -1;
            }

            if ((size_t) (p + len - end) >= nlen + 3
                && memcmp(end + 2, name, nlen) == 0
                && end[2 + nlen] == '>')
            {
                *text = p + j;
                *text_len = (size_t) (end - (p + j));
                return 0;
            }
        }
    }

    return -1;
}


/* memmem(3) is not in every libc nginx builds with */
static const char *
sd_ses_memmem(const char *p, size_t len, const char *n, size_t nlen)
{
    const char  *last;

    if (nlen == 0 || len < nlen) {
        return NULL;
    }

    last = p + len - nlen;

    for ( ; p <= last; p++) {
        p = memchr(p, n[0], (size_t) (last - p) + 1);

        if (p == NULL) {
            return NULL;
        }

        if (memcmp(p, n, nlen) == 0) {
            return p;
        }
    }

    return NULL;
}


/* character data: the 5 predefined entities, &#N; &#xH; and CDATA */
static size_t
sd_ses_xml_decode(const char *p, size_t len, char *out, size_t outsz)
{
    size_t       i, n, used, clen;
    const char  *cend;
    char         tmp[4];

    i = 0;
    n = 0;

    while (i < len && n + 4 < outsz) {

        if (len - i >= 9 && memcmp(p + i, "<![CDATA[", 9) == 0) {
            cend = sd_ses_memmem(p + i + 9, len - i - 9, "]]>", 3);
            clen = (cend != NULL) ? (size_t) (cend - (p + i + 9))
                                  : len - i - 9;
            if (clen > outsz - 1 - n) {
                clen = outsz - 1 - n;
            }

            memcpy(out + n, p + i + 9, clen);
            n += clen;
            i = (cend != NULL) ? (size_t) (cend - p) + 3 : len;
            continue;
        }

        if (p[i] == '&') {
            used = sd_ses_xml_entity(p + i, len - i, tmp, &clen);

            if (used > 0) {
                memcpy(out + n, tmp, clen);
                n += clen;
                i += used;
                continue;
            }
        }

        out[n++] = p[i++];
    }

    return n;
}


/*
 * Decodes one entity at p into out (1-4 bytes, *out_len); returns the
 * bytes consumed, 0 when it is not an entity we know (kept as is).
 */
static size_t
sd_ses_xml_entity(const char *p, size_t len, char *out, size_t *out_len)
{
    int             base, d;
    size_t          i, k;
    const char     *semi;
    unsigned long   cp;

    static const struct {
        const char  *name;
        char         c;
    } named[] = {
        { "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
        { "&quot;", '"' }, { "&apos;", '\'' }, { NULL, 0 }
    };

    for (k = 0; named[k].name != NULL; k++) {
        i = strlen(named[k].name);

        if (len >= i && memcmp(p, named[k].name, i) == 0) {
            out[0] = named[k].c;
            *out_len = 1;
            return i;
        }
    }

    /* "&#x10FFFF;" is the longest reference worth decoding */
    semi = memchr(p, ';', len < 12 ? len : 12);
    if (semi == NULL || len < 4 || p[1] != '#') {
        return 0;
    }

    base = (p[2] == 'x' || p[2] == 'X') ? 16 : 10;
    i = (base == 16) ? 3 : 2;

    if (p + i == semi) {
        return 0;
    }

    for (cp = 0; p + i < semi; i++) {
        d = sd_ses_digit(p[i], base);
        if (d < 0) {
            return 0;
        }

        cp = cp * (unsigned long) base + (unsigned long) d;
    }

    /* NUL, surrogates and beyond Unicode stay as they were written */
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }

    *out_len = sd_ses_utf8_encode(cp, out);

    return (size_t) (semi - p) + 1;
}


static int
sd_ses_digit(char c, int base)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (base == 16 && c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (base == 16 && c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


static size_t
sd_ses_utf8_encode(unsigned long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char) cp;
        return 1;
    }

    if (cp < 0x800) {
        out[0] = (char) (0xC0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3F));
        return 2;
    }

    if (cp < 0x10000) {
        out[0] = (char) (0xE0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char) (0x80 | (cp & 0x3F));
        return 3;
    }

    out[0] = (char) (0xF0 | (cp >> 18));
    out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char) (0x80 | (cp & 0x3F));
    return 4;
}


/* results */

void
sd_ses_result_set(sd_ses_result_t *res, sd_ses_status_e status)
{
    sd_ses_result_clear(res, 0);
    sd_ses_finish(res, status);
}


static void
sd_ses_result_clear(sd_ses_result_t *res, int http_status)
{
    memset(res, 0, sizeof(*res));
    res->http_status = http_status;
}


static void
sd_ses_finish(sd_ses_result_t *res, sd_ses_status_e status)
{
    size_t       n;
    const char  *msg;

    res->status = status;

    if (status == SD_SES_OK) {
        res->message[0] = '\0';
        res->ses_message = 0;
        return;
    }

    if (res->message[0] != '\0') {
        res->ses_message = 1;
        return;
    }

    msg = sd_ses_default_message(status);
    n = strlen(msg);
    memcpy(res->message, msg, n + 1);
    res->ses_message = 0;
}


/*
 * Error types are identifiers: "aws.protocols#FooError:http://..." and
 * "FooError:http://internal.amazon.com/coral/..." both become
 * "FooError" (botocore: split(':')[0].rsplit('#')[-1]).
 */
static void
sd_ses_set_error_type(sd_ses_result_t *res, const char *p, size_t len)
{
    size_t       i, n;
    const char  *c;

    c = memchr(p, ':', len);
    if (c != NULL) {
        len = (size_t) (c - p);
    }

    for (i = len; i > 0; i--) {
        if (p[i - 1] == '#') {
            p += i;
            len -= i;
            break;
        }
    }

    while (len > 0 && (p[0] == ' ' || p[0] == '\t')) {
        p++;
        len--;
    }

    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
        len--;
    }

    n = 0;

    for (i = 0; i < len && n < SD_SES_ERROR_TYPE_LEN - 1; i++) {
        c = p + i;
        res->error_type[n++] = ((*c >= 'A' && *c <= 'Z')
                                || (*c >= 'a' && *c <= 'z')
                                || (*c >= '0' && *c <= '9')
                                || *c == '.' || *c == '_' || *c == '-')
                               ? *c : '_';
    }

    res->error_type[n] = '\0';
}


/*
 * SES's message is shown to the user, so it is made safe to show: only
 * its first line (AWS puts the canonical request and string to sign on
 * the following lines of SignatureDoesNotMatch), invalid UTF-8 as '?',
 * control characters as spaces, trimmed, and cut at a character
 * boundary to fit.
 */
static void
sd_ses_set_message(sd_ses_result_t *res, const char *p, size_t len)
{
    size_t                i, n, seq;
    const char           *nl;
    const unsigned char  *u;

    nl = memchr(p, '\n', len);
    if (nl != NULL) {
        len = (size_t) (nl - p);
    }

    nl = memchr(p, '\r', len);
    if (nl != NULL) {
        len = (size_t) (nl - p);
    }

    u = (const unsigned char *) p;
    i = 0;
    n = 0;

    while (i < len) {
        seq = sd_ses_utf8_seq(u + i, len - i);

        if (n + (seq ? seq : 1) > SD_SES_MESSAGE_LEN - 1) {
            break;
        }

        if (seq == 0) {
            res->message[n++] = '?';
            i++;

        } else if ((seq == 1 && (u[i] < 0x20 || u[i] == 0x7f))
                   || (seq == 2 && u[i] == 0xC2 && u[i + 1] < 0xA0)
                   || (seq == 3 && u[i] == 0xE2 && u[i + 1] == 0x80
                       && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)))
        {
            /* C0, DEL and C1 controls; U+2028 and U+2029 */
            res->message[n++] = ' ';
            i += seq;

        } else {
            memcpy(res->message + n, p + i, seq);
            n += seq;
            i += seq;
        }
    }

    while (n > 0 && res->message[n - 1] == ' ') {
        n--;
    }

    res->message[n] = '\0';

    for (i = 0; res->message[i] == ' '; i++) {
        /* void */
    }

    memmove(res->message, res->message + i, n - i + 1);
}


/* the length of the valid UTF-8 sequence at p, or 0 (RFC 3629) */
static size_t
sd_ses_utf8_seq(const unsigned char *p, size_t len)
{
    size_t         n, k;
    unsigned char  lo, hi;

    if (p[0] < 0x80) {
        return 1;
    }

    lo = 0x80;
    hi = 0xBF;

    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;

    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        lo = (p[0] == 0xE0) ? 0xA0 : 0x80;     /* overlong */
        hi = (p[0] == 0xED) ? 0x9F : 0xBF;     /* surrogates */

    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        lo = (p[0] == 0xF0) ? 0x90 : 0x80;     /* overlong */
        hi = (p[0] == 0xF4) ? 0x8F : 0xBF;     /* past U+10FFFF */

    } else {
        return 0;
    }

    if (len < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (k = 2; k < n; k++) {
        if (p[k] < 0x80 || p[k] > 0xBF) {
            return 0;
        }
    }

    return n;
}


static const char *
sd_ses_default_message(sd_ses_status_e status)
{
    switch (status) {

    case SD_SES_OK:
        return "";

    case SD_SES_ALREADY_EXISTS:
        return "The identity already exists in Amazon SES.";

    case SD_SES_NOT_FOUND:
        return "The identity does not exist in Amazon SES.";

    case SD_SES_THROTTLED:
        return "Amazon SES is throttling requests; try again shortly.";

    case SD_SES_LIMIT_EXCEEDED:
        return "The Amazon SES account has reached its identity limit.";

    case SD_SES_BAD_REQUEST:
        return "Amazon SES rejected the request.";

    case SD_SES_ACCESS_DENIED:
        return "Amazon SES rejected this server's credentials.";

    case SD_SES_SERVER_ERROR:
        return "Amazon SES had an internal error; try again shortly.";

    case SD_SES_TIMEOUT:
        return "Amazon SES did not answer in time.";

    case SD_SES_CONNECT_FAILED:
        return "Amazon SES could not be reached.";

    case SD_SES_CONCURRENT_MODIFICATION:
        return "The identity is being changed in Amazon SES; "
               "try again shortly.";

    case SD_SES_MALFORMED:
    default:
        return "Amazon SES sent an answer that could not be read.";
    }
}


/* JSON helpers */

/* the body as a JSON object, or NULL (empty, not JSON, not an object) */
static json_t *
sd_ses_json_object(const char *body, size_t len)
{
    json_t        *v;
    json_error_t   e;

    if (body == NULL || len == 0) {
        return NULL;
    }

    v = json_loadb(body, len, 0, &e);

    if (v != NULL && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }

    return v;
}


static const char *
sd_ses_json_str(const json_t *obj, const char *key, size_t *len)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL || !json_is_string(v)) {
        return NULL;
    }

    *len = json_string_length(v);

    return json_string_value(v);
}


/*
 * Field readers: 0 when found (or absent/null: *out untouched), -1 on a
 * type mismatch.  JSON null counts as absent, as in botocore.
 */

static int
sd_ses_field_str(const json_t *obj, const char *key, const char **s,
    size_t *len)
{
    json_t  *v;

    *s = NULL;
    *len = 0;

    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_string(v)) {
        return -1;
    }

    *s = json_string_value(v);
    *len = json_string_length(v);

    return 0;
}


static int
sd_ses_field_bool(const json_t *obj, const char *key, int *out)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_boolean(v)) {
        return -1;
    }

    *out = json_is_true(v);

    return 0;
}


static int
sd_ses_field_object(const json_t *obj, const char *key, const json_t **out)
{
    json_t  *v;

    *out = NULL;

    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_object(v)) {
        return -1;
    }

    *out = v;

    return 0;
}


/* epoch seconds, possibly fractional (Smithy) or integral (live AWS) */
static int
sd_ses_field_time(const json_t *obj, const char *key, int64_t *out)
{
    double   t;
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_number(v)) {
        return -1;
    }

    t = json_number_value(v);

    if (t >= SD_SES_MAX_EPOCH) {
        /* milliseconds, most likely: refuse rather than show year 55000 */
        return -1;
    }

    *out = (t > 0) ? (int64_t) t : 0;

    return 0;
}


/* a string enum; a value we do not know yet maps to "unknown" */
static int
sd_ses_field_enum(const json_t *obj, const char *key,
    const sd_ses_enum_t *table, int unknown, int *out)
{
    size_t       len;
    const char  *s;

    if (sd_ses_field_str(obj, key, &s, &len) != 0) {
        return -1;
    }

    if (s == NULL) {
        return 0;
    }

    for ( ; table->name != NULL; table++) {
        if (strlen(table->name) == len && memcmp(table->name, s, len) == 0) {
            *out = table->value;
            return 0;
        }
    }

    *out = unknown;

    return 0;
}


/*
 * Names that end up in DNS records shown to the user are checked, not
 * trusted: letters, digits, '-', '_' and '.', at most dstsz - 1 bytes.
 */
static int
sd_ses_copy_domain(const char *s, size_t len, char *dst, size_t dstsz)
{
    size_t  i;

    if (len >= dstsz) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'
              || s[i] == '.'))
        {
            return -1;
        }
    }

    memcpy(dst, s, len);
    dst[len] = '\0';

    return 0;
}


/* a DKIM token or BYODKIM selector: one DNS label */
static int
sd_ses_copy_token(const char *s, size_t len, char *dst, size_t dstsz)
{
    if (len == 0 || memchr(s, '.', len) != NULL) {
        return -1;
    }

    return sd_ses_copy_domain(s, len, dst, dstsz);
}


/* informational words (origins, error types): sanitized and cut */
static void
sd_ses_copy_word(const char *s, size_t len, char *dst, size_t dstsz)
{
    size_t  i;

    for (i = 0; i < len && i < dstsz - 1; i++) {
        dst[i] = ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
                  || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')
                 ? s[i] : '_';
    }

    dst[i] = '\0';
}


static int
sd_ses_has_ctl(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return 1;
        }
    }

    return 0;
}


/* GetEmailIdentity / CreateEmailIdentity */

#define sd_ses_malformed(ident, field)                                        \
    do { (ident)->malformed_field = (field); return -1; } while (0)


sd_ses_status_e
sd_ses_parse_identity(const char *body, size_t len, sd_ses_identity_t *ident)
{
    int            v, rc;
    json_t        *root;
    const json_t  *dkim, *mf, *vi;

    memset(ident, 0, sizeof(*ident));

    root = sd_ses_json_object(body, len);
    if (root == NULL) {
        ident->malformed_field = "(body)";
        return SD_SES_MALFORMED;
    }

    rc = -1;
    v = ident->identity_type;

    if (sd_ses_field_enum(root, "IdentityType", sd_ses_identity_types,
                          SD_SES_IDENTITY_UNKNOWN, &v) != 0)
    {
        ident->malformed_field = "IdentityType";
        goto done;
    }

    ident->identity_type = (sd_ses_identity_type_e) v;

    if (sd_ses_field_bool(root, "VerifiedForSendingStatus",
                          &ident->verified_for_sending) != 0)
    {
        ident->malformed_field = "VerifiedForSendingStatus";
        goto done;
    }

    v = SD_SES_VS_NONE;

    if (sd_ses_field_enum(root, "VerificationStatus", sd_ses_vstatus_names,
                          SD_SES_VS_UNKNOWN, &v) != 0)
    {
        ident->malformed_field = "VerificationStatus";
        goto done;
    }

    ident->verification_status = (sd_ses_vstatus_e) v;

    if (sd_ses_field_object(root, "DkimAttributes", &dkim) != 0) {
        ident->malformed_field = "DkimAttributes";
        goto done;
    }

    if (sd_ses_field_object(root, "MailFromAttributes", &mf) != 0) {
        ident->malformed_field = "MailFromAttributes";
        goto done;
    }

    if (sd_ses_field_object(root, "VerificationInfo", &vi) != 0) {
        ident->malformed_field = "VerificationInfo";
        goto done;
    }

    if ((dkim != NULL && sd_ses_parse_dkim(dkim, ident) != 0)
        || (mf != NULL && sd_ses_parse_mail_from(mf, ident) != 0)
        || (vi != NULL && sd_ses_parse_verif_info(vi, ident) != 0)
        || sd_ses_parse_tags(json_object_get(root, "Tags"), ident) != 0)
    {
        goto done;
    }

    rc = 0;

done:

    json_decref(root);

    if (rc != 0) {
        return SD_SES_MALFORMED;
    }

    ident->malformed_field = NULL;

    return SD_SES_OK;
}


static int
sd_ses_parse_dkim(const json_t *dkim, sd_ses_identity_t *ident)
{
    int          v;
    size_t       len;
    const char  *s;

    ident->dkim.present = 1;

    if (sd_ses_field_bool(dkim, "SigningEnabled",
                          &ident->dkim.signing_enabled) != 0)
    {
        sd_ses_malformed(ident, "DkimAttributes.SigningEnabled");
    }

    v = SD_SES_VS_NONE;

    if (sd_ses_field_enum(dkim, "Status", sd_ses_vstatus_names,
                          SD_SES_VS_UNKNOWN, &v) != 0)
    {
        sd_ses_malformed(ident, "DkimAttributes.Status");
    }

    ident->dkim.status = (sd_ses_vstatus_e) v;

    if (sd_ses_parse_tokens(json_object_get(dkim, "Tokens"), ident) != 0) {
        sd_ses_malformed(ident, "DkimAttributes.Tokens");
    }

    if (sd_ses_field_str(dkim, "SigningHostedZone", &s, &len) != 0
        || (s != NULL
            && sd_ses_copy_domain(s, len, ident->dkim.signing_hosted_zone,
                                  sizeof(ident->dkim.signing_hosted_zone))
               != 0))
    {
        sd_ses_malformed(ident, "DkimAttributes.SigningHostedZone");
    }

    if (sd_ses_field_str(dkim, "SigningAttributesOrigin", &s, &len) != 0) {
        sd_ses_malformed(ident, "DkimAttributes.SigningAttributesOrigin");
    }

    if (s != NULL) {
        sd_ses_copy_word(s, len, ident->dkim.signing_origin,
                         sizeof(ident->dkim.signing_origin));
    }

    return 0;
}


/*
 * Easy DKIM gives 3 tokens, BYODKIM one selector; at most
 * SD_SES_MAX_DKIM_TOKENS are kept.  Each becomes a DNS label, so one
 * that is not a plain label makes the answer malformed.
 */
static int
sd_ses_parse_tokens(const json_t *tokens, sd_ses_identity_t *ident)
{
    size_t   i;
    json_t  *t;

    if (tokens == NULL || json_is_null(tokens)) {
        return 0;
    }

    if (!json_is_array(tokens)) {
        return -1;
    }

    json_array_foreach(tokens, i, t) {

        if (!json_is_string(t)) {
            return -1;
        }

        if (ident->dkim.ntokens == SD_SES_MAX_DKIM_TOKENS) {
            continue;
        }

        if (sd_ses_copy_token(json_string_value(t), json_string_length(t),
                              ident->dkim.tokens[ident->dkim.ntokens],
                              SD_SES_DKIM_TOKEN_LEN + 1)
            != 0)
        {
            return -1;
        }

        ident->dkim.ntokens++;
    }

    return 0;
}


/*
 * Live AWS sends only {"BehaviorOnMxFailure":"USE_DEFAULT_VALUE"} when
 * no custom MAIL FROM is set, although the model marks all three fields
 * required.  No domain means "not configured", whatever the status says;
 * a domain without a status is taken as pending.
 */
static int
sd_ses_parse_mail_from(const json_t *mf, sd_ses_identity_t *ident)
{
    int          v;
    size_t       len;
    const char  *s;

    if (sd_ses_field_str(mf, "MailFromDomain", &s, &len) != 0
        || (s != NULL
            && sd_ses_copy_domain(s, len, ident->mail_from.domain,
                                  sizeof(ident->mail_from.domain)) != 0))
    {
        sd_ses_malformed(ident, "MailFromAttributes.MailFromDomain");
    }

    v = SD_SES_VS_NONE;

    if (sd_ses_field_enum(mf, "MailFromDomainStatus", sd_ses_vstatus_names,
                          SD_SES_VS_UNKNOWN, &v) != 0)
    {
        sd_ses_malformed(ident, "MailFromAttributes.MailFromDomainStatus");
    }

    if (ident->mail_from.domain[0] == '\0') {
        v = SD_SES_VS_NONE;

    } else if (v == SD_SES_VS_NONE) {
        v = SD_SES_VS_PENDING;
    }

    ident->mail_from.status = (sd_ses_vstatus_e) v;

    v = SD_SES_MX_NONE;

    if (sd_ses_field_enum(mf, "BehaviorOnMxFailure", sd_ses_mx_behaviors,
                          SD_SES_MX_UNKNOWN, &v) != 0)
    {
        sd_ses_malformed(ident, "MailFromAttributes.BehaviorOnMxFailure");
    }

    ident->mail_from.behavior = (sd_ses_mx_behavior_e) v;

    return 0;
}


static int
sd_ses_parse_verif_info(const json_t *vi, sd_ses_identity_t *ident)
{
    size_t       len;
    const char  *s;

    if (sd_ses_field_str(vi, "ErrorType", &s, &len) != 0) {
        sd_ses_malformed(ident, "VerificationInfo.ErrorType");
    }

    if (s != NULL) {
        sd_ses_copy_word(s, len, ident->verification_info.error_type,
                         sizeof(ident->verification_info.error_type));
    }

    if (sd_ses_field_time(vi, "LastCheckedTimestamp",
                          &ident->verification_info.last_checked) != 0)
    {
        sd_ses_malformed(ident, "VerificationInfo.LastCheckedTimestamp");
    }

    if (sd_ses_field_time(vi, "LastSuccessTimestamp",
                          &ident->verification_info.last_success) != 0)
    {
        sd_ses_malformed(ident, "VerificationInfo.LastSuccessTimestamp");
    }

    return 0;
}


/*
 * Tags: a list of {"Key": string, "Value": string} (SESv2's Tag shape,
 * both members required).  Only the claim tag is read; SES refuses two
 * tags with one key, so the first is the one.  A list of another shape is
 * a malformed answer, as any other field of the wrong type.
 */
static int
sd_ses_parse_tags(const json_t *tags, sd_ses_identity_t *ident)
{
    size_t        i, klen, vlen;
    json_t       *tag;
    const char   *k, *v;

    if (tags == NULL || json_is_null(tags)) {
        return 0;
    }

    if (!json_is_array(tags)) {
        sd_ses_malformed(ident, "Tags");
    }

    json_array_foreach(tags, i, tag) {

        if (!json_is_object(tag)
            || sd_ses_field_str(tag, "Key", &k, &klen) != 0
            || sd_ses_field_str(tag, "Value", &v, &vlen) != 0
            || k == NULL || v == NULL)
        {
            sd_ses_malformed(ident, "Tags");
        }

        if (ident->claim[0] != '\0'
            || klen != sizeof(SD_SES_CLAIM_TAG) - 1
            || memcmp(k, SD_SES_CLAIM_TAG, klen) != 0
            || vlen == 0 || vlen > SD_SES_CLAIM_LEN
            || sd_ses_has_ctl(v, vlen))
        {
            continue;
        }

        memcpy(ident->claim, v, vlen);
        ident->claim[vlen] = '\0';
    }

    return 0;
}


/* ListEmailIdentities */

sd_ses_status_e
sd_ses_parse_list(const char *body, size_t len, sd_ses_list_cb_pt cb,
    void *ctx, char *next_token, size_t bufsz)
{
    size_t               i, tlen;
    json_t              *root, *item;
    const char          *tok;
    sd_ses_status_e      rc;
    sd_ses_list_item_t   it;
    const json_t        *items;

    if (next_token != NULL && bufsz > 0) {
        next_token[0] = '\0';
    }

    root = sd_ses_json_object(body, len);
    if (root == NULL) {
        return SD_SES_MALFORMED;
    }

    rc = SD_SES_MALFORMED;

    items = json_object_get(root, "EmailIdentities");

    if (items != NULL && !json_is_null(items) && !json_is_array(items)) {
        goto done;
    }

    if (sd_ses_field_str(root, "NextToken", &tok, &tlen) != 0) {
        goto done;
    }

    if (tok != NULL && tlen > 0) {
        /* a cut token would skip pages or loop: refuse it instead */
        if ((next_token != NULL && tlen >= bufsz)
            || sd_ses_has_ctl(tok, tlen))
        {
            goto done;
        }
    }

    /* the whole page is checked before the first callback */
    json_array_foreach(items, i, item) {
        if (sd_ses_list_item(item, &it) != 0) {
            goto done;
        }
    }

    if (tok != NULL && tlen > 0 && next_token != NULL) {
        memcpy(next_token, tok, tlen);
        next_token[tlen] = '\0';
    }

    rc = SD_SES_OK;

    json_array_foreach(items, i, item) {
        if (cb == NULL) {
            break;
        }

        if (sd_ses_list_item(item, &it) == 0 && it.name_len > 0
            && cb(ctx, &it) != 0)
        {
            break;
        }
    }

done:

    json_decref(root);

    return rc;
}


/* one EmailIdentities entry; an entry with no name gives name_len 0 */
static int
sd_ses_list_item(const json_t *item, sd_ses_list_item_t *out)
{
    int  v;

    memset(out, 0, sizeof(*out));

    if (!json_is_object(item)) {
        return -1;
    }

    v = SD_SES_IDENTITY_UNKNOWN;

    if (sd_ses_field_enum(item, "IdentityType", sd_ses_identity_types,
                          SD_SES_IDENTITY_UNKNOWN, &v) != 0)
    {
        return -1;
    }

    out->identity_type = (sd_ses_identity_type_e) v;

    if (sd_ses_field_str(item, "IdentityName", &out->name, &out->name_len)
        != 0 || sd_ses_has_ctl(out->name, out->name_len))
    {
        return -1;
    }

    if (sd_ses_field_bool(item, "SendingEnabled", &out->sending_enabled)
        != 0)
    {
        return -1;
    }

    v = SD_SES_VS_NONE;

    if (sd_ses_field_enum(item, "VerificationStatus", sd_ses_vstatus_names,
                          SD_SES_VS_UNKNOWN, &v) != 0)
    {
        return -1;
    }

    out->verification_status = (sd_ses_vstatus_e) v;

    return 0;
}


/* names */

/*
 * The API shows three DKIM states: pending, verified, failed.  SES documents
 * TEMPORARY_FAILURE as "a temporary issue is preventing Amazon SES from
 * determining the DKIM authentication status" (DkimStatus, SESv2 API
 * reference): no verdict yet, and SES goes on checking, while FAILED
 * means it stopped.  So it shows as "pending" and the refresher keeps
 * polling; VerificationInfo.ErrorType carries the detail.  NOT_STARTED
 * (no DKIM check yet, e.g. an address) and unknown values are pending
 * too: only SES's SUCCESS may ever show as verified.
 */
const char *
sd_ses_dkim_status_name(sd_ses_vstatus_e status)
{
    switch (status) {

    case SD_SES_VS_SUCCESS:
        return "verified";

    case SD_SES_VS_FAILED:
        return "failed";

    default:
        return "pending";
    }
}


/*
 * MailFromDomainStatus TEMPORARY_FAILURE is documented the same way ("a
 * temporary issue occurred, which prevented Amazon SES from determining
 * the status of the MAIL FROM domain"), so it is "pending" for the same
 * reason; absent (no custom MAIL FROM domain) is "not_configured".
 */
const char *
sd_ses_mail_from_status_name(sd_ses_vstatus_e status)
{
    switch (status) {

    case SD_SES_VS_NONE:
        return "not_configured";

    case SD_SES_VS_SUCCESS:
        return "verified";

    case SD_SES_VS_FAILED:
        return "failed";

    default:
        return "pending";
    }
}


const char *
sd_ses_vstatus_name(sd_ses_vstatus_e status)
{
    switch (status) {

    case SD_SES_VS_NONE:
        return "NONE";

    case SD_SES_VS_PENDING:
        return "PENDING";

    case SD_SES_VS_SUCCESS:
        return "SUCCESS";

    case SD_SES_VS_FAILED:
        return "FAILED";

    case SD_SES_VS_TEMPORARY_FAILURE:
        return "TEMPORARY_FAILURE";

    case SD_SES_VS_NOT_STARTED:
        return "NOT_STARTED";

    default:
        return "UNKNOWN";
    }
}


const char *
sd_ses_status_name(sd_ses_status_e status)
{
    switch (status) {

    case SD_SES_OK:
        return "ok";

    case SD_SES_ALREADY_EXISTS:
        return "already_exists";

    case SD_SES_NOT_FOUND:
        return "not_found";

    case SD_SES_THROTTLED:
        return "throttled";

    case SD_SES_LIMIT_EXCEEDED:
        return "limit_exceeded";

    case SD_SES_BAD_REQUEST:
        return "bad_request";

    case SD_SES_ACCESS_DENIED:
        return "access_denied";

    case SD_SES_SERVER_ERROR:
        return "server_error";

    case SD_SES_TIMEOUT:
        return "timeout";

    case SD_SES_CONNECT_FAILED:
        return "connect_failed";

    case SD_SES_CONCURRENT_MODIFICATION:
        return "concurrent_modification";

    case SD_SES_MALFORMED:
    default:
        return "malformed";
    }
}


int
sd_ses_status_retryable(sd_ses_status_e status)
{
    switch (status) {

    case SD_SES_THROTTLED:
    case SD_SES_SERVER_ERROR:
    case SD_SES_TIMEOUT:
    case SD_SES_CONNECT_FAILED:
    case SD_SES_CONCURRENT_MODIFICATION:
        return 1;

    default:
        return 0;
    }
}


/*
 * ALREADY_EXISTS and NOT_FOUND are normally handled by the caller (adopt,
 * re-create); if one reaches the client it is SES saying no.  A
 * concurrent modification is transient, like throttling.
 */
const char *
sd_ses_error_code(sd_ses_status_e status)
{
    switch (status) {

    case SD_SES_OK:
        return NULL;

    case SD_SES_THROTTLED:
    case SD_SES_SERVER_ERROR:
    case SD_SES_CONNECT_FAILED:
    case SD_SES_CONCURRENT_MODIFICATION:
        return "ses_unavailable";

    case SD_SES_TIMEOUT:
        return "ses_timeout";

    default:
        return "ses_error";
    }
}
