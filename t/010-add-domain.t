# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Adding a domain: DNS records, verification through the simulator,
# MAIL FROM (custom, default, existing kept), adoption, validation.

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

# A DKIM CNAME of DOMAIN: <token>._domainkey.DOMAIN -> <token>.dkim.amazonses.com
sub dkim_cname {
    my $domain = shift;
    return {group => 'dkim', requirement => 'required', type => 'CNAME',
            name => qr/^\w+\._domainkey\.\Q$domain\E$/,
            value => sub {
                my ($value, $record) = @_;
                my ($token) = $record->{name} =~ /^(\w+)\./;
                return defined $token
                       && $value eq "$token.dkim.amazonses.com";
            },
            explanation => qr/\S/};
}

run_tests();

__DATA__

=== TEST 1: add a domain: three DKIM CNAMEs, MAIL FROM and DMARC records
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/
{"identity":"Acme.COM.","type":"domain"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 201
--- response_json eval
{
    identity => 'acme.com', type => 'domain', kind => 'managed',
    state => 'ready', dkim_status => 'pending', mail_from_status => 'pending',
    verified_for_sending => JSON::PP::false,
    mail_from_domain => 'pmail.acme.com', origin => 'created',
    dns_records => [
        ::dkim_cname('acme.com'), ::dkim_cname('acme.com'),
        ::dkim_cname('acme.com'),
        {group => 'mail_from', requirement => 'recommended', type => 'MX',
         name => 'pmail.acme.com',
         value => '10 feedback-smtp.us-east-1.amazonses.com'},
        {group => 'mail_from', requirement => 'recommended', type => 'TXT',
         name => 'pmail.acme.com',
         value => 'v=spf1 include:amazonses.com ~all'},
        {group => 'dmarc', requirement => 'optional', type => 'TXT',
         name => '_dmarc.acme.com', value => qr/^v=DMARC1; p=none;/},
    ],
}
--- no_error_log
[error]



=== TEST 2: publish the records, refresh: verified
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /sim/dns/publish
{\"identity\":\"acme.com\"}",
"POST /api/acme.com/refresh",
"GET /api/acme.com",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 200, 200]
--- response_json eval
[
{dkim_status => 'pending'},
undef,
{dkim_status => 'verified', mail_from_status => 'verified',
 verified_for_sending => JSON::PP::true,
 verification_info => {error_type => undef,
                       last_checked_at => qr/^20\d\d-.+Z$/,
                       last_success_at => qr/^20\d\d-.+Z$/}},
{state => 'ready', dkim_status => 'verified'},
]
--- response_body_like eval
[qr//, qr/published/, qr//, qr//]



=== TEST 3: before the records exist, SES's reason is on the row
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"slow.example\"}",
"POST /api/slow.example/refresh",
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
qr/"dkim_status":"pending"/,
qr/"dkim_status":"pending",.*"verification_info":\{"error_type":"TYPE_NOT_FOUND"/,
]



=== TEST 4: a custom MAIL FROM subdomain
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/
{"identity":"acme.com","type":"domain","mail_from_subdomain":"Bounce"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 201
--- response_body_like: "mail_from_domain":"bounce\.acme\.com".*"type":"MX","name":"bounce\.acme\.com"



=== TEST 5: a domain SES already has verified, not created for this workspace: unproven (a DNS proof to publish), its MAIL FROM kept and untouched (issue 13)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/seed
{\"identity\":\"old.example\",\"mail_from_domain\":\"mx.old.example\",\"verified\":true}",
"POST /api/
{\"identity\":\"old.example\",\"mail_from_subdomain\":\"pmail\"}",
"GET /sim/calls",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 201, 200]
--- response_body_like eval
[
qr/old\.example/,
qr/^(?=.*"ownership":"unproven")(?=.*"verified_for_sending":false)(?=.*"mail_from_domain":"mx\.old\.example")/s,
qr/^(?!.*PutEmailIdentityMailFromAttributes).*CreateEmailIdentity.*GetEmailIdentity/s,
]



=== TEST 6: an identity this claim created, its answer lost: taken as created, and it gets the requested MAIL FROM
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
{\"kind\":\"500\",\"match\":\"CreateEmailIdentity\",\"after\":true}",
"POST /api/
{\"identity\":\"bare.example\"}",
"POST /api/
{\"identity\":\"bare.example\"}",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 503, 201]
--- response_body_like eval
[
qr/./,
qr/"code":"ses_unavailable"/,
qr/"mail_from_domain":"pmail\.bare\.example","origin":"created","ownership":"proven"/,
]



=== TEST 7: the same domain again in the same workspace is 409 already_exists
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /api/
{\"identity\":\"ACME.com\"}",
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
qr/"identity":"acme\.com"/,
qr/^\{"error":\{"code":"already_exists","message":"[^"]+"\}\}$/,
]



=== TEST 8: invalid domains get 400 invalid_identity with a helpful sentence
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"reports\@acme.com\",\"type\":\"domain\"}",
"POST /api/
{\"identity\":\"xn--zz.de\",\"type\":\"domain\"}",
"POST /api/
{\"identity\":\"localhost\",\"type\":\"domain\"}",
"POST /api/
{\"identity\":\"-acme.com\",\"type\":\"domain\"}",
"POST /api/
{\"identity\":\"https://acme.com/\",\"type\":\"domain\"}",
"POST /api/
{\"identity\":\"" . ("a" x 64) . ".com\",\"type\":\"domain\"}",
"POST /api/
{\"identity\":\"" . CORE::join(".", ("abcdefghi") x 26) . ".com\",\"type\":\"domain\"}",
"POST /api/
{\"identity\":42}",
"POST /api/
{\"identity\":\"acme.com\",\"type\":\"website\"}",
"POST /api/
{\"identity\":\"acme.com\",\"mail_from_subdomain\":\"mail.bounce\"}",
"POST /api/
{\"identity\":\"acme.com\",\"mail_from_subdomain\":\"-x\"}",
"POST /api/
[\"acme.com\"]",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400]
--- response_body_like eval
[
qr/"code":"invalid_identity","message":"That looks like an email address/,
qr/"code":"invalid_identity","message":"This is not a valid internationalised domain name: [^"]*punycode/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_identity"/,
qr/"code":"invalid_type"/,
qr/"code":"invalid_subdomain","message":"Enter one label/,
qr/"code":"invalid_subdomain"/,
qr/"code":"invalid_json"/,
]



=== TEST 9: the card lists the workspace's rows
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /api/
{\"identity\":\"reports\@beta.example\",\"type\":\"email\"}",
"GET /api/",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 201, 200]
--- response_body_like eval
[
qr/acme\.com/,
qr/reports\@beta\.example/,
qr//,
]
--- response_json eval
[
undef,
undef,
{plan_ok => JSON::PP::true, can_edit => JSON::PP::true,
 default_from => 'Platform Reports <reports@platform.example>',
 identities => [{identity => 'acme.com'},
                {identity => 'reports@beta.example'}]},
]
