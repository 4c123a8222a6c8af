# Removing senders: created identities are deleted in SES, adopted ones
# released; legacy rows cannot be deleted.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

repeat_each(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a created identity is removed here and deleted in SES
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



=== TEST 2: an adopted identity is released, not destroyed
--- request eval
[
"POST /sim/seed
{\"identity\":\"old.example\",\"verified\":true}",
"POST /api/
{\"identity\":\"old.example\"}",
"DELETE /api/old.example",
"GET /sim/identities",
"GET /api/old.example",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 201, 204, 200, 404]
--- response_body_like eval
[
qr/old/,
qr/"origin":"adopted"/,
qr/^$/,
qr/old\.example/,
qr/"code":"not_found"/,
]



=== TEST 3: an identity SES lost already is still removed
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
