/*
 * Custom Sender Domains for nginx: bearer tokens.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_sender_domains_api.h"


ngx_int_t
ngx_http_sender_domains_jwt_check(ngx_http_request_t *r)
{
    return ngx_http_sender_domains_error(r, NGX_HTTP_UNAUTHORIZED,
               "unauthenticated", "Bearer tokens are not supported yet.");
}
