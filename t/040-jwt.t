# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# HS256 bearer tokens: verified (signature, exp, nbf, alg pinned), claims
# exposed as $sender_domains_jwt_<claim>, clear 401s.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);

# The blocks' http{} lines: SdTest's plumbing (store, SES simulator; see
# t/lib/SdTest.pm).
our $HttpConfig = SdTest::http_config();
# The caller comes from a signed token (HS256 unless the block says).
our $Config = <<'_EOC_';
    location /api/ {
        sender_domains_api;
        sender_domains_jwt_secret_file $TEST_NGINX_SERVER_ROOT/html/jwt.secret;
        sender_domains_workspace $sender_domains_jwt_ws;
        sender_domains_role $sender_domains_jwt_role;
        sender_domains_plan $sender_domains_jwt_plan;
        sender_domains_trial_ends $sender_domains_jwt_trial_ends;
    }
_EOC_

repeat_each(1);
no_shuffle();

our $Secret = "a-test-secret-of-at-least-32-bytes!!";

sub token {
    my ($claims, %o) = @_;
    my $h = encode_base64url($o{header} // '{"alg":"HS256","typ":"JWT"}');
    my $p = encode_base64url($claims);
    my $sig = encode_base64url(hmac_sha256("$h.$p", $o{secret} // $Secret));
    return "$h.$p." . ($o{nosig} ? '' : $sig);
}

our $Now = time;

$ENV{TEST_NGINX_TOKEN_OK} = token(qq({"ws":"acme","role":"admin","plan":"professional","exp":@{[$Now + 600]}}));
$ENV{TEST_NGINX_TOKEN_MEMBER} = token(qq({"ws":"acme","role":"member","plan":"professional","exp":@{[$Now + 600]}}));
$ENV{TEST_NGINX_TOKEN_EXPIRED} = token(qq({"ws":"acme","role":"admin","plan":"professional","exp":@{[$Now - 600]}}));
$ENV{TEST_NGINX_TOKEN_NBF} = token(qq({"ws":"acme","role":"admin","plan":"professional","nbf":@{[$Now + 600]}}));
$ENV{TEST_NGINX_TOKEN_WRONG} = token(qq({"ws":"acme","role":"admin","plan":"professional"}), secret => 'another-secret-another-secret-xx');
$ENV{TEST_NGINX_TOKEN_NONE} = token(qq({"ws":"acme","role":"admin","plan":"professional"}), header => '{"alg":"none"}', nosig => 1);
$ENV{TEST_NGINX_TOKEN_HS512} = token(qq({"ws":"acme","role":"admin","plan":"professional"}), header => '{"alg":"HS512","typ":"JWT"}');
$ENV{TEST_NGINX_TOKEN_TRIAL} = token(qq({"ws":"acme","role":"admin","plan":"basic","trial_ends":"2099-01-01T00:00:00Z","exp":@{[$Now + 600]}}));

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('user_files', ">>> jwt.secret\n$Secret\n");
});

run_tests();

__DATA__

=== TEST 1: a valid token: its claims name the caller
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_OK
--- error_code: 200
--- response_body_like: ^\{"plan_ok":true,"can_edit":true,



=== TEST 2: a member's token reads only
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_MEMBER
--- error_code: 200
--- response_body_like: "can_edit":false



=== TEST 3: a trial claim opens the card
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_TRIAL
--- error_code: 200
--- response_body_like: "plan_ok":true



=== TEST 4: no token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
--- response_body_like: ^\{"error":\{"code":"unauthenticated","message":"Sign in first: send \\"Authorization: Bearer <token>\\"\."\}\}$



=== TEST 5: an expired token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_EXPIRED
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body_like: "message":"The token has expired\."
--- log_level: info
--- error_log
bearer token refused: The token has expired.
--- no_error_log eval
[qr/eyJ/]



=== TEST 6: a token not valid yet
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_NBF
--- error_code: 401
--- response_body_like: "message":"The token is not valid yet\."



=== TEST 7: a token signed with another secret
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN_WRONG
--- error_code: 401
--- response_body_like: "message":"The token signature is invalid\."



=== TEST 8: alg none and alg HS512 are refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /api/", "GET /api/"]
--- more_headers eval
["Authorization: Bearer $ENV{TEST_NGINX_TOKEN_NONE}",
 "Authorization: Bearer $ENV{TEST_NGINX_TOKEN_HS512}"]
--- error_code eval
[401, 401]
--- response_body_like eval
[qr/"message":"Only HS256 tokens are accepted\."/,
 qr/"message":"Only HS256 tokens are accepted\."/]



=== TEST 9: garbage and a tampered payload
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /api/", "GET /api/"]
--- more_headers eval
["Authorization: Bearer not.a.token",
 "Authorization: Bearer " . CORE::join(".", (split /\./, $ENV{TEST_NGINX_TOKEN_MEMBER})[0],
     MIME::Base64::encode_base64url('{"ws":"acme","role":"admin","plan":"professional"}'),
     (split /\./, $ENV{TEST_NGINX_TOKEN_MEMBER})[2])]
--- error_code eval
[401, 401]
--- response_body_like eval
[qr/"code":"unauthenticated"/,
 qr/"message":"The token signature is invalid\."/]
