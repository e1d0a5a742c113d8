"""Conversation tests: the dialogue's test stories, replayed by `rasa test core`."""
