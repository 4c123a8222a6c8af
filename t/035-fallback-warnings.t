# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A fallback to the default sender is logged as a warning naming the
# workspace and address, but a bulk send from an address
# that cannot be used must not write one line per message: the first
# fallback of a workspace, address and reason is logged, then at most one a
# minute with the count of those left out.  repeat_each(3) sends the same
# request three times to the same nginx; grep_error_log_out is per repeat.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config();

repeat_each(3);
no_shuffle();

run_tests();

__DATA__

=== TEST 1: the same unusable address three times: one warning
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve?from=reports%40nowhere.example
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body_like: "source":"default","fallback":true,"reason":"not_registered"
--- grep_error_log eval
qr/\[warn\].*cannot send as "[^"]+" \(\w+\); using the default sender[^,]*/
--- grep_error_log_out eval
[qr/\A\[warn\].*workspace "acme" cannot send as "reports\@nowhere.example" \(not_registered\); using the default sender\n\z/, '', '']



=== TEST 2: an invalid address three times: one warning
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve?from=not-an-address
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body_like: "fallback":true,"reason":"invalid_address"
--- grep_error_log eval
qr/\[warn\].*asked for an invalid sender address; using the default sender[^,]*/
--- grep_error_log_out eval
[qr/\A\[warn\].*workspace "acme" asked for an invalid sender address; using the default sender\n\z/, '', '']
