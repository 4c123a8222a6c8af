# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Roles: admins change things, members read, the service resolves and
# syncs legacy senders.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config();

repeat_each(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a member reads but cannot change anything
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /api/",
"GET /api/acme.com",
"POST /api/acme.com/refresh",
"POST /api/
{\"identity\":\"beta.example\"}",
"PATCH /api/acme.com
{\"sender_name\":\"X\"}",
"DELETE /api/acme.com",
"POST /api/acme.com/resend-verification",
"POST /api/acme.com/migrate",
"PUT /api/legacy
[]",
]
--- more_headers eval
[
"X-WS: acme\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: acme\nX-Role: member\nX-Plan: professional",
"X-WS: acme\nX-Role: member\nX-Plan: professional",
"X-WS: acme\nX-Role: member\nX-Plan: professional",
"X-WS: acme\nX-Role: member\nX-Plan: professional\nContent-Type: application/json",
"X-WS: acme\nX-Role: member\nX-Plan: professional\nContent-Type: application/json",
"X-WS: acme\nX-Role: member\nX-Plan: professional",
"X-WS: acme\nX-Role: member\nX-Plan: professional",
"X-WS: acme\nX-Role: member\nX-Plan: professional",
"X-WS: acme\nX-Role: member\nX-Plan: professional\nContent-Type: application/json",
]
--- error_code eval
[201, 200, 200, 200, 403, 403, 403, 403, 403, 403]
--- response_body_like eval
[
qr/acme/,
qr/"can_edit":false,.*"identity":"acme\.com"/,
qr/"identity":"acme\.com"/,
qr/"identity":"acme\.com"/,
qr/^\{"error":\{"code":"admin_required","message":"[^"]+"\}\}$/,
qr/"code":"admin_required"/,
qr/"code":"admin_required"/,
qr/"code":"admin_required"/,
qr/"code":"admin_required"/,
qr/"code":"service_required"/,
]



=== TEST 2: an unknown or missing role reads only
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /api/",
]
--- more_headers eval
[
"X-WS: acme\nX-Role: owner\nX-Plan: professional\nContent-Type: application/json",
"X-WS: acme\nX-Plan: professional\nContent-Type: application/json",
"X-WS: acme\nX-Plan: professional",
]
--- error_code eval
[403, 403, 200]
--- response_body_like eval
[
qr/"code":"admin_required"/,
qr/"code":"admin_required"/,
qr/"can_edit":false/,
]



=== TEST 3: the service resolves and syncs, but does not browse or change identities
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"GET /api/resolve?from=a%40b.example",
"PUT /api/legacy
[]",
"GET /api/",
"POST /api/
{\"identity\":\"acme.com\"}",
]
--- more_headers eval
[
"X-WS: acme\nX-Role: service",
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: service\nX-Plan: professional",
"X-WS: acme\nX-Role: service\nX-Plan: professional\nContent-Type: application/json",
]
--- error_code eval
[200, 200, 403, 403]
--- response_body_like eval
[
qr/"source":"default","fallback":true/,
qr/"legacy":\[\]/,
qr/"code":"member_required"/,
qr/"code":"admin_required"/,
]



=== TEST 4: a locked plan locks every endpoint but resolve (and the legacy sync)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"GET /api/",
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /api/acme.com",
"POST /api/acme.com/refresh",
"GET /api/resolve?from=a%40b.example",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: free
Content-Type: application/json
--- error_code eval
[403, 403, 403, 403, 200]
--- response_body_like eval
[
qr/"code":"plan_required".*"upgrade":true/,
qr/"code":"plan_required"/,
qr/"code":"plan_required"/,
qr/"code":"plan_required"/,
qr/"fallback":true/,
]



=== TEST 5: the caller's values: lone variables, text around a variable, constants, an empty value
--- http_config eval: $::HttpConfig
--- config
    location /lone/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }

    location /built/ {
        sender_domains_api;
        sender_domains_workspace ${http_x_team}-ws;
        sender_domains_role admin;
        sender_domains_plan "$http_x_plan";
    }

    location /empty/ {
        sender_domains_api;
        sender_domains_workspace "";
        sender_domains_plan $http_x_plan;
    }
--- request eval
[
"POST /built/
{\"identity\":\"team5.example\"}",
"GET /lone/",
"GET /lone/",
"GET /lone/",
"GET /built/",
"GET /empty/",
]
--- more_headers eval
[
"X-Team: t5\nX-Plan: professional\nContent-Type: application/json",
"X-WS: t5-ws\nX-Plan: professional",
"X-WS: t5-ws\nX-Role: admin\nX-Plan: professional",
"X-Role: admin\nX-Plan: professional",
"X-Team: t6\nX-Plan: professional",
"X-WS: t5-ws\nX-Plan: professional",
]
--- error_code eval
[201, 200, 200, 401, 200, 401]
--- response_body_like eval
[
qr/"identity":"team5\.example"/,
qr/^\{"plan_ok":true,"can_edit":false,.*"identity":"team5\.example"/,
qr/^\{"plan_ok":true,"can_edit":true,.*"identity":"team5\.example"/,
qr/"code":"unauthenticated"/,
qr/^\{"plan_ok":true,"can_edit":true,.*"identities":\[\]/,
qr/"code":"unauthenticated"/,
]
