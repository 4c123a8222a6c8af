# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The module's error-log lines in steady state: no line per call for
# what is one condition (fallbacks of a workspace from many addresses, an
# SES outage seen by the background refresher), no warning for what is
# normal (adopting an identity SES already has), and request lines without
# nginx's misleading "while sending to client" left by an earlier upstream
# (auth_request's subrequest).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config('sender_domains_refresh_interval 1s;');
our $Config = SdTest::api_config();

repeat_each(1);
no_shuffle();

# the checks of a block see all of its log, not one request's
check_accum_error_log();

sub add {
    my ($id, $ws) = @_;
    my ($st, $b) = SdTest::api(POST => '/', qq({"identity":"$id"}), $ws);
    die "add $id: $st $b" unless $st == 201;
}

# background GetEmailIdentity calls that got the queued fault
sub faulted_gets {
    my $calls = SdTest::sim(GET => '/calls?action=GetEmailIdentity');
    my $n = () = $calls =~ /"fault":\s*"[^"]+"/g;
    return $n;
}

run_tests();

__DATA__

=== TEST 1: fallbacks of one workspace from many addresses: one warning, not one per address
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"GET /api/resolve?from=u1%40nowhere.example",
"GET /api/resolve?from=u2%40nowhere.example",
"GET /api/resolve?from=u3%40elsewhere.example",
"GET /api/resolve?from=u4%40nowhere.example",
]
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/"reason":"not_registered"/, qr/"reason":"not_registered"/,
 qr/"reason":"not_registered"/, qr/"reason":"not_registered"/]
--- grep_error_log eval
qr/\[warn\].*using the default sender[^,]*/
--- grep_error_log_out eval
[
qr/\A\[warn\][^\n]*workspace "acme" cannot send as "u1\@nowhere\.example" \(not_registered\); using the default sender\n\z/,
qr/\A\[warn\][^\n]*workspace "acme" cannot send as "u1\@nowhere\.example" \(not_registered\); using the default sender\n\z/,
qr/\A\[warn\][^\n]*workspace "acme" cannot send as "u1\@nowhere\.example" \(not_registered\); using the default sender\n\z/,
qr/\A\[warn\][^\n]*workspace "acme" cannot send as "u1\@nowhere\.example" \(not_registered\); using the default sender\n\z/,
]



=== TEST 2: adopting an identity SES already has (a declared legacy sender) is not a warning
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/seed', '{"identity":"ops@old.example","verified":true}');
SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, PUT => '/api/legacy',
             '[{"address":"ops@old.example"}]',
             {'X-WS' => 'acme', 'X-Role' => 'service'});
--- request
POST /api/
{"identity":"ops@old.example"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 201
--- response_body_like: "origin":"adopted","ownership":"declared"
--- error_log eval
qr/\[info\].*sender_domains: SES CreateEmailIdentity "ops\@old\.example" failed: already_exists/
--- no_error_log eval
qr/\[(warn|error)\].*sender_domains/



=== TEST 3: an SES outage seen by the background refresher: one warning, not one per call
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::add($_) for qw(a.example b.example c.example);
SdTest::sim(POST => '/faults', '{"count":-1,"kind":"500"}');
SdTest::wait_until(20, sub { ::faulted_gets() >= 3 })
    or die "the refresher made no 3 failed GetEmailIdentity calls";
--- request
DELETE /sim/faults
--- error_code: 200
--- grep_error_log eval
qr/\[warn\].*sender_domains: [^,\n]*/
--- grep_error_log_out eval
qr/\A\[warn\][^\n]*sender_domains: background refresh failing: Internal service error\.; rows back off until SES answers\n\z/
--- error_log eval
qr/\[info\].*sender_domains: SES GetEmailIdentity "[abc]\.example" failed: server_error \(HTTP 500/



=== TEST 4: SES unreachable in the background: curl's words in the info line, one warning
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::add($_) for qw(a.example b.example);
SdTest::sim(POST => '/faults', '{"count":-1,"kind":"drop"}');
SdTest::wait_until(20, sub { ::faulted_gets() >= 2 })
    or die "the refresher made no 2 failed GetEmailIdentity calls";
--- request
DELETE /sim/faults
--- error_code: 200
--- grep_error_log eval
qr/\[warn\].*sender_domains: [^,\n]*/
--- grep_error_log_out eval
qr/\A\[warn\][^\n]*sender_domains: background refresh failing: [^\n]*\n\z/
--- error_log eval
qr/\[info\].*sender_domains: SES GetEmailIdentity "[ab]\.example" failed: connect_failed \(HTTP 0, no error type\) Amazon SES could not be reached\. Empty reply from server, request id/



=== TEST 5: behind auth_request, the API's lines do not end with "while sending to client"
--- http_config eval: $::HttpConfig
--- config
    location = /_auth {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_session;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }
    location = /_session {
        return 204;
    }
    location /api/ {
        auth_request /_auth;
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /send {
        auth_request /_auth;
        sender_domains_workspace $http_x_ws;
        sender_domains_plan $http_x_plan;
        add_header X-From $sender_domains_from always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_session;
    }
--- request
GET /api/resolve?from=nobody%40nowhere.example
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body_like: "reason":"not_registered"
--- error_log eval
qr/\[warn\].*workspace "acme" cannot send as "nobody\@nowhere\.example" \(not_registered\); using the default sender, client: 127\.0\.0\.1, server: /
--- no_error_log eval
qr/sender_domains: .* while /



=== TEST 6: nor does $sender_domains_from read after an upstream (auth_request's, proxy_pass's)
--- http_config eval: $::HttpConfig
--- config
    location = /_auth {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_session;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }
    location = /_session {
        return 204;
    }
    location /api/ {
        auth_request /_auth;
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /send {
        auth_request /_auth;
        sender_domains_workspace $http_x_ws;
        sender_domains_plan $http_x_plan;
        add_header X-From $sender_domains_from always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_session;
    }
--- request
GET /send?from=x%40nowhere.example
--- more_headers
X-WS: other
X-Plan: professional
--- error_code: 204
--- response_headers
X-From: Platform Reports <reports@platform.example>
--- error_log eval
qr/\[warn\].*workspace "other" cannot send as "x\@nowhere\.example" \(not_registered\); using the default sender, client: 127\.0\.0\.1, server: /
--- no_error_log eval
qr/sender_domains: .* while /
