"""The rule registry refuses malformed rules; every rule is documented and has --help."""

import types

import pytest

from bot import engine
from bot.cli import build_parser, main
from bot.errors import RuleError


def test_every_rule_is_documented_and_valid():
    rules = engine.discover()
    assert "MODULE_PARAM_OVERWRITTEN" in rules
    for rule in rules.values():
        for section in engine.DOC_SECTIONS:
            assert f"## {section}" in rule.doc, (rule.id, section)


def test_malformed_rule_is_refused():
    mod = types.ModuleType("bad_rule")
    mod.ID, mod.LEVEL, mod.CONFIDENCE = "BAD_RULE", "FATAL", "HIGH"
    mod.__doc__ = "Summary.\n\n## What it does\nx\n"
    with pytest.raises(RuleError) as info:
        engine._validate(mod, "bad_rule")
    assert "LEVEL must be one of" in str(info.value)
    assert "no check() function" in str(info.value)
    assert "Why is this bad" in str(info.value)


def test_unknown_option_is_refused():
    rule = engine.discover()["MODULE_PARAM_OVERWRITTEN"]
    with pytest.raises(RuleError, match="unknown option"):
        engine.options_for(rule, {"nope": 1})


def test_a_crashing_rule_does_not_stop_the_others():
    good = engine.discover()["MODULE_PARAM_OVERWRITTEN"]

    def boom(change, options):
        raise RuntimeError("kaboom")

    bad = engine.Rule("BOOM", "CHECK", "LOW", {}, "", boom, None)
    change = types.SimpleNamespace(files=(), patch=types.SimpleNamespace(msgid="m@x"))
    run = engine.run_rules([bad, good], change, {}, budget=5)
    assert run.errors == [("BOOM", "RuntimeError: kaboom")]
    assert run.findings == []


def test_explain_and_rules_commands(capsys):
    assert main(["explain", "module_param_overwritten"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MODULE_PARAM_OVERWRITTEN (WARNING")
    assert "## Use instead" in out
    assert main(["rules"]) == 0
    assert "MODULE_PARAM_OVERWRITTEN" in capsys.readouterr().out
    assert main(["explain", "NOPE"]) == 2


def test_every_command_has_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0
        assert "usage: reviewbot " + name in capsys.readouterr().out
