"""The city's working calendar: its working hours and its overrides of China's holiday
calendar, from which every due time in working hours is computed (backend/core/worktime.py)."""
