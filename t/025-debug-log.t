# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A --with-debug build with "error_log … debug" shows each SES call's life
# in the libcurl driver, the way nginx's upstream module shows its own:
# start, socket, events, timer, what curl did, the answer's header lines
# and bytes, curl's own word on the end, finish.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config();

repeat_each(1);
log_level('debug');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: an add's SES call, step by step, at debug level
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/
{"identity":"acme.com"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 201
--- error_log eval
[qr/sender_domains curl call [0-9A-Fa-f]+: POST http:\/\/127\.0\.0\.1:\d+\/v2\/email\/identities, timeout 3000, 1 in flight/,
 qr/sender_domains curl call [0-9A-Fa-f]+: socket \d+ opened/,
 qr/sender_domains curl socket \d+: poll \d/,
 qr/sender_domains curl socket \d+: (read|write) event/,
 qr/sender_domains curl timer: -?\d+ ms/,
 qr/sender_domains curl action: socket -?\d+, mask \d: \d+ running/,
 qr/sender_domains curl call [0-9A-Fa-f]+: header "HTTP\/1\.[01] 200 OK"/,
 qr/sender_domains curl call [0-9A-Fa-f]+: header "x-amzn-RequestId: [^"]+"/,
 qr/sender_domains curl call [0-9A-Fa-f]+: header done/,
 qr/sender_domains curl call [0-9A-Fa-f]+: \d+ body bytes read, \d+ in all/,
 qr/sender_domains curl call [0-9A-Fa-f]+: done, curl says 0: No error/,
 qr/sender_domains curl call [0-9A-Fa-f]+: finished, outcome 0, status 200, \d+ body bytes/]



=== TEST 2: a call SES does not answer: curl's timeout, then the call's end
--- http_config eval: SdTest::http_config('sender_domains_ses_timeout 1s;')
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/faults', '{"count":1,"kind":"timeout"}');
--- request
POST /api/
{"identity":"acme.com"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 504
--- error_log eval
[qr/sender_domains curl call [0-9A-Fa-f]+: POST http:\/\/127\.0\.0\.1:\d+\/v2\/email\/identities, timeout 1000, 1 in flight/,
 qr/sender_domains curl timer fired/,
 qr/sender_domains curl call [0-9A-Fa-f]+: done, curl says 28: Timeout was reached/,
 qr/sender_domains curl call [0-9A-Fa-f]+: finished, outcome 1, status 0, 0 body bytes/]
--- timeout: 10
