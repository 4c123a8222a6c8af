# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A DNS server that never answers never blocks the worker: while the
# diagnosis of one identity waits on it, resolve, the card and other
# locations served by the same (only) worker answer at once; the waiting
# diagnosis ends at sender_domains_dns_timeout with "unknown"/"timeout";
# a client that leaves while its lookups wait has its request freed at
# once, and the worker still answers afterwards.

use lib 't/lib';
use IO::Socket::INET;
use SdKnot zones => [qw(nb.test)];
use SdTest;
use Test::Nginx::Socket 'no_plan';
use Time::HiRes ();

# The blocks' http{} lines: SdTest's plumbing (store, SES simulator; see
# t/lib/SdTest.pm), plus the directives this file is about.
our $HttpConfig = SdTest::http_config("sender_domains_dns_resolver 127.0.0.1:\$TEST_NGINX_SILENT_PORT;\n"
    . "    sender_domains_dns_timeout 2s;");

our $Silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                    Proto => 'udp') or die "udp: $!";
$ENV{TEST_NGINX_SILENT_PORT} = $Silent->sockport;

# datagrams waiting on the silent socket: the lookups were sent
sub silent_got_queries {
    my $rin = '';
    vec($rin, fileno($Silent), 1) = 1;
    return select(my $rout = $rin, undef, undef, 0) > 0;
}

sub drain { my $buf; while (silent_got_queries()) { $Silent->recv($buf, 4096) } }

repeat_each(1);
no_shuffle();

run_tests();

__DATA__

=== TEST 1: resolve, the card and /ping answer at once while a diagnosis waits on DNS
--- http_config eval: $::HttpConfig
--- init
SdTest::sim_reset();
SdKnot::add_domain('nb.test');
main::drain();
my $f = SdTest::server_root() . "/html/slow";
my $t0 = Time::HiRes::time();
my @p = SdTest::background($f, [GET => '/api/nb.test/dns', '',
     {'X-WS' => 'acme', 'X-Role' => 'admin', 'X-Plan' => 'professional'}]);
SdTest::wait_until(10, \&main::silent_got_queries) or die "no DNS query sent";
my @out;
for my $uri ("/api/resolve?from=a%40b.example", "/api/", "/ping") {
    my $t = Time::HiRes::time();
    my ($st, $b) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, GET => $uri, '',
        {'X-WS' => 'acme', 'X-Role' => 'admin', 'X-Plan' => 'professional'});
    $b =~ s/\s+$//;
    $b = substr($b, 0, 40);
    push @out, "$uri $st " . (Time::HiRes::time() - $t < 0.5 ? "at once" : "late");
}
push @out, "the diagnosis was still waiting: " . (-e "$f.0" ? "no" : "yes");
SdTest::wait_pids(@p);
my $took = Time::HiRes::time() - $t0;
push @out, "the diagnosis took " . ($took >= 1.5 && $took < 4.5 ? "about 2 s" : "$took s");
rename "$f.0", SdTest::server_root() . "/html/slow.txt";
open my $fh, '>', SdTest::server_root() . "/html/fast.txt" or die;
print $fh map { "$_\n" } @out;
close $fh;
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /ping { return 200 "pong\n"; }
    location ~ ^/(fast|slow)\.txt$ { root html; }
--- request eval
["GET /fast.txt", "GET /slow.txt"]
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr{\A/api/resolve\?from=a%40b\.example 200 at once\n/api/ 200 at once\n/ping 200 at once\nthe diagnosis was still waiting: yes\nthe diagnosis took about 2 s\n\z},
qr/^200 \{"identity":"nb\.test","zone":\{"name":"nb\.test","verdict":"unknown","reason":"timeout"/,
]



=== TEST 2: a client that leaves while its lookups wait: its request is freed at once
--- http_config eval: $::HttpConfig
--- init
SdTest::sim_reset();
SdKnot::add_domain('nb.test');
main::drain();
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                              PeerPort => $ENV{TEST_NGINX_SERVER_PORT}) or die;
print $s "GET /api/nb.test/dns HTTP/1.1\r\nHost: x\r\nX-WS: acme\r\n"
       . "X-Role: admin\r\nX-Plan: professional\r\n\r\n";
SdTest::wait_until(10, \&main::silent_got_queries) or die "no DNS query sent";
close $s;
# the request is gone at once: only this status request stays active
my $ok = SdTest::wait_until(1, sub { SdTest::active_connections() == 1 });
open my $fh, '>', SdTest::server_root() . "/html/left.txt" or die;
print $fh "freed at once: " . ($ok ? "yes" : "no") . "\n";
close $fh;
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /status { stub_status; }
    location = /left.txt { root html; }
--- request
GET /left.txt
--- error_code: 200
--- response_body
freed at once: yes
