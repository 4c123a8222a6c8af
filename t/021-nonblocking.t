# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A slow SES never blocks the worker: other requests served by the same
# (only) worker answer while an SES call hangs, and a client that leaves
# (in the middle, or before its request was even read) has its call
# cancelled and its request freed at once.
#
# No block ends with a request or call in flight (each polls until the
# module is done): the runner's nginx (master_process off) exit()s at once
# on SIGQUIT, and valgrind would report what an unfinished request holds
# as lost, "possibly" or "indirectly" depending on stray pointers.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use Time::HiRes ();

# The blocks' http{} lines: SdTest's plumbing (store, SES simulator; see
# t/lib/SdTest.pm), plus the directives this file is about.
our $HttpConfig = SdTest::http_config();

repeat_each(1);
no_shuffle();
# TEST 3/4 look for a line logged before their first request, from every
# request of the block
check_accum_error_log();

# Sends an add on a raw connection and returns the socket, for a client
# that leaves before the answer.
sub send_add {
    my ($identity) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ENV{TEST_NGINX_SERVER_PORT})
        or die "connect: $!";
    my $b = qq({"identity":"$identity"});
    print $s "POST /api/ HTTP/1.1\r\nHost: x\r\nX-WS: acme\r\n"
           . "X-Role: admin\r\nX-Plan: professional\r\n"
           . "Content-Type: application/json\r\n"
           . "Content-Length: " . length($b) . "\r\n\r\n$b";
    return $s;
}

run_tests();

__DATA__

=== TEST 1: resolve and the card answer at once while an add waits 2 s on SES
--- http_config eval: $::HttpConfig
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/faults', '{"count":1,"kind":"slow","delay":2,"match":"CreateEmailIdentity"}');
my $f = SdTest::server_root() . "/html/slow";
my @p = SdTest::background($f, [POST => '/api/', '{"identity":"acme.com"}',
     {'X-WS' => 'acme', 'X-Role' => 'admin', 'X-Plan' => 'professional'}]);
# the add waits on SES once SES has the identity (the answer holds for 2 s,
# within the 3 s sender_domains_ses_timeout)
SdTest::wait_until(30, sub {
    SdTest::sim(GET => '/identities') =~ /"identity": ?"acme\.com"/ });
my @out;
for my $uri ("/api/resolve?from=a%40b.example", "/api/", "/ping") {
    my $t = Time::HiRes::time();
    my ($st, $b) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, GET => $uri, '',
        {'X-WS' => 'other', 'X-Role' => 'admin', 'X-Plan' => 'professional'});
    $b =~ s/\s+$//;
    push @out, "$uri $st "
               . (Time::HiRes::time() - $t < 1 ? "at once" : "late") . " $b";
}
push @out, "the add was still waiting: " . (-e "$f.0" ? "no" : "yes");
# then let it finish: nothing is in flight when the block ends (under
# valgrind, an exit with a request in flight leaves its memory "lost")
SdTest::wait_pids(@p);
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
[
"GET /fast.txt",
"GET /slow.txt",
]
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr{\A/api/resolve\?from=a%40b\.example 200 at once \{.*"fallback":true.*\n/api/ 200 at once \{.*"identities":\[\].*\n/ping 200 at once pong\nthe add was still waiting: yes\n\z},
qr/^201 \{"identity":"acme\.com",.*"state":"ready"/,
]



=== TEST 2: the slow add still completes after the others
--- http_config eval: $::HttpConfig
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/faults', '{"count":1,"kind":"slow","delay":1.5,"match":"CreateEmailIdentity"}');
my $f = SdTest::server_root() . "/html/slow";
my @p = SdTest::background($f, [POST => '/api/', '{"identity":"acme.com"}',
     {'X-WS' => 'acme', 'X-Role' => 'admin', 'X-Plan' => 'professional'}]);
SdTest::wait_pids(@p);
rename "$f.0", SdTest::server_root() . "/html/slow.txt";
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /slow.txt { root html; }
--- request
GET /slow.txt
--- error_code: 200
--- response_body_like: ^201 \{"identity":"acme\.com",.*"state":"ready"



=== TEST 3: a client that leaves while SES is slow: its call is cancelled, its request freed at once
--- http_config eval: $::HttpConfig
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/faults', '{"count":1,"kind":"slow","delay":2,"match":"CreateEmailIdentity"}');
my $s = ::send_add('gone.example');
# leave once the call has reached SES (its answer holds for 2 s)
SdTest::wait_until(30, sub {
    SdTest::sim(GET => '/identities') =~ /"identity": ?"gone\.example"/ });
close $s;
# nginx notices at once: the request is freed (its connection closed) long
# before SES answers; the row stays "creating", the call never completed
SdTest::wait_until(30, sub { SdTest::active_connections() == 1 });
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /status { stub_status; }
--- request eval
[
"GET /status",
"GET /api/gone.example",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/^Active connections: 1 /,
qr/"identity":"gone\.example","type":"domain","kind":"managed",.*"state":"creating"/,
]
--- error_log
client prematurely closed connection
--- no_error_log
[alert]



=== TEST 4: a client gone before its add is even read (the FIN came with the request): its call is cancelled too
--- http_config eval: $::HttpConfig
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/faults', '{"count":1,"kind":"slow","delay":2,"match":"CreateEmailIdentity"}');
my $s = ::send_add('early.example');
close $s;
# nginx reads the request and the end of the stream together (epoll
# reports that once): the module must still notice before SES answers
SdTest::wait_until(30, sub { SdTest::active_connections() == 1 });
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /status { stub_status; }
--- request eval
[
"GET /status",
"GET /api/early.example",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/^Active connections: 1 /,
qr/"identity":"early\.example","type":"domain","kind":"managed",.*"state":"creating"/,
]
--- error_log
client prematurely closed connection
--- no_error_log
[alert]
