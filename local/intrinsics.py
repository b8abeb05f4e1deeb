"""Evaluate CloudFormation intrinsic functions in a synthesized template.

The local stack reads its wiring from the cloud assembly, so every value in a template (a function's
environment, an event source ARN, an output) has to be turned into the local physical value. This is
a small evaluator for the intrinsics CDK emits: Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
Fn::Split, Fn::ImportValue, Fn::GetStackOutput, Fn::If and the condition functions, plus the pseudo
parameters.

Resolving a Ref or GetAtt is delegated to a callback, so provisioning can happen lazily: the first
time a resource's attribute is needed, the caller creates it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

ResourceResolver = Callable[[str, str | None], Any]
"""(logical id, attribute or None for Ref) -> the local value."""

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class IntrinsicError(ValueError):
    """A template uses an intrinsic this evaluator cannot resolve."""


class TemplateEvaluator:
    """Resolves values of one stack's template."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        pseudo_parameters: Mapping[str, str],
        resolve_resource: ResourceResolver,
        resolve_import: Callable[[str], Any],
        resolve_stack_output: Callable[[str, str], Any] | None = None,
        parameter_values: Mapping[str, Any] | None = None,
    ) -> None:
        self._template = template
        self._pseudo = dict(pseudo_parameters)
        self._resolve_resource = resolve_resource
        self._resolve_import = resolve_import
        self._resolve_stack_output = resolve_stack_output
        self._parameters = dict(parameter_values or {})
        self._conditions: dict[str, bool] = {}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value if not _is_no_value(item)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), *_ = value.items()
            handler = self._FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, argument)
        return {key: self.resolve(item) for key, item in value.items() if not _is_no_value(item)}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definition = self._template.get("Conditions", {}).get(name)
            if definition is None:
                raise IntrinsicError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(definition))
        return self._conditions[name]

    # --- intrinsic functions -------------------------------------------------------------------

    def _ref(self, name: str) -> Any:
        if name in self._pseudo:
            return self._pseudo[name]
        if name == "AWS::NoValue":
            return None
        parameters = self._template.get("Parameters", {})
        if name in parameters:
            if name in self._parameters:
                return self._parameters[name]
            return parameters[name].get("Default", "")
        if name in self._template.get("Resources", {}):
            return self._resolve_resource(name, None)
        raise IntrinsicError(f"Ref to unknown name {name}")

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            logical_id, attribute = argument.split(".", 1)
        else:
            logical_id, attribute = self.resolve(argument[0]), self.resolve(argument[1])
        if logical_id not in self._template.get("Resources", {}):
            raise IntrinsicError(f"GetAtt of unknown resource {logical_id}")
        return self._resolve_resource(logical_id, attribute)

    def _join(self, argument: list[Any]) -> str:
        delimiter, items = argument
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = argument[0], self.resolve(argument[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self._get_att(name))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def _select(self, argument: list[Any]) -> Any:
        index, items = self.resolve(argument[0]), self.resolve(argument[1])
        return items[int(index)]

    def _split(self, argument: list[Any]) -> list[str]:
        delimiter, text = argument
        return str(self.resolve(text)).split(delimiter)

    def _import_value(self, argument: Any) -> Any:
        return self._resolve_import(str(self.resolve(argument)))

    def _get_stack_output(self, argument: dict[str, Any]) -> Any:
        # CDK's "weak" cross-stack references read another stack's output by name.
        resolved = self.resolve(argument)
        if self._resolve_stack_output is None:
            raise IntrinsicError("Fn::GetStackOutput is not supported here")
        return self._resolve_stack_output(str(resolved["StackName"]), str(resolved["OutputName"]))

    def _if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        chosen = when_true if self.condition(name) else when_false
        return None if _is_no_value(chosen) else self.resolve(chosen)

    def _equals(self, argument: list[Any]) -> bool:
        left, right = self.resolve(argument[0]), self.resolve(argument[1])
        return left == right

    def _not(self, argument: list[Any]) -> bool:
        return not self._truth(argument[0])

    def _and(self, argument: list[Any]) -> bool:
        return all(self._truth(item) for item in argument)

    def _or(self, argument: list[Any]) -> bool:
        return any(self._truth(item) for item in argument)

    def _condition_ref(self, name: str) -> bool:
        return self.condition(name)

    def _truth(self, value: Any) -> bool:
        return bool(self.resolve(value))

    def _get_azs(self, _argument: Any) -> list[str]:
        region = self._pseudo["AWS::Region"]
        return [f"{region}a", f"{region}b", f"{region}c"]

    def _base64(self, argument: Any) -> str:
        import base64

        return base64.b64encode(str(self.resolve(argument)).encode()).decode()

    _FUNCTIONS: Mapping[str, Callable[[TemplateEvaluator, Any], Any]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Join": _join,
        "Fn::Sub": _sub,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::ImportValue": _import_value,
        "Fn::GetStackOutput": _get_stack_output,
        "Fn::If": _if,
        "Fn::Equals": _equals,
        "Fn::Not": _not,
        "Fn::And": _and,
        "Fn::Or": _or,
        "Condition": _condition_ref,
        "Fn::GetAZs": _get_azs,
        "Fn::Base64": _base64,
    }


def _is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}
