# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Bearer tokens (issue 13, section 6): a token without "exp" is refused
# unless sender_domains_jwt_require_exp is off; a workspace claim that is
# not a string is refused (401) rather than read as "123" or "true"; a
# refused token is logged at most once a second per worker.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);
use Time::HiRes ();

# The blocks' http{} lines: SdTest's plumbing (store, SES simulator; see
# t/lib/SdTest.pm).
our $HttpConfig = SdTest::http_config();

repeat_each(1);
no_shuffle();

our $Secret = "a-test-secret-of-at-least-32-bytes!!";

sub token {
    my ($claims) = @_;
    my $h = encode_base64url('{"alg":"HS256","typ":"JWT"}');
    my $p = encode_base64url($claims);
    my $sig = encode_base64url(hmac_sha256("$h.$p", $Secret));
    return "$h.$p.$sig";
}

our $Exp = time + 3600;

$ENV{TEST_NGINX_TOKEN_EXP} = token(qq({"ws":"acme","role":"admin","plan":"professional","exp":$Exp}));
$ENV{TEST_NGINX_TOKEN_NOEXP} = token(qq({"ws":"acme","role":"admin","plan":"professional"}));
$ENV{TEST_NGINX_TOKEN_WS_NUM} = token(qq({"ws":123,"role":"admin","plan":"professional","exp":$Exp}));
$ENV{TEST_NGINX_TOKEN_WS_TRUE} = token(qq({"ws":true,"role":"admin","plan":"professional","exp":$Exp}));
$ENV{TEST_NGINX_TOKEN_WS_REAL} = token(qq({"ws":1.5,"role":"admin","plan":"professional","exp":$Exp}));
$ENV{TEST_NGINX_TOKEN_WS_OBJ} = token(qq({"ws":{"id":"acme"},"role":"admin","plan":"professional","exp":$Exp}));
$ENV{TEST_NGINX_TOKEN_WS_STR} = token(qq({"ws":"123","role":"admin","plan":"professional","exp":$Exp}));
$ENV{TEST_NGINX_TOKEN_BADSIG} = substr($ENV{TEST_NGINX_TOKEN_EXP}, 0, -4) . 'AAAA';
$ENV{TEST_NGINX_TOKEN_TRIAL_NUM} = token(qq({"ws":"acme","role":"admin","plan":"basic","trial_ends":4102444800,"exp":$Exp}));

our $Config = <<'EOF_CONF';
    location /api/ {
        sender_domains_api;
        sender_domains_jwt_secret_file $TEST_NGINX_SERVER_ROOT/html/jwt.secret;
        sender_domains_workspace $sender_domains_jwt_ws;
        sender_domains_role $sender_domains_jwt_role;
        sender_domains_plan $sender_domains_jwt_plan;
        sender_domains_trial_ends $sender_domains_jwt_trial_ends;
    }
EOF_CONF

# bad tokens sent at the start of a second, all within it
sub flood {
    my ($n) = @_;
    my $t = Time::HiRes::time();
    Time::HiRes::sleep(1.05 - ($t - int $t)) if $t - int($t) > 0.5;
    for (1 .. $n) {
        SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, GET => '/api/', '',
                     {Authorization => "Bearer $ENV{TEST_NGINX_TOKEN_BADSIG}"});
    }
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('user_files', ">>> jwt.secret\n$Secret\n");
});

run_tests();

__DATA__

=== TEST 1: a token without exp is refused by default, with a sentence
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_NOEXP
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body_like: ^\{"error":\{"code":"unauthenticated","message":"The token has no expiry time \(exp\); ask for a token that expires\."\}\}$



=== TEST 2: with exp it is accepted
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_EXP
--- error_code: 200
--- response_body_like: ^\{"plan_ok":true,"can_edit":true,



=== TEST 3: sender_domains_jwt_require_exp off accepts a token without exp
--- http_config eval: $::HttpConfig
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_jwt_secret_file $TEST_NGINX_SERVER_ROOT/html/jwt.secret;
        sender_domains_jwt_require_exp off;
        sender_domains_workspace $sender_domains_jwt_ws;
        sender_domains_role $sender_domains_jwt_role;
        sender_domains_plan $sender_domains_jwt_plan;
    }
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_NOEXP
--- error_code: 200
--- response_body_like: ^\{"plan_ok":true,"can_edit":true,



=== TEST 4: the directive is inherited and takes only on or off
--- http_config eval: $::HttpConfig
--- config
    sender_domains_jwt_require_exp off;

    location /api/ {
        sender_domains_api;
        sender_domains_jwt_secret_file $TEST_NGINX_SERVER_ROOT/html/jwt.secret;
        sender_domains_workspace $sender_domains_jwt_ws;
        sender_domains_role $sender_domains_jwt_role;
        sender_domains_plan $sender_domains_jwt_plan;
    }
    location /strict/ {
        sender_domains_api;
        sender_domains_jwt_secret_file $TEST_NGINX_SERVER_ROOT/html/jwt.secret;
        sender_domains_jwt_require_exp on;
        sender_domains_workspace $sender_domains_jwt_ws;
        sender_domains_role $sender_domains_jwt_role;
        sender_domains_plan $sender_domains_jwt_plan;
    }
--- request eval
["GET /api/", "GET /strict/"]
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_NOEXP
--- error_code eval
[200, 401]



=== TEST 5: a bad value for the directive stops nginx -t, naming the directive
--- http_config eval: $::HttpConfig
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_jwt_require_exp maybe;
    }
--- must_die
--- error_log
"sender_domains_jwt_require_exp"



=== TEST 6: a workspace claim that is a number, a boolean or an object is refused, never read as "123" or "true"; the string "123" is fine
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /api/", "GET /api/", "GET /api/", "GET /api/", "GET /api/"]
--- more_headers eval
["Authorization: Bearer $ENV{TEST_NGINX_TOKEN_WS_NUM}",
 "Authorization: Bearer $ENV{TEST_NGINX_TOKEN_WS_TRUE}",
 "Authorization: Bearer $ENV{TEST_NGINX_TOKEN_WS_REAL}",
 "Authorization: Bearer $ENV{TEST_NGINX_TOKEN_WS_OBJ}",
 "Authorization: Bearer $ENV{TEST_NGINX_TOKEN_WS_STR}"]
--- error_code eval
[401, 401, 401, 401, 200]
--- response_body_like eval
[qr/^\{"error":\{"code":"unauthenticated","message":"The token's workspace claim must be a string\."\}\}$/,
 qr/"message":"The token's workspace claim must be a string\."/,
 qr/"message":"The token's workspace claim must be a string\."/,
 qr/"message":"The token's workspace claim must be a string\."/,
 qr/^\{"plan_ok":true,"can_edit":true,/]



=== TEST 7: other claims keep their text form: a numeric trial_ends still opens the card
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_TRIAL_NUM
--- error_code: 200
--- response_body_like: "plan_ok":true



=== TEST 8: a flood of refused tokens writes one log line a second, not one per request
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- log_level: info
--- init
::flood(20);
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_BADSIG
--- error_code: 401
--- response_body_like: "message":"The token signature is invalid\."
--- grep_error_log eval
qr/bearer token refused: [^,]*/
--- grep_error_log_out eval
# one plain line, then at most one a second with the count left out: the
# 21 requests start early in a second, but under load (ASan, two files at
# a time) they may reach into the next one or two seconds
qr/\Abearer token refused: The token signature is invalid\.\n(?:bearer token refused: The token signature is invalid\. \(and [1-9]\d* more since the last such line\)\n){0,2}\z/



=== TEST 9: $sender_domains_from follows the same rules: a token whose workspace claim is not a string, or that has no exp, names no caller (the default sender, as for any bad token)
--- http_config eval: $::HttpConfig
--- init
# each workspace its own legacy sender (legacy senders hold claims): a
# claim of 123 or true read as the workspace "123" or "true" would send as it
for my $p (['acme', 'a@b.example'], ['123', 'c@d.example'], ['true', 'e@f.example']) {
    my ($st, $b) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, PUT => '/api/legacy',
        qq([{"address":"$p->[1]"}]), {'X-WS' => $p->[0], 'X-Role' => 'service'});
    die "PUT /legacy: $st $b" unless $st == 200;
}
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
    }
    location = /send {
        sender_domains_jwt_secret_file $TEST_NGINX_SERVER_ROOT/html/jwt.secret;
        sender_domains_workspace $sender_domains_jwt_ws;
        sender_domains_plan $sender_domains_jwt_plan;
        add_header X-From $sender_domains_from always;
        return 204;
    }
--- request eval
["GET /send?from=a%40b.example", "GET /send?from=c%40d.example",
 "GET /send?from=e%40f.example", "GET /send?from=a%40b.example"]
--- more_headers eval
["Authorization: Bearer $ENV{TEST_NGINX_TOKEN_EXP}",
 "Authorization: Bearer $ENV{TEST_NGINX_TOKEN_WS_NUM}",
 "Authorization: Bearer $ENV{TEST_NGINX_TOKEN_WS_TRUE}",
 "Authorization: Bearer $ENV{TEST_NGINX_TOKEN_NOEXP}"]
--- error_code eval
[204, 204, 204, 204]
--- response_headers eval
["X-From: a\@b.example",
 "X-From: Platform Reports <reports\@platform.example>",
 "X-From: Platform Reports <reports\@platform.example>",
 "X-From: Platform Reports <reports\@platform.example>"]
