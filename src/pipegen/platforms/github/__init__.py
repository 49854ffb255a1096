"""GitHub Actions: what pipegen writes (`backend`), reads back (`reader`), and where GitHub
forces a difference from the plan (`differences`)."""
