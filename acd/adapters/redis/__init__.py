"""Redis: call records, routing state and claims, caller lists."""
