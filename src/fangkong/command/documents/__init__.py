"""Documents command writes: the daily situation report (Word and its printable outline)."""
