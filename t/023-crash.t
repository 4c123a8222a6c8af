# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A worker killed with SIGKILL in the middle of an add leaves a row that
# the next call completes: never a lost claim, a duplicate or an orphan.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use Time::HiRes qw(sleep);

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
# The refresher resumes a half-added row by itself (issue 13); here it is
# kept out of the way (a new worker takes the dead one's lease only after
# an interval, and ticks first up to 15 s after it starts) so the blocks
# see what a person's refresh or re-add does.  TEST 2 also accepts the
# refresher having finished first: the row is then ready all the same.
our $HttpConfig = SdTest::http_config(<<'HTTP');
    sender_domains_refresh_interval 1h;
HTTP
our $Config = SdTest::api_config();

master_on();
check_accum_error_log();
workers(1);
repeat_each(1);
no_shuffle();

# Starts an add whose CreateEmailIdentity SES answers slowly (it has taken
# effect in SES already), and kills the worker while it waits.  Both waits
# poll for their condition (the identity exists in SES; a new worker is
# up) rather than sleep a fixed time: under valgrind or on a loaded
# machine the worker may take well over a second to reach SES.
sub kill_during_add {
    my ($identity) = @_;
    SdTest::sim_reset();
    SdTest::sim(POST => '/faults',
                '{"count":1,"kind":"slow","delay":3,"match":"CreateEmailIdentity"}');
    my @w = SdTest::worker_pids();
    my @p = SdTest::background(SdTest::server_root() . "/html/add",
        [POST => '/api/', qq({"identity":"$identity"}),
         {'X-WS' => 'acme', 'X-Role' => 'admin', 'X-Plan' => 'professional'}]);
    # the slow answer holds for 3 s: kill while SES has the identity and
    # the worker still waits for the answer
    my $deadline = time + 30;
    while (time < $deadline) {
        last if SdTest::sim(GET => '/identities') =~ /"identity": ?"\Q$identity\E"/;
        sleep 0.05;
    }
    kill 'KILL', @w;
    SdTest::wait_pids(@p);
    # the master starts a new worker
    $deadline = time + 30;
    while (time < $deadline) {
        my @n = SdTest::worker_pids();
        last if @n && $n[0] != $w[0];
        sleep 0.1;
    }
    sleep 0.2;
}

run_tests();

__DATA__

=== TEST 1: the row survives in "creating"; refresh completes it, still ours
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::kill_during_add("acme.com");
--- request eval
[
"GET /api/acme.com",
"POST /api/acme.com/refresh",
"GET /sim/identities",
"DELETE /api/acme.com",
"GET /sim/identities",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[200, 200, 200, 204, 200]
--- response_body_like eval
[
qr/"identity":"acme\.com",.*"state":"creating"/,
qr/"state":"ready",.*"origin":"created"/,
qr/acme\.com/,
qr/^$/,
qr/^(?!.*acme\.com)/s,
]
--- error_log
exited on signal 9



=== TEST 2: adding it again resumes instead of failing
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::kill_during_add("beta.example");
--- request eval
[
"POST /api/
{\"identity\":\"beta.example\"}",
"GET /api/",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code_like eval
[qr/^(?:201|409)$/, qr/^200$/]
--- response_body_like eval
[
qr/"identity":"beta\.example",.*"state":"ready"|"code":"already_exists"/,
qr/^\{"plan_ok":true,"can_edit":true,"default_from":"[^"]+","identities":\[\{"identity":"beta\.example",[^\]]*\]\}\]\}$/,
]
--- error_log
exited on signal 9



=== TEST 3: another workspace still cannot take the half-added domain
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::kill_during_add("gamma.example");
--- request
POST /api/
{"identity":"gamma.example"}
--- more_headers
X-WS: other
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 409
--- response_body_like: "code":"already_registered"
--- error_log
exited on signal 9
