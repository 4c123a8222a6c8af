# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Under load: a reload and workers killed with SIGKILL during writes lose
# no row, leave no stale lock, and fail no resolve beyond the connections
# in flight on a killed worker.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
# many rows in one workspace: no per-workspace limit here
use SdTest;
use Time::HiRes qw(time sleep);

# The blocks' http{} lines: SdTest's plumbing (store, SES simulator; see
# t/lib/SdTest.pm), plus the directives this file is about.
our $HttpConfig = SdTest::http_config('sender_domains_max_identities 0;');

master_on();
workers(2);
repeat_each(1);
no_shuffle();
check_accum_error_log();

our $Out;

# one child resolving in a loop, one adding in a loop, for $secs seconds;
# each writes "ok=N failed=M" to its file
sub load {
    my ($secs, $during) = @_;
    SdTest::sim_reset();
    my $port = $ENV{TEST_NGINX_SERVER_PORT};
    my $dir = SdTest::server_root() . '/html';
    my %h = ('X-WS' => 'acme', 'X-Role' => 'admin', 'X-Plan' => 'professional');
    SdTest::http($port, POST => '/api/', '{"identity":"acme.com"}', \%h);
    SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
    SdTest::http($port, POST => '/api/acme.com/refresh', undef, \%h);

    my @kids;
    for my $kind (qw(resolve add)) {
        my $pid = fork;
        if ($pid == 0) {
            my ($ok, $failed, $n, @added) = (0, 0, 0);
            my $end = time + $secs;
            while (time < $end) {
                my ($st, $b) = eval {
                    $kind eq 'resolve'
                    ? SdTest::http($port, GET => '/api/resolve?from=r%40acme.com',
                                   undef, \%h)
                    : SdTest::http($port, POST => '/api/',
                                   qq({"identity":"u$$-$n.example"}), \%h);
                };
                $st //= 0;
                if ($kind eq 'resolve' ? ($st == 200 && $b =~ /"source":"domain"/)
                                       : $st == 201) {
                    $ok++;
                    push @added, "u$$-$n.example" if $kind eq 'add';
                } else {
                    $failed++;
                }
                $n++;
            }
            open my $o, '>', "$dir/$kind.txt";
            print $o "ok=$ok failed=$failed\n";
            print $o "$_\n" for @added;
            close $o;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }

    $during->();
    waitpid $_, 0 for @kids;

    # every add that answered 201 is still there
    my ($lost, $rows) = (0, 0);
    open my $in, '<', "$dir/add.txt";
    <$in>;
    while (my $id = <$in>) {
        chomp $id;
        $rows++;
        my ($st) = SdTest::http($port, GET => "/api/$id", undef, \%h);
        $lost++ if $st != 200;
    }
    open my $o, '>', "$dir/rows.txt";
    print $o "rows=$rows lost=$lost\n";
    close $o;
}

run_tests();

__DATA__

=== TEST 1: nginx -s reload twice under load
--- http_config eval: $::HttpConfig
--- init
::load(4, sub {
    sleep 1;
    kill 'HUP', SdTest::master_pid();
    Time::HiRes::sleep(1.5);
    kill 'HUP', SdTest::master_pid();
});
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location ~ ^/\w+\.txt$ { root html; }
--- request eval
["GET /resolve.txt", "GET /add.txt", "GET /rows.txt", "GET /api/resolve?from=x%40acme.com"]
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/^ok=[1-9]\d* failed=0$/m, qr/^ok=[1-9]\d* failed=0$/m, qr/^rows=[1-9]\d* lost=0$/, qr/"source":"domain"/]
--- timeout: 20



=== TEST 2: workers killed with SIGKILL during writes: no row lost, no stale lock
--- http_config eval: $::HttpConfig
--- init
::load(4, sub {
    for (1 .. 3) {
        Time::HiRes::sleep(0.8);
        kill 'KILL', SdTest::worker_pids();
    }
});
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location ~ ^/\w+\.txt$ { root html; }
--- request eval
["GET /resolve.txt", "GET /rows.txt", "POST /api/\n{\"identity\":\"after-kill.example\"}", "GET /api/resolve?from=x%40acme.com"]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 200, 201, 200]
--- response_body_like eval
[qr/^ok=[1-9]\d* failed=[0-3]$/m, qr/^rows=[1-9]\d* lost=0$/, qr/after-kill/, qr/"source":"domain"/]
--- error_log
exited on signal 9
--- timeout: 20
