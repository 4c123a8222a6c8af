# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The refresher's lease: one worker polls at a time; another takes over
# when that worker dies, and a graceful reload hands it over.  The blocks
# wait for each state by polling the error log and assert it from --- init.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config('sender_domains_refresh_interval 1s;');
our $Config = SdTest::api_config();

master_on();
workers(2);
repeat_each(1);
no_shuffle();
check_accum_error_log();

sub api { SdTest::api(@_) }

# The workers that ran the refresher, from the error log (in scalar
# context: how many).
sub refresher_pids {
    my %p;
    if (open my $fh, '<', SdTest::server_root() . '/logs/error.log') {
        while (<$fh>) {
            $p{$1}++ if /sender_domains: worker (\d+) runs the refresher/;
        }
    }
    my @p = sort keys %p;
    return wantarray ? @p : scalar @p;
}

run_tests();

__DATA__

=== TEST 1: the refresher's worker dies: another worker takes the lease over
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::wait_until(30, sub { ::refresher_pids() >= 1 });
my @first = ::refresher_pids();
Test::More::is(scalar @first, 1, "one worker runs the refresher");
kill 'KILL', @first;
# the master starts a worker in place of the dead one
SdTest::wait_until(30, sub {
    (grep { $_ != $first[0] } SdTest::worker_pids()) == 2 });
::api(POST => '/', '{"identity":"acme.com"}');
SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
SdTest::wait_until(30, sub { ::refresher_pids() == 2 });
Test::More::is(scalar ::refresher_pids(), 2,
               "another worker took the lease over");
# the new refresher's poll verifies the domain
SdTest::wait_until(30, sub {
    (::api(GET => '/acme.com'))[1] =~ /"dkim_status":"verified"/ });
--- request
GET /api/acme.com
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code: 200
--- response_json eval
{dkim_status => 'verified'}
--- error_log
exited on signal 9



=== TEST 2: a graceful reload hands the lease over and keeps exactly one poller
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::wait_until(30, sub { ::refresher_pids() >= 1 });
kill 'HUP', SdTest::master_pid();
# the new generation elects its refresher; the old one's workers exit
my $leaders = sub {
    my @all = ::refresher_pids();
    return scalar(@all) . " leaders, "
           . scalar(grep { kill 0, $_ } @all) . " alive";
};
SdTest::wait_until(30, sub { $leaders->() eq "2 leaders, 1 alive" });
Test::More::is($leaders->(), "2 leaders, 1 alive",
               "after the reload one refresher of each generation ran, "
               . "one is alive");
--- request
GET /api/
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code: 200
--- error_log
refresher lease released by
