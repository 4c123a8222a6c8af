# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The card (GET /), caller context, plan gating and JSON errors.

use lib 't/lib';
use Test::Nginx::Socket;
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config();

repeat_each(1);
plan tests => repeat_each() * (blocks() * 2 + 9);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the card of a new workspace is empty
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: Professional
--- error_code: 200
--- response_body
{"plan_ok":true,"can_edit":true,"default_from":"Platform Reports <reports@platform.example>","identities":[]}



=== TEST 2: a member sees the card read-only
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Role: member
X-Plan: professional
--- error_code: 200
--- response_body_like: "can_edit":false



=== TEST 3: no workspace is 401 JSON
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-Plan: professional
--- error_code: 401
--- response_body_like: ^\{"error":\{"code":"unauthenticated","message":"[^"]+"\}\}$



=== TEST 4: a plan without access is 403 plan_required with upgrade
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: starter
--- error_code: 403
--- response_body_like: ^\{"error":\{"code":"plan_required","message":"[^"]+"\},"upgrade":true\}$



=== TEST 5: an expired trial is locked (RFC 3339)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Plan: starter
X-Trial-Ends: 2020-01-01T00:00:00Z
--- error_code: 403
--- response_body_like: "plan_required"



=== TEST 6: an active trial is open (RFC 3339 with an offset)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Plan: starter
X-Trial-Ends: 2099-12-31T23:59:59+02:00
--- error_code: 200
--- response_body_like: "plan_ok":true



=== TEST 7: an active trial is open (epoch seconds)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Plan: starter
X-Trial-Ends: 4102444800
--- error_code: 200
--- response_body_like: "identities":\[\]



=== TEST 8: a trial end that is not a time is no trial
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Plan: starter
X-Trial-Ends: next week
--- error_code: 403
--- response_body_like: "plan_required"



=== TEST 9: an unknown path is 404 JSON
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/acme.com/frobnicate
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code: 404
--- response_body_like: ^\{"error":\{"code":"not_found","message":"[^"]+"\}\}$



=== TEST 10: an unknown identity is 404 JSON
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/nothere.example
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code: 404
--- response_body_like: "code":"not_found"



=== TEST 11: a wrong method is 405 JSON with Allow
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
PUT /api/
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code: 405
--- response_headers
Allow: GET, HEAD, POST
Content-Type: application/json; charset=utf-8
--- response_body_like: "code":"method_not_allowed"



=== TEST 12: a body that is not JSON is 400 invalid_json
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/
{"identity": "acme.com",
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 400
--- response_body_like: "code":"invalid_json"



=== TEST 13: a body that is not declared JSON is 415
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/
identity=acme.com
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/x-www-form-urlencoded
--- error_code: 415
--- response_body_like: "code":"unsupported_media_type"



=== TEST 14: a body over 64 KiB is 413 JSON
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /api/\n{\"identity\":\"" . ("a" x 70000) . "\"}"
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 413
--- response_body_like: "code":"body_too_large"



=== TEST 15: answers are never cached
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code: 200
--- response_headers
Cache-Control: no-store
--- response_body_like: identities



=== TEST 16: a row the store cannot read: skipped in the card, a JSON error alone, never a sender
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, POST => '/api/',
    '{"identity":"good.example"}',
    {'X-WS' => 'acme', 'X-Role' => 'admin', 'X-Plan' => 'professional'});
# a damaged record written behind the module's back (a bad disk, a bug)
my $db = SdTest::server_root() . '/logs/senders.mdb';
open my $p, '|-', "mdb_load -n -s identities -T $db" or die;
print $p "acme\\00bad.example\n\\02\\04\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00{not json\n";
close $p or die "mdb_load failed";
--- request eval
["GET /api/", "GET /api/bad.example", "GET /api/resolve?from=a%40bad.example"]
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code eval
[200, 500, 200]
--- response_body_like eval
[qr/^\{"plan_ok":true,"can_edit":false,"default_from":"[^"]+","identities":\[\{"identity":"good\.example"[^\]]*\]\}\]\}$/,
 qr/^\{"error":\{"code":"storage_error","message":"[^"]+"\}\}$/,
 qr/"source":"default","fallback":true/]



=== TEST 17: an answer given before the body is read leaves no body behind on the connection
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["PUT /api/\nGET /api/nothere.example HTTP/1.1\r\nHost: x\r\n\r\n", "GET /api/"]
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code eval
[405, 200]
--- response_body_like eval
[qr/"code":"method_not_allowed"/, qr/"identities":\[\]/]
