# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Secrets are read the way nginx reads ssl_certificate_key: by the master
# while it parses the configuration.  A credentials file only root may read
# works with workers running as "nobody", "nginx -t" refuses a file it
# cannot use (missing, garbage, no such profile, a key missing), and warns
# when a secret file is readable by group or others.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use File::Temp ();

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $Config = SdTest::api_config();

# workers drop to "nobody": what only root may read stays unreadable to them
$Test::Nginx::Socket::WorkerUser = 'nobody nogroup' if $> == 0;

master_on();
workers(1);
repeat_each(1);
no_shuffle();

our $Dir = File::Temp::tempdir(CLEANUP => 1);
chmod 0755, $Dir;
$ENV{TEST_NGINX_SECRETS} = $Dir;

sub secret_file {
    my ($name, $mode, $text) = @_;
    open my $o, '>', "$Dir/$name" or die "$Dir/$name: $!";
    print $o $text;
    close $o;
    chmod $mode, "$Dir/$name";
}

secret_file('credentials', 0600, <<'EOF');
[default]
aws_access_key_id = AKIDSIMULATOR
aws_secret_access_key = sim-secret-key
EOF
secret_file('credentials-shared', 0644, <<'EOF');
[default]
aws_access_key_id = AKIDSIMULATOR
aws_secret_access_key = sim-secret-key
EOF
secret_file('garbage', 0600, "this is not an AWS credentials file\n");
secret_file('no-secret', 0600, "[default]\naws_access_key_id = AKIDSIMULATOR\n");
secret_file('jwt-shared', 0644, ('k' x 40) . "\n");

# "nginx -t" of the block's configuration, its output in html/test.txt
sub nginx_test {
    my $root = SdTest::server_root();
    my $bin = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
    open my $in, '<', "$root/conf/nginx.conf" or die $!;
    (my $text = do { local $/; <$in> }) =~ s{^pid\s+\S+;}{pid $root/logs/test.pid;}m;
    close $in;
    open my $o, '>', "$root/conf/test.conf" or die $!;
    print $o $text;
    close $o;
    my $out = `$bin -t -p $root/ -c $root/conf/test.conf 2>&1`;
    open $o, '>', "$root/html/test.txt" or die $!;
    print $o "exit=", $? >> 8, "\n", $out;
    close $o;
}

run_tests();

__DATA__

=== TEST 1: a root-only (0600) credentials file signs SES calls from workers running as nobody
--- config eval: $::Config
--- main_config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/senders.mdb 16m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_ses_endpoint http://127.0.0.1:$TEST_NGINX_SES_PORT;
    sender_domains_aws_credentials_file $TEST_NGINX_SECRETS/credentials;
--- request
POST /api/
{"identity":"acme.com","type":"domain"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 201
--- response_body_like: "identity":"acme\.com"



=== TEST 2: nginx -t refuses a credentials file that is not one
--- main_config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/senders.mdb 16m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_aws_credentials_file $TEST_NGINX_SECRETS/garbage;
--- config
--- must_die
--- error_log eval
qr{sender_domains_aws_credentials_file: "[^"]*/garbage", profile "default": }



=== TEST 3: nginx -t refuses a profile that the file does not have
--- main_config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/senders.mdb 16m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_aws_credentials_file $TEST_NGINX_SECRETS/credentials reports;
--- config
--- must_die
--- error_log eval
qr{sender_domains_aws_credentials_file: "[^"]*/credentials", profile "reports": }



=== TEST 4: nginx -t refuses a profile without its secret key
--- main_config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/senders.mdb 16m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_aws_credentials_file $TEST_NGINX_SECRETS/no-secret;
--- config
--- must_die
--- error_log eval
qr{sender_domains_aws_credentials_file: "[^"]*/no-secret", profile "default": }



=== TEST 5: nginx -t refuses a credentials file that does not exist
--- main_config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/senders.mdb 16m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_aws_credentials_file $TEST_NGINX_SECRETS/absent;
--- config
--- must_die
--- error_log eval
qr{sender_domains_aws_credentials_file: cannot open "[^"]*/absent"}



=== TEST 6: nginx -t warns when a credentials file or a JWT secret is readable by group or others, and still loads
--- init
::nginx_test();
--- main_config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/senders.mdb 16m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_ses_endpoint http://127.0.0.1:$TEST_NGINX_SES_PORT;
    sender_domains_aws_credentials_file $TEST_NGINX_SECRETS/credentials-shared;
    sender_domains_jwt_secret_file $TEST_NGINX_SECRETS/jwt-shared;
--- config
    location = /test.txt { root html; }
--- request
GET /test.txt
--- error_code: 200
--- response_body_like eval
qr{^exit=0\n(?=.*\[warn\].*sender_domains_aws_credentials_file: "[^"]*/credentials-shared" holds a secret and is readable by group or others \(mode 0644\))(?=.*\[warn\].*sender_domains_jwt_secret_file: "[^"]*/jwt-shared" holds a secret and is readable by group or others).*test is successful}s



=== TEST 7: a root-only credentials file is read again on reload
--- config eval: $::Config
--- init
# the running nginx has the right key; a reload with a wrong one must be
# what the next call signs with, so the simulator refuses it
open my $o, '>', "$::Dir/credentials" or die $!;
print $o "[default]\naws_access_key_id = AKIDSIMULATOR\naws_secret_access_key = not-the-key\n";
close $o;
my @old = SdTest::worker_pids();
kill 'HUP', SdTest::master_pid();
SdTest::wait_until(15, sub {
    my %o = map { $_ => 1 } @old;
    my @new = SdTest::worker_pids();
    @new && !grep { $o{$_} } @new;
});
--- main_config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/senders.mdb 16m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_ses_endpoint http://127.0.0.1:$TEST_NGINX_SES_PORT;
    sender_domains_aws_credentials_file $TEST_NGINX_SECRETS/credentials;
--- request
POST /api/
{"identity":"acme.com","type":"domain"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 502
--- response_body_like: "code":"ses_error"
