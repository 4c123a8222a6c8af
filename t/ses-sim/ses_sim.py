#!/usr/bin/python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""ses-sim: an Amazon SES simulator for testing the sender-domains nginx module.

It speaks the two SES wire protocols the module uses, on one port, routed by path
the way the real endpoint `email.{region}.amazonaws.com` is:

  * SESv2 rest-json under /v2/ (and /v1/ for the few v2 operations modelled there),
  * SESv1 query (POST / with Action=VerifyEmailIdentity), answered in XML.

Requests are authenticated with AWS Signature Version 4, re-computed by botocore's
own SigV4Auth so that the C signer is checked against the reference implementation,
and SESv2 inputs are validated against botocore's SESv2 service model.

Verification is simulated against an in-memory DNS zone and a movable clock; all
status is computed lazily on read from (zone history, clock), so there is no
background thread and tests stay deterministic.  A JSON control API under /_sim/
(unsigned) drives the zone, the clock, email-link clicks, fault injection and
inspection.  README.md beside this file documents all of it.

Only the Python standard library and botocore (Debian's python3-botocore) are used.
"""

import argparse
import base64
import calendar
import email.message
import email.utils
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

import botocore.auth
import botocore.loaders
import botocore.model
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

DEFAULT_ACCESS_KEY = "AKIDSIMULATOR"
DEFAULT_SECRET_KEY = "sim-secret-key"
SERVICE = "ses"                       # signing name of both SES APIs
V1_NAMESPACE = "http://ses.amazonaws.com/doc/2010-12-01/"
V1_VERSION = "2010-12-01"

HOUR = 3600.0
DNS_WINDOW = 72 * HOUR                # SES looks for DNS records for 72 h, then gives up
EMAIL_LINK_LIFETIME = 24 * HOUR       # verification links expire 24 h after sending
MAX_SKEW = 15 * 60                    # SigV4: x-amz-date may be off by 15 minutes
MAX_BODY = 10 * 1024 * 1024
DEFAULT_PAGE_SIZE = 100               # the model documents no default; see README
MAX_PAGE_SIZE = 1000                  # "at least 0, and can be no more than 1000"
CALL_LOG_LIMIT = 10000
DEFAULT_SEED_AGE = 7 * 24 * HOUR      # seeded "verified" identities look a week old
DEFAULT_TIMEOUT_HOLD = 60.0
DEFAULT_SLOW_DELAY = 5.0

SIG_MISMATCH_MSG = ("The request signature we calculated does not match the signature you "
                    "provided. Check your AWS Secret Access Key and signing method. Consult "
                    "the service documentation for details.")
BAD_TOKEN_MSG = "The security token included in the request is invalid."
THROTTLE_MSG = "Maximum sending rate exceeded."

# Regions whose Easy DKIM CNAMEs point at a regional zone instead of dkim.amazonses.com.
# Taken from third-party citations of the AWS General Reference table (not confirmed
# against AWS itself); --dkim-hosted-zone overrides it.
REGIONAL_DKIM_REGIONS = {
    "af-south-1", "ap-northeast-3", "ap-southeast-3", "eu-south-1", "il-central-1",
    "me-south-1",
}

SPF_VALUE = "v=spf1 include:amazonses.com ~all"


def dkim_hosted_zone_for(region):
    if region in REGIONAL_DKIM_REGIONS:
        return "dkim.%s.amazonses.com" % region
    return "dkim.amazonses.com"


def new_request_id():
    return str(uuid.uuid4())


def epoch_int(t):
    """SES sends VerificationInfo timestamps as integral epoch seconds (FLOCI PR #1904)."""
    return None if t is None else int(t)


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------

# SESv2 error type -> (SESv1 code, SESv1 status) for errors that both APIs can raise.
V1_EQUIVALENT = {
    "BadRequestException": ("InvalidParameterValue", 400),
    "TooManyRequestsException": ("Throttling", 400),
    "LimitExceededException": ("LimitExceeded", 400),
    "InternalServiceErrorException": ("InternalFailure", 500),
    "ServiceUnavailable": ("ServiceUnavailable", 503),
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 403),
    "IncompleteSignatureException": ("IncompleteSignature", 400),
    "UnrecognizedClientException": ("InvalidClientTokenId", 403),
    "InvalidSignatureException": ("SignatureDoesNotMatch", 403),
    "NotImplemented": ("NotImplemented", 501),
}


class SesError(Exception):
    """An error answered in SES's own format (JSON for v2, XML for v1)."""

    def __init__(self, status, code, message, v1_code=None, v1_status=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        eq = V1_EQUIVALENT.get(code, (code, status))
        self.v1_code = v1_code or eq[0]
        self.v1_status = v1_status or eq[1]


def bad_request(message):
    return SesError(400, "BadRequestException", message)


def not_found(message):
    return SesError(404, "NotFoundException", message)


class ControlError(Exception):
    """An error of the unsigned /_sim/ control API: {"error": message}."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------------------
# Clock
# --------------------------------------------------------------------------------------

class SimClock:
    """Two clocks, kept apart on purpose.

    * now(): the simulated calendar.  Tests move it (advance 73 h to see FAILED) and
      every verification timeline (72 h DNS window, 24 h link expiry, timestamps in
      responses) runs on it.
    * aws_now(): the clock SES checks x-amz-date against and puts in the Date header.
      It is real time plus `skew`, so moving the calendar does not make every signed
      request "expired", while a test can still simulate a client whose clock is off.
    """

    def __init__(self):
        self.offset = 0.0
        self.skew = 0.0

    def now(self):
        return time.time() + self.offset

    def aws_now(self):
        return time.time() + self.skew

    def to_json(self):
        now = self.now()
        return {"now": now, "now_iso": iso(now), "offset": self.offset, "skew": self.skew,
                "real": time.time(), "aws_now": self.aws_now()}


def iso(t):
    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# --------------------------------------------------------------------------------------
# Simulated DNS zone (with history, so status can be computed for any instant)
# --------------------------------------------------------------------------------------

def norm_name(name):
    return str(name).strip().rstrip(".").lower()


def unquote_txt(value):
    """TXT values may be published with or without the surrounding quotes."""
    v = value.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        # A TXT record can also be several quoted strings: "a" "b" -> ab
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', v)
        if parts:
            return "".join(parts)
    return v


def norm_value(rtype, value):
    value = str(value).strip()
    if rtype in ("CNAME", "NS"):
        return value.rstrip(".").lower()
    if rtype == "MX":
        parts = value.split()
        if len(parts) == 2:
            return "%s %s" % (parts[0], parts[1].rstrip(".").lower())
        return " ".join(parts).lower()
    if rtype == "TXT":
        return unquote_txt(value)
    return value


class DnsZone:
    """A single flat zone holding every record the tests publish.

    Each record keeps a list of [added, removed] intervals on the simulated clock,
    so verification can be replayed over time: records published and removed again
    before SES "looked" (verify delay) never verify anything, and a verified
    identity whose records disappear goes through TEMPORARY_FAILURE to FAILED.
    """

    TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS")

    def __init__(self):
        self._records = {}   # (type, name, normalized value) -> {"value": raw, "history": [[a, r]]}

    @staticmethod
    def parse(rec, need_value=True):
        if not isinstance(rec, dict):
            raise ControlError(400, "each record must be an object with type, name, value")
        rtype = str(rec.get("type", "")).upper()
        if rtype not in DnsZone.TYPES:
            raise ControlError(400, "record type must be one of %s" % ", ".join(DnsZone.TYPES))
        name = rec.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ControlError(400, "record name missing")
        value = rec.get("value")
        if value is None:
            if need_value:
                raise ControlError(400, "record value missing for %s" % name)
        elif not isinstance(value, str):
            raise ControlError(400, "record value must be a string")
        return rtype, norm_name(name), value

    def add(self, rtype, name, value, at):
        key = (rtype, name, norm_value(rtype, value))
        entry = self._records.setdefault(key, {"value": value, "history": []})
        hist = entry["history"]
        if hist and hist[-1][1] is None:
            return False          # already present: keep its original publication time
        hist.append([at, None])
        entry["value"] = value
        return True

    def remove(self, rtype, name, value, at):
        removed = 0
        for (t, n, v), entry in self._records.items():
            if t != rtype or n != name:
                continue
            if value is not None and v != norm_value(rtype, value):
                continue
            hist = entry["history"]
            if hist and hist[-1][1] is None:
                hist[-1][1] = at
                removed += 1
        return removed

    def remove_all(self, at):
        for entry in self._records.values():
            hist = entry["history"]
            if hist and hist[-1][1] is None:
                hist[-1][1] = at

    def values_at(self, rtype, name, t):
        """Normalized values of the records of that type and name present at time t."""
        out = []
        for (rt, n, v), entry in self._records.items():
            if rt == rtype and n == name:
                for added, removed in entry["history"]:
                    if added <= t and (removed is None or t < removed):
                        out.append(v)
                        break
        return out

    def has_any_at(self, name, t):
        return any(self.values_at(rt, name, t) for rt in self.TYPES)

    def change_points(self, names):
        pts = set()
        for (rt, n, v), entry in self._records.items():
            if n in names:
                for added, removed in entry["history"]:
                    pts.add(added)
                    if removed is not None:
                        pts.add(removed)
        return pts

    def current(self, t):
        out = []
        for (rt, n, v), entry in sorted(self._records.items()):
            for added, removed in entry["history"]:
                if added <= t and (removed is None or t < removed):
                    out.append({"type": rt, "name": n, "value": entry["value"],
                                "added_at": added, "added_at_iso": iso(added)})
                    break
        return out

    def to_json(self):
        return [{"type": k[0], "name": k[1], "value": e["value"], "history": e["history"]}
                for k, e in self._records.items()]

    def load_json(self, data):
        self._records = {}
        for r in data or []:
            key = (r["type"], r["name"], norm_value(r["type"], r["value"]))
            self._records[key] = {"value": r["value"], "history": [list(h) for h in r["history"]]}


# --------------------------------------------------------------------------------------
# Verification timeline (pure function of zone history and clock)
# --------------------------------------------------------------------------------------

class CheckResult:
    __slots__ = ("status", "first_success", "last_success")

    def __init__(self, status, first_success=None, last_success=None):
        self.status = status
        self.first_success = first_success
        self.last_success = last_success


def run_check(started, now, delay, met_at, change_points):
    """Replay SES's DNS check for one requirement (DKIM CNAMEs, or MAIL FROM MX/SPF).

    States follow the SES Developer Guide's MAIL FROM table, which we apply to DKIM as
    well: PENDING for up to 72 h, then SUCCESS or FAILED; a SUCCESS whose records
    vanish becomes TEMPORARY_FAILURE, and FAILED if they stay away 72 h; FAILED is final
    until the setup is restarted.  SES notices any change `delay` seconds after it
    happens (the simulator's stand-in for DNS propagation and SES's polling).
    """
    if now < started:
        return CheckResult("PENDING")
    pts = sorted(p for p in change_points if started < p < now)
    bounds = [started] + pts
    status = "PENDING"
    deadline = started + DNS_WINDOW
    first_success = last_success = None
    run_value, run_since = None, None
    for i, s in enumerate(bounds):
        e = bounds[i + 1] if i + 1 < len(bounds) else now
        met = bool(met_at(s))
        if met != run_value:
            run_value, run_since = met, s
        notice = run_since + delay     # when SES sees the current state of the records
        if status == "PENDING":
            if met and notice <= e and notice <= deadline:
                status = "SUCCESS"
                first_success = first_success or notice
            elif deadline <= e:
                status = "FAILED"
                break
        if status == "SUCCESS":
            if not met and notice <= e:
                status = "TEMPORARY_FAILURE"
                last_success = run_since
                deadline = notice + DNS_WINDOW
        if status == "TEMPORARY_FAILURE":
            if met and notice <= e and notice <= deadline:
                status = "SUCCESS"
            elif deadline <= e:
                status = "FAILED"
                break
    if status == "SUCCESS":
        last_success = now
    return CheckResult(status, first_success, last_success)


# --------------------------------------------------------------------------------------
# Identity names
# --------------------------------------------------------------------------------------

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f<>()\[\],;:\\\"]")


def valid_domain(d):
    if not d or len(d) > 253 or not d.isascii():
        return False
    labels = d.split(".")
    if len(labels) < 2:
        return False
    if labels[-1].isdigit():
        return False
    return all(_LABEL.match(lab) for lab in labels)


def normalize_identity(raw):
    """Return (key, type) for an identity name, or raise BadRequest.

    Domains compare case-insensitively and are stored lower-case; an address keeps its
    local part as typed (SES matches it case-sensitively) and lower-cases its domain.
    """
    if not isinstance(raw, str) or not raw:
        raise bad_request("Invalid identity.")
    if "@" in raw:
        local, _, domain = raw.rpartition("@")
        domain = domain.lower()
        if (not local or len(local) > 64 or _LOCAL_FORBIDDEN.search(local)
                or not local.isascii() or not valid_domain(domain)):
            raise bad_request("Invalid email address <%s>." % raw)
        return "%s@%s" % (local, domain), "EMAIL_ADDRESS"
    domain = raw.lower()
    if not valid_domain(domain):
        raise bad_request("Invalid domain name <%s>." % raw)
    return domain, "DOMAIN"


def identity_domain(ident):
    return ident["name"].rpartition("@")[2]


def random_dkim_token():
    # Real tokens are 32 characters of [a-z0-9].
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "".join(secrets.choice(alphabet) for _ in range(32))


# --------------------------------------------------------------------------------------
# SigV4 verification with botocore's signer
# --------------------------------------------------------------------------------------

class _ReceivedRequestSigV4(botocore.auth.SigV4Auth):
    """botocore's SigV4Auth, told which headers the client signed.

    Stock SigV4Auth picks the headers itself (it skips user-agent, expect, ...) and
    adds a Host header; a server has to use the client's SignedHeaders list instead,
    as AWS does.  Everything else (canonical URI double-encoding, query and header
    canonicalisation, payload hash, key derivation) is botocore's own code.
    """

    def __init__(self, credentials, service, region, signed_names):
        super().__init__(credentials, service, region)
        self._signed_names = signed_names

    def headers_to_sign(self, request):
        out = HTTPHeaders()
        for name in self._signed_names:
            for value in request.headers.get_all(name) or []:
                out[name] = value
        return out


_AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)
_AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")


def _parse_http_date(value):
    try:
        tup = email.utils.parsedate_tz(value)
        return email.utils.mktime_tz(tup) if tup else None
    except (TypeError, ValueError, OverflowError):
        return None


class SigV4Verifier:
    """Checks a received request's Authorization header the way SES does."""

    def __init__(self, credentials_store, region, clock, service=SERVICE):
        self.creds = credentials_store
        self.region = region
        self.clock = clock
        self.service = service

    @staticmethod
    def _auth_error(kind, message):
        codes = {
            "missing": (403, "MissingAuthenticationTokenException"),
            "incomplete": (403, "IncompleteSignatureException"),
            "unknown_key": (403, "UnrecognizedClientException"),
            "signature": (403, "InvalidSignatureException"),
        }
        status, code = codes[kind]
        return SesError(status, code, message)

    def verify(self, method, raw_path, raw_query, headers, body, check_skew=True):
        """Raise SesError unless the request is correctly signed.

        `headers` is an email.message.Message (http.server's) so duplicates survive.
        Returns a dict with the access key and, for debugging, the canonical request.
        """
        auth = headers.get("Authorization")
        if not auth:
            if "X-Amz-Signature" in raw_query or "X-Amz-Algorithm" in raw_query:
                raise self._auth_error("incomplete",
                                       "ses-sim does not accept query-string (presigned) SigV4.")
            raise self._auth_error("missing", "Missing Authentication Token")
        m = _AUTH_RE.match(auth.strip())
        if not m:
            raise self._auth_error("incomplete",
                                   "Authorization header requires the AWS4-HMAC-SHA256 algorithm. "
                                   "Authorization=%s" % auth)
        fields = {}
        for part in m.group(1).split(","):
            k, sep, v = part.strip().partition("=")
            if sep:
                fields[k.strip()] = v.strip()
        missing = [f for f in ("Credential", "SignedHeaders", "Signature") if f not in fields]
        if missing:
            raise self._auth_error("incomplete", " ".join(
                "Authorization header requires '%s' parameter." % f for f in missing)
                + " Authorization=%s" % auth)
        scope = fields["Credential"].split("/")
        if len(scope) != 5:
            raise self._auth_error("incomplete",
                                   "Credential should have exactly 5 slash-separated components: "
                                   "'%s'." % fields["Credential"])
        access_key, scope_date, scope_region, scope_service, terminator = scope

        cred = self.creds.get(access_key)
        if cred is None:
            raise self._auth_error("unknown_key", BAD_TOKEN_MSG)
        token = headers.get("X-Amz-Security-Token")
        if cred["session_token"] is None:
            if token is not None:
                raise self._auth_error("unknown_key", BAD_TOKEN_MSG)
        elif cred["session_token"] == "*":
            if not token:
                raise self._auth_error("unknown_key", BAD_TOKEN_MSG)
        elif token is None or not hmac.compare_digest(token, cred["session_token"]):
            raise self._auth_error("unknown_key", BAD_TOKEN_MSG)

        amz_date = headers.get("X-Amz-Date")
        date_source = "x-amz-date"
        if amz_date is None:
            date_hdr = headers.get("Date")
            if date_hdr is None:
                raise self._auth_error("incomplete",
                                       "Authorization header requires existence of either a "
                                       "'X-Amz-Date' or a 'Date' header. Authorization=%s" % auth)
            ts = _parse_http_date(date_hdr)
            if ts is None:
                raise self._auth_error("incomplete", "Date must be in ISO-8601 'basic format'. "
                                       "Got '%s'." % date_hdr)
            amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ts))
            date_source = "date"
        elif not _AMZ_DATE_RE.match(amz_date.strip()):
            raise self._auth_error("incomplete",
                                   "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                                   "http://en.wikipedia.org/wiki/ISO_8601" % amz_date)
        amz_date = amz_date.strip()
        if scope_date != amz_date[:8]:
            raise self._auth_error("signature",
                                   "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                                   "version of date from HTTP: '%s' != '%s', from '%s'."
                                   % (scope_date, amz_date[:8], date_source))
        if scope_region != self.region:
            raise self._auth_error("signature",
                                   "Credential should be scoped to a valid region, not '%s'. "
                                   % scope_region)
        if scope_service != self.service:
            raise self._auth_error("signature",
                                   "Credential should be scoped to correct service: '%s'. "
                                   % self.service)
        if terminator != "aws4_request":
            raise self._auth_error("signature",
                                   "Credential should be scoped with a valid terminator: "
                                   "'aws4_request', not '%s'. " % terminator)

        signed_names = [h for h in fields["SignedHeaders"].split(";") if h]
        if "host" not in signed_names:
            raise self._auth_error("incomplete",
                                   "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                                   "Authorization.")
        if date_source == "x-amz-date" and "x-amz-date" not in signed_names:
            # AWS tolerates this in places; we insist, since an unsigned date lets a
            # captured request be replayed for ever.
            raise self._auth_error("incomplete",
                                   "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization "
                                   "(ses-sim requirement).")
        for name in signed_names:
            if name != name.lower() or headers.get(name) is None:
                raise self._auth_error("signature",
                                       "SignedHeaders lists '%s', which is not (lower-case and) "
                                       "present in the request. %s" % (name, SIG_MISMATCH_MSG))

        if check_skew:
            ts = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
            now = self.clock.aws_now()
            fmt = "%Y%m%dT%H%M%SZ"
            if ts < now - MAX_SKEW:
                raise self._auth_error("signature",
                                       "Signature expired: %s is now earlier than %s (%s - 15 min.)"
                                       % (amz_date, time.strftime(fmt, time.gmtime(now - MAX_SKEW)),
                                          time.strftime(fmt, time.gmtime(now))))
            if ts > now + MAX_SKEW:
                raise self._auth_error("signature",
                                       "Signature not yet current: %s is still later than %s "
                                       "(%s + 15 min.)"
                                       % (amz_date, time.strftime(fmt, time.gmtime(now + MAX_SKEW)),
                                          time.strftime(fmt, time.gmtime(now))))

        body_hash = headers.get("X-Amz-Content-SHA256")
        if body_hash is not None and body_hash.strip() != hashlib.sha256(body).hexdigest():
            # botocore would sign with the header's value; SES (unlike S3) has no
            # unsigned-payload mode, so a wrong hash is a client bug worth a clear error.
            raise self._auth_error("signature",
                                   "The provided 'x-amz-content-sha256' header does not match what "
                                   "was computed. %s" % SIG_MISMATCH_MSG)

        expected, creq, sts = self.compute(cred, method, raw_path, raw_query, headers, body,
                                           signed_names, amz_date)
        if not hmac.compare_digest(expected, fields["Signature"].lower()):
            err = self._auth_error("signature", SIG_MISMATCH_MSG)
            err.debug = {"canonical_request": creq, "string_to_sign": sts}
            raise err
        return {"access_key": access_key, "canonical_request": creq}

    def compute(self, cred, method, raw_path, raw_query, headers, body, signed_names, amz_date):
        """Compute (signature, canonical request, string to sign) with botocore."""
        host = headers.get("Host", "localhost")
        req = AWSRequest(method=method.upper(), url="http://%s%s" % (host, raw_path), data=body)
        for name, value in headers.items():
            if name.lower() != "authorization":
                req.headers[name] = value
        # The server re-encodes decoded query pairs, as AWS does; botocore then sorts by
        # encoded key and value.  unquote (not unquote_plus): SigV4 treats '+' literally.
        req.params = [(unquote(k), unquote(v)) for k, _, v in
                      (p.partition("=") for p in raw_query.split("&") if p)]
        # Freeze botocore's clock: instead of add_auth() (which reads utcnow() and would
        # need a global monkeypatch, unsafe across threads), drive its steps with the
        # client's timestamp in request.context, exactly as add_auth() does internally.
        req.context["timestamp"] = amz_date
        signer = _ReceivedRequestSigV4(
            Credentials(cred["access_key"], cred["secret_key"], cred["session_token"]),
            self.service, self.region, signed_names)
        creq = signer.canonical_request(req)
        sts = signer.string_to_sign(req, creq)
        return signer.signature(sts, req), creq, sts


class CredentialStore:
    def __init__(self, creds):
        self._initial = [dict(c) for c in creds]
        self._by_key = {}
        self.reset()

    def reset(self):
        self._by_key = {c["access_key"]: dict(c) for c in self._initial}

    def get(self, access_key):
        return self._by_key.get(access_key)

    def put(self, access_key, secret_key, session_token=None):
        self._by_key[access_key] = {"access_key": access_key, "secret_key": secret_key,
                                    "session_token": session_token}

    def delete(self, access_key):
        return self._by_key.pop(access_key, None) is not None

    def to_json(self):
        return [{"access_key": c["access_key"], "session_token": c["session_token"] is not None}
                for c in self._by_key.values()]


# --------------------------------------------------------------------------------------
# SESv2 model: routing and input validation
# --------------------------------------------------------------------------------------

class SesV2Model:
    """Routes wire requests to SESv2 operations and validates inputs, from botocore's model."""

    # Documented constraints that the model only states in prose.
    EXTRA_RANGES = {("ListEmailIdentities", "PageSize"): (0, MAX_PAGE_SIZE)}

    def __init__(self):
        loader = botocore.loaders.create_loader()
        self.service = botocore.model.ServiceModel(
            loader.load_service_model("sesv2", "service-2"), "sesv2")
        self.routes = []
        for name in self.service.operation_names:
            op = self.service.operation_model(name)
            uri = op.http["requestUri"].split("?", 1)[0]
            regex, literal = "", 0
            for token in re.split(r"(\{[^}]+\})", uri):
                if token.startswith("{"):
                    label = token[1:-1]
                    if label.endswith("+"):
                        regex += "(?P<%s>.+)" % label[:-1]
                    else:
                        regex += "(?P<%s>[^/]+)" % label
                else:
                    regex += re.escape(token)
                    literal += len(token)
            self.routes.append((re.compile("^" + regex + "$"), op.http["method"], op, literal))
        # Most specific (longest literal) first, so /x/{a}/dkim beats /x/{a}.
        self.routes.sort(key=lambda r: -r[3])

    def route(self, method, raw_path):
        """Return (operation_model, raw labels) or raise the error AWS would give."""
        path_matched = False
        for regex, op_method, op, _ in self.routes:
            m = regex.match(raw_path)
            if not m:
                continue
            path_matched = True
            if op_method == method:
                return op, m.groupdict()
        if path_matched:
            raise SesError(405, "MethodNotAllowedException",
                           "Method %s is not allowed on %s." % (method, raw_path))
        raise SesError(404, "UnknownOperationException",
                       "No SESv2 operation matches %s %s." % (method, raw_path))

    # ---- input extraction ----

    def build_input(self, op, labels, raw_query, body):
        shape = op.input_shape
        params, errors = {}, []
        if shape is None:
            return params
        query = [(unquote(k), unquote(v)) for k, _, v in
                 (p.partition("=") for p in raw_query.split("&") if p)]
        body_obj = None
        has_body_members = any(m.serialization.get("location") is None
                               for m in shape.members.values())
        if has_body_members and body.strip():
            try:
                body_obj = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise SesError(400, "SerializationException",
                               "Could not parse the request body as JSON: %s" % exc)
            if not isinstance(body_obj, dict):
                raise SesError(400, "SerializationException",
                               "The request body must be a JSON object.")
        body_obj = body_obj or {}
        body_members = set()
        for mname, mshape in shape.members.items():
            loc = mshape.serialization.get("location")
            wire = mshape.serialization.get("name", mname)
            if loc == "uri":
                if wire in labels:
                    params[mname] = unquote(labels[wire])
            elif loc == "querystring":
                if mshape.type_name == "map":
                    continue
                vals = [v for k, v in query if k == wire]
                if not vals:
                    continue
                if mshape.type_name == "list":
                    params[mname] = vals
                else:
                    params[mname] = self._coerce_query(mname, mshape, vals[-1], errors)
            elif loc == "header":
                continue   # no SESv2 identity operation uses header members
            else:
                body_members.add(mname)
                if mname in body_obj and body_obj[mname] is not None:
                    params[mname] = body_obj[mname]
        for key in body_obj:
            if key not in body_members:
                errors.append("Unknown field '%s': it is not a member of %s in the SESv2 model"
                              % (key, shape.name))
        self.validate(shape, params, "", errors, op.name)
        if errors:
            raise bad_request("%d validation error%s detected: %s"
                              % (len(errors), "s" if len(errors) > 1 else "", "; ".join(errors)))
        return params

    @staticmethod
    def _coerce_query(name, shape, value, errors):
        if shape.type_name in ("integer", "long"):
            try:
                return int(value)
            except ValueError:
                errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must be "
                              "an integer" % (value, name))
                return None
        if shape.type_name == "boolean":
            if value in ("true", "false"):
                return value == "true"
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must be "
                          "true or false" % (value, name))
            return None
        return value

    # ---- validation ----

    @staticmethod
    def _show(value):
        s = value if isinstance(value, str) else json.dumps(value)
        return s if len(s) <= 80 else s[:77] + "..."

    def validate(self, shape, value, path, errors, op_name=None):
        t = shape.type_name
        where = path or shape.name

        def fail(what):
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must %s"
                          % (self._show(value), where, what))

        if t == "structure":
            if not isinstance(value, dict):
                return fail("be an object (structure %s)" % shape.name)
            for req in shape.required_members:
                if value.get(req) is None:
                    errors.append("Value null at '%s' failed to satisfy constraint: Member must "
                                  "not be null" % (path + "." + req if path else req))
            for mname, mval in value.items():
                sub = path + "." + mname if path else mname
                if mname not in shape.members:
                    if path:   # top-level unknowns were reported by build_input
                        errors.append("Unknown field '%s': it is not a member of %s in the SESv2 "
                                      "model" % (sub, shape.name))
                    continue
                if mval is None:
                    continue
                self.validate(shape.members[mname], mval, sub, errors)
                rng = self.EXTRA_RANGES.get((op_name, mname))
                if rng and isinstance(mval, int) and not (rng[0] <= mval <= rng[1]):
                    errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must "
                                  "have value between %d and %d" % (mval, sub, rng[0], rng[1]))
            return
        if t == "list":
            if not isinstance(value, list):
                return fail("be a list")
            self._check_len(shape, len(value), value, where, errors)
            for i, item in enumerate(value):
                self.validate(shape.member, item, "%s[%d]" % (where, i), errors)
            return
        if t == "map":
            if not isinstance(value, dict):
                return fail("be a map")
            for k, v in value.items():
                self.validate(shape.key, k, "%s.key" % where, errors)
                self.validate(shape.value, v, "%s[%s]" % (where, k), errors)
            return
        if t == "string":
            if not isinstance(value, str):
                return fail("be a string")
            if shape.enum and value not in shape.enum:
                return fail("satisfy enum value set: [%s]" % ", ".join(shape.enum))
            self._check_len(shape, len(value), value, where, errors)
            pattern = shape.metadata.get("pattern")
            if pattern:
                try:
                    ok = re.search(pattern, value) is not None
                except re.error:
                    ok = True
                if not ok:
                    fail("satisfy regular expression pattern: %s" % pattern)
            return
        if t in ("integer", "long"):
            if not isinstance(value, int) or isinstance(value, bool):
                return fail("be an integer")
            lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
            if lo is not None and value < lo:
                fail("have value greater than or equal to %s" % lo)
            if hi is not None and value > hi:
                fail("have value less than or equal to %s" % hi)
            return
        if t in ("double", "float"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                fail("be a number")
            return
        if t == "boolean":
            if not isinstance(value, bool):
                fail("be a boolean")
            return
        if t == "timestamp":
            if not isinstance(value, (int, float, str)) or isinstance(value, bool):
                fail("be a timestamp")
            return
        if t == "blob":
            if not isinstance(value, str):
                fail("be a base64 string")
            return

    def _check_len(self, shape, n, value, where, errors):
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if lo is not None and n < lo:
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must have "
                          "length greater than or equal to %s" % (self._show(value), where, lo))
        if hi is not None and n > hi:
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must have "
                          "length less than or equal to %s" % (self._show(value), where, hi))


# --------------------------------------------------------------------------------------
# Fault injection and throttling
# --------------------------------------------------------------------------------------

class FaultInjector:
    """Queued failures for the next N matching SES calls."""

    KINDS = ("500", "503", "429", "error", "slow", "drop", "garbage", "timeout")

    def __init__(self):
        self._rules = []

    def add(self, spec):
        if not isinstance(spec, dict):
            raise ControlError(400, "fault must be an object")
        kind = str(spec.get("kind", ""))
        if kind not in self.KINDS:
            raise ControlError(400, "kind must be one of %s" % ", ".join(self.KINDS))
        count = spec.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count == 0 or count < -1:
            raise ControlError(400, "count must be a positive integer, or -1 for unlimited")
        delay = spec.get("delay")
        if delay is not None and (not isinstance(delay, (int, float)) or delay < 0):
            raise ControlError(400, "delay must be a non-negative number of seconds")
        match = spec.get("match")
        if match is not None and not isinstance(match, str):
            raise ControlError(400, "match must be a string")
        rule = {"kind": kind, "remaining": count, "match": match,
                "delay": float(delay) if delay is not None else None,
                "after": bool(spec.get("after", False))}
        if kind == "error":
            status = spec.get("status", 400)
            if not isinstance(status, int) or not 400 <= status <= 599:
                raise ControlError(400, "status must be an HTTP error status")
            rule["status"] = status
            rule["error_type"] = str(spec.get("error_type", "BadRequestException"))
            rule["message"] = spec.get("message", "Injected error.")
        self._rules.append(rule)
        return rule

    def take(self, candidates):
        for rule in self._rules:
            if rule["match"] is None or any(rule["match"] in c for c in candidates if c):
                if rule["remaining"] > 0:
                    rule["remaining"] -= 1
                    if rule["remaining"] == 0:
                        self._rules.remove(rule)
                return dict(rule)
        return None

    def list(self):
        return [dict(r) for r in self._rules]

    def clear(self):
        self._rules = []


class RateLimiter:
    """--rate N: more than N SES calls within one second get 429, like SES's send rate."""

    def __init__(self, rate):
        self.rate = rate or 0
        self._times = deque()

    def allow(self):
        if not self.rate:
            return True
        now = time.monotonic()
        while self._times and now - self._times[0] >= 1.0:
            self._times.popleft()
        if len(self._times) >= self.rate:
            return False
        self._times.append(now)
        return True


# --------------------------------------------------------------------------------------
# The simulated SES account
# --------------------------------------------------------------------------------------

class Simulator:
    """State (identities, zone, clock, faults, call log) and the operations on it.

    Methods here do not lock: the HTTP layer holds self.lock around every call into
    this class, so one request's read-modify-write never interleaves with another's.
    """

    def __init__(self, args):
        self.lock = threading.RLock()
        self.region = args.region
        self.dkim_zone = args.dkim_hosted_zone or dkim_hosted_zone_for(args.region)
        self.state_file = args.state_file
        self.knot = getattr(args, "knot", None)
        self._knot_serial = 0
        self._startup_config = {
            "verify_delay": float(args.verify_delay),
            "rate": int(args.rate or 0),
            "error_type_suffix": bool(args.error_type_suffix),
            "mail_from_requires_spf": not args.mail_from_mx_only,
            "max_identities": int(args.max_identities),
        }
        self.config = dict(self._startup_config)
        self.clock = SimClock()
        self.zone = DnsZone()
        self.identities = {}
        self.faults = FaultInjector()
        self.rate = RateLimiter(self.config["rate"])
        self.calls = []
        creds = args.credentials or [{"access_key": DEFAULT_ACCESS_KEY,
                                      "secret_key": DEFAULT_SECRET_KEY, "session_token": None}]
        self.credentials = CredentialStore(creds)
        self.verifier = SigV4Verifier(self.credentials, self.region, self.clock)
        self.model = SesV2Model()
        self.shutdown_event = threading.Event()
        self._load_state()

    # ---- persistence ----

    def _load_state(self):
        if not self.state_file or not os.path.exists(self.state_file):
            return
        with open(self.state_file, encoding="utf-8") as f:
            data = json.load(f)
        self.identities = data.get("identities", {})
        self.zone.load_json(data.get("zone"))
        self.clock.offset = float(data.get("clock_offset", 0.0))
        self.clock.skew = float(data.get("clock_skew", 0.0))
        # Knobs (verify delay, rate, ...) deliberately come from this start's command line.

    def save(self):
        if not self.state_file:
            return
        data = {"identities": self.identities, "zone": self.zone.to_json(),
                "clock_offset": self.clock.offset, "clock_skew": self.clock.skew}
        tmp = "%s.tmp.%d" % (self.state_file, os.getpid())
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.state_file)   # atomic: a crash never leaves half a file

    # ---- identity evaluation (lazy: computed from zone history + clock on each read) ----

    def _dkim_names(self, ident):
        domain = ident["name"]
        dk = ident["dkim"]
        if dk["origin"] == "EXTERNAL":
            return ["%s._domainkey.%s" % (dk["tokens"][0], domain)]
        return ["%s._domainkey.%s" % (t, domain) for t in dk["tokens"]]

    def expected_records(self, ident):
        """The DNS records SES wants for an identity (what /_sim/dns/publish adds)."""
        recs = []
        if ident["type"] == "DOMAIN":
            dk = ident["dkim"]
            if dk["origin"] == "EXTERNAL":
                recs.append({"type": "TXT", "name": self._dkim_names(ident)[0],
                             "value": "p=%s" % dk.get("public_key", "SIMULATED")})
            else:
                for t in dk["tokens"]:
                    recs.append({"type": "CNAME", "name": "%s._domainkey.%s" % (t, ident["name"]),
                                 "value": "%s.%s" % (t, self.dkim_zone)})
        mf = ident.get("mail_from")
        if mf:
            recs.append({"type": "MX", "name": mf["domain"],
                         "value": "10 feedback-smtp.%s.amazonses.com" % self.region})
            recs.append({"type": "TXT", "name": mf["domain"], "value": '"%s"' % SPF_VALUE})
        return recs

    def _dkim_met(self, ident):
        dk = ident["dkim"]
        names = self._dkim_names(ident)
        if dk["origin"] == "EXTERNAL":
            return names, lambda t: any(v.startswith("v=DKIM1") or "p=" in v
                                        for v in self.zone.values_at("TXT", names[0], t))
        wanted = ["%s.%s" % (tok, self.dkim_zone) for tok in dk["tokens"]]
        return names, lambda t: all(w in self.zone.values_at("CNAME", n, t)
                                    for n, w in zip(names, wanted))

    def _mail_from_met(self, ident):
        domain = ident["mail_from"]["domain"]
        mx_ok = "10 feedback-smtp.%s.amazonses.com" % self.region
        need_spf = self.config["mail_from_requires_spf"]

        def met(t):
            mx = self.zone.values_at("MX", domain, t)
            if mx != [mx_ok]:           # SES requires exactly one MX record
                return False
            if not need_spf:
                return True
            return any(v.startswith("v=spf1") and "include:amazonses.com" in v.split()
                       for v in self.zone.values_at("TXT", domain, t))
        return [domain], met

    def _dkim_error_type(self, ident, now):
        names, _ = self._dkim_met(ident)
        dk = ident["dkim"]
        if dk["origin"] == "EXTERNAL":
            return "TYPE_NOT_FOUND" if not self.zone.values_at("TXT", names[0], now) \
                else "INVALID_VALUE"
        for n, tok in zip(names, dk["tokens"]):
            vals = self.zone.values_at("CNAME", n, now)
            if not vals:
                return "TYPE_NOT_FOUND"
            if "%s.%s" % (tok, self.dkim_zone) not in vals:
                return "INVALID_VALUE"
        return None

    def evaluate(self, ident, now=None):
        """Current statuses of an identity as SES would report them."""
        now = self.clock.now() if now is None else now
        delay = self.config["verify_delay"]
        ov = ident.get("overrides", {})
        out = {"last_checked": now, "last_success": None, "error_type": None}
        if ident["type"] == "DOMAIN":
            names, met = self._dkim_met(ident)
            res = run_check(ident["dkim"]["started_at"], now, delay, met,
                            self.zone.change_points(set(names)))
            out["dkim_status"] = ov.get("dkim") or res.status
            out["last_success"] = res.last_success
            if out["dkim_status"] != "SUCCESS":
                out["error_type"] = self._dkim_error_type(ident, now)
            # Easy DKIM verifies the domain itself: verification status is DKIM's.
            out["verification_status"] = ov.get("verification") or out["dkim_status"]
        else:
            em = ident["email"]
            if em.get("clicked_at") is not None and em["clicked_at"] <= now:
                status = "SUCCESS"
            elif now >= em["sent_at"] + EMAIL_LINK_LIFETIME:
                status = "FAILED"
            else:
                status = "PENDING"
            out["verification_status"] = ov.get("verification") or status
            out["link_expires_at"] = em["sent_at"] + EMAIL_LINK_LIFETIME
            parent = self._verified_parent_domain(ident["name"].rpartition("@")[2], now)
            out["dkim_status"] = ov.get("dkim") or ("SUCCESS" if parent else "NOT_STARTED")
            out["dkim_inherited_from"] = parent
        if ov.get("error_type"):
            out["error_type"] = ov["error_type"]
        # A domain stays usable while SES re-checks records it lost (TEMPORARY_FAILURE).
        out["verified_for_sending"] = out["verification_status"] in ("SUCCESS",
                                                                     "TEMPORARY_FAILURE")
        mf = ident.get("mail_from")
        if mf:
            names, met = self._mail_from_met(ident)
            res = run_check(mf["started_at"], now, delay, met, self.zone.change_points(set(names)))
            out["mail_from_status"] = ov.get("mail_from") or res.status
        else:
            out["mail_from_status"] = None
        return out

    def _verified_parent_domain(self, domain, now):
        """Closest domain identity at or above `domain` whose DKIM verification succeeded."""
        labels = domain.split(".")
        for i in range(len(labels) - 1):
            cand = ".".join(labels[i:])
            p = self.identities.get(cand)
            if p and p["type"] == "DOMAIN":
                ev = self.evaluate(p, now)
                if ev["verification_status"] in ("SUCCESS", "TEMPORARY_FAILURE") \
                        and p["dkim"]["signing_enabled"]:
                    return cand
        return None

    def can_send_from(self, address, now=None):
        """SES lets a verified domain send from every address and subdomain under it."""
        now = self.clock.now() if now is None else now
        try:
            key, typ = normalize_identity(address)
        except SesError:
            return False
        own = self.identities.get(key)
        if own and self.evaluate(own, now)["verified_for_sending"]:
            return True
        domain = key.rpartition("@")[2]
        labels = domain.split(".")
        for i in range(len(labels) - 1):
            p = self.identities.get(".".join(labels[i:]))
            if p and p["type"] == "DOMAIN" and self.evaluate(p, now)["verified_for_sending"]:
                return True
        return False

    # ---- response shapes ----

    def _dkim_attributes(self, ident, ev):
        if ident["type"] == "DOMAIN":
            dk = ident["dkim"]
            attrs = {
                "SigningEnabled": dk["signing_enabled"],
                "Status": ev["dkim_status"],
                "Tokens": list(dk["tokens"]),
                "SigningAttributesOrigin": dk["origin"],
            }
            if dk["origin"] == "AWS_SES":
                attrs.update({
                    "SigningHostedZone": self.dkim_zone,
                    "NextSigningKeyLength": dk["key_length"],
                    "CurrentSigningKeyLength": dk["key_length"],
                    "LastKeyGenerationTimestamp": epoch_int(dk["key_generated_at"]),
                })
            return attrs
        # Address identities: as the live sample (moto#9771), or inherited from a
        # DKIM-verified parent domain, as the SES console shows it.
        if ev.get("dkim_inherited_from"):
            return {"SigningEnabled": True, "Status": ev["dkim_status"],
                    "SigningAttributesOrigin": "AWS_SES",
                    "NextSigningKeyLength": "RSA_2048_BIT",
                    "CurrentSigningKeyLength": "RSA_2048_BIT"}
        return {"SigningEnabled": False, "Status": ev["dkim_status"],
                "SigningAttributesOrigin": "AWS_SES", "NextSigningKeyLength": "RSA_1024_BIT"}

    def _mail_from_attributes(self, ident, ev):
        attrs = {"BehaviorOnMxFailure": ident.get("behavior_on_mx_failure", "USE_DEFAULT_VALUE")}
        mf = ident.get("mail_from")
        if mf:
            attrs["MailFromDomain"] = mf["domain"]
            attrs["MailFromDomainStatus"] = ev["mail_from_status"]
        return attrs

    def _verification_info(self, ident, ev):
        if ident["type"] != "DOMAIN":
            return {}    # live AWS: {} for an address identity
        info = {"LastCheckedTimestamp": epoch_int(ev["last_checked"])}
        if ev["last_success"] is not None:
            info["LastSuccessTimestamp"] = epoch_int(ev["last_success"])
        if ev["error_type"]:
            info["ErrorType"] = ev["error_type"]
        info["SOARecord"] = {"PrimaryNameServer": "ns-1.ses-sim.invalid",
                             "AdminEmail": "hostmaster.%s" % ident["name"],
                             "SerialNumber": 1}
        return info

    def get_shape(self, ident):
        ev = self.evaluate(ident)
        out = {
            "IdentityType": ident["type"],
            "FeedbackForwardingStatus": ident.get("feedback_forwarding", True),
            "VerifiedForSendingStatus": ev["verified_for_sending"],
            "DkimAttributes": self._dkim_attributes(ident, ev),
            "MailFromAttributes": self._mail_from_attributes(ident, ev),
            "Policies": {},
            "Tags": list(ident.get("tags", [])),
            "VerificationStatus": ev["verification_status"],
            "VerificationInfo": self._verification_info(ident, ev),
        }
        if ident.get("configuration_set"):
            out["ConfigurationSetName"] = ident["configuration_set"]
        return out

    # ---- identity lifecycle ----

    def _new_identity(self, key, typ, created_at):
        ident = {"name": key, "type": typ, "created_at": created_at, "tags": [],
                 "configuration_set": None, "mail_from": None,
                 "behavior_on_mx_failure": "USE_DEFAULT_VALUE", "overrides": {},
                 "feedback_forwarding": True}
        if typ == "DOMAIN":
            ident["dkim"] = {"origin": "AWS_SES", "tokens": [random_dkim_token() for _ in range(3)],
                             "signing_enabled": True, "started_at": created_at,
                             "key_length": "RSA_2048_BIT", "key_generated_at": created_at}
        else:
            ident["email"] = {"sent_at": created_at, "send_count": 1, "clicked_at": None}
        return ident

    def lookup(self, raw, message_fmt):
        try:
            key, _ = normalize_identity(raw)
        except SesError:
            raise not_found(message_fmt % raw)
        ident = self.identities.get(key)
        if ident is None:
            raise not_found(message_fmt % raw)
        return ident

    # ---- --knot: the same records in a real DNS server -------------------

    def knot_sync(self, domain):
        """With --knot DIR: writes the records published under domain into
        DIR/zones/<domain>.zone and has the Knot DNS server controlled by
        DIR/knot.sock serve it (adds the zone when new, else reloads it), so
        the module's DNS diagnosis sees what the simulator's SES sees."""
        if not self.knot:
            return
        lines = []
        for (rtype, name, _), e in sorted(self.zone._records.items()):
            h = e["history"]
            if not h or h[-1][1] is not None:
                continue
            if name != domain and not name.endswith("." + domain):
                continue
            value = e["value"].strip()
            if rtype in ("CNAME", "NS"):
                value = value.rstrip(".") + "."
            elif rtype == "MX":
                prio, host = value.split(None, 1)
                value = "%s %s." % (prio, host.strip().rstrip("."))
            elif rtype == "TXT" and not value.startswith('"'):
                value = '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')
            lines.append("%s. 60 %s %s" % (name, rtype, value))
        self._knot_serial = max(self._knot_serial + 1, int(time.time()))
        path = os.path.join(self.knot, "zones", "%s.zone" % domain)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("$ORIGIN %s.\n$TTL 60\n@ SOA ns.%s. admin.%s. %d 3600 600 86400 60\n"
                    "@ NS ns.%s.\nns A 127.0.0.1\n%s\n"
                    % (domain, domain, domain, self._knot_serial, domain,
                       "\n".join(lines)))
        os.replace(tmp, path)
        knotc = ["/usr/sbin/knotc", "-s", os.path.join(self.knot, "knot.sock")]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(knotc + ["zone-status", domain], **quiet).returncode != 0:
            ok = all(subprocess.run(knotc + args, **quiet).returncode == 0
                     for args in (["conf-begin"], ["conf-set", "zone[%s]" % domain],
                                  ["conf-commit"]))
            if not ok:
                subprocess.run(knotc + ["conf-abort"], **quiet)
        else:
            subprocess.run(knotc + ["-b", "zone-reload", domain], **quiet)

    # ---- SESv2 operations (params already validated against the model) ----

    def op_CreateEmailIdentity(self, p):
        raw = p["EmailIdentity"]
        key, typ = normalize_identity(raw)
        if key in self.identities:
            raise SesError(400, "AlreadyExistsException",
                           "Email identity %s already exist." % raw)
        if len(self.identities) >= self.config["max_identities"]:
            raise SesError(400, "LimitExceededException",
                           "Maximum number of identities (%d) reached."
                           % self.config["max_identities"])
        now = self.clock.now()
        ident = self._new_identity(key, typ, now)
        dsa = p.get("DkimSigningAttributes")
        if dsa:
            if typ != "DOMAIN":
                raise bad_request("DKIM signing attributes can only be set for a domain identity.")
            if dsa.get("DomainSigningSelector") or dsa.get("DomainSigningPrivateKey"):
                if not (dsa.get("DomainSigningSelector") and dsa.get("DomainSigningPrivateKey")):
                    raise bad_request("Both DomainSigningSelector and DomainSigningPrivateKey are "
                                      "required for BYODKIM.")
                ident["dkim"].update({"origin": "EXTERNAL",
                                      "tokens": [dsa["DomainSigningSelector"]]})
            if dsa.get("NextSigningKeyLength"):
                ident["dkim"]["key_length"] = dsa["NextSigningKeyLength"]
        ident["tags"] = list(p.get("Tags", []))
        ident["configuration_set"] = p.get("ConfigurationSetName")
        self.identities[key] = ident
        self.save()
        if typ == "DOMAIN":
            self.knot_sync(key)      # the zone exists, its records not yet
        ev = self.evaluate(ident)
        out = {"IdentityType": typ, "VerifiedForSendingStatus": ev["verified_for_sending"]}
        if typ == "DOMAIN":   # live AWS: an address's create answer has no DkimAttributes
            out["DkimAttributes"] = self._dkim_attributes(ident, ev)
        return out

    def op_GetEmailIdentity(self, p):
        ident = self.lookup(p["EmailIdentity"], "Identity %s does not exist.")
        return self.get_shape(ident)

    def op_DeleteEmailIdentity(self, p):
        ident = self.lookup(p["EmailIdentity"], "Email identity %s does not exist.")
        del self.identities[ident["name"]]
        self.save()
        return {}

    def op_ListEmailIdentities(self, p):
        size = p.get("PageSize")
        if not size:
            size = DEFAULT_PAGE_SIZE
        names = sorted(self.identities)   # stable order, robust to inserts/deletes
        start = 0
        token = p.get("NextToken")
        if token is not None:
            after = self._decode_token(token)
            start = next((i for i, n in enumerate(names) if n > after), len(names))
        page = names[start:start + size]
        out = {"EmailIdentities": []}
        for n in page:
            ident = self.identities[n]
            ev = self.evaluate(ident)
            out["EmailIdentities"].append({
                "IdentityType": ident["type"], "IdentityName": n,
                "SendingEnabled": ev["verified_for_sending"],
                "VerificationStatus": ev["verification_status"]})
        if start + size < len(names):
            out["NextToken"] = self._encode_token(page[-1])
        return out

    @staticmethod
    def _encode_token(after):
        # Opaque to clients; '/', '+' and '=' on purpose, so query encoding is exercised.
        return base64.b64encode(json.dumps({"after": after}).encode()).decode()

    @staticmethod
    def _decode_token(token):
        try:
            data = json.loads(base64.b64decode(token.encode(), validate=True))
            return str(data["after"])
        except (ValueError, KeyError, TypeError):
            raise bad_request("Invalid NextToken.")

    def op_PutEmailIdentityMailFromAttributes(self, p):
        ident = self.lookup(p["EmailIdentity"], "Identity %s does not exist.")
        if "BehaviorOnMxFailure" in p:
            ident["behavior_on_mx_failure"] = p["BehaviorOnMxFailure"]
        if "MailFromDomain" in p and p["MailFromDomain"] != "":
            mfd = p["MailFromDomain"].strip().rstrip(".").lower()
            parent = identity_domain(ident)
            if not valid_domain(mfd) or not mfd.endswith("." + parent):
                raise bad_request("Invalid MAIL FROM domain <%s>: it must be a subdomain of %s."
                                  % (p["MailFromDomain"], parent))
            # Setting it (again) restarts SES's 72-hour search for the MX record.
            ident["mail_from"] = {"domain": mfd, "started_at": self.clock.now()}
        else:
            # No (or empty) MailFromDomain disables the custom MAIL FROM, as in SESv1.
            ident["mail_from"] = None
        self.save()
        return {}

    def op_PutEmailIdentityDkimAttributes(self, p):
        raw = p["EmailIdentity"]
        try:
            key, _ = normalize_identity(raw)
        except SesError:
            key = None
        ident = self.identities.get(key) if key else None
        if ident is None or ident["type"] != "DOMAIN":
            # Live AWS answers 400 here, not 404 (floci-io/floci#723).
            raise bad_request("Domain %s is not verified for DKIM signing." % raw)
        if "SigningEnabled" in p:
            ident["dkim"]["signing_enabled"] = bool(p["SigningEnabled"])
        self.save()
        return {}

    def op_PutEmailIdentityDkimSigningAttributes(self, p):
        ident = self.lookup(p["EmailIdentity"], "Identity %s does not exist.")
        if ident["type"] != "DOMAIN":
            raise bad_request("DKIM signing attributes can only be set for a domain identity.")
        now = self.clock.now()
        origin = p["SigningAttributesOrigin"]
        dk = ident["dkim"]
        if origin == "EXTERNAL":
            sa = p.get("SigningAttributes") or {}
            if not (sa.get("DomainSigningSelector") and sa.get("DomainSigningPrivateKey")):
                raise bad_request("SigningAttributes with DomainSigningSelector and "
                                  "DomainSigningPrivateKey are required for EXTERNAL.")
            dk.update({"origin": "EXTERNAL", "tokens": [sa["DomainSigningSelector"]]})
        else:
            # Re-running Easy DKIM: new tokens, and SES's 72-hour search starts over.
            sa = p.get("SigningAttributes") or {}
            dk.update({"origin": "AWS_SES",
                       "tokens": [random_dkim_token() for _ in range(3)],
                       "key_generated_at": now})
            if sa.get("NextSigningKeyLength"):
                dk["key_length"] = sa["NextSigningKeyLength"]
        dk["started_at"] = now
        self.save()
        ev = self.evaluate(ident)
        return {"DkimStatus": ev["dkim_status"], "DkimTokens": list(dk["tokens"])}

    # ---- SESv1 ----

    def v1_VerifyEmailIdentity(self, params):
        addr = params.get("EmailAddress")
        if addr is None:
            raise SesError(400, "MissingParameter",
                           "The request must contain the parameter EmailAddress.",
                           v1_code="MissingParameter", v1_status=400)
        try:
            key, typ = normalize_identity(addr)
        except SesError:
            typ = None
        if typ != "EMAIL_ADDRESS":
            raise SesError(400, "InvalidParameterValue", "Invalid email address<%s>." % addr,
                           v1_code="InvalidParameterValue", v1_status=400)
        now = self.clock.now()
        ident = self.identities.get(key)
        if ident is None:
            if len(self.identities) >= self.config["max_identities"]:
                raise SesError(400, "LimitExceededException",
                               "Maximum number of identities reached.",
                               v1_code="LimitExceeded", v1_status=400)
            self.identities[key] = self._new_identity(key, "EMAIL_ADDRESS", now)
        elif ident["type"] == "EMAIL_ADDRESS":
            # Idempotent: re-sends the mail; the new link's 24 h start now.  A verified
            # address stays verified (whether AWS re-sends then is unknown).
            ident["email"]["sent_at"] = now
            ident["email"]["send_count"] = ident["email"].get("send_count", 0) + 1
        self.save()
        return ""

    # ---- control API helpers ----

    def seed(self, spec):
        raw = spec.get("identity")
        try:
            key, typ = normalize_identity(raw)
        except SesError as exc:
            raise ControlError(400, exc.message)
        now = self.clock.now()
        verified = bool(spec.get("verified", False))
        age = spec.get("created_ago")
        if age is None:
            age = DEFAULT_SEED_AGE if verified else 0
        if not isinstance(age, (int, float)) or age < 0:
            raise ControlError(400, "created_ago must be a non-negative number of seconds")
        created = now - age
        ident = self._new_identity(key, typ, created)
        ident["origin"] = "seed"
        if spec.get("behavior_on_mx_failure"):
            if spec["behavior_on_mx_failure"] not in ("USE_DEFAULT_VALUE", "REJECT_MESSAGE"):
                raise ControlError(400, "behavior_on_mx_failure must be USE_DEFAULT_VALUE or "
                                        "REJECT_MESSAGE")
            ident["behavior_on_mx_failure"] = spec["behavior_on_mx_failure"]
        mfd = spec.get("mail_from_domain")
        if mfd:
            mfd = norm_name(mfd)
            if not valid_domain(mfd) or not mfd.endswith("." + identity_domain(ident)):
                raise ControlError(400, "mail_from_domain must be a subdomain of %s"
                                   % identity_domain(ident))
            ident["mail_from"] = {"domain": mfd, "started_at": created}
        if typ == "EMAIL_ADDRESS" and verified:
            ident["email"]["clicked_at"] = created
        self.identities[key] = ident
        if verified:
            # "Verified in AWS" == its records have been in DNS since creation, so the
            # lazy evaluation agrees, and unpublishing later behaves as in AWS.
            for r in self.expected_records(ident):
                self.zone.add(r["type"], norm_name(r["name"]), r["value"], created)
        self.save()
        if typ == "DOMAIN":
            # --knot: a domain verified outside the module has its zone (and,
            # when verified, its DKIM records) in the sandbox's DNS as well
            self.knot_sync(key)
        return self.dump_identity(ident)

    def click(self, raw):
        try:
            key, _ = normalize_identity(raw)
        except SesError:
            raise ControlError(404, "no such identity: %s" % raw)
        ident = self.identities.get(key)
        if ident is None:
            raise ControlError(404, "no such identity: %s" % raw)
        if ident["type"] != "EMAIL_ADDRESS":
            raise ControlError(400, "%s is a domain; domains verify through DNS" % key)
        now = self.clock.now()
        em = ident["email"]
        if em.get("clicked_at") is not None:
            return {"identity": key, "verified": True, "already": True}
        if now >= em["sent_at"] + EMAIL_LINK_LIFETIME:
            raise ControlError(410, "verification link for %s expired at %s"
                               % (key, iso(em["sent_at"] + EMAIL_LINK_LIFETIME)))
        em["clicked_at"] = now
        self.save()
        return {"identity": key, "verified": True}

    def dump_identity(self, ident):
        ev = self.evaluate(ident)
        out = {
            "identity": ident["name"], "type": ident["type"],
            "origin": ident.get("origin", "api"),
            "created_at": ident["created_at"],
            "verification_status": ev["verification_status"],
            "verified_for_sending": ev["verified_for_sending"],
            "dkim_status": ev["dkim_status"],
            "mail_from_domain": (ident.get("mail_from") or {}).get("domain"),
            "mail_from_status": ev["mail_from_status"],
            "behavior_on_mx_failure": ident.get("behavior_on_mx_failure"),
            "error_type": ev["error_type"],
            "overrides": ident.get("overrides", {}),
            "expected_records": self.expected_records(ident),
        }
        if ident["type"] == "DOMAIN":
            out["dkim_tokens"] = list(ident["dkim"]["tokens"])
            out["dkim_signing_enabled"] = ident["dkim"]["signing_enabled"]
        else:
            em = ident["email"]
            out.update({"verification_email_sent_at": em["sent_at"],
                        "verification_email_count": em.get("send_count", 1),
                        "link_expires_at": em["sent_at"] + EMAIL_LINK_LIFETIME,
                        "clicked_at": em.get("clicked_at"),
                        "dkim_inherited_from": ev.get("dkim_inherited_from"),
                        "can_send": self.can_send_from(ident["name"])})
        return out

    def reset(self):
        self.identities = {}
        self.zone = DnsZone()
        self.faults.clear()
        self.calls = []
        self.clock.offset = 0.0
        self.clock.skew = 0.0
        self.config = dict(self._startup_config)
        self.rate = RateLimiter(self.config["rate"])
        self.credentials.reset()
        self.save()

    def log_call(self, entry):
        self.calls.append(entry)
        if len(self.calls) > CALL_LOG_LIMIT:
            del self.calls[:len(self.calls) - CALL_LOG_LIMIT]


# --------------------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------------------

class Call:
    """What the handler learns about one SES call, for the call log and fault matching."""

    def __init__(self, method, raw_path, raw_query):
        self.method = method
        self.raw_path = raw_path
        self.raw_query = raw_query
        self.api = "v2"
        self.action = None
        self.identity = None
        self.status = None
        self.error_type = None
        self.fault = None
        self.access_key = None
        self.request_id = new_request_id()
        self.debug = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"          # keep-alive, as SDKs and libcurl expect
    server_version = "ses-sim"
    sys_version = ""
    sim = None                             # set by make_server()
    verbose = False
    # headers and body go out in two send()s: with Nagle on, a kept-alive
    # connection's body would wait ~40 ms for the client's delayed ACK,
    # which real SES does not do (it would skew every timing against us)
    disable_nagle_algorithm = True

    # ---- plumbing ----

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("ses-sim: %s %s\n" % (self.address_string(), fmt % args))

    def version_string(self):
        return self.server_version

    def date_time_string(self, timestamp=None):
        # The Date header is SES's clock (botocore corrects its own skew from it).
        return email.utils.formatdate(self.sim.clock.aws_now() if timestamp is None
                                      else timestamp, usegmt=True)

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _send(self, status, body, content_type, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status, obj, headers=()):
        self._send(status, json.dumps(obj, indent=1).encode() + b"\n", "application/json",
                   headers)

    def _dispatch(self):
        target = self.path
        if target.startswith("http://") or target.startswith("https://"):
            parts = urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        raw_path, _, raw_query = target.partition("?")
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send_json(400, {"message": "Malformed request body."},
                            [("x-amzn-RequestId", new_request_id()),
                             ("x-amzn-ErrorType", "SerializationException")])
            return
        if raw_path == "/_sim" or raw_path.startswith("/_sim/"):
            self._control(raw_path, raw_query, body)
        else:
            self._ses(raw_path, raw_query, body)

    # ---- SES calls ----

    def _ses(self, raw_path, raw_query, body):
        sim = self.sim
        call = Call(self.command, raw_path, raw_query)
        try:
            self._ses_inner(call, raw_path, raw_query, body)
        except (BrokenPipeError, ConnectionResetError):
            call.status = call.status or "client-closed"
        except Exception as exc:   # a simulator bug: answer like SES would, and say so
            traceback.print_exc()
            try:
                self._ses_error(call, SesError(500, "InternalServiceErrorException",
                                               "ses-sim internal error: %r" % exc))
            except OSError:
                pass
        finally:
            with sim.lock:
                sim.log_call({
                    "time": sim.clock.now(), "method": call.method, "path": raw_path,
                    "query": raw_query, "api": call.api, "action": call.action,
                    "identity": call.identity, "status": call.status,
                    "error_type": call.error_type, "fault": call.fault,
                    "access_key": call.access_key, "request_id": call.request_id,
                    "debug": call.debug})

    def _ses_inner(self, call, raw_path, raw_query, body):
        sim = self.sim
        # 1. Route (v1 query protocol at "/", v2 rest-json elsewhere).
        v1_params = None
        op = labels = None
        try:
            if raw_path == "/":
                call.api = "v1"
                v1_params = dict(parse_qsl(raw_query, keep_blank_values=True))
                if body:
                    try:
                        v1_params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                    except UnicodeDecodeError:
                        pass
                call.action = v1_params.get("Action")
                call.identity = v1_params.get("EmailAddress")
            else:
                op, labels = sim.model.route(self.command, raw_path)
                call.action = op.name
                if "EmailIdentity" in labels:
                    call.identity = unquote(labels["EmailIdentity"])
        except SesError as exc:
            return self._ses_error(call, exc)

        if call.identity is None and call.action == "CreateEmailIdentity":
            try:
                call.identity = json.loads(body.decode("utf-8")).get("EmailIdentity")
            except (ValueError, UnicodeDecodeError, AttributeError):
                pass

        # 2. Injected faults and throttling (before the operation runs, unless after=true).
        with sim.lock:
            fault = sim.faults.take([call.action, "%s %s" % (self.command, raw_path),
                                     "%s %s" % (self.command, unquote(raw_path)), call.identity])
            throttled = not sim.rate.allow()
        if fault:
            call.fault = fault["kind"]
            if not fault["after"] and fault["kind"] != "slow":
                return self._apply_fault(call, fault)
        if throttled:
            return self._ses_error(call, SesError(429, "TooManyRequestsException", THROTTLE_MSG))

        # 3. Authenticate, validate, run.
        error = result = None
        try:
            with sim.lock:
                try:
                    auth = sim.verifier.verify(self.command, raw_path, raw_query,
                                               self.headers, body)
                except SesError as exc:
                    call.debug = getattr(exc, "debug", None)
                    raise
                call.access_key = auth["access_key"]
                if call.api == "v1":
                    result = self._run_v1(call, v1_params)
                else:
                    params = sim.model.build_input(op, labels, raw_query, body)
                    handler = getattr(sim, "op_" + op.name, None)
                    if handler is None:
                        raise SesError(501, "NotImplemented",
                                       "ses-sim does not implement %s." % op.name)
                    result = handler(params)
        except SesError as exc:
            error = exc

        if fault and fault["kind"] == "slow":
            # The operation has taken effect; only the answer is late.
            self.sim.shutdown_event.wait(fault["delay"] if fault["delay"] is not None
                                         else DEFAULT_SLOW_DELAY)
        elif fault and fault["after"]:
            return self._apply_fault(call, fault)
        if error is not None:
            return self._ses_error(call, error)

        call.status = 200
        if call.api == "v1":
            xml = ('<{a}Response xmlns="{ns}">\n  <{a}Result/>\n  <ResponseMetadata>\n'
                   '    <RequestId>{rid}</RequestId>\n  </ResponseMetadata>\n</{a}Response>\n'
                   .format(a=call.action, ns=V1_NAMESPACE, rid=call.request_id))
            self._send(200, xml.encode(), "text/xml", [("x-amzn-RequestId", call.request_id)])
        else:
            self._send(200, json.dumps(result).encode(), "application/json",
                       [("x-amzn-RequestId", call.request_id)])

    def _run_v1(self, call, params):
        action = params.get("Action")
        if not action:
            raise SesError(400, "MissingAction", "Could not find operation for request.",
                           v1_code="MissingAction", v1_status=400)
        version = params.get("Version")
        if version != V1_VERSION:
            raise SesError(400, "NoSuchVersion",
                           "The requested version (%s) of service AmazonSimpleEmailService does "
                           "not exist." % version, v1_code="NoSuchVersion", v1_status=400)
        handler = getattr(self.sim, "v1_" + action, None)
        if handler is None:
            raise SesError(400, "InvalidAction",
                           "The action %s is not valid for this web service." % action,
                           v1_code="InvalidAction", v1_status=400)
        return handler(params)

    def _apply_fault(self, call, fault):
        kind = fault["kind"]
        if kind == "500":
            return self._ses_error(call, SesError(500, "InternalServiceErrorException",
                                                  "Internal service error."))
        if kind == "503":
            return self._ses_error(call, SesError(503, "ServiceUnavailable",
                                                  "Service Unavailable"))
        if kind == "429":
            return self._ses_error(call, SesError(429, "TooManyRequestsException", THROTTLE_MSG))
        if kind == "error":
            return self._ses_error(call, SesError(fault["status"], fault["error_type"],
                                                  fault["message"]))
        if kind == "garbage":
            call.status = 200
            self._send(200, b"<html><body>ses-sim: injected garbage</body></html>\n",
                       "text/html", [("x-amzn-RequestId", call.request_id)])
            return
        if kind == "timeout":
            # Hold the connection, answer nothing; the client's timeout must fire.
            self.sim.shutdown_event.wait(fault["delay"] if fault["delay"] is not None
                                         else DEFAULT_TIMEOUT_HOLD)
        # "drop" and the end of "timeout": close without a byte of response.
        call.status = None
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _ses_error(self, call, exc):
        call.error_type = exc.code if call.api == "v2" else exc.v1_code
        if call.api == "v1":
            call.status = exc.v1_status
            kind = "Sender" if exc.v1_status < 500 else "Receiver"
            xml = ('<ErrorResponse xmlns="{ns}">\n  <Error>\n    <Type>{k}</Type>\n'
                   '    <Code>{c}</Code>\n    <Message>{m}</Message>\n  </Error>\n'
                   '  <RequestId>{rid}</RequestId>\n</ErrorResponse>\n'
                   .format(ns=V1_NAMESPACE, k=kind, c=xml_escape(exc.v1_code),
                           m=xml_escape(exc.message), rid=call.request_id))
            self._send(exc.v1_status, xml.encode(), "text/xml",
                       [("x-amzn-RequestId", call.request_id)])
            return
        call.status = exc.status
        etype = exc.code
        if self.sim.config["error_type_suffix"]:
            etype += ":http://internal.amazon.com/coral/com.amazonaws.sesv2/"
        self._send(exc.status, json.dumps({"message": exc.message}).encode(), "application/json",
                   [("x-amzn-RequestId", call.request_id), ("x-amzn-ErrorType", etype)])

    # ---- control API ----

    def _control(self, raw_path, raw_query, body):
        route = raw_path[len("/_sim"):].rstrip("/") or "/"
        try:
            obj = {}
            if body.strip():
                try:
                    obj = json.loads(body.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    raise ControlError(400, "body must be JSON")
            query = dict(parse_qsl(raw_query))
            fn = CONTROL_ROUTES.get((self.command, route))
            if fn is None:
                if any(r == route for (_, r) in CONTROL_ROUTES):
                    raise ControlError(405, "method %s not allowed on /_sim%s"
                                       % (self.command, route))
                raise ControlError(404, "no control endpoint /_sim%s" % route)
            with self.sim.lock:
                status, result = fn(self.sim, obj, query)
            self._send_json(status, result)
        except ControlError as exc:
            self._send_json(exc.status, {"error": exc.message})


# ---- control endpoints: fn(sim, body, query) -> (status, json) ----

def _need(obj, key, types, what):
    """obj[key] if it has one of `types` (bool never counts as a number), else 400."""
    types = types if isinstance(types, tuple) else (types,)
    val = obj.get(key) if isinstance(obj, dict) else None
    if val is None or not isinstance(val, types) or (isinstance(val, bool) and bool not in types):
        raise ControlError(400, "%s: body needs \"%s\" (%s)"
                           % (what, key, "/".join(t.__name__ for t in types)))
    return val


def c_health(sim, obj, q):
    return 200, {"ok": True}


def c_dns_list(sim, obj, q):
    return 200, {"records": sim.zone.current(sim.clock.now())}


def c_dns_add(sim, obj, q):
    recs = _need(obj, "records", list, "POST /_sim/dns")
    now = sim.clock.now()
    parsed = [DnsZone.parse(r) for r in recs]
    added = sum(1 for rt, n, v in parsed if sim.zone.add(rt, n, v, now))
    sim.save()
    _knot_sync_names(sim, [n for rt, n, v in parsed])
    return 200, {"added": added}


def _knot_sync_names(sim, names):
    """--knot: the zones of the simulator's domains these names are under."""
    zones = set()
    for n in names:
        for ident in sim.identities.values():
            d = ident["name"]
            if ident["type"] == "DOMAIN" and (n == d or n.endswith("." + d)):
                zones.add(d)
    for d in sorted(zones):
        sim.knot_sync(d)


def c_dns_remove(sim, obj, q):
    now = sim.clock.now()
    if not obj or obj.get("all"):
        sim.zone.remove_all(now)
        sim.save()
        return 200, {"removed": "all"}
    recs = _need(obj, "records", list, "DELETE /_sim/dns")
    removed = 0
    names = []
    for r in recs:
        rt, n, v = DnsZone.parse(r, need_value=False)
        removed += sim.zone.remove(rt, n, v, now)
        names.append(n)
    sim.save()
    _knot_sync_names(sim, names)
    return 200, {"removed": removed}


def _records_for(sim, obj):
    raw = _need(obj, "identity", str, "publish")
    try:
        key, _ = normalize_identity(raw)
    except SesError:
        raise ControlError(404, "no such identity: %s" % raw)
    ident = sim.identities.get(key)
    if ident is None:
        raise ControlError(404, "no such identity: %s" % raw)
    recs = sim.expected_records(ident)
    groups = {"dkim": obj.get("dkim", True), "mail_from": obj.get("mail_from", True)}
    return [r for r in recs
            if (groups["mail_from"] if ident.get("mail_from") and
                norm_name(r["name"]) == ident["mail_from"]["domain"] else groups["dkim"])]


def c_dns_publish(sim, obj, q):
    recs = _records_for(sim, obj)
    now = sim.clock.now()
    for r in recs:
        sim.zone.add(r["type"], norm_name(r["name"]), r["value"], now)
    sim.save()
    _knot_sync_for(sim, obj)
    return 200, {"published": recs}


def _knot_sync_for(sim, obj):
    ident = sim.identities.get(normalize_identity(str(obj.get("identity", "")))[0])
    if ident and ident["type"] == "DOMAIN":
        sim.knot_sync(ident["name"])


def c_dns_unpublish(sim, obj, q):
    recs = _records_for(sim, obj)
    now = sim.clock.now()
    for r in recs:
        sim.zone.remove(r["type"], norm_name(r["name"]), r["value"], now)
    sim.save()
    _knot_sync_for(sim, obj)
    return 200, {"unpublished": recs}


def c_click(sim, obj, q):
    return 200, sim.click(_need(obj, "identity", str, "click"))


def c_seed(sim, obj, q):
    return 200, sim.seed(obj)


def c_status(sim, obj, q):
    raw = _need(obj, "identity", str, "status")
    try:
        key, _ = normalize_identity(raw)
    except SesError:
        key = None
    ident = sim.identities.get(key) if key else None
    if ident is None:
        raise ControlError(404, "no such identity: %s" % raw)
    allowed = {"dkim": ("PENDING", "SUCCESS", "FAILED", "TEMPORARY_FAILURE", "NOT_STARTED"),
               "verification": ("PENDING", "SUCCESS", "FAILED", "TEMPORARY_FAILURE",
                                "NOT_STARTED"),
               "mail_from": ("PENDING", "SUCCESS", "FAILED", "TEMPORARY_FAILURE"),
               "error_type": ("SERVICE_ERROR", "DNS_SERVER_ERROR", "HOST_NOT_FOUND",
                              "TYPE_NOT_FOUND", "INVALID_VALUE", "REPLICATION_ACCESS_DENIED",
                              "REPLICATION_PRIMARY_NOT_FOUND",
                              "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED",
                              "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED",
                              "REPLICATION_PRIMARY_INVALID_REGION")}
    ov = ident.setdefault("overrides", {})
    if obj.get("clear"):
        ov.clear()
    for k, values in allowed.items():
        if k in obj:
            if obj[k] is None:
                ov.pop(k, None)
            elif obj[k] not in values:
                raise ControlError(400, "%s must be one of %s or null" % (k, ", ".join(values)))
            else:
                ov[k] = obj[k]
    sim.save()
    return 200, sim.dump_identity(ident)


def c_faults_add(sim, obj, q):
    specs = obj if isinstance(obj, list) else [obj]
    return 200, {"faults": [sim.faults.add(s) for s in specs]}


def c_faults_list(sim, obj, q):
    return 200, {"faults": sim.faults.list()}


def c_faults_clear(sim, obj, q):
    sim.faults.clear()
    return 200, {"faults": []}


def c_clock_get(sim, obj, q):
    return 200, sim.clock.to_json()


def c_clock_set(sim, obj, q):
    if not isinstance(obj, dict):
        raise ControlError(400, "clock: body must be an object")
    num = (int, float)
    if obj.get("reset"):
        sim.clock.offset = 0.0
        sim.clock.skew = 0.0
    if "advance" in obj:
        if not isinstance(obj["advance"], num) or obj["advance"] < 0:
            raise ControlError(400, "advance must be a non-negative number of seconds")
        sim.clock.offset += obj["advance"]
    if "now" in obj:
        if not isinstance(obj["now"], num):
            raise ControlError(400, "now must be epoch seconds")
        sim.clock.offset = obj["now"] - time.time()
    if "skew" in obj:
        if not isinstance(obj["skew"], num):
            raise ControlError(400, "skew must be a number of seconds")
        sim.clock.skew = float(obj["skew"])
    sim.save()
    return 200, sim.clock.to_json()


def c_verify_delay(sim, obj, q):
    secs = _need(obj, "seconds", (int, float), "verify_delay")
    if secs < 0:
        raise ControlError(400, "seconds must be >= 0")
    sim.config["verify_delay"] = float(secs)
    sim.save()
    return 200, {"verify_delay": sim.config["verify_delay"]}


def c_config_get(sim, obj, q):
    return 200, dict(sim.config, region=sim.region, dkim_hosted_zone=sim.dkim_zone,
                     credentials=sim.credentials.to_json())


def c_config_set(sim, obj, q):
    if not isinstance(obj, dict):
        raise ControlError(400, "config: body must be an object")
    for k, v in obj.items():
        if k not in sim.config:
            raise ControlError(400, "unknown config key %s (known: %s)"
                               % (k, ", ".join(sorted(sim.config))))
        want = type(sim._startup_config[k])
        if want is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, want) or (want is not bool and isinstance(v, bool)):
            raise ControlError(400, "%s must be a %s" % (k, want.__name__))
        sim.config[k] = v
    sim.rate.rate = sim.config["rate"]
    sim.save()
    return c_config_get(sim, obj, q)


def c_rate(sim, obj, q):
    rate = _need(obj, "rate", int, "rate")
    return c_config_set(sim, {"rate": rate}, q)


def c_credentials_add(sim, obj, q):
    ak = _need(obj, "access_key", str, "credentials")
    sk = _need(obj, "secret_key", str, "credentials")
    tok = obj.get("session_token")
    if tok is not None and not isinstance(tok, str):
        raise ControlError(400, "session_token must be a string")
    sim.credentials.put(ak, sk, tok)
    return 200, {"credentials": sim.credentials.to_json()}


def c_credentials_delete(sim, obj, q):
    ak = _need(obj, "access_key", str, "credentials")
    if not sim.credentials.delete(ak):
        raise ControlError(404, "no such access key")
    return 200, {"credentials": sim.credentials.to_json()}


def c_calls_list(sim, obj, q):
    calls = sim.calls
    if q.get("action"):
        calls = [c for c in calls if c["action"] == q["action"]]
    if q.get("identity"):
        calls = [c for c in calls if c["identity"] == q["identity"]]
    out = []
    for c in calls:
        c = dict(c)
        if not q.get("debug"):
            c.pop("debug", None)
        out.append(c)
    return 200, out


def c_calls_clear(sim, obj, q):
    sim.calls = []
    return 200, []


def c_identities(sim, obj, q):
    return 200, [sim.dump_identity(i) for _, i in sorted(sim.identities.items())]


def c_can_send(sim, obj, q):
    addr = q.get("from") or (obj or {}).get("from")
    if not addr:
        raise ControlError(400, "can_send needs ?from=address")
    return 200, {"from": addr, "can_send": sim.can_send_from(addr)}


def c_reset(sim, obj, q):
    sim.reset()
    return 200, {"ok": True}


CONTROL_ROUTES = {
    ("GET", "/health"): c_health,
    ("GET", "/dns"): c_dns_list,
    ("POST", "/dns"): c_dns_add,
    ("DELETE", "/dns"): c_dns_remove,
    ("POST", "/dns/publish"): c_dns_publish,
    ("POST", "/dns/unpublish"): c_dns_unpublish,
    ("POST", "/click"): c_click,
    ("POST", "/seed"): c_seed,
    ("POST", "/status"): c_status,
    ("GET", "/faults"): c_faults_list,
    ("POST", "/faults"): c_faults_add,
    ("DELETE", "/faults"): c_faults_clear,
    ("GET", "/clock"): c_clock_get,
    ("POST", "/clock"): c_clock_set,
    ("POST", "/verify_delay"): c_verify_delay,
    ("POST", "/rate"): c_rate,
    ("GET", "/config"): c_config_get,
    ("POST", "/config"): c_config_set,
    ("POST", "/credentials"): c_credentials_add,
    ("DELETE", "/credentials"): c_credentials_delete,
    ("GET", "/calls"): c_calls_list,
    ("DELETE", "/calls"): c_calls_clear,
    ("GET", "/identities"): c_identities,
    ("GET", "/can_send"): c_can_send,
    ("POST", "/reset"): c_reset,
}


# --------------------------------------------------------------------------------------
# Self-check: botocore with the SigV4 suite's credentials and date, service "ses",
# must give these derived vectors (computed once with botocore, not official),
# and our verifier must accept the official SigV4 suite's requests.
# --------------------------------------------------------------------------------------

SES_VECTORS = [
    # (name, method, path, query, headers, body, expected signature)
    ("GET address (double-encoded canonical URI)", "GET",
     "/v2/email/identities/user%2Btag%40example.com", "", {}, b"",
     "301b1a14b79a3b889240f943f0daba12b92e0e5f73af9df6995d6df8506b1656"),
    ("POST CreateEmailIdentity", "POST", "/v2/email/identities", "",
     {"Content-Type": "application/json"}, b'{"EmailIdentity": "example.com"}',
     "300a8c6cd93fcab232feff905095ed0e10b7c4ca1421890ec37dc3229bd61ef4"),
    ("PUT mail-from", "PUT", "/v2/email/identities/example.com/mail-from", "",
     {"Content-Type": "application/json"},
     b'{"MailFromDomain": "mail.example.com", "BehaviorOnMxFailure": "USE_DEFAULT_VALUE"}',
     "74fdfc9d048dc4c4c3f9fd36eea092df884dae0fa1f8d41a9070221160e67834"),
    ("GET list with NextToken", "GET", "/v2/email/identities",
     "PageSize=100&NextToken=abc%2F%2B%3D", {}, b"",
     "cc89c5649c9219497f45952d05346e7a5da1e08089702cdca40f5f24e75acfea"),
    ("v1 VerifyEmailIdentity", "POST", "/", "",
     {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
     b"Action=VerifyEmailIdentity&Version=2010-12-01&EmailAddress=user%40example.com",
     "2a065cb1946370855888e819eb8cc0a0cae22927b19668c6d5ea81358af5ef98"),
]

SUITE_CREDS = {"access_key": "AKIDEXAMPLE",
               "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session_token": None}
SUITE_DATE = "20150830T123600Z"


def _headers_message(pairs):
    msg = email.message.Message()
    for k, v in pairs:
        msg[k] = v
    return msg


def self_check(suite_dir=None):
    ok = bad = 0
    verifier = SigV4Verifier(None, "us-east-1", SimClock())
    for name, method, path, query, extra, body, want in SES_VECTORS:
        hdrs = [("Host", "email.us-east-1.amazonaws.com"), ("X-Amz-Date", SUITE_DATE)]
        hdrs += list(extra.items())
        msg = _headers_message(hdrs)
        signed = sorted(k.lower() for k, _ in hdrs)
        got, creq, _ = verifier.compute(SUITE_CREDS, method, path, query, msg, body, signed,
                                        SUITE_DATE)
        if got == want:
            ok += 1
            print("ok   ses vector: %s -> %s..." % (name, got[:8]))
        else:
            bad += 1
            print("FAIL ses vector: %s: got %s want %s\n%s" % (name, got, want, creq))
    # The pitfall: a signer that encodes the canonical URI once
    # (curl 7.88's --aws-sigv4) gets bc12bde5..., which SES (and so ses-sim) rejects.
    class _SingleEncoding(_ReceivedRequestSigV4):
        def _normalize_url_path(self, path):
            return path
    req = AWSRequest(method="GET", url="http://email.us-east-1.amazonaws.com"
                     "/v2/email/identities/user%2Btag%40example.com")
    req.headers["Host"] = "email.us-east-1.amazonaws.com"
    req.headers["X-Amz-Date"] = SUITE_DATE
    req.context["timestamp"] = SUITE_DATE
    single = _SingleEncoding(Credentials("AKIDEXAMPLE", SUITE_CREDS["secret_key"]), SERVICE,
                             "us-east-1", ["host", "x-amz-date"])
    got = single.signature(single.string_to_sign(req, single.canonical_request(req)), req)
    if got.startswith("bc12bde5") and got != SES_VECTORS[0][-1]:
        ok += 1
        print("ok   single-encoded canonical URI gives %s..., not SES's signature" % got[:8])
    else:
        bad += 1
        print("FAIL single-encoded canonical URI: got %s" % got)
    if suite_dir and os.path.isdir(suite_dir):
        o, b = _run_sigv4_suite(suite_dir)
        ok += o
        bad += b
    print("%d passed, %d failed" % (ok, bad))
    return bad == 0


def _run_sigv4_suite(suite_dir):
    """Verify each official suite request (.req + .authz) with our verifier, service 'service'."""
    ok = bad = 0
    for case in sorted(os.listdir(suite_dir)):
        d = os.path.join(suite_dir, case)
        req_f, authz_f = os.path.join(d, case + ".req"), os.path.join(d, case + ".authz")
        if not (os.path.isfile(req_f) and os.path.isfile(authz_f)):
            continue
        raw = open(req_f, "rb").read().decode("utf-8")
        head, _, body = raw.partition("\n\n")
        lines = head.split("\n")
        reqline = lines[0]
        try:
            method, rest = reqline.split(" ", 1)
            target = rest.rsplit(" ", 1)[0]
        except ValueError:
            continue
        pairs = []
        for line in lines[1:]:
            if line.startswith((" ", "\t")) and pairs:
                pairs[-1] = (pairs[-1][0], pairs[-1][1] + "\n" + line)
                continue
            k, _, v = line.partition(":")
            pairs.append((k, v))
        # Headers the signer adds (the session token) are in the .creq, not the .req.
        creq_f = os.path.join(d, case + ".creq")
        if os.path.isfile(creq_f):
            have = {k.lower() for k, _ in pairs}
            for line in open(creq_f).read().split("\n"):
                k, sep, v = line.partition(":")
                if sep and k == "x-amz-security-token" and k not in have:
                    pairs.append((k, v))
        authz = open(authz_f).read().strip()
        pairs.append(("Authorization", authz))
        tok = next((v for k, v in pairs if k.lower() == "x-amz-security-token"), None)
        creds = CredentialStore([dict(SUITE_CREDS, session_token=tok)])
        verifier = SigV4Verifier(creds, "us-east-1", SimClock(), service="service")
        path, _, query = target.partition("?")
        try:
            verifier.verify(method, path, query, _headers_message(pairs),
                            body.encode("utf-8"), check_skew=False)
            ok += 1
            print("ok   sigv4 suite: %s" % case)
        except SesError as exc:
            bad += 1
            print("FAIL sigv4 suite: %s: %s %s" % (case, exc.code, exc.message[:120]))
    return ok, bad


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------

class _CredentialAction(argparse.Action):
    """--access-key K --secret-key S [--session-token T], repeatable, in that order."""

    def __call__(self, parser, ns, value, option_string=None):
        creds = getattr(ns, "credentials", None)
        if creds is None:
            creds = []
            ns.credentials = creds
        if self.dest == "access_key":
            creds.append({"access_key": value, "secret_key": None, "session_token": None})
            return
        if not creds or creds[-1][self.dest] is not None:
            parser.error("%s must follow --access-key" % option_string)
        creds[-1][self.dest] = value


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Amazon SES (v2 identities + v1 VerifyEmailIdentity) simulator.")
    ap.add_argument("--port", type=int, default=0, help="TCP port (0 = pick a free one)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--access-key", dest="access_key", action=_CredentialAction,
                    help="accepted access key id (repeatable; default %s)" % DEFAULT_ACCESS_KEY)
    ap.add_argument("--secret-key", dest="secret_key", action=_CredentialAction,
                    help="secret for the preceding --access-key (default %s)" % DEFAULT_SECRET_KEY)
    ap.add_argument("--session-token", dest="session_token", action=_CredentialAction,
                    help="require this x-amz-security-token for the preceding --access-key "
                         "('*' = any non-empty token)")
    ap.add_argument("--verify-delay", type=float, default=0.0,
                    help="seconds between DNS records appearing and SES noticing (default 0)")
    ap.add_argument("--state-file", help="persist identities, zone and clock to this JSON file")
    ap.add_argument("--knot", metavar="DIR",
                    help="also publish into the Knot DNS server of DIR/knot.sock, zone "
                         "files in DIR/zones (started with a configuration database, "
                         "knotd -C, so that zones can be added)")
    ap.add_argument("--rate", type=int, default=0,
                    help="answer 429 past this many SES calls per second (default: no limit)")
    ap.add_argument("--dkim-hosted-zone", help="override the DKIM CNAME target zone")
    ap.add_argument("--mail-from-mx-only", action="store_true",
                    help="MAIL FROM verifies on the MX record alone (as SES documents); by "
                         "default the SPF TXT is required too")
    ap.add_argument("--error-type-suffix", action="store_true",
                    help="send x-amzn-ErrorType as 'Type:http://internal.amazon.com/coral/...'")
    ap.add_argument("--max-identities", type=int, default=10000,
                    help="LimitExceededException past this many identities")
    ap.add_argument("--verbose", action="store_true", help="log each request to stderr")
    ap.add_argument("--self-check", action="store_true",
                    help="check botocore signing against the derived SES vectors and exit")
    ap.add_argument("--sigv4-suite", help="with --self-check: also verify this SigV4 suite dir")
    ap.set_defaults(credentials=None)
    args = ap.parse_args(argv)
    for c in args.credentials or []:
        if c["secret_key"] is None:
            ap.error("--access-key %s has no --secret-key" % c["access_key"])
    return args


def make_server(args):
    sim = Simulator(args)
    handler = type("SimHandler", (Handler,), {"sim": sim, "verbose": args.verbose})

    class Server(ThreadingHTTPServer):
        daemon_threads = True          # held ("timeout") connections never block exit
        allow_reuse_address = True
        # socketserver's default backlog of 5 drops SYNs when both
        # workers' curl pools open connections at once (1 s retry)
        request_queue_size = 128

    return Server((args.host, args.port), handler), sim


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_check:
        return 0 if self_check(args.sigv4_suite) else 1
    try:
        server, sim = make_server(args)
    except OSError as exc:
        sys.stderr.write("ses-sim: cannot listen on %s:%d: %s\n" % (args.host, args.port, exc))
        return 2

    def stop(signum, frame):
        sim.shutdown_event.set()       # release "timeout"/"slow" holds at once
        # shutdown() waits for serve_forever(), which runs in this (main) thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    sys.stdout.write("ses-sim listening on http://%s:%d\n" % (args.host, port))
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        with sim.lock:
            sim.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
