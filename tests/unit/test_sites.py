"""Import sites: what each import binds, where it sits, and where its names are used."""

from __future__ import annotations

import textwrap

import pytest

from importmut.sites import MODULE_SCOPE, ParsedFile, Site, SourceError, parse_file


def parse(source: str | bytes, path: str = "m.py") -> ParsedFile:
    if isinstance(source, str):
        source = textwrap.dedent(source).encode("utf-8")
    return parse_file(path, source)


def site_for(parsed: ParsedFile, code: str) -> Site:
    found = [site for site in parsed.sites if site.code == code]
    assert len(found) == 1, f"{code!r} matches {len(found)} of {[s.code for s in parsed.sites]}"
    return found[0]


def binding_names(site: Site) -> list[tuple[str, str, str]]:
    return [(b.name, b.target, b.label) for b in site.bindings]


def refs(site: Site, name: str | None = None) -> list[tuple[int, str, bool]]:
    binding = site.bindings[0] if name is None else next(b for b in site.bindings if b.name == name)
    return [(r.line, r.function, r.at_import_time) for r in binding.references]


# --- what a statement binds -------------------------------------------------------------------


def test_plain_import_binds_its_name():
    site = parse("import os\n").sites[0]
    assert binding_names(site) == [("os", "os", "os")]
    assert (site.is_from, site.module, site.code) == (False, "os", "import os")
    assert (site.line, site.column, site.end_line, site.end_column) == (1, 0, 1, 9)
    assert (site.scope, site.top_level, site.in_function) == (MODULE_SCOPE, True, False)
    assert site.ignore_reason is None


def test_dotted_import_binds_the_first_part_and_is_labelled_with_the_whole_path():
    site = parse("import a.b\n").sites[0]
    assert binding_names(site) == [("a", "a.b", "a.b")]
    assert site.module == "a.b"


def test_import_as_binds_the_alias():
    site = parse("import a as b\n").sites[0]
    assert binding_names(site) == [("b", "a", "b")]
    assert site.code == "import a as b"


def test_dotted_import_as_is_labelled_with_the_alias():
    site = parse("import a.b as c\n").sites[0]
    assert binding_names(site) == [("c", "a.b", "c")]


def test_from_import_binds_each_name_and_alias():
    site = parse("from x import a, b as c\n").sites[0]
    assert site.is_from and site.module == "x"
    assert binding_names(site) == [("a", "a", "a"), ("c", "b", "c")]
    assert site.code == "from x import a, b as c"


def test_parenthesised_multiline_import_is_folded_onto_one_line():
    parsed = parse(
        """\
        from x import (  # comment
            a,
            b as c,
        )
        """
    )
    site = parsed.sites[0]
    assert site.code == "from x import a, b as c"
    assert (site.line, site.end_line) == (1, 4)


@pytest.mark.parametrize(
    ("source", "module", "names"),
    [
        ("from . import m\n", ".", ["m"]),
        ("from ..pkg import m\n", "..pkg", ["m"]),
        ("from .a.b import c as d\n", ".a.b", ["d"]),
    ],
)
def test_relative_imports_keep_their_dots(source, module, names):
    site = parse(source).sites[0]
    assert site.module == module
    assert [b.name for b in site.bindings] == names


def test_star_import_binds_nothing():
    site = parse("from os.path import *\n").sites[0]
    assert site.star is True
    assert site.bindings == ()
    assert site.code == "from os.path import *"
    assert site.module == "os.path"


def test_future_import_is_ignored():
    parsed = parse("from __future__ import annotations\nimport os\n")
    future, plain = parsed.sites
    assert future.future is True
    assert future.ignore_reason is not None and "__future__" in future.ignore_reason
    assert plain.future is False


def test_sites_are_numbered_in_source_order():
    parsed = parse("import a\ndef f():\n    import b\nimport c\n")
    assert [(s.index, s.code) for s in parsed.sites] == [(0, "import a"), (1, "import b"), (2, "import c")]
    assert len(parsed.nodes) == len(parsed.statements) == 3


# --- guards: TYPE_CHECKING and try/except ImportError ---------------------------------------


def test_type_checking_blocks_mark_their_imports_but_not_the_else_branch():
    parsed = parse(
        """\
        import typing
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import t1
        else:
            import t2
        if typing.TYPE_CHECKING:
            import t3
        if TYPE_CHECKING: import t4
        if DEBUG:
            import t5
        """
    )
    marked = {s.code: s.type_checking for s in parsed.sites}
    assert marked == {
        "import typing": False,
        "from typing import TYPE_CHECKING": False,
        "import t1": True,
        "import t2": False,
        "import t3": True,
        "import t4": True,
        "import t5": False,
    }
    assert site_for(parsed, "import t1").ignore_reason is not None
    assert site_for(parsed, "import t2").ignore_reason is None
    assert site_for(parsed, "import t1").top_level is False


@pytest.mark.parametrize(
    "handler",
    [
        "except ImportError:",
        "except ModuleNotFoundError:",
        "except (ImportError, AttributeError):",
        "except (AttributeError, ModuleNotFoundError) as exc:",
        "except builtins.ImportError:",
    ],
)
def test_try_catching_import_error_guards_the_import(handler):
    parsed = parse(f"try:\n    import fast\n{handler}\n    fast = None\n")
    site = site_for(parsed, "import fast")
    assert site.import_error_guard is True
    assert site.ignore_reason is None  # guarded imports are still mutated


@pytest.mark.parametrize(
    ("source", "plain"),
    [
        ("try:\n    import fast\nexcept ImportError:\n    fast = None\n", True),
        ("try:\n    import fast\nexcept ImportError:\n    pass\n", True),
        ("try:\n    import ujson as json\nexcept ImportError:\n    import json\n", True),
        ("try:\n    from fast import dumps\nexcept ImportError:\n    from json import dumps\n", True),
        ("try:\n    import fast\nexcept ImportError:\n    fast = slow.module\n", True),
        # the handler calls something, binds another name, or imports relatively: more than a rebinding
        ("try:\n    import fast\nexcept ImportError:\n    fast = None\n    warn('slow')\n", False),
        ("try:\n    import fast\nexcept ImportError:\n    fast = load()\n", False),
        ("try:\n    import fast\nexcept ImportError:\n    HAVE_FAST = False\n", False),
        ("try:\n    import fast\nexcept ImportError:\n    from . import fast\n", False),
        ("try:\n    import fast\nexcept ImportError:\n    if True:\n        fast = None\n", False),
        # the forced raise would also skip the rest of the try, or its else
        ("try:\n    import fast\n    HAVE_FAST = True\nexcept ImportError:\n    fast = None\n", False),
        ("try:\n    import fast; import faster\nexcept ImportError:\n    fast = None\n", False),
        ("try:\n    import fast\nexcept ImportError:\n    fast = None\nelse:\n    fast.init()\n", False),
    ],
)
def test_a_fallback_is_plain_when_it_only_rebinds_the_imported_names(source, plain):
    site = parse(source).sites[0]
    assert site.import_error_guard is True
    assert site.plain_fallback is plain


@pytest.mark.parametrize(
    ("source", "modules"),
    [
        ("try:\n    import ujson as json\nexcept ImportError:\n    import json\n", ("json",)),
        ("try:\n    import fast\nexcept ImportError:\n    from pkg import compat as fast\n", ("pkg", "pkg.compat")),
        ("try:\n    import fast\nexcept ImportError:\n    fast = None\n", ()),
        ("try:\n    import fast\nexcept ImportError:\n    fast = None\n    warn('slow')\n", ()),  # not plain
    ],
)
def test_a_plain_fallback_names_the_modules_its_handler_imports(source, modules):
    assert parse(source).sites[0].fallback_imports == modules


def test_try_catching_something_else_does_not_guard():
    parsed = parse("try:\n    import fast\nexcept KeyError:\n    pass\n")
    assert site_for(parsed, "import fast").import_error_guard is False


def test_only_the_try_body_is_guarded_not_the_fallback_import():
    parsed = parse(
        """\
        try:
            import fast
        except ImportError:
            import slow
        else:
            import extra
        finally:
            import last
        """
    )
    guarded = {s.code: s.import_error_guard for s in parsed.sites}
    assert guarded == {"import fast": True, "import slow": False, "import extra": False, "import last": False}


def test_guard_does_not_reach_into_a_function_defined_inside_the_try():
    parsed = parse(
        """\
        try:
            def f():
                import inner
        except ImportError:
            pass
        """
    )
    assert site_for(parsed, "import inner").import_error_guard is False


# --- where the statement sits -----------------------------------------------------------------


def test_scopes_of_functions_methods_nested_functions_and_class_bodies():
    parsed = parse(
        """\
        import top
        def func():
            import in_func
            def inner():
                import in_inner
        class Cls:
            import in_class
            def method(self):
                import in_method
        """
    )
    where = {s.code: (s.scope, s.in_function, s.top_level) for s in parsed.sites}
    assert where == {
        "import top": (MODULE_SCOPE, False, True),
        "import in_func": ("func", True, False),
        "import in_inner": ("func.inner", True, False),
        "import in_class": ("Cls", False, False),
        "import in_method": ("Cls.method", True, False),
    }


def test_import_in_an_if_at_module_level_is_not_top_level_nor_in_a_function():
    site = parse("if X:\n    import y\n").sites[0]
    assert (site.scope, site.top_level, site.in_function) == (MODULE_SCOPE, False, False)


# --- references -------------------------------------------------------------------------------


def test_references_with_line_function_and_import_time():
    parsed = parse(
        """\
        import os
        x = os.sep
        class C:
            y = os.name
            def m(self, d=os.curdir):
                return os.getcwd()
        @os.fspath
        def f(p=os.pardir):
            def inner():
                return os.linesep
            return inner
        g = lambda: os.devnull
        """
    )
    assert refs(parsed.sites[0]) == [
        (2, MODULE_SCOPE, True),  # module level
        (4, MODULE_SCOPE, True),  # class body
        (5, MODULE_SCOPE, True),  # default value of a method
        (6, "C.m", False),  # inside a method
        (7, MODULE_SCOPE, True),  # decorator
        (8, MODULE_SCOPE, True),  # default value of a function
        (10, "f.inner", False),  # nested function
        (12, MODULE_SCOPE, False),  # lambda body runs later, not at import time
    ]


def test_reference_in_a_multiline_statement_knows_the_statement_first_line():
    parsed = parse(
        """\
        import os
        total = (
            1 +
            len(os.sep)
        )
        """
    )
    (ref,) = parsed.sites[0].bindings[0].references
    assert ref.line == 4
    assert ref.statement_line == 2
    assert ref.lines == (2, 4)


def test_reference_on_a_single_line_statement_has_one_line():
    (ref,) = parse("import os\nx = os.sep\n").sites[0].bindings[0].references
    assert ref.line == ref.statement_line == 2
    assert ref.lines == (2,)


def test_references_of_a_dotted_import_go_to_its_first_name():
    parsed = parse(
        """\
        import a.b
        v = a.b.c
        def h():
            return a.x
        """
    )
    assert refs(parsed.sites[0]) == [(2, MODULE_SCOPE, True), (4, "h", False)]


def test_references_are_split_between_the_names_of_one_statement():
    parsed = parse(
        """\
        from x import a, b as c
        def f():
            return a
        value = c
        """
    )
    site = parsed.sites[0]
    assert refs(site, "a") == [(3, "f", False)]
    assert refs(site, "c") == [(4, MODULE_SCOPE, True)]


def test_function_level_import_references_stay_in_that_function():
    parsed = parse(
        """\
        def f():
            import json
            return json.dumps(1)
        json = None
        """
    )
    site = site_for(parsed, "import json")
    assert refs(site) == [(3, "f", False)]


def test_unused_import_has_no_references():
    assert parse("import os\n").sites[0].bindings[0].references == ()


# --- pragmas ----------------------------------------------------------------------------------


def test_skip_pragmas():
    parsed = parse(
        """\
        import a  # importmut: skip
        import b  # pragma: no mutate
        import c  #importmut:skip
        import d  # importmut: skipped
        import e  # some other comment
        import f
        """
    )
    assert {s.code: s.pragma_skip for s in parsed.sites} == {
        "import a": True,
        "import b": True,
        "import c": True,
        "import d": False,
        "import e": False,
        "import f": False,
    }
    assert site_for(parsed, "import a").ignore_reason is not None
    assert site_for(parsed, "import f").ignore_reason is None


def test_pragma_on_any_line_of_a_parenthesised_import_counts():
    parsed = parse(
        """\
        from m import (
            a,
            b,
        )  # importmut: skip
        from n import (  # pragma: no mutate
            c,
        )
        from o import (
            d,
        )
        """
    )
    assert [s.pragma_skip for s in parsed.sites] == [True, True, False]


def test_pragma_on_a_single_line_suite():
    parsed = parse("if X: import y  # importmut: skip\nif X: import z\n")
    assert [s.pragma_skip for s in parsed.sites] == [True, False]


def test_pragma_is_found_on_the_right_line_after_a_form_feed():
    # A form feed (^L) is whitespace to Python and does not end a line; the pragma lookup must
    # count lines the way the parser does.
    parsed = parse(b"import os\n\x0c\nimport sys  # importmut: skip\nimport json\n")
    assert {s.code: (s.line, s.pragma_skip) for s in parsed.sites} == {
        "import os": (1, False),
        "import sys": (3, True),
        "import json": (4, False),
    }


# --- files that do not parse, and unusual encodings -------------------------------------------


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (b"import os\n\n\nclass\n", 4),
        (b"import os\nx = = 1\ny = 2\n", 2),
        (b"import os\ndef f(:\n    pass\n", 2),
        (b"a = 1\nb = 2\nc = )\nd = 4\n", 3),
    ],
)
def test_syntax_error_raises_source_error_with_the_line(source, line):
    with pytest.raises(SourceError) as caught:
        parse_file("pkg/broken.py", source)
    assert caught.value.path == "pkg/broken.py"
    assert caught.value.line == line


def test_crlf_source_keeps_line_numbers():
    parsed = parse(b"import os\r\n\r\ndef f():\r\n    import json\r\n    return json, os\r\n")
    outer, inner = parsed.sites
    assert (outer.line, outer.end_line, outer.code) == (1, 1, "import os")
    assert (inner.line, inner.column, inner.code, inner.scope) == (4, 4, "import json", "f")
    assert [(r.line, r.function) for r in outer.bindings[0].references] == [(5, "f")]


def test_crlf_pragma_is_found():
    parsed = parse(b"import os  # importmut: skip\r\nimport sys\r\n")
    assert [s.pragma_skip for s in parsed.sites] == [True, False]


def test_latin1_coding_cookie():
    source = b'# -*- coding: latin-1 -*-\nimport os\nname = "caf\xe9"\nx = os.sep\n'
    parsed = parse(source)
    (site,) = parsed.sites
    assert site.line == 2
    assert [r.line for r in site.bindings[0].references] == [4]
    assert parsed.source == source


TREE_SOURCE = """\
    @decorate(lambda: [x for x in range(3)])
    class Outer:
        import json
        def method(self, value=default()):
            try:
                import orjson as fast
            except ImportError:
                from json import dumps as fast
            else:
                pass
            finally:
                import logging
            def inner():
                import zlib; import bz2
                return {k: v async for k, v in fast(f"{value!r:>{width}}")}
            return inner
        def method(self):
            match self:
                case {"a": [1, *rest]} if rest:
                    import gzip
    with open(p) as f, other() as g:
        import lzma
    def method():
        pass
"""


def test_the_tree_walk_finds_the_parents_libcst_gives_and_the_imports_and_defs_in_source_order():
    import libcst as cst
    from libcst.metadata import MetadataWrapper, ParentNodeProvider

    from importmut.sites import _Tree

    module = cst.parse_module(textwrap.dedent(TREE_SOURCE))
    tree = _Tree.walk(module)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ParentNodeProvider)
    assert dict(expected) == tree.parents and len(tree.parents) > 300
    parsed = parse(TREE_SOURCE)
    assert [site.code for site in parsed.sites] == [
        "import json", "import orjson as fast", "from json import dumps as fast", "import logging",
        "import zlib", "import bz2", "import gzip", "import lzma"]
    assert [site.scope for site in parsed.sites] == [
        "Outer", "Outer.method", "Outer.method", "Outer.method", "Outer.method.inner", "Outer.method.inner",
        "Outer.method", MODULE_SCOPE]
    # the later of two defs of one name is the one the module keeps; a module-level def is another name
    assert sorted(parsed.function_nodes) == ["Outer.method", "Outer.method.inner", "method"]
    assert parsed.function_bodies["Outer.method"] == (18, 20)
    assert [r.function for r in parsed.sites[1].bindings[0].references] == ["Outer.method.inner"]
