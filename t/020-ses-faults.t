# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Every SES failure during add, refresh, resend, delete and migrate comes
# back as its JSON error, and the store stays consistent: the row says
# where it stopped, and the next call completes it.

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
# What the module says of an identity deleted from SES behind its back.
our $GONE = "Amazon SES no longer has this identity (it was deleted "
            . "outside this module); the next refresh adds it again.";

run_tests();

__DATA__

=== TEST 1: SES 500 during add: 503, the row waits in "creating", a refresh completes it
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"500\",\"match\":\"CreateEmailIdentity\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /api/acme.com",
"POST /api/acme.com/refresh",
"GET /sim/identities",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 503, 200, 200, 200]
--- response_body_like eval
[
qr/500/,
qr/^\{"error":\{"code":"ses_unavailable","message":"Amazon SES is busy or unavailable[^"]*","ses_error_type":"InternalServiceErrorException"\}\}$/,
qr/"state":"creating",.*"last_error":\{"code":"ses_unavailable"/,
qr/"state":"ready",.*"origin":"created",.*"last_error":null/,
qr/acme\.com/,
]



=== TEST 2: throttling is 503 with Retry-After, never SES's raw error
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"429\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 503]
--- response_headers eval
["", "Retry-After: 30"]
--- response_body_like eval
[
qr/429/,
qr/"code":"ses_unavailable"/,
]



=== TEST 3: a garbage answer is 502 ses_error
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"garbage\",\"match\":\"CreateEmailIdentity\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /api/acme.com",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 502, 200]
--- response_body_like eval
[
qr/garbage/,
qr/"code":"ses_error"/,
qr/"state":"creating"/,
]



=== TEST 4: a dropped connection is 503
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"drop\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 503]
--- response_body_like eval
[
qr/drop/,
qr/"code":"ses_unavailable"/,
]



=== TEST 5: no answer until the timeout is 504 ses_timeout
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"timeout\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 504]
--- response_body_like eval
[
qr/timeout/,
qr/^\{"error":\{"code":"ses_timeout","message":"Amazon SES did not answer in time; nothing was lost\. Try again\.","ses_error_type":""\}\}$/,
]
--- timeout: 10



=== TEST 6: SES refusing the name releases the claim (SES created nothing)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"error\",\"status\":400,\"error_type\":\"BadRequestException\",\"message\":\"Invalid domain name.\",\"match\":\"CreateEmailIdentity\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /api/acme.com",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 502, 404]
--- response_body_like eval
[
qr/error/,
qr/^\{"error":\{"code":"ses_error","message":"Amazon SES refused the request: Invalid domain name\.","ses_error_type":"BadRequestException"\}\}$/,
qr/"code":"not_found"/,
]



=== TEST 7: the answer lost after SES created it: the retry keeps it ours
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"500\",\"after\":true,\"match\":\"CreateEmailIdentity\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /sim/calls",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 503, 201, 200]
--- response_body_like eval
[
qr/500/,
qr/"code":"ses_unavailable"/,
qr/"state":"ready",.*"origin":"created"/,
qr/CreateEmailIdentity.*CreateEmailIdentity.*AlreadyExists.*GetEmailIdentity.*PutEmailIdentityMailFromAttributes/s,
]



=== TEST 8: MAIL FROM fails: the row waits in "configuring_mail_from"; refresh finishes it
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"503\",\"match\":\"PutEmailIdentityMailFromAttributes\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /api/acme.com",
"POST /api/acme.com/refresh",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 503, 200, 200]
--- response_body_like eval
[
qr/503/,
qr/"code":"ses_unavailable"/,
qr/"state":"configuring_mail_from",.*"origin":"created",.*"last_error":\{"code":"ses_unavailable"/,
qr/"state":"ready",.*"mail_from_domain":"pmail\.acme\.com"/,
]



=== TEST 9: refresh failing leaves the row as it was
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /sim/faults
{\"count\":1,\"kind\":\"500\",\"match\":\"GetEmailIdentity\"}",
"POST /api/acme.com/refresh",
"GET /api/acme.com",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 503, 200]
--- response_body_like eval
[
qr/acme/,
qr/500/,
qr/"code":"ses_unavailable"/,
qr/"state":"ready","dkim_status":"pending"/,
]



=== TEST 10: resend failing is 503 and keeps the last sent time
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"me\@acme.com\"}",
"POST /sim/faults
{\"count\":1,\"kind\":\"503\",\"match\":\"VerifyEmailIdentity\"}",
"POST /api/me\@acme.com/resend-verification",
"GET /api/me\@acme.com",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 503, 200]
--- response_body_like eval
[
qr/"verification_email_sent_at":"(20[^"]+)"/,
qr/503/,
qr/"code":"ses_unavailable"/,
qr/"verification_email_sent_at":"20/,
]



=== TEST 11: a wrong secret is an authentication failure with SES's message
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- main_config
env AWS_ACCESS_KEY_ID=AKIDSIMULATOR;
env AWS_SECRET_ACCESS_KEY=not-the-secret;
--- request
POST /api/
{"identity":"acme.com"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 502
--- response_body_like: ^\{"error":\{"code":"ses_error","message":"Amazon SES refused the request: The request signature we calculated does not match the signature you provided\.[^"]*","ses_error_type":"(InvalidSignatureException|SignatureDoesNotMatch)"\}\}$
--- no_error_log
not-the-secret



=== TEST 12: no credentials at all: a clear 503, and a warning at start
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- main_config
--- request
POST /api/
{"identity":"acme.com"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 503
--- response_body_like: "code":"ses_unavailable","message":"Amazon SES cannot be reached: no AWS credentials
--- error_log
no AWS credentials



=== TEST 13: credentials from a shared-credentials file, with a profile
--- config eval: $::Config
--- main_config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/senders.mdb 16m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_ses_endpoint http://127.0.0.1:$TEST_NGINX_SES_PORT;
    sender_domains_aws_credentials_file $TEST_NGINX_SERVER_ROOT/html/credentials reports;
--- user_files
>>> credentials
[default]
aws_access_key_id = AKIDWRONG
aws_secret_access_key = wrong

[reports]
aws_access_key_id = AKIDSIMULATOR
aws_secret_access_key = sim-secret-key
--- request
POST /api/
{"identity":"acme.com"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 201
--- response_body_like: "state":"ready"
--- no_error_log
sim-secret-key



=== TEST 14: the identity quota is full: 502 with SES's message, the claim released
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"error\",\"status\":400,\"error_type\":\"LimitExceededException\",\"message\":\"Maximum number of identities reached.\",\"match\":\"CreateEmailIdentity\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 502, 201]
--- response_body_like eval
[
qr/error/,
qr/^\{"error":\{"code":"ses_error","message":"Amazon SES refused the request: Maximum number of identities reached\.","ses_error_type":"LimitExceededException"\}\}$/,
qr/"state":"ready"/,
]



=== TEST 15: SES saying the identity is gone on refresh: the row says so, the next refresh re-creates it
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /sim/reset
{}",
"POST /api/acme.com/refresh",
"GET /api/acme.com",
"POST /api/acme.com/refresh",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 502, 200, 200]
--- response_body_like eval
[
qr/acme/,
qr/./,
qr/"code":"ses_error".*"ses_error_type":"NotFoundException"/,
qr/"state":"creating",.*"verified_for_sending":false/,
qr/"state":"ready",.*"origin":"created"/,
]



=== TEST 16: a domain deleted in SES behind the module's back gets its MAIL FROM again when re-added
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\",\"mail_from_subdomain\":\"bounce\"}",
"POST /sim/reset
{}",
"POST /api/acme.com/refresh",
"GET /api/acme.com",
"POST /api/acme.com/refresh",
"GET /sim/identities",
# the call log was cleared with the reset: the re-added identity's own call
"GET /sim/calls?action=PutEmailIdentityMailFromAttributes",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 502, 200, 200, 200, 200]
--- response_body_like eval
[
qr/"mail_from_status":"pending".*"mail_from_domain":"bounce\.acme\.com"/,
qr/./,
qr//,
qr//,
qr/"state":"ready",.*"mail_from_status":"pending".*"mail_from_domain":"bounce\.acme\.com".*"origin":"created".*"group":"mail_from".*"name":"bounce\.acme\.com"/s,
qr/"acme\.com".*"mail_from_domain":\s*"bounce\.acme\.com"/s,
qr/^\[\s*\{[^\[\]]*"identity":\s*"acme\.com"[^\[\]]*\}\s*\]$/s,
]
--- response_json eval
[
undef,
undef,
{error => {code => 'ses_error', message => $::GONE,
           ses_error_type => 'NotFoundException'}},
{state => 'creating', mail_from_status => 'not_configured',
 mail_from_domain => undef,
 last_error => {code => 'ses_error', message => $::GONE}},
undef,
undef,
undef,
]
