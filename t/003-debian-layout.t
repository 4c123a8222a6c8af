# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The example configurations as an operator uses them (plain Test::More: it
# writes whole nginx.conf trees, which Test::Nginx blocks cannot).
#
# Part 1, conf-examples/debian/: an /etc/nginx-like tree in a temporary
# directory, laid out and included the Debian way -- nginx.conf includes
# modules-enabled/*.conf at its top (a link to
# usr/share/nginx/modules-available/mod-http-sender-domains.conf),
# conf.d/*.conf inside http {}, and a site in sites-enabled/ includes
# snippets/sender-domains-api.conf.  The three files are copied as they are;
# only the two values an operator edits in conf.d/sender-domains.conf (the
# store's directory, the session check's address) are changed, and one
# extra conf.d file points the module at the SES simulator.  It must pass
# `nginx -t -p ... -c ...` and serve the API: JSON 401 without a session,
# the card and an add with one, JSON 413 for a 2 MB POST.
#
# Part 2, conf-examples/auth-request.conf with json-errors.conf beside it
# (listen/TLS/paths changed for the test): a 2 MB POST to the API gets the
# JSON 413, a call without a session the JSON 401.
#
# Part 3, the README's synopsis (its first nginx block, listen and paths
# changed): nginx -t passes and it serves the card.

use strict;
use warnings;
use Test::More;
use File::Temp ();
use File::Path ();
use File::Copy ();
use POSIX ();
use Time::HiRes ();
use lib 't/lib';
use SdTest ();

my $nginx  = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my ($module) = grep { /sender_domains/ && -f } split ' ',
               ($ENV{TEST_NGINX_LOAD_MODULES} // '');
$module //= "$SdTest::Root/build/nginx/objs/ngx_http_sender_domains_module.so";
plan skip_all => "the module is not built ($module)" unless -f $module;

my $ex   = $ENV{SD_CONF_EXAMPLES} || "$SdTest::Root/conf-examples";

sub slurp { local (@ARGV, $/) = @_; return scalar <> }
my $root = $> == 0;                 # as root, workers run as www-data
my $tmp  = File::Temp::tempdir('sd-debian-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $tmp;

# the simulator checks the signature's region: the one the examples name
my ($region) = slurp("$ex/debian/conf.d/sender-domains.conf")
               =~ /^sender_domains_ses_region (\S+);/m;
my ($region2) = slurp("$ex/auth-request.conf")
                =~ /^\s*sender_domains_ses_region (\S+);/m;
die "the examples name different regions" if ($region // '') ne ($region2 // '');
SdTest::start_sim($region ? ('--region', $region) : ());
my $ses = $SdTest::SimPort;
$ENV{AWS_ACCESS_KEY_ID}     = 'AKIDSIMULATOR';
$ENV{AWS_SECRET_ACCESS_KEY} = 'sim-secret-key';

sub free_port {
    for (1 .. 100) {
        my $p = 20000 + int rand 40000;
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                      ReuseAddr => 1, Listen => 1) or next;
        close $s;
        return $p;
    }
    die "no free port";
}


sub spew {
    my ($f, $text) = @_;
    (my $d = $f) =~ s{/[^/]+$}{};
    File::Path::make_path($d);
    open my $out, '>', $f or die "$f: $!";
    print $out $text;
    close $out or die "$f: $!";
}

# curl: (status, content type, body)
sub call {
    my ($port, $method, $path, %o) = @_;
    my @cmd = ('curl', '-s', '-m', '20', '-X', $method,
               '-o', "$tmp/body", '-w', '%{http_code} %{content_type}');
    push @cmd, '-H', $_ for @{ $o{headers} || [] };
    if (defined $o{body_file}) {
        push @cmd, '-H', 'Content-Type: application/json',
                   '--data-binary', "\@$o{body_file}";
    } elsif (defined $o{body}) {
        push @cmd, '-H', 'Content-Type: application/json', '--data-binary', $o{body};
    }
    open my $p, '-|', @cmd, "http://127.0.0.1:$port$path" or die "curl: $!";
    my $w = do { local $/; <$p> } // '';
    close $p;
    my ($st, $ct) = split ' ', $w, 2;
    my $body = -f "$tmp/body" ? slurp("$tmp/body") : '';
    unlink "$tmp/body";
    return ($st // 0, $ct // '', $body);
}

my @masters;            # pid files of the nginx we started

sub start {
    my ($prefix, $conf) = @_;
    my @cmd = ($nginx, '-p', "$prefix/", '-c', $conf, '-e', "$prefix/logs/error.log");
    my $out = `@cmd 2>&1`;
    return $? == 0 ? undef : $out;
}

sub stop {
    my $pidfile = shift;
    open my $in, '<', $pidfile or return;
    my $pid = <$in>;
    chomp $pid;
    kill 'QUIT', $pid;
    for (1 .. 100) {
        last unless kill 0, $pid;
        Time::HiRes::sleep(0.05);
    }
}

END { local $?; stop($_) for @masters }

# a 2 MB JSON body, over nginx's default client_max_body_size (1 MiB)
spew("$tmp/big.json", '{"identity":"' . ('a' x (2 * 1024 * 1024)) . '"}');

# ---- part 1: the Debian layout ---------------------------------------------

my $p1    = "$tmp/debian";
my $etc   = "$p1/etc/nginx";
my $port  = free_port();
my $aport = free_port();
File::Path::make_path("$p1/logs", "$p1/var/lib/nginx", "$p1/modules",
                      "$etc/modules-enabled", "$etc/conf.d",
                      "$etc/sites-enabled", "$etc/snippets",
                      "$p1/usr/share/nginx/modules-available");
chmod 0755, $p1, "$p1/var", "$p1/var/lib", "$p1/var/lib/nginx";
symlink $module, "$p1/modules/ngx_http_sender_domains_module.so" or die $!;

# the three files, copied; the module file linked as Debian does
File::Copy::copy("$ex/debian/modules-available/mod-http-sender-domains.conf",
                 "$p1/usr/share/nginx/modules-available/") or die $!;
symlink "$p1/usr/share/nginx/modules-available/mod-http-sender-domains.conf",
        "$etc/modules-enabled/50-mod-http-sender-domains.conf" or die $!;
File::Copy::copy("$ex/debian/snippets/sender-domains-api.conf", "$etc/snippets/")
    or die $!;
my $confd = slurp("$ex/debian/conf.d/sender-domains.conf");
ok($confd =~ s{/var/lib/nginx/}{$p1/var/lib/nginx/}g,
   'conf.d/sender-domains.conf names the store under /var/lib/nginx/');
ok($confd =~ s{server 127\.0\.0\.1:3000;}{server 127.0.0.1:$aport;},
   'conf.d/sender-domains.conf names the session check upstream');
like($confd, qr/^sender_domains_default_from /m,
     'conf.d/sender-domains.conf sets the default sender');
spew("$etc/conf.d/sender-domains.conf", $confd);
spew("$etc/conf.d/zz-test-ses.conf",
     "sender_domains_ses_endpoint http://127.0.0.1:$ses;\n");

# Debian's nginx.conf, reduced to what matters, with the temp paths that a
# -p prefix does not move (Debian's build compiles them in as absolute)
my $user = $root ? 'user www-data;' : '';
spew("$etc/nginx.conf", <<"CONF");
$user
worker_processes 2;
pid $p1/nginx.pid;
include modules-enabled/*.conf;

events {
    worker_connections 768;
}

http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    default_type application/octet-stream;
    access_log $p1/logs/access.log;
    error_log $p1/logs/error.log info;
    client_body_temp_path $p1/body;
    proxy_temp_path $p1/proxy;
    fastcgi_temp_path $p1/fastcgi;
    uwsgi_temp_path $p1/uwsgi;
    scgi_temp_path $p1/scgi;

    include conf.d/*.conf;
    include sites-enabled/*;
}
CONF

# the site: the application (here a stub) with the snippet, and its session
# check on another port (signed in when the cookie says so)
spew("$etc/sites-enabled/app", <<"CONF");
server {
    listen 127.0.0.1:$port;
    server_name app.example.com;

    include snippets/sender-domains-api.conf;

    location / {
        return 200 "the application\\n";
    }
}

server {
    listen 127.0.0.1:$aport;

    location = /internal/session {
        if (\$http_cookie !~ "session=ok") {
            return 401;
        }
        add_header X-Workspace acme;
        add_header X-Role admin;
        add_header X-Plan professional;
        return 204;
    }
}
CONF

my $t = `$nginx -t -p $p1/ -c $etc/nginx.conf -e $p1/logs/error.log 2>&1`;
is($?, 0, 'nginx -t passes on the Debian layout') or diag($t);
like($t, qr/test is successful/, 'nginx -t says the test is successful');

my $err = start($p1, "$etc/nginx.conf");
ok(!defined $err, 'nginx starts on the Debian layout') or diag($err);
push @masters, "$p1/nginx.pid";

my $A = '/api/sender-domains/';
my @in = (headers => ['Cookie: session=ok']);
my ($st, $ct, $b);

($st, $ct, $b) = call($port, 'GET', $A);
is($st, 401, 'no session: 401');
like($ct, qr{^application/json}, 'no session: JSON');
like($b, qr/^\{"error":\{"code":"unauthenticated","message":"[^"]+"\}\}/,
     'no session: the API error format');

($st, $ct, $b) = call($port, 'GET', $A, @in);
is($st, 200, 'signed in: the card answers 200') or diag($b);
like($b, qr/^\{/, 'signed in: the card is JSON');

($st, $ct, $b) = call($port, 'POST', $A, @in,
                      body => '{"identity":"acme.com","type":"domain"}');
is($st, 201, 'signed in: a domain is added through SES (the simulator)')
    or diag($b);
like($b, qr/"identity":"acme\.com"/, 'the answer is the new row');

($st, $ct, $b) = call($port, 'GET', "${A}resolve?from=reports%40acme.com", @in);
is($st, 200, 'resolve answers 200') or diag($b);

($st, $ct, $b) = call($port, 'POST', $A, @in, body_file => "$tmp/big.json");
is($st, 413, 'a 2 MB POST: 413');
like($ct, qr{^application/json}, 'a 2 MB POST: JSON, not the HTML page');
like($b, qr/"code":"body_too_large"/, 'a 2 MB POST: body_too_large');

($st, $ct, $b) = call($port, 'GET', '/');
is($st, 200, 'the rest of the site is untouched');

if ($root) {
    my @st = stat "$p1/var/lib/nginx/sender-domains.mdb";
    is(scalar(getpwuid($st[4] // 0)), 'www-data',
       'the store belongs to the worker user');
}

stop(pop @masters);
unlike(slurp("$p1/logs/error.log"), qr/\[(?:alert|emerg)\]|exited on signal/,
       'no alert or crash in the error log');

# ---- part 2: auth-request.conf with json-errors.conf ------------------------

my $p2 = "$tmp/auth";
my $port2  = free_port();
my $aport2 = free_port();
File::Path::make_path("$p2/logs", "$p2/conf");
chmod 0755, $p2;
File::Copy::copy("$ex/json-errors.conf", "$p2/conf/") or die $!;
my $ar = slurp("$ex/auth-request.conf");
my $n = 0;
$n += $ar =~ s{^load_module \S+;}{load_module $module;}m;
$n += $ar =~ s{listen 443 ssl;}{listen 127.0.0.1:$port2;};
$n += $ar =~ s{^\s*ssl_certificate\s.*\n}{}m;
$n += $ar =~ s{^\s*ssl_certificate_key\s.*\n}{}m;
$n += $ar =~ s{/var/lib/nginx/}{$p2/}g;
$n += $ar =~ s{server 127\.0\.0\.1:3000;}{server 127.0.0.1:$aport2;};
is($n, 6, 'auth-request.conf: the six test edits apply');
$ar =~ s{^events \{\}}{pid $p2/nginx.pid;\nerror_log $p2/logs/error.log info;\n$user\nevents {}}m;
my $http_extra = <<"CONF";
http {
    sender_domains_ses_endpoint http://127.0.0.1:$ses;
    client_body_temp_path $p2/body;
    proxy_temp_path $p2/proxy;
    fastcgi_temp_path $p2/fastcgi;
    uwsgi_temp_path $p2/uwsgi;
    scgi_temp_path $p2/scgi;
    access_log off;
    server {
        listen 127.0.0.1:$aport2;
        location = /internal/session {
            if (\$http_cookie !~ "session=ok") { return 401; }
            add_header X-Workspace acme;
            add_header X-Role admin;
            add_header X-Plan professional;
            return 204;
        }
    }
CONF
$ar =~ s/^http \{\n/$http_extra/m;
spew("$p2/conf/nginx.conf", $ar);

$t = `$nginx -t -p $p2/ -c $p2/conf/nginx.conf -e $p2/logs/error.log 2>&1`;
is($?, 0, 'auth-request.conf: nginx -t passes') or diag($t);
$err = start($p2, "$p2/conf/nginx.conf");
ok(!defined $err, 'auth-request.conf: nginx starts') or diag($err);
push @masters, "$p2/nginx.pid";

($st, $ct, $b) = call($port2, 'POST', $A, @in, body_file => "$tmp/big.json");
is($st, 413, 'auth-request.conf: a 2 MB POST is 413');
like($ct, qr{^application/json}, 'auth-request.conf: the 413 is JSON')
    or diag($b);
like($b, qr/^\{"error":\{"code":"body_too_large","message":"[^"]+"\}\}/,
     'auth-request.conf: the 413 has the API error format');

($st, $ct, $b) = call($port2, 'GET', $A);
is($st, 401, 'auth-request.conf: no session is 401');
like($b, qr/"code":"unauthenticated"/, 'auth-request.conf: the 401 is JSON');

($st, $ct, $b) = call($port2, 'GET', $A, @in);
is($st, 200, 'auth-request.conf: signed in, the card answers') or diag($b);

stop(pop @masters);

# ---- part 3: the README's synopsis ------------------------------------------

my $p3 = "$tmp/readme";
my $port3  = free_port();
my $aport3 = free_port();
File::Path::make_path("$p3/logs", "$p3/conf");
chmod 0755, $p3;
my ($syn) = slurp("$SdTest::Root/README.md") =~ /^```nginx\n(.*?)^```$/ms;
ok(defined $syn && $syn =~ /^load_module /m && $syn =~ /sender_domains_api;/,
   'README: the synopsis has load_module and the API location');
$syn //= '';
$n = 0;
$n += $syn =~ s{^load_module \S+;}{load_module $module;}m;
$n += $syn =~ s{listen 80;}{listen 127.0.0.1:$port3;};
$n += $syn =~ s{/var/lib/nginx/}{$p3/}g;
$n += $syn =~ s{127\.0\.0\.1:3000}{127.0.0.1:$aport3};
is($n, 4, 'README: the four test edits apply');
$http_extra =~ s/\Q$p2\E/$p3/g;
$http_extra =~ s/\b$aport2\b/$aport3/g;
$syn =~ s{^events \{\}}{pid $p3/nginx.pid;\nerror_log $p3/logs/error.log info;\n$user\nevents {}}m;
$syn =~ s/^http \{\n/$http_extra/m;
spew("$p3/conf/nginx.conf", $syn);

$t = `$nginx -t -p $p3/ -c $p3/conf/nginx.conf -e $p3/logs/error.log 2>&1`;
is($?, 0, 'README: the synopsis passes nginx -t') or diag($t);
$err = start($p3, "$p3/conf/nginx.conf");
ok(!defined $err, 'README: nginx starts on the synopsis') or diag($err);
push @masters, "$p3/nginx.pid";
($st, $ct, $b) = call($port3, 'GET', $A, @in);
is($st, 200, 'README: the synopsis serves the card') or diag($b);
stop(pop @masters);

done_testing();
