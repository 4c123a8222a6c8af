# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Claims are atomic under races between workers: of many workspaces
# claiming the same tree at once, exactly one wins.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' http{} lines: SdTest's plumbing (store, SES simulator; see
# t/lib/SdTest.pm), plus the directives this file is about.
our $HttpConfig = SdTest::http_config();

master_on();
workers(2);
repeat_each(1);
no_shuffle();

our $Config = <<'EOF_CONF';
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /race {
        default_type text/plain;
        alias $TEST_NGINX_SERVER_ROOT/html/race.txt;
    }
EOF_CONF

# Fires one add per workspace at the same moment, then tallies statuses.
sub race {
    my @bodies = @_;
    SdTest::sim_reset();
    my $f = SdTest::server_root() . "/html/r";
    my $i = 0;
    my @p = SdTest::background($f, map {
        [POST => '/api/', $_, {'X-WS' => 'ws' . $i++, 'X-Role' => 'admin',
                                'X-Plan' => 'professional'}]
    } @bodies);
    SdTest::wait_pids(@p);
    my %n = %{ SdTest::statuses($f, scalar @bodies) };
    open my $out, '>', SdTest::server_root() . "/html/race.txt";
    print $out join(",", map { "$_=$n{$_}" } sort keys %n), "\n";
    close $out;
}

run_tests();

__DATA__

=== TEST 1: eight workspaces claim the same domain at once: one wins
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::race(('{"identity":"acme.com"}') x 8);
--- request
GET /race
--- error_code: 200
--- response_body
201=1,409=7



=== TEST 2: a domain, its subdomains and an address under them race: one wins
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::race('{"identity":"acme.com"}', '{"identity":"mail.acme.com"}',
       '{"identity":"x@deep.mail.acme.com"}', '{"identity":"X@Deep.Mail.acme.com"}',
       '{"identity":"deep.mail.acme.com"}', '{"identity":"ACME.COM"}');
--- request
GET /race
--- error_code: 200
--- response_body
201=1,409=5
