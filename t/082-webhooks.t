# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Status-change webhooks inside the suite (so the sanitizer and valgrind
# runs cover them): the receiver is a location of the same nginx that logs
# each request's Standard Webhooks headers and body; the signatures are
# checked here with Digest::SHA.  t/webhooks/run.sh checks them with the
# reference implementation, plus restarts, SIGKILL and a full queue.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64 decode_base64);
use Time::HiRes qw(sleep);

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $Config = SdTest::api_config(<<'_EOC_');
    location = /metrics {
        sender_domains_metrics;
    }
    location = /hook {
        access_log $TEST_NGINX_SERVER_ROOT/logs/hooks.log hooks;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/received;
    }
    location = /received {
        return 204;
    }
_EOC_

repeat_each(1);
no_shuffle();

our $Secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

sub hooks {
    open my $fh, '<', SdTest::server_root() . '/logs/hooks.log' or return ();
    return map { chomp; [split /\|/, $_, 4] } <$fh>;
}

# Waits until a logged event matches, for up to 30 s.
sub wait_hook {
    my $re = shift;
    my $deadline = time + 30;
    while (time < $deadline) {
        return 1 if grep { $_->[3] =~ $re } hooks();
        sleep 0.2;
    }
    return 0;
}

# What a receiver checks: v1,base64(HMAC-SHA256(key, "id.ts.body")).
sub signed_ok {
    my ($id, $ts, $sig, $body) = @{ $_[0] };
    my $key = decode_base64(substr $Secret, 6);
    my $mac = encode_base64(hmac_sha256("$id.$ts.$body", $key), '');
    return $sig eq "v1,$mac";
}

add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->user_files) {
        $block->set_value('user_files', ">>> wh.secret\n$Secret\n");
    }
});

run_tests();

__DATA__

=== TEST 1: an add and the refresher's verification arrive signed, in order, without polling
--- config eval: $::Config
--- http_config eval
SdTest::http_config(<<'HTTP')
    sender_domains_refresh_interval 1s;
    log_format hooks escape=none
        '$http_webhook_id|$http_webhook_timestamp|$http_webhook_signature|$request_body';
    sender_domains_webhook http://127.0.0.1:$TEST_NGINX_SERVER_PORT/hook
                           $TEST_NGINX_SERVER_ROOT/html/wh.secret;
HTTP
--- init
SdTest::sim_reset();
SdTest::api(POST => '/', '{"identity":"acme.com"}');
SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
::wait_hook(qr/"type":"identity\.verified"/);
my @h = ::hooks();
Test::More::ok(scalar(@h) >= 3, scalar(@h) . " events received");
Test::More::is(scalar(grep { !::signed_ok($_) } @h), 0,
               'every signature checks out (v1, HMAC-SHA256 of id.timestamp.body)');
Test::More::is(scalar(grep { $_->[3] !~ /"id":"\Q$_->[0]\E"/ } @h), 0,
               "webhook-id is the body's id");
my @n = map { $_->[0] =~ /^evt_(\d+)$/ ? $1 : -1 } @h;
Test::More::is_deeply(\@n, [sort { $a <=> $b } @n], "in order: @n");
Test::More::like($h[0][3], qr/^\{"type":"identity\.added","id":"evt_1","created_at":"20\d\d-[^"]+Z","workspace":"acme","identity":\{"identity":"acme\.com","type":"domain"/,
                 'the first is identity.added with the identity as the API shows it');
Test::More::ok((grep { $_->[3] =~ /"type":"identity\.verified".*"verified_for_sending":true/ } @h),
               'identity.verified with verified_for_sending true');
--- request
GET /metrics
--- error_code: 200
--- response_body_like eval
qr/^sender_domains_webhooks_total\{outcome="delivered"\} [3-9]\d*$/m
--- no_error_log
[error]



=== TEST 2: a receiver answering 500: the event stays queued, retried, counted, warned
--- http_config eval
SdTest::http_config(<<'HTTP')
    sender_domains_webhook http://127.0.0.1:$TEST_NGINX_SERVER_PORT/hook
                           $TEST_NGINX_SERVER_ROOT/html/wh.secret;
HTTP
--- config eval
SdTest::api_config(<<'CONF')
    location = /metrics {
        sender_domains_metrics;
    }
    location = /hook {
        return 500;
    }
CONF
--- init
SdTest::sim_reset();
SdTest::api(POST => '/', '{"identity":"acme.com"}');
SdTest::wait_until(20, sub {
    my ($st, $b) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, GET => '/metrics');
    $b =~ /^sender_domains_webhooks_total\{outcome="failed"\} [1-9]/m;
});
--- request
GET /metrics
--- error_code: 200
--- response_body_like eval
qr/^sender_domains_webhooks_total\{outcome="delivered"\}\ 0\n
sender_domains_webhooks_total\{outcome="failed"\}\ [1-9]\d*\n
(?s:.*)^sender_domains_webhook_queue_events\ [1-9]\d*$/mx
--- error_log eval
qr/\[warn\] .*sender_domains: webhook evt_1 to "http:\/\/127\.0\.0\.1:\d+\/hook" failed \(answered, HTTP 500\); retried in 5 s/



=== TEST 3: a secret that is not whsec_ base64 stops the configuration
--- config eval: $::Config
--- http_config eval
SdTest::http_config(<<'HTTP')
    sender_domains_webhook http://127.0.0.1:1/hook $TEST_NGINX_SERVER_ROOT/html/wh.secret;
HTTP
--- user_files
>>> wh.secret
not-a-secret
--- must_die
--- error_log
sender_domains_webhook: "
the secret does not start with "whsec_"



=== TEST 4: only http:// and https:// URLs
--- config eval: $::Config
--- http_config eval
SdTest::http_config(<<'HTTP')
    sender_domains_webhook ftp://example.com/hook;
HTTP
--- must_die
--- error_log
sender_domains_webhook: "ftp://example.com/hook" is not an http:// or https:// URL



=== TEST 5: a receiver refusing one workspace's events does not hold back another's
The receiver answers 500 to every event of workspace "evil" (the body's
workspace, seen by a map and passed on as a header) and 204 to the rest.
evil's identity.added is made first and keeps failing; acme's, made
after it, still arrives within seconds, not after evil's 72 h of retries.
--- http_config eval
SdTest::http_config(<<'HTTP')
    sender_domains_webhook http://127.0.0.1:$TEST_NGINX_SERVER_PORT/hook
                           $TEST_NGINX_SERVER_ROOT/html/wh.secret;
    map $request_body $hook_refused {
        "~\"workspace\":\"evil\""  1;
        default                    0;
    }
    log_format hooks escape=none
        '$http_webhook_id|$status|$http_webhook_signature|$request_body';
HTTP
--- config eval
SdTest::api_config(<<'CONF')
    location = /metrics {
        sender_domains_metrics;
    }
    location = /hook {
        access_log $TEST_NGINX_SERVER_ROOT/logs/hooks.log hooks;
        proxy_set_header X-Refused $hook_refused;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/received;
    }
    location = /received {
        if ($http_x_refused = 1) {
            return 500;
        }
        return 204;
    }
CONF
--- init
SdTest::sim_reset();
SdTest::api(POST => '/', '{"identity":"evil.example"}', 'evil');
::wait_hook(qr/"workspace":"evil"/);
SdTest::api(POST => '/', '{"identity":"acme.com"}', 'acme');
Test::More::ok(::wait_hook(qr/"type":"identity\.added".*"workspace":"acme"/),
               "acme's identity.added arrives while evil's is refused");
my @h = ::hooks();
Test::More::ok((grep { $_->[1] eq '500' && $_->[3] =~ /"workspace":"evil"/ } @h),
               "evil's event was refused (500)");
Test::More::ok((grep { $_->[1] eq '204' && $_->[3] =~ /"workspace":"acme"/ } @h),
               "acme's event was delivered (204)");
Test::More::is(scalar(grep { $_->[1] eq '204' && $_->[3] =~ /"workspace":"evil"/ } @h), 0,
               "none of evil's events was taken");
--- request
GET /metrics
--- error_code: 200
--- response_body_like eval
qr/^sender_domains_webhooks_total\{outcome="delivered"\}\ [1-9]\d*\n
sender_domains_webhooks_total\{outcome="failed"\}\ [1-9]\d*$/mx
--- error_log eval
qr/\[warn\] .*sender_domains: webhook evt_1 to "http:\/\/127\.0\.0\.1:\d+\/hook" failed \(answered, HTTP 500\)/
