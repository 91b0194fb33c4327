"""Operators: the named rules that turn one import site into mutated source.

Each operator takes a parsed file and one of its sites and returns zero or more `Mutation`s.
All rewriting goes through libcst so that everything the mutation does not touch (comments,
formatting, line endings, the file's encoding) is kept byte for byte.
Their names are in config.py (OPERATORS), which loads without libcst.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import libcst as cst

from importmut.sites import MODULE_SCOPE, Binding, ParsedFile, Reference, Site

FORCED_FALLBACK = 'raise ImportError("importmut: forced fallback")'


@dataclass(frozen=True)
class Mutation:
    """What one operator did to one site, before it gets an id."""

    operator: str
    scope: str  # where the mutation happens: the site's scope, or the function receiving a moved import
    name: str  # which import or name it is about, as shown in the id
    description: str
    replacement: str  # the new code at the site ("" when it is removed)
    references: tuple[Reference, ...]  # uses of the name that the mutation can break
    mutated: bytes


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _leading_imports_end(body: Sequence[cst.BaseStatement]) -> int:
    """Index just after the module's docstring and its first run of import statements."""
    index = 0
    for index, statement in enumerate(body):
        if index == 0 and _is_docstring(statement):
            continue
        if isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
        ):
            continue
        return index
    return len(body)


class _Rewrite(cst.CSTTransformer):
    """Replaces (or removes) one small statement, and may insert one statement elsewhere."""

    def __init__(
        self,
        statement: cst.CSTNode,
        old: cst.BaseSmallStatement,
        new: cst.BaseSmallStatement | None,
        into_function: cst.FunctionDef | None = None,
        into_module: bool = False,
        inserted: cst.BaseStatement | None = None,
    ) -> None:
        super().__init__()
        self.statement = statement
        self.old = old
        self.new = new
        self.into_function = into_function
        self.into_module = into_module
        self.inserted = inserted
        self.orphaned_lines: list[cst.EmptyLine] | None = None
        self.on_path: set[int] | None = None  # ids of the nodes around the targets; None: visit everything

    def on_visit(self, node: cst.CSTNode) -> bool:
        return self.on_path is None or id(node) in self.on_path  # untouched subtrees are kept as they are

    def _replace_small(self, original: cst.CSTNode, updated: cst.CSTNode) -> list:
        body = []
        for before, after in zip(original.body, updated.body, strict=True):  # type: ignore[attr-defined]
            if before is self.old:
                if self.new is not None:
                    body.append(self.new.with_changes(semicolon=after.semicolon))
            else:
                body.append(after)
        if body:
            body[-1] = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return body

    def leave_SimpleStatementLine(self, original_node, updated_node):  # type: ignore[override]
        if original_node is not self.statement:
            return updated_node
        body = self._replace_small(original_node, updated_node)
        if not body:
            self.orphaned_lines = list(original_node.leading_lines)
            return cst.RemoveFromParent()
        return updated_node.with_changes(body=body)

    def _adopt_orphaned_lines(self, original_body: Sequence[cst.CSTNode], updated_body: list,
                              footer: Sequence[cst.EmptyLine]) -> tuple[list, list]:
        """Comments above a removed statement move to the statement after it (or the block's footer)."""
        lines = getattr(self, "orphaned_lines", None)
        if not lines or not any(node is self.statement for node in original_body):
            return updated_body, list(footer)
        self.orphaned_lines = None
        index = next(i for i, node in enumerate(original_body) if node is self.statement)
        if index < len(updated_body):
            following = updated_body[index]
            updated_body[index] = following.with_changes(leading_lines=[*lines, *following.leading_lines])
            return updated_body, list(footer)
        return updated_body, [*lines, *footer]

    def leave_SimpleStatementSuite(self, original_node, updated_node):  # type: ignore[override]
        if original_node is not self.statement:
            return updated_node
        body = self._replace_small(original_node, updated_node) or [cst.Pass()]
        return updated_node.with_changes(body=body)

    def leave_IndentedBlock(self, original_node, updated_node):  # type: ignore[override]
        if self.on_path is not None and id(original_node) not in self.on_path:
            return updated_node
        body, footer = self._adopt_orphaned_lines(original_node.body, list(updated_node.body), updated_node.footer)
        if not body:
            body = [cst.SimpleStatementLine([cst.Pass()])]
        return updated_node.with_changes(body=body, footer=footer)

    def leave_FunctionDef(self, original_node, updated_node):  # type: ignore[override]
        if original_node is not self.into_function or self.inserted is None:
            return updated_node
        block = updated_node.body
        position = 1 if block.body and _is_docstring(block.body[0]) else 0
        body = [*block.body[:position], self.inserted, *block.body[position:]]
        return updated_node.with_changes(body=block.with_changes(body=body))

    def leave_Module(self, original_node, updated_node):  # type: ignore[override]
        body, footer = self._adopt_orphaned_lines(original_node.body, list(updated_node.body), updated_node.footer)
        updated_node = updated_node.with_changes(body=body, footer=footer)
        if not self.into_module or self.inserted is None:
            return updated_node
        position = _leading_imports_end(updated_node.body)
        body = [*updated_node.body[:position], self.inserted, *updated_node.body[position:]]
        return updated_node.with_changes(body=body)


def _rewrite(parsed: ParsedFile, site: Site, new: cst.BaseSmallStatement | None, **insert) -> bytes:
    rewrite = _Rewrite(parsed.statements[site.index], parsed.nodes[site.index], new, **insert)
    if parsed.parents and not insert.get("into_module"):
        rewrite.on_path = parsed.path_to(parsed.statements[site.index])
        if insert.get("into_function") is not None:
            rewrite.on_path |= parsed.path_to(insert["into_function"])
    return _render(parsed, parsed.module.visit(rewrite))


def _render(parsed: ParsedFile, updated: cst.Module) -> bytes:
    """The bytes of a rewritten module. A top-level statement the rewrite left as it was (the same node) keeps
    its text, made once per file; only the others are generated. libcst's `Module.bytes` would generate the
    whole module for every mutant: half the catalogue's time on 200 synthetic modules."""
    if not updated.has_trailing_newline or not (updated.header or updated.body or updated.footer):
        return updated.bytes  # libcst then drops the last token, or adds a newline: left to it
    if not parsed.statement_code:  # libcst's nodes compare (and hash) by identity
        parsed.statement_code = {node: parsed.module.code_for_node(node) for node in parsed.module.body}
    parts = [updated.code_for_node(line) for line in updated.header]
    parts += [parsed.statement_code.get(node) or updated.code_for_node(node) for node in updated.body]
    parts += [updated.code_for_node(line) for line in updated.footer]
    return "".join(parts).encode(updated.encoding)


def _all_references(site: Site) -> tuple[Reference, ...]:
    return tuple(sorted({ref for binding in site.bindings for ref in binding.references}))


def _site_label(site: Site) -> str:
    if site.star:
        return "*"
    return ",".join(binding.label for binding in site.bindings)


def _without_alias(node: cst.Import | cst.ImportFrom, drop: int) -> cst.Import | cst.ImportFrom:
    names = [alias for i, alias in enumerate(node.names) if i != drop]  # type: ignore[arg-type]
    if drop < len(names):  # a name before the end went: the last one is unchanged
        return node.with_changes(names=names)
    last, dropped = names[-1].comma, node.names[drop].comma  # type: ignore[index]
    bracketed = isinstance(node, cst.ImportFrom) and node.lpar
    if bracketed and isinstance(last, cst.Comma) and isinstance(last.whitespace_after, cst.ParenthesizedWhitespace) \
            and isinstance(dropped, cst.Comma) and isinstance(dropped.whitespace_after, cst.ParenthesizedWhitespace):
        # keep the trailing comma and its comment, with the indentation the closing bracket had
        after = last.whitespace_after.with_changes(last_line=dropped.whitespace_after.last_line)
        names[-1] = names[-1].with_changes(comma=last.with_changes(whitespace_after=after))
    else:
        names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return node.with_changes(names=names)


def _single_import(node: cst.Import | cst.ImportFrom, binding: Binding) -> cst.BaseStatement:
    alias = f" as {binding.name}" if binding.name != binding.target.split(".")[0] else ""
    if isinstance(node, cst.ImportFrom):
        module = "." * len(node.relative) + (cst.Module([]).code_for_node(node.module) if node.module else "")
        alias = f" as {binding.name}" if binding.name != binding.target else ""
        return cst.parse_statement(f"from {module} import {binding.target}{alias}\n")
    return cst.parse_statement(f"import {binding.target}{alias}\n")


def delete(parsed: ParsedFile, site: Site, options: "OperatorOptions") -> Iterator[Mutation]:
    """Remove the statement (`pass` where its block would be left empty)."""
    yield Mutation(
        operator="delete",
        scope=site.scope,
        name=_site_label(site),
        description=f"removed `{site.code}`",
        replacement="",
        references=_all_references(site),
        mutated=_rewrite(parsed, site, None),
    )


def drop_name(parsed: ParsedFile, site: Site, options: "OperatorOptions") -> Iterator[Mutation]:
    """Remove one name from an import that binds several."""
    node = parsed.nodes[site.index]
    if site.star or len(site.bindings) < 2:
        return
    for position, binding in enumerate(site.bindings):
        shorter = _without_alias(node, position)
        yield Mutation(
            operator="drop-name",
            scope=site.scope,
            name=binding.label,
            description=f"dropped `{binding.label}` from `{site.code}`",
            replacement=cst.Module([]).code_for_node(shorter),
            references=binding.references,
            mutated=_rewrite(parsed, site, shorter),
        )


def localize(parsed: ParsedFile, site: Site, options: "OperatorOptions") -> Iterator[Mutation]:
    """Move a module-level import into one function that uses it, so every other user loses it."""
    if not site.top_level or site.star or site.import_error_guard:
        return
    node = parsed.nodes[site.index]
    for position, binding in enumerate(site.bindings):
        users = sorted({ref.function for ref in binding.references if ref.function != MODULE_SCOPE})
        made = 0
        for function in users:
            if made >= options.localize_max:
                break
            first, last = parsed.function_bodies[function]
            # uses inside the receiving body (nested functions included) still see the moved import
            others = tuple(ref for ref in binding.references if not first <= ref.line <= last)
            target = parsed.function_nodes.get(function)
            if not others or target is None or not isinstance(target.body, cst.IndentedBlock):
                continue
            remaining = None if len(site.bindings) == 1 else _without_alias(node, position)
            moved = _single_import(node, binding)
            made += 1
            yield Mutation(
                operator="localize",
                scope=function,
                name=binding.label,
                description=f"moved `{binding.label}` from module level into `{function}()`",
                replacement=cst.Module([]).code_for_node(remaining) if remaining else "",
                references=others,
                mutated=_rewrite(parsed, site, remaining, into_function=target, inserted=moved),
            )


def hoist(parsed: ParsedFile, site: Site, options: "OperatorOptions") -> Iterator[Mutation]:
    """Move a function-level import to module level; a survivor means the hoist is safe."""
    if not site.in_function or site.star or site.import_error_guard:
        return
    statement = cst.parse_statement(cst.Module([]).code_for_node(parsed.nodes[site.index]) + "\n")
    yield Mutation(
        operator="hoist",
        scope=site.scope,
        name=_site_label(site),
        description=f"hoisted `{site.code}` from `{site.scope}()` to module level",
        replacement="",
        references=_all_references(site),
        mutated=_rewrite(parsed, site, None, into_module=True, inserted=statement),
    )


def fallback(parsed: ParsedFile, site: Site, options: "OperatorOptions") -> Iterator[Mutation]:
    """Make an import inside `try: ... except ImportError` raise, so the fallback path runs."""
    if not site.import_error_guard:
        return
    raised = cst.parse_statement(FORCED_FALLBACK + "\n").body[0]  # type: ignore[attr-defined]
    yield Mutation(
        operator="fallback",
        scope=site.scope,
        name=_site_label(site),
        description=f"`{site.code}` forced to raise ImportError",
        replacement=FORCED_FALLBACK,
        references=_all_references(site),
        mutated=_rewrite(parsed, site, raised),
    )


@dataclass(frozen=True)
class OperatorOptions:
    localize_max: int = 5


OPERATOR_FUNCTIONS: dict[str, Callable[[ParsedFile, Site, OperatorOptions], Iterator[Mutation]]] = {
    "delete": delete,
    "drop-name": drop_name,
    "localize": localize,
    "hoist": hoist,
    "fallback": fallback,
}
