# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The shared SES call budget holds with several workers taking from it at
# once: over a long burst the mean stays at sender_domains_ses_rate (plus
# the bucket's initial second), however far the workers' cached clocks are
# apart.  A lagging worker once moved the bucket's clock back and made the
# next take credit the same milliseconds twice: 2 workers at rate 100 made
# 110-230 calls a second here with 400 adds in flight (fixed: 100-101).
#
# Only an upper bound is exact: a slow machine makes fewer calls, never
# more.  The lower bound is loose, a sanity check that calls were made.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use Time::HiRes qw(time);
use IO::Select;
use IO::Socket::INET;

master_on();
workers(2);
worker_connections(1024);
repeat_each(1);
no_shuffle();

my $RATE = 100;         # sender_domains_ses_rate below
my $SECONDS = 12;       # how long the clients keep adding
my $CLIENTS = 400;      # adds in flight, over both workers
my $SLACK = 0.03;       # over the rate, after the initial burst

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), and the
# call rate under test.
our $HttpConfig = SdTest::http_config("sender_domains_ses_rate $RATE;");
our $Config = SdTest::api_config();

# Many adds in flight at once, each on its own connection, a new one as
# soon as one answers, until the time is up: far more demand than the
# budget allows (an add makes about two calls), so both workers keep
# taking from the bucket (and retrying when it is empty).
sub flood {
    SdTest::sim_reset();
    my $port = $ENV{TEST_NGINX_SERVER_PORT};
    my $end = time + $SECONDS;
    my $sel = IO::Select->new;
    my $adds = 0;

    my $open = sub {
        $adds++;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port) or return;
        my $body = sprintf '{"identity":"c%d.example"}', $adds;
        print $s "POST /api/ HTTP/1.0\r\nHost: localhost\r\n"
                 . "X-WS: ws" . ($adds % 50) . "\r\nX-Role: admin\r\n"
                 . "X-Plan: professional\r\n"
                 . "Content-Type: application/json\r\n"
                 . "Content-Length: " . length($body) . "\r\n\r\n$body";
        $s->blocking(0);
        $sel->add($s);
    };

    $open->() for 1 .. $CLIENTS;

    while ($sel->count) {
        for my $s ($sel->can_read(1)) {
            my $got = sysread $s, my $buf, 65536;
            next if !defined $got && $!{EAGAIN};
            next if $got;
            # answered (or failed): the next add
            $sel->remove($s);
            close $s;
            $open->() if time < $end;
        }
    }

    my @t = sort { $a <=> $b }
            SdTest::sim(GET => '/calls') =~ /"time": ([\d.]+)/g;
    my $n = @t;
    my $span = $n > 1 ? $t[-1] - $t[0] : 0;

    # a full bucket at the first call (one second's worth, plus the call
    # kept for people), then the rate
    my $max = ($RATE + 1) + $RATE * $span * (1 + $SLACK);
    my %per;
    $per{int $_}++ for @t;
    my ($busiest) = sort { $b <=> $a } values %per;
    my $said = sprintf "%d calls in %.1f s: %.1f/s, busiest second %d; "
                       . "allowed at most %d", $n, $span,
                       $span ? $n / $span : 0, $busiest // 0, $max;

    Test::More::cmp_ok($n, '<=', $max, "at most the rate: $said");
    Test::More::cmp_ok($span, '>=', $SECONDS / 2,
                       "the calls went on for most of the burst");
    Test::More::cmp_ok($span ? $n / $span : 0, '>=', $RATE * 0.3,
                       "calls were made (a loose lower bound)");
}

run_tests();

__DATA__

=== TEST 1: two workers adding flat out for 12 s stay within the call rate
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::flood();
--- request
GET /api/
--- more_headers
X-WS: ws1
X-Role: admin
X-Plan: professional
--- error_code: 200
--- timeout: 30
