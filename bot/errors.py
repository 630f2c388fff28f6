"""The exceptions library code raises; only bot.cli turns them into exit codes."""


class Terminated(BaseException):
    """SIGTERM arrived; raised in the main thread so transactions roll back."""


class ReviewBotError(Exception):
    """Base of every error reviewbot reports to the user without a traceback."""

    exit_code = 2


class ConfigError(ReviewBotError):
    """config.toml is missing, not TOML, or holds an unknown key or a wrong type."""


class InputError(ReviewBotError):
    """The thing to check is neither a readable file nor a message-id or URL."""


class FetchError(ReviewBotError):
    """lore could not be reached, or answered with an error, after retries."""


class NotFoundError(FetchError):
    """lore answered that it has no such message."""


class TooLargeError(FetchError):
    """The thread is larger than [lore] max_thread_mb."""


class SeriesError(ReviewBotError):
    """The messages hold no patch, or not the revision asked for."""


class SourceError(ReviewBotError):
    """The kernel tree or the web source could not be read."""


class RuleError(ReviewBotError):
    """A rule module is malformed, or an unknown rule ID was named."""


class StateError(ReviewBotError):
    """The watcher's state database or directory cannot be used."""


class PostError(ReviewBotError):
    """A reply could not be handed to the SMTP server or the outbox."""
