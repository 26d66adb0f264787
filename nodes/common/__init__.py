"""Helpers every method's nodes share: asking a model, parsing replies, running and judging code."""
