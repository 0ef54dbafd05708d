"""Sign-in by phone and password, bearer tokens, and the guards that read them."""
