# Models arrive with the incident-lifecycle issue.
