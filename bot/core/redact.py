"""Redaction: anything that looks like a secret becomes ***.

Used on every log line and on everything posted from probes (log tails, bodies).
One ordered list of patterns; earlier ones run first, and later ones leave an
existing *** alone. The aim is to remove the secret and keep the context around
it (header names, schemes, user names, host names).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

# Names (of query parameters, env vars, JSON keys, headers) whose value is secret.
# Words that are often part of a harmless name (pass, pwd, auth, key) only count as a
# whole segment of the name: DB_PASS, db-pwd, x-auth, but not bypass, PWD, OLDPWD, author.
_SECRET_NAME = (
    r"(?:[\w.-]*?(?:passw(?:or)?d|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|client[_-]?key|signing[_-]?key|encryption[_-]?key|credentials?)\w*"
    r"|(?:[\w.-]*[_.-])?(?:pass|auth)(?:[_.-][\w.-]*)?(?![\w.-])"
    r"|[\w.-]*[_.-]pwd(?![\w.-]))"
)
# Authorization schemes: a one-word credential follows these ...
_WORD_SCHEMES = "bearer|basic|token|negotiate|ntlm|apikey|sharedkey"
# ... and parameter lists (username="x", response="…") follow these.
_PARAM_SCHEMES = "digest|aws4-hmac-sha256|hoba|mutual"
_NOT_DONE = r"(?!\*\*\*)(?!(?:bearer|basic|token)\s+\*\*\*)"


def _keep_quotes(match: re.Match[str]) -> str:
    name, sep, value = match.group(1), match.group(2), match.group(3)
    if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) > 1:
        return f"{name}{sep}{value[0]}{MASK}{value[0]}"
    return f"{name}{sep}{MASK}"


def _auth_header(match: re.Match[str]) -> str:
    scheme = match.group(2) or match.group(3)
    return f"{match.group(1)}{scheme} {MASK}" if scheme else f"{match.group(1)}{MASK}"


_COOKIE_ATTRIBUTES = {"path", "domain", "expires", "max-age", "samesite", "secure", "httponly",
                      "partitioned", "priority", "version", "comment"}
_COOKIE_PAIR = re.compile(r"(^|;[ \t]*)([^=;\s]+)=([^;]*)")


def _cookies(match: re.Match[str]) -> str:
    def one(pair: re.Match[str]) -> str:
        if pair.group(2).lower() in _COOKIE_ATTRIBUTES or pair.group(3) in ("", MASK):
            return pair.group(0)
        return f"{pair.group(1)}{pair.group(2)}={MASK}"

    return match.group(1) + _COOKIE_PAIR.sub(one, match.group(2))


_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # PEM private keys, whole block (to the end of the text when it is cut off)
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?"
                r"(?:-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)", re.DOTALL), MASK),
    # Slack tokens and incoming-webhook URLs
    (re.compile(r"\b(?:xox[abposre]|xapp)-[A-Za-z0-9-]+"), MASK),
    (re.compile(r"(?<=hooks\.slack\.com/)(services|workflows|triggers)/[A-Za-z0-9/_-]+"),
     r"\1/" + MASK),
    # GitHub tokens (classic, OAuth, app, refresh, fine-grained)
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), MASK),
    # JWTs (header.payload.signature, base64url)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    # Authorization headers: keep the header and the scheme, hide the credential
    (re.compile(rf"(?i)\b((?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?)"
                rf"(?:({_PARAM_SCHEMES})[ \t]+(?!\*\*\*)(?:[^\"'\r\n]|\"[^\"\r\n]*\")+"
                rf"|(?:({_WORD_SCHEMES})[ \t]+)?(?!\*\*\*)"
                rf"(?!(?:{_WORD_SCHEMES}|{_PARAM_SCHEMES})\b)"
                r"[^\s\"',;]+)"), _auth_header),
    # Bearer/Basic credentials elsewhere (curl -H, wrapped headers); the credential must
    # look like one (a digit, a symbol or a lower-upper switch) so "basic authentication"
    # is left alone
    (re.compile(r"\b([Bb]earer|[Bb]asic|BEARER|BASIC)\s+"
                r"(?=[A-Za-z0-9._~+/=-]*(?:[0-9._~+/=-]|[a-z][A-Z]))(?!\*\*\*)"
                r"[A-Za-z0-9._~+/=-]{8,}"),
     r"\1 " + MASK),
    # Cookie / Set-Cookie headers: every cookie's value (attributes like Path stay)
    (re.compile(r"(?im)\b((?:set-)?cookie[\"']?[ \t]*:[ \t]*)([^\r\n\"']+)"), _cookies),
    # user:password@ in URLs and DSNs (the password may hold an unencoded @)
    (re.compile(r"(?<=://)([^/\s:@]*):[^\s@]*/[^\s@]*@(?=[\w.-]+(?:[:/?#\s]|$))"),
     r"\1:" + MASK + "@"),
    (re.compile(r"(?<=://)([^/\s:@]*):(?:[^\s/@]|@(?=[^\s/@]*@))+@"), r"\1:" + MASK + "@"),
    # AWS access key ids
    (re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"), MASK),
    # --password hunter2 on command lines
    (re.compile(r"(?i)(?<![\w-])(--?(?:password|passwd|pass|token|secret|api-key|apikey)\s+)"
                r"(?!\*\*\*)(?!-)[^\s\"']+"), r"\1" + MASK),
    # name=value, name: value, "name": "value" where the name says secret
    (re.compile(rf"(?i)\b({_SECRET_NAME})([\"']?[ \t]*[=:][ \t]*){_NOT_DONE}"
                r"(\"(?:[^\"\\\r\n]|\\.)*\"|'[^'\r\n]*'"
                r"|(?:[^\s&,;\"'<>{}\[\]]|&(?![\w.\[\]-]+=))+)"), _keep_quotes),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# scheme://user:pa/ss@host... : everything up to the last '@' before a host is userinfo
_SLASHED_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://)([^/\s:@]*):[^\s@]*/[^\s@]*@([^\s@/]+(?:[/?#]\S*)?)$",
                               re.IGNORECASE)


def safe_url(url: str) -> str:
    """A URL or DSN fit to show: the password (userinfo or query) dropped, the rest kept.

    `postgresql://app:s3cret@db:5432/orders?sslmode=require&password=x`
    becomes `postgresql://app@db:5432/orders?sslmode=require`.
    """
    odd = _SLASHED_PASSWORD.match(url.strip())
    if odd:  # a password with an unencoded '/' splits urlsplit's netloc in two
        user = f"{odd.group(2)}@" if odd.group(2) else ""
        return redact(f"{odd.group(1)}{user}{odd.group(3)}")
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}@{hostport}" if user else hostport
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            kept = [(k, v) for k, v in pairs if not re.fullmatch(_SECRET_NAME, k, re.IGNORECASE)]
            if len(kept) != len(pairs):
                query = urlencode(kept, safe="/:,")
        return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
    except ValueError:
        return redact(url)
