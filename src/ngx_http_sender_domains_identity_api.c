/*
 * Custom Sender Domains for nginx: the identity endpoints.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_sender_domains_api.h"


/* the public identity object: the stored record minus internal "_" keys */

json_t *
ngx_http_sender_domains_render(ngx_http_request_t *r, const sd_record_t *rec)
{
    json_t      *stored, *out, *v;
    const char  *key;

    stored = json_loadb(rec->json, rec->json_len, 0, NULL);
    if (stored == NULL || !json_is_object(stored)) {
        json_decref(stored);
        return NULL;
    }

    out = json_object();

    json_object_foreach(stored, key, v) {
        if (key[0] != '_') {
            json_object_set(out, key, v);
        }
    }

    json_decref(stored);

    return out;
}


sd_store_rc_e
ngx_http_sender_domains_list_legacy(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx, json_t *rows)
{
    return SD_STORE_OK;
}


ngx_int_t
ngx_http_sender_domains_actions(ngx_http_request_t *r,
    ngx_http_sender_domains_ctx_t *ctx)
{
    return ngx_http_sender_domains_error(r, NGX_HTTP_NOT_FOUND, "not_found",
               "No such sender in this workspace.");
}
