# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The refresher's lease: one worker polls at a time; another takes over
# when that worker dies, and a graceful reload hands it over.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest http_extra => '    sender_domains_refresh_interval 1s;';
use Time::HiRes qw(sleep);

master_on();
workers(2);
repeat_each(1);
no_shuffle();
check_accum_error_log();

sub api { SdTest::api(@_) }

sub refresher_pids {
    open my $fh, '<', SdTest::server_root() . '/logs/error.log' or return;
    my %p;
    while (<$fh>) { $p{$1}++ if /sender_domains: worker (\d+) runs the refresher/ }
    return sort keys %p;
}

run_tests();

__DATA__

=== TEST 1: the refresher's worker dies: another worker takes the lease over
--- init
SdTest::sim_reset();
Time::HiRes::sleep(1.5);
my @first = ::refresher_pids();
kill 'KILL', @first;
Time::HiRes::sleep(0.3);
::api(POST => '/', '{"identity":"acme.com"}');
SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
sleep 4;
my @all = ::refresher_pids();
open my $o, '>', SdTest::server_root() . '/html/pids.txt';
print $o scalar(@first) . " then " . scalar(@all) . "\n";
close $o;
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /pids.txt { root html; }
--- request eval
[
"GET /pids.txt",
"GET /api/acme.com",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/^1 then 2$/,
qr/"dkim_status":"verified"/,
]
--- error_log
exited on signal 9



=== TEST 2: a graceful reload hands the lease over and keeps exactly one poller
--- init
SdTest::sim_reset();
Time::HiRes::sleep(1.5);
kill 'HUP', SdTest::master_pid();
sleep 3;
my @all = ::refresher_pids();
my @live = grep { kill 0, $_ } @all;
open my $o, '>', SdTest::server_root() . '/html/pids.txt';
print $o scalar(@all) . " leaders, " . scalar(@live) . " alive\n";
close $o;
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
    }
    location = /pids.txt { root html; }
--- request
GET /pids.txt
--- error_code: 200
--- response_body
2 leaders, 1 alive
--- error_log
refresher lease released by
