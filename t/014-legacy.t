# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Legacy (SMTP-era) senders: replaced by the sync service, listed
# read-only, never deleted, migrated into managed identities while they
# keep resolving.

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

=== TEST 1: the service replaces the legacy list; the card shows it read-only
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"PUT /api/legacy
[{\"address\":\"ops\@acme.com\",\"sender_name\":\"Acme Ops\"},{\"address\":\"news\@acme.com\"}]",
"GET /api/",
"PUT /api/legacy
[{\"address\":\"ops\@acme.com\",\"sender_name\":\"Acme Ops\"}]",
"GET /api/",
]
--- more_headers eval
[
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: member\nX-Plan: professional",
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: member\nX-Plan: professional",
]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[
qr/^\{"legacy":\[\{"identity":"ops\@acme\.com","type":"email","kind":"legacy","sender_name":"Acme Ops",/,
qr/"identities":\[\{"identity":"news\@acme\.com",.*"kind":"legacy".*\},\{"identity":"ops\@acme\.com",.*"kind":"legacy"/,
qr/"legacy":\[\{"identity":"ops\@acme\.com"/,
qr/^(?!.*news\@acme\.com).*"identities":\[\{"identity":"ops\@acme\.com"/,
]



=== TEST 2: legacy rows cannot be deleted or renamed
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"PUT /api/legacy
[{\"address\":\"ops\@acme.com\",\"sender_name\":\"Acme Ops\"}]",
"DELETE /api/ops\@acme.com",
"PATCH /api/ops\@acme.com
{\"sender_name\":\"Hijack\"}",
"GET /api/ops\@acme.com",
]
--- more_headers eval
[
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: admin\nX-Plan: professional",
"X-WS: acme\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: acme\nX-Role: admin\nX-Plan: professional",
]
--- error_code eval
[200, 409, 409, 200]
--- response_body_like eval
[
qr/ops/,
qr/^\{"error":\{"code":"legacy_read_only","message":"[^"]+"\}\}$/,
qr/"code":"legacy_read_only"/,
qr/"kind":"legacy","sender_name":"Acme Ops"/,
]



=== TEST 3: migrate adopts the legacy sender; it resolves throughout
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"PUT /api/legacy
[{\"address\":\"ops\@acme.com\",\"sender_name\":\"Acme Ops\"}]",
"GET /api/resolve?from=ops%40acme.com",
"POST /sim/seed
{\"identity\":\"ops\@acme.com\",\"verified\":true}",
"POST /api/ops\@acme.com/migrate",
"GET /api/resolve?from=ops%40acme.com",
"GET /api/",
"POST /api/ops\@acme.com/migrate",
]
--- more_headers eval
[
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: service",
"Content-Type: application/json",
"X-WS: acme\nX-Role: admin\nX-Plan: professional",
"X-WS: acme\nX-Role: service\nX-Plan: professional",
"X-WS: acme\nX-Role: admin\nX-Plan: professional",
"X-WS: acme\nX-Role: admin\nX-Plan: professional",
]
--- error_code eval
[200, 200, 200, 200, 200, 200, 409]
--- response_body_like eval
[
qr/ops/,
qr/^\{"from":"Acme Ops <ops\@acme\.com>","address":"ops\@acme\.com","source":"legacy","fallback":false,"reason":null\}$/,
qr/ops/,
qr/"identity":"ops\@acme\.com","type":"email","kind":"managed","sender_name":"Acme Ops",.*"verified_for_sending":true,.*"origin":"adopted"/,
qr/"from":"Acme Ops <ops\@acme\.com>","address":"ops\@acme\.com","source":"address"/,
qr/^(?!.*"kind":"legacy").*"identity":"ops\@acme\.com","type":"email","kind":"managed"/,
qr/"code":"already_exists"/,
]



=== TEST 4: migrating a sender SES does not have creates it (verification email)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"PUT /api/legacy
[{\"address\":\"new\@acme.com\",\"sender_name\":\"New\"}]",
"POST /api/new\@acme.com/migrate",
"GET /api/resolve?from=new%40acme.com",
]
--- more_headers eval
[
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: admin\nX-Plan: professional",
"X-WS: acme\nX-Role: service",
]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[
qr/new/,
qr/"origin":"created","ownership":"proven","verification_email_sent_at":"20/,
qr/"source":"legacy","fallback":false/,
]



=== TEST 5: bad legacy lists are refused whole
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"PUT /api/legacy
{\"address\":\"ops\@acme.com\"}",
"PUT /api/legacy
[{\"address\":\"not-an-address\"}]",
"PUT /api/legacy
[{\"address\":\"ops\@acme.com\",\"sender_name\":\"Ops\\r\\nBcc: x\@y.z\"}]",
"PUT /api/legacy
[{\"sender_name\":\"Nobody\"}]",
"PUT /api/legacy
[{\"address\":\"ops\@acme.com\"}]",
"PUT /api/legacy
[]",
"PUT /api/legacy
[{\"address\":\"ops\@acme.com\"},{\"address\":\"ops\@ACME.com\"}]",
]
--- more_headers eval
[
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json",
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
"X-WS: acme\nX-Role: service\nContent-Type: application/json",
]
--- error_code eval
[400, 400, 400, 400, 403, 200, 400]
--- response_body_like eval
[
qr/"code":"invalid_json"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_sender_name"/,
qr/"code":"invalid_json"/,
qr/"code":"service_required"/,
qr/^\{"legacy":\[\]\}$/,
qr/"code":"duplicate_address"/,
]
