# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The module loads into Debian's nginx, and `nginx -t` refuses every bad
# directive with a message that names it.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use File::Temp ();

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config();

repeat_each(1);

# a store written by a (future) module of a newer store format
our $Newer = File::Temp::tempdir(CLEANUP => 1);
$ENV{TEST_NGINX_NEWER_STORE} = "$Newer/newer.mdb";
open my $load, '|-', 'mdb_load', '-n', '-s', 'meta', "$Newer/newer.mdb"
    or die "mdb_load: $!";
print $load "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n"
            . " 666f726d6174\n 02000000\nDATA=END\n";     # "format" = 2 (LE32)
close $load or die "mdb_load failed";

# TLS files for the cluster's ssl directives (TESTs 27-35), made by openssl
# here: a CA, a client certificate it signed with its key, another key,
# the client key encrypted with a passphrase
our $Tls = File::Temp::tempdir(CLEANUP => 1);
$ENV{TEST_NGINX_TLS} = $Tls;
for my $cmd (
    "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
      . " -subj /CN=sd-test-ca -keyout $Tls/ca.key -out $Tls/ca.crt",
    "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
      . " -subj /CN=sd-node -keyout $Tls/client.key -out $Tls/client.csr",
    "x509 -req -in $Tls/client.csr -CA $Tls/ca.crt -CAkey $Tls/ca.key"
      . " -CAcreateserial -days 1 -out $Tls/client.crt",
    "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $Tls/other.key",
    "pkey -in $Tls/client.key -aes256 -passout pass:secret -out $Tls/encrypted.key",
) {
    system("openssl $cmd 2>/dev/null") == 0 or die "openssl $cmd failed";
}
chmod 0600, glob "$Tls/*.key";

sub tls_file {
    open my $f, '<', "$Tls/$_[0]" or die "$Tls/$_[0]: $!";
    local $/;
    return scalar <$f>;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the module loads and the API answers JSON
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code: 200
--- response_body_like: ^\{"plan_ok":true,



=== TEST 2: sender_domains_api without sender_domains_db
--- http_config
--- config
    location /api/ { sender_domains_api; sender_domains_workspace $http_x_ws; }
--- must_die
--- error_log
sender_domains_api requires sender_domains_db



=== TEST 3: a map size too small
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb 10k;
--- must_die
--- error_log
sender_domains_db: invalid map size "10k"



=== TEST 4: a default sender without an address
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_default_from "Reports";
--- must_die
--- error_log
sender_domains_default_from: invalid sender "Reports"



=== TEST 5: a header-injecting default sender
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_default_from "Reports <a@b.com>\r\nBcc: x@y.com";
--- must_die
--- error_log
sender_domains_default_from: invalid sender



=== TEST 6: a region that is not an AWS region
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_ses_region "us east";
--- must_die
--- error_log
sender_domains_ses_region: invalid region "us east"



=== TEST 7: an endpoint that is not a URL
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_ses_endpoint email.us-east-1.amazonaws.com;
--- must_die
--- error_log
sender_domains_ses_endpoint: invalid URL



=== TEST 8: a credentials file that does not exist
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_aws_credentials_file /nonexistent/credentials;
--- must_die
--- error_log
sender_domains_aws_credentials_file: cannot open "/nonexistent/credentials"



=== TEST 9: a rate of zero
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_ses_rate 0;
--- must_die
--- error_log
sender_domains_ses_rate: invalid rate "0"



=== TEST 10: a refresh interval that is not a time
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_refresh_interval soon;
--- must_die
--- error_log
"sender_domains_refresh_interval" directive invalid value



=== TEST 11: a JWT secret file that is too short
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_jwt_secret_file $TEST_NGINX_SERVER_ROOT/html/short;
    }
--- user_files
>>> short
tiny
--- must_die
--- error_log
sender_domains_jwt_secret_file: "



=== TEST 12: a duplicate sender_domains_db
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/t.mdb;
--- must_die
--- error_log
"sender_domains_db" directive is duplicate



=== TEST 13: sender_domains_api takes no arguments
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
--- config
    location /api/ { sender_domains_api on; }
--- must_die
--- error_log
invalid number of arguments in "sender_domains_api" directive



=== TEST 14: the workspace from a regex location's capture ($1), the API's paths after the match
--- http_config eval: $::HttpConfig
--- config
    location ~ ^/ws/(\w+)/senders {
        sender_domains_api;
        sender_domains_workspace $1;
        sender_domains_role admin;
        sender_domains_plan professional;
    }
--- request eval
["POST /ws/acme/senders/\n{\"identity\":\"acme.com\"}", "GET /ws/acme/senders/", "GET /ws/other/senders/"]
--- more_headers
Content-Type: application/json
--- error_code eval
[201, 200, 200]
--- response_body_like eval
[qr/"identity":"acme\.com"/, qr/"identities":\[\{"identity":"acme\.com"/, qr/"identities":\[\]/]



=== TEST 15: the workspace from a named capture, and from text around a variable
--- http_config eval: $::HttpConfig
--- config
    location ~ ^/t/(?<tenant>\w+)/senders {
        sender_domains_api;
        sender_domains_workspace $tenant;
        sender_domains_role admin;
        sender_domains_plan professional;
    }
    location ~ ^/p/(\w+)/senders {
        sender_domains_api;
        sender_domains_workspace "ws-$1";
        sender_domains_role admin;
        sender_domains_plan professional;
    }
--- request eval
["POST /t/acme/senders/\n{\"identity\":\"acme.com\"}", "GET /t/acme/senders/acme.com", "POST /p/acme/senders/\n{\"identity\":\"acme.com\"}", "GET /p/acme/senders/acme.com"]
--- more_headers
Content-Type: application/json
--- error_code eval
[201, 200, 409, 404]
--- response_body_like eval
[qr/"identity":"acme\.com"/, qr/"identity":"acme\.com"/, qr/"code":"already_registered"/, qr/"code":"not_found"/]



=== TEST 16: sender_domains_db without sender_domains_default_from
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
--- must_die
--- error_log
sender_domains_db requires sender_domains_default_from



=== TEST 17: the version: at notice when a worker starts, in a header of GET / when asked for
--- http_config eval: $::HttpConfig
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_plan $http_x_plan;
        sender_domains_version_header on;
    }
--- request
GET /api/
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code: 200
--- response_headers
X-Sender-Domains-Version: 0.9.0
--- error_log eval
qr/\[notice\] .*sender_domains 0\.9\.0: store ".*senders\.mdb" opened/



=== TEST 18: no version header by default
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code: 200
--- response_headers
!X-Sender-Domains-Version



=== TEST 19: a store of a newer format is refused at start, with what to do
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_NEWER_STORE;
    sender_domains_default_from "Reports <reports@platform.example>";
--- must_die
--- error_log eval
qr{sender_domains_db: "[^"]*newer\.mdb" is of format 2, newer than this module's 1: it was written by a newer version of the module; run that version, or restore a backup made for this one}



=== TEST 20: a default sender's name meets the rules of workspaces' names (no bidi override)
--- config eval: $::Config
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_default_from "Reports ‮moc.evil <reports@platform.example>";
--- must_die
--- error_log
sender_domains_default_from: invalid sender



=== TEST 21: cluster mode: an engine that is not etcd
--- config eval: $::Config
--- http_config eval
$::HttpConfig . "sender_domains_cluster consul http://127.0.0.1:2379;"
--- must_die
--- error_log
sender_domains_cluster: unknown engine "consul", expected "etcd"



=== TEST 22: cluster mode: an etcd endpoint with a path
--- config eval: $::Config
--- http_config eval
$::HttpConfig . "sender_domains_cluster etcd http://127.0.0.1:2379 http://127.0.0.1:2381/v3/;"
--- must_die
--- error_log
sender_domains_cluster: invalid etcd endpoint "http://127.0.0.1:2381/v3", expected "http://host:port" or "https://host:port"



=== TEST 23: cluster mode: a prefix that does not end with a slash
--- config eval: $::Config
--- http_config eval
$::HttpConfig . "sender_domains_cluster etcd http://127.0.0.1:2379;
    sender_domains_cluster_prefix /sender-domains;"
--- must_die
--- error_log
sender_domains_cluster_prefix: invalid prefix "/sender-domains"



=== TEST 24: cluster mode: a node name with a slash
--- config eval: $::Config
--- http_config eval
$::HttpConfig . "sender_domains_cluster etcd http://127.0.0.1:2379;
    sender_domains_cluster_node a/b;"
--- must_die
--- error_log
sender_domains_cluster_node: invalid name "a/b"



=== TEST 25: cluster mode: a prefix without the cluster
--- config eval: $::Config
--- http_config eval
$::HttpConfig . "sender_domains_cluster_prefix /x/;"
--- must_die
--- error_log
sender_domains_cluster_prefix and sender_domains_cluster_node need "sender_domains_cluster etcd URL..."



=== TEST 26: cluster mode without sender_domains_db
--- config
    location /x { return 204; }
--- http_config
    sender_domains_cluster etcd http://127.0.0.1:2379;
--- must_die
--- error_log
sender_domains_cluster needs sender_domains_db



=== TEST 27: cluster TLS: a CA file that does not exist
--- config eval: $::Config
--- http_config eval
$::HttpConfig . 'sender_domains_cluster etcd https://127.0.0.1:2379;
    sender_domains_cluster_ssl_trusted_certificate /nonexistent/ca.crt;'
--- must_die
--- error_log
sender_domains_cluster_ssl_trusted_certificate: cannot open "/nonexistent/ca.crt"



=== TEST 28: cluster TLS: a CA file that holds no certificate
--- config eval: $::Config
--- http_config eval
$::HttpConfig . 'sender_domains_cluster etcd https://127.0.0.1:2379;
    sender_domains_cluster_ssl_trusted_certificate $TEST_NGINX_TLS/other.key;'
--- must_die
--- error_log eval
qr{sender_domains_cluster_ssl_trusted_certificate: "[^"]+/other\.key": it holds no PEM certificate}



=== TEST 29: cluster TLS: a client certificate without its key
--- config eval: $::Config
--- http_config eval
$::HttpConfig . 'sender_domains_cluster etcd https://127.0.0.1:2379;
    sender_domains_cluster_ssl_certificate $TEST_NGINX_TLS/client.crt;'
--- must_die
--- error_log eval
qr{sender_domains_cluster_ssl_certificate "[^"]+/client\.crt" needs sender_domains_cluster_ssl_certificate_key}



=== TEST 30: cluster TLS: a key without its certificate
--- config eval: $::Config
--- http_config eval
$::HttpConfig . 'sender_domains_cluster etcd https://127.0.0.1:2379;
    sender_domains_cluster_ssl_certificate_key $TEST_NGINX_TLS/client.key;'
--- must_die
--- error_log eval
qr{sender_domains_cluster_ssl_certificate_key "[^"]+/client\.key" needs sender_domains_cluster_ssl_certificate}



=== TEST 31: cluster TLS: a key that is not the certificate's
--- config eval: $::Config
--- http_config eval
$::HttpConfig . 'sender_domains_cluster etcd https://127.0.0.1:2379;
    sender_domains_cluster_ssl_certificate $TEST_NGINX_TLS/client.crt;
    sender_domains_cluster_ssl_certificate_key $TEST_NGINX_TLS/other.key;'
--- must_die
--- error_log eval
qr{sender_domains_cluster_ssl_certificate "[^"]+/client\.crt" and sender_domains_cluster_ssl_certificate_key "[^"]+/other\.key": the private key does not match the certificate's public key}



=== TEST 32: cluster TLS: a key with a passphrase
--- config eval: $::Config
--- http_config eval
$::HttpConfig . 'sender_domains_cluster etcd https://127.0.0.1:2379;
    sender_domains_cluster_ssl_certificate $TEST_NGINX_TLS/client.crt;
    sender_domains_cluster_ssl_certificate_key $TEST_NGINX_TLS/encrypted.key;'
--- must_die
--- error_log eval
qr{sender_domains_cluster_ssl_certificate_key: "[^"]+/encrypted\.key": the private key is encrypted; a key with a passphrase is not supported}



=== TEST 33: cluster TLS: an http:// endpoint among the endpoints
--- config eval: $::Config
--- http_config eval
$::HttpConfig . 'sender_domains_cluster etcd https://127.0.0.1:2379 http://127.0.0.1:2381;
    sender_domains_cluster_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;'
--- must_die
--- error_log
sender_domains_cluster: the etcd endpoint "http://127.0.0.1:2381" is not https://, but sender_domains_cluster_ssl_* are set



=== TEST 34: cluster TLS: the files without the cluster
--- config eval: $::Config
--- http_config eval
$::HttpConfig . 'sender_domains_cluster_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;'
--- must_die
--- error_log
sender_domains_cluster_ssl_certificate and sender_domains_cluster_ssl_certificate_key need "sender_domains_cluster etcd https://..."



=== TEST 35: cluster TLS: paths relative to the configuration's folder; a key others may read is a warning
--- config eval: $::Config
--- http_config eval
$::HttpConfig . 'sender_domains_cluster etcd https://127.0.0.1:1;
    sender_domains_cluster_node t001;
    sender_domains_cluster_ssl_trusted_certificate ../html/ca.crt;
    sender_domains_cluster_ssl_certificate ../html/client.crt;
    sender_domains_cluster_ssl_certificate_key ../html/client.key;'
--- user_files eval
">>> ca.crt\n" . main::tls_file('ca.crt')
. ">>> client.crt\n" . main::tls_file('client.crt')
. ">>> client.key\n" . main::tls_file('client.key')
--- request
GET /api/
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code: 200
--- error_log eval
qr{sender_domains_cluster_ssl_certificate_key: "[^"]+/html/client\.key" holds a secret and is readable by group or others}
--- no_error_log
[emerg]
