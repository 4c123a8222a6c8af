# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A send must not fail: GET /resolve and $sender_domains_from answer the
# default sender (200, fallback: true, with the reason) whenever the
# workspace's own sender cannot be established: no caller (no workspace,
# a bad bearer token); a store the worker cannot open is t/038.  Only a
# request without ?from= is refused.  conf-examples/send-internal.conf, the send
# workers' own location, answers while the auth backend is down.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config();

repeat_each(1);
no_shuffle();

# the error_log checks of a block see all of its log, not one request's
check_accum_error_log();

our $Default = qq({"from":"Platform Reports <reports\@platform.example>","address":"reports\@platform.example","source":"default","fallback":true,"reason":"%s"}\n);

sub fallback { sprintf $Default, $_[0] }

# conf-examples/send-internal.conf as shipped, but for its listen line (the
# test's server listens on the runner's port)
sub send_internal_conf {
    my $f = "$SdTest::Root/conf-examples/send-internal.conf";
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    my $conf = <$fh>;
    $conf =~ s/^\s*#.*\n//mg;
    $conf =~ s/\A\s*server\s*\{(.*)\}\s*\z/$1/s or die "no server block in $f";
    $conf =~ s/^\s*listen\s[^;]*;\n//mg;
    return $conf;
}

$ENV{TEST_NGINX_SEND_INTERNAL} = send_internal_conf();

# acme.com verified for workspace "acme", through PREFIX (default /api)
sub seed {
    my $prefix = shift // '/api';
    my %h = ('X-WS' => 'acme', 'X-Role' => 'admin', 'X-Plan' => 'professional');
    my $port = $ENV{TEST_NGINX_SERVER_PORT};
    SdTest::sim_reset();
    SdTest::http($port, POST => "$prefix/",
                 '{"identity":"acme.com","sender_name":"Acme Reports"}', \%h);
    SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
    my ($st, $b) = SdTest::http($port, POST => "$prefix/acme.com/refresh",
                                undef, \%h);
    die "seed: $st $b" unless $st == 200 && $b =~ /"verified_for_sending":true/;
}

run_tests();

__DATA__

=== TEST 1: no workspace: the API answers the default sender (no_caller), not 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::seed();
--- request eval
[
"GET /api/resolve?from=reports%40acme.com",
"GET /api/resolve?from=reports%40acme.com",
"HEAD /api/resolve?from=reports%40acme.com",
"GET /api/",
]
--- more_headers eval
["X-Role: service\nX-Plan: professional", "X-WS: \nX-Plan: professional", "X-Plan: professional", "X-Plan: professional"]
--- error_code eval
[200, 200, 200, 401]
--- response_body eval
[::fallback("no_caller"), ::fallback("no_caller"), "",
qq({"error":{"code":"unauthenticated","message":"Sign in first: the request does not name a valid workspace."}}\n)]



=== TEST 2: the warning for sends without a caller is written once, not per send
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::seed();
--- request eval
["GET /api/resolve?from=a%40acme.com", "GET /api/resolve?from=b%40acme.com"]
--- error_code eval
[200, 200]
--- response_body eval
[::fallback("no_caller"), ::fallback("no_caller")]
--- grep_error_log eval
qr/\[warn\].*a send names no workspace.*/
--- grep_error_log_out eval
[qr/\A\[warn\].*sender_domains: a send names no workspace \(no_caller\); using the default sender, client: [^\n]*\n\z/,
 qr/\A\[warn\].*sender_domains: a send names no workspace \(no_caller\); using the default sender, client: [^\n]*\n\z/]



=== TEST 3: a missing ?from= is the only 4xx, also without a caller
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /api/resolve", "GET /api/resolve?fro=a%40b.example", "POST /api/resolve?from=a%40b.example"]
--- error_code eval
[400, 400, 405]
--- response_body_like eval
[qr/"code":"invalid_request"/, qr/"code":"invalid_request"/, qr/"code":"method_not_allowed"/]



=== TEST 4: $sender_domains_from without a workspace is the default sender, never empty
--- http_config eval: $::HttpConfig
--- init
::seed();
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /send {
        sender_domains_workspace $http_x_ws;
        sender_domains_plan $http_x_plan;
        add_header X-From $sender_domains_from always;
        return 204;
    }
    location = /send-unnamed {
        add_header X-From $sender_domains_from always;
        return 204;
    }
--- request eval
[
"GET /send?from=reports%40acme.com",
"GET /send?from=reports%40acme.com",
"GET /send-unnamed?from=reports%40acme.com",
"GET /send",
]
--- more_headers eval
["X-WS: acme\nX-Plan: professional", "X-Plan: professional", "X-WS: acme\nX-Plan: professional", "X-WS: acme\nX-Plan: professional"]
--- error_code eval
[204, 204, 204, 204]
--- response_headers eval
[
"X-From: Acme Reports <reports\@acme.com>",
"X-From: Platform Reports <reports\@platform.example>",
"X-From: Platform Reports <reports\@platform.example>",
"X-From: Platform Reports <reports\@platform.example>",
]



=== TEST 5: a location with a bearer-token secret: a missing or bad token is no caller for resolve (and still 401 elsewhere)
--- http_config eval: $::HttpConfig
--- init
::seed();
--- user_files
>>> jwt.secret
a-test-secret-of-at-least-32-bytes!!
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location /jwt/ {
        sender_domains_api;
        sender_domains_jwt_secret_file $TEST_NGINX_SERVER_ROOT/html/jwt.secret;
        # a header beside the token: it must not count without a valid one
        sender_domains_workspace $http_x_ws;
        sender_domains_plan $http_x_plan;
    }
--- request eval
[
"GET /jwt/resolve?from=reports%40acme.com",
"GET /jwt/resolve?from=reports%40acme.com",
"GET /jwt/",
]
--- more_headers eval
["X-WS: acme\nX-Plan: professional", "X-WS: acme\nX-Plan: professional\nAuthorization: Bearer not.a.token", "X-WS: acme\nX-Plan: professional"]
--- error_code eval
[200, 200, 401]
--- response_body eval
[::fallback("no_caller"), ::fallback("no_caller"),
qq({"error":{"code":"unauthenticated","message":"Sign in first: send \\"Authorization: Bearer <token>\\"."}}\n)]



=== TEST 6: conf-examples/send-internal.conf resolves while the auth backend is down
--- http_config eval: $::HttpConfig
--- init
::seed('/admin');
--- config
    location /admin/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /_auth {
        internal;
        # the session backend, down
        proxy_pass http://127.0.0.1:1/session;
    }
    # the public API (outside /api/: its auth_request 500 is nginx's page)
    location /app/ {
        auth_request /_auth;
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location /sim/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SES_PORT/_sim/;
    }
$TEST_NGINX_SEND_INTERNAL
--- request eval
[
"GET /app/resolve?from=reports%40acme.com",
"GET /sender-domains/resolve?from=reports%40acme.com",
"GET /sender-domains/resolve?from=reports%40acme.com",
"GET /sender-domains/resolve?from=ann%40elsewhere.example",
"GET /sender-domains/resolve?from=reports%40acme.com",
"PUT /sender-domains/legacy\n[]",
"GET /sender-domains/",
]
--- more_headers eval
[
"X-WS: acme\nX-Role: service\nX-Plan: professional",
"X-Workspace: acme\nX-Plan: professional",
"X-Workspace: acme\nX-Plan: basic",
"X-Workspace: acme\nX-Plan: professional",
"X-Plan: professional",
"X-Workspace: acme\nContent-Type: application/json",
"X-Workspace: acme\nX-Plan: professional",
]
--- error_code eval
[500, 200, 200, 200, 200, 403, 403]
--- response_body_like eval
[
qr/./,
qr/^\{"from":"Acme Reports <reports\@acme\.com>","address":"reports\@acme\.com","source":"domain","fallback":false,"reason":null\}$/,
qr/"source":"default","fallback":true,"reason":"plan_required"/,
qr/"source":"default","fallback":true,"reason":"not_registered"/,
qr/"source":"default","fallback":true,"reason":"no_caller"/,
qr/./,
qr/"code":"member_required"/,
]
