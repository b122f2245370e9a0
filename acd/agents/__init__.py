"""Agents at work: the actions they take from phones and the API."""
