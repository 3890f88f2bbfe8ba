"""The seeds' values: every number of DOMAIN.md's response table and API.md's deadline table.

These are only defaults. The unit's real policy is the UnitPolicy / LevelPolicy rows, editable
in the admin; nothing else in the code may hard-code one of these numbers.
"""

UNIT = {
    "quick_report_minutes": 60,  # R12: monitor reports within 1 h of discovery
    "flash_report_minutes": 60,  # R14: major → 舆情快报 straight to leadership
    "consultation_minutes": 60,  # R14, R35: major → the command group convenes a consultation
    "feedback_hours": 12,  # R15: written feedback 12 h after the alert ...
    "feedback_hard_hours": 24,  # ... 24 h at the latest
    "summary_working_days": 5,  # summary report: response lifted + 5 working days
    "reminder_leads_minutes": "30,5",  # reminders before due
    "urge_after_minutes": 0,  # 催办 at due
    "supervise_after_minutes": 30,  # 督办 at due + 30 min
    "notify_after_minutes": 120,  # 通报 at due + 2 h
    "discovery_horizon_days": 30,  # a discovery time no earlier than 30 days before logging
}

LEVELS = {
    1: {
        "status_cadence_hours": 3,
        "judgment_times": "08:00,14:00,20:00",
        "briefing_times": "09:00,15:00,21:00",
        "briefing_recipients": "市委、市政府有关领导",
        "verification_hours": 3,
        "stable_working_days": 7,
    },
    2: {
        "status_cadence_hours": 6,
        "judgment_times": "08:00,16:00",
        "briefing_times": "09:00,17:00",
        "briefing_recipients": "局党委（抄送市应急办）",
        "verification_hours": 3,
        "stable_working_days": 5,
    },
    3: {
        "status_cadence_hours": 8,
        "judgment_times": "08:00,16:00",
        "briefing_times": "09:00,17:00",
        "briefing_recipients": "局（汇总）",
        "verification_hours": 3,
        "stable_working_days": 3,
    },
    # Level IV is "configurable" in the plans; these are our defaults (daily reporting).
    4: {
        "status_cadence_hours": 24,
        "judgment_times": "09:00",
        "briefing_times": "17:00",
        "briefing_recipients": "信息中心",
        "verification_hours": 3,
        "stable_working_days": 3,
    },
}

# The first calendar year imported from chinesecalendar.
CALENDAR_FIRST_YEAR = 2020

# From this month on the coming year's official schedule is asked for (banner, weekly notice).
CALENDAR_REMINDER_FROM_MONTH = 11
