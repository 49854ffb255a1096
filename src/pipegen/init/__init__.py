"""`pipegen init`: what the repository already says (`detect/`, one detector per concern), and the
starter descriptor rendered from it and written safely (`starter`)."""
