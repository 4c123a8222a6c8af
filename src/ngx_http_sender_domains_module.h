/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: types shared by the nginx-facing files.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_MODULE_H
#define NGX_HTTP_SENDER_DOMAINS_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sd_store.h"
#include "sd_credentials.h"


/* the module's version (semantic versioning), logged and shown by GET / */
#define SD_VERSION                            "0.9.0"

#define NGX_HTTP_SENDER_DOMAINS_DEFAULT_MAP   (64 * 1024 * 1024)

/* SES's own limits: DNS search of a domain, an address's link */
#define SD_CLAIM_DOMAIN_MAX                   (72 * 3600)
#define SD_CLAIM_ADDRESS_MAX                  (24 * 3600)


typedef struct {
    ngx_str_t                   db_path;
    size_t                      db_size;

    ngx_str_t                   default_from;       /* as configured */
    ngx_str_t                   default_name;
    ngx_str_t                   default_address;

    ngx_str_t                   ses_region;
    ngx_str_t                   ses_endpoint;
    ngx_str_t                   credentials_file;
    ngx_str_t                   credentials_profile;

    /*
     * read from credentials_file by the master while it parses the
     * configuration (as nginx reads ssl_certificate_key), so "nginx -t"
     * validates the file and a reload re-reads it; NULL: the environment
     */
    sd_credentials_t           *credentials;

    ngx_msec_t                  refresh_interval;
    ngx_uint_t                  ses_rate;
    ngx_msec_t                  ses_timeout;

    ngx_shm_zone_t             *shm_zone;

    void                       *webhooks;       /* webhook.c's */
    ngx_str_t                   dns_servers;        /* c-ares CSV; NUL */
    ngx_msec_t                  dns_timeout;
    time_t                      dns_diagnose_after;   /* pending for this */

    /* per-cycle state of the configuration being parsed, never a static */
    ngx_flag_t                  api_used;
    ngx_flag_t                  metrics_used;   /* a sender_domains_metrics */
    ngx_core_conf_t            *core_conf;      /* the worker user */

    /* per workspace; 0: unlimited (docs/operations.md, "Store size") */
    ngx_uint_t                  max_identities;
    ngx_uint_t                  max_legacy;
    ngx_uint_t                  expected_workspaces;   /* 0: not given */

    /* per identity; 0: off (docs/directives.md) */
    time_t                      refresh_cooldown;
    time_t                      resend_cooldown;
    ngx_uint_t                  resend_max;            /* per 24 h */

    /* issue 13: claims that stop blocking, abandoned rows purged */
    time_t                      claim_domain;       /* seconds */
    time_t                      claim_address;
    time_t                      purge_after;

    /*
     * Set by the refresher in each worker: takes over a half-done add's
     * next step (the MAIL FROM an add answered before).  The API calls it
     * through here, so the API files need not know the refresher's.
     */
    ngx_int_t                 (*resume)(ngx_str_t *ws, ngx_str_t *id);

    /* cluster.c's conf; NULL: one node, LMDB is the store */
    void                       *cluster;
} ngx_http_sender_domains_main_conf_t;


/*
 * What one stored row costs in the LMDB map, measured (docs/operations.md):
 * a domain row with its DKIM tokens, claim and schedule entries, B-tree
 * pages at LMDB's usual fill; a legacy row is a small record.
 */
#define NGX_HTTP_SENDER_DOMAINS_ROW_BYTES     4096
#define NGX_HTTP_SENDER_DOMAINS_LEGACY_BYTES  640


/*
 * A caller directive's value: a complex value, and when it is one lone
 * variable ("$http_x_workspace", the usual case) that variable's index,
 * read directly on each request rather than through the script engine.
 */
typedef struct {
    ngx_http_complex_value_t    cv;
    ngx_int_t                   index;      /* NGX_ERROR: use cv */
} ngx_http_sender_domains_value_t;


typedef struct {
    ngx_flag_t                  api;

    ngx_http_sender_domains_value_t  *workspace;
    ngx_http_sender_domains_value_t  *role;
    ngx_http_sender_domains_value_t  *plan;
    ngx_http_sender_domains_value_t  *trial_ends;

    ngx_str_t                   jwt_secret;         /* file contents */
    ngx_flag_t                  jwt_set;
    ngx_flag_t                  jwt_require_exp;

    ngx_flag_t                  version_header;
} ngx_http_sender_domains_loc_conf_t;


typedef enum {
    NGX_HTTP_SENDER_DOMAINS_ROLE_NONE = 0,
    NGX_HTTP_SENDER_DOMAINS_ROLE_MEMBER,
    NGX_HTTP_SENDER_DOMAINS_ROLE_ADMIN,
    NGX_HTTP_SENDER_DOMAINS_ROLE_SERVICE
} ngx_http_sender_domains_role_e;


/* the caller, computed once per request from the location's values */
typedef struct {
    ngx_str_t                   workspace;
    ngx_http_sender_domains_role_e  role;       /* NONE for a resolve */
    ngx_flag_t                  plan_ok;
} ngx_http_sender_domains_caller_t;


extern ngx_module_t  ngx_http_sender_domains_module;


sd_store_t *ngx_http_sender_domains_store(void);
void *ngx_http_sender_domains_palloc(void *pool, size_t size);
ngx_int_t ngx_http_sender_domains_prepare_store(ngx_log_t *log,
    ngx_http_sender_domains_main_conf_t *smcf);

/*
 * A shared zone's init: the data of the previous cycle on a reload, the
 * slab pool's data when the zone already exists, else "size" zeroed
 * bytes from the zone's slab pool, kept as the pool's data.
 */
ngx_int_t ngx_http_sender_domains_shm_init(ngx_shm_zone_t *shm_zone,
    void *data, size_t size);

/*
 * Reads a file named in the configuration (up to max bytes, a full name)
 * into the configuration's pool, NUL-terminated, as the master parses it;
 * "secret": warn when group or others may read it.  NGX_ERROR: said at
 * emerg, "directive: cannot open ...".
 */
ngx_int_t ngx_http_sender_domains_conf_read_file(ngx_conf_t *cf,
    const char *directive, ngx_str_t *path, size_t max, ngx_uint_t secret,
    ngx_str_t *out);

ngx_int_t ngx_http_sender_domains_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_sender_domains_value(ngx_http_request_t *r,
    ngx_http_sender_domains_value_t *v, ngx_str_t *out);

/*
 * A value that came with a request (a workspace) as a log line may show
 * it: itself when it is plain, else escaped (sd_log_escape()), cut with
 * "..." past SD_WORKSPACE_MAX bytes.  The result lives until the fourth
 * call after this one (a ring of static buffers: a worker logs one line
 * at a time), so a line can show up to four such values.  An argument
 * of ngx_log_error(), it is evaluated only when the line is written.
 */
ngx_str_t *ngx_http_sender_domains_log_esc(ngx_str_t *in);

#endif /* NGX_HTTP_SENDER_DOMAINS_MODULE_H */
