/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: directives and lifecycle.
 *
 * The master only parses the configuration.  Each worker opens the LMDB
 * environment after fork (init_process) and closes it on exit, as LMDB
 * requires of multi-process users.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/crypto.h>

#include "ngx_http_sender_domains_module.h"
#include "sd_identity.h"
#include "ngx_http_sender_domains_api.h"
#include "ngx_http_sender_domains_curl.h"
#include "ngx_http_sender_domains_ses.h"
#include "ngx_http_sender_domains_refresh.h"
#include "ngx_http_sender_domains_budget.h"
#include "ngx_http_sender_domains_resolver.h"
#include "sd_quota.h"
#include "ngx_http_sender_domains_metrics.h"
#include "ngx_http_sender_domains_webhook.h"
#include "ngx_http_sender_domains_cluster.h"


static void *ngx_http_sender_domains_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_sender_domains_init_main_conf(ngx_conf_t *cf,
    void *conf);
static void *ngx_http_sender_domains_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_sender_domains_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_sender_domains_db(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_sender_domains_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_sender_domains_default_from(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_sender_domains_ses_region(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_sender_domains_ses_endpoint(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_sender_domains_credentials_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_sender_domains_jwt_secret_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_sender_domains_claim_expiry(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_sender_domains_set_value(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_sender_domains_ses_rate(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_sender_domains_max_identities(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_sender_domains_resend_cooldown(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_http_sender_domains_check_fit(ngx_conf_t *cf,
    ngx_http_sender_domains_main_conf_t *smcf);
static ngx_int_t ngx_http_sender_domains_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_sender_domains_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_sender_domains_prepare_file(ngx_log_t *log,
    ngx_core_conf_t *ccf, u_char *path);
static ngx_int_t ngx_http_sender_domains_read_secret(ngx_conf_t *cf,
    const char *directive, ngx_str_t *path, size_t max, ngx_str_t *out);
static void ngx_http_sender_domains_wipe_credentials(void *data);
static ngx_int_t ngx_http_sender_domains_init_process(ngx_cycle_t *cycle);
static void ngx_http_sender_domains_exit_process(ngx_cycle_t *cycle);


/* the store as this worker opened it (process state, not configuration) */
static sd_store_t  *ngx_http_sender_domains_db_handle;


static ngx_command_t  ngx_http_sender_domains_commands[] = {

    { ngx_string("sender_domains_db"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_sender_domains_db,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_sender_domains_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_default_from"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_default_from,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_ses_region"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_ses_region,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_ses_endpoint"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_ses_endpoint,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_aws_credentials_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_sender_domains_credentials_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_refresh_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_main_conf_t, refresh_interval),
      NULL },

    { ngx_string("sender_domains_ses_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_ses_rate,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_ses_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_main_conf_t, ses_timeout),
      NULL },

    { ngx_string("sender_domains_workspace"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_loc_conf_t, workspace),
      NULL },

    { ngx_string("sender_domains_role"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_loc_conf_t, role),
      NULL },

    { ngx_string("sender_domains_plan"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_loc_conf_t, plan),
      NULL },

    { ngx_string("sender_domains_trial_ends"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_loc_conf_t, trial_ends),
      NULL },

    { ngx_string("sender_domains_jwt_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_jwt_secret_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_version_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_loc_conf_t, version_header),
      NULL },

    { ngx_string("sender_domains_jwt_require_exp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_loc_conf_t, jwt_require_exp),
      NULL },

    { ngx_string("sender_domains_max_identities"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_sender_domains_max_identities,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_max_legacy"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_main_conf_t, max_legacy),
      NULL },

    { ngx_string("sender_domains_refresh_cooldown"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_main_conf_t, refresh_cooldown),
      NULL },

    { ngx_string("sender_domains_resend_cooldown"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_sender_domains_resend_cooldown,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_sender_domains_metrics_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_webhook"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_sender_domains_webhook_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_webhook_retry"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3,
      ngx_http_sender_domains_webhook_retry,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_webhook_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_webhook_queue,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_dns_resolver"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_sender_domains_dns_resolver,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_dns_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_main_conf_t, dns_timeout),
      NULL },

    { ngx_string("sender_domains_dns_diagnose_after"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_main_conf_t, dns_diagnose_after),
      NULL },

    { ngx_string("sender_domains_claim_expiry"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_sender_domains_claim_expiry,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_cluster"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_sender_domains_cluster_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_cluster_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_cluster_prefix,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sender_domains_cluster_node"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_cluster_node,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* the offset is into the cluster's conf, not the main conf */
    { ngx_string("sender_domains_cluster_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_cluster_ssl_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_cluster_conf_t,
               etcd.ssl_trusted_certificate),
      NULL },

    { ngx_string("sender_domains_cluster_ssl_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_cluster_ssl_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_cluster_conf_t,
               etcd.ssl_certificate),
      NULL },

    { ngx_string("sender_domains_cluster_ssl_certificate_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sender_domains_cluster_ssl_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_cluster_conf_t,
               etcd.ssl_certificate_key),
      NULL },

    { ngx_string("sender_domains_purge_after"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sender_domains_main_conf_t, purge_after),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_sender_domains_module_ctx = {
    ngx_http_sender_domains_add_variables, /* preconfiguration */
    ngx_http_sender_domains_init,          /* postconfiguration */

    ngx_http_sender_domains_create_main_conf, /* create main configuration */
    ngx_http_sender_domains_init_main_conf, /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_sender_domains_create_loc_conf, /* create location configuration */
    ngx_http_sender_domains_merge_loc_conf /* merge location configuration */
};


ngx_module_t  ngx_http_sender_domains_module = {
    NGX_MODULE_V1,
    &ngx_http_sender_domains_module_ctx,   /* module context */
    ngx_http_sender_domains_commands,      /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_sender_domains_init_process,  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_sender_domains_exit_process,  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_sender_domains_vars[] = {

    { ngx_string("sender_domains_from"), NULL,
      ngx_http_sender_domains_from_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("sender_domains_jwt_"), NULL,
      ngx_http_sender_domains_jwt_variable, 0,
      NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


sd_store_t *
ngx_http_sender_domains_store(void)
{
    return ngx_http_sender_domains_db_handle;
}


/* an sd_store_alloc_pt: copies out of the store live in a pool */

void *
ngx_http_sender_domains_palloc(void *pool, size_t size)
{
    return ngx_pnalloc(pool, size);
}


static ngx_int_t
ngx_http_sender_domains_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_sender_domains_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_sender_domains_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_sender_domains_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     smcf->db_path = { 0, NULL };
     *     smcf->default_from = { 0, NULL };
     *     smcf->ses_region = { 0, NULL };
     *     smcf->ses_endpoint = { 0, NULL };
     *     smcf->credentials_file = { 0, NULL };
     *     smcf->shm_zone = NULL;
     */

    smcf->db_size = NGX_CONF_UNSET_SIZE;
    smcf->refresh_interval = NGX_CONF_UNSET_MSEC;
    smcf->ses_rate = NGX_CONF_UNSET_UINT;
    smcf->ses_timeout = NGX_CONF_UNSET_MSEC;
    smcf->dns_timeout = NGX_CONF_UNSET_MSEC;
    smcf->dns_diagnose_after = NGX_CONF_UNSET;
    smcf->max_identities = NGX_CONF_UNSET_UINT;
    smcf->max_legacy = NGX_CONF_UNSET_UINT;
    smcf->refresh_cooldown = NGX_CONF_UNSET;
    smcf->resend_cooldown = NGX_CONF_UNSET;
    smcf->resend_max = NGX_CONF_UNSET_UINT;
    smcf->claim_domain = NGX_CONF_UNSET;
    smcf->claim_address = NGX_CONF_UNSET;
    smcf->purge_after = NGX_CONF_UNSET;

    return smcf;
}


static char *
ngx_http_sender_domains_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    ngx_conf_init_size_value(smcf->db_size,
                             NGX_HTTP_SENDER_DOMAINS_DEFAULT_MAP);
    ngx_conf_init_msec_value(smcf->refresh_interval, 60000);
    ngx_conf_init_uint_value(smcf->ses_rate, 1);
    ngx_conf_init_msec_value(smcf->ses_timeout, 10000);
    ngx_conf_init_msec_value(smcf->dns_timeout,
                             NGX_HTTP_SENDER_DOMAINS_DNS_TIMEOUT);
    ngx_conf_init_value(smcf->dns_diagnose_after, 3600);
    ngx_conf_init_uint_value(smcf->max_identities, 100);
    ngx_conf_init_uint_value(smcf->max_legacy, 1000);
    ngx_conf_init_value(smcf->refresh_cooldown, SD_REFRESH_COOLDOWN);
    ngx_conf_init_value(smcf->resend_cooldown, SD_RESEND_COOLDOWN);
    ngx_conf_init_uint_value(smcf->resend_max, SD_RESEND_MAX);

    if (smcf->db_path.len && smcf->expected_workspaces) {
        ngx_http_sender_domains_check_fit(cf, smcf);
    }
    ngx_conf_init_value(smcf->claim_domain, SD_CLAIM_DOMAIN_MAX);
    ngx_conf_init_value(smcf->claim_address, SD_CLAIM_ADDRESS_MAX);
    ngx_conf_init_value(smcf->purge_after, 30 * 86400);

    if (smcf->ses_region.len == 0) {
        ngx_str_set(&smcf->ses_region, "us-east-1");
    }

    if (ngx_http_sender_domains_cluster_init_conf(cf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    /* the worker user, known once the whole configuration is parsed */
    smcf->core_conf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                                       ngx_core_module);

    /*
     * the SES call budget shared by all workers; its init prepares the
     * store; the metrics' zone only when a location serves them (nothing
     * is counted otherwise)
     */
    if (smcf->db_path.len
        && (ngx_http_sender_domains_zone_add(cf) != NGX_OK
            || (smcf->metrics_used
                && ngx_http_sender_domains_metrics_zone_add(cf) != NGX_OK)))
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * With the expected number of workspaces given, warns at start (and on
 * "nginx -t") when every workspace at its limits would not fit in the map:
 * the per-workspace limits are what keeps one workspace from filling the
 * store for everyone, so they must make a full store unreachable.
 */

static void
ngx_http_sender_domains_check_fit(ngx_conf_t *cf,
    ngx_http_sender_domains_main_conf_t *smcf)
{
    uint64_t  need, per_ws;

    if (smcf->max_identities == 0 || smcf->max_legacy == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "sender_domains: with an unlimited %s one "
                           "workspace can fill the store (%uz MiB) for all "
                           "%ui workspaces",
                           smcf->max_identities == 0
                           ? "sender_domains_max_identities"
                           : "sender_domains_max_legacy",
                           smcf->db_size >> 20, smcf->expected_workspaces);
        return;
    }

    per_ws = (uint64_t) smcf->max_identities
             * NGX_HTTP_SENDER_DOMAINS_ROW_BYTES
             + (uint64_t) smcf->max_legacy
               * NGX_HTTP_SENDER_DOMAINS_LEGACY_BYTES;
    need = per_ws * smcf->expected_workspaces;

    if (need > (uint64_t) smcf->db_size) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "sender_domains: %ui workspaces at their limits "
                           "(%ui identities x %d bytes + %ui legacy x %d "
                           "bytes each) need about %uL MiB, more than the "
                           "store's %uz MiB: raise the size in "
                           "sender_domains_db or lower the limits",
                           smcf->expected_workspaces, smcf->max_identities,
                           NGX_HTTP_SENDER_DOMAINS_ROW_BYTES,
                           smcf->max_legacy,
                           NGX_HTTP_SENDER_DOMAINS_LEGACY_BYTES,
                           (need + (1 << 20) - 1) >> 20, smcf->db_size >> 20);
    }
}


/* sender_domains_resend_cooldown time [N] */

static char *
ngx_http_sender_domains_resend_cooldown(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (smcf->resend_cooldown != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    smcf->resend_cooldown = ngx_parse_time(&value[1], 1);
    if (smcf->resend_cooldown == (time_t) NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid time \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        n = ngx_atoi(value[2].data, value[2].len);
        if (n == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number of resends a day \"%V\"",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        smcf->resend_max = n;
    }

    return NGX_CONF_OK;
}


/* sender_domains_max_identities N [workspaces=W] */

static char *
ngx_http_sender_domains_max_identities(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (smcf->max_identities != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of identities \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    smcf->max_identities = n;

    if (cf->args->nelts == 3) {
        if (value[2].len <= 11
            || ngx_strncmp(value[2].data, "workspaces=", 11) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        n = ngx_atoi(value[2].data + 11, value[2].len - 11);
        if (n == NGX_ERROR || n == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number of workspaces \"%V\"",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        smcf->expected_workspaces = n;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_sender_domains_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_sender_domains_loc_conf_t  *slcf;

    slcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_sender_domains_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     slcf->jwt_secret = { 0, NULL };
     */

    slcf->api = NGX_CONF_UNSET;
    slcf->workspace = NGX_CONF_UNSET_PTR;
    slcf->role = NGX_CONF_UNSET_PTR;
    slcf->plan = NGX_CONF_UNSET_PTR;
    slcf->trial_ends = NGX_CONF_UNSET_PTR;
    slcf->jwt_set = NGX_CONF_UNSET;
    slcf->jwt_require_exp = NGX_CONF_UNSET;
    slcf->version_header = NGX_CONF_UNSET;

    return slcf;
}


static char *
ngx_http_sender_domains_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_sender_domains_loc_conf_t  *prev = parent;
    ngx_http_sender_domains_loc_conf_t  *conf = child;

    ngx_conf_merge_value(conf->api, prev->api, 0);
    ngx_conf_merge_ptr_value(conf->workspace, prev->workspace, NULL);
    ngx_conf_merge_ptr_value(conf->role, prev->role, NULL);
    ngx_conf_merge_ptr_value(conf->plan, prev->plan, NULL);
    ngx_conf_merge_ptr_value(conf->trial_ends, prev->trial_ends, NULL);
    ngx_conf_merge_value(conf->version_header, prev->version_header, 0);

    if (conf->jwt_set == NGX_CONF_UNSET) {
        conf->jwt_set = prev->jwt_set == NGX_CONF_UNSET ? 0 : prev->jwt_set;
        conf->jwt_secret = prev->jwt_secret;
    }

    ngx_conf_merge_value(conf->jwt_require_exp, prev->jwt_require_exp, 1);

    return NGX_CONF_OK;
}


static char *
ngx_http_sender_domains_db(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (smcf->db_path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_db needs a file path");
        return NGX_CONF_ERROR;
    }

    smcf->db_path = value[1];

    if (ngx_conf_full_name(cf->cycle, &smcf->db_path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        size = ngx_parse_size(&value[2]);

        if (size == NGX_ERROR || size < 1024 * 1024) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "sender_domains_db: invalid map size \"%V\", "
                               "expected a size of at least 1m such as 64m",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        smcf->db_size = size;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_sender_domains_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_sender_domains_loc_conf_t  *slcf = conf;

    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_sender_domains_main_conf_t  *smcf;

    if (slcf->api != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    slcf->api = 1;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_sender_domains_module);
    smcf->api_used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_sender_domains_api_handler;

    return NGX_CONF_OK;
}


/*
 * Splits "Name <addr>" or a bare "addr" into its parts.  Kept strict: the
 * default sender goes into every fallback From header.
 */

static char *
ngx_http_sender_domains_default_from(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    u_char     *lt, *gt, *at, *p, *end;
    ngx_str_t  *value;

    if (smcf->default_from.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    p = value[1].data;
    end = p + value[1].len;

    for ( /* void */ ; p < end; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            goto invalid;
        }
    }

    p = value[1].data;
    lt = ngx_strlchr(p, end, '<');

    if (lt) {
        gt = ngx_strlchr(lt, end, '>');
        if (gt == NULL || gt + 1 != end) {
            goto invalid;
        }

        smcf->default_address.data = lt + 1;
        smcf->default_address.len = gt - lt - 1;

        while (lt > p && lt[-1] == ' ') {
            lt--;
        }

        smcf->default_name.data = p;
        smcf->default_name.len = lt - p;

        /* the rules a workspace's own sender name meets */
        if (sd_sender_name_check((char *) p, lt - p) != SD_OK) {
            goto invalid;
        }

    } else {
        smcf->default_address = value[1];
    }

    at = ngx_strlchr(smcf->default_address.data,
                     smcf->default_address.data + smcf->default_address.len,
                     '@');

    if (at == NULL || at == smcf->default_address.data
        || at + 1 == smcf->default_address.data + smcf->default_address.len
        || ngx_strlchr(smcf->default_address.data,
                       smcf->default_address.data + smcf->default_address.len,
                       ' '))
    {
        goto invalid;
    }

    smcf->default_from = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "sender_domains_default_from: invalid sender \"%V\", "
                       "expected \"Name <address@domain>\" or an address",
                       &value[1]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_sender_domains_ses_region(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    u_char     *p, *end;
    ngx_str_t  *value;
    ngx_uint_t  dashes;

    if (smcf->ses_region.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* "us-east-1", "ap-southeast-2", "us-gov-west-1": letters, dashes, digit */
    dashes = 0;
    p = value[1].data;
    end = p + value[1].len;

    if (value[1].len < 4 || value[1].len > 32 || *p == '-'
        || end[-1] < '0' || end[-1] > '9')
    {
        goto invalid;
    }

    for ( /* void */ ; p < end; p++) {
        if (*p == '-') {
            dashes++;
            continue;
        }

        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) {
            goto invalid;
        }
    }

    if (dashes < 2) {
        goto invalid;
    }

    smcf->ses_region = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "sender_domains_ses_region: invalid region \"%V\", "
                       "expected an AWS region such as \"us-east-1\"",
                       &value[1]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_sender_domains_ses_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    ngx_str_t  *value;

    if (smcf->ses_endpoint.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (!(value[1].len > 7
          && ngx_strncmp(value[1].data, "http://", 7) == 0)
        && !(value[1].len > 8
             && ngx_strncmp(value[1].data, "https://", 8) == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_ses_endpoint: invalid URL \"%V\", "
                           "expected \"https://host[:port]\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    smcf->ses_endpoint = value[1];

    /* the path is always /v2/...: drop a trailing slash */
    while (smcf->ses_endpoint.len
           && smcf->ses_endpoint.data[smcf->ses_endpoint.len - 1] == '/')
    {
        smcf->ses_endpoint.len--;
    }

    return NGX_CONF_OK;
}


/*
 * The credentials file is read and parsed here, by the master, as nginx
 * reads ssl_certificate_key: a root-owned 0600 file works, "nginx -t"
 * reports a missing file, a bad format or a missing profile or key, and a
 * reload reads the file again.  The workers inherit the parsed copy.
 */

static char *
ngx_http_sender_domains_credentials_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    char                 err[SD_CRED_ERR_LEN], *profile;
    ngx_str_t           *value, text;
    sd_cred_rc_e         rc;
    ngx_pool_cleanup_t  *cln;

    if (smcf->credentials_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    smcf->credentials_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &smcf->credentials_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        smcf->credentials_profile = value[2];

    } else {
        ngx_str_set(&smcf->credentials_profile, SD_CRED_DEFAULT_PROFILE);
    }

    profile = ngx_pnalloc(cf->pool, smcf->credentials_profile.len + 1);
    smcf->credentials = ngx_pcalloc(cf->pool, sizeof(sd_credentials_t));
    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (profile == NULL || smcf->credentials == NULL || cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_sender_domains_wipe_credentials;
    cln->data = smcf->credentials;

    ngx_cpystrn((u_char *) profile, smcf->credentials_profile.data,
                smcf->credentials_profile.len + 1);

    if (ngx_http_sender_domains_read_secret(cf,
            "sender_domains_aws_credentials_file", &smcf->credentials_file,
            65536, &text)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rc = sd_credentials_parse((char *) text.data, text.len, profile,
                              smcf->credentials, err, sizeof(err));

    /* the raw file holds the secret too: leave no copy behind */
    OPENSSL_cleanse(text.data, text.len);

    if (rc != SD_CRED_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_aws_credentials_file: \"%V\", "
                           "profile \"%V\": %s", &smcf->credentials_file,
                           &smcf->credentials_profile, err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_sender_domains_wipe_credentials(void *data)
{
    sd_credentials_wipe(data);
}


/*
 * Reads a file of secrets (up to max bytes) into the configuration's pool,
 * and warns when group or others may read it.
 */

static ngx_int_t
ngx_http_sender_domains_read_secret(ngx_conf_t *cf, const char *directive,
    ngx_str_t *path, size_t max, ngx_str_t *out)
{
    return ngx_http_sender_domains_conf_read_file(cf, directive, path, max,
                                                  1, out);
}


ngx_int_t
ngx_http_sender_domains_conf_read_file(ngx_conf_t *cf,
    const char *directive, ngx_str_t *path, size_t max, ngx_uint_t secret,
    ngx_str_t *out)
{
    ssize_t          n;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = *path;
    file.log = cf->log;

    file.fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "%s: cannot open \"%V\"", directive, path);
        return NGX_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "%s: cannot stat \"%V\"", directive, path);
        ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    if ((size_t) ngx_file_size(&fi) > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s: \"%V\" is larger than %uz bytes",
                           directive, path, max);
        ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    if (secret && (fi.st_mode & (S_IRWXG | S_IRWXO))) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "%s: \"%V\" holds a secret and is readable by "
                           "group or others (mode 0%d%d%d); nginx reads it "
                           "as the master's user, so \"chmod 600\" is enough",
                           directive, path, (int) (fi.st_mode >> 6) & 7,
                           (int) (fi.st_mode >> 3) & 7, (int) fi.st_mode & 7);
    }

    out->len = ngx_file_size(&fi);
    out->data = ngx_pnalloc(cf->pool, out->len + 1);
    if (out->data == NULL) {
        ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    n = out->len ? ngx_read_file(&file, out->data, out->len, 0) : 0;
    ngx_close_file(file.fd);

    if (n != (ssize_t) out->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s: cannot read \"%V\"", directive, path);
        return NGX_ERROR;
    }

    out->data[out->len] = '\0';

    return NGX_OK;
}


static char *
ngx_http_sender_domains_ses_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (smcf->ses_rate != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n < 1 || n > 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_ses_rate: invalid rate \"%V\", "
                           "expected calls per second from 1 to 1000",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    smcf->ses_rate = n;

    return NGX_CONF_OK;
}


/*
 * sender_domains_workspace, _role, _plan, _trial_ends: a complex value,
 * as ngx_http_set_complex_value_slot() makes it, plus the index of a
 * lone "$name" variable.
 */

static char *
ngx_http_sender_domains_set_value(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    u_char                            *c;
    ngx_str_t                         *value, name;
    ngx_http_sender_domains_value_t  **field, *v;
    ngx_http_compile_complex_value_t   ccv;

    field = (ngx_http_sender_domains_value_t **) (p + cmd->offset);

    if (*field != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    v = ngx_palloc(cf->pool, sizeof(ngx_http_sender_domains_value_t));
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &v->cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    v->index = NGX_ERROR;
    *field = v;

    /* "$1": a regex capture, which has no index: the script engine reads it */
    if (value[1].len < 2 || value[1].data[0] != '$'
        || (value[1].data[1] >= '0' && value[1].data[1] <= '9'))
    {
        return NGX_CONF_OK;
    }

    name.data = value[1].data + 1;
    name.len = value[1].len - 1;

    for (c = name.data; c < name.data + name.len; c++) {
        if (!(*c == '_' || (*c >= '0' && *c <= '9')
              || ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z')))
        {
            return NGX_CONF_OK;         /* text around it, or "${name}" */
        }
    }

    v->index = ngx_http_get_variable_index(cf, &name);
    if (v->index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_sender_domains_jwt_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_loc_conf_t  *slcf = conf;

    ngx_str_t  *value, path;

    if (slcf->jwt_set != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_sender_domains_read_secret(cf,
            "sender_domains_jwt_secret_file", &path, 4096, &slcf->jwt_secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* a trailing newline from "echo secret > file" is not part of it */
    while (slcf->jwt_secret.len
           && (slcf->jwt_secret.data[slcf->jwt_secret.len - 1] == '\n'
               || slcf->jwt_secret.data[slcf->jwt_secret.len - 1] == '\r'))
    {
        slcf->jwt_secret.len--;
    }

    if (slcf->jwt_secret.len < 32) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_jwt_secret_file: \"%V\" must hold "
                           "a secret of 32 to 4096 bytes", &path);
        return NGX_CONF_ERROR;
    }

    slcf->jwt_set = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_sender_domains_init(ngx_conf_t *cf)
{
    ngx_http_sender_domains_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_sender_domains_module);

    if (smcf->api_used && smcf->db_path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_api requires sender_domains_db "
                           "in the http block");
        return NGX_ERROR;
    }

    if (smcf->db_path.len && smcf->default_from.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sender_domains_db requires "
                           "sender_domains_default_from in the http block: "
                           "every send that cannot use a workspace's own "
                           "sender goes out from it");
        return NGX_ERROR;
    }

    if (smcf->default_from.len == 0) {
        /* the module is not in use: $sender_domains_from still answers */
        ngx_str_set(&smcf->default_from, "no-reply@example.com");
        ngx_str_set(&smcf->default_address, "no-reply@example.com");
    }

    return ngx_http_sender_domains_metrics_init(cf);
}


/*
 * Called from the shared zone's init, so for "nginx -t", a start and every
 * reload, after the whole configuration (the worker user included) is
 * known, and where a failure ends only the new configuration: a reload
 * with a bad store path is refused and the running nginx serves on (a
 * failing init_module would end the master).
 *
 * The master (often root) creates the LMDB data and lock files and hands
 * them to the worker user, as nginx does for its temp paths: the workers
 * open the environment after fork, with the worker user's rights.  The
 * environment itself is never opened in the master; a store written by a
 * newer module is refused here.
 */

ngx_int_t
ngx_http_sender_domains_prepare_store(ngx_log_t *log,
    ngx_http_sender_domains_main_conf_t *smcf)
{
    char    err[512];
    u_char  lock[NGX_MAX_PATH + sizeof("-lock")];

    if (smcf->db_path.len + sizeof("-lock") > sizeof(lock)) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "sender_domains_db: path \"%V\" is too long",
                      &smcf->db_path);
        return NGX_ERROR;
    }

    if (ngx_http_sender_domains_prepare_file(log, smcf->core_conf,
                                             smcf->db_path.data)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_sprintf(lock, "%V-lock%Z", &smcf->db_path);

    if (ngx_http_sender_domains_prepare_file(log, smcf->core_conf, lock)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (sd_store_check_format((char *) smcf->db_path.data, smcf->db_size,
                              err, sizeof(err))
        != SD_STORE_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, log, 0, "sender_domains_db: %s", err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_sender_domains_shm_init(ngx_shm_zone_t *shm_zone, void *data,
    size_t size)
{
    void             *sh;
    ngx_slab_pool_t  *shpool;

    if (data) {
        /* a reload: what the zone holds goes on */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, size);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sender_domains_prepare_file(ngx_log_t *log, ngx_core_conf_t *ccf,
    u_char *path)
{
    ngx_fd_t  fd;

    fd = ngx_open_file(path, NGX_FILE_RDWR, NGX_FILE_CREATE_OR_OPEN, 0600);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "sender_domains_db: cannot create or write \"%s\"",
                      path);
        return NGX_ERROR;
    }

    if (geteuid() == 0 && ccf && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT
        && fchown(fd, ccf->user, ccf->group) == -1)
    {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "sender_domains_db: cannot chown \"%s\" to the worker "
                      "user", path);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    ngx_close_file(fd);

    return NGX_OK;
}


static ngx_int_t
ngx_http_sender_domains_init_process(ngx_cycle_t *cycle)
{
    char                                  err[256];
    sd_store_rc_e                         rc;
    ngx_http_sender_domains_main_conf_t  *smcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_sender_domains_module);
    if (smcf == NULL || smcf->db_path.len == 0) {
        return NGX_OK;
    }

    rc = sd_store_open((char *) smcf->db_path.data, smcf->db_size,
                       &ngx_http_sender_domains_db_handle, err, sizeof(err));

    if (rc != SD_STORE_OK) {
        /* the worker keeps serving: the API answers 503 JSON */
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "sender_domains: %s", err);
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "sender_domains " SD_VERSION ": store \"%V\" opened, "
                  "map %uzm", &smcf->db_path, smcf->db_size >> 20);

    ngx_http_sender_domains_metrics_init_process(cycle,
                                           ngx_http_sender_domains_db_handle);
    ngx_http_sender_domains_webhook_init_process(cycle,
                                           ngx_http_sender_domains_db_handle);

    if (ngx_http_sender_domains_curl_init(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_sender_domains_ses_init(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_sender_domains_budget_init(cycle);

    if (ngx_http_sender_domains_cluster_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_sender_domains_refresh_init(cycle);
}


static void
ngx_http_sender_domains_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_sender_domains_refresh_exit(cycle);
    ngx_http_sender_domains_cluster_exit_process(cycle);
    ngx_http_sender_domains_dns_exit(cycle);
    ngx_http_sender_domains_curl_exit(cycle);
    ngx_http_sender_domains_ses_exit(cycle);

    sd_store_close(ngx_http_sender_domains_db_handle);
    ngx_http_sender_domains_db_handle = NULL;
}


/*
 * sender_domains_claim_expiry domain address: how long a claim on a name
 * that is not verified blocks other workspaces (SES's own limits at most:
 * 72 h of DNS search, 24 h of a verification link; see docs/decisions.md).
 */

static char *
ngx_http_sender_domains_claim_expiry(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sender_domains_main_conf_t  *smcf = conf;

    time_t      t[2];
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (smcf->claim_domain != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < 2; i++) {
        t[i] = ngx_parse_time(&value[i + 1], 1);

        if (t[i] == (time_t) NGX_ERROR || t[i] <= 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid time \"%V\" in \"%V\"",
                               &value[i + 1], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    if (t[0] > SD_CLAIM_DOMAIN_MAX || t[1] > SD_CLAIM_ADDRESS_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot be longer than Amazon SES's own "
                           "limits (72h for domains, 24h for addresses)",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    smcf->claim_domain = t[0];
    smcf->claim_address = t[1];

    return NGX_CONF_OK;
}


ngx_str_t *
ngx_http_sender_domains_log_esc(ngx_str_t *in)
{
    static ngx_uint_t  next;
    static ngx_str_t   out[4];
    static u_char      buf[4][4 * SD_WORKSPACE_MAX + 3];

    size_t       len;
    ngx_str_t   *o;

    if (in->len == 0 || sd_log_plain(in->data, in->len)) {
        return in;
    }

    o = &out[next];
    o->data = buf[next];
    next = (next + 1) % 4;

    len = ngx_min(in->len, SD_WORKSPACE_MAX);
    o->len = sd_log_escape(o->data, in->data, len);

    if (len < in->len) {
        o->len = ngx_cpymem(o->data + o->len, "...", 3) - o->data;
    }

    return o;
}
