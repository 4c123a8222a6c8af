# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Removing senders: created identities are deleted in SES, adopted ones
# released; legacy rows cannot be deleted.

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

=== TEST 1: a created identity is removed here and deleted in SES
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"DELETE /api/acme.com",
"GET /api/",
"GET /sim/identities",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 204, 200, 200]
--- response_body_like eval
[
qr/acme/,
qr/^$/,
qr/"identities":\[\]/,
qr/^(?!.*acme\.com).*$/s,
]



=== TEST 2: an adopted identity (a legacy sender the platform declared) is released, not destroyed
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/seed
{\"identity\":\"ops\@old.example\",\"verified\":true}",
"PUT /api/legacy
[{\"address\":\"ops\@old.example\"}]",
"POST /api/
{\"identity\":\"ops\@old.example\"}",
"DELETE /api/ops\@old.example",
"GET /sim/identities",
"GET /api/ops\@old.example",
]
--- more_headers eval
[
"Content-Type: application/json",
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: acme\nX-Role: admin\nX-Plan: professional",
"",
"X-WS: acme\nX-Role: admin\nX-Plan: professional",
]
--- error_code eval
[200, 200, 201, 204, 200, 200]
--- response_body_like eval
[
qr/old/,
qr/old/,
qr/"origin":"adopted","ownership":"declared"/,
qr/^$/,
qr/ops\@old\.example/,
qr/"kind":"legacy"/,
]



=== TEST 3: an identity SES lost already is still removed
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /sim/reset
{}",
"DELETE /api/acme.com",
"GET /api/",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 204, 200]
--- response_body_like eval
[
qr/acme/,
qr/./,
qr/^$/,
qr/"identities":\[\]/,
]



=== TEST 4: unknown and legacy rows
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"DELETE /api/nothere.example",
"DELETE /api/not%20a%20domain",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[404, 404]
--- response_body_like eval
[
qr/"code":"not_found"/,
qr/"code":"not_found"/,
]



=== TEST 5: when SES fails the delete, the row stays and the error says why
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /sim/faults
{\"count\":1,\"kind\":\"500\"}",
"DELETE /api/acme.com",
"GET /api/acme.com",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 503, 200]
--- response_body_like eval
[
qr/acme/,
qr/./,
qr/"code":"ses_unavailable"/,
qr/"identity":"acme\.com"/,
]



=== TEST 6: a domain SES already had verified, first add throttled: unproven on the retry (issue 13), removed here but never destroyed in SES
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/seed
{\"identity\":\"theirs.example\",\"verified\":true}",
"POST /sim/faults
{\"count\":1,\"kind\":\"429\",\"match\":\"CreateEmailIdentity\"}",
"POST /api/
{\"identity\":\"theirs.example\"}",
"POST /api/
{\"identity\":\"theirs.example\"}",
"DELETE /api/theirs.example",
"GET /sim/identities",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 200, 503, 201, 204, 200]
--- response_body_like eval
[
qr/theirs/,
qr/429/,
qr/"code":"ses_unavailable"/,
qr/^(?=.*"ownership":"unproven")(?=.*"verified_for_sending":false)/s,
qr/^$/,
qr/theirs\.example/,
]



=== TEST 7: a half-added row whose create did happen: removing it deletes it in SES too
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"500\",\"after\":true,\"match\":\"CreateEmailIdentity\"}",
"POST /api/
{\"identity\":\"lost.example\"}",
"GET /api/lost.example",
"DELETE /api/lost.example",
"GET /sim/identities",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 503, 200, 204, 200]
--- response_body_like eval
[
qr/500/,
qr/"code":"ses_unavailable"/,
qr/"state":"creating","dkim_status":"pending".*"origin":null/,
qr/^$/,
qr/^(?!.*lost\.example)/s,
]



=== TEST 8: a failed claim taken over by another workspace: the first one's delete keeps SES's identity
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
"DELETE /api/squat.example",
"GET /sim/identities",
"GET /api/squat.example",
]
--- more_headers eval
[
"X-WS: one\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"Content-Type: application/json",
"X-WS: one\nX-Role: admin\nX-Plan: professional",
"X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: one\nX-Role: admin\nX-Plan: professional",
"",
"X-WS: two\nX-Role: admin\nX-Plan: professional",
]
--- error_code eval
[201, 200, 200, 201, 204, 200, 200]
--- response_body_like eval
[
qr/squat/,
qr/\d/,
qr/"dkim_status":"failed"/,
qr/"origin":"created"/,
qr/^$/,
qr/squat\.example/,
qr/"identity":"squat\.example"/,
]
