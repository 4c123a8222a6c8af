/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: SES response parsing (pure core).
 *
 * Turns what Amazon SES answered (HTTP status, x-amzn-ErrorType, body)
 * into typed results, independent of the transport.  No nginx types;
 * inputs are (pointer, length) pairs that need not be NUL-terminated.
 */


#ifndef _NGX_HTTP_SENDER_DOMAINS_SESPARSE_H_INCLUDED_
#define _NGX_HTTP_SENDER_DOMAINS_SESPARSE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define SD_SES_ERROR_TYPE_LEN     64
#define SD_SES_MESSAGE_LEN        512

#define SD_SES_MAX_DKIM_TOKENS    10
#define SD_SES_DKIM_TOKEN_LEN     64     /* longest token accepted */
#define SD_SES_DOMAIN_LEN         253    /* longest domain name accepted */
#define SD_SES_ORIGIN_LEN         40
#define SD_SES_VERIF_ERROR_LEN    40
#define SD_SES_CLAIM_LEN          64     /* longest claim tag value kept */

/*
 * The tag CreateEmailIdentity sets: its value names the claim (row) that
 * created the identity, so that an answer lost in transit is recognised.
 */
#define SD_SES_CLAIM_TAG          "sender-domains:claim"


typedef enum {
    SD_SES_OK = 0,
    SD_SES_ALREADY_EXISTS,
    SD_SES_NOT_FOUND,
    SD_SES_THROTTLED,
    SD_SES_LIMIT_EXCEEDED,
    SD_SES_BAD_REQUEST,
    SD_SES_ACCESS_DENIED,       /* bad signature, unknown key, expired, 403 */
    SD_SES_SERVER_ERROR,
    SD_SES_TIMEOUT,
    SD_SES_CONNECT_FAILED,
    SD_SES_MALFORMED,
    SD_SES_CONCURRENT_MODIFICATION
} sd_ses_status_e;


typedef struct {
    sd_ses_status_e  status;
    int              http_status;
    /* 1 when message came from SES, 0 when it is our default sentence */
    int              ses_message;
    /* sanitized error type, e.g. "NotFoundException"; "" when none */
    char             error_type[SD_SES_ERROR_TYPE_LEN];
    /* one line of valid UTF-8, no control characters; never empty on error */
    char             message[SD_SES_MESSAGE_LEN];
} sd_ses_result_t;


typedef enum {
    SD_SES_IDENTITY_UNKNOWN = 0,      /* absent or a value added later */
    SD_SES_IDENTITY_EMAIL_ADDRESS,
    SD_SES_IDENTITY_DOMAIN,
    SD_SES_IDENTITY_MANAGED_DOMAIN
} sd_ses_identity_type_e;


/* VerificationStatus, DkimAttributes.Status, MailFromDomainStatus */
typedef enum {
    SD_SES_VS_NONE = 0,               /* absent */
    SD_SES_VS_PENDING,
    SD_SES_VS_SUCCESS,
    SD_SES_VS_FAILED,
    SD_SES_VS_TEMPORARY_FAILURE,
    SD_SES_VS_NOT_STARTED,
    SD_SES_VS_UNKNOWN                 /* a value added to SES later */
} sd_ses_vstatus_e;


typedef enum {
    SD_SES_MX_NONE = 0,               /* absent */
    SD_SES_MX_USE_DEFAULT_VALUE,
    SD_SES_MX_REJECT_MESSAGE,
    SD_SES_MX_UNKNOWN
} sd_ses_mx_behavior_e;


typedef struct {
    sd_ses_identity_type_e  identity_type;
    int                     verified_for_sending;
    sd_ses_vstatus_e        verification_status;

    struct {
        int                 present;          /* DkimAttributes was sent */
        int                 signing_enabled;
        sd_ses_vstatus_e    status;
        size_t              ntokens;
        char                tokens[SD_SES_MAX_DKIM_TOKENS]
                                  [SD_SES_DKIM_TOKEN_LEN + 1];
        char                signing_hosted_zone[SD_SES_DOMAIN_LEN + 1];
        char                signing_origin[SD_SES_ORIGIN_LEN + 1];
    } dkim;

    struct {
        /* "" when no custom MAIL FROM is set */
        char                  domain[SD_SES_DOMAIN_LEN + 1];
        sd_ses_vstatus_e      status;
        sd_ses_mx_behavior_e  behavior;
    } mail_from;

    struct {
        char                error_type[SD_SES_VERIF_ERROR_LEN + 1];
        int64_t             last_checked;     /* epoch seconds, 0: never */
        int64_t             last_success;     /* epoch seconds, 0: never */
    } verification_info;

    /*
     * Tags: the value of the SD_SES_CLAIM_TAG tag, "" when there is none
     * (or one longer than SD_SES_CLAIM_LEN or with control characters,
     * which no claim of this module is).  Other tags are ignored.
     */
    char                    claim[SD_SES_CLAIM_LEN + 1];

    /* on SD_SES_MALFORMED: the offending field, for the error log */
    const char             *malformed_field;
} sd_ses_identity_t;


typedef struct {
    sd_ses_identity_type_e  identity_type;
    const char             *name;             /* valid during the callback */
    size_t                  name_len;
    int                     sending_enabled;
    sd_ses_vstatus_e        verification_status;
} sd_ses_list_item_t;

/* return 0 to go on, anything else to stop the walk */
typedef int (*sd_ses_list_cb_pt)(void *ctx, const sd_ses_list_item_t *item);


/*
 * SESv2 (REST-JSON).  error_type is the x-amzn-ErrorType header value
 * (NULL or empty when absent).  expect_object: a 2xx answer must carry
 * a JSON object (every SESv2 operation returns one, "{}" at least); 0
 * when the caller parses a 2xx answer itself (sd_ses_parse_identity,
 * sd_ses_parse_list say MALFORMED), so the body is not parsed twice.
 * Fills *res and returns res->status.
 */
sd_ses_status_e sd_ses_classify(int http_status, const char *error_type,
    size_t error_type_len, const char *body, size_t body_len,
    int expect_object, sd_ses_result_t *res);

/* SESv1 Query API (VerifyEmailIdentity): XML success or ErrorResponse */
sd_ses_status_e sd_ses_classify_query_xml(int http_status,
    const char *body, size_t body_len, sd_ses_result_t *res);

/*
 * A result without an SES answer (timeout, connection failure), or a
 * reset one: the status and its default sentence.
 */
void sd_ses_result_set(sd_ses_result_t *res, sd_ses_status_e status);

/* GetEmailIdentity or CreateEmailIdentity 200 body: SD_SES_OK/MALFORMED */
sd_ses_status_e sd_ses_parse_identity(const char *body, size_t len,
    sd_ses_identity_t *ident);

/*
 * ListEmailIdentities 200 body.  The whole page is checked before the
 * first callback, so a malformed page calls back for nothing.  The
 * NextToken is copied to next_token ("" on the last page); one that does
 * not fit is SD_SES_MALFORMED, since a cut token would loop or skip.
 */
sd_ses_status_e sd_ses_parse_list(const char *body, size_t len,
    sd_ses_list_cb_pt cb, void *ctx, char *next_token, size_t bufsz);

/* the statuses the API shows (docs/api.md): "pending", "verified", ... */
const char *sd_ses_dkim_status_name(sd_ses_vstatus_e status);
const char *sd_ses_mail_from_status_name(sd_ses_vstatus_e status);

/* for logs: "PENDING", "SUCCESS", ...; "NONE" when absent */
const char *sd_ses_vstatus_name(sd_ses_vstatus_e status);

/* for logs: "ok", "throttled", "access_denied", ... */
const char *sd_ses_status_name(sd_ses_status_e status);

/* a later identical call may succeed: throttling, 5xx, timeouts */
int sd_ses_status_retryable(sd_ses_status_e status);

/*
 * The error code of an SES failure, as the API answers it and a row keeps
 * it in last_error: "ses_unavailable" (SES busy or down, throttling, a
 * concurrent modification), "ses_timeout", or "ses_error" (SES said no,
 * or its answer was unreadable); NULL for SD_SES_OK.  The HTTP status
 * that goes with it is the glue's (ngx_http_sender_domains_ses_status()).
 */
const char *sd_ses_error_code(sd_ses_status_e status);


#endif /* _NGX_HTTP_SENDER_DOMAINS_SESPARSE_H_INCLUDED_ */
