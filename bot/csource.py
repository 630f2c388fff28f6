"""The C layer rules share: parse kernel C with tree-sitter and answer questions.

Kernel attribute macros (`__init`, `__read_mostly`, `__ro_after_init`, ...)
confuse a C grammar, so they are blanked to spaces before parsing; offsets and
line numbers stay true, and the blanked spans are remembered so a function or
variable still knows its attributes.

Questions answered: which function encloses a line and its attributes; the
module parameters a file declares; the file-scope variables and their
attributes; every write to a name that really is the global (not a local,
parameter or struct member of the same name); the `.set` callbacks of
`kernel_param_ops`; exported functions, callers, and ops structures that
point at a function.  All line numbers are 1-based.
"""

from __future__ import annotations

import collections
import functools
import re
import threading
from dataclasses import dataclass

ATTRIBUTES = (
    "__init", "__exit", "__initdata", "__initconst", "__exitdata", "__read_mostly",
    "__ro_after_init", "__maybe_unused", "__always_unused", "__always_inline",
    "__cold", "__hot", "__weak", "__visible", "__must_check", "__noreturn",
    "noinline", "notrace", "asmlinkage", "__refdata", "__ref", "__meminit",
    "__meminitdata", "__devinit", "__cpuinit", "__sched", "__user", "__iomem",
    "__percpu", "__rcu", "__force", "__packed", "__latent_entropy", "__noinitretpoline",
    "__init_or_module", "__initdata_or_module", "__lockfunc", "__kprobes",
)
_WITH_ARGS = (
    "__attribute__", "__aligned", "__section", "__printf", "__scanf", "__acquires",
    "__releases", "__must_hold", "__cacheline_aligned_in_smp", "__alias",
    "__counted_by", "__guarded_by",
)
_ATTR_RE = re.compile(
    r"\b(?P<word>" + "|".join(ATTRIBUTES) + r")\b"
    # arguments nest up to three parentheses deep: __attribute__((section(".x")))
    r"|\b(?P<call>" + "|".join(_WITH_ARGS) + r")\s*"
    r"(?P<args>\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))"
)
_ATTRIBUTE_SET = frozenset(ATTRIBUTES + _WITH_ARGS)
# a pattern that starts with a literal is fast; one that starts with \b is not
_UNDERSCORE_RE = re.compile(r"__\w+")
_PLAIN_ATTRIBUTES = tuple(a for a in ATTRIBUTES if not a.startswith("__"))
_PLAIN_RE = re.compile(r"\b(?:" + "|".join(_PLAIN_ATTRIBUTES) + r")\b")
INIT_ATTRIBUTES = frozenset({"__init", "__meminit", "__devinit", "__cpuinit",
                             "__init_or_module"})
WRITING_CALLS = frozenset({
    "WRITE_ONCE", "strcpy", "strncpy", "strscpy", "strlcpy", "strscpy_pad",
    "memcpy", "memset", "sprintf", "snprintf", "scnprintf", "vsnprintf", "memmove",
})
PARAM_MACROS = {
    # macro -> (index of the user-visible name, index of the variable or None)
    "module_param": (0, 0), "module_param_unsafe": (0, 0),
    "module_param_named": (0, 1), "module_param_named_unsafe": (0, 1),
    "module_param_cb": (0, 2), "module_param_cb_unsafe": (0, 2),
    "module_param_array": (0, 0), "module_param_array_named": (0, 1),
    "module_param_string": (0, 1), "core_param": (0, 1), "core_param_unsafe": (0, 1),
    "module_param_hw": (0, 0), "module_param_hw_named": (0, 1),
    "module_param_hw_array": (0, 0),
}


@functools.cache
def _parser():
    import tree_sitter as ts
    import tree_sitter_c as tsc

    lang = ts.Language(tsc.language())
    return ts.Parser(lang), lang


def blank_attributes(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """*text* with attribute macros turned into spaces, and where they were.

    A simple pattern finds the candidate words (an alternation of forty
    words is twenty times slower on a 300 kB file); a set says which are
    attributes, and _ATTR_RE, anchored there, takes the (...) of those that
    have arguments.
    """
    spans: list[tuple[int, int, str]] = []
    pieces: list[str] = []
    done = 0
    candidates = list(_UNDERSCORE_RE.finditer(text))
    if any(word in text for word in _PLAIN_ATTRIBUTES):
        candidates = sorted(candidates + list(_PLAIN_RE.finditer(text)), key=lambda m: m.start())
    for m in candidates:
        word = m.group(0)
        if word not in _ATTRIBUTE_SET or m.start() < done or \
                (m.start() > 0 and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_")):
            continue
        full = _ATTR_RE.match(text, m.start())
        if full is None:
            continue
        pieces.append(text[done:full.start()])
        pieces.append(re.sub(r"[^\n]", " ", full.group(0)))
        spans.append((full.start(), full.end(), word))
        done = full.end()
    if not spans:
        return text, spans
    pieces.append(text[done:])
    return "".join(pieces), spans


@dataclass(frozen=True)
class Function:
    name: str
    start: int  # line of the signature
    body_start: int
    end: int
    attributes: frozenset[str]
    params: frozenset[str]

    @property
    def is_init(self) -> bool:
        return bool(self.attributes & INIT_ATTRIBUTES)


@dataclass(frozen=True)
class ModuleParam:
    macro: str
    name: str  # what users see in /sys/module/<mod>/parameters/
    var: str  # the C variable behind it
    line: int
    ops: str | None  # kernel_param_ops of module_param_cb
    perm: str


@dataclass(frozen=True)
class Variable:
    name: str
    line: int
    type: str  # the declaration's type text, attributes removed
    attributes: frozenset[str]
    is_extern: bool
    is_static: bool


@dataclass(frozen=True)
class Write:
    var: str
    line: int
    function: Function | None
    text: str  # the statement as written
    value: str | None  # the right-hand identifier of `var = other;`, if any
    start_byte: int


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def declarator_name(node) -> str | None:
    """The identifier a (possibly nested) declarator declares."""
    while node is not None:
        if node.type in ("identifier", "field_identifier", "type_identifier"):
            return _text(node)
        inner = node.child_by_field_name("declarator")
        if inner is None:
            for child in node.children:
                if child.type in ("identifier", "parenthesized_declarator"):
                    inner = child
                    break
        node = inner
    return None


class CFile:
    """One C source text, parsed once."""

    def __init__(self, text: str, path: str = "", base: CFile | None = None) -> None:
        """Parse *text*; with *base* (the same file before a small change), only
        the changed region is parsed again (tree-sitter's incremental parsing)."""
        self.path = path
        self.text = text
        blanked, spans = blank_attributes(text)
        self._bytes = blanked.encode("utf-8", "replace")
        # tree-sitter works in bytes: map attribute spans to byte offsets
        self._byte_spans = [
            (len(text[:s].encode("utf-8", "replace")), len(text[:e].encode("utf-8", "replace")), n)
            for s, e, n in spans
        ] if not text.isascii() else spans
        parser, self._lang = _parser()
        old = _edited_copy(base.tree, base._bytes, self._bytes) if base is not None else None
        self.tree = parser.parse(self._bytes, old) if old is not None else parser.parse(self._bytes)
        self.lines = text.split("\n")
        self._function_at: dict[int, Function | None] = {}
        self._occurrence_cache: dict[str, list] = {}

    # -- queries ------------------------------------------------------------
    def _captures(self, query: str, node=None, rows: tuple[int, int] | None = None) -> dict:
        """Captures of *query* in *node* (the whole file), or in rows [a, b)."""
        import tree_sitter as ts

        cursor = ts.QueryCursor(_query(self._lang, query))
        if rows is not None:
            cursor.set_point_range((rows[0], 0), (rows[1], 0))
        return cursor.captures(node if node is not None else self.tree.root_node)

    def _attrs_between(self, start: int, end: int) -> frozenset[str]:
        return frozenset(n for s, _e, n in self._byte_spans if start <= s < end)

    @functools.cached_property
    def functions(self) -> list[Function]:
        """Every function definition, in file order."""
        out = []
        for node in _top_level(self.tree.root_node):
            if node.type == "function_definition":
                func = self._function(node)
                if func is not None:
                    out.append(func)
        out.sort(key=lambda f: f.start)
        return out

    def _function(self, node) -> Function | None:
        decl = node.child_by_field_name("declarator")
        body = node.child_by_field_name("body")
        name = declarator_name(decl)
        if not name or body is None:
            return None
        return Function(
            name=name,
            start=node.start_point.row + 1,
            body_start=body.start_point.row + 1,
            end=node.end_point.row + 1,
            attributes=self._attrs_between(node.start_byte, body.start_byte),
            params=frozenset(_param_names(decl)),
        )

    def function_at(self, line: int) -> Function | None:
        """The innermost function whose definition spans *line*."""
        if line not in self._function_at:
            self._function_at[line] = self._find_function(line)
        return self._function_at[line]

    def _find_function(self, line: int) -> Function | None:
        row = line - 1
        if not 0 <= row < len(self.lines):
            return None
        text = self.lines[row]
        indent = len(text) - len(text.lstrip())
        col = len(text[:indent].encode("utf-8", "replace"))
        node = self.tree.root_node.descendant_for_point_range((row, col), (row, col))
        while node is not None:
            if node.type == "function_definition" and node.start_point.row <= row:
                func = self._function(node)
                if func is not None:
                    return func
            node = node.parent
        return None

    def function(self, name: str) -> Function | None:
        for func in self.functions:
            if func.name == name:
                return func
        return None

    def _top_level_calls(self, marker: bytes) -> list[tuple[str, list, int]]:
        """Calls outside functions, in top-level nodes whose text holds *marker*."""
        calls = []
        for node in _top_level(self.tree.root_node):
            if node.type == "function_definition" or \
                    marker not in self._bytes[node.start_byte:node.end_byte]:
                continue
            calls.extend(self._calls_in(node))
        return calls

    def _calls_in(self, node) -> list[tuple[str, list, int]]:
        calls = []
        caps = self._captures("(call_expression function: (identifier) @fn) @call", node)
        for call in caps.get("call", []):
            fn = call.child_by_field_name("function")
            args = call.child_by_field_name("arguments")
            if fn is None or args is None or fn.type != "identifier":
                continue
            calls.append((_text(fn), [c for c in args.named_children
                                      if c.type != "comment"], call.start_point.row + 1))
        return calls

    def module_params(self) -> list[ModuleParam]:
        return list(self._module_params)

    @functools.cached_property
    def _module_params(self) -> list[ModuleParam]:
        params = []
        for callee, args, line in self._top_level_calls(b"param"):
            spec = PARAM_MACROS.get(callee)
            if spec is None or len(args) <= max(spec):
                continue
            if self.function_at(line) is not None:
                continue
            name = _text(args[spec[0]])
            var = _text(args[spec[1]]).lstrip("&").strip()
            ops = None
            if callee.startswith("module_param_cb"):
                ops = _text(args[1]).lstrip("&").strip()
            perm = _text(args[-1])
            if re.fullmatch(r"[A-Za-z_]\w*", var):
                params.append(ModuleParam(callee, name, var, line, ops, perm))
        return sorted(params, key=lambda p: p.line)

    @functools.cached_property
    def _exported(self) -> frozenset[str]:
        return frozenset({_text(args[0]) for callee, args, _l
                          in self._top_level_calls(b"EXPORT_SYMBOL")
                          if callee.startswith("EXPORT_SYMBOL") and args})

    def exported(self) -> frozenset[str]:
        return self._exported

    def _occurrences(self, name: str):
        """The identifier nodes spelling *name*, found in the text first (a
        whole-tree query builds a node for every call in the file)."""
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            return []
        if name not in self._occurrence_cache:
            root, found = self.tree.root_node, []
            for m in re.finditer(re.escape(name.encode()) + rb"\b", self._bytes):
                if m.start() > 0 and (chr(self._bytes[m.start() - 1]).isalnum()
                                      or self._bytes[m.start() - 1] == 0x5F):
                    continue
                node = root.descendant_for_byte_range(m.start(), m.end())
                if node is not None and node.type == "identifier" and \
                        node.start_byte == m.start() and node.end_byte == m.end():
                    found.append(node)
            self._occurrence_cache[name] = found
        return self._occurrence_cache[name]

    def callers(self, name: str) -> list[tuple[Function, int]]:
        """(calling function, line of the call) for every call of *name*."""
        out = []
        for node in self._occurrences(name):
            call = node.parent
            if call is None or call.type != "call_expression" or \
                    call.child_by_field_name("arguments") is None or \
                    call.child_by_field_name("function") != node:
                continue
            line = call.start_point.row + 1
            func = self.function_at(line)
            if func is not None and func.name != name:
                out.append((func, line))
        return out

    def passed_to(self, name: str) -> list[tuple[str, Function | None]]:
        """(callee, calling function) for calls that take *name* as an argument,
        e.g. a callback handed to cpuhp_setup_state() or request_irq()."""
        out, seen = [], set()
        for node in self._occurrences(name):
            arg = node
            if arg.parent is not None and arg.parent.type == "pointer_expression" and \
                    _text(arg.parent).lstrip("&").strip() == name:
                arg = arg.parent
            args = arg.parent
            call = args.parent if args is not None else None
            if args is None or args.type != "argument_list" or call is None or \
                    call.type != "call_expression" or call.start_byte in seen:
                continue
            fn = call.child_by_field_name("function")
            if fn is None or fn.type != "identifier" or _text(fn).startswith("EXPORT_SYMBOL"):
                continue
            seen.add(call.start_byte)
            out.append((call.start_byte, _text(fn), self.function_at(call.start_point.row + 1)))
        return [(callee, func) for _b, callee, func in sorted(out, key=lambda o: o[0])]

    @functools.cached_property
    def _initializer_pairs(self) -> list[tuple[str, str, str]]:
        """(struct variable, field, identifier value) of designated initializers."""
        out = []
        import tree_sitter as ts

        query = _query(self._lang, "(init_declarator declarator: (_) @decl "
                                   "value: (initializer_list) @init)")
        for _idx, match in ts.QueryCursor(query).matches(self.tree.root_node):
            owner = declarator_name(match["decl"][0]) or ""
            for pair in match["init"][0].named_children:
                designated = _designated(pair)
                if designated is not None:
                    out.append((owner, *designated))
        return out

    def ops_pointing_at(self, func: str) -> list[tuple[str, str]]:
        """(structure, field) pairs whose initializer names *func*, e.g. (fops, unlocked_ioctl)."""
        out = []
        for node in self._occurrences(func):
            value = node
            if value.parent is not None and value.parent.type == "pointer_expression":
                value = value.parent
            pair = value.parent
            designated = _designated(pair) if pair is not None else None
            if designated is None or designated[1] != func or \
                    pair.child_by_field_name("value") != value:
                continue
            init = pair.parent
            decl = init.parent if init is not None else None
            if init is None or init.type != "initializer_list" or decl is None or \
                    decl.type != "init_declarator" or decl.child_by_field_name("value") != init:
                continue
            owner = declarator_name(decl.child_by_field_name("declarator")) or ""
            out.append((owner, designated[0]))
        return out

    def set_callbacks(self, ops: str) -> set[str]:
        """The `.set` functions of the kernel_param_ops structure *ops*."""
        return {ident for owner, field, ident in self._initializer_pairs
                if owner == ops and field == "set"}

    def variables(self) -> dict[str, Variable]:
        """File-scope variable declarations (the first one of each name)."""
        return dict(self._variables)

    @functools.cached_property
    def _variables(self) -> dict[str, Variable]:
        out: dict[str, Variable] = {}
        for node in self.tree.root_node.named_children:
            for decl in _declarations(node):
                self._add_variables(decl, out)
        return out

    def _add_variables(self, decl, out: dict[str, Variable]) -> None:
        specs = [c for c in decl.children if c.type not in (
            "init_declarator", "identifier", "pointer_declarator", "array_declarator",
            ";", ",", "function_declarator", "comment")]
        type_text = " ".join(_text(c) for c in specs
                             if c.type != "storage_class_specifier").strip()
        storage = {_text(c) for c in specs if c.type == "storage_class_specifier"}
        for child in decl.named_children:
            if child.type not in ("init_declarator", "identifier", "pointer_declarator",
                                  "array_declarator"):
                continue
            inner = child.child_by_field_name("declarator") if child.type == "init_declarator" else child
            if inner is not None and inner.type == "function_declarator":
                continue
            name = declarator_name(child)
            if name and name not in out:
                out[name] = Variable(
                    name=name, line=decl.start_point.row + 1,
                    type=type_text + ("[]" if "array_declarator" in str(child) else ""),
                    attributes=self._attrs_between(decl.start_byte, decl.end_byte),
                    is_extern="extern" in storage, is_static="static" in storage)

    # -- writes -----------------------------------------------------------
    def writes(self, names: set[str] | None, lines=None) -> list[Write]:
        """Every write to a global in *names* (all globals when None), in the
        whole file or, when *lines* is given, in statements starting on them.

        Writes to locals, parameters and struct members are not included.
        """
        if lines is not None:
            found = [w for start, end in _runs(lines) for w in self._writes_in((start - 1, end))
                     if w.line in lines]
            return [w for w in found if names is None or w.var in names]
        if names is None:
            return list(self._all_writes)
        return [w for w in self._all_writes if w.var in names]

    @functools.cached_property
    def _all_writes(self) -> list[Write]:
        return self._writes_in(None)

    def writes_in_init(self) -> list[Write]:
        """The writes inside __init functions."""
        return [w for f in self.functions if f.is_init
                for w in self._writes_in((f.start - 1, f.end))
                if w.function is not None and w.function.is_init]

    def _writes_in(self, rows: tuple[int, int] | None) -> list[Write]:
        out = []
        for node, target in self._write_targets(rows):
            name = _text(target)
            if self._shadowed(target, name):
                continue
            line = node.start_point.row + 1
            value = None
            if node.type == "assignment_expression":
                right = node.child_by_field_name("right")
                if right is not None and right.type == "identifier":
                    value = _text(right)
            out.append(Write(name, line, self.function_at(line),
                             _statement_text(node), value, node.start_byte))
        out.sort(key=lambda w: w.start_byte)
        return out

    def _write_targets(self, rows: tuple[int, int] | None = None):
        caps = self._captures(
            "(assignment_expression left: (_) @lhs) @assign "
            "(update_expression argument: (_) @arg) @update "
            "(call_expression function: (identifier) @fn arguments: (argument_list . (_) @first)) @call",
            rows=rows)
        for node in caps.get("assign", []):
            target = _base_identifier(node.child_by_field_name("left"))
            if target is not None:
                yield node, target
        for node in caps.get("update", []):
            target = _base_identifier(node.child_by_field_name("argument"))
            if target is not None:
                yield node, target
        for node in caps.get("call", []):
            fn = node.child_by_field_name("function")
            args = node.child_by_field_name("arguments")
            if fn is None or _text(fn) not in WRITING_CALLS or args is None:
                continue
            first = next((c for c in args.named_children if c.type != "comment"), None)
            target = _base_identifier(first, through_address=True)
            if target is not None:
                yield node, target

    def _shadowed(self, ident, name: str) -> bool:
        """Does a local declaration or parameter named *name* hide the global here?"""
        node = ident.parent
        while node is not None:
            if node.type == "function_definition":
                decl = node.child_by_field_name("declarator")
                return name in _param_names(decl)
            if node.type in ("compound_statement", "for_statement"):
                for child in node.named_children:
                    if child.start_byte >= ident.start_byte:
                        break
                    if child.type == "declaration" and name in _declared_names(child):
                        return True
            node = node.parent
        return False


_CONTAINERS = frozenset({"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
                         "preproc_elifdef", "ERROR", "linkage_specification",
                         "declaration_list"})


def _designated(pair) -> tuple[str, str] | None:
    """(field, identifier value) of a designated initializer `.field = &value`."""
    if pair.type != "initializer_pair" or not pair.named_children:
        return None
    value = pair.child_by_field_name("value")
    if value is None:
        return None
    return _text(pair.named_children[0]).lstrip(".").strip(), _text(value).lstrip("&").strip()


def _top_level(node):
    """The file-scope nodes, looking inside #if blocks and parse errors."""
    for child in node.named_children:
        if child.type in _CONTAINERS:
            yield from _top_level(child)
        else:
            yield child


def _runs(lines) -> list[tuple[int, int]]:
    """Consecutive line numbers as (first, last + 1) runs."""
    runs: list[list[int]] = []
    for line in sorted(lines):
        if runs and line == runs[-1][1]:
            runs[-1][1] = line + 1
        else:
            runs.append([line, line + 1])
    return [(a, b) for a, b in runs]


def _common_length(a: bytes, b: bytes, start: int, limit: int, block: int = 4096) -> int:
    """How many bytes a and b share from *start* on (at most *limit*)."""
    va, vb = memoryview(a), memoryview(b)
    n = start
    while n + block <= limit and va[n:n + block] == vb[n:n + block]:
        n += block
    end = min(n + block, limit)
    while n < end and a[n] == b[n]:
        n += 1
    return n


def _edited_copy(tree, old: bytes, new: bytes):
    """A copy of *tree* (parsed from *old*) told where *new* differs, for
    tree-sitter's incremental parse; None when the texts are the same."""
    if old == new:
        return None
    prefix = _common_length(old, new, 0, min(len(old), len(new)))
    suffix = _common_length(old[::-1], new[::-1], 0, min(len(old), len(new)) - prefix)
    old_end, new_end = len(old) - suffix, len(new) - suffix

    def point(data: bytes, offset: int) -> tuple[int, int]:
        row = data.count(b"\n", 0, offset)
        return row, offset - (data.rfind(b"\n", 0, offset) + 1)

    copy = tree.copy()
    copy.edit(start_byte=prefix, old_end_byte=old_end, new_end_byte=new_end,
              start_point=point(old, prefix), old_end_point=point(old, old_end),
              new_end_point=point(new, new_end))
    return copy


@functools.cache
def _query(lang, source: str):
    import tree_sitter as ts

    return ts.Query(lang, source)


def _declarations(node):
    """Declarations at file scope, looking inside #if/#ifdef blocks."""
    if node.type == "declaration":
        yield node
    elif node.type.startswith("preproc_") and node.type not in ("preproc_def", "preproc_function_def",
                                                                "preproc_include", "preproc_call"):
        for child in node.named_children:
            yield from _declarations(child)


def _declared_names(decl) -> set[str]:
    names = set()
    for child in decl.named_children:
        if child.type in ("init_declarator", "identifier", "pointer_declarator",
                          "array_declarator"):
            name = declarator_name(child)
            if name:
                names.add(name)
    return names


def _param_names(declarator) -> list[str]:
    node = declarator
    while node is not None and node.type != "function_declarator":
        node = node.child_by_field_name("declarator")
    if node is None:
        return []
    params = node.child_by_field_name("parameters")
    if params is None:
        return []
    return [n for p in params.named_children
            if p.type == "parameter_declaration"
            and (n := declarator_name(p.child_by_field_name("declarator")))]


def _base_identifier(node, through_address: bool = False):
    """The identifier written by an lvalue: `x`, `x[i]`, `(x)`, `*&x`; not `s.x`."""
    while node is not None:
        if node.type == "identifier":
            return node
        if node.type == "subscript_expression":
            node = node.child_by_field_name("argument")
        elif node.type == "parenthesized_expression":
            node = node.named_children[0] if node.named_children else None
        elif through_address and node.type == "pointer_expression" and _text(node).startswith("&"):
            node = node.child_by_field_name("argument")
        else:
            return None
    return None


def _statement_text(node) -> str:
    while node.parent is not None and node.type != "expression_statement":
        if node.parent.type in ("compound_statement", "translation_unit"):
            break
        node = node.parent
    return " ".join(_text(node).split())


_PARSED: collections.OrderedDict[tuple[str, str], CFile] = collections.OrderedDict()
PARSE_CACHE_SIZE = 32  # files; a watch run or a long series keeps reusing a few
_PARSED_LOCK = threading.Lock()


def parse(text: str, path: str = "", base: str | None = None) -> CFile:
    """Parse *text* once; repeated calls with the same text share the result.

    *base* is the text *text* was made from (a patch's pre-image, often the
    previous patch's post-image): its parse, when cached, makes this one
    incremental.
    """
    key = (text, path)
    with _PARSED_LOCK:  # a rule that overran its budget may still be parsing
        cfile = _PARSED.get(key)
        if cfile is not None:
            _PARSED.move_to_end(key)
            return cfile
    base_file = parse(base, path) if base is not None and base != text else None
    cfile = CFile(text, path, base_file)
    with _PARSED_LOCK:
        _PARSED[key] = cfile
        while len(_PARSED) > PARSE_CACHE_SIZE:
            _PARSED.popitem(last=False)
    return cfile


def parse_signature(section: str) -> Function | None:
    """A Function from a hunk's section header such as `void f(int a)`."""
    section = section.strip()
    if "(" not in section or section.endswith(";") or section.startswith(("#", "}")):
        return None
    cfile = CFile(section + "\n{\n}\n")
    return cfile.functions[0] if cfile.functions else None
