"""Operators: each one's rewrite of an import site, checked against hand-written expected source."""

from __future__ import annotations

import textwrap

import pytest

from importmut.config import OPERATORS
from importmut.operators import FORCED_FALLBACK, OPERATOR_FUNCTIONS, Mutation, OperatorOptions
from importmut.sites import MODULE_SCOPE, ParsedFile, Site, parse_file


def dedent(source: str) -> str:
    return textwrap.dedent(source)


def parse(source: str | bytes) -> ParsedFile:
    if isinstance(source, str):
        source = dedent(source).encode("utf-8")
    return parse_file("m.py", source)


def site_for(parsed: ParsedFile, code: str, scope: str | None = None) -> Site:
    found = [s for s in parsed.sites if s.code == code and (scope is None or s.scope == scope)]
    assert len(found) == 1, f"{code!r} matches {len(found)} of {[s.code for s in parsed.sites]}"
    return found[0]


def mutations(operator: str, parsed: ParsedFile, site: Site, **options) -> list[Mutation]:
    return list(OPERATOR_FUNCTIONS[operator](parsed, site, OperatorOptions(**options)))


def only(operator: str, parsed: ParsedFile, site: Site, **options) -> Mutation:
    found = mutations(operator, parsed, site, **options)
    assert len(found) == 1, f"{operator} gave {len(found)} mutations"
    return found[0]


def assert_valid(parsed: ParsedFile, mutation: Mutation) -> None:
    compile(mutation.mutated, "<mutant>", "exec", dont_inherit=True)
    assert mutation.mutated != parsed.source


def result(mutation: Mutation) -> str:
    return mutation.mutated.decode("utf-8")


# --- delete -----------------------------------------------------------------------------------


def test_delete_removes_the_statement_and_keeps_everything_else():
    parsed = parse(
        """\
        import os
        import sys  # why sys

        x = 1  # keep this comment
        """
    )
    mutation = only("delete", parsed, site_for(parsed, "import os"))
    assert_valid(parsed, mutation)
    assert result(mutation) == dedent(
        """\
        import sys  # why sys

        x = 1  # keep this comment
        """
    )
    assert (mutation.operator, mutation.scope, mutation.name, mutation.replacement) == (
        "delete", MODULE_SCOPE, "os", "")
    assert "import os" in mutation.description


def test_delete_keeps_a_comment_on_the_line_above_the_import():
    parsed = parse(
        """\
        import os
        # sys is only needed on Windows
        import sys
        x = 1
        """
    )
    mutation = only("delete", parsed, site_for(parsed, "import sys"))
    assert "# sys is only needed on Windows\n" in result(mutation)
    assert result(mutation).count("\n") == 3


def test_delete_puts_pass_into_a_function_body_left_empty():
    parsed = parse(
        """\
        def f():
            import json
        """
    )
    mutation = only("delete", parsed, parsed.sites[0])
    assert_valid(parsed, mutation)
    assert result(mutation) == "def f():\n    pass\n"
    assert mutation.scope == "f"


def test_delete_puts_pass_into_if_and_try_bodies_left_empty():
    parsed = parse(
        """\
        if X:
            import a
        try:
            import b
        except ImportError:
            b = None
        """
    )
    first = only("delete", parsed, site_for(parsed, "import a"))
    second = only("delete", parsed, site_for(parsed, "import b"))
    assert result(first) == dedent(
        """\
        if X:
            pass
        try:
            import b
        except ImportError:
            b = None
        """
    )
    assert result(second) == dedent(
        """\
        if X:
            import a
        try:
            pass
        except ImportError:
            b = None
        """
    )
    assert_valid(parsed, first)
    assert_valid(parsed, second)


def test_delete_does_not_add_pass_where_the_body_keeps_other_statements():
    parsed = parse(
        """\
        def f():
            import json
            return 1
        """
    )
    assert result(only("delete", parsed, parsed.sites[0])) == "def f():\n    return 1\n"


def test_delete_of_one_of_two_imports_on_a_line_keeps_the_other():
    parsed = parse("import a; import b\nx = 1\n")
    first = only("delete", parsed, site_for(parsed, "import a"))
    second = only("delete", parsed, site_for(parsed, "import b"))
    assert result(first) == "import b\nx = 1\n"
    assert result(second) == "import a\nx = 1\n"
    assert_valid(parsed, first)
    assert_valid(parsed, second)


def test_delete_in_a_single_line_suite_leaves_pass():
    parsed = parse("if x: import y\n")
    mutation = only("delete", parsed, parsed.sites[0])
    assert result(mutation) == "if x: pass\n"
    assert_valid(parsed, mutation)


def test_delete_of_a_parenthesised_import_removes_all_its_lines():
    parsed = parse(
        """\
        from m import (
            a,
            b,
        )
        x = 1
        """
    )
    mutation = only("delete", parsed, parsed.sites[0])
    assert result(mutation) == "x = 1\n"
    assert mutation.name == "a,b"


def test_delete_of_a_star_import_is_named_star():
    parsed = parse("from os.path import *\nx = 1\n")
    mutation = only("delete", parsed, parsed.sites[0])
    assert mutation.name == "*"
    assert result(mutation) == "x = 1\n"


def test_delete_lists_every_reference_of_every_name():
    parsed = parse(
        """\
        from x import a, b
        def f():
            return a
        y = b
        """
    )
    mutation = only("delete", parsed, parsed.sites[0])
    assert [(r.line, r.function) for r in mutation.references] == [(3, "f"), (4, MODULE_SCOPE)]


# --- drop-name --------------------------------------------------------------------------------


def test_drop_name_gives_one_mutant_per_name_of_a_plain_import():
    parsed = parse("import a, b\nx = a, b\n")
    dropped = mutations("drop-name", parsed, parsed.sites[0])
    assert [m.name for m in dropped] == ["a", "b"]
    assert [result(m) for m in dropped] == ["import b\nx = a, b\n", "import a\nx = a, b\n"]
    assert [m.replacement for m in dropped] == ["import b", "import a"]
    assert [[r.line for r in m.references] for m in dropped] == [[2], [2]]
    for mutation in dropped:
        assert_valid(parsed, mutation)
        assert mutation.operator == "drop-name"


def test_drop_name_uses_the_dotted_label_and_keeps_aliases():
    parsed = parse("import a.b, c as d\n")
    dropped = mutations("drop-name", parsed, parsed.sites[0])
    assert [m.name for m in dropped] == ["a.b", "d"]
    assert [result(m) for m in dropped] == ["import c as d\n", "import a.b\n"]


def test_drop_name_on_a_one_line_parenthesised_import_with_trailing_comma():
    parsed = parse("from m import (a, b,)\n")
    dropped = mutations("drop-name", parsed, parsed.sites[0])
    assert [m.name for m in dropped] == ["a", "b"]
    for mutation, kept, gone in zip(dropped, ["b", "a"], ["a", "b"]):
        assert_valid(parsed, mutation)
        module = compile(mutation.mutated, "<mutant>", "exec", dont_inherit=True)
        assert kept in module.co_names and gone not in module.co_names


def test_drop_name_on_a_multiline_import_keeps_the_comments_of_the_names_left():
    parsed = parse(
        """\
        from m import (
            a,  # first
            b,  # second
        )
        x = 1
        """
    )
    drop_a, drop_b = mutations("drop-name", parsed, parsed.sites[0])
    for mutation in (drop_a, drop_b):
        assert_valid(parsed, mutation)
        assert result(mutation).endswith("x = 1\n")
    assert "# first" not in result(drop_a)
    assert "# second" not in result(drop_b)
    # What is not dropped stays as it was: the other name's line with its comment, and the `)`.
    assert "    b,  # second\n)\n" in result(drop_a)
    assert "    a,  # first\n)\n" in result(drop_b)


def test_drop_name_keeps_a_following_statement_on_the_same_line():
    parsed = parse("import a, b; x = 1\n")
    dropped = mutations("drop-name", parsed, parsed.sites[0])
    assert [result(m) for m in dropped] == ["import b; x = 1\n", "import a; x = 1\n"]


@pytest.mark.parametrize("source", ["import a\n", "from m import a\n", "from m import *\n", "import a.b\n"])
def test_drop_name_needs_two_names(source):
    parsed = parse(source)
    assert mutations("drop-name", parsed, parsed.sites[0]) == []


# --- localize ---------------------------------------------------------------------------------

LOCALIZE_SOURCE = """\
    import os
    def f():
        \"\"\"F doc.\"\"\"
        return os.sep
    def g():
        return os.name
    x = 1
    """


def test_localize_moves_the_import_into_each_using_function_in_turn():
    parsed = parse(LOCALIZE_SOURCE)
    into_f, into_g = mutations("localize", parsed, parsed.sites[0])
    assert (into_f.scope, into_g.scope) == ("f", "g")
    assert result(into_f) == dedent(
        """\
        def f():
            \"\"\"F doc.\"\"\"
            import os
            return os.sep
        def g():
            return os.name
        x = 1
        """
    )
    assert result(into_g) == dedent(
        """\
        def f():
            \"\"\"F doc.\"\"\"
            return os.sep
        def g():
            import os
            return os.name
        x = 1
        """
    )
    # What can break is the use in the other function.
    assert [(r.line, r.function) for r in into_f.references] == [(6, "g")]
    assert [(r.line, r.function) for r in into_g.references] == [(4, "f")]
    for mutation in (into_f, into_g):
        assert_valid(parsed, mutation)
        assert (mutation.operator, mutation.name, mutation.replacement) == ("localize", "os", "")


def test_localize_counts_a_module_level_use_as_another_user():
    parsed = parse(
        """\
        import os
        SEP = os.sep
        def f():
            return os.name
        """
    )
    (mutation,) = mutations("localize", parsed, parsed.sites[0])
    assert mutation.scope == "f"
    assert [r.line for r in mutation.references] == [2]
    assert result(mutation) == "SEP = os.sep\ndef f():\n    import os\n    return os.name\n"


@pytest.mark.parametrize(
    "source",
    [
        "import os\ndef f():\n    return os.sep\n",  # one function is the only user
        "import os\nx = os.sep\n",  # no function uses it
        "import os\n",  # unused
    ],
)
def test_no_localize_without_a_function_user_and_another_user(source):
    parsed = parse(source)
    assert mutations("localize", parsed, parsed.sites[0]) == []


def test_localize_moves_only_one_name_of_a_multi_name_import():
    parsed = parse(
        """\
        from m import a, b
        def f():
            return a
        def g():
            return a, b
        """
    )
    found = mutations("localize", parsed, parsed.sites[0])
    assert [(m.scope, m.name) for m in found] == [("f", "a"), ("g", "a")]
    into_f = found[0]
    assert into_f.replacement == "from m import b"
    assert result(into_f) == dedent(
        """\
        from m import b
        def f():
            from m import a
            return a
        def g():
            return a, b
        """
    )
    for mutation in found:
        assert_valid(parsed, mutation)


def test_localize_respects_localize_max():
    users = "".join(f"def f{i}():\n    return os.sep\n" for i in range(4))
    parsed = parse("import os\n" + users)
    assert len(mutations("localize", parsed, parsed.sites[0])) == 4
    capped = mutations("localize", parsed, parsed.sites[0], localize_max=2)
    assert [m.scope for m in capped] == ["f0", "f1"]


@pytest.mark.parametrize(
    ("statement", "moved"),
    [
        ("import numpy as np", "import numpy as np"),
        ("from m import a as np", "from m import a as np"),
        ("from . import np", "from . import np"),
        ("from ..pkg.sub import np", "from ..pkg.sub import np"),
    ],
)
def test_localize_keeps_aliases_and_relative_modules(statement, moved):
    parsed = parse(f"{statement}\ndef f():\n    return np\ndef g():\n    return np\n")
    into_f = mutations("localize", parsed, parsed.sites[0])[0]
    assert into_f.scope == "f"
    assert result(into_f) == f"def f():\n    {moved}\n    return np\ndef g():\n    return np\n"
    assert_valid(parsed, into_f)


def test_localize_of_a_dotted_import():
    parsed = parse("import os.path\ndef f():\n    return os.path.sep\ndef g():\n    return os.sep\n")
    into_f = mutations("localize", parsed, parsed.sites[0])[0]
    assert into_f.name == "os.path"
    assert result(into_f) == "def f():\n    import os.path\n    return os.path.sep\ndef g():\n    return os.sep\n"


def test_localize_into_a_method_and_a_nested_function():
    parsed = parse(
        """\
        import os
        class C:
            def m(self):
                return os.sep
        def outer():
            def inner():
                return os.name
            return inner
        """
    )
    found = mutations("localize", parsed, parsed.sites[0])
    assert [m.scope for m in found] == ["C.m", "outer.inner"]
    assert "    def m(self):\n        import os\n        return os.sep\n" in result(found[0])
    assert "    def inner():\n        import os\n        return os.name\n" in result(found[1])
    for mutation in found:
        assert_valid(parsed, mutation)


def test_no_localize_into_an_enclosing_function_whose_nested_function_is_the_other_user():
    # Moving the import into `outer` leaves it visible to `inner` through the closure: no use
    # loses the name, so such a mutant could never be killed.
    parsed = parse(
        """\
        import os
        def outer():
            def inner():
                return os.sep
            return os.name, inner
        """
    )
    assert [m.scope for m in mutations("localize", parsed, parsed.sites[0])] == ["outer.inner"]


def test_localize_into_one_of_two_defs_with_the_same_name_lists_the_other_defs_uses():
    # A property getter and setter share the qualified name `C.p`; the import can only go into
    # one of them, so the other one's use of `os` is a use the mutation breaks.
    parsed = parse(
        """\
        import os
        class C:
            @property
            def p(self):
                return os.sep
            @p.setter
            def p(self, value):
                os.environ["X"] = value
        def g():
            return os.name
        """
    )
    into_p = next(m for m in mutations("localize", parsed, parsed.sites[0]) if m.scope == "C.p")
    assert_valid(parsed, into_p)
    getter_part, setter_part = result(into_p).split("@p.setter")
    assert ("import os" in getter_part) != ("import os" in setter_part)  # exactly one `p` receives it
    other_p_line = 8 if "import os" in getter_part else 5
    assert {r.line for r in into_p.references} == {other_p_line, 10}


@pytest.mark.parametrize(
    "source",
    [
        "try:\n    import os\nexcept ImportError:\n    os = None\ndef f():\n    return os\nx = os\n",
        "if X:\n    import os\ndef f():\n    return os\nx = os\n",
        "def f():\n    import os\n    return os\n",
        "from os import *\ndef f():\n    return sep\nx = sep\n",
    ],
)
def test_no_localize_for_guarded_nested_or_star_imports(source):
    parsed = parse(source)
    assert mutations("localize", parsed, parsed.sites[0]) == []


def test_no_localize_into_a_single_line_function():
    parsed = parse("import os\ndef f(): return os.sep\nx = os.name\n")
    assert mutations("localize", parsed, parsed.sites[0]) == []


# --- hoist ------------------------------------------------------------------------------------

HOIST_SOURCE = """\
    \"\"\"Module doc.\"\"\"
    from __future__ import annotations
    import os

    X = 1


    def f():
        import json
        return json


    class C:
        def m(self):
            from . import sib as s
            return s
    """


def test_hoist_moves_a_function_import_after_the_docstring_and_leading_imports():
    parsed = parse(HOIST_SOURCE)
    mutation = only("hoist", parsed, site_for(parsed, "import json"))
    assert_valid(parsed, mutation)
    assert (mutation.operator, mutation.scope, mutation.name) == ("hoist", "f", "json")
    assert result(mutation) == dedent(
        """\
        \"\"\"Module doc.\"\"\"
        from __future__ import annotations
        import os
        import json

        X = 1


        def f():
            return json


        class C:
            def m(self):
                from . import sib as s
                return s
        """
    )


def test_hoist_from_a_method_keeps_alias_and_relative_module():
    parsed = parse(HOIST_SOURCE)
    mutation = only("hoist", parsed, site_for(parsed, "from . import sib as s"))
    assert mutation.scope == "C.m"
    text = result(mutation)
    assert text.startswith('"""Module doc."""\nfrom __future__ import annotations\nimport os\nfrom . import sib as s\n')
    assert "    def m(self):\n        return s\n" in text
    assert "import json" in text


def test_hoist_leaves_pass_in_an_emptied_function():
    parsed = parse("import os\ndef f():\n    import json\nx = 1\n")
    mutation = only("hoist", parsed, site_for(parsed, "import json"))
    assert result(mutation) == "import os\nimport json\ndef f():\n    pass\nx = 1\n"
    assert_valid(parsed, mutation)


def test_hoist_into_a_module_without_imports_goes_first():
    parsed = parse("def f():\n    import json\n    return json\n")
    mutation = only("hoist", parsed, parsed.sites[0])
    assert result(mutation) == "import json\ndef f():\n    return json\n"


@pytest.mark.parametrize(
    "source",
    [
        "import os\n",
        "class C:\n    import os\n",
        "if X:\n    import os\n",
        "def f():\n    try:\n        import os\n    except ImportError:\n        os = None\n",
        "def f():\n    from os import *\n",
    ],
)
def test_no_hoist_outside_functions_or_for_guarded_or_star_imports(source):
    parsed = parse(source)
    assert mutations("hoist", parsed, parsed.sites[0]) == []


# --- fallback ---------------------------------------------------------------------------------


def test_fallback_replaces_the_guarded_import_with_a_raise():
    parsed = parse(
        """\
        try:
            import ujson as json  # fast
        except ImportError:
            import json
        """
    )
    mutation = only("fallback", parsed, site_for(parsed, "import ujson as json"))
    assert_valid(parsed, mutation)
    assert mutation.replacement == FORCED_FALLBACK
    assert mutation.name == "json"
    assert result(mutation) == dedent(
        f"""\
        try:
            {FORCED_FALLBACK}  # fast
        except ImportError:
            import json
        """
    )
    with pytest.raises(ImportError):
        exec(compile(FORCED_FALLBACK, "<fallback>", "exec"), {})


def test_fallback_keeps_other_statements_of_the_try_body():
    parsed = parse("try:\n    import a\n    import b\nexcept ModuleNotFoundError:\n    a = b = None\n")
    mutation = only("fallback", parsed, site_for(parsed, "import b"))
    assert result(mutation) == f"try:\n    import a\n    {FORCED_FALLBACK}\nexcept ModuleNotFoundError:\n    a = b = None\n"


@pytest.mark.parametrize(
    "source",
    [
        "import os\n",
        "try:\n    import os\nexcept KeyError:\n    pass\n",
        "try:\n    pass\nexcept ImportError:\n    import os\n",
        "def f():\n    import os\n",
    ],
)
def test_no_fallback_for_unguarded_imports(source):
    parsed = parse(source)
    assert mutations("fallback", parsed, parsed.sites[0]) == []


# --- every operator, on every site: valid, different, and nothing else touched ---------------

CORPUS = """\
# -*- coding: latin-1 -*-
\"\"\"Module doc.\"\"\"
import os, sys
from collections import (
    OrderedDict,
    namedtuple,
)
from . import sibling as sib

GREETING = "caf\xe9"  # a latin-1 byte, kept as it is

try:
    import ujson as json
except ImportError:
    import json


def f():
    \"\"\"F doc.\"\"\"
    import re
    return os.sep, re, OrderedDict


class C:
    def m(self):
        from itertools import chain
        return sys.path, chain, namedtuple  # trailing comment


def g():
    return os.name, sys.argv, json, sib


if X: import y
"""


def corpus_mutations(source: bytes) -> list[tuple[ParsedFile, Site, Mutation]]:
    parsed = parse_file("m.py", source)
    return [
        (parsed, site, mutation)
        for site in parsed.sites
        for operator in OPERATORS
        for mutation in OPERATOR_FUNCTIONS[operator](parsed, site, OperatorOptions())
    ]


def test_corpus_gives_every_operator_something_to_do():
    found = corpus_mutations(CORPUS.encode("latin-1"))
    assert {mutation.operator for _, _, mutation in found} == set(OPERATORS)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_every_mutant_is_valid_and_keeps_bytes_it_does_not_touch(newline):
    source = CORPUS.replace("\n", newline).encode("latin-1")
    found = corpus_mutations(source)
    assert found
    for parsed, site, mutation in found:
        label = f"{mutation.operator} of {site.code!r}"
        mutated = mutation.mutated
        compile(mutated, "<mutant>", "exec", dont_inherit=True)
        assert mutated != source, label
        if newline == "\r\n":
            assert mutated.count(b"\n") == mutated.count(b"\r\n"), f"{label}: lone LF introduced"
        assert b'GREETING = "caf\xe9"  # a latin-1 byte, kept as it is' in mutated, label
        assert mutated.startswith(b"# -*- coding: latin-1 -*-" + newline.encode()), label
        assert b"# trailing comment" in mutated, label
        # Lines above the site are never touched; only a hoist inserts above it (after the
        # module's leading imports), and a localize only inserts into functions further down.
        before = source.split(newline.encode())[: site.line - 1]
        if mutation.operator != "hoist":
            assert mutated.split(newline.encode())[: site.line - 1] == before, label


# --- rendering: only the changed statements are generated ------------------------------------


RENDER_CASES = {
    "crlf and tabs": b"# header\r\nimport os\r\nimport sys; import json\r\n\r\ndef f():\r\n\timport re\r\n"
                     b"\treturn re, os, sys, json\r\n",
    "no trailing newline": b"import os\nimport sys\nx = os.sep + sys.platform",
    "latin-1, suites, class bodies": "# -*- coding: latin-1 -*-\nimport os\ns = '\xe9'\nif True: import json\n"
                                     "class C:\n    import re\n    def m(self):\n"
                                     "        from collections import OrderedDict, defaultdict\n"
                                     "        return OrderedDict, defaultdict, re\n# trailing comment\n"
                                     .encode("latin-1"),
    "the only statement": b"import os\n",
    "comments around": b'"""doc"""\n\n# c1\nimport os  # why\n# c2\n\n\ndef g():\n    """d"""\n    # c3\n'
                       b"    import json\n    return json, os\n\n# end\n",
}


@pytest.mark.parametrize("source", RENDER_CASES.values(), ids=RENDER_CASES.keys())
def test_every_mutant_is_the_source_libcst_would_generate_for_the_whole_module(source, monkeypatch):
    """Mutants keep the untouched statements' text rather than generating the whole module: the bytes
    must be exactly libcst's, whatever the newlines, indentation, encoding and comments."""
    from importmut import operators

    rendered = []
    render = operators._render

    def both(parsed, updated):
        rendered.append((render(parsed, updated), updated.bytes))
        return rendered[-1][0]

    monkeypatch.setattr(operators, "_render", both)
    parsed = parse(source)
    for site in parsed.sites:
        for operator in OPERATORS:
            mutations(operator, parsed, site)
    assert rendered and all(fast == whole for fast, whole in rendered)


def test_a_mutant_inside_one_function_generates_that_function_alone(monkeypatch):
    import libcst

    parsed = parse("""\
        import os


        def f():
            return os.sep


        def g():
            import json
            return json.dumps(1)


        def h():
            return os.name
        """)
    site = site_for(parsed, "import json")
    only("delete", parsed, site)  # the first mutant of a file notes every statement's text once
    generated = []
    code_for_node = libcst.Module.code_for_node

    def noting(module, node):
        generated.append(getattr(getattr(node, "name", None), "value", type(node).__name__))
        return code_for_node(module, node)

    monkeypatch.setattr(libcst.Module, "code_for_node", noting)
    mutation = only("delete", parsed, site)
    assert generated == ["g"]
    assert b"import json" not in mutation.mutated and mutation.mutated.count(b"def ") == 3
