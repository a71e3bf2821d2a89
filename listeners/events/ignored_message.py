async def handle_ignored_message() -> None:
    """Messages that need no answer: the bot's own, other bots', edits, deletions, non-thread DMs."""
