# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A domain (or address) belongs to one workspace at a time, over its whole
# name tree; workspaces never see each other's rows.

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

=== TEST 1: same name, parent, subdomain, address under, and the reverse
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /api/
{\"identity\":\"ACME.com\"}",
"POST /api/
{\"identity\":\"mail.acme.com\"}",
"POST /api/
{\"identity\":\"reports\@acme.com\"}",
"POST /api/
{\"identity\":\"x\@deep.mail.acme.com\"}",
"POST /api/
{\"identity\":\"sub.beta.example\"}",
"POST /api/
{\"identity\":\"beta.example\"}",
"POST /api/
{\"identity\":\"Team\@gamma.example\"}",
"POST /api/
{\"identity\":\"gamma.example\"}",
"POST /api/
{\"identity\":\"team\@gamma.example\"}",
"POST /api/
{\"identity\":\"acmeb.com\"}",
]
--- more_headers eval
[
"X-WS: one\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: one\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: one\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
]
--- error_code eval
[201, 409, 409, 409, 409, 201, 409, 201, 409, 409, 201]
--- response_body_like eval
[
qr/acme/,
qr/^\{"error":\{"code":"already_registered","message":"Already registered in another workspace\."\}\}$/,
qr/"code":"already_registered"/,
qr/"code":"already_registered"/,
qr/"code":"already_registered"/,
qr/sub\.beta/,
qr/"code":"already_registered"/,
qr/Team\@gamma/,
qr/"code":"already_registered"/,
qr/"code":"already_registered"/,
qr/acmeb\.com/,
]



=== TEST 2: the same workspace may hold a domain and addresses under it
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /api/
{\"identity\":\"reports\@acme.com\"}",
"POST /api/
{\"identity\":\"mail.acme.com\"}",
]
--- more_headers
X-WS: one
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 201, 201]
--- response_body_like eval
[
qr/acme/,
qr/reports/,
qr/mail\.acme/,
]



=== TEST 3: another workspace's identity is 404 on every endpoint
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /api/acme.com",
"PATCH /api/acme.com
{\"sender_name\":\"Mine now\"}",
"DELETE /api/acme.com",
"POST /api/acme.com/refresh",
"POST /api/acme.com/resend-verification",
"POST /api/acme.com/migrate",
"GET /api/",
"GET /api/acme.com",
]
--- more_headers eval
[
"X-WS: one\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional",
"X-WS: two\nX-Role: admin\nX-Plan: professional",
"X-WS: two\nX-Role: admin\nX-Plan: professional",
"X-WS: two\nX-Role: admin\nX-Plan: professional",
"X-WS: two\nX-Role: admin\nX-Plan: professional",
"X-WS: one\nX-Role: admin\nX-Plan: professional",
]
--- error_code eval
[201, 404, 404, 404, 404, 404, 404, 200, 200]
--- response_body_like eval
[
qr/acme/,
qr/"code":"not_found"/,
qr/"code":"not_found"/,
qr/"code":"not_found"/,
qr/"code":"not_found"/,
qr/"code":"not_found"/,
qr/"code":"not_found"/,
qr/^\{"plan_ok":true,"can_edit":true,"default_from":"[^"]+","identities":\[\]\}$/,
qr/"identity":"acme\.com","type":"domain","kind":"managed","sender_name":"",/,
]



=== TEST 4: a claim SES marked failed (72 hours without records) no longer blocks
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"squat.example\"}",
"POST /sim/clock
{\"advance\":260000}",
"POST /api/squat.example/refresh",
"POST /api/
{\"identity\":\"squat.example\"}",
"GET /api/squat.example",
]
--- more_headers eval
[
"X-WS: one\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"Content-Type: application/json",
"X-WS: one\nX-Role: admin\nX-Plan: professional",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: two\nX-Role: admin\nX-Plan: professional",
]
--- error_code eval
[201, 200, 200, 201, 200]
--- response_body_like eval
[
qr/squat/,
qr/\d/,
qr/"dkim_status":"failed"/,
qr/"identity":"squat\.example",.*"origin":"created","ownership":"proven"/,
qr/"identity":"squat\.example"/,
]
