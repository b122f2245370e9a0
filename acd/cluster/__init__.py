"""Several acd processes serving calls on one Redis: one leads the routing core, the
others forward routing events to it (docs/operations.md, "two acd processes")."""
