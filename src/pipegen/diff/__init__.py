"""`pipegen diff`: what a change to the committed pipeline files means, read back per
platform (pipegen.platforms.readers) and said in a reviewer's words (`changes`)."""
