"""Generated documents (reminder letters 提醒函, reports)."""
