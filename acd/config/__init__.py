"""Typed, validated configuration: config.yaml and the sections other modules own."""
