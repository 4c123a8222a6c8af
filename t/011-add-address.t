# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Adding a single address: the verification email, resend, the click,
# inheritance from a verified domain, validation.

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
run_tests();

__DATA__

=== TEST 1: add an address: SES sends the verification email, the row says when
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"Reports+Q4\@Acme.COM\",\"type\":\"email\"}",
"GET /sim/calls",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200]
--- response_body_like eval
[
qr//,
qr{"path": "/v2/email/identities".*"identity": "Reports\+Q4\@acme\.com"}s,
]
--- response_json eval
[
{identity => 'Reports+Q4@acme.com', type => 'email', kind => 'managed',
 dkim_status => 'pending', mail_from_status => 'not_configured',
 verified_for_sending => JSON::PP::false, dkim_inherited_from => undef,
 mail_from_domain => undef, origin => 'created', ownership => 'proven',
 verification_email_sent_at => qr/^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
 verification_link_expires_at => qr/^20\d\d-.+Z$/,
 dns_records => []},
undef,
]



=== TEST 2: resend, click the link, refresh: verified
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"reports\@acme.com\"}",
"POST /sim/clock
{\"advance\":3600}",
"POST /api/reports%40acme.com/resend-verification",
"GET /sim/calls",
"POST /sim/click
{\"identity\":\"reports\@acme.com\"}",
"POST /api/reports\@acme.com/refresh",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 200, 200, 200, 200]
--- response_body_like eval
[
qr/"verification_email_sent_at":"20/,
qr/\d/,
qr/"identity":"reports\@acme\.com".*"verification_email_sent_at":"20/,
qr/"action": "VerifyEmailIdentity"/,
qr/\w/,
qr/"dkim_status":"verified","mail_from_status":"not_configured","verified_for_sending":true/,
]



=== TEST 3: resend is only for pending addresses
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /api/acme.com/resend-verification",
"POST /api/
{\"identity\":\"me\@acme.com\"}",
"POST /sim/click
{\"identity\":\"me\@acme.com\"}",
"POST /api/me\@acme.com/refresh",
"POST /api/me\@acme.com/resend-verification",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 409, 201, 200, 200, 409]
--- response_body_like eval
[
qr/acme\.com/,
qr/"code":"not_pending"/,
qr/me\@acme\.com/,
qr/\w/,
qr/"verified_for_sending":true/,
qr/"code":"not_pending","message":"This address is already verified\."/,
]



=== TEST 4: an address under a verified domain of the workspace shows the inherited DKIM
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /sim/dns/publish
{\"identity\":\"acme.com\"}",
"POST /api/acme.com/refresh",
"POST /api/
{\"identity\":\"billing\@mail.acme.com\",\"type\":\"email\"}",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 200, 201]
--- response_body_like eval
[
qr/acme\.com/,
qr/published/,
qr/"verified_for_sending":true/,
qr/"identity":"billing\@mail\.acme\.com",.*"dkim_inherited_from":"acme\.com"/,
]



=== TEST 5: invalid addresses get 400 invalid_identity
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"no-at-sign.example\",\"type\":\"email\"}",
"POST /api/
{\"identity\":\"Acme <reports\@acme.com>\",\"type\":\"email\"}",
"POST /api/
{\"identity\":\"a..b\@acme.com\",\"type\":\"email\"}",
"POST /api/
{\"identity\":\"\\\"quoted\\\"\@acme.com\",\"type\":\"email\"}",
"POST /api/
{\"identity\":\"" . ("x" x 65) . "\@acme.com\",\"type\":\"email\"}",
"POST /api/
{\"identity\":\"josé\@acme.com\",\"type\":\"email\"}",
"POST /api/
{\"identity\":\"a\@b\@acme.com\",\"type\":\"email\"}",
"POST /api/
{\"identity\":\"reports\@acme.com\",\"type\":\"email\",\"mail_from_subdomain\":\"pmail\"}",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400]
--- response_body_like eval
[
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_subdomain"/,
]



=== TEST 6: a link clicked after 24 hours does not verify; resend gives a new one
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"late\@acme.com\"}",
"POST /sim/clock
{\"advance\":90000}",
"POST /sim/click
{\"identity\":\"late\@acme.com\"}",
"POST /api/late\@acme.com/refresh",
"POST /api/late\@acme.com/resend-verification",
"POST /sim/click
{\"identity\":\"late\@acme.com\"}",
"POST /api/late\@acme.com/refresh",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 410, 200, 200, 200, 200]
--- response_body_like eval
[
qr/late/,
qr/\d/,
qr/./,
qr/"verified_for_sending":false/,
qr/"verification_email_sent_at":"20/,
qr/./,
qr/"verified_for_sending":true/,
]



=== TEST 7: the same address with another capitalisation in the same workspace is 409
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"Team\@acme.com\"}",
"POST /api/
{\"identity\":\"team\@acme.com\"}",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 409]
--- response_body_like eval
[
qr/Team/,
qr/"code":"already_exists","message":"This address is already in your list with different capitalisation\."/,
]
