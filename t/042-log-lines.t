# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Values that come with a request appear escaped in log lines (issue 13,
# section 6): a workspace holding a quote, a backslash, ESC or non-ASCII
# bytes is written with those as \xHH, as nginx's access log does, so it
# can neither close the quoted field nor drive a terminal reading the log.

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

=== TEST 1: a workspace with a quote, a backslash and ESC: escaped in the fallback warning
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve?from=nobody%40nowhere.example
--- more_headers eval
"X-WS: ev\"il\\ \x1b[2J ws\nX-Role: service\nX-Plan: professional"
--- error_code: 200
--- response_body_like: "reason":"not_registered"
--- error_log
workspace "ev\x22il\x5c \x1b[2J ws" cannot send as "nobody@nowhere.example" (not_registered)
--- no_error_log eval
[qr/workspace "ev"il/, qr/sender_domains: .*\x1b/]



=== TEST 2: non-ASCII bytes are escaped too; a plain workspace is written as it is
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /api/resolve?from=nobody%40nowhere.example",
 "GET /api/resolve?from=nobody%40nowhere.example"]
--- more_headers eval
["X-WS: caf\xc3\xa9\nX-Role: service\nX-Plan: professional",
 "X-WS: acme-42\nX-Role: service\nX-Plan: professional"]
--- error_code eval
[200, 200]
--- error_log eval
[qr/workspace "caf\\xc3\\xa9" cannot send as|workspace "acme-42" cannot send as/]



=== TEST 3: escaped in the lines of writes too (a claim)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/
{"identity":"acme.com"}
--- more_headers eval
"X-WS: a\"b\x1b\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json"
--- error_code: 201
--- log_level: info
--- error_log
workspace "a\x22b\x1b" claimed "acme.com"
--- no_error_log eval
[qr/workspace "a"b/]



=== TEST 4: escaped in the warning of a refused legacy sender (another workspace's claim)
A hostile workspace name cannot close the quoted field or forge a line
in the warning written when PUT /legacy is refused.
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::api(POST => '/', '{"identity":"owner.example"}', 'owner');
--- request
PUT /api/legacy
[{"address":"reports@owner.example"}]
--- more_headers eval
"X-WS: ev\"il\x1b\nX-Role: service\nX-Plan: professional\nContent-Type: application/json"
--- error_code: 409
--- response_body_like: "code":"already_registered"
--- error_log
workspace "ev\x22il\x1b" cannot declare legacy sender "reports@owner.example": another workspace holds it
--- no_error_log eval
[qr/workspace "ev"il/, qr/sender_domains: .*\x1b/]
