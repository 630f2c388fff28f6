"""reviewbot's rules: one module a rule, named after its ID (see bot.engine)."""
