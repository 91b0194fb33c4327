"""Import sites: every import statement of one file, what it binds and where each name is used.

A site is read with libcst so that its references come from libcst's scope analysis rather
than from hand-written scope rules, and so that operators can later rewrite the very same
syntax tree without losing formatting or comments.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Mapping

import libcst as cst
from libcst.metadata import (
    ClassScope,
    FunctionScope,
    GlobalScope,
    PositionProvider,
    Scope,
    ScopeProvider,
)

MODULE_SCOPE = "<module>"
SKIP_PRAGMA = re.compile(r"#\s*(importmut:\s*skip|pragma:\s*no\s+mutate)\b")
IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


@dataclass(frozen=True, order=True)
class Reference:
    """One use of an imported name."""

    line: int
    column: int
    function: str  # qualified name of the innermost enclosing def, or MODULE_SCOPE
    at_import_time: bool  # module level, class body, decorator or default value
    statement_line: int = 0  # first line of the enclosing statement: what coverage.py reports

    @property
    def lines(self) -> tuple[int, ...]:
        return tuple(sorted({self.line, self.statement_line or self.line}))


@dataclass(frozen=True)
class Binding:
    """One name bound by an import statement."""

    name: str  # the name bound in the scope (`np` for `import numpy as np`, `os` for `import os.path`)
    target: str  # what is imported (`numpy`, `os.path`, `get_connection_state_machine`)
    references: tuple[Reference, ...]

    @property
    def label(self) -> str:
        """The name as used in mutant ids: the dotted target of `import a.b`, else the bound name."""
        return self.target if "." in self.target and self.name == self.target.split(".")[0] else self.name


@dataclass(frozen=True)
class Site:
    """One import statement in one file."""

    path: str  # posix path relative to the project root
    index: int  # position among the file's import statements, in source order
    line: int
    column: int  # 0-based
    end_line: int
    end_column: int  # 0-based, exclusive
    code: str  # the statement's source text, folded onto one line
    is_from: bool
    module: str  # `time`, `os.path`, `.handlers`, `..` ...
    bindings: tuple[Binding, ...]
    scope: str  # MODULE_SCOPE, a class (`Cls`) or a function (`Cls.method`)
    in_function: bool
    top_level: bool  # a statement directly in the module body
    type_checking: bool = False
    import_error_guard: bool = False  # inside `try:` whose handlers catch ImportError
    # the guarding `try` holds just this import, and its handlers only rebind the names it binds (no calls):
    # forcing the fallback changes nothing but what those names are
    plain_fallback: bool = False
    # the modules a plain fallback's handlers import (`from pkg import compat as json`: pkg, pkg.compat); one of
    # the project's own runs its module body when the fallback is forced
    fallback_imports: tuple[str, ...] = ()
    future: bool = False
    star: bool = False
    pragma_skip: bool = False

    @property
    def targets(self) -> tuple[str, ...]:
        """What the statement imports (`os.path`, `get_x`), as the import graph reads it."""
        return tuple(binding.target for binding in self.bindings)

    @property
    def ignore_reason(self) -> str | None:
        if self.future:
            return "__future__ import"
        if self.type_checking:
            return "TYPE_CHECKING import"
        if self.pragma_skip:
            return "pragma on the import line"
        return None


@dataclass
class ParsedFile:
    """A parsed source file and its sites, with the syntax nodes operators rewrite."""

    path: str
    source: bytes
    module: cst.Module
    sites: list[Site] = field(default_factory=list)
    nodes: list[cst.Import | cst.ImportFrom] = field(default_factory=list)
    statements: list[cst.SimpleStatementLine | cst.SimpleStatementSuite] = field(default_factory=list)
    function_nodes: dict[str, cst.FunctionDef] = field(default_factory=dict)  # the last def of each name
    function_bodies: dict[str, tuple[int, int]] = field(default_factory=dict)  # first and last line of its body
    parents: Mapping[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)  # node -> the node holding it
    # each top-level statement -> its source text, made on first use (operators.py)
    statement_code: dict[cst.CSTNode, str] = field(default_factory=dict)

    def path_to(self, node: cst.CSTNode) -> set[int]:
        """ids of a node and every node around it: a rewrite needs to visit no others."""
        found = set()
        current: cst.CSTNode | None = node
        while current is not None:
            found.add(id(current))
            current = self.parents.get(current)
        return found


class SourceError(Exception):
    """A file that libcst cannot parse; carries the file and line for a one-line warning."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


def _source_error(path: str, source: bytes, error: Exception) -> SourceError:
    """Python's own compiler names the line best; libcst's parser sometimes points past it."""
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return SourceError(path, exc.lineno or 1, exc.msg)
    except (ValueError, UnicodeDecodeError) as exc:
        return SourceError(path, 1, str(exc))
    return SourceError(path, getattr(error, "raw_line", 1) or 1, str(error).splitlines()[0])


def _dotted(node: cst.BaseExpression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return cst.Module([]).code_for_node(node)


def _module_name(node: cst.Import | cst.ImportFrom) -> str:
    if isinstance(node, cst.Import):
        return ", ".join(_dotted(alias.name) for alias in node.names)
    dots = "." * len(node.relative)
    return dots + _dotted(node.module)


def _render(node: cst.Import | cst.ImportFrom) -> str:
    """The statement on one line, without comments, brackets or a trailing semicolon."""
    if isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar):
        return f"from {_module_name(node)} import *"
    names = ", ".join(
        _dotted(alias.name) + (f" as {_dotted(alias.asname.name)}" if alias.asname else "")  # type: ignore[union-attr]
        for alias in node.names  # type: ignore[union-attr]
    )
    if isinstance(node, cst.Import):
        return f"import {names}"
    return f"from {_module_name(node)} import {names}"


def _catches_import_error(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    for kind in kinds:
        expr = kind.value if isinstance(kind, cst.Element) else kind
        if _dotted(expr).split(".")[-1] in IMPORT_ERRORS | {"Exception", "BaseException"}:
            return True
    return False


def _is_type_checking(test: cst.BaseExpression) -> bool:
    return _dotted(test).split(".")[-1] == "TYPE_CHECKING"


# each node type's dataclass fields, and whether a type is a node: isinstance against libcst's abstract
# CSTNode is slow enough to matter when asked for every field of every node
_FIELDS: dict[type, tuple[str, ...]] = {}
_NODE_TYPES: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode)
    return known


@dataclass
class _Tree:
    """What parse_file needs of a module's syntax tree, found in one plain walk: libcst's visitor machinery
    (ParentNodeProvider, a CSTVisitor) rebuilds every node's children and costs ten times as much, which made
    parents and two visits a third of the catalogue's time."""

    parents: dict[cst.CSTNode, cst.CSTNode]  # node -> the node holding it
    imports: list[cst.Import | cst.ImportFrom]
    defs: list[cst.FunctionDef | cst.ClassDef]

    @classmethod
    def walk(cls, module: cst.Module) -> "_Tree":
        tree = cls({}, [], [])
        stack: list[cst.CSTNode] = [module]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is cst.Import or kind is cst.ImportFrom:
                tree.imports.append(node)  # type: ignore[arg-type]
            elif kind is cst.FunctionDef or kind is cst.ClassDef:
                tree.defs.append(node)  # type: ignore[arg-type]
            names = _FIELDS.get(kind)
            if names is None:
                names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
            for name in names:
                value = getattr(node, name)
                for child in value if type(value) in (list, tuple) else (value,):
                    if _is_node(type(child)):
                        tree.parents[child] = node
                        stack.append(child)
        return tree

    def qualnames(self) -> dict[cst.CSTNode, str]:
        """Every def and class node's qualified name (`Cls.method`, `outer.inner`)."""
        names = {}
        for node in self.defs:
            parts = [node.name.value]
            current = self.parents.get(node)
            while current is not None:
                if isinstance(current, (cst.FunctionDef, cst.ClassDef)):
                    parts.append(current.name.value)
                current = self.parents.get(current)
            names[node] = ".".join(reversed(parts))
        return names


def _enclosing_def(scope: Scope, qualnames: dict[cst.CSTNode, str]) -> tuple[str, bool]:
    """The innermost def around a scope, and whether code there runs at import time."""
    at_import_time = True
    function = MODULE_SCOPE
    current: Scope | None = scope
    while current is not None and not isinstance(current, GlobalScope):
        if isinstance(current, FunctionScope):
            at_import_time = False
            if function == MODULE_SCOPE and isinstance(current.node, cst.FunctionDef):
                function = qualnames.get(current.node, current.name or MODULE_SCOPE)
        current = current.parent
    return function, at_import_time


def _scope_name(scope: Scope, qualnames: dict[cst.CSTNode, str]) -> str:
    current: Scope | None = scope
    while current is not None and not isinstance(current, GlobalScope):
        if isinstance(current, (FunctionScope, ClassScope)) and current.node in qualnames:
            return qualnames[current.node]
        current = current.parent
    return MODULE_SCOPE


def parse_file(path: str, source: bytes) -> ParsedFile:
    """Parse one file and find its import sites; raises SourceError when it does not parse."""
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, UnicodeDecodeError, LookupError, SyntaxError) as exc:
        raise _source_error(path, source, exc) from None
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
    resolved = wrapper.resolve_many([ScopeProvider, PositionProvider])
    scopes = resolved[ScopeProvider]
    positions = resolved[PositionProvider]
    tree = _Tree.walk(module)
    parents = tree.parents

    def source_order(node: cst.CSTNode) -> tuple[int, int]:
        start = positions[node].start
        return start.line, start.column

    qualnames = tree.qualnames()
    text_lines = re.split(r"\r\n|\r|\n", module.code)  # libcst's line breaks, not str.splitlines()'s

    parsed = ParsedFile(path=path, source=source, module=module, parents=parents)
    parsed.function_nodes = {  # a later def of the same name wins, as it does when the module runs
        qualnames[node]: node for node in sorted(tree.defs, key=source_order) if isinstance(node, cst.FunctionDef)
    }
    parsed.function_bodies = {
        name: (positions[node.body].start.line, positions[node.body].end.line)
        for name, node in parsed.function_nodes.items()
    }

    for index, node in enumerate(sorted(tree.imports, key=source_order)):
        scope = scopes.get(node)
        if scope is None:
            continue
        statement = parents[node]  # a SimpleStatementLine, or a SimpleStatementSuite (`if x: import y`)
        start = positions[node].start
        end = positions[node].end
        stmt_pos = positions[statement]
        lines = text_lines[stmt_pos.start.line - 1 : stmt_pos.end.line]
        pragma = any(SKIP_PRAGMA.search(text) for text in lines)
        type_checking, guarded = _guards(statement, parents)
        site_scope = _scope_name(scope, qualnames)
        in_function = _enclosing_def(scope, qualnames)[1] is False
        bindings = _bindings(node, scope, positions, parents, qualnames)
        fallback_imports = _plain_fallback(statement, parents, {b.name for b in bindings}) if guarded else None
        parsed.sites.append(
            Site(
                path=path,
                index=index,
                line=start.line,
                column=start.column,
                end_line=end.line,
                end_column=end.column,
                code=_render(node),
                is_from=isinstance(node, cst.ImportFrom),
                module=_module_name(node),
                bindings=bindings,
                scope=site_scope,
                in_function=in_function,
                top_level=parents.get(statement) is module,
                type_checking=type_checking,
                import_error_guard=guarded,
                plain_fallback=fallback_imports is not None,
                fallback_imports=fallback_imports or (),
                future=isinstance(node, cst.ImportFrom) and _dotted(node.module) == "__future__",
                star=isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar),
                pragma_skip=pragma,
            )
        )
        parsed.nodes.append(node)
        parsed.statements.append(statement)
    return parsed


def _guards(statement: cst.CSTNode, parents: dict) -> tuple[bool, bool]:
    """Whether a statement sits under `if TYPE_CHECKING:` and inside a `try` catching ImportError."""
    type_checking = guarded = False
    child: cst.CSTNode = statement
    node = parents.get(statement)
    while node is not None and not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Module)):
        if isinstance(node, cst.If) and _is_type_checking(node.test) and child is node.body:
            type_checking = True
        if isinstance(node, (cst.Try, cst.TryStar)) and child is node.body:
            guarded = guarded or any(_catches_import_error(h) for h in node.handlers)
        child, node = node, parents.get(node)
    return type_checking, guarded


def _plain_fallback(statement: cst.CSTNode, parents: dict, names: set[str]) -> tuple[str, ...] | None:
    """When the `try` around an import holds nothing else (no other statement, no `else`), and its handlers
    only `pass` or rebind the import's own names to plain values or other (absolute) imports: the modules
    those handlers import (`from pkg import compat as json`: pkg, pkg.compat). Otherwise None."""
    node = parents.get(statement)
    if not isinstance(node, cst.IndentedBlock):
        return None
    owner = parents.get(node)
    if not isinstance(owner, cst.Try) or owner.body is not node or owner.orelse is not None:
        return None
    if len(node.body) != 1 or len(getattr(statement, "body", ())) != 1:
        return None
    imported: list[str] = []
    for handler in owner.handlers:
        for line in handler.body.body:
            if not isinstance(line, cst.SimpleStatementLine):
                return None
            for small in line.body:
                if isinstance(small, cst.Pass):
                    continue
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    if isinstance(small.names, cst.ImportStar) or (
                            isinstance(small, cst.ImportFrom) and small.relative):
                        return None
                    bound = {_dotted(a.asname.name) if a.asname else _dotted(a.name).split(".")[0]
                             for a in small.names}  # type: ignore[union-attr]
                    if not bound <= names:
                        return None
                    if isinstance(small, cst.Import):
                        imported += [_dotted(alias.name) for alias in small.names]
                    else:
                        base = _dotted(small.module)
                        imported += [base, *(f"{base}.{_dotted(a.name)}"
                                             for a in small.names)]  # type: ignore[union-attr]
                    continue
                if not isinstance(small, cst.Assign) or not _plain_value(small.value):
                    return None
                for target in small.targets:
                    if not isinstance(target.target, cst.Name) or target.target.value not in names:
                        return None
    return tuple(dict.fromkeys(imported))


def _plain_value(value: cst.BaseExpression) -> bool:
    """A value whose evaluation runs no code of anyone's: a literal, a name, an attribute of a name."""
    if isinstance(value, (cst.Name, cst.Integer, cst.Float, cst.SimpleString)):
        return True
    return isinstance(value, cst.Attribute) and _plain_value(value.value)


_STATEMENTS = (cst.BaseSmallStatement, cst.BaseCompoundStatement, cst.Decorator, cst.Param)


def _statement_of(node: cst.CSTNode, parents: dict) -> cst.CSTNode:
    """The statement (or decorator, or parameter default) a reference belongs to."""
    current = node
    while not isinstance(current, _STATEMENTS) and current in parents:
        current = parents[current]
    return current


def _bindings(
    node: cst.Import | cst.ImportFrom,
    scope: Scope,
    positions: dict,
    parents: dict,
    qualnames: dict[cst.CSTNode, str],
) -> tuple[Binding, ...]:
    if isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar):
        return ()
    refs_by_name: dict[str, set[tuple[int, int, str, bool, int]]] = {}
    for assignment in scope.assignments:
        if getattr(assignment, "node", None) is not node:
            continue
        bound = assignment.name.split(".")[0]
        found = refs_by_name.setdefault(bound, set())
        for access in assignment.references:
            where = positions[access.node].start
            function, at_import_time = _enclosing_def(access.scope, qualnames)
            statement_line = positions[_statement_of(access.node, parents)].start.line
            found.add((where.line, where.column + 1, function, at_import_time, statement_line))
    bindings = []
    for alias in node.names:  # type: ignore[union-attr]
        target = _dotted(alias.name)
        bound = alias.asname.name.value if alias.asname else target.split(".")[0]  # type: ignore[union-attr]
        refs = tuple(Reference(*ref) for ref in sorted(refs_by_name.get(bound, set())))
        bindings.append(Binding(name=bound, target=target, references=refs))
    return tuple(bindings)
