"""The reviewbot command line.  Only this module turns errors into exit codes.

Exit status: see `reviewbot --help`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from bot import __version__
from bot.errors import ReviewBotError, Terminated

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _csv(value: str) -> list[str]:
    return [v.strip().upper() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reviewbot",
        description="Review Linux kernel patches from lore.kernel.org (or a local "
                    "mbox) the way a maintainer would, and reply in kernel style.",
        epilog="Exit status of check: 0 no findings, 1 findings, 2 usage, input or fetch "
               "error.  Of watch: 0 done, 2 config or state error, 3 something failed "
               "(kept for the next run).")
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    parser.add_argument("-c", "--config", metavar="PATH",
                        help="config file (default: $REVIEWBOT_CONFIG, else "
                             "~/.config/reviewbot/config.toml if it exists, else built-in defaults)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more progress on stderr (-vv for debugging)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # -v also after the command name (`reviewbot watch -v`)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="more progress on stderr (-vv for debugging)")

    check = sub.add_parser(
        "check", parents=[common], help="review a series from lore, an mbox/patch file, or stdin",
        description="Review a patch series and print the review.  TARGET is a "
                    "message-id (bare, <...> or id:...), a lore URL, a path to an mbox "
                    "or git format-patch file, or - for stdin.  Local files never touch "
                    "the network.",
        epilog="Examples:\n"
               "  reviewbot check 20220728221759.3492539-3-seanjc@google.com\n"
               "  reviewbot check https://lore.kernel.org/all/<msgid>/\n"
               "  reviewbot check series.mbox --tree ~/src/linux\n"
               "  git format-patch -1 --stdout | reviewbot check - --format text\n"
               "Exit status: 0 no findings, 1 findings, 2 error.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("target", metavar="TARGET")
    check.add_argument("-t", "--tree", metavar="DIR",
                       help="kernel checkout for whole-file context (overrides [source] tree)")
    check.add_argument("--revision", type=int, metavar="N",
                       help="review vN of the series instead of the latest")
    check.add_argument("-f", "--format", choices=("email", "text", "json"), default="email",
                       help="email: the replies as they would be posted (mbox); text: "
                            "checkpatch-style; json: machine-readable (default: email)")
    check.add_argument("--rules", type=_csv, metavar="ID,...", help="run only these rules")
    check.add_argument("--ignore", type=_csv, default=[], metavar="ID,...",
                       help="do not run these rules")
    check.add_argument("--lore", metavar="URL", help="lore server root (overrides [lore] url)")
    check.set_defaults(func=_cmd_check)

    rules = sub.add_parser("rules", parents=[common], help="list the rules",
                           description="List every rule with its level and summary.")
    rules.set_defaults(func=_cmd_rules)

    explain = sub.add_parser("explain", parents=[common], help="print a rule's documentation",
                             description="Print the documentation of rule ID.")
    explain.add_argument("rule", metavar="ID")
    explain.set_defaults(func=_cmd_explain)

    watch = sub.add_parser(
        "watch", parents=[common], help="one watcher pass: poll lists, review new series, post replies",
        description="Poll each list in [watch] lists on lore for messages received since "
                    "the last run, review every new series revision once, and post the "
                    "replies ([post] mode: a local Maildir by default, or SMTP).  Meant to "
                    "run from cron or a systemd timer; a run that finds another one still "
                    "running exits 0 at once.",
        epilog="Examples:\n"
               "  reviewbot -c ~/reviewbot.toml watch\n"
               "  reviewbot -c ~/reviewbot.toml watch --since 1d --dry-run\n"
               "Exit status: 0 done, 2 configuration or state error, 3 the pass ran but "
               "something failed (lore, SMTP, a rule); the work is kept for the next run.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    watch.add_argument("--since", metavar="AGE|TIME",
                       help="search from this age ('2h', '1d') or ISO 8601 time instead of "
                            "the stored cursors (already-seen messages are still skipped)")
    watch.add_argument("--dry-run", action="store_true",
                       help="print the replies that would be sent; record nothing")
    watch.add_argument("--lore", metavar="URL", help="lore server root (overrides [lore] url)")
    watch.set_defaults(func=_cmd_watch)

    status = sub.add_parser("status", parents=[common], help="show the watcher's state",
                            description="Show each list's cursor, series and reply counts "
                                        "by status, the last run and recent failures.")
    status.set_defaults(func=_cmd_status)

    box = sub.add_parser("outbox", parents=[common], help="list, show or retry the watcher's replies",
                         description="List the replies the watcher queued and what became "
                                     "of them (newest 50).")
    box.add_argument("--status", choices=("pending", "sending", "sent", "unconfirmed",
                                          "failed", "muted"), help="only replies in this state")
    box_action = box.add_mutually_exclusive_group()
    box_action.add_argument("--show", type=int, metavar="ID", help="print reply ID as mail")
    box_action.add_argument("--retry", type=int, metavar="ID",
                            help="queue a failed or unconfirmed reply again (same Message-ID)")
    box.set_defaults(func=_cmd_outbox)

    return parser


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="reviewbot: %(message)s", stream=sys.stderr)
    for noisy in ("b4", "liblore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 1 else logging.CRITICAL)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return args.func(args)
    except ReviewBotError as ex:
        print(f"reviewbot: error: {ex}", file=sys.stderr)
        return ex.exit_code
    except KeyboardInterrupt:
        print("reviewbot: interrupted; nothing half-done is kept, the next run goes on",
              file=sys.stderr)
        return 130
    except Terminated:
        print("reviewbot: terminated; nothing half-done is kept, the next run goes on",
              file=sys.stderr)
        return 143
    except BrokenPipeError:
        return EXIT_ERROR


def _load_config(args):
    from bot import config

    return config.load(args.config)


def _cmd_check(args) -> int:
    from bot import checker

    cfg = _load_config(args)
    if args.tree:
        cfg = cfg.with_value("source", "tree", args.tree)
    if args.lore:
        cfg = cfg.with_value("lore", "url", args.lore)
    outcome = checker.check(args.target, cfg, revision=args.revision,
                            only=args.rules, ignore=args.ignore)
    sys.stdout.write(checker.render(outcome, cfg, args.format))
    sys.stdout.flush()
    return EXIT_FINDINGS if outcome.review.findings else EXIT_CLEAN


def _terminate(signum, frame):
    raise Terminated()


def _cmd_watch(args) -> int:
    import signal

    from bot import watch

    signal.signal(signal.SIGTERM, _terminate)
    cfg = _load_config(args)
    if args.lore:
        cfg = cfg.with_value("lore", "url", args.lore)
    summary = watch.run(cfg, since=args.since, dry_run=args.dry_run)
    sys.stdout.flush()
    for problem in summary.problems:
        print(f"reviewbot: problem: {problem}", file=sys.stderr)
    print(summary.text(), file=sys.stderr if args.dry_run else sys.stdout)
    return summary.exit_status


def _open_state(args):
    from bot.errors import StateError
    from bot.state import State

    cfg = _load_config(args)
    path = cfg.state_dir / "state.db"
    if not path.exists():
        raise StateError(f"no watcher state at {path} yet (`reviewbot watch` creates it; "
                         "[state] dir chooses where)")
    return State(path, timeout=cfg.get("state", "busy_timeout"))


def _cmd_status(args) -> int:
    from bot import status

    with _open_state(args) as state:
        sys.stdout.write(status.status_text(state))
    return EXIT_CLEAN


def _cmd_outbox(args) -> int:
    from bot import status

    with _open_state(args) as state:
        if args.show is not None:
            sys.stdout.buffer.write(status.outbox_message(state, args.show))
        elif args.retry is not None:
            sys.stdout.write(status.outbox_retry(state, args.retry))
        else:
            sys.stdout.write(status.outbox_table(state, args.status))
    return EXIT_CLEAN


def _cmd_rules(args) -> int:
    from bot import engine

    cfg = _load_config(args)
    disabled = set(cfg.get("rules", "disable"))
    for rule in engine.discover().values():
        state = " (disabled in config)" if rule.id in disabled else ""
        print(f"{rule.id:28} {rule.level:8} {rule.summary}{state}")
    return EXIT_CLEAN


def _cmd_explain(args) -> int:
    from bot import engine

    rules = engine.discover()
    rule = rules.get(args.rule.upper())
    if rule is None:
        print(f"reviewbot: error: unknown rule {args.rule} (known: {', '.join(rules)})",
              file=sys.stderr)
        return EXIT_ERROR
    print(f"{rule.id} ({rule.level}, confidence up to {rule.confidence})\n")
    print(rule.doc.strip())
    if rule.options:
        print("\nDefaults: " + ", ".join(f"{k} = {v!r}" for k, v in rule.options.items()))
    return EXIT_CLEAN
