# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The SES call budget (sender_domains_ses_rate) is shared by all workers;
# a person's call waits briefly for it, then answers 503 with Retry-After,
# never SES's own throttling error.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' http{} lines: SdTest's plumbing (store, SES simulator; see
# t/lib/SdTest.pm), plus the directives this file is about.
our $HttpConfig = SdTest::http_config(q{sender_domains_ses_rate 1;});

master_on();
workers(2);
repeat_each(1);
no_shuffle();

# Twelve adds at once from two workers: 24 SES calls at one per second.
sub burst {
    SdTest::sim_reset();
    my $f = SdTest::server_root() . "/html/b";
    my @p = SdTest::background($f, map {
        [POST => '/api/', qq({"identity":"d$_.example"}),
         {'X-WS' => "ws$_", 'X-Role' => 'admin', 'X-Plan' => 'professional'}]
    } 1 .. 12);
    SdTest::wait_pids(@p);
    my (%n, $raw);
    for my $j (0 .. 11) {
        open my $fh, '<', "$f.$j" or next;
        my $l = <$fh> // '';
        my ($st) = $l =~ /^(\d+)/;
        $n{$st}++;
        $raw .= $l if $st != 201;
    }
    my $ok = ($n{201} // 0) >= 2 && ($n{503} // 0) >= 1
             && ($n{201} // 0) + ($n{503} // 0) == 12
             && $raw !~ /TooManyRequests/ ? "ok" : "unexpected";
    open my $o, '>', SdTest::server_root() . "/html/burst.txt";
    print $o "$ok\n";
    close $o;
    # the simulator saw at most about one call per second
    my $calls = SdTest::sim(GET => '/calls');
    my @t = $calls =~ /"time": ([\d.]+)/g;
    my %per;
    $per{int $_}++ for @t;
    my ($max) = sort { $b <=> $a } values %per;
    open $o, '>', SdTest::server_root() . "/html/rate.txt";
    print $o (($max // 0) <= 3 ? "ok" : "burst of $max"), "\n";
    close $o;
}

run_tests();

__DATA__

=== TEST 1: some adds finish, the rest get 503 ses_unavailable; SES is never flooded
--- http_config eval: $::HttpConfig
--- init
::burst();
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location ~ ^/\w+\.txt$ { root html; }
--- request eval
["GET /burst.txt", "GET /rate.txt"]
--- error_code eval
[200, 200]
--- response_body eval
["ok\n", "ok\n"]
--- timeout: 30
