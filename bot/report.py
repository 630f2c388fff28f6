"""Render a review: reply emails (jinja2), checkpatch-style text, or JSON.

Templates ship in bot/templates and can be overridden, file by file, from the
directory named by `[report] templates`.  They render with StrictUndefined;
text from received mail is only ever passed in as data, never as a template.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from email.message import EmailMessage

from bot import __version__, mail
from bot.errors import ConfigError
from bot.quote import blocks_for_patch, wrap
from bot.review import Review

JSON_SCHEMA_VERSION = 1


@functools.cache
def _env(override_dir: str = ""):
    import jinja2

    loaders = [jinja2.PackageLoader("bot", "templates")]
    if override_dir:
        loaders.insert(0, jinja2.FileSystemLoader(override_dir))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
        autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["wrap"] = wrap
    env.filters["trim_right"] = lambda s: s.rstrip()
    return env


def _render(name: str, override_dir: str, **context) -> str:
    import jinja2

    try:
        return _env(override_dir).get_template(name).render(**context)
    except jinja2.TemplateError as ex:
        where = f" (templates from {override_dir})" if override_dir else ""
        raise ConfigError(f"template {name} failed to render{where}: {ex}") from None


def reply_body(review: Review, patch, findings, override_dir: str = "") -> str:
    body = _render("reply.txt.j2", override_dir, patch=patch, review=review,
                   blocks=blocks_for_patch(patch, findings), rules_used=review.rules,
                   version=__version__)
    return re.sub(r"\n{3,}", "\n\n", body)


def replies(review: Review, sender: str, *, override_dir: str = "", date: str | None = None,
            mode: str = "public", extra_cc: tuple = (),
            max_cc: int | None = None) -> list[EmailMessage]:
    """One reply per patch that has findings, as it would be posted."""
    out = []
    for patch in review.series.patches:
        findings = review.findings_for(patch)
        if findings:
            body = reply_body(review, patch, findings, override_dir)
            out.append(mail.build_reply(patch, findings, body, sender, date=date, mode=mode,
                                        extra_cc=extra_cc, max_cc=max_cc))
    return out


def _headline(message: str) -> str:
    first = message.split("\n\n")[0]
    match = re.match(r"(.+?\.)(\s|$)", " ".join(first.split()))
    return match.group(1) if match else first


def render_text(review: Review, override_dir: str = "") -> str:
    items = []
    for f in review.findings:
        patch, line = review.patch_of(f), review.added_line(f)
        items.append({
            "finding": f, "headline": _headline(f.message),
            # checkpatch's #N: the line of the patch mail body
            "number": patch.diff_offset + line.diff_no if line and line.diff_no else f.line,
            "line_text": line.text if line else None,
        })
    counts = Counter({"ERROR": 0, "WARNING": 0, "CHECK": 0})
    counts.update(f.level for f in review.findings)
    return _render("text.txt.j2", override_dir, review=review, items=items, counts=counts)


def render_json(review: Review) -> str:
    s = review.series
    data = {
        "schema": JSON_SCHEMA_VERSION,
        "series": {
            "subject": s.subject, "msgid": s.msgid, "revision": s.revision,
            "expected": s.expected, "missing": list(s.missing), "base_commit": s.base_commit,
            "source": review.source_kind, "source_detail": review.source,
            "patches": [{"msgid": p.msgid, "subject": p.subject, "counter": p.counter}
                        for p in s.patches],
        },
        "rules": review.rules,
        "findings": [{
            "rule": f.rule, "level": f.level, "confidence": f.confidence, "patch": f.patch,
            "file": f.file, "line": f.line, "symbol": f.symbol, "message": f.message,
            "suggestion": f.suggestion,
        } for f in review.findings],
        "notes": review.notes,
        "rule_errors": [{"rule": r, "error": e} for r, e in review.rule_errors],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
