"""Everything that speaks Asterisk: AGI and AMI syntax, channels, events."""
