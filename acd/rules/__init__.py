"""Pure rules: business hours with the Chinese statutory calendar, caller lists."""
