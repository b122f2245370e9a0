"""What callers and agents hear: prompts, the service's own phrases, speech synthesis."""
