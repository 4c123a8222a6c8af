# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Tenant safety, adoption (issue 13, section 1): SES's verification status
# belongs to the shared account, so it counts for a workspace only when its
# own claim created the identity or the platform declared the sender as its
# legacy sender.  A domain verified outside waits, unproven, for a DNS
# proof (t/076); everything else is refused (409 registered_outside) and
# nothing is stored; legacy senders hold claims like any other row.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config();

# callers: admins of workspaces "one" and "two", their service, a member
$::one = "X-WS: one\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json";
$::two = "X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json";
$::svc1 = "X-WS: one\nX-Role: service\nContent-Type: application/json";
$::svc2 = "X-WS: two\nX-Role: service\nContent-Type: application/json";
$::sim = "Content-Type: application/json";
our @used = ($::one, $::two, $::svc1, $::svc2, $::sim);

# Stores in workspace WS the row the previous module wrote for an IDENTITY
# (of TYPE) it adopted: verified in SES, the header's verified flag set,
# "origin":"adopted", no "ownership".  Written with mdb_load's escapes;
# the header's second byte is the one that module wrote for each type.
sub store_adopted_row {
    my ($ws, $id, $type) = @_;
    my $db = SdTest::server_root() . '/logs/senders.mdb';
    my $flags = {domain => '15', email => '11'}->{$type} or die $type;
    open my $p, '|-', "mdb_load -n -s identities -T $db" or die;
    print $p "$ws\\00$id\n\\02\\$flags" . ('\\00' x 10)
       . qq({"identity":"$id","type":"$type","kind":"managed",)
       . '"sender_name":"","state":"ready","dkim_status":"verified",'
       . '"mail_from_status":"not_configured","verified_for_sending":true,'
       . '"dkim_inherited_from":null,"mail_from_domain":null,'
       . '"origin":"adopted","verification_email_sent_at":null,'
       . '"verification_link_expires_at":null,"verification_info":'
       . '{"error_type":null,"last_checked_at":null,"last_success_at":null},'
       . '"created_at":"2026-11-26T10:00:00Z",'
       . '"last_checked_at":"2026-11-26T10:00:01Z",'
       . '"next_check_at":"2026-11-27T10:00:01Z","last_error":null,'
       . '"_attempt":0}' . "\n";
    close $p or die "mdb_load failed";
}

repeat_each(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a domain already verified in SES outside the module: stored unproven (a DNS proof to publish), never a sender, blocks nobody
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/seed
{\"identity\":\"outside.example\",\"verified\":true}",
"POST /api/
{\"identity\":\"outside.example\"}",
"GET /api/outside.example",
"GET /api/",
"GET /api/resolve?from=ceo\@outside.example",
"POST /api/
{\"identity\":\"outside.example\"}",
"POST /api/
{\"identity\":\"news.outside.example\"}",
]
--- more_headers eval
[$::sim, $::one, $::one, $::one, $::one, $::two, $::one]
--- error_code eval
[200, 201, 200, 200, 200, 201, 201]
--- response_body_like eval
[
qr/outside/,
qr/^(?=.*"origin":"adopted")(?=.*"verified_for_sending":false)(?=.*"ownership":"unproven")(?=.*"dns_records":\[\{"group":"ownership","requirement":"required","type":"TXT","name":"_sender-domains\.outside\.example","value":"sd-verify=[a-z2-7]{32}")/s,
qr/^(?=.*"ownership":"unproven")(?=.*"verified_for_sending":false)/s,
qr/"identities":\[\{"identity":"outside\.example".*"ownership":"unproven"/,
qr/"source":"default","fallback":true,"reason":"ownership_unproven"/,
qr/^(?=.*"identity":"outside\.example")(?=.*"ownership":"unproven")/s,
qr/"identity":"news\.outside\.example".*"verified_for_sending":false/,
]



=== TEST 2: an address already verified for another sender: 409 with the support message, nothing stored
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/seed
{\"identity\":\"ceo\@victim.example\",\"verified\":true}",
"POST /api/
{\"identity\":\"ceo\@victim.example\"}",
"GET /api/ceo\@victim.example",
"GET /api/resolve?from=ceo\@victim.example",
"POST /api/
{\"identity\":\"ceo\@victim.example\"}",
]
--- more_headers eval
[$::sim, $::one, $::one, $::one, $::two]
--- error_code eval
[200, 409, 404, 200, 409]
--- response_body_like eval
[
qr/victim/,
qr/^\{"error":\{"code":"registered_outside","message":"This address is already verified for another sender on this platform; contact support\."\}\}$/,
qr/"code":"not_found"/,
qr/"fallback":true,"reason":"not_registered"/,
qr/"code":"registered_outside"/,
]



=== TEST 3: an identity pending in SES, created outside the module: refused too (its tokens were shown to someone else)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/seed
{\"identity\":\"pending.example\"}",
"POST /api/
{\"identity\":\"pending.example\"}",
"POST /sim/seed
{\"identity\":\"x\@pending2.example\"}",
"POST /api/
{\"identity\":\"x\@pending2.example\"}",
"GET /api/",
]
--- more_headers eval
[$::sim, $::one, $::sim, $::one, $::one]
--- error_code eval
[200, 409, 200, 409, 200]
--- response_body_like eval
[
qr/pending/,
qr/^\{"error":\{"code":"registered_outside","message":"This domain already exists in the platform's Amazon SES account outside your workspace/,
qr/pending2/,
qr/"code":"registered_outside","message":"This address already exists/,
qr/"identities":\[\]/,
]



=== TEST 4: an address in the workspace's legacy list is the platform's declaration: adopted, verified
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/seed
{\"identity\":\"ops\@acme.example\",\"verified\":true}",
"PUT /api/legacy
[{\"address\":\"ops\@acme.example\",\"sender_name\":\"Acme Ops\"}]",
"POST /api/
{\"identity\":\"ops\@acme.example\"}",
"GET /api/resolve?from=ops\@acme.example",
"DELETE /api/ops\@acme.example",
"GET /sim/identities",
]
--- more_headers eval
[$::sim, $::svc1, $::one, $::one, $::one, $::sim]
--- error_code eval
[200, 200, 201, 200, 204, 200]
--- response_body_like eval
[
qr/ops/,
qr/ops\@acme\.example/,
qr/"identity":"ops\@acme\.example",.*"verified_for_sending":true,.*"origin":"adopted",.*"ownership":"declared"/,
qr/"source":"address","fallback":false/,
qr/^$/,
qr/"ops\@acme\.example"/,
]



=== TEST 5: migrate of a legacy sender SES has verified: declared, resolves
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/seed
{\"identity\":\"news\@acme.example\",\"verified\":true}",
"PUT /api/legacy
[{\"address\":\"news\@acme.example\"}]",
"POST /api/news\@acme.example/migrate",
"GET /api/resolve?from=news\@acme.example",
]
--- more_headers eval
[$::sim, $::svc1, $::one, $::one]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[
qr/news/,
qr/news/,
qr/"kind":"managed",.*"verified_for_sending":true,.*"ownership":"declared"/,
qr/"source":"address","fallback":false/,
]



=== TEST 6: legacy senders hold claims: no other workspace adds the domain, the address, or declares it; nothing half-applied
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"PUT /api/legacy
[{\"address\":\"ops\@acme.example\"}]",
"POST /api/
{\"identity\":\"acme.example\"}",
"POST /api/
{\"identity\":\"ops\@acme.example\"}",
"PUT /api/legacy
[{\"address\":\"free\@other.example\"},{\"address\":\"ops\@acme.example\"}]",
"GET /api/",
"POST /api/
{\"identity\":\"other.example\"}",
"GET /api/resolve?from=ops\@acme.example",
]
--- more_headers eval
[$::svc1, $::two, $::two, $::svc2, $::two, $::one, $::two]
--- error_code eval
[200, 409, 409, 409, 200, 201, 200]
--- response_body_like eval
[
qr/ops/,
qr/"code":"already_registered"/,
qr/"code":"already_registered"/,
qr//,
qr/"identities":\[\]/,
qr/other\.example/,
qr/"source":"default","fallback":true/,
]
--- response_json eval
[
undef,
undef,
undef,
{error => {code => 'already_registered',
           message => "Some of these addresses lie under another "
                      . "workspace's claim; nothing was changed.",
           entries => [{address => 'ops@acme.example',
                        code => 'already_registered',
                        message => 'Already registered in another '
                                   . 'workspace.'}]}},
undef,
undef,
undef,
]



=== TEST 7: a legacy list that drops the sender releases its claim
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"PUT /api/legacy
[{\"address\":\"ops\@acme.example\"}]",
"PUT /api/legacy
[]",
"POST /api/
{\"identity\":\"acme.example\"}",
]
--- more_headers eval
[$::svc1, $::svc1, $::two]
--- error_code eval
[200, 200, 201]
--- response_body_like eval
[qr/ops/, qr/"legacy":\[\]/, qr/"origin":"created"/]



=== TEST 8: removed by its holder, a created identity is gone from SES; the next workspace starts afresh, unverified
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"shared.example\"}",
"POST /sim/dns/publish
{\"identity\":\"shared.example\"}",
"POST /api/shared.example/refresh",
"DELETE /api/shared.example",
"POST /api/
{\"identity\":\"shared.example\"}",
"GET /api/resolve?from=a\@shared.example",
]
--- more_headers eval
[$::one, $::sim, $::one, $::one, $::two, $::two]
--- error_code eval
[201, 200, 200, 204, 201, 200]
--- response_body_like eval
[
qr/shared/,
qr/published/,
qr/"verified_for_sending":true/,
qr/^$/,
qr/"verified_for_sending":false,.*"origin":"created","ownership":"proven"/,
qr/"fallback":true,"reason":"not_verified"/,
]



=== TEST 9: the unverified leftover of an expired claim is replaced: new tokens, the new claimant's own
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
my $h = {'X-WS' => 'one', 'X-Role' => 'admin', 'X-Plan' => 'professional'};
SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, POST => '/api/',
             '{"identity":"squat.example"}', $h);
SdTest::sim(POST => '/clock', '{"advance":260000}');
SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, POST => '/api/squat.example/refresh',
             '', $h);
SdTest::sim(DELETE => '/calls', '');
--- request eval
[
"POST /api/
{\"identity\":\"squat.example\"}",
"GET /sim/calls",
]
--- more_headers eval
[$::two, $::sim]
--- error_code eval
[201, 200]
--- response_body_like eval
[
qr/"dkim_status":"pending",.*"origin":"created","ownership":"proven"/,
qr/"action": "CreateEmailIdentity".*"action": "GetEmailIdentity".*"action": "DeleteEmailIdentity".*"action": "CreateEmailIdentity"/s,
]



=== TEST 10: a row an older module adopted (verified in SES, nothing proven) never resolves
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::store_adopted_row('one', 'old.example', 'domain');
--- request eval
[
"GET /api/resolve?from=ceo\@old.example",
"GET /api/resolve?from=ceo\@sub.old.example",
"GET /api/old.example",
"GET /api/",
]
--- more_headers eval
[$::one, $::one, $::one, $::one]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[
qr/"source":"default","fallback":true,"reason":"ownership_unproven"/,
qr/"source":"default","fallback":true,"reason":"ownership_unproven"/,
qr/"verified_for_sending":false,.*"origin":"adopted",.*"ownership":"unproven"/,
qr/"identity":"old\.example",.*"verified_for_sending":false,.*"ownership":"unproven"/,
]



=== TEST 11: an older version's unproven adoption holds no claim: the platform's legacy sender migrates
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/seed', '{"identity":"ops@acme.example","verified":true}');
# workspace "two" adopted ops@acme.example under the previous module: its
# row and its claim
::store_adopted_row('two', 'ops@acme.example', 'email');
my $db = SdTest::server_root() . '/logs/senders.mdb';
open my $p, '|-', "mdb_load -n -s claims -T $db" or die;
print $p "example.acme.\@ops\ntwo\\00ops\@acme.example\\00a\n";
close $p or die "mdb_load failed";
--- request eval
[
"PUT /api/legacy
[{\"address\":\"ops\@acme.example\"}]",
"POST /api/ops\@acme.example/migrate",
"GET /api/resolve?from=ops\@acme.example",
"GET /api/resolve?from=ops\@acme.example",
]
--- more_headers eval
[$::svc1, $::one, $::one, $::two]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[
qr/ops/,
qr/"kind":"managed",.*"verified_for_sending":true,.*"ownership":"declared"/,
qr/"source":"address","fallback":false/,
qr/"source":"default","fallback":true,"reason":"ownership_unproven"/,
]
