"""`reviewbot check`: from a target (msgid, URL, file, stdin) to a rendered review."""

from __future__ import annotations

from dataclasses import dataclass

from bot import engine, inputs, report
from bot.config import Config
from bot.review import Review, review_series
from bot.series import build_series
from bot.source import make_source


@dataclass
class Outcome:
    review: Review


def lore_for(cfg: Config, server: str | None = None):
    from bot.lore import Lore

    return Lore(server or cfg.get("lore", "url"), cfg.cache_dir,
                timeout=cfg.get("lore", "timeout"), retries=cfg.get("lore", "retries"),
                max_bytes=int(cfg.get("lore", "max_thread_mb") * 1024 * 1024),
                max_search_bytes=int(cfg.get("lore", "max_search_mb") * 1024 * 1024))


def load_messages(target: inputs.Target, cfg: Config):
    if target.is_local:
        data = inputs.read_local(target, int(cfg.get("lore", "max_thread_mb") * 1024 * 1024))
        name = "stdin" if target.kind == "stdin" else target.value
        return inputs.messages_from_bytes(data, name)
    return lore_for(cfg, target.server).fetch_thread(target.value)


def selected_rules(cfg: Config, only=None, ignore=()):
    rules = engine.discover()
    chosen = engine.select(rules, only, list(ignore), list(cfg.get("rules", "disable")))
    options = {r.id: engine.options_for(r, cfg.rule_options(r.id)) for r in chosen}
    return chosen, options


def review_messages(msgs, cfg: Config, *, revision=None, only=None, ignore=(),
                    grouping: str = "b4") -> Review:
    """Review the series in *msgs* (grouping: "b4" for lore threads, "local"
    for a file, which then needs neither b4 nor git)."""
    series = build_series(msgs, revision, grouping=grouping)
    source = make_source(cfg.get("source", "tree"), cfg.get("source", "url"),
                         series.base_commit, cfg.cache_dir, cfg.get("lore", "timeout"))
    rules, options = selected_rules(cfg, only, ignore)
    return review_series(series, source, rules, options, cfg.get("rules", "timeout"))


def check(arg: str, cfg: Config, *, revision=None, only=None, ignore=()) -> Outcome:
    target = inputs.parse_target(arg)
    if not target.is_local:
        from bot.lore import require_git

        require_git()
    msgs = load_messages(target, cfg)
    review = review_messages(msgs, cfg, revision=revision, only=only, ignore=ignore,
                             grouping="local" if target.is_local else "b4")
    return Outcome(review)


def render(outcome: Outcome, cfg: Config, fmt: str) -> str:
    override = cfg.get("report", "templates")
    if fmt == "json":
        return report.render_json(outcome.review)
    if fmt == "text":
        return report.render_text(outcome.review, override)
    from bot.mail import as_mbox

    msgs = report.replies(outcome.review, cfg.get("identity", "from"), override_dir=override,
                          max_cc=cfg.get("post", "max_cc"))
    return as_mbox(msgs).decode("utf-8", "replace")
