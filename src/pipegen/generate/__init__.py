"""`pipegen generate` and `check`: whole files rendered from the plan (`render`), written safely
(`files`), and the set-up checklist of what lives outside them (`checklist`)."""
