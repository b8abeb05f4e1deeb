"""Local AWS WAF: evaluates an ``AWS::WAFv2::WebACL`` against each request to the API stages it is
associated with, as WAF does in front of API Gateway, so a rule that would refuse a request on AWS
refuses it locally too.

What is reproduced (AWS WAF developer guide: "Web ACL rule and rule group evaluation", "Rule action",
"Action overrides in rule groups", "Rate-based rule statement", "Forwarded IP address"):

- rules in ascending ``Priority``; Allow and Block terminate, Count does not; CAPTCHA and Challenge
  terminate as WAF does for a client without a token (405 and 202 with ``x-amzn-waf-action``), since
  no local client can solve one;
- rule groups (``ManagedRuleGroupStatement`` for the groups in :mod:`local.waf_managed`,
  ``RuleGroupReferenceStatement``): ``OverrideAction`` None or Count, ``RuleActionOverrides``,
  ``ExcludedRules`` (= Count), a managed group's ``ScopeDownStatement``; labels, ``LabelMatchStatement``;
- ``ByteMatch``, ``SizeConstraint``, ``RegexMatch``, regex pattern set and IP set references, ``And``,
  ``Or``, ``Not``; the request components and text transformations of :mod:`local.waf_fields`;
- ``RateBasedStatement``: per aggregation key (``IP``, ``FORWARDED_IP``, ``CONSTANT``,
  ``CUSTOM_KEYS``) over ``EvaluationWindowSec``, ``Limit`` requests allowed and the next blocked, only
  requests that match the ``ScopeDownStatement`` counted; a forwarded-IP header that is absent means
  the rule does not apply at all, one that holds no valid address takes ``FallbackBehavior``;
- custom responses (``CustomResponse`` with ``CustomResponseBodies``, headers prefixed
  ``x-amzn-waf-``) and inserted request headers; the ``DefaultAction``.

Differences, on purpose: WAF checks rates every few seconds and estimates them, locally the count is
exact from the request after the limit. A dynamic reference (``{{resolve:...}}``) in a string a rule
compares with never matches: the value is a secret that only CloudFront sends, and there is no
CloudFront locally. Geo, ASN, SQL injection and XSS statements are not reproduced: a rule that uses
one never matches, and is listed in :meth:`WebAcl.status` under ``notEmulated``.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .waf_fields import (
    BODY_LIMITS,
    DEFAULT_BODY_LIMIT,
    NotEmulated,
    WafRequest,
    cookie_value,
    extractor,
    query_argument,
    to_bytes_text,
    transformer,
)
from .waf_managed import MANAGED_RULE_GROUPS

__all__ = ["NotEmulated", "Verdict", "WafRequest", "WebAcl"]

ReferenceResolver = Callable[[str], dict[str, Any] | None]
"""ARN of an IP set, regex pattern set or rule group -> its resolved properties (None if unknown)."""

_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:[^}]*\}\}")
_ACTIONS = ("Allow", "Block", "Count", "Captcha", "Challenge")


@dataclass
class _Evaluation:
    request: WafRequest
    now: float
    labels: list[str] = field(default_factory=list)
    inserted: list[tuple[str, str]] = field(default_factory=list)


Matcher = Callable[[_Evaluation], bool]


@dataclass(frozen=True)
class Verdict:
    """What WAF decided for one request."""

    action: str  # ALLOW, BLOCK, CAPTCHA or CHALLENGE
    rule: str | None  # the terminating rule ("Group/Rule" inside a rule group); None: the default action
    labels: tuple[str, ...] = ()
    # A response WAF sends itself (custom response, CAPTCHA, Challenge); None: the protected resource's
    # default answer to a block (API Gateway's WAF_FILTERED gateway response).
    response: tuple[int, list[tuple[str, str]], bytes] | None = None
    inserted_headers: tuple[tuple[str, str], ...] = ()

    @property
    def allowed(self) -> bool:
        return self.action == "ALLOW"


def _never(_evaluation: _Evaluation) -> bool:
    return False


@dataclass
class _Group:
    rules: list[_Rule]
    scope_down: Matcher | None
    overrides: dict[str, dict[str, Any]]  # rule name -> action to use


@dataclass
class _Rule:
    name: str
    path: str  # as reported: "Rule" or "Group/Rule"
    action: dict[str, Any]
    matcher: Matcher = _never
    labels: tuple[str, ...] = ()
    group: _Group | None = None
    override_count: bool = False  # a rule group rule with OverrideAction Count


class _RateBased:
    """One instance of a rate-based statement and its counts: requests per key, in one-second buckets."""

    def __init__(self, definition: dict[str, Any], scope_down: Matcher | None) -> None:
        self.limit = int(definition["Limit"])
        self.window = int(definition.get("EvaluationWindowSec", 300))
        self._scope_down = scope_down
        self._key = _aggregation_key(definition)
        self._buckets: dict[tuple[str, ...], deque[list[int]]] = {}
        self._totals: Counter[tuple[str, ...]] = Counter()
        self._hits = 0
        self._lock = threading.Lock()

    def __call__(self, evaluation: _Evaluation) -> bool:
        if self._scope_down is not None and not self._scope_down(evaluation):
            return False
        key = self._key(evaluation)
        if key is None or isinstance(key, bool):
            # None: a key component is missing, the rule does not apply; a bool: the fallback behaviour.
            return bool(key)
        return self._hit(key, int(evaluation.now)) > self.limit

    def _hit(self, key: tuple[str, ...], second: int) -> int:
        with self._lock:
            buckets = self._buckets.setdefault(key, deque())
            self._expire(key, buckets, second)
            if buckets and buckets[-1][0] == second:
                buckets[-1][1] += 1
            else:
                buckets.append([second, 1])
            self._totals[key] += 1
            self._hits += 1
            if self._hits % 4096 == 0:
                self._forget_idle_keys(second)  # keys that stopped sending, e.g. a load test's
            return self._totals[key]

    def _forget_idle_keys(self, second: int) -> None:
        for idle, buckets in list(self._buckets.items()):
            self._expire(idle, buckets, second)
            if not buckets:
                del self._buckets[idle]
                del self._totals[idle]

    def _expire(self, key: tuple[str, ...], buckets: deque[list[int]], second: int) -> None:
        while buckets and buckets[0][0] <= second - self.window:
            self._totals[key] -= buckets.popleft()[1]

    def counts(self, now: float) -> dict[str, int]:
        """Requests per aggregation key in the current window."""
        with self._lock:
            self._forget_idle_keys(int(now))
            return {"|".join(key): total for key, total in self._totals.items()}


def _forwarded_ip(config: dict[str, Any]) -> Callable[[WafRequest], str | bool | None]:
    """The first address in the configured header; None when absent, the fallback when not an IP."""
    header, fallback = config["HeaderName"], config.get("FallbackBehavior", "NO_MATCH") == "MATCH"

    def read(request: WafRequest) -> str | bool | None:
        values = request.header_values(header)
        if not values:
            return None
        first = values[0].split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(first))
        except ValueError:
            return fallback

    return read


def _custom_key(key: dict[str, Any], forwarded: dict[str, Any] | None) -> Callable[[_Evaluation], Any]:
    (kind, spec), *_ = key.items()
    spec = spec or {}
    transform = transformer(spec.get("TextTransformations", []))
    readers: dict[str, Callable[[_Evaluation], str | None]] = {
        "Header": lambda e: next(iter(e.request.header_values(spec["Name"])), None),
        "Cookie": lambda e: cookie_value(e.request, spec["Name"]),
        "QueryArgument": lambda e: query_argument(e.request, spec["Name"]),
        "QueryString": lambda e: e.request.query_string or None,
        "UriPath": lambda e: e.request.uri_path,
        "HTTPMethod": lambda e: e.request.method,
        "IP": lambda e: e.request.source_ip,
        "LabelNamespace": lambda e: (
            ",".join(label for label in e.labels if label.startswith(spec["Namespace"].rstrip(":") + ":"))
            or None
        ),
    }
    if kind == "ForwardedIP":
        if forwarded is None:
            raise NotEmulated("ForwardedIP key without ForwardedIPConfig")
        read = _forwarded_ip(forwarded)
        return lambda e: read(e.request)
    if kind not in readers:
        raise NotEmulated(f"rate-based key {kind}")
    reader = readers[kind]
    return lambda e: None if (value := reader(e)) is None else transform(value)


def _aggregation_key(definition: dict[str, Any]) -> Callable[[_Evaluation], Any]:
    kind = definition.get("AggregateKeyType", "IP")
    forwarded = definition.get("ForwardedIPConfig")
    if kind == "IP":
        return lambda e: (e.request.source_ip,)
    if kind == "CONSTANT":
        return lambda _e: ("*",)
    if kind == "FORWARDED_IP":
        read = _forwarded_ip(forwarded or {})
        return lambda e: (value,) if isinstance(value := read(e.request), str) else value
    if kind == "CUSTOM_KEYS":
        parts = [_custom_key(key, forwarded) for key in definition.get("CustomKeys", [])]

        def key(evaluation: _Evaluation) -> Any:
            values = []
            for part in parts:
                value = part(evaluation)
                if value is None or isinstance(value, bool):
                    return value
                values.append(value)
            return tuple(values)

        return key
    raise NotEmulated(f"AggregateKeyType {kind}")


_POSITIONS: dict[str, Callable[[str, str], bool]] = {
    "EXACTLY": lambda value, text: value == text,
    "STARTS_WITH": lambda value, text: value.startswith(text),
    "ENDS_WITH": lambda value, text: value.endswith(text),
    "CONTAINS": lambda value, text: text in value,
    "CONTAINS_WORD": lambda value, text: (
        re.search(rf"(?<![A-Za-z0-9_]){re.escape(text)}(?![A-Za-z0-9_])", value) is not None
    ),
}
_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "EQ": lambda a, b: a == b,
    "NE": lambda a, b: a != b,
    "LE": lambda a, b: a <= b,
    "LT": lambda a, b: a < b,
    "GE": lambda a, b: a >= b,
    "GT": lambda a, b: a > b,
}


def _component_matcher(definition: dict[str, Any], test: Callable[[str], bool]) -> Matcher:
    """Reads the statement's FieldToMatch, transforms each value and tests it; any value may match."""
    extract = extractor(definition["FieldToMatch"])
    transform = transformer(definition.get("TextTransformations", []))

    def matches(evaluation: _Evaluation) -> bool:
        values = extract(evaluation.request)
        if values is None or isinstance(values, bool):
            return bool(values)
        return any(test(transform(value)) for value in values)

    return matches


def _label_matcher(definition: dict[str, Any]) -> Matcher:
    key = str(definition["Key"]).rstrip(":")
    if definition.get("Scope", "LABEL") == "NAMESPACE":

        def namespace(evaluation: _Evaluation) -> bool:
            spaces = (label.rpartition(":")[0] for label in evaluation.labels)
            return any(space == key or space.endswith(":" + key) for space in spaces)

        return namespace
    return lambda e: any(label == key or label.endswith(":" + key) for label in e.labels)


class _Compiler:
    """Turns the statements of one web ACL into matchers; a part it cannot reproduce raises NotEmulated."""

    def __init__(self, resolve_reference: ReferenceResolver, notes: list[str]) -> None:
        self.resolve = resolve_reference
        self.notes = notes

    def statement(self, definition: dict[str, Any]) -> Matcher:
        if len(definition) != 1:
            raise NotEmulated(f"statement {sorted(definition)}")
        (kind, spec), *_ = definition.items()
        builder = getattr(self, f"_{kind}", None)
        if builder is None:
            raise NotEmulated(kind)
        return builder(spec)

    def _AndStatement(self, spec: dict[str, Any]) -> Matcher:
        parts = [self.statement(s) for s in spec["Statements"]]
        return lambda e: all(part(e) for part in parts)

    def _OrStatement(self, spec: dict[str, Any]) -> Matcher:
        parts = [self.statement(s) for s in spec["Statements"]]
        return lambda e: any(part(e) for part in parts)

    def _NotStatement(self, spec: dict[str, Any]) -> Matcher:
        inner = self.statement(spec["Statement"])
        return lambda e: not inner(e)

    def _ByteMatchStatement(self, spec: dict[str, Any]) -> Matcher:
        if "SearchStringBase64" in spec:
            text = base64.b64decode(spec["SearchStringBase64"]).decode("latin-1")
        else:
            text = str(spec["SearchString"])
        reference = _DYNAMIC_REFERENCE.search(text)
        if reference is not None:
            note = f"a ByteMatch on {reference.group(0)} never matches (no CloudFront locally)"
            if note not in self.notes:
                self.notes.append(note)
            return _never
        position = _POSITIONS.get(spec["PositionalConstraint"])
        if position is None:
            raise NotEmulated(f"PositionalConstraint {spec['PositionalConstraint']}")
        search = to_bytes_text(text)
        return _component_matcher(spec, lambda value: position(value, search))

    def _SizeConstraintStatement(self, spec: dict[str, Any]) -> Matcher:
        compare, size = _COMPARISONS[spec["ComparisonOperator"]], int(spec["Size"])
        return _component_matcher(spec, lambda value: compare(len(value), size))

    def _regex_matcher(self, spec: dict[str, Any], patterns: list[str]) -> Matcher:
        try:
            compiled = [re.compile(p) for p in patterns]
        except re.error as error:
            raise NotEmulated(f"regular expression {error}") from None
        return _component_matcher(spec, lambda value: any(r.search(value) for r in compiled))

    def _RegexMatchStatement(self, spec: dict[str, Any]) -> Matcher:
        return self._regex_matcher(spec, [spec["RegexString"]])

    def _RegexPatternSetReferenceStatement(self, spec: dict[str, Any]) -> Matcher:
        pattern_set = self.resolve(str(spec["Arn"]))
        if pattern_set is None:
            raise NotEmulated(f"regex pattern set {spec['Arn']}")
        return self._regex_matcher(spec, list(pattern_set.get("RegularExpressionList", [])))

    def _IPSetReferenceStatement(self, spec: dict[str, Any]) -> Matcher:
        ip_set = self.resolve(str(spec["Arn"]))
        if ip_set is None:
            raise NotEmulated(f"IP set {spec['Arn']}")
        networks = [ipaddress.ip_network(a, strict=False) for a in ip_set.get("Addresses", [])]
        config = spec.get("IPSetForwardedIPConfig")

        def contains(address: str) -> bool:
            try:
                ip = ipaddress.ip_address(address.strip())
            except ValueError:
                return False
            return any(ip in network for network in networks)

        if config is None:
            return lambda e: contains(e.request.source_ip)
        return _forwarded_ip_set_matcher(config, contains)

    def _LabelMatchStatement(self, spec: dict[str, Any]) -> Matcher:
        return _label_matcher(spec)

    def rate_based(self, spec: dict[str, Any]) -> _RateBased:
        scope = spec.get("ScopeDownStatement")
        return _RateBased(spec, self.statement(scope) if scope else None)


def _forwarded_ip_set_matcher(config: dict[str, Any], contains: Callable[[str], bool]) -> Matcher:
    header, position = config["HeaderName"], config.get("Position", "FIRST")
    fallback = config.get("FallbackBehavior", "NO_MATCH") == "MATCH"

    def matches(evaluation: _Evaluation) -> bool:
        values = evaluation.request.header_values(header)
        if not values:
            return False
        addresses = [a.strip() for a in values[0].split(",")]
        try:
            for address in addresses:
                ipaddress.ip_address(address)
        except ValueError:
            return fallback
        chosen = {"FIRST": addresses[:1], "LAST": addresses[-1:]}.get(position, addresses[-10:])
        return any(contains(a) for a in chosen)

    return matches


def _single_action(action: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    names = [name for name in _ACTIONS if name in (action or {})]
    if len(names) != 1:
        raise NotEmulated(f"action {sorted(action or {})}")
    return names[0], action[names[0]] or {}


class WebAcl:
    """One web ACL: its compiled rules, the state of its rate-based rules and what it decided."""

    def __init__(
        self,
        definition: dict[str, Any],
        *,
        arn: str,
        resolve_reference: ReferenceResolver = lambda _arn: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.arn = arn
        self.definition = definition
        self.name = str(definition.get("Name") or arn.rsplit("/", 2)[-2])
        self._account = arn.split(":")[4] if arn.count(":") >= 5 else "123456789012"
        self._clock = clock
        self._offset = 0.0
        self._default = definition.get("DefaultAction") or {"Allow": {}}
        self._bodies = definition.get("CustomResponseBodies") or {}
        limit = (
            ((definition.get("AssociationConfig") or {}).get("RequestBody") or {}).get("API_GATEWAY") or {}
        ).get("DefaultSizeInspectionLimit")
        self.body_limit = BODY_LIMITS.get(str(limit), DEFAULT_BODY_LIMIT)
        self.not_emulated: list[str] = []
        self.notes: list[str] = []
        self._compiler = _Compiler(resolve_reference, self.notes)
        self._rate_rules: dict[str, _RateBased] = {}
        namespace = f"awswaf:{self._account}:webacl:{self.name}:"
        self._rules = self._compile_rules(definition.get("Rules") or [], "", namespace)
        self._stats: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    # --- compiling ---------------------------------------------------------------------------------

    def _compile_rules(self, rules: list[dict[str, Any]], prefix: str, namespace: str) -> list[_Rule]:
        compiled = []
        for rule in sorted(rules, key=lambda r: int(r.get("Priority", 0))):
            path = prefix + str(rule["Name"])
            try:
                compiled.append(self._compile_rule(rule, path, namespace))
            except (NotEmulated, KeyError, TypeError, ValueError) as error:
                # The rule never matches locally; say so rather than guess.
                self.not_emulated.append(f"{path}: {error}")
        return compiled

    def _compile_rule(self, rule: dict[str, Any], path: str, namespace: str) -> _Rule:
        statement = rule["Statement"]
        labels = tuple(namespace + label["Name"] for label in rule.get("RuleLabels") or [])
        if "ManagedRuleGroupStatement" in statement or "RuleGroupReferenceStatement" in statement:
            override = rule.get("OverrideAction") or {"None": {}}
            return _Rule(
                name=rule["Name"],
                path=path,
                action={},
                group=self._compile_group(statement, path),
                override_count="Count" in override,
            )
        _single_action(rule.get("Action") or {})
        if "RateBasedStatement" in statement:
            rate = self._compiler.rate_based(statement["RateBasedStatement"])
            self._rate_rules[path] = rate
            matcher: Matcher = rate
        else:
            matcher = self._compiler.statement(statement)
        return _Rule(name=rule["Name"], path=path, action=rule["Action"], matcher=matcher, labels=labels)

    def _compile_group(self, statement: dict[str, Any], path: str) -> _Group:
        if "ManagedRuleGroupStatement" in statement:
            spec = statement["ManagedRuleGroupStatement"]
            managed = MANAGED_RULE_GROUPS.get((spec.get("VendorName"), spec.get("Name")))
            if managed is None:
                raise NotEmulated(f"managed rule group {spec.get('VendorName')}/{spec.get('Name')}")
            self.not_emulated.extend(f"{path}/{name}: not reproduced" for name in managed.not_emulated)
            namespace = f"awswaf:managed:aws:{managed.namespace}:"
            rules = [
                _Rule(
                    name=r["Name"],
                    path=f"{path}/{r['Name']}",
                    action=r["Action"],
                    matcher=self._compiler.statement(r["Statement"]),
                    labels=(namespace + r["Label"],),
                )
                for r in managed.rules
            ]
        else:
            spec = statement["RuleGroupReferenceStatement"]
            group = self._compiler.resolve(str(spec["Arn"]))
            if group is None:
                raise NotEmulated(f"rule group {spec['Arn']}")
            self._bodies = {**(group.get("CustomResponseBodies") or {}), **self._bodies}
            namespace = f"awswaf:{self._account}:rulegroup:{group.get('Name', 'group')}:"
            rules = self._compile_rules(group.get("Rules") or [], path + "/", namespace)
        scope = spec.get("ScopeDownStatement")
        overrides = {r["Name"]: {"Count": {}} for r in spec.get("ExcludedRules") or []}
        overrides |= {o["Name"]: o["ActionToUse"] for o in spec.get("RuleActionOverrides") or []}
        return _Group(rules, self._compiler.statement(scope) if scope else None, overrides)

    # --- evaluating --------------------------------------------------------------------------------

    def now(self) -> float:
        return self._clock() + self._offset

    def advance_time(self, seconds: float) -> None:
        """Moves the rate-based rules' windows on, as if `seconds` had passed."""
        self._offset += seconds

    def evaluate(self, request: WafRequest) -> Verdict:
        request.body_limit = self.body_limit
        evaluation = _Evaluation(request, self.now())
        for rule in self._rules:
            verdict = self._apply_group(rule, evaluation) if rule.group else self._apply(rule, evaluation)
            if verdict is not None:
                return verdict
        name, settings = _single_action(self._default)
        return self._take(name, settings, None, evaluation)

    def _apply(self, rule: _Rule, evaluation: _Evaluation) -> Verdict | None:
        if not rule.matcher(evaluation):
            return None
        evaluation.labels.extend(rule.labels)
        name, settings = _single_action(rule.action)
        return self._take(name, settings, rule.path, evaluation)

    def _apply_group(self, rule: _Rule, evaluation: _Evaluation) -> Verdict | None:
        group = rule.group
        assert group is not None
        if group.scope_down is not None and not group.scope_down(evaluation):
            return None
        for inner in group.rules:
            if not inner.matcher(evaluation):
                continue
            evaluation.labels.extend(inner.labels)
            name, settings = _single_action(group.overrides.get(inner.name, inner.action))
            if name != "Count" and rule.override_count:
                # The group's terminating result becomes a Count at the web ACL level.
                self._record(inner.path, "COUNT")
                return None
            verdict = self._take(name, settings, inner.path, evaluation)
            if verdict is not None:
                return verdict
        return None

    def _take(
        self, name: str, settings: dict[str, Any], path: str | None, evaluation: _Evaluation
    ) -> Verdict | None:
        """Applies a rule action: None to go on (Count), else the verdict."""
        self._record(path or "DefaultAction", name.upper())
        handling = settings.get("CustomRequestHandling") or {}
        evaluation.inserted.extend(
            (f"x-amzn-waf-{h['Name']}", str(h["Value"])) for h in handling.get("InsertHeaders") or []
        )
        if name == "Count":
            return None
        labels, inserted = tuple(evaluation.labels), tuple(evaluation.inserted)
        if name == "Allow":
            return Verdict("ALLOW", path, labels, None, inserted)
        if name in ("Captcha", "Challenge"):
            status = 405 if name == "Captcha" else 202
            headers = [("x-amzn-waf-action", name.lower()), ("Content-Type", "text/html")]
            body = f"<!-- AWS WAF {name}: there is no token locally, so the request stops here -->".encode()
            return Verdict(name.upper(), path, labels, (status, headers, body))
        return Verdict("BLOCK", path, labels, self._custom_response(settings.get("CustomResponse")))

    def _custom_response(
        self, custom: dict[str, Any] | None
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        if not custom:
            return None
        headers = [(f"x-amzn-waf-{h['Name']}", str(h["Value"])) for h in custom.get("ResponseHeaders") or []]
        body = b""
        stored = self._bodies.get(custom.get("CustomResponseBodyKey") or "")
        if stored:
            content_types = {"TEXT_PLAIN": "text/plain", "TEXT_HTML": "text/html"}
            headers.append(("Content-Type", content_types.get(stored.get("ContentType"), "application/json")))
            body = str(stored.get("Content", "")).encode()
        return int(custom["ResponseCode"]), headers, body

    def _record(self, path: str, action: str) -> None:
        with self._lock:
            self._stats[(path, action)] += 1

    # --- reporting ---------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Decisions per rule, the rate-based rules' current counts and what is not reproduced."""
        with self._lock:
            stats = dict(self._stats)
        by_action: dict[str, dict[str, int]] = {}
        for (path, action), count in sorted(stats.items()):
            by_action.setdefault(action.lower(), {})[path] = count
        now = self.now()
        return {
            "name": self.name,
            "arn": self.arn,
            "decisions": by_action,
            "rateBasedRules": {
                path: {"limit": rate.limit, "windowSeconds": rate.window, "requestsByKey": rate.counts(now)}
                for path, rate in self._rate_rules.items()
            },
            "notEmulated": list(self.not_emulated),
            "notes": list(self.notes),
        }
