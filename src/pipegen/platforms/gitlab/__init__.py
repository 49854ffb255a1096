"""GitLab CI: what pipegen writes (`backend`), reads back (`reader`), and where GitLab forces a
difference from the plan (`differences`)."""
