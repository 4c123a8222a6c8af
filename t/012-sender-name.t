# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The sender name: saved at once, validated, header injection refused.

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

=== TEST 1: edit the sender name; it is saved and shown
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"PATCH /api/acme.com
{\"sender_name\":\"Acme Reports\"}",
"GET /api/acme.com",
"GET /api/",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 200, 200]
--- response_body_like eval
[
qr/"sender_name":""/,
qr/"identity":"acme\.com",.*"sender_name":"Acme Reports"/,
qr/"sender_name":"Acme Reports"/,
qr/"sender_name":"Acme Reports"/,
]



=== TEST 2: unicode names up to 100 characters are fine
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"PATCH /api/acme.com
{\"sender_name\":\"Café Rapports – Équipe\"}",
"PATCH /api/acme.com
{\"sender_name\":\"" . ("é" x 100) . "\"}",
"PATCH /api/acme.com
{\"sender_name\":\"\"}",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 200, 200]
--- response_body_like eval
[
qr/acme/,
qr/"sender_name":"Café Rapports – Équipe"/,
qr/"sender_name":"(é){100}"/,
qr/"sender_name":""/,
]



=== TEST 3: injection and bad names are refused, not stripped, and nothing changes
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\",\"sender_name\":\"Acme\"}",
"PATCH /api/acme.com
{\"sender_name\":\"Acme\\r\\nBcc: victim\@example.com\"}",
"PATCH /api/acme.com
{\"sender_name\":\"Acme\\nReports\"}",
"PATCH /api/acme.com
{\"sender_name\":\"Acme\\u0000\"}",
"PATCH /api/acme.com
{\"sender_name\":\"Tab\\there\"}",
"PATCH /api/acme.com
{\"sender_name\":\"" . ("a" x 101) . "\"}",
"PATCH /api/acme.com
{\"sender_name\":\"Acme\\u2028Reports\"}",
"PATCH /api/acme.com
{\"sender_name\":42}",
"PATCH /api/acme.com
{\"sender_name\":\"Acme\",\"origin\":\"created\"}",
"GET /api/acme.com",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 400, 400, 400, 400, 400, 400, 400, 400, 200]
--- response_body_like eval
[
qr/"sender_name":"Acme"/,
qr/^\{"error":\{"code":"invalid_sender_name","message":"[^"]+"\}\}$/,
qr/"code":"invalid_sender_name"/,
qr/"code":"invalid_(json|sender_name)"/,
qr/"code":"invalid_sender_name"/,
qr/"code":"invalid_sender_name"/,
qr/"code":"invalid_sender_name"/,
qr/"code":"invalid_sender_name"/,
qr/"code":"invalid_field"/,
qr/"sender_name":"Acme"/,
]



=== TEST 4: invalid UTF-8 in a name is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"PATCH /api/acme.com
{\"sender_name\":\"Bad \xC3\x28 name\"}",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 400]
--- response_body_like eval
[
qr/acme/,
qr/"code":"invalid_json"/,
]
