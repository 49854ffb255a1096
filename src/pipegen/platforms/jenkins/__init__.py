"""Jenkins: what pipegen writes (`backend`, with the stage layout of `structure`), reads back
(`reader`), and where Jenkins forces a difference from the plan (`differences`)."""
