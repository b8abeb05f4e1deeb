"""The DynamoDB actions a handler's code can reach, read from its source (no import, no AWS).

From the handler module, the scan follows the import closure inside runtime/ (relative imports and the
``cart``/``shared``/``products`` packages) and, within it, every function reachable from ``handler``
and from the handler module's decorated functions (Powertools routes and exception handlers are only
referenced by their decorators). A function is reachable when a reachable one names it (a call, or a
reference such as ``record_handler=...``); names are matched by their last part, which over-approximates
methods of the same name in other classes: the grant may then be checked against too much, never too
little.

In the reachable functions, DynamoDB actions are:

- a call of a client method named like a DynamoDB operation (``client.query(...)``, ``.get_item``);
- a call whose first argument is such a method name as a string (``_write_at_most_once("update_item")``);
- the action types of a TransactWriteItems/TransactGetItems item (a dict literal whose key is ``Put``,
  ``Update``, ``Delete``, ``ConditionCheck`` or ``Get`` and whose value names a ``TableName``): IAM
  authorizes a transaction action by action as PutItem, UpdateItem, DeleteItem, ConditionCheckItem or
  GetItem, and has no action for the transaction itself;
- a use of a library class that calls DynamoDB itself (:data:`LIBRARY_CALLS`: Powertools'
  idempotency persistence layer), with the actions its documentation lists.

Module-level code of every module in the closure runs at import, so it is scanned too.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from botocore import xform_name
from botocore.session import get_session

TRANSACTION_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
#: Library classes that call DynamoDB on the caller's behalf, with the IAM actions their docs require
#: (Powertools idempotency: "dynamodb:GetItem, PutItem, UpdateItem and DeleteItem" on its table).
LIBRARY_CALLS = {
    "DynamoDBPersistenceLayer": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    },
}
#: Operations IAM authorizes per item inside them (see above), not as an action of their own.
_TRANSACTIONS = {"transact_write_items", "transact_get_items"}
_PACKAGES = ("cart", "shared", "products")


@functools.cache
def dynamodb_operations() -> dict[str, str]:
    """boto3 method name -> IAM action, from botocore's DynamoDB service model."""
    model = get_session().get_service_model("dynamodb")
    return {xform_name(name): f"dynamodb:{name}" for name in model.operation_names}


class _Module:
    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.tree = ast.parse(path.read_text(), filename=str(path))

    def imports(self) -> set[str]:
        found = set()
        package = self.name.rsplit(".", 1)[0]
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = f"{package}.{base}" if base else package
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        return {name for name in found if name.split(".")[0] in _PACKAGES}


def _functions(module: _Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [
        node for node in ast.walk(module.tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def _closure(runtime: Path, handler_module: str) -> list[_Module]:
    seen: dict[str, _Module] = {}
    pending = [handler_module]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        path = runtime / (name.replace(".", "/") + ".py")
        if not path.is_file():
            path = runtime / name.replace(".", "/") / "__init__.py"
        if not path.is_file():
            continue  # an imported name, not a module
        seen[name] = _Module(name, path)
        pending.extend(seen[name].imports())
    return list(seen.values())


def _names_in(node: ast.AST) -> set[str]:
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            names.add(child.id)
        elif isinstance(child, ast.Attribute):
            names.add(child.attr)
    return names


def _module_level(module: _Module) -> list[ast.AST]:
    """The statements that run at import (everything but function and class bodies' functions)."""
    return [node for node in module.tree.body if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def _reachable(modules: list[_Module], handler_module: str) -> list[ast.AST]:
    by_name: dict[str, list[ast.AST]] = {}
    for module in modules:
        for function in _functions(module):
            by_name.setdefault(function.name, []).append(function)
    [entry] = [module for module in modules if module.name == handler_module]
    roots: list[ast.AST] = [f for f in _functions(entry) if f.name == "handler" or f.decorator_list]
    for module in modules:
        # Class bodies are module-level statements too; their methods are reached by name only.
        roots.extend(node for node in _module_level(module) if not isinstance(node, ast.ClassDef))
    reached: dict[int, ast.AST] = {}
    pending: list[ast.AST] = list(roots)
    while pending:
        function = pending.pop()
        if id(function) in reached:
            continue
        reached[id(function)] = function
        for name in _names_in(function):
            pending.extend(by_name.get(name, []))
    return list(reached.values())


def _actions_in(function: ast.AST) -> set[str]:
    operations = dynamodb_operations()
    actions = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            actions.update(LIBRARY_CALLS.get(name, ()))
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else None
            first = node.args[0] if node.args else None
            by_string = (
                first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
            )
            for name in (called, by_string):
                if name in operations and name not in _TRANSACTIONS:
                    actions.add(operations[name])
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value in TRANSACTION_ITEM_ACTIONS
                    and isinstance(value, ast.Dict)
                    and any(isinstance(k, ast.Constant) and k.value == "TableName" for k in value.keys)
                ):
                    actions.add(TRANSACTION_ITEM_ACTIONS[key.value])
    return actions


def dynamodb_actions(runtime: Path, handler_module: str) -> set[str]:
    """The IAM actions the handler module's code can call on DynamoDB (``cart.aggregator`` etc.)."""
    modules = _closure(runtime, handler_module)
    return {action for function in _reachable(modules, handler_module) for action in _actions_in(function)}


def string_prefixes(runtime: Path, module: str) -> set[str]:
    """Constant leading parts of the f-strings of a module (``f"aggregator#{batch}#{i}"`` -> aggregator#)."""
    tree = _Module(module, runtime / (module.replace(".", "/") + ".py")).tree
    return {
        node.values[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant)
    }
