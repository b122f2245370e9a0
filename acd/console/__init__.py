"""The supervisors' console: the live wallboard's model (pure) and its page's files."""
