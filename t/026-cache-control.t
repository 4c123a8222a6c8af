# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The module's "Cache-Control: no-store" is nginx's own Cache-Control header:
# add_header, expires and $sent_http_cache_control see it.  nginx keeps the
# lines of that header as an array of pointers up to 1.22 and as a list
# chained through "next" since 1.23.0; the module handles both (a version
# guard in ngx_http_sender_domains_no_store()), and `make -f Makefile.dev
# matrix` runs this file against 1.22.1 and against the newest mainline.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' http{} lines: SdTest's plumbing (store, SES simulator; see
# t/lib/SdTest.pm), plus the directives this file is about.
our $HttpConfig = SdTest::http_config();

repeat_each(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: an API answer: no-store, seen by $sent_http_cache_control
--- http_config eval: $::HttpConfig
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
        add_header X-Sent-Cache-Control $sent_http_cache_control always;
    }
--- request
GET /api/
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code: 200
--- response_headers
Cache-Control: no-store
X-Sent-Cache-Control: no-store
--- no_error_log
[error]



=== TEST 2: the operator's add_header Cache-Control is chained after the module's
--- http_config eval: $::HttpConfig
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
        add_header Cache-Control private always;
        add_header X-Sent-Cache-Control $sent_http_cache_control always;
    }
--- request
GET /api/nothing.example
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code: 404
--- raw_response_headers_like eval
qr/\r\nCache-Control: no-store\r\n(?:[^\r]*\r\n)*Cache-Control: private\r\n(?:[^\r]*\r\n)*X-Sent-Cache-Control: no-store, private\r\n/
--- no_error_log
[error]



=== TEST 3: expires in the location replaces the module's Cache-Control, one line left
--- http_config eval: $::HttpConfig
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
        expires 1h;
        add_header X-Sent-Cache-Control $sent_http_cache_control always;
    }
--- request
GET /api/resolve?from=reports%40acme.com
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code: 200
--- raw_response_headers_unlike eval
qr/no-store|Cache-Control:[^\r]*\r\n(?:[^\r]*\r\n)*Cache-Control:/
--- response_headers
Cache-Control: max-age=3600
X-Sent-Cache-Control: max-age=3600
--- no_error_log
[error]
